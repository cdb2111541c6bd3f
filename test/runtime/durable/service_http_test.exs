defmodule LambdaRuntime.Durable.ServiceHTTPTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.AWS.{Error, SigV4}
  alias LambdaRuntime.Durable.Service.HTTP

  @arn "arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST/durable-execution/run-1/abc"

  # A one-shot HTTP server: answers `answer` and sends the raw request to the test.
  defp server(status, body) do
    {:ok, listen} = :gen_tcp.listen(0, [:binary, ip: {127, 0, 0, 1}, active: false, packet: :raw])
    {:ok, port} = :inet.port(listen)
    test = self()

    spawn_link(fn ->
      {:ok, socket} = :gen_tcp.accept(listen)
      request = read_request(socket, "")
      send(test, {:request, request})

      :gen_tcp.send(
        socket,
        "HTTP/1.1 #{status} X\r\ncontent-type: application/json\r\ncontent-length: #{byte_size(body)}\r\n\r\n#{body}"
      )

      Process.sleep(200)
    end)

    "http://127.0.0.1:#{port}"
  end

  defp read_request(socket, acc) do
    {:ok, data} = :gen_tcp.recv(socket, 0, 5_000)
    acc = acc <> data

    case String.split(acc, "\r\n\r\n", parts: 2) do
      [head, body] ->
        length = Regex.run(~r/content-length: (\d+)/i, head)
        wanted = if length, do: String.to_integer(List.last(length)), else: 0
        if byte_size(body) >= wanted, do: {head, body}, else: read_request(socket, acc)

      _ ->
        read_request(socket, acc)
    end
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
    assert_receive {:request, {head, ^body}}

    [request_line | headers] = String.split(head, "\r\n")
    encoded = SigV4.encode(@arn)
    assert request_line == "POST /2025-12-01/durable-executions/#{encoded}/checkpoint HTTP/1.1"

    headers =
      Map.new(
        headers,
        &(&1
          |> String.split(": ", parts: 2)
          |> List.to_tuple()
          |> then(fn {k, v} -> {String.downcase(k), v} end))
      )

    assert headers["authorization"] =~
             ~r"^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\d{8}/us-east-1/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$"

    assert headers["x-amz-security-token"] == "session"
    assert headers["content-type"] == "application/json"
  end

  test "state: a signed GET with the token and marker in the query" do
    url = server(200, ~s({"Operations":[{"Id":"x"}],"NextMarker":"m2"}))

    assert {:ok, %{"Operations" => [%{"Id" => "x"}], "NextMarker" => "m2"}} =
             HTTP.get_state(client(url), @arn, "a+b/c=", "m1")

    assert_receive {:request, {head, ""}}

    assert head =~
             "GET /2025-12-01/durable-executions/#{SigV4.encode(@arn)}/state?CheckpointToken=a%2Bb%2Fc%3D&Marker=m1&MaxItems=1000 HTTP/1.1"
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
