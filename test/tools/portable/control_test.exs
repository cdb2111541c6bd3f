defmodule LambdaRuntime.Portable.ControlTest do
  # The control for the old-glibc sandbox: a layer built from this machine's
  # ERTS and libraries (`mix lambda.layer --erts host --force --glibc <this
  # machine's>`, Debian
  # 12: glibc 2.36) serves invocations in the sandbox over this machine's
  # root, and cannot start over the bullseye root (glibc 2.31), through the
  # test sandbox and through `mix lambda.invoke --rootfs`.
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO

  alias LambdaRuntime.Tools.Emulator.Sandbox, as: Command
  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.{Build, CargoLambda, RootFS, Sandbox}

  @moduletag :portable
  @moduletag timeout: 900_000
  @root LambdaRuntime.TestSupport.Paths.root()

  setup_all do
    if Command.bwrap() == nil, do: raise("bwrap is required: run scripts/setup.sh")
    tmp = Path.join(System.tmp_dir!(), "lambda_control_#{System.unique_integer([:positive])}")
    File.mkdir_p!(tmp)
    on_exit(fn -> File.rm_rf!(tmp) end)

    layer_zip = Path.join(tmp, "layer.zip")
    function_zip = Path.join(tmp, "hello.zip")
    {:ok, glibc} = LambdaRuntime.Tools.Emulator.LayerSetup.host_glibc()

    Build.mix!(@root, Path.join(tmp, "layer"), [
      "lambda.layer",
      "--erts",
      "host",
      "--force",
      "--glibc",
      glibc,
      "--output",
      layer_zip
    ])

    Build.mix!(Path.join(@root, "examples/hello"), Path.join(tmp, "hello"), [
      "lambda.package",
      "--layer",
      layer_zip,
      "--output",
      function_zip
    ])

    %{
      layer_zip: layer_zip,
      function_zip: function_zip,
      layer: Build.unzip!(layer_zip, Path.join(tmp, "opt")),
      task: Build.unzip!(function_zip, Path.join(tmp, "task")),
      rootfs: RootFS.path!(Command.host_arch()),
      glibc: glibc
    }
  end

  setup do
    emu = CargoLambda.start!()
    on_exit(fn -> CargoLambda.stop(emu) end)
    %{emu: emu}
  end

  test "over this machine's root, the host-built layer serves invocations", ctx do
    sandbox =
      Sandbox.start!(ctx.layer, ctx.task, CargoLambda.runtime_api(ctx.emu), "Hello.handle")

    try do
      assert {200, body} = CargoLambda.invoke(ctx.emu, ~s({"name":"Ada"}))
      assert JSON.decode!(body)["message"] == "Hello, Ada!"
    after
      Sandbox.stop(sandbox)
    end
  end

  test "over the bullseye root, the host-built layer cannot start: its glibc is too old", ctx do
    sandbox =
      Sandbox.start!(ctx.layer, ctx.task, CargoLambda.runtime_api(ctx.emu), "Hello.handle",
        rootfs: ctx.rootfs
      )

    assert {status, output} = Sandbox.await_exit(sandbox, 60_000)
    assert status != 0
    assert_names_newer_glibc(output)
  end

  test "mix lambda.invoke --layer ZIP --rootfs DIR: the same failure, as the product shows it",
       ctx do
    me = self()

    output =
      capture_io(fn ->
        error =
          assert_raise Mix.Error, fn ->
            Mix.Tasks.Lambda.Invoke.run([
              "--layer",
              ctx.layer_zip,
              "--package-zip",
              ctx.function_zip,
              "--rootfs",
              ctx.rootfs,
              "--handler",
              "Hello.handle"
            ])
          end

        send(me, {:message, error.message})
      end)

    assert_received {:message, message}
    assert message =~ "1 of 1 invocations failed"
    assert_names_newer_glibc(output)
  end

  # The dynamic loader's message names versions past bullseye's 2.31 (the
  # first program to fail is erlexec, which needs 2.34).
  defp assert_names_newer_glibc(output) do
    versions =
      for [_, minor] <- Regex.scan(~r/version `GLIBC_2\.(\d+)' not found/, output),
          do: String.to_integer(minor)

    assert versions != [], "no missing GLIBC version in:\n#{output}"
    assert Enum.all?(versions, &(&1 > 31))
  end
end
