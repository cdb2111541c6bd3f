defmodule LambdaRuntime.Durable.BatchTest do
  use ExUnit.Case, async: true

  import LambdaRuntime.TestSupport.Durable.Helpers
  alias LambdaRuntime.Durable
  alias LambdaRuntime.Durable.BatchResult
  alias LambdaRuntime.Durable.Test, as: DT
  alias LambdaRuntime.TestSupport.Wait

  defp summary(batch) do
    %{
      reason: batch.completion_reason,
      status: BatchResult.status(batch),
      ok: BatchResult.count(batch, :succeeded),
      failed: BatchResult.count(batch, :failed),
      total: BatchResult.count(batch, :total)
    }
  end

  test "map runs each item in its own iteration context and returns results in item order" do
    result =
      DT.run(
        fn items, ctx ->
          {:ok, batch} =
            Durable.map(
              ctx,
              items,
              fn c, item, i -> Durable.step(c, "square", fn -> {:ok, item * item + i} end) end,
              name: "squares",
              max_concurrency: 3
            )

          {:ok, BatchResult.results(batch)}
        end,
        Enum.to_list(1..6)
      )

    assert result.result == [1, 5, 11, 19, 29, 41]
    map_op = DT.operation(result, "squares")
    assert map_op["SubType"] == "Map"
    iterations = Enum.filter(result.operations, &(&1["SubType"] == "MapIteration"))
    assert length(iterations) == 6
    assert Enum.all?(iterations, &(&1["ParentId"] == map_op["Id"]))
    assert Enum.map(iterations, & &1["Name"]) |> Enum.sort() == Enum.map(0..5, &"map-item-#{&1}")
    # Iteration ids derive from the item's index, not from timing.
    assert Enum.any?(
             iterations,
             &(&1["Id"] == LambdaRuntime.Durable.OperationId.derive(map_op["Id"], 0))
           )
  end

  test "completion rules: fail fast by default, tolerated failures, min_successful" do
    items = [:ok, :fail, :ok, :fail]

    run = fn opts ->
      DT.run(
        fn _, ctx ->
          {:ok, batch} =
            Durable.map(
              ctx,
              items,
              fn c, item ->
                Durable.step(c, fn -> if item == :fail, do: raise("no"), else: "y" end,
                  retry: :none
                )
              end,
              Keyword.put(opts, :max_concurrency, 1)
            )

          {:ok, batch}
        end,
        nil
      )
    end

    decode = fn r -> BatchResult.deserialize(LambdaRuntime.JSON.encode!(r.result)) end

    assert %{reason: :failure_tolerance_exceeded, status: :failed, ok: 1, failed: 1, total: 2} =
             run.([]) |> decode.() |> summary()

    assert %{reason: :all_completed, ok: 2, failed: 2, total: 4} =
             run.(tolerated_failure_count: 2) |> decode.() |> summary()

    assert %{reason: :failure_tolerance_exceeded, failed: 1, total: 2} =
             run.(tolerated_failure_count: 0, min_successful: 2) |> decode.() |> summary()

    assert %{reason: :all_completed, total: 4} =
             run.(tolerated_failure_percentage: 50) |> decode.() |> summary()

    assert %{reason: :failure_tolerance_exceeded, total: 4} =
             run.(tolerated_failure_percentage: 25) |> decode.() |> summary()

    assert %{reason: :min_successful_reached, ok: 1, total: 1} =
             run.(min_successful: 1) |> decode.() |> summary()
  end

  test "parallel: named branches, mixed result types, check/1 surfaces the first failure" do
    result =
      DT.run(
        fn _, ctx ->
          {:ok, batch} =
            Durable.parallel(
              ctx,
              [
                {"text", fn _ -> "hello" end},
                fn _ -> 42 end,
                {:obj, fn c -> Durable.step(c, fn -> %{k: "v"} end) end},
                {"bad", fn _ -> {:error, "broken"} end}
              ],
              tolerated_failure_count: 1
            )

          {:error, e} = BatchResult.check(batch)
          {:ok, %{results: BatchResult.results(batch), error: [e.kind, e.type, e.message]}}
        end,
        nil
      )

    assert result.result == %{
             "results" => ["hello", 42, %{"k" => "v"}],
             "error" => ["batch", "HandlerError", "broken"]
           }

    names = for op <- result.operations, op["SubType"] == "ParallelBranch", do: op["Name"]
    assert Enum.sort(names) == ["bad", "obj", "parallel-branch-1", "text"]
  end

  test "flat nesting: no iteration contexts, the items' operations sit under the map" do
    result =
      DT.run(
        fn _, ctx ->
          {:ok, b} =
            Durable.map(ctx, ["a", "b"], fn c, x -> Durable.step(c, "s", fn -> x end) end,
              nesting: :flat,
              max_concurrency: 1,
              name: "m"
            )

          {:ok, BatchResult.results(b)}
        end,
        nil
      )

    assert result.result == ["a", "b"]
    refute Enum.any?(result.operations, &(&1["SubType"] == "MapIteration"))
    map_id = DT.operation(result, "m")["Id"]

    assert [map_id, map_id] ==
             for(op <- result.operations, op["Type"] == "STEP", do: op["ParentId"])
  end

  test "a branch suspended on a timer resumes in this invocation while another still runs" do
    flag = counter()

    result =
      DT.run(
        fn _, ctx ->
          {:ok, b} =
            Durable.parallel(ctx, [
              fn c ->
                :ok = Durable.wait(c, 1)
                Durable.step(c, fn -> bump(flag) && "waited" end)
              end,
              fn c ->
                Durable.step(c, fn -> wait_for(flag, 1, 10_000) && "worked" end)
              end
            ])

          {:ok, BatchResult.results(b)}
        end,
        nil,
        skip_time: false
      )

    assert result.result == ["waited", "worked"]
    assert length(result.invocations) == 1
  end

  test "when every running branch is suspended, the batch suspends and replays completed branches" do
    runs = counter()

    result =
      DT.run(
        fn _, ctx ->
          {:ok, b} =
            Durable.map(
              ctx,
              [0, 1],
              fn c, i ->
                if i == 1, do: :ok = Durable.wait(c, 1)
                Durable.step(c, fn -> bump(runs) && "r#{i}" end)
              end,
              max_concurrency: 1
            )

          {:ok, BatchResult.results(b)}
        end,
        nil
      )

    assert result.result == ["r0", "r1"]
    assert length(result.invocations) == 2
    assert count(runs) == 2
  end

  test "a batch result over 256 KB is replayed from its items' checkpoints" do
    result =
      DT.run(
        fn _, ctx ->
          {:ok, b} =
            Durable.map(ctx, [1, 2, 3, 4], fn _c, i -> String.duplicate("#{i}", 70_000) end,
              max_concurrency: 1,
              name: "big"
            )

          :ok = Durable.wait(ctx, 1)

          {:ok,
           %{sizes: Enum.map(BatchResult.results(b), &byte_size/1), reason: b.completion_reason}}
        end,
        nil
      )

    assert result.result == %{
             "sizes" => [70_000, 70_000, 70_000, 70_000],
             "reason" => "all_completed"
           }

    assert %{"ContextDetails" => %{"ReplayChildren" => true, "Result" => summary}} =
             DT.operation(result, "big")

    assert %{"type" => "MapResult", "totalCount" => 4, "completionReason" => "ALL_COMPLETED"} =
             LambdaRuntime.JSON.decode!(summary)
  end

  test "custom serdes: per item and for the whole batch" do
    wrap =
      {fn v -> LambdaRuntime.JSON.encode!(%{"wrapped" => v}) end,
       fn p -> LambdaRuntime.JSON.decode!(p)["wrapped"] end}

    op_serdes =
      {fn b -> "OPSERDE:" <> Enum.join(BatchResult.results(b), ",") end,
       fn "OPSERDE:" <> rest ->
         items =
           rest
           |> String.split(",")
           |> Enum.with_index()
           |> Enum.map(fn {r, i} -> %{index: i, status: :succeeded, result: r, error: nil} end)

         %BatchResult{items: items}
       end}

    result =
      DT.run(
        fn _, ctx ->
          {:ok, b} =
            Durable.map(ctx, ["x", "y"], fn _c, s -> String.upcase(s) end,
              item_serdes: wrap,
              serdes: op_serdes,
              name: "m",
              max_concurrency: 1
            )

          :ok = Durable.wait(ctx, 1)
          {:ok, BatchResult.results(b)}
        end,
        nil
      )

    assert result.result == ["X", "Y"]
    assert %{"ContextDetails" => %{"Result" => "OPSERDE:X,Y"}} = DT.operation(result, "m")

    assert [_, _] =
             for(
               op <- result.operations,
               op["SubType"] == "MapIteration",
               do: op["ContextDetails"]["Result"]
             )
             |> Enum.filter(&(&1 =~ "wrapped"))
  end

  test "empty input, bad options" do
    result = DT.run(fn _, ctx -> Durable.map(ctx, [], fn _, _ -> 1 end) end, nil)
    assert %{"all" => [], "completionReason" => "ALL_COMPLETED"} = result.result

    bad = DT.run(fn _, ctx -> Durable.parallel(ctx, [fn _ -> 1 end], max_concurrency: 0) end, nil)
    assert bad.error["ErrorType"] == "ArgumentError"
    assert bad.error["ErrorMessage"] =~ "max_concurrency"
    refute Enum.any?(bad.operations, &(&1["Type"] == "CONTEXT"))

    bad = DT.run(fn _, ctx -> Durable.map(ctx, [1], fn _, _ -> 1 end, min_successful: 2) end, nil)
    assert bad.error["ErrorMessage"] =~ "min_successful (2) cannot be greater"
  end

  defp wait_for(table, value, timeout) do
    Wait.until(fn -> count(table) >= value end,
      timeout: timeout,
      message: "timed out waiting for the other branch"
    )
  end
end
