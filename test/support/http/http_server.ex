defmodule LambdaRuntime.TestSupport.HTTPServer do
  @moduledoc """
  The one base of the test suite's scripted servers: a listener on
  127.0.0.1 (a free port, `nodelay: true`), an accept loop, a process per
  connection. Each server says only what it answers.

      server = HTTPServer.start!(fn request -> {200, [], "hi " <> request.path} end)
      HTTPServer.url(server)     # "http://127.0.0.1:PORT"
      HTTPServer.stop(server)

  `start!/2` serves HTTP/1.1 with keep-alive: a connection reads a request
  (`HTTPWire.read_head/1`, then the body, by Content-Length or chunked,
  unless the `:read_body` option reads it another way), calls `script` with
  it in the connection's process and writes what `script` returns:

    * `{status, headers, body}`: an answer with Content-Length; the
      connection stays open for the next request
    * `{status, headers, body, :close}`: the same with `Connection: close`,
      then the write side is shut and the connection ends
    * `{:send, iodata}`: bytes written as they are (an answer made by
      hand); the connection stays open
    * `{:raw, iodata}`: bytes written as they are, then the write side is
      shut and the connection ends
    * `:reset`: the connection is reset (RST) without an answer
    * `:close`: the connection is closed without an answer
    * `:hang`: no answer; the connection is held open until the server stops

  A request is a map: `:method`, `:path` (the request target as sent,
  query included), `:headers` (`[{lower_name, value}]`), `:body`, `:at`
  (monotonic ms when its head was read) and `:done_at` (when its body
  was). `:read_body` is `fn socket, request -> {:ok, request} | {:error, _}`,
  given the request without its body; what it adds (chunk timings,
  trailers) stays in the map.

  `start_tcp!/2` is the same listener for servers that are not HTTP (a
  proxy): `serve.(socket)` owns each accepted connection.

  The server is linked to the process that starts it and ends with it;
  every connection ends with the server, and a connection's process that
  crashes ends only its connection (the VM logs the crash).
  """

  alias LambdaRuntime.TestSupport.HTTPWire

  defstruct [:pid, :port]

  @type t :: %__MODULE__{pid: pid(), port: :inet.port_number()}

  @doc "Starts an HTTP/1.1 server running `script` for each request (see the moduledoc)."
  @spec start!((map -> term), keyword) :: t
  def start!(script, opts \\ []) when is_function(script, 1) do
    read_body = Keyword.get(opts, :read_body, &read_body/2)
    start_tcp!(fn socket -> serve(socket, script, read_body) end, opts)
  end

  @doc """
  Starts a listener whose accepted connections each go to `serve.(socket)`,
  in a process of their own. Option: `:backlog` (default 128).
  """
  @spec start_tcp!((:gen_tcp.socket() -> term), keyword) :: t
  def start_tcp!(serve, opts \\ []) when is_function(serve, 1) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        reuseaddr: true,
        nodelay: true,
        backlog: Keyword.get(opts, :backlog, 128)
      ])

    {:ok, port} = :inet.port(listen)
    pid = spawn_link(fn -> accept(listen, serve) end)
    :ok = :gen_tcp.controlling_process(listen, pid)
    %__MODULE__{pid: pid, port: port}
  end

  @doc "The server's base URL."
  def url(%__MODULE__{port: port}), do: "http://127.0.0.1:#{port}"

  @doc "Stops the server and every connection it holds."
  def stop(%__MODULE__{pid: pid}) do
    Process.unlink(pid)
    Process.exit(pid, :kill)
    :ok
  end

  @doc "A loopback port nothing listens on (at the time of the call)."
  def free_port do
    {:ok, socket} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(socket)
    :gen_tcp.close(socket)
    port
  end

  # The accept loop. Accepted sockets stay owned by this process, so that
  # they all close when it ends (it is linked to the server's owner); each
  # connection is served by a process of its own, which watches this one
  # (a connection left hanging ends with the server) and whose crash ends
  # only that connection.
  defp accept(listen, serve) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        acceptor = self()

        spawn(fn ->
          Process.put({__MODULE__, :acceptor}, Process.monitor(acceptor))
          serve.(socket)
        end)

        accept(listen, serve)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, script, read_body) do
    with {:ok, method, path, headers} <- HTTPWire.read_head(socket),
         head = %{method: method, path: path, headers: headers, at: now()},
         {:ok, request} <- read_body.(socket, head) do
      request = Map.put(request, :done_at, now())

      case reply(socket, script.(request)) do
        :keep_alive -> serve(socket, script, read_body)
        :closed -> :gen_tcp.close(socket)
      end
    else
      _ -> :gen_tcp.close(socket)
    end
  end

  defp read_body(socket, request) do
    with {:ok, body} <- HTTPWire.read_body(socket, request.headers),
         do: {:ok, Map.put(request, :body, body)}
  end

  defp reply(socket, {status, headers, body}),
    do: sent(socket, HTTPWire.send_response(socket, status, headers, body))

  defp reply(socket, {status, headers, body, :close}) do
    HTTPWire.send_response(socket, status, headers ++ [{"Connection", "close"}], body)
    shut(socket)
  end

  defp reply(socket, {:send, iodata}), do: sent(socket, :gen_tcp.send(socket, iodata))

  defp reply(socket, {:raw, iodata}) do
    :gen_tcp.send(socket, iodata)
    shut(socket)
  end

  defp reply(socket, :reset) do
    :inet.setopts(socket, linger: {true, 0})
    :closed
  end

  defp reply(_socket, :close), do: :closed

  defp reply(_socket, :hang) do
    acceptor = Process.get({__MODULE__, :acceptor})

    receive do
      {:DOWN, ^acceptor, :process, _, _} -> :closed
    end
  end

  defp sent(_socket, :ok), do: :keep_alive
  defp sent(_socket, {:error, _}), do: :closed

  # Write side shut (the answer is complete), then the connection closed.
  defp shut(socket) do
    :gen_tcp.shutdown(socket, :write)
    :closed
  end

  defp now, do: System.monotonic_time(:millisecond)
end
