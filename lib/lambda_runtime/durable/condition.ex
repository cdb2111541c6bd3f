defmodule LambdaRuntime.Durable.Condition do
  @moduledoc """
  `LambdaRuntime.Durable.wait_for_condition/4`: polls a check function,
  one check per invocation, until its wait strategy stops. The state each
  check returns is checkpointed (a STEP operation, subtype
  `WaitForCondition`: `RETRY` with the state and the next delay while
  polling, `SUCCEED` with the final state) and fed to the next check, so a
  poll never runs twice. A check that raises or returns `{:error, reason}`
  fails the operation; it is not retried.
  """

  alias LambdaRuntime.Durable.{
    Context,
    Error,
    Identity,
    Outcome,
    Serdes,
    Step,
    WaitStrategy,
    Worker
  }

  @doc false
  def run(%Context{} = ctx, initial, check, opts)
      when is_function(check, 1) or is_function(check, 2) do
    opts = Context.options!(opts, [:name, :strategy, :serdes], "wait_for_condition")

    strategy =
      opts[:strategy] ||
        raise ArgumentError,
              "wait_for_condition needs :strategy (see LambdaRuntime.Durable.WaitStrategy)"

    serdes = Keyword.get(opts, :serdes, Serdes.JSON)
    identity = Context.next(ctx, :step, "WaitForCondition", Context.name!(opts[:name]))

    case Context.checkpointed(ctx, identity) do
      %{status: :succeeded, result: payload} ->
        Serdes.deserialize(serdes, payload)

      %{status: :failed, error: error} ->
        {:error, Error.from_object(:wait_for_condition, error)}

      %{status: :pending, next_attempt_ms: at} ->
        Worker.suspend(at)

      op ->
        unless op && op.status == :started,
          do: Context.save!(ctx, Identity.update(identity, "START"), false)

        poll(ctx, identity, op, initial, check, strategy, serdes)
    end
  end

  defp poll(ctx, identity, op, initial, check, strategy, serdes) do
    attempt = ((op && op.attempt) || 0) + 1

    with {:ok, state} <- current_state(op, initial, serdes),
         step = %Step{
           operation_id: identity.id,
           name: identity.name,
           attempt: attempt,
           arn: ctx.arn
         },
         {:ok, new_state} <- checked(check, state, step),
         {:ok, payload, back} <- Serdes.round_trip(serdes, new_state) do
      case decide(strategy, back, attempt) do
        :stop ->
          Context.save!(ctx, update(identity, "SUCCEED", payload))
          {:ok, back}

        {:continue, seconds} ->
          extra = %{"StepOptions" => %{"NextAttemptDelaySeconds" => seconds}}

          Context.save!(
            ctx,
            Identity.update(identity, "RETRY", Map.merge(payload_field(payload), extra))
          )

          Worker.suspend(System.os_time(:millisecond) + seconds * 1000)

        {:fail, object} ->
          fail(ctx, identity, object)
      end
    else
      {:error, %Error{} = error} -> fail(ctx, identity, Error.to_object(error))
      {:error, object} -> fail(ctx, identity, object)
    end
  end

  defp current_state(%{status: status, result: payload}, _initial, serdes)
       when status in [:started, :ready] and payload != nil,
       do: Serdes.deserialize(serdes, payload)

  defp current_state(_op, initial, serdes) do
    with {:ok, _payload, back} <- Serdes.round_trip(serdes, initial), do: {:ok, back}
  end

  defp checked(check, state, step) do
    Context.in_step(fn ->
      Outcome.run(fn -> if is_function(check, 1), do: check.(state), else: check.(state, step) end)
    end)
  end

  defp decide(strategy, state, attempt) do
    case WaitStrategy.decide(strategy, state, attempt) do
      {:fail, message} -> {:fail, Error.object("WaitForConditionError", message)}
      other -> other
    end
  rescue
    e -> {:fail, Error.object_for({:caught, :error, e, __STACKTRACE__})}
  end

  defp fail(ctx, identity, object) do
    Context.save!(ctx, Identity.update(identity, "FAIL", %{"Error" => object}))
    {:error, Error.from_object(:wait_for_condition, object)}
  end

  defp update(identity, action, payload),
    do: Identity.update(identity, action, payload_field(payload))

  defp payload_field(nil), do: %{}
  defp payload_field(payload), do: %{"Payload" => payload}
end
