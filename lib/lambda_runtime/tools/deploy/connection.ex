defmodule LambdaRuntime.Tools.Deploy.Connection do
  @moduledoc """
  How the deploy flows reach the Lambda API: a signed client, or, with
  `--dry-run`, nothing at all: each request is printed (operation, method,
  path, body summary) instead of sent, and credentials are not even read.
  """

  alias LambdaRuntime.AWS.{Credentials, Endpoint, Error, Request, ServiceClient}

  defstruct [:client, :endpoint, dry_run: false, poll_ms: 1_000, max_polls: 600]

  @type t :: %__MODULE__{
          client: ServiceClient.t() | nil,
          endpoint: Endpoint.t(),
          dry_run: boolean(),
          poll_ms: non_neg_integer(),
          max_polls: pos_integer()
        }

  @doc """
  Resolves the Lambda endpoint and (unless `dry_run: true`) the credentials.
  Options: `:region`, `:profile`, `:dry_run`, `:env` (default: the process
  environment), `:poll_ms` (default: the `:deploy_poll_ms` of
  `:lambda_runtime`'s application environment, else 1000) and `:backoff_ms`
  (default: its `:aws_backoff_ms`, else `ServiceClient`'s); tests set those
  two to 0 and `[]`.
  """
  @spec open(keyword()) :: {:ok, t()} | {:error, Error.t()}
  def open(opts) do
    env = Keyword.get_lazy(opts, :env, &System.get_env/0)
    aws_opts = [region: opts[:region], profile: opts[:profile]]
    dry_run = Keyword.get(opts, :dry_run, false)

    with {:ok, endpoint} <- Endpoint.resolve("lambda", env, aws_opts),
         {:ok, client} <- client(dry_run, endpoint, env, aws_opts, opts) do
      {:ok,
       %__MODULE__{
         client: client,
         endpoint: endpoint,
         dry_run: dry_run,
         poll_ms:
           Keyword.get_lazy(opts, :poll_ms, fn ->
             Application.get_env(:lambda_runtime, :deploy_poll_ms, 1_000)
           end)
       }}
    end
  end

  defp client(true, _endpoint, _env, _aws_opts, _opts), do: {:ok, nil}

  defp client(false, endpoint, env, aws_opts, opts) do
    with {:ok, creds} <- Credentials.resolve(env, aws_opts) do
      client = %ServiceClient{endpoint: endpoint, credentials: creds}

      backoff =
        Keyword.get_lazy(opts, :backoff_ms, fn ->
          Application.get_env(:lambda_runtime, :aws_backoff_ms)
        end)

      {:ok, if(backoff, do: %{client | backoff_ms: backoff}, else: client)}
    end
  end

  @doc "Sends `request` (see `LambdaRuntime.AWS.ServiceClient.call/2`); not for dry runs."
  @spec call(t(), Request.t()) :: {:ok, non_neg_integer(), map() | nil} | {:error, Error.t()}
  def call(%__MODULE__{dry_run: false, client: client}, request),
    do: ServiceClient.call(client, request)

  @doc "Prints what `request` would do, for `--dry-run`."
  @spec plan(t(), Request.t(), String.t() | nil) :: :ok
  def plan(%__MODULE__{}, request, condition \\ nil) do
    prefix = if condition, do: "  [#{condition}] ", else: "  "
    Mix.shell().info(prefix <> Request.describe(request))
  end

  @doc "Where requests go, for `--dry-run` output: `URL (region REGION)`."
  @spec target(t()) :: String.t()
  def target(%__MODULE__{endpoint: endpoint}),
    do: "#{URI.to_string(endpoint.uri)} (region #{endpoint.region})"
end
