defmodule LambdaRuntime.Tools.Emulator.LocalRuntime do
  @moduledoc """
  Runs the runtime as Lambda does: `bootstrap.sh` as an OS process, with a
  clean environment holding only what Lambda sets (plus your additions),
  against a `LambdaRuntime.Tools.Emulator`.

      {:ok, rt} = LocalRuntime.start(emu, handler: "Hello.handle", task_root: "_build/dev")
      LambdaRuntime.Tools.Emulator.invoke(emu, %{"name" => "Ada"})
      LocalRuntime.stop(rt)

  The process's output (the function's log) goes to `:output`. When it
  exits, the emulator is told (`LambdaRuntime.Tools.Emulator.runtime_exited/2`) and
  the caller receives `{LambdaRuntime.Tools.Emulator.LocalRuntime, pid, {:exit, status}}`.

  ## Options

    * `:handler` - `_HANDLER` (required)
    * `:task_root` - `LAMBDA_TASK_ROOT`, a directory with `lib/*/ebin`
      (a Mix build directory or an unpacked function package; required
      unless `:sandbox` is given)
    * `:sandbox` - `{layer_dir, function_dir}` or `{layer_dir, function_dir,
      sandbox_opts}`: run the unpacked layer's `/opt/bootstrap` with the
      unpacked function package in a Lambda-shaped sandbox instead
      (`LambdaRuntime.Tools.Emulator.Sandbox.command/4`; `sandbox_opts` such as
      `rootfs: dir, arch: :arm64`)
    * `:bootstrap` - the bootstrap script (default: this project's
      `bootstrap.sh`); `:command` - instead, a full `[executable | args]`
      (e.g. a sandbox that runs the layer's bootstrap)
    * `:function_name` (default `"function"`), `:memory_size` (MB, default 128),
      `:region` (default `"us-east-1"`)
    * `:env` - extra `{name, value}` pairs
    * `:output` - `:stdio` (default), or a 1-arity function taking each piece
      of output
  """

  alias LambdaRuntime.Tools.Emulator.{ProcessGuard, Sandbox}

  defstruct [:pid, :os_pid]

  @type t :: %__MODULE__{pid: pid(), os_pid: non_neg_integer()}

  @doc "Starts the runtime process. Returns `{:ok, runtime}`."
  @spec start(GenServer.server(), keyword()) :: {:ok, t()}
  def start(emu, opts) do
    handler = Keyword.fetch!(opts, :handler)
    {env, [exe | args]} = env_and_command(emu, handler, opts)
    output = Keyword.get(opts, :output, :stdio)
    owner = self()
    :ok = LambdaRuntime.Tools.Emulator.expect_init(emu)

    pid =
      spawn_link(fn ->
        # A clean environment, as in Lambda: `env -i` drops this VM's. The
        # process dies with this VM, however it ends (ProcessGuard).
        [guard | guard_args] =
          ProcessGuard.command(
            [System.find_executable("env"), "-i" | Enum.map(env, fn {k, v} -> "#{k}=#{v}" end)] ++
              [exe | args]
          )

        port =
          Port.open({:spawn_executable, guard}, [
            :binary,
            :exit_status,
            :stderr_to_stdout,
            args: guard_args
          ])

        {:os_pid, os_pid} = Port.info(port, :os_pid)
        send(owner, {__MODULE__, self(), {:os_pid, os_pid}})
        relay(emu, port, output, owner)
      end)

    receive do
      {__MODULE__, ^pid, {:os_pid, os_pid}} ->
        LambdaRuntime.Tools.Emulator.put_memory_probe(emu, fn -> peak_rss(os_pid) end)
        {:ok, %__MODULE__{pid: pid, os_pid: os_pid}}
    end
  end

  @doc "Kills the runtime process, if it still runs."
  @spec stop(t()) :: :ok
  def stop(%__MODULE__{pid: pid, os_pid: os_pid}) do
    Process.unlink(pid)

    # The relay lives until the port reports the exit: while it does, the
    # OS pid is still the runtime's (not reused by an unrelated process).
    if Process.alive?(pid),
      do: System.cmd("kill", ["-KILL", to_string(os_pid)], stderr_to_stdout: true)

    :ok
  end

  @doc """
  Returns once the output the runtime wrote before the call has gone to
  `:output`: a caller that has just received an invocation's result has
  the function's log of it (the runtime writes its log before it
  responds, and the relay handles its mailbox in order). Also returns when
  the runtime has exited, or after `timeout` ms.
  """
  @spec sync(t(), timeout()) :: :ok
  def sync(%__MODULE__{pid: pid}, timeout \\ 1_000) do
    ref = Process.monitor(pid)
    send(pid, {:sync, self(), ref})

    receive do
      {^ref, :synced} -> :ok
      {:DOWN, ^ref, :process, _, _} -> :ok
    after
      timeout -> :ok
    end

    Process.demonitor(ref, [:flush])
    :ok
  end

  defp relay(emu, port, output, owner) do
    receive do
      {^port, {:data, data}} ->
        write(output, data)
        relay(emu, port, output, owner)

      {:sync, from, ref} ->
        send(from, {ref, :synced})
        relay(emu, port, output, owner)

      {^port, {:exit_status, status}} ->
        # The emulator may have been stopped first.
        catch_exit(fn -> LambdaRuntime.Tools.Emulator.runtime_exited(emu, status) end)
        send(owner, {__MODULE__, self(), {:exit, status}})
    end
  end

  defp catch_exit(fun) do
    fun.()
  catch
    :exit, _ -> :ok
  end

  defp write(:stdio, data), do: IO.write(data)
  defp write(fun, data) when is_function(fun, 1), do: fun.(data)

  defp env_and_command(emu, handler, opts) do
    case opts[:sandbox] do
      {layer_dir, task_dir} ->
        env_and_command(emu, handler, Keyword.put(opts, :sandbox, {layer_dir, task_dir, []}))

      {layer_dir, task_dir, sandbox_opts} ->
        env =
          lambda_env(emu, handler, "/var/task", "/var/runtime", opts) ++
            [
              {"PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"},
              {"LD_LIBRARY_PATH",
               "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"},
              {"AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"}
            ] ++ Keyword.get(opts, :env, [])

        {[], Sandbox.command(layer_dir, task_dir, env, sandbox_opts)}

      nil ->
        task_root = opts |> Keyword.fetch!(:task_root) |> Path.expand()
        command = Keyword.get_lazy(opts, :command, fn -> [bootstrap(opts)] end)
        runtime_dir = Path.dirname(hd(command))

        host =
          [{"PATH", path()}] ++ if(home = System.get_env("HOME"), do: [{"HOME", home}], else: [])

        env = lambda_env(emu, handler, task_root, runtime_dir, opts) ++ host
        {env ++ Keyword.get(opts, :env, []), command}
    end
  end

  # What Lambda sets for a function on a custom runtime.
  defp lambda_env(emu, handler, task_root, runtime_dir, opts) do
    name = Keyword.get(opts, :function_name, "function")
    region = Keyword.get(opts, :region, "us-east-1")
    today = Date.utc_today() |> Date.to_iso8601() |> String.replace("-", "/")
    stream = "#{today}/[$LATEST]#{Base.encode16(:rand.bytes(16), case: :lower)}"

    [
      {"AWS_LAMBDA_RUNTIME_API", LambdaRuntime.Tools.Emulator.runtime_api(emu)},
      {"_HANDLER", handler},
      {"LAMBDA_TASK_ROOT", task_root},
      {"LAMBDA_RUNTIME_DIR", runtime_dir},
      {"AWS_LAMBDA_FUNCTION_NAME", name},
      {"AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"},
      {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Keyword.get(opts, :memory_size, 128)},
      {"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/#{name}"},
      {"AWS_LAMBDA_LOG_STREAM_NAME", stream},
      {"AWS_REGION", region},
      {"AWS_DEFAULT_REGION", region},
      {"AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"},
      {"TZ", ":UTC"},
      {"LANG", "en_US.UTF-8"}
    ]
  end

  # This machine's PATH (a development bootstrap finds erl and elixir on it),
  # without the ERTS directories a running VM puts in front.
  defp path do
    (System.get_env("PATH") || "/usr/local/bin:/usr/bin:/bin")
    |> String.split(":")
    |> Enum.reject(&(&1 =~ ~r{/erts-[^/]+/bin$} or &1 =~ ~r{/lib/erlang/bin$}))
    |> Enum.join(":")
  end

  # bootstrap.sh through a link in a directory of its own: in a development
  # checkout the script adds `<its dir>/_build/<env>/lib/lambda_runtime/ebin`
  # ahead of the task root, which would shadow the task root's (current)
  # build of the runtime with whatever else was last built there.
  defp bootstrap(opts) do
    Keyword.get_lazy(opts, :bootstrap, fn ->
      source = Path.join(LambdaRuntime.Tools.source_root(), "bootstrap.sh")
      dir = Path.join(System.tmp_dir!(), "lambda_runtime_bootstrap_#{:erlang.phash2(source)}")
      link = Path.join(dir, "bootstrap")
      File.mkdir_p!(dir)

      case File.ln_s(source, link) do
        :ok -> link
        {:error, :eexist} -> link
        {:error, reason} -> raise File.Error, reason: reason, action: "link", path: link
      end
    end)
  end

  # Peak resident memory of the runtime, in bytes: the largest of the OS
  # process and its descendants (a sandbox runs the BEAM as a child).
  defp peak_rss(os_pid) do
    hwm =
      with {:ok, status} <- File.read("/proc/#{os_pid}/status"),
           [_, kb] <- Regex.run(~r/VmHWM:\s+(\d+) kB/, status) do
        String.to_integer(kb) * 1024
      else
        _ -> 0
      end

    children =
      case File.read("/proc/#{os_pid}/task/#{os_pid}/children") do
        {:ok, text} -> text |> String.split() |> Enum.map(&String.to_integer/1)
        {:error, _} -> []
      end

    Enum.reduce(children, hwm, &max(&2, peak_rss(&1)))
  end
end
