defmodule LambdaRuntime.LogFormatTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.{JSON, LogFormat}

  @ts {{2026, 11, 27}, {9, 3, 4, 5}}

  defp json(level, message, metadata) do
    line = level |> LogFormat.json(message, @ts, metadata) |> IO.iodata_to_binary()

    assert String.ends_with?(line, "\n") and
             not String.contains?(String.trim_trailing(line), "\n")

    JSON.decode!(line)
  end

  defp text(level, message, metadata),
    do: level |> LogFormat.text(message, @ts, metadata) |> IO.iodata_to_binary()

  test "JSON: the fields, one line even for a multi-line message" do
    assert json(:info, ["two", ?\n, "lines"], request_id: "r-1", tenant_id: "t-1", pid: self()) ==
             %{
               "timestamp" => "2026-11-27T09:03:04.005Z",
               "level" => "INFO",
               "message" => "two\nlines",
               "requestId" => "r-1",
               "tenantId" => "t-1"
             }
  end

  test "JSON: Lambda's level names" do
    levels = [:debug, :info, :notice, :warning, :error, :critical, :alert]

    assert Enum.map(levels, &json(&1, "m", [])["level"]) ==
             ~w(DEBUG INFO INFO WARN ERROR FATAL FATAL)
  end

  test "JSON: error fields from the runtime's metadata and from a crash reason" do
    assert %{"errorType" => "E", "errorMessage" => "m", "stackTrace" => ["s"]} =
             json(:error, "x", error_type: "E", error_message: "m", stack_trace: ["s"])

    stack = [{Some.Mod, :fun, 1, [file: ~c"lib/some.ex", line: 7]}]

    assert %{"errorType" => "RuntimeError", "errorMessage" => "boom", "stackTrace" => [frame]} =
             json(:error, "x", crash_reason: {%RuntimeError{message: "boom"}, stack})

    assert frame =~ "lib/some.ex:7: Some.Mod.fun/1"

    # An Erlang reason is shown as the exception Elixir raises for it.
    assert %{"errorType" => "ArgumentError"} = json(:error, "x", crash_reason: {:badarg, stack})
  end

  test "JSON: other metadata as JSON when it can be, inspected when not; bad bytes inspected" do
    event = json(:info, <<255, 0>>, order: %{"n" => 1}, ref: {:a, :b}, raw: <<255>>)
    assert event["order"] == %{"n" => 1}
    assert event["ref"] == "{:a, :b}"
    assert event["raw"] == "<<255>>"
    assert event["message"] == "<<255, 0>>"
  end

  test "JSON: OTP's bookkeeping metadata of a crash report stays out" do
    # What a process or GenServer crash report carries (OTP 25 and 27 alike).
    metadata = [
      error_logger: %{tag: :error, report_cb: &:gen_server.format_log/1},
      domain: [:otp, :sasl],
      crash_reason: {:boom, []},
      request_id: "r-1"
    ]

    event = json(:error, "GenServer terminating", metadata)

    assert Enum.sort(Map.keys(event)) == ~w(level message requestId timestamp)
  end

  test "text: TIMESTAMP, request id (undefined outside one), level, message; newlines as CR" do
    assert text(:warning, "a\nb\nc", request_id: "r-9") ==
             "2026-11-27T09:03:04.005Z\tr-9\tWARN\ta\rb\rc\n"

    assert text(:info, ["x", ?y], []) == "2026-11-27T09:03:04.005Z\tundefined\tINFO\txy\n"

    line = LogFormat.text(:info, "m", {{2026, 12, 31}, {23, 59, 58, 999}}, [])
    assert IO.iodata_to_binary(line) == "2026-12-31T23:59:58.999Z\tundefined\tINFO\tm\n"
  end

  test "AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT values" do
    assert Enum.map(~w(TRACE debug Info WARN error FATAL bogus), &LogFormat.level/1) ==
             [:debug, :debug, :info, :warning, :error, :critical, nil]

    assert LogFormat.level(nil) == nil
    assert LogFormat.json?("JSON") and LogFormat.json?(" json ")
    refute LogFormat.json?("Text") or LogFormat.json?(nil)
  end
end
