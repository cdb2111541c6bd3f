defmodule LambdaRuntime.Tools.Deploy.RuntimeLayerTest do
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Deploy.RuntimeLayer
  alias LambdaRuntime.TestSupport.LayerZips
  alias LambdaRuntime.TestSupport.MixShell

  @moduletag :tmp_dir
  @task "lambda.deploy_test_layer"

  setup do
    MixShell.use_process_shell()
  end

  test "a named zip: the manifest's architecture, unless another is asked for", %{tmp_dir: dir} do
    path = Path.join(dir, "arm.zip")
    bytes = LayerZips.write!(path, "arm64")

    assert {:ok, layer} = RuntimeLayer.fetch(path, nil, task: @task)
    assert %RuntimeLayer{path: ^path, zip: ^bytes, architecture: "arm64"} = layer
    assert layer.manifest.erts_build == "zig"
    assert {:ok, %{architecture: "arm64"}} = RuntimeLayer.fetch(path, "arm64", task: @task)

    assert {:error, message} = RuntimeLayer.fetch(path, "x86_64", task: @task)
    assert message =~ "#{path} is built for arm64, but the function's architecture is x86_64"
    refute_received {:layer_build_args, _}
  end

  test "a named zip without manifest, or forced, is refused", %{tmp_dir: dir} do
    old = Path.join(dir, "old.zip")
    LayerZips.write!(old, "x86_64", manifest: false)
    assert {:error, message} = RuntimeLayer.fetch(old, nil, task: @task)
    assert message =~ "#{old} has no lambda_runtime-layer.json"
    assert message =~ "mix lambda.layer --arch x86_64"

    forced = Path.join(dir, "forced.zip")
    LayerZips.write!(forced, "arm64", manifest: %{forced: ["GLIBC_2.36 allowed"]})
    assert {:error, message} = RuntimeLayer.fetch(forced, nil, task: @task)
    assert message =~ "built past provided.al2023's limits (GLIBC_2.36 allowed)"
    assert message =~ "mix lambda.layer --arch arm64"
  end

  test "without a zip the build task runs, with --arch when one is asked for", %{tmp_dir: dir} do
    path = Path.join(dir, "built.zip")
    assert {:ok, layer} = RuntimeLayer.fetch(nil, "arm64", task: @task, output: path)
    assert_received {:layer_build_args, ["--output", ^path, "--arch", "arm64"]}
    assert layer.path == path
    assert layer.architecture == "arm64"

    assert {:ok, layer} = RuntimeLayer.fetch(nil, nil, task: @task, output: path)
    assert_received {:layer_build_args, ["--output", ^path]}
    assert layer.architecture == "x86_64"
  end

  test "a dry run builds nothing" do
    assert {:ok, layer} = RuntimeLayer.fetch(nil, "arm64", task: @task, dry_run: true)
    refute_received {:layer_build_args, _}
    assert %RuntimeLayer{zip: :unbuilt, path: nil, architecture: "arm64"} = layer
    assert RuntimeLayer.dry_run_note(layer) =~ "`mix #{@task} --arch arm64`"

    assert {:ok, %{architecture: "x86_64"} = layer} =
             RuntimeLayer.fetch(nil, nil, task: @task, dry_run: true)

    assert RuntimeLayer.dry_run_note(layer) =~
             "`mix #{@task}` and refuses it unless its manifest says x86_64"
  end
end
