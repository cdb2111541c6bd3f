defmodule LambdaRuntime.Metrics.Rules do
  @moduledoc """
  What CloudWatch accepts in an Embedded Metric Format line, checked when a
  metric, dimension or namespace is put, so that a mistake fails where it
  is made, with a sentence that names it:

    * units: CloudWatch's `StandardUnit` values (`"Milliseconds"`,
      `"Bytes/Second"`, ...), also as atoms (`:milliseconds`,
      `:bytes_per_second`); `units/0` lists them
    * metric names: 1-255 characters; dimension names: 1-255, not starting
      with `:`; dimension values: 1-1024; all printable ASCII with at least
      one non-space character (PutMetricData's `MetricDatum` and
      `Dimension` rules)
    * namespaces: 1-255 printable ASCII characters, not starting with `:`
      or `AWS/` (reserved for AWS)
    * values: numbers within CloudWatch's range, -2^360 to 2^360
    * storage resolution: 60 (standard) or 1 (high resolution)
    * at most 30 dimensions in a dimension set

  The line-level limits (100 metrics per line, 100 values per metric) are
  kept by `LambdaRuntime.Metrics.EMF`, which splits instead of failing.
  """

  @units ~w(Seconds Microseconds Milliseconds Bytes Kilobytes Megabytes Gigabytes Terabytes
            Bits Kilobits Megabits Gigabits Terabits Percent Count Bytes/Second Kilobytes/Second
            Megabytes/Second Gigabytes/Second Terabytes/Second Bits/Second Kilobits/Second
            Megabits/Second Gigabits/Second Terabits/Second Count/Second None)

  @unit_atoms Map.new(@units, fn unit ->
                {unit |> String.downcase() |> String.replace("/", "_per_") |> String.to_atom(),
                 unit}
              end)

  @max_dimensions 30
  @max_value :math.pow(2, 360)

  @doc "The CloudWatch units, as EMF writes them."
  def units, do: @units

  @doc "The most dimensions in one dimension set: 30."
  def max_dimensions, do: @max_dimensions

  @doc "A unit (an atom such as `:milliseconds`, or the CloudWatch name) as EMF writes it."
  @spec unit(atom() | String.t()) :: {:ok, String.t()} | {:error, String.t()}
  def unit(unit) when is_atom(unit) and is_map_key(@unit_atoms, unit),
    do: {:ok, @unit_atoms[unit]}

  def unit(unit) when unit in @units, do: {:ok, unit}

  def unit(unit) do
    {:error,
     "#{inspect(unit)} is not a CloudWatch unit; use one of " <>
       Enum.map_join(@unit_atoms |> Map.keys() |> Enum.sort(), ", ", &inspect/1) <>
       " (or the names #{inspect(hd(@units))}, ...)"}
  end

  @doc "A metric name, as a string."
  def metric_name(name), do: text("metric name", name, 255, false)

  @doc "A dimension name, as a string."
  def dimension_name(name), do: text("dimension name", name, 255, true)

  @doc "A dimension value, as a string."
  def dimension_value(value), do: text("dimension value", value, 1024, false)

  @doc "A namespace."
  def namespace(ns) do
    with {:ok, ns} <- text("namespace", ns, 255, true) do
      if String.starts_with?(ns, "AWS/"),
        do: {:error, "the namespace #{inspect(ns)} starts with AWS/, which is reserved for AWS"},
        else: {:ok, ns}
    end
  end

  @doc "A metric value."
  def value(v) when is_number(v) and abs(v) <= @max_value, do: {:ok, v}

  def value(v) when is_number(v),
    do: {:error, "the metric value #{inspect(v)} is outside CloudWatch's range (-2^360 to 2^360)"}

  def value(v), do: {:error, "a metric value must be a number, got #{inspect(v)}"}

  @doc "A storage resolution in seconds: 1 or 60."
  def resolution(r) when r in [1, 60], do: {:ok, r}

  def resolution(r),
    do:
      {:error,
       "the storage resolution must be 60 (standard) or 1 (high resolution), got #{inspect(r)}"}

  defp text(what, name, max, no_colon?)
       when is_atom(name) and not is_nil(name) and not is_boolean(name),
       do: text(what, Atom.to_string(name), max, no_colon?)

  defp text(what, name, max, no_colon?) when is_binary(name) do
    cond do
      not printable_ascii?(name) ->
        {:error, "the #{what} #{inspect(name)} must be printable ASCII"}

      String.trim(name) == "" ->
        {:error, "the #{what} #{inspect(name)} must have a character other than a space"}

      byte_size(name) > max ->
        {:error,
         "the #{what} #{inspect(String.slice(name, 0, 40) <> "...")} is longer than #{max} characters"}

      no_colon? and String.starts_with?(name, ":") ->
        {:error, "the #{what} #{inspect(name)} must not start with a colon"}

      true ->
        {:ok, name}
    end
  end

  defp text(what, name, _max, _), do: {:error, "a #{what} must be a string, got #{inspect(name)}"}

  defp printable_ascii?(<<>>), do: true
  defp printable_ascii?(<<c, rest::binary>>) when c in 0x20..0x7E, do: printable_ascii?(rest)
  defp printable_ascii?(_), do: false
end
