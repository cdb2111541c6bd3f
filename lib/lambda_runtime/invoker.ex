defmodule LambdaRuntime.Invoker do
  @moduledoc """
  Runs one invocation: decodes the event, calls the handler in a fresh
  monitored process, encodes the response, and turns every way that can go
  wrong into an `LambdaRuntime.ErrorReport`.

  A handler that returns a stream (see `LambdaRuntime.StreamedResponse`) has it sent
  from its own process when a Runtime API `:client` is given; without one
  (as in `LambdaRuntime.Test`), the chunks are collected into the body.
  Without a client, Lambda's response limits (`LambdaRuntime.Limits`) are
  applied here, as the Runtime API would apply them: a buffered response
  over 6 MB, or a stream past 200 MiB, is `Function.ResponseSizeTooLarge`.

  The handler process is not linked to the caller: whatever it does (raise,
  exit, get killed, loop forever), the caller gets an outcome. When the
  invocation has a real epoch deadline and it passes, the handler process is
  killed and the outcome is a `Sandbox.Timedout` error.
  """

  require Logger

  alias LambdaRuntime.{Context, ErrorReport, HandlerRef, JSON}

  @max_response_bytes LambdaRuntime.Limits.max_response_bytes()

  @type outcome ::
          {:ok, binary()} | {:error, ErrorReport.t()} | LambdaRuntime.Streamer.result()

  @doc """
  Runs `handler` on the raw JSON `body` of one event.

  Options: `:client`, the Runtime API client that streamed responses go to.
  """
  @spec run(HandlerRef.t(), term(), binary(), Context.t(), keyword()) :: outcome()
  def run(%HandlerRef{} = handler, state, body, %Context{} = context, opts \\ []) do
    client = Keyword.get(opts, :client)

    tag = make_ref()
    parent = self()
    started = System.monotonic_time(:millisecond)

    {pid, monitor} =
      spawn_monitor(fn ->
        Logger.metadata(request_id: context.request_id, tenant_id: context.tenant_id)
        stream_to = client && {client, {parent, tag}}
        send(parent, {tag, execute(handler, state, body, context, stream_to)})
      end)

    await(%{
      tag: tag,
      pid: pid,
      monitor: monitor,
      started: started,
      context: context,
      stream: nil
    })
  end

  # Waits for the handler's outcome. A streamed response that opened is
  # announced first (`{tag, :stream_open, handle}`), so that if the handler
  # then dies or is killed at its deadline, the stream ends with error
  # trailers instead of being cut off.
  defp await(%{tag: tag, pid: pid, monitor: monitor} = waiting) do
    receive do
      {^tag, :stream_open, handle} ->
        await(%{waiting | stream: handle})

      {^tag, outcome} ->
        Process.demonitor(monitor, [:flush])
        outcome

      {:DOWN, ^monitor, :process, ^pid, reason} ->
        died(waiting, ErrorReport.from_down(reason))
    after
      timeout(waiting.context) ->
        Process.exit(pid, :kill)
        # The kill is asynchronous: the handler may still send its outcome
        # or :stream_open just before it dies. Its :DOWN comes after every
        # message it sent, so once :DOWN is here nothing of it can arrive
        # later and sit in this process's mailbox.
        receive do
          {:DOWN, ^monitor, :process, ^pid, _} -> :ok
        after
          1000 -> Process.demonitor(monitor, [:flush])
        end

        waiting =
          receive do
            {^tag, :stream_open, handle} -> %{waiting | stream: handle}
          after
            0 -> waiting
          end

        receive do
          {^tag, _late} -> :ok
        after
          0 -> :ok
        end

        elapsed = (System.monotonic_time(:millisecond) - waiting.started) / 1000

        died(
          waiting,
          ErrorReport.new(
            "Sandbox.Timedout",
            "Task timed out after #{format_seconds(elapsed)} seconds"
          )
        )
    end
  end

  # The handler process ended without an outcome: what it put with
  # LambdaRuntime.Metrics is written now, before the error is reported.
  defp died(waiting, report) do
    flush_metrics(waiting.pid, waiting.context)
    report_death(waiting, report)
  end

  defp report_death(%{stream: nil}, report), do: {:error, report}

  defp report_death(%{stream: handle}, report) do
    Logger.error("Streamed invocation failed mid-stream: #{report.type}: #{report.message}")
    LambdaRuntime.Streamer.fail(handle, report)
  end

  # `receive ... after` takes at most 2^32 - 1 ms (about 49 days); a later
  # deadline (no real Lambda sends one) is as good as none.
  @max_after 0xFFFFFFFF

  defp timeout(context) do
    case Context.remaining_time_ms(context) do
      nil -> :infinity
      ms when ms > @max_after -> :infinity
      ms -> ms
    end
  end

  defp format_seconds(s), do: :erlang.float_to_binary(s, decimals: 2)

  # Runs inside the handler process. `stream_to` is where a streamed
  # response goes: `{client, owner}`, or nil to collect it into the body.
  defp execute(handler, state, body, context, stream_to) do
    case JSON.decode(body) do
      {:ok, event} ->
        outcome =
          handler
          |> call(event, context, state)
          |> respond(context, stream_to)

        flush_metrics(self(), context)
        outcome

      {:error, error} ->
        {:error,
         ErrorReport.new(
           "Runtime.InvalidEvent",
           "the event is not valid JSON: " <> Exception.message(error)
         )}
    end
  end

  # The EMF lines of what the invocation put with LambdaRuntime.Metrics:
  # its table exists once anything was put in this VM, so a function that
  # never puts a metric never loads the metrics modules.
  defp flush_metrics(pid, context) do
    if :ets.whereis(LambdaRuntime.Metrics.Store) != :undefined,
      do: LambdaRuntime.Metrics.Store.flush(pid, context)
  end

  defp call(handler, event, context, state) do
    {:returned, HandlerRef.call(handler, event, context, state)}
  catch
    kind, reason -> {:caught, ErrorReport.from_caught(kind, reason, __STACKTRACE__)}
  end

  defp respond({:caught, report}, _context, _stream_to), do: {:error, report}

  defp respond({:returned, {:error, reason}}, _context, _stream_to),
    do: {:error, ErrorReport.from_error_return(reason)}

  defp respond({:returned, :ok}, _context, _stream_to), do: encode(nil)

  defp respond({:returned, {:ok, response}}, context, stream_to),
    do: response(response, context, stream_to)

  defp respond({:returned, response}, context, stream_to),
    do: response(response, context, stream_to)

  # Plain data (a map that is not a struct, a list, a binary, a number, an
  # atom) is never a stream: it is encoded without loading the streaming
  # modules, which a function that never streams does not need.
  defp response(response, _context, stream_to)
       when (is_map(response) and not is_struct(response)) or is_list(response) or
              is_binary(response) or is_number(response) or is_atom(response),
       do: response |> encode() |> buffered_limit(stream_to)

  defp response(response, context, stream_to) do
    case LambdaRuntime.StreamedResponse.from_response(response) do
      {:ok, stream} when stream_to != nil ->
        {client, owner} = stream_to
        LambdaRuntime.Streamer.run(client, context, stream, owner)

      {:ok, stream} ->
        collect(stream)

      :error ->
        response |> encode() |> buffered_limit(stream_to)
    end
  end

  # With a Runtime API, it enforces the limit (413); without one, this does.
  defp buffered_limit({:ok, body}, nil) when byte_size(body) > @max_response_bytes,
    do: {:error, LambdaRuntime.Limits.response_too_large(byte_size(body))}

  defp buffered_limit(outcome, _stream_to), do: outcome

  # Without a Runtime API to stream to, the chunks become the body, up to
  # the streaming limit.
  defp collect(stream) do
    limit = LambdaRuntime.Limits.max_streamed_bytes()

    stream.enumerable
    |> Enum.reduce_while({[], 0}, fn chunk, {acc, size} ->
      size = size + IO.iodata_length(chunk)
      if size > limit, do: {:halt, {:too_large, size}}, else: {:cont, {[acc | chunk], size}}
    end)
    |> case do
      {:too_large, size} -> {:error, LambdaRuntime.Limits.response_too_large(size, limit)}
      {body, _size} -> {:ok, IO.iodata_to_binary(body)}
    end
  catch
    kind, reason -> {:error, ErrorReport.from_caught(kind, reason, __STACKTRACE__)}
  end

  defp encode(response) do
    case JSON.encode(response) do
      {:ok, json} ->
        {:ok, json}

      {:error, error} ->
        {:error,
         ErrorReport.new(
           "Runtime.InvalidResponse",
           "the handler's response cannot be encoded as JSON: " <> Exception.message(error)
         )}
    end
  rescue
    # An Encoder implementation that raises.
    exception ->
      {:error,
       ErrorReport.new(
         "Runtime.InvalidResponse",
         "the handler's response cannot be encoded as JSON: " <> Exception.message(exception),
         ErrorReport.format_stacktrace(__STACKTRACE__)
       )}
  end
end
