defmodule LambdaRuntime.Retry do
  @moduledoc """
  Retries a Runtime API request whose connection failed (refused, reset,
  closed early, garbled), with exponential backoff. HTTP answers, whatever
  their status, are returned at once.
  """

  require Logger

  @backoff_ms [10, 50, 200, 500, 1000]

  @doc "Runs `request` until it gets an HTTP answer or the retries run out."
  @spec transport(
          (() -> {:ok, term(), term()} | {:ok, term(), term(), term()} | {:error, term()}),
          [non_neg_integer()]
        ) :: tuple()
  def transport(request, backoff \\ @backoff_ms) do
    case request.() do
      {:error, {kind, message}} = error when kind in [:refused, :closed, :protocol] ->
        case backoff do
          [] ->
            error

          [delay | rest] ->
            Logger.warning(
              "Runtime API connection failed (#{kind}: #{message}); retrying in #{delay} ms"
            )

            Process.sleep(delay)
            transport(request, rest)
        end

      answer ->
        answer
    end
  end
end
