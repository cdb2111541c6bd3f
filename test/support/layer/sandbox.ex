defmodule LambdaRuntime.TestSupport.Sandbox do
  @moduledoc """
  Runs `/opt/bootstrap` the way Lambda does, with bubblewrap:

    * a fresh root built from the host's `/usr` (and `/etc`), read-only,
      or from a root filesystem's (`rootfs: dir`, e.g. `RootFS.path!/1`),
      running another architecture under qemu-user (`arch: :arm64`);
    * the unzipped layer read-only at `/opt`, the unzipped function
      read-only at `/var/task` (also the working directory);
    * a tmpfs `/tmp`, the only writable place;
    * the host's Erlang and Elixir (`/usr/lib/erlang`, `/usr/lib/elixir`)
      hidden under empty tmpfs mounts, so only the layer can provide them;
    * `--clearenv`, then only the variables Lambda sets;
    * a non-root uid/gid (993/990), new user, pid, ipc and uts namespaces,
      and the host network (the Runtime API listens on host loopback).

      sandbox = Sandbox.start!(layer_dir, task_dir, runtime_api, "Hello.handle")
      {status, output} = Sandbox.await_exit(sandbox)
  """

  defstruct [:port, :os_pid]

  # The bwrap command line is the product's own (`mix lambda.invoke --layer`
  # runs the same sandbox).
  alias LambdaRuntime.Tools.Emulator.Sandbox, as: Command
  alias LambdaRuntime.TestSupport.RuntimeProcess

  @doc "The bwrap executable, or nil."
  def bwrap, do: Command.bwrap()

  @doc """
  Starts the sandbox. Options: `:env` (extra `{name, value}` pairs, which
  override the defaults), `:command` (default `/opt/bootstrap`), and the
  product's `:rootfs` and `:arch` (`LambdaRuntime.Tools.Emulator.Sandbox`).
  """
  def start!(layer_dir, task_dir, runtime_api, handler, opts \\ []) do
    bwrap() || raise "bwrap is not installed (apt-get install bubblewrap)"
    env = Map.merge(lambda_env(runtime_api, handler), Map.new(Keyword.get(opts, :env, [])))
    command_opts = Keyword.take(opts, [:command, :rootfs, :arch])
    [exe | args] = Command.command(layer_dir, task_dir, Enum.sort(env), command_opts)

    port =
      Port.open({:spawn_executable, exe}, [:binary, :exit_status, :stderr_to_stdout, args: args])

    {:os_pid, os_pid} = Port.info(port, :os_pid)
    %__MODULE__{port: port, os_pid: os_pid}
  end

  @doc "The environment Lambda gives a `provided.al2023` runtime."
  def lambda_env(runtime_api, handler) do
    %{
      "AWS_LAMBDA_RUNTIME_API" => runtime_api,
      "_HANDLER" => handler,
      "LAMBDA_TASK_ROOT" => "/var/task",
      "LAMBDA_RUNTIME_DIR" => "/var/runtime",
      "AWS_REGION" => "eu-west-1",
      "AWS_DEFAULT_REGION" => "eu-west-1",
      "AWS_EXECUTION_ENV" => "AWS_Lambda_provided.al2023",
      "AWS_LAMBDA_FUNCTION_NAME" => "sandboxed-hello",
      "AWS_LAMBDA_FUNCTION_VERSION" => "$LATEST",
      "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "512",
      "AWS_LAMBDA_LOG_GROUP_NAME" => "/aws/lambda/sandboxed-hello",
      "AWS_LAMBDA_LOG_STREAM_NAME" => "2026/11/27/[$LATEST]0123456789abcdef",
      "TZ" => ":UTC",
      "LANG" => "en_US.UTF-8",
      "PATH" => "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
      "LD_LIBRARY_PATH" =>
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
    }
  end

  @doc """
  Runs `fun` (e.g. an invocation) in a task while the sandbox runs, and
  returns its result; raises with the sandbox's output if the sandbox exits
  first (an emulator would otherwise wait for a runtime that is gone). Call
  it from the process that started the sandbox.
  """
  def while_running(%__MODULE__{port: port} = sandbox, fun, timeout \\ 60_000) do
    task = Task.async(fun)
    ref = task.ref

    receive do
      {^ref, result} ->
        Process.demonitor(ref, [:flush])
        result

      {^port, {:exit_status, status}} ->
        Task.shutdown(task, :brutal_kill)
        send(self(), {port, {:exit_status, status}})
        {^status, output} = await_exit(sandbox, 5_000)
        raise "the sandbox exited (status #{status}) before the call returned:\n#{output}"
    after
      timeout ->
        Task.shutdown(task, :brutal_kill)
        raise "no result in #{timeout} ms; the sandbox's output so far:\n#{stop(sandbox)}"
    end
  end

  @doc "Waits for the sandbox to exit; returns `{exit_status, output}` or `:timeout`."
  def await_exit(%__MODULE__{} = sandbox, timeout \\ 15_000),
    do: sandbox |> as_process() |> RuntimeProcess.await_exit(timeout)

  @doc """
  Kills the sandbox (if still running) and returns its output (what is left
  of it: `await_exit/2` and `while_running/3` take what they saw). bwrap runs
  it with --die-with-parent: killing bwrap kills it (the command's own
  process is bwrap's, also after the wrapper of another architecture).
  """
  def stop(%__MODULE__{port: port} = sandbox) do
    # Already exited (and its exit seen): only output still in the mailbox.
    if Port.info(port) == nil,
      do: sandbox |> as_process() |> RuntimeProcess.output(),
      else: sandbox |> as_process() |> RuntimeProcess.stop()
  end

  # Output collection is the same as for a runtime started without a sandbox.
  defp as_process(%__MODULE__{port: port, os_pid: os_pid}),
    do: %RuntimeProcess{port: port, os_pid: os_pid}
end
