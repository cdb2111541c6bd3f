defmodule LambdaRuntime.Durable.Retry do
  @moduledoc """
  Retry strategies for steps: after a failed attempt a step asks its
  strategy whether to try again and after how long. A retry is checkpointed
  (`RETRY` with `NextAttemptDelaySeconds`) and the execution suspends; the
  service invokes the function again when the delay has passed, and the
  step runs its next attempt.

  A strategy is a `%LambdaRuntime.Durable.Retry{}` built by the functions
  below, `:none`, or a function `fn error, attempt -> {:retry, duration} |
  :stop end` receiving the failure (`LambdaRuntime.Durable.Error`) and the
  number of the attempt that failed (1 for the first).

      Durable.step(ctx, "charge", &charge/1,
        retry: Retry.exponential(max_attempts: 4, initial_delay: 2, backoff_rate: 3, jitter: :none)
      )

      Durable.step(ctx, "fetch", &fetch/1, retry: Retry.exponential(retry_on: [MyApp.Transient, ~r/timeout/]))

  The default (when a step has no `:retry`) is AWS's: 6 attempts, 5 s
  initial delay doubling up to 60 s, full jitter.
  """

  alias LambdaRuntime.Durable.{Duration, Error}

  defstruct max_attempts: 3,
            initial_delay: 5,
            max_delay: 300,
            backoff_rate: 2.0,
            increment: 0,
            jitter: :full,
            retry_on: nil,
            retry_if: nil

  @type jitter :: :full | :half | :none
  @type t :: %__MODULE__{}
  @type strategy :: t() | :none | (Error.t(), pos_integer() -> {:retry, Duration.t()} | :stop)

  @doc """
  Exponential backoff: the delay after attempt n is `initial_delay *
  backoff_rate^(n-1)`, at most `max_delay`, then jittered (`:full`: random
  between 0 and the delay; `:half`: between half and all of it; `:none`),
  rounded up, at least 1 second.

  Options: `:max_attempts` (3, counting the first), `:initial_delay` (5 s),
  `:max_delay` (5 min), `:backoff_rate` (2), `:jitter` (`:full`),
  `:retry_on` (retry only failures matching one of: an exception module,
  a `Regex` or a string contained in the message; default all),
  `:retry_if` (a predicate on the error, combined with `:retry_on` by "or").
  Durations are seconds or `{n, unit}`.
  """
  @spec exponential(keyword()) :: t()
  def exponential(opts \\ []), do: build(opts, [])

  @doc """
  Linear backoff: `initial_delay + increment * (n-1)`, at most `max_delay`.
  Defaults: 6 attempts, 1 s initial delay, 1 s increment, full jitter.
  """
  @spec linear(keyword()) :: t()
  def linear(opts \\ []),
    do: build(opts, max_attempts: 6, initial_delay: 1, increment: 1, backoff_rate: :linear)

  @doc "A constant delay (default 5 s, 5 attempts, no jitter)."
  @spec fixed(Duration.t(), keyword()) :: t()
  def fixed(interval \\ 5, opts \\ []),
    do:
      build(opts,
        max_attempts: 5,
        initial_delay: interval,
        max_delay: interval,
        backoff_rate: 1.0,
        jitter: :none
      )

  @doc "AWS's default: 6 attempts, 5 s doubling to at most 60 s, full jitter."
  @spec default() :: t()
  def default,
    do: %__MODULE__{max_attempts: 6, initial_delay: 5, max_delay: 60, backoff_rate: 2.0}

  @doc """
  The decision after attempt `attempt` failed with `error`:
  `{:retry, seconds}` (at least 1) or `:stop`.
  """
  @spec decide(strategy() | nil, Error.t(), pos_integer()) :: {:retry, pos_integer()} | :stop
  def decide(nil, error, attempt), do: decide(default(), error, attempt)
  def decide(:none, _error, _attempt), do: :stop

  def decide(fun, error, attempt) when is_function(fun, 2) do
    case fun.(error, attempt) do
      {:retry, duration} ->
        {:retry, max(1, Duration.seconds!(duration))}

      :stop ->
        :stop

      other ->
        raise ArgumentError,
              "a retry function must return {:retry, duration} or :stop, got: #{inspect(other)}"
    end
  end

  def decide(%__MODULE__{} = s, error, attempt) do
    if attempt >= s.max_attempts or not retryable?(s, error) do
      :stop
    else
      {:retry, delay(s, attempt)}
    end
  end

  @doc false
  def delay(%__MODULE__{} = s, attempt) do
    base =
      case s.backoff_rate do
        :linear -> s.initial_delay + s.increment * (attempt - 1)
        rate -> s.initial_delay * :math.pow(rate, attempt - 1)
      end

    s.max_delay |> min(base) |> jitter(s.jitter) |> Float.ceil() |> trunc() |> max(1)
  end

  @doc false
  def jitter(delay, :none), do: delay / 1
  def jitter(delay, :half), do: delay / 2 + :rand.uniform() * (delay / 2)
  def jitter(delay, :full), do: :rand.uniform() * delay

  defp retryable?(%__MODULE__{retry_on: nil, retry_if: nil}, _error), do: true

  defp retryable?(%__MODULE__{retry_on: on, retry_if: pred}, error) do
    Enum.any?(on || [], &matches?(&1, error)) or (is_function(pred, 1) and pred.(error) == true)
  end

  defp matches?(%Regex{} = regex, error), do: Regex.match?(regex, error.message || "")
  defp matches?(text, error) when is_binary(text), do: String.contains?(error.message || "", text)
  defp matches?(module, error) when is_atom(module), do: error.type == inspect(module)

  defp build(opts, defaults) do
    fields = Keyword.merge(defaults, opts)

    Enum.each(Keyword.keys(opts), fn key ->
      if key not in [
           :max_attempts,
           :initial_delay,
           :max_delay,
           :backoff_rate,
           :increment,
           :jitter,
           :retry_on,
           :retry_if
         ],
         do: raise(ArgumentError, "unknown retry option #{inspect(key)}")
    end)

    strategy = struct!(__MODULE__, fields)

    %{
      strategy
      | initial_delay: Duration.seconds!(strategy.initial_delay),
        max_delay: Duration.seconds!(strategy.max_delay),
        increment: Duration.seconds!(strategy.increment)
    }
    |> validate!()
  end

  defp validate!(%__MODULE__{max_attempts: n}) when not is_integer(n) or n < 1,
    do: raise(ArgumentError, "max_attempts must be a positive integer, got: #{inspect(n)}")

  defp validate!(%__MODULE__{jitter: j}) when j not in [:full, :half, :none],
    do: raise(ArgumentError, "jitter must be :full, :half or :none, got: #{inspect(j)}")

  defp validate!(strategy), do: strategy
end
