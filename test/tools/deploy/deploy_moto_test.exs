defmodule LambdaRuntime.Tools.Deploy.MotoTest do
  # Runs the deploy tasks in-process against moto_server on 127.0.0.1.
  use ExUnit.Case, async: false

  alias LambdaRuntime.AWS.Request
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.{Connection, Project}
  alias LambdaRuntime.Tools.Settings
  alias LambdaRuntime.TestSupport.{LayerZips, Moto}

  @moduletag :moto
  @moduletag :tmp_dir
  @secret "s3cr3t-Never-Print-Me-8f2b"

  setup_all do
    moto = Moto.start!()
    on_exit(fn -> Moto.stop(moto) end)
    %{moto_server: moto}
  end

  setup %{moto_server: moto, tmp_dir: dir} do
    Moto.reset!(moto)

    restore =
      Moto.put_env(
        Map.merge(Moto.env(moto), %{
          "AWS_SECRET_ACCESS_KEY" => @secret,
          "AWS_SESSION_TOKEN" => nil,
          "AWS_PROFILE" => nil,
          "AWS_ENDPOINT_URL_LAMBDA" => nil,
          "AWS_DEFAULT_REGION" => nil,
          "AWS_CONFIG_FILE" => Path.join(dir, "none"),
          "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none")
        })
      )

    Application.put_env(:lambda_runtime, :deploy_poll_ms, 0)
    Application.put_env(:lambda_runtime, :aws_backoff_ms, [])
    Mix.shell(Mix.Shell.Process)

    on_exit(fn ->
      restore.()
      Mix.shell(Mix.Shell.IO)
    end)

    role = Moto.create_role!(moto, "hello-role")
    layer_zip = Path.join(dir, "layer.zip")
    LayerZips.write!(layer_zip, "x86_64")
    fun_zip = Path.join(dir, "function.zip")
    Moto.handler_zip!(fun_zip)
    %{role: role, layer_zip: layer_zip, fun_zip: fun_zip}
  end

  defp deploy(args), do: Mix.Tasks.Lambda.Deploy.run(args)

  defp base_args(ctx) do
    [
      "--function-name",
      "hello",
      "--handler",
      "Hello.handle",
      "--role",
      ctx.role,
      "--zip",
      ctx.fun_zip,
      "--layer-zip",
      ctx.layer_zip
    ]
  end

  defp output do
    Stream.repeatedly(fn ->
      receive do
        {:mix_shell, _, [line]} -> line
      after
        0 -> nil
      end
    end)
    |> Enum.take_while(& &1)
    |> Enum.join("\n")
  end

  defp get_function(moto, name) do
    {:ok, 200, body} = Moto.lambda!(moto, Lambda.get_function(name))
    body
  end

  test "the first deploy creates the function with every setting", %{moto_server: moto} = ctx do
    # Any zip can be an extra layer; mix lambda.layer.publish is for the runtime layer only.
    {:ok, 201, extra} =
      Moto.lambda!(
        moto,
        Lambda.publish_layer_version("extra", File.read!(ctx.fun_zip), "x86_64", "extra")
      )

    extra = %{arn: extra["LayerVersionArn"]}

    result =
      deploy(
        base_args(ctx) ++
          [
            "--memory-size",
            "1024",
            "--timeout",
            "45",
            "--env",
            "GREETING=hi",
            "--env",
            "MODE=test",
            "--layer",
            extra.arn,
            "--description",
            "says hello"
          ]
      )

    conf = get_function(moto, "hello")["Configuration"]
    assert conf["Runtime"] == "provided.al2023"
    assert conf["Architectures"] == ["x86_64"]
    assert conf["Handler"] == "Hello.handle"
    assert conf["Role"] == ctx.role
    assert conf["MemorySize"] == 1024
    assert conf["Timeout"] == 45
    assert conf["Description"] == "says hello"
    assert conf["Environment"]["Variables"] == %{"GREETING" => "hi", "MODE" => "test"}
    extra_arn = extra.arn
    assert [runtime_layer, ^extra_arn] = Enum.map(conf["Layers"], & &1["Arn"])
    assert runtime_layer =~ ~r/:layer:elixir-runtime:1$/
    assert conf["CodeSize"] == File.stat!(ctx.fun_zip).size

    assert result.function_arn == conf["FunctionArn"]
    assert result.layer_arn == runtime_layer
    out = output()
    assert out =~ "Creating function hello"
    assert out =~ "Function ARN: #{conf["FunctionArn"]}"
    assert out =~ "Code size:    #{conf["CodeSize"]} bytes"
    assert out =~ "Layer ARN:    #{runtime_layer}"
    refute out =~ @secret
  end

  test "a second deploy updates the code and the configuration", %{moto_server: moto} = ctx do
    deploy(base_args(ctx) ++ ["--memory-size", "256", "--env", "A=1"])
    before = get_function(moto, "hello")["Configuration"]
    _ = output()

    v2 = Moto.handler_zip!(ctx.fun_zip, "Hello", "version two")
    deploy(base_args(ctx) ++ ["--memory-size", "2048", "--timeout", "60", "--env", "A=2"])

    conf = get_function(moto, "hello")["Configuration"]
    assert conf["MemorySize"] == 2048
    assert conf["Timeout"] == 60
    assert conf["Environment"]["Variables"] == %{"A" => "2"}
    assert conf["CodeSha256"] == Base.encode64(:crypto.hash(:sha256, v2))
    refute conf["CodeSha256"] == before["CodeSha256"]
    assert conf["LastUpdateStatus"] == "Successful"

    out = output()
    assert out =~ "Updating function hello"
    # The same layer zip: the runtime layer is not published again.
    assert out =~ "already holds this zip"
    assert [%{"Arn" => layer}] = conf["Layers"]
    assert layer =~ ~r/:layer:elixir-runtime:1$/
  end

  test "--publish and --alias publish versions and move the alias", %{moto_server: moto} = ctx do
    first = deploy(base_args(ctx) ++ ["--alias", "live"])
    assert first.version == "1"

    {:ok, _, live} = Moto.lambda!(moto, Lambda.get_alias("hello", "live"))
    assert live["FunctionVersion"] == "1"
    assert first.alias_arn == live["AliasArn"]

    Moto.handler_zip!(ctx.fun_zip, "Hello", "v2")
    second = deploy(base_args(ctx) ++ ["--publish", "--alias", "live"])
    assert second.version == "2"
    {:ok, _, live} = Moto.lambda!(moto, Lambda.get_alias("hello", "live"))
    assert live["FunctionVersion"] == "2"
    assert output() =~ "Alias live -> version 2"
  end

  test "layer publish skips the same zip and publishes a different one",
       %{moto_server: moto} = ctx do
    publish = &Mix.Tasks.Lambda.Layer.Publish.run/1

    first = publish.(["--zip", ctx.layer_zip])
    assert first.published
    assert first.arn =~ ~r/:layer:elixir-runtime:1$/
    assert output() =~ "LayerVersionArn: #{first.arn}"

    again = publish.(["--zip", ctx.layer_zip])
    refute again.published
    assert again.arn == first.arn
    assert output() =~ "already holds this zip"

    LayerZips.write!(ctx.layer_zip, "x86_64", bootstrap: "#!/bin/sh\necho changed\n")
    changed = publish.(["--zip", ctx.layer_zip])
    assert changed.published
    assert changed.arn =~ ~r/:layer:elixir-runtime:2$/

    {:ok, 200, %{"LayerVersions" => versions}} =
      Moto.lambda!(moto, Lambda.list_layer_versions("elixir-runtime"))

    assert versions |> Enum.map(& &1["Version"]) |> Enum.sort() == [1, 2]
    assert Enum.all?(versions, &(&1["CompatibleRuntimes"] == ["provided.al2023"]))
    assert Enum.all?(versions, &(&1["CompatibleArchitectures"] == ["x86_64"]))
  end

  test "--dry-run prints the requests and sends nothing", %{moto_server: moto} = ctx do
    zip = File.read!(ctx.fun_zip)
    deploy(base_args(ctx) ++ ["--dry-run", "--env", "TOKEN=value-not-shown", "--alias", "live"])
    out = output()

    for line <- [
          "Dry run: nothing is sent. Would deploy #{ctx.fun_zip} to #{Moto.url(moto)} (region us-east-1):",
          "ListLayerVersions: GET /2018-10-31/layers/elixir-runtime/versions",
          "PublishLayerVersion: POST /2018-10-31/layers/elixir-runtime/versions",
          "GetFunction: GET /2015-03-31/functions/hello",
          "CreateFunction: POST /2015-03-31/functions",
          "UpdateFunctionCode: PUT /2015-03-31/functions/hello/code",
          "UpdateFunctionConfiguration: PUT /2015-03-31/functions/hello/configuration",
          "PublishVersion: POST /2015-03-31/functions/hello/versions",
          "CreateAlias: POST /2015-03-31/functions/hello/aliases",
          "Handler=Hello.handle",
          "Environment keys=[TOKEN]",
          "ZipFile=<#{byte_size(zip)} bytes"
        ] do
      assert out =~ line
    end

    refute out =~ @secret
    refute out =~ "value-not-shown"
    refute out =~ Base.encode64(zip)

    {:ok, 200, %{"Functions" => []}} =
      Moto.lambda!(moto, %LambdaRuntime.AWS.Request{
        operation: "ListFunctions",
        method: "GET",
        path: "/2015-03-31/functions/"
      })

    {:ok, 200, %{"LayerVersions" => []}} =
      Moto.lambda!(moto, Lambda.list_layer_versions("elixir-runtime"))
  end

  test "a role that does not exist gives moto's error and a hint", ctx do
    args =
      base_args(ctx)
      |> List.replace_at(5, "arn:aws:iam::123456789012:role/missing")

    error = assert_raise Mix.Error, fn -> deploy(args) end
    assert error.message =~ "InvalidParameterValueException (HTTP 400)"

    assert error.message =~
             "CreateFunction failed: The role defined for the function cannot be assumed"

    assert error.message =~ "Hint: check the role ARN"
    refute error.message =~ @secret
  end

  test "#14.10 creating a function without a role stops before any upload",
       %{moto_server: moto} = ctx do
    args = base_args(ctx) |> List.delete_at(5) |> List.delete_at(4)
    error = assert_raise Mix.Error, fn -> deploy(args) end
    assert error.message =~ "function hello does not exist yet, and creating it needs a role"
    assert error.message =~ "nothing was uploaded"
    assert error.message =~ "--role"
    # The 9 MB layer used to go up first.
    assert layer_versions(moto) == []
  end

  test "#14.10 a handler that is not in the package stops before any upload",
       %{moto_server: moto} = ctx do
    args = base_args(ctx) |> List.replace_at(3, "Nope.handle")
    error = assert_raise Mix.Error, fn -> deploy(args) end

    assert error.message =~
             "the handler Nope.handle cannot work: module Nope is not in the function package"

    assert error.message =~ "(it has Hello)"

    args = base_args(ctx) |> List.replace_at(3, "Hello.missing")
    error = assert_raise Mix.Error, fn -> deploy(args) end
    assert error.message =~ "Hello.missing/2 (or /1) is not exported"
    assert error.message =~ "it exports handle/2"

    args = base_args(ctx) |> List.replace_at(3, "Hello")
    error = assert_raise Mix.Error, fn -> deploy(args) end
    assert error.message =~ "Hello does not implement LambdaRuntime.Handler"

    assert layer_versions(moto) == []
    assert {:error, %{status: 404}} = Moto.lambda!(moto, Lambda.get_function("hello"))
  end

  test "settings come from the lambda: key of the project's mix.exs",
       %{moto_server: moto} = ctx do
    project = Path.join(ctx.tmp_dir, "project")
    File.mkdir_p!(project)

    File.write!(Path.join(project, "mix.exs"), """
    defmodule DeployMotoFixture.MixProject do
      use Mix.Project

      def project do
        [
          app: :greeter,
          version: "0.1.0",
          lambda: [
            handler: "Greeter.handle",
            role: "#{ctx.role}",
            memory_size: 768,
            timeout: 12,
            architecture: :x86_64,
            environment: %{"FROM" => "mix.exs"},
            region: "us-east-1",
            layer_name: "greeter-runtime"
          ]
        ]
      end
    end
    """)

    Moto.handler_zip!(ctx.fun_zip, "Greeter")

    Mix.Project.in_project(:greeter, project, fn _ ->
      deploy(["--zip", ctx.fun_zip, "--layer-zip", ctx.layer_zip, "--timeout", "20"])
    end)

    conf = get_function(moto, "greeter")["Configuration"]
    assert conf["Handler"] == "Greeter.handle"
    assert conf["MemorySize"] == 768
    assert conf["Timeout"] == 20
    assert conf["Environment"]["Variables"] == %{"FROM" => "mix.exs"}
    assert [%{"Arn" => layer}] = conf["Layers"]
    assert layer =~ ~r/:layer:greeter-runtime:1$/
  end

  test "durable: settings on an existing plain function stop before any upload (issue 16)",
       %{moto_server: moto} = ctx do
    deploy(base_args(ctx))
    assert [_] = layer_versions(moto)
    project = Path.join(ctx.tmp_dir, "durable")
    File.mkdir_p!(project)

    File.write!(Path.join(project, "mix.exs"), """
    defmodule DeployMotoDurable.MixProject do
      use Mix.Project
      def project, do: [app: :hello, version: "0.1.0",
        lambda: [durable: [execution_timeout: 3600]]]
    end
    """)

    # A new layer zip: a deploy that got as far as uploading would publish it.
    LayerZips.write!(ctx.layer_zip, "x86_64", bootstrap: "#!/bin/sh\necho v2\n")

    error =
      assert_raise Mix.Error, fn ->
        Mix.Project.in_project(:hello, project, fn _ -> deploy(base_args(ctx)) end)
      end

    assert error.message =~ "function hello exists and is not a durable function"
    assert error.message =~ "nothing was uploaded"
    assert [_] = layer_versions(moto)
  end

  defp functions(moto) do
    {:ok, 200, %{"Functions" => functions}} =
      Moto.lambda!(moto, %Request{
        operation: "ListFunctions",
        method: "GET",
        path: "/2015-03-31/functions/"
      })

    functions
  end

  defp layer_versions(moto, name \\ "elixir-runtime") do
    {:ok, 200, %{"LayerVersions" => versions}} =
      Moto.lambda!(moto, Lambda.list_layer_versions(name))

    versions
  end

  defp assert_nothing_uploaded(moto) do
    assert functions(moto) == []
    assert layer_versions(moto) == []
  end

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
