defmodule LambdaRuntime.Fault.InvocationTest do
  # The real bootstrap.sh against the scripted Runtime API: what one
  # invocation carries (context, sizes, ids) and how the loop treats the
  # answers to /response and /error.
  use LambdaRuntime.TestSupport.FaultCase

  test "every /next header reaches the handler's context", %{api: api} do
    start_runtime(api, "Fixture.Echo.context")
    deadline = System.os_time(:millisecond) + 120_000

    FaultApi.event(api, "req-ctx", "{}",
      deadline_ms: deadline,
      headers: [
        {"Lambda-Runtime-Client-Context", ~s({"custom":{"k":"v"},"env":{"locale":"en"}})},
        {"Lambda-Runtime-Cognito-Identity", ~s({"cognitoIdentityId":"id-1"})},
        {"Lambda-Runtime-Aws-Tenant-Id", "tenant-9"}
      ]
    )

    body = JSON.decode!(posted(api, "req-ctx").body)
    assert body["request_id"] == "req-ctx"
    assert body["deadline_ms"] == deadline
    assert body["remaining_time_ms"] in 100_000..120_000
    assert body["invoked_function_arn"] =~ ":function:test-function"
    assert body["trace_id"] =~ "Root=1-5759e988"
    assert body["client_context"] == %{"custom" => %{"k" => "v"}, "env" => %{"locale" => "en"}}
    assert body["cognito_identity"] == %{"cognitoIdentityId" => "id-1"}
    assert body["tenant_id"] == "tenant-9"
    assert body["memory_limit_in_mb"] == 512
    assert body["function_version"] == "$LATEST"
  end

  test "_X_AMZN_TRACE_ID follows each invocation's trace header, and is cleared without one",
       %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.event(api, "req-t1", "{}", trace_id: "Root=1-00000001-aaa;Sampled=0")
    FaultApi.event(api, "req-t2", "{}", trace_id: nil)
    FaultApi.event(api, "req-t3", "{}", trace_id: "Root=1-00000003-ccc;Sampled=1")

    assert JSON.decode!(posted(api, "req-t1").body)["trace_env"] ==
             "Root=1-00000001-aaa;Sampled=0"

    assert JSON.decode!(posted(api, "req-t2").body)["trace_env"] == nil

    assert JSON.decode!(posted(api, "req-t3").body)["trace_env"] ==
             "Root=1-00000003-ccc;Sampled=1"
  end

  test "a handler past a real deadline is killed: Sandbox.Timedout, then the next event",
       %{api: api} do
    start_runtime(api, "Fixture.Slow.handle")
    deadline = System.os_time(:millisecond) + 700

    FaultApi.event(api, "req-spin", ~s({"ms":"forever"}), deadline_ms: deadline)
    FaultApi.event(api, "req-quick", ~s({"ms":1}))

    error = posted(api, "req-spin", "error")
    assert header(error, "lambda-runtime-function-error-type") == "Sandbox.Timedout"

    assert %{"errorType" => "Sandbox.Timedout", "errorMessage" => message} =
             JSON.decode!(error.body)

    assert message =~ ~r/^Task timed out after \d+\.\d\d seconds$/
    assert error.at >= posted_at_least(deadline)

    assert JSON.decode!(posted(api, "req-quick").body) == %{"slept" => 1}
  end

  test "a 6 MB event in and a 7 MB response out arrive whole", %{api: api} do
    start_runtime(api, "Fixture.Echo.echo")
    event = %{"blob" => String.duplicate("é", 3_000_000), "n" => 1}
    FaultApi.event(api, "req-6mb", JSON.encode!(event))
    assert JSON.decode!(posted(api, "req-6mb").body) == event

    api2 = start_api()
    start_runtime(api2, "Fixture.Echo.sized")
    FaultApi.event(api2, "req-7mb", ~s({"bytes":7000000}))
    response = posted(api2, "req-7mb")
    assert byte_size(response.body) == 7_000_000
    assert header(response, "content-length") == "7000000"
  end

  test "a chunked /next body is read whole", %{api: api} do
    start_runtime(api, "Fixture.Echo.echo")
    event = %{"list" => Enum.to_list(1..2_000), "s" => String.duplicate("ü", 1_500)}
    FaultApi.event(api, "req-chunked", JSON.encode!(event), chunked: true)
    FaultApi.event(api, "req-chunked-2", ~s({"n":2}), chunked: true)
    assert JSON.decode!(posted(api, "req-chunked").body) == event
    assert JSON.decode!(posted(api, "req-chunked-2").body) == %{"n" => 2}
  end

  test "request ids that need escaping are escaped in the path", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.event(api, "id with space/and?query#frag", "{}")

    [request] =
      FaultApi.await(api, fn r ->
        r.method == "POST" and String.ends_with?(r.path, "/response")
      end)

    assert request.path ==
             "/2018-06-01/runtime/invocation/id%20with%20space%2Fand%3Fquery%23frag/response"

    assert JSON.decode!(request.body)["request_id"] == "id with space/and?query#frag"
  end

  test "an event without a request id is skipped and the loop goes on", %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_next(api, {:status, 200, "{}"})
    FaultApi.event(api, "req-next", "{}")

    posted(api, "req-next")

    assert RuntimeProcess.await_output(runtime, "without Lambda-Runtime-Aws-Request-Id") =~
             "cannot be answered"
  end

  test "a connection the API closes after each event is reopened", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")

    for i <- 1..5 do
      FaultApi.event(api, "req-close-#{i}", ~s({"i":#{i}}), close: true)
    end

    for i <- 1..5 do
      assert JSON.decode!(posted(api, "req-close-#{i}").body)["event"] == %{"i" => i}
    end
  end

  test "a reset while posting /response or /error is retried: nothing is lost", %{api: api} do
    start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_reply(api, :response, :reset)
    FaultApi.event(api, "req-reset-post", ~s({"keep":"me"}))

    [_reset, delivered] = FaultApi.await(api, "/req-reset-post/response", 2)
    assert JSON.decode!(delivered.body)["event"] == %{"keep" => "me"}

    api2 = start_api()
    start_runtime(api2, "Fixture.Fail.raise_it")
    FaultApi.push_reply(api2, :error, :reset)
    FaultApi.event(api2, "req-reset-error", "{}")

    [_reset, delivered] = FaultApi.await(api2, "/req-reset-error/error", 2)
    assert JSON.decode!(delivered.body)["errorType"] == "ArgumentError"
  end

  test "a process linked in init/1 that dies neither re-runs init/1 nor adds a poller",
       %{api: api} do
    runtime = start_runtime(api, "Fixture.LinkedCrash")
    FaultApi.event(api, "req-crash", ~s({"crash":true}))
    posted(api, "req-crash")
    # The runtime process saw the linked process's exit and carried on.
    log = RuntimeProcess.await_output(runtime, ":boom")
    assert log =~ "a process linked to the handler's init/1"

    FaultApi.event(api, "req-after-crash", "{}")
    FaultApi.event(api, "req-after-crash-2", "{}")

    # Served with the state init/1 returned (a re-run would link a live process).
    assert JSON.decode!(posted(api, "req-after-crash").body) == %{"alive" => false}
    assert JSON.decode!(posted(api, "req-after-crash-2").body) == %{"alive" => false}
    FaultApi.await(api, "/next", 4)
    log = log <> RuntimeProcess.stop(runtime)

    # One /next loop: every /next after the first came with an answered
    # event's /response, in turn; a second poller's /next would break the
    # alternation.
    assert request_kinds(api) == [:next | List.duplicate([:response, :next], 3)] |> List.flatten()
    assert length(String.split(log, "fixture init/1 ran")) == 2
  end

  test "400 on /response is logged with its body and the loop goes on", %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_reply(api, :response, {400, ~s({"errorType":"InvalidRequestID"})})
    FaultApi.event(api, "req-400", "{}")
    FaultApi.event(api, "req-after-400", "{}")

    posted(api, "req-after-400")
    log = RuntimeProcess.await_output(runtime, "InvalidRequestID")
    assert log =~ "answered 400"
  end

  test "a streamed response whose connection breaks mid-body: logged, and the loop serves on",
       %{api: api} do
    runtime = start_runtime(api, "Fixture.Streams.maybe")
    FaultApi.push_reply(api, :response, :cut)
    FaultApi.event(api, "req-cut", ~s({"stream":true}))

    assert RuntimeProcess.await_output(runtime, "broke off") =~
             ~r/the streamed response for req-cut broke off \((closed|protocol): /

    FaultApi.event(api, "req-after-cut", ~s({"plain":1}))
    [after_cut] = FaultApi.await(api, "/runtime/invocation/req-after-cut/response")
    assert JSON.decode!(after_cut.body) == %{"plain" => 1}
    refute RuntimeProcess.output(runtime) =~ "could not reach the Runtime API"
  end

  test "a development checkout boots with the boot script mix compile wrote for this ERTS",
       %{api: api} do
    start_runtime(api, "Fixture.Echo.boot")
    FaultApi.event(api, "req-boot", "{}")
    boot = JSON.decode!(posted(api, "req-boot").body)["boot"]

    # bootstrap.sh picked the function build's lambda_runtime/lambda-erts-VSN
    # (the :lambda_boot compiler's file), not OTP's no_dot_erlang.
    assert boot =~ ~r{/lib/lambda_runtime/lambda-erts-#{:erlang.system_info(:version)}$}
    assert File.regular?(boot <> ".boot")
  end

  test "a development boot script older than the Elixir install is not used", %{api: api} do
    file =
      Path.join([
        Fixture.task_root!(),
        "lib/lambda_runtime",
        "lambda-erts-#{:erlang.system_info(:version)}.boot"
      ])

    %File.Stat{mtime: mtime} = File.stat!(file)
    File.touch!(file, {{2000, 1, 1}, {0, 0, 0}})

    try do
      start_runtime(api, "Fixture.Echo.boot")
      FaultApi.event(api, "req-stale-boot", "{}")
      boot = JSON.decode!(posted(api, "req-stale-boot").body)["boot"]
      assert boot =~ ~r{/bin/no_dot_erlang$}
    after
      File.touch!(file, mtime)
    end
  end

  test "one /next per invocation: the /next made with an accepted /response is the only one",
       %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.echo")

    for n <- 1..5 do
      FaultApi.event(api, "req-seq-#{n}", ~s({"n":#{n}}))
      assert JSON.decode!(posted(api, "req-seq-#{n}").body) == %{"n" => n}
    end

    FaultApi.await(api, "/runtime/invocation/next", 6)
    RuntimeProcess.stop(runtime)

    # The first poll, then one per accepted response, each right after it:
    # a /next of its own between two responses would break the alternation.
    assert request_kinds(api) == [:next | List.duplicate([:response, :next], 5)] |> List.flatten()
  end

  test "500 on /response or /error makes the runtime exit non-zero", %{api: api} do
    runtime = start_runtime(api, "Fixture.Echo.handle")
    FaultApi.push_reply(api, :response, {500, ~s({"errorType":"ServiceException"})})
    FaultApi.event(api, "req-500", "{}")
    assert {status, log} = RuntimeProcess.await_exit(runtime, 10_000)
    assert status != 0
    assert log =~ "answered /response with 500"

    api2 = start_api()
    runtime2 = start_runtime(api2, "Fixture.Fail.raise_it")
    FaultApi.push_reply(api2, :error, {500, ~s({"errorType":"ServiceException"})})
    FaultApi.event(api2, "req-500-err", "{}")
    assert {status2, log2} = RuntimeProcess.await_exit(runtime2, 10_000)
    assert status2 != 0
    assert log2 =~ "answered /error with 500"
  end

  # Every request so far as :next or :response, in order.
  defp request_kinds(api) do
    for request <- FaultApi.requests(api) do
      if String.ends_with?(request.path, "/invocation/next"), do: :next, else: :response
    end
  end

  # The /error for a timed-out invocation comes once its deadline has passed
  # (minus a little slack for the two clocks involved).
  defp posted_at_least(deadline_epoch_ms) do
    System.monotonic_time(:millisecond) - (System.os_time(:millisecond) - deadline_epoch_ms) - 50
  end
end
