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

    case Application.ensure_all_started(:lambda_runtime, :permanent) do
      {:ok, _} ->
        :ok

      {:error, reason} ->
        IO.puts(:stderr, "lambda_runtime: could not start: #{inspect(reason)}")
        System.halt(1)
    end
  end
end
