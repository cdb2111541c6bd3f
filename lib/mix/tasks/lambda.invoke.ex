defmodule Mix.Tasks.Lambda.Invoke do
  @shortdoc "Invokes the function locally, through the real runtime and an emulator"
  @moduledoc """
  Runs the project's handler the way Lambda runs it, on this machine: it
  compiles the project, starts `LambdaRuntime.Tools.Emulator` (the Runtime API and
  Invoke endpoints, on loopback), starts the runtime as Lambda does
  (`bootstrap.sh` as its own OS process, in a clean environment with the
  variables Lambda sets, the project's build as `LAMBDA_TASK_ROOT`), invokes
  the function, and prints what a caller of Lambda would get: the response
  as indented JSON, or the error with its stack trace; then the REPORT line.
  Before each result comes the function's own log output.

      mix lambda.invoke --data '{"name":"Ada"}'
      mix lambda.invoke --event test/events/order.json
      mix lambda.invoke --sample apigateway-http --handler MyApp.Api.handle
      mix lambda.invoke --sample sqs --env LOG_LEVEL=debug --env TABLE=orders
      mix lambda.invoke --data '{}' --timeout 2 --repeat 3
      cat event.json | mix lambda.invoke --event -
      mix lambda.invoke --layer --sample sqs      # the layer + package, sandboxed
      mix lambda.invoke --layer dist/layer.zip --rootfs "$(scripts/rootfs.sh amd64)"
      mix lambda.invoke --layer dist/layer-arm64.zip --arch arm64 --rootfs "$(scripts/rootfs.sh arm64)"

  Settings come from the `lambda:` key of `project/0` in `mix.exs`, as for
  `mix lambda.deploy` (`handler`, `function_name`, `timeout`, `memory_size`,
  `environment`, `region`); the options override them. The task exits
  non-zero when an invocation failed.

  ## Options

    * `--data JSON` - the event, as JSON text
    * `--event FILE` - the event, from a JSON file (`-` reads standard input)
    * `--sample NAME` - one of the sample events (`mix lambda.sample` lists them)
    * `--handler HANDLER` - `_HANDLER`, `Module.function` or `Module`
      (default: `lambda: [handler: ...]`; required if that is not set)
    * `--timeout SECONDS` - the function timeout (default: the `lambda:`
      `timeout`, else 30); past it the invocation fails with `Sandbox.Timedout`
    * `--memory-size MB` - shown in the REPORT line and given to the function
      as `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (default: the `lambda:`
      `memory_size`, else 512)
    * `--function-name NAME` - default: the `lambda:` `function_name`, else the app name
    * `--env NAME=VALUE` - an environment variable for the function
      (repeatable; adds to the `lambda:` `environment`)
    * `--repeat N` - invoke N times with the same runtime (warm invocations
      after the first; default 1)
    * `--task-root DIR` - run the code in DIR (`DIR/lib/*/ebin`, e.g. an
      unpacked function package) instead of the project's build
    * `--layer [PATH]` - run the layer and the function package instead, as
      on Lambda: the layer's `/opt/bootstrap` runs in a bubblewrap sandbox
      (read-only `/opt` and `/var/task`, a private `/tmp`, only Lambda's
      environment, no Erlang but the layer's; see
      `LambdaRuntime.Tools.Emulator.Sandbox`). PATH is a layer zip or an unpacked
      layer directory; without it, `mix lambda.layer` builds one for this
      machine's glibc. `mix lambda.package` builds the function package.
    * `--layer-zip PATH`, `--package-zip PATH` - with `--layer` (implied),
      use this layer or function package (a zip or a directory) instead of
      building it; e.g. a layer built with `mix lambda.layer --glibc 2.36`
      on a machine newer than the target
    * `--rootfs DIR` - with `--layer` (implied), run the sandbox over the
      root filesystem DIR (its `/usr`, `/etc`, `/bin`, `/sbin` and `/lib*`
      instead of this machine's): `scripts/rootfs.sh amd64|arm64` builds a
      Debian bullseye one (glibc 2.31), to prove that a layer needs nothing
      newer than that and nothing from this machine
    * `--arch x86_64|arm64` - with `--layer` (implied), the layer's
      architecture, when its manifest (`lambda_runtime-layer.json`) does not
      say (it must agree when it does; default: this machine's).
      Another architecture than this machine's runs under
      `qemu-user-static`, registered only inside the sandbox's namespaces
      (Linux >= 6.7), and needs `--rootfs` of that architecture

  Without `--data`, `--event` or `--sample` the event is `{}`.

  ## Why an OS process

  The runtime runs in its own VM, started by the same `bootstrap.sh` that
  Lambda starts, so what you see here is what Lambda does: `_HANDLER`
  resolution, init (and an init error ending the runtime), the environment,
  logging and exit behaviour, rather than a simulation inside the Mix VM.
  """
  use Mix.Task

  alias LambdaRuntime.{JSON, Samples}
  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.{LayerSetup, LocalRuntime, PrettyJSON, Report}

  @switches [
    data: :string,
    event: :string,
    sample: :string,
    handler: :string,
    timeout: :float,
    memory_size: :integer,
    function_name: :string,
    env: :keep,
    repeat: :integer,
    task_root: :string,
    layer: :boolean,
    layer_zip: :string,
    package_zip: :string,
    rootfs: :string,
    arch: :string
  ]

  @impl Mix.Task
  def run(args) do
    opts = parse!(args)
    settings = settings(opts)
    Mix.Task.run("compile")

    if !opts[:task_root],
      do: LambdaRuntime.Tools.Package.AppConfig.write_project!(settings.task_root)

    event = read_event(opts)
    task = self()

    runtime_opts = [
      handler: settings.handler,
      function_name: settings.name,
      memory_size: settings.memory,
      region: settings.region,
      env: settings.env,
      output: &send(task, {__MODULE__, :log, &1})
    ]

    {runtime_opts, scratch} =
      if Enum.any?([:layer, :layer_zip, :package_zip, :rootfs, :arch], &opts[&1]),
        do: sandboxed(runtime_opts, opts),
        else: {Keyword.put(runtime_opts, :task_root, settings.task_root), nil}

    {:ok, emu} =
      Emulator.start_link(
        function_name: settings.name,
        timeout: settings.timeout,
        memory_size: settings.memory,
        region: settings.region
      )

    {:ok, runtime} = LocalRuntime.start(emu, runtime_opts)

    Mix.shell().info([
      [:cyan, "==> ", settings.handler, :reset],
      " (#{settings.name}, timeout #{seconds(settings.timeout)} s, #{settings.memory} MB)"
    ])

    try do
      repeat = opts[:repeat]
      results = for n <- 1..repeat, do: invoke(emu, runtime, event, n, repeat)
      failed = Enum.count(results, &(&1 != :ok))
      if failed > 0, do: Mix.raise("mix lambda.invoke: #{failed} of #{repeat} invocations failed")
    after
      LocalRuntime.stop(runtime)
      Emulator.stop(emu)
      print_log(0)
      if scratch, do: File.rm_rf(scratch)
    end
  end

  # The `lambda:` config of mix.exs, under the options, validated as every
  # task validates it (LambdaRuntime.Tools.Settings).
  defp settings(opts) do
    project = Mix.Project.config()
    flags = Keyword.take(opts, [:handler, :memory_size, :function_name, :env])

    config =
      case LambdaRuntime.Tools.Settings.load(project, flags, project[:app]) do
        {:ok, config} -> config
        {:error, message} -> Mix.raise("mix lambda.invoke: " <> message)
      end

    %{
      handler: config.handler || Mix.raise(no_handler()),
      timeout: opts[:timeout] || config.timeout,
      memory: config.memory_size,
      name: config.function_name,
      region: config.region || "us-east-1",
      env: Enum.sort(config.environment),
      task_root: opts[:task_root] || Mix.Project.build_path()
    }
  end

  # --layer: the layer and the function package, built (unless given) and
  # unpacked, run in the sandbox (LambdaRuntime.Tools.Emulator.LayerSetup).
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

    case setup do
      {:ok, setup} ->
        {Keyword.put(runtime_opts, :sandbox, LayerSetup.sandbox(setup)), setup.scratch}

      {:error, message} ->
        Mix.raise("mix lambda.invoke: " <> message)
    end
  end

  defp layer_arch(opts),
    do: opts[:arch] || Atom.to_string(LambdaRuntime.Tools.Layer.Target.host_arch())

  defp build(task, args), do: Mix.Task.rerun(task, args)

  defp seconds(t) when is_float(t) and t == trunc(t), do: trunc(t)
  defp seconds(t), do: t

  defp parse!(args) do
    case OptionParser.parse(layer_path(args), strict: @switches) do
      {opts, [], []} ->
        sources = Enum.filter([:data, :event, :sample], &Keyword.has_key?(opts, &1))

        if length(sources) > 1 do
          Mix.raise(
            "mix lambda.invoke takes one event source, got " <>
              Enum.map_join(sources, " and ", &"--#{&1}") <>
              "; pick one of --data, --event, --sample"
          )
        end

        repeat = Keyword.get(opts, :repeat, 1)

        if repeat < 1,
          do: Mix.raise("mix lambda.invoke: --repeat must be 1 or more, got #{repeat}")

        timeout = opts[:timeout]

        if timeout && (timeout <= 0 or timeout > 900),
          do:
            Mix.raise(
              "mix lambda.invoke: --timeout must be a number of seconds above 0 and " <>
                "at most 900 (Lambda's maximum), got #{timeout}"
            )

        Keyword.put(opts, :repeat, repeat)

      {_, [arg | _], []} ->
        Mix.raise(
          "mix lambda.invoke takes no arguments, got #{inspect(arg)}; " <>
            "give the event with --data JSON, --event FILE or --sample NAME"
        )

      {_, _, [{option, value} | _]} ->
        Mix.raise(
          "mix lambda.invoke: " <>
            if(value,
              do: "bad value #{inspect(value)} for #{option}",
              else: "unknown option #{option}"
            ) <>
            "; run `mix help lambda.invoke` for the options"
        )
    end
  end

  # `--layer PATH` (the task takes no arguments, so a value after --layer
  # is its path) is `--layer-zip PATH`; a bare `--layer` builds the layer.
  defp layer_path(["--layer", path | rest]) do
    if String.starts_with?(path, "-"),
      do: ["--layer" | layer_path([path | rest])],
      else: ["--layer-zip", path | layer_path(rest)]
  end

  defp layer_path(["--layer=" <> path | rest]), do: ["--layer-zip", path | layer_path(rest)]
  defp layer_path([arg | rest]), do: [arg | layer_path(rest)]
  defp layer_path([]), do: []

  defp no_handler do
    "mix lambda.invoke needs a handler: pass --handler MyApp.Handler.handle, " <>
      "or set lambda: [handler: \"MyApp.Handler.handle\"] in the project of mix.exs"
  end

  defp read_event(opts) do
    {json, origin} =
      cond do
        data = opts[:data] -> {data, "--data"}
        file = opts[:event] -> {read_file(file), file}
        sample = opts[:sample] -> {sample_json(sample), "sample #{sample}"}
        true -> {"{}", "the default event"}
      end

    case JSON.decode(json) do
      {:ok, _} ->
        json

      {:error, error} ->
        Mix.raise("the event from #{origin} is not valid JSON: #{Exception.message(error)}")
    end
  end

  defp read_file("-"), do: IO.read(:stdio, :eof)

  defp read_file(path) do
    case File.read(path) do
      {:ok, json} ->
        json

      {:error, reason} ->
        Mix.raise("mix lambda.invoke: cannot read --event #{path}: #{:file.format_error(reason)}")
    end
  end

  defp sample_json(name) do
    Samples.json!(name)
  rescue
    e in ArgumentError -> Mix.raise("mix lambda.invoke: " <> Exception.message(e))
  end

  defp invoke(emu, runtime, event, n, total) do
    if total > 1, do: Mix.shell().info([:cyan, "--> invocation #{n} of #{total}", :reset])

    case runtime_exit(runtime) do
      nil ->
        {status, body, report} = Emulator.invoke_json(emu, event)
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

  # The function's log goes before its result, as in CloudWatch. The runtime
  # writes it asynchronously, so lines still on their way are given until
  # output has been quiet for a moment.
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
