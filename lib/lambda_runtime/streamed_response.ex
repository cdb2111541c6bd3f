defmodule LambdaRuntime.StreamedResponse do
  @moduledoc """
  A streamed response: chunks go to the caller as the handler produces them
  (`Lambda-Runtime-Function-Response-Mode: streaming`), for functions
  invoked with response streaming (`InvokeWithResponseStream`, Function URLs
  with `RESPONSE_STREAM`).

  A handler streams by returning (directly or as `{:ok, stream}`):

    * `LambdaRuntime.StreamedResponse.new(enumerable, content_type: ...)`;
    * `LambdaRuntime.StreamedResponse.http(enumerable, status: ..., headers: ..., cookies: ...)`
      for Function URLs and API Gateway: the HTTP status, headers and cookies
      go first as a JSON prelude;
    * or any lazy enumerable: a `Stream` (`Stream.map/2`, `Stream.resource/3`, ...),
      a `File.Stream`, an `IO.Stream`, or a function of arity 2; it is sent
      as `application/octet-stream`. Lists and maps are not streams: they
      are JSON responses.

  Every element is iodata and becomes one HTTP chunk, written before the
  next element is computed, so memory stays flat however long the stream.
  The enumerable runs in the handler's process. If it raises before the
  first chunk, the invocation fails the usual way (`/error`); after, the
  error goes to Lambda as the HTTP trailers `Lambda-Runtime-Function-Error-Type`
  and `Lambda-Runtime-Function-Error-Body` (base64 of the error JSON).

      alias LambdaRuntime.StreamedResponse

      def handle(_event, _context) do
        {:ok, StreamedResponse.new(Stream.map(1..3, &"line \#{&1}\\n"), content_type: "text/plain")}
      end

  ## The name

  The value is a response (what a handler returns), not an enumerable, and
  its name must not hide Elixir's `Stream`: with the former name,
  `LambdaRuntime.Stream`, an `alias` made `Stream.map/2` in the handler's
  module refer to it. `LambdaRuntime.Stream` remains for one release as a
  deprecated alias of this module.
  """

  defstruct [:enumerable, content_type: "application/octet-stream"]

  @type t :: %__MODULE__{enumerable: Enumerable.t(), content_type: String.t()}

  @http_content_type "application/vnd.awslambda.http-integration-response"

  @doc "A stream of `enumerable`'s chunks with the given `:content_type`."
  @spec new(Enumerable.t(), keyword()) :: t()
  def new(enumerable, opts \\ []) do
    %__MODULE__{
      enumerable: enumerable,
      content_type: Keyword.get(opts, :content_type, "application/octet-stream")
    }
  end

  @doc """
  A streamed HTTP response for Function URLs and API Gateway: a JSON prelude
  with `statusCode`, `headers` and `cookies`, then eight zero bytes, then
  the body, each sent as its own chunk.

  Options: `:status` (default 200), `:headers` (a map or a list of
  `{name, value}` pairs, default `%{}`),
  `:cookies` (a list of `Set-Cookie` values, default `[]`).
  """
  @spec http(Enumerable.t(), keyword()) :: t()
  def http(body, opts \\ []) do
    prelude = %{
      "statusCode" => Keyword.get(opts, :status, 200),
      "headers" => opts |> Keyword.get(:headers, %{}) |> Map.new(),
      "cookies" => Keyword.get(opts, :cookies, [])
    }

    %__MODULE__{
      enumerable: Stream.concat([LambdaRuntime.JSON.encode!(prelude), <<0::64>>], body),
      content_type: @http_content_type
    }
  end

  @doc "Whether a handler's return value is to be streamed, and as what."
  @spec from_response(term()) :: {:ok, t()} | :error
  def from_response(%__MODULE__{} = stream), do: {:ok, stream}

  # A value built as %LambdaRuntime.Stream{} (the deprecated name).
  def from_response(%{__struct__: LambdaRuntime.Stream, enumerable: enum, content_type: type}),
    do: {:ok, %__MODULE__{enumerable: enum, content_type: type}}

  def from_response(%s{} = enum) when s in [Stream, File.Stream, IO.Stream], do: {:ok, new(enum)}
  def from_response(fun) when is_function(fun, 2), do: {:ok, new(fun)}
  def from_response(_), do: :error
end
