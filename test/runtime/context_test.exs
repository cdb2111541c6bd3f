defmodule LambdaRuntime.ContextTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.{Config, Context}

  defp meta(overrides) do
    Map.merge(
      %{
        request_id: "req-1",
        deadline_ms: nil,
        invoked_function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:f",
        trace_id: "Root=1-abc;Parent=def;Sampled=1",
        client_context: nil,
        cognito_identity: nil,
        tenant_id: nil,
        invocation_id: nil
      },
      Map.new(overrides)
    )
  end

  defp base do
    Context.for_function(%Config{
      function_name: "f",
      function_version: "$LATEST",
      memory_limit_in_mb: 256,
      log_group_name: "/aws/lambda/f",
      log_stream_name: "stream"
    })
  end

  test "for_function/1 carries the function's settings and no invocation" do
    assert %Context{
             function_name: "f",
             function_version: "$LATEST",
             memory_limit_in_mb: 256,
             log_group_name: "/aws/lambda/f",
             log_stream_name: "stream",
             request_id: nil,
             deadline_ms: nil
           } = base()
  end

  test "for_invocation/2 puts /next's headers on top of the function context" do
    context = Context.for_invocation(base(), meta(tenant_id: "t-1", invocation_id: "inv-1"))

    assert %Context{
             request_id: "req-1",
             invoked_function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:f",
             trace_id: "Root=1-abc;Parent=def;Sampled=1",
             tenant_id: "t-1",
             invocation_id: "inv-1",
             function_name: "f",
             memory_limit_in_mb: 256
           } = context
  end

  describe "remaining_time_ms/1" do
    test "counts down to an epoch deadline" do
      deadline = System.os_time(:millisecond) + 5_000
      context = Context.for_invocation(base(), meta(deadline_ms: deadline))
      assert Context.epoch_deadline?(context)
      remaining = Context.remaining_time_ms(context)
      assert remaining in 4_000..5_000
    end

    test "is zero, never negative, once an epoch deadline has passed" do
      context = %Context{deadline_ms: System.os_time(:millisecond) - 10_000}
      assert Context.remaining_time_ms(context) == 0
    end

    test "is nil for a non-epoch deadline such as the emulator's 600000, or none" do
      for deadline <- [600_000, 0, 999_999_999_999, nil] do
        context = %Context{deadline_ms: deadline}
        refute Context.epoch_deadline?(context)
        assert Context.remaining_time_ms(context) == nil
      end

      assert Context.epoch_deadline?(%Context{deadline_ms: 1_000_000_000_000})
    end
  end

  describe "client_context and cognito_identity" do
    test "are decoded when they are JSON" do
      cc = ~s({"client":{"installation_id":"i-1"},"custom":{"k":"v"},"env":{"locale":"en"}})
      ci = ~s({"cognitoIdentityId":"id-1","cognitoIdentityPoolId":"pool-1"})
      context = Context.for_invocation(base(), meta(client_context: cc, cognito_identity: ci))

      assert context.client_context == %{
               "client" => %{"installation_id" => "i-1"},
               "custom" => %{"k" => "v"},
               "env" => %{"locale" => "en"}
             }

      assert context.cognito_identity == %{
               "cognitoIdentityId" => "id-1",
               "cognitoIdentityPoolId" => "pool-1"
             }
    end

    test "are kept as text when they are not JSON, nil when absent" do
      context = Context.for_invocation(base(), meta(client_context: "not {json"))
      assert context.client_context == "not {json"
      assert context.cognito_identity == nil
    end
  end
end
