defmodule LambdaRuntime.Durable.Serdes do
  @moduledoc """
  How operation results are written into checkpoints and read back.

  A serdes is a module implementing this behaviour, or a `{serialize,
  deserialize}` pair of one-argument functions. `serialize/1` returns the
  payload (a string, or `nil` for none); `deserialize/1` gets that payload
  back on every later replay, and also right after `serialize/1` on the first
  run, so the value your code sees is the same in every invocation.

  Built in:

    * `LambdaRuntime.Durable.Serdes.JSON` (the default): `LambdaRuntime.JSON`;
      maps come back with string keys, atoms as strings;
    * `LambdaRuntime.Durable.Serdes.Raw`: the payload string itself (the
      default for callback results, which external systems send as text, as
      in AWS's SDKs).

  A serdes that raises fails the operation with an error of kind `:serdes`.
  """

  @callback serialize(term()) :: String.t() | nil
  @callback deserialize(String.t()) :: term()

  @type t :: module() | {(term() -> String.t() | nil), (String.t() -> term())}

  alias LambdaRuntime.Durable.Error

  @doc "Serializes with `serdes`: `{:ok, payload}` or `{:error, %Error{kind: :serdes}}`."
  @spec serialize(t(), term()) :: {:ok, String.t() | nil} | {:error, Error.t()}
  def serialize(serdes, value) do
    case call(serdes, :serialize, value) do
      {:ok, payload} when is_binary(payload) or is_nil(payload) ->
        {:ok, payload}

      {:ok, other} ->
        {:error, serdes_error("serialize returned #{inspect(other)}, not a string or nil")}

      {:error, _} = error ->
        error
    end
  end

  @doc "Deserializes a payload; `nil` stays `nil`."
  @spec deserialize(t(), String.t() | nil) :: {:ok, term()} | {:error, Error.t()}
  def deserialize(_serdes, nil), do: {:ok, nil}
  def deserialize(serdes, payload), do: call(serdes, :deserialize, payload)

  @doc "Serializes then deserializes: `{:ok, payload, value_as_replay_sees_it}`."
  @spec round_trip(t(), term()) :: {:ok, String.t() | nil, term()} | {:error, Error.t()}
  def round_trip(serdes, value) do
    with {:ok, payload} <- serialize(serdes, value),
         {:ok, back} <- deserialize(serdes, payload) do
      {:ok, payload, back}
    end
  end

  defp call({ser, _de}, :serialize, value) when is_function(ser, 1), do: guarded(ser, value)
  defp call({_ser, de}, :deserialize, value) when is_function(de, 1), do: guarded(de, value)

  defp call(module, fun, value) when is_atom(module),
    do: guarded(&apply(module, fun, [&1]), value)

  defp guarded(fun, value) do
    {:ok, fun.(value)}
  rescue
    e -> {:error, serdes_error(Exception.message(e), e)}
  catch
    kind, reason -> {:error, serdes_error("#{kind}: #{inspect(reason)}")}
  end

  defp serdes_error(message, exception \\ nil) do
    type = if exception, do: inspect(exception.__struct__), else: "SerDesError"
    %Error{kind: :serdes, type: "SerDesError", message: "#{type}: #{message}"}
  end
end
