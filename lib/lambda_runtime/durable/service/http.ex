defmodule LambdaRuntime.Durable.Service.HTTP do
  @moduledoc """
  The two durable-execution APIs a function calls while it runs, over HTTPS:
  `CheckpointDurableExecution` (`POST /2025-12-01/durable-executions/{arn}/checkpoint`)
  and `GetDurableExecutionState` (`GET .../state`), REST-JSON, signed with
  SigV4 (`LambdaRuntime.AWS.SigV4`) with the function's own credentials
  (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, as
  Lambda sets them) for the region in `AWS_REGION`. The endpoint is
  `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`, else
  `https://lambda.REGION.amazonaws.com` (`LambdaRuntime.AWS.Endpoint`).
  Throttling and 5xx answers are retried with backoff (`LambdaRuntime.AWS.ServiceClient`).

  4xx answers other than throttling and a stale token are `{:fatal, _}`
  errors (see `LambdaRuntime.Durable.Service`).
  """

  alias LambdaRuntime.AWS.{Credentials, Endpoint, Request, ServiceClient}
  alias LambdaRuntime.Durable.Service

  @behaviour LambdaRuntime.Durable.Service

  @doc """
  The HTTPS client for the function's environment (`env`, default the
  process's), or `{:error, {:fatal, message}}` when credentials or the
  region are missing.
  """
  @spec from_env(map()) :: {:ok, Service.client()} | {:error, Service.error()}
  def from_env(env \\ LambdaRuntime.Config.os_env()) do
    with {:ok, credentials} <- Credentials.resolve(env),
         {:ok, endpoint} <- Endpoint.resolve("lambda", env) do
      {:ok, {__MODULE__, %ServiceClient{endpoint: endpoint, credentials: credentials}}}
    else
      {:error, error} -> {:error, {:fatal, Exception.message(error)}}
    end
  end

  @impl true
  def checkpoint(%ServiceClient{} = client, arn, body) do
    request = %Request{
      operation: "CheckpointDurableExecution",
      method: "POST",
      path: "/2025-12-01/durable-executions/#{Request.segment(arn)}/checkpoint",
      body: {:raw, "application/json", IO.iodata_to_binary(body)}
    }

    call(client, request)
  end

  @impl true
  def get_state(%ServiceClient{} = client, arn, token, marker) do
    query =
      [{"CheckpointToken", token}, {"Marker", marker}, {"MaxItems", "1000"}]
      |> Enum.reject(fn {_, v} -> v in [nil, ""] end)
      |> Enum.map_join("&", fn {k, v} -> k <> "=" <> Request.segment(v) end)

    request = %Request{
      operation: "GetDurableExecutionState",
      method: "GET",
      path: "/2025-12-01/durable-executions/#{Request.segment(arn)}/state",
      query: query
    }

    call(client, request)
  end

  defp call(client, request) do
    case ServiceClient.call(client, request) do
      {:ok, _status, body} -> {:ok, body || %{}}
      {:error, error} -> {:error, classify(error)}
    end
  end

  @doc false
  # AWS's SDKs: 4xx answers fail the execution, except throttling (429) and
  # a stale checkpoint token, which a new invocation fixes.
  def classify(%{status: status, code: code, message: message} = error)
      when is_integer(status) and status in 400..499 and status != 429 do
    stale_token? =
      code == "InvalidParameterValueException" and message =~ "Invalid checkpoint token"

    {if(stale_token?, do: :retryable, else: :fatal), Exception.message(error)}
  end

  def classify(error), do: {:retryable, Exception.message(error)}
end
