defmodule LambdaRuntime.TestSupport.Money do
  @moduledoc false
  # A struct with its own LambdaRuntime.JSON.Encoder implementation. It lives
  # in test/support (not a test file) so protocol consolidation sees the impl.
  defstruct [:amount, :currency]
end

defimpl LambdaRuntime.JSON.Encoder, for: LambdaRuntime.TestSupport.Money do
  def encode(%{amount: amount, currency: currency}), do: "#{amount} #{currency}"
end

defmodule LambdaRuntime.TestSupport.Point do
  @moduledoc false
  # A struct without an Encoder implementation: encoded as its fields.
  defstruct [:x, :y, :label]
end

defmodule LambdaRuntime.TestSupport.Wrapper do
  @moduledoc false
  # Its Encoder returns a term that itself holds structs.
  defstruct [:inner]
end

defimpl LambdaRuntime.JSON.Encoder, for: LambdaRuntime.TestSupport.Wrapper do
  def encode(%{inner: inner}), do: %{"wrapped" => inner, "at" => ~D[2024-02-29]}
end

defmodule LambdaRuntime.TestSupport.Exploding do
  @moduledoc false
  # Its Encoder raises: the response cannot be encoded.
  defstruct []
end

defimpl LambdaRuntime.JSON.Encoder, for: LambdaRuntime.TestSupport.Exploding do
  def encode(_), do: raise(RuntimeError, "the encoder exploded")
end
