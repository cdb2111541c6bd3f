defmodule LambdaRuntime.TestSupport.RuntimeProcess do
  @moduledoc """
  `bootstrap.sh` as an OS process, the way Lambda runs it, with the example
  project (or a test fixture project) as `LAMBDA_TASK_ROOT`.
  """

  defstruct [:port, :os_pid]

  @root LambdaRuntime.TestSupport.Paths.root()

  @doc """
  Starts `bootstrap.sh` against `runtime_api` with `handler`.

  Options: `:task_root` (default: examples/hello's dev build),
  `:env` (extra `{name, value}` pairs).
  """
  def start!(runtime_api, handler, opts \\ []) do
    task_root = Keyword.get(opts, :task_root, Path.join(@root, "examples/hello/_build/dev"))

    env =
      [
        {"AWS_LAMBDA_RUNTIME_API", runtime_api},
        {"_HANDLER", handler},
        {"LAMBDA_TASK_ROOT", task_root},
        {"AWS_LAMBDA_FUNCTION_NAME", "test-function"},
        {"AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"},
        {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512"}
      ] ++ Keyword.get(opts, :env, [])

    port =
      Port.open({:spawn_executable, Path.join(@root, "bootstrap.sh")}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        env: Enum.map(env, fn {k, v} -> {String.to_charlist(k), String.to_charlist(v)} end)
      ])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    %__MODULE__{port: port, os_pid: os_pid}
  end

  @doc "Waits for the process to exit; returns `{exit_status, output}`."
  def await_exit(%__MODULE__{port: port}, timeout \\ 10_000), do: collect(port, [], timeout)

  @doc """
  The runtime's output not read yet, once it matches `match` (a string it
  contains, or a function of the output that returns true): read as it
  arrives, so the console Logger's lines, written asynchronously, are
  waited for. Fails the test with the output after `timeout` ms. Only the
  process that started the runtime receives its output.
  """
  def await_output(%__MODULE__{port: port}, match, timeout \\ 10_000) do
    match = if is_binary(match), do: &String.contains?(&1, match), else: match
    deadline = System.monotonic_time(:millisecond) + timeout
    receive_output(port, match, "", deadline, timeout)
  end

  defp receive_output(port, match, acc, deadline, timeout) do
    if match.(acc) do
      acc
    else
      wait = max(deadline - System.monotonic_time(:millisecond), 0)

      receive do
        {^port, {:data, data}} -> receive_output(port, match, acc <> data, deadline, timeout)
      after
        wait ->
          ExUnit.Assertions.flunk(
            "the runtime's output did not match within #{timeout} ms; output:\n#{acc}"
          )
      end
    end
  end

  @doc "Output so far (non-blocking)."
  def output(%__MODULE__{port: port}), do: drain(port, [])

  @doc "Kills the process (if still running) and returns its output."
  def stop(%__MODULE__{port: port, os_pid: os_pid}) do
    System.cmd("kill", ["-KILL", to_string(os_pid)], stderr_to_stdout: true)

    case collect(port, [], 5_000) do
      {_status, output} -> output
      :timeout -> ""
    end
  end

  defp collect(port, acc, timeout) do
    receive do
      {^port, {:data, data}} -> collect(port, [acc | data], timeout)
      {^port, {:exit_status, status}} -> {status, IO.iodata_to_binary(acc)}
    after
      timeout -> :timeout
    end
  end

  defp drain(port, acc) do
    receive do
      {^port, {:data, data}} -> drain(port, [acc | data])
    after
      0 -> IO.iodata_to_binary(acc)
    end
  end
end
