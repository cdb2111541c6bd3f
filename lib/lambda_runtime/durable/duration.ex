defmodule LambdaRuntime.Durable.Duration do
  @moduledoc """
  Durations for waits, timeouts and retry delays: a number of seconds, or
  `{n, unit}` with unit `:second(s)`, `:minute(s)`, `:hour(s)` or `:day(s)`.
  The service counts whole seconds, so fractions are truncated, as in AWS's
  SDKs.

      iex> LambdaRuntime.Durable.Duration.seconds!({2, :minutes})
      120
  """

  @type t :: non_neg_integer() | {number(), atom()}

  @units %{
    second: 1,
    seconds: 1,
    minute: 60,
    minutes: 60,
    hour: 3600,
    hours: 3600,
    day: 86_400,
    days: 86_400
  }

  @doc "Whole seconds of a duration; raises `ArgumentError` for anything else."
  @spec seconds!(t()) :: non_neg_integer()
  def seconds!(n) when is_integer(n) and n >= 0, do: n
  def seconds!(n) when is_float(n) and n >= 0, do: trunc(n)

  def seconds!({n, unit} = duration) when is_number(n) and n >= 0 do
    case @units do
      %{^unit => factor} -> trunc(n * factor)
      _ -> invalid(duration)
    end
  end

  def seconds!(other), do: invalid(other)

  defp invalid(value) do
    raise ArgumentError,
          "invalid duration #{inspect(value)}: use a number of seconds or {n, unit} " <>
            "with unit :seconds, :minutes, :hours or :days"
  end
end
