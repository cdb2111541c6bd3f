defmodule LambdaRuntime.JSON.DecodeError do
  @moduledoc "Raised (or returned) when a document is not valid JSON."
  defexception [:position, :message]

  @type t :: %__MODULE__{position: non_neg_integer(), message: String.t()}

  @impl true
  def message(%{position: position, message: message}),
    do: "invalid JSON at byte #{position}: #{message}"
end
