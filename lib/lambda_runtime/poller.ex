defmodule LambdaRuntime.Poller do
  @moduledoc """
  One invocation loop: `GET /next`, run the handler, post the outcome,
  repeat. Each poller owns its own Runtime API client (`LambdaRuntime.Client`,
  with connections of its own), so several can run side by side.

  `/next` answers: 200 is an event; 408 (an emulator's long-poll timeout) is
  asked again; 5xx means the container is broken and the runtime exits; a
  broken connection is retried with backoff (`LambdaRuntime.Retry`), then the
  runtime exits; an answer too large to read (head over 120 KiB, or a body
  over 64 MiB without a request id) is logged and skipped, and polling goes
  on.

  The loop, one step per module: `/next` (`LambdaRuntime.Client`), the
  handler (`LambdaRuntime.Invoker`), the outcome posted
  (`LambdaRuntime.Reporter`), and here what comes next. Reporting says
  whether the next event is already here: after a response Lambda
  accepts, the next `/next` is made in the same NIF call as the
  `/response` (`{:polled, answer}`), and its answer is handled like any
  other, without polling again; otherwise (`:poll`) the poller polls.

  Each invocation holds an in-flight mark (`LambdaRuntime.Shutdown`) from
  before the handler runs until its outcome is reported.
  """
  use GenServer, restart: :permanent

  require Logger

  alias LambdaRuntime.{Client, Context, Invoker, Reporter, Retry, Runtime, Shutdown}

  @doc false
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  @impl true
  def init(opts) do
    timeout_ms = Keyword.get(opts, :api_timeout_ms, LambdaRuntime.Config.default_api_timeout_ms())

    case Client.new(Keyword.fetch!(opts, :runtime_api), timeout_ms) do
      {:ok, client} ->
        # One poller: its metadata names the running invocation, for the
        # log lines of processes the handler starts (LogContext).
        single? = Keyword.get(opts, :set_trace_env, true)
        LambdaRuntime.LogContext.install(if single?, do: self())

        state = %{
          client: client,
          handler: Keyword.fetch!(opts, :handler),
          handler_state: Keyword.fetch!(opts, :handler_state),
          base_context: Keyword.fetch!(opts, :base_context),
          set_trace_env: Keyword.get(opts, :set_trace_env, true)
        }

        {:ok, state, {:continue, :poll}}

      {:error, message} ->
        {:stop, message}
    end
  end

  @impl true
  def handle_continue(:poll, state) do
    answer = Retry.transport(fn -> Client.next(state.client) end)
    handle_continue({:answer, answer}, state)
  end

  # An answer to /next: from polling, or made right after the previous
  # response was accepted; a connection failure on the latter is retried
  # as a plain /next.
  def handle_continue({:answer, answer}, state) do
    case serve(answer, state) do
      :poll ->
        {:noreply, state, {:continue, :poll}}

      {:polled, answer} ->
        answer = Retry.retry(answer, fn -> Client.next(state.client) end)
        {:noreply, state, {:continue, {:answer, answer}}}
    end
  end

  # What each /next answer means; an event is invoked and reported.
  @spec serve(Client.next_answer(), map()) :: Reporter.result()
  defp serve({:ok, 200, meta, body}, state), do: invoke(state, meta, body)
  defp serve({:ok, 408, _meta, _body}, _state), do: :poll
  defp serve({:truncated, 200, meta, reason}, state), do: cut_off(state, meta, reason)

  # Any other status with its body cut short: the status is what counts.
  defp serve({:truncated, status, meta, reason}, state),
    do: serve({:ok, status, meta, "(body cut off: #{reason})"}, state)

  defp serve({:ok, status, _meta, body}, _state) when status >= 500,
    do: Runtime.halt("the Runtime API answered /next with #{status}: #{body}")

  defp serve({:ok, status, _meta, body}, _state) do
    Logger.error("the Runtime API answered /next with #{status}: #{body}")
    Process.sleep(100)
    :poll
  end

  # An answer that cannot be read (its head or, without a request id, its
  # body past what the client reads): nothing can be reported for it, and
  # Lambda is still there. Skipped; polling goes on.
  defp serve({:error, {:too_large, message}}, _state) do
    Logger.error(
      "the Runtime API's /next answer could not be read (#{message}); it is skipped " <>
        "(no request id to answer it with) and polling goes on"
    )

    Process.sleep(100)
    :poll
  end

  defp serve({:error, {kind, message}}, _state),
    do: Runtime.halt("could not reach the Runtime API for /next (#{kind}: #{message})")

  # The event's headers arrived, its body did not: answer it with an error
  # (Lambda would otherwise wait for it until the timeout).
  defp cut_off(state, meta, reason) do
    Logger.metadata(request_id: meta.request_id)
    message = "the event's body did not arrive whole (#{reason})"
    report = LambdaRuntime.ErrorReport.new("Runtime.InvalidEvent", message)
    result = Reporter.report(state.client, meta, {:error, report})
    Logger.metadata(request_id: nil)
    result
  end

  defp invoke(_state, %{request_id: nil}, _body) do
    Logger.error(
      "/next returned an event without Lambda-Runtime-Aws-Request-Id; it cannot be answered"
    )

    :poll
  end

  defp invoke(state, meta, body) do
    Logger.metadata(request_id: meta.request_id, tenant_id: meta.tenant_id)
    if state.set_trace_env, do: set_trace_id(meta.trace_id)
    context = Context.for_invocation(state.base_context, meta)
    mark = Shutdown.mark_in_flight()

    try do
      outcome =
        Invoker.run(state.handler, state.handler_state, body, context, client: state.client)

      Reporter.report(state.client, meta, outcome, mark)
    after
      Shutdown.release_in_flight(mark)
      Logger.metadata(request_id: nil, tenant_id: nil)
    end
  end

  # The X-Ray SDKs read the trace header from this variable.
  # :os rather than System, whose charlist conversion loads Elixir's String
  # module (and its Unicode tables) on the first invocation.
  defp set_trace_id(nil), do: :os.unsetenv(~c"_X_AMZN_TRACE_ID")

  defp set_trace_id(trace_id),
    do: :os.putenv(~c"_X_AMZN_TRACE_ID", :unicode.characters_to_list(trace_id))
end
