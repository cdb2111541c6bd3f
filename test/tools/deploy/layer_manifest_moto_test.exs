defmodule LambdaRuntime.Tools.Deploy.LayerManifestMotoTest do
  # The runtime layer's manifest in the deploy tasks, in-process against
  # moto_server: the architecture it names, and the refusals before any
  # upload when it is missing, differs or was forced.
  use LambdaRuntime.TestSupport.MotoDeployCase

  alias LambdaRuntime.Tools.Deploy.{Connection, Project}
  alias LambdaRuntime.Tools.Settings

  describe "the runtime layer's manifest" do
    test "an arm64 layer makes the function and the layer version arm64",
         %{moto_server: moto} = ctx do
      LayerZips.write!(ctx.layer_zip, "arm64")
      result = deploy(base_args(ctx))
      assert result.architecture == "arm64"
      assert get_function(moto, "hello")["Configuration"]["Architectures"] == ["arm64"]
      assert [%{"CompatibleArchitectures" => ["arm64"]}] = layer_versions(moto)
      assert output() =~ "Architecture: arm64"
    end

    test "an --architecture that differs from the layer's is refused before any upload",
         %{moto_server: moto} = ctx do
      LayerZips.write!(ctx.layer_zip, "arm64")

      error =
        assert_raise Mix.Error, fn -> deploy(base_args(ctx) ++ ["--architecture", "x86_64"]) end

      assert error.message =~
               "#{ctx.layer_zip} is built for arm64, but the function's architecture is x86_64"

      assert error.message =~ "mix lambda.layer --arch x86_64"
      assert_nothing_uploaded(moto)
    end

    test "a layer zip without a manifest is refused before any upload",
         %{moto_server: moto} = ctx do
      LayerZips.write!(ctx.layer_zip, "x86_64", manifest: false)
      error = assert_raise Mix.Error, fn -> deploy(base_args(ctx)) end
      assert error.message =~ "#{ctx.layer_zip} has no lambda_runtime-layer.json"
      assert error.message =~ "built by an older lambda_runtime or is not a lambda_runtime layer"
      assert_nothing_uploaded(moto)

      error = assert_raise Mix.Error, fn -> deploy(base_args(ctx) ++ ["--dry-run"]) end
      assert error.message =~ "has no lambda_runtime-layer.json"
    end

    test "a forced layer is refused before any upload", %{moto_server: moto} = ctx do
      reason = "GLIBC_2.36 allowed, past provided.al2023's GLIBC_2.34"
      LayerZips.write!(ctx.layer_zip, "x86_64", manifest: %{erts_build: "host", forced: [reason]})
      error = assert_raise Mix.Error, fn -> deploy(base_args(ctx)) end
      assert error.message =~ "was built past provided.al2023's limits (#{reason})"
      assert_nothing_uploaded(moto)
    end

    test "with --layer-arn no zip is read and the architecture is the one given",
         %{moto_server: moto} = ctx do
      LayerZips.write!(ctx.layer_zip, "x86_64")
      runtime = Mix.Tasks.Lambda.Layer.Publish.run(["--zip", ctx.layer_zip])
      _ = output()

      args =
        List.replace_at(base_args(ctx), -2, "--layer-arn") |> List.replace_at(-1, runtime.arn)

      deploy(args ++ ["--architecture", "arm64"])
      conf = get_function(moto, "hello")["Configuration"]
      assert conf["Architectures"] == ["arm64"]
      assert [%{"Arn" => arn}] = conf["Layers"]
      assert arn == runtime.arn
      assert length(layer_versions(moto)) == 1
    end

    test "mix lambda.layer.publish reads the manifest the same way", %{moto_server: moto} = ctx do
      publish = &Mix.Tasks.Lambda.Layer.Publish.run/1
      LayerZips.write!(ctx.layer_zip, "arm64")

      error =
        assert_raise Mix.Error, fn ->
          publish.(["--zip", ctx.layer_zip, "--architecture", "x86_64"])
        end

      assert error.message =~ "is built for arm64, but the function's architecture is x86_64"

      old = Path.join(ctx.tmp_dir, "old.zip")
      LayerZips.write!(old, "x86_64", manifest: false)
      error = assert_raise Mix.Error, fn -> publish.(["--zip", old]) end
      assert error.message =~ "#{old} has no lambda_runtime-layer.json"

      forced = Path.join(ctx.tmp_dir, "forced.zip")
      LayerZips.write!(forced, "x86_64", manifest: %{forced: ["GLIBC_2.36 allowed"]})
      error = assert_raise Mix.Error, fn -> publish.(["--zip", forced]) end
      assert error.message =~ "built past provided.al2023's limits"
      assert layer_versions(moto) == []

      result = publish.(["--zip", ctx.layer_zip])
      assert result.published
      assert output() =~ "LayerVersionArn: #{result.arn} (arm64)"
      assert [%{"CompatibleArchitectures" => ["arm64"]}] = layer_versions(moto)
    end

    test "the deploy flow builds the layer for the architecture asked for",
         %{moto_server: moto} = ctx do
      {:ok, conn} =
        Connection.open(
          region: "us-east-1",
          poll_ms: 0,
          backoff_ms: [],
          env: System.get_env()
        )

      {:ok, config} =
        Settings.load(
          [lambda: [handler: "Hello.handle", role: ctx.role]],
          [architecture: "arm64"],
          :hello
        )

      tasks = %{layer: "lambda.deploy_test_layer", package: "lambda.deploy_test_package"}
      layer_path = Path.join(ctx.tmp_dir, "built/layer.zip")
      fun_path = Path.join(ctx.tmp_dir, "built/hello.zip")
      outputs = %{layer: layer_path, package: fun_path}
      assert {:ok, result} = Project.deploy(conn, config, tasks: tasks, outputs: outputs)
      assert_received {:layer_build_args, ["--output", ^layer_path, "--arch", "arm64"]}
      assert_received {:package_build_args, ["--output", ^fun_path, "--layer", ^layer_path]}
      assert result.architecture == "arm64"
      assert get_function(moto, "hello")["Configuration"]["Architectures"] == ["arm64"]
      assert [%{"CompatibleArchitectures" => ["arm64"]}] = layer_versions(moto)
    end
  end
end
