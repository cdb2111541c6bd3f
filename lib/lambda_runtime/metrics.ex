defmodule LambdaRuntime.Metrics do
  @moduledoc """
  Custom CloudWatch metrics from a handler, through the Embedded Metric
  Format (EMF): metrics put during an invocation are written to standard
  output as EMF lines when it ends, and CloudWatch Logs turns them into
  metrics. No API call, no latency, no IAM permission beyond writing logs.

      defmodule Orders do
        alias LambdaRuntime.Metrics

        def handle(%{"items" => items} = order, _context) do
          started = System.monotonic_time(:millisecond)
          Metrics.put_dimensions(%{"Channel" => order["channel"]})
          Metrics.put("OrdersPlaced", 1)
          Metrics.put("ItemsPerOrder", length(items), :count)
          result = Orders.place(order)
          Metrics.put("PlaceLatency", System.monotonic_time(:millisecond) - started, :milliseconds)
          Metrics.put_property("orderId", result.id)
          {:ok, result}
        end
      end

  ## When lines are written

  Once per invocation, after the handler returns and before the response
  is sent (and, for a handler that raises, exits, crashes or is killed at
  its deadline, before the error is reported): what was put is never lost
  with the handler's process. Metrics put by Tasks the handler starts
  belong to the invocation. Outside an invocation (a script, `init/1`),
  `flush/0` writes what the calling process put.

  The lines are JSON objects of their own on standard output, not Logger
  messages, so CloudWatch reads them with either log format
  (`AWS_LAMBDA_LOG_FORMAT=Text` or `JSON`). Each carries the invocation's
  `requestId` as a property.

  ## Configuration

  Function-wide settings come from the function's environment (see
  `LambdaRuntime.Metrics.Config`; set them with `lambda: [environment:
  ...]`):

      LAMBDA_METRICS_NAMESPACE=Shop            # default: the function's name
      LAMBDA_METRICS_DIMENSIONS=Service=orders,Stage=prod
      LAMBDA_METRICS_COLD_START=true           # a ColdStart metric (Count 1) on the first invocation

  The cold start metric has the default dimensions and `function_name`.
  `capture_cold_start/0` opts in from code instead.

  ## Limits

  Checked when you put (an `ArgumentError` names the problem; see
  `LambdaRuntime.Metrics.Rules`): units, name lengths and characters,
  value range, at most 30 dimensions per set (the defaults included), a
  metric put twice with two units, a name used for two kinds of member.
  A line holds at most 100 metrics and 100 values of each; more are
  written as several lines.
  """

  alias LambdaRuntime.Metrics.{Config, Rules, Store}

  @typedoc "A CloudWatch unit: an atom such as `:milliseconds`, or its name (`\"Milliseconds\"`)."
  @type unit :: atom() | String.t()

  @doc """
  Puts a value of the metric `name` (a string or an atom). Putting a
  metric several times in one invocation records every value (CloudWatch
  then has each). Options: `resolution: 1` for a high-resolution metric
  (default 60 seconds).
  """
  @spec put(String.t() | atom(), number(), unit(), keyword()) :: :ok
  def put(name, value, unit \\ :count, opts \\ []) do
    name = ok!(Rules.metric_name(name))
    value = ok!(Rules.value(value))
    unit = ok!(Rules.unit(unit))
    resolution = ok!(Rules.resolution(Keyword.get(opts, :resolution, 60)))
    owner = Store.owner()

    case Store.claim(owner, name, {:metric, unit, resolution}) do
      :ok ->
        Store.insert(owner, :value, {name, System.unique_integer([:monotonic])}, value)

      {:conflict, {:metric, u, r}} ->
        raise ArgumentError,
              "the metric #{inspect(name)} was put with unit #{inspect(u)} and resolution #{r} " <>
                "in this invocation; it cannot also have #{inspect(unit)} and #{resolution}"

      {:conflict, other} ->
        conflict!(name, "a metric", other)
    end

    :ok
  end

  @doc """
  Adds a dimension set, `%{"Operation" => "create"}` (or a keyword list),
  to the invocation's metrics: each metric is aggregated by each set put
  (and the configured default dimensions are part of every set). Without
  a call, the metrics have only the default dimensions.
  """
  @spec put_dimensions(map() | keyword()) :: :ok
  def put_dimensions(dimensions) when is_map(dimensions) or is_list(dimensions) do
    config = ok!(Config.read())
    owner = Store.owner()

    set =
      for {k, v} <- Enum.sort(Map.new(dimensions)) do
        {ok!(Rules.dimension_name(k)), ok!(Rules.dimension_value(dimension_text(v)))}
      end

    set = Enum.reject(set, &(&1 in config.dimensions))

    if length(set) + length(config.dimensions) > Rules.max_dimensions() do
      raise ArgumentError,
            "a dimension set has at most #{Rules.max_dimensions()} dimensions; this one has " <>
              "#{length(set)} and the defaults (LAMBDA_METRICS_DIMENSIONS) #{length(config.dimensions)}"
    end

    for {k, v} <- set do
      case List.keyfind(config.dimensions, k, 0) do
        {^k, default} ->
          raise ArgumentError,
                "the dimension #{inspect(k)} is a default dimension (#{inspect(default)}); it cannot be #{inspect(v)}"

        nil ->
          case Store.claim(owner, k, {:dimension, v}) do
            :ok ->
              :ok

            {:conflict, {:dimension, other}} ->
              raise ArgumentError,
                    "the dimension #{inspect(k)} is #{inspect(other)} in this invocation; " <>
                      "an EMF line has one value per dimension, so it cannot also be #{inspect(v)}"

            {:conflict, other} ->
              conflict!(k, "a dimension", other)
          end
      end
    end

    Store.insert(owner, :dims, System.unique_integer([:monotonic]), set)
    :ok
  end

  @doc """
  Adds a member to the invocation's EMF lines that is not a metric (an
  order id, a trace id): searchable in CloudWatch Logs Insights, free of
  the metric limits. `value` must be JSON-encodable.
  """
  @spec put_property(String.t() | atom(), term()) :: :ok
  def put_property(name, value) do
    name = if is_atom(name), do: Atom.to_string(name), else: name

    unless is_binary(name) and name != "" and name != "_aws" do
      raise ArgumentError,
            "a property name must be a non-empty string other than _aws, got #{inspect(name)}"
    end

    owner = Store.owner()

    case Store.claim(owner, name, :property) do
      :ok -> Store.insert(owner, :prop, name, value)
      {:conflict, other} -> conflict!(name, "a property", other)
    end

    :ok
  end

  @doc "Sets the namespace of this invocation's metrics (default: the configured one)."
  @spec set_namespace(String.t()) :: :ok
  def set_namespace(namespace) do
    Store.insert(Store.owner(), :ns, nil, ok!(Rules.namespace(namespace)))
    :ok
  end

  @doc """
  Makes the next invocation's flush also write a `ColdStart` metric (once
  per VM); call it from `init/1`. `LAMBDA_METRICS_COLD_START=true` does
  the same without code.
  """
  @spec capture_cold_start() :: :ok
  def capture_cold_start, do: Store.capture_cold_start()

  @doc "Writes what the calling process (outside an invocation) has put, now."
  @spec flush() :: :ok
  def flush, do: Store.flush(Store.owner(), nil)

  defp dimension_text(v) when is_binary(v), do: v
  defp dimension_text(v) when is_atom(v) or is_number(v), do: to_string(v)
  defp dimension_text(v), do: v

  defp ok!({:ok, value}), do: value
  defp ok!({:error, message}), do: raise(ArgumentError, message)

  defp conflict!(name, as, existing) do
    was =
      case existing do
        {:metric, _, _} -> "a metric"
        {:dimension, _} -> "a dimension"
        :property -> "a property"
      end

    raise ArgumentError, "#{inspect(name)} is #{was} in this invocation; it cannot also be #{as}"
  end
end
