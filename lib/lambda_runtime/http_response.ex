defmodule LambdaRuntime.HTTPResponse do
  @moduledoc """
  Responses for functions behind HTTP: API Gateway REST APIs (Lambda proxy
  integration, payload format 1.0), HTTP APIs (format 2.0), function URLs
  and Application Load Balancers.

      def handle(event, _context) do
        %{"order" => 42}
        |> HTTPResponse.json(status: 201)
        |> HTTPResponse.put_header("location", "/orders/42")
        |> HTTPResponse.put_cookie("session=abc; Path=/; HttpOnly")
        |> HTTPResponse.for_event(event)
      end

  Return the struct from the handler: it is encoded (through
  `LambdaRuntime.JSON.Encoder`) in the shape its `format` calls for:

    * `:v2` (HTTP API 2.0, function URL; the default): `statusCode`,
      `headers` (repeated headers joined with `, `), `cookies`, `body`,
      `isBase64Encoded`;
    * `:v1` (REST API proxy): `statusCode`, `headers`, `multiValueHeaders`
      (repeated headers and `Set-Cookie`, one per cookie), `body`,
      `isBase64Encoded`;
    * `:alb` (a load balancer without multi-value headers): `statusCode`,
      `statusDescription` (`"200 OK"`), `headers` only (repeated headers
      joined with `, `), `body`, `isBase64Encoded`. Such a load balancer
      passes one `Set-Cookie`: the last cookie is sent (turn on multi-value
      headers on the target group to send several);
    * `:alb_multi` (a load balancer with multi-value headers on):
      `statusCode`, `statusDescription`, `multiValueHeaders` only (every
      header a list, one `Set-Cookie` per cookie), `body`, `isBase64Encoded`.

  A load balancer reads either `headers` or `multiValueHeaders`, never both,
  according to the target group's setting; its request event says which
  (it carries `multiValueHeaders` exactly when the setting is on), so
  `for_event/2` follows the request. `to_map/1` gives the plain map.
  """

  defstruct status: 200, headers: [], cookies: [], body: "", base64?: false, format: :v2

  @type format :: :v1 | :v2 | :alb | :alb_multi
  @type t :: %__MODULE__{
          status: 100..599,
          headers: [{String.t(), String.t()}],
          cookies: [String.t()],
          body: binary(),
          base64?: boolean(),
          format: format()
        }

  @doc """
  A response with `body` (a string). Options: `:status` (default 200),
  `:headers` (a map or a list of pairs), `:cookies`, `:format`.
  """
  @spec new(binary(), keyword()) :: t()
  def new(body \\ "", opts \\ []) when is_binary(body) do
    %__MODULE__{
      status: Keyword.get(opts, :status, 200),
      headers:
        opts
        |> Keyword.get(:headers, [])
        |> Enum.map(fn {k, v} -> {to_string(k), to_string(v)} end),
      cookies: Keyword.get(opts, :cookies, []),
      body: body,
      format: Keyword.get(opts, :format, :v2)
    }
  end

  @doc "A JSON response: `data` encoded with `LambdaRuntime.JSON`, `content-type: application/json`."
  @spec json(term(), keyword()) :: t()
  def json(data, opts \\ []) do
    data
    |> LambdaRuntime.JSON.encode!()
    |> new(opts)
    |> put_new_header("content-type", "application/json")
  end

  @doc "A text response (`content-type: text/plain; charset=utf-8` unless given)."
  @spec text(String.t(), keyword()) :: t()
  def text(body, opts \\ []),
    do: body |> new(opts) |> put_new_header("content-type", "text/plain; charset=utf-8")

  @doc "An HTML response (`content-type: text/html; charset=utf-8` unless given)."
  @spec html(String.t(), keyword()) :: t()
  def html(body, opts \\ []),
    do: body |> new(opts) |> put_new_header("content-type", "text/html; charset=utf-8")

  @doc """
  A binary response (an image, a PDF): the bytes are sent base64-encoded
  with `isBase64Encoded: true`, and API Gateway or the function URL decodes
  them for the client.
  """
  @spec binary(binary(), String.t(), keyword()) :: t()
  def binary(bytes, content_type, opts \\ []) do
    %{new("", opts) | body: Base.encode64(bytes), base64?: true}
    |> put_new_header("content-type", content_type)
  end

  @doc "A redirect to `location` (status 302 unless `:status` is given)."
  @spec redirect(String.t(), keyword()) :: t()
  def redirect(location, opts \\ []),
    do: "" |> new(Keyword.put_new(opts, :status, 302)) |> put_header("location", location)

  @doc "Sets a header, replacing any with the same name (case-insensitive)."
  @spec put_header(t(), String.t(), String.t()) :: t()
  def put_header(%__MODULE__{} = r, name, value) do
    key = String.downcase(name)
    headers = Enum.reject(r.headers, fn {k, _} -> String.downcase(k) == key end)
    %{r | headers: headers ++ [{name, to_string(value)}]}
  end

  @doc "Adds a value to a header (a multi-value header when it is set already)."
  @spec add_header(t(), String.t(), String.t()) :: t()
  def add_header(%__MODULE__{} = r, name, value),
    do: %{r | headers: r.headers ++ [{name, to_string(value)}]}

  @doc ~S|Adds a cookie, as a `Set-Cookie` value: `"id=abc; Path=/; Secure; HttpOnly"`.|
  @spec put_cookie(t(), String.t()) :: t()
  def put_cookie(%__MODULE__{} = r, cookie), do: %{r | cookies: r.cookies ++ [cookie]}

  @doc "Sets the status code."
  @spec put_status(t(), 100..599) :: t()
  def put_status(%__MODULE__{} = r, status), do: %{r | status: status}

  @doc """
  Sets the format the request `event` calls for: `:v2` for payload format
  2.0 (HTTP APIs, function URLs), `:alb_multi` for a load balancer whose
  request has `multiValueHeaders`, `:alb` for another load balancer
  request, else `:v1`.
  """
  @spec for_event(t(), map()) :: t()
  def for_event(%__MODULE__{} = r, event), do: %{r | format: format_of(event)}

  @doc "The format of a request event (see `for_event/2`)."
  @spec format_of(map()) :: format()
  def format_of(%{"version" => "2.0"}), do: :v2

  def format_of(%{"requestContext" => %{"elb" => _}} = event) do
    if is_map(event["multiValueHeaders"]), do: :alb_multi, else: :alb
  end

  def format_of(_event), do: :v1

  @doc "The response as the map Lambda returns (see the formats above)."
  @spec to_map(t()) :: map()
  def to_map(%__MODULE__{format: :v2} = r) do
    headers =
      Enum.reduce(r.headers, %{}, fn {k, v}, acc ->
        Map.update(acc, String.downcase(k), v, &(&1 <> ", " <> v))
      end)

    base(r)
    |> Map.put("headers", headers)
    |> then(&if r.cookies == [], do: &1, else: Map.put(&1, "cookies", r.cookies))
  end

  def to_map(%__MODULE__{format: :v1} = r) do
    {single, multi} = Enum.split_with(grouped(r), fn {_, values} -> length(values) == 1 end)

    base(r)
    |> Map.put("headers", Map.new(single, fn {k, [v]} -> {k, v} end))
    |> then(&if multi == [], do: &1, else: Map.put(&1, "multiValueHeaders", Map.new(multi)))
  end

  # One value per name: the load balancer takes the last of a repeated
  # header, and one Set-Cookie.
  def to_map(%__MODULE__{format: :alb} = r) do
    cookies = Enum.take(r.cookies, -1)

    headers =
      Enum.map(grouped(%{r | cookies: cookies}), fn
        {name, values} -> {name, Enum.join(values, ", ")}
      end)

    r |> base() |> Map.put("headers", Map.new(headers)) |> status_description(r)
  end

  def to_map(%__MODULE__{format: :alb_multi} = r) do
    r |> base() |> Map.put("multiValueHeaders", Map.new(grouped(r))) |> status_description(r)
  end

  # Headers and cookies (as Set-Cookie) by name, values in order.
  defp grouped(r) do
    Enum.reduce(r.headers ++ Enum.map(r.cookies, &{"Set-Cookie", &1}), %{}, fn {k, v}, acc ->
      Map.update(acc, k, [v], &(&1 ++ [v]))
    end)
  end

  defp status_description(map, r),
    do: Map.put(map, "statusDescription", "#{r.status} #{reason(r.status)}")

  defp base(r),
    do: %{"statusCode" => r.status, "body" => r.body, "isBase64Encoded" => r.base64?}

  defp put_new_header(r, name, value) do
    if Enum.any?(r.headers, fn {k, _} -> String.downcase(k) == name end),
      do: r,
      else: put_header(r, name, value)
  end

  @reasons %{
    200 => "OK",
    201 => "Created",
    202 => "Accepted",
    204 => "No Content",
    301 => "Moved Permanently",
    302 => "Found",
    303 => "See Other",
    304 => "Not Modified",
    307 => "Temporary Redirect",
    308 => "Permanent Redirect",
    400 => "Bad Request",
    401 => "Unauthorized",
    403 => "Forbidden",
    404 => "Not Found",
    405 => "Method Not Allowed",
    409 => "Conflict",
    422 => "Unprocessable Entity",
    429 => "Too Many Requests",
    500 => "Internal Server Error",
    502 => "Bad Gateway",
    503 => "Service Unavailable",
    504 => "Gateway Timeout"
  }

  defp reason(status), do: Map.get(@reasons, status, "Status")

  defimpl LambdaRuntime.JSON.Encoder do
    def encode(response), do: LambdaRuntime.HTTPResponse.to_map(response)
  end
end
