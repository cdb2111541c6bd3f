defmodule LambdaRuntime.Samples do
  @moduledoc """
  Sample events in the shapes AWS documents for each event source, to try a
  handler locally (`mix lambda.invoke --sample sqs`, `mix lambda.sample sqs`)
  or in tests:

      event = LambdaRuntime.Samples.load!("apigateway-http")
      LambdaRuntime.Test.invoke("MyApp.Handler.handle", event)

  The files are `priv/samples/NAME.json` in this package.
  """

  @samples [
    {"apigateway-rest", "API Gateway REST API, Lambda proxy integration (payload format 1.0)"},
    {"apigateway-http", "API Gateway HTTP API (payload format 2.0)"},
    {"function-url", "Lambda function URL request"},
    {"alb", "Application Load Balancer target group request"},
    {"sqs", "SQS queue, a batch of two messages"},
    {"sns", "SNS topic notification"},
    {"s3", "S3 ObjectCreated:Put notification"},
    {"eventbridge", "EventBridge custom event"},
    {"dynamodb-stream", "DynamoDB stream, an INSERT and a MODIFY"},
    {"kinesis", "Kinesis data stream, two records (base64 data)"},
    {"scheduled", "EventBridge scheduled rule (cron or rate expression)"},
    {"cloudwatch-logs", "CloudWatch Logs subscription filter (gzipped, base64)"},
    {"cognito-pre-signup", "Cognito user pool pre sign-up trigger"}
  ]

  @doc "Every sample as `{name, description}`."
  @spec list() :: [{String.t(), String.t()}]
  def list, do: @samples

  @doc "The sample names."
  @spec names() :: [String.t()]
  def names, do: Enum.map(@samples, &elem(&1, 0))

  @doc "The path of a sample's JSON file, or `:error` for an unknown name."
  @spec path(String.t()) :: {:ok, Path.t()} | :error
  def path(name) do
    if List.keymember?(@samples, name, 0),
      do: {:ok, Path.join([:code.priv_dir(:lambda_runtime), "samples", name <> ".json"])},
      else: :error
  end

  @doc "A sample's JSON text. Raises `ArgumentError` for an unknown name."
  @spec json!(String.t()) :: binary()
  def json!(name) do
    case path(name) do
      {:ok, path} ->
        File.read!(path)

      :error ->
        raise ArgumentError,
              "unknown sample #{inspect(name)}; the samples are: #{Enum.join(names(), ", ")}"
    end
  end

  @doc "A sample, decoded. Raises `ArgumentError` for an unknown name."
  @spec load!(String.t()) :: map()
  def load!(name), do: name |> json!() |> LambdaRuntime.JSON.decode!()
end
