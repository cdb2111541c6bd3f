defmodule LambdaRuntime.Durable.Runner do
  @moduledoc """
  Runs one durable invocation, in the process that calls `run/4` (the
  handler's process, under `LambdaRuntime.Invoker`):

    1. parses the invocation payload (`LambdaRuntime.Durable.Envelope`) and
       starts the invocation's `LambdaRuntime.Durable.Execution` (which reads
       the remaining state pages);
    2. runs the user function in a worker (`LambdaRuntime.Durable.Worker`)
       with the decoded input and a root `LambdaRuntime.Durable.Context`;
    3. waits for the function to return, raise, suspend, or for any worker
       to abort the invocation;
    4. stops every worker, sends what is still queued, and answers
       `SUCCEEDED`, `FAILED` or `PENDING`.

  Return values of the function follow the handler rules: `{:ok, result}`,
  `:ok` (`null`), `{:error, reason}` (the execution fails), or any other
  term as the result. A raise, throw or exit fails the execution with the
  error's type, message and stack trace.
  """

  require Logger

  alias LambdaRuntime.Durable.{
    CheckpointError,
    Context,
    Envelope,
    Error,
    Execution,
    Outcome,
    Serdes,
    Service,
    Worker
  }

  alias LambdaRuntime.JSON

  @doc """
  Runs `fun.(input, context)` for the invocation `event` and returns the
  durable response map.

  Options: `:client` (a checkpoint service `{module, config}`; default
  `LambdaRuntime.Durable.Service.HTTP.from_env/0`), `:state` (put in the
  context's `:state`).

  Raises `ArgumentError` when `event` is not a durable invocation and
  `LambdaRuntime.Durable.CheckpointError` when the checkpoint service failed
  in a way a new invocation can fix.
  """
  @spec run((term(), Context.t() -> term()), term(), LambdaRuntime.Context.t() | nil, keyword()) ::
          map()
  def run(fun, event, lambda, opts \\ []) when is_function(fun, 2) do
    envelope =
      case Envelope.parse(event) do
        {:ok, envelope} -> envelope
        {:error, message} -> raise ArgumentError, message
      end

    client = Keyword.get_lazy(opts, :client, &client_from_env/0)
    trap? = Process.flag(:trap_exit, true)
    Worker.become_runner()
    Logger.metadata(durableExecutionArn: envelope.arn)

    try do
      case start_execution(envelope, client) do
        {:ok, execution} ->
          try do
            execution
            |> run_root(fun, lambda, Keyword.get(opts, :state))
            |> finish(execution)
          after
            Process.unlink(execution.pid)
            Process.exit(execution.pid, :kill)
          end

        {:error, response} ->
          response
      end
    after
      Process.flag(:trap_exit, trap?)
      flush_exits()
    end
  end

  defp client_from_env do
    case Service.HTTP.from_env() do
      {:ok, client} -> client
      {:error, {_, message}} -> raise ArgumentError, "durable execution cannot start: " <> message
    end
  end

  defp start_execution(envelope, client) do
    case Execution.start_link(
           arn: envelope.arn,
           token: envelope.token,
           operations: envelope.operations,
           next_marker: envelope.next_marker,
           client: client
         ) do
      {:ok, execution} ->
        {:ok, execution}

      {:error, {:state_fetch_failed, {:fatal, message}}} ->
        {:error, failed(Error.object("CheckpointError", message))}

      {:error, {:state_fetch_failed, {_, message}}} ->
        raise CheckpointError, "GetDurableExecutionState failed: " <> message

      {:error, reason} ->
        raise CheckpointError, "the execution could not start: #{inspect(reason)}"
    end
  end

  defp run_root(execution, fun, lambda, state) do
    case decode_input(Execution.input_payload(execution)) do
      {:ok, input} ->
        context = Context.root(execution, lambda, state)
        tag = make_ref()
        root = Worker.start(tag, fn -> fun.(input, Context.adopt(context)) end)
        outcome = await(tag, root, execution)
        Worker.stop(root)
        outcome

      {:error, message} ->
        {:returned, {:error, Error.object("Runtime.InvalidEvent", message)}}
    end
  end

  defp decode_input(nil), do: {:ok, nil}
  defp decode_input(""), do: {:ok, nil}

  defp decode_input(payload) do
    case JSON.decode(payload) do
      {:ok, input} -> {:ok, input}
      {:error, e} -> {:error, "the execution input is not JSON: " <> Exception.message(e)}
    end
  end

  defp await(tag, root, %Execution{pid: execution_pid} = execution) do
    receive do
      {^tag, ^root, {:returned, value}} ->
        {:returned, value}

      {^tag, ^root, {:raised, kind, reason, stack}} ->
        {:raised, kind, reason, stack}

      {^tag, ^root, {:suspended, _resume_at}} ->
        :suspended

      {:durable_abort, _pid, reason} ->
        {:abort, reason}

      {:EXIT, ^execution_pid, reason} ->
        {:abort, {:checkpoint_failed, {:retryable, inspect(reason)}}}

      {:EXIT, ^root, reason} when reason != :normal ->
        {:raised, :exit, reason, []}

      {:EXIT, _other, _reason} ->
        await(tag, root, execution)
    end
  end

  defp finish({:returned, value}, execution),
    do: value |> Outcome.classify() |> complete(execution)

  defp finish({:raised, kind, reason, stack}, execution),
    do: complete({:error, Error.object_for({:caught, kind, reason, stack})}, execution)

  defp finish(:suspended, execution) do
    case Execution.flush(execution) do
      :ok -> Envelope.pending()
      {:error, reason} -> aborted(reason)
    end
  end

  defp finish({:abort, reason}, _execution), do: aborted(reason)

  defp complete({:ok, value}, execution) do
    case Serdes.serialize(Serdes.JSON, value) do
      {:ok, json} ->
        with :ok <- Execution.flush(execution) do
          case Envelope.succeeded(json || "null") do
            {:ok, response} ->
              response

            {:too_large, json} ->
              checkpoint_terminal(
                execution,
                Envelope.execution_update(:succeed, json),
                Envelope.succeeded_checkpointed()
              )
          end
        else
          {:error, reason} -> aborted(reason)
        end

      {:error, %Error{message: message}} ->
        complete(
          {:error,
           Error.object(
             "Runtime.InvalidResponse",
             "the result cannot be encoded as JSON: " <> message
           )},
          execution
        )
    end
  end

  defp complete({:error, object}, execution) do
    with :ok <- Execution.flush(execution) do
      case Envelope.failed(object) do
        {:ok, response} ->
          response

        :too_large ->
          checkpoint_terminal(
            execution,
            Envelope.execution_update(:fail, object),
            Envelope.failed_checkpointed()
          )
      end
    else
      {:error, reason} -> aborted(reason)
    end
  end

  defp checkpoint_terminal(execution, update, response) do
    case Execution.checkpoint(execution, update) do
      :ok -> response
      {:error, reason} -> aborted(reason)
    end
  end

  # The invocation cannot go on: PENDING when the service took the token
  # back (the next invocation replays), FAILED when nothing can fix it,
  # an exception (Lambda invokes again) when a retry can.
  defp aborted(:revoked), do: Envelope.pending()
  defp aborted(:execution_completed), do: Envelope.pending()
  defp aborted(:orphaned), do: Envelope.pending()

  defp aborted({:nondeterministic, message}),
    do: failed(Error.object("NonDeterministicExecutionError", message))

  defp aborted({:checkpoint_failed, {:fatal, message}}),
    do: failed(Error.object("CheckpointError", message))

  defp aborted({:checkpoint_failed, {_, message}}),
    do: raise(CheckpointError, "checkpoint failed: " <> message)

  defp aborted({:checkpoint_failed, other}),
    do: raise(CheckpointError, "checkpoint failed: " <> inspect(other))

  defp failed(object) do
    case Envelope.failed(object) do
      {:ok, response} -> response
      :too_large -> Envelope.failed_checkpointed()
    end
  end

  defp flush_exits do
    receive do
      {:EXIT, _, _} -> flush_exits()
    after
      0 -> :ok
    end
  end
end
