defmodule LambdaRuntime.Durable.E2ETest do
  # The guide's example on the real bootstrap.sh, driven by AWS's
  # dex-local-runner (installed by scripts/install-durable-tools.sh): the
  # runtime checkpoints over HTTP to the runner, suspends, and is invoked
  # again until the execution succeeds.
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Durable.Local.DexRunner
  alias LambdaRuntime.TestSupport.Durable.Stack
  alias LambdaRuntime.TestSupport.Wait

  @moduletag :durable
  @moduletag timeout: 180_000

  setup_all do
    stack = Stack.start!(skip_time: true, function_configs: %{"echo" => %{}})
    on_exit(fn -> Stack.stop(stack) end)
    %{stack: stack}
  end

  @order %{
    "order_id" => 7,
    "items" => [%{"sku" => "a", "price" => 2}, %{"sku" => "b", "price" => 3}]
  }

  test "step, wait, callback, map and parallel to SUCCEEDED", %{stack: stack} do
    {:ok, arn} = DexRunner.start_execution(stack.dex, "orders", @order)
    callback_id = await_callback(stack.dex, arn, "approval create callback id")
    assert :ok = DexRunner.send_callback(stack.dex, callback_id, {:ok, ~s({"by":"ada"})})

    assert {:ok, %{"Status" => "SUCCEEDED", "Result" => result}} =
             DexRunner.await(stack.dex, arn, 60_000)

    assert LambdaRuntime.JSON.decode!(result) == %{
             "order_id" => 7,
             "total" => 5,
             "approved_by" => "ada",
             "labels" => ["packed a", "packed b"],
             "notices" => ["mailed 7", 5]
           }

    {:ok, events} = DexRunner.history(stack.dex, arn)
    types = Enum.map(events, & &1["EventType"])
    assert "WaitSucceeded" in types and "CallbackSucceeded" in types
    assert Enum.count(types, &(&1 == "InvocationCompleted")) >= 2

    by_name = fn name, type ->
      Enum.find(events, &(&1["Name"] == name and &1["EventType"] == type))
    end

    assert %{"SubType" => "Map"} = by_name.("pack", "ContextSucceeded")
    assert %{"SubType" => "Parallel"} = by_name.("notify", "ContextSucceeded")

    assert %{"StepSucceededDetails" => %{"Result" => %{"Payload" => "5"}}} =
             by_name.("price", "StepSucceeded")

    # The replay-aware logger wrote the handler's first line once, though
    # the handler ran in three invocations.
    lines =
      for line <- String.split(Stack.log(stack), "\n"),
          line =~ ~s("durableExecutionArn":"#{arn}"),
          do: line

    assert [_] = Enum.filter(lines, &(&1 =~ ~s("message":"order 7: 2 items")))
  end

  test "a callback failure fails the execution with the reported error", %{stack: stack} do
    {:ok, arn} = DexRunner.start_execution(stack.dex, "orders", @order)
    callback_id = await_callback(stack.dex, arn, "approval create callback id")
    error = %{"ErrorType" => "RejectedError", "ErrorMessage" => "not approved"}
    assert :ok = DexRunner.send_callback(stack.dex, callback_id, {:error, error})

    assert {:ok,
            %{
              "Status" => "FAILED",
              "Error" => %{"ErrorType" => "RejectedError", "ErrorMessage" => "not approved"}
            }} = DexRunner.await(stack.dex, arn, 60_000)
  end

  describe "when the function crashes mid-step (the runtime process exits)" do
    test "at most once: the interrupted attempt is not run again, the retry runs it", %{
      stack: stack
    } do
      {:ok, arn} = DexRunner.start_execution(stack.dex, "1-18", "crash-amo")

      assert {:ok, %{"Status" => "SUCCEEDED", "Result" => ~s("succeeded on second attempt")}} =
               DexRunner.await(stack.dex, arn, 60_000)

      {:ok, events} = DexRunner.history(stack.dex, arn)

      assert [
               {"StepStarted", _},
               {"StepFailed",
                %{
                  "StepFailedDetails" => %{
                    "Error" => %{"Payload" => %{"ErrorType" => "StepInterruptedError"}}
                  }
                }},
               {"StepStarted", _},
               {"StepSucceeded", _}
             ] = for(e <- events, e["EventType"] =~ "Step", do: {e["EventType"], e})

      # The step's function ran twice: before the crash and in the retry.
      assert length(Regex.scan(~r/"message":"processing crash-amo"/, Stack.log(stack))) == 2
    end

    test "at most once without retries: the execution fails with StepInterruptedError", %{
      stack: stack
    } do
      {:ok, arn} = DexRunner.start_execution(stack.dex, "1-17", "crash-fail")

      assert {:ok, %{"Status" => "FAILED", "Error" => %{"ErrorType" => "StepInterruptedError"}}} =
               DexRunner.await(stack.dex, arn, 60_000)
    end

    test "at least once: the same attempt runs again, without a second StepStarted", %{
      stack: stack
    } do
      {:ok, arn} = DexRunner.start_execution(stack.dex, "3-12", "crash-alo")

      assert {:ok, %{"Status" => "SUCCEEDED", "Result" => ~s("crash-alo")}} =
               DexRunner.await(stack.dex, arn, 60_000)

      {:ok, events} = DexRunner.history(stack.dex, arn)

      assert ["StepStarted", "StepSucceeded"] ==
               for(e <- events, e["EventType"] =~ "Step", do: e["EventType"])
    end
  end

  defp await_callback(dex, arn, name) do
    started? = &(&1["EventType"] == "CallbackStarted" and &1["Name"] == name)

    Wait.until(
      fn ->
        {:ok, events} = DexRunner.history(dex, arn)

        case Enum.find(events, started?) do
          %{"CallbackStartedDetails" => %{"CallbackId" => id}} -> id
          nil -> nil
        end
      end,
      timeout: 30_000,
      interval: 100,
      message: fn ->
        {:ok, events} = DexRunner.history(dex, arn)
        "no CallbackStarted #{inspect(name)} in #{inspect(Enum.map(events, & &1["EventType"]))}"
      end
    )
  end
end
