defmodule LambdaRuntime.Durable.WaitCallbackTest do
  use ExUnit.Case, async: true

  import LambdaRuntime.TestSupport.Durable.Helpers
  alias LambdaRuntime.Durable
  alias LambdaRuntime.Durable.Serdes
  alias LambdaRuntime.Durable.Test, as: DT

  describe "wait" do
    test "suspends the execution; the next invocation continues after it" do
      before = counter()

      result =
        DT.run(
          fn _, ctx ->
            bump(before)
            :ok = Durable.wait(ctx, {2, :minutes}, name: "pause")
            :ok = Durable.wait(ctx, 3)
            {:ok, "done"}
          end,
          nil
        )

      assert result.result == "done"

      assert [%{"Status" => "PENDING"}, %{"Status" => "PENDING"}, %{"Status" => "SUCCEEDED"}] =
               result.invocations

      assert count(before) == 3

      assert [120, 3] ==
               for(u <- updates(result, "WAIT", "START"), do: u["WaitOptions"]["WaitSeconds"])

      assert %{"Status" => "SUCCEEDED", "SubType" => "Wait"} = DT.operation(result, "pause")
    end

    test "a wait shorter than a second is refused" do
      result = DT.run(fn _, ctx -> Durable.wait(ctx, 0) end, nil)
      assert result.error["ErrorType"] == "ArgumentError"
      assert result.error["ErrorMessage"] =~ "at least 1 second"

      result = DT.run(fn _, ctx -> Durable.wait(ctx, {1, :fortnight}) end, nil)
      assert result.error["ErrorMessage"] =~ "invalid duration"
    end
  end

  describe "callbacks" do
    test "the answer is the raw string sent, or decoded with a serdes" do
      result =
        DT.run(
          fn _, ctx ->
            {:ok, raw_cb} = Durable.create_callback(ctx, name: "raw")
            {:ok, json_cb} = Durable.create_callback(ctx, name: "json", serdes: Serdes.JSON)
            assert is_binary(raw_cb.id) and raw_cb.id != json_cb.id
            {:ok, raw} = Durable.await_callback(ctx, raw_cb)
            {:ok, json} = Durable.await_callback(ctx, json_cb)
            {:ok, %{raw: raw, json: json}}
          end,
          nil,
          callbacks: %{"raw" => {:json, "yes"}, "json" => {:json, %{"n" => 1}}}
        )

      assert result.result == %{"raw" => ~s("yes"), "json" => %{"n" => 1}}

      assert [%{"CallbackOptions" => %{"TimeoutSeconds" => 0}} | _] =
               updates(result, "CALLBACK", "START")
    end

    test "a reported failure and a timeout are errors of their kind, the same on every replay" do
      handler = fn _, ctx ->
        {:ok, a} = Durable.create_callback(ctx, name: "rejected")
        {:ok, b} = Durable.create_callback(ctx, name: "silent", timeout: 5, heartbeat_timeout: 3)
        {:error, ea} = Durable.await_callback(ctx, a)
        {:error, eb} = Durable.await_callback(ctx, b)
        :ok = Durable.wait(ctx, 1)
        {:ok, [[ea.kind, ea.type, ea.message], [eb.kind, eb.type]]}
      end

      result =
        DT.run(handler, nil, callbacks: %{"rejected" => {:error, "RejectedError", "not approved"}})

      assert result.result == [
               ["callback", "RejectedError", "not approved"],
               ["callback_timeout", "Callback.Timeout"]
             ]

      assert [
               %{"CallbackOptions" => %{"TimeoutSeconds" => 0}},
               %{"CallbackOptions" => %{"TimeoutSeconds" => 5, "HeartbeatTimeoutSeconds" => 3}}
             ] = updates(result, "CALLBACK", "START")
    end

    test "wait_for_callback: a child context that submits the id in a step and awaits the answer" do
      submitted = counter()

      result =
        DT.run(
          fn _, ctx ->
            Durable.wait_for_callback(
              ctx,
              fn id, step -> bump(submitted) && is_binary(id) && step.attempt == 1 end,
              name: "approval",
              serdes: Serdes.JSON
            )
          end,
          nil,
          callbacks: %{"approval" => {:json, %{"by" => "ada"}}}
        )

      assert result.result == %{"by" => "ada"}
      assert count(submitted) == 1
      ctx_op = DT.operation(result, "approval")
      assert %{"Type" => "CONTEXT", "SubType" => "WaitForCallback"} = ctx_op
      assert %{"ParentId" => parent} = DT.operation(result, "approval create callback id")
      assert parent == ctx_op["Id"]

      assert %{"ParentId" => ^parent, "Type" => "STEP"} =
               DT.operation(result, "approval submitter")
    end

    test "wait_for_callback takes a one-argument submitter too" do
      result =
        DT.run(
          fn _, ctx -> Durable.wait_for_callback(ctx, &(is_binary(&1) and :ok), name: "one") end,
          nil,
          callbacks: %{"one" => {:ok, "fine"}}
        )

      assert result.result == "fine"
    end

    test "wait_for_callback: a failing submitter is :callback_submitter on the first run and on replay" do
      handler = fn _, ctx ->
        {:error, e} =
          Durable.wait_for_callback(ctx, fn _id, _ -> raise "mail server down" end, retry: :none)

        :ok = Durable.wait(ctx, 1)
        {:ok, [e.kind, e.type, e.message]}
      end

      result = DT.run(handler, nil)

      assert result.result == [
               "callback_submitter",
               "CallbackSubmitterError",
               "RuntimeError: mail server down"
             ]

      assert length(result.invocations) == 2
    end
  end
end
