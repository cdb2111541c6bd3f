defmodule LambdaRuntime.RecordingApi do
  @moduledoc false
  # A Runtime API (plain :gen_tcp on 127.0.0.1, HTTP/1.1 keep-alive,
  # nodelay) that records what the runtime sends, as the runtime sends it:
  #
  #   * any number of concurrent /next long polls, each answered in turn by
  #     `invoke/4` (blocks until that invocation's /response or /error) or
  #     `event/4` (fire and forget);
  #   * every request: method, path, lower-cased headers, arrival time, and
  #     for a chunked body each chunk with its arrival time, and the trailers;
  #     chunk data is kept up to 8 MiB per request, beyond that only sizes
  #     (plus a SHA-256 of the whole body);
  #   * the Extensions API: /extension/register answers 200 with a
  #     Lambda-Extension-Identifier (or `:register` from `start!/1`), and
  #     /extension/event/next never answers, as for an extension with no
  #     events.

  use GenServer

  defstruct [:pid, :port]

  @keep_bytes 8 * 1024 * 1024

  def start!(opts \\ []) do
    {:ok, pid} = GenServer.start(__MODULE__, opts)
    api = %__MODULE__{pid: pid, port: GenServer.call(pid, :port)}
    ExUnit.Callbacks.on_exit(fn -> stop(api) end)
    api
  end

  def runtime_api(%__MODULE__{port: port}), do: "127.0.0.1:#{port}"

  @doc "Queues an event; returns at once."
  def event(%__MODULE__{pid: pid}, id, body, headers \\ []),
    do: GenServer.call(pid, {:event, id, body, headers})

  @doc "Queues an event and waits for its outcome: `{:response | :error, request}`."
  def invoke(%__MODULE__{pid: pid}, id, body, headers \\ [], timeout \\ 30_000),
    do: GenServer.call(pid, {:invoke, id, body, headers}, timeout)

  def requests(%__MODULE__{pid: pid}), do: GenServer.call(pid, :requests)

  @doc "Waits until the events `ids` have been handed to the runtime by /next."
  def await_delivered(%__MODULE__{pid: pid} = api, ids, timeout \\ 15_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    delivered = GenServer.call(pid, :delivered)

    cond do
      Enum.all?(ids, &MapSet.member?(delivered, &1)) ->
        :ok

      System.monotonic_time(:millisecond) > deadline ->
        raise "not delivered: #{inspect(ids)}"

      true ->
        Process.sleep(5) ||
          await_delivered(api, ids, deadline - System.monotonic_time(:millisecond))
    end
  end

  @doc "Waits until `count` requests match (a path suffix or a predicate)."
  def await(api, filter, count \\ 1, timeout \\ 15_000) do
    match = if is_binary(filter), do: &String.ends_with?(&1.path, filter), else: filter
    deadline = System.monotonic_time(:millisecond) + timeout
    wait(api, match, count, deadline)
  end

  def stop(%__MODULE__{pid: pid}) do
    if Process.alive?(pid), do: GenServer.stop(pid, :shutdown)
    :ok
  catch
    :exit, _ -> :ok
  end

  defp wait(api, match, count, deadline) do
    found = api |> requests() |> Enum.filter(match)

    cond do
      length(found) >= count ->
        Enum.take(found, count)

      System.monotonic_time(:millisecond) > deadline ->
        raise "expected #{count} matching request(s), got #{length(found)}"

      true ->
        Process.sleep(10)
        wait(api, match, count, deadline)
    end
  end

  # Server

  @impl true
  def init(opts) do
    {:ok, listen} =
      :gen_tcp.listen(0, [
        :binary,
        ip: {127, 0, 0, 1},
        active: false,
        reuseaddr: true,
        nodelay: true,
        backlog: 128
      ])

    server = self()
    spawn_link(fn -> accept(listen, server) end)

    {:ok,
     %{
       listen: listen,
       register: Keyword.get(opts, :register, :ok),
       events: :queue.new(),
       polls: :queue.new(),
       callers: %{},
       delivered: MapSet.new(),
       requests: []
     }}
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, elem(:inet.port(state.listen), 1), state}
  def handle_call(:requests, _from, state), do: {:reply, Enum.reverse(state.requests), state}
  def handle_call(:delivered, _from, state), do: {:reply, state.delivered, state}

  def handle_call({:event, id, body, headers}, _from, state),
    do: {:reply, :ok, dispatch(state, {id, body, headers})}

  def handle_call({:invoke, id, body, headers}, from, state) do
    state = %{state | callers: Map.put(state.callers, id, from)}
    {:noreply, dispatch(state, {id, body, headers})}
  end

  def handle_call({:request, request}, from, state) do
    state = %{state | requests: [request | state.requests]}

    case route(request) do
      :next ->
        case :queue.out(state.events) do
          {{:value, event}, rest} -> {:reply, {:event, event}, delivered(state, event, rest)}
          {:empty, _} -> {:noreply, %{state | polls: :queue.in(from, state.polls)}}
        end

      {outcome, id} when outcome in [:response, :error] ->
        {caller, callers} = Map.pop(state.callers, id)
        if caller, do: GenServer.reply(caller, {outcome, request})
        {:reply, {:status, 202, ~s({"status":"OK"})}, %{state | callers: callers}}

      :register ->
        {:reply, register_answer(state.register, length(state.requests)), state}

      :extension_next ->
        {:noreply, state}

      :init_error ->
        {:reply, {:status, 202, ~s({"status":"OK"})}, state}

      :other ->
        {:reply, {:status, 404, ~s({"errorType":"NotFound"})}, state}
    end
  end

  defp dispatch(state, event) do
    case :queue.out(state.polls) do
      {{:value, poll}, rest} ->
        GenServer.reply(poll, {:event, event})
        %{state | polls: rest, delivered: MapSet.put(state.delivered, elem(event, 0))}

      {:empty, _} ->
        %{state | events: :queue.in(event, state.events)}
    end
  end

  defp delivered(state, {id, _, _}, rest),
    do: %{state | events: rest, delivered: MapSet.put(state.delivered, id)}

  defp register_answer(:ok, n) do
    {:status, 200, ~s({"functionName":"test-function","functionVersion":"$LATEST","handler":"h"}),
     [{"Lambda-Extension-Identifier", "ext-id-#{n}"}]}
  end

  defp register_answer({status, body}, _n), do: {:status, status, body}
  defp register_answer(:hang, _n), do: :hang

  defp route(%{method: "GET", path: path}) do
    cond do
      String.ends_with?(path, "/runtime/invocation/next") -> :next
      String.ends_with?(path, "/2020-01-01/extension/event/next") -> :extension_next
      true -> :other
    end
  end

  defp route(%{method: "POST", path: path}) do
    cond do
      String.ends_with?(path, "/2020-01-01/extension/register") -> :register
      String.ends_with?(path, "/runtime/init/error") -> :init_error
      match = Regex.run(~r{/runtime/invocation/([^/]+)/(response|error)$}, path) -> outcome(match)
      true -> :other
    end
  end

  defp route(_), do: :other

  defp outcome([_, id, kind]), do: {String.to_existing_atom(kind), URI.decode(id)}

  # Connections

  defp accept(listen, server) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        pid = spawn(fn -> serve(socket, server) end)
        :ok = :gen_tcp.controlling_process(socket, pid)
        send(pid, :go)
        accept(listen, server)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, server) do
    ref = Process.monitor(server)

    receive do
      :go -> :ok
    end

    :ok = :inet.setopts(socket, nodelay: true)
    loop(socket, server, ref)
  end

  defp loop(socket, server, ref) do
    with {:ok, request} <- read_request(socket),
         {:ok, action} <- ask(server, request),
         :ok <- answer(socket, action, ref) do
      loop(socket, server, ref)
    else
      _ -> :gen_tcp.close(socket)
    end
  end

  defp ask(server, request) do
    {:ok, GenServer.call(server, {:request, request}, :infinity)}
  catch
    :exit, _ -> :stopped
  end

  defp read_request(socket) do
    :ok = :inet.setopts(socket, packet: :http_bin)

    with {:ok, {:http_request, method, {:abs_path, path}, _}} <- :gen_tcp.recv(socket, 0),
         at = System.monotonic_time(:millisecond),
         {:ok, headers} <- read_headers(socket, []),
         :ok <- :inet.setopts(socket, packet: :raw),
         {:ok, body} <- read_body(socket, headers) do
      {:ok,
       Map.merge(body, %{
         method: to_string(method),
         path: path,
         headers: headers,
         at: at,
         done_at: System.monotonic_time(:millisecond)
       })}
    else
      {:ok, other} -> {:error, {:unexpected, other}}
      error -> error
    end
  end

  defp read_headers(socket, acc) do
    case :gen_tcp.recv(socket, 0) do
      {:ok, {:http_header, _, name, _, value}} ->
        read_headers(socket, [{String.downcase(to_string(name)), value} | acc])

      {:ok, :http_eoh} ->
        {:ok, Enum.reverse(acc)}

      {:ok, other} ->
        {:error, {:bad_header, other}}

      error ->
        error
    end
  end

  defp read_body(socket, headers) do
    cond do
      length = List.keyfind(headers, "content-length", 0) ->
        n = String.to_integer(elem(length, 1))

        with {:ok, body} <- if(n == 0, do: {:ok, ""}, else: :gen_tcp.recv(socket, n)) do
          {:ok, %{body: body, chunks: nil, trailers: [], bytes: n}}
        end

      List.keyfind(headers, "transfer-encoding", 0) ->
        read_chunks(socket, %{chunks: [], trailers: [], bytes: 0, sha: :crypto.hash_init(:sha256)})

      true ->
        {:ok, %{body: "", chunks: nil, trailers: [], bytes: 0}}
    end
  end

  defp read_chunks(socket, acc) do
    with {:ok, line} <- line(socket),
         {size, _} <- Integer.parse(String.trim(line), 16) do
      if size == 0 do
        read_trailers(socket, acc)
      else
        with {:ok, <<data::binary-size(size), "\r\n">>} <- :gen_tcp.recv(socket, size + 2) do
          kept = if acc.bytes + size <= @keep_bytes, do: data, else: nil
          chunk = %{at: System.monotonic_time(:millisecond), size: size, data: kept}

          read_chunks(socket, %{
            acc
            | chunks: [chunk | acc.chunks],
              bytes: acc.bytes + size,
              sha: :crypto.hash_update(acc.sha, data)
          })
        end
      end
    else
      _ -> {:error, :bad_chunk}
    end
  end

  defp read_trailers(socket, acc) do
    case line(socket) do
      {:ok, "\r\n"} ->
        chunks = Enum.reverse(acc.chunks)

        {:ok,
         %{
           chunks: chunks,
           trailers: Enum.reverse(acc.trailers),
           bytes: acc.bytes,
           sha256: :crypto.hash_final(acc.sha),
           body: chunks |> Enum.map(&(&1.data || "")) |> IO.iodata_to_binary()
         }}

      {:ok, line} ->
        [name, value] = String.split(line, ":", parts: 2)
        trailer = {String.downcase(name), String.trim(value)}
        read_trailers(socket, %{acc | trailers: [trailer | acc.trailers]})

      error ->
        error
    end
  end

  defp line(socket) do
    :ok = :inet.setopts(socket, packet: :line)
    result = :gen_tcp.recv(socket, 0)
    :ok = :inet.setopts(socket, packet: :raw)
    result
  end

  defp answer(socket, {:event, {id, body, headers}}, _ref) do
    deadline = System.os_time(:millisecond) + 300_000

    {deadline, headers} =
      case List.keytake(headers, "Lambda-Runtime-Deadline-Ms", 0) do
        {{_, value}, rest} -> {value, rest}
        nil -> {to_string(deadline), headers}
      end

    headers =
      [
        {"Lambda-Runtime-Aws-Request-Id", id},
        {"Lambda-Runtime-Deadline-Ms", deadline},
        {"Lambda-Runtime-Invoked-Function-Arn",
         "arn:aws:lambda:us-east-1:123456789012:function:test-function"},
        {"Lambda-Runtime-Trace-Id", "Root=1-00000000-#{trace_suffix(id)};Sampled=1"},
        {"Content-Type", "application/json"}
      ] ++ headers

    send_response(socket, 200, headers, body)
  end

  defp answer(socket, {:status, status, body}, _ref), do: send_response(socket, status, [], body)

  defp answer(socket, {:status, status, body, headers}, _ref),
    do: send_response(socket, status, headers, body)

  # Holds the connection open, unanswered, until the API stops.
  defp answer(_socket, :hang, ref) do
    receive do
      {:DOWN, ^ref, _, _, _} -> :closed
    end
  end

  @doc false
  # The trace id the API sends with event `id` (24 hex digits).
  def trace_suffix(id),
    do: :crypto.hash(:md5, id) |> Base.encode16(case: :lower) |> binary_part(0, 24)

  def trace_id(id), do: "Root=1-00000000-#{trace_suffix(id)};Sampled=1"

  defp send_response(socket, status, headers, body) do
    head = [
      "HTTP/1.1 #{status} Status\r\n",
      Enum.map(headers, fn {k, v} -> [k, ": ", v, "\r\n"] end),
      "Content-Length: #{byte_size(body)}\r\n\r\n"
    ]

    :gen_tcp.send(socket, [head, body])
  end
end
