defmodule LambdaRuntime.TestSupport.OsProcess do
  @moduledoc "Ending a server the tests started as an OS process through a port."

  @doc """
  SIGTERM, then up to 5 s for the port's exit status, then SIGKILL: the
  servers (moto_server, cargo-lambda) get the chance to shut down cleanly.
  """
  def terminate(port, os_pid) do
    System.cmd("kill", ["-TERM", to_string(os_pid)], stderr_to_stdout: true)

    receive do
      {^port, {:exit_status, _}} -> :ok
    after
      5_000 -> System.cmd("kill", ["-KILL", to_string(os_pid)], stderr_to_stdout: true)
    end

    :ok
  end
end
