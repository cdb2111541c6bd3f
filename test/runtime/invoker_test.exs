defmodule LambdaRuntime.InvokerTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  alias LambdaRuntime.{Context, ErrorReport, HandlerRef, Invoker, JSON, Native}

  @outcomes "LambdaRuntime.TestHandlers.Outcomes"

  defp ref(name) do
    {:ok, ref} = HandlerRef.resolve(name)
    ref
  end

  defp run(function, body \\ ~s({"k":"v"}), context \\ %Context{request_id: "req-1"}) do
    Invoker.run(ref("#{@outcomes}.#{function}"), nil, body, context)
  end

  defp epoch_in(ms), do: System.os_time(:millisecond) + ms

  describe "successful returns" do
    test "{:ok, response} encodes the response" do
      assert {:ok, json} = run(:ok_tuple)
      assert JSON.decode!(json) == %{"got" => %{"k" => "v"}}
    end

    test ":ok is null" do
      assert run(:bare_ok) == {:ok, "null"}
    end

    test "any other value is itself the response" do
      assert {:ok, json} = run(:bare_value)
      assert JSON.decode!(json) == %{"statusCode" => 200, "body" => "hi"}
    end

    test "the handler sees the decoded event and the context" do
      {:ok, json} = run(:context, "[1]", %Context{request_id: "req-ctx", deadline_ms: 600_000})
      assert JSON.decode!(json)["request_id"] == "req-ctx"
      assert JSON.decode!(json)["remaining"] == nil
    end
  end

  describe "function errors" do
    test "{:error, string} is a HandlerError" do
      assert run(:error_string) == {:error, ErrorReport.new("HandlerError", "it went wrong")}
    end

    test "{:error, exception} keeps the exception's type" do
      assert {:error, %ErrorReport{type: "ArgumentError", message: "bad argument"}} =
               run(:error_exception)
    end

    test "{:error, other} is inspected" do
      assert {:error, %ErrorReport{type: "HandlerError", message: "{:db, :timeout}"}} =
               run(:error_term)
    end

    test "a raise is reported with type, message and the handler's stack" do
      assert {:error, %ErrorReport{type: "ArgumentError", message: "raised on purpose"} = report} =
               run(:raise_error)

      assert Enum.any?(report.stack_trace, &(&1 =~ "Outcomes.raise_error/2"))
      refute Enum.any?(report.stack_trace, &(&1 =~ "LambdaRuntime.Invoker"))
    end

    test "an Erlang error is normalized" do
      assert {:error, %ErrorReport{type: "ArithmeticError"}} = run(:raise_erlang)
    end

    test "a throw" do
      assert {:error,
              %ErrorReport{type: "UncaughtThrow", message: "uncaught throw: {:thrown, 1}"}} =
               run(:throw_value)
    end

    test "an exit" do
      assert {:error, %ErrorReport{type: "ProcessExit", message: "handler exited: :went_away"}} =
               run(:exit_reason)
    end

    test "Process.exit(self(), :kill) is reported, and the caller lives" do
      assert run(:kill_self) ==
               {:error, ErrorReport.new("ProcessExit", "handler process was killed")}

      assert Process.alive?(self())
      assert run(:bare_ok) == {:ok, "null"}
    end
  end

  describe "deadlines" do
    test "a handler still running at a real epoch deadline is killed: Sandbox.Timedout" do
      handler = ref("LambdaRuntime.TestHandlers.Looper")
      context = %Context{request_id: "req-loop", deadline_ms: epoch_in(200)}
      started = System.monotonic_time(:millisecond)

      assert {:error, %ErrorReport{type: "Sandbox.Timedout", message: message}} =
               Invoker.run(handler, self(), "{}", context)

      elapsed = System.monotonic_time(:millisecond) - started
      assert elapsed >= 150
      assert message =~ ~r/^Task timed out after \d+\.\d\d seconds$/
      assert_received {:handler_pid, pid}
      refute Process.alive?(pid)

      assert ErrorReport.header_type(ErrorReport.new("Sandbox.Timedout", "")) ==
               "Sandbox.Timedout"
    end

    test "with the emulator's constant 600000 the handler is not killed" do
      handler = ref("LambdaRuntime.TestHandlers.Sleeper")
      context = %Context{request_id: "req-sleep", deadline_ms: 600_000}

      assert {:ok, json} = Invoker.run(handler, self(), ~s({"ms":300}), context)
      assert JSON.decode!(json) == %{"slept" => 300}
      assert_received {:handler_pid, _pid}
    end

    test "a deadline beyond what receive-after can wait (about 49 days) is no limit" do
      context = %Context{request_id: "req-far", deadline_ms: epoch_in(60 * 86_400_000)}
      assert run(:bare_ok, "{}", context) == {:ok, "null"}
    end

    test "a handler that finishes before a real deadline is not killed" do
      handler = ref("LambdaRuntime.TestHandlers.Sleeper")
      context = %Context{request_id: "req-sleep", deadline_ms: epoch_in(5_000)}
      assert {:ok, ~s({"slept":50})} = Invoker.run(handler, self(), ~s({"ms":50}), context)
    end
  end

  describe "runtime errors" do
    test "an unencodable response is Runtime.InvalidResponse naming the term" do
      assert {:error, %ErrorReport{type: "Runtime.InvalidResponse", message: message}} =
               run(:unencodable)

      assert message =~ "cannot be encoded as JSON"
      assert message =~ "#PID<"
      assert message =~ "pids have no JSON form"
    end

    test "a response binary that is not UTF-8 is Runtime.InvalidResponse" do
      assert {:error, %ErrorReport{type: "Runtime.InvalidResponse", message: message}} =
               run(:bad_utf8)

      assert message =~ ~s(<<111, 107, 255>>)
    end

    test "an Encoder that raises is Runtime.InvalidResponse" do
      assert {:error, %ErrorReport{type: "Runtime.InvalidResponse", message: message}} =
               run(:exploding)

      assert message =~ "the encoder exploded"
    end

    test "an event that is not JSON is Runtime.InvalidEvent and the handler is not called" do
      assert {:error, %ErrorReport{type: "Runtime.InvalidEvent", message: message}} =
               run(:ok_tuple, ~s({"k": ))

      assert message =~ "not valid JSON"
      assert message =~ "byte"
    end

    test "the handler's log lines carry the request id" do
      log =
        capture_log([metadata: [:request_id]], fn ->
          assert run(:log_line, "{}", %Context{request_id: "req-log-7"}) == {:ok, "null"}
        end)

      assert log =~ "request_id=req-log-7"
      assert log =~ "line from the handler"
    end
  end

  describe "NIF panics" do
    test "surface as an ErlangError and the VM keeps working" do
      error = assert_raise ErlangError, fn -> Native.debug_panic() end
      assert error.original == :nif_panicked
      assert JSON.encode!([1]) == "[1]"
      assert run(:bare_ok) == {:ok, "null"}
    end
  end
end
