defmodule LambdaRuntime.Durable.Service do
  @moduledoc """
  The two durable-execution APIs a function calls while it runs, over HTTPS:
  `CheckpointDurableExecution` (`POST /2025-12-01/durable-executions/{arn}/checkpoint`)
  and `GetDurableExecutionState` (`GET .../state`), REST-JSON, signed with
  SigV4 (`LambdaRuntime.AWS.SigV4`) with the function's own credentials
  (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, as
  Lambda sets them) for the region in `AWS_REGION`. The endpoint is
  `AWS_ENDPOINT_URL_LAMBDA`, else `AWS_ENDPOINT_URL`, else
  `https://lambda.REGION.amazonaws.com` (`LambdaRuntime.AWS.Endpoint`).
  Throttling and 5xx answers are retried with backoff (`LambdaRuntime.AWS.Client`).

  This module is also the behaviour of a checkpoint service: an execution
  talks to `{module, config}`; `LambdaRuntime.Durable.Local.Service` is the
  in-memory one `LambdaRuntime.Durable.Test` uses.

  Errors are `{:retryable, message}` (the invocation should fail so that
  Lambda invokes it again: throttling, 5xx, network, a stale checkpoint
  token) or `{:fatal, message}` (other 4xx answers: retrying cannot help, the
  execution fails), as AWS's SDKs classify them.
  """

  alias LambdaRuntime.AWS.{Client, Credentials, Endpoint, Request}

  @type error :: {:retryable | :fatal, String.t()}
  @type client :: {module(), term()}

  @doc "Sends one checkpoint: `body` is the JSON of `{CheckpointToken, Updates}`."
  @callback checkpoint(config :: term(), arn :: String.t(), body :: iodata()) ::
              {:ok, map()} | {:error, error()}

  @doc "Reads one page of the execution's operations after `marker`."
  @callback get_state(
              config :: term(),
              arn :: String.t(),
              token :: String.t(),
              marker :: String.t()
            ) :: {:ok, map()} | {:error, error()}

  @behaviour __MODULE__

  @doc """
  The HTTPS client for the function's environment (`env`, default the
  process's), or `{:error, {:fatal, message}}` when credentials or the
  region are missing.
  """
  @spec from_env(map()) :: {:ok, client()} | {:error, error()}
  def from_env(env \\ System.get_env()) do
    with {:ok, credentials} <- Credentials.resolve(env),
         {:ok, endpoint} <- Endpoint.resolve("lambda", env) do
      {:ok, {__MODULE__, %Client{endpoint: endpoint, credentials: credentials}}}
    else
      {:error, error} -> {:error, {:fatal, Exception.message(error)}}
    end
  end

  @impl true
  def checkpoint(%Client{} = client, arn, body) do
    request = %Request{
      operation: "CheckpointDurableExecution",
      method: "POST",
      path: "/2025-12-01/durable-executions/#{Request.segment(arn)}/checkpoint",
      body: {:raw, "application/json", IO.iodata_to_binary(body)}
    }

    call(client, request)
  end

  @impl true
  def get_state(%Client{} = client, arn, token, marker) do
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
    case Client.call(client, request) do
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
