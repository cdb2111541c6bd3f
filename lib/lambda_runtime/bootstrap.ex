defmodule LambdaRuntime.Bootstrap do
  @moduledoc """
  The VM-side entry point that `bootstrap.sh` calls
  (`-s Elixir.LambdaRuntime.Bootstrap main`): applies the function's
  configuration (`config/config.exs` and `config/runtime.exs`, see
  `LambdaRuntime.AppConfig`), sets up Logger for Lambda (on top of the
  function's `:logger` configuration), marks the runtime as wanted and
  starts the `:lambda_runtime` application permanently, so that if its
  supervision tree ever gives up, the VM exits and Lambda restarts it.

  A configuration that fails to load is kept for `LambdaRuntime.Runtime`,
  which reports it to `/runtime/init/error` and exits.
  """

  # Elixir 1.15+'s logger_std_h: never drop, always synchronous.
  @handler_config [
    burst_limit_enable: false,
    drop_mode_qlen: 100_000,
    flush_qlen: 100_000,
    sync_mode_qlen: 0
  ]

  @doc false
  def main do
    env = LambdaRuntime.Config.os_env()
    app_config(env["LAMBDA_TASK_ROOT"] || "/var/task")
    Application.put_env(:lambda_runtime, :start_runtime, true)
    configure_logger(env)

    case Application.ensure_all_started(:lambda_runtime, :permanent) do
      {:ok, _} ->
        warn_log_level(env["AWS_LAMBDA_LOG_LEVEL"])
        :ok

      {:error, reason} ->
        IO.puts(:stderr, "lambda_runtime: could not start: #{inspect(reason)}")
        System.halt(1)
    end
  end

  # The function's config.exs and runtime.exs, before any application
  # starts (the handler's, and :logger). A package without them costs one
  # file lookup, not the loading of LambdaRuntime.AppConfig.
  @app_config "lambda_runtime/config.beam"

  defp app_config(task_root) do
    with {:ok, _} <- :file.read_file_info(task_root <> "/" <> @app_config) do
      case LambdaRuntime.AppConfig.load(task_root) do
        :none -> :ok
        {:ok, config} -> LambdaRuntime.AppConfig.apply_config(config)
        {:error, report} -> Application.put_env(:lambda_runtime, :config_error, report)
      end
    end
  end

  # Lambda's log format, level and UTC timestamps, set before Elixir's
  # Logger starts: its console backend then starts with our formatter once,
  # instead of compiling the default format and being reconfigured (a
  # measurable part of the time to the first /next). The function's own
  # :logger configuration stays, under these: its level applies unless
  # AWS_LAMBDA_LOG_LEVEL sets one.
  defp configure_logger(env) do
    :ok = Application.load(:logger) |> loaded()
    Application.put_env(:logger, :utc_log, true)

    console = Application.get_env(:logger, :console, [])

    Application.put_env(
      :logger,
      :console,
      Keyword.merge(
        console,
        LambdaRuntime.LogFormat.console_options(env["AWS_LAMBDA_LOG_FORMAT"])
      )
    )

    # Elixir 1.15+ logs through Erlang's logger_std_h, whose overload
    # protection drops events past 500 a second (burst limit) and past 200
    # queued: Lambda's logs must not lose lines, so a logging process waits
    # instead. Elixir 1.14 ignores this key.
    #
    # And every Logger call is synchronous (sync_mode_qlen 0 here,
    # sync_threshold 0 on 1.14): its line is handed to the output before
    # the call returns, so Logger lines and what the function writes itself
    # (IO.puts) come out in the order they were made, as the managed
    # runtimes' print and logging do. Asynchronous, a Logger line could
    # come out after later IO.puts output (#14.6).
    handler = Application.get_env(:logger, :default_handler, [])
    handler_config = Keyword.merge(Keyword.get(handler, :config, []), @handler_config)
    Application.put_env(:logger, :default_handler, Keyword.put(handler, :config, handler_config))
    Application.put_env(:logger, :sync_threshold, 0)

    if level = LambdaRuntime.LogFormat.level(env["AWS_LAMBDA_LOG_LEVEL"]) do
      Application.put_env(:logger, :level, level)
    end
  end

  # An AWS_LAMBDA_LOG_LEVEL the runtime does not know is not silently
  # ignored: one warning, once Logger runs.
  defp warn_log_level(value) do
    if LambdaRuntime.LogFormat.level(value) == nil and
         LambdaRuntime.Config.trim(value || "") != "" do
      require Logger

      Logger.warning(
        "AWS_LAMBDA_LOG_LEVEL=#{inspect(value)} is not a log level; accepted values: " <>
          "TRACE, DEBUG, INFO, WARN, ERROR, FATAL (any case). Using the configured level " <>
          "(#{Logger.level()})"
      )
    end
  end

  defp loaded(:ok), do: :ok
  defp loaded({:error, {:already_loaded, _}}), do: :ok
  defp loaded(error), do: error
end
