defmodule LambdaRuntime.Tools.Durable.Local.Console do
  @moduledoc """
  A local durable execution on the terminal, as `mix lambda.durable` runs
  it: starts a `LambdaRuntime.Tools.Durable.Local.Session`, prints the
  execution's history as it grows, answers callbacks (from the command
  line's `--callback` and `--callback-failure`, else by asking on standard
  input), and prints the result or the error.
  """

  alias LambdaRuntime.JSON
  alias LambdaRuntime.Tools.Durable.Local.Session
  alias LambdaRuntime.Tools.Emulator.PrettyJSON

  @type answers :: %{
          succeed: %{String.t() => String.t()},
          fail: %{String.t() => String.t()},
          ask: boolean()
        }

  @doc """
  The callback answers given on the command line: `succeed` (`NAME=RESULT`
  pairs), `fail` (`NAME=TYPE:MESSAGE` pairs) and whether to `ask` on
  standard input for the others.
  """
  @spec answers([String.t()], [String.t()], boolean()) :: {:ok, answers()} | {:error, String.t()}
  def answers(succeed, fail, ask) do
    with {:ok, succeed} <- pairs(succeed, "--callback"),
         {:ok, fail} <- pairs(fail, "--callback-failure") do
      {:ok, %{succeed: succeed, fail: fail, ask: ask}}
    end
  end

  defp pairs(texts, flag) do
    Enum.reduce_while(texts, {:ok, %{}}, fn text, {:ok, acc} ->
      case String.split(text, "=", parts: 2) do
        [name, value] when name != "" -> {:cont, {:ok, Map.put(acc, name, value)}}
        _ -> {:halt, {:error, "#{flag} takes NAME=VALUE, got: #{inspect(text)}"}}
      end
    end)
  end

  @doc """
  Runs the execution with `input` (decoded JSON) to its end:
  `session_opts` go to `Session.start/1`; `answers` come from `answers/3`;
  `timeout` is in milliseconds. Returns `:ok` when it succeeded, `:failed`
  when it failed or stopped (both printed), or `{:error, message}`.
  """
  @spec run(keyword(), term(), answers(), timeout()) :: :ok | :failed | {:error, String.t()}
  def run(session_opts, input, answers, timeout) do
    with {:ok, session} <- Session.start(session_opts) do
      time =
        if Keyword.get(session_opts, :skip_time, true), do: "skipping time", else: "real time"

      Mix.shell().info([:cyan, "==> ", session_opts[:handler], :reset, " (durable, #{time})"])

      result =
        try do
          Session.run(session, input,
            on_event: &print_event/1,
            answer: &answer(&1, answers),
            timeout: timeout
          )
        after
          Session.stop(session)
        end

      finish(result)
    end
  end

  @doc "One line of the history for a history event."
  @spec event_line(map()) :: String.t()
  def event_line(event) do
    details =
      Enum.find_value(event, fn {k, v} -> if String.ends_with?(k, "Details"), do: summary(v) end)

    "  #{String.pad_leading(to_string(event["EventId"]), 3)}  " <>
      String.pad_trailing(event["EventType"], 24) <>
      "#{event["Name"] || event["SubType"]}#{if details, do: "  " <> details}"
  end

  defp print_event(event), do: Mix.shell().info(event_line(event))

  defp summary(%{"Result" => %{"Payload" => payload}}), do: "-> " <> truncate(payload)

  defp summary(%{"Error" => %{"Payload" => error}}),
    do: "!! #{error["ErrorType"]}: #{error["ErrorMessage"]}"

  defp summary(%{"Duration" => seconds}), do: "#{seconds} s"
  defp summary(%{"CallbackId" => id}), do: "callback id " <> id
  defp summary(_), do: nil

  defp truncate(text) when byte_size(text) > 80, do: binary_part(text, 0, 77) <> "..."
  defp truncate(text), do: text

  @doc """
  The answer to the callback a `CallbackStarted` event opened:
  `{:ok, result}`, `{:error, error_object}`, `:heartbeat`, or `nil` to
  leave it open.
  """
  @spec answer(map(), answers()) :: {:ok, String.t()} | {:error, map()} | :heartbeat | nil
  def answer(event, answers) do
    name = event["Name"] |> to_string() |> String.replace_suffix(" create callback id", "")

    cond do
      Map.has_key?(answers.succeed, name) ->
        {:ok, answers.succeed[name]}

      Map.has_key?(answers.fail, name) ->
        [type | message] = String.split(answers.fail[name], ":", parts: 2)
        {:error, %{"ErrorType" => type, "ErrorMessage" => Enum.join(message)}}

      answers.ask ->
        ask(name, event["CallbackStartedDetails"]["CallbackId"])

      true ->
        nil
    end
  end

  defp ask(name, id) do
    prompt =
      "callback #{inspect(name)} (id #{id}): a JSON result, 'fail TYPE MESSAGE', " <>
        "'heartbeat', or Enter to leave it open: "

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
    :ok
  end

  defp finish({:ok, %{"Status" => status} = execution}) do
    Mix.shell().error("#{status}: " <> pretty(JSON.encode!(execution["Error"] || %{})))
    :failed
  end

  defp finish({:error, :timeout}) do
    {:error,
     "the execution did not end within --execution-timeout; it is still waiting " <>
       "(a callback, a long wait?)"}
  end

  defp pretty(nil), do: "null"
  defp pretty(json), do: PrettyJSON.format(json)
end
