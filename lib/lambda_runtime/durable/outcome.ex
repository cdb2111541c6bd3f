defmodule LambdaRuntime.Durable.Outcome do
  @moduledoc """
  What a piece of user code (a step, a child context, a branch, the handler)
  produced, by the handler rules: `{:ok, value}`; `:ok` (`nil`);
  `{:error, reason}`, a raise, throw or exit (a failure, as an
  `ErrorObject`); any other term (the value itself).
  """

  alias LambdaRuntime.Durable.Error

  @type t :: {:ok, term()} | {:error, map()}

  @doc "Calls `fun` and classifies what it returned or raised."
  @spec run((() -> term())) :: t()
  def run(fun) do
    fun.() |> classify()
  catch
    kind, reason -> {:error, Error.object_for({:caught, kind, reason, __STACKTRACE__})}
  end

  @doc "Classifies a returned value."
  @spec classify(term()) :: t()
  def classify({:ok, value}), do: {:ok, value}
  def classify(:ok), do: {:ok, nil}
  def classify({:error, reason}), do: {:error, Error.object_for({:error, reason})}
  def classify(value), do: {:ok, value}
end
