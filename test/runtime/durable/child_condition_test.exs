defmodule LambdaRuntime.Durable.ChildConditionTest do
  use ExUnit.Case, async: true

  import LambdaRuntime.TestSupport.Durable.Helpers
  alias LambdaRuntime.Durable
  alias LambdaRuntime.Durable.WaitStrategy
  alias LambdaRuntime.Durable.Test, as: DT

  describe "run_in_child_context" do
    test "nests operations under the child and returns its checkpoint on replay" do
      body_runs = counter()

      result =
        DT.run(
          fn input, ctx ->
            {:ok, value} =
              Durable.run_in_child_context(ctx, "outer", fn outer ->
                bump(body_runs)
                {:ok, a} = Durable.step(outer, "a", fn -> input end)

                Durable.run_in_child_context(outer, "inner", fn inner ->
                  Durable.step(inner, "b", fn -> a <> "!" end)
                end)
              end)

            :ok = Durable.wait(ctx, 1)
            {:ok, value}
          end,
          "hi"
        )

      assert result.result == "hi!"
      assert count(body_runs) == 1
      outer = DT.operation(result, "outer")
      inner = DT.operation(result, "inner")
      assert inner["ParentId"] == outer["Id"]
      assert DT.operation(result, "a")["ParentId"] == outer["Id"]
      assert DT.operation(result, "b")["ParentId"] == inner["Id"]

      assert %{"SubType" => "RunInChildContext", "ContextDetails" => %{"Result" => ~s("hi!")}} =
               outer
    end

    test "a failure inside fails the child with the inner error's type" do
      result =
        DT.run(
          fn _, ctx ->
            {:error, e} =
              Durable.run_in_child_context(ctx, "work", fn child ->
                Durable.step(child, "boom", fn -> raise KeyError, "missing" end, retry: :none)
              end)

            {:ok, [e.kind, e.type]}
          end,
          nil
        )

      assert result.result == ["child_context", "KeyError"]

      assert %{
               "Status" => "FAILED",
               "ContextDetails" => %{"Error" => %{"ErrorType" => "KeyError"}}
             } = DT.operation(result, "work")
    end

    test "a result over 256 KB is not checkpointed: the child replays its operations instead" do
      body_runs = counter()

      result =
        DT.run(
          fn _, ctx ->
            {:ok, big} =
              Durable.run_in_child_context(ctx, "big", fn child ->
                bump(body_runs)
                {:ok, chunk} = Durable.step(child, "chunk", fn -> String.duplicate("x", 1000) end)
                String.duplicate(chunk, 300)
              end)

            :ok = Durable.wait(ctx, 1)
            {:ok, byte_size(big)}
          end,
          nil
        )

      assert result.result == 300_000
      assert count(body_runs) == 2

      assert %{"ContextDetails" => %{"ReplayChildren" => true} = details} =
               DT.operation(result, "big")

      refute Map.has_key?(details, "Result") and details["Result"] != ""
    end
  end

  describe "wait_for_condition" do
    test "polls one check per invocation, threading the checkpointed state" do
      checks = counter()

      result =
        DT.run(
          fn limit, ctx ->
            Durable.wait_for_condition(
              ctx,
              5,
              fn n, step -> bump(checks) && assert(step.attempt == n - 4) && n + 1 end,
              strategy: WaitStrategy.fixed(2, continue_while: &(&1 < limit)),
              name: "poll"
            )
          end,
          8
        )

      assert result.result == 8
      assert count(checks) == 3
      assert length(result.invocations) == 3

      assert [
               %{"Payload" => "6", "StepOptions" => %{"NextAttemptDelaySeconds" => 2}},
               %{"Payload" => "7"}
             ] = updates(result, "STEP", "RETRY")

      assert %{"SubType" => "WaitForCondition", "Status" => "SUCCEEDED"} =
               DT.operation(result, "poll")
    end

    test "fails when the attempts run out, or when the check raises" do
      exhausted =
        DT.run(
          fn _, ctx ->
            Durable.wait_for_condition(ctx, 0, &(&1 + 1),
              strategy: WaitStrategy.fixed(1, continue_while: fn _ -> true end, max_attempts: 3)
            )
          end,
          nil
        )

      assert exhausted.status == :failed
      assert exhausted.error["ErrorType"] == "WaitForConditionError"
      assert length(exhausted.invocations) == 3

      raised =
        DT.run(
          fn _, ctx ->
            case Durable.wait_for_condition(ctx, nil, fn _ -> raise "sensor offline" end,
                   strategy: WaitStrategy.backoff(continue_while: &is_nil/1)
                 ) do
              {:error, e} -> {:ok, [e.kind, e.message]}
            end
          end,
          nil
        )

      assert raised.result == ["wait_for_condition", "sensor offline"]
    end
  end
end
