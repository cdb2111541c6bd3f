defmodule LambdaRuntime.BatchResponse do
  @moduledoc """
  Partial batch responses for SQS, Kinesis and DynamoDB stream event source
  mappings: instead of failing (and retrying) the whole batch, the function
  reports the records that failed, as
  `%{"batchItemFailures" => [%{"itemIdentifier" => id}]}`. The event source
  mapping must have `ReportBatchItemFailures` in its
  `FunctionResponseTypes`.

      def handle(event, _context) do
        LambdaRuntime.BatchResponse.process(event, fn record ->
          record["body"] |> LambdaRuntime.JSON.decode!() |> MyApp.Orders.apply()
        end)
      end

  The item identifier is the SQS `messageId`, the Kinesis
  `kinesis.sequenceNumber` or the DynamoDB `dynamodb.SequenceNumber`.
  """

  require Logger

  @type t :: %{String.t() => [%{String.t() => String.t()}]}

  @doc "The response reporting the item ids `failed` (an empty list: all succeeded)."
  @spec new([String.t()]) :: t()
  def new(failed) when is_list(failed),
    do: %{"batchItemFailures" => Enum.map(failed, &%{"itemIdentifier" => &1})}

  @doc "The item identifier of one record of an SQS, Kinesis or DynamoDB stream event."
  @spec item_id(map()) :: String.t()
  def item_id(%{"messageId" => id}), do: id
  def item_id(%{"kinesis" => %{"sequenceNumber" => id}}), do: id
  def item_id(%{"dynamodb" => %{"SequenceNumber" => id}}), do: id

  def item_id(record),
    do: raise(ArgumentError, "not an SQS, Kinesis or DynamoDB stream record: #{inspect(record)}")

  @doc """
  Runs `fun` on every record of `event` (in order) and returns the batch
  response. A record fails when `fun` returns `:error` or `{:error, _}`, or
  raises, throws or exits; any other return is a success.

  Ordering is kept as AWS asks: for Kinesis, DynamoDB streams and SQS FIFO
  queues, processing stops at the first failure. For streams, that record is
  reported (Lambda retries from it); for a FIFO queue, it and every record
  after it are reported. For standard SQS queues every record is processed
  and each failure is reported.
  """
  @spec process(map(), (map() -> term())) :: t()
  def process(%{"Records" => records}, fun) when is_function(fun, 1) do
    records |> failures(fun, stop_mode(records)) |> new()
  end

  defp stop_mode([%{"eventSource" => "aws:sqs", "eventSourceARN" => arn} | _]),
    do: if(String.ends_with?(arn, ".fifo"), do: :report_rest, else: :continue)

  defp stop_mode([%{"eventSource" => source} | _]) when source in ["aws:kinesis", "aws:dynamodb"],
    do: :stop

  defp stop_mode(_records), do: :continue

  defp failures([], _fun, _mode), do: []

  defp failures([record | rest], fun, mode) do
    case {succeeded?(fun, record), mode} do
      {true, _} -> failures(rest, fun, mode)
      {false, :continue} -> [item_id(record) | failures(rest, fun, mode)]
      {false, :stop} -> [item_id(record)]
      {false, :report_rest} -> Enum.map([record | rest], &item_id/1)
    end
  end

  defp succeeded?(fun, record) do
    case fun.(record) do
      :error ->
        false

      {:error, reason} ->
        Logger.error("record #{item_id(record)} failed: #{inspect(reason)}")
        false

      _ ->
        true
    end
  catch
    kind, reason ->
      Logger.error(
        "record #{item_id(record)} failed: " <> Exception.format(kind, reason, __STACKTRACE__)
      )

      false
  end
end
