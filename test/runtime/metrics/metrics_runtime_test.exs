defmodule LambdaRuntime.MetricsRuntimeTest do
  # EMF lines from the real runtime (bootstrap.sh, its own VM) in Lambda's
  # text and JSON log formats, with the cold start metric turned on by
  # LAMBDA_METRICS_COLD_START: each line is a JSON object of its own that
  # passes the specification's checks, next to Logger lines in the format's
  # own shape, also for an invocation that fails after putting.
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  alias LambdaRuntime.TestSupport.EMFSpec

  @moduletag timeout: 120_000

  for format <- ["Text", "JSON"] do
    test "#{format} log format" do
      env = [
        {"AWS_LAMBDA_LOG_FORMAT", unquote(format)},
        {"LAMBDA_METRICS_COLD_START", "true"},
        {"LAMBDA_METRICS_NAMESPACE", "FixtureShop"}
      ]

      {api, runtime} = start_runtime("Features.Metrics.handle", env: env)

      assert {:response, _} = RecordingApi.invoke(api, "req-1", JSON.encode!(%{"id" => "a"}))

      assert {:error, _} =
               RecordingApi.invoke(api, "req-2", JSON.encode!(%{"id" => "b", "fail" => true}))

      output =
        RuntimeProcess.await_output(runtime, fn out ->
          length(:binary.matches(out, ~s("_aws"))) == 3 and out =~ "after metrics b"
        end)

      lines = EMFSpec.lines!(output)
      assert [cold] = Enum.filter(lines, &Map.has_key?(&1, "ColdStart"))
      assert cold["function_name"] != nil

      by_request =
        lines |> Enum.filter(&Map.has_key?(&1, "Handled")) |> Map.new(&{&1["requestId"], &1})

      assert Map.keys(by_request) |> Enum.sort() == ["req-1", "req-2"]

      for {_, line} <- by_request do
        assert hd(line["_aws"]["CloudWatchMetrics"])["Namespace"] == "FixtureShop"
        assert line["Work"] == 5
      end

      # Logger lines keep their format; EMF lines are not wrapped by it.
      logged =
        output |> String.split("\n", trim: true) |> Enum.filter(&(&1 =~ "before metrics a"))

      assert [log_line] = logged

      case unquote(format) do
        "JSON" -> assert %{"level" => "INFO", "requestId" => "req-1"} = JSON.decode!(log_line)
        "Text" -> assert [_ts, "req-1", "INFO", "before metrics a"] = String.split(log_line, "\t")
      end
    end
  end
end
