defmodule LambdaRuntime.Events.Batch do
  @moduledoc false
  # The `Records` batch events (SQS, SNS, S3, Kinesis, DynamoDB) share one
  # shape: `records`, each built by the record module's `from_map/2`, and
  # `extra` for the event's other keys.
  #
  #     use LambdaRuntime.Events.Batch, record: __MODULE__.Record
  #
  # defines the struct, its type and `decode/1`.

  defmacro __using__(record: record) do
    quote do
      defstruct records: [], extra: %{}
      @type t :: %__MODULE__{records: [unquote(record).t()], extra: map()}

      @doc "Decodes a raw event of this source."
      @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
      def decode(event) do
        with {:ok, records} <-
               LambdaRuntime.Events.Schema.records(event, &unquote(record).from_map/2),
             do: {:ok, %__MODULE__{records: records, extra: Map.delete(event, "Records")}}
      end
    end
  end
end
