defmodule LambdaRuntime.Durable.StepTest do
  use ExUnit.Case, async: true

  import LambdaRuntime.TestSupport.Durable.Helpers
  alias LambdaRuntime.Durable
  alias LambdaRuntime.Durable.{Error, Retry}
  alias LambdaRuntime.Durable.Test, as: DT

  defmodule TransientError do
    defexception message: "try again"
  end

  test "a step's result is checkpointed, round-tripped through JSON, and not recomputed on replay" do
    runs = counter()

    result =
      DT.run(
        fn input, ctx ->
          {:ok, value} =
            Durable.step(ctx, :greet, fn _ -> bump(runs) && %{greeting: "Hello, #{input}!"} end)

          :ok = Durable.wait(ctx, 1)
          {:ok, value}
        end,
        "World"
      )

    assert result.status == :succeeded
    assert result.result == %{"greeting" => "Hello, World!"}
    assert length(result.invocations) == 2
    assert count(runs) == 1

    assert %{
             "Status" => "SUCCEEDED",
             "StepDetails" => %{"Result" => ~s({"greeting":"Hello, World!"})}
           } = DT.operation(result, "greet")
  end

  test "the value a step returns on its first run equals the replayed one" do
    result =
      DT.run(
        fn _, ctx ->
          {:ok, first} = Durable.step(ctx, fn -> {:ok, %{a: :b, list: [1, nil]}} end)
          :ok = Durable.wait(ctx, 1)
          {:ok, %{seen: first}}
        end,
        nil
      )

    assert result.result == %{"seen" => %{"a" => "b", "list" => [1, nil]}}
  end

  test "a failing step is retried by its strategy, one attempt per invocation" do
    attempts = counter()

    result =
      DT.run(
        fn _, ctx ->
          Durable.step(
            ctx,
            "flaky",
            fn step ->
              n = bump(attempts)
              assert step.attempt == n
              if n < 3, do: raise(TransientError), else: "attempt #{n}"
            end,
            retry:
              Retry.exponential(max_attempts: 4, initial_delay: 2, backoff_rate: 3, jitter: :none)
          )
        end,
        nil
      )

    assert result.status == :succeeded
    assert result.result == "attempt 3"
    assert length(result.invocations) == 3

    delays =
      for u <- updates(result, "STEP", "RETRY"), do: u["StepOptions"]["NextAttemptDelaySeconds"]

    assert delays == [2, 6]

    assert [%{"Error" => %{"ErrorType" => "LambdaRuntime.Durable.StepTest.TransientError"}} | _] =
             updates(result, "STEP", "RETRY")

    assert %{"StepDetails" => %{"Attempt" => 3}} = DT.operation(result, "flaky")
  end

  test "retries are exhausted: the step returns its last error, also on replay" do
    result =
      DT.run(
        fn _, ctx ->
          {:error, %Error{} = e} =
            Durable.step(ctx, "doomed", fn -> {:error, "nope"} end,
              retry: Retry.fixed(1, max_attempts: 2)
            )

          :ok = Durable.wait(ctx, 1)
          {:ok, %{kind: e.kind, type: e.type, message: e.message}}
        end,
        nil
      )

    assert result.result == %{"kind" => "step", "type" => "HandlerError", "message" => "nope"}
    assert length(updates(result, "STEP", "RETRY")) == 1
    assert length(updates(result, "STEP", "FAIL")) == 1
  end

  test "retry_on retries only matching failures" do
    strategy = Retry.exponential(retry_on: [TransientError], jitter: :none, initial_delay: 1)

    result =
      DT.run(
        fn _, ctx -> Durable.step(ctx, fn -> raise ArgumentError, "bad" end, retry: strategy) end,
        nil
      )

    assert result.status == :failed
    assert result.error["ErrorType"] == "ArgumentError"
    assert updates(result, "STEP", "RETRY") == []

    assert {:retry, 1} =
             Retry.decide(strategy, %Error{type: inspect(TransientError), message: "x"}, 1)

    assert :stop =
             Retry.decide(
               Retry.exponential(retry_on: [~r/timeout/]),
               %Error{message: "refused"},
               1
             )

    assert {:retry, _} =
             Retry.decide(Retry.exponential(retry_on: ["time"]), %Error{message: "timeout"}, 1)

    assert :stop = Retry.decide(:none, %Error{}, 1)
  end

  test "the default strategy is AWS's: 6 attempts, 5 s doubling to 60 s, full jitter" do
    error = %Error{message: "x"}

    for _ <- 1..50 do
      assert {:retry, d1} = Retry.decide(nil, error, 1)
      assert d1 in 1..5
      assert {:retry, d2} = Retry.decide(nil, error, 2)
      assert d2 in 1..10
      assert {:retry, d5} = Retry.decide(nil, error, 5)
      assert d5 in 1..60
    end

    assert :stop = Retry.decide(nil, error, 6)
  end

  test "at least once: an attempt cut short by a crash runs again, without a new START" do
    runs = counter()

    result =
      DT.run(
        fn _, ctx ->
          Durable.step(ctx, "charge", fn ->
            if bump(runs) == 1, do: crash_invocation!(), else: "charged"
          end)
        end,
        nil
      )

    assert result.status == :succeeded
    assert result.result == "charged"
    assert count(runs) == 2
    assert [{:error, _}, %{"Status" => "SUCCEEDED"}] = result.invocations
  end

  test "at most once: an interrupted attempt is not run again; the retry strategy decides" do
    runs = counter()

    failed =
      DT.run(
        fn _, ctx ->
          Durable.step(ctx, "once", fn -> bump(runs) && crash_invocation!() end,
            semantics: :at_most_once,
            retry: :none
          )
        end,
        nil
      )

    assert failed.status == :failed
    assert failed.error["ErrorType"] == "StepInterruptedError"
    assert count(runs) == 1

    runs = counter()

    retried =
      DT.run(
        fn _, ctx ->
          Durable.step(
            ctx,
            "once",
            fn -> if bump(runs) == 1, do: crash_invocation!(), else: "second" end,
            semantics: :at_most_once,
            retry: Retry.fixed(1, max_attempts: 3)
          )
        end,
        nil
      )

    assert retried.result == "second"
    assert count(runs) == 2

    assert [%{"Error" => %{"ErrorType" => "StepInterruptedError"}}] =
             updates(retried, "STEP", "RETRY")
  end

  test "a custom serdes writes the checkpoint and reads it back" do
    upcase = {fn v -> String.upcase(v) end, fn payload -> payload end}

    result =
      DT.run(
        fn input, ctx -> Durable.step(ctx, "shout", fn -> input end, serdes: upcase) end,
        "hello world"
      )

    assert result.result == "HELLO WORLD"
    assert %{"StepDetails" => %{"Result" => "HELLO WORLD"}} = DT.operation(result, "shout")
  end

  test "durable operations inside a step's function are refused" do
    result =
      DT.run(
        fn _, ctx ->
          {:error, e} = Durable.step(ctx, "outer", fn -> Durable.wait(ctx, 1) end, retry: :none)
          {:ok, e.message}
        end,
        nil
      )

    assert result.result =~ "cannot run inside a step"
  end

  test "bad options are refused with the options named" do
    result = DT.run(fn _, ctx -> Durable.step(ctx, fn -> 1 end, retries: 3) end, nil)
    assert result.status == :failed
    assert result.error["ErrorType"] == "ArgumentError"
    assert result.error["ErrorMessage"] =~ ":retries"
  end
end
