defmodule LambdaRuntime.TestSupport.FeaturesFixture do
  @moduledoc """
  The fixture function project `test/fixtures/features` (handlers for
  streaming, Managed Instances, logging, shutdown, X-Ray, metrics),
  compiled (with the runtime as a path dependency) into this test build's
  directory, and run with `bootstrap.sh` the way Lambda runs a function;
  the runtime's OS process observed (signals, output, peak memory). Same
  approach as `LambdaRuntime.TestSupport.Fixture`, for another project.
  """

  alias LambdaRuntime.TestSupport.{Fixture, RuntimeProcess}

  @project LambdaRuntime.TestSupport.Paths.fixture("features")

  @doc "Builds the fixture once per test run; returns its `LAMBDA_TASK_ROOT`."
  def task_root!, do: Fixture.task_root!(@project, "fixture_features")

  @doc """
  Starts bootstrap.sh with the fixture as the function and `handler` as
  `_HANDLER`; `:env` adds variables. The runtime is killed when the test ends.
  """
  def start_runtime!(runtime_api, handler, opts \\ []) do
    runtime = Fixture.start_runtime!(runtime_api, handler, [task_root: task_root!()] ++ opts)
    ExUnit.Callbacks.on_exit(fn -> Fixture.kill_runtime(runtime) end)
    runtime
  end

  @doc "The runtime's peak resident set size in bytes (VmHWM)."
  def peak_rss!(%RuntimeProcess{os_pid: os_pid}) do
    status = File.read!("/proc/#{os_pid}/status")
    [_, kb] = Regex.run(~r/^VmHWM:\s+(\d+) kB$/m, status)
    String.to_integer(kb) * 1024
  end

  @doc "Sends `signal` (e.g. \"TERM\") to the runtime's BEAM."
  def signal!(%RuntimeProcess{os_pid: os_pid} = runtime, signal) do
    true = beam?(runtime)
    {_, 0} = System.cmd("kill", ["-#{signal}", to_string(os_pid)], stderr_to_stdout: true)
    :ok
  end

  defp beam?(%RuntimeProcess{os_pid: os_pid}) do
    case File.read("/proc/#{os_pid}/cmdline") do
      {:ok, cmdline} -> cmdline =~ "LambdaRuntime.Bootstrap"
      {:error, _} -> false
    end
  end
end
