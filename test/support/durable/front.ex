defmodule LambdaRuntime.TestSupport.Durable.Front do
  @moduledoc """
  Lambda's Invoke endpoint for many functions in one runtime: takes
  `POST /2015-03-31/functions/NAME/invocations` (what dex-local-runner
  sends), runs the event on the emulator with the function's name in the
  client context (`custom.functionName`, which `DurableFixture.Router`
  dispatches on), and answers as Lambda does: 200 with the response, or
  200 with `X-Amz-Function-Error: Unhandled` and the error.
  """

  alias LambdaRuntime.TestSupport.HTTPServer
  alias LambdaRuntime.Tools.Emulator

  @doc "Starts the front for `emu` (linked to the caller); returns `%{pid: _, url: _}`."
  def start!(emu) do
    server = HTTPServer.start!(&invoke(emu, &1))
    %{pid: server.pid, url: HTTPServer.url(server)}
  end

  defp invoke(emu, request) do
    [path | _query] = String.split(request.path, "?", parts: 2)

    name =
      case String.split(path, "/", trim: true) do
        [_version, "functions", name, "invocations"] ->
          URI.decode(name) |> String.split(":") |> hd()

        _ ->
          "unknown"
      end

    context = %{"custom" => %{"functionName" => name}}
    {status, response, _report} = Emulator.invoke_json(emu, request.body, client_context: context)
    error = if status == :error, do: [{"x-amz-function-error", "Unhandled"}], else: []
    {200, [{"content-type", "application/json"}, {"x-amzn-requestid", uuid()} | error], response}
  end

  defp uuid, do: Base.encode16(:crypto.strong_rand_bytes(16), case: :lower)
end
