defmodule LambdaRuntime.Durable.Service do
  @moduledoc """
  A checkpoint service, as an execution talks to it: `{module, config}`
  where `module` implements this behaviour. `LambdaRuntime.Durable.Service.HTTP`
  is Lambda's (what runs in Lambda); `LambdaRuntime.Tools.Durable.Local.Service`
  is the in-memory one of `LambdaRuntime.Durable.Test`.

  Errors are `{:retryable, message}` (the invocation should fail so that
  Lambda invokes it again: throttling, 5xx, network, a stale checkpoint
  token) or `{:fatal, message}` (other 4xx answers: retrying cannot help, the
  execution fails), as AWS's SDKs classify them.
  """

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
end
