defmodule LambdaRuntime.Emulator.LocalRuntime do
  @moduledoc """
  Runs the runtime as Lambda does: `bootstrap.sh` as an OS process, with a
  clean environment holding only what Lambda sets (plus your additions),
  against a `LambdaRuntime.Emulator`.

      {:ok, rt} = LocalRuntime.start(emu, handler: "Hello.handle", task_root: "_build/dev")
      LambdaRuntime.Emulator.invoke(emu, %{"name" => "Ada"})
      LocalRuntime.stop(rt)

  The process's output (the function's log) goes to `:output`. When it
  exits, the emulator is told (`LambdaRuntime.Emulator.runtime_exited/2`) and
  the caller receives `{LambdaRuntime.Emulator.LocalRuntime, pid, {:exit, status}}`.

  ## Options

    * `:handler` - `_HANDLER` (required)
    * `:task_root` - `LAMBDA_TASK_ROOT`, a directory with `lib/*/ebin`
      (a Mix build directory or an unpacked function package; required)
    * `:bootstrap` - the bootstrap script (default: this project's
      `bootstrap.sh`); `:command` - instead, a full `[executable | args]`
      (e.g. a sandbox that runs the layer's bootstrap)
    * `:function_name` (default `"function"`), `:memory_size` (MB, default 128),
      `:region` (default `"us-east-1"`)
    * `:env` - extra `{name, value}` pairs
    * `:output` - `:stdio` (default), or a 1-arity function taking each piece
      of output
  """

  defstruct [:pid, :os_pid]

  # Where bootstrap.sh is: the root of this project's source (a checkout,
  # or deps/lambda_runtime in a project that depends on it).
  @project_root Path.expand("../../..", __DIR__)

  @type t :: %__MODULE__{pid: pid(), os_pid: non_neg_integer()}

  @doc "Starts the runtime process. Returns `{:ok, runtime}`."
  @spec start(GenServer.server(), keyword()) :: {:ok, t()}
  def start(emu, opts) do
    handler = Keyword.fetch!(opts, :handler)
    task_root = opts |> Keyword.fetch!(:task_root) |> Path.expand()
    [exe | args] = Keyword.get_lazy(opts, :command, fn -> [bootstrap(opts)] end)
    env = lambda_env(emu, handler, task_root, opts) ++ Keyword.get(opts, :env, [])
    output = Keyword.get(opts, :output, :stdio)
    owner = self()
    :ok = LambdaRuntime.Emulator.expect_init(emu)

    pid =
      spawn_link(fn ->
        # A clean environment, as in Lambda: `env -i` drops this VM's.
        port =
          Port.open({:spawn_executable, System.find_executable("env")}, [
            :binary,
            :exit_status,
            :stderr_to_stdout,
            args: ["-i" | Enum.map(env, fn {k, v} -> "#{k}=#{v}" end)] ++ [exe | args]
          ])

        {:os_pid, os_pid} = Port.info(port, :os_pid)
        send(owner, {__MODULE__, self(), {:os_pid, os_pid}})
        relay(emu, port, output, owner)
      end)

    receive do
      {__MODULE__, ^pid, {:os_pid, os_pid}} ->
        LambdaRuntime.Emulator.put_memory_probe(emu, fn -> peak_rss(os_pid) end)
        {:ok, %__MODULE__{pid: pid, os_pid: os_pid}}
    end
  end

  @doc "Kills the runtime process, if it still runs."
  @spec stop(t()) :: :ok
  def stop(%__MODULE__{pid: pid, os_pid: os_pid}) do
    Process.unlink(pid)
    System.cmd("kill", ["-KILL", to_string(os_pid)], stderr_to_stdout: true)
    :ok
  end

  defp relay(emu, port, output, owner) do
    receive do
      {^port, {:data, data}} ->
        write(output, data)
        relay(emu, port, output, owner)

      {^port, {:exit_status, status}} ->
        LambdaRuntime.Emulator.runtime_exited(emu, status)
        send(owner, {__MODULE__, self(), {:exit, status}})
    end
  end

  defp write(:stdio, data), do: IO.write(data)
  defp write(fun, data) when is_function(fun, 1), do: fun.(data)

  # What Lambda sets for a function on a custom runtime.
  defp lambda_env(emu, handler, task_root, opts) do
    name = Keyword.get(opts, :function_name, "function")
    region = Keyword.get(opts, :region, "us-east-1")
    today = Date.utc_today() |> Date.to_iso8601() |> String.replace("-", "/")
    stream = "#{today}/[$LATEST]#{Base.encode16(:rand.bytes(16), case: :lower)}"

    [
      {"AWS_LAMBDA_RUNTIME_API", LambdaRuntime.Emulator.runtime_api(emu)},
      {"_HANDLER", handler},
      {"LAMBDA_TASK_ROOT", task_root},
      {"LAMBDA_RUNTIME_DIR", Path.dirname(Keyword.get(opts, :bootstrap, bootstrap(opts)))},
      {"AWS_LAMBDA_FUNCTION_NAME", name},
      {"AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"},
      {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", Keyword.get(opts, :memory_size, 128)},
      {"AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/#{name}"},
      {"AWS_LAMBDA_LOG_STREAM_NAME", stream},
      {"AWS_REGION", region},
      {"AWS_DEFAULT_REGION", region},
      {"AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"},
      {"TZ", ":UTC"},
      {"LANG", "en_US.UTF-8"},
      {"PATH", path()}
    ] ++ if(home = System.get_env("HOME"), do: [{"HOME", home}], else: [])
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
      source = Path.join(@project_root, "bootstrap.sh")
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

  # Peak resident memory of the runtime's OS process, in bytes.
  defp peak_rss(os_pid) do
    with {:ok, status} <- File.read("/proc/#{os_pid}/status"),
         [_, kb] <- Regex.run(~r/VmHWM:\s+(\d+) kB/, status) do
      String.to_integer(kb) * 1024
    else
      _ -> 0
    end
  end
end
