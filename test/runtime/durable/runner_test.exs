# The code under test here is the orders example's own handler
# (examples/orders is a standalone project): loaded from its source, as it
# ships, rather than copied into the test support.
Code.require_file(LambdaRuntime.TestSupport.Paths.root("examples/orders/lib/orders.ex"))

defmodule LambdaRuntime.Durable.RunnerTest do
  use ExUnit.Case, async: true

  @moduletag :capture_log

  import ExUnit.CaptureLog
  import LambdaRuntime.TestSupport.Durable.Helpers
  alias LambdaRuntime.Durable
  alias LambdaRuntime.Durable.{Runner, CheckpointError}
  alias LambdaRuntime.Tools.Durable.Local.Service
  alias LambdaRuntime.Durable.Test, as: DT
  alias LambdaRuntime.TestSupport.Durable.TapClient

  # One invocation of `fun` against a fresh execution of the in-memory service.
  defp invoke_once(fun, input, opts \\ []) do
    {:ok, svc} = start_supervised({Service, Keyword.take(opts, [:page_size])}, id: make_ref())
    arn = Service.start_execution(svc, input)
    event = Service.invocation_event(svc, arn)
    counter = :counters.new(1, [])
    client = {TapClient, %{svc: svc, test: self(), counter: counter, answer: opts[:answer]}}
    parent = self()

    spawn(fn ->
      outcome =
        try do
          {:ok, Runner.run(fun, event, nil, client: client)}
        rescue
          e -> {:raised, e}
        end

      send(parent, {:outcome, outcome})
    end)

    receive do
      {:outcome, {:ok, output}} -> {output, svc, arn}
      {:outcome, {:raised, e}} -> raise e
    end
  end

  test "an async START and the SUCCEED of the same step go in one checkpoint, with the token threaded" do
    {output, _svc, _arn} =
      invoke_once(
        fn _, ctx ->
          {:ok, a} = Durable.step(ctx, "a", fn -> 1 end)
          {:ok, b} = Durable.step(ctx, "b", fn -> a + 1 end)
          {:ok, b}
        end,
        nil
      )

    assert output == %{"Status" => "SUCCEEDED", "Result" => "2"}

    assert_received {:checkpoint, 1,
                     %{
                       "CheckpointToken" => t1,
                       "Updates" => [
                         %{"Action" => "START", "Name" => "a"},
                         %{"Action" => "SUCCEED", "Name" => "a", "Payload" => "1"}
                       ]
                     }}

    assert_received {:checkpoint, 2,
                     %{
                       "CheckpointToken" => t2,
                       "Updates" => [
                         %{"Action" => "START", "Name" => "b"},
                         %{"Action" => "SUCCEED", "Name" => "b"}
                       ]
                     }}

    assert t1 != t2
    refute_received {:checkpoint, 3, _}
  end

  test "the state is read page by page when the invocation payload does not hold it all" do
    result =
      DT.run(
        fn _, ctx ->
          for i <- 1..7, do: {:ok, ^i} = Durable.step(ctx, fn -> i end)
          :ok = Durable.wait(ctx, 1)
          {:ok, "replayed"}
        end,
        nil,
        page_size: 3
      )

    assert result.result == "replayed"

    {output, _svc, _arn} =
      invoke_once(fn _, ctx -> Durable.step(ctx, fn -> 1 end) end, nil, page_size: 1)

    assert output["Status"] == "SUCCEEDED"
  end

  test "a stale token, a revoked token, fatal and retryable service errors" do
    revoked = fn
      1, {:ok, answer} -> {:ok, Map.delete(answer, "CheckpointToken")}
      _, answer -> answer
    end

    {output, _, _} =
      invoke_once(fn _, ctx -> Durable.step(ctx, fn -> 1 end) end, nil, answer: revoked)

    assert output == %{"Status" => "PENDING"}

    fatal = fn _, _ -> {:error, {:fatal, "AccessDeniedException: no"}} end

    {output, _, _} =
      invoke_once(fn _, ctx -> Durable.step(ctx, fn -> 1 end) end, nil, answer: fatal)

    assert %{
             "Status" => "FAILED",
             "Error" => %{
               "ErrorType" => "CheckpointError",
               "ErrorMessage" => "AccessDeniedException: no"
             }
           } = output

    retryable = fn _, _ -> {:error, {:retryable, "HTTP 503"}} end

    assert_raise CheckpointError, ~r/HTTP 503/, fn ->
      invoke_once(fn _, ctx -> Durable.step(ctx, fn -> 1 end) end, nil, answer: retryable)
    end
  end

  test "a handler that changes its operations between invocations fails as non-deterministic" do
    flips = counter()

    result =
      DT.run(
        fn _, ctx ->
          name = if bump(flips) == 1, do: "first", else: "second"
          {:ok, _} = Durable.step(ctx, name, fn -> 1 end)
          :ok = Durable.wait(ctx, 1)
        end,
        nil
      )

    assert result.status == :failed
    assert result.error["ErrorType"] == "NonDeterministicExecutionError"
    assert result.error["ErrorMessage"] =~ ~s(name was "first", is now "second")
  end

  test "handler outcomes: raise, {:error, _}, :ok, any value" do
    assert %{
             status: :failed,
             error: %{
               "ErrorType" => "ArgumentError",
               "ErrorMessage" => "bad",
               "StackTrace" => [_ | _]
             }
           } = DT.run(fn _, _ -> raise ArgumentError, "bad" end, nil)

    assert %{
             status: :failed,
             error: %{"ErrorType" => "HandlerError", "ErrorMessage" => "declined"}
           } = DT.run(fn _, _ -> {:error, "declined"} end, nil)

    assert %{status: :succeeded, result: nil} = DT.run(fn _, _ -> :ok end, nil)
    assert %{status: :succeeded, result: [1, "two"]} = DT.run(fn _, _ -> [1, "two"] end, nil)

    assert %{status: :succeeded, result: %{"in" => %{"x" => 1}}} =
             DT.run(fn input, _ -> %{in: input} end, %{"x" => 1})
  end

  test "a result too large for the response is checkpointed on the EXECUTION operation" do
    big = String.duplicate("z", 7_000_000)
    result = DT.run(fn _, _ -> {:ok, big} end, nil)

    assert result.status == :succeeded
    assert [%{"Status" => "SUCCEEDED", "Result" => ""}] = result.invocations
    assert result.result == big

    assert [%{"Type" => "EXECUTION", "Action" => "SUCCEED", "Id" => "execution-result-" <> _}] =
             Enum.filter(result.updates, &(&1["Type"] == "EXECUTION"))
  end

  test "LambdaRuntime.Test.run_durable/3 runs a durable handler module to the end" do
    result =
      LambdaRuntime.Test.run_durable(
        Orders,
        %{"order_id" => 1, "items" => [%{"sku" => "s", "price" => 4}]},
        callbacks: %{"approval" => {:json, %{"by" => "test"}}}
      )

    assert result.status == :succeeded
    assert %{"total" => 4, "approved_by" => "test", "labels" => ["packed s"]} = result.result

    assert [%{"Type" => "EXECUTION", "Status" => "SUCCEEDED"}] =
             LambdaRuntime.Durable.Test.operations(result, "EXECUTION")
  end

  test "an event that is not a durable invocation is refused with the reason" do
    assert_raise ArgumentError, ~r/not a durable execution invocation/, fn ->
      Runner.run(fn _, _ -> :ok end, %{"name" => "Ada"}, nil, client: {TapClient, %{}})
    end
  end

  test "a context used from another process raises" do
    result =
      DT.run(
        fn _, ctx ->
          task = Task.async(fn -> catch_error(Durable.step(ctx, fn -> 1 end)) end)
          {:ok, Exception.message(Task.await(task))}
        end,
        nil
      )

    assert result.result =~ "can only be used by the process that owns it"
  end

  test "the durable logger writes a line once, not on every replay; step lines carry the attempt" do
    log =
      capture_log(fn ->
        DT.run(
          fn _, ctx ->
            Durable.Logger.info(ctx, "begin-marker")
            :ok = Durable.wait(ctx, 1)
            Durable.Logger.info(ctx, "after-wait-marker")

            Durable.step(ctx, "s", fn step ->
              Durable.Logger.warning(step, "in-step attempt=#{step.attempt}")
            end)
          end,
          nil
        )
      end)

    assert length(String.split(log, "begin-marker")) == 2
    assert length(String.split(log, "after-wait-marker")) == 2
    assert log =~ "in-step attempt=1"
  end
end
