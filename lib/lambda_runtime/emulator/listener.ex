defmodule LambdaRuntime.Emulator.Listener do
  @moduledoc false
  # The emulator's TCP side: one acceptor, one process per connection
  # (keep-alive), all linked to the acceptor so that stopping it closes
  # everything. Every socket has TCP_NODELAY.

  require Logger

  alias LambdaRuntime.Emulator.{EventStream, HTTP}

  @runtime "/2018-06-01/runtime"
  # Lambda's limit for a synchronous Invoke request, in bytes.
  @max_request_bytes 6_291_456

  @doc "Listens on `ip:port` and accepts for `server`. Returns `{:ok, pid, port}`."
  def start_link(server, ip, port, function_version) do
    opts = [:binary, ip: ip, active: false, reuseaddr: true, nodelay: true, backlog: 128]

    with {:ok, socket} <- :gen_tcp.listen(port, opts),
         {:ok, port} <- :inet.port(socket) do
      ctx = %{server: server, version: function_version}
      pid = spawn_link(fn -> receive(do: (:go -> accept_loop(socket, ctx))) end)
      :ok = :gen_tcp.controlling_process(socket, pid)
      send(pid, :go)
      {:ok, pid, port}
    end
  end

  @doc "Closes the listener and every connection."
  def stop(pid) do
    Process.unlink(pid)
    Process.exit(pid, :kill)
    :ok
  end

  defp accept_loop(listen, ctx) do
    {:ok, socket} = :gen_tcp.accept(listen)
    pid = spawn_link(fn -> receive(do: (:go -> serve(socket, ctx))) end)
    :ok = :gen_tcp.controlling_process(socket, pid)
    send(pid, :go)
    accept_loop(listen, ctx)
  end

  # One connection. A failure here (a peer that goes away mid-request, a
  # malformed request) ends this connection only, never the emulator.
  defp serve(socket, ctx) do
    with {:ok, request} <- HTTP.read_head(socket),
         :ok <- route(socket, request, ctx),
         true <- request.keep_alive? do
      serve(socket, ctx)
    else
      _ -> :gen_tcp.close(socket)
    end
  catch
    :exit, reason when reason in [:normal, :shutdown] ->
      :gen_tcp.close(socket)

    kind, reason ->
      Logger.warning(
        "LambdaRuntime.Emulator: connection failed: " <>
          Exception.format(kind, reason, __STACKTRACE__)
      )

      :gen_tcp.close(socket)
  end

  defp route(socket, request, ctx) do
    case {request.method, String.split(request.path, "/", trim: true)} do
      {"GET", ["2018-06-01", "runtime", "invocation", "next"]} ->
        next(socket, ctx)

      {"POST", ["2018-06-01", "runtime", "invocation", id, "response"]} ->
        response(socket, request, URI.decode(id), ctx)

      {"POST", ["2018-06-01", "runtime", "invocation", id, "error"]} ->
        with {:ok, body} <- body(socket, request),
             do:
               answer(
                 socket,
                 GenServer.call(ctx.server, {:complete, URI.decode(id), :error, body})
               )

      {"POST", ["2018-06-01", "runtime", "init", "error"]} ->
        with {:ok, body} <- body(socket, request),
             do: answer(socket, GenServer.call(ctx.server, {:init_error, body}))

      {"POST", ["2015-03-31", "functions", _name, "invocations"]} ->
        invoke(socket, request, false, ctx)

      # InvokeWithResponseStream's own API version (as AWS SDKs call it), and
      # the Invoke API's version (as cargo-lambda serves it).
      {"POST", [version, "functions", _name, "response-streaming-invocations"]}
      when version in ["2021-11-15", "2015-03-31"] ->
        invoke(socket, request, true, ctx)

      {method, _} ->
        with {:ok, _} <- body(socket, request) do
          message =
            "no route for #{method} #{request.path} (the Runtime API is under #{@runtime})"

          json(socket, 404, %{"errorType" => "NotFound", "errorMessage" => message})
        end
    end
  end

  # --- the runtime's side ---

  # The long poll. The socket is watched while waiting, so a runtime that
  # goes away stops being offered events.
  defp next(socket, ctx) do
    :ok = :inet.setopts(socket, active: :once)
    request = :gen_server.send_request(ctx.server, :next)
    {:event, headers, body} = await_event(socket, request)
    :ok = :inet.setopts(socket, active: false)

    case HTTP.send_response(socket, 200, headers, body) do
      :ok ->
        :ok

      error ->
        {_, id} = List.keyfind(headers, "lambda-runtime-aws-request-id", 0)
        GenServer.call(ctx.server, {:requeue, id})
        error
    end
  end

  defp await_event(socket, request) do
    receive do
      {tcp, ^socket} when tcp in [:tcp_closed, :tcp_error] ->
        exit(:normal)

      message ->
        case :gen_server.check_response(message, request) do
          {:reply, reply} -> reply
          :no_reply -> await_event(socket, request)
          {:error, {reason, _}} -> exit(reason)
        end
    end
  end

  defp response(socket, request, id, ctx) do
    streaming? =
      HTTP.chunked?(request) and
        String.downcase(request.headers["lambda-runtime-function-response-mode"] || "") ==
          "streaming"

    if streaming?,
      do: streamed_response(socket, request, id, ctx),
      else:
        with(
          {:ok, body} <- body(socket, request),
          do: answer(socket, GenServer.call(ctx.server, {:complete, id, :ok, body}))
        )
  end

  defp streamed_response(socket, request, id, ctx) do
    content_type = request.headers["content-type"] || "application/octet-stream"

    case GenServer.call(ctx.server, {:stream_start, id, content_type}) do
      :ok ->
        relay = fn data, :ok -> GenServer.cast(ctx.server, {:stream_chunk, id, data}) end

        with {:ok, :ok, trailers} <- HTTP.read_chunks(socket, :ok, relay) do
          {status, body} = stream_outcome(trailers)
          answer(socket, GenServer.call(ctx.server, {:complete, id, status, body}))
        end

      refusal ->
        with {:ok, _, _} <- HTTP.read_chunks(socket, :ok, fn _, acc -> acc end),
             do: answer(socket, refusal)
    end
  end

  # A stream that failed midway says so in its trailers.
  defp stream_outcome(%{"lambda-runtime-function-error-type" => type} = trailers) do
    case Base.decode64(trailers["lambda-runtime-function-error-body"] || "") do
      {:ok, body} when body != "" -> {:error, body}
      _ -> {:error, LambdaRuntime.JSON.encode!(%{"errorType" => type, "errorMessage" => type})}
    end
  end

  defp stream_outcome(_trailers), do: {:ok, ""}

  defp answer(socket, :accepted), do: json(socket, 202, %{"status" => "OK"})

  defp answer(socket, :too_large) do
    json(socket, 413, %{
      "errorType" => "RequestEntityTooLarge",
      "errorMessage" => "Exceeded maximum allowed payload size (6291556 bytes)."
    })
  end

  defp answer(socket, :gone) do
    json(socket, 410, %{
      "errorType" => "InvocationNoLongerCurrent",
      "errorMessage" => "the invocation already finished (it timed out, or was answered)"
    })
  end

  defp answer(socket, :unknown) do
    json(socket, 400, %{"errorType" => "InvalidRequestID", "errorMessage" => "Invalid request ID"})
  end

  # --- the caller's side ---

  defp invoke(socket, request, streaming_path?, ctx) do
    if HTTP.content_length(request) > @max_request_bytes do
      HTTP.send_response(
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
    else
      with {:ok, body} <- body(socket, request) do
        invoke(socket, request, body, streaming_path?, ctx)
      end
    end
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
        HTTP.send_response(socket, 204, [], "")

      "Event" ->
        {:ok, _id} = GenServer.call(ctx.server, {:submit, body, %{meta | caller: nil}})
        HTTP.send_response(socket, 202, [], "")

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
      {LambdaRuntime.Emulator, ^id, {:stream_head, content_type}} ->
        headers = [{"content-type", content_type} | headers]

        if streaming_path? do
          HTTP.send_chunked_head(socket, 200, headers)
          relay_outcome(socket, id, headers, true, :relaying)
        else
          relay_outcome(socket, id, headers, false, [])
        end

      {LambdaRuntime.Emulator, ^id, {:stream, data}} when acc == :relaying ->
        HTTP.send_chunk(socket, EventStream.payload_chunk(data))
        relay_outcome(socket, id, headers, true, acc)

      {LambdaRuntime.Emulator, ^id, {:stream, data}} ->
        relay_outcome(socket, id, headers, false, [acc | data])

      {LambdaRuntime.Emulator, ^id, {:done, status, body, _report, _streamed?}} ->
        if streaming_path?,
          do: finish_stream(socket, status, body, headers, acc),
          else: finish_whole(socket, status, body, headers, acc)
    end
  end

  # The streaming path: InvokeComplete ends the event stream. A response
  # that was not streamed goes first, whole, as one PayloadChunk.
  defp finish_stream(socket, status, body, headers, acc) do
    if acc != :relaying do
      HTTP.send_chunked_head(socket, 200, [{"content-type", "application/json"} | headers])
      if status == :ok, do: HTTP.send_chunk(socket, EventStream.payload_chunk(body))
    end

    complete = if status == :ok, do: nil, else: {error_type(body), body}
    HTTP.send_chunk(socket, EventStream.invoke_complete(complete))
    HTTP.send_last_chunk(socket)
  end

  defp finish_whole(socket, :ok, _body, headers, chunks) when is_list(chunks),
    do: HTTP.send_response(socket, 200, headers, IO.iodata_to_binary(chunks))

  defp finish_whole(socket, status, body, headers, _acc) do
    headers =
      if status == :error,
        do: [{"x-amz-function-error", "Unhandled"} | headers],
        else: headers

    headers = List.keystore(headers, "content-type", 0, {"content-type", "application/json"})
    HTTP.send_response(socket, 200, headers, body)
  end

  defp error_type(body) do
    case LambdaRuntime.JSON.decode(body) do
      {:ok, %{"errorType" => type}} when is_binary(type) -> type
      _ -> "Unhandled"
    end
  end

  defp body(socket, request) do
    if HTTP.chunked?(request) do
      with {:ok, chunks, _trailers} <-
             HTTP.read_chunks(socket, [], fn data, acc -> [acc | data] end),
           do: {:ok, IO.iodata_to_binary(chunks)}
    else
      HTTP.read_body(socket, HTTP.content_length(request))
    end
  end

  defp json(socket, status, map) do
    body = LambdaRuntime.JSON.encode!(map)
    HTTP.send_response(socket, status, [{"content-type", "application/json"}], body)
  end
end
