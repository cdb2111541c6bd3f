defmodule LambdaRuntime.Metrics.Store do
  @moduledoc """
  Where an invocation's metrics wait until it ends: a public ETS table
  (named after this module, created by the first metric put in the VM and
  owned by a process of its own), keyed by the invocation's *owner*, the
  process that runs the handler (a Task the handler starts counts as the
  handler, through `$callers`).

  Because the table outlives the handler's process, a metric put before
  the handler crashes, exits or is killed at its deadline is still there:
  `LambdaRuntime.Invoker` calls `flush/2` when the handler returns (in its
  process, before the response is sent) and when it dies (before the error
  is reported), so the EMF lines are written before the runtime asks for
  the next event. Each put is one atomic insert, so Tasks of one
  invocation may put at the same time.

  Keys are `{owner, kind, id}`: `:value` (one put value), `:key` (which
  root member a name is: a metric with its unit, or a dimension with its
  value, or a property), `:dims` (a dimension set), `:ns` (the namespace);
  and `:cold_start`, present until the first flush after
  `capture_cold_start/0`.
  """

  require Logger

  alias LambdaRuntime.Context
  alias LambdaRuntime.Metrics.{Config, EMF}

  @table __MODULE__

  @doc "The process whose invocation a metric put now belongs to."
  def owner do
    case Process.get(:"$callers") do
      [_ | _] = callers -> List.last(callers)
      _ -> self()
    end
  end

  @doc false
  def table do
    if :ets.whereis(@table) == :undefined, do: create()
    @table
  end

  # The owner lives as long as the VM; two processes racing to create the
  # table end with one table (the loser's :ets.new fails; it waits).
  defp create do
    parent = self()

    {pid, ref} =
      spawn_monitor(fn ->
        try do
          :ets.new(@table, [:named_table, :public, :ordered_set, write_concurrency: true])
          send(parent, {:created, self()})
          Process.sleep(:infinity)
        rescue
          ArgumentError -> send(parent, {:created, self()})
        end
      end)

    receive do
      {:created, ^pid} -> Process.demonitor(ref, [:flush])
      {:DOWN, ^ref, _, _, _} -> :ok
    end

    :ok
  end

  @doc "Records a key's kind once: `:ok`, or `{:conflict, existing}`."
  def claim(owner, name, kind) do
    if :ets.insert_new(table(), {{owner, :key, name}, kind}) do
      :ok
    else
      case :ets.lookup(@table, {owner, :key, name}) do
        [{_, ^kind}] -> :ok
        [{_, existing}] -> {:conflict, existing}
        [] -> claim(owner, name, kind)
      end
    end
  end

  @doc false
  def insert(owner, kind, id, value), do: :ets.insert(table(), {{owner, kind, id}, value})

  @doc "Makes the next flush also write a `ColdStart` metric (once per VM)."
  def capture_cold_start do
    :ets.insert_new(table(), {:cold_start, :pending})
    :ok
  end

  @doc """
  Writes the EMF lines of what `owner` put (and the cold start metric if
  pending) to standard output and forgets them. Never raises: a problem is
  logged.
  """
  @spec flush(pid(), Context.t() | nil) :: :ok
  def flush(owner, context) do
    if :ets.whereis(@table) != :undefined do
      pattern = [{{{owner, :_, :_}, :_}, [], [:"$_"]}]
      entries = :ets.select(@table, pattern)
      :ets.select_delete(@table, [{{{owner, :_, :_}, :_}, [], [true]}])
      cold_start? = :ets.take(@table, :cold_start) != []
      write(entries, cold_start?, context)
    end

    :ok
  catch
    kind, reason ->
      Logger.error(
        "LambdaRuntime.Metrics: could not write metrics: #{Exception.format(kind, reason)}"
      )

      :ok
  end

  defp write(entries, cold_start?, context) do
    case Config.read() do
      {:ok, config} ->
        cold_start(cold_start?, config, context) ++ documents(entries, config, context)

      {:error, message} ->
        Logger.error("LambdaRuntime.Metrics: metrics not written: #{message}")
        []
    end
    |> Enum.each(fn doc -> IO.write([LambdaRuntime.JSON.encode!(doc), ?\n]) end)
  end

  defp documents([], _config, _context), do: []

  defp documents(entries, config, context) do
    metrics =
      for {{_, :value, {name, _seq}}, value} <- entries, reduce: %{} do
        acc -> Map.update(acc, name, [value], &[value | &1])
      end

    kinds = for {{_, :key, name}, kind} <- entries, into: %{}, do: {name, kind}

    metric_list =
      for {name, values} <- Enum.sort(metrics) do
        {:metric, unit, resolution} = kinds[name]
        {name, unit, resolution, Enum.reverse(values)}
      end

    sets = for {{_, :dims, _seq}, set} <- entries, do: config.dimensions ++ set

    properties = for {{_, :prop, name}, value} <- entries, into: %{}, do: {name, value}

    properties =
      if context && context.request_id,
        do: Map.put_new(properties, "requestId", context.request_id),
        else: properties

    namespace =
      Enum.find_value(entries, fn
        {{_, :ns, _}, ns} -> ns
        _ -> nil
      end)

    EMF.documents(%{
      namespace: namespace || config.namespace || default_namespace(context),
      dimension_sets: if(sets == [], do: [config.dimensions], else: Enum.uniq(sets)),
      metrics: metric_list,
      properties: properties,
      timestamp: System.os_time(:millisecond)
    })
  end

  defp cold_start(false, _config, _context), do: []

  defp cold_start(true, config, context) do
    EMF.documents(%{
      namespace: config.namespace || default_namespace(context),
      dimension_sets: [config.dimensions ++ [{"function_name", function_name(context)}]],
      metrics: [{"ColdStart", "Count", 60, [1]}],
      properties: %{},
      timestamp: System.os_time(:millisecond)
    })
  end

  defp default_namespace(context), do: function_name(context)

  defp function_name(%Context{function_name: name}) when is_binary(name) and name != "", do: name

  defp function_name(_),
    do: LambdaRuntime.Config.env("AWS_LAMBDA_FUNCTION_NAME") || "lambda_runtime"
end
