defmodule Mix.Tasks.Compile.LambdaNifTest do
  # The NIF build step, run as a user's `mix compile` would run it, in a
  # scratch project whose "cargo" is a script that records its calls.
  use ExUnit.Case, async: true

  @compiler Path.expand("../../mix/compile.lambda_nif.ex", __DIR__)

  @moduletag :tmp_dir

  setup %{tmp_dir: dir} do
    File.mkdir_p!(Path.join(dir, "native/lambda_runtime_nif/src"))
    File.write!(Path.join(dir, "native/lambda_runtime_nif/src/lib.rs"), "// v1\n")
    File.write!(Path.join(dir, "Cargo.toml"), "[workspace]\n")
    File.write!(Path.join(dir, "Cargo.lock"), "")

    File.write!(Path.join(dir, "mix.exs"), """
    Code.require_file(#{inspect(@compiler)})

    defmodule NifBuildProbe.MixProject do
      use Mix.Project
      def project, do: [app: :nif_build_probe, version: "0.1.0", compilers: [:lambda_nif]]
    end
    """)

    # A stand-in for cargo: logs its arguments, writes the library.
    fake = Path.join(dir, "fake-cargo")

    File.write!(fake, """
    #!/bin/sh
    echo "$@" >> #{dir}/cargo-calls
    mkdir -p #{dir}/target/release
    echo built > #{dir}/target/release/liblambda_runtime_nif.so
    """)

    File.chmod!(fake, 0o755)
    %{dir: dir, fake: fake}
  end

  defp compile(dir, env) do
    env = [{"MIX_ENV", "dev"}, {"MIX_BUILD_ROOT", Path.join(dir, "_build")} | env]
    System.cmd("mix", ["compile"], cd: dir, env: env, stderr_to_stdout: true)
  end

  defp calls(dir) do
    case File.read(Path.join(dir, "cargo-calls")) do
      {:ok, text} -> String.split(text, "\n", trim: true)
      {:error, _} -> []
    end
  end

  test "builds with cargo, installs the .so, and rebuilds only when the crate changes",
       %{dir: dir, fake: fake} do
    assert {_, 0} = compile(dir, [{"CARGO", fake}])
    assert [call] = calls(dir)
    assert call =~ "build --release --locked -p lambda_runtime_nif"
    assert File.read!(Path.join(dir, "priv/native/liblambda_runtime_nif.so")) == "built\n"

    assert {_, 0} = compile(dir, [{"CARGO", fake}])
    assert length(calls(dir)) == 1

    # A source newer than the installed library triggers a rebuild.
    lib = Path.join(dir, "native/lambda_runtime_nif/src/lib.rs")
    File.write!(lib, "// v2\n")
    File.touch!(lib, System.os_time(:second) + 5)
    assert {_, 0} = compile(dir, [{"CARGO", fake}])
    assert length(calls(dir)) == 2
  end

  test "without cargo, stops with a message that names the way out", %{dir: dir} do
    {output, status} = compile(dir, [{"CARGO", ""}, {"PATH", "/usr/bin:/bin"}])
    assert status != 0
    assert output =~ "cargo was not found on PATH"
    assert output =~ "LAMBDA_RUNTIME_NIF_PATH"
  end

  test "LAMBDA_RUNTIME_NIF_PATH installs a prebuilt library without cargo", %{dir: dir} do
    prebuilt = Path.join(dir, "prebuilt.so")
    File.write!(prebuilt, "prebuilt\n")

    env = [{"LAMBDA_RUNTIME_NIF_PATH", prebuilt}, {"CARGO", ""}, {"PATH", "/usr/bin:/bin"}]
    assert {_, 0} = compile(dir, env)
    assert File.read!(Path.join(dir, "priv/native/liblambda_runtime_nif.so")) == "prebuilt\n"
    assert calls(dir) == []

    {output, status} = compile(dir, [{"LAMBDA_RUNTIME_NIF_PATH", Path.join(dir, "missing.so")}])
    assert status != 0
    assert output =~ "is not a file"
  end
end
