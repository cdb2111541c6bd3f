defmodule LambdaRuntime.Events.HTTP do
  @moduledoc false
  # What the HTTP request events share: the body, base64-decoded when the
  # event says it is encoded.

  alias LambdaRuntime.Events.Schema

  def decode_body(%{is_base64_encoded: true, body: body} = request) when is_binary(body) do
    with {:ok, bytes} <- Schema.base64(body, "body"), do: {:ok, %{request | body: bytes}}
  end

  def decode_body(request), do: {:ok, request}

  # The struct keys of the payload format 2.0 (an HTTP API's and a
  # function URL's requests).
  def v2_keys do
    [:version, :route_key, :http_method, :path, :raw_path, :raw_query_string, :cookies] ++
      [:headers, :query_string_parameters, :path_parameters, :stage_variables] ++
      [:request_context, :body, :is_base64_encoded, :raw, extra: %{}]
  end
end

defmodule LambdaRuntime.Events.APIGatewayV1 do
  @moduledoc """
  An API Gateway REST API request, Lambda proxy integration (payload
  format 1.0; also an HTTP API with format 1.0).

  `body` is the request body's bytes: base64-decoded when the event had
  `isBase64Encoded: true` (`is_base64_encoded` says which). Headers keep
  the case the client sent; `multi_value_headers` and
  `multi_value_query_string_parameters` have every value. `request_context`
  is the event's `requestContext` object as it came (`"identity"`,
  `"authorizer"`, `"stage"`, ...). `raw` is the whole event, for
  `LambdaRuntime.HTTPResponse.for_event/2`; `extra` has the top-level keys
  no field names.
  """
  alias LambdaRuntime.Events.{HTTP, Schema}

  defstruct [
    :resource,
    :path,
    :http_method,
    :headers,
    :multi_value_headers,
    :query_string_parameters,
    :multi_value_query_string_parameters,
    :path_parameters,
    :stage_variables,
    :request_context,
    :body,
    :is_base64_encoded,
    :version,
    :raw,
    extra: %{}
  ]

  @type t :: %__MODULE__{}

  @fields [
    {:resource, "resource", :string},
    {:path, "path", :string},
    {:http_method, "httpMethod", :string},
    {:headers, "headers", :map},
    {:multi_value_headers, "multiValueHeaders", :map},
    {:query_string_parameters, "queryStringParameters", :map},
    {:multi_value_query_string_parameters, "multiValueQueryStringParameters", :map},
    {:path_parameters, "pathParameters", :map},
    {:stage_variables, "stageVariables", :map},
    {:request_context, "requestContext", :map},
    {:body, "body", :string},
    {:is_base64_encoded, "isBase64Encoded", :boolean},
    {:version, "version", :string}
  ]

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event) do
    with {:ok, request} <- Schema.build(__MODULE__, event, @fields, ""),
         do: HTTP.decode_body(%{request | raw: event})
  end
end

defmodule LambdaRuntime.Events.APIGatewayV2 do
  @moduledoc """
  An API Gateway HTTP API request (payload format 2.0).

  `http_method` and `path` come from `requestContext.http`; `raw_path`,
  `raw_query_string`, `cookies` (a list of `name=value`), `headers`
  (lower-case names, repeated values joined with commas) and
  `query_string_parameters` as the event has them. `body` is the bytes,
  base64-decoded when `is_base64_encoded`. `request_context` is the event's
  `requestContext` object (`"authorizer"`, `"http"`, `"stage"`, ...). `raw`
  is the whole event; `extra` the top-level keys no field names.
  """
  alias LambdaRuntime.Events.{HTTP, Schema}

  defstruct HTTP.v2_keys()

  @type t :: %__MODULE__{}

  @fields [
    {:version, "version", :string},
    {:route_key, "routeKey", :string},
    {:raw_path, "rawPath", :string},
    {:raw_query_string, "rawQueryString", :string},
    {:cookies, "cookies", {:list, :string}},
    {:headers, "headers", :map},
    {:query_string_parameters, "queryStringParameters", :map},
    {:path_parameters, "pathParameters", :map},
    {:stage_variables, "stageVariables", :map},
    {:request_context, "requestContext", :map},
    {:body, "body", :string},
    {:is_base64_encoded, "isBase64Encoded", :boolean}
  ]

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event), do: decode(__MODULE__, event)

  @doc false
  def decode(module, event) do
    with {:ok, request} <- Schema.build(module, event, @fields, ""),
         {:ok, http} <-
           Schema.cast(get_in_map(request.request_context, "http"), :map, "requestContext.http"),
         {:ok, method} <-
           Schema.cast(get_in_map(http, "method"), :string, "requestContext.http.method"),
         {:ok, path} <- Schema.cast(get_in_map(http, "path"), :string, "requestContext.http.path") do
      HTTP.decode_body(%{
        request
        | raw: event,
          http_method: method,
          path: path || request.raw_path
      })
    end
  end

  defp get_in_map(map, key) when is_map(map), do: Map.get(map, key)
  defp get_in_map(_, _), do: nil
end

defmodule LambdaRuntime.Events.FunctionURL do
  @moduledoc """
  A Lambda function URL request: the payload format 2.0 of an HTTP API,
  so the same fields as `LambdaRuntime.Events.APIGatewayV2` (its
  `request_context` has no route or stage of its own, and `"authorizer"`
  only with IAM auth).
  """
  defstruct LambdaRuntime.Events.HTTP.v2_keys()

  @type t :: %__MODULE__{}

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event), do: LambdaRuntime.Events.APIGatewayV2.decode(__MODULE__, event)
end

defmodule LambdaRuntime.Events.ALB do
  @moduledoc """
  An Application Load Balancer request to a Lambda target group.

  `target_group_arn` comes from `requestContext.elb`. The load balancer
  sends either `headers` and `query_string_parameters` or, with
  multi-value headers turned on for the target group,
  `multi_value_headers` and `multi_value_query_string_parameters`: the
  other pair is nil. Query values arrive as the client sent them
  (percent-encoded). `body` is the bytes, base64-decoded when
  `is_base64_encoded`. `raw` is the whole event; `extra` the top-level keys
  no field names.
  """
  alias LambdaRuntime.Events.{HTTP, Schema}

  defstruct [
    :http_method,
    :path,
    :query_string_parameters,
    :multi_value_query_string_parameters,
    :headers,
    :multi_value_headers,
    :target_group_arn,
    :request_context,
    :body,
    :is_base64_encoded,
    :raw,
    extra: %{}
  ]

  @type t :: %__MODULE__{}

  @fields [
    {:http_method, "httpMethod", :string},
    {:path, "path", :string},
    {:query_string_parameters, "queryStringParameters", :map},
    {:multi_value_query_string_parameters, "multiValueQueryStringParameters", :map},
    {:headers, "headers", :map},
    {:multi_value_headers, "multiValueHeaders", :map},
    {:request_context, "requestContext", :map},
    {:body, "body", :string},
    {:is_base64_encoded, "isBase64Encoded", :boolean}
  ]

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event) do
    with {:ok, request} <- Schema.build(__MODULE__, event, @fields, ""),
         {:ok, elb} <-
           Schema.cast((request.request_context || %{})["elb"], :map, "requestContext.elb"),
         {:ok, arn} <-
           Schema.cast(
             (elb || %{})["targetGroupArn"],
             :string,
             "requestContext.elb.targetGroupArn"
           ) do
      HTTP.decode_body(%{request | raw: event, target_group_arn: arn})
    end
  end
end
