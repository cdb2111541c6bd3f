defmodule LambdaRuntime.Fault.MatrixApiTest do
  # The fault matrix, Runtime API rows (docs/fault-matrix.md): the real
  # bootstrap.sh with Fixture.Matrix.handle against a Runtime API that
  # misbehaves on purpose. The recoverable rows share one runtime and each
  # is followed by an invocation that must succeed on it; the fatal rows
  # (the runtime must exit) each start their own.
  use LambdaRuntime.TestSupport.FaultCase, shared: "Fixture.Matrix.handle"

  alias LambdaRuntime.TestSupport.{HTTPServer, Wait}
  alias LambdaRuntime.TestSupport.Fault.SharedRuntime

  # A stall of a few seconds stands for Lambda's worst case (a /next that
  # waits as long as the function is idle): the runtime sets no read
  # timeout, so 3 s proves the same thing as 30 s.
  @stall_ms 3_000

  defp retries(shared, kind) do
    {output, _} = SharedRuntime.output(shared)
    length(Regex.scan(~r/Runtime API connection failed \(#{kind}: /, output))
  end

  # The console Logger writes asynchronously: waits for `count` warnings.
  defp await_retries(shared, kind, count) do
    Wait.until(
      fn ->
        found = retries(shared, kind)
        if found >= count, do: found
      end,
      message: "fewer than #{count} #{kind} retries were logged"
    )
  end

  describe "recoverable" do
    test "410 on /response: logged as no longer current, no /error; next served",
         %{api: api, shared: shared} do
      FaultApi.push_reply(api, :response, {410, ~s({"errorType":"InvalidRequestID"})})
      assert served!(api, "a-410", %{"do" => "ok"})["request_id"] == "a-410"
      serves_next!(api, "a-410")

      assert all_posted(api, "a-410", "response") |> length() == 1
      assert all_posted(api, "a-410", "error") == []

      assert SharedRuntime.await_output(shared, "a-410 answered 410") =~
               "/response for a-410 answered 410: the invocation is no longer current"
    end

    test "413 on /response: Function.ResponseSizeTooLarge through /error; next served",
         %{api: api} do
      FaultApi.push_reply(api, :response, {413, ~s({"errorType":"RequestEntityTooLarge"})})
      FaultApi.event(api, "a-413", ~s({"do":"ok"}))

      assert JSON.decode!(posted(api, "a-413").body)["request_id"] == "a-413"
      error = posted(api, "a-413", "error")

      assert header(error, "lambda-runtime-function-error-type") ==
               "Function.ResponseSizeTooLarge"

      assert JSON.decode!(error.body)["errorMessage"] =~ "exceeded maximum allowed payload size"
      serves_next!(api, "a-413")
    end

    test "connection reset mid-poll: /next retried, the event then served",
         %{api: api, shared: shared} do
      idle!(api)
      before = retries(shared, "closed")
      FaultApi.push_next(api, :reset)
      assert served!(api, "a-reset", %{"do" => "ok"})["request_id"] == "a-reset"
      assert await_retries(shared, "closed", before + 1) == before + 1
      serves_next!(api, "a-reset")
    end

    test "truncated /next body (Content-Length larger than sent, then close): answered with an error",
         %{api: api} do
      idle!(api)

      FaultApi.push_next(
        api,
        {:raw,
         "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a-truncated\r\n" <>
           "Lambda-Runtime-Deadline-Ms: #{System.os_time(:millisecond) + 60_000}\r\n" <>
           "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"do\":\"ok\","}
      )

      # The cut-off event is not lost: it is answered with an error, never
      # handed to the handler.
      error = posted(api, "a-truncated", "error")
      assert header(error, "lambda-runtime-function-error-type") == "Runtime.InvalidEvent"
      assert LambdaRuntime.JSON.decode!(error.body)["errorMessage"] =~ "did not arrive whole"
      assert all_posted(api, "a-truncated", "response") == []
      assert served!(api, "a-after-truncated", %{"do" => "ok"})["ok"] == true
      serves_next!(api, "a-after-truncated")
    end

    test "one garbage status line: retried, the event then served", %{api: api, shared: shared} do
      idle!(api)
      before = retries(shared, "protocol")
      FaultApi.push_next(api, {:raw, "NOT-HTTP garbage\r\n\r\n"})
      assert served!(api, "a-garbage", %{"do" => "ok"})["request_id"] == "a-garbage"
      assert await_retries(shared, "protocol", before + 1) == before + 1
      serves_next!(api, "a-garbage")
    end

    test "#14.15 a /next head over 64 KiB (100 KiB): the event is served", %{api: api} do
      big = String.duplicate("h", 100 * 1024)
      FaultApi.event(api, "a-big-head", ~s({"do":"ok"}), headers: [{"X-Big", big}])
      assert JSON.decode!(posted(api, "a-big-head").body)["request_id"] == "a-big-head"
      serves_next!(api, "a-big-head")
    end

    test "#14.15 a /next head too large to read (200 KiB): skipped, polling goes on",
         %{api: api, shared: shared} do
      idle!(api)
      big = String.duplicate("h", 200 * 1024)

      FaultApi.push_next(
        api,
        {:raw,
         "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a-huge-head\r\nX-Big: #{big}\r\n" <>
           "Content-Length: 2\r\n\r\n{}"}
      )

      assert served!(api, "a-after-huge-head", %{"do" => "ok"})["ok"] == true

      assert SharedRuntime.await_output(shared, "is skipped") =~
               "the Runtime API's /next answer could not be read"

      assert all_posted(api, "a-huge-head", "response") == []
      assert {_, nil} = SharedRuntime.output(shared)
      serves_next!(api, "a-after-huge-head")
    end

    test "/next answered only after #{@stall_ms} ms: the runtime just waits, then serves",
         %{api: api} do
      waiting = idle!(api)
      count = next_count(api)
      Process.sleep(@stall_ms)
      # Still the same one request: no timeout, no retry, no second poll.
      assert next_count(api) == count
      pushed_at = System.monotonic_time(:millisecond)
      assert served!(api, "a-stall-next", %{"do" => "ok"})["request_id"] == "a-stall-next"
      assert pushed_at - waiting.at >= @stall_ms
      serves_next!(api, "a-stall-next")
    end
  end

  describe "bounded waits" do
    test "#14.16 /response never answered: logged after the bound, not retried; next served" do
      api = start_api()

      runtime =
        start_runtime(api, "Fixture.Matrix.handle",
          env: [{"LAMBDA_RUNTIME_API_TIMEOUT_MS", "1000"}]
        )

      FaultApi.push_reply(api, :response, :hang)
      FaultApi.event(api, "a-hang", ~s({"do":"ok"}))
      assert served!(api, "a-after-hang", %{"do" => "ok"})["request_id"] == "a-after-hang"
      assert [_] = all_posted(api, "a-hang", "response")
      assert all_posted(api, "a-hang", "error") == []
      serves_next!(api, "a-after-hang")
      assert RuntimeProcess.output(runtime) =~ ~s(/response for "a-hang" got no answer)
      port = runtime.port
      refute_received {^port, {:exit_status, _}}
    end
  end

  describe "fatal" do
    test "500 on /next: the runtime exits promptly, non-zero" do
      api = start_api()
      runtime = start_runtime(api, "Fixture.Matrix.handle")
      FaultApi.push_next(api, {:status, 500, ~s({"errorType":"ServiceException"})})

      assert {status, log} = RuntimeProcess.await_exit(runtime, 10_000)
      assert status != 0
      assert log =~ ~s(the Runtime API answered /next with 500: {"errorType":"ServiceException"})
      assert next_count(api) == 1
    end

    test "#14.16 /init/error never answered: the runtime still exits non-zero" do
      api = start_api()
      FaultApi.push_reply(api, :init_error, :hang)
      runtime = start_runtime(api, "Nope.handle")

      # Without a bound it waited for ever (cargo-lambda's emulator does not
      # answer after a runtime was killed mid-poll).
      assert {status, log} = RuntimeProcess.await_exit(runtime, 20_000)
      assert status != 0
      assert log =~ "Runtime.HandlerNotFound"

      assert [_] =
               FaultApi.requests(api) |> Enum.filter(&String.ends_with?(&1.path, "/init/error"))
    end

    test "connection refused at start: retries, a clear log line, non-zero exit" do
      runtime = start_runtime("127.0.0.1:#{HTTPServer.free_port()}", "Fixture.Matrix.handle")

      assert {status, log} = RuntimeProcess.await_exit(runtime, 20_000)
      assert status != 0
      assert length(Regex.scan(~r/connection failed \(refused: /, log)) >= 3
      assert log =~ "could not reach the Runtime API for /next (refused: "
    end

    test "a garbage status line that persists: retried, then a non-zero exit" do
      api = start_api()
      for _ <- 1..10, do: FaultApi.push_next(api, {:raw, "NOT-HTTP garbage\r\n\r\n"})
      runtime = start_runtime(api, "Fixture.Matrix.handle")

      assert {status, log} = RuntimeProcess.await_exit(runtime, 20_000)
      assert status != 0
      assert log =~ "could not reach the Runtime API for /next (protocol: "
      retried = length(Regex.scan(~r/connection failed \(protocol: /, log))
      assert retried >= 3
      # Every attempt reached the API: the first plus one per retry.
      assert next_count(api) == retried + 1
    end
  end
end

defmodule LambdaRuntime.Fault.MatrixProxyTest do
  # The fault matrix, rows that need the Runtime API's answer to one request
  # to be shaped: a proxy (StallProxy) in front of the FaultApi holds it back
  # for a few seconds, or answers early without reading the request body.
  use LambdaRuntime.TestSupport.FaultCase

  alias LambdaRuntime.TestSupport.Fault.{SharedRuntime, StallProxy}

  @stall_ms 3_000

  # The test's FaultApi behind a StallProxy with `rule`, and a runtime on it.
  defp start(api, rule) do
    proxy = StallProxy.start!(api.port, rule)
    runtime_api = StallProxy.runtime_api(proxy)
    shared = SharedRuntime.start!("Fixture.Matrix.handle", api: api, runtime_api: runtime_api)

    on_exit(fn ->
      SharedRuntime.stop(shared)
      StallProxy.stop(proxy)
    end)

    shared
  end

  test "/response answered only after #{@stall_ms} ms: the runtime waits, then serves on",
       %{api: api} do
    start(api, {:stall, "/a-stall-response/response", @stall_ms})
    FaultApi.event(api, "a-stall-response", ~s({"do":"ok"}))
    FaultApi.event(api, "a-after-stall", ~s({"do":"ok"}))

    assert JSON.decode!(posted(api, "a-after-stall").body)["request_id"] == "a-after-stall"
    [stalled] = all_posted(api, "a-stall-response", "response")
    assert all_posted(api, "a-stall-response", "error") == []

    # The next /next came only once the held-back answer had been passed on.
    assert_received {StallProxy, :released, released_at}

    [next | _] =
      api
      |> FaultApi.requests()
      |> Enum.filter(&(&1.method == "GET" and &1.at > stalled.at))

    assert next.at >= released_at
    serves_next!(api, "a-after-stall")
  end

  # Lambda's Runtime API (the newer code paths) reads a response only up to
  # its limit plus one byte, answers 413 and leaves the rest unread; the
  # runtime, still sending, sees the connection reset, and takes it for the
  # 413 (an over-limit body is sent once, never retried).
  test "7 MB response, API answers 413 early and resets: ResponseSizeTooLarge; next served",
       %{api: api} do
    shared = start(api, {:answer_early, "/a-early/response", 413})
    FaultApi.event(api, "a-early", ~s({"do":"big","bytes":7000000}))

    error = posted(api, "a-early", "error")
    assert header(error, "lambda-runtime-function-error-type") == "Function.ResponseSizeTooLarge"
    serves_next!(api, "a-early")
    assert {_, nil} = SharedRuntime.output(shared)
  end
end
