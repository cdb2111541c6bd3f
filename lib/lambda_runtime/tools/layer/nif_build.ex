defmodule LambdaRuntime.Tools.Layer.NifBuild do
  @moduledoc """
  Builds the runtime's Rust NIF (`liblambda_runtime_nif.so`) for a
  portable layer's platform with `cargo zigbuild` (PyPI `cargo-zigbuild`):
  cargo compiles for the Rust target, zig links against the platform's
  glibc version (`x86_64-unknown-linux-gnu.2.31`), so the library needs
  nothing newer than that glibc and no libgcc_s.

  Needs the Rust standard library of the target (`rustup target add
  aarch64-unknown-linux-gnu` for arm64 on an x86_64 machine). cargo's own
  target directory (`_build/lambda/nif/`) makes a rebuild incremental.
  """

  alias LambdaRuntime.Tools.Layer.{Platform, Step, Zig}

  @crate "lambda_runtime_nif"
  @lib "liblambda_runtime_nif.so"

  @doc """
  Builds the crate of the lambda_runtime sources at `root` (the directory
  of its workspace `Cargo.toml`) into `target_dir`; returns the path of
  the built library.
  """
  @spec build!(Path.t(), Platform.t(), Zig.t(), Path.t()) :: Path.t()
  def build!(root, %Platform{} = platform, %Zig{} = zig, target_dir) do
    zigbuild = find_zigbuild!()
    triple = Platform.rust_triple(platform)
    ensure_rust_target!(triple)

    args =
      ["zigbuild", "--release", "--locked", "-p", @crate] ++
        ["--target", "#{triple}.#{Platform.glibc_string(platform)}"] ++
        ["--manifest-path", Path.join(root, "Cargo.toml")]

    env = [{"CARGO_TARGET_DIR", target_dir}, {"CARGO_ZIGBUILD_ZIG_PATH", zig.path}]

    Step.run!("NIF for #{Platform.slug(platform)} (cargo zigbuild)", zigbuild, args,
      cd: root,
      env: env,
      log: Path.join(target_dir, "zigbuild-#{Platform.slug(platform)}.log")
    )

    Path.join([target_dir, triple, "release", @lib])
  end

  defp find_zigbuild! do
    candidates = [
      System.find_executable("cargo-zigbuild"),
      Path.join(File.cwd!(), ".venv/bin/cargo-zigbuild")
    ]

    Enum.find(candidates, &(is_binary(&1) and File.regular?(&1))) ||
      Mix.raise(
        "cargo-zigbuild was not found, and a portable layer needs it to build the " <>
          "runtime's NIF for the target's glibc: install it with `pip install cargo-zigbuild`"
      )
  end

  defp ensure_rust_target!(triple) do
    case System.find_executable("rustup") do
      nil ->
        :ok

      rustup ->
        {out, _} = System.cmd(rustup, ["target", "list", "--installed"], stderr_to_stdout: true)

        unless triple in String.split(out) do
          Mix.raise(
            "the Rust standard library for #{triple} is not installed: " <>
              "run `rustup target add #{triple}`"
          )
        end
    end
  end
end
