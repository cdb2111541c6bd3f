defmodule LambdaRuntime.Durable.Serdes.JSON do
  @moduledoc "The default serdes: JSON through `LambdaRuntime.JSON` (maps come back with string keys)."
  @behaviour LambdaRuntime.Durable.Serdes

  @impl true
  def serialize(value), do: LambdaRuntime.JSON.encode!(value)

  @impl true
  def deserialize(payload), do: LambdaRuntime.JSON.decode!(payload)
end
