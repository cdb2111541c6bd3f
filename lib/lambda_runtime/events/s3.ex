defmodule LambdaRuntime.Events.S3 do
  @moduledoc """
  S3 event notifications: `records` is a list of
  `LambdaRuntime.Events.S3.Record`.
  """
  use LambdaRuntime.Events.Batch, record: __MODULE__.Record
end

defmodule LambdaRuntime.Events.S3.Record do
  @moduledoc """
  One S3 notification, its `s3` object flattened: `bucket` (the name),
  `bucket_arn`, `key`, `size`, `etag`, `version_id`, `sequencer`, and the
  record's `event_name` (`"ObjectCreated:Put"`, ...), `event_time`,
  `aws_region`, `principal_id` (`userIdentity.principalId`) and
  `source_ip` (`requestParameters.sourceIPAddress`; both objects also
  stay in `extra`, with the rest of the record's keys no field names).

  `key` is the object key: S3 sends it URL-encoded as in an HTML form
  (a space is `+`, other bytes `%XX`), and this is it decoded, the way you
  pass it to `GetObject`. `url_encoded_key` is the key as sent; `s3` is
  the record's `s3` object as it came.
  """
  alias LambdaRuntime.Events.Schema

  defstruct [
    :event_version,
    :event_source,
    :event_name,
    :event_time,
    :aws_region,
    :principal_id,
    :source_ip,
    :bucket,
    :bucket_arn,
    :key,
    :url_encoded_key,
    :size,
    :etag,
    :version_id,
    :sequencer,
    :s3,
    extra: %{}
  ]

  @type t :: %__MODULE__{}

  @record [
    {:event_version, "eventVersion", :string},
    {:event_source, "eventSource", :string},
    {:event_name, "eventName", :string},
    {:event_time, "eventTime", :string},
    {:aws_region, "awsRegion", :string},
    {:s3, "s3", :map}
  ]

  @doc false
  def from_map(map, path) do
    with {:ok, record} <- Schema.build(__MODULE__, map, @record, path),
         {:ok, _} <- nested(map, ["userIdentity"], :map, path),
         {:ok, principal} <- nested(map, ["userIdentity", "principalId"], :string, path),
         {:ok, _} <- nested(map, ["requestParameters"], :map, path),
         {:ok, ip} <- nested(map, ["requestParameters", "sourceIPAddress"], :string, path),
         {:ok, _} <- nested(map, ["s3", "bucket"], :map, path),
         {:ok, bucket} <- nested(map, ["s3", "bucket", "name"], :string, path),
         {:ok, arn} <- nested(map, ["s3", "bucket", "arn"], :string, path),
         {:ok, _} <- nested(map, ["s3", "object"], :map, path),
         {:ok, raw_key} <- nested(map, ["s3", "object", "key"], :string, path),
         {:ok, key} <- decode_key(raw_key, path),
         {:ok, size} <- nested(map, ["s3", "object", "size"], :integer, path),
         {:ok, etag} <- nested(map, ["s3", "object", "eTag"], :string, path),
         {:ok, version} <- nested(map, ["s3", "object", "versionId"], :string, path),
         {:ok, sequencer} <- nested(map, ["s3", "object", "sequencer"], :string, path) do
      {:ok,
       %{
         record
         | principal_id: principal,
           source_ip: ip,
           bucket: bucket,
           bucket_arn: arn,
           key: key,
           url_encoded_key: raw_key,
           size: size,
           etag: etag,
           version_id: version,
           sequencer: sequencer
       }}
    end
  end

  # A value inside nested objects; nil when an outer one is absent (an
  # outer one of the wrong type is reported by its own nested/4 call).
  defp nested(map, keys, type, path) do
    value =
      Enum.reduce(keys, map, fn
        key, acc when is_map(acc) -> Map.get(acc, key)
        _key, _ -> nil
      end)

    Schema.cast(value, type, Enum.join([path | keys], "."))
  end

  @doc """
  Decodes an S3 notification's object key: `+` is a space, `%XX` a byte.
  """
  @spec decode_key(String.t() | nil, String.t()) :: {:ok, String.t() | nil} | {:error, String.t()}
  def decode_key(nil, _path), do: {:ok, nil}

  def decode_key(key, path) do
    case unescape(key, []) do
      {:ok, decoded} ->
        if String.valid?(decoded),
          do: {:ok, decoded},
          else: {:error, "#{path}.s3.object.key: #{inspect(key)} does not decode to UTF-8 text"}

      :error ->
        {:error, "#{path}.s3.object.key: #{inspect(key)} has a malformed %-escape"}
    end
  end

  defp unescape(<<>>, acc), do: {:ok, acc |> Enum.reverse() |> IO.iodata_to_binary()}
  defp unescape(<<?+, rest::binary>>, acc), do: unescape(rest, [?\s | acc])

  defp unescape(<<?%, hex::binary-2, rest::binary>>, acc) do
    case Base.decode16(hex, case: :mixed) do
      {:ok, byte} -> unescape(rest, [byte | acc])
      :error -> :error
    end
  end

  defp unescape(<<?%, _::binary>>, _acc), do: :error
  defp unescape(<<c, rest::binary>>, acc), do: unescape(rest, [c | acc])
end
