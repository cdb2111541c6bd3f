defmodule LambdaRuntime.ResponsesTest do
  # HTTPResponse and BatchResponse, through LambdaRuntime.JSON (as the
  # runtime encodes a handler's return), into the shapes AWS documents.
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  alias LambdaRuntime.{BatchResponse, HTTPResponse, JSON, Samples}

  defp wire(term), do: term |> JSON.encode!() |> JSON.decode!()

  describe "HTTPResponse" do
    test "payload format 2.0 (HTTP API, function URL): joined headers and cookies" do
      response =
        %{"id" => 42}
        |> HTTPResponse.json(status: 201)
        |> HTTPResponse.put_header("Location", "/orders/42")
        |> HTTPResponse.add_header("Vary", "Accept")
        |> HTTPResponse.add_header("Vary", "Origin")
        |> HTTPResponse.put_cookie("session=abc; Path=/; HttpOnly")
        |> HTTPResponse.put_cookie("theme=dark")

      assert wire(response) == %{
               "statusCode" => 201,
               "headers" => %{
                 "content-type" => "application/json",
                 "location" => "/orders/42",
                 "vary" => "Accept, Origin"
               },
               "cookies" => ["session=abc; Path=/; HttpOnly", "theme=dark"],
               "body" => ~s({"id":42}),
               "isBase64Encoded" => false
             }
    end

    test "payload format 1.0 (REST API proxy): multiValueHeaders, one Set-Cookie per cookie" do
      response =
        "hello"
        |> HTTPResponse.text(format: :v1)
        |> HTTPResponse.add_header("X-Tag", "a")
        |> HTTPResponse.add_header("X-Tag", "b")
        |> HTTPResponse.put_cookie("a=1")
        |> HTTPResponse.put_cookie("b=2")

      assert wire(response) == %{
               "statusCode" => 200,
               "headers" => %{"content-type" => "text/plain; charset=utf-8"},
               "multiValueHeaders" => %{"X-Tag" => ["a", "b"], "Set-Cookie" => ["a=1", "b=2"]},
               "body" => "hello",
               "isBase64Encoded" => false
             }
    end

    test "binary bodies are base64 with isBase64Encoded" do
      png = <<137, 80, 78, 71, 13, 10, 26, 10, 0, 255>>
      map = wire(HTTPResponse.binary(png, "image/png"))
      assert map["isBase64Encoded"] == true
      assert Base.decode64!(map["body"]) == png
      assert map["headers"] == %{"content-type" => "image/png"}
    end

    test "for_event/2 answers each request sample in its own format" do
      response = HTTPResponse.html("<p>hi</p>", status: 404)

      assert %{"cookies" => _} =
               response
               |> HTTPResponse.put_cookie("x=1")
               |> HTTPResponse.for_event(Samples.load!("apigateway-http"))
               |> wire()

      assert HTTPResponse.format_of(Samples.load!("function-url")) == :v2
      assert HTTPResponse.format_of(Samples.load!("apigateway-rest")) == :v1

      alb = response |> HTTPResponse.for_event(Samples.load!("alb")) |> wire()
      assert alb["statusDescription"] == "404 Not Found"
      assert alb["statusCode"] == 404
    end

    test "#14.17 ALB without multi-value headers: headers only, never multiValueHeaders" do
      event = Samples.load!("alb")
      refute Map.has_key?(event, "multiValueHeaders")

      map =
        "hi"
        |> HTTPResponse.text()
        |> HTTPResponse.add_header("Vary", "Accept")
        |> HTTPResponse.add_header("Vary", "Origin")
        |> HTTPResponse.put_cookie("a=1")
        |> HTTPResponse.put_cookie("b=2")
        |> HTTPResponse.for_event(event)
        |> wire()

      assert map == %{
               "statusCode" => 200,
               "statusDescription" => "200 OK",
               "headers" => %{
                 "content-type" => "text/plain; charset=utf-8",
                 "Vary" => "Accept, Origin",
                 "Set-Cookie" => "b=2"
               },
               "body" => "hi",
               "isBase64Encoded" => false
             }
    end

    test "#14.17 ALB with multi-value headers: multiValueHeaders only, content-type included" do
      event = Samples.load!("alb")

      event =
        event
        |> Map.delete("headers")
        |> Map.put("multiValueHeaders", Map.new(event["headers"], fn {k, v} -> {k, [v]} end))

      assert HTTPResponse.format_of(event) == :alb_multi

      map =
        %{"ok" => true}
        |> HTTPResponse.json(status: 201)
        |> HTTPResponse.put_cookie("a=1")
        |> HTTPResponse.put_cookie("b=2")
        |> HTTPResponse.for_event(event)
        |> wire()

      assert map == %{
               "statusCode" => 201,
               "statusDescription" => "201 Created",
               "multiValueHeaders" => %{
                 "content-type" => ["application/json"],
                 "Set-Cookie" => ["a=1", "b=2"]
               },
               "body" => ~s({"ok":true}),
               "isBase64Encoded" => false
             }
    end

    test "a redirect, and a header set twice keeps the last value" do
      map =
        "/login"
        |> HTTPResponse.redirect()
        |> HTTPResponse.put_header("location", "/elsewhere")
        |> wire()

      assert map["statusCode"] == 302
      assert map["headers"] == %{"location" => "/elsewhere"}
    end
  end

  describe "BatchResponse" do
    test "new/1 is the documented shape" do
      assert wire(BatchResponse.new(["a", "b"])) == %{
               "batchItemFailures" => [%{"itemIdentifier" => "a"}, %{"itemIdentifier" => "b"}]
             }

      assert wire(BatchResponse.new([])) == %{"batchItemFailures" => []}
    end

    test "SQS (standard): every record runs, each failure is reported by messageId" do
      event = Samples.load!("sqs")
      [first, second] = event["Records"]

      log =
        capture_log(fn ->
          assert BatchResponse.process(event, fn record ->
                   if record == first, do: raise("bad order"), else: :ok
                 end) == BatchResponse.new([first["messageId"]])
        end)

      assert log =~ "record #{first["messageId"]} failed"
      assert log =~ "bad order"

      capture_log(fn ->
        assert BatchResponse.process(event, fn _ -> {:error, :nope} end) ==
                 BatchResponse.new([first["messageId"], second["messageId"]])
      end)
    end

    test "SQS FIFO: processing stops at the first failure, which is reported with the rest" do
      event =
        update_in(Samples.load!("sqs")["Records"], fn records ->
          Enum.map(records, &%{&1 | "eventSourceARN" => &1["eventSourceARN"] <> ".fifo"})
        end)

      [first, second] = event["Records"]
      me = self()

      response =
        BatchResponse.process(event, fn record ->
          send(me, {:ran, record["messageId"]})
          :error
        end)

      assert response == BatchResponse.new([first["messageId"], second["messageId"]])
      assert_received {:ran, _}
      refute_received {:ran, _}
    end

    test "Kinesis and DynamoDB streams: stop at the first failure, report its sequence number" do
      kinesis = Samples.load!("kinesis")
      [k1, _k2] = kinesis["Records"]

      capture_log(fn ->
        assert BatchResponse.process(kinesis, fn _ -> throw(:fail) end) ==
                 BatchResponse.new([k1["kinesis"]["sequenceNumber"]])
      end)

      dynamo = Samples.load!("dynamodb-stream")
      [_d1, d2] = dynamo["Records"]
      ok_first = fn record -> if record == d2, do: {:error, "conflict"}, else: :ok end

      capture_log(fn ->
        assert BatchResponse.process(dynamo, ok_first) ==
                 BatchResponse.new([d2["dynamodb"]["SequenceNumber"]])
      end)

      assert BatchResponse.process(dynamo, fn _ -> {:ok, :done} end) == BatchResponse.new([])
    end

    test "item_id/1 refuses a record of another source" do
      assert_raise ArgumentError, ~r/not an SQS, Kinesis or DynamoDB stream record/, fn ->
        BatchResponse.item_id(hd(Samples.load!("s3")["Records"]))
      end
    end
  end
end
