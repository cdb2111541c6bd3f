defmodule LambdaRuntime.Events.SQS do
  @moduledoc """
  A batch of SQS messages: `records` is a list of
  `LambdaRuntime.Events.SQS.Message`. With `ReportBatchItemFailures`, hand
  the raw event to `LambdaRuntime.BatchResponse.process/2`, or report
  `message_id`s yourself.
  """
  use LambdaRuntime.Events.Batch, record: __MODULE__.Message
end

defmodule LambdaRuntime.Events.SQS.Message do
  @moduledoc """
  One SQS message. `body` is the message body as sent (text: decode JSON
  yourself); `attributes` the system attributes (`"ApproximateReceiveCount"`,
  `"SentTimestamp"`, `"MessageGroupId"` for FIFO queues, ... all strings);
  `message_attributes` the sender's, by name, as
  `%{"dataType" => ..., "stringValue" => ...}` (a `"binaryValue"` stays
  base64, as SQS sends it). `extra` has the keys no field names.
  """
  alias LambdaRuntime.Events.Schema

  defstruct [
    :message_id,
    :receipt_handle,
    :body,
    :attributes,
    :message_attributes,
    :md5_of_body,
    :md5_of_message_attributes,
    :event_source,
    :event_source_arn,
    :aws_region,
    extra: %{}
  ]

  @type t :: %__MODULE__{}

  @fields [
    {:message_id, "messageId", :string},
    {:receipt_handle, "receiptHandle", :string},
    {:body, "body", :string},
    {:attributes, "attributes", :map},
    {:message_attributes, "messageAttributes", :map},
    {:md5_of_body, "md5OfBody", :string},
    {:md5_of_message_attributes, "md5OfMessageAttributes", :string},
    {:event_source, "eventSource", :string},
    {:event_source_arn, "eventSourceARN", :string},
    {:aws_region, "awsRegion", :string}
  ]

  @doc false
  def from_map(map, path), do: Schema.build(__MODULE__, map, @fields, path)
end
