defmodule LambdaRuntime.Tools.Durable.Local.Service do
  @moduledoc """
  An in-memory durable-execution service for tests and local runs: it keeps
  executions (`LambdaRuntime.Tools.Durable.Local.State`), serves the two calls a
  function makes while it runs (`LambdaRuntime.Durable.Service` behaviour:
  checkpoint and state pages, with token checks), and lets the caller drive
  time and callbacks between invocations. `LambdaRuntime.Durable.Test`
  drives it; the client a runner gets is `{LambdaRuntime.Tools.Durable.Local.Service, pid}`.

  Options: `:page_size` (operations per page of the invocation payload and
  of `GetDurableExecutionState`; default 1000), `:name`.
  """

  use GenServer

  @behaviour LambdaRuntime.Durable.Service

  alias LambdaRuntime.Tools.Durable.Local.State
  alias LambdaRuntime.JSON

  @doc "Starts the service."
  def start_link(opts \\ []) do
    {gen, opts} = Keyword.split(opts, [:name])
    GenServer.start_link(__MODULE__, opts, gen)
  end

  @doc "Starts an execution with `input` (any JSON term); returns its ARN."
  @spec start_execution(GenServer.server(), term(), String.t()) :: String.t()
  def start_execution(svc, input, name \\ "execution"),
    do: GenServer.call(svc, {:start, JSON.encode!(input), name})

  @doc "The payload of the execution's next invocation (with a new token)."
  @spec invocation_event(GenServer.server(), String.t()) :: map()
  def invocation_event(svc, arn), do: GenServer.call(svc, {:invocation, arn})

  @doc """
  Records what an invocation answered (the decoded durable response, or
  `{:error, reason}` for an invocation that failed outright).
  """
  @spec finish_invocation(GenServer.server(), String.t(), map() | {:error, term()}) :: :ok
  def finish_invocation(svc, arn, output), do: GenServer.call(svc, {:finish, arn, output})

  @doc "The execution: `%{status, result, error, operations, updates, callbacks, invokes}`."
  @spec execution(GenServer.server(), String.t()) :: map()
  def execution(svc, arn), do: GenServer.call(svc, {:execution, arn})

  @doc "Answers a callback (see `LambdaRuntime.Tools.Durable.Local.State.complete_callback/3`)."
  def complete_callback(svc, arn, callback_id, answer),
    do: GenServer.call(svc, {:callback, arn, callback_id, answer})

  @doc "Completes a chained invoke of the execution."
  def complete_invoke(svc, arn, id, answer), do: GenServer.call(svc, {:invoke, arn, id, answer})

  @doc "Moves the clock to the next timer; `:ok`, or `:none` when no timer is set."
  @spec skip_to_next_timer(GenServer.server(), String.t()) :: :ok | :none
  def skip_to_next_timer(svc, arn), do: GenServer.call(svc, {:skip, arn})

  @impl LambdaRuntime.Durable.Service
  def checkpoint(svc, arn, body),
    do: GenServer.call(svc, {:checkpoint, arn, IO.iodata_to_binary(body)})

  @impl LambdaRuntime.Durable.Service
  def get_state(svc, arn, token, marker), do: GenServer.call(svc, {:state, arn, token, marker})

  ## Server

  @impl GenServer
  def init(opts),
    do: {:ok, %{executions: %{}, offset: 0, page: Keyword.get(opts, :page_size, 1000)}}

  @impl GenServer
  def handle_call({:start, input, name}, _from, st) do
    s = State.new(name, input, now(st))
    {:reply, s.arn, put(st, s)}
  end

  def handle_call({:invocation, arn}, _from, st) do
    s = st |> get(arn) |> State.advance(now(st)) |> State.new_token()
    {page, marker} = page(State.operations(s), nil, st.page)

    event = %{
      "DurableExecutionArn" => arn,
      "CheckpointToken" => State.token(s),
      "InitialExecutionState" => %{"Operations" => page, "NextMarker" => marker || ""}
    }

    {:reply, event, put(st, s)}
  end

  def handle_call({:checkpoint, arn, body}, _from, st) do
    s = st |> get(arn) |> State.advance(now(st))

    with {:ok, %{"CheckpointToken" => token} = request} <- JSON.decode(body),
         :ok <- check_token(s, token),
         {:ok, s, changed} <- State.apply_updates(s, request["Updates"] || []) do
      token = if s.status in [:succeeded, :failed], do: nil, else: State.token(State.new_token(s))
      s = if token, do: %{State.new_token(s) | changed: MapSet.new()}, else: s

      answer =
        %{"NewExecutionState" => %{"Operations" => changed}}
        |> then(&if(token, do: Map.put(&1, "CheckpointToken", token), else: &1))

      {:reply, {:ok, answer}, put(st, s)}
    else
      {:error, message} when is_binary(message) -> {:reply, {:error, {:fatal, message}}, st}
      {:error, %{} = e} -> {:reply, {:error, {:fatal, Exception.message(e)}}, st}
      _ -> {:reply, {:error, {:fatal, "malformed checkpoint request"}}, st}
    end
  end

  def handle_call({:state, arn, token, marker}, _from, st) do
    s = get(st, arn)

    case check_token(s, token) do
      :ok ->
        {page, next} = page(State.operations(s), marker, st.page)
        {:reply, {:ok, %{"Operations" => page, "NextMarker" => next}}, st}

      {:error, message} ->
        {:reply, {:error, {:retryable, message}}, st}
    end
  end

  def handle_call({:finish, arn, output}, _from, st) do
    s = get(st, arn)

    s =
      case output do
        %{"Status" => "SUCCEEDED"} = o -> State.finish_execution(s, :succeeded, o["Result"], nil)
        %{"Status" => "FAILED"} = o -> State.finish_execution(s, :failed, nil, o["Error"])
        _ -> s
      end

    {:reply, :ok, put(st, s)}
  end

  def handle_call({:execution, arn}, _from, st) do
    s = st |> get(arn) |> State.advance(now(st))

    reply = %{
      status: s.status,
      result: s.result,
      error: s.error,
      operations: State.operations(s),
      updates: Enum.reverse(s.updates),
      callbacks:
        for({id, d} <- s.callbacks, s.ops[d.id]["Status"] == "STARTED", do: {id, s.ops[d.id]}),
      invokes: s.invokes,
      next_timer: State.next_timer(s)
    }

    {:reply, reply, put(st, s)}
  end

  def handle_call({:callback, arn, id, answer}, _from, st) do
    s = st |> get(arn) |> State.advance(now(st))

    case State.complete_callback(s, id, answer) do
      {:ok, s} -> {:reply, :ok, put(st, s)}
      {:error, _} = error -> {:reply, error, st}
    end
  end

  def handle_call({:invoke, arn, id, answer}, _from, st) do
    {:reply, :ok, put(st, State.complete_invoke(get(st, arn), id, answer))}
  end

  def handle_call({:skip, arn}, _from, st) do
    s = get(st, arn)

    case State.next_timer(s) do
      nil ->
        {:reply, :none, st}

      t ->
        st = %{st | offset: st.offset + max(0, t - now(st))}
        {:reply, :ok, put(st, State.advance(s, now(st)))}
    end
  end

  defp now(st), do: System.os_time(:millisecond) + st.offset

  defp get(st, arn), do: Map.fetch!(st.executions, arn)
  defp put(st, s), do: %{st | executions: Map.put(st.executions, s.arn, s)}

  defp check_token(s, token) do
    if token == State.token(s), do: :ok, else: {:error, "Invalid checkpoint token"}
  end

  # Pages of `size` operations; the marker is the index of the next one.
  defp page(ops, marker, size) do
    start = if marker in [nil, ""], do: 0, else: String.to_integer(marker)
    page = Enum.slice(ops, start, size)
    next = if start + size < length(ops), do: Integer.to_string(start + size)
    {page, next}
  end
end
