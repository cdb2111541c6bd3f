defmodule LambdaRuntime.Durable.Envelope do
  @moduledoc """
  The durable invocation's wire format.

  In: `{"DurableExecutionArn", "CheckpointToken", "InitialExecutionState":
  {"Operations", "NextMarker"}}`; the user's input is the EXECUTION
  operation's `InputPayload`. Out: `{"Status": "SUCCEEDED", "Result"}`,
  `{"Status": "FAILED", "Error"}` or `{"Status": "PENDING"}`.

  A result or error that would make the response larger than Lambda's 6 MB
  is checkpointed on the EXECUTION operation instead, and the response
  carries `"Result": ""` (or no error), as AWS's SDKs do.
  """

  alias LambdaRuntime.JSON

  # Lambda's response limit, less room for the envelope, as AWS's SDKs use.
  @max_response 6 * 1024 * 1024 - 50

  @type t :: %{
          arn: String.t(),
          token: String.t(),
          operations: [map()],
          next_marker: String.t() | nil
        }

  @doc "Parses the invocation event."
  @spec parse(term()) :: {:ok, t()} | {:error, String.t()}
  def parse(%{"DurableExecutionArn" => arn, "CheckpointToken" => token} = event)
      when is_binary(arn) and is_binary(token) do
    state = event["InitialExecutionState"] || %{}

    {:ok,
     %{
       arn: arn,
       token: token,
       operations: state["Operations"] || [],
       next_marker: state["NextMarker"]
     }}
  end

  def parse(_event) do
    {:error,
     "the event is not a durable execution invocation (no DurableExecutionArn and " <>
       "CheckpointToken): invoke the function through Lambda with durable execution " <>
       "configured (DurableConfig), or through dex-local-runner locally"}
  end

  @doc "The `PENDING` response."
  @spec pending() :: map()
  def pending, do: %{"Status" => "PENDING"}

  @doc """
  The `SUCCEEDED` response for the JSON `result`, or `{:too_large, json}`
  when it must be checkpointed first (then `succeeded_checkpointed/0`).
  """
  @spec succeeded(String.t()) :: {:ok, map()} | {:too_large, String.t()}
  def succeeded(json) do
    response = %{"Status" => "SUCCEEDED", "Result" => json}
    if fits?(response), do: {:ok, response}, else: {:too_large, json}
  end

  @doc "The response after a large result was checkpointed on the EXECUTION operation."
  @spec succeeded_checkpointed() :: map()
  def succeeded_checkpointed, do: %{"Status" => "SUCCEEDED", "Result" => ""}

  @doc "The `FAILED` response for an `ErrorObject`, or `:too_large`."
  @spec failed(map()) :: {:ok, map()} | :too_large
  def failed(error) do
    response = %{"Status" => "FAILED", "Error" => error}
    if fits?(response), do: {:ok, response}, else: :too_large
  end

  @doc "The response after a large error was checkpointed on the EXECUTION operation."
  @spec failed_checkpointed() :: map()
  def failed_checkpointed, do: %{"Status" => "FAILED"}

  @doc "The EXECUTION update that checkpoints a large result (`SUCCEED`) or error (`FAIL`)."
  @spec execution_update(:succeed, String.t()) :: map()
  @spec execution_update(:fail, map()) :: map()
  def execution_update(:succeed, json),
    do: %{"Id" => result_id(), "Type" => "EXECUTION", "Action" => "SUCCEED", "Payload" => json}

  def execution_update(:fail, error),
    do: %{"Id" => result_id(), "Type" => "EXECUTION", "Action" => "FAIL", "Error" => error}

  defp result_id, do: "execution-result-#{System.os_time(:millisecond)}"

  defp fits?(response), do: IO.iodata_length(JSON.encode!(response)) <= @max_response
end
