defmodule Echo do
  @moduledoc "The benchmark handler: the event is the response."

  @doc "Returns the event unchanged."
  def handle(event, _context), do: {:ok, event}
end
