defmodule Mix.Tasks.Lambda.Layer.Publish do
  @shortdoc "Publishes the runtime layer zip as a Lambda layer version"
  @moduledoc """
  Publishes the Elixir runtime layer (the zip `mix lambda.layer` builds, or
  the one given with `--zip`) with PublishLayerVersion, for the
  `provided.al2023` runtime and one architecture, and prints the new
  LayerVersionArn.

  The zip's SHA-256 goes into the version's Description; when the latest
  version of the layer (ListLayerVersions) already holds the same zip,
  nothing is published and that version's ARN is printed.

      mix lambda.layer.publish
      mix lambda.layer.publish --zip _build/lambda/layer.zip --region eu-west-1
      mix lambda.layer.publish --layer-name my-elixir --architecture arm64
      mix lambda.layer.publish --dry-run

  ## Options

    * `--zip PATH` - the layer zip; default: run `mix lambda.layer`
    * `--layer-name NAME` - the layer's name (`lambda: [layer_name: ...]`),
      default `elixir-runtime`
    * `--architecture x86_64|arm64` - default `x86_64`
    * `--region REGION` - else `lambda: [region: ...]`, `AWS_REGION`,
      `AWS_DEFAULT_REGION` or the profile's region
    * `--profile NAME` - the AWS profile (else `AWS_PROFILE`, `default`)
    * `--dry-run` - print the requests instead of sending them

  Credentials and endpoints are found as the AWS CLI finds them: see
  `LambdaRuntime.AWS.Credentials` and `LambdaRuntime.AWS.Endpoint`
  (`AWS_ENDPOINT_URL_LAMBDA` points the task at an emulator).
  """
  use Mix.Task

  alias LambdaRuntime.Deploy.{Artifacts, Config, Connection, LayerPublisher}

  @switches [
    zip: :string,
    layer_name: :string,
    architecture: :string,
    region: :string,
    profile: :string,
    dry_run: :boolean
  ]

  @impl true
  def run(args) do
    opts = parse!(args)
    config = load_config!(opts)
    dry_run = Keyword.get(opts, :dry_run, false)

    conn =
      ok!(
        Connection.open(
          region: config.region,
          profile: opts[:profile],
          dry_run: dry_run,
          poll_ms: Application.get_env(:lambda_runtime, :deploy_poll_ms, 1_000),
          backoff_ms: Application.get_env(:lambda_runtime, :aws_backoff_ms)
        )
      )

    {path, zip} =
      case Artifacts.fetch(opts[:zip], "lambda.layer", "--zip") do
        {:ok, path, zip} -> {path, zip}
        {:error, message} -> Mix.raise(message)
      end

    if dry_run,
      do:
        Mix.shell().info(
          "Dry run: nothing is sent. Would publish #{path} to #{Connection.target(conn)}:"
        )

    result = ok!(LayerPublisher.publish(conn, config.layer_name, zip, config.architecture))
    Mix.shell().info("LayerVersionArn: #{result.arn}")
    result
  end

  defp parse!(args) do
    case OptionParser.parse(args, strict: @switches) do
      {opts, [], []} ->
        opts

      {_, [arg | _], []} ->
        Mix.raise(
          "mix lambda.layer.publish takes no arguments, got #{inspect(arg)}; see mix help lambda.layer.publish"
        )

      {_, _, [{switch, _} | _]} ->
        Mix.raise(
          "mix lambda.layer.publish: unknown option or missing value: #{switch}; see mix help lambda.layer.publish"
        )
    end
  end

  defp load_config!(opts) do
    project = Mix.Project.config()

    case Config.load(
           project,
           Keyword.take(opts, [:layer_name, :architecture, :region]),
           project[:app]
         ) do
      {:ok, config} -> config
      {:error, message} -> Mix.raise(message)
    end
  end

  defp ok!({:ok, value}), do: value
  defp ok!({:error, error}), do: Mix.raise(Exception.message(error))
end
