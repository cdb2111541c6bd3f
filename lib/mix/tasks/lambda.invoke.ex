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

  The work is `LambdaRuntime.Tools.LocalInvoke`'s.
  """
  use Mix.Task

  alias LambdaRuntime.Tools.{CLI, LocalInvoke}

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
    {opts, []} =
      CLI.parse!("lambda.invoke", layer_path(args),
        switches: @switches,
        hint: "give the event with --data JSON, --event FILE or --sample NAME"
      )

    CLI.ok!("lambda.invoke", LocalInvoke.check(opts))

    settings =
      CLI.settings!(
        "lambda.invoke",
        Keyword.take(opts, [:handler, :memory_size, :function_name, :env])
      )

    Mix.Task.run("compile")
    event = CLI.ok!("lambda.invoke", LocalInvoke.event(opts))
    CLI.ok!("lambda.invoke", LocalInvoke.run(settings, event, opts))
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
end
