defmodule Mix.Tasks.Lambda.Layer.Publish do
  @shortdoc "Publishes the runtime layer zip as a Lambda layer version"
  @moduledoc """
  Publishes the Elixir runtime layer (the zip `mix lambda.layer` builds, or
  the one given with `--zip`) with PublishLayerVersion, for the
  `provided.al2023` runtime and one architecture, and prints the new
  LayerVersionArn.

  The zip's manifest (`lambda_runtime-layer.json`, see
  `LambdaRuntime.Tools.Layer.Manifest`) is read first and sets the version's
  `CompatibleArchitectures`. Nothing is published, and the task says why
  and how to fix it, when the zip has no manifest (built by an older
  lambda_runtime, or not a lambda_runtime layer), was built for another
  target or forced past `provided.al2023`'s limits, or when `--architecture`
  (or `lambda: [architecture: ...]`) names another architecture than the
  layer's.

  The zip's SHA-256 goes into the version's Description; when the latest
  version of the layer (ListLayerVersions) already holds the same zip,
  nothing is published and that version's ARN is printed.

      mix lambda.layer.publish
      mix lambda.layer.publish --zip _build/lambda/layer.zip --region eu-west-1
      mix lambda.layer.publish --layer-name my-elixir --architecture arm64
      mix lambda.layer.publish --dry-run

  `--dry-run` builds nothing: with `--zip` it reads (and checks) that zip;
  without, the request shows `ZipFile=<not built in a dry run>` and a note
  names the command that would build it.

  The work is `LambdaRuntime.Tools.Deploy.Project.publish_layer/3`'s.

  ## Options

    * `--zip PATH` - the layer zip; default: run `mix lambda.layer` (with
      `--arch` when an architecture is given)
    * `--layer-name NAME` - the layer's name (`lambda: [layer_name: ...]`),
      default `elixir-runtime`
    * `--architecture x86_64|arm64` - the architecture the layer must be
      built for; default: the one its manifest names
    * `--region REGION` - else `lambda: [region: ...]`, `AWS_REGION`,
      `AWS_DEFAULT_REGION` or the profile's region
    * `--profile NAME` - the AWS profile (else `AWS_PROFILE`, `default`)
    * `--dry-run` - print the requests instead of sending them

  Credentials and endpoints are found as the AWS CLI finds them: see
  `LambdaRuntime.AWS.Credentials` and `LambdaRuntime.AWS.Endpoint`
  (`AWS_ENDPOINT_URL_LAMBDA` points the task at an emulator).
  """
  use Mix.Task

  alias LambdaRuntime.Tools.CLI
  alias LambdaRuntime.Tools.Deploy.{Connection, Project}

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
    {opts, []} = CLI.parse!("lambda.layer.publish", args, switches: @switches)

    settings =
      CLI.settings!(
        "lambda.layer.publish",
        Keyword.take(opts, [:layer_name, :architecture, :region])
      )

    dry_run = Keyword.get(opts, :dry_run, false)

    conn =
      CLI.ok!(
        "lambda.layer.publish",
        Connection.open(region: settings.region, profile: opts[:profile], dry_run: dry_run)
      )

    result =
      CLI.ok!("lambda.layer.publish", Project.publish_layer(conn, settings, zip: opts[:zip]))

    Mix.shell().info("LayerVersionArn: #{result.arn} (#{result.architecture})")
    result
  end
end
