defmodule LambdaRuntime.Tools.Emulator.ProcessGuard do
  @moduledoc """
  Makes an OS process started through a port die with the VM that started
  it, however that VM ends (`mix lambda.invoke` interrupted with Ctrl-C,
  SIGTERM or SIGKILL): a port's process is otherwise left running,
  reparented to init, until it exits by itself (a runtime whose handler is
  busy: until the handler returns).

  `command/1` puts `setpriv --pdeathsig KILL --` (util-linux) in front of
  the command: the kernel kills the process when its parent, the VM's
  `erl_child_setup`, exits, which it does when the VM ends. The signal
  setting survives the process's own `exec`s (`env`, `bootstrap.sh`,
  `erlexec`, `beam.smp`), so the runtime VM itself carries it. Where
  `setpriv` does not exist, a small `sh` watchdog kills the process when
  the port's standard input closes, which also happens when the VM ends.
  """

  # The watchdog: runs "$@" in the background, kills it (and stops
  # waiting) when stdin reaches its end, and exits with the command's
  # status otherwise.
  @watchdog ~S"""
  "$@" </dev/null &
  child=$!
  { while read -r _; do :; done; kill -KILL "$child" 2>/dev/null; } &
  watcher=$!
  wait "$child"
  status=$?
  kill "$watcher" 2>/dev/null
  exit "$status"
  """

  @doc "`[executable | args]`, wrapped so that the process dies with this VM."
  @spec command([String.t(), ...]) :: [String.t(), ...]
  def command([_exe | _args] = command) do
    case System.find_executable("setpriv") do
      nil -> ["/bin/sh", "-c", @watchdog, "lambda_runtime_guard" | command]
      setpriv -> [setpriv, "--pdeathsig", "KILL", "--" | command]
    end
  end
end
