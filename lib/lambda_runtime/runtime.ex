defmodule LambdaRuntime.Runtime do
  @moduledoc """
  Starts the runtime inside a Lambda execution environment: reads the
  configuration, resolves `_HANDLER`, starts the handler's application, runs
  its `init/1`, then starts the poller. Any failure before the first `/next`
  is posted to `/runtime/init/error` and the VM exits with status 1.

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
    config = Keyword.get_lazy(opts, :config, &Config.from_env/0)
    {:ok, config, {:continue, :start}}
  end

  @impl true
  def handle_continue(:start, %Config{} = config) do
    configure_logger()

    client =
      case config.runtime_api && Client.new(config.runtime_api) do
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

    with {:ok, handler} <- HandlerRef.resolve(config.handler),
         {:ok, handler_state} <- HandlerRef.init(handler, base_context) do
      opts = [
        runtime_api: config.runtime_api,
        handler: handler,
        handler_state: handler_state,
        base_context: base_context
      ]

      {:ok, _} = DynamicSupervisor.start_child(LambdaRuntime.PollerSupervisor, {Poller, opts})
      {:noreply, %{config: config, handler: handler}}
    else
      {:error, %ErrorReport{} = error} ->
        Logger.error("Init failed: #{error.type}: #{error.message}")
        Reporter.report_init_error(client, error)
        halt("init failed (#{error.type}); exiting")
    end
  end

  @doc """
  Logs `message` and stops the VM with `status` at once: what the runtime
  does when the Runtime API says the environment is broken.
  """
  @spec halt(String.t(), non_neg_integer()) :: no_return()
  def halt(message, status \\ 1) do
    Logger.error("lambda_runtime: " <> message)
    Logger.flush()
    System.halt(status)
  end

  # One line per message (CloudWatch splits events on newlines), with the
  # request id Lambda's own runtimes print.
  defp configure_logger do
    Logger.configure_backend(:console,
      format: "$metadata[$level] $message\n",
      metadata: [:request_id]
    )
  end
end
