defmodule Hello do
  @moduledoc """
  The example function: `_HANDLER=Hello.handle`.

  Greets `event["name"]`, and reports how long it has left. An event with
  `"fail": true` raises, to show how errors reach Lambda.
  """

  require Logger

  alias LambdaRuntime.Context

  def handle(%{"fail" => true} = event, _context) do
    raise ArgumentError, "asked to fail (event: #{inspect(event)})"
  end

  def handle(event, %Context{} = context) do
    name = Map.get(event, "name", "world")
    Logger.info("greeting #{name}")

    {:ok,
     %{
       message: "Hello, #{name}!",
       request_id: context.request_id,
       function_name: context.function_name,
       remaining_time_ms: Context.remaining_time_ms(context)
     }}
  end
end
