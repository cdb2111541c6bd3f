defmodule LambdaRuntime.TestSupport.SignatureStub do
  @moduledoc """
  A one-port HTTP server that checks SigV4 signatures the way AWS does:
  it rebuilds the canonical request from what arrived on the wire (the
  headers named in SignedHeaders, the path, query and body) and compares
  signatures computed with the secret it knows. Each request is sent to
  the test process as `{:stub_request, request, verdict}`; `answer` picks
  the reply from the request and its verdict (`:ok`, `:unknown_key` or
  `:bad_signature`).
  """

  alias LambdaRuntime.AWS.SigV4
  alias LambdaRuntime.TestSupport.HTTPServer

  @doc """
  Starts the stub (linked to the caller); returns `%{port: _, pid: _, url: _}`.
  `answer.(request, verdict)` gives `{status, error_code | nil, body}`.
  """
  def start!(key_id, secret, answer) do
    test = self()

    server =
      HTTPServer.start!(fn request ->
        [path | query] = String.split(request.path, "?", parts: 2)
        req = %{request | path: path} |> Map.put(:query, List.first(query) || "")
        verdict = verify(req, key_id, secret)
        send(test, {:stub_request, req, verdict})
        {status, code, body} = answer.(req, verdict)
        error_header = if code, do: [{"x-amzn-ErrorType", code}], else: []
        {status, [{"content-type", "application/json"} | error_header], body}
      end)

    %{port: server.port, pid: server.pid, url: HTTPServer.url(server)}
  end

  defp verify(req, key_id, secret) do
    {_, auth} = List.keyfind(req.headers, "authorization", 0, {nil, ""})

    with [_, id, date, region, service, signed, signature] <-
           Regex.run(
             ~r/^AWS4-HMAC-SHA256 Credential=([^\/]+)\/(\d{8})\/([^\/]+)\/([^\/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/,
             auth
           ),
         true <- id == key_id || :unknown_key do
      names = String.split(signed, ";")
      headers = Enum.filter(req.headers, fn {k, _} -> k in names end)
      {_, amz_date} = List.keyfind(req.headers, "x-amz-date", 0)
      {:ok, time} = amz_date |> parse_amz_date()
      true = String.starts_with?(amz_date, date)
      canonical = SigV4.canonical_request(%{req | headers: headers})
      scope = SigV4.scope(time, region, service)

      expected =
        SigV4.signature(
          secret,
          time,
          region,
          service,
          SigV4.string_to_sign(amz_date, scope, canonical)
        )

      if expected == signature, do: :ok, else: :bad_signature
    else
      :unknown_key -> :unknown_key
      _ -> :bad_signature
    end
  end

  defp parse_amz_date(
         <<y::binary-4, m::binary-2, d::binary-2, "T", h::binary-2, mi::binary-2, s::binary-2,
           "Z">>
       ) do
    {:ok, dt, _} = DateTime.from_iso8601("#{y}-#{m}-#{d}T#{h}:#{mi}:#{s}Z")
    {:ok, dt}
  end
end
