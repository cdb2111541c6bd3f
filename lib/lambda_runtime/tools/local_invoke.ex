defmodule LambdaRuntime.Tools.LocalInvoke do
  @moduledoc """
  Invokes the current project's function on this machine the way Lambda
  does, for `mix lambda.invoke`: a `LambdaRuntime.Tools.Emulator` serves
  the Runtime API and Invoke endpoints; the runtime runs as Lambda starts
  it, `bootstrap.sh` as its own OS process
  (`LambdaRuntime.Tools.Emulator.LocalRuntime`), or the layer's
  `/opt/bootstrap` in a sandbox (`LambdaRuntime.Tools.Emulator.LayerSetup`);
  each invocation's log is printed, then what a caller of Lambda gets (the
  response as indented JSON, or the error with its stack trace), then the
  REPORT line.

  `check/1` and `event/1` read the task's options; `run/3` invokes.
  """

  alias LambdaRuntime.{JSON, Samples}
  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.{LayerSetup, LocalRuntime, PrettyJSON, Report}
  alias LambdaRuntime.Tools.Layer.Target
  alias LambdaRuntime.Tools.Package.AppConfig
  alias LambdaRuntime.Tools.Settings

  @sources [:data, :event, :sample]
  @sandbox [:layer, :layer_zip, :package_zip, :rootfs, :arch]

  @doc """
  Checks the options that do not depend on the project: at most one event
  source (`:data`, `:event`, `:sample`), `:repeat` at least 1, `:timeout`
  (seconds) above 0 and at most 900.
  """
  @spec check(keyword()) :: :ok | {:error, String.t()}
  def check(opts) do
    sources = Enum.filter(@sources, &Keyword.has_key?(opts, &1))
    repeat = Keyword.get(opts, :repeat, 1)
    timeout = opts[:timeout]

    cond do
      length(sources) > 1 ->
        {:error,
         "give one event source, got " <>
           Enum.map_join(sources, " and ", &"--#{&1}") <>
           "; pick one of --data, --event, --sample"}

      repeat < 1 ->
        {:error, "--repeat must be 1 or more, got #{repeat}"}

      timeout && (timeout <= 0 or timeout > 900) ->
        {:error,
         "--timeout must be a number of seconds above 0 and at most 900 " <>
           "(Lambda's maximum), got #{timeout}"}

      true ->
        :ok
    end
  end

  @doc """
  The event's JSON text: `:data`, the file at `:event` (`-` reads standard
  input), the sample named `:sample`, else `{}`. It must be valid JSON.
  """
  @spec event(keyword()) :: {:ok, String.t()} | {:error, String.t()}
  def event(opts) do
    read =
      cond do
        data = opts[:data] -> {:ok, data, "--data"}
        file = opts[:event] -> read_file(file)
        sample = opts[:sample] -> sample(sample)
        true -> {:ok, "{}", "the default event"}
      end

    with {:ok, json, origin} <- read do
      case JSON.decode(json) do
        {:ok, _} ->
          {:ok, json}

        {:error, error} ->
          {:error, "the event from #{origin} is not valid JSON: #{Exception.message(error)}"}
      end
    end
  end

  defp read_file("-"), do: {:ok, IO.read(:stdio, :eof), "standard input"}

  defp read_file(path) do
    case File.read(path) do
      {:ok, json} -> {:ok, json, path}
      {:error, reason} -> {:error, "cannot read --event #{path}: #{:file.format_error(reason)}"}
    end
  end

  defp sample(name) do
    {:ok, Samples.json!(name), "sample #{name}"}
  rescue
    e in ArgumentError -> {:error, Exception.message(e)}
  end

  @doc """
  Invokes the function `repeat` times (`opts[:repeat]`, default 1) with
  `event` (JSON text), the same runtime serving them all, and prints each
  result. `settings` are the project's `lambda:` settings (the handler is
  required); `opts` are the task's: `:timeout` (over the settings'),
  `:task_root` (default the project's build), and the sandbox's (`:layer`,
  `:layer_zip`, `:package_zip`, `:rootfs`, `:arch`; any of them runs the
  layer and the function package, built when not given).

  Returns `:ok` when every invocation succeeded, else `{:error, message}`.
  """
  @spec run(Settings.t(), String.t(), keyword()) :: :ok | {:error, String.t()}
  def run(%Settings{} = settings, event, opts) do
    # What the runtime applies at cold start from config/*.exs, as
    # `mix lambda.package` would package it.
    if !opts[:task_root], do: AppConfig.write_project!(Mix.Project.build_path())

    with {:ok, handler} <- handler(settings),
         {:ok, runtime_opts, scratch} <- runtime_opts(settings, handler, opts) do
      timeout = opts[:timeout] || settings.timeout
      region = settings.region || "us-east-1"

      {:ok, emu} =
        Emulator.start_link(
          function_name: settings.function_name,
          timeout: timeout,
          memory_size: settings.memory_size,
          region: region
        )

      {:ok, runtime} = LocalRuntime.start(emu, runtime_opts)

      Mix.shell().info([
        [:cyan, "==> ", handler, :reset],
        " (#{settings.function_name}, timeout #{seconds(timeout)} s, " <>
          "#{settings.memory_size} MB)"
      ])

      try do
        repeat = Keyword.get(opts, :repeat, 1)
        results = for n <- 1..repeat, do: invoke(emu, runtime, event, n, repeat)

        case Enum.count(results, &(&1 != :ok)) do
          0 -> :ok
          failed -> {:error, "#{failed} of #{repeat} invocations failed"}
        end
      after
        LocalRuntime.stop(runtime)
        Emulator.stop(emu)
        print_log(0)
        if scratch, do: File.rm_rf(scratch)
      end
    end
  end

  defp handler(%Settings{handler: nil}) do
    {:error,
     "the function needs a handler: pass --handler MyApp.Handler.handle, " <>
       "or set lambda: [handler: \"MyApp.Handler.handle\"] in the project of mix.exs"}
  end

  defp handler(%Settings{handler: handler}), do: {:ok, handler}

  defp runtime_opts(settings, handler, opts) do
    me = self()

    base = [
      handler: handler,
      function_name: settings.function_name,
      memory_size: settings.memory_size,
      region: settings.region || "us-east-1",
      env: Enum.sort(settings.environment),
      output: &send(me, {__MODULE__, :log, &1})
    ]

    if Enum.any?(@sandbox, &opts[&1]) do
      sandboxed(base, opts)
    else
      task_root = opts[:task_root] || Mix.Project.build_path()
      {:ok, Keyword.put(base, :task_root, task_root), nil}
    end
  end

  # The layer and the function package, built (unless given) and
  # unpacked, run in the sandbox.
  defp sandboxed(runtime_opts, opts) do
    setup =
      LayerSetup.prepare(
        layer: opts[:layer_zip],
        package: opts[:package_zip],
        rootfs: opts[:rootfs],
        arch: opts[:arch],
        # The portable layer (glibc 2.31) starts over this machine's root
        # and over an old-glibc --rootfs alike.
        build_layer: &build("lambda.layer", ["--arch", layer_arch(opts), "--output", &1]),
        build_package: fn output, layer_zip ->
          build(
            "lambda.package",
            if(layer_zip, do: ["--layer", layer_zip], else: []) ++ ["--output", output]
          )
        end
      )

    with {:ok, setup} <- setup do
      {:ok, Keyword.put(runtime_opts, :sandbox, LayerSetup.sandbox(setup)), setup.scratch}
    end
  end

  defp layer_arch(opts), do: opts[:arch] || Atom.to_string(Target.host_arch())

  defp build(task, args), do: Mix.Task.rerun(task, args)

  defp seconds(t) when is_float(t) and t == trunc(t), do: trunc(t)
  defp seconds(t), do: t

  defp invoke(emu, runtime, event, n, total) do
    if total > 1, do: Mix.shell().info([:cyan, "--> invocation #{n} of #{total}", :reset])

    case runtime_exit(runtime) do
      nil ->
        {status, body, report} = Emulator.invoke_json(emu, event)
        LocalRuntime.sync(runtime)
        print_log()
        print(status, body)
        if report, do: Mix.shell().info(Report.format(report))
        if status == :ok, do: :ok, else: :error

      exit_status ->
        print_log()
        Mix.shell().error("the runtime exited (status #{exit_status}); nothing left to invoke")
        :error
    end
  end

  # The function's log goes before its result, as in CloudWatch: what the
  # runtime wrote before it responded is here after LocalRuntime.sync/1;
  # what processes of the function still write is given until output has
  # been quiet for a moment.
  defp print_log(quiet_ms \\ 25) do
    give_up = System.monotonic_time(:millisecond) + 250
    print_log(quiet_ms, give_up)
  end

  defp print_log(quiet_ms, give_up) do
    receive do
      {__MODULE__, :log, data} ->
        IO.write(data)
        wait = min(quiet_ms, max(give_up - System.monotonic_time(:millisecond), 0))
        print_log(wait, give_up)
    after
      quiet_ms -> :ok
    end
  end

  defp runtime_exit(%LocalRuntime{pid: pid}) do
    receive do
      {LocalRuntime, ^pid, {:exit, status}} ->
        send(self(), {LocalRuntime, pid, {:exit, status}})
        status
    after
      0 -> nil
    end
  end

  defp print(:ok, body) do
    case JSON.decode(body) do
      {:ok, _} -> Mix.shell().info(PrettyJSON.format(body))
      {:error, _} -> Mix.shell().info(body)
    end
  end

  defp print(:error, body) do
    case JSON.decode(body) do
      {:ok, %{"errorType" => type} = error} ->
        Mix.shell().info([:red, "** (#{type}) #{error["errorMessage"]}", :reset])

        for frame <- List.wrap(error["stackTrace"]),
            do: Mix.shell().info("    " <> to_string(frame))

      _ ->
        Mix.shell().info([:red, "** function error: ", body, :reset])
    end
  end
end
