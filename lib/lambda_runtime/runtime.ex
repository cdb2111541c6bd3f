defmodule LambdaRuntime.Runtime do
  @moduledoc """
  Starts the runtime inside a Lambda execution environment: reads the
  configuration, resolves `_HANDLER`, starts the handler's application, runs
  its `init/1`, then starts the pollers. Any failure before the first `/next`
  is posted to `/runtime/init/error` and the VM exits with status 1.

  ## Lambda Managed Instances

  When `AWS_LAMBDA_MAX_CONCURRENCY` is set, that many pollers run side by
  side, each its own `/next` loop with its own client, so one execution
  environment serves that many invocations at once (`bootstrap` then gives
  the VM a scheduler per vCPU). Per-invocation data lives only in the
  handler's `LambdaRuntime.Context` and its process's Logger metadata: in
  this mode the runtime never sets the process-wide `_X_AMZN_TRACE_ID`
  environment variable (it would be wrong for all but one invocation); read
  `context.trace_id` instead. Deadlines are enforced by the runtime (Lambda
  does not kill handlers in this mode). A poller that crashes is restarted
  alone.

  This process lives as long as the VM, so whatever `init/1` creates (ETS
  tables, linked processes) lives on.
  """
  use GenServer

  require Logger

  alias LambdaRuntime.{Client, Config, Context, ErrorReport, HandlerRef, Poller, Reporter}

  @doc false
  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts) do
    # init/1 runs in this process, so what it links dies with it unless
    # exits are trapped: a restart would run init/1 again and start a second
    # set of pollers next to the running ones. See handle_info/2.
    Process.flag(:trap_exit, true)
    config = Keyword.get_lazy(opts, :config, &Config.from_env/0)
    {:ok, config, {:continue, :start}}
  end

  @impl true
  def handle_continue(:start, %Config{} = config) do
    client =
      case config.runtime_api && Client.new(config.runtime_api, config.api_timeout_ms) do
        {:ok, client} ->
          client

        {:error, message} ->
          halt(message)

        nil ->
          halt(
            "AWS_LAMBDA_RUNTIME_API is not set: the runtime must run inside Lambda or an emulator"
          )
      end

    base_context = Context.for_function(config)

    with :ok <- app_config_loaded(),
         {:ok, handler} <- HandlerRef.resolve(config.handler),
         {:ok, handler_state} <- HandlerRef.init(handler, base_context) do
      opts = [
        runtime_api: config.runtime_api,
        api_timeout_ms: config.api_timeout_ms,
        handler: handler,
        handler_state: handler_state,
        base_context: base_context,
        set_trace_env: config.max_concurrency == nil
      ]

      # Registers before the first /next. The shutdown budget depends on
      # whether it took: Lambda gives the runtime 500 ms with an internal
      # extension, 300 ms with only external ones.
      registered? =
        config.register_extension and
          match?({:ok, _}, LambdaRuntime.Extension.start(config.runtime_api))

      LambdaRuntime.Shutdown.install(registered?, config.shutdown_ms)
      capture_cold_start_metric(config)
      start_pollers(config.max_concurrency || 1, opts)

      {:noreply, %{config: config, handler: handler, handler_state: handler_state}}
    else
      {:error, %ErrorReport{} = error} ->
        Logger.error("Init failed: #{error.type}: #{error.message}")
        report_init_error(client, error)
        halt("init failed (#{error.type}); exiting")
    end
  end

  # The report is bounded in the client (2 s per attempt); this bounds the
  # whole of it, retries included, so that the runtime exits within a few
  # seconds of an init error whatever the Runtime API does. A NIF call
  # still blocked on its dirty thread does not hold up System.halt/1.
  @init_error_budget_ms 5_000

  defp report_init_error(client, error) do
    task = Task.async(fn -> Reporter.report_init_error(client, error) end)

    case Task.yield(task, @init_error_budget_ms) || Task.shutdown(task, :brutal_kill) do
      {:ok, _} ->
        :ok

      nil ->
        Logger.error(
          "lambda_runtime: /runtime/init/error got no answer within #{@init_error_budget_ms} ms"
        )
    end
  end

  # LambdaRuntime.Bootstrap keeps a config/runtime.exs failure for here:
  # the handler's application must not start without its configuration.
  defp app_config_loaded do
    case Application.get_env(:lambda_runtime, :config_error) do
      nil -> :ok
      %ErrorReport{} = report -> {:error, report}
    end
  end

  # LAMBDA_METRICS_COLD_START=true: a ColdStart metric with the first
  # invocation (LambdaRuntime.Metrics); the metrics modules load only then.
  defp capture_cold_start_metric(%Config{metrics_cold_start: true}),
    do: LambdaRuntime.Metrics.capture_cold_start()

  defp capture_cold_start_metric(_config), do: nil

  # The pollers run under their own supervisor, LambdaRuntime.PollerSupervisor,
  # next to this process: a poller that crashes is restarted alone.
  defp start_pollers(count, opts) do
    pollers =
      for n <- :lists.seq(1, count) do
        Supervisor.child_spec({Poller, opts}, id: {Poller, n})
      end

    spec = %{
      id: LambdaRuntime.PollerSupervisor,
      type: :supervisor,
      start:
        {Supervisor, :start_link,
         [pollers, [strategy: :one_for_one, name: LambdaRuntime.PollerSupervisor]]}
    }

    {:ok, _} = Supervisor.start_child(LambdaRuntime.Supervisor, spec)
  end

  @doc """
  Calls the handler's optional `terminate(reason, state)` (behaviour
  handlers only), in the process that ran `init/1`. Errors are logged.
  """
  @spec terminate_handler(term(), timeout()) :: :ok
  def terminate_handler(reason, timeout) do
    GenServer.call(__MODULE__, {:terminate_handler, reason}, timeout)
  catch
    :exit, _ -> :ok
  end

  @impl true
  def handle_call({:terminate_handler, reason}, _from, %{handler: handler} = state) do
    module = handler.module

    if handler.kind == :behaviour and function_exported?(module, :terminate, 2) do
      try do
        module.terminate(reason, state.handler_state)
      catch
        kind, error ->
          Logger.error(
            "#{inspect(module)}.terminate/2 failed: " <>
              Exception.format(kind, error, __STACKTRACE__)
          )
      end
    end

    {:reply, :ok, state}
  end

  # A process linked by init/1 (or by code it called) exited. The pollers
  # keep serving with the state init/1 returned; invocations that need the
  # dead process fail and are reported as usual.
  @impl true
  def handle_info({:EXIT, _pid, :normal}, state), do: {:noreply, state}

  def handle_info({:EXIT, pid, reason}, state) do
    Logger.error(
      "a process linked to the handler's init/1 (#{inspect(pid)}) exited: " <>
        "#{inspect(reason)}; the runtime carries on"
    )

    {:noreply, state}
  end

  def handle_info(message, state) do
    Logger.warning("lambda_runtime: unexpected message to the runtime: #{inspect(message)}")
    {:noreply, state}
  end

  @halt_flush_ms 2_000

  @doc """
  Logs `message` and stops the VM with `status` at once: what the runtime
  does when the Runtime API says the environment is broken.
  """
  @spec halt(String.t(), non_neg_integer()) :: no_return()
  def halt(message, status \\ 1) do
    # Whatever blocks the log flush (an output nobody reads), the VM stops.
    spawn(fn ->
      Process.sleep(@halt_flush_ms)
      :erlang.halt(status, flush: false)
    end)

    Logger.error("lambda_runtime: " <> message)
    Logger.flush()
    System.halt(status)
  end
end
