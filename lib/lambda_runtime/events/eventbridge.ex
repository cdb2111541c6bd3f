defmodule LambdaRuntime.Events.EventBridge do
  @moduledoc """
  An EventBridge (CloudWatch Events) event delivered by a rule: `source`
  (`"com.example.orders"`, `"aws.s3"`, ...), `detail_type`, `detail` (the
  event's own object, as it came), `id`, `time` (ISO 8601 text),
  `account`, `region`, `resources` (ARNs). `extra` has the keys no field
  names (`"replay-name"` for replayed events, ...). A scheduled rule's
  event is a `LambdaRuntime.Events.Scheduled`.
  """
  alias LambdaRuntime.Events.Schema

  @fields [
    {:version, "version", :string},
    {:id, "id", :string},
    {:detail_type, "detail-type", :string},
    {:source, "source", :string},
    {:account, "account", :string},
    {:time, "time", :string},
    {:region, "region", :string},
    {:resources, "resources", {:list, :string}},
    {:detail, "detail", :any}
  ]

  defstruct Enum.map(@fields, &elem(&1, 0)) ++ [extra: %{}]
  @type t :: %__MODULE__{}

  @doc false
  def fields, do: @fields

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event), do: Schema.build(__MODULE__, event, @fields, "")
end

defmodule LambdaRuntime.Events.Scheduled do
  @moduledoc """
  The event of an EventBridge scheduled rule (`rate(...)`, `cron(...)`):
  `time` is when the schedule fired (ISO 8601 text), `rule_arns` the
  rule(s) (the event's `resources`), and `id`, `account`, `region`,
  `detail_type` (`"Scheduled Event"`), `source` (`"aws.events"`) and
  `detail` (empty) as for `LambdaRuntime.Events.EventBridge`. EventBridge
  Scheduler's own schedules send what their target input says, not this.
  """
  alias LambdaRuntime.Events.{EventBridge, Schema}

  # EventBridge's fields, `resources` named for what a schedule puts there.
  @fields Enum.map(EventBridge.fields(), fn
            {:resources, key, type} -> {:rule_arns, key, type}
            field -> field
          end)

  defstruct Enum.map(@fields, &elem(&1, 0)) ++ [extra: %{}]
  @type t :: %__MODULE__{}

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event), do: Schema.build(__MODULE__, event, @fields, "")
end
