defmodule LambdaRuntime.Events.SNS do
  @moduledoc """
  SNS notifications: `records` is a list of `LambdaRuntime.Events.SNS.Record`
  (Lambda sends one per invocation).
  """
  use LambdaRuntime.Events.Batch, record: __MODULE__.Record
end

defmodule LambdaRuntime.Events.SNS.Record do
  @moduledoc """
  One SNS notification, the record's `Sns` object flattened into it:
  `message` (the text published), `subject`, `message_id`, `topic_arn`,
  `timestamp` (ISO 8601 text), `message_attributes` (by name,
  `%{"Type" => ..., "Value" => ...}`) and the signature fields. `extra` has
  the record's keys no field names, and `sns_extra` those of `Sns`.
  """
  alias LambdaRuntime.Events.Schema

  defstruct [
    :event_source,
    :event_version,
    :event_subscription_arn,
    :message_id,
    :message,
    :subject,
    :timestamp,
    :topic_arn,
    :type,
    :message_attributes,
    :signature_version,
    :signature,
    :signing_cert_url,
    :unsubscribe_url,
    extra: %{},
    sns_extra: %{}
  ]

  @type t :: %__MODULE__{}

  @record [
    {:event_source, "EventSource", :string},
    {:event_version, "EventVersion", :string},
    {:event_subscription_arn, "EventSubscriptionArn", :string}
  ]

  @sns [
    {:message_id, "MessageId", :string},
    {:message, "Message", :string},
    {:subject, "Subject", :string},
    {:timestamp, "Timestamp", :string},
    {:topic_arn, "TopicArn", :string},
    {:type, "Type", :string},
    {:message_attributes, "MessageAttributes", :map},
    {:signature_version, "SignatureVersion", :string},
    {:signature, "Signature", :string},
    {:signing_cert_url, "SigningCertUrl", :string},
    {:unsubscribe_url, "UnsubscribeUrl", :string}
  ]

  @doc false
  def from_map(map, path),
    do: Schema.flatten(__MODULE__, map, path, @record, {"Sns", @sns, :sns_extra})
end
