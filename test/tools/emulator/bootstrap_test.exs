defmodule LambdaRuntime.Tools.Emulator.BootstrapTest do
  # LambdaRuntime.Tools.Emulator with the real runtime (bootstrap.sh, the NIF) on
  # the other side, and with a hand-driven runtime for the wire details.
  use ExUnit.Case, async: true

  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.{HTTPClient, TaskRoot}
  alias LambdaRuntime.Tools.Emulator

  defp start_runtime(emu, handler), do: TaskRoot.start_runtime!(emu, handler, memory_size: 512)

  describe "with bootstrap.sh" do
    test "a response, then a function error, then another response" do
      emu = start_supervised!({Emulator, function_name: "test-function", memory_size: 512})
      start_runtime(emu, "TaskRootHandlers.Echo.handle")

      assert Emulator.invoke(emu, %{"n" => 1}) ==
               {:ok, %{"event" => %{"n" => 1}, "function_name" => "test-function"}}

      assert Emulator.invoke(emu, [1, "two", nil]) ==
               {:ok, %{"event" => [1, "two", nil], "function_name" => "test-function"}}
    end

    test "function errors come back as Lambda shapes them" do
      emu = start_supervised!(Emulator)
      start_runtime(emu, "TaskRootHandlers.Echo.fail")

      assert {:error,
              %{"errorType" => "ArgumentError", "errorMessage" => "asked to fail"} = error} =
               Emulator.invoke(emu, %{})

      assert [frame | _] = error["stackTrace"]
      assert frame =~ "TaskRootHandlers.Echo.fail/2"
    end

    test "the runtime gets a request id, a real deadline, an ARN, a trace id and client context" do
      emu = start_supervised!({Emulator, function_name: "ctx", timeout: 30, region: "eu-west-1"})
      start_runtime(emu, "TaskRootHandlers.Echo.context")
      before = System.os_time(:millisecond)

      assert {:ok, ctx} = Emulator.invoke(emu, %{}, client_context: %{"custom" => %{"k" => "v"}})

      assert ctx["request_id"] =~
               ~r/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

      assert ctx["deadline_ms"] >= before + 30_000
      assert ctx["deadline_ms"] <= System.os_time(:millisecond) + 30_000
      assert is_integer(ctx["remaining_ms"]) and ctx["remaining_ms"] > 0
      assert ctx["arn"] == "arn:aws:lambda:eu-west-1:123456789012:function:ctx"

      assert ctx["trace_id"] =~
               ~r/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/

      assert ctx["client_context"] == %{"custom" => %{"k" => "v"}}

      [report] = Emulator.reports(emu)
      assert report.request_id == ctx["request_id"]
    end

    test "one REPORT per invocation; the first carries the init duration" do
      emu = start_supervised!({Emulator, memory_size: 256, log: self()})
      start_runtime(emu, "TaskRootHandlers.Echo.handle")

      for n <- 1..3, do: assert({:ok, _} = Emulator.invoke(emu, n))

      assert [first, second, third] = Emulator.reports(emu)
      assert is_float(first.init_duration_ms) and first.init_duration_ms > 0
      assert second.init_duration_ms == nil and third.init_duration_ms == nil
      assert first.max_memory_used_mb > 0

      assert_received {Emulator, :log, line}

      assert line =~
               ~r/^REPORT RequestId: #{first.request_id}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms$/

      assert_received {Emulator, :log, line}
      refute line =~ "Init Duration"
    end

    test "a handler that outlives the timeout fails with Sandbox.Timedout" do
      emu = start_supervised!({Emulator, timeout: 1})
      start_runtime(emu, "TaskRootHandlers.Echo.sleep")

      assert {:error, %{"errorType" => "Sandbox.Timedout", "errorMessage" => message}} =
               Emulator.invoke(emu, %{"ms" => 60_000})

      assert message =~ "Task timed out after 1.00 seconds"
      assert [%{status: :timeout} = report] = Emulator.reports(emu)
      assert to_string(report) =~ ~r/\tStatus: timeout$/
      # The runtime carries on.
      assert {:ok, "slept"} = Emulator.invoke(emu, %{"ms" => 0})
    end

    test "an init error reaches the invocation that waited for it" do
      emu = start_supervised!(Emulator)
      task = Task.async(fn -> Emulator.invoke(emu, %{}) end)
      start_runtime(emu, "TaskRootHandlers.BadInit")

      assert {:error, %{"errorType" => "Runtime.InitError", "errorMessage" => message}} =
               Task.await(task, 30_000)

      assert message =~ ":no_database"
    end
  end

  describe "with bootstrap.sh streaming (LambdaRuntime.StreamedResponse)" do
    @describetag :tmp_dir
    test "chunks reach the caller, as PayloadChunk events, as the handler produces them",
         %{tmp_dir: dir} do
      emu = start_supervised!(Emulator)
      start_runtime(emu, "TaskRootHandlers.Streaming.gated")
      gate = Path.join(dir, "gate")
      path = "/2015-03-31/functions/function/response-streaming-invocations"

      caller =
        HTTPClient.open(Emulator.port(emu), "POST", path, [], JSON.encode!(%{"gate" => gate}))

      assert {200, headers} = HTTPClient.read_head(caller)
      assert headers["content-type"] == "text/plain"
      # The handler is still waiting for the gate: this chunk was relayed.
      assert {"PayloadChunk", "first\n"} = HTTPClient.read_event(caller)
      File.write!(gate, "")
      assert {"PayloadChunk", "second\n"} = HTTPClient.read_event(caller)
      assert {"InvokeComplete", "{}"} = HTTPClient.read_event(caller)
      assert :done = HTTPClient.read_event(caller)
    end

    test "a stream that fails midway is a function error", %{tmp_dir: _} do
      emu = start_supervised!(Emulator)
      start_runtime(emu, "TaskRootHandlers.Streaming.fails_midway")

      assert {:error, %{"errorType" => "RuntimeError", "errorMessage" => "midway"}} =
               Emulator.invoke(emu, %{})

      path = "/2015-03-31/functions/function/response-streaming-invocations"
      caller = HTTPClient.open(Emulator.port(emu), "POST", path, [], "{}")
      assert {200, _} = HTTPClient.read_head(caller)
      assert {"PayloadChunk", "partial"} = HTTPClient.read_event(caller)
      assert {"InvokeComplete", complete} = HTTPClient.read_event(caller)
      assert %{"ErrorCode" => "RuntimeError", "ErrorDetails" => details} = JSON.decode!(complete)
      assert %{"errorMessage" => "midway"} = JSON.decode!(details)
    end
  end
end
