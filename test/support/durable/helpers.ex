defmodule LambdaRuntime.TestSupport.Durable.Helpers do
  @moduledoc "Small helpers for the in-VM durable tests: counters that survive invocations, crashes."

  @doc "A counter shared by every process of the test (an ETS table owned by the test)."
  def counter do
    table = :ets.new(:durable_counter, [:public, :set])
    :ets.insert(table, {:n, 0})
    table
  end

  @doc "Increments the counter and returns the new value."
  def bump(table), do: :ets.update_counter(table, :n, 1)

  @doc "The counter's value."
  def count(table), do: :ets.lookup_element(table, :n, 2)

  @doc """
  Kills the whole invocation from inside it, as a crash of the Lambda
  process would (the runner dies; its workers and execution with it).
  """
  def crash_invocation! do
    Process.exit(Process.get(:"$durable_runner"), :kill)
    Process.sleep(:infinity)
  end

  @doc "The checkpoint updates of an action (\"START\", ...) and type."
  def updates(result, type, action),
    do: Enum.filter(result.updates, &(&1["Type"] == type and &1["Action"] == action))
end
