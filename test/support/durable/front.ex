defmodule LambdaRuntime.TestSupport.Durable.Front do
  @moduledoc """
  Lambda's Invoke endpoint for many functions in one runtime: takes
  `POST /2015-03-31/functions/NAME/invocations` (what dex-local-runner
  sends), runs the event on the emulator with the function's name in the
  client context (`custom.functionName`, which `DurableFixture.Router`
  dispatches on), and answers as Lambda does: 200 with the response, or
  200 with `X-Amz-Function-Error: Unhandled` and the error.
  """

  alias LambdaRuntime.Tools.Emulator
  alias LambdaRuntime.Tools.Emulator.Wire

  def start!(emu) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        reuseaddr: true,
        nodelay: true
      ])

    {:ok, port} = :inet.port(listen)
    pid = spawn_link(fn -> accept(listen, emu) end)
    :ok = :gen_tcp.controlling_process(listen, pid)
    %{pid: pid, url: "http://127.0.0.1:#{port}"}
  end

  defp accept(listen, emu) do
    {:ok, socket} = :gen_tcp.accept(listen)
    pid = spawn(fn -> serve(socket, emu) end)
    :ok = :gen_tcp.controlling_process(socket, pid)
    accept(listen, emu)
  end

  defp serve(socket, emu) do
    with {:ok, request} <- Wire.read_head(socket),
         {:ok, body} <- Wire.read_full_body(socket, request) do
      name =
        case String.split(request.path, "/", trim: true) do
          [_version, "functions", name, "invocations"] ->
            URI.decode(name) |> String.split(":") |> hd()

          _ ->
            "unknown"
        end

      context = %{"custom" => %{"functionName" => name}}
      {status, response, _report} = Emulator.invoke_json(emu, body, client_context: context)
      error = if status == :error, do: [{"x-amz-function-error", "Unhandled"}], else: []

      Wire.send_response(
        socket,
        200,
        [{"content-type", "application/json"}, {"x-amzn-requestid", uuid()} | error],
        response
      )

      serve(socket, emu)
    else
      _ -> :gen_tcp.close(socket)
    end
  end

  defp uuid, do: Base.encode16(:crypto.strong_rand_bytes(16), case: :lower)
end
