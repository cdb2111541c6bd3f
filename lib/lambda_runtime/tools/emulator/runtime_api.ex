defmodule LambdaRuntime.Tools.Emulator.RuntimeAPI do
  @moduledoc false
  # The Runtime API side of the emulator, one function per endpoint, each
  # run in the connection's process: /next (long poll), /response (whole or
  # streamed), /error, /init/error.

  alias LambdaRuntime.Tools.Emulator.Wire

  @doc """
  `GET /runtime/invocation/next`: the long poll. The socket is watched while
  waiting, so a runtime that goes away stops being offered events.
  """
  def next(socket, ctx) do
    :ok = :inet.setopts(socket, active: :once)
    request = :gen_server.send_request(ctx.server, :next)
    {:event, headers, body} = await_event(socket, request)
    :ok = :inet.setopts(socket, active: false)

    case Wire.send_response(socket, 200, headers, body) do
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

  @doc "`POST /runtime/invocation/{id}/response`, whole or streamed."
  def response(socket, request, id, ctx) do
    streaming? =
      Wire.chunked?(request) and
        String.downcase(request.headers["lambda-runtime-function-response-mode"] || "") ==
          "streaming"

    if streaming?,
      do: streamed_response(socket, request, id, ctx),
      else:
        with(
          {:ok, body} <- Wire.read_full_body(socket, request),
          do: answer(socket, GenServer.call(ctx.server, {:complete, id, :ok, body}))
        )
  end

  defp streamed_response(socket, request, id, ctx) do
    content_type = request.headers["content-type"] || "application/octet-stream"

    case GenServer.call(ctx.server, {:stream_start, id, content_type}) do
      :ok ->
        relay = fn data, :ok -> GenServer.cast(ctx.server, {:stream_chunk, id, data}) end

        with {:ok, :ok, trailers} <- Wire.read_chunks(socket, :ok, relay) do
          {status, body} = stream_outcome(trailers)
          answer(socket, GenServer.call(ctx.server, {:complete, id, status, body}))
        end

      refusal ->
        with {:ok, _, _} <- Wire.read_chunks(socket, :ok, fn _, acc -> acc end),
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

  defp answer(socket, :accepted), do: Wire.send_json(socket, 202, %{"status" => "OK"})

  defp answer(socket, :too_large) do
    Wire.send_json(socket, 413, %{
      "errorType" => "RequestEntityTooLarge",
      "errorMessage" => "Exceeded maximum allowed payload size (6291556 bytes)."
    })
  end

  defp answer(socket, :gone) do
    Wire.send_json(socket, 410, %{
      "errorType" => "InvocationNoLongerCurrent",
      "errorMessage" => "the invocation already finished (it timed out, or was answered)"
    })
  end

  defp answer(socket, :unknown) do
    Wire.send_json(socket, 400, %{
      "errorType" => "InvalidRequestID",
      "errorMessage" => "Invalid request ID"
    })
  end

  @doc "`POST /runtime/invocation/{id}/error`."
  def error(socket, request, id, ctx) do
    with {:ok, body} <- Wire.read_full_body(socket, request),
         do: answer(socket, GenServer.call(ctx.server, {:complete, id, :error, body}))
  end

  @doc "`POST /runtime/init/error`."
  def init_error(socket, request, ctx) do
    with {:ok, body} <- Wire.read_full_body(socket, request),
         do: answer(socket, GenServer.call(ctx.server, {:init_error, body}))
  end
end
