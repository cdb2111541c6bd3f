defmodule LambdaRuntime.Tools.Emulator.Listener do
  @moduledoc false
  # The emulator's TCP side: one acceptor, one process per connection
  # (keep-alive), all linked to the acceptor so that stopping it closes
  # everything; requests are routed to RuntimeAPI and InvokeAPI. Every
  # socket has TCP_NODELAY.

  require Logger

  alias LambdaRuntime.Tools.Emulator.{InvokeAPI, RuntimeAPI, Wire}

  @runtime "/2018-06-01/runtime"

  @doc "Listens on `ip:port` and accepts for `server`. Returns `{:ok, pid, port}`."
  def start_link(server, ip, port, function_version) do
    opts = [:binary, ip: ip, active: false, reuseaddr: true, nodelay: true, backlog: 128]

    with {:ok, socket} <- :gen_tcp.listen(port, opts),
         {:ok, port} <- :inet.port(socket) do
      ctx = %{server: server, version: function_version}
      pid = spawn_link(fn -> receive(do: (:go -> accept_loop(socket, ctx))) end)
      :ok = :gen_tcp.controlling_process(socket, pid)
      send(pid, :go)
      {:ok, pid, port}
    end
  end

  @doc "Closes the listener and every connection."
  def stop(pid) do
    Process.unlink(pid)
    Process.exit(pid, :kill)
    :ok
  end

  defp accept_loop(listen, ctx) do
    {:ok, socket} = :gen_tcp.accept(listen)
    pid = spawn_link(fn -> receive(do: (:go -> serve(socket, ctx))) end)
    :ok = :gen_tcp.controlling_process(socket, pid)
    send(pid, :go)
    accept_loop(listen, ctx)
  end

  # One connection. A failure here (a peer that goes away mid-request, a
  # malformed request) ends this connection only, never the emulator.
  defp serve(socket, ctx) do
    with {:ok, request} <- Wire.read_head(socket),
         :ok <- route(socket, request, ctx),
         true <- request.keep_alive? do
      serve(socket, ctx)
    else
      _ -> :gen_tcp.close(socket)
    end
  catch
    :exit, reason when reason in [:normal, :shutdown] ->
      :gen_tcp.close(socket)

    kind, reason ->
      Logger.warning(
        "LambdaRuntime.Tools.Emulator: connection failed: " <>
          Exception.format(kind, reason, __STACKTRACE__)
      )

      :gen_tcp.close(socket)
  end

  defp route(socket, request, ctx) do
    case {request.method, String.split(request.path, "/", trim: true)} do
      {"GET", ["2018-06-01", "runtime", "invocation", "next"]} ->
        RuntimeAPI.next(socket, ctx)

      {"POST", ["2018-06-01", "runtime", "invocation", id, "response"]} ->
        RuntimeAPI.response(socket, request, URI.decode(id), ctx)

      {"POST", ["2018-06-01", "runtime", "invocation", id, "error"]} ->
        RuntimeAPI.error(socket, request, URI.decode(id), ctx)

      {"POST", ["2018-06-01", "runtime", "init", "error"]} ->
        RuntimeAPI.init_error(socket, request, ctx)

      {"POST", ["2015-03-31", "functions", _name, "invocations"]} ->
        InvokeAPI.invoke(socket, request, false, ctx)

      # InvokeWithResponseStream's own API version (as AWS SDKs call it), and
      # the Invoke API's version (as cargo-lambda serves it).
      {"POST", [version, "functions", _name, "response-streaming-invocations"]}
      when version in ["2021-11-15", "2015-03-31"] ->
        InvokeAPI.invoke(socket, request, true, ctx)

      {method, _} ->
        with {:ok, _} <- Wire.read_full_body(socket, request) do
          message =
            "no route for #{method} #{request.path} (the Runtime API is under #{@runtime})"

          Wire.send_json(socket, 404, %{"errorType" => "NotFound", "errorMessage" => message})
        end
    end
  end
end
