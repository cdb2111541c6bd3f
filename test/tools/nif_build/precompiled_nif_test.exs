defmodule LambdaRuntime.PrecompiledNifTest do
  # Which precompiled NIF fits which machine, and the libraries this
  # checkout ships in native/precompiled/.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer.{Elf, ElfCheck}
  alias LambdaRuntime.Tools.PrecompiledNif

  @root LambdaRuntime.TestSupport.Paths.root()
  @moduletag :tmp_dir

  setup %{tmp_dir: dir} do
    File.mkdir_p!(Path.join(dir, "native/lambda_runtime_nif/src"))
    File.write!(Path.join(dir, "native/lambda_runtime_nif/src/lib.rs"), "// v1\n")
    File.write!(Path.join(dir, "Cargo.toml"), "[workspace]\n")
    File.write!(Path.join(dir, "Cargo.lock"), "")
    pre = PrecompiledNif.dir(dir)
    File.mkdir_p!(pre)

    for cpu <- PrecompiledNif.cpus(),
        do: File.write!(Path.join(pre, PrecompiledNif.file_name(cpu)), cpu)

    PrecompiledNif.write!(pre, dir, glibc: "2.31", nif_version: "2.16")
    %{dir: dir, pre: pre}
  end

  @linux %{cpu: "x86_64", glibc: {2, 36}, nif_version: "2.16"}

  test "fits Linux on a shipped CPU with glibc >= 2.31 and NIF >= 2.16", %{dir: dir, pre: pre} do
    sha = PrecompiledNif.sha256("x86_64")

    assert {:ok, path, ^sha} = PrecompiledNif.choose(dir, @linux)
    assert path == Path.join(pre, "liblambda_runtime_nif-x86_64-linux-gnu.so")
    assert {:ok, _, _} = PrecompiledNif.choose(dir, %{@linux | cpu: "aarch64", glibc: {2, 31}})
    assert {:ok, _, _} = PrecompiledNif.choose(dir, %{@linux | nif_version: "2.17"})
  end

  test "says why nothing fits", %{dir: dir} do
    cases = [
      {%{@linux | glibc: {2, 28}}, "need glibc 2.31 or newer, this system has 2.28"},
      {%{@linux | glibc: nil}, "need Linux with glibc"},
      {%{@linux | cpu: "riscv64"}, "for the riscv64 CPU"},
      {%{@linux | nif_version: "2.15"}, "need NIF version 2.16"}
    ]

    for {host, reason} <- cases do
      assert {:unavailable, message} = PrecompiledNif.choose(dir, host)
      assert message =~ reason
    end
  end

  test "a checkout whose NIF sources changed gets no precompiled library", %{dir: dir} do
    for {file, change} <- [
          {"native/lambda_runtime_nif/src/lib.rs", "// v2\n"},
          {"native/lambda_runtime_nif/src/new.rs", "// new\n"},
          {"Cargo.lock", "# changed\n"}
        ] do
      before = File.read(Path.join(dir, file))
      File.write!(Path.join(dir, file), change)
      assert {:unavailable, message} = PrecompiledNif.choose(dir, @linux)
      assert message =~ "built from other sources than this checkout's"

      case before do
        {:ok, content} -> File.write!(Path.join(dir, file), content)
        {:error, :enoent} -> File.rm!(Path.join(dir, file))
      end
    end

    # The libraries and their index are not sources.
    File.write!(Path.join(dir, "native/precompiled/NOTES"), "x")
    assert {:ok, _, _} = PrecompiledNif.choose(dir, @linux)
  end

  test "no index, a damaged index, a checksum mismatch", %{dir: dir, pre: pre} do
    sums = Path.join(pre, "SHA256SUMS")
    File.write!(sums, "not a checksum line\n")
    assert {:error, message} = PrecompiledNif.choose(dir, @linux)
    assert message =~ "SHA256SUMS: malformed line"

    File.rm!(sums)
    assert {:unavailable, message} = PrecompiledNif.choose(dir, @linux)
    assert message =~ "no precompiled NIF is shipped"

    path = Path.join(pre, "liblambda_runtime_nif-x86_64-linux-gnu.so")
    assert :ok = PrecompiledNif.verify(path, PrecompiledNif.sha256("x86_64"))
    assert {:error, message} = PrecompiledNif.verify(path, PrecompiledNif.sha256("other"))
    assert message =~ "does not match its SHA-256"
  end

  test "for a layer's target: the library when it fits, checked", %{dir: dir, pre: pre} do
    assert {:ok, path} = PrecompiledNif.for_target(dir, "aarch64", {2, 31})
    assert path == Path.join(pre, "liblambda_runtime_nif-aarch64-linux-gnu.so")
    assert {:ok, _} = PrecompiledNif.for_target(dir, "x86_64", {2, 34})

    assert {:unavailable, message} = PrecompiledNif.for_target(dir, "x86_64", {2, 28})
    assert message =~ "need glibc 2.31 or newer"

    File.write!(path, "tampered")
    assert {:error, message} = PrecompiledNif.for_target(dir, "aarch64", {2, 31})
    assert message =~ "does not match its SHA-256"
  end

  describe "the libraries this checkout ships" do
    @shipped PrecompiledNif.dir(@root)

    test "were built from this checkout's sources (else: scripts/precompile-nif.sh)" do
      {:ok, index} = PrecompiledNif.read_index(@shipped)

      assert index.build["source_sha256"] == PrecompiledNif.source_hash(@root),
             "native/precompiled/ was built from other NIF sources than this checkout's: " <>
               "run scripts/precompile-nif.sh and commit native/precompiled/"
    end

    test "match SHA256SUMS, are ELF files of their CPU and need at most glibc 2.31" do
      {:ok, index} = PrecompiledNif.read_index(@shipped)

      assert Map.keys(index.sums) |> Enum.sort() ==
               Enum.map(["aarch64", "x86_64"], &PrecompiledNif.file_name/1)

      for {file, sha} <- index.sums do
        path = Path.join(@shipped, file)
        assert :ok = PrecompiledNif.verify(path, sha)
        {:ok, elf} = Elf.read(path)
        expected = if file =~ "aarch64", do: :aarch64, else: :x86_64
        assert elf.machine == expected
        assert ElfCheck.max_glibc(elf) <= {2, 31}
        refute "libgcc_s.so.1" in elf.needed
      end
    end
  end

  test "the Hex package holds the precompiled libraries and no build outputs" do
    files = hex_files(@root)
    assert "native/precompiled/SHA256SUMS" in files
    assert "native/precompiled/BUILD" in files
    assert "native/precompiled/liblambda_runtime_nif-x86_64-linux-gnu.so" in files
    assert "native/precompiled/liblambda_runtime_nif-aarch64-linux-gnu.so" in files
    assert "native/lambda_runtime_nif/src/lib.rs" in files
    assert "mix/precompiled_nif.ex" in files
    assert "priv/samples/sqs.json" in files

    for file <- files do
      refute String.starts_with?(file, ["_build/", "target/", "priv/native/", "deps/", "tmp/"]),
             file

      refute String.ends_with?(file, ".so") and
               not String.starts_with?(file, "native/precompiled/"),
             file
    end
  end

  # The files `mix hex.build` takes from `package: [files: ...]`: each entry
  # expanded as a wildcard, directories recursively (no dotfiles), regular
  # files only.
  defp hex_files(root) do
    # The test runs inside this project: its config is the loaded one.
    Mix.Project.config()[:package][:files]
    |> Enum.flat_map(&Path.wildcard(Path.join(root, &1)))
    |> Enum.flat_map(fn path ->
      if File.dir?(path), do: Path.wildcard(Path.join(path, "**")), else: [path]
    end)
    |> Enum.filter(&File.regular?/1)
    |> Enum.map(&Path.relative_to(&1, root))
    |> Enum.uniq()
  end
end
