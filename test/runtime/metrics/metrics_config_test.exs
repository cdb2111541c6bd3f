defmodule LambdaRuntime.MetricsConfigTest do
  # Function-wide settings from the environment, and the cold start metric:
  # both are VM-wide, so these tests run alone.
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO
  import ExUnit.CaptureLog
  import LambdaRuntime.Test

  alias LambdaRuntime.Metrics.Config
  alias LambdaRuntime.TestSupport.EMFSpec

  defmodule Handler do
    def handle(_event, _context) do
      LambdaRuntime.Metrics.put("Hits", 1)
      LambdaRuntime.Metrics.put_dimensions(%{"Operation" => "get"})
      :ok
    end

    def quiet(_event, _context), do: :ok
  end

  @vars ~w(LAMBDA_METRICS_NAMESPACE LAMBDA_METRICS_DIMENSIONS)

  setup do
    saved = Map.new(@vars, &{&1, System.get_env(&1)})

    on_exit(fn ->
      for {k, v} <- saved, do: if(v, do: System.put_env(k, v), else: System.delete_env(k))
      Application.delete_env(:lambda_runtime, LambdaRuntime.Metrics)
    end)
  end

  defp lines(function, opts \\ []) do
    capture_io(fn -> invoke("#{inspect(Handler)}.#{function}", %{}, opts) end) |> EMFSpec.lines!()
  end

  test "namespace and default dimensions from the environment, in every dimension set" do
    System.put_env("LAMBDA_METRICS_NAMESPACE", "Shop")
    System.put_env("LAMBDA_METRICS_DIMENSIONS", "Service=orders, Stage=prod")

    [line] = lines(:handle)
    [d] = line["_aws"]["CloudWatchMetrics"]
    assert d["Namespace"] == "Shop"
    assert d["Dimensions"] == [["Service", "Stage", "Operation"]]
    assert {line["Service"], line["Stage"], line["Operation"]} == {"orders", "prod", "get"}
  end

  test "application env when the environment says nothing" do
    Application.put_env(:lambda_runtime, LambdaRuntime.Metrics,
      namespace: "FromConfig",
      dimensions: %{"Team" => "payments"}
    )

    [line] = lines(:handle)
    assert hd(line["_aws"]["CloudWatchMetrics"])["Namespace"] == "FromConfig"
    assert line["Team"] == "payments"
  end

  test "bad settings are named" do
    System.put_env("LAMBDA_METRICS_DIMENSIONS", "Service")
    assert {:error, message} = Config.read()

    assert message =~
             "LAMBDA_METRICS_DIMENSIONS / dimensions: a dimension value must be a string, got nil"

    System.put_env("LAMBDA_METRICS_DIMENSIONS", "Service=a")
    System.put_env("LAMBDA_METRICS_NAMESPACE", ":bad")
    assert {:error, message} = Config.read()

    assert message =~
             "LAMBDA_METRICS_NAMESPACE / namespace: the namespace \":bad\" must not start with a colon"

    # put_dimensions fails the invocation with it; the flush logs it.
    log =
      capture_log(fn ->
        assert {:error, %{"errorMessage" => put_error}} =
                 invoke("#{inspect(Handler)}.handle", %{})

        assert put_error =~ "LAMBDA_METRICS_NAMESPACE"
      end)

    assert log =~ "metrics not written: LAMBDA_METRICS_NAMESPACE"
  end

  test "the cold start metric: once, on the first flush, with function_name" do
    LambdaRuntime.Metrics.capture_cold_start()
    ctx = context(function_name: "orders-fn")
    [cold] = lines(:quiet, context: ctx)

    assert cold["ColdStart"] == 1
    assert hd(cold["_aws"]["CloudWatchMetrics"])["Dimensions"] == [["function_name"]]
    assert cold["function_name"] == "orders-fn"

    assert lines(:quiet) == []
    assert [line] = lines(:handle)
    refute Map.has_key?(line, "ColdStart")
  end
end
