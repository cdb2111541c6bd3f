defmodule LambdaRuntime.LogContext do
  @moduledoc """
  Carries an invocation's request id (and tenant id) into the log lines of
  processes the handler starts.

  Logger metadata belongs to a process, and a process the handler starts
  does not inherit it. A primary `:logger` filter, run in the logging
  process for every event that has no `:request_id`, finds it:

    1. from the processes that started this one: `$callers` (set by `Task`,
       `Task.Supervisor`) and `$ancestors` (set by `GenServer`, `Agent`,
       `:proc_lib`, supervisors), whose metadata holds it while their
       invocation runs; so a `Task`'s or a `GenServer`'s log lines and crash
       reports (logged by the crashing process itself) carry it;
    2. else, with one poller (the default), the invocation that is running
       now, as the managed runtimes attribute output: this covers processes
       started with plain `spawn/1` and the VM's own report of their crash
       (logged on their behalf by another process). A line logged between
       invocations stays `undefined`.

  With `AWS_LAMBDA_MAX_CONCURRENCY` (several invocations at once) step 2
  cannot tell which invocation a line belongs to, and such a line stays
  `undefined`: give the process `Logger.metadata/1` yourself, or start it
  with `Task`.

  Events that already have a request id (all of the handler's own) cost
  one map lookup.
  """

  @filter_id :lambda_runtime_request_id
  @poller {__MODULE__, :poller}
  @logger_metadata :"$logger_metadata$"

  @doc """
  Installs the filter. `poller` is the only poller's pid (one-poller mode),
  whose metadata names the running invocation, or `nil`.
  """
  @spec install(pid() | nil) :: :ok
  def install(poller) do
    if poller, do: :persistent_term.put(@poller, poller)

    case :logger.add_primary_filter(@filter_id, {&__MODULE__.filter/2, []}) do
      :ok -> :ok
      {:error, {:already_exist, _}} -> :ok
    end
  end

  @doc false
  # The :logger primary filter.
  def filter(%{meta: meta} = event, _args) do
    if Map.has_key?(meta, :request_id) do
      event
    else
      case find() do
        nil -> event
        ids -> %{event | meta: Map.merge(meta, ids)}
      end
    end
  rescue
    _ -> event
  end

  defp find do
    starters = List.wrap(Process.get(:"$callers")) ++ List.wrap(Process.get(:"$ancestors"))

    Enum.find_value(starters, &ids_of/1) || ids_of(:persistent_term.get(@poller, nil))
  end

  # The request and tenant ids in a live process's Logger metadata.
  defp ids_of(pid) when is_pid(pid) and pid != self() do
    with {:dictionary, dictionary} <- Process.info(pid, :dictionary),
         {_, %{request_id: id} = metadata} when id != nil <-
           List.keyfind(dictionary, @logger_metadata, 0) do
      Map.take(metadata, [:request_id, :tenant_id])
    else
      _ -> nil
    end
  end

  defp ids_of(_), do: nil
end
