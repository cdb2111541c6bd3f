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
          (... -> {:ok, term(), term()} | {:ok, term(), term(), term()} | {:error, term()}),
          [non_neg_integer()]
        ) :: tuple()
  def transport(request, backoff \\ @backoff_ms), do: retry(request.(), request, backoff)

  @doc """
  The same for a request whose first attempt was already made elsewhere
  (`answer` is its outcome): a `/next` made by
  `LambdaRuntime.Client.respond_then_next/5`, retried as a plain `/next`.
  """
  @spec retry(tuple(), (... -> tuple()), [non_neg_integer()]) :: tuple()
  def retry(answer, request, backoff \\ @backoff_ms)

  def retry({:error, {kind, message}} = error, request, backoff)
      when kind in [:refused, :closed, :protocol] do
    case backoff do
      [] ->
        error

      [delay | rest] ->
        Logger.warning(
          "Runtime API connection failed (#{kind}: #{message}); retrying in #{delay} ms"
        )

        Process.sleep(delay)
        retry(request.(), request, rest)
    end
  end

  def retry(answer, _request, _backoff), do: answer
end
