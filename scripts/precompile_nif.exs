# Run by scripts/precompile-nif.sh (`mix run --no-start`): builds the NIF for
# each CPU in LambdaRuntime.Tools.PrecompiledNif.cpus/0 and writes the index files.
alias LambdaRuntime.Tools.Layer.{Elf, ElfCheck, NifBuild, Platform, Zig}
alias LambdaRuntime.Tools.PrecompiledNif

root = File.cwd!()
dir = PrecompiledNif.dir(root)
target_dir = Path.join(root, "_build/lambda/nif")
zig = Zig.find!()
glibc = Platform.default_glibc()
File.mkdir_p!(dir)

for arch <- [:x86_64, :arm64] do
  platform = %Platform{arch: arch, glibc: glibc}
  built = NifBuild.build!(root, platform, zig, target_dir)
  dest = Path.join(dir, PrecompiledNif.file_name(Platform.cpu(platform)))
  File.cp!(built, dest)
  {:ok, elf} = Elf.read(dest)
  newest = elf |> ElfCheck.max_glibc() |> ElfCheck.version_string()

  IO.puts(
    "#{Path.relative_to(dest, root)}: #{File.stat!(dest).size} bytes, #{elf.machine}, " <>
      "needs GLIBC #{newest}, #{Enum.join(elf.needed, " ")}"
  )
end

cargo_toml = File.read!(Path.join(root, "native/lambda_runtime_nif/Cargo.toml"))
[_, major, minor] = Regex.run(~r/nif_version_(\d+)_(\d+)/, cargo_toml)
{rustc, 0} = System.cmd("rustc", ["--version"])

PrecompiledNif.write!(dir, root,
  glibc: Platform.glibc_string(%Platform{arch: :x86_64, glibc: glibc}),
  nif_version: "#{major}.#{minor}",
  rustc: rustc |> String.split() |> Enum.at(1),
  zig: zig.version
)

IO.puts("Wrote #{Path.relative_to(dir, root)}/SHA256SUMS and BUILD; commit native/precompiled/.")
