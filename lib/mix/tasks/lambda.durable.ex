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

  alias LambdaRuntime.Tools.Durable.Local.Session
  alias LambdaRuntime.Tools.Emulator.PrettyJSON
  alias LambdaRuntime.JSON

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
    opts = parse!(args)
    Mix.Task.run("compile")
    ensure_apps()
    project = Mix.Project.config()
    config = project[:lambda] || []

    handler =
      opts[:handler] || config[:handler] ||
        Mix.raise(
          "no handler: pass --handler MyApp.Order or set lambda: [handler: ...] in mix.exs"
        )

    input = decode!(Keyword.get(opts, :data, "{}"), "--data")

    session_opts = [
      handler: handler,
      task_root: Mix.Project.build_path(),
      function_name: opts[:function_name] || config[:function_name] || to_string(project[:app]),
      timeout: opts[:timeout] || config[:timeout] || 30,
      memory_size: opts[:memory_size] || config[:memory_size] || 512,
      region: config[:region] || "us-east-1",
      env:
        Map.to_list(config[:environment] || %{}) ++
          Enum.map(Keyword.get_values(opts, :env), &pair!(&1, "--env")),
      skip_time: Keyword.get(opts, :skip_time, true)
    ]

    session =
      case Session.start(session_opts) do
        {:ok, session} -> session
        {:error, message} -> Mix.raise(message)
      end

    Mix.shell().info([
      :cyan,
      "==> ",
      handler,
      :reset,
      " (durable, #{if session_opts[:skip_time], do: "skipping time", else: "real time"})"
    ])

    result =
      try do
        Session.run(session, input,
          on_event: &print_event/1,
          answer: &answer(&1, opts),
          timeout: Keyword.get(opts, :execution_timeout, 300) * 1000
        )
      after
        Session.stop(session)
      end

    finish(result)
  end

  defp parse!(args) do
    case OptionParser.parse(args, strict: @switches) do
      {opts, [], []} ->
        opts

      {_, extra, []} ->
        Mix.raise("unexpected argument(s) #{inspect(extra)}; see mix help lambda.durable")

      {_, _, invalid} ->
        Mix.raise("invalid option(s) #{inspect(invalid)}; see mix help lambda.durable")
    end
  end

  # Elixir 1.15+ puts only the project's applications on the code path;
  # :httpc's defaults need :public_key (through :ssl) even for plain HTTP.
  defp ensure_apps, do: LambdaRuntime.OTPApps.ensure_available!([:inets, :ssl, :crypto])

  defp print_event(event) do
    details =
      event
      |> Enum.find_value(fn {k, v} -> if String.ends_with?(k, "Details"), do: summary(v) end)

    Mix.shell().info(
      "  #{String.pad_leading(to_string(event["EventId"]), 3)}  #{String.pad_trailing(event["EventType"], 24)}" <>
        "#{event["Name"] || event["SubType"]}#{if details, do: "  " <> details}"
    )
  end

  defp summary(%{"Result" => %{"Payload" => payload}}), do: "-> " <> truncate(payload)

  defp summary(%{"Error" => %{"Payload" => error}}),
    do: "!! #{error["ErrorType"]}: #{error["ErrorMessage"]}"

  defp summary(%{"Duration" => seconds}), do: "#{seconds} s"
  defp summary(%{"CallbackId" => id}), do: "callback id " <> id
  defp summary(_), do: nil

  defp truncate(text) when byte_size(text) > 80, do: binary_part(text, 0, 77) <> "..."
  defp truncate(text), do: text

  defp answer(event, opts) do
    name = event["Name"] |> to_string() |> String.replace_suffix(" create callback id", "")

    successes =
      for {n, v} <- Enum.map(Keyword.get_values(opts, :callback), &pair!(&1, "--callback")),
          into: %{},
          do: {n, v}

    failures =
      for {n, v} <-
            Enum.map(
              Keyword.get_values(opts, :callback_failure),
              &pair!(&1, "--callback-failure")
            ),
          into: %{},
          do: {n, v}

    cond do
      Map.has_key?(successes, name) ->
        {:ok, successes[name]}

      Map.has_key?(failures, name) ->
        [type | message] = String.split(failures[name], ":", parts: 2)
        {:error, %{"ErrorType" => type, "ErrorMessage" => Enum.join(message)}}

      Keyword.get(opts, :input, true) ->
        ask(name, event["CallbackStartedDetails"]["CallbackId"])

      true ->
        nil
    end
  end

  defp ask(name, id) do
    prompt =
      "callback #{inspect(name)} (id #{id}): a JSON result, 'fail TYPE MESSAGE', 'heartbeat', or Enter to leave it open: "

    case IO.gets(prompt) do
      line when is_binary(line) ->
        case String.trim(line) do
          "" -> nil
          "heartbeat" -> :heartbeat
          "fail " <> rest -> fail_answer(rest)
          json -> {:ok, json}
        end

      _eof ->
        nil
    end
  end

  defp fail_answer(rest) do
    [type | message] = String.split(rest, " ", parts: 2)
    {:error, %{"ErrorType" => type, "ErrorMessage" => Enum.join(message)}}
  end

  defp finish({:ok, %{"Status" => "SUCCEEDED"} = execution}) do
    Mix.shell().info([:green, "SUCCEEDED", :reset])
    Mix.shell().info(pretty(execution["Result"]))
  end

  defp finish({:ok, %{"Status" => status} = execution}) do
    Mix.shell().error("#{status}: " <> pretty(JSON.encode!(execution["Error"] || %{})))
    exit({:shutdown, 1})
  end

  defp finish({:error, :timeout}),
    do:
      Mix.raise(
        "the execution did not end within --execution-timeout; it is still waiting (a callback, a long wait?)"
      )

  defp pretty(nil), do: "null"
  defp pretty(json), do: PrettyJSON.format(json)

  defp decode!(text, flag) do
    case JSON.decode(text) do
      {:ok, term} -> term
      {:error, e} -> Mix.raise("#{flag} is not JSON: " <> Exception.message(e))
    end
  end

  defp pair!(text, flag) do
    case String.split(text, "=", parts: 2) do
      [name, value] when name != "" -> {name, value}
      _ -> Mix.raise("#{flag} takes NAME=VALUE, got: #{inspect(text)}")
    end
  end
end
