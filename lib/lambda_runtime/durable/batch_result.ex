defmodule LambdaRuntime.Durable.BatchResult do
  @moduledoc """
  What `LambdaRuntime.Durable.map/4` and `parallel/3` return: one item per
  branch that was started, in index order, and why the batch stopped.

    * `:items` - `%{index: i, status: :succeeded | :failed | :started,
      result: term, error: LambdaRuntime.Durable.Error.t() | nil}`; a branch
      still running when the batch completed early is `:started`, one never
      started is absent;
    * `:completion_reason` - `:all_completed`, `:min_successful_reached` or
      `:failure_tolerance_exceeded`.

  The batch itself succeeds even when items failed; `check/1` turns the
  first failure into an error:

      with {:ok, batch} <- Durable.map(ctx, orders, &ship/3),
           {:ok, receipts} <- BatchResult.check(batch) do
        {:ok, receipts}
      end

  This module is also the default serdes of a batch's own checkpoint (JSON
  `{"all": [...], "completionReason": ...}`, as AWS's SDKs write it).
  """

  @behaviour LambdaRuntime.Durable.Serdes

  alias LambdaRuntime.Durable.Error
  alias LambdaRuntime.JSON

  defstruct items: [], completion_reason: :all_completed

  @type status :: :succeeded | :failed | :started
  @type item :: %{
          index: non_neg_integer(),
          status: status(),
          result: term(),
          error: Error.t() | nil
        }
  @type reason :: :all_completed | :min_successful_reached | :failure_tolerance_exceeded
  @type t :: %__MODULE__{items: [item()], completion_reason: reason()}

  @doc "The results of the items that succeeded, in index order."
  @spec results(t()) :: [term()]
  def results(%__MODULE__{items: items}),
    do: for(%{status: :succeeded, result: r} <- items, do: r)

  @doc "The errors of the items that failed, in index order."
  @spec errors(t()) :: [Error.t()]
  def errors(%__MODULE__{items: items}), do: for(%{status: :failed, error: e} <- items, do: e)

  @doc "The items with `status`."
  @spec items(t(), status()) :: [item()]
  def items(%__MODULE__{items: items}, status), do: Enum.filter(items, &(&1.status == status))

  @doc "`:failed` when any item failed, else `:succeeded`."
  @spec status(t()) :: :succeeded | :failed
  def status(%__MODULE__{} = b), do: if(failure?(b), do: :failed, else: :succeeded)

  @doc "Whether any item failed."
  @spec failure?(t()) :: boolean()
  def failure?(%__MODULE__{items: items}), do: Enum.any?(items, &(&1.status == :failed))

  @doc "How many items have `status` (or all items, for `:total`)."
  @spec count(t(), status() | :total) :: non_neg_integer()
  def count(%__MODULE__{items: items}, :total), do: length(items)
  def count(%__MODULE__{} = b, status), do: length(items(b, status))

  @doc "`{:ok, results}`, or `{:error, error}` with the first failed item's error."
  @spec check(t()) :: {:ok, [term()]} | {:error, Error.t()}
  def check(%__MODULE__{} = b) do
    case errors(b) do
      [] -> {:ok, results(b)}
      [first | _] -> {:error, first}
    end
  end

  @doc """
  The wire form, `%{"all" => [...], "completionReason" => ...}`, as AWS's
  SDKs write it. A batch result returned from a handler is encoded so too.
  """
  @spec to_wire(t()) :: map()
  def to_wire(%__MODULE__{} = b) do
    %{
      "all" =>
        Enum.map(b.items, fn item ->
          %{
            "index" => item.index,
            "status" => item.status |> Atom.to_string() |> String.upcase(),
            "result" => item.result,
            "error" => item.error && Error.to_object(item.error)
          }
        end),
      "completionReason" => b.completion_reason |> Atom.to_string() |> String.upcase()
    }
  end

  @impl LambdaRuntime.Durable.Serdes
  def serialize(%__MODULE__{} = b), do: JSON.encode!(to_wire(b))

  @impl LambdaRuntime.Durable.Serdes
  def deserialize(payload) do
    %{"all" => all} = data = JSON.decode!(payload)

    items =
      Enum.map(all, fn item ->
        %{
          index: item["index"],
          status: status_atom(item["status"]),
          result: item["result"],
          error: item["error"] && Error.from_object(:batch, item["error"])
        }
      end)

    %__MODULE__{items: items, completion_reason: reason_atom(data["completionReason"])}
  end

  @doc false
  # The payload checkpointed for a batch too large to checkpoint: what
  # replay needs to rebuild it (the reason, how many branches started, the
  # ones still running), plus counts for people reading the history.
  @spec summary(t(), String.t()) :: String.t()
  def summary(%__MODULE__{} = b, type) do
    started = for %{status: :started, index: i} <- b.items, do: i

    JSON.encode!(%{
      "type" => type,
      "totalCount" => count(b, :total),
      "completionReason" => b.completion_reason |> Atom.to_string() |> String.upcase(),
      "startedIndexes" => started,
      "startedCount" => count(b, :started),
      "successCount" => count(b, :succeeded),
      "failureCount" => count(b, :failed),
      "status" => b |> status() |> Atom.to_string() |> String.upcase()
    })
  end

  @doc false
  # `{reason, started_total, started_indexes}` from a summary, or :error.
  def parse_summary(payload) when is_binary(payload) do
    with {:ok, %{"totalCount" => total, "completionReason" => reason} = data} <-
           JSON.decode(payload),
         true <- is_integer(total) do
      started =
        case data do
          %{"startedIndexes" => list} when is_list(list) ->
            MapSet.new(list)

          %{"completedIndexes" => list} when is_list(list) ->
            MapSet.difference(MapSet.new(0..(total - 1)//1), MapSet.new(list))

          _ ->
            MapSet.new()
        end

      {reason_atom(reason), total, started}
    else
      _ -> :error
    end
  end

  def parse_summary(_), do: :error

  defp status_atom("SUCCEEDED"), do: :succeeded
  defp status_atom("FAILED"), do: :failed
  defp status_atom("STARTED"), do: :started

  defp reason_atom("MIN_SUCCESSFUL_REACHED"), do: :min_successful_reached
  defp reason_atom("FAILURE_TOLERANCE_EXCEEDED"), do: :failure_tolerance_exceeded
  defp reason_atom(_), do: :all_completed
end

defimpl LambdaRuntime.JSON.Encoder, for: LambdaRuntime.Durable.BatchResult do
  def encode(batch), do: LambdaRuntime.Durable.BatchResult.to_wire(batch)
end
