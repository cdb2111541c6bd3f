defmodule LambdaRuntime.AWS.SigV4 do
  @moduledoc """
  AWS Signature Version 4 request signing (header form).

  The cryptography is OTP's: `:crypto.hash(:sha256, _)` and
  `:crypto.mac(:hmac, :sha256, _, _)`. What is written here is only the
  text the signature covers (the canonical request and the string to sign,
  as the SigV4 specification defines them) and the signing-key derivation.
  It is checked against the published AWS SigV4 test suite in
  `test/runtime/aws/sig_v4_test.exs`.

  Paths are canonicalised the way AWS SDKs do for every service but S3:
  each segment of the path as sent is URI-encoded again, and with
  `normalize_path: true` (the default) `.`/`..` segments and empty segments
  are removed first.
  """

  alias LambdaRuntime.AWS.Credentials
  alias LambdaRuntime.OTPApps

  @algorithm "AWS4-HMAC-SHA256"

  @typedoc "A request to sign: the path and query as they go on the wire."
  @type request :: %{
          method: String.t(),
          host: String.t(),
          path: String.t(),
          query: String.t(),
          headers: [{String.t(), String.t()}],
          body: iodata()
        }

  @doc """
  Signs `request` and returns the headers to send: the request's own
  headers plus `host` (when absent), `x-amz-date`, `x-amz-security-token`
  (with a session token) and `authorization`.

  Options: `:region` and `:service` (required), `:time` (a `DateTime`,
  default now), `:normalize_path` (default `true`), `:sign_content_sha256`
  (adds and signs `x-amz-content-sha256`, default `false`),
  `:omit_session_token` (sends the token unsigned, default `false`).
  """
  @spec sign(request(), Credentials.t(), keyword()) :: [{String.t(), String.t()}]
  def sign(request, %Credentials{} = creds, opts) do
    region = Keyword.fetch!(opts, :region)
    service = Keyword.fetch!(opts, :service)
    time = Keyword.get_lazy(opts, :time, &DateTime.utc_now/0)
    amz_date = amz_date(time)
    payload_hash = hex_sha256(request.body)

    headers = Enum.map(request.headers, fn {k, v} -> {String.downcase(k), v} end)

    headers =
      if List.keymember?(headers, "host", 0),
        do: headers,
        else: [{"host", request.host} | headers]

    headers = headers ++ [{"x-amz-date", amz_date}]

    headers =
      if Keyword.get(opts, :sign_content_sha256, false),
        do: headers ++ [{"x-amz-content-sha256", payload_hash}],
        else: headers

    token_header =
      if creds.session_token, do: [{"x-amz-security-token", creds.session_token}], else: []

    omit_token? = Keyword.get(opts, :omit_session_token, false)
    signed_headers = if omit_token?, do: headers, else: headers ++ token_header

    request = %{request | headers: signed_headers}
    canonical = canonical_request(request, payload_hash, opts)
    scope = scope(time, region, service)
    to_sign = string_to_sign(amz_date, scope, canonical)
    signature = signature(creds.secret_access_key, time, region, service, to_sign)

    authorization =
      "#{@algorithm} Credential=#{creds.access_key_id}/#{scope}, " <>
        "SignedHeaders=#{signed_header_names(signed_headers)}, Signature=#{signature}"

    headers ++ token_header ++ [{"authorization", authorization}]
  end

  @doc "The canonical request for `request` (its headers already complete)."
  @spec canonical_request(request(), String.t(), keyword()) :: String.t()
  def canonical_request(request, payload_hash \\ nil, opts \\ []) do
    payload_hash = payload_hash || hex_sha256(request.body)

    Enum.join(
      [
        String.upcase(request.method),
        canonical_uri(request.path, Keyword.get(opts, :normalize_path, true)),
        canonical_query(request.query),
        canonical_headers(request.headers),
        signed_header_names(request.headers),
        payload_hash
      ],
      "\n"
    )
  end

  @doc "The string to sign for a canonical request."
  @spec string_to_sign(String.t(), String.t(), String.t()) :: String.t()
  def string_to_sign(amz_date, scope, canonical_request) do
    Enum.join([@algorithm, amz_date, scope, hex_sha256(canonical_request)], "\n")
  end

  @doc "The credential scope, `date/region/service/aws4_request`."
  @spec scope(DateTime.t(), String.t(), String.t()) :: String.t()
  def scope(time, region, service), do: "#{date(time)}/#{region}/#{service}/aws4_request"

  @doc "The hex signature of `string_to_sign`."
  @spec signature(String.t(), DateTime.t(), String.t(), String.t(), String.t()) :: String.t()
  def signature(secret, time, region, service, string_to_sign) do
    key =
      Enum.reduce([date(time), region, service, "aws4_request"], "AWS4" <> secret, &hmac(&2, &1))

    key |> hmac(string_to_sign) |> Base.encode16(case: :lower)
  end

  @doc "The `x-amz-date` form of a time: `20150830T123600Z`."
  @spec amz_date(DateTime.t()) :: String.t()
  def amz_date(time), do: Calendar.strftime(time, "%Y%m%dT%H%M%SZ")

  @doc "Lower-case hex SHA-256 of `data`."
  @spec hex_sha256(iodata()) :: String.t()
  def hex_sha256(data) do
    crypto!()
    :crypto.hash(:sha256, data) |> Base.encode16(case: :lower)
  end

  @doc "URI-encodes `string` as SigV4 wants: everything but `A-Za-z0-9-._~`."
  @spec encode(String.t()) :: String.t()
  def encode(string), do: URI.encode(string, &URI.char_unreserved?/1)

  defp date(time), do: Calendar.strftime(time, "%Y%m%d")

  defp hmac(key, data) do
    crypto!()
    :crypto.mac(:hmac, :sha256, key, data)
  end

  # In a Mix project on Elixir 1.15+, :crypto is outside the pruned code
  # path unless something loaded it already (Mix usually has).
  defp crypto! do
    function_exported?(:crypto, :mac, 4) or OTPApps.ensure_available!([:crypto])
  end

  defp canonical_uri(path, normalize?) do
    path = if path in ["", nil], do: "/", else: path
    segments = String.split(path, "/")
    segments = if normalize?, do: normalize(segments), else: segments
    joined = Enum.map_join(segments, "/", &encode/1)

    cond do
      not normalize? -> joined
      joined == "" -> "/"
      true -> joined
    end
  end

  # Removes empty, "." and ".." segments; keeps the leading and a trailing slash.
  defp normalize(["" | segments]) do
    trailing? = List.last(segments) in ["", ".", ".."] and segments != []

    kept =
      Enum.reduce(segments, [], fn
        "", acc -> acc
        ".", acc -> acc
        "..", acc -> Enum.drop(acc, 1)
        seg, acc -> [seg | acc]
      end)
      |> Enum.reverse()

    tail = if trailing? and kept != [], do: [""], else: []
    ["" | kept] ++ tail
  end

  defp normalize(segments), do: normalize(["" | segments])

  defp canonical_query(query) when query in [nil, ""], do: ""

  defp canonical_query(query) do
    query
    |> String.split("&", trim: true)
    |> Enum.map(fn pair ->
      {k, v} =
        case String.split(pair, "=", parts: 2) do
          [k, v] -> {k, v}
          [k] -> {k, ""}
        end

      {encode(URI.decode(k)), encode(URI.decode(v))}
    end)
    |> Enum.sort()
    |> Enum.map_join("&", fn {k, v} -> k <> "=" <> v end)
  end

  defp canonical_headers(headers) do
    headers
    |> group_headers()
    |> Enum.map_join(fn {name, value} -> name <> ":" <> value <> "\n" end)
  end

  defp signed_header_names(headers) do
    headers |> group_headers() |> Enum.map_join(";", &elem(&1, 0))
  end

  # Lower-cases names, trims and collapses whitespace in values, and joins
  # repeated headers with commas in the order they came.
  defp group_headers(headers) do
    headers
    |> Enum.map(fn {k, v} ->
      {String.downcase(k), v |> String.trim() |> String.replace(~r/\s+/, " ")}
    end)
    |> Enum.group_by(&elem(&1, 0), &elem(&1, 1))
    |> Enum.map(fn {k, values} -> {k, Enum.join(values, ",")} end)
    |> Enum.sort()
  end
end
