defmodule LambdaRuntime.Tools.Deploy.DurableDeployTest do
  # issue 16: `mix lambda.deploy` sets a durable function's DurableConfig.
  use ExUnit.Case, async: false

  alias LambdaRuntime.AWS.Error
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.{Connection, Preflight, Project}
  alias LambdaRuntime.Tools.Settings
  alias LambdaRuntime.TestSupport.MixShell

  @role "arn:aws:iam::123456789012:role/orders"
  @tasks %{layer: "lambda.deploy_test_layer", package: "lambda.deploy_test_package"}

  defp load(durable),
    do: Settings.load([lambda: [handler: "Orders", role: @role, durable: durable]], [], :orders)

  test "the durable: settings are validated, naming the key and the ranges" do
    assert {:ok, %Settings{durable: [execution_timeout: 86_400]}} =
             load(execution_timeout: 86_400)

    for bad <- [
          [],
          [execution_timeout: 0],
          [execution_timeout: 31_622_401],
          [execution_timeout: "3600"],
          [execution_timeout: 60, retention_period_in_days: 91],
          [execution_timeout: 60, kms_key_arn: "key"],
          [execution_timeout: 60, retention: 3],
          true
        ] do
      assert {:error, message} = load(bad), inspect(bad)
      assert message =~ "durable must be a keyword list: execution_timeout: 1..31622400"
    end
  end

  test "CreateFunction carries DurableConfig; a plain function carries none" do
    {:ok, durable} = load(execution_timeout: 3600, retention_period_in_days: 30)
    request = Lambda.create_function(%{durable | architecture: "x86_64"}, "zip")

    assert request.body["DurableConfig"] == %{
             "ExecutionTimeout" => 3600,
             "RetentionPeriodInDays" => 30
           }

    assert request.summary =~ "DurableConfig=ExecutionTimeout:3600s,RetentionPeriodInDays:30"

    assert Lambda.update_function_configuration(durable).body["DurableConfig"]["ExecutionTimeout"] ==
             3600

    {:ok, plain} = Settings.load([lambda: [handler: "H.h", role: @role]], [], :plain)

    refute Map.has_key?(
             Lambda.create_function(%{plain | architecture: "x86_64"}, "zip").body,
             "DurableConfig"
           )

    # The default retention is Lambda's own, sent explicitly.
    assert Lambda.durable_body(execution_timeout: 60)["DurableConfig"]["RetentionPeriodInDays"] ==
             14
  end

  test "a dry run shows the DurableConfig it would send" do
    MixShell.use_process_shell()
    {:ok, conn} = Connection.open(dry_run: true, region: "us-east-1", env: %{})
    {:ok, config} = load(execution_timeout: 900)
    assert {:ok, _} = Project.deploy(conn, config, tasks: @tasks)

    out = MixShell.output()

    assert out =~ "DurableConfig=ExecutionTimeout:900s,RetentionPeriodInDays:14"
  end

  test "the refusal for an existing plain function names the fix" do
    {:ok, config} = load(execution_timeout: 900)
    %Error{code: "NotDurable", message: message, hint: hint} = Preflight.not_durable(config)
    assert message =~ "only when it creates a function, so nothing was uploaded"
    assert hint =~ "aws lambda delete-function --function-name orders"
  end
end
