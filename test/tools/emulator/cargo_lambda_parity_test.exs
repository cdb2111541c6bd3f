defmodule LambdaRuntime.CargoLambdaParityTest do
  # The same handler, through bootstrap.sh, against cargo-lambda's emulator
  # and against LambdaRuntime.Tools.Emulator: the response bodies are the same.
  # (The status differs on purpose: cargo-lambda answers a function error
  # with 500, LambdaRuntime.Tools.Emulator with 200 + X-Amz-Function-Error, as
  # Lambda does.)
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.LocalRuntime
  alias LambdaRuntime.TestSupport.CargoLambda
  alias LambdaRuntime.TestSupport.{RuntimeProcess, TaskRoot, Wait}

  @moduletag :cargo_lambda

  @events [
    ~s({"name":"Ada","n":[1,2.5,null,true]}),
    ~s({"do":"raise"}),
    ~s({"do":"error"}),
    ~s({"do":"throw"}),
    ~s("just a string")
  ]

  defp with_cargo_lambda(handler, fun) do
    cargo = CargoLambda.start!()
    # RuntimeProcess inherits this VM's PATH; see LocalRuntime for why the
    # ERTS directories are taken out of it.
    runtime =
      RuntimeProcess.start!(CargoLambda.runtime_api(cargo), handler,
        task_root: TaskRoot.path(),
        env: [{"PATH", clean_path()}]
      )

    try do
      fun.(cargo)
    after
      RuntimeProcess.stop(runtime)
      CargoLambda.stop(cargo)
    end
  end

  defp with_emulator(handler, fun) do
    emu = start_supervised!({Emulator, function_name: "test-function"}, id: make_ref())

    rt = TaskRoot.start_runtime(emu, handler)

    try do
      fun.(emu)
    after
      LocalRuntime.stop(rt)
    end
  end

  defp clean_path do
    System.get_env("PATH")
    |> String.split(":")
    |> Enum.reject(&(&1 =~ ~r{/erts-[^/]+/bin$|/lib/erlang/bin$}))
    |> Enum.join(":")
  end

  test "responses and function errors" do
    handler = "TaskRootHandlers.Echo.dispatch"

    from_cargo =
      with_cargo_lambda(handler, fn cargo ->
        for event <- @events, do: CargoLambda.invoke(cargo, event)
      end)

    from_emulator =
      with_emulator(handler, fn emu ->
        for event <- @events, do: Emulator.invoke_json(emu, event)
      end)

    for {{status, cargo_body}, {outcome, body, _report}} <- Enum.zip(from_cargo, from_emulator) do
      assert body == cargo_body
      # cargo-lambda: 200 for a response, 500 for a function error.
      assert {status, outcome} in [{200, :ok}, {500, :error}]
    end

    assert [{200, _}, {500, _}, {500, _}, {500, _}, {200, _}] = from_cargo
  end

  test "an init error reaches the invocation that waited for it" do
    handler = "TaskRootHandlers.BadInit"

    from_cargo = with_cargo_lambda_invoking_first(handler)

    emu = start_supervised!({Emulator, function_name: "test-function"}, id: make_ref())
    task = Task.async(fn -> Emulator.invoke_json(emu, "{}") end)

    Wait.until(fn -> :queue.len(:sys.get_state(emu).invocations.queue) == 1 end,
      message: "the invocation was never queued"
    )

    rt = TaskRoot.start_runtime(emu, handler)

    assert {:error, body, nil} = Task.await(task, 30_000)
    LocalRuntime.stop(rt)

    assert {200, ^body} = from_cargo
    assert %{"errorType" => "Runtime.InitError"} = LambdaRuntime.JSON.decode!(body)
  end

  # cargo-lambda queues an invocation that arrives before any runtime polls.
  defp with_cargo_lambda_invoking_first(handler) do
    cargo = CargoLambda.start!()

    try do
      task = Task.async(fn -> CargoLambda.invoke(cargo, "{}") end)

      runtime =
        RuntimeProcess.start!(CargoLambda.runtime_api(cargo), handler,
          task_root: TaskRoot.path(),
          env: [{"PATH", clean_path()}]
        )

      result = Task.await(task, 30_000)
      RuntimeProcess.stop(runtime)
      result
    after
      CargoLambda.stop(cargo)
    end
  end
end
