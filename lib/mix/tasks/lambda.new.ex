defmodule Mix.Tasks.Lambda.New do
  @shortdoc "Creates a new Elixir Lambda function project"
  @moduledoc """
  Creates a Mix project for an AWS Lambda function on lambda_runtime,
  ready to test, run locally and deploy: a handler, its ExUnit test
  (`LambdaRuntime.Test`), a sample event, the `lambda:` settings of the
  `lambda.*` tasks, `config/config.exs` and `config/runtime.exs`, an AWS
  SAM template and a README with the commands that matter.

      mix lambda.new hello                 # a function that answers JSON
      mix lambda.new ../orders_api --http  # behind an API Gateway HTTP API
      mix lambda.new ../orders_queue --sqs # an SQS consumer, partial batch failures
      mix lambda.new ../shop --module Shop.Function --dep github:lambda-runtime-ex/lambda_runtime

  The last path segment is the application's name (lower case, digits,
  underscores) unless `--app` gives one. Run it from a lambda_runtime
  checkout, or a project that has lambda_runtime as a dependency: the new
  project depends on that copy by path unless `--dep` says otherwise.

  Then:

      cd hello
      mix test
      mix lambda.invoke --event events/event.json

  The work is `LambdaRuntime.Tools.New`'s.

  ## Options

    * `--http` - a function behind an API Gateway HTTP API (typed events,
      `LambdaRuntime.HTTPResponse`; an `HttpApi` event in the template)
    * `--sqs` - an SQS consumer that reports partial batch failures
      (`LambdaRuntime.BatchResponse`; a queue and its event source mapping
      with `ReportBatchItemFailures` in the template)
    * `--app NAME` - the OTP application name (default: the path's last segment)
    * `--module NAME` - the handler module (default: the camel-cased app name)
    * `--dep SPEC` - how `mix.exs` depends on lambda_runtime: `path:DIR`
      (default: `path:` the lambda_runtime this task runs from),
      `github:OWNER/REPO`, or `hex`
    * `--force` - write into a directory that is not empty
  """
  use Mix.Task

  alias LambdaRuntime.Tools.{CLI, New}

  @switches [
    http: :boolean,
    sqs: :boolean,
    app: :string,
    module: :string,
    dep: :string,
    force: :boolean
  ]

  @impl Mix.Task
  def run(args) do
    {opts, [path]} =
      CLI.parse!("lambda.new", args,
        switches: @switches,
        args: 1,
        args_text: "the path of the new project",
        hint: "e.g. mix lambda.new hello"
      )

    new_opts = CLI.ok!("lambda.new", New.options(opts))
    project = CLI.ok!("lambda.new", New.new(path, new_opts))
    files = CLI.ok!("lambda.new", New.write(project, force: opts[:force] == true))

    for file <- files,
        do: Mix.shell().info([:green, "* creating ", :reset, Path.join(path, file)])

    Mix.shell().info(New.next_steps(project, path))
  end
end
