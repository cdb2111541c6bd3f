defmodule LambdaRuntime.Tools.Deploy.MotoTest do
  # Runs the deploy tasks in-process against moto_server on 127.0.0.1:
  # create, update, versions and aliases, layer publishing, dry run,
  # refusals before any upload, settings from mix.exs. The runtime layer's
  # manifest is in layer_manifest_moto_test.exs.
  use LambdaRuntime.TestSupport.MotoDeployCase

  alias LambdaRuntime.Tools.AWS.Lambda

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
end
