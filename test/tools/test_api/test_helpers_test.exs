defmodule LambdaRuntime.TestHelpersTest do
  # LambdaRuntime.Test gives what Lambda's caller gets: the same results as
  # the real runtime under bootstrap.sh against LambdaRuntime.Tools.Emulator.
  use ExUnit.Case, async: true

  import LambdaRuntime.Test

  alias LambdaRuntime.{Context, Samples}
  alias LambdaRuntime.TestSupport.TaskRoot
  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.LocalRuntime

  setup_all do
    # Compiles (and loads) the handlers.
    TaskRoot.path()
    :ok
  end

  @events [
    %{"name" => "Ada", "n" => [1, 2.5, nil, true]},
    %{"do" => "raise"},
    %{"do" => "error"},
    %{"do" => "throw"},
    "just a string",
    Samples.load!("sqs")
  ]

  test "invoke/3 equals the emulator's answer for the same handler and events" do
    emu = start_supervised!({Emulator, function_name: "test-function"})

    TaskRoot.start_runtime!(emu, "TaskRootHandlers.Echo.dispatch")

    for event <- @events do
      assert invoke("TaskRootHandlers.Echo.dispatch", event) == Emulator.invoke(emu, event)
    end
  end

  # BatchResponse logs each failed record.
  @tag :capture_log
  test "response helpers and streamed responses: invoke/3 equals the emulator's answer" do
    cases = [
      {"TaskRootHandlers.Responses.http", Samples.load!("apigateway-http")},
      {"TaskRootHandlers.Responses.http", Samples.load!("apigateway-rest")},
      {"TaskRootHandlers.Responses.http", Samples.load!("alb")},
      {"TaskRootHandlers.Responses.batch", Samples.load!("sqs")},
      {"TaskRootHandlers.Responses.batch", Samples.load!("kinesis")},
      {"TaskRootHandlers.Streaming.gated", %{"gate" => "/"}}
    ]

    for {handler, event} <- cases do
      emu = start_supervised!({Emulator, function_name: "test-function"}, id: make_ref())

      rt = TaskRoot.start_runtime(emu, handler)
      from_emulator = Emulator.invoke(emu, event)
      LocalRuntime.stop(rt)
      assert invoke(handler, event) == from_emulator
    end

    assert %{"cookies" => ["seen=1; Path=/"], "statusCode" => 201} =
             assert_http_status(
               invoke("TaskRootHandlers.Responses.http", Samples.load!("function-url")),
               201
             )

    [_, cancelled] = Samples.load!("sqs")["Records"]

    assert_batch_failures(
      invoke("TaskRootHandlers.Responses.batch", Samples.load!("sqs")),
      [cancelled["messageId"]]
    )

    assert invoke("TaskRootHandlers.Streaming.gated", %{"gate" => "/"}) ==
             {:ok, "first\nsecond\n"}
  end

  describe "#14.3 the same size limits as Lambda and the emulator" do
    test "a 7 MB response is Function.ResponseSizeTooLarge in both" do
      emu = start_supervised!({Emulator, function_name: "test-function"})
      TaskRoot.start_runtime!(emu, "TaskRootHandlers.Echo.sized")
      event = %{"bytes" => 7_000_000}

      assert {:error, %{"errorType" => "Function.ResponseSizeTooLarge"} = error} =
               invoke("TaskRootHandlers.Echo.sized", event)

      assert error["errorMessage"] =~ "Response payload size (7000000 bytes) exceeded"
      assert {:error, error} == Emulator.invoke(emu, event)

      # At the limit itself, both succeed.
      event = %{"bytes" => LambdaRuntime.Limits.max_response_bytes()}
      assert {:ok, body} = invoke("TaskRootHandlers.Echo.sized", event)
      assert {:ok, ^body} = Emulator.invoke(emu, event)
    end

    test "an event over 6 MiB is refused before the handler runs, in both" do
      emu = start_supervised!({Emulator, function_name: "test-function"})
      TaskRoot.start_runtime!(emu, "TaskRootHandlers.Echo.dispatch")
      event = %{"big" => String.duplicate("e", LambdaRuntime.Limits.max_request_bytes())}

      assert {:error, %{"errorType" => "RequestEntityTooLargeException"} = error} =
               invoke("TaskRootHandlers.Echo.dispatch", event)

      assert error["errorMessage"] =~ "smaller than 6291456 bytes"
      assert {:error, error} == Emulator.invoke(emu, event)
    end

    test "a stream past its limit is Function.ResponseSizeTooLarge in both" do
      # LambdaRuntime.Test: Lambda's 200 MiB (the same 1 MiB binary 201 times).
      assert {:error,
              %{"errorType" => "Function.ResponseSizeTooLarge", "errorMessage" => message}} =
               invoke("TaskRootHandlers.Streaming.sized", %{"mib" => 201})

      assert message =~ "(209715200 bytes)"
      assert {:ok, body} = invoke("TaskRootHandlers.Streaming.sized", %{"mib" => 2})
      assert byte_size(body) == 2 * 1024 * 1024

      # The emulator, with a 1 MiB limit for the test's sake.
      emu =
        start_supervised!({Emulator, function_name: "test-function", max_stream_bytes: 1_048_576})

      TaskRoot.start_runtime!(emu, "TaskRootHandlers.Streaming.sized")

      assert {:error,
              %{"errorType" => "Function.ResponseSizeTooLarge", "errorMessage" => message}} =
               Emulator.invoke(emu, %{"mib" => 2})

      assert message =~ "(1048576 bytes)"
      assert {:ok, body} = Emulator.invoke(emu, %{"mib" => 1})
      assert byte_size(body) == 1_048_576
    end
  end

  test "the handler may be a string, a {module, function} or a behaviour module" do
    assert invoke({TaskRootHandlers.Echo, :handle}, 1) ==
             {:ok, %{"event" => 1, "function_name" => "test-function"}}

    assert invoke(TaskRootHandlers.Stateful, %{"name" => "Ada"}) == {:ok, "Hi, Ada"}

    assert invoke(TaskRootHandlers.Stateful, %{"name" => "Ada"}, state: %{greeting: "Yo"}) ==
             {:ok, "Yo, Ada"}

    assert invoke("Elixir.TaskRootHandlers.Echo.handle", 2, function_name: "f") ==
             {:ok, %{"event" => 2, "function_name" => "f"}}
  end

  test "init errors come back as Lambda returns them" do
    assert {:error, %{"errorType" => "Runtime.InitError", "errorMessage" => message}} =
             invoke(TaskRootHandlers.BadInit, %{})

    assert message =~ ":no_database"

    assert {:error, %{"errorType" => "Runtime.HandlerNotFound"}} =
             invoke("TaskRootHandlers.Nope.handle", %{})

    assert {:error, %{"errorType" => "Runtime.InvalidHandler"}} = invoke("not a handler", %{})
  end

  test "the deadline is enforced: a slow handler times out" do
    assert {:error, %{"errorType" => "Sandbox.Timedout", "errorMessage" => message}} =
             invoke("TaskRootHandlers.Echo.sleep", %{"ms" => 60_000}, timeout: 50)

    assert message =~ "Task timed out after"
  end

  test "context/1 builds an invocation context, with overrides" do
    before = System.os_time(:millisecond)
    context = context(timeout: 10_000, function_name: "orders")

    assert %Context{function_name: "orders", function_version: "$LATEST", memory_limit_in_mb: 128} =
             context

    assert context.request_id =~ ~r/^[0-9a-f-]{36}$/
    assert context.deadline_ms >= before + 10_000
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:orders"
    assert Context.remaining_time_ms(context) > 9_000

    assert context(deadline_ms: nil, request_id: "r1") |> Map.take([:deadline_ms, :request_id]) ==
             %{deadline_ms: nil, request_id: "r1"}

    assert {:ok, %{"request_id" => "r2", "remaining_ms" => nil}} =
             invoke("TaskRootHandlers.Echo.context", %{},
               context: context(request_id: "r2", deadline_ms: nil)
             )
  end

  test "assert_ok and assert_error return the payload, and fail with the reason" do
    assert %{"event" => 1} = assert_ok(invoke("TaskRootHandlers.Echo.handle", 1))

    assert %{"errorMessage" => "asked to fail"} =
             assert_error(invoke("TaskRootHandlers.Echo.fail", 1))

    assert %{} = assert_error(invoke("TaskRootHandlers.Echo.fail", 1), "ArgumentError")

    failure =
      assert_raise ExUnit.AssertionError, fn ->
        assert_ok(invoke("TaskRootHandlers.Echo.fail", 1))
      end

    assert failure.message =~ "it failed with ArgumentError: asked to fail"
    assert failure.message =~ "TaskRootHandlers.Echo.fail/2"

    failure =
      assert_raise ExUnit.AssertionError, fn ->
        assert_error(invoke("TaskRootHandlers.Echo.fail", 1), "KeyError")
      end

    assert failure.message =~ "expected a KeyError error, got ArgumentError"

    failure =
      assert_raise ExUnit.AssertionError, fn ->
        assert_error(invoke("TaskRootHandlers.Echo.handle", 1))
      end

    assert failure.message =~ "expected the invocation to fail"
  end

  test "assert_http_status and assert_batch_failures" do
    response = %{
      "statusCode" => 201,
      "body" => Base.encode64(<<0, 1>>),
      "isBase64Encoded" => true
    }

    assert %{"body" => <<0, 1>>} = assert_http_status({:ok, response}, 201)

    failure =
      assert_raise ExUnit.AssertionError, fn -> assert_http_status({:ok, response}, 200) end

    assert failure.message =~ "expected HTTP status 200, got 201"

    batch =
      {:ok, %{"batchItemFailures" => [%{"itemIdentifier" => "b"}, %{"itemIdentifier" => "a"}]}}

    assert_batch_failures(batch, ["a", "b"])
    failure = assert_raise ExUnit.AssertionError, fn -> assert_batch_failures(batch, ["a"]) end
    assert failure.message =~ ~s(expected batchItemFailures for ["a"], got ["a", "b"])
  end
end
