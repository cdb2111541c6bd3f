defmodule LambdaRuntime.AWS.HTTP do
  @moduledoc """
  One HTTP exchange over OTP's `:httpc`, for AWS calls: deploy's, and
  durable functions' checkpoints (inside Lambda: the layer ships it).

  HTTPS verifies the server certificate against the operating system's
  trust store (`:public_key.cacerts_get/0`) and checks the host name;
  plain HTTP happens only when the endpoint URL says `http` (a local
  emulator). Sockets get `TCP_NODELAY`.

  `:inets` (and for HTTPS `:ssl`) is started on first use. These are not
  runtime dependencies of `:lambda_runtime` (the layer must not start them
  at boot; only a durable function needs them), so in a Mix project on Elixir 1.15+ they are outside the pruned
  code path until `LambdaRuntime.OTPApps` puts them back; `:httpc`
  needs `:public_key` loadable even for plain HTTP (its default options
  name a host-name check of `:public_key`'s).
  """

  alias LambdaRuntime.AWS.Error
  alias LambdaRuntime.OTPApps

  @connect_timeout 10_000
  @timeout 300_000

  @type response :: {:ok, non_neg_integer(), [{String.t(), String.t()}], binary()}

  @doc """
  Sends a request. `headers` must include `host`; `body` is `nil` for none.
  Returns the status, lower-cased headers and body, or a transport error
  (`{:error, %Error{}}` with code `ConnectionFailed`, `Timeout` or
  `TLSFailed`).
  """
  @spec request(String.t(), String.t(), [{String.t(), String.t()}], binary() | nil) ::
          response() | {:error, Error.t()}
  def request(method, url, headers, body) do
    start_apps!(url)
    method_atom = method |> String.downcase() |> String.to_existing_atom()
    url_c = String.to_charlist(url)
    {content_type, headers} = pop_header(headers, "content-type")
    hdrs = Enum.map(headers, fn {k, v} -> {String.to_charlist(k), String.to_charlist(v)} end)

    req =
      if body == nil,
        do: {url_c, hdrs},
        else: {url_c, hdrs, String.to_charlist(content_type || "application/json"), body}

    http_opts = [
      connect_timeout: @connect_timeout,
      timeout: @timeout,
      autoredirect: false,
      ssl: ssl_opts(url)
    ]

    opts = [body_format: :binary, socket_opts: [nodelay: true]]

    case :httpc.request(method_atom, req, http_opts, opts) do
      {:ok, {{_, status, _}, resp_headers, resp_body}} ->
        {:ok, status, Enum.map(resp_headers, &lower_header/1), resp_body}

      {:error, reason} ->
        {:error, transport_error(url, reason)}
    end
  end

  @doc """
  Makes `:httpc` usable for `url`: `:inets` (and `:ssl` for HTTPS)
  loadable and started. Also used by the layer builder's downloads.
  """
  def start_apps!(url) do
    OTPApps.ensure_available!([:inets, :ssl])
    apps = if String.starts_with?(url, "https:"), do: [:inets, :ssl], else: [:inets]
    OTPApps.ensure_started!(apps)
  end

  @doc """
  `:httpc`'s `ssl` options for `url`: for HTTPS, the server certificate is
  verified against the operating system's trust store and its host name
  checked; none for plain HTTP.
  """
  def ssl_opts("https:" <> _) do
    [
      verify: :verify_peer,
      cacerts: :public_key.cacerts_get(),
      depth: 10,
      customize_hostname_check: [match_fun: :public_key.pkix_verify_hostname_match_fun(:https)]
    ]
  end

  def ssl_opts(_http), do: []

  defp pop_header(headers, name) do
    case List.keytake(headers, name, 0) do
      {{_, value}, rest} -> {value, rest}
      nil -> {nil, headers}
    end
  end

  defp lower_header({k, v}), do: {k |> to_string() |> String.downcase(), to_string(v)}

  defp transport_error(url, reason) do
    host = URI.parse(url) |> then(&"#{&1.host}:#{&1.port}")

    case unwrap(reason) do
      :econnrefused ->
        Error.new(
          "ConnectionFailed",
          "connection to #{host} was refused",
          "check the endpoint (AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL) and the region"
        )

      :nxdomain ->
        Error.new(
          "ConnectionFailed",
          "the host #{host} could not be resolved",
          "check the region and the endpoint, and your network/DNS"
        )

      :timeout ->
        Error.new("Timeout", "no answer from #{host} in time", "check your network and retry")

      {:tls_alert, {_, description}} ->
        Error.new(
          "TLSFailed",
          "TLS with #{host} failed: #{description}",
          "the server certificate did not verify: check the endpoint URL"
        )

      other ->
        Error.new(
          "ConnectionFailed",
          "the request to #{host} failed: #{inspect(other)}",
          "check the endpoint and your network"
        )
    end
  end

  defp unwrap({:failed_connect, [{:to_address, _}, {_family, _, reason} | _]}), do: unwrap(reason)
  defp unwrap({:failed_connect, [_, {_family, _, reason}]}), do: unwrap(reason)
  defp unwrap({:options, {:socket_options, _}}), do: :socket_options
  defp unwrap(:socket_closed_remotely), do: :closed
  defp unwrap(reason), do: reason
end
