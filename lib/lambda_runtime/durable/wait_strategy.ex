defmodule LambdaRuntime.Durable.WaitStrategy do
  @moduledoc """
  When `LambdaRuntime.Durable.wait_for_condition/4` polls again. After each
  check the strategy sees the new state and the attempt number and says
  `{:continue, delay}` or `:stop`. A strategy is built here, or is a function
  `fn state, attempt -> {:continue, duration} | :stop end`.

      WaitStrategy.backoff(continue_while: &(&1["status"] == "PENDING"), initial_delay: 2)
      WaitStrategy.fixed(2, continue_while: &(&1 < 3), max_attempts: 10)

  Once `:max_attempts` checks ran without the condition being met, the
  operation fails (`WaitForConditionError`); a condition met on the last
  attempt still succeeds, as in AWS's SDKs.
  """

  alias LambdaRuntime.Durable.{Duration, Retry}

  defstruct [
    :continue_while,
    max_attempts: 60,
    initial_delay: 5,
    max_delay: 300,
    backoff_rate: 1.5,
    jitter: :full
  ]

  @type t :: %__MODULE__{}
  @type strategy :: t() | (term(), pos_integer() -> {:continue, Duration.t()} | :stop)

  @doc """
  Exponential backoff between checks. Options: `:continue_while` (required,
  a predicate on the state), `:max_attempts` (60), `:initial_delay` (5 s),
  `:max_delay` (5 min), `:backoff_rate` (1.5), `:jitter` (`:full`).
  """
  @spec backoff(keyword()) :: t()
  def backoff(opts) do
    unless is_function(opts[:continue_while], 1),
      do: raise(ArgumentError, "WaitStrategy needs :continue_while, a one-argument predicate")

    s = struct!(__MODULE__, opts)

    %{
      s
      | initial_delay: Duration.seconds!(s.initial_delay),
        max_delay: Duration.seconds!(s.max_delay)
    }
  end

  @doc "A fixed delay between checks, no jitter. Options as `backoff/1`."
  @spec fixed(Duration.t(), keyword()) :: t()
  def fixed(delay, opts),
    do:
      backoff(
        Keyword.merge(
          [initial_delay: delay, max_delay: delay, backoff_rate: 1.0, jitter: :none],
          opts
        )
      )

  @doc false
  @spec decide(strategy(), term(), pos_integer()) ::
          {:continue, pos_integer()} | :stop | {:fail, String.t()}
  def decide(fun, state, attempt) when is_function(fun, 2) do
    case fun.(state, attempt) do
      {:continue, duration} ->
        {:continue, max(1, Duration.seconds!(duration))}

      :stop ->
        :stop

      other ->
        raise ArgumentError,
              "a wait strategy must return {:continue, duration} or :stop, got: #{inspect(other)}"
    end
  end

  def decide(%__MODULE__{} = s, state, attempt) do
    cond do
      not s.continue_while.(state) ->
        :stop

      attempt >= s.max_attempts ->
        {:fail,
         "wait_for_condition exhausted #{s.max_attempts} attempts before the condition was met"}

      true ->
        retry = %Retry{
          initial_delay: s.initial_delay,
          max_delay: s.max_delay,
          backoff_rate: s.backoff_rate,
          jitter: s.jitter
        }

        {:continue, Retry.delay(retry, attempt)}
    end
  end
end
