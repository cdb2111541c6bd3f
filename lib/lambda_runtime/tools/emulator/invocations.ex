defmodule LambdaRuntime.Tools.Emulator.Invocations do
  @moduledoc false
  # The emulator's state machine, run inside its GenServer: queued events,
  # runtimes waiting on /next, invocations in flight with their deadline
  # timers, the init error, and the REPORTs.
  #
  # Outcomes go to the invoking process as messages
  # `{LambdaRuntime.Tools.Emulator, id, {:stream_head, content_type}}` and
  # `{LambdaRuntime.Tools.Emulator, id, {:stream, data}}` (a streamed response), and
  # `{LambdaRuntime.Tools.Emulator, id, {:done, :ok | :error, body, report, streamed?}}`.

  alias LambdaRuntime.Tools.Emulator.{Ids, Report}
  alias LambdaRuntime.JSON

  @tag LambdaRuntime.Tools.Emulator
  @max_response_bytes LambdaRuntime.Limits.max_response_bytes()
  @max_request_bytes LambdaRuntime.Limits.max_request_bytes()
  @kept_reports 1000
  @kept_ids 100_000

  defstruct [
    :config,
    :init_started,
    :init_duration_ms,
    :init_error,
    queue: :queue.new(),
    waiters: [],
    inflight: %{},
    expired: MapSet.new(),
    reports: []
  ]

  def new(config), do: %__MODULE__{config: config, init_started: now()}

  # A new event from a caller.
  def handle({:submit, body, _meta}, _from, s) when byte_size(body) > @max_request_bytes,
    do: {{:reply, {:error, :too_large}}, s}

  def handle({:submit, body, meta}, _from, s) do
    inv = %{
      id: Ids.request_id(),
      body: body,
      caller: meta.caller,
      client_context: meta[:client_context],
      trace_id: meta[:trace_id] || Ids.trace_id()
    }

    s =
      if s.init_error,
        do: finish_without_runtime(s, inv, s.init_error),
        else: dispatch(%{s | queue: :queue.in(inv, s.queue)})

    {{:reply, {:ok, inv.id}}, s}
  end

  # A runtime asks for the next event.
  def handle(:next, {pid, _} = from, s) do
    s = first_next(s)
    s = %{s | waiters: s.waiters ++ [{from, Process.monitor(pid)}]}
    {:noreply, dispatch(s)}
  end

  # The runtime's /next connection broke before the event reached it.
  def handle({:requeue, id}, _from, s) do
    case Map.pop(s.inflight, id) do
      {nil, _} ->
        {{:reply, :ok}, s}

      {inv, inflight} ->
        Process.cancel_timer(inv.timer)
        inv = Map.drop(inv, [:timer, :started, :deadline_ms])
        s = %{s | inflight: inflight, queue: :queue.in_r(inv, s.queue)}
        {{:reply, :ok}, dispatch(s)}
    end
  end

  # A streamed /response begins.
  def handle({:stream_start, id, content_type}, _from, s) do
    case lookup(s, id) do
      {:ok, inv} ->
        notify(inv, {:stream_head, content_type})
        {{:reply, :ok}, put_in(s.inflight[id], Map.put(inv, :streamed?, true))}

      other ->
        {{:reply, other}, s}
    end
  end

  # Past the streaming limit the invocation fails, as on Lambda; what the
  # runtime still sends is dropped, and its end of the stream gets 410.
  def handle({:stream_chunk, id, data}, _from, s) do
    case lookup(s, id) do
      {:ok, inv} ->
        sent = Map.get(inv, :streamed_bytes, 0) + byte_size(data)

        if sent > s.config.max_stream_bytes do
          report = LambdaRuntime.Limits.response_too_large(sent, s.config.max_stream_bytes)
          body = error_json(report.type, report.message)
          {:noreply, finish(s, Map.put(inv, :streamed?, false), :error, body, :error)}
        else
          notify(inv, {:stream, data})
          {:noreply, put_in(s.inflight[id], Map.put(inv, :streamed_bytes, sent))}
        end

      _ ->
        {:noreply, s}
    end
  end

  # /response or /error: status is :ok or :error.
  def handle({:complete, id, status, body}, _from, s) do
    case lookup(s, id) do
      {:ok, _inv} when status == :ok and byte_size(body) > @max_response_bytes ->
        {{:reply, :too_large}, s}

      # The deadline is Lambda's, not the runtime's: an answer that arrives
      # at or after it (a runtime that enforces the same deadline itself
      # races the timer) is late, and the invocation timed out.
      {:ok, inv} ->
        if System.os_time(:millisecond) >= inv.deadline_ms,
          do: {{:reply, :gone}, time_out(s, inv)},
          else: {{:reply, :accepted}, finish(s, inv, status, body, status)}

      other ->
        {{:reply, other}, s}
    end
  end

  def handle({:init_error, body}, _from, s) do
    s = %{s | init_error: body}
    {queued, s} = {:queue.to_list(s.queue), %{s | queue: :queue.new()}}
    {{:reply, :accepted}, Enum.reduce(queued, s, &finish_without_runtime(&2, &1, body))}
  end

  def handle({:runtime_exited, status}, _from, s) do
    body = fn id ->
      error_json(
        "Runtime.ExitError",
        "RequestId: #{id} Error: Runtime exited with error: exit status #{status}"
      )
    end

    s = Enum.reduce(Map.values(s.inflight), s, &finish(&2, &1, :error, body.(&1.id), :error))
    {queued, s} = {:queue.to_list(s.queue), %{s | queue: :queue.new()}}

    s =
      Enum.reduce(queued, s, fn inv, s ->
        finish_without_runtime(s, inv, s.init_error || body.(inv.id))
      end)

    {{:reply, :ok}, s}
  end

  def handle({:memory_probe, probe}, _from, s),
    do: {{:reply, :ok}, put_in(s.config.memory_probe, probe)}

  def handle(:expect_init, _from, s),
    do: {{:reply, :ok}, %{s | init_started: now(), init_duration_ms: nil}}

  def handle({:deadline, id}, _from, s) do
    case Map.fetch(s.inflight, id) do
      {:ok, inv} -> {:noreply, time_out(s, inv)}
      :error -> {:noreply, s}
    end
  end

  def handle({:DOWN, ref, :process, _pid, _reason}, _from, s),
    do: {:noreply, %{s | waiters: Enum.reject(s.waiters, fn {_, r} -> r == ref end)}}

  def handle(_other, _from, s), do: {:noreply, s}

  # The first /next after the init clock started ends the init phase; it
  # also means a runtime came up, so an old init error no longer holds.
  defp first_next(%{init_started: nil} = s), do: s

  defp first_next(s) do
    %{
      s
      | init_duration_ms: ms_since(s.init_started),
        init_started: nil,
        init_error: nil
    }
  end

  # Hands queued events to waiting runtimes.
  defp dispatch(s) do
    with [{from, ref} | waiters] <- s.waiters,
         {{:value, inv}, queue} <- :queue.out(s.queue) do
      Process.demonitor(ref, [:flush])
      deadline_ms = System.os_time(:millisecond) + s.config.timeout_ms
      timer = Process.send_after(self(), {:deadline, inv.id}, s.config.timeout_ms)
      inv = Map.merge(inv, %{started: now(), deadline_ms: deadline_ms, timer: timer})
      GenServer.reply(from, {:event, event_headers(s.config, inv), inv.body})
      dispatch(%{s | waiters: waiters, queue: queue, inflight: Map.put(s.inflight, inv.id, inv)})
    else
      _ -> s
    end
  end

  defp event_headers(config, inv) do
    arn = "arn:aws:lambda:#{config.region}:#{config.account_id}:function:#{config.function_name}"

    [
      {"content-type", "application/json"},
      {"lambda-runtime-aws-request-id", inv.id},
      {"lambda-runtime-deadline-ms", inv.deadline_ms},
      {"lambda-runtime-invoked-function-arn", arn},
      {"lambda-runtime-trace-id", inv.trace_id}
    ] ++
      if inv.client_context,
        do: [{"lambda-runtime-client-context", inv.client_context}],
        else: []
  end

  defp lookup(s, id) do
    cond do
      Map.has_key?(s.inflight, id) -> {:ok, s.inflight[id]}
      MapSet.member?(s.expired, id) -> :gone
      true -> :unknown
    end
  end

  defp time_out(s, inv) do
    seconds = :erlang.float_to_binary(s.config.timeout_ms / 1000, decimals: 2)

    body =
      error_json(
        "Sandbox.Timedout",
        "RequestId: #{inv.id} Error: Task timed out after #{seconds} seconds"
      )

    finish(s, inv, :error, body, :timeout)
  end

  defp finish(s, inv, status, body, report_status) do
    Process.cancel_timer(inv.timer)
    report = report(s, inv.id, ms_since(inv.started), report_status)
    notify(inv, {:done, status, body, report, Map.get(inv, :streamed?, false)})

    %{
      s
      | inflight: Map.delete(s.inflight, inv.id),
        expired: expire(s.expired, inv.id),
        init_duration_ms: nil,
        reports: Enum.take([report | s.reports], @kept_reports)
    }
  end

  # An event that never reached a runtime (the runtime failed its init).
  defp finish_without_runtime(s, inv, body) do
    notify(inv, {:done, :error, body, nil, false})
    %{s | expired: expire(s.expired, inv.id)}
  end

  # Finished ids, to answer a late /response with 410; a long session
  # forgets the old ones (they get 400).
  defp expire(expired, id) do
    if MapSet.size(expired) >= @kept_ids, do: MapSet.new([id]), else: MapSet.put(expired, id)
  end

  defp report(s, id, duration_ms, status) do
    config = s.config
    used_mb = ceil(config.memory_probe.() / 1_048_576)
    report = Report.new(id, duration_ms, s.init_duration_ms, config.memory_size, used_mb, status)
    log(config.log, Report.format(report))
    report
  end

  defp log(nil, _line), do: :ok
  defp log(:stdio, line), do: IO.puts(line)
  defp log(pid, line) when is_pid(pid), do: send(pid, {LambdaRuntime.Tools.Emulator, :log, line})
  defp log(fun, line) when is_function(fun, 1), do: fun.(line)

  defp notify(%{caller: nil}, _message), do: :ok
  defp notify(%{caller: pid, id: id}, message), do: send(pid, {@tag, id, message})

  defp error_json(type, message),
    do: JSON.encode!(%{"errorType" => type, "errorMessage" => message})

  defp now, do: System.monotonic_time(:microsecond)
  defp ms_since(start), do: (now() - start) / 1000
end
