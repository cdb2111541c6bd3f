defmodule LambdaRuntime.Durable.Execution do
  @moduledoc """
  One invocation's view of a durable execution: the checkpointed operations
  and the checkpoint token, and the only process that talks to the
  checkpoint service.

    * Operations live in a protected ETS table that every process of the
      invocation reads directly (`lookup/2`); only this process writes it,
      from the initial state and from each checkpoint answer.
    * Updates are sent in order, one request at a time, each with the token
      the previous answer returned. While a request is out, new updates
      queue and go together in the next one (at most 250 updates or 750 KB).
      A synchronous update (`checkpoint/2`) is sent at once and returns once
      it is persisted; an asynchronous one (`checkpoint_async/2`: the START
      of a child context, of an at-least-once step, of a wait-for-condition)
      waits up to 100 ms for company, as AWS's SDKs do.
    * When a CONTEXT operation completes, its descendants are orphans: any
      later update for them is refused (`{:error, :orphaned}`).
    * An answer without a token either ends the execution (the batch held the
      EXECUTION update) or revokes this invocation's token: every later call
      returns `{:error, :revoked}` and the invocation must end PENDING.
  """

  use GenServer

  alias LambdaRuntime.Durable.{Operation, Service}
  alias LambdaRuntime.JSON

  @enforce_keys [:pid, :table, :arn]
  defstruct [:pid, :table, :arn]

  @type t :: %__MODULE__{pid: pid(), table: :ets.tid(), arn: String.t()}
  @type failure ::
          :orphaned | :revoked | :execution_completed | {:checkpoint_failed, term()}

  @max_updates 250
  @max_bytes 750 * 1024
  @async_window_ms 100

  ## API

  @doc """
  Starts the execution process, linked to the caller, with the operations
  of the invocation payload and of every further state page (read here
  with the invocation's token, before anything else happens).

  Options: `:arn`, `:token`, `:operations` (wire maps), `:next_marker`,
  `:client` (`{module, config}`, see `LambdaRuntime.Durable.Service`).
  """
  @spec start_link(keyword()) :: {:ok, t()} | {:error, term()}
  def start_link(opts) do
    case GenServer.start_link(__MODULE__, opts) do
      {:ok, pid} -> {:ok, GenServer.call(pid, :handle)}
      {:error, reason} -> {:error, reason}
    end
  end

  @doc "The checkpointed operation with this id, or `nil`."
  @spec lookup(t(), String.t()) :: Operation.t() | nil
  def lookup(%__MODULE__{table: table}, id) do
    case :ets.lookup(table, id) do
      [{^id, op, _initial?}] -> op
      [] -> nil
    end
  end

  @doc "Whether the operation was already checkpointed when this invocation began."
  @spec initial?(t(), String.t()) :: boolean()
  def initial?(%__MODULE__{table: table}, id) do
    case :ets.lookup(table, id) do
      [{^id, _op, initial?}] -> initial?
      [] -> false
    end
  end

  @doc "The user's input: the EXECUTION operation's `InputPayload`, or `nil`."
  @spec input_payload(t()) :: String.t() | nil
  def input_payload(%__MODULE__{arn: arn} = execution) do
    id = arn |> String.split("/") |> List.last()

    case lookup(execution, id) do
      %Operation{type: :execution, input: input} -> input
      _ -> nil
    end
  end

  @doc "Checkpoints `update` and returns once the service has persisted it."
  @spec checkpoint(t(), map()) :: :ok | {:error, failure()}
  def checkpoint(%__MODULE__{pid: pid}, update),
    do: GenServer.call(pid, {:enqueue, update, true}, :infinity)

  @doc "Queues `update`; it is sent with the next batch (within 100 ms)."
  @spec checkpoint_async(t(), map()) :: :ok | {:error, failure()}
  def checkpoint_async(%__MODULE__{pid: pid}, update),
    do: GenServer.call(pid, {:enqueue, update, false}, :infinity)

  @doc """
  An empty checkpoint: returns once the service has answered with the
  operations changed since the last one (a wait that completed, a callback
  that arrived).
  """
  @spec refresh(t()) :: :ok | {:error, failure()}
  def refresh(%__MODULE__{pid: pid}), do: GenServer.call(pid, {:enqueue, nil, true}, :infinity)

  @doc "Sends whatever is queued and returns once nothing is left or in flight."
  @spec flush(t()) :: :ok | {:error, failure()}
  def flush(%__MODULE__{pid: pid}), do: GenServer.call(pid, :flush, :infinity)

  @doc "Reads every page of the state after `marker` (`{:ok, wire_operations}`)."
  @spec fetch_pages(Service.client(), String.t(), String.t(), String.t() | nil, [map()]) ::
          {:ok, [map()]} | {:error, term()}
  def fetch_pages(_client, _arn, _token, marker, acc) when marker in [nil, ""], do: {:ok, acc}

  def fetch_pages({module, config} = client, arn, token, marker, acc) do
    case module.get_state(config, arn, token, marker) do
      {:ok, page} ->
        fetch_pages(client, arn, token, page["NextMarker"], acc ++ (page["Operations"] || []))

      {:error, _} = error ->
        error
    end
  end

  ## Server

  @impl true
  def init(opts) do
    arn = Keyword.fetch!(opts, :arn)
    token = Keyword.fetch!(opts, :token)
    client = Keyword.fetch!(opts, :client)
    ops = Keyword.get(opts, :operations, [])

    case fetch_pages(client, arn, token, Keyword.get(opts, :next_marker), ops) do
      {:ok, all} ->
        table = :ets.new(__MODULE__, [:set, :protected, read_concurrency: true])
        for op <- all, do: :ets.insert(table, {op["Id"], Operation.from_wire(op), true})

        {:ok,
         %{
           handle: %__MODULE__{pid: self(), table: table, arn: arn},
           client: client,
           token: token,
           queue: :queue.new(),
           in_flight: nil,
           timer: nil,
           status: :open,
           children: %{},
           orphans: MapSet.new(),
           flush_waiters: []
         }}

      {:error, reason} ->
        {:stop, {:state_fetch_failed, reason}}
    end
  end

  @impl true
  def handle_call(:handle, _from, state), do: {:reply, state.handle, state}

  def handle_call({:enqueue, update, sync?}, from, state) do
    with :ok <- open?(state),
         {:ok, state} <- track(update, state) do
      entry = {encode(update), update, if(sync?, do: from)}
      state = %{state | queue: :queue.in(entry, state.queue)}

      if sync? do
        {:noreply, send_now(state)}
      else
        {:reply, :ok, arm_timer(state)}
      end
    else
      {:error, _} = error -> {:reply, error, state}
    end
  end

  def handle_call(:flush, from, state) do
    cond do
      state.in_flight == nil and :queue.is_empty(state.queue) ->
        {:reply, flush_result(state), state}

      true ->
        {:noreply, send_now(%{state | flush_waiters: [from | state.flush_waiters]})}
    end
  end

  @impl true
  def handle_info(:window, state), do: {:noreply, send_now(%{state | timer: nil})}

  def handle_info({ref, result}, %{in_flight: %{ref: ref, batch: batch}} = state) do
    Process.demonitor(ref, [:flush])
    state = %{state | in_flight: nil}
    {:noreply, state |> settle(batch, result) |> send_now() |> notify_flushers()}
  end

  def handle_info(
        {:DOWN, ref, :process, _, reason},
        %{in_flight: %{ref: ref, batch: batch}} = state
      ) do
    state = %{state | in_flight: nil}

    {:noreply,
     state |> settle(batch, {:error, {:retryable, inspect(reason)}}) |> notify_flushers()}
  end

  def handle_info(_other, state), do: {:noreply, state}

  ## Internals

  defp open?(%{status: :open}), do: :ok
  defp open?(%{status: :completed}), do: {:error, :execution_completed}
  defp open?(%{status: :revoked}), do: {:error, :revoked}
  defp open?(%{status: {:failed, reason}}), do: {:error, {:checkpoint_failed, reason}}

  defp track(nil, state), do: {:ok, state}

  defp track(%{"Id" => id} = update, state) do
    if MapSet.member?(state.orphans, id) do
      {:error, :orphaned}
    else
      children =
        case update["ParentId"] do
          nil -> state.children
          parent -> Map.update(state.children, parent, MapSet.new([id]), &MapSet.put(&1, id))
        end

      state = %{state | children: children}

      if update["Type"] == "CONTEXT" and update["Action"] in ["SUCCEED", "FAIL"],
        do: {:ok, %{state | orphans: MapSet.union(state.orphans, descendants(state, id))}},
        else: {:ok, state}
    end
  end

  defp descendants(state, id) do
    direct = Map.get(state.children, id, MapSet.new())
    Enum.reduce(direct, direct, fn child, acc -> MapSet.union(acc, descendants(state, child)) end)
  end

  defp encode(nil), do: nil
  defp encode(update), do: JSON.encode!(update)

  defp arm_timer(%{timer: nil, in_flight: nil} = state),
    do: %{state | timer: Process.send_after(self(), :window, @async_window_ms)}

  defp arm_timer(state), do: state

  defp send_now(%{in_flight: nil, status: :open} = state) do
    if :queue.is_empty(state.queue) do
      state
    else
      if state.timer, do: Process.cancel_timer(state.timer)
      {batch, rest} = take(state.queue, [], 0, 0)
      updates = for {json, _update, _from} <- batch, json != nil, do: json

      body = [
        "{\"CheckpointToken\":",
        JSON.encode!(state.token),
        ",\"Updates\":[",
        Enum.intersperse(updates, ","),
        "]}"
      ]

      {module, config} = state.client
      arn = state.handle.arn
      task = Task.async(fn -> exchange(module, config, arn, body) end)
      %{state | queue: rest, timer: nil, in_flight: %{ref: task.ref, batch: batch}}
    end
  end

  defp send_now(state), do: state

  # Takes entries while they fit one request; the first always goes.
  defp take(queue, acc, count, bytes) do
    case :queue.peek(queue) do
      :empty ->
        {Enum.reverse(acc), queue}

      {:value, {json, _, _} = entry} ->
        size = if json, do: byte_size(json), else: 0
        counted = if json, do: 1, else: 0

        if acc != [] and (count + counted > @max_updates or bytes + size > @max_bytes) do
          {Enum.reverse(acc), queue}
        else
          take(:queue.drop(queue), [entry | acc], count + counted, bytes + size)
        end
    end
  end

  # Runs in a task: the checkpoint, then any further pages of its answer.
  defp exchange(module, config, arn, body) do
    with {:ok, answer} <- module.checkpoint(config, arn, body) do
      new_state = answer["NewExecutionState"] || %{}
      token = answer["CheckpointToken"]
      ops = new_state["Operations"] || []

      case new_state["NextMarker"] do
        marker when marker in [nil, ""] or token == nil ->
          {:ok, token, ops}

        marker ->
          with {:ok, all} <- fetch_pages({module, config}, arn, token, marker, ops),
               do: {:ok, token, all}
      end
    end
  end

  defp settle(state, batch, {:ok, token, ops}) do
    for op <- ops do
      id = op["Id"]
      initial? = match?([{_, _, true}], :ets.lookup(state.handle.table, id))
      :ets.insert(state.handle.table, {id, Operation.from_wire(op), initial?})
    end

    cond do
      token != nil ->
        reply_all(batch, :ok)
        %{state | token: token}

      Enum.any?(batch, fn {_, update, _} -> update && update["Type"] == "EXECUTION" end) ->
        reply_all(batch, :ok)
        fail_queue(%{state | status: :completed}, {:error, :execution_completed})

      true ->
        reply_all(batch, {:error, :revoked})
        fail_queue(%{state | status: :revoked}, {:error, :revoked})
    end
  end

  defp settle(state, batch, {:error, reason}) do
    reply_all(batch, {:error, {:checkpoint_failed, reason}})
    status = {:failed, reason}
    fail_queue(%{state | status: status}, {:error, {:checkpoint_failed, reason}})
  end

  defp fail_queue(state, reply) do
    reply_all(:queue.to_list(state.queue), reply)
    %{state | queue: :queue.new()}
  end

  defp reply_all(entries, reply) do
    for {_, _, from} <- entries, from != nil, do: GenServer.reply(from, reply)
    :ok
  end

  defp notify_flushers(%{flush_waiters: []} = state), do: state

  defp notify_flushers(state) do
    if state.in_flight == nil and :queue.is_empty(state.queue) do
      reply = flush_result(state)
      Enum.each(state.flush_waiters, &GenServer.reply(&1, reply))
      %{state | flush_waiters: []}
    else
      state
    end
  end

  defp flush_result(state) do
    case open?(state) do
      {:error, :execution_completed} -> :ok
      other -> other
    end
  end
end
