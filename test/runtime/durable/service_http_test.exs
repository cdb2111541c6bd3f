defmodule LambdaRuntime.Durable.ServiceHTTPTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.{Error, SigV4}
  alias LambdaRuntime.Durable.Service.HTTP
  alias LambdaRuntime.TestSupport.HTTPServer

  @arn "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/run-1/abc"

  # A server that answers every request `status` and `body`, and sends the
  # request to the test.
  defp server(status, body) do
    test = self()

    server =
      HTTPServer.start!(fn request ->
        send(test, {:request, request})
        {status, [{"content-type", "application/json"}], body}
      end)

    HTTPServer.url(server)
  end

  defp client(url) do
    env = %{
      "AWS_ENDPOINT_URL_LAMBDA" => url,
      "AWS_REGION" => "us-east-1",
      "AWS_ACCESS_KEY_ID" => "AKIDEXAMPLE",
      "AWS_SECRET_ACCESS_KEY" => "secret",
      "AWS_SESSION_TOKEN" => "session"
    }

    {:ok, {HTTP, config}} = HTTP.from_env(env)
    config
  end

  test "checkpoint: a signed POST of the body to the execution's checkpoint path" do
    url = server(200, ~s({"CheckpointToken":"t2","NewExecutionState":{"Operations":[]}}))
    body = ~s({"CheckpointToken":"t1","Updates":[]})

    assert {:ok, %{"CheckpointToken" => "t2"}} = HTTP.checkpoint(client(url), @arn, body)
    assert_receive {:request, %{method: "POST", path: path, headers: headers, body: ^body}}
    assert path == "/2025-12-01/durable-executions/#{SigV4.encode(@arn)}/checkpoint"
    headers = Map.new(headers)

    assert headers["authorization"] =~
             ~r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$"

    assert headers["x-amz-security-token"] == "session"
    assert headers["content-type"] == "application/json"
  end

  test "state: a signed GET with the token and marker in the query" do
    url = server(200, ~s({"Operations":[{"Id":"x"}],"NextMarker":"m2"}))

    assert {:ok, %{"Operations" => [%{"Id" => "x"}], "NextMarker" => "m2"}} =
             HTTP.get_state(client(url), @arn, "a+b/c=", "m1")

    assert_receive {:request, %{method: "GET", path: path, body: ""}}

    assert path ==
             "/2025-12-01/durable-executions/#{SigV4.encode(@arn)}/state?CheckpointToken=a%2Bb%2Fc%3D&Marker=m1&MaxItems=1000"
  end

  test "4xx answers are fatal but throttling and a stale token; 5xx and the network are retryable" do
    assert {:fatal, _} = HTTP.classify(Error.new("AccessDeniedException", "denied", nil, 403))

    assert {:retryable, _} =
             HTTP.classify(Error.new("TooManyRequestsException", "slow down", nil, 429))

    assert {:retryable, _} =
             HTTP.classify(
               Error.new(
                 "InvalidParameterValueException",
                 "CheckpointDurableExecution failed: Invalid checkpoint token",
                 nil,
                 400
               )
             )

    assert {:fatal, _} =
             HTTP.classify(Error.new("InvalidParameterValueException", "bad update", nil, 400))

    assert {:retryable, _} = HTTP.classify(Error.new("ServiceException", "boom", nil, 500))
    assert {:retryable, _} = HTTP.classify(Error.new("ConnectionFailed", "refused"))

    url = server(400, ~s({"Type":"User","message":"Invalid operation update"}))
    assert {:error, {:fatal, message}} = HTTP.checkpoint(client(url), @arn, "{}")
    assert message =~ "Invalid operation update"
  end

  test "missing credentials or region is a fatal error naming the fix" do
    assert {:error, {:fatal, message}} =
             HTTP.from_env(%{"AWS_REGION" => "us-east-1", "HOME" => "/nonexistent"})

    assert message =~ "AWS_ACCESS_KEY_ID"
  end
end
