defmodule LambdaRuntime.Tools.Emulator.EventStream do
  @moduledoc """
  The AWS event stream encoding (`application/vnd.amazon.eventstream`) that
  Lambda's `InvokeWithResponseStream` answers in: a `PayloadChunk` event per
  piece of the response, then one `InvokeComplete` event.

  Each message is: total length and headers length (32-bit big-endian), a
  CRC32 of those 8 bytes, the headers (name length (8-bit), name, type 7 =
  string, value length (16-bit), value), the payload, and a CRC32 of all
  that precedes it.
  """

  @string 7

  @doc "One `PayloadChunk` event carrying `data`."
  @spec payload_chunk(iodata()) :: binary()
  def payload_chunk(data), do: event("PayloadChunk", "application/octet-stream", data)

  @doc """
  The `InvokeComplete` event: `{}` for a success; for a function error,
  `ErrorCode` (the error type) and `ErrorDetails` (the error JSON).
  """
  @spec invoke_complete(nil | {String.t(), binary()}) :: binary()
  def invoke_complete(nil), do: event("InvokeComplete", "application/json", "{}")

  def invoke_complete({code, details}) do
    payload = LambdaRuntime.JSON.encode!(%{"ErrorCode" => code, "ErrorDetails" => details})
    event("InvokeComplete", "application/json", payload)
  end

  @doc "An event message with the given `:event-type`, `:content-type` and payload."
  @spec event(String.t(), String.t(), iodata()) :: binary()
  def event(type, content_type, payload) do
    headers =
      IO.iodata_to_binary([
        header(":event-type", type),
        header(":content-type", content_type),
        header(":message-type", "event")
      ])

    payload = IO.iodata_to_binary(payload)
    total = 12 + byte_size(headers) + byte_size(payload) + 4
    prelude = <<total::32, byte_size(headers)::32>>
    message = [prelude, <<:erlang.crc32(prelude)::32>>, headers, payload]
    body = IO.iodata_to_binary(message)
    body <> <<:erlang.crc32(body)::32>>
  end

  defp header(name, value),
    do: [byte_size(name), name, @string, <<byte_size(value)::16>>, value]

  @doc """
  Decodes a complete event stream into `[{event_type, payload}]`; raises
  on a malformed stream or a bad checksum.
  """
  @spec decode(binary()) :: [{String.t(), binary()}]
  def decode(<<>>), do: []

  def decode(<<total::32, headers_len::32, prelude_crc::32, rest::binary>> = stream) do
    ^prelude_crc = :erlang.crc32(<<total::32, headers_len::32>>)
    payload_len = total - 16 - headers_len

    <<headers::binary-size(headers_len), payload::binary-size(payload_len), crc::32,
      next::binary>> = rest

    ^crc = :erlang.crc32(binary_part(stream, 0, total - 4))
    [{decode_headers(headers)[":event-type"], payload} | decode(next)]
  end

  defp decode_headers(<<>>), do: %{}

  defp decode_headers(
         <<n, name::binary-size(n), @string, len::16, value::binary-size(len), rest::binary>>
       ),
       do: Map.put(decode_headers(rest), name, value)
end
