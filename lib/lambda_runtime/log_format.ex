defmodule LambdaRuntime.LogFormat do
  @moduledoc """
  Log lines the way Lambda's advanced logging controls expect them, for
  Elixir's console `Logger` backend (configured by `LambdaRuntime.Runtime`).

    * `AWS_LAMBDA_LOG_FORMAT=JSON`: every line is one JSON object with
      `timestamp` (RFC 3339, UTC, milliseconds), `level` (`TRACE`, `DEBUG`,
      `INFO`, `WARN`, `ERROR`, `FATAL`), `message`, `requestId` and
      `tenantId` when known, the rest of the Logger metadata, and for errors
      `errorType`, `errorMessage` and `stackTrace`. Newlines in a message
      stay inside the JSON string, so one event is one line.
    * otherwise (text): `TIMESTAMP<TAB>REQUEST_ID<TAB>LEVEL<TAB>message`, as the
      managed runtimes print it (`undefined` when outside an invocation);
      newlines inside a message are written as carriage returns, so one
      event is one line here too.
    * `AWS_LAMBDA_LOG_LEVEL` sets the minimum level (`TRACE` and `DEBUG` map to
      `:debug`, `WARN` to `:warning`, `FATAL` to `:critical`).

  The error fields come from the `:error_type`, `:error_message` and
  `:stack_trace` metadata (the runtime sets them when an invocation fails)
  or from a `:crash_reason`.
  """

  # Metadata that is Logger's own bookkeeping, or shown under another name.
  @hidden [
    :pid,
    :gl,
    :time,
    :domain,
    :erl_level,
    :mfa,
    :file,
    :line,
    :function,
    :module,
    :application,
    :ancestors,
    :callers,
    :crash_reason,
    :report_cb,
    :error_logger,
    :logger_formatter,
    :request_id,
    :tenant_id,
    :error_type,
    :error_message,
    :stack_trace
  ]

  @doc "The console backend options for a log format (`\"JSON\"` or anything else for text)."
  @spec console_options(String.t() | nil) :: keyword()
  def console_options(format) do
    formatter = if json?(format), do: :json, else: :text
    [format: {__MODULE__, formatter}, metadata: :all]
  end

  @doc "Whether `AWS_LAMBDA_LOG_FORMAT` asks for JSON."
  @spec json?(String.t() | nil) :: boolean()
  def json?(format), do: is_binary(format) and normalize(format) == "JSON"

  @doc "The Logger level for an `AWS_LAMBDA_LOG_LEVEL` value, or `nil` if unset or unknown."
  @spec level(String.t() | nil) :: Logger.level() | nil
  def level(nil), do: nil

  def level(value) do
    case normalize(value) do
      "TRACE" -> :debug
      "DEBUG" -> :debug
      "INFO" -> :info
      "WARN" -> :warning
      "ERROR" -> :error
      "FATAL" -> :critical
      _ -> nil
    end
  end

  # Read before the first /next: Erlang's :string is loaded by then (by the
  # elixir application's start), Elixir's String and its Unicode tables not.
  defp normalize(value), do: value |> LambdaRuntime.Config.trim() |> :string.uppercase()

  @doc false
  def json(level, message, timestamp, metadata) do
    fields =
      %{
        "timestamp" => rfc3339(timestamp),
        "level" => lambda_level(level),
        "message" => text(message)
      }
      |> put("requestId", metadata[:request_id])
      |> put("tenantId", metadata[:tenant_id])
      |> Map.merge(error_fields(metadata))
      |> Map.merge(extra(metadata))

    [encode(fields), ?\n]
  rescue
    _ -> ["{\"level\":\"ERROR\",\"message\":", inspect(inspect(message)), "}\n"]
  end

  @doc false
  def text(level, message, timestamp, metadata) do
    request_id = metadata[:request_id] || "undefined"
    # CloudWatch makes each line its own event: newlines inside a message
    # become carriage returns (as Lambda's own runtimes write them), so a
    # multi-line message stays one event, with its request id.
    message = message |> to_binary!() |> :binary.replace("\n", "\r", [:global])
    [rfc3339(timestamp), ?\t, to_string(request_id), ?\t, lambda_level(level), ?\t, message, ?\n]
  rescue
    _ -> [inspect(message), ?\n]
  end

  # IO.chardata_to_string/1 without loading IO for the first log line.
  defp to_binary!(message) when is_binary(message), do: message

  defp to_binary!(message) do
    case :unicode.characters_to_binary(message) do
      binary when is_binary(binary) -> binary
      _ -> raise ArgumentError, "not chardata"
    end
  end

  defp error_fields(metadata) do
    cond do
      metadata[:error_type] ->
        %{
          "errorType" => text(metadata[:error_type]),
          "errorMessage" => text(metadata[:error_message] || ""),
          "stackTrace" => Enum.map(metadata[:stack_trace] || [], &text/1)
        }

      match?({_, [_ | _]}, metadata[:crash_reason]) ->
        # An exception, or an Erlang error reason (:badarg, {:badmatch, _})
        # shown as the exception Elixir would raise for it.
        {reason, stacktrace} = metadata[:crash_reason]
        exception = Exception.normalize(:error, reason, stacktrace)

        %{
          "errorType" => inspect(exception.__struct__),
          "errorMessage" => Exception.message(exception),
          "stackTrace" => Enum.map(stacktrace, &Exception.format_stacktrace_entry/1)
        }

      true ->
        %{}
    end
  end

  defp extra(metadata) do
    for {key, value} <- metadata, key not in @hidden, into: %{} do
      {to_string(key), jsonable(value)}
    end
  end

  defp jsonable(value) do
    case LambdaRuntime.JSON.encode(value) do
      {:ok, _} -> value
      {:error, _} -> inspect(value)
    end
  end

  defp encode(fields) do
    case LambdaRuntime.JSON.encode(fields) do
      {:ok, json} ->
        json

      {:error, _} ->
        fields |> Map.new(fn {k, v} -> {k, inspect(v)} end) |> LambdaRuntime.JSON.encode!()
    end
  end

  defp put(map, _key, nil), do: map
  defp put(map, key, value), do: Map.put(map, key, text(value))

  defp text(value) when is_binary(value) do
    if String.valid?(value), do: value, else: inspect(value)
  end

  defp text(value) when is_list(value) do
    value |> IO.chardata_to_string() |> text()
  rescue
    _ -> inspect(value)
  end

  defp text(value), do: to_string(value)

  defp lambda_level(:debug), do: "DEBUG"
  defp lambda_level(:info), do: "INFO"
  defp lambda_level(:notice), do: "INFO"
  defp lambda_level(:warning), do: "WARN"
  defp lambda_level(:warn), do: "WARN"
  defp lambda_level(:error), do: "ERROR"
  defp lambda_level(_), do: "FATAL"

  # Logger's timestamps are UTC here (Bootstrap sets :utc_log). Built by
  # hand: :io_lib.format would load its formatter at the first log line.
  defp rfc3339({{y, mo, d}, {h, mi, s, ms}}) do
    <<pad(y, 4)::binary, ?-, pad(mo, 2)::binary, ?-, pad(d, 2)::binary, ?T, pad(h, 2)::binary, ?:,
      pad(mi, 2)::binary, ?:, pad(s, 2)::binary, ?., pad(ms, 3)::binary, ?Z>>
  end

  defp pad(n, width) do
    digits = Integer.to_string(n)
    :binary.copy("0", max(width - byte_size(digits), 0)) <> digits
  end
end
