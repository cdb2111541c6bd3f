defmodule LambdaRuntime.SamplesTest do
  # The sample events have the fields AWS documents for their source.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Samples

  test "every listed sample has a file that decodes to an object" do
    for name <- Samples.names() do
      assert {:ok, path} = Samples.path(name)
      assert File.exists?(path)
      assert is_map(Samples.load!(name)), name
    end

    assert Samples.path("nope") == :error
    assert_raise ArgumentError, ~r/unknown sample "nope"/, fn -> Samples.load!("nope") end
  end

  test "HTTP requests" do
    rest = Samples.load!("apigateway-rest")

    assert %{
             "httpMethod" => "GET",
             "multiValueHeaders" => %{},
             "requestContext" => %{"stage" => _}
           } = rest

    assert rest["pathParameters"] == %{"id" => "42"}

    for name <- ["apigateway-http", "function-url"] do
      event = Samples.load!(name)

      assert %{
               "version" => "2.0",
               "rawPath" => _,
               "requestContext" => %{"http" => %{"method" => _}}
             } = event

      assert is_list(event["cookies"])
    end

    body = Samples.load!("apigateway-http")["body"]

    assert Samples.load!("apigateway-http")["headers"]["content-length"] ==
             to_string(byte_size(body))

    assert %{
             "requestContext" => %{
               "elb" => %{"targetGroupArn" => "arn:aws:elasticloadbalancing:" <> _}
             }
           } = Samples.load!("alb")
  end

  test "record batches" do
    sources = %{
      "sqs" => {"eventSource", "aws:sqs"},
      "sns" => {"EventSource", "aws:sns"},
      "s3" => {"eventSource", "aws:s3"},
      "dynamodb-stream" => {"eventSource", "aws:dynamodb"},
      "kinesis" => {"eventSource", "aws:kinesis"}
    }

    for {name, {key, source}} <- sources do
      records = Samples.load!(name)["Records"]
      assert records != []
      assert Enum.all?(records, &(&1[key] == source)), name
    end

    for record <- Samples.load!("kinesis")["Records"],
        do:
          assert({:ok, _} = LambdaRuntime.JSON.decode(Base.decode64!(record["kinesis"]["data"])))

    assert %{"Sns" => %{"TopicArn" => "arn:aws:sns:" <> _, "Message" => _}} =
             hd(Samples.load!("sns")["Records"])
  end

  test "EventBridge events" do
    assert %{"detail-type" => "Scheduled Event", "source" => "aws.events"} =
             Samples.load!("scheduled")

    assert %{"detail-type" => _, "detail" => %{}, "version" => "0"} = Samples.load!("eventbridge")
  end
end
