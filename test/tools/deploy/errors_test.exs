defmodule LambdaRuntime.Tools.Deploy.ErrorsTest do
  # Credentials, retries and connection errors, against a local server that
  # verifies SigV4 signatures (moto accepts any credentials).
  use ExUnit.Case, async: false

  alias LambdaRuntime.AWS.{Credentials, Endpoint, ServiceClient}
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.TestSupport.{Moto, SignatureStub}
  alias LambdaRuntime.TestSupport.MixShell

  @moduletag :tmp_dir
  @key_id "AKIDRIGHTKEY"
  @secret "right-Secret-0123456789abcdef"
  @wrong_secret "wrong-Secret-Never-Shown-42"

  setup %{tmp_dir: dir} do
    restore =
      Moto.put_env(%{
        "AWS_ACCESS_KEY_ID" => @key_id,
        "AWS_SECRET_ACCESS_KEY" => @secret,
        "AWS_SESSION_TOKEN" => nil,
        "AWS_PROFILE" => nil,
        "AWS_REGION" => "eu-west-1",
        "AWS_DEFAULT_REGION" => nil,
        "AWS_ENDPOINT_URL" => nil,
        "AWS_ENDPOINT_URL_LAMBDA" => nil,
        "AWS_CONFIG_FILE" => Path.join(dir, "none"),
        "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none")
      })

    Application.put_env(:lambda_runtime, :deploy_poll_ms, 0)
    Application.put_env(:lambda_runtime, :aws_backoff_ms, [0, 0])
    Mix.shell(Mix.Shell.Process)

    on_exit(fn ->
      restore.()
      Application.delete_env(:lambda_runtime, :aws_backoff_ms)
      Mix.shell(Mix.Shell.IO)
    end)

    zip = Path.join(dir, "function.zip")
    Moto.handler_zip!(zip)
    %{zip: zip}
  end

  defp aws_answer(_req, :ok), do: {200, nil, ~s({"Configuration":{}})}

  defp aws_answer(_req, :unknown_key) do
    {403, "UnrecognizedClientException",
     ~s({"message":"The security token included in the request is invalid."})}
  end

  defp aws_answer(_req, :bad_signature) do
    {403, "InvalidSignatureException",
     ~s({"message":"The request signature we calculated does not match the signature you provided."})}
  end

  defp deploy_args(zip) do
    [
      "--function-name",
      "hello",
      "--handler",
      "Hello.handle",
      "--zip",
      zip,
      "--layer-arn",
      "arn:aws:lambda:eu-west-1:123456789012:layer:elixir-runtime:1"
    ]
  end

  defp client(url, creds_env \\ %{}) do
    env = Map.merge(System.get_env(), Map.put(creds_env, "AWS_ENDPOINT_URL_LAMBDA", url))
    {:ok, endpoint} = Endpoint.resolve("lambda", env)
    {:ok, creds} = Credentials.resolve(env)
    %ServiceClient{endpoint: endpoint, credentials: creds, backoff_ms: [0, 0]}
  end

  test "requests are signed: the stub accepts them, session token included" do
    stub = SignatureStub.start!(@key_id, @secret, &aws_answer/2)
    client = client(stub.url, %{"AWS_SESSION_TOKEN" => "token-123"})

    assert {:ok, 200, %{"Configuration" => %{}}} =
             ServiceClient.call(client, Lambda.get_function("my:fn"))

    assert_received {:stub_request, req, :ok}
    assert req.path == "/2015-03-31/functions/my%3Afn"
    assert {"x-amz-security-token", "token-123"} in req.headers

    zip = :binary.copy("z", 1000)

    assert {:ok, 200, _} =
             ServiceClient.call(client, Lambda.update_function_code("f", zip, "arm64"))

    assert_received {:stub_request, %{method: "PUT", body: body}, :ok}
    assert LambdaRuntime.JSON.decode!(body)["ZipFile"] == Base.encode64(zip)
  end

  test "a wrong secret key gives AWS's error and a credentials hint, never the secret", ctx do
    stub = SignatureStub.start!(@key_id, @secret, &aws_answer/2)

    Moto.put_env(%{
      "AWS_ENDPOINT_URL_LAMBDA" => stub.url,
      "AWS_SECRET_ACCESS_KEY" => @wrong_secret
    })

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert_received {:stub_request, _, :bad_signature}
    assert error.message =~ "InvalidSignatureException (HTTP 403): GetFunction failed"
    assert error.message =~ "Hint: check your credentials"
    refute error.message =~ @wrong_secret
    refute error.message =~ @secret
  end

  test "an unknown access key gives UnrecognizedClientException and the hint", ctx do
    stub = SignatureStub.start!(@key_id, @secret, &aws_answer/2)
    Moto.put_env(%{"AWS_ENDPOINT_URL_LAMBDA" => stub.url, "AWS_ACCESS_KEY_ID" => "AKIDOTHER"})

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert_received {:stub_request, _, :unknown_key}
    assert error.message =~ "UnrecognizedClientException"
    assert error.message =~ "check your credentials"
  end

  test "#14.11 InvalidClientTokenId: the key is unknown there, not 'valid but not allowed'",
       ctx do
    stub =
      SignatureStub.start!(@key_id, @secret, fn _req, _verdict ->
        {403, "InvalidClientTokenId",
         ~s({"message":"The security token included in the request is invalid."})}
      end)

    Moto.put_env(%{"AWS_ENDPOINT_URL_LAMBDA" => stub.url})
    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert error.message =~ "InvalidClientTokenId (HTTP 403)"
    assert error.message =~ "the access key is not known to this account/endpoint"
    refute error.message =~ "the credentials are valid"
  end

  test "#14.10 credentials the endpoint refuses stop the deploy at GetFunction, before the layer",
       ctx do
    stub = SignatureStub.start!(@key_id, @secret, &aws_answer/2)
    Moto.put_env(%{"AWS_ENDPOINT_URL_LAMBDA" => stub.url, "AWS_ACCESS_KEY_ID" => "AKIDOTHER"})
    layer = Path.join(ctx.tmp_dir, "layer.zip")
    LambdaRuntime.TestSupport.LayerZips.write!(layer, "x86_64")

    args = [
      "--function-name",
      "hello",
      "--handler",
      "Hello.handle",
      "--zip",
      ctx.zip,
      "--layer-zip",
      layer
    ]

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(args) end
    assert error.message =~ "UnrecognizedClientException"
    assert_received {:stub_request, %{method: "GET", path: "/2015-03-31/functions/hello"}, _}
    # Nothing else: no ListLayerVersions, no PublishLayerVersion.
    refute_received {:stub_request, _, _}
  end

  test "#14.14 a session token with CR LF: refused before any request, value not shown", ctx do
    stub = SignatureStub.start!(@key_id, @secret, &aws_answer/2)

    Moto.put_env(%{
      "AWS_ENDPOINT_URL_LAMBDA" => stub.url,
      "AWS_SESSION_TOKEN" => "token\r\nX-Injected: 1"
    })

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert error.message =~ "InvalidCredentials"
    assert error.message =~ "AWS_SESSION_TOKEN"
    refute error.message =~ "Injected"
    refute_received {:stub_request, _, _}
  end

  test "#14.12 --dry-run and errors never print the endpoint's user:password", ctx do
    Moto.put_env(%{"AWS_ENDPOINT_URL_LAMBDA" => "http://admin:hunter2@127.0.0.1:1"})
    Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip) ++ ["--dry-run"])
    output = MixShell.output()
    assert output =~ "http://127.0.0.1:1"
    refute output =~ "hunter2"

    Moto.put_env(%{"AWS_ENDPOINT_URL_LAMBDA" => "admin:hunter2@127.0.0.1:1"})
    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert error.message =~ "InvalidEndpoint"
    refute error.message =~ "hunter2"
  end

  test "throttling and 5xx answers are retried until one succeeds" do
    {:ok, counter} = Agent.start_link(fn -> 0 end)

    answer = fn _req, :ok ->
      case Agent.get_and_update(counter, &{&1, &1 + 1}) do
        0 -> {429, "TooManyRequestsException", ~s({"message":"Rate exceeded"})}
        1 -> {503, nil, ~s({"message":"Service unavailable"})}
        _ -> {200, nil, ~s({"Configuration":{"FunctionName":"f"}})}
      end
    end

    stub = SignatureStub.start!(@key_id, @secret, answer)
    assert {:ok, 200, _} = ServiceClient.call(client(stub.url), Lambda.get_function("f"))
    assert Agent.get(counter, & &1) == 3
  end

  test "when retries run out the last error is reported" do
    answer = fn _req, :ok ->
      {400, "ThrottlingException", ~s({"message":"Rate exceeded"})}
    end

    stub = SignatureStub.start!(@key_id, @secret, answer)

    assert {:error, error} = ServiceClient.call(client(stub.url), Lambda.get_function("f"))
    assert error.code == "ThrottlingException"
    assert error.message == "GetFunction failed: Rate exceeded"
    for _ <- 1..3, do: assert_received({:stub_request, _, :ok})
    refute_received {:stub_request, _, _}
  end

  test "an unreachable endpoint says to check the endpoint", ctx do
    port = LambdaRuntime.TestSupport.HTTPServer.free_port()
    Moto.put_env(%{"AWS_ENDPOINT_URL_LAMBDA" => "http://127.0.0.1:#{port}"})

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert error.message =~ "connection to 127.0.0.1:#{port} was refused"
    assert error.message =~ "check the endpoint"
  end

  test "a bad region, from a flag or the environment, is named", ctx do
    error =
      assert_raise Mix.Error, fn ->
        Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip) ++ ["--region", "mars-1"])
      end

    assert error.message =~ ~s(region must be an AWS region name such as us-east-1)
    assert error.message =~ ~s("mars-1")

    Moto.put_env(%{"AWS_REGION" => "Europe"})
    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert error.message =~ ~s("Europe" (from AWS_REGION\) is not an AWS region name)

    Moto.put_env(%{"AWS_REGION" => nil})
    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Deploy.run(deploy_args(ctx.zip)) end
    assert error.message =~ "no AWS region is set"
    assert error.message =~ "--region"
  end
end
