defmodule LambdaRuntime.TestSupport.Fixture do
  @moduledoc """
  The fixture function project `test/fixtures/handlers`, compiled (with the
  runtime as a path dependency) into this test build's directory, and run
  with `bootstrap.sh` the way Lambda runs a function.
  """

  alias LambdaRuntime.TestSupport.RuntimeProcess

  @project LambdaRuntime.TestSupport.Paths.fixture("handlers")

  @doc "Builds the fixture once per test run; returns its `LAMBDA_TASK_ROOT`."
  def task_root!, do: task_root!(@project, "fixture_handlers")

  @doc """
  Builds the fixture project in `project` (a mix project with the runtime as
  a path dependency) once per test run, into `build_name` under this test
  build's directory; returns its `LAMBDA_TASK_ROOT`.
  """
  def task_root!(project, build_name) do
    key = {__MODULE__, :task_root, project}

    case :persistent_term.get(key, nil) do
      nil -> :global.trans({key, self()}, fn -> build!(project, build_name, key) end)
      root -> root
    end
  end

  @doc """
  Starts `bootstrap.sh` with the fixture as the function and `handler` as
  `_HANDLER`. Options: `:env` (extra variables), `:task_root` (another
  fixture's, from `task_root!/2`).
  """
  def start_runtime!(runtime_api, handler, opts \\ []) do
    # bootstrap.sh, in a development checkout, also puts the checkout's own
    # _build/$MIX_ENV/lib/lambda_runtime/ebin on the code path, ahead of the
    # task root. That build may be stale (or another engineer's); naming an
    # environment that has no build makes the fixture's fresh copy the one
    # that runs.
    env = [{"MIX_ENV", "fixture-none"}, {"PATH", path()} | Keyword.get(opts, :env, [])]
    task_root = Keyword.get_lazy(opts, :task_root, &task_root!/0)
    RuntimeProcess.start!(runtime_api, handler, task_root: task_root, env: env)
  end

  @doc """
  Kills a runtime started by `start_runtime!/3` if it still runs. Meant for
  `on_exit` callbacks, which run in another process than the port's owner
  (so `RuntimeProcess.stop/1` would wait for messages that never come).
  The pid is checked to still be a runtime BEAM before it is signalled.
  """
  def kill_runtime(%RuntimeProcess{os_pid: os_pid}) do
    case File.read("/proc/#{os_pid}/cmdline") do
      {:ok, cmdline} ->
        if cmdline =~ "LambdaRuntime.Bootstrap",
          do: System.cmd("kill", ["-KILL", to_string(os_pid)], stderr_to_stdout: true)

      {:error, _} ->
        :ok
    end

    :ok
  end

  @doc """
  PATH without this VM's own directories. A BEAM puts its erts-*/bin and
  bin/ first on PATH; a bootstrap.sh (or a `mix`) started from one then
  finds erts-*/bin/erl, derives the wrong Erlang root and fails to find
  erlexec. Lambda's PATH has no such entries.
  """
  def path do
    erlang_root = List.to_string(:code.root_dir())

    System.get_env("PATH", "")
    |> String.split(":")
    |> Enum.reject(&String.starts_with?(&1, erlang_root <> "/"))
    |> Enum.join(":")
  end

  defp build!(project, build_name, key) do
    case :persistent_term.get(key, nil) do
      nil ->
        build_root = Path.join(Mix.Project.build_path(), build_name)

        {output, status} =
          System.cmd("mix", ["compile"],
            cd: project,
            stderr_to_stdout: true,
            env: [{"MIX_ENV", "dev"}, {"MIX_BUILD_ROOT", build_root}]
          )

        if status != 0, do: raise("building #{project} failed:\n#{output}")
        root = Path.join(build_root, "dev")
        :persistent_term.put(key, root)
        root

      root ->
        root
    end
  end
end
