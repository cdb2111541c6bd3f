defmodule LambdaRuntime.Tools.Deploy.Project do
  @moduledoc """
  What `mix lambda.deploy` does, in order:

    0. GetFunction (`LambdaRuntime.Tools.Deploy.Preflight.function/2`): bad
       credentials, or a function that must be created without a role,
       stop the deploy before anything is built or uploaded;
    1. the runtime layer (unless `layer_arn` is set): the zip named with
       `:layer_zip` or built by the layer task, its manifest checked and
       the function's architecture settled from it
       (`LambdaRuntime.Tools.Deploy.RuntimeLayer`), before anything is built or
       sent;
    2. the function zip: the one named with `:zip`, or built by the package
       task (`--layer LAYER_ZIP` when there is one);
    3. the handler checked against the function zip
       (`LambdaRuntime.Tools.Deploy.Preflight.handler/2`): its module must be in
       the package and export the function;
    4. the layer published (`LambdaRuntime.Tools.Deploy.LayerPublisher`) and the
       function created or updated (`LambdaRuntime.Tools.Deploy.Deployer`) with
       `Architectures` from step 1.

  A dry run builds nothing: named zips are read (and the layer's manifest
  checked as in a deploy); a zip that would be built shows as a
  placeholder in the requests, and a note says which command would build
  it. It also warns where the real run would stop
  (`LambdaRuntime.Tools.Deploy.Preflight.dry_run_warnings/3`).
  """

  alias LambdaRuntime.Tools.Deploy.{
    Artifacts,
    Connection,
    Deployer,
    LayerPublisher,
    Preflight,
    RuntimeLayer
  }

  alias LambdaRuntime.Tools.Settings

  @tasks %{layer: "lambda.layer", package: "lambda.package"}

  @doc """
  Deploys with `config` over `conn`. Options: `:zip`, `:layer_zip` (paths
  or nil), `:publish`, `:alias`, `:tasks` (the build tasks, default
  `%{layer: "lambda.layer", package: "lambda.package"}`), `:outputs`
  (where they write, default their own defaults under `_build/lambda/`).

  `:env` and `:profile` (where a dry run looks for credentials to warn
  about, default the process environment).

  Returns `{:ok, result}` (`Deployer`'s result plus `:layer_arn` and
  `:architecture`) or `{:error, message | LambdaRuntime.AWS.Error.t()}`.
  """
  @spec deploy(Connection.t(), Settings.t(), keyword()) :: {:ok, map()} | {:error, term()}
  def deploy(%Connection{} = conn, %Settings{} = config, opts) do
    tasks = Map.merge(@tasks, Map.new(Keyword.get(opts, :tasks, %{})))
    outputs = Map.new(Keyword.get(opts, :outputs, %{}))
    dry_run = conn.dry_run

    with :ok <- function_state(conn, config),
         {:ok, layer} <-
           runtime_layer(config, opts[:layer_zip], dry_run, tasks.layer, outputs[:layer]),
         config = %{config | architecture: architecture(config, layer)},
         {:ok, zip_path, zip} <-
           function_zip(opts[:zip], layer, dry_run, tasks.package, outputs[:package]),
         :ok <- handler_in_zip(dry_run, zip, config.handler) do
      if dry_run do
        dry_run_header(conn, zip_path, layer, tasks.package)
        dry_run_warnings(config, zip, opts)
      end

      with {:ok, layer_arn} <- ensure_layer(conn, config, layer),
           config = %{config | layers: [layer_arn | config.layers]},
           {:ok, result} <-
             Deployer.deploy(conn, config, zip,
               publish: Keyword.get(opts, :publish, false),
               alias: opts[:alias]
             ) do
        {:ok, Map.merge(result, %{layer_arn: layer_arn, architecture: config.architecture})}
      end
    end
  end

  @doc "What a deploy's `result` is, one line per fact, for the task to print."
  @spec summary(map()) :: [String.t()]
  def summary(result) do
    code_size =
      if result.code_size, do: "#{result.code_size} bytes", else: "(not built in a dry run)"

    [
      "Function ARN: #{result.function_arn}",
      "Code size:    " <> code_size,
      "Architecture: #{result.architecture}",
      result.version && "Version:      #{result.version}",
      result.alias_arn && "Alias ARN:    #{result.alias_arn}",
      "Layer ARN:    #{result.layer_arn}"
    ]
    |> Enum.filter(&is_binary/1)
  end

  @doc """
  Publishes the runtime layer alone (`mix lambda.layer.publish`): the zip
  at `:zip`, else the one `mix lambda.layer` builds (for the settings'
  architecture, when given); its manifest is checked first. A dry run
  prints the request instead. Returns `{:ok, %{arn: arn, architecture:
  architecture}}` or `{:error, message | LambdaRuntime.AWS.Error.t()}`.
  """
  @spec publish_layer(Connection.t(), Settings.t(), keyword()) ::
          {:ok, map()} | {:error, term()}
  def publish_layer(%Connection{} = conn, %Settings{} = settings, opts) do
    with {:ok, layer} <-
           RuntimeLayer.fetch(opts[:zip], settings.architecture,
             dry_run: conn.dry_run,
             flag: "--zip"
           ) do
      if conn.dry_run do
        what = layer.path || "the layer zip"

        Mix.shell().info(
          "Dry run: nothing is sent. Would publish #{what} to #{Connection.target(conn)}:"
        )

        if note = RuntimeLayer.dry_run_note(layer), do: Mix.shell().info("  (#{note})")
      end

      with {:ok, result} <-
             LayerPublisher.publish(conn, settings.layer_name, layer.zip, layer.architecture),
           do: {:ok, Map.put(result, :architecture, layer.architecture)}
    end
  end

  defp function_state(%Connection{dry_run: true}, _config), do: :ok

  defp function_state(conn, config) do
    with {:ok, _exists_or_missing} <- Preflight.function(conn, config), do: :ok
  end

  defp handler_in_zip(true, _zip, _handler), do: :ok
  defp handler_in_zip(false, zip, handler), do: Preflight.handler(zip, handler)

  defp dry_run_warnings(config, zip, opts) do
    ebin_dirs = Path.wildcard(Path.join(Mix.Project.build_path(), "lib/*/ebin"))

    warnings =
      Preflight.dry_run_warnings(config, zip,
        ebin_dirs: ebin_dirs,
        env: Keyword.get_lazy(opts, :env, &System.get_env/0),
        profile: opts[:profile]
      )

    for warning <- warnings,
        do: Mix.shell().info("  warning: a deploy would stop here: " <> warning)
  end

  defp runtime_layer(%Settings{layer_arn: arn}, _path, _dry_run, _task, _output) when arn != nil,
    do: {:ok, nil}

  defp runtime_layer(config, path, dry_run, task, output) do
    RuntimeLayer.fetch(path, config.architecture,
      dry_run: dry_run,
      task: task,
      output: output || Artifacts.default_output("lambda.layer"),
      flag: "--layer-zip (or --layer-arn)"
    )
  end

  defp architecture(config, nil), do: config.architecture || "x86_64"
  defp architecture(_config, %RuntimeLayer{architecture: arch}), do: arch

  defp function_zip(path, _layer, _dry_run, task, _output) when path != nil,
    do: Artifacts.fetch(path, task, "--zip")

  defp function_zip(nil, _layer, true, _task, _output), do: {:ok, nil, :unbuilt}

  defp function_zip(nil, layer, false, task, output) do
    args =
      case layer do
        %RuntimeLayer{path: path} when is_binary(path) -> ["--layer", path]
        _ -> []
      end

    Artifacts.fetch(
      nil,
      task,
      "--zip",
      args,
      output || Artifacts.default_output("lambda.package")
    )
  end

  defp ensure_layer(_conn, config, nil), do: {:ok, config.layer_arn}

  defp ensure_layer(conn, config, %RuntimeLayer{} = layer) do
    with {:ok, result} <-
           LayerPublisher.publish(conn, config.layer_name, layer.zip, layer.architecture),
         do: {:ok, result.arn}
  end

  defp dry_run_header(conn, zip_path, layer, package_task) do
    what = zip_path || "the function zip"

    Mix.shell().info(
      "Dry run: nothing is sent. Would deploy #{what} to #{Connection.target(conn)}:"
    )

    notes =
      [
        zip_path == nil &&
          "the function zip is not built in a dry run: a deploy builds it with `mix #{package_task}`",
        layer && RuntimeLayer.dry_run_note(layer)
      ]
      |> Enum.filter(&is_binary/1)

    for note <- notes, do: Mix.shell().info("  (#{note})")
  end
end
