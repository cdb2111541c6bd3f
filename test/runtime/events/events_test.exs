defmodule LambdaRuntime.EventsTest do
  # Every source decoded from the samples (priv/samples) and the fixtures
  # (test/fixtures/events), field by field.
  use ExUnit.Case, async: true

  alias LambdaRuntime.{Events, Samples}
  alias LambdaRuntime.Events.Decimal

  @fixtures LambdaRuntime.TestSupport.Paths.fixture("events")

  defp fixture(name),
    do: LambdaRuntime.JSON.decode!(File.read!(Path.join(@fixtures, name <> ".json")))

  test "recognises the source of every sample and fixture" do
    expected = %{
      "apigateway-rest" => :apigateway_rest,
      "apigateway-http" => :apigateway_http,
      "function-url" => :function_url,
      "alb" => :alb,
      "sqs" => :sqs,
      "sns" => :sns,
      "s3" => :s3,
      "eventbridge" => :eventbridge,
      "scheduled" => :scheduled,
      "dynamodb-stream" => :dynamodb,
      "kinesis" => :kinesis,
      "cloudwatch-logs" => :cloudwatch_logs,
      "cognito-pre-signup" => :cognito
    }

    assert Enum.sort(Map.keys(expected)) == Enum.sort(Samples.names())

    for {name, source} <- expected do
      event = Samples.load!(name)
      assert Events.source(event) == source, name
      assert {:ok, struct} = Events.decode(event), name
      assert struct.__struct__ == Events.module(source)
    end

    for {file, source} <- [
          {"apigateway-rest-base64", :apigateway_rest},
          {"apigateway-http-base64", :apigateway_http},
          {"alb-multi-value", :alb},
          {"sqs-fifo", :sqs},
          {"s3-encoded-keys", :s3},
          {"dynamodb-types", :dynamodb},
          {"cloudwatch-logs-control", :cloudwatch_logs},
          {"cognito-pre-token-generation", :cognito},
          {"eventbridge-s3", :eventbridge}
        ] do
      assert Events.source(fixture(file)) == source, file
      assert {:ok, _} = Events.decode(fixture(file)), file
    end

    assert Events.source(%{"name" => "Ada"}) == nil
    assert Events.source(%{"Records" => []}) == nil
    assert Events.source([1, 2]) == nil
  end

  test "an unknown event, or an unknown source name, is an error that says so" do
    assert {:error, message} = Events.decode(%{"name" => "Ada"})
    assert message =~ ~s[not an event of a known source (an object with keys "name")]
    assert {:error, message} = Events.decode(%{}, :carrier_pigeon)
    assert message =~ "unknown source :carrier_pigeon"

    assert_raise Events.DecodeError,
                 ~r/sqs event: Records\[0\]\.body: expected a string, got 42/,
                 fn ->
                   Events.decode!(%{"Records" => [%{"eventSource" => "aws:sqs", "body" => 42}]})
                 end
  end

  test "API Gateway REST: fields, a base64 body decoded, raw and extra kept" do
    {:ok, %Events.APIGatewayV1{} = r} = Events.decode(Samples.load!("apigateway-rest"))
    assert r.http_method == "GET"
    assert r.path == "/orders/42"
    assert r.resource == "/orders/{id}"
    assert r.path_parameters == %{"id" => "42"}
    assert r.multi_value_query_string_parameters == %{"expand" => ["items"]}
    assert r.request_context["stage"] == "prod"
    assert r.raw == Samples.load!("apigateway-rest")
    assert r.extra == %{}

    {:ok, b} = Events.decode(fixture("apigateway-rest-base64"))
    assert b.body == <<0, 1, 2, 3, 254, 255>>
    assert b.is_base64_encoded
    assert b.stage_variables == %{"table" => "uploads-prod"}
    assert b.request_context["authorizer"]["claims"]["email"] == "ada@example.com"
  end

  test "HTTP API and function URL: method and path from requestContext.http" do
    {:ok, %Events.APIGatewayV2{} = r} = Events.decode(Samples.load!("apigateway-http"))
    assert {r.http_method, r.path, r.route_key} == {"POST", "/orders", "POST /orders"}
    assert r.cookies == ["session=abc123", "theme=dark"]
    assert r.body == ~s({"item":"book","quantity":2})
    refute r.is_base64_encoded

    {:ok, b} = Events.decode(fixture("apigateway-http-base64"))
    assert b.body == <<137, "PNG", 13, 10, 26, 10>>
    assert b.path_parameters == %{"name" => "cat.png"}

    {:ok, %Events.FunctionURL{} = u} = Events.decode(Samples.load!("function-url"))
    assert {u.http_method, u.raw_path, u.raw_query_string} == {"GET", "/hello", "name=Ada"}
    assert u.query_string_parameters == %{"name" => "Ada"}
  end

  test "ALB: the target group, and either single- or multi-value headers" do
    {:ok, %Events.ALB{} = r} = Events.decode(Samples.load!("alb"))
    assert r.target_group_arn =~ "targetgroup/lambda-orders"
    assert r.headers["host"] =~ "elb.amazonaws.com"
    assert r.multi_value_headers == nil

    {:ok, m} = Events.decode(fixture("alb-multi-value"))
    assert m.headers == nil
    assert m.multi_value_query_string_parameters["status"] == ["open", "late"]
    assert m.multi_value_headers["x-forwarded-for"] == ["198.51.100.17, 10.0.0.1"]
  end

  test "SQS: messages with attributes; FIFO attributes kept" do
    {:ok, %Events.SQS{records: [a, b]}} = Events.decode(Samples.load!("sqs"))
    assert %Events.SQS.Message{message_id: "059f36b4-87a3-44ab-83d2-661975830a7d"} = a
    assert a.body == ~s({"order_id":42,"action":"ship"})
    assert a.attributes["ApproximateReceiveCount"] == "1"
    assert a.message_attributes["priority"]["stringValue"] == "high"
    assert a.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:orders"
    assert b.message_attributes == %{}

    {:ok, %{records: [fifo]}} = Events.decode(fixture("sqs-fifo"))
    assert fifo.attributes["MessageGroupId"] == "order-42"
    assert fifo.message_attributes["checksum"]["binaryValue"] == "3q2+7w=="
  end

  test "SNS: the Sns object flattened into the record" do
    {:ok, %Events.SNS{records: [r]}} = Events.decode(Samples.load!("sns"))
    assert r.message == ~s({"order_id":42,"status":"shipped"})
    assert r.subject == "Order shipped"
    assert r.topic_arn == "arn:aws:sns:us-east-1:123456789012:order-events"
    assert r.message_attributes["event_type"]["Value"] == "order.shipped"
    assert r.event_subscription_arn =~ ":order-events:"
    assert r.extra == %{}
    assert r.sns_extra == %{}
  end

  test "S3: object keys URL-decoded as AWS sends them (+ is a space)" do
    {:ok, %Events.S3{records: [r]}} = Events.decode(Samples.load!("s3"))
    assert r.bucket == "example-uploads"
    assert r.key == "invoices/2026/11/invoice 42.pdf"
    assert r.url_encoded_key == "invoices/2026/11/invoice+42.pdf"

    assert {r.size, r.event_name, r.principal_id} ==
             {48213, "ObjectCreated:Put", "AWS:AIDAINPONIXQXHT3IKHL2"}

    assert r.source_ip == "198.51.100.17"
    assert r.extra["responseElements"]["x-amz-request-id"] == "D82B88E5F771F645"

    {:ok, %{records: [a, b]}} = Events.decode(fixture("s3-encoded-keys"))
    assert a.key == "q4 report(2026)/final v2.pdf"
    assert b.key == "café/menü 1+1.txt"
    assert b.size == nil
    assert b.event_name == "ObjectRemoved:Delete"

    bad = put_in(Samples.load!("s3"), ["Records", Access.at(0), "s3", "object", "key"], "a%zz")
    assert {:error, message} = Events.decode(bad)
    assert message =~ "s3 event: Records[0].s3.object.key"
  end

  test "EventBridge and scheduled events" do
    {:ok, %Events.EventBridge{} = e} = Events.decode(Samples.load!("eventbridge"))
    assert {e.source, e.detail_type} == {"com.example.orders", "Order Placed"}
    assert e.detail["total"] == %{"amount" => "59.90", "currency" => "EUR"}

    {:ok, s3} = Events.decode(fixture("eventbridge-s3"))
    assert s3.extra == %{"replay-name" => "replay-2026-11-27"}
    assert s3.detail["object"]["key"] == "photos/cat.png"

    {:ok, %Events.Scheduled{} = s} = Events.decode(Samples.load!("scheduled"))
    assert s.rule_arns == ["arn:aws:events:us-east-1:123456789012:rule/nightly-report"]
    assert s.time == "2026-11-27T12:00:00Z"
  end

  test "DynamoDB: AttributeValues as Elixir terms, numbers exact" do
    {:ok, %Events.DynamoDB{records: [insert, remove]}} = Events.decode(fixture("dynamodb-types"))
    image = insert.new_image

    assert insert.keys == %{"pk" => "order#42", "sk" => 1}
    assert image["pk"] == "order#42"
    assert image["total"] == %Decimal{sign: 1, coef: 5990, exp: -2}
    assert to_string(image["total"]) == "59.90"
    assert image["big"] == 123_456_789_012_345_678_901_234_567_890_123_456
    assert to_string(image["tiny"]) == "0.000000000000000000000000000000000001"
    assert image["exp"] == %Decimal{sign: 1, coef: 1, exp: 3}
    assert Decimal.to_float(image["exp"]) == 1000.0
    assert image["negative"] == -7
    assert image["blob"] == <<0xDE, 0xAD, 0xBE, 0xEF>>
    assert image["tags"] == MapSet.new(["red", "blue"])
    assert image["scores"] == MapSet.new([1, %Decimal{sign: 1, coef: 25, exp: -1}, 10])
    assert image["chunks"] == MapSet.new([<<0, 1>>, <<2, 3>>])
    assert image["paid"] == true
    assert Map.has_key?(image, "note") and image["note"] == nil
    assert image["address"] == %{"city" => "Paris", "zip" => 75001, "lines" => ["1 rue", 2]}
    assert image["items"] == [%{"sku" => "BOOK-1", "qty" => 2}, nil]
    assert insert.old_image == nil
    assert {insert.event_name, insert.size_bytes} == {"INSERT", 310}

    assert remove.new_image == nil
    assert remove.old_image == %{"pk" => "session#9", "ttl" => 1_795_780_899}
    assert remove.user_identity["principalId"] == "dynamodb.amazonaws.com"

    {:ok, %{records: [_, modify]}} = Events.decode(Samples.load!("dynamodb-stream"))
    assert modify.old_image["status"] == "placed"
    assert modify.new_image["status"] == "shipped"
  end

  test "DynamoDB: a malformed AttributeValue names its path" do
    event = fixture("dynamodb-types")

    for {value, message} <- [
          {%{"N" => "12abc"}, ~s(NewImage.pk.N: "12abc" is not a number)},
          {%{"X" => "1"}, ~s(NewImage.pk: unknown AttributeValue type "X")},
          {%{"S" => 1}, "NewImage.pk.S: expected a string, got 1"},
          {%{"B" => "!!"}, "NewImage.pk.B: not valid base64"},
          {"plain", "NewImage.pk: expected an AttributeValue"}
        ] do
      bad = put_in(event, ["Records", Access.at(0), "dynamodb", "NewImage", "pk"], value)
      assert {:error, error} = Events.decode(bad)
      assert error =~ "dynamodb event: Records[0].dynamodb." <> message
    end
  end

  test "Decimal: parse, text, float, equality, JSON" do
    for {text, shown} <- [
          {"59.90", "59.90"},
          {"-0.5", "-0.5"},
          {".5", "0.5"},
          {"1E+3", "1000"},
          {"12e-2", "0.12"}
        ] do
      assert {:ok, d} = Decimal.parse(text)
      assert to_string(d) == shown, text
    end

    assert Decimal.parse("abc") == :error
    assert Decimal.parse("") == :error
    assert Decimal.parse(".") == :error
    {:ok, a} = Decimal.parse("1.50")
    {:ok, b} = Decimal.parse("1.5")
    assert Decimal.equal?(a, b)
    assert Decimal.to_float(a) == 1.5
    assert LambdaRuntime.JSON.encode!(%{"total" => a}) == ~s({"total":"1.50"})
    assert inspect(a) == "#LambdaRuntime.Events.Decimal<1.50>"
  end

  test "Kinesis: data base64-decoded" do
    {:ok, %Events.Kinesis{records: [a, b]}} = Events.decode(Samples.load!("kinesis"))
    assert a.data == ~s({"order_id":42,"action":"ship"})
    assert b.data == ~s({"order_id":43,"action":"cancel"})
    assert a.partition_key == "order-42"
    assert a.approximate_arrival_timestamp == 1_795_780_800.5
    assert a.event_id =~ "shardId-000000000006:"
  end

  test "CloudWatch Logs: gunzipped and decoded; control messages" do
    {:ok, %Events.CloudWatchLogs{} = l} = Events.decode(Samples.load!("cloudwatch-logs"))
    assert l.message_type == "DATA_MESSAGE"
    assert l.log_group == "/aws/lambda/orders"
    assert l.subscription_filters == ["errors-to-lambda"]

    assert [%Events.CloudWatchLogs.LogEvent{timestamp: 1_795_780_800_000} = first, _] =
             l.log_events

    assert first.message == "ERROR order 42: payment declined\n"

    {:ok, control} = Events.decode(fixture("cloudwatch-logs-control"))
    assert control.message_type == "CONTROL_MESSAGE"

    not_gzip = %{"awslogs" => %{"data" => Base.encode64("plain text")}}

    assert {:error, "cloudwatch_logs event: awslogs.data: not gzip data"} =
             Events.decode(not_gzip)

    not_json = %{"awslogs" => %{"data" => Base.encode64(:zlib.gzip("[1,"))}}

    assert {:error, "cloudwatch_logs event: awslogs.data: not JSON" <> _} =
             Events.decode(not_json)
  end

  test "Cognito: the trigger, and the event to return" do
    {:ok, %Events.Cognito{} = t} = Events.decode(Samples.load!("cognito-pre-signup"))

    assert {t.trigger_source, t.user_pool_id, t.user_name} ==
             {"PreSignUp_SignUp", "us-east-1_EXAMPLE1", "ada"}

    assert t.request["userAttributes"]["email"] == "ada@example.com"

    reply = Events.Cognito.respond(t, %{"autoConfirmUser" => true})

    assert reply["response"] == %{
             "autoConfirmUser" => true,
             "autoVerifyEmail" => false,
             "autoVerifyPhone" => false
           }

    assert Map.delete(reply, "response") == Map.delete(t.raw, "response")

    {:ok, token} = Events.decode(fixture("cognito-pre-token-generation"))
    assert token.trigger_source == "TokenGeneration_Authentication"
    assert token.request["groupConfiguration"]["groupsToOverride"] == ["admins"]
  end

  test "unknown fields are kept in extra, at the top and in records" do
    event =
      Samples.load!("sqs")
      |> Map.put("batchInfo", %{"x" => 1})
      |> update_in(["Records", Access.at(0)], &Map.put(&1, "newField", "kept"))

    {:ok, sqs} = Events.decode(event)
    assert sqs.extra == %{"batchInfo" => %{"x" => 1}}
    assert hd(sqs.records).extra == %{"newField" => "kept"}

    kinesis =
      update_in(
        Samples.load!("kinesis"),
        ["Records", Access.at(0), "kinesis"],
        &Map.put(&1, "encryptionType", "KMS")
      )

    {:ok, %{records: [k | _]}} = Events.decode(kinesis)
    assert k.kinesis_extra == %{"encryptionType" => "KMS"}
  end

  test "decode/2 with a source skips recognition" do
    event = Samples.load!("sqs")
    assert {:ok, %Events.SQS{}} = Events.decode(event, :sqs)
    assert {:ok, %Events.SQS{}} = Events.SQS.decode(event)

    assert {:error, "sqs event: Records: expected an array, got \"x\""} =
             Events.decode(%{"Records" => "x"}, :sqs)
  end
end
