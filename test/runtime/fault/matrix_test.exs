defmodule LambdaRuntime.Fault.MatrixTest do
  # The fault matrix, handler and event rows (docs/fault-matrix.md): the real
  # bootstrap.sh with Fixture.Matrix.handle against the scripted Runtime API.
  # One runtime serves every row of this module, so each recoverable row is
  # followed by an invocation that must succeed on that same runtime.
  # The Runtime API rows are in matrix_api_test.exs.
  use LambdaRuntime.TestSupport.FaultCase, shared: "Fixture.Matrix.handle"

  alias LambdaRuntime.TestSupport.Fault.SharedRuntime

  describe "handler" do
    test "raise: the exception's type, message and stack on /error; next served", %{api: api} do
      {type, body, _} = failed!(api, "h-raise", %{"do" => "raise"})
      assert type == "Function.RuntimeError"
      assert body["errorType"] == "RuntimeError"
      assert body["errorMessage"] == "matrix raise"
      assert Enum.any?(body["stackTrace"], &(&1 =~ "Fixture.Matrix"))
      serves_next!(api, "h-raise")
    end

    test "throw: UncaughtThrow with the thrown value; next served", %{api: api} do
      {type, body, _} = failed!(api, "h-throw", %{"do" => "throw"})
      assert type == "Function.UncaughtThrow"
      assert body["errorType"] == "UncaughtThrow"
      assert body["errorMessage"] == "uncaught throw: :matrix_ball"
      serves_next!(api, "h-throw")
    end

    test "exit: ProcessExit with the exit reason; next served", %{api: api} do
      {type, body, _} = failed!(api, "h-exit", %{"do" => "exit"})
      assert type == "Function.ProcessExit"
      assert body["errorMessage"] == "handler exited: :matrix_bye"
      serves_next!(api, "h-exit")
    end

    test "Process.exit(self(), :kill): ProcessExit, process was killed; next served",
         %{api: api} do
      {type, body, _} = failed!(api, "h-kill", %{"do" => "kill"})
      assert type == "Function.ProcessExit"
      assert body["errorType"] == "ProcessExit"
      assert body["errorMessage"] == "handler process was killed"
      serves_next!(api, "h-kill")
    end

    test "infinite loop past a real deadline (now + 300 ms): Sandbox.Timedout, handler killed",
         %{api: api} do
      deadline = System.os_time(:millisecond) + 300

      {type, body, error} = failed!(api, "h-loop", %{"do" => "loop"}, deadline_ms: deadline)

      assert type == "Sandbox.Timedout"
      assert body["errorType"] == "Sandbox.Timedout"
      assert body["errorMessage"] =~ ~r/^Task timed out after \d+\.\d\d seconds$/
      # Not before the deadline (50 ms of slack for the two clocks involved).
      deadline_mono =
        System.monotonic_time(:millisecond) - (System.os_time(:millisecond) - deadline)

      assert error.at >= deadline_mono - 50

      # The spinning process recorded its pid; the runtime killed it.
      assert served!(api, "h-loop-check", %{"do" => "looper"}) ==
               %{"recorded" => true, "alive" => false}

      serves_next!(api, "h-loop")
    end

    test "returns a pid: Runtime.InvalidResponse naming it; next served", %{api: api} do
      {type, body, _} = failed!(api, "h-pid", %{"do" => "pid"})
      assert type == "Runtime.InvalidResponse"
      assert body["errorMessage"] =~ "cannot be encoded as JSON"
      assert body["errorMessage"] =~ ~r/#PID<\d+\.\d+\.\d+>/
      assert body["errorMessage"] =~ "pids have no JSON form"
      serves_next!(api, "h-pid")
    end

    test "returns 7 MB and the API answers 413: Function.ResponseSizeTooLarge via /error",
         %{api: api} do
      FaultApi.push_reply(api, :response, {413, ~s({"errorType":"RequestEntityTooLarge"})})
      FaultApi.event(api, "h-7mb", ~s({"do":"big","bytes":7000000}))

      response = posted(api, "h-7mb")
      assert byte_size(response.body) == 7_000_000
      error = posted(api, "h-7mb", "error")

      assert header(error, "lambda-runtime-function-error-type") ==
               "Function.ResponseSizeTooLarge"

      assert JSON.decode!(error.body) == %{
               "errorType" => "Function.ResponseSizeTooLarge",
               "errorMessage" =>
                 "Response payload size (7000000 bytes) exceeded maximum allowed payload size " <>
                   "(6291556 bytes).",
               "stackTrace" => []
             }

      serves_next!(api, "h-7mb")
    end

    test "#14.9 returns %{:a => 1, \"a\" => 2}: Runtime.InvalidResponse naming both keys",
         %{api: api} do
      {type, body, _} = failed!(api, "h-dup", %{"do" => "dup_keys"})
      assert type == "Runtime.InvalidResponse"
      assert body["errorMessage"] =~ ~s(both keys :a and "a")
      serves_next!(api, "h-dup")
    end

    test "returns invalid UTF-8: Runtime.InvalidResponse showing the bytes; next served",
         %{api: api} do
      {type, body, _} = failed!(api, "h-utf8", %{"do" => "bad_utf8"})
      assert type == "Runtime.InvalidResponse"
      assert body["errorMessage"] =~ "cannot be encoded as JSON"
      assert body["errorMessage"] =~ "<<111, 107, 255>>"
      serves_next!(api, "h-utf8")
    end
  end

  describe "NIF panic" do
    test "debug_panic/0 in a handler: a function error showing the panic; next served",
         %{api: api, shared: shared} do
      {type, body, _} = failed!(api, "n-panic", %{"do" => "panic"})
      assert type == "Function.ErlangError"
      assert body["errorType"] == "ErlangError"
      assert body["errorMessage"] == "Erlang error: :nif_panicked"
      assert Enum.any?(body["stackTrace"], &(&1 =~ "LambdaRuntime.Native.debug_panic"))
      # Rust's panic message reaches the function's log.
      assert SharedRuntime.await_output(shared, "debug_panic was called") =~
               "debug_panic was called"

      serves_next!(api, "n-panic")
    end
  end

  describe "event" do
    test "invalid JSON: Runtime.InvalidEvent with the byte offset; next served", %{api: api} do
      {type, body, _} = failed!(api, "e-json", ~s({"do": "ok", ))
      assert type == "Runtime.InvalidEvent"
      assert body["errorMessage"] =~ "the event is not valid JSON"
      assert body["errorMessage"] =~ "byte 13"
      serves_next!(api, "e-json")
    end

    test "100 000-deep nesting: Runtime.InvalidEvent naming the depth, no crash", %{api: api} do
      deep = String.duplicate("[", 100_000) <> String.duplicate("]", 100_000)
      {type, body, _} = failed!(api, "e-deep", deep)
      assert type == "Runtime.InvalidEvent"
      assert body["errorMessage"] =~ "nesting is deeper than 1024 levels"

      objects = String.duplicate(~s({"a":), 100_000) <> "1" <> String.duplicate("}", 100_000)
      {type, body, _} = failed!(api, "e-deep-objects", objects)
      assert type == "Runtime.InvalidEvent"
      assert body["errorMessage"] =~ "nesting is deeper than 1024 levels"
      serves_next!(api, "e-deep")
    end

    test "6 MB event: served whole", %{api: api} do
      blob = String.duplicate("é", 3_000_000)
      event = %{"do" => "measure", "blob" => blob}
      assert byte_size(JSON.encode!(event)) > 6_000_000

      assert served!(api, "e-6mb", event) == %{
               "bytes" => 6_000_000,
               "chars" => 3_000_000,
               "md5" => Base.encode16(:erlang.md5(blob), case: :lower)
             }

      serves_next!(api, "e-6mb")
    end

    test "#14.8 a number beyond a float's range (1e400): served, kept as its text", %{api: api} do
      body = served!(api, "e-1e400", ~s({"do":"ok","x":1e400,"y":-2.5E+999}))
      assert body["event"]["x"] == %JSON.BigNumber{text: "1e400"}
      assert body["event"]["y"] == %JSON.BigNumber{text: "-2.5E+999"}
      serves_next!(api, "e-1e400")
    end

    test "invalid UTF-8 inside a string: Runtime.InvalidEvent with the byte offset",
         %{api: api} do
      prefix = ~s({"do":"ok","s":"ab)
      {type, body, _} = failed!(api, "e-utf8", prefix <> <<0xFF>> <> ~s("}))
      assert type == "Runtime.InvalidEvent"
      assert body["errorMessage"] =~ "UTF-8"
      assert body["errorMessage"] =~ "byte #{byte_size(prefix)}"
      serves_next!(api, "e-utf8")
    end
  end
end
