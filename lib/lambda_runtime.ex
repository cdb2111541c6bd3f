defmodule LambdaRuntime do
  @moduledoc """
  An AWS Lambda custom runtime for Elixir.

  Write a plain module, point `_HANDLER` at it, and the runtime does the
  rest: it polls the Lambda Runtime API through a Rust NIF, decodes each
  event, calls your function in its own process, and posts the JSON
  response or a structured error.

      defmodule Hello do
        def handle(%{"name" => name}, context) do
          {:ok, %{message: "Hello, \#{name}!", request_id: context.request_id}}
        end
      end

  With `_HANDLER=Hello.handle`. The rules for `_HANDLER` and for return
  values are in `LambdaRuntime.Handler`; the context is
  `LambdaRuntime.Context`; errors are shaped by `LambdaRuntime.ErrorReport`.
  JSON is available to handlers as `LambdaRuntime.JSON`.
  """

  @doc "The runtime's version."
  @spec version() :: String.t()
  def version, do: :lambda_runtime |> Application.spec(:vsn) |> to_string()
end
