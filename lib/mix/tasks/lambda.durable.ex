defmodule Mix.Tasks.Lambda.Durable do
  @shortdoc "Runs a durable function locally to the end, against AWS's dex-local-runner"
  @moduledoc """
  Runs the project's durable handler (`use LambdaRuntime.Durable`) through a
  whole execution on this machine: AWS's `dex-local-runner` plays the
  durable-execution service (checkpoints, waits, callbacks, retries) and
  invokes the function again and again, each time through the real runtime
  (`bootstrap.sh` against `LambdaRuntime.Tools.Emulator`, as `mix lambda.invoke`
  runs it), until the execution succeeds or fails. The execution's history
  is printed as it grows, then the result or the error.

      mix lambda.durable --data '{"order_id": 7}'
      mix lambda.durable --data '{}' --callback approval='{"by":"ada"}'
      mix lambda.durable --callback-failure approval=Rejected:no --handler MyApp.Order
      mix lambda.durable --no-skip-time --execution-timeout 120

  Waits and retry delays are skipped by default (`--skip-time`); the history
  still records their durations. A callback without an answer on the
  command line is asked for on standard input (a JSON result, `fail TYPE
  MESSAGE`, `heartbeat`, or an empty line to leave it open, e.g. to let it
  time out); `--no-input` never asks.

  `dex-local-runner` comes from PyPI (`aws-durable-execution-sdk-python-testing`):
  `scripts/install-durable-tools.sh` in lambda_runtime's checkout installs it
  into `.venv-durable/`; `DEX_LOCAL_RUNNER` may name another one.

  Settings come from the `lambda:` key of `project/0` in `mix.exs`,
  validated as for every `lambda.*` task (`LambdaRuntime.Tools.Settings`:
  `handler`, `function_name`, `timeout`, `memory_size`, `environment`,
  `region`); the options override them. The work is
  `LambdaRuntime.Tools.Durable.Local.Console`'s.

  ## Options

    * `--data JSON` - the execution's input (default `{}`)
    * `--handler HANDLER` - `_HANDLER` (default: the `lambda:` `handler`)
    * `--function-name NAME`, `--timeout SECONDS` (each invocation's),
      `--memory-size MB`, `--env NAME=VALUE` (repeatable) - as `mix lambda.invoke`
    * `--callback NAME=RESULT` - answer the callback named NAME (for
      `wait_for_callback`, its name) with RESULT (sent as it is; repeatable)
    * `--callback-failure NAME=TYPE:MESSAGE` - answer it with a failure
    * `--skip-time` / `--no-skip-time` - skip waits (default) or wait for real
    * `--execution-timeout SECONDS` - give up after this long (default 300)
    * `--no-input` - never ask for callback answers
  """
  use Mix.Task

  alias LambdaRuntime.JSON
  alias LambdaRuntime.Tools.CLI
  alias LambdaRuntime.Tools.Durable.Local.Console

  @switches [
    data: :string,
    handler: :string,
    function_name: :string,
    timeout: :float,
    memory_size: :integer,
    env: :keep,
    callback: :keep,
    callback_failure: :keep,
    skip_time: :boolean,
    execution_timeout: :integer,
    input: :boolean
  ]

  @impl Mix.Task
  def run(args) do
    {opts, []} =
      CLI.parse!("lambda.durable", args,
        switches: @switches,
        hint: "give the input with --data JSON"
      )

    settings =
      CLI.settings!(
        "lambda.durable",
        Keyword.take(opts, [:handler, :function_name, :memory_size, :env])
      )

    handler =
      settings.handler ||
        Mix.raise(
          "mix lambda.durable needs a handler: pass --handler MyApp.Order, " <>
            "or set lambda: [handler: ...] in the project of mix.exs"
        )

    input = decode!(Keyword.get(opts, :data, "{}"))

    answers =
      CLI.ok!(
        "lambda.durable",
        Console.answers(
          Keyword.get_values(opts, :callback),
          Keyword.get_values(opts, :callback_failure),
          Keyword.get(opts, :input, true)
        )
      )

    Mix.Task.run("compile")
    # Elixir 1.15+ puts only the project's applications on the code path;
    # :httpc's defaults need :public_key (through :ssl) even for plain HTTP.
    LambdaRuntime.OTPApps.ensure_available!([:inets, :ssl, :crypto])

    session_opts = [
      handler: handler,
      task_root: Mix.Project.build_path(),
      function_name: settings.function_name,
      timeout: opts[:timeout] || settings.timeout,
      memory_size: settings.memory_size,
      region: settings.region || "us-east-1",
      env: Enum.sort(settings.environment),
      skip_time: Keyword.get(opts, :skip_time, true)
    ]

    timeout = Keyword.get(opts, :execution_timeout, 300) * 1000

    case Console.run(session_opts, input, answers, timeout) do
      :ok -> :ok
      :failed -> exit({:shutdown, 1})
      {:error, message} -> Mix.raise("mix lambda.durable: " <> message)
    end
  end

  defp decode!(text) do
    case JSON.decode(text) do
      {:ok, term} -> term
      {:error, e} -> Mix.raise("mix lambda.durable: --data is not JSON: " <> Exception.message(e))
    end
  end
end
