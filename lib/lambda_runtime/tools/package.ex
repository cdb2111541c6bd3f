defmodule LambdaRuntime.Tools.Package do
  @moduledoc """
  The function zip of the current Mix project as `mix lambda.package`
  writes it: `check_env/0` refuses what cannot be packaged, `build/1`
  gathers the project's inputs (its `config/config.exs`, the compiled
  `config/runtime.exs` through `LambdaRuntime.Tools.Package.AppConfig`,
  what the layer provides) and hands them to
  `LambdaRuntime.Tools.Package.Builder`.
  """

  alias LambdaRuntime.Tools.Package.{AppConfig, Builder, LayerInfo}

  @doc """
  Whether the current Mix environment and project can be packaged: not
  `MIX_ENV=test` (test builds contain test support code), not an umbrella.
  """
  @spec check_env() :: :ok | {:error, String.t()}
  def check_env do
    cond do
      Mix.env() == :test ->
        {:error,
         "MIX_ENV=test is refused (test builds contain test support code); " <>
           "run it with MIX_ENV=prod"}

      Mix.Project.umbrella?() ->
        {:error, "an umbrella has several applications; run it inside apps/NAME"}

      true ->
        :ok
    end
  end

  @doc """
  Packages the current, compiled Mix project. Options: `:output` (the zip;
  default `_build/lambda/APP.zip`), `:layer` (a layer zip to check
  against; default the layer this machine builds), `:allow_external_links`.
  Returns `{:ok, stats}` or `{:error, message}`.
  """
  @spec build(keyword()) :: {:ok, map()} | {:error, String.t()}
  def build(opts) do
    config = Mix.Project.config()
    app = config[:app]
    build_root = Path.dirname(Mix.Project.build_path())

    with {:ok, layer} <- layer_info(opts[:layer]),
         {:ok, app_config} <- app_config(config) do
      Mix.shell().info([:cyan, "==> ", :reset, "Packaging #{app} (MIX_ENV=#{Mix.env()})"])

      if Mix.env() != :prod do
        Mix.shell().info("    (not MIX_ENV=prod: use MIX_ENV=prod mix lambda.package to deploy)")
      end

      Builder.build(
        app: app,
        build_path: Mix.Project.build_path(),
        env: Mix.env(),
        layer: layer,
        output: Path.expand(opts[:output] || Path.join(build_root, "lambda/#{app}.zip")),
        stage: Path.join(build_root, "lambda/#{app}"),
        config: read_config(config),
        app_config: app_config,
        project_root: File.cwd!(),
        allow_external_links: Keyword.get(opts, :allow_external_links, false),
        consolidated:
          if(config[:consolidate_protocols] != false, do: Mix.Project.consolidation_path())
      )
    end
  end

  defp app_config(config) do
    case AppConfig.files(config) do
      {nil, nil} ->
        {:ok, nil}

      {config_path, runtime_path} ->
        AppConfig.build(
          config_path: config_path,
          runtime_path: runtime_path,
          env: Mix.env(),
          target: Mix.target()
        )
    end
  end

  defp layer_info(nil) do
    Application.load(:lambda_runtime)
    {:ok, LayerInfo.local(to_string(Application.spec(:lambda_runtime, :vsn) || "none"))}
  end

  defp layer_info(path) do
    case LayerInfo.from_zip(path) do
      {:ok, info} -> {:ok, info}
      {:error, message} -> {:error, "--layer: " <> message}
    end
  end

  defp read_config(config) do
    path = config[:config_path] || "config/config.exs"

    if File.regular?(path),
      do: Config.Reader.read!(path, env: Mix.env(), target: Mix.target()),
      else: []
  end
end
