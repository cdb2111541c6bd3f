defmodule LambdaRuntime.Events.DynamoDB do
  @moduledoc """
  A batch of DynamoDB stream records: `records` is a list of
  `LambdaRuntime.Events.DynamoDB.Record`, whose images are Elixir terms
  (see `attribute_value/2`).
  """
  alias LambdaRuntime.Events.{Decimal, Schema}

  use LambdaRuntime.Events.Batch, record: __MODULE__.Record

  @doc """
  Turns a DynamoDB item (`%{"name" => AttributeValue}`, as in `NewImage`)
  into a map of Elixir terms:

  | AttributeValue | Elixir |
  | --- | --- |
  | `{"S": "text"}` | `"text"` |
  | `{"N": "42"}`, `{"N": "59.90"}` | `42`; `%LambdaRuntime.Events.Decimal{}` (exact: `59.90`) |
  | `{"B": "base64"}` | the bytes |
  | `{"BOOL": true}` | `true` |
  | `{"NULL": true}` | `nil` |
  | `{"SS": [...]}`, `{"NS": [...]}`, `{"BS": [...]}` | a `MapSet` of the above |
  | `{"L": [...]}` | a list |
  | `{"M": {...}}` | a map |

  A number with no fraction and no exponent is an integer (exact at any
  size); any other is a `LambdaRuntime.Events.Decimal`, exact to the
  38 digits DynamoDB keeps (`Decimal.to_float/1` when a float will do).
  """
  @spec item(map() | nil, String.t()) :: {:ok, map() | nil} | {:error, String.t()}
  def item(nil, _path), do: {:ok, nil}

  def item(map, path) when is_map(map) do
    Enum.reduce_while(map, {:ok, %{}}, fn {name, value}, {:ok, acc} ->
      case attribute_value(value, path <> "." <> name) do
        {:ok, term} -> {:cont, {:ok, Map.put(acc, name, term)}}
        {:error, _} = error -> {:halt, error}
      end
    end)
  end

  def item(other, path), do: Schema.expected(path, "an object of AttributeValues", other)

  @doc "One AttributeValue (`%{\"S\" => \"text\"}`, ...) as an Elixir term; see `item/2`."
  @spec attribute_value(term(), String.t()) :: {:ok, term()} | {:error, String.t()}
  def attribute_value(%{"S" => s}, _path) when is_binary(s), do: {:ok, s}
  def attribute_value(%{"N" => n}, path) when is_binary(n), do: number(n, path <> ".N")
  def attribute_value(%{"B" => b}, path) when is_binary(b), do: Schema.base64(b, path <> ".B")
  def attribute_value(%{"BOOL" => b}, _path) when is_boolean(b), do: {:ok, b}
  def attribute_value(%{"NULL" => true}, _path), do: {:ok, nil}

  def attribute_value(%{"SS" => l}, path) when is_list(l),
    do: set(l, path <> ".SS", &Schema.cast(&1, :string, &2))

  def attribute_value(%{"NS" => l}, path) when is_list(l), do: set(l, path <> ".NS", &number/2)

  def attribute_value(%{"BS" => l}, path) when is_list(l),
    do: set(l, path <> ".BS", &Schema.base64/2)

  def attribute_value(%{"L" => l}, path) when is_list(l),
    do: Schema.list(l, path <> ".L", &attribute_value/2)

  def attribute_value(%{"M" => m}, path) when is_map(m), do: item(m, path <> ".M")

  def attribute_value(%{} = value, path) when map_size(value) == 1 do
    [{type, v}] = Map.to_list(value)

    if type in ~w(S N B BOOL NULL SS NS BS L M),
      do: Schema.expected("#{path}.#{type}", value_kind(type), v),
      else: {:error, "#{path}: unknown AttributeValue type #{inspect(type)}"}
  end

  def attribute_value(value, path),
    do:
      Schema.expected(
        path,
        "an AttributeValue (one of S, N, B, BOOL, NULL, SS, NS, BS, L, M)",
        value
      )

  defp value_kind(type) when type in ~w(S N B), do: "a string"
  defp value_kind("BOOL"), do: "true or false"
  defp value_kind("NULL"), do: "true"
  defp value_kind("M"), do: "an object"
  defp value_kind(_), do: "an array"

  defp number(text, path) when is_binary(text) do
    case Integer.parse(text) do
      {integer, ""} ->
        {:ok, integer}

      _ ->
        case Decimal.parse(text) do
          {:ok, decimal} -> {:ok, decimal}
          :error -> {:error, "#{path}: #{inspect(text)} is not a number"}
        end
    end
  end

  defp number(other, path), do: Schema.expected(path, "a number as a string", other)

  defp set(items, path, fun) do
    with {:ok, list} <- Schema.list(items, path, fun), do: {:ok, MapSet.new(list)}
  end
end

defmodule LambdaRuntime.Events.DynamoDB.Record do
  @moduledoc """
  One DynamoDB stream record, its `dynamodb` object flattened: `keys`,
  `new_image` and `old_image` as maps of Elixir terms (see
  `LambdaRuntime.Events.DynamoDB.item/2`; nil when the stream's view type
  leaves an image out), `sequence_number`, `size_bytes`,
  `stream_view_type`, `approximate_creation_date_time` (epoch seconds);
  the record's `event_id`, `event_name` (`"INSERT"`, `"MODIFY"`,
  `"REMOVE"`), `event_source_arn`, `aws_region` and `user_identity` (TTL
  deletions). `extra` has the record's keys no field names and
  `dynamodb_extra` those of `dynamodb`.
  """
  alias LambdaRuntime.Events.{DynamoDB, Schema}

  defstruct [
    :event_id,
    :event_name,
    :event_version,
    :event_source,
    :event_source_arn,
    :aws_region,
    :user_identity,
    :keys,
    :new_image,
    :old_image,
    :sequence_number,
    :size_bytes,
    :stream_view_type,
    :approximate_creation_date_time,
    extra: %{},
    dynamodb_extra: %{}
  ]

  @type t :: %__MODULE__{}

  @record [
    {:event_id, "eventID", :string},
    {:event_name, "eventName", :string},
    {:event_version, "eventVersion", :string},
    {:event_source, "eventSource", :string},
    {:event_source_arn, "eventSourceARN", :string},
    {:aws_region, "awsRegion", :string},
    {:user_identity, "userIdentity", :map}
  ]

  @dynamodb [
    {:keys, "Keys", {:with, &DynamoDB.item/2}},
    {:new_image, "NewImage", {:with, &DynamoDB.item/2}},
    {:old_image, "OldImage", {:with, &DynamoDB.item/2}},
    {:sequence_number, "SequenceNumber", :string},
    {:size_bytes, "SizeBytes", :integer},
    {:stream_view_type, "StreamViewType", :string},
    {:approximate_creation_date_time, "ApproximateCreationDateTime", :number}
  ]

  @doc false
  def from_map(map, path),
    do: Schema.flatten(__MODULE__, map, path, @record, {"dynamodb", @dynamodb, :dynamodb_extra})
end
