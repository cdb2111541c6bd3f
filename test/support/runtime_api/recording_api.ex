defmodule LambdaRuntime.TestSupport.RecordingApi do
  @moduledoc """
  A Runtime API that records what the runtime sends, as the runtime sends
  it (on `LambdaRuntime.TestSupport.HTTPServer`: 127.0.0.1, HTTP/1.1
  keep-alive, nodelay), for the tests of the runtime's features through
  `bootstrap.sh`:

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

  alias LambdaRuntime.TestSupport.{HTTPServer, Wait}
  alias LambdaRuntime.TestSupport.RecordingApi.Wire

  defstruct [:pid, :port]

  @doc """
  Starts the API on a free loopback port; it stops when the test ends.
  Options: `:tap` (a pid that gets each chunk), `:register` (the answer to
  `/extension/register`: `{status, body}` or `:hang`).
  """
  def start!(opts \\ []) do
    {:ok, pid} = GenServer.start(__MODULE__, opts)
    api = %__MODULE__{pid: pid, port: GenServer.call(pid, :port)}
    ExUnit.Callbacks.on_exit(fn -> stop(api) end)
    api
  end

  @doc "The value of `AWS_LAMBDA_RUNTIME_API`, in Lambda's `host:port` form."
  def runtime_api(%__MODULE__{port: port}), do: "127.0.0.1:#{port}"

  @doc "Queues an event; returns at once."
  def event(%__MODULE__{pid: pid}, id, body, headers \\ []),
    do: GenServer.call(pid, {:event, id, body, headers})

  @doc "Queues an event and waits for its outcome: `{:response | :error, request}`."
  def invoke(%__MODULE__{pid: pid}, id, body, headers \\ [], timeout \\ 30_000),
    do: GenServer.call(pid, {:invoke, id, body, headers}, timeout)

  @doc "Every request so far, oldest first."
  def requests(%__MODULE__{pid: pid}), do: GenServer.call(pid, :requests)

  @doc "Waits until the events `ids` have been handed to the runtime by /next."
  def await_delivered(%__MODULE__{pid: pid}, ids, timeout \\ 15_000) do
    Wait.until(
      fn ->
        delivered = GenServer.call(pid, :delivered)
        Enum.all?(ids, &MapSet.member?(delivered, &1))
      end,
      timeout: timeout,
      message: "not delivered: #{inspect(ids)}"
    )

    :ok
  end

  @doc "Waits until `count` requests match (a path suffix or a predicate); returns them."
  def await(api, filter, count \\ 1, timeout \\ 15_000) do
    match = if is_binary(filter), do: &String.ends_with?(&1.path, filter), else: filter

    Wait.until(
      fn ->
        found = api |> requests() |> Enum.filter(match)
        if length(found) >= count, do: Enum.take(found, count)
      end,
      timeout: timeout,
      message: fn -> "expected #{count} request(s) matching #{inspect(filter)}" end
    )
  end

  @doc "Stops the API and every connection it holds."
  def stop(%__MODULE__{pid: pid}) do
    if Process.alive?(pid), do: GenServer.stop(pid, :shutdown)
    :ok
  catch
    :exit, _ -> :ok
  end

  # Server

  @impl true
  def init(opts) do
    api = self()
    tap = Keyword.get(opts, :tap)

    server =
      HTTPServer.start!(&answer(GenServer.call(api, {:request, &1}, :infinity)),
        read_body: &Wire.read_body(&1, &2, tap)
      )

    {:ok,
     %{
       server: server,
       register: Keyword.get(opts, :register, :ok),
       events: :queue.new(),
       polls: :queue.new(),
       callers: %{},
       delivered: MapSet.new(),
       requests: []
     }}
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, state.server.port, state}
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

  # The HTTPServer reply for what handle_call/3 decided.
  defp answer({:event, {id, body, headers}}) do
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

    {200, headers, body}
  end

  defp answer({:status, status, body}), do: {status, [], body}
  defp answer({:status, status, body, headers}), do: {status, headers, body}
  defp answer(:hang), do: :hang

  @doc false
  # The trace id the API sends with event `id` (24 hex digits).
  def trace_suffix(id),
    do: :crypto.hash(:md5, id) |> Base.encode16(case: :lower) |> binary_part(0, 24)

  def trace_id(id), do: "Root=1-00000000-#{trace_suffix(id)};Sampled=1"
end
