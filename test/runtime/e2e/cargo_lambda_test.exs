defmodule LambdaRuntime.E2E.CargoLambdaTest do
  # The real bootstrap.sh and the fixture function against cargo-lambda's
  # Runtime API emulator, invoked over HTTP the way a caller would.
  use ExUnit.Case, async: false

  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.{CargoLambda, Fixture, RuntimeProcess, TapProxy}

  @moduletag :e2e
  @moduletag timeout: 120_000

  setup_all do
    Fixture.task_root!()
    :ok
  end

  setup do
    emu = CargoLambda.start!()
    on_exit(fn -> stop_emulator(emu) end)
    %{emu: emu}
  end

  defp start(emu, handler) do
    runtime = Fixture.start_runtime!(CargoLambda.runtime_api(emu), handler)
    on_exit(fn -> Fixture.kill_runtime(runtime) end)
    runtime
  end

  # CargoLambda.stop/1 waits for a port message that only the test process
  # gets; on_exit runs elsewhere, so the emulator is signalled directly,
  # after checking that the pid is still the emulator.
  defp stop_emulator(%CargoLambda{os_pid: os_pid}) do
    with {:ok, cmdline} <- File.read("/proc/#{os_pid}/cmdline"),
         true <- cmdline =~ "cargo-lambda" do
      System.cmd("kill", ["-TERM", to_string(os_pid)], stderr_to_stdout: true)
    end

    :ok
  end

  defp invoke(emu, event) do
    {status, body} = CargoLambda.invoke(emu, JSON.encode!(event))
    {status, JSON.decode!(body)}
  end

  test "a successful invocation returns the handler's response", %{emu: emu} do
    start(emu, "Fixture.Echo.handle")
    assert {200, body} = invoke(emu, %{"name" => "Ada", "n" => [1, 2.5, nil]})
    assert body["event"] == %{"name" => "Ada", "n" => [1, 2.5, nil]}
    assert body["function_name"] == "test-function"
    assert body["store"] == "started"
    assert is_binary(body["request_id"]) and body["request_id"] != ""
  end

  test "a raising handler: errorType, errorMessage and stackTrace", %{emu: emu} do
    runtime = start(emu, "Fixture.Fail.raise_it")
    assert {500, body} = invoke(emu, %{"why" => "e2e"})
    assert body["errorType"] == "ArgumentError"
    assert body["errorMessage"] == ~s(asked to fail: %{"why" => "e2e"})
    assert [_ | _] = body["stackTrace"]
    assert Enum.any?(body["stackTrace"], &(&1 =~ "Fixture.Fail.raise_it/2"))

    # The VM keeps serving after the failure.
    assert {500, %{"errorType" => "ArgumentError"}} = invoke(emu, %{})

    assert RuntimeProcess.await_output(runtime, "Invocation failed: ArgumentError") =~
             "asked to fail"
  end

  test "{:error, reason} is a HandlerError", %{emu: emu} do
    start(emu, "Fixture.Fail.error_return")

    assert {500, %{"errorType" => "HandlerError", "errorMessage" => "declined politely"}} =
             invoke(emu, %{})
  end

  test "an unencodable response is Runtime.InvalidResponse naming the term", %{emu: emu} do
    start(emu, "Fixture.Fail.unencodable")
    assert {500, body} = invoke(emu, %{})
    assert body["errorType"] == "Runtime.InvalidResponse"
    assert body["errorMessage"] =~ "{:a, :b}"
    assert body["errorMessage"] =~ "tuples have no JSON form"
  end

  test "a missing handler is an init error and the runtime exits non-zero", %{emu: emu} do
    runtime = start(emu, "Fixture.Missing.handle")
    assert {status, log} = RuntimeProcess.await_exit(runtime, 20_000)
    assert status != 0
    assert log =~ "Init failed: Runtime.HandlerNotFound"
    assert log =~ "Fixture.Missing is not available"
  end

  test "init/1 state reaches every invocation of one VM", %{emu: emu} do
    start(emu, "Fixture.Stateful")
    assert {200, first} = invoke(emu, %{"i" => 1})
    assert {200, second} = invoke(emu, %{"i" => 2})

    assert first["state"]["token"] =~ ~r/^init-\d+$/
    assert second["state"] == first["state"]
    assert first["state"]["function_name"] == "test-function"
    # The handler's OTP application was started before init/1.
    assert first["state"]["store_at_init"] == "started"
    # The ETS table init/1 created outlives init/1 and counts invocations.
    assert {first["count"], second["count"]} == {1, 2}
    assert second["event"] == %{"i" => 2}
  end

  test "init/1 raising is Runtime.InitError and the runtime exits non-zero", %{emu: emu} do
    runtime = start(emu, "Fixture.InitRaises")
    assert {status, log} = RuntimeProcess.await_exit(runtime, 20_000)
    assert status != 0
    assert log =~ "Init failed: Runtime.InitError"
    assert log =~ "RuntimeError: no database configured"
  end

  test "with --timeout the emulator answers idle /next with 408; the runtime asks again" do
    emu = CargoLambda.start!(args: ["--timeout", "1"])
    on_exit(fn -> stop_emulator(emu) end)
    # The runtime talks to the emulator through a proxy that shows the test
    # each answer.
    proxy = TapProxy.start!(emu.http_port, self())
    runtime = Fixture.start_runtime!("http://127.0.0.1:#{proxy.port}/.rt", "Fixture.Echo.handle")
    on_exit(fn -> Fixture.kill_runtime(runtime) end)

    # The idle /next long poll timed out (408) and was asked again, twice.
    TapProxy.await_answers("HTTP/1.1 408", 2)
    assert {200, body} = invoke(emu, %{"after" => "idle"})
    assert body["event"] == %{"after" => "idle"}
    assert {:os_pid, _} = Port.info(runtime.port, :os_pid)
  end

  test "a 5 MB event and its 5 MB echo pass through the emulator whole", %{emu: emu} do
    start(emu, "Fixture.Echo.echo")
    event = %{"blob" => String.duplicate("ü😀", 850_000), "list" => Enum.to_list(1..1000)}
    assert {200, body} = invoke(emu, event)
    assert body == event
  end

  test "200 invocations in a row on one VM, each answered with its own event", %{emu: emu} do
    runtime = start(emu, "Fixture.Echo.handle")

    request_ids =
      for i <- 1..200 do
        event = %{"i" => i, "text" => String.duplicate("é", rem(i, 17)), "big" => 2 ** (64 + i)}
        assert {200, body} = invoke(emu, event)
        assert body["event"] == event, "invocation #{i} got another event's response"
        body["request_id"]
      end

    assert length(Enum.uniq(request_ids)) == 200
    # Still the same VM: it has not exited.
    assert {:os_pid, _} = Port.info(runtime.port, :os_pid)
  end
end
