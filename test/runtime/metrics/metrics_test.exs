defmodule LambdaRuntime.MetricsTest do
  # LambdaRuntime.Metrics through LambdaRuntime.Test.invoke (the runtime's
  # own invocation path), the EMF lines captured from standard output and
  # checked against the specification (TestSupport.EMFSpec).
  use ExUnit.Case, async: true

  import ExUnit.CaptureIO
  import LambdaRuntime.Test

  alias LambdaRuntime.Metrics
  alias LambdaRuntime.TestSupport.EMFSpec

  defmodule Handlers do
    alias LambdaRuntime.Metrics

    def ok(_event, _context) do
      Metrics.put("Orders", 1)
      Metrics.put("Latency", 12, :milliseconds)
      Metrics.put("Latency", 15.5, "Milliseconds")
      Metrics.put(:PayloadSize, 2048, :bytes, resolution: 1)
      Metrics.put_property("orderId", "o-42")
      {:ok, "done"}
    end

    def dimensions(_event, _context) do
      Metrics.set_namespace("Shop")
      Metrics.put_dimensions(%{"Operation" => "create"})
      Metrics.put_dimensions(Channel: :web, Operation: "create")
      Metrics.put("Orders", 1)
      :ok
    end

    def raises(_event, _context) do
      Metrics.put("BeforeRaise", 1)
      raise "boom"
    end

    def exits(_event, _context) do
      Metrics.put("BeforeExit", 1)
      exit(:gone)
    end

    def killed(_event, _context) do
      Metrics.put("BeforeKill", 1)
      Process.exit(self(), :kill)
    end

    def slow(_event, _context) do
      Metrics.put("BeforeTimeout", 1)
      Process.sleep(:infinity)
    end

    def task(_event, _context) do
      1..3
      |> Enum.map(&Task.async(fn -> Metrics.put("FromTask", &1) end))
      |> Enum.each(&Task.await/1)

      :ok
    end

    def many(_event, _context) do
      for i <- 1..250, do: Metrics.put("M#{i}", i)
      for i <- 1..150, do: Metrics.put("Repeated", i)
      :ok
    end

    def bad(%{"call" => call}, _context) do
      case call do
        "unit" ->
          Metrics.put("X", 1, :furlongs)

        "name" ->
          Metrics.put(String.duplicate("n", 256), 1)

        "value" ->
          Metrics.put("X", "1")

        "resolution" ->
          Metrics.put("X", 1, :count, resolution: 5)

        "units" ->
          Metrics.put("X", 1, :count)
          Metrics.put("X", 1, :seconds)

        "dimensions" ->
          Metrics.put_dimensions(Map.new(1..31, &{"d#{&1}", "v"}))

        "dimension_value" ->
          Metrics.put_dimensions(%{"a" => "1"})
          Metrics.put_dimensions(%{"a" => "2"})

        "kind" ->
          Metrics.put("a", 1)
          Metrics.put_property("a", 2)

        "namespace" ->
          Metrics.set_namespace("AWS/Lambda")

        "ascii" ->
          Metrics.put("caf\u00e9", 1)
      end
    end

    def none(_event, _context), do: :ok
  end

  defp run(function, event \\ %{}, opts \\ []) do
    handler = "#{inspect(Handlers)}.#{function}"
    parent = self()

    output =
      capture_io(fn ->
        send(parent, {:result, invoke(handler, event, opts)})
      end)

    assert_received {:result, result}
    {result, EMFSpec.lines!(output)}
  end

  defp directive(line), do: hd(line["_aws"]["CloudWatchMetrics"])

  test "one EMF line at the end of the invocation: values, units, resolution, properties" do
    ctx = context(function_name: "orders-fn", request_id: "req-7")
    {result, [line]} = run(:ok, %{}, context: ctx)
    assert result == {:ok, "done"}

    d = directive(line)
    assert d["Namespace"] == "orders-fn"
    assert d["Dimensions"] == [[]]

    assert Enum.sort_by(d["Metrics"], & &1["Name"]) == [
             %{"Name" => "Latency", "Unit" => "Milliseconds"},
             %{"Name" => "Orders", "Unit" => "Count"},
             %{"Name" => "PayloadSize", "Unit" => "Bytes", "StorageResolution" => 1}
           ]

    assert line["Latency"] == [12, 15.5]
    assert line["Orders"] == 1
    assert line["orderId"] == "o-42"
    assert line["requestId"] == "req-7"
  end

  test "namespace and dimension sets of the invocation" do
    {_, [line]} = run(:dimensions)
    d = directive(line)
    assert d["Namespace"] == "Shop"
    assert d["Dimensions"] == [["Operation"], ["Channel", "Operation"]]
    assert {line["Operation"], line["Channel"]} == {"create", "web"}
  end

  test "nothing put, nothing written" do
    assert {{:ok, nil}, []} = run(:none)
  end

  test "metrics put before a raise, an exit, a kill or a timeout are written" do
    # The deadline only matters to :slow, which puts first thing and then
    # waits for it; a second leaves room for a busy machine.
    for {function, metric, type, timeout} <- [
          {:raises, "BeforeRaise", "RuntimeError", 30_000},
          {:exits, "BeforeExit", "ProcessExit", 30_000},
          {:killed, "BeforeKill", "ProcessExit", 30_000},
          {:slow, "BeforeTimeout", "Sandbox.Timedout", 1_000}
        ] do
      {result, lines} = run(function, %{}, timeout: timeout)
      assert {:error, %{"errorType" => ^type}} = result
      assert [line] = lines, "#{function}: #{inspect(lines)}"
      assert line[metric] == 1
    end
  end

  test "Tasks started by the handler put into its invocation" do
    {_, [line]} = run(:task)
    assert Enum.sort(line["FromTask"]) == [1, 2, 3]
  end

  test "more than 100 metrics or 100 values: several complete lines" do
    {_, lines} = run(:many)
    assert length(lines) == 4

    for line <- lines, do: assert(length(directive(line)["Metrics"]) <= 100)

    values =
      lines
      |> Enum.flat_map(fn line ->
        for m <- directive(line)["Metrics"], do: {m["Name"], line[m["Name"]]}
      end)
      |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))

    assert map_size(values) == 251
    assert values["M7"] == [7]

    assert values["Repeated"] |> Enum.flat_map(&List.wrap/1) |> Enum.sort() ==
             Enum.to_list(1..150)
  end

  test "a mistake fails the invocation with a sentence naming it" do
    for {call, message} <- [
          {"unit", ":furlongs is not a CloudWatch unit; use one of :bits, :bits_per_second"},
          {"name", "is longer than 255 characters"},
          {"value", ~s(a metric value must be a number, got "1")},
          {"resolution", "must be 60 (standard) or 1 (high resolution), got 5"},
          {"units", ~s(the metric "X" was put with unit "Count")},
          {"dimensions", "a dimension set has at most 30 dimensions; this one has 31"},
          {"dimension_value", ~s(the dimension "a" is "1" in this invocation)},
          {"kind", ~s("a" is a metric in this invocation; it cannot also be a property)},
          {"namespace", "starts with AWS/, which is reserved"},
          {"ascii", "must be printable ASCII"}
        ] do
      {result, _} = run(:bad, %{"call" => call})
      assert {:error, %{"errorType" => "ArgumentError", "errorMessage" => got}} = result
      assert got =~ message, "#{call}: #{got}"
    end
  end

  test "flush/0 outside an invocation" do
    output =
      capture_io(fn ->
        Metrics.put("Scripted", 3, :seconds)
        Metrics.flush()
        Metrics.flush()
      end)

    assert [line] = EMFSpec.lines!(output)
    assert line["Scripted"] == 3
  end
end
