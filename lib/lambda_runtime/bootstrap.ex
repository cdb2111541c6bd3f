defmodule LambdaRuntime.Bootstrap do
  @moduledoc """
  The VM-side entry point that `bootstrap.sh` calls
  (`-s Elixir.LambdaRuntime.Bootstrap main`): marks the runtime as wanted and
  starts the `:lambda_runtime` application permanently, so that if its
  supervision tree ever gives up, the VM exits and Lambda restarts it.
  """

  @no_drop [burst_limit_enable: false, drop_mode_qlen: 100_000, flush_qlen: 100_000]

  @doc false
  def main do
    Application.put_env(:lambda_runtime, :start_runtime, true)
    configure_logger(LambdaRuntime.Config.os_env())

    case Application.ensure_all_started(:lambda_runtime, :permanent) do
      {:ok, _} ->
        :ok

      {:error, reason} ->
        IO.puts(:stderr, "lambda_runtime: could not start: #{inspect(reason)}")
        System.halt(1)
    end
  end

  # Lambda's log format, level and UTC timestamps, set before Elixir's
  # Logger starts: its console backend then starts with our formatter once,
  # instead of compiling the default format and being reconfigured (a
  # measurable part of the time to the first /next).
  defp configure_logger(env) do
    :ok = Application.load(:logger) |> loaded()
    Application.put_env(:logger, :utc_log, true)

    Application.put_env(
      :logger,
      :console,
      LambdaRuntime.LogFormat.console_options(env["AWS_LAMBDA_LOG_FORMAT"])
    )

    # Elixir 1.15+ logs through Erlang's logger_std_h, whose overload
    # protection drops events past 500 a second (burst limit) and past 200
    # queued: Lambda's logs must not lose lines, so a logging process waits
    # instead (synchronous mode past 10 queued, as before 1.15). Elixir 1.14
    # ignores this key.
    Application.put_env(:logger, :default_handler, config: @no_drop)

    if level = LambdaRuntime.LogFormat.level(env["AWS_LAMBDA_LOG_LEVEL"]) do
      Application.put_env(:logger, :level, level)
    end
  end

  defp loaded(:ok), do: :ok
  defp loaded({:error, {:already_loaded, _}}), do: :ok
  defp loaded(error), do: error
end
