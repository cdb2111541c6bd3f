defmodule LambdaRuntime.Events.Schema do
  @moduledoc false
  # Building the event structs from decoded JSON: each field is read from
  # its JSON key and checked against a type; what no field names goes into
  # `:extra`. Every problem is `{:error, "PATH: expected ..., got ..."}`,
  # never an exception: an event can be missing any field (nil) but not
  # carry one of the wrong type.
  #
  # Types: :any, :string, :integer, :number, :boolean, :map (an object),
  # :list, {:list, type}, {:struct, module} (module.from_map/2), and
  # {:with, fun} where fun.(value, path) gives {:ok, v} | {:error, msg}.
  # nil (JSON null or a missing key) is accepted for every type.

  @type type ::
          :any
          | :string
          | :integer
          | :number
          | :boolean
          | :map
          | :list
          | {:list, type()}
          | {:struct, module()}
          | {:with, (term(), String.t() -> {:ok, term()} | {:error, String.t()})}

  @doc false
  @spec build(module(), term(), [{atom(), String.t(), type()}], String.t()) ::
          {:ok, struct()} | {:error, String.t()}
  def build(module, map, fields, path) when is_map(map) do
    result =
      Enum.reduce_while(fields, {:ok, %{}}, fn {field, key, type}, {:ok, acc} ->
        case cast(Map.get(map, key), type, join(path, key)) do
          {:ok, value} -> {:cont, {:ok, Map.put(acc, field, value)}}
          {:error, _} = error -> {:halt, error}
        end
      end)

    with {:ok, values} <- result do
      known = for {_, key, _} <- fields, do: key
      {:ok, struct(module, Map.put(values, :extra, Map.drop(map, known)))}
    end
  end

  def build(_module, other, _fields, path), do: expected(path, "an object", other)

  @doc false
  # A record with one nested object flattened into it (Kinesis' `kinesis`,
  # DynamoDB's `dynamodb`, SNS's `Sns`): `fields` are read from the record,
  # `nested_fields` from its `key` object, into one struct; `extra` keeps
  # the record's other keys and `extra_field` the nested object's.
  @spec flatten(module(), map(), String.t(), list(), {String.t(), list(), atom()}) ::
          {:ok, struct()} | {:error, String.t()}
  def flatten(module, map, path, fields, {key, nested_fields, extra_field}) do
    with {:ok, record} <- build(module, map, fields, path),
         {:ok, nested} <- build(module, Map.get(map, key, %{}), nested_fields, join(path, key)) do
      values = for {field, _, _} <- nested_fields, do: {field, Map.fetch!(nested, field)}

      {:ok,
       record
       |> struct(values)
       |> Map.merge(%{:extra => Map.delete(record.extra, key), extra_field => nested.extra})}
    end
  end

  @doc false
  def cast(nil, _type, _path), do: {:ok, nil}
  def cast(v, :any, _path), do: {:ok, v}
  def cast(v, :string, _path) when is_binary(v), do: {:ok, v}
  def cast(v, :integer, _path) when is_integer(v), do: {:ok, v}
  def cast(v, :number, _path) when is_number(v), do: {:ok, v}
  def cast(v, :boolean, _path) when is_boolean(v), do: {:ok, v}
  def cast(v, :map, _path) when is_map(v), do: {:ok, v}
  def cast(v, :list, _path) when is_list(v), do: {:ok, v}
  def cast(v, {:list, type}, path) when is_list(v), do: list(v, path, &cast(&1, type, &2))
  def cast(v, {:struct, module}, path), do: module.from_map(v, path)
  def cast(v, {:with, fun}, path), do: fun.(v, path)
  def cast(v, :string, path), do: expected(path, "a string", v)
  def cast(v, :integer, path), do: expected(path, "an integer", v)
  def cast(v, :number, path), do: expected(path, "a number", v)
  def cast(v, :boolean, path), do: expected(path, "true or false", v)
  def cast(v, :map, path), do: expected(path, "an object", v)
  def cast(v, _list, path), do: expected(path, "an array", v)

  @doc "Maps `fun.(element, path)` over a list, stopping at the first error."
  def list(items, path, fun) do
    items
    |> Enum.with_index()
    |> Enum.reduce_while({:ok, []}, fn {item, i}, {:ok, acc} ->
      case fun.(item, "#{path}[#{i}]") do
        {:ok, value} -> {:cont, {:ok, [value | acc]}}
        {:error, _} = error -> {:halt, error}
      end
    end)
    |> case do
      {:ok, acc} -> {:ok, Enum.reverse(acc)}
      error -> error
    end
  end

  @doc "The records of a `Records` batch event, each built by `fun`."
  def records(event, fun) when is_map(event) do
    case Map.get(event, "Records") do
      records when is_list(records) -> list(records, "Records", fun)
      other -> expected("Records", "an array", other)
    end
  end

  def records(other, _fun), do: expected("the event", "an object", other)

  @doc "Base64 text to bytes."
  def base64(v, path) when is_binary(v) do
    case Base.decode64(v, ignore: :whitespace, padding: false) do
      {:ok, bytes} -> {:ok, bytes}
      :error -> {:error, "#{path}: not valid base64"}
    end
  end

  def base64(v, path), do: expected(path, "a base64 string", v)

  @doc "`{:error, \"PATH: expected WHAT, got VALUE\"}`."
  def expected(path, what, value),
    do: {:error, "#{path}: expected #{what}, got #{describe(value)}"}

  defp describe(v) when is_binary(v) and byte_size(v) > 40,
    do: inspect(binary_part(v, 0, 40)) <> "..."

  defp describe(v) when is_map(v), do: "an object"
  defp describe(v) when is_list(v), do: "an array"
  defp describe(v), do: inspect(v)

  defp join("", key), do: key
  defp join(path, key), do: path <> "." <> key
end
