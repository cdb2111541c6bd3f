defmodule LambdaRuntime.Tools.Emulator.HTTPAPITest do
  # LambdaRuntime.Tools.Emulator's HTTP endpoints, driven by hand: the test plays
  # both the runtime and the caller, so it sees every status and header.
  use ExUnit.Case, async: true

  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.{HTTPClient, Wait}
  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.EventStream

  @next "/2018-06-01/runtime/invocation/next"

  setup do
    emu = start_supervised!({Emulator, function_name: "wire", timeout: 30})
    %{emu: emu, port: Emulator.port(emu)}
  end

  # Invokes over HTTP from another process; returns the task.
  defp invoke_async(port, body, path \\ "invocations", headers \\ []) do
    Task.async(fn ->
      HTTPClient.request(port, "POST", "/2015-03-31/functions/wire/#{path}", headers, body)
    end)
  end

  defp next(port) do
    {200, headers, body} = HTTPClient.request(port, "GET", @next)
    {headers["lambda-runtime-aws-request-id"], headers, body}
  end

  defp post(port, id, what, body, headers \\ []),
    do:
      HTTPClient.request(
        port,
        "POST",
        "/2018-06-01/runtime/invocation/#{id}/#{what}",
        headers,
        body
      )

  test "a response: /next gets the event and Lambda's headers, the caller gets 200", %{port: port} do
    task = invoke_async(port, ~s({"a":1}))
    {id, headers, body} = next(port)

    assert body == ~s({"a":1})
    assert headers["content-type"] == "application/json"

    assert headers["lambda-runtime-invoked-function-arn"] ==
             "arn:aws:lambda:us-east-1:123456789012:function:wire"

    assert String.to_integer(headers["lambda-runtime-deadline-ms"]) > System.os_time(:millisecond)
    assert headers["lambda-runtime-trace-id"] =~ "Root=1-"

    assert {202, _, ~s({"status":"OK"})} = post(port, id, "response", ~s({"ok":true}))
    assert {200, resp_headers, ~s({"ok":true})} = Task.await(task)
    assert resp_headers["x-amzn-requestid"] == id
    assert resp_headers["x-amz-executed-version"] == "$LATEST"
    refute Map.has_key?(resp_headers, "x-amz-function-error")
  end

  test "an error: the caller gets 200 with X-Amz-Function-Error: Unhandled", %{port: port} do
    task = invoke_async(port, "{}")
    {id, _, _} = next(port)
    error = ~s({"errorMessage":"boom","errorType":"RuntimeError","stackTrace":[]})

    assert {202, _, _} =
             post(port, id, "error", error, [
               {"lambda-runtime-function-error-type", "Function.RuntimeError"}
             ])

    assert {200, headers, ^error} = Task.await(task)
    assert headers["x-amz-function-error"] == "Unhandled"
  end

  test "an init error answers the waiting invocation, and later ones, until a runtime polls again",
       %{emu: emu, port: port} do
    task = invoke_async(port, "{}")
    # Let the invocation be queued before the init error arrives.
    Wait.until(fn -> queued?(emu) end, message: "the invocation was never queued")
    init_error = ~s({"errorMessage":"no db","errorType":"Runtime.InitError","stackTrace":[]})

    assert {202, _, _} =
             HTTPClient.request(port, "POST", "/2018-06-01/runtime/init/error", [], init_error)

    assert {200, %{"x-amz-function-error" => "Unhandled"}, ^init_error} = Task.await(task)
    assert {200, _, ^init_error} = Task.await(invoke_async(port, "{}"))

    # A runtime that comes up and polls clears it.
    poll = Task.async(fn -> next(port) end)
    Wait.until(fn -> waiting?(emu) end, message: "no /next ever waited")
    task = invoke_async(port, "{}")
    {id, _, _} = Task.await(poll)
    post(port, id, "response", "1")
    assert {200, _, "1"} = Task.await(task)
  end

  test "Event invocations answer 202 at once, DryRun 204", %{port: port} do
    assert {202, _, ""} =
             HTTPClient.request(
               port,
               "POST",
               "/2015-03-31/functions/wire/invocations",
               [{"x-amz-invocation-type", "Event"}],
               "{}"
             )

    assert {id, _, "{}"} = next(port)
    assert {202, _, _} = post(port, id, "response", "null")

    assert {204, _, ""} =
             HTTPClient.request(
               port,
               "POST",
               "/2015-03-31/functions/wire/invocations",
               [{"x-amz-invocation-type", "DryRun"}],
               "{}"
             )
  end

  test "X-Amz-Client-Context (base64) and X-Amzn-Trace-Id reach the runtime", %{port: port} do
    context = ~s({"custom":{"tenant":"t1"}})
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    task =
      invoke_async(port, "{}", "invocations", [
        {"x-amz-client-context", Base.encode64(context)},
        {"x-amzn-trace-id", trace}
      ])

    {id, headers, _} = next(port)
    assert headers["lambda-runtime-client-context"] == context
    assert headers["lambda-runtime-trace-id"] == trace
    post(port, id, "response", "{}")
    Task.await(task)
  end

  test "a late answer gets 410, an unknown id 400, an unknown path 404", %{port: port} do
    task = invoke_async(port, "{}")
    {id, _, _} = next(port)
    assert {202, _, _} = post(port, id, "response", "1")
    Task.await(task)

    assert {410, _, _} = post(port, id, "response", "2")
    assert {400, _, body} = post(port, "no-such-id", "response", "2")
    assert JSON.decode!(body)["errorType"] == "InvalidRequestID"
    assert {404, _, _} = HTTPClient.request(port, "GET", "/2018-06-01/runtime/nothing")
  end

  test "an answer that reaches the emulator after the deadline is late, even before its timer ran" do
    # Lambda's deadline decides, not the order in which the emulator sees
    # its own timer and the runtime's answer: the answer is queued before
    # the timer fires but handled after the deadline.
    emu = start_supervised!({Emulator, function_name: "wire", timeout: 1}, id: :short)
    port = Emulator.port(emu)
    task = invoke_async(port, "{}")
    {id, headers, _} = next(port)
    deadline = String.to_integer(headers["lambda-runtime-deadline-ms"])

    :ok = :sys.suspend(emu)
    answer = Task.async(fn -> post(port, id, "response", ~s("on time?")) end)

    # The answer waits in the suspended emulator's mailbox, ahead of the
    # deadline's timer, while the deadline passes.
    [first | _] =
      Wait.until(fn -> mailbox(emu) != [] and mailbox(emu) end,
        message: "the answer never reached the emulator"
      )

    assert {:"$gen_call", _, {:complete, ^id, :ok, _}} = first

    Wait.until(fn -> System.os_time(:millisecond) > deadline end,
      timeout: 5_000,
      message: "the deadline never passed"
    )

    :ok = :sys.resume(emu)

    assert {410, _, _} = Task.await(answer)
    assert {200, headers, body} = Task.await(task)
    assert headers["x-amz-function-error"] == "Unhandled"
    assert JSON.decode!(body)["errorType"] == "Sandbox.Timedout"
    assert [%{status: :timeout}] = Emulator.reports(emu)
  end

  test "a response over 6 MB gets 413, and the runtime can still report an error", %{port: port} do
    task = invoke_async(port, "{}")
    {id, _, _} = next(port)
    big = JSON.encode!(String.duplicate("x", 6_291_556))

    assert {413, _, body} = post(port, id, "response", big)
    assert JSON.decode!(body)["errorType"] == "RequestEntityTooLarge"

    error = ~s({"errorMessage":"too large","errorType":"Function.ResponseSizeTooLarge"})
    assert {202, _, _} = post(port, id, "error", error)
    assert {200, %{"x-amz-function-error" => "Unhandled"}, ^error} = Task.await(task)
  end

  test "the streaming path answers an event stream, relaying chunks as they come", %{port: port} do
    caller =
      HTTPClient.open(
        port,
        "POST",
        "/2015-03-31/functions/wire/response-streaming-invocations",
        [],
        "{}"
      )

    {id, _, _} = next(port)

    runtime =
      HTTPClient.open_chunked(port, "POST", "/2018-06-01/runtime/invocation/#{id}/response", [
        {"lambda-runtime-function-response-mode", "streaming"},
        {"content-type", "text/plain"}
      ])

    HTTPClient.send_chunk(runtime, "first ")
    # The caller has the first chunk before the runtime sends the second.
    assert {200, headers} = HTTPClient.read_head(caller)
    assert headers["transfer-encoding"] == "chunked"
    assert headers["content-type"] == "text/plain"
    assert {"PayloadChunk", "first "} = HTTPClient.read_event(caller)

    HTTPClient.send_chunk(runtime, "second")
    assert {"PayloadChunk", "second"} = HTTPClient.read_event(caller)
    HTTPClient.send_last_chunk(runtime)
    assert {"InvokeComplete", "{}"} = HTTPClient.read_event(caller)
    assert :done = HTTPClient.read_event(caller)
    assert {202, _, _} = HTTPClient.read_response(runtime)
  end

  test "a streamed response comes whole on the plain Invoke path", %{emu: emu, port: port} do
    task = Task.async(fn -> Emulator.invoke_json(emu, "{}") end)
    {id, _, _} = next(port)

    runtime =
      HTTPClient.open_chunked(port, "POST", "/2018-06-01/runtime/invocation/#{id}/response", [
        {"lambda-runtime-function-response-mode", "streaming"}
      ])

    for part <- ["a", "b", "c"], do: HTTPClient.send_chunk(runtime, part)
    HTTPClient.send_last_chunk(runtime)
    assert {202, _, _} = HTTPClient.read_response(runtime)
    assert {:ok, "abc", %Emulator.Report{request_id: ^id}} = Task.await(task)
  end

  test "a non-streamed response on the streaming path comes whole, in one PayloadChunk",
       %{port: port} do
    task = invoke_async(port, "{}", "response-streaming-invocations")
    {id, _, _} = next(port)
    post(port, id, "response", ~s({"whole":true}))
    assert {200, headers, body} = Task.await(task)
    assert headers["content-type"] == "application/json"

    assert EventStream.decode(body) == [
             {"PayloadChunk", ~s({"whole":true})},
             {"InvokeComplete", "{}"}
           ]
  end

  test "a function error on the streaming path ends the stream with ErrorCode and ErrorDetails",
       %{port: port} do
    task = invoke_async(port, "{}", "response-streaming-invocations")
    {id, _, _} = next(port)
    error = ~s({"errorMessage":"boom","errorType":"RuntimeError","stackTrace":[]})
    post(port, id, "error", error)
    assert {200, _, body} = Task.await(task)
    assert [{"InvokeComplete", complete}] = EventStream.decode(body)
    assert JSON.decode!(complete) == %{"ErrorCode" => "RuntimeError", "ErrorDetails" => error}
  end

  test "a stream that fails midway reports the error in its trailers", %{emu: emu, port: port} do
    task = Task.async(fn -> Emulator.invoke_json(emu, "{}") end)
    {id, _, _} = next(port)
    error = ~s({"errorMessage":"midway","errorType":"RuntimeError"})

    runtime =
      HTTPClient.open_chunked(port, "POST", "/2018-06-01/runtime/invocation/#{id}/response", [
        {"lambda-runtime-function-response-mode", "streaming"},
        {"trailer", "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"}
      ])

    HTTPClient.send_chunk(runtime, "partial")

    HTTPClient.send_last_chunk(runtime, [
      {"Lambda-Runtime-Function-Error-Type", "Function.RuntimeError"},
      {"Lambda-Runtime-Function-Error-Body", Base.encode64(error)}
    ])

    assert {202, _, _} = HTTPClient.read_response(runtime)
    assert {:error, ^error, _report} = Task.await(task)
  end

  test "the runtime's /next connection going away does not lose the event", %{
    emu: emu,
    port: port
  } do
    # A runtime that polls, then dies before any event comes.
    dead = HTTPClient.open(port, "GET", @next, [], "")
    Wait.until(fn -> waiting?(emu) end, message: "no /next ever waited")
    :gen_tcp.close(dead)
    Wait.until(fn -> not waiting?(emu) end, message: "the closed /next still waits")

    task = invoke_async(port, ~s({"kept":1}))
    assert {id, _, ~s({"kept":1})} = next(port)
    post(port, id, "response", "1")
    assert {200, _, "1"} = Task.await(task)
  end

  test "a malformed request ends its connection, not the emulator", %{port: port} do
    {:ok, socket} =
      :gen_tcp.connect({127, 0, 0, 1}, port, [:binary, active: false, nodelay: true])

    :ok = :gen_tcp.send(socket, "NOT HTTP AT ALL\r\n\r\n")
    assert {:error, :closed} = :gen_tcp.recv(socket, 0)

    task = invoke_async(port, "{}")
    {id, _, _} = next(port)
    post(port, id, "response", "7")
    assert {200, _, "7"} = Task.await(task)
  end

  test "an invocation waiting on an emulator that stops exits", %{emu: emu} do
    me = self()

    spawn(fn ->
      send(me, {:result, catch_exit(Emulator.invoke(emu, %{}))})
    end)

    Wait.until(fn -> queued?(emu) end, message: "the invocation was never queued")
    :ok = stop_supervised(Emulator)
    assert_receive {:result, {{:emulator_down, _}, {Emulator, :invoke, _id}}}
  end

  defp mailbox(emu), do: elem(Process.info(emu, :messages), 1)

  defp waiting?(emu), do: :sys.get_state(emu).invocations.waiters != []

  defp queued?(emu), do: :queue.len(:sys.get_state(emu).invocations.queue) > 0
end
