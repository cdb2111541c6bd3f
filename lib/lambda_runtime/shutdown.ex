defmodule LambdaRuntime.Shutdown do
  @moduledoc """
  Graceful shutdown on SIGTERM.

  Lambda sends SIGTERM to the runtime before it shuts an execution
  environment down, but only when at least one extension is registered
  (otherwise the environment is simply frozen and later killed). On SIGTERM
  the runtime:

    1. lets invocations that are running finish, for up to the shutdown
       budget (`LAMBDA_RUNTIME_SHUTDOWN_MS`, read at start by
       `LambdaRuntime.Config`). Lambda gives the runtime 500
       ms of the shutdown phase when it has an internal extension, and 300
       ms when only external extensions are registered (the rest of the 2 s
       phase is theirs), then sends SIGKILL; so the default is 450 ms with
       the runtime's own extension and 250 ms without it, leaving time to
       flush the logs;
    2. calls the handler's optional `terminate(reason, state)` callback
       (`LambdaRuntime.Handler`) with reason `:sigterm`;
    3. flushes the logs and exits with status 0.

  To get SIGTERM delivered, register an extension: any external extension in
  a layer does, or set `LAMBDA_RUNTIME_REGISTER_EXTENSION=true` and the
  runtime registers a no-op internal extension itself
  (`LambdaRuntime.Extension`).

  This module is an `:erl_signal_server` event handler that replaces OTP's
  default one (which would call `init:stop/0` at once); other signals keep
  OTP's default behaviour.

  ## In-flight marks

  What SIGTERM waits for is counted with marks. The poller owns each
  mark: it takes one (`mark_in_flight/0`) before the handler runs and
  releases it (`release_in_flight/1`) once the outcome is reported. The
  combined `/response` + `/next` call (`LambdaRuntime.Client.respond_then_next/5`)
  releases it earlier, as soon as Lambda accepted the response, because
  its `/next` may then wait for minutes with nothing running. A mark
  counts once however many times it is released, and one never released
  stops counting when it is garbage-collected. The marks live in the NIF
  because of that early release.
  """
  @behaviour :gen_event

  require Logger

  @typedoc "One running invocation, counted until released."
  @opaque mark :: reference()

  @doc """
  Installs the SIGTERM handler. `internal_extension?` says whether the
  runtime registered its own extension, which sets the default shutdown
  budget (see above); `budget_ms` (`LAMBDA_RUNTIME_SHUTDOWN_MS`, through
  `LambdaRuntime.Config`), when not `nil`, replaces it.
  """
  @spec install(boolean(), non_neg_integer() | nil) :: :ok
  def install(internal_extension? \\ false, budget_ms \\ nil) do
    budget = budget_ms || if(internal_extension?, do: 450, else: 250)

    :ok =
      :gen_event.swap_handler(
        :erl_signal_server,
        {:erl_signal_handler, []},
        {__MODULE__, budget}
      )

    :ok
  rescue
    _ -> :ok
  end

  @doc "Takes a mark: one more running invocation that SIGTERM lets finish."
  @spec mark_in_flight() :: mark()
  def mark_in_flight, do: LambdaRuntime.Native.in_flight_mark()

  @doc "Releases `mark` (a mark already released stays so)."
  @spec release_in_flight(mark()) :: :ok
  def release_in_flight(mark), do: LambdaRuntime.Native.in_flight_release(mark)

  # Called by swap_handler/3 with {our args, what the old handler's
  # terminate returned}.
  @impl :gen_event
  def init({budget_ms, _}), do: {:ok, %{budget_ms: budget_ms}}

  # Lambda, or an impatient operator, may signal more than once: one
  # shutdown runs, and the handler's terminate/2 is called once.
  @impl :gen_event
  def handle_event(:sigterm, %{stopping: true} = state), do: {:ok, state}

  def handle_event(:sigterm, state) do
    budget = state.budget_ms
    spawn(fn -> graceful(budget) end)
    {:ok, Map.put(state, :stopping, true)}
  end

  def handle_event(signal, state) do
    # OTP's own handling for the others (SIGUSR1: crash dump, SIGQUIT: halt).
    :erl_signal_handler.handle_event(signal, state)
  catch
    _, _ -> {:ok, state}
  end

  @impl :gen_event
  def handle_call(_request, state), do: {:ok, :ok, state}

  @impl :gen_event
  def handle_info(_info, state), do: {:ok, state}

  # Past the budget and this margin (terminate/2 gets at least 100 ms, then
  # the log flush) the VM stops whatever else blocks, e.g. a flush into an
  # output nobody reads: on Lambda its SIGKILL comes first; elsewhere the
  # shutdown still ends.
  @halt_margin_ms 1_000

  defp graceful(budget) do
    deadline = System.monotonic_time(:millisecond) + budget

    spawn(fn ->
      Process.sleep(budget + @halt_margin_ms)
      :erlang.halt(0, flush: false)
    end)

    Logger.info("SIGTERM received: finishing running invocations (up to #{budget} ms)")
    wait_idle(deadline)
    LambdaRuntime.Runtime.terminate_handler(:sigterm, max(deadline - now(), 100))
    Logger.flush()
    System.halt(0)
  end

  defp wait_idle(deadline) do
    cond do
      LambdaRuntime.Native.in_flight_count() <= 0 ->
        :ok

      now() >= deadline ->
        Logger.warning("shutdown budget spent with an invocation still running")

      true ->
        Process.sleep(5)
        wait_idle(deadline)
    end
  end

  defp now, do: System.monotonic_time(:millisecond)
end
