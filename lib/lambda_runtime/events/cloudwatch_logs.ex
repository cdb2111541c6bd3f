defmodule LambdaRuntime.Events.CloudWatchLogs do
  @moduledoc """
  A CloudWatch Logs subscription filter delivery. Lambda gets
  `{"awslogs": {"data": BASE64}}`, the base64 of a gzip of a JSON
  document; this is that document: `message_type` (`"DATA_MESSAGE"`, or
  `"CONTROL_MESSAGE"` when CloudWatch checks the destination: no
  `log_events` to process), `owner` (account), `log_group`,
  `log_stream`, `subscription_filters`, and `log_events`, a list of
  `LambdaRuntime.Events.CloudWatchLogs.LogEvent`. `extra` has the
  document's keys no field names (`"policyLevel"`, ...).
  """
  alias LambdaRuntime.Events.Schema

  defstruct [
    :message_type,
    :owner,
    :log_group,
    :log_stream,
    :subscription_filters,
    log_events: [],
    extra: %{}
  ]

  @type t :: %__MODULE__{log_events: [__MODULE__.LogEvent.t()]}

  @fields [
    {:message_type, "messageType", :string},
    {:owner, "owner", :string},
    {:log_group, "logGroup", :string},
    {:log_stream, "logStream", :string},
    {:subscription_filters, "subscriptionFilters", {:list, :string}},
    {:log_events, "logEvents", {:list, {:struct, __MODULE__.LogEvent}}}
  ]

  # A delivery is at most 6 MB of base64; its JSON at most what
  # CloudWatch batches (1 MB of log events), so anything far past that is
  # refused rather than inflated into memory.
  @max_inflated 64 * 1024 * 1024

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(%{"awslogs" => %{"data" => data}}) do
    with {:ok, gzipped} <- Schema.base64(data, "awslogs.data"),
         {:ok, json} <- gunzip(gzipped),
         {:ok, document} <- json_object(json),
         {:ok, logs} <- Schema.build(__MODULE__, document, @fields, "awslogs.data") do
      {:ok, %{logs | log_events: logs.log_events || []}}
    end
  end

  def decode(%{"awslogs" => awslogs}),
    do: Schema.expected("awslogs", "an object with \"data\"", awslogs)

  def decode(_), do: {:error, "awslogs: missing"}

  defp gunzip(bytes) do
    z = :zlib.open()

    try do
      # windowBits 16 + 15: gzip framing.
      :ok = :zlib.inflateInit(z, 31)
      inflate(z, :zlib.safeInflate(z, bytes), [], 0)
    catch
      :error, _ -> {:error, "awslogs.data: not gzip data"}
    after
      :zlib.close(z)
    end
  end

  defp inflate(_z, _, _acc, size) when size > @max_inflated,
    do: {:error, "awslogs.data: inflates to more than #{div(@max_inflated, 1024 * 1024)} MB"}

  defp inflate(z, {:continue, chunk}, acc, size),
    do: inflate(z, :zlib.safeInflate(z, []), [acc | chunk], size + IO.iodata_length(chunk))

  defp inflate(_z, {:finished, chunk}, acc, _size), do: {:ok, IO.iodata_to_binary([acc | chunk])}

  defp json_object(json) do
    case LambdaRuntime.JSON.decode(json) do
      {:ok, map} when is_map(map) -> {:ok, map}
      {:ok, _} -> {:error, "awslogs.data: the document is not a JSON object"}
      {:error, e} -> {:error, "awslogs.data: not JSON: " <> Exception.message(e)}
    end
  end
end

defmodule LambdaRuntime.Events.CloudWatchLogs.LogEvent do
  @moduledoc """
  One log event: `id`, `timestamp` (epoch milliseconds), `message` (the
  line as logged). `extra` has keys no field names (`"extractedFields"`
  of a filter pattern with fields, ...).
  """
  alias LambdaRuntime.Events.Schema

  defstruct [:id, :timestamp, :message, extra: %{}]
  @type t :: %__MODULE__{}

  @fields [
    {:id, "id", :string},
    {:timestamp, "timestamp", :integer},
    {:message, "message", :string}
  ]

  @doc false
  def from_map(map, path), do: Schema.build(__MODULE__, map, @fields, path)
end
