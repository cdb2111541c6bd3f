defmodule Mix.Tasks.Lambda.Deploy do
  @shortdoc "Deploys the project to AWS Lambda (creates or updates the function)"
  @moduledoc """
  Deploys the project as an AWS Lambda function on `provided.al2023`.

  It makes sure the runtime layer is published (`mix lambda.layer.publish`'s
  logic on the zip `mix lambda.layer` builds or `--layer-zip` names; skipped
  when `--layer-arn` is given), builds the function package (`mix
  lambda.package --layer LAYER_ZIP`, or takes `--zip`), then creates the function
  (CreateFunction) or, when GetFunction finds it, updates its code and
  configuration (UpdateFunctionCode, UpdateFunctionConfiguration), waiting
  after each change until `LastUpdateStatus` is `Successful`. With
  `--publish` it publishes a version, and with `--alias NAME` it points an
  alias at that version (creating the alias if needed; `--alias` implies
  `--publish`). It ends by printing the function ARN, the code size, the
  architecture and the runtime layer ARN.

  Settings come from the `lambda:` key of `project/0` in `mix.exs` (see
  `LambdaRuntime.Tools.Settings`); flags override them.

      mix lambda.deploy
      mix lambda.deploy --architecture arm64
      mix lambda.deploy --zip _build/lambda/function.zip --layer-arn arn:aws:lambda:eu-west-1:123456789012:layer:elixir-runtime:3
      mix lambda.deploy --memory-size 1024 --env LOG_LEVEL=debug --publish --alias live
      mix lambda.deploy --dry-run

  ## Checks before anything is uploaded

  The region is resolved first; then GetFunction is the first request, so
  credentials that do not work (`InvalidClientTokenId`, a bad signature)
  and a function that does not exist yet with no role to create it with
  stop the deploy before anything is built or uploaded. Once the function
  zip is there, the handler is checked against it: its module must be in
  the package and export the function (arity 2 or 1), or `handle_event/3`
  for a `Module` handler (`LambdaRuntime.Tools.Deploy.Preflight`).

  ## The runtime layer's manifest

  Before anything is built or uploaded, the runtime layer zip's manifest
  (`lambda_runtime-layer.json`, see `LambdaRuntime.Tools.Layer.Manifest`) is read.
  The deploy stops, saying why and how to fix it, when the zip has none
  (built by an older lambda_runtime, or not a lambda_runtime layer), when
  it was built for another target than `provided.al2023` or forced past
  its limits, or when its architecture differs from the one you asked for
  (`--architecture` or `lambda: [architecture: ...]`). Without one, the
  function gets the layer's architecture; the function's `Architectures`
  and the layer version's `CompatibleArchitectures` are both set from it.
  When `mix lambda.layer` builds the layer here, it is asked for the
  architecture you gave (`--arch`). With `--layer-arn` no zip is read and
  the architecture is the one you gave, else `x86_64`.

  ## Dry run

  `--dry-run` prints every request and sends nothing; it also builds
  nothing. The zips named with `--zip` and `--layer-zip` are read (and the
  layer's manifest is checked as in a deploy). A zip that a deploy would
  build appears as `ZipFile=<not built in a dry run>`, and a note names the
  command that would build it (`mix lambda.layer --arch ARCH`,
  `mix lambda.package`); the architecture shown is then the one you gave,
  else `x86_64`. Every request is shown with its settings, `Role`
  included, and a `warning: a deploy would stop here: ...` line names each
  check the real run would fail: no role (if the function does not exist),
  credentials that do not resolve (a `credential_process` is not run), a
  handler missing from the named zip or, when the zip is not built, from
  the project's compiled beams.

  The work is `LambdaRuntime.Tools.Deploy.Project.deploy/3`'s.

  ## Options

    * `--function-name NAME`, `--handler MOD.FUN`, `--role ARN`,
      `--memory-size MB`, `--timeout SECONDS`, `--architecture x86_64|arm64`,
      `--description TEXT`, `--region REGION`, `--layer-name NAME` -
      override the `lambda:` keys of the same name
    * `--env NAME=VALUE` - set an environment variable (repeatable; adds to
      the `environment:` map)
    * `--layer ARN` - an extra layer version (repeatable; replaces `layers:`)
    * `--zip PATH` - the function zip; default: run `mix lambda.package`
    * `--layer-arn ARN` - use this runtime layer version, publish nothing
    * `--layer-zip PATH` - the runtime layer zip to publish (built by
      `mix lambda.layer`); default: run `mix lambda.layer`
    * `--publish` - publish a version after the deploy
    * `--alias NAME` - create or move alias NAME to the published version
    * `--profile NAME` - the AWS profile (else `AWS_PROFILE`, `default`)
    * `--dry-run` - print every request (method, path, body summary), send
      nothing, build nothing; credentials are not read

  Credentials and endpoints are found as the AWS CLI finds them: see
  `LambdaRuntime.AWS.Credentials` and `LambdaRuntime.AWS.Endpoint`
  (`AWS_ENDPOINT_URL_LAMBDA` points the task at an emulator).
  """
  use Mix.Task

  alias LambdaRuntime.Tools.CLI
  alias LambdaRuntime.Tools.Deploy.{Connection, Project}
  alias LambdaRuntime.Tools.Settings

  @switches [
    function_name: :string,
    handler: :string,
    role: :string,
    memory_size: :integer,
    timeout: :integer,
    architecture: :string,
    env: :keep,
    layer: :keep,
    description: :string,
    region: :string,
    layer_name: :string,
    layer_arn: :string,
    zip: :string,
    layer_zip: :string,
    publish: :boolean,
    alias: :string,
    profile: :string,
    dry_run: :boolean
  ]

  @impl true
  def run(args) do
    {opts, []} = CLI.parse!("lambda.deploy", args, switches: @switches)
    settings = CLI.settings!("lambda.deploy", opts)
    CLI.ok!("lambda.deploy", Settings.require_handler(settings))

    conn =
      CLI.ok!(
        "lambda.deploy",
        Connection.open(
          region: settings.region,
          profile: opts[:profile],
          dry_run: Keyword.get(opts, :dry_run, false)
        )
      )

    result =
      CLI.ok!(
        "lambda.deploy",
        Project.deploy(conn, settings,
          profile: opts[:profile],
          zip: opts[:zip],
          layer_zip: opts[:layer_zip],
          publish: Keyword.get(opts, :publish, false),
          alias: opts[:alias]
        )
      )

    Enum.each(Project.summary(result), &Mix.shell().info/1)
    result
  end
end
