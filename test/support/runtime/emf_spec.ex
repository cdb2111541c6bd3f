defmodule LambdaRuntime.TestSupport.EMFSpec do
  @moduledoc """
  Checks a log line against CloudWatch's Embedded Metric Format
  specification ("Specification: Embedded metric format", CloudWatch User
  Guide), rule by rule, written from the specification's text rather than
  from LambdaRuntime.Metrics:

    * the line is one JSON object, nothing before or after it
    * the root has `_aws`, an object with `Timestamp` (a number:
      milliseconds since the epoch) and `CloudWatchMetrics` (an array of
      MetricDirective objects); `_aws` may also have `LogGroupName`,
      `LogStreamName` and nothing else
    * a MetricDirective has `Namespace` (a string), `Dimensions` (an array
      of DimensionSets) and `Metrics` (an array of at most 100
      MetricDefinitions), and no other members
    * a DimensionSet is an array of at most 30 strings, each the name of a
      root member whose value is a string
    * a MetricDefinition has `Name` (a string naming a root member),
      optionally `Unit` (one of CloudWatch's units) and
      `StorageResolution` (1 or 60), and no other members
    * a metric's root member is a number or an array of at most 100 numbers
    * the line is at most 1 MB (a CloudWatch Logs event)

  `check/1` returns `:ok` or `{:error, [problem]}`.
  """

  @units ~w(Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes
            Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second
            Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second
            Megabits/Second Gigabits/Second Terabits/Second Count/Second None)

  def check(line) when is_binary(line) do
    problems =
      cond do
        byte_size(line) > 1_048_576 ->
          ["longer than 1 MB"]

        String.trim(line) != line ->
          ["data before or after the JSON object"]

        true ->
          case LambdaRuntime.JSON.decode(line) do
            {:ok, root} when is_map(root) -> root(root)
            {:ok, _} -> ["not a JSON object"]
            {:error, e} -> ["not JSON: " <> Exception.message(e)]
          end
      end

    if problems == [], do: :ok, else: {:error, problems}
  end

  defp root(%{"_aws" => aws} = root) when is_map(aws) do
    extra = Map.keys(aws) -- ~w(Timestamp CloudWatchMetrics LogGroupName LogStreamName)

    List.flatten([
      if(extra == [], do: [], else: ["_aws has unknown members #{inspect(extra)}"]),
      if(is_number(aws["Timestamp"]) and aws["Timestamp"] > 1_000_000_000_000,
        do: [],
        else: ["_aws.Timestamp is not epoch milliseconds: #{inspect(aws["Timestamp"])}"]
      ),
      case aws["CloudWatchMetrics"] do
        [_ | _] = directives -> Enum.map(directives, &directive(&1, root))
        other -> ["_aws.CloudWatchMetrics is not a non-empty array: #{inspect(other)}"]
      end
    ])
  end

  defp root(_), do: ["no _aws object"]

  defp directive(%{} = d, root) do
    extra = Map.keys(d) -- ~w(Namespace Dimensions Metrics)

    [
      if(extra == [], do: [], else: ["MetricDirective has unknown members #{inspect(extra)}"]),
      if(is_binary(d["Namespace"]) and d["Namespace"] != "",
        do: [],
        else: ["Namespace is not a string: #{inspect(d["Namespace"])}"]
      ),
      case d["Dimensions"] do
        sets when is_list(sets) -> Enum.map(sets, &dimension_set(&1, root))
        other -> ["Dimensions is not an array: #{inspect(other)}"]
      end,
      case d["Metrics"] do
        metrics when is_list(metrics) and length(metrics) <= 100 ->
          Enum.map(metrics, &definition(&1, root))

        metrics when is_list(metrics) ->
          ["#{length(metrics)} MetricDefinitions, more than 100"]

        other ->
          ["Metrics is not an array: #{inspect(other)}"]
      end
    ]
  end

  defp directive(other, _root), do: ["a MetricDirective is not an object: #{inspect(other)}"]

  defp dimension_set(set, root) when is_list(set) and length(set) <= 30 do
    for key <- set, not (is_binary(key) and is_binary(root[key])) do
      "dimension #{inspect(key)} is not a root member with a string value"
    end
  end

  defp dimension_set(set, _root) when is_list(set),
    do: ["a DimensionSet has #{length(set)} keys, more than 30"]

  defp dimension_set(other, _root), do: ["a DimensionSet is not an array: #{inspect(other)}"]

  defp definition(%{"Name" => name} = m, root) when is_binary(name) do
    extra = Map.keys(m) -- ~w(Name Unit StorageResolution)

    [
      if(extra == [], do: [], else: ["MetricDefinition has unknown members #{inspect(extra)}"]),
      if(Map.has_key?(m, "Unit") and m["Unit"] not in @units,
        do: ["unit #{inspect(m["Unit"])} is not valid"],
        else: []
      ),
      if(Map.has_key?(m, "StorageResolution") and m["StorageResolution"] not in [1, 60],
        do: ["StorageResolution #{inspect(m["StorageResolution"])} is not 1 or 60"],
        else: []
      ),
      case root[name] do
        v when is_number(v) ->
          []

        [_ | _] = vs when length(vs) <= 100 ->
          for v <- vs, not is_number(v), do: "metric #{name}: #{inspect(v)} is not a number"

        vs when is_list(vs) ->
          ["metric #{name}: #{length(vs)} values, more than 100 (or none)"]

        other ->
          ["metric #{name}: the root member is #{inspect(other)}, not a number"]
      end
    ]
  end

  defp definition(other, _root), do: ["a MetricDefinition without a Name: #{inspect(other)}"]

  @doc "The EMF lines in captured output (JSON objects with `_aws`), decoded, each checked."
  def lines!(output) do
    for line <- String.split(output, "\n", trim: true), String.contains?(line, ~s("_aws")) do
      case check(line) do
        :ok ->
          LambdaRuntime.JSON.decode!(line)

        {:error, problems} ->
          raise ExUnit.AssertionError, "not an EMF line (#{Enum.join(problems, "; ")}): #{line}"
      end
    end
  end
end
