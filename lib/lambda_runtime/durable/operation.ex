defmodule LambdaRuntime.Durable.Operation do
  @moduledoc """
  One checkpointed operation as the durable-execution service reports it (the
  `Operation` shape of `GetDurableExecutionState` and
  `CheckpointDurableExecution`), flattened: whichever `*Details` object the
  operation type has contributes its result, error, attempt, timestamps,
  callback id and replay flag.

  Timestamps are integer milliseconds since the epoch. The invocation
  payload carries milliseconds; the REST API answers carry seconds (a float);
  `from_wire/1` accepts both.
  """

  @enforce_keys [:id, :type, :status]
  defstruct [
    :id,
    :parent_id,
    :name,
    :type,
    :sub_type,
    :status,
    :start_ms,
    :end_ms,
    :result,
    :error,
    :input,
    :callback_id,
    :next_attempt_ms,
    :scheduled_end_ms,
    attempt: 0,
    replay_children: false
  ]

  @type type :: :execution | :context | :step | :wait | :callback | :chained_invoke
  @type status ::
          :started | :pending | :ready | :succeeded | :failed | :cancelled | :timed_out | :stopped

  @type t :: %__MODULE__{
          id: String.t(),
          parent_id: String.t() | nil,
          name: String.t() | nil,
          type: type(),
          sub_type: String.t() | nil,
          status: status(),
          start_ms: integer() | nil,
          end_ms: integer() | nil,
          result: String.t() | nil,
          error: map() | nil,
          input: String.t() | nil,
          callback_id: String.t() | nil,
          next_attempt_ms: integer() | nil,
          scheduled_end_ms: integer() | nil,
          attempt: non_neg_integer(),
          replay_children: boolean()
        }

  @types %{
    "EXECUTION" => :execution,
    "CONTEXT" => :context,
    "STEP" => :step,
    "WAIT" => :wait,
    "CALLBACK" => :callback,
    "CHAINED_INVOKE" => :chained_invoke
  }

  @statuses %{
    "STARTED" => :started,
    "PENDING" => :pending,
    "READY" => :ready,
    "SUCCEEDED" => :succeeded,
    "FAILED" => :failed,
    "CANCELLED" => :cancelled,
    "TIMED_OUT" => :timed_out,
    "STOPPED" => :stopped
  }

  @doc "The wire name of an operation type (`:chained_invoke` -> `\"CHAINED_INVOKE\"`)."
  @spec wire_type(type()) :: String.t()
  def wire_type(type), do: type |> Atom.to_string() |> String.upcase()

  @doc "Parses one operation map from the service."
  @spec from_wire(map()) :: t()
  def from_wire(%{"Id" => id, "Type" => type, "Status" => status} = op) do
    details =
      op["StepDetails"] || op["ContextDetails"] || op["CallbackDetails"] ||
        op["ChainedInvokeDetails"] || %{}

    %__MODULE__{
      id: id,
      parent_id: blank(op["ParentId"]),
      name: blank(op["Name"]),
      type: Map.fetch!(@types, type),
      sub_type: blank(op["SubType"]),
      status: Map.fetch!(@statuses, status),
      start_ms: ms(op["StartTimestamp"]),
      end_ms: ms(op["EndTimestamp"]),
      result: details["Result"],
      error: details["Error"],
      input: get_in(op, ["ExecutionDetails", "InputPayload"]),
      callback_id: details["CallbackId"],
      next_attempt_ms: ms(details["NextAttemptTimestamp"]),
      scheduled_end_ms: ms(get_in(op, ["WaitDetails", "ScheduledEndTimestamp"])),
      attempt: details["Attempt"] || 0,
      replay_children: details["ReplayChildren"] == true
    }
  end

  @doc """
  A timestamp from the service in milliseconds: numbers above 10^11 are
  already milliseconds (the invocation payload), smaller ones are seconds
  (REST answers); ISO 8601 strings are accepted too.
  """
  @spec ms(number() | String.t() | nil) :: integer() | nil
  def ms(nil), do: nil
  def ms(n) when is_number(n) and n > 100_000_000_000, do: trunc(n)
  def ms(n) when is_number(n), do: round(n * 1000)

  def ms(text) when is_binary(text) do
    case DateTime.from_iso8601(text) do
      {:ok, dt, _} -> DateTime.to_unix(dt, :millisecond)
      _ -> nil
    end
  end

  defp blank(""), do: nil
  defp blank(value), do: value
end
