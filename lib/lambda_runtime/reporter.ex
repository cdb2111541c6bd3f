defmodule LambdaRuntime.Reporter do
  @moduledoc """
  Delivers the outcome of an invocation to the Runtime API and decides what
  each answer means:

  | answer                       | what the runtime does                                    |
  | ---------------------------- | -------------------------------------------------------- |
  | 202 (any 2xx)                | done                                                     |
  | 413 on `/response`           | reports `Function.ResponseSizeTooLarge` through `/error` |
  | connection closed while sending a body over 6 MB | the same as a 413 (Lambda answers early and closes) |
  | 410                          | logs that the invocation is stale, carries on            |
  | 400, 403, other 4xx          | logs the status and the body, carries on                 |
  | 5xx                          | the container is broken: logs and exits non-zero         |
  | connection refused or broken | retries with backoff, then logs and exits non-zero       |
  | no answer within the bound (`LAMBDA_RUNTIME_API_TIMEOUT_MS`, 10 s) | logs it, carries on (not retried) |
  | a streamed response's connection breaks mid-body | logs it, carries on (the next `/next` shows whether the API is there) |
  """

  require Logger

  alias LambdaRuntime.{Client, ErrorReport, Retry, Runtime}

  @max_response_bytes LambdaRuntime.Limits.max_response_bytes()

  @typedoc """
  What the poller does next: `:poll` for the next event, or handle
  `{:polled, answer}`, the answer of the `/next` already made right after
  Lambda accepted the response.
  """
  @type result :: :poll | {:polled, Client.next_answer()}

  @doc """
  Posts a response or an error for one invocation, and says whether the
  next event is already here.

  A response that Lambda accepts is followed, in the same NIF call, by
  the next `GET /next` (`Client.respond_then_next/5`): the result is then
  `{:polled, answer}`. Otherwise (an error, a stream, a response Lambda
  refused or one over 6 MB, which is sent alone) it is `:poll`. `mark`
  is the invocation's in-flight mark, which that call releases as soon
  as the response is accepted (`LambdaRuntime.Shutdown`).
  """
  @spec report(
          Client.t(),
          Client.meta(),
          LambdaRuntime.Invoker.outcome(),
          LambdaRuntime.Shutdown.mark() | nil
        ) :: result()
  def report(client, meta, outcome, mark \\ nil)

  def report(client, meta, {:ok, body}, mark) do
    # Lambda may answer 413 after reading only part of an oversized body and
    # close the connection; the client, still sending, then sees the close,
    # not the 413. Such a body is sent once and a broken connection taken
    # for the 413 it stands for.
    if IO.iodata_length(body) > @max_response_bytes do
      case Client.response(client, meta.request_id, meta.invocation_id, body) do
        {:ok, 413, _} -> report(client, meta, {:error, too_large(body)})
        {:error, {:closed, _}} -> report(client, meta, {:error, too_large(body)})
        answer -> check(answer, "/response", meta.request_id)
      end
    else
      respond = fn ->
        Client.respond_then_next(client, meta.request_id, meta.invocation_id, body, mark)
      end

      case Retry.transport(respond) do
        {:next, answer} -> {:polled, answer}
        {:ok, 413, _} -> report(client, meta, {:error, too_large(body)})
        answer -> check(answer, "/response", meta.request_id)
      end
    end
  end

  # Sent by the handler's process already; only the answer is left to check.
  # A stream whose connection broke after it opened lost that invocation's
  # tail, not the Runtime API: Lambda has what was sent, and the next /next
  # shows whether the API is still there (retried, then fatal, if not). A
  # stream that never opened is checked like any request (fatal).
  def report(_client, meta, {:streamed, {:broken, {kind, message}}}, _mark) do
    Logger.error(
      "the streamed response for #{meta.request_id} broke off (#{kind}: #{message}); " <>
        "Lambda keeps what was sent; carrying on"
    )

    :poll
  end

  def report(_client, meta, {:streamed, answer}, _mark),
    do: check(answer, "/response (streamed)", meta.request_id)

  def report(client, meta, {:error, %ErrorReport{} = error}, _mark) do
    Logger.error("Invocation failed: #{error.type}: #{error.message}",
      error_type: error.type,
      error_message: error.message,
      stack_trace: error.stack_trace
    )

    fn -> Client.error(client, meta.request_id, meta.invocation_id, error) end
    |> Retry.transport()
    |> check("/error", meta.request_id)
  end

  @doc "Posts an init error. The caller exits afterwards."
  @spec report_init_error(Client.t(), ErrorReport.t()) :: :ok
  def report_init_error(client, %ErrorReport{} = error) do
    fn -> Client.init_error(client, error) end
    |> Retry.transport()
    |> check("/init/error", nil)

    :ok
  end

  defp too_large(body), do: LambdaRuntime.Limits.response_too_large(IO.iodata_length(body))

  # What an answer to a POST means. Each recoverable case logs (or not)
  # and goes on polling; the others end the runtime.
  defp check({:ok, status, _}, _path, _id) when status in 200..299, do: :poll

  defp check({:ok, 410, _}, path, id) do
    Logger.warning(
      "#{path} for #{id} answered 410: the invocation is no longer current; carrying on"
    )

    :poll
  end

  defp check({:ok, status, body}, path, id) when status in 400..499 do
    Logger.error("#{path} for #{inspect(id)} answered #{status}: #{body}")
    :poll
  end

  defp check({:ok, status, body}, path, _id) do
    Runtime.halt("the Runtime API answered #{path} with #{status}: #{body}")
  end

  # No answer within the client's bound: the outcome may or may not have
  # arrived, and Lambda decides; the connection is dropped and polling goes
  # on (the next /next shows whether the API is still there).
  defp check({:error, {:timeout, message}}, path, id) do
    Logger.error("#{path} for #{inspect(id)} got no answer (#{message}); carrying on")
    :poll
  end

  defp check({:error, {kind, message}}, path, _id) do
    Runtime.halt("could not reach the Runtime API for #{path} (#{kind}: #{message})")
  end
end
