defmodule LambdaRuntime.Events.Kinesis do
  @moduledoc """
  A batch of Kinesis data stream records: `records` is a list of
  `LambdaRuntime.Events.Kinesis.Record`.
  """
  use LambdaRuntime.Events.Batch, record: __MODULE__.Record
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
  def from_map(map, path),
    do: Schema.flatten(__MODULE__, map, path, @record, {"kinesis", @kinesis, :kinesis_extra})
end
