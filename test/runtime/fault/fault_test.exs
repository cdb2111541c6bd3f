defmodule LambdaRuntime.FaultTest do
  # The real bootstrap.sh against a Runtime API that misbehaves on purpose.
  use LambdaRuntime.TestSupport.FaultCase

  test "events are served and answered with the request's own id", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.event(api, "req-a", ~s({"n":1}))
    FaultApi.event(api, "req-b", ~s({"n":2}))

    for {id, n} <- [{"req-a", 1}, {"req-b", 2}] do
      request = posted(api, id)
      assert request.method == "POST"
      assert header(request, "content-type") == "application/json"
      body = JSON.decode!(request.body)
      assert body["event"] == %{"n" => n}
      assert body["request_id"] == id
      assert body["function_name"] == "test-function"
      assert body["trace_env"] =~ "Root=1-5759e988"
    end

    assert [%{method: "GET"} | _] = FaultApi.requests(api)
  end

  test "413 on /response: Function.ResponseSizeTooLarge posted to /error, next event served",
       %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_reply(api, :response, {413, ~s({"errorType":"RequestEntityTooLarge"})})
    FaultApi.event(api, "req-big", ~s({"n":1}))
    FaultApi.event(api, "req-after", ~s({"n":2}))

    [error] = FaultApi.await(api, "/runtime/invocation/req-big/error")
    assert header(error, "lambda-runtime-function-error-type") == "Function.ResponseSizeTooLarge"

    assert %{"errorType" => "Function.ResponseSizeTooLarge", "errorMessage" => message} =
             JSON.decode!(error.body)

    assert message =~ "exceeded maximum allowed payload size"
    assert JSON.decode!(posted(api, "req-after").body)["request_id"] == "req-after"
  end

  test "410 on /response is logged and the next event is served", %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_reply(api, :response, {410, ~s({"errorType":"InvalidRequestID"})})
    FaultApi.event(api, "req-stale", "{}")
    FaultApi.event(api, "req-fresh", "{}")

    posted(api, "req-stale")
    assert JSON.decode!(posted(api, "req-fresh").body)["request_id"] == "req-fresh"
    # No retry and no /error for the stale one.
    refute Enum.any?(FaultApi.requests(api), &String.ends_with?(&1.path, "/req-stale/error"))
    assert RuntimeProcess.await_output(runtime, "answered 410") =~ "no longer current"
  end

  test "500 on /next makes the runtime exit non-zero, promptly", %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_next(api, {:status, 500, ~s({"errorType":"ServiceException"})})

    assert {status, log} = RuntimeProcess.await_exit(runtime, 10_000)
    assert status != 0
    assert log =~ "answered /next with 500"
    assert length(FaultApi.requests(api)) == 1
  end

  test "500 on /next with a request id and a cut-off body: still a prompt non-zero exit",
       %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")

    FaultApi.push_next(
      api,
      {:raw,
       "HTTP/1.1 500 Internal Server Error\r\nLambda-Runtime-Aws-Request-Id: r-500\r\n" <>
         "Content-Length: 100\r\n\r\n{\"errorType\""}
    )

    assert {status, log} = RuntimeProcess.await_exit(runtime, 10_000)
    assert status != 0
    assert log =~ "answered /next with 500: (body cut off"
    assert length(FaultApi.requests(api)) == 1
  end

  test "a connection reset mid-/next is retried and the event then served", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_next(api, :reset)
    FaultApi.event(api, "req-after-reset", ~s({"ok":true}))

    assert JSON.decode!(posted(api, "req-after-reset").body)["event"] == %{"ok" => true}
    assert length(FaultApi.await(api, "/next", 2)) == 2
  end

  test "a garbage status line is retried and the event then served", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_next(api, {:raw, "NOT-HTTP garbage\r\n\r\n"})
    FaultApi.event(api, "req-after-garbage", "{}")

    assert JSON.decode!(posted(api, "req-after-garbage").body)["request_id"] ==
             "req-after-garbage"
  end

  test "408 on /next is asked again", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_next(api, {:status, 408, ""})
    FaultApi.push_next(api, {:status, 408, ""})
    FaultApi.event(api, "req-after-408", "{}")

    posted(api, "req-after-408")
    assert length(FaultApi.await(api, "/next", 3)) == 3
  end

  test "another 4xx on /next is logged and asked again", %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_next(api, {:status, 429, ~s({"errorType":"TooManyRequests"})})
    FaultApi.event(api, "req-after-429", "{}")

    posted(api, "req-after-429")
    log = RuntimeProcess.await_output(runtime, "TooManyRequests")
    assert log =~ "answered /next with 429"
    assert log =~ "TooManyRequests"
  end

  test "upper-case header names and a missing Content-Type are fine", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")

    FaultApi.event(api, "req-upper", ~s({"x":1}),
      header_case: :upper,
      content_type: nil,
      headers: [{"Lambda-Runtime-Invocation-Id", "inv-upper"}]
    )

    FaultApi.event(api, "req-lower", ~s({"x":2}), header_case: :lower)

    upper = posted(api, "req-upper")
    assert JSON.decode!(upper.body)["event"] == %{"x" => 1}
    assert JSON.decode!(upper.body)["invocation_id"] == "inv-upper"
    assert JSON.decode!(posted(api, "req-lower").body)["event"] == %{"x" => 2}
  end

  test "Lambda-Runtime-Invocation-Id is echoed on /response and /error", %{api: api} do
    start_runtime(api, "Fixture.Fail.raise_it")
    FaultApi.event(api, "req-err", "{}", headers: [{"Lambda-Runtime-Invocation-Id", "inv-42"}])
    [error] = FaultApi.await(api, "/runtime/invocation/req-err/error")
    assert header(error, "lambda-runtime-invocation-id") == "inv-42"

    api2 = start_api()
    start_runtime(api2, "Fixture.Echo.handle")
    FaultApi.event(api2, "req-ok", "{}", headers: [{"Lambda-Runtime-Invocation-Id", "inv-43"}])
    assert header(posted(api2, "req-ok"), "lambda-runtime-invocation-id") == "inv-43"

    FaultApi.event(api2, "req-no-inv", "{}")
    assert header(posted(api2, "req-no-inv"), "lambda-runtime-invocation-id") == nil
  end

  test "a function error: header type and body shape", %{api: api} do
    start_runtime(api, "Fixture.Fail.raise_it")
    FaultApi.event(api, "req-raise", ~s({"why":"test"}))
    FaultApi.event(api, "req-raise-2", "{}")

    [error] = FaultApi.await(api, "/runtime/invocation/req-raise/error")
    assert header(error, "lambda-runtime-function-error-type") == "Function.ArgumentError"
    assert header(error, "content-type") =~ "application/vnd.aws.lambda.error+json"

    body = JSON.decode!(error.body)
    assert Map.keys(body) |> Enum.sort() == ["errorMessage", "errorType", "stackTrace"]
    assert body["errorType"] == "ArgumentError"
    assert body["errorMessage"] == ~s(asked to fail: %{"why" => "test"})
    assert Enum.any?(body["stackTrace"], &(&1 =~ "Fixture.Fail.raise_it/2"))

    cause = JSON.decode!(header(error, "lambda-runtime-function-xray-error-cause"))
    assert [%{"type" => "ArgumentError", "stack" => [_ | _]}] = cause["exceptions"]

    # The loop keeps serving after a failure.
    FaultApi.await(api, "/runtime/invocation/req-raise-2/error")
  end

  test "an event that is not JSON is reported as Runtime.InvalidEvent", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.event(api, "req-bad-json", "{not json")
    [error] = FaultApi.await(api, "/runtime/invocation/req-bad-json/error")
    assert header(error, "lambda-runtime-function-error-type") == "Runtime.InvalidEvent"
    assert JSON.decode!(error.body)["errorMessage"] =~ "not valid JSON"
  end

  test "connection refused at start: a few retries, then a non-zero exit" do
    port = LambdaRuntime.TestSupport.HTTPServer.free_port()
    runtime = Fixture.start_runtime!("127.0.0.1:#{port}", "Fixture.Echo.handle")

    assert {status, log} = RuntimeProcess.await_exit(runtime, 20_000)
    assert status != 0
    retries = Regex.scan(~r/connection failed \(refused/, log)
    assert length(retries) >= 3
    assert log =~ "could not reach the Runtime API for /next (refused"
  end

  test "a bad or missing AWS_LAMBDA_RUNTIME_API is a clear error and a non-zero exit" do
    for {api, expected} <- [
          {"", "AWS_LAMBDA_RUNTIME_API is not set"},
          {"127.0.0.1", ~s("127.0.0.1" has no valid host:port)},
          {"ftp://127.0.0.1:1", "unknown scheme"}
        ] do
      runtime = Fixture.start_runtime!(api, "Fixture.Echo.handle")
      assert {status, log} = RuntimeProcess.await_exit(runtime, 10_000)
      assert status != 0, "for #{inspect(api)}"
      assert log =~ expected
    end
  end

  test "a linked process failing inside init/1 is one Runtime.InitError, then exit",
       %{api: api} do
    runtime = start_runtime(api, "Fixture.InitLinkFails")
    [init_error] = FaultApi.await(api, "/runtime/init/error")
    assert header(init_error, "lambda-runtime-function-error-type") == "Runtime.InitError"
    assert JSON.decode!(init_error.body)["errorMessage"] =~ "agent init failed"

    assert {status, log} = RuntimeProcess.await_exit(runtime)
    assert status != 0
    assert length(String.split(log, "fixture init/1 ran")) == 2
    assert length(FaultApi.requests(api)) == 1
  end

  test "a missing handler posts /init/error and exits non-zero", %{api: api} do
    runtime = start_runtime(api, "Fixture.Nope.handle")
    [init_error] = FaultApi.await(api, "/runtime/init/error")
    assert header(init_error, "lambda-runtime-function-error-type") == "Runtime.HandlerNotFound"
    assert JSON.decode!(init_error.body)["errorMessage"] =~ "Fixture.Nope is not available"

    assert {status, log} = RuntimeProcess.await_exit(runtime)
    assert status != 0
    assert log =~ "Runtime.HandlerNotFound"
    refute Enum.any?(FaultApi.requests(api), &String.ends_with?(&1.path, "/next"))
  end
end
