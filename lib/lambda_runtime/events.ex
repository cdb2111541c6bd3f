defmodule LambdaRuntime.Events do
  @moduledoc """
  Typed events: the raw JSON map Lambda delivers, decoded into a struct
  of its source, with field names in Elixir style and the encoded parts
  decoded (base64 bodies and Kinesis data, S3 keys, DynamoDB
  AttributeValues, gzipped CloudWatch Logs).

  | source | `source/1` | struct |
  | --- | --- | --- |
  | API Gateway REST API (and payload format 1.0) | `:apigateway_rest` | `LambdaRuntime.Events.APIGatewayV1` |
  | API Gateway HTTP API (payload format 2.0) | `:apigateway_http` | `LambdaRuntime.Events.APIGatewayV2` |
  | Lambda function URL | `:function_url` | `LambdaRuntime.Events.FunctionURL` |
  | Application Load Balancer | `:alb` | `LambdaRuntime.Events.ALB` |
  | SQS | `:sqs` | `LambdaRuntime.Events.SQS` |
  | SNS | `:sns` | `LambdaRuntime.Events.SNS` |
  | S3 notifications | `:s3` | `LambdaRuntime.Events.S3` |
  | EventBridge | `:eventbridge` | `LambdaRuntime.Events.EventBridge` |
  | EventBridge scheduled rule | `:scheduled` | `LambdaRuntime.Events.Scheduled` |
  | DynamoDB Streams | `:dynamodb` | `LambdaRuntime.Events.DynamoDB` |
  | Kinesis Data Streams | `:kinesis` | `LambdaRuntime.Events.Kinesis` |
  | CloudWatch Logs subscription | `:cloudwatch_logs` | `LambdaRuntime.Events.CloudWatchLogs` |
  | Cognito user pool trigger | `:cognito` | `LambdaRuntime.Events.Cognito` |

  Nothing is dropped: each struct (and each record) has an `extra` map with
  the keys no field names, and the HTTP and Cognito structs keep the whole
  event in `raw` (what `LambdaRuntime.HTTPResponse.for_event/2` and
  `Cognito.respond/2` need). Decoding never raises on bad input: an event
  whose fields have the wrong type, or whose encoded parts do not decode,
  gives `{:error, reason}` naming the field.

  ## Decoding explicitly

      def handle(event, _context) do
        case LambdaRuntime.Events.decode(event) do
          {:ok, %LambdaRuntime.Events.SQS{records: messages}} -> ...
          {:ok, %LambdaRuntime.Events.S3{records: [object | _]}} -> object.key
          {:error, reason} -> {:error, reason}
        end
      end

  `decode(event, :sqs)` (or `LambdaRuntime.Events.SQS.decode(event)`)
  decodes as one source without recognising it.

  ## Decoded before the handler is called

  `use LambdaRuntime.Events` in a handler module makes the runtime decode
  every event of a known source before calling it (a function handler or
  a `LambdaRuntime.Handler` behaviour); events of no known source (a
  direct `Invoke` with your own JSON) arrive as they are. An event that is
  recognised but fails to decode fails the invocation with a
  `LambdaRuntime.Events.DecodeError` naming the field.

      defmodule Orders do
        use LambdaRuntime.Events

        def handle(%LambdaRuntime.Events.SQS{records: messages}, _context) do
          for m <- messages, do: Orders.apply(LambdaRuntime.JSON.decode!(m.body))
          :ok
        end
      end

  The option `only: [:sqs, :s3]` limits decoding to those sources.
  """

  alias LambdaRuntime.Events

  @modules %{
    apigateway_rest: Events.APIGatewayV1,
    apigateway_http: Events.APIGatewayV2,
    function_url: Events.FunctionURL,
    alb: Events.ALB,
    sqs: Events.SQS,
    sns: Events.SNS,
    s3: Events.S3,
    eventbridge: Events.EventBridge,
    scheduled: Events.Scheduled,
    dynamodb: Events.DynamoDB,
    kinesis: Events.Kinesis,
    cloudwatch_logs: Events.CloudWatchLogs,
    cognito: Events.Cognito
  }

  @type source ::
          :apigateway_rest
          | :apigateway_http
          | :function_url
          | :alb
          | :sqs
          | :sns
          | :s3
          | :eventbridge
          | :scheduled
          | :dynamodb
          | :kinesis
          | :cloudwatch_logs
          | :cognito

  @doc "Every source `source/1` recognises."
  @spec sources() :: [source()]
  def sources, do: @modules |> Map.keys() |> Enum.sort()

  @doc "The struct module of a source."
  @spec module(source()) :: module()
  def module(source), do: Map.fetch!(@modules, source)

  @doc """
  Recognises the source of a raw event from its shape (the `Records`'
  `eventSource`, `requestContext`, `detail-type`, `awslogs`,
  `triggerSource`, ...); nil when it is none of them.
  """
  @spec source(term()) :: source() | nil
  def source(%{"Records" => [%{"eventSource" => "aws:sqs"} | _]}), do: :sqs
  def source(%{"Records" => [%{"eventSource" => "aws:s3"} | _]}), do: :s3
  def source(%{"Records" => [%{"eventSource" => "aws:dynamodb"} | _]}), do: :dynamodb
  def source(%{"Records" => [%{"eventSource" => "aws:kinesis"} | _]}), do: :kinesis
  def source(%{"Records" => [%{"EventSource" => "aws:sns"} | _]}), do: :sns
  def source(%{"awslogs" => %{"data" => _}}), do: :cloudwatch_logs

  def source(%{"triggerSource" => t, "userPoolId" => _}) when is_binary(t), do: :cognito

  def source(%{"detail-type" => "Scheduled Event", "source" => "aws.events"}), do: :scheduled
  def source(%{"detail-type" => _, "source" => _, "detail" => _}), do: :eventbridge

  def source(%{"requestContext" => %{"elb" => _}}), do: :alb

  def source(%{"version" => "2.0", "requestContext" => %{"http" => _} = context}) do
    if is_binary(context["domainName"]) and
         String.contains?(context["domainName"], ".lambda-url."),
       do: :function_url,
       else: :apigateway_http
  end

  def source(%{"httpMethod" => _, "requestContext" => %{}}), do: :apigateway_rest
  def source(_event), do: nil

  @doc """
  Decodes a raw event into the struct of its source (`source/1`), or of
  `source` when given. `{:error, reason}` names the field that did not
  decode, or says that the source is not recognised.
  """
  @spec decode(term(), source() | nil) :: {:ok, struct()} | {:error, String.t()}
  def decode(event, source \\ nil)

  def decode(event, nil) do
    case source(event) do
      nil -> {:error, "not an event of a known source (#{shape(event)})"}
      source -> decode(event, source)
    end
  end

  def decode(event, source) when is_map_key(@modules, source) do
    case Map.fetch!(@modules, source).decode(event) do
      {:ok, struct} -> {:ok, struct}
      {:error, reason} -> {:error, "#{source} event: #{reason}"}
    end
  end

  def decode(_event, source),
    do: {:error, "unknown source #{inspect(source)}; the sources are #{inspect(sources())}"}

  @doc "As `decode/2`, raising `LambdaRuntime.Events.DecodeError`."
  @spec decode!(term(), source() | nil) :: struct()
  def decode!(event, source \\ nil) do
    case decode(event, source) do
      {:ok, struct} -> struct
      {:error, reason} -> raise Events.DecodeError, reason
    end
  end

  defp shape(event) when is_map(event) do
    keys = event |> Map.keys() |> Enum.take(6) |> Enum.map_join(", ", &inspect/1)
    "an object with keys #{keys}" <> if(map_size(event) > 6, do: ", ...", else: "")
  end

  defp shape(event) when is_list(event), do: "an array"
  defp shape(event), do: inspect(event, limit: 5, printable_limit: 40)

  defmacro __using__(opts) do
    only = Keyword.get(opts, :only, :all)

    quote do
      @doc false
      def __lambda_events__, do: unquote(only)
    end
  end

  @doc false
  # Called by the runtime for handlers that `use LambdaRuntime.Events`.
  def for_handler(event, only) do
    case source(event) do
      nil -> event
      source -> if only == :all or source in only, do: decode!(event, source), else: event
    end
  end
end

defmodule LambdaRuntime.Events.DecodeError do
  @moduledoc "An event of a known source that does not decode; the message names the field."
  defexception [:message]
end
