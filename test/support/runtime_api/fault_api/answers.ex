defmodule LambdaRuntime.TestSupport.FaultApi.Answers do
  @moduledoc """
  What `LambdaRuntime.TestSupport.FaultApi` writes for each action, as a
  `LambdaRuntime.TestSupport.HTTPServer` reply.

  `{:event, request_id, body, opts}` is a 200 with the invocation headers;
  opts: `:deadline_ms`, `:trace_id` (`nil` leaves the header out),
  `:headers` (extra `{name, value}`s), `:content_type` (`nil` leaves the
  header out), `:header_case` (`:upper`, `:lower` or `:as_is`, applied to
  every header name), `:close` (answer with `Connection: close`, then
  close), `:chunked` (the body in chunks of at most 1000 bytes, without
  `Content-Length`).
  """

  @arn "arn:aws:lambda:us-east-1:123456789012:function:test-function"
  @trace_id "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"

  @doc "The HTTPServer reply for a FaultApi action."
  def reply({:event, request_id, body, opts}) do
    deadline = Keyword.get(opts, :deadline_ms, System.os_time(:millisecond) + 300_000)

    content_type =
      case Keyword.get(opts, :content_type, "application/json") do
        nil -> []
        type -> [{"Content-Type", type}]
      end

    headers =
      ([
         {"Lambda-Runtime-Aws-Request-Id", request_id},
         {"Lambda-Runtime-Deadline-Ms", to_string(deadline)},
         {"Lambda-Runtime-Invoked-Function-Arn", @arn},
         {"Lambda-Runtime-Trace-Id", Keyword.get(opts, :trace_id, @trace_id)}
       ] ++ content_type ++ Keyword.get(opts, :headers, []))
      |> Enum.reject(&match?({_, nil}, &1))
      |> Enum.map(fn {k, v} -> {cased(k, opts[:header_case]), v} end)

    cond do
      opts[:chunked] -> {:send, chunked(headers, body)}
      opts[:close] -> {200, headers, body, :close}
      true -> {200, headers, body}
    end
  end

  def reply({:status, status, body}), do: {status, [{"Content-Type", "application/json"}], body}
  def reply(:reset), do: :reset
  def reply(:hang), do: :hang
  def reply({:raw, bytes}), do: {:raw, bytes}

  # A 200 with the body in chunks of at most 1000 bytes, without Content-Length.
  defp chunked(headers, body) do
    head =
      ["HTTP/1.1 200 OK\r\n"] ++
        Enum.map(headers, fn {k, v} -> "#{k}: #{v}\r\n" end) ++
        ["Transfer-Encoding: chunked\r\n\r\n"]

    chunks =
      for <<chunk::binary-size(1000) <- body>>, into: [] do
        [Integer.to_string(1000, 16), "\r\n", chunk, "\r\n"]
      end

    tail_size = rem(byte_size(body), 1000)
    tail = binary_part(body, byte_size(body) - tail_size, tail_size)

    last =
      if tail_size > 0, do: [Integer.to_string(tail_size, 16), "\r\n", tail, "\r\n"], else: []

    [head, chunks, last, "0\r\n\r\n"]
  end

  defp cased(name, :upper), do: String.upcase(name)
  defp cased(name, :lower), do: String.downcase(name)
  defp cased(name, _), do: name
end
