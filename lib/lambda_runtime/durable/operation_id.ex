defmodule LambdaRuntime.Durable.OperationId do
  @moduledoc """
  Operation ids, derived exactly as AWS's reference SDK
  (`aws-durable-execution-sdk-python`, `identifier.py`) derives them, so that
  an execution's history has the same ids whichever SDK wrote it.

  The n-th operation of a context (counting from 1) is named `"n"` at the top
  level and `"PARENT-n"` inside a context whose own id is `PARENT`; the id is
  the first 64 hex characters of BLAKE2b-512 of that name. The branches of a
  map or parallel use their zero-based index as `n`.
  """

  @doc """
  The id of operation `n` in the context whose id namespace is `prefix`
  (`nil` at the top level).

      iex> LambdaRuntime.Durable.OperationId.derive(nil, 1)
      "1ced8f5be2db23a6513eba4d819c73806424748a7bc6fa0d792cc1c7d1775a97"
  """
  @spec derive(String.t() | nil, non_neg_integer()) :: String.t()
  def derive(nil, n), do: hash(Integer.to_string(n))
  def derive(prefix, n), do: hash(prefix <> "-" <> Integer.to_string(n))

  defp hash(name) do
    :crypto.hash(:blake2b, name) |> binary_part(0, 32) |> Base.encode16(case: :lower)
  end
end
