defmodule LambdaRuntime.Events.SNS do
  @moduledoc """
  SNS notifications: `records` is a list of `LambdaRuntime.Events.SNS.Record`
  (Lambda sends one per invocation).
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
  def from_map(map, path) do
    with {:ok, record} <- Schema.build(__MODULE__, map, @record, path),
         {:ok, sns} <- Schema.build(__MODULE__, Map.get(map, "Sns", %{}), @sns, path <> ".Sns") do
      {:ok,
       %{
         sns
         | event_source: record.event_source,
           event_version: record.event_version,
           event_subscription_arn: record.event_subscription_arn,
           extra: Map.delete(record.extra, "Sns"),
           sns_extra: sns.extra
       }}
    end
  end
end
