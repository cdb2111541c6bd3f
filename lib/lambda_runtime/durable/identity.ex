defmodule LambdaRuntime.Durable.Identity do
  @moduledoc """
  Who an operation is: its id, parent, name, type and subtype. It writes the
  operation's checkpoint updates (`OperationUpdate`) and checks, on replay,
  that the checkpoint found under its id was written by the same code: a
  different type, subtype, name or parent means the handler is no longer
  deterministic (`mismatch/2`).
  """

  alias LambdaRuntime.Durable.Operation

  @enforce_keys [:id, :type]
  defstruct [:id, :parent_id, :name, :type, :sub_type]

  @type t :: %__MODULE__{
          id: String.t(),
          parent_id: String.t() | nil,
          name: String.t() | nil,
          type: Operation.type(),
          sub_type: String.t() | nil
        }

  @doc """
  The `OperationUpdate` map for `action` (`"START"`, `"SUCCEED"`, `"FAIL"`,
  `"RETRY"`), merged with `extra` (e.g. `%{"Payload" => ...}`).
  """
  @spec update(t(), String.t(), map()) :: map()
  def update(%__MODULE__{} = identity, action, extra \\ %{}) do
    %{"Id" => identity.id, "Type" => Operation.wire_type(identity.type), "Action" => action}
    |> put("ParentId", identity.parent_id)
    |> put("Name", identity.name)
    |> put("SubType", identity.sub_type)
    |> Map.merge(extra)
  end

  @doc """
  `nil` when `operation` (the checkpoint under this id, or `nil`) belongs to
  this identity, else a sentence saying what differs.
  """
  @spec mismatch(t(), Operation.t() | nil) :: String.t() | nil
  def mismatch(_identity, nil), do: nil

  def mismatch(%__MODULE__{} = identity, %Operation{} = op) do
    diffs =
      for {label, checkpointed, current} <- [
            {"type", op.type, identity.type},
            {"subtype", op.sub_type, identity.sub_type},
            {"name", op.name, identity.name},
            {"parent", op.parent_id, identity.parent_id}
          ],
          checkpointed != current,
          do: "#{label} was #{inspect(checkpointed)}, is now #{inspect(current)}"

    if diffs != [] do
      "non-deterministic execution: the operation with id #{identity.id} " <>
        "(#{identity.name || identity.sub_type}) differs from its checkpoint: " <>
        Enum.join(diffs, ", ") <>
        ". A durable handler must call the same operations in the same order on every replay."
    end
  end

  defp put(map, _key, nil), do: map
  defp put(map, key, value), do: Map.put(map, key, value)
end
