defmodule Mix.Tasks.Compile.LambdaNifTest do
  # The NIF build step, run as a user's `mix compile` would run it, in a
  # scratch project whose "cargo" is a script that records its calls.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.PrecompiledNif

  @compiler LambdaRuntime.TestSupport.Paths.root("mix/compile.lambda_nif.ex")

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

  # What scripts/precompile-nif.sh writes, with stand-in libraries.
  defp precompile(dir, cpus) do
    pre = PrecompiledNif.dir(dir)
    File.mkdir_p!(pre)

    for cpu <- cpus,
        do: File.write!(Path.join(pre, PrecompiledNif.file_name(cpu)), "pre #{cpu}\n")

    PrecompiledNif.write!(pre, dir, glibc: "2.31", nif_version: "2.16")
    pre
  end

  defp host_cpu, do: PrecompiledNif.host().cpu
  defp other_cpu, do: Enum.find(PrecompiledNif.cpus(), &(&1 != host_cpu()))
  defp installed(dir), do: File.read!(Path.join(dir, "priv/native/liblambda_runtime_nif.so"))
  @no_cargo [{"CARGO", ""}, {"PATH", "/usr/bin:/bin"}]

  test "installs the precompiled library for this machine without cargo, once", %{dir: dir} do
    precompile(dir, PrecompiledNif.cpus())
    {output, 0} = compile(dir, @no_cargo)
    assert output =~ "Installed precompiled NIF #{PrecompiledNif.file_name(host_cpu())}"
    assert installed(dir) == "pre #{host_cpu()}\n"

    {output, 0} = compile(dir, @no_cargo)
    refute output =~ "Installed"
    assert calls(dir) == []
  end

  test "a precompiled library that does not match SHA256SUMS is refused", %{dir: dir} do
    pre = precompile(dir, PrecompiledNif.cpus())
    File.write!(Path.join(pre, PrecompiledNif.file_name(host_cpu())), "pre, tampered\n")

    {output, status} = compile(dir, @no_cargo)
    assert status != 0
    assert output =~ "does not match its SHA-256 in SHA256SUMS"
    assert output =~ "LAMBDA_RUNTIME_BUILD_NIF=1"
    refute File.exists?(Path.join(dir, "priv/native/liblambda_runtime_nif.so"))
  end

  test "sources changed since the precompiled build: cargo builds, or the error says why",
       %{dir: dir, fake: fake} do
    precompile(dir, PrecompiledNif.cpus())
    File.write!(Path.join(dir, "native/lambda_runtime_nif/src/lib.rs"), "// changed\n")

    {output, status} = compile(dir, @no_cargo)
    assert status != 0
    assert output =~ "cargo was not found"
    assert output =~ "built from other sources than this checkout's"

    {output, 0} = compile(dir, [{"CARGO", fake}])
    assert output =~ "built from other sources"
    assert [_] = calls(dir)
    assert installed(dir) == "built\n"
  end

  test "LAMBDA_RUNTIME_BUILD_NIF=1 builds from source over an installed precompiled library",
       %{dir: dir, fake: fake} do
    precompile(dir, PrecompiledNif.cpus())
    {_, 0} = compile(dir, @no_cargo)
    assert installed(dir) == "pre #{host_cpu()}\n"

    {output, 0} = compile(dir, [{"CARGO", fake}, {"LAMBDA_RUNTIME_BUILD_NIF", "1"}])
    assert output =~ "LAMBDA_RUNTIME_BUILD_NIF is set"
    assert [_] = calls(dir)
    assert installed(dir) == "built\n"

    # And back: without it, the precompiled library replaces the build.
    {_, 0} = compile(dir, @no_cargo)
    assert installed(dir) == "pre #{host_cpu()}\n"
  end

  test "no precompiled library for this CPU: cargo builds it", %{dir: dir, fake: fake} do
    precompile(dir, [other_cpu()])
    {output, 0} = compile(dir, [{"CARGO", fake}])
    assert output =~ "no precompiled NIF is shipped for #{host_cpu()} Linux"
    assert installed(dir) == "built\n"
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
