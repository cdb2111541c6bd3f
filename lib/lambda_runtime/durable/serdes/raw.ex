defmodule LambdaRuntime.Durable.Serdes.Raw do
  @moduledoc """
  The payload string as it is: the default for callback results, which an
  external system sends as text (as in AWS's SDKs). Non-string values are
  written as JSON.
  """
  @behaviour LambdaRuntime.Durable.Serdes

  @impl true
  def serialize(value) when is_binary(value) or is_nil(value), do: value
  def serialize(value), do: LambdaRuntime.JSON.encode!(value)

  @impl true
  def deserialize(payload), do: payload
end
