defmodule Mix.Tasks.Lambda.DurableTest do
  # mix lambda.durable in examples/orders, as a user runs it: the guide's
  # example through dex-local-runner and the real runtime, to the end.
  use ExUnit.Case, async: false

  @moduletag :durable
  @moduletag timeout: 300_000

  @example LambdaRuntime.TestSupport.Paths.root("examples/orders")
  @input ~s({"order_id": 7, "items": [{"sku": "a", "price": 2}, {"sku": "b", "price": 3}]})

  defp durable(args) do
    System.cmd("mix", ["lambda.durable", "--data", @input, "--no-input" | args],
      cd: @example,
      stderr_to_stdout: true,
      env: [{"MIX_ENV", "dev"}]
    )
  end

  test "the guide's example succeeds, its history printed as it grows" do
    {output, 0} = durable(["--callback", ~s(approval={"by":"ada"})])

    for event <-
          ~w(StepSucceeded WaitStarted WaitSucceeded CallbackStarted CallbackSucceeded ContextSucceeded ExecutionSucceeded),
        do: assert(output =~ event)

    # The result, pretty-printed after the status (key order is the VM's).
    assert [_, json] = Regex.run(~r/SUCCEEDED\n(\{\n.*?\n\})/s, output)
    assert %{"approved_by" => "ada", "total" => 5} = LambdaRuntime.JSON.decode!(json)
  end

  test "a callback answered with a failure ends the execution FAILED, non-zero" do
    {output, status} = durable(["--callback-failure", "approval=Rejected:not approved"])
    assert status != 0
    assert output =~ "CallbackFailed"
    assert output =~ ~s(FAILED: {)
    assert output =~ ~s("ErrorType": "Rejected")
  end
end
