defmodule LambdaRuntime.Streamer do
  @moduledoc """
  Sends a `LambdaRuntime.StreamedResponse` to the Runtime API from the handler's
  process: opens the streamed `/response` at the first chunk, writes each
  chunk as it comes, and ends with error trailers if the enumerable fails
  after the first byte (see `LambdaRuntime.StreamedResponse`).
  """

  require Logger

  alias LambdaRuntime.{Client, Context, ErrorReport, Native, Retry}

  # `{:broken, reason}`: the connection failed after the stream opened
  # (Lambda has what was sent); `{:error, reason}`: it never opened.
  @type result ::
          {:streamed,
           {:ok, pos_integer(), binary()}
           | {:broken, Client.transport_error()}
           | {:error, Client.transport_error()}}
          | {:error, ErrorReport.t()}

  # The open stream, if any. The enumerable's own code runs inside
  # Enum.reduce/3, so when it raises, the handle must be found outside it.
  @handle {__MODULE__, :handle}

  @doc """
  Streams `stream` as the response to `context`'s invocation.

  `owner`, when given as `{pid, tag}`, gets `{tag, :stream_open, handle}`
  once the stream opens, so that if the handler dies with the stream open
  (killed at its deadline, crashed), the owner can still end it with error
  trailers (`fail/2`) instead of cutting it off.
  """
  @spec run(
          Client.t(),
          Context.t(),
          LambdaRuntime.StreamedResponse.t(),
          {pid(), reference()} | nil
        ) ::
          result()
  def run(client, %Context{} = context, %LambdaRuntime.StreamedResponse{} = stream, owner \\ nil) do
    # Nothing is sent before the connection is up, so opening is retried
    # like any other request whose connection failed.
    open = fn ->
      with {:ok, handle} <-
             Retry.transport(fn ->
               Native.stream_open(
                 client,
                 context.request_id,
                 context.invocation_id,
                 stream.content_type
               )
             end) do
        with {pid, tag} <- owner, do: send(pid, {tag, :stream_open, handle})
        {:ok, handle}
      end
    end

    Process.delete(@handle)

    try do
      Enum.reduce_while(stream.enumerable, :ok, fn chunk, :ok ->
        case send_chunk(open, chunk) do
          :ok -> {:cont, :ok}
          {:error, _} = error -> {:halt, error}
        end
      end)
    catch
      kind, reason -> {:failed, ErrorReport.from_caught(kind, reason, __STACKTRACE__)}
    end
    |> finish(open, Process.delete(@handle))
  end

  # The response is opened at the first byte, not the first element: an
  # element that is empty or not iodata sends nothing, so a stream that
  # fails before any byte went out is an ordinary /error.
  defp send_chunk(open, chunk) do
    if byte_size!(chunk) == 0 do
      :ok
    else
      with {:ok, handle} <- handle(open), do: Native.stream_write(handle, chunk)
    end
  end

  defp byte_size!(chunk) do
    IO.iodata_length(chunk)
  rescue
    ArgumentError ->
      reraise ArgumentError,
              "a stream element is not iodata: #{inspect(chunk, limit: 5)}",
              __STACKTRACE__
  end

  @doc false
  # Ends an open stream with `report` as its error trailers.
  @spec fail(reference(), ErrorReport.t()) :: result()
  def fail(handle, %ErrorReport{} = report) do
    case Native.stream_fail(handle, ErrorReport.to_wire(report)) do
      # Killed between ending its stream and reporting so: the response is
      # whole; the error can only go to /error (which Lambda may refuse).
      {:error, {:finished, _}} -> {:error, report}
      answer -> {:streamed, opened(answer)}
    end
  end

  # An answer on a stream that had opened: a failure broke it mid-way.
  defp opened({:error, reason}), do: {:broken, reason}
  defp opened(answer), do: answer

  defp handle(open) do
    case Process.get(@handle) do
      nil ->
        with {:ok, handle} <- open.() do
          Process.put(@handle, handle)
          {:ok, handle}
        end

      handle ->
        {:ok, handle}
    end
  end

  # The whole enumerable was sent (possibly no chunk at all).
  defp finish(:ok, open, nil) do
    case open.() do
      {:ok, handle} -> {:streamed, opened(Native.stream_finish(handle))}
      {:error, _} = error -> {:streamed, error}
    end
  end

  defp finish(:ok, _open, handle), do: {:streamed, opened(Native.stream_finish(handle))}

  # The stream never opened (no connection after the retries) ...
  defp finish({:error, _} = error, _open, nil), do: {:streamed, error}

  # ... or the connection broke while writing.
  defp finish({:error, _} = error, _open, _handle), do: {:streamed, opened(error)}

  # The enumerable failed before the first byte: an ordinary error, posted
  # to /error by the caller.
  defp finish({:failed, report}, _open, nil), do: {:error, report}

  # ... or after: the error goes out as trailers.
  defp finish({:failed, report}, _open, handle) do
    Logger.error("Streamed invocation failed mid-stream: #{report.type}: #{report.message}")
    fail(handle, report)
  end
end
