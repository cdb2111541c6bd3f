defprotocol LambdaRuntime.JSON.Encoder do
  @moduledoc """
  Turns a struct into a term that `LambdaRuntime.JSON` can encode.

  The result may itself contain structs; they are converted in turn.
  Without an implementation, a struct is encoded as an object of its
  fields (without `__struct__`).

      defimpl LambdaRuntime.JSON.Encoder, for: Money do
        def encode(%Money{amount: a, currency: c}), do: "\#{a} \#{c}"
      end
  """
  @fallback_to_any true

  @doc "Returns a JSON-encodable term standing for `struct`."
  @spec encode(struct()) :: term()
  def encode(struct)
end

defimpl LambdaRuntime.JSON.Encoder, for: Any do
  def encode(struct), do: Map.from_struct(struct)
end

defimpl LambdaRuntime.JSON.Encoder, for: [DateTime, NaiveDateTime, Date, Time] do
  def encode(value), do: @for.to_iso8601(value)
end

defimpl LambdaRuntime.JSON.Encoder, for: MapSet do
  def encode(set), do: MapSet.to_list(set)
end

defimpl LambdaRuntime.JSON.Encoder, for: URI do
  def encode(uri), do: URI.to_string(uri)
end
