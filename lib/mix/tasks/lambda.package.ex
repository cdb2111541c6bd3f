defmodule Mix.Tasks.Lambda.Package do
  @shortdoc "Builds the function zip: the project's beams, for the lambda_runtime layer"
  @moduledoc """
  Compiles the project and writes the function zip that goes with the
  lambda_runtime layer: the project's application and the dependencies it
  needs at run time, as compiled beams (stripped) and `priv/` files, laid
  out as `lib/APP/ebin/...`. Erlang/OTP, Elixir and `:lambda_runtime` are
  not included: the layer has them.

      MIX_ENV=prod mix lambda.package
      MIX_ENV=prod mix lambda.package --output dist/function.zip
      MIX_ENV=prod mix lambda.package --layer _build/lambda/layer.zip

  ## Environment

  The package holds the beams of the Mix environment in effect, like every
  Mix task: `MIX_ENV=prod` for deployment (the task says which environment
  it packaged, and records it in the zip comment). To make `prod` the
  default, add `preferred_cli_env: ["lambda.package": :prod]` to the
  project. `MIX_ENV=test` is refused: test builds contain test support code.

  ## Checks

  Symbolic links under `priv/` are stored as the files they name; a link
  that loops (`ln -s . priv/loop`) or leaves the project is refused with
  its path (see `--allow-external-links`).

  The task refuses to write the zip when the project's beams were compiled
  by a newer Erlang/OTP than the layer's, or when the function needs an
  application that is neither in the layer nor compiled in the project
  (for example `:xmerl`), and when `config/runtime.exs` cannot be
  compiled or uses `Mix`.

  ## Configuration

  The project's `config/config.exs` (for the packaged environment) and
  `config/runtime.exs` are applied on Lambda at cold start, before any
  application starts, for every application (`:logger` included):
  `config.exs` as read now, `runtime.exs` compiled now and evaluated then,
  with the function's environment variables (`LambdaRuntime.AppConfig`).
  They go into the zip as `lambda_runtime/config.beam`; `config.exs` is
  also written into the packaged applications' `.app` env.

  ## Options

    * `--output PATH` - where to write the zip (default:
      `_build/lambda/APP.zip`, under `MIX_BUILD_ROOT` when set).
    * `--layer PATH` - a layer zip built by `mix lambda.layer` to check
      against (default: the layer this machine builds).
    * `--allow-external-links` - package what symbolic links under `priv/`
      point at even outside the project (refused by default, naming the
      link: it would upload a file of this machine). A link that loops is
      refused always.
  """
  use Mix.Task

  alias LambdaRuntime.Tools.Package.{AppConfig, Builder, LayerInfo}

  @switches [output: :string, layer: :string, allow_external_links: :boolean]

  @impl Mix.Task
  def run(args) do
    {opts, rest, invalid} = OptionParser.parse(args, strict: @switches)

    cond do
      invalid != [] ->
        Mix.raise(
          "mix lambda.package: unknown or invalid option #{elem(hd(invalid), 0)}; " <>
            "run `mix help lambda.package` for the options"
        )

      rest != [] ->
        Mix.raise(
          "mix lambda.package takes no arguments, got #{inspect(rest)}; " <>
            "use --output PATH to choose where the zip goes"
        )

      Mix.env() == :test ->
        Mix.raise(
          "mix lambda.package refuses MIX_ENV=test (test builds contain test support " <>
            "code); run it with MIX_ENV=prod"
        )

      Mix.Project.umbrella?() ->
        Mix.raise("mix lambda.package packages one application: run it inside apps/NAME")

      true ->
        :ok
    end

    config = Mix.Project.config()
    app = config[:app]
    Mix.Task.run("compile", [])
    layer = layer_info(opts[:layer])
    build_root = Path.dirname(Mix.Project.build_path())

    Mix.shell().info([:cyan, "==> ", :reset, "Packaging #{app} (MIX_ENV=#{Mix.env()})"])

    if Mix.env() != :prod do
      Mix.shell().info("    (not MIX_ENV=prod: use MIX_ENV=prod mix lambda.package to deploy)")
    end

    result =
      Builder.build(
        app: app,
        build_path: Mix.Project.build_path(),
        env: Mix.env(),
        layer: layer,
        output: Path.expand(opts[:output] || Path.join(build_root, "lambda/#{app}.zip")),
        stage: Path.join(build_root, "lambda/#{app}"),
        config: read_config(config),
        app_config: app_config(config),
        project_root: File.cwd!(),
        allow_external_links: Keyword.get(opts, :allow_external_links, false),
        consolidated:
          if(config[:consolidate_protocols] != false, do: Mix.Project.consolidation_path())
      )

    case result do
      {:ok, _} -> :ok
      {:error, message} -> Mix.raise(message)
    end
  end

  defp app_config(config) do
    case AppConfig.files(config) do
      {nil, nil} ->
        nil

      {config_path, runtime_path} ->
        opts = [
          config_path: config_path,
          runtime_path: runtime_path,
          env: Mix.env(),
          target: Mix.target()
        ]

        case AppConfig.build(opts) do
          {:ok, beam} -> beam
          {:error, message} -> Mix.raise("mix lambda.package: " <> message)
        end
    end
  end

  defp layer_info(nil) do
    Application.load(:lambda_runtime)
    LayerInfo.local(to_string(Application.spec(:lambda_runtime, :vsn) || "none"))
  end

  defp layer_info(path) do
    case LayerInfo.from_zip(path) do
      {:ok, info} -> info
      {:error, message} -> Mix.raise("--layer: " <> message)
    end
  end

  defp read_config(config) do
    path = config[:config_path] || "config/config.exs"

    if File.regular?(path) do
      Config.Reader.read!(path, env: Mix.env(), target: Mix.target())
    else
      []
    end
  end
end
