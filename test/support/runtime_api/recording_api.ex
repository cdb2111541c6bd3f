defmodule LambdaRuntime.TestSupport.RecordingApi do
  @moduledoc """
  A Runtime API that records what the runtime sends, as the runtime sends
  it (plain `:gen_tcp` on 127.0.0.1, HTTP/1.1 keep-alive, nodelay), for
  the tests of the runtime's features through `bootstrap.sh`:

    * any number of concurrent `/next` long polls, each answered in turn
      by `invoke/5` (blocks until that invocation's `/response` or
      `/error`) or `event/4` (fire and forget);
    * every request: method, path, lower-cased headers, arrival time, and
      for a chunked body each chunk with its arrival time, and the
      trailers; chunk data is kept up to 8 MiB per request, beyond that
      only sizes (plus a SHA-256 of the whole body);
    * with `start!(tap: pid)`, each chunk also goes to pid as
      `{:recording_api_chunk, path, data}` as soon as it is read;
    * the Extensions API: `/extension/register` answers 200 with a
      `Lambda-Extension-Identifier` (or `:register` from `start!/1`), and
      `/extension/event/next` never answers, as for an extension with no
      events.

  The API stops when the test that started it ends.
  """

  use GenServer

  alias LambdaRuntime.TestSupport.RecordingApi.Wire

  defstruct [:pid, :port]

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
    tap = Keyword.get(opts, :tap)
    spawn_link(fn -> accept(listen, server, tap) end)

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

  defp accept(listen, server, tap) do
    case :gen_tcp.accept(listen) do
      {:ok, socket} ->
        pid = spawn(fn -> serve(socket, server, tap) end)
        :ok = :gen_tcp.controlling_process(socket, pid)
        send(pid, :go)
        accept(listen, server, tap)

      {:error, _} ->
        :ok
    end
  end

  defp serve(socket, server, tap) do
    ref = Process.monitor(server)

    receive do
      :go -> :ok
    end

    :ok = :inet.setopts(socket, nodelay: true)
    loop(socket, server, ref, tap)
  end

  defp loop(socket, server, ref, tap) do
    with {:ok, request} <- Wire.read_request(socket, tap),
         {:ok, action} <- ask(server, request),
         :ok <- answer(socket, action, ref) do
      loop(socket, server, ref, tap)
    else
      _ -> :gen_tcp.close(socket)
    end
  end

  defp ask(server, request) do
    {:ok, GenServer.call(server, {:request, request}, :infinity)}
  catch
    :exit, _ -> :stopped
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
        {"Lambda-Runtime-Trace-Id", trace_id(id)},
        {"Content-Type", "application/json"}
      ] ++ headers

    Wire.send_response(socket, 200, headers, body)
  end

  defp answer(socket, {:status, status, body}, _ref),
    do: Wire.send_response(socket, status, [], body)

  defp answer(socket, {:status, status, body, headers}, _ref),
    do: Wire.send_response(socket, status, headers, body)

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
end
