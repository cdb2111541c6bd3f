defmodule LambdaRuntime.Tools.New.Handlers do
  @moduledoc """
  The kind-specific files of a generated project: the handler
  (`lib/APP.ex`), its test (`test/APP_test.exs`) and a sample event
  (`events/event.json`), for a plain JSON function (`:basic`), a function
  behind an API Gateway HTTP API (`:http`) and an SQS consumer with
  partial batch failures (`:sqs`).
  """

  alias LambdaRuntime.Tools.New

  @doc "`[{relative_path, content}]`."
  def files(%New{} = p) do
    [
      {"lib/#{p.app}.ex", handler(p)},
      {"test/#{p.app}_test.exs", test(p)},
      {"events/event.json", event(p)}
    ]
  end

  @doc "A sentence for the README."
  def description(%New{kind: :basic}),
    do: "It answers a JSON event (`{\"name\": \"Ada\"}`) with a greeting."

  def description(%New{kind: :http}),
    do:
      "It answers `GET /hello?name=Ada` behind an API Gateway HTTP API (or a function URL), " <>
        "with typed events (`LambdaRuntime.Events`) and `LambdaRuntime.HTTPResponse`."

  def description(%New{kind: :sqs}),
    do:
      "It consumes an SQS queue and reports the messages that failed " <>
        "(`ReportBatchItemFailures`) with `LambdaRuntime.BatchResponse`, so only they are retried."

  defp handler(%New{kind: :basic} = p) do
    """
    defmodule #{p.module} do
      @moduledoc \"\"\"
      The function's handler: `_HANDLER` is `#{p.module}.handle` (`lambda:`
      in mix.exs). It gets the decoded JSON event and a
      `LambdaRuntime.Context`, and returns `{:ok, response}` or
      `{:error, reason}`.
      \"\"\"
      require Logger

      def handle(%{"name" => name}, context) do
        Logger.info("greeting \#{name}")
        {:ok, %{message: "\#{greeting()}, \#{name}!", request_id: context.request_id}}
      end

      def handle(_event, _context), do: {:error, "expected an event with a name"}

      defp greeting, do: Application.get_env(:#{p.app}, :greeting, "Hello")
    end
    """
  end

  defp handler(%New{kind: :http} = p) do
    """
    defmodule #{p.module} do
      @moduledoc \"\"\"
      The function's handler, behind an API Gateway HTTP API: `_HANDLER` is
      `#{p.module}.handle`. `use LambdaRuntime.Events` makes the runtime
      decode the request into a `LambdaRuntime.Events.APIGatewayV2` (or
      `FunctionURL`) struct first.
      \"\"\"
      use LambdaRuntime.Events, only: [:apigateway_http, :function_url]

      alias LambdaRuntime.Events.{APIGatewayV2, FunctionURL}
      alias LambdaRuntime.HTTPResponse

      def handle(%struct{} = request, _context) when struct in [APIGatewayV2, FunctionURL] do
        request
        |> route()
        |> HTTPResponse.for_event(request.raw)
      end

      defp route(%{http_method: "GET", path: "/hello"} = request) do
        name = (request.query_string_parameters || %{})["name"] || "world"
        HTTPResponse.json(%{message: "\#{greeting()}, \#{name}!"})
      end

      defp route(request) do
        HTTPResponse.json(%{error: "no route for \#{request.http_method} \#{request.path}"}, status: 404)
      end

      defp greeting, do: Application.get_env(:#{p.app}, :greeting, "Hello")
    end
    """
  end

  defp handler(%New{kind: :sqs} = p) do
    """
    defmodule #{p.module} do
      @moduledoc \"\"\"
      The function's handler, an SQS consumer: `_HANDLER` is
      `#{p.module}.handle`. Each message body is a JSON order; a message that
      fails is reported in `batchItemFailures`, so SQS retries only it (the
      event source mapping has `ReportBatchItemFailures`, see template.yaml).
      \"\"\"
      require Logger

      alias LambdaRuntime.BatchResponse

      def handle(event, _context) do
        BatchResponse.process(event, fn message ->
          message["body"]
          |> LambdaRuntime.JSON.decode()
          |> process()
        end)
      end

      defp process({:ok, %{"order_id" => id, "action" => action}}) do
        Logger.info("order \#{id}: \#{action}")
        :ok
      end

      defp process({:ok, other}), do: {:error, {:not_an_order, other}}
      defp process({:error, error}), do: {:error, Exception.message(error)}
    end
    """
  end

  defp test(%New{kind: :basic} = p) do
    """
    defmodule #{p.module}Test do
      use ExUnit.Case, async: true
      import LambdaRuntime.Test

      test "greets" do
        assert {:ok, %{"message" => "Hello, Ada!"}} = invoke("#{p.module}.handle", %{"name" => "Ada"})
      end

      test "needs a name" do
        error = assert_error(invoke("#{p.module}.handle", %{}), "HandlerError")
        assert error["errorMessage"] == "expected an event with a name"
      end

      test "the sample event" do
        event = "events/event.json" |> File.read!() |> LambdaRuntime.JSON.decode!()
        assert_ok(invoke("#{p.module}.handle", event))
      end
    end
    """
  end

  defp test(%New{kind: :http} = p) do
    """
    defmodule #{p.module}Test do
      use ExUnit.Case, async: true
      import LambdaRuntime.Test

      defp request(path, query) do
        LambdaRuntime.Samples.load!("apigateway-http")
        |> Map.merge(%{"rawPath" => path, "queryStringParameters" => query})
        |> put_in(["requestContext", "http"], %{"method" => "GET", "path" => path})
      end

      test "GET /hello" do
        response = assert_http_status(invoke("#{p.module}.handle", request("/hello", %{"name" => "Ada"})), 200)
        assert LambdaRuntime.JSON.decode!(response["body"]) == %{"message" => "Hello, Ada!"}
      end

      test "another path is a 404" do
        assert_http_status(invoke("#{p.module}.handle", request("/nope", nil)), 404)
      end

      test "the sample event" do
        event = "events/event.json" |> File.read!() |> LambdaRuntime.JSON.decode!()
        assert_http_status(invoke("#{p.module}.handle", event), 200)
      end
    end
    """
  end

  defp test(%New{kind: :sqs} = p) do
    """
    defmodule #{p.module}Test do
      use ExUnit.Case, async: true
      import LambdaRuntime.Test

      test "a batch that succeeds reports no failures" do
        event = LambdaRuntime.Samples.load!("sqs")
        assert_batch_failures(invoke("#{p.module}.handle", event), [])
      end

      test "only the message that fails is reported" do
        event =
          update_in(LambdaRuntime.Samples.load!("sqs"), ["Records", Access.at(1), "body"], fn _ ->
            "not json"
          end)

        failed = get_in(event, ["Records", Access.at(1), "messageId"])
        assert_batch_failures(invoke("#{p.module}.handle", event), [failed])
      end
    end
    """
  end

  defp event(%New{kind: :basic}), do: ~s({"name": "Ada"}\n)

  defp event(%New{kind: :http}) do
    """
    {
      "version": "2.0",
      "routeKey": "GET /hello",
      "rawPath": "/hello",
      "rawQueryString": "name=Ada",
      "headers": {"accept": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com"},
      "queryStringParameters": {"name": "Ada"},
      "requestContext": {
        "accountId": "123456789012",
        "apiId": "abc123",
        "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
        "http": {"method": "GET", "path": "/hello", "protocol": "HTTP/1.1", "sourceIp": "198.51.100.17", "userAgent": "curl/8.5.0"},
        "requestId": "example-request",
        "routeKey": "GET /hello",
        "stage": "$default",
        "timeEpoch": 1795780800000
      },
      "isBase64Encoded": false
    }
    """
  end

  defp event(%New{kind: :sqs}) do
    """
    {
      "Records": [
        {
          "messageId": "00000000-0000-4000-8000-000000000001",
          "receiptHandle": "example-receipt-1",
          "body": "{\\"order_id\\": 42, \\"action\\": \\"ship\\"}",
          "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795780800000"},
          "messageAttributes": {},
          "eventSource": "aws:sqs",
          "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
          "awsRegion": "eu-west-1"
        },
        {
          "messageId": "00000000-0000-4000-8000-000000000002",
          "receiptHandle": "example-receipt-2",
          "body": "not an order",
          "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1795780800500"},
          "messageAttributes": {},
          "eventSource": "aws:sqs",
          "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:orders",
          "awsRegion": "eu-west-1"
        }
      ]
    }
    """
  end
end
