defmodule LambdaRuntime.AWS.ServiceClient do
  @moduledoc """
  A client of one AWS service endpoint (Lambda's control plane for
  deploy, its durable-execution API for checkpoints): sends
  `LambdaRuntime.AWS.Request`s to it, encodes the JSON body, signs with
  SigV4, retries throttling (HTTP 429, `ThrottlingException`,
  `TooManyRequestsException`) and 5xx answers with exponential backoff,
  and turns AWS error answers into `LambdaRuntime.AWS.Error`s with AWS's
  code and message and a hint.
  """

  alias LambdaRuntime.AWS.{Credentials, Endpoint, Error, HTTP, Request, SigV4}
  alias LambdaRuntime.JSON

  defstruct [:endpoint, :credentials, backoff_ms: [200, 500, 1_000, 2_000, 4_000]]

  @type t :: %__MODULE__{
          endpoint: Endpoint.t(),
          credentials: Credentials.t(),
          backoff_ms: [non_neg_integer()]
        }

  @throttling ~w(ThrottlingException Throttling TooManyRequestsException RequestLimitExceeded
                 ProvisionedThroughputExceededException)

  @doc """
  Sends `request`. Returns `{:ok, status, decoded_body}` (the body is a map,
  or `nil` when empty) for a 2xx answer, else
  `{:error, %LambdaRuntime.AWS.Error{}}`.
  """
  @spec call(t(), Request.t()) :: {:ok, non_neg_integer(), map() | nil} | {:error, Error.t()}
  def call(%__MODULE__{} = client, %Request{} = request) do
    {content_type, body} = encode_body(request.body)
    attempt(client, request, content_type, body, client.backoff_ms)
  end

  defp attempt(client, request, content_type, body, backoff) do
    %URI{scheme: scheme, host: host, port: port, path: base} = client.endpoint.uri
    host_header = if port in [80, 443] or port == nil, do: host, else: "#{host}:#{port}"
    path = (base || "") <> request.path

    headers =
      [{"host", host_header}] ++
        if(content_type, do: [{"content-type", content_type}], else: [])

    signed =
      SigV4.sign(
        %{
          method: request.method,
          host: host_header,
          path: path,
          query: request.query,
          headers: headers,
          body: body || ""
        },
        client.credentials,
        region: client.endpoint.region,
        service: client.endpoint.service
      )

    query = if request.query == "", do: "", else: "?" <> request.query
    url = "#{scheme}://#{host_header}#{path}#{query}"

    case HTTP.request(request.method, url, signed, body) do
      {:ok, status, resp_headers, resp_body} ->
        result(status, resp_headers, resp_body, request)
        |> maybe_retry(client, request, content_type, body, backoff)

      {:error, %Error{code: "Timeout"}} = error ->
        maybe_retry({:retry, error}, client, request, content_type, body, backoff)

      {:error, _} = error ->
        error
    end
  end

  defp maybe_retry({:retry, _error}, client, request, content_type, body, [delay | rest]) do
    Process.sleep(delay)
    attempt(client, request, content_type, body, rest)
  end

  defp maybe_retry({:retry, error}, _client, _request, _ct, _body, []), do: error
  defp maybe_retry(other, _client, _request, _ct, _body, _backoff), do: other

  # Any 2xx is success: AWS documents 200 or 201 per operation; emulators differ.
  defp result(status, _headers, body, _request) when status in 200..299 do
    decoded = decode(body)
    {:ok, status, if(is_map(decoded), do: decoded, else: nil)}
  end

  defp result(status, headers, body, request) do
    error = error(status, headers, body, decode(body), request)

    if status == 429 or status >= 500 or error.code in @throttling,
      do: {:retry, {:error, error}},
      else: {:error, error}
  end

  defp error(status, headers, body, decoded, request) do
    decoded = if is_map(decoded), do: decoded, else: %{}

    code =
      header_code(headers) || type_code(decoded["__type"]) || decoded["code"] ||
        decoded["Code"] || xml(body, "Code") || "HTTP#{status}"

    message =
      decoded["message"] || decoded["Message"] || decoded["errorMessage"] || xml(body, "Message") ||
        "#{request.operation} answered HTTP #{status}"

    Error.new(
      code,
      "#{request.operation} failed: #{message}",
      Error.hint(code, message, status),
      status
    )
  end

  defp header_code(headers) do
    case List.keyfind(headers, "x-amzn-errortype", 0) do
      {_, value} -> value |> String.split(":") |> hd()
      nil -> nil
    end
  end

  defp type_code(nil), do: nil
  defp type_code(type), do: type |> String.split("#") |> List.last()

  defp xml(body, tag) do
    case Regex.run(~r/<#{tag}>([^<]*)<\/#{tag}>/, body) do
      [_, value] -> value
      nil -> nil
    end
  end

  defp decode(""), do: nil

  defp decode(body) do
    case JSON.decode(body) do
      {:ok, term} -> term
      {:error, _} -> nil
    end
  end

  defp encode_body(nil), do: {nil, nil}
  defp encode_body({:raw, content_type, binary}), do: {content_type, binary}
  defp encode_body(map) when is_map(map), do: {"application/json", JSON.encode!(map)}
end
