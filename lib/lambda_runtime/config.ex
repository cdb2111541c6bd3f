defmodule LambdaRuntime.Config do
  @moduledoc """
  The runtime's environment: the one module of the runtime that reads
  environment variables.

  `from_env/1`, once at start, reads what Lambda gives a runtime:
  `AWS_LAMBDA_RUNTIME_API`, `_HANDLER`, `AWS_LAMBDA_FUNCTION_NAME`,
  `AWS_LAMBDA_FUNCTION_VERSION`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`,
  `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`,
  `AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL`, on Lambda Managed
  Instances `AWS_LAMBDA_MAX_CONCURRENCY`, and the runtime's own settings:
  `LAMBDA_RUNTIME_REGISTER_EXTENSION` (`true` registers
  `LambdaRuntime.Extension`), `LAMBDA_RUNTIME_API_TIMEOUT_MS` (how long a
  Runtime API call other than `/next` may wait; default #{10_000}),
  `LAMBDA_RUNTIME_SHUTDOWN_MS` (the SIGTERM budget, `LambdaRuntime.Shutdown`;
  default by extension) and `LAMBDA_METRICS_COLD_START` (`true` or `1`: a
  `ColdStart` metric with the first invocation, `LambdaRuntime.Metrics`).

  `os_env/0` is the whole environment as a map, for what runs the
  function's own configuration (`LambdaRuntime.Bootstrap`,
  `LambdaRuntime.AppConfig`) and for AWS credentials and endpoints
  (`LambdaRuntime.AWS.Credentials`, `LambdaRuntime.AWS.Endpoint`); `env/1`
  one variable, for settings read when first used rather than at start
  (the metrics' namespace and dimensions, `LambdaRuntime.Metrics.Config`).

  It runs before the first `/next`, so it parses with Erlang's `:string`
  (loaded by the `elixir` application's own start) rather than Elixir's
  `String` and `Integer`, which would be loaded for this alone.
  """

  defstruct [
    :runtime_api,
    :handler,
    :function_name,
    :function_version,
    :memory_limit_in_mb,
    :log_group_name,
    :log_stream_name,
    :log_format,
    :log_level,
    :max_concurrency,
    :shutdown_ms,
    register_extension: false,
    api_timeout_ms: 10_000,
    metrics_cold_start: false
  ]

  @type t :: %__MODULE__{
          runtime_api: String.t() | nil,
          handler: String.t() | nil,
          function_name: String.t() | nil,
          function_version: String.t() | nil,
          memory_limit_in_mb: pos_integer() | nil,
          log_group_name: String.t() | nil,
          log_stream_name: String.t() | nil,
          log_format: String.t() | nil,
          log_level: String.t() | nil,
          max_concurrency: pos_integer() | nil,
          shutdown_ms: non_neg_integer() | nil,
          register_extension: boolean(),
          api_timeout_ms: pos_integer(),
          metrics_cold_start: boolean()
        }

  @doc "How long a Runtime API call other than `/next` waits by default, in ms."
  @spec default_api_timeout_ms() :: pos_integer()
  def default_api_timeout_ms, do: 10_000

  @doc "Reads the configuration from an environment map (default: the OS environment)."
  @spec from_env(%{optional(String.t()) => String.t()}) :: t()
  def from_env(env \\ os_env()) do
    %__MODULE__{
      runtime_api: blank_to_nil(env["AWS_LAMBDA_RUNTIME_API"]),
      handler: blank_to_nil(env["_HANDLER"]),
      function_name: env["AWS_LAMBDA_FUNCTION_NAME"],
      function_version: env["AWS_LAMBDA_FUNCTION_VERSION"],
      memory_limit_in_mb: parse_int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], 1),
      log_group_name: env["AWS_LAMBDA_LOG_GROUP_NAME"],
      log_stream_name: env["AWS_LAMBDA_LOG_STREAM_NAME"],
      log_format: blank_to_nil(env["AWS_LAMBDA_LOG_FORMAT"]),
      log_level: blank_to_nil(env["AWS_LAMBDA_LOG_LEVEL"]),
      max_concurrency: concurrency(env["AWS_LAMBDA_MAX_CONCURRENCY"]),
      register_extension: true?(env["LAMBDA_RUNTIME_REGISTER_EXTENSION"]),
      api_timeout_ms:
        parse_int(env["LAMBDA_RUNTIME_API_TIMEOUT_MS"], 1) || default_api_timeout_ms(),
      shutdown_ms: parse_int(env["LAMBDA_RUNTIME_SHUTDOWN_MS"], 0),
      metrics_cold_start: flag?(env["LAMBDA_METRICS_COLD_START"])
    }
  end

  @doc """
  One variable of the environment, or `nil` when it is unset or blank
  (white space only). For a setting read when it is first needed.
  """
  @spec env(String.t()) :: String.t() | nil
  def env(name) when is_binary(name) do
    case :os.getenv(:unicode.characters_to_list(name)) do
      false ->
        nil

      value ->
        value = :unicode.characters_to_binary(value)
        if trim(value) == "", do: nil, else: value
    end
  end

  @doc """
  The OS environment as a map, like `System.get_env/0` but without the
  Elixir modules that one loads (`IO`, `List`) before the first `/next`.
  """
  @spec os_env() :: %{optional(String.t()) => String.t()}
  def os_env do
    for entry <- :os.getenv(), [name, value] <- [:string.split(entry, ~c"=")], into: %{} do
      {:unicode.characters_to_binary(name), :unicode.characters_to_binary(value)}
    end
  end

  defp blank_to_nil(nil), do: nil

  defp blank_to_nil(value) do
    case trim(value) do
      "" -> nil
      trimmed -> trimmed
    end
  end

  # An integer of at least `min`, white space around it allowed; else nil.
  defp parse_int(nil, _min), do: nil

  defp parse_int(text, min) do
    case :string.to_integer(trim(text)) do
      {n, ""} when n >= min -> n
      _ -> nil
    end
  end

  # Read exactly as bootstrap.sh reads it, which sized the VM's dirty IO
  # threads for this many pollers: plain digits only (else one poller),
  # at most 1000.
  @max_concurrency 1000
  defp concurrency(nil), do: nil

  defp concurrency(text) do
    case digits?(text) and :erlang.binary_to_integer(text) do
      false -> nil
      0 -> nil
      n -> min(n, @max_concurrency)
    end
  end

  defp digits?(<<c, rest::binary>>) when c in ?0..?9, do: rest == "" or digits?(rest)
  defp digits?(_), do: false

  defp true?(nil), do: false
  defp true?(value), do: :string.lowercase(trim(value)) == "true"

  defp flag?(nil), do: false
  defp flag?(value), do: :string.lowercase(trim(value)) in ["true", "1"]

  # What Elixir's String.trim/1 trims (Unicode White_Space), plus the
  # direction marks :string.trim/1 trims by default; "\r\n" is one grapheme.
  @whitespace [?\t, ?\n, ?\v, ?\f, ?\r, ?\s, [?\r, ?\n], 0x85, 0xA0, 0x1680] ++
                Enum.to_list(0x2000..0x200A) ++
                [0x200E, 0x200F, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]

  @doc false
  # Trims a value from the environment (a binary; so is the result).
  @spec trim(String.t()) :: String.t()
  def trim(value), do: :string.trim(value, :both, @whitespace)
end
