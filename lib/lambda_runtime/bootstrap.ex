defmodule LambdaRuntime.Bootstrap do
  @moduledoc """
  The VM-side entry point that `bootstrap.sh` calls
  (`-s Elixir.LambdaRuntime.Bootstrap main`): marks the runtime as wanted and
  starts the `:lambda_runtime` application permanently, so that if its
  supervision tree ever gives up, the VM exits and Lambda restarts it.
  """

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

    if level = LambdaRuntime.LogFormat.level(env["AWS_LAMBDA_LOG_LEVEL"]) do
      Application.put_env(:logger, :level, level)
    end
  end

  defp loaded(:ok), do: :ok
  defp loaded({:error, {:already_loaded, _}}), do: :ok
  defp loaded(error), do: error
end
