defmodule LambdaRuntime.Durable.Step do
  @moduledoc """
  The step operation (`LambdaRuntime.Durable.step/4`), and what a step's
  function receives: `%LambdaRuntime.Durable.Step{}` with the operation id,
  name, attempt number (1 for the first) and execution ARN (pass it to
  `LambdaRuntime.Durable.Logger`).

  A step runs its function once and checkpoints the result; on replay the
  checkpoint is returned and the function does not run. A failed attempt is
  retried by the step's strategy (`LambdaRuntime.Durable.Retry`), each retry
  in a later invocation. Semantics:

    * `:at_least_once` (default): the START checkpoint is queued and the
      function runs at once; if the invocation dies mid-step, the next one
      runs the same attempt again.
    * `:at_most_once`: the START is persisted before the function runs; if
      the invocation dies mid-step, the attempt counts as failed
      (`StepInterruptedError`) and the retry strategy decides.
  """

  alias LambdaRuntime.Durable.{Context, Error, Outcome, Retry, Serdes, Worker}

  defstruct [:operation_id, :name, :attempt, :arn]

  @type t :: %__MODULE__{
          operation_id: String.t(),
          name: String.t() | nil,
          attempt: pos_integer(),
          arn: String.t()
        }

  @options [:name, :retry, :semantics, :serdes, :sub_type]

  @doc false
  def run(%Context{} = ctx, fun, opts) when is_function(fun, 0) or is_function(fun, 1) do
    opts = Context.options!(opts, @options, "step")
    semantics = Keyword.get(opts, :semantics, :at_least_once)

    if semantics not in [:at_least_once, :at_most_once],
      do: raise(ArgumentError, "step :semantics must be :at_least_once or :at_most_once")

    identity =
      Context.next(ctx, :step, Keyword.get(opts, :sub_type, "Step"), Context.name!(opts[:name]))

    serdes = Keyword.get(opts, :serdes, Serdes.JSON)

    case Context.checkpointed(ctx, identity) do
      %{status: :succeeded, result: payload} ->
        replayed(serdes, payload)

      %{status: :failed, error: error} ->
        {:error, Error.from_object(:step, error)}

      %{status: :pending, next_attempt_ms: at} ->
        Worker.suspend(at)

      %{status: :started} = op when semantics == :at_most_once ->
        interrupted = %{
          "ErrorType" => "StepInterruptedError",
          "ErrorMessage" =>
            "step #{identity.name || identity.id} was interrupted: it started in an earlier " <>
              "invocation and did not finish (at most once per retry)"
        }

        retry_or_fail(ctx, identity, interrupted, op.attempt + 1, opts)

      %{status: :started} = op ->
        execute(ctx, identity, fun, op.attempt + 1, serdes, opts)

      op ->
        Context.save!(ctx, identity_update(identity, "START"), semantics == :at_most_once)
        execute(ctx, identity, fun, ((op && op.attempt) || 0) + 1, serdes, opts)
    end
  end

  defp replayed(serdes, payload) do
    case Serdes.deserialize(serdes, payload) do
      {:ok, value} -> {:ok, value}
      {:error, error} -> {:error, error}
    end
  end

  defp execute(ctx, identity, fun, attempt, serdes, opts) do
    step = %__MODULE__{
      operation_id: identity.id,
      name: identity.name,
      attempt: attempt,
      arn: ctx.arn
    }

    outcome = Context.in_step(fn -> Outcome.run(fn -> call(fun, step) end) end)

    case outcome do
      {:ok, value} ->
        case Serdes.round_trip(serdes, value) do
          {:ok, payload, back} ->
            Context.save!(ctx, identity_update(identity, "SUCCEED", payload_field(payload)))
            {:ok, back}

          {:error, error} ->
            Context.save!(
              ctx,
              identity_update(identity, "FAIL", %{"Error" => Error.to_object(error)})
            )

            {:error, error}
        end

      {:error, object} ->
        retry_or_fail(ctx, identity, object, attempt, opts)
    end
  end

  defp retry_or_fail(ctx, identity, object, attempt, opts) do
    error = Error.from_object(:step, object)

    case Retry.decide(Keyword.get(opts, :retry), error, attempt) do
      {:retry, seconds} ->
        Context.save!(
          ctx,
          identity_update(identity, "RETRY", %{
            "Error" => object,
            "StepOptions" => %{"NextAttemptDelaySeconds" => seconds}
          })
        )

        Worker.suspend(System.os_time(:millisecond) + seconds * 1000)

      :stop ->
        Context.save!(ctx, identity_update(identity, "FAIL", %{"Error" => object}))
        {:error, error}
    end
  end

  defp call(fun, _step) when is_function(fun, 0), do: fun.()
  defp call(fun, step), do: fun.(step)

  defp payload_field(nil), do: %{}
  defp payload_field(payload), do: %{"Payload" => payload}

  defp identity_update(identity, action, extra \\ %{}),
    do: LambdaRuntime.Durable.Identity.update(identity, action, extra)
end
