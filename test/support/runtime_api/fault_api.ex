defmodule LambdaRuntime.TestSupport.FaultApi do
  @moduledoc """
  A scripted Lambda Runtime API for fault-injection tests: plain `:gen_tcp`
  on 127.0.0.1 (a free port), HTTP/1.1 with keep-alive, `nodelay: true`.

  `/next` answers come from a queue of actions, each used once; a `/next`
  that finds the queue empty waits for the next `push_next/2`:

    * `{:event, request_id, body, opts}`: a 200 with the invocation headers;
      opts: `:deadline_ms`, `:trace_id` (`nil` leaves the header out),
      `:headers` (extra `{name, value}`s),
      `:content_type` (`nil` leaves the header out), `:header_case`
      (`:upper`, `:lower` or `:as_is`, applied to every header name),
      `:close` (answer with `Connection: close`, then close),
      `:chunked` (the body in chunks, without `Content-Length`)
    * `{:status, code, body}`: an answer with that status
    * `:reset`: the connection is reset (RST) without an answer
    * `{:raw, bytes}`: `bytes` are written as they are, then the connection closes

  `/response`, `/error` and `/init/error` are answered 202 unless a
  `{status, body}` (or `:reset`, or `:hang`: read, never answered, the
  connection held open) was queued for that kind with `push_reply/3`.
  `:cut` queued for `:response` cuts a streamed (chunked) `/response` off:
  its first chunk is read, then the connection closes without an answer.
  Every request is recorded (method, path, lower-cased headers, body).
  """

  use GenServer

  defstruct [:pid, :port]

  @type t :: %__MODULE__{pid: pid(), port: :inet.port_number()}

  @doc "Starts the API on a free loopback port."
  def start! do
    {:ok, pid} = GenServer.start(__MODULE__, [])
    %__MODULE__{pid: pid, port: GenServer.call(pid, :port)}
  end

  @doc "The value of `AWS_LAMBDA_RUNTIME_API`, in Lambda's `host:port` form."
  def runtime_api(%__MODULE__{port: port}), do: "127.0.0.1:#{port}"

  @doc "Queues an answer for `/next`."
  def push_next(%__MODULE__{pid: pid}, action), do: GenServer.call(pid, {:push_next, action})

  @doc "Queues an event for `/next`."
  def event(api, request_id, body, opts \\ []),
    do: push_next(api, {:event, request_id, body, opts})

  @doc "Queues the answer to the next `/response`, `/error` or `/init/error`."
  def push_reply(%__MODULE__{pid: pid}, kind, reply)
      when kind in [:response, :error, :init_error] and
             (reply in [:reset, :cut, :hang] or tuple_size(reply) == 2),
      do: GenServer.call(pid, {:push_reply, kind, reply})

  @doc "Every request so far, oldest first."
  def requests(%__MODULE__{pid: pid}), do: GenServer.call(pid, :requests)

  @doc """
  Waits until `count` requests match `filter` (a path suffix or a function
  of the request) and returns them, oldest first; raises after `timeout` ms.
  """
  def await(api, filter, count \\ 1, timeout \\ 10_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    wait(api, matcher(filter), count, deadline)
  end

  @doc "Stops the API and every connection it holds."
  def stop(%__MODULE__{pid: pid}), do: GenServer.stop(pid, :shutdown)

  defp matcher(suffix) when is_binary(suffix), do: &String.ends_with?(&1.path, suffix)
  defp matcher(fun) when is_function(fun, 1), do: fun

  defp wait(api, match, count, deadline) do
    found = api |> requests() |> Enum.filter(match)

    cond do
      length(found) >= count ->
        Enum.take(found, count)

      System.monotonic_time(:millisecond) > deadline ->
        raise "expected #{count} matching request(s), got #{length(found)}; " <>
                "all requests: #{inspect(requests(api), limit: :infinity)}"

      true ->
        Process.sleep(10)
        wait(api, match, count, deadline)
    end
  end

  # Server

  @impl true
  def init([]) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        reuseaddr: true,
        nodelay: true,
        backlog: 64
      ])

    server = self()
    spawn_link(fn -> accept(listen, server) end)

    {:ok,
     %{
       listen: listen,
       next: :queue.new(),
       waiting: :queue.new(),
       replies: %{response: :queue.new(), error: :queue.new(), init_error: :queue.new()},
       requests: []
     }}
  end

  @impl true
  def handle_call(:port, _from, state) do
    {:ok, port} = :inet.port(state.listen)
    {:reply, port, state}
  end

  def handle_call({:push_next, action}, _from, state) do
    case :queue.out(state.waiting) do
      {{:value, waiter}, rest} ->
        GenServer.reply(waiter, action)
        {:reply, :ok, %{state | waiting: rest}}

      {:empty, _} ->
        {:reply, :ok, %{state | next: :queue.in(action, state.next)}}
    end
  end

  def handle_call({:push_reply, kind, reply}, _from, state) do
    {:reply, :ok, update_in(state.replies[kind], &:queue.in(reply, &1))}
  end

  def handle_call(:requests, _from, state), do: {:reply, Enum.reverse(state.requests), state}

  # A streamed /response whose head just arrived: cut it off if so queued.
  def handle_call({:stream_head, request}, _from, state) do
    case :queue.out(state.replies.response) do
      {{:value, :cut}, rest} ->
        state = %{state | requests: [request | state.requests]}
        {:reply, :cut, put_in(state.replies.response, rest)}

      _ ->
        {:reply, :read, state}
    end
  end

  def handle_call({:request, request}, from, state) do
    state = %{state | requests: [request | state.requests]}

    case kind(request) do
      :next ->
        case :queue.out(state.next) do
          {{:value, action}, rest} -> {:reply, action, %{state | next: rest}}
          {:empty, _} -> {:noreply, %{state | waiting: :queue.in(from, state.waiting)}}
        end

      :other ->
        {:reply, {:status, 404, ~s({"errorType":"NotFound"})}, state}

      kind ->
        case :queue.out(state.replies[kind]) do
          {{:value, simple}, rest} when simple in [:reset, :hang] ->
            {:reply, simple, put_in(state.replies[kind], rest)}

          {{:value, {status, body}}, rest} ->
            {:reply, {:status, status, body}, put_in(state.replies[kind], rest)}

          {:empty, _} ->
            {:reply, {:status, 202, ~s({"status":"OK"})}, state}
        end
    end
  end

  defp kind(%{method: "GET", path: path}) do
    if String.ends_with?(path, "/runtime/invocation/next"), do: :next, else: :other
  end

  defp kind(%{method: "POST", path: path}) do
    cond do
      String.ends_with?(path, "/runtime/init/error") -> :init_error
      path =~ ~r{/runtime/invocation/[^/]+/response$} -> :response
      path =~ ~r{/runtime/invocation/[^/]+/error$} -> :error
      true -> :other
    end
  end

  defp kind(_), do: :other

  # Connections

  defp accept(listen, server) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        pid = spawn_link(fn -> serve(socket, server) end)
        :ok = :gen_tcp.controlling_process(socket, pid)
        send(pid, :go)
        accept(listen, server)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, server) do
    receive do
      :go -> :ok
    end

    :ok = :inet.setopts(socket, nodelay: true)
    loop(socket, server)
  end

  defp loop(socket, server) do
    case read_request(socket, server) do
      {:ok, request} ->
        action = GenServer.call(server, {:request, request}, :infinity)

        if answer(socket, action) == :keep_alive,
          do: loop(socket, server),
          else: :gen_tcp.close(socket)

      {:error, _} ->
        :gen_tcp.close(socket)
    end
  end

  defp read_request(socket, server) do
    with {:ok, method, path, headers} <- LambdaRuntime.TestSupport.HTTPWire.read_head(socket),
         :read <- cut?(socket, server, method, path, headers),
         {:ok, body} <- read_body(socket, headers) do
      {:ok,
       %{
         method: method,
         path: path,
         headers: headers,
         body: body,
         at: now()
       }}
    end
  end

  # A chunked POST to /response: asks whether to cut it off; if so, reads
  # its first chunk and gives up on the connection.
  defp cut?(socket, server, "POST", path, headers) do
    chunked? = List.keyfind(headers, "transfer-encoding", 0) != nil

    if chunked? and path =~ ~r{/runtime/invocation/[^/]+/response$} do
      request = %{method: "POST", path: path, headers: headers, body: :cut, at: now()}

      case GenServer.call(server, {:stream_head, request}, :infinity) do
        :cut ->
          _first = read_chunk(socket)
          {:error, :cut}

        :read ->
          :read
      end
    else
      :read
    end
  end

  defp cut?(_socket, _server, _method, _path, _headers), do: :read

  defp now, do: System.monotonic_time(:millisecond)

  defp read_body(socket, headers) do
    case List.keyfind(headers, "content-length", 0) do
      {_, "0"} -> {:ok, ""}
      {_, length} -> :gen_tcp.recv(socket, String.to_integer(length))
      nil -> read_chunked(socket, headers)
    end
  end

  defp read_chunked(socket, headers) do
    if List.keyfind(headers, "transfer-encoding", 0),
      do: read_chunks(socket, []),
      else: {:ok, ""}
  end

  defp read_chunks(socket, acc) do
    case read_chunk(socket) do
      "" -> {:ok, IO.iodata_to_binary(acc)}
      chunk -> read_chunks(socket, [acc | chunk])
    end
  end

  # One chunk of a chunked body, its CRLF read too; "" for the last one
  # (trailers are not sent to this API).
  defp read_chunk(socket) do
    :ok = :inet.setopts(socket, packet: :line)
    {:ok, line} = :gen_tcp.recv(socket, 0)
    {size, _} = line |> String.trim() |> Integer.parse(16)
    :ok = :inet.setopts(socket, packet: :raw)
    {:ok, <<chunk::binary-size(size), "\r\n">>} = :gen_tcp.recv(socket, size + 2)
    chunk
  end

  defp answer(socket, {:event, request_id, body, opts}) do
    deadline = Keyword.get(opts, :deadline_ms, System.os_time(:millisecond) + 300_000)

    content_type =
      case Keyword.get(opts, :content_type, "application/json") do
        nil -> []
        type -> [{"Content-Type", type}]
      end

    headers =
      [
        {"Lambda-Runtime-Aws-Request-Id", request_id},
        {"Lambda-Runtime-Deadline-Ms", to_string(deadline)},
        {"Lambda-Runtime-Invoked-Function-Arn",
         "arn:aws:lambda:us-east-1:123456789012:function:test-function"},
        {"Lambda-Runtime-Trace-Id",
         Keyword.get(opts, :trace_id, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1")}
      ] ++ content_type ++ Keyword.get(opts, :headers, [])

    headers = Enum.reject(headers, &match?({_, nil}, &1))

    headers = Enum.map(headers, fn {k, v} -> {cased(k, opts[:header_case]), v} end)

    cond do
      opts[:chunked] ->
        send_chunked(socket, headers, body)

      opts[:close] ->
        send_response(socket, 200, headers ++ [{"Connection", "close"}], body)
        :gen_tcp.shutdown(socket, :write)
        :closed

      true ->
        send_response(socket, 200, headers, body)
    end
  end

  defp answer(socket, {:status, status, body}),
    do: send_response(socket, status, [{"Content-Type", "application/json"}], body)

  defp answer(socket, :reset) do
    :inet.setopts(socket, linger: {true, 0})
    :gen_tcp.close(socket)
    :closed
  end

  # Never answers; the connection stays open until the API stops.
  defp answer(_socket, :hang) do
    receive do
      :never -> :closed
    end
  end

  defp answer(socket, {:raw, bytes}) do
    :gen_tcp.send(socket, bytes)
    :gen_tcp.shutdown(socket, :write)
    :closed
  end

  # The body in chunks of at most 1000 bytes, without Content-Length.
  defp send_chunked(socket, headers, body) do
    head =
      ["HTTP/1.1 200 OK\r\n"] ++
        Enum.map(headers, fn {k, v} -> "#{k}: #{v}\r\n" end) ++
        ["Transfer-Encoding: chunked\r\n\r\n"]

    chunks =
      for <<chunk::binary-size(1000) <- body>>, into: [] do
        [Integer.to_string(1000, 16), "\r\n", chunk, "\r\n"]
      end

    tail_size = rem(byte_size(body), 1000)
    tail = binary_part(body, byte_size(body) - tail_size, tail_size)

    last =
      if tail_size > 0, do: [Integer.to_string(tail_size, 16), "\r\n", tail, "\r\n"], else: []

    case :gen_tcp.send(socket, [head, chunks, last, "0\r\n\r\n"]) do
      :ok -> :keep_alive
      {:error, _} -> :closed
    end
  end

  defp cased(name, :upper), do: String.upcase(name)
  defp cased(name, :lower), do: String.downcase(name)
  defp cased(name, _), do: name

  defp send_response(socket, status, headers, body) do
    head =
      ["HTTP/1.1 #{status} #{reason(status)}\r\n"] ++
        Enum.map(headers, fn {k, v} -> "#{k}: #{v}\r\n" end) ++
        ["Content-Length: #{byte_size(body)}\r\n\r\n"]

    case :gen_tcp.send(socket, [head, body]) do
      :ok -> :keep_alive
      {:error, _} -> :closed
    end
  end

  defp reason(200), do: "OK"
  defp reason(202), do: "Accepted"
  defp reason(408), do: "Request Timeout"
  defp reason(410), do: "Gone"
  defp reason(413), do: "Payload Too Large"
  defp reason(500), do: "Internal Server Error"
  defp reason(_), do: "Status"
end
