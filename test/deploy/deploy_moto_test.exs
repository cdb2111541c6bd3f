defmodule LambdaRuntime.Deploy.MotoTest do
  # Runs the deploy tasks in-process against moto_server on 127.0.0.1.
  use ExUnit.Case, async: false

  alias LambdaRuntime.AWS.Lambda
  alias LambdaRuntime.TestSupport.Moto

  @moduletag :moto
  @moduletag :tmp_dir
  @secret "s3cr3t-Never-Print-Me-8f2b"

  setup_all do
    moto = Moto.start!()
    on_exit(fn -> Moto.stop(moto) end)
    %{moto: moto}
  end

  setup %{moto: moto, tmp_dir: dir} do
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
    Moto.zip!(layer_zip, [{"bootstrap", "#!/bin/sh\necho layer\n"}])
    fun_zip = Path.join(dir, "function.zip")
    Moto.zip!(fun_zip, [{"lib/hello/ebin/Elixir.Hello.beam", "v1"}])
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

  test "the first deploy creates the function with every setting", %{moto: moto} = ctx do
    extra = Mix.Tasks.Lambda.Layer.Publish.run(["--zip", ctx.fun_zip, "--layer-name", "extra"])
    _ = output()

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
end
