defmodule LambdaRuntime.Events.Kinesis do
  @moduledoc """
  A batch of Kinesis data stream records: `records` is a list of
  `LambdaRuntime.Events.Kinesis.Record`.
  """
  alias LambdaRuntime.Events.Schema

  defstruct records: [], extra: %{}
  @type t :: %__MODULE__{records: [__MODULE__.Record.t()], extra: map()}

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event) do
    with {:ok, records} <- Schema.records(event, &__MODULE__.Record.from_map/2),
         do: {:ok, %__MODULE__{records: records, extra: Map.delete(event, "Records")}}
  end
end

defmodule LambdaRuntime.Events.Kinesis.Record do
  @moduledoc """
  One Kinesis record, its `kinesis` object flattened: `data` is the
  record's bytes (base64-decoded; decode JSON yourself), `partition_key`,
  `sequence_number`, `approximate_arrival_timestamp` (epoch seconds, a
  float) and `kinesis_schema_version`; then the record's `event_id`
  (`shardId-...:SEQUENCE`, the item identifier of a partial batch
  failure), `event_name`, `event_source_arn`, `aws_region`,
  `invoke_identity_arn`. `extra` has the record's keys no field names and
  `kinesis_extra` those of `kinesis`.
  """
  alias LambdaRuntime.Events.Schema

  defstruct [
    :data,
    :partition_key,
    :sequence_number,
    :approximate_arrival_timestamp,
    :kinesis_schema_version,
    :event_id,
    :event_name,
    :event_source,
    :event_version,
    :event_source_arn,
    :aws_region,
    :invoke_identity_arn,
    extra: %{},
    kinesis_extra: %{}
  ]

  @type t :: %__MODULE__{}

  @record [
    {:event_id, "eventID", :string},
    {:event_name, "eventName", :string},
    {:event_source, "eventSource", :string},
    {:event_version, "eventVersion", :string},
    {:event_source_arn, "eventSourceARN", :string},
    {:aws_region, "awsRegion", :string},
    {:invoke_identity_arn, "invokeIdentityArn", :string}
  ]

  @kinesis [
    {:data, "data", {:with, &Schema.base64/2}},
    {:partition_key, "partitionKey", :string},
    {:sequence_number, "sequenceNumber", :string},
    {:approximate_arrival_timestamp, "approximateArrivalTimestamp", :number},
    {:kinesis_schema_version, "kinesisSchemaVersion", :string}
  ]

  @doc false
  def from_map(map, path) do
    with {:ok, record} <- Schema.build(__MODULE__, map, @record, path),
         {:ok, k} <-
           Schema.build(__MODULE__, Map.get(map, "kinesis", %{}), @kinesis, path <> ".kinesis") do
      {:ok,
       %{
         record
         | data: k.data,
           partition_key: k.partition_key,
           sequence_number: k.sequence_number,
           approximate_arrival_timestamp: k.approximate_arrival_timestamp,
           kinesis_schema_version: k.kinesis_schema_version,
           extra: Map.delete(record.extra, "kinesis"),
           kinesis_extra: k.extra
       }}
    end
  end
end
