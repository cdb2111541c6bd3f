defmodule LambdaRuntime.CargoLambdaRelayTest do
  # A Function URL-style streamed response through cargo-lambda's emulator:
  # the prelude's status becomes the HTTP answer's own, the prelude and the
  # eight-zero-byte separator are taken off, and each body chunk arrives as
  # an AWS event-stream PayloadChunk event. (cargo-lambda 1.9.2 answers with
  # the prelude's status only: its headers and cookies are not relayed, so
  # their bytes are checked against a recording Runtime API in
  # streaming_test.exs instead.)
  use ExUnit.Case, async: true

  alias LambdaRuntime.TestSupport.CargoLambda
  alias LambdaRuntime.TestSupport.FeaturesFixture

  @moduletag :cargo_lambda
  @moduletag timeout: 60_000

  test "the status and body chunks of an HTTP-integration stream" do
    cargo = CargoLambda.start!()
    on_exit(fn -> CargoLambda.stop(cargo) end)
    FeaturesFixture.start_runtime!(CargoLambda.runtime_api(cargo), "Features.Streaming.http")

    {status, headers, body} =
      post(cargo.http_port, "/2015-03-31/functions/_/response-streaming-invocations", "{}")

    assert status == 201
    assert header(headers, "content-type") == ["application/vnd.amazon.eventstream"]

    assert event_stream(body) == [
             {"PayloadChunk", "hello, "},
             {"PayloadChunk", "streamed "},
             {"PayloadChunk", "world"},
             {"InvokeComplete", "{}"}
           ]
  end

  defp header(headers, name), do: for({^name, v} <- headers, do: v)

  # A one-shot HTTP/1.1 request; the answer is read until the server closes.
  defp post(port, path, body) do
    {:ok, socket} =
      :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, nodelay: true])

    request = [
      "POST #{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n",
      "Content-Type: application/json\r\nContent-Length: #{byte_size(body)}\r\n\r\n",
      body
    ]

    :ok = :gen_tcp.send(socket, request)
    raw = read_all(socket, [])
    [head, rest] = :binary.split(raw, "\r\n\r\n")
    [status_line | lines] = String.split(head, "\r\n")
    [_, status | _] = String.split(status_line, " ")

    headers =
      for line <- lines do
        [name, value] = String.split(line, ":", parts: 2)
        {String.downcase(name), String.trim(value)}
      end

    body = if header(headers, "transfer-encoding") == ["chunked"], do: dechunk(rest), else: rest
    {String.to_integer(status), headers, body}
  end

  defp read_all(socket, acc) do
    case :gen_tcp.recv(socket, 0, 30_000) do
      {:ok, data} -> read_all(socket, [acc | data])
      {:error, :closed} -> IO.iodata_to_binary(acc)
    end
  end

  defp dechunk(data, acc \\ []) do
    [size, rest] = :binary.split(data, "\r\n")
    {n, ""} = Integer.parse(size, 16)

    if n == 0 do
      IO.iodata_to_binary(acc)
    else
      <<chunk::binary-size(n), "\r\n", rest::binary>> = rest
      dechunk(rest, [acc | chunk])
    end
  end

  # AWS event-stream messages: total length, headers length, prelude CRC,
  # headers, payload, message CRC. Returns {event type, payload} pairs.
  defp event_stream(<<>>), do: []

  defp event_stream(<<total::32, hlen::32, prelude_crc::32, rest::binary>> = data) do
    assert prelude_crc == :erlang.crc32(binary_part(data, 0, 8))
    plen = total - hlen - 16
    <<headers::binary-size(hlen), payload::binary-size(plen), crc::32, more::binary>> = rest
    assert crc == :erlang.crc32(binary_part(data, 0, total - 4))
    [{event_headers(headers)[":event-type"], payload} | event_stream(more)]
  end

  defp event_headers(<<>>), do: %{}

  defp event_headers(<<n, name::binary-size(n), 7, len::16, value::binary-size(len), r::binary>>),
    do: Map.put(event_headers(r), name, value)
end
