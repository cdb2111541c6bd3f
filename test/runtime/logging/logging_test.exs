defmodule LambdaRuntime.LoggingTest do
  # What the runtime process writes to stdout/stderr in Lambda's JSON and
  # text log formats, with AWS_LAMBDA_LOG_LEVEL, also under concurrency.
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  @moduletag timeout: 120_000

  @rfc3339 ~r/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

  defp start(env, handler \\ "Features.Logging.handle"), do: start_runtime(handler, env: env)

  defp invoke(api, n, extra \\ %{}) do
    event = Map.merge(%{"id" => "id-#{n}"}, extra)
    RecordingApi.invoke(api, "req-#{n}", JSON.encode!(event), [], 60_000)
  end

  # Every line of output so far, once `done?` holds for it.
  defp lines(runtime, done?) do
    runtime
    |> RuntimeProcess.await_output(done?)
    |> String.split("\n", trim: true)
  end

  defp count(output, pattern), do: length(:binary.matches(output, pattern))

  test "JSON: every line of 8 concurrent pollers' output is one whole JSON object" do
    {api, runtime} =
      start([{"AWS_LAMBDA_LOG_FORMAT", "JSON"}, {"AWS_LAMBDA_MAX_CONCURRENCY", "8"}])

    failing? = &(rem(&1, 20) == 0)

    1..200
    |> Task.async_stream(&invoke(api, &1, %{"fail" => failing?.(&1)}),
      max_concurrency: 16,
      timeout: 60_000
    )
    |> Stream.run()

    # Logger writes asynchronously: wait for its lines too, not only for the
    # handlers' direct writes.
    lines =
      lines(runtime, fn out ->
        count(out, ~s("stdout":)) == 200 and count(out, ~s("stderr":)) == 200 and
          count(out, "Invocation failed") == 10 and count(out, ~s("message":"info id-)) == 200 and
          count(out, ~s("message":"warn id-)) == 200
      end)

    events = Enum.map(lines, &JSON.decode!/1)
    assert Enum.all?(events, &is_map/1)

    {logged, written} = Enum.split_with(events, &Map.has_key?(&1, "level"))
    assert length(written) == 400

    for event <- logged do
      assert event["timestamp"] =~ @rfc3339
      assert event["level"] in ~w(DEBUG INFO WARN ERROR FATAL)
      assert is_binary(event["message"])
    end

    by_message = Map.new(logged, &{&1["message"], &1})

    for n <- 1..200 do
      info = by_message["info id-#{n} " <> String.duplicate("x", 2000)]
      assert %{"level" => "INFO", "requestId" => request_id} = info
      assert request_id == "req-#{n}"

      warn = by_message["warn id-#{n}\nsecond line of id-#{n}"]
      assert %{"level" => "WARN", "requestId" => ^request_id} = warn
    end

    failures = Enum.filter(logged, &(&1["errorType"] == "ArgumentError"))
    assert length(failures) == 10

    for failure <- failures do
      "req-" <> n = failure["requestId"]
      assert failure["level"] == "ERROR"
      assert failure["errorMessage"] == "failing id-#{n}"
      assert [_ | _] = failure["stackTrace"]
      assert Enum.any?(failure["stackTrace"], &(&1 =~ "Features.Logging.handle/2"))
    end
  end

  for format <- ["JSON", "Text"] do
    test "#14.6 #{format}: Logger lines and direct writes keep their order" do
      {api, runtime} =
        start([{"AWS_LAMBDA_LOG_FORMAT", unquote(format)}], "Features.Logging.ordered")

      RecordingApi.invoke(api, "req-1", ~s({"n":50}), [], 60_000)

      output = RuntimeProcess.await_output(runtime, &(&1 =~ "written 50\n" and &1 =~ "logged 50"))

      order =
        for line <- String.split(output, "\n", trim: true),
            [_, what, i] <- [Regex.run(~r/(logged|written) (\d+)/, line)],
            do: {what, String.to_integer(i)}

      assert order == Enum.flat_map(1..50, &[{"logged", &1}, {"written", &1}])
    end
  end

  test "#14.7 processes the handler starts log with its request id, crashes included" do
    {api, runtime} = start([{"AWS_LAMBDA_LOG_FORMAT", "JSON"}], "Features.Logging.spawned")
    RecordingApi.invoke(api, "req-7", "{}", [], 60_000)

    output =
      RuntimeProcess.await_output(
        runtime,
        &(&1 =~ "from a task" and &1 =~ "task crash" and &1 =~ "agent crash" and
            &1 =~ "spawn crash")
      )

    events = for line <- String.split(output, "\n", trim: true), do: JSON.decode!(line)

    for text <- ["from a task", "task crash", "agent crash", "spawn crash"] do
      event = Enum.find(events, &(&1["message"] =~ text or inspect(&1) =~ text))
      assert event["requestId"] == "req-7", "#{text}: #{inspect(event)}"
    end
  end

  test "AWS_LAMBDA_LOG_LEVEL=WARN leaves out debug and info" do
    {api, runtime} = start([{"AWS_LAMBDA_LOG_FORMAT", "JSON"}, {"AWS_LAMBDA_LOG_LEVEL", "WARN"}])
    invoke(api, 1)
    lines = lines(runtime, &(&1 =~ ~s("message":"error id-1")))

    levels = for line <- lines, event = JSON.decode!(line), level = event["level"], do: level
    assert "WARN" in levels and "ERROR" in levels
    refute Enum.any?(levels, &(&1 in ["DEBUG", "INFO"]))
  end

  test "text: TIMESTAMP<TAB>REQUEST_ID<TAB>LEVEL<TAB>message, undefined outside invocations" do
    {api, runtime} = start([{"AWS_LAMBDA_LOG_LEVEL", "INFO"}])
    invoke(api, 1)
    invoke(api, 2, %{"fail" => true})
    first = RuntimeProcess.await_output(runtime, &(&1 =~ "Invocation failed"))
    FeaturesFixture.signal!(runtime, "TERM")
    {0, rest} = RuntimeProcess.await_exit(runtime)
    output = first <> rest

    fields =
      for line <- String.split(output, "\n", trim: true),
          [timestamp, request_id, level, message] <- [String.split(line, "\t", parts: 4)],
          do: {timestamp, request_id, level, message}

    # Every line is a log line: the handler's own writes are JSON (no tabs).
    assert length(fields) == count(output, "\n") - count(output, ~s("std))
    assert Enum.all?(fields, fn {timestamp, _, _, _} -> timestamp =~ @rfc3339 end)
    info = "info id-1 " <> String.duplicate("x", 2000)
    assert Enum.any?(fields, &match?({_, "req-1", "INFO", ^info}, &1))
    assert Enum.any?(fields, &match?({_, "req-2", "ERROR", "error id-2"}, &1))
    # A multi-line message stays one line (one CloudWatch event).
    assert Enum.any?(fields, &match?({_, "req-1", "WARN", "warn id-1\rsecond line of id-1"}, &1))
    assert Enum.any?(fields, &match?({_, "req-2", "ERROR", "Invocation failed: " <> _}, &1))
    assert Enum.any?(fields, &match?({_, "undefined", "INFO", "SIGTERM received" <> _}, &1))
    refute Enum.any?(fields, fn {_, _, level, _} -> level == "DEBUG" end)
  end
end
