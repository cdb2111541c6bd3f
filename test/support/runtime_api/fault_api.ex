defmodule LambdaRuntime.TestSupport.FaultApi do
  @moduledoc """
  A scripted Lambda Runtime API for fault-injection tests, on
  `LambdaRuntime.TestSupport.HTTPServer` (127.0.0.1, a free port, HTTP/1.1
  with keep-alive, `nodelay: true`). This module holds the script: what
  each request is answered, and the record of every request.

  `/next` answers come from a queue of actions, each used once; a `/next`
  that finds the queue empty waits for the next `push_next/2`:

    * `{:event, request_id, body, opts}`: a 200 with the invocation headers
      (see `LambdaRuntime.TestSupport.FaultApi.Answers` for the options)
    * `{:status, code, body}`: an answer with that status
    * `:reset`: the connection is reset (RST) without an answer
    * `{:raw, bytes}`: `bytes` are written as they are, then the connection closes

  `/response`, `/error` and `/init/error` are answered 202 unless a
  `{status, body}` (or `:reset`, or `:hang`: read, never answered, the
  connection held open) was queued for that kind with `push_reply/3`.
  `:cut` queued for `:response` cuts a streamed (chunked) `/response` off:
  its first chunk is read, then the connection closes without an answer.
  Every request is recorded (method, path, lower-cased headers, body, `at`).
  """

  use GenServer

  alias LambdaRuntime.TestSupport.{HTTPServer, HTTPWire, Wait}
  alias LambdaRuntime.TestSupport.FaultApi.Answers

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
  of the request) and returns them, oldest first; fails after `timeout` ms.
  """
  def await(api, filter, count \\ 1, timeout \\ 10_000) do
    match = matcher(filter)

    Wait.until(
      fn ->
        found = api |> requests() |> Enum.filter(match)
        if length(found) >= count, do: Enum.take(found, count)
      end,
      timeout: timeout,
      message: fn ->
        "expected #{count} request(s) matching #{inspect(filter)}; " <>
          "all requests: #{inspect(requests(api), limit: :infinity)}"
      end
    )
  end

  @doc "Stops the API and every connection it holds (if it still runs)."
  def stop(%__MODULE__{pid: pid}) do
    GenServer.stop(pid, :shutdown)
  catch
    :exit, _ -> :ok
  end

  defp matcher(suffix) when is_binary(suffix), do: &String.ends_with?(&1.path, suffix)
  defp matcher(fun) when is_function(fun, 1), do: fun

  # Server

  @impl true
  def init([]) do
    api = self()

    server =
      HTTPServer.start!(&Answers.reply(GenServer.call(api, {:request, &1}, :infinity)),
        read_body: &read_body(&1, &2, api),
        backlog: 64
      )

    {:ok,
     %{
       server: server,
       next: :queue.new(),
       waiting: :queue.new(),
       replies: %{response: :queue.new(), error: :queue.new(), init_error: :queue.new()},
       requests: []
     }}
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, state.server.port, state}

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
      response?(path) -> :response
      path =~ ~r{/runtime/invocation/[^/]+/error$} -> :error
      true -> :other
    end
  end

  defp kind(_), do: :other

  defp response?(path), do: path =~ ~r{/runtime/invocation/[^/]+/response$}

  # The body, read in the connection's process. A chunked POST to
  # /response first asks whether to cut it off; if so, its first chunk is
  # read and the connection given up.
  defp read_body(socket, request, api) do
    chunked? = HTTPWire.header(request.headers, "transfer-encoding") != nil

    if request.method == "POST" and chunked? and response?(request.path) and
         GenServer.call(api, {:stream_head, Map.put(request, :body, :cut)}, :infinity) == :cut do
      _first = HTTPWire.read_chunk(socket)
      {:error, :cut}
    else
      with {:ok, body} <- HTTPWire.read_body(socket, request.headers),
           do: {:ok, Map.put(request, :body, body)}
    end
  end
end
