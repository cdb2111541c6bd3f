defmodule LambdaRuntime.Tools.Emulator.InvokeAPI do
  @moduledoc false
  # The caller's side of the emulator: Lambda's Invoke and
  # InvokeWithResponseStream. The connection's process submits the event
  # and waits for the outcome messages (see Invocations).

  alias LambdaRuntime.Tools.Emulator.{EventStream, Wire}

  @max_request_bytes LambdaRuntime.Limits.max_request_bytes()

  @doc """
  Invoke (`streaming_path?` false) or InvokeWithResponseStream (true), in
  the connection's process.
  """
  def invoke(socket, request, streaming_path?, ctx) do
    if Wire.content_length(request) > @max_request_bytes do
      too_large(socket)
    else
      with {:ok, body} <- Wire.read_full_body(socket, request) do
        if byte_size(body) > @max_request_bytes,
          do: too_large(socket),
          else: invoke(socket, request, body, streaming_path?, ctx)
      end
    end
  end

  defp too_large(socket) do
    Wire.send_response(
      socket,
      413,
      [
        {"content-type", "application/json"},
        {"x-amzn-errortype", "RequestEntityTooLargeException"},
        {"connection", "close"}
      ],
      ~s({"Type":"User","message":"Request must be smaller than #{@max_request_bytes} bytes for the InvokeFunction operation"})
    )

    {:error, :closed}
  end

  defp invoke(socket, request, body, streaming_path?, ctx) do
    type = request.headers["x-amz-invocation-type"] || "RequestResponse"

    meta = %{
      client_context: client_context(request),
      trace_id: request.headers["x-amzn-trace-id"],
      caller: self()
    }

    case type do
      "DryRun" ->
        Wire.send_response(socket, 204, [], "")

      "Event" ->
        {:ok, _id} = GenServer.call(ctx.server, {:submit, body, %{meta | caller: nil}})
        Wire.send_response(socket, 202, [], "")

      _ ->
        {:ok, id} = GenServer.call(ctx.server, {:submit, body, meta})
        headers = [{"x-amzn-requestid", id}, {"x-amz-executed-version", ctx.version}]
        relay_outcome(socket, id, headers, streaming_path?, nil)
    end
  end

  defp client_context(request) do
    with encoded when is_binary(encoded) <- request.headers["x-amz-client-context"],
         {:ok, json} <- Base.decode64(encoded) do
      json
    else
      _ -> nil
    end
  end

  # Waits for the outcome. On the streaming path the answer is an AWS event
  # stream, as from InvokeWithResponseStream: each streamed chunk is relayed
  # as a PayloadChunk event as it comes, then InvokeComplete. On the plain
  # path a streamed response is gathered and returned whole. `acc` holds the
  # chunks gathered so far (plain path) or :relaying (streaming path, once
  # the HTTP head is sent).
  defp relay_outcome(socket, id, headers, streaming_path?, acc) do
    receive do
      {LambdaRuntime.Tools.Emulator, ^id, {:stream_head, content_type}} ->
        headers = [{"content-type", content_type} | headers]

        if streaming_path? do
          Wire.send_chunked_head(socket, 200, headers)
          relay_outcome(socket, id, headers, true, :relaying)
        else
          relay_outcome(socket, id, headers, false, [])
        end

      {LambdaRuntime.Tools.Emulator, ^id, {:stream, data}} when acc == :relaying ->
        Wire.send_chunk(socket, EventStream.payload_chunk(data))
        relay_outcome(socket, id, headers, true, acc)

      {LambdaRuntime.Tools.Emulator, ^id, {:stream, data}} ->
        relay_outcome(socket, id, headers, false, [acc | data])

      {LambdaRuntime.Tools.Emulator, ^id, {:done, status, body, _report, _streamed?}} ->
        if streaming_path?,
          do: finish_stream(socket, status, body, headers, acc),
          else: finish_whole(socket, status, body, headers, acc)
    end
  end

  # The streaming path: InvokeComplete ends the event stream. A response
  # that was not streamed goes first, whole, as one PayloadChunk.
  defp finish_stream(socket, status, body, headers, acc) do
    if acc != :relaying do
      Wire.send_chunked_head(socket, 200, [{"content-type", "application/json"} | headers])
      if status == :ok, do: Wire.send_chunk(socket, EventStream.payload_chunk(body))
    end

    complete = if status == :ok, do: nil, else: {error_type(body), body}
    Wire.send_chunk(socket, EventStream.invoke_complete(complete))
    Wire.send_last_chunk(socket)
  end

  defp finish_whole(socket, :ok, _body, headers, chunks) when is_list(chunks),
    do: Wire.send_response(socket, 200, headers, IO.iodata_to_binary(chunks))

  defp finish_whole(socket, status, body, headers, _acc) do
    headers =
      if status == :error,
        do: [{"x-amz-function-error", "Unhandled"} | headers],
        else: headers

    headers = List.keystore(headers, "content-type", 0, {"content-type", "application/json"})
    Wire.send_response(socket, 200, headers, body)
  end

  defp error_type(body) do
    case LambdaRuntime.JSON.decode(body) do
      {:ok, %{"errorType" => type}} when is_binary(type) -> type
      _ -> "Unhandled"
    end
  end
end
