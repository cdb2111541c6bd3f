defmodule LambdaRuntime.Durable.Logger do
  @moduledoc """
  Replay-aware logging for durable handlers: a line logged through a
  `LambdaRuntime.Durable.Context` is written only when the code around it
  runs for the first time, not again each time the execution replays past
  it. Lines logged through a step (`%LambdaRuntime.Durable.Step{}`, what a
  step's function receives) are always written: a step's function only
  runs when its work is new.

      def handle_execution(order, ctx) do
        Durable.Logger.info(ctx, "processing order \#{order["id"]}")   # once
        Durable.step(ctx, :charge, fn step ->
          Durable.Logger.info(step, "charging")                        # every attempt
          ...
        end)
      end

  Lines go through Elixir's Logger with metadata `durableExecutionArn`
  (and `operationId`, `operationName`, `attempt` from a step), so with
  `AWS_LAMBDA_LOG_FORMAT=JSON` they are JSON objects carrying those fields.
  Pass `replay: true` to log a context line on replays too.
  """

  alias LambdaRuntime.Durable.{Context, Step}

  @levels [:debug, :info, :notice, :warning, :error]

  for level <- @levels do
    @doc "Logs `message` at level `#{level}` (see the module doc)."
    @spec unquote(level)(Context.t() | Step.t(), String.t(), keyword()) :: :ok
    def unquote(level)(where, message, metadata \\ []),
      do: log(where, unquote(level), message, metadata)
  end

  @doc "Logs `message` at `level` unless the context is replaying."
  @spec log(Context.t() | Step.t(), Logger.level(), String.t(), keyword()) :: :ok
  def log(%Context{} = ctx, level, message, metadata) do
    {replay?, metadata} = Keyword.pop(metadata, :replay, false)

    if replay? or not Context.replaying?(ctx),
      do: Logger.bare_log(level, message, [durableExecutionArn: ctx.arn] ++ metadata)

    :ok
  end

  def log(%Step{} = step, level, message, metadata) do
    base = [
      durableExecutionArn: step.arn,
      operationId: step.operation_id,
      operationName: step.name,
      attempt: step.attempt
    ]

    Logger.bare_log(level, message, Enum.reject(base, &is_nil(elem(&1, 1))) ++ metadata)
  end
end
