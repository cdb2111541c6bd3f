defmodule LambdaRuntime.Metrics.Config do
  @moduledoc """
  The function-wide metrics settings, from the function's environment
  (what `lambda: [environment: ...]` sets on Lambda and for
  `mix lambda.invoke`), else the `:lambda_runtime` application's
  `LambdaRuntime.Metrics` key:

  | environment variable | application env | meaning |
  | --- | --- | --- |
  | `LAMBDA_METRICS_NAMESPACE` | `namespace:` | the namespace (default: the function's name) |
  | `LAMBDA_METRICS_DIMENSIONS` | `dimensions:` | dimensions of every metric: `Service=orders,Stage=prod`, or a map |

  The variables are read when the first metric is put, through
  `LambdaRuntime.Config.env/1`. `LAMBDA_METRICS_COLD_START=true` (read at
  start by `LambdaRuntime.Config`) asks for a `ColdStart` metric with the
  first invocation; `LambdaRuntime.Metrics.capture_cold_start/0` does it
  from code.
  """

  alias LambdaRuntime.Metrics.Rules

  defstruct namespace: nil, dimensions: []

  @type t :: %__MODULE__{namespace: String.t() | nil, dimensions: [{String.t(), String.t()}]}

  @doc "Reads and checks the settings: `{:ok, config}` or `{:error, message}` naming the setting."
  @spec read() :: {:ok, t()} | {:error, String.t()}
  def read do
    app = Application.get_env(:lambda_runtime, LambdaRuntime.Metrics, [])

    with {:ok, namespace} <- namespace(env("LAMBDA_METRICS_NAMESPACE") || app[:namespace]),
         {:ok, dimensions} <-
           dimensions(env("LAMBDA_METRICS_DIMENSIONS") || app[:dimensions] || []) do
      {:ok, %__MODULE__{namespace: namespace, dimensions: dimensions}}
    end
  end

  defp env(name), do: LambdaRuntime.Config.env(name)

  defp namespace(nil), do: {:ok, nil}

  defp namespace(ns) do
    case Rules.namespace(ns) do
      {:ok, ns} -> {:ok, ns}
      {:error, message} -> {:error, "LAMBDA_METRICS_NAMESPACE / namespace: " <> message}
    end
  end

  @doc false
  def dimensions(text) when is_binary(text) do
    text
    |> String.split(",", trim: true)
    |> Enum.map(fn pair ->
      case String.split(pair, "=", parts: 2) do
        [k, v] -> {String.trim(k), String.trim(v)}
        [k] -> {String.trim(k), nil}
      end
    end)
    |> dimensions()
  end

  def dimensions(dims) when is_map(dims), do: dims |> Enum.sort() |> dimensions()

  def dimensions(dims) when is_list(dims) do
    dims
    |> Enum.reduce_while({:ok, []}, fn
      {k, v}, {:ok, acc} ->
        with {:ok, k} <- Rules.dimension_name(k),
             {:ok, v} <-
               Rules.dimension_value(if(is_binary(v) or is_nil(v), do: v, else: to_string(v))) do
          {:cont, {:ok, [{k, v} | acc]}}
        else
          {:error, message} ->
            {:halt, {:error, "LAMBDA_METRICS_DIMENSIONS / dimensions: " <> message}}
        end

      other, _ ->
        {:halt,
         {:error, "LAMBDA_METRICS_DIMENSIONS / dimensions: #{inspect(other)} is not NAME=VALUE"}}
    end)
    |> case do
      {:ok, list} when length(list) > 30 ->
        {:error, "LAMBDA_METRICS_DIMENSIONS / dimensions: more than 30 dimensions"}

      {:ok, list} ->
        {:ok, Enum.reverse(list)}

      error ->
        error
    end
  end

  def dimensions(other),
    do:
      {:error,
       "LAMBDA_METRICS_DIMENSIONS / dimensions: expected NAME=VALUE,... or a map, got #{inspect(other)}"}
end
