defmodule LambdaRuntime.Durable.Completion do
  @moduledoc """
  When a map or parallel is done, from its options:

    * `:min_successful` - complete as soon as this many items succeeded;
    * `:tolerated_failure_count` - stop once more than this many failed;
    * `:tolerated_failure_percentage` - stop once more than this percentage
      of all items failed.

  With none of them set, the first failure stops the batch (fail fast), as
  in AWS's SDKs; `tolerated_failure_percentage: 100` runs every item
  whatever fails. A batch also completes when every item finished.
  """

  defstruct [:total, :min_successful, :tolerated_failure_count, :tolerated_failure_percentage]

  @type t :: %__MODULE__{}

  @doc false
  @spec new(non_neg_integer(), keyword()) :: t()
  def new(total, opts) do
    policy = %__MODULE__{
      total: total,
      min_successful: opts[:min_successful],
      tolerated_failure_count: opts[:tolerated_failure_count],
      tolerated_failure_percentage: opts[:tolerated_failure_percentage]
    }

    validate!(policy)
  end

  @doc "Whether failures exceed the tolerance (so no more items start)."
  @spec exceeded?(t(), non_neg_integer()) :: boolean()
  def exceeded?(%__MODULE__{} = p, failed) do
    cond do
      p.min_successful == nil and p.tolerated_failure_count == nil and
          p.tolerated_failure_percentage == nil ->
        failed > 0

      p.tolerated_failure_count != nil and failed > p.tolerated_failure_count ->
        true

      p.tolerated_failure_percentage != nil and p.total > 0 ->
        failed / p.total * 100 > p.tolerated_failure_percentage

      true ->
        false
    end
  end

  @doc "Whether the batch is complete."
  @spec complete?(t(), non_neg_integer(), non_neg_integer()) :: boolean()
  def complete?(%__MODULE__{} = p, succeeded, failed) do
    succeeded + failed >= p.total or
      (p.min_successful != nil and succeeded >= p.min_successful) or exceeded?(p, failed)
  end

  @doc "Why the batch completed."
  @spec reason(t(), non_neg_integer(), non_neg_integer()) ::
          LambdaRuntime.Durable.BatchResult.reason()
  def reason(%__MODULE__{} = p, succeeded, failed) do
    cond do
      exceeded?(p, failed) -> :failure_tolerance_exceeded
      succeeded + failed >= p.total -> :all_completed
      p.min_successful != nil and succeeded >= p.min_successful -> :min_successful_reached
      true -> :all_completed
    end
  end

  defp validate!(%__MODULE__{min_successful: n}) when n != nil and (not is_integer(n) or n < 1),
    do: raise(ArgumentError, "min_successful must be a positive integer, got: #{inspect(n)}")

  defp validate!(%__MODULE__{min_successful: n, total: total}) when n != nil and n > total,
    do:
      raise(
        ArgumentError,
        "min_successful (#{n}) cannot be greater than the number of items (#{total})"
      )

  defp validate!(%__MODULE__{tolerated_failure_count: n})
       when n != nil and (not is_integer(n) or n < 0),
       do:
         raise(
           ArgumentError,
           "tolerated_failure_count must be a non-negative integer, got: #{inspect(n)}"
         )

  defp validate!(%__MODULE__{tolerated_failure_percentage: n})
       when n != nil and (not is_number(n) or n < 0 or n > 100),
       do:
         raise(
           ArgumentError,
           "tolerated_failure_percentage must be between 0 and 100, got: #{inspect(n)}"
         )

  defp validate!(policy), do: policy
end
