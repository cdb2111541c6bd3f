defmodule LambdaRuntime.Tools.Durable.Local.State do
  @moduledoc """
  The pure part of the in-memory checkpoint service
  (`LambdaRuntime.Tools.Durable.Local.Service`): one execution's operations (wire
  maps, as the real service answers them) and how checkpoint updates and
  the passing of time change them, following the durable-execution API:

    * STEP: START -> `STARTED`; RETRY -> `PENDING` with the attempt count
      incremented and `NextAttemptTimestamp`; SUCCEED/FAIL -> terminal with
      the attempt incremented; a `PENDING` step becomes `READY` when its
      time comes.
    * WAIT: START -> `STARTED` with `ScheduledEndTimestamp`; `SUCCEEDED` at
      that time.
    * CALLBACK: START -> `STARTED` with a new `CallbackId`; completed by the
      test (`complete_callback/4`), or `TIMED_OUT` after its timeout or
      heartbeat timeout.
    * CONTEXT: START/SUCCEED/FAIL, with `ReplayChildren`.
    * CHAINED_INVOKE: START -> `STARTED`; the service runs the target
      between invocations.
    * EXECUTION: SUCCEED/FAIL end the execution (its answer has no token).

  Time is a clock in milliseconds that the service advances (`advance/2`)
  to skip waits, as `dex-local-runner --skip-time` does.
  """

  defstruct [
    :arn,
    :id,
    :input,
    :now,
    ops: %{},
    order: [],
    token_seq: 0,
    status: :running,
    result: nil,
    error: nil,
    callbacks: %{},
    invokes: [],
    updates: [],
    changed: MapSet.new()
  ]

  @type t :: %__MODULE__{}

  @doc "A new execution with `input` (JSON text) at time `now_ms`."
  @spec new(String.t(), String.t() | nil, integer()) :: t()
  def new(name, input, now_ms) do
    id = Base.encode16(:crypto.strong_rand_bytes(8), case: :lower)

    arn =
      "arn:aws:lambda:us-east-1:123456789012:function:local:$LATEST/durable-execution/#{name}/#{id}"

    execution = %{
      "Id" => id,
      "Type" => "EXECUTION",
      "Status" => "STARTED",
      "Name" => name,
      "StartTimestamp" => now_ms,
      "ExecutionDetails" => %{"InputPayload" => input}
    }

    %__MODULE__{arn: arn, id: id, input: input, now: now_ms}
    |> put_op(execution)
  end

  @doc "The current checkpoint token."
  @spec token(t()) :: String.t()
  def token(%__MODULE__{} = s), do: Base.encode64("#{s.id}:#{s.token_seq}")

  @doc "A fresh token for a new invocation."
  @spec new_token(t()) :: t()
  def new_token(%__MODULE__{} = s), do: %{s | token_seq: s.token_seq + 1, changed: MapSet.new()}

  @doc "Every operation, in the order they were first checkpointed."
  @spec operations(t()) :: [map()]
  def operations(%__MODULE__{} = s), do: Enum.map(s.order, &Map.fetch!(s.ops, &1))

  @doc "Applies one checkpoint's updates: `{:ok, state, changed_ops}` or `{:error, message}`."
  @spec apply_updates(t(), [map()]) :: {:ok, t(), [map()]} | {:error, String.t()}
  def apply_updates(%__MODULE__{} = s, updates) do
    Enum.reduce_while(updates, {:ok, s}, fn update, {:ok, acc} ->
      case apply_update(acc, update) do
        {:ok, acc} -> {:cont, {:ok, %{acc | updates: [update | acc.updates]}}}
        {:error, _} = error -> {:halt, error}
      end
    end)
    |> case do
      {:ok, s} ->
        changed = for id <- s.order, MapSet.member?(s.changed, id), do: s.ops[id]
        {:ok, %{s | changed: MapSet.new()}, changed}

      error ->
        error
    end
  end

  defp apply_update(s, %{"Type" => "EXECUTION", "Action" => action} = u) do
    case action do
      "SUCCEED" -> {:ok, finish_execution(s, :succeeded, u["Payload"], nil)}
      "FAIL" -> {:ok, finish_execution(s, :failed, nil, u["Error"])}
      _ -> {:error, "invalid action #{action} for EXECUTION"}
    end
  end

  defp apply_update(s, %{"Id" => id, "Type" => type, "Action" => action} = u) do
    current = s.ops[id]

    cond do
      current && current["Type"] != type ->
        {:error, "operation #{id} is a #{current["Type"]}, not a #{type}"}

      current && terminal?(current) ->
        {:error, "operation #{id} is already complete (#{current["Status"]})"}

      true ->
        transition(s, type, action, u, current || base(s, u))
    end
  end

  defp base(s, u) do
    %{"Id" => u["Id"], "Type" => u["Type"], "StartTimestamp" => s.now}
    |> maybe("ParentId", u["ParentId"])
    |> maybe("Name", u["Name"])
    |> maybe("SubType", u["SubType"])
  end

  defp transition(s, "STEP", action, u, op) do
    details = op["StepDetails"] || %{"Attempt" => 0}
    attempt = details["Attempt"] || 0

    case action do
      "START" ->
        {:ok, put_op(s, Map.merge(op, %{"Status" => "STARTED", "StepDetails" => details}))}

      "RETRY" ->
        delay = get_in(u, ["StepOptions", "NextAttemptDelaySeconds"]) || 0

        details =
          %{"Attempt" => attempt + 1, "NextAttemptTimestamp" => s.now + delay * 1000}
          |> maybe("Result", u["Payload"])
          |> maybe("Error", u["Error"])

        {:ok, put_op(s, Map.merge(op, %{"Status" => "PENDING", "StepDetails" => details}))}

      terminal when terminal in ["SUCCEED", "FAIL"] ->
        details =
          %{"Attempt" => attempt + 1}
          |> maybe("Result", u["Payload"])
          |> maybe("Error", u["Error"])

        {:ok, put_op(s, finish(s, op, terminal, "StepDetails", details))}

      _ ->
        {:error, "invalid action #{action} for STEP"}
    end
  end

  defp transition(s, "WAIT", "START", u, op) do
    seconds = get_in(u, ["WaitOptions", "WaitSeconds"]) || 1
    details = %{"ScheduledEndTimestamp" => s.now + seconds * 1000}
    {:ok, put_op(s, Map.merge(op, %{"Status" => "STARTED", "WaitDetails" => details}))}
  end

  defp transition(s, "CALLBACK", "START", u, op) do
    callback_id = Base.url_encode64(:crypto.strong_rand_bytes(12), padding: false)
    options = u["CallbackOptions"] || %{}

    deadlines = %{
      timeout: deadline(s, options["TimeoutSeconds"]),
      heartbeat: deadline(s, options["HeartbeatTimeoutSeconds"]),
      heartbeat_seconds: options["HeartbeatTimeoutSeconds"],
      id: op["Id"]
    }

    op =
      Map.merge(op, %{"Status" => "STARTED", "CallbackDetails" => %{"CallbackId" => callback_id}})

    {:ok, %{put_op(s, op) | callbacks: Map.put(s.callbacks, callback_id, deadlines)}}
  end

  defp transition(s, "CONTEXT", action, u, op) do
    case action do
      "START" ->
        {:ok, put_op(s, Map.put(op, "Status", "STARTED"))}

      terminal when terminal in ["SUCCEED", "FAIL"] ->
        replay = get_in(u, ["ContextOptions", "ReplayChildren"]) == true

        details =
          %{}
          |> maybe("Result", u["Payload"])
          |> maybe("Error", u["Error"])
          |> maybe("ReplayChildren", replay || nil)

        {:ok, put_op(s, finish(s, op, terminal, "ContextDetails", details))}

      _ ->
        {:error, "invalid action #{action} for CONTEXT"}
    end
  end

  defp transition(s, "CHAINED_INVOKE", "START", u, op) do
    options = u["ChainedInvokeOptions"] || %{}
    op = Map.merge(op, %{"Status" => "STARTED", "ChainedInvokeDetails" => %{}})

    invoke = %{
      id: op["Id"],
      function: options["FunctionName"],
      payload: u["Payload"],
      tenant: options["TenantId"]
    }

    {:ok, %{put_op(s, op) | invokes: s.invokes ++ [invoke]}}
  end

  defp transition(_s, type, action, _u, _op), do: {:error, "invalid action #{action} for #{type}"}

  defp finish(s, op, action, key, details) do
    status = if action == "SUCCEED", do: "SUCCEEDED", else: "FAILED"
    Map.merge(op, %{"Status" => status, "EndTimestamp" => s.now, key => details})
  end

  @doc """
  Ends the execution (`:succeeded` with `result`, or `:failed` with
  `error`), unless it has ended already; its EXECUTION operation too.
  """
  @spec finish_execution(t(), :succeeded | :failed, String.t() | nil, map() | nil) :: t()
  def finish_execution(%__MODULE__{status: :running} = s, status, result, error) do
    op = s.ops[s.id]
    wire = if status == :succeeded, do: "SUCCEEDED", else: "FAILED"
    s = put_op(s, Map.merge(op, %{"Status" => wire, "EndTimestamp" => s.now}))
    %{s | status: status, result: result, error: error}
  end

  def finish_execution(%__MODULE__{} = s, _status, _result, _error), do: s

  @doc """
  Moves the clock to `now_ms`: waits and retries whose time has come
  complete, callbacks past their timeout or heartbeat time out.
  """
  @spec advance(t(), integer()) :: t()
  def advance(%__MODULE__{} = s, now_ms) do
    s = %{s | now: max(s.now, now_ms)}

    Enum.reduce(s.order, s, fn id, acc ->
      op = acc.ops[id]

      case op do
        %{
          "Type" => "WAIT",
          "Status" => "STARTED",
          "WaitDetails" => %{"ScheduledEndTimestamp" => t}
        }
        when t <= acc.now ->
          put_op(acc, Map.merge(op, %{"Status" => "SUCCEEDED", "EndTimestamp" => acc.now}))

        %{
          "Type" => "STEP",
          "Status" => "PENDING",
          "StepDetails" => %{"NextAttemptTimestamp" => t}
        }
        when t <= acc.now ->
          put_op(acc, Map.put(op, "Status", "READY"))

        %{"Type" => "CALLBACK", "Status" => "STARTED"} ->
          callback_timeout(acc, op)

        _ ->
          acc
      end
    end)
  end

  defp callback_timeout(s, op) do
    deadlines = s.callbacks[op["CallbackDetails"]["CallbackId"]]
    expired = Enum.filter([deadlines.timeout, deadlines.heartbeat], &(&1 && &1 <= s.now))

    if expired == [] do
      s
    else
      error = %{"ErrorType" => "Callback.Timeout", "ErrorMessage" => "Callback timed out"}
      details = Map.put(op["CallbackDetails"], "Error", error)

      put_op(
        s,
        Map.merge(op, %{
          "Status" => "TIMED_OUT",
          "EndTimestamp" => s.now,
          "CallbackDetails" => details
        })
      )
    end
  end

  @doc "The earliest time a timer fires (a wait, a retry, a callback timeout), or `nil`."
  @spec next_timer(t()) :: integer() | nil
  def next_timer(%__MODULE__{} = s) do
    s
    |> operations()
    |> Enum.flat_map(fn
      %{"Type" => "WAIT", "Status" => "STARTED", "WaitDetails" => %{"ScheduledEndTimestamp" => t}} ->
        [t]

      %{"Type" => "STEP", "Status" => "PENDING", "StepDetails" => %{"NextAttemptTimestamp" => t}} ->
        [t]

      %{"Type" => "CALLBACK", "Status" => "STARTED", "CallbackDetails" => %{"CallbackId" => cb}} ->
        d = s.callbacks[cb]
        Enum.reject([d.timeout, d.heartbeat], &is_nil/1)

      _ ->
        []
    end)
    |> Enum.min(fn -> nil end)
  end

  @doc """
  Completes callback `callback_id`: `{:ok, payload}`, `{:error, error_object}`
  or `:heartbeat` (pushes its heartbeat timeout back).
  """
  @spec complete_callback(t(), String.t(), {:ok, String.t() | nil} | {:error, map()} | :heartbeat) ::
          {:ok, t()} | {:error, String.t()}
  def complete_callback(%__MODULE__{} = s, callback_id, answer) do
    with %{id: id} = deadlines <- s.callbacks[callback_id],
         %{"Status" => "STARTED"} = op <- s.ops[id] do
      case answer do
        :heartbeat ->
          deadlines = %{deadlines | heartbeat: deadline(s, deadlines.heartbeat_seconds)}
          {:ok, %{s | callbacks: Map.put(s.callbacks, callback_id, deadlines)}}

        {status, value} ->
          {key, wire} = if status == :ok, do: {"Result", "SUCCEEDED"}, else: {"Error", "FAILED"}
          details = maybe(op["CallbackDetails"], key, value)

          {:ok,
           put_op(
             s,
             Map.merge(op, %{
               "Status" => wire,
               "EndTimestamp" => s.now,
               "CallbackDetails" => details
             })
           )}
      end
    else
      _ -> {:error, "no open callback with id #{callback_id}"}
    end
  end

  @doc "Completes a chained invoke with `{:ok, result_json}` or `{:error, error_object}`."
  @spec complete_invoke(t(), String.t(), {:ok, String.t() | nil} | {:error, map()}) :: t()
  def complete_invoke(%__MODULE__{} = s, id, {status, value}) do
    op = s.ops[id]
    {key, wire} = if status == :ok, do: {"Result", "SUCCEEDED"}, else: {"Error", "FAILED"}
    details = maybe(%{}, key, value)

    s =
      put_op(
        s,
        Map.merge(op, %{
          "Status" => wire,
          "EndTimestamp" => s.now,
          "ChainedInvokeDetails" => details
        })
      )

    %{s | invokes: Enum.reject(s.invokes, &(&1.id == id))}
  end

  defp deadline(_s, seconds) when seconds in [nil, 0], do: nil
  defp deadline(s, seconds), do: s.now + seconds * 1000

  defp terminal?(op), do: op["Status"] in ~w(SUCCEEDED FAILED CANCELLED TIMED_OUT STOPPED)

  defp put_op(s, %{"Id" => id} = op) do
    order = if Map.has_key?(s.ops, id), do: s.order, else: s.order ++ [id]
    %{s | ops: Map.put(s.ops, id, op), order: order, changed: MapSet.put(s.changed, id)}
  end

  defp maybe(map, _key, nil), do: map
  defp maybe(map, key, value), do: Map.put(map, key, value)
end
