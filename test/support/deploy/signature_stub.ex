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

  def start!(key_id, secret, answer) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        reuseaddr: true,
        nodelay: true
      ])

    {:ok, port} = :inet.port(listen)
    test = self()
    pid = spawn_link(fn -> accept(listen, {key_id, secret, answer, test}) end)
    :ok = :gen_tcp.controlling_process(listen, pid)
    %{port: port, pid: pid, url: "http://127.0.0.1:#{port}"}
  end

  defp accept(listen, state) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        serve(socket, state)
        accept(listen, state)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, {key_id, secret, answer, test} = state) do
    :inet.setopts(socket, packet: :http_bin)

    case read_request(socket) do
      {:ok, req} ->
        verdict = verify(req, key_id, secret)
        send(test, {:stub_request, req, verdict})
        {status, code, body} = answer.(req, verdict)
        error_header = if code, do: "x-amzn-ErrorType: #{code}\r\n", else: ""

        :gen_tcp.send(socket, [
          "HTTP/1.1 #{status} X\r\ncontent-type: application/json\r\n",
          error_header,
          "content-length: #{byte_size(body)}\r\n\r\n",
          body
        ])

        serve(socket, state)

      :closed ->
        :gen_tcp.close(socket)
    end
  end

  defp read_request(socket) do
    case :gen_tcp.recv(socket, 0, 10_000) do
      {:ok, {:http_request, method, {:abs_path, target}, _}} ->
        headers = read_headers(socket, [])
        length = headers |> List.keyfind("content-length", 0, {nil, "0"}) |> elem(1)
        :inet.setopts(socket, packet: :raw)
        body = if length == "0", do: "", else: recv!(socket, String.to_integer(length))
        [path | query] = String.split(target, "?", parts: 2)

        {:ok,
         %{
           method: to_string(method),
           path: path,
           query: List.first(query) || "",
           headers: headers,
           body: body
         }}

      _ ->
        :closed
    end
  end

  defp recv!(socket, length) do
    {:ok, body} = :gen_tcp.recv(socket, length, 10_000)
    body
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0, 10_000) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, [{String.downcase(to_string(name)), value} | acc])

      {:ok, :http_eoh} ->
        Enum.reverse(acc)
    end
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
