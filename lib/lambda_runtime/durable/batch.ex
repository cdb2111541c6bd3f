defmodule LambdaRuntime.Durable.Batch do
  @moduledoc """
  Map and parallel (`LambdaRuntime.Durable.map/4`, `parallel/3`): branches
  run concurrently, each in its own worker process and child context, under
  one CONTEXT operation (subtype `Map` or `Parallel`) whose result is the
  `LambdaRuntime.Durable.BatchResult`.

  The calling process coordinates, as AWS's SDKs do:

    * branches start in index order, at most `:max_concurrency` at a time
      (default: all); a branch's id derives from its index, so ids do not
      depend on timing;
    * a suspended branch keeps its slot. One that can resume at a known
      time (a wait, a retry) is started again in this invocation when that
      time comes, after a refresh of the execution's state; one waiting for
      the outside (a callback, an invoke) stays suspended;
    * when nothing runs and nothing can start, the batch suspends, with the
      earliest resume time of its branches;
    * the completion rules (`LambdaRuntime.Durable.Completion`) decide when
      it is done; branches still running then are stopped and reported
      `:started`.

  Branches are `:nested` (default: each is a CONTEXT of subtype
  `MapIteration`/`ParallelBranch`) or `:flat` (`nesting: :flat`: virtual
  contexts, their operations directly under the batch).
  """

  alias LambdaRuntime.Durable.{
    BatchResult,
    Child,
    Completion,
    Context,
    Execution,
    Identity,
    OperationId,
    Serdes,
    Worker
  }

  @options [
    :name,
    :max_concurrency,
    :min_successful,
    :tolerated_failure_count,
    :tolerated_failure_percentage,
    :nesting,
    :serdes,
    :item_serdes,
    :summary,
    :item_namer
  ]

  # A branch that asks to resume at a time already past is started again
  # no sooner than this, so a service that has not yet recorded the end of
  # a wait is not polled in a tight loop.
  @min_resume_ms 200

  @doc false
  # `kind` is :map or :parallel; `branches` is [{name, fun(ctx)}].
  def run(%Context{} = ctx, kind, branches, opts) do
    opts = Context.options!(opts, @options, Atom.to_string(kind))
    total = length(branches)
    policy = Completion.new(total, opts)
    max = opts[:max_concurrency]

    if max != nil and (not is_integer(max) or max < 1),
      do:
        raise(
          ArgumentError,
          "max_concurrency must be a positive integer or nil, got: #{inspect(max)}"
        )

    nesting = Keyword.get(opts, :nesting, :nested)

    if nesting not in [:nested, :flat],
      do: raise(ArgumentError, "nesting must be :nested or :flat, got: #{inspect(nesting)}")

    {sub_type, item_sub_type, result_type} =
      if kind == :map,
        do: {"Map", "MapIteration", "MapResult"},
        else: {"Parallel", "ParallelBranch", "ParallelResult"}

    identity = Context.next(ctx, :context, sub_type, Context.name!(opts[:name]))

    spec = %{
      branches: List.to_tuple(branches),
      total: total,
      policy: policy,
      max: max || max(total, 1),
      item_sub_type: item_sub_type,
      virtual?: nesting == :flat,
      item_serdes: Keyword.get(opts, :item_serdes, Serdes.JSON)
    }

    summary = fn batch ->
      summary = BatchResult.summary(batch, result_type)
      if opts[:summary], do: merge_summary(summary, opts[:summary].(batch)), else: summary
    end

    Child.execute(
      ctx,
      identity,
      fn batch_ctx ->
        case Execution.lookup(ctx.execution, identity.id) do
          %{status: :succeeded, replay_children: true, result: payload} ->
            rebuild(batch_ctx, spec, payload)

          _ ->
            coordinate(batch_ctx, spec)
        end
      end,
      serdes: Keyword.get(opts, :serdes, BatchResult),
      summary: summary
    )
  end

  ## Live coordination

  defp coordinate(_ctx, %{total: 0}), do: {:ok, %BatchResult{}}

  defp coordinate(ctx, spec) do
    tag = make_ref()

    st = %{
      tag: tag,
      pending: Enum.to_list(0..(spec.total - 1)),
      running: %{},
      suspended: %{},
      done: %{},
      succeeded: 0,
      failed: 0
    }

    loop(ctx, spec, st)
  end

  defp loop(ctx, spec, st) do
    if Completion.complete?(spec.policy, st.succeeded, st.failed) do
      finish(spec, st)
    else
      st = start_pending(ctx, spec, st)
      st = resume_due(ctx, spec, st)

      if map_size(st.running) == 0 do
        # Nothing runs and nothing can start: suspend the batch, to resume
        # at the earliest time one of its branches asked for.
        Worker.suspend(earliest(st))
      else
        receive_event(ctx, spec, st)
      end
    end
  end

  defp start_pending(ctx, spec, %{pending: [index | rest]} = st)
       when map_size(st.running) + map_size(st.suspended) < spec.max do
    pid = start_branch(ctx, spec, index, st.tag)
    start_pending(ctx, spec, %{st | pending: rest, running: Map.put(st.running, pid, index)})
  end

  defp start_pending(_ctx, _spec, st), do: st

  defp resume_due(ctx, spec, st) do
    now = System.os_time(:millisecond)
    due = for {index, {_pid, at}} <- st.suspended, at != nil and at <= now, do: index

    if due == [] do
      st
    else
      case Execution.refresh(ctx.execution) do
        :ok -> :ok
        {:error, reason} -> Worker.abort(reason)
      end

      Enum.reduce(Enum.sort(due), st, fn index, acc ->
        {{pid, _at}, suspended} = Map.pop(acc.suspended, index)
        Worker.stop(pid)
        new = start_branch(ctx, spec, index, acc.tag)
        %{acc | suspended: suspended, running: Map.put(acc.running, new, index)}
      end)
    end
  end

  defp receive_event(ctx, spec, %{tag: tag} = st) do
    timeout =
      case earliest(st) do
        nil -> :infinity
        at -> max(at - System.os_time(:millisecond), 0)
      end

    receive do
      {^tag, pid, outcome} when is_map_key(st.running, pid) ->
        {index, running} = Map.pop(st.running, pid)
        loop(ctx, spec, apply_outcome(%{st | running: running}, index, pid, outcome))
    after
      timeout -> loop(ctx, spec, st)
    end
  end

  defp apply_outcome(st, index, _pid, {:returned, {:ok, value}}),
    do: %{st | done: Map.put(st.done, index, {:succeeded, value}), succeeded: st.succeeded + 1}

  defp apply_outcome(st, index, _pid, {:returned, {:error, error}}),
    do: %{
      st
      | done: Map.put(st.done, index, {:failed, %{error | kind: :batch}}),
        failed: st.failed + 1
    }

  defp apply_outcome(st, index, pid, {:suspended, at}) do
    at = if at, do: max(at, System.os_time(:millisecond) + @min_resume_ms)
    %{st | suspended: Map.put(st.suspended, index, {pid, at})}
  end

  # A branch that raised out of the SDK itself: not a branch failure.
  defp apply_outcome(_st, _index, _pid, {:raised, kind, reason, stack}),
    do: :erlang.raise(kind, reason, stack)

  defp earliest(st) do
    st.suspended
    |> Map.values()
    |> Enum.map(&elem(&1, 1))
    |> Enum.reject(&is_nil/1)
    |> Enum.min(fn -> nil end)
  end

  defp finish(spec, st) do
    Enum.each(Map.keys(st.running), &Worker.stop/1)
    Enum.each(Map.values(st.suspended), fn {pid, _} -> Worker.stop(pid) end)
    started = MapSet.new(Map.values(st.running) ++ Map.keys(st.suspended))

    items =
      for index <- 0..(spec.total - 1),
          Map.has_key?(st.done, index) or MapSet.member?(started, index) do
        case Map.get(st.done, index) do
          {:succeeded, value} -> %{index: index, status: :succeeded, result: value, error: nil}
          {:failed, error} -> %{index: index, status: :failed, result: nil, error: error}
          nil -> %{index: index, status: :started, result: nil, error: nil}
        end
      end

    reason = Completion.reason(spec.policy, st.succeeded, st.failed)
    {:ok, %BatchResult{items: items, completion_reason: reason}}
  end

  ## Branches

  defp start_branch(ctx, spec, index, tag) do
    {name, fun} = elem(spec.branches, index)

    identity = %Identity{
      id: OperationId.derive(ctx.prefix, index),
      parent_id: ctx.parent_id,
      name: name,
      type: :context,
      sub_type: spec.item_sub_type
    }

    Worker.start(tag, fn ->
      Child.execute(Context.adopt(ctx), identity, fun,
        serdes: spec.item_serdes,
        virtual: spec.virtual?,
        error_kind: :batch
      )
    end)
  end

  ## Replay of a batch too large to checkpoint

  # Rebuilds the result from the recorded completion and the branches' own
  # checkpoints: branches recorded as running stay :started; the others are
  # replayed (their operations return their checkpoints).
  defp rebuild(ctx, spec, payload) do
    {reason, started_total, running} =
      case BatchResult.parse_summary(payload) do
        :error -> {nil, spec.total, MapSet.new()}
        parsed -> parsed
      end

    tag = make_ref()

    items =
      for index <- 0..(started_total - 1)//1 do
        if MapSet.member?(running, index) do
          %{index: index, status: :started, result: nil, error: nil}
        else
          pid = start_branch(ctx, spec, index, tag)

          receive do
            {^tag, ^pid, {:returned, {:ok, value}}} ->
              %{index: index, status: :succeeded, result: value, error: nil}

            {^tag, ^pid, {:returned, {:error, error}}} ->
              %{index: index, status: :failed, result: nil, error: %{error | kind: :batch}}

            {^tag, ^pid, {:suspended, _}} ->
              Worker.stop(pid)
              %{index: index, status: :started, result: nil, error: nil}

            {^tag, ^pid, {:raised, kind, reason, stack}} ->
              :erlang.raise(kind, reason, stack)
          end
        end
      end

    succeeded = Enum.count(items, &(&1.status == :succeeded))
    failed = Enum.count(items, &(&1.status == :failed))
    reason = reason || Completion.reason(spec.policy, succeeded, failed)
    {:ok, %BatchResult{items: items, completion_reason: reason}}
  end

  defp merge_summary(envelope, custom) do
    envelope
    |> LambdaRuntime.JSON.decode!()
    |> Map.put("summary", if(is_binary(custom), do: custom, else: inspect(custom)))
    |> LambdaRuntime.JSON.encode!()
  end
end
