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
    opts = parse!(args)
    project = Mix.Project.config()
    config = ok!(Settings.load(project, opts, project[:app]))
    ok!(Settings.require_handler(config))

    conn =
      ok!(
        Connection.open(
          region: config.region,
          profile: opts[:profile],
          dry_run: Keyword.get(opts, :dry_run, false),
          poll_ms: Application.get_env(:lambda_runtime, :deploy_poll_ms, 1_000),
          backoff_ms: Application.get_env(:lambda_runtime, :aws_backoff_ms)
        )
      )

    result =
      ok!(
        Project.deploy(conn, config,
          profile: opts[:profile],
          zip: opts[:zip],
          layer_zip: opts[:layer_zip],
          publish: Keyword.get(opts, :publish, false),
          alias: opts[:alias]
        )
      )

    info("Function ARN: #{result.function_arn}")

    info(
      "Code size:    " <>
        if(result.code_size, do: "#{result.code_size} bytes", else: "(not built in a dry run)")
    )

    info("Architecture: #{result.architecture}")
    if result.version, do: info("Version:      #{result.version}")
    if result.alias_arn, do: info("Alias ARN:    #{result.alias_arn}")
    info("Layer ARN:    #{result.layer_arn}")
    result
  end

  defp parse!(args) do
    case OptionParser.parse(args, strict: @switches) do
      {opts, [], []} ->
        opts

      {_, [arg | _], []} ->
        Mix.raise(
          "mix lambda.deploy takes no arguments, got #{inspect(arg)}; see mix help lambda.deploy"
        )

      {_, _, [{switch, _} | _]} ->
        Mix.raise(
          "mix lambda.deploy: unknown option or bad/missing value: #{switch}; " <>
            "see mix help lambda.deploy"
        )
    end
  end

  defp info(line), do: Mix.shell().info(line)

  defp ok!(:ok), do: :ok
  defp ok!({:ok, value}), do: value
  defp ok!({:error, message}) when is_binary(message), do: Mix.raise(message)
  defp ok!({:error, error}), do: Mix.raise(Exception.message(error))
end
