defmodule LambdaRuntime.Metrics.EMF do
  @moduledoc """
  Writes CloudWatch Embedded Metric Format documents: one JSON object per
  line, whose `_aws` member tells CloudWatch Logs which members are
  metrics (with their units and storage resolution), under which
  namespace, by which dimension sets; the metrics' values, the dimensions'
  values and any properties are members of the same object.

      {"_aws":{"Timestamp":1795780800000,"CloudWatchMetrics":[{"Namespace":"orders",
        "Dimensions":[["Service","Operation"]],
        "Metrics":[{"Name":"Latency","Unit":"Milliseconds"}]}]},
       "Service":"orders","Operation":"create","Latency":[12,15],"requestId":"..."}

  A line holds at most 100 metrics and 100 values per metric (the
  format's limits); more are spread over several lines, each complete.
  """

  @max_metrics 100
  @max_values 100

  @typedoc "One metric: name, unit, storage resolution, values (in the order put)."
  @type metric :: {String.t(), String.t(), 1 | 60, [number()]}

  @doc """
  The documents for one flush. `dimension_sets` is a list of dimension
  sets, each a list of `{name, value}` (an empty set: metrics without
  dimensions); `properties` a map of other members.
  """
  @spec documents(%{
          namespace: String.t(),
          dimension_sets: [[{String.t(), String.t()}]],
          metrics: [metric()],
          properties: map(),
          timestamp: integer()
        }) :: [map()]
  def documents(%{metrics: []}), do: []

  def documents(batch) do
    dimensions = for set <- batch.dimension_sets, do: Enum.map(set, &elem(&1, 0))
    dimension_values = batch.dimension_sets |> List.flatten() |> Map.new()
    common = Map.merge(batch.properties, dimension_values)

    batch.metrics
    |> rounds()
    |> Enum.flat_map(&Enum.chunk_every(&1, @max_metrics))
    |> Enum.map(fn metrics ->
      definitions =
        for {name, unit, resolution, _} <- metrics do
          definition = %{"Name" => name, "Unit" => unit}
          if resolution == 1, do: Map.put(definition, "StorageResolution", 1), else: definition
        end

      values = Map.new(metrics, fn {name, _, _, vs} -> {name, single(vs)} end)

      common
      |> Map.merge(values)
      |> Map.put("_aws", %{
        "Timestamp" => batch.timestamp,
        "CloudWatchMetrics" => [
          %{"Namespace" => batch.namespace, "Dimensions" => dimensions, "Metrics" => definitions}
        ]
      })
    end)
  end

  # Round i holds each metric's i-th chunk of at most 100 values.
  defp rounds(metrics) do
    chunked = for {n, u, r, vs} <- metrics, do: {n, u, r, Enum.chunk_every(vs, @max_values)}
    count = chunked |> Enum.map(fn {_, _, _, chunks} -> length(chunks) end) |> Enum.max()

    for i <- 0..(count - 1) do
      for {n, u, r, chunks} <- chunked, chunk = Enum.at(chunks, i), do: {n, u, r, chunk}
    end
  end

  defp single([v]), do: v
  defp single(vs), do: vs
end
