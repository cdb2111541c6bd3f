defmodule LambdaRuntime.Tools.Emulator do
  @moduledoc """
  A Lambda Runtime API emulator, in Elixir, to run a function locally the way
  Lambda runs it: a runtime (`bootstrap.sh`, or the runtime's processes in
  this VM) polls it for events, and you invoke the function through it.

      {:ok, emu} = LambdaRuntime.Tools.Emulator.start_link(timeout: 3, memory_size: 512)
      LambdaRuntime.Tools.Emulator.runtime_api(emu)
      #=> "127.0.0.1:40123" (give it to the runtime as AWS_LAMBDA_RUNTIME_API)
      LambdaRuntime.Tools.Emulator.invoke(emu, %{"name" => "Ada"})
      #=> {:ok, %{"message" => "Hello, Ada!"}}

  In a test, start it under the test supervisor:
  `emu = start_supervised!({LambdaRuntime.Tools.Emulator, timeout: 3})`.

  ## Endpoints (HTTP/1.1 on loopback)

    * the Runtime API: `GET /2018-06-01/runtime/invocation/next` (long poll),
      `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error`,
      `POST /2018-06-01/runtime/init/error`;
    * `POST /2015-03-31/functions/{name}/invocations`, as Lambda's Invoke:
      200 with the response, or 200 with `X-Amz-Function-Error: Unhandled`
      and the error JSON; `X-Amz-Invocation-Type: Event` answers 202 at once,
      `DryRun` 204; `X-Amz-Client-Context` (base64 JSON) reaches the runtime,
      and so does `X-Amzn-Trace-Id`;
    * `POST /2021-11-15/functions/{name}/response-streaming-invocations`
      (and the same under `/2015-03-31`, as cargo-lambda serves it), as
      Lambda's InvokeWithResponseStream: the answer is an AWS event stream
      (`LambdaRuntime.Tools.Emulator.EventStream`). What a runtime streams
      (`Lambda-Runtime-Function-Response-Mode: streaming`, chunked) is
      relayed as `PayloadChunk` events as it comes, with the stream's
      `Content-Type`; a response that was not streamed comes whole, as one
      `PayloadChunk`; `InvokeComplete` ends it, with `ErrorCode` (the error
      type) and `ErrorDetails` (the error JSON) if the function failed.
      On the plain Invoke path a streamed response is returned whole.

  Each event gets a UUID request id, a real epoch deadline
  (`Lambda-Runtime-Deadline-Ms`, now plus the timeout), a function ARN and
  an X-Ray trace id. If the runtime has not answered by the deadline, the
  invocation fails with `Sandbox.Timedout`, as on Lambda; a late answer gets
  410. The limits are Lambda's (`LambdaRuntime.Limits`): an event over
  6 MiB is refused (`RequestEntityTooLargeException`, 413 on the HTTP
  endpoint), a response over 6 MB gets 413 and a stream past 200 MiB fails
  the invocation, both with `Function.ResponseSizeTooLarge`. After every invocation a
  `LambdaRuntime.Tools.Emulator.Report` is kept (see `reports/1`) and, with the
  `:log` option, its REPORT line is written.

  ## Options

    * `:port` - TCP port (default 0: any free port); `:ip` (default `{127, 0, 0, 1}`)
    * `:function_name` - default `"function"`; `:function_version` - default `"$LATEST"`
    * `:timeout` - the function timeout in seconds (default 3; floats allowed)
    * `:memory_size` - in MB (default 128), for the REPORT line
    * `:max_stream_bytes` - the streamed response limit (default
      `LambdaRuntime.Limits.max_streamed_bytes/0`, 200 MiB)
    * `:region` (default `"us-east-1"`) and `:account_id` (default
      `"123456789012"`), for the function ARN
    * `:log` - where REPORT lines go: `nil` (default), `:stdio`, a pid
      (receives `{LambdaRuntime.Tools.Emulator, :log, line}`) or a 1-arity function
    * `:memory_probe` - a 0-arity function giving the runtime's memory use in
      bytes (default: this VM's `:erlang.memory(:total)`)
    * `:name` - a name to register the emulator under
  """
  use GenServer

  alias LambdaRuntime.Tools.Emulator.{Invocations, Listener}

  @type emulator :: GenServer.server()

  @doc "Starts an emulator linked to the caller. See the module doc for options."
  @spec start_link(keyword()) :: GenServer.on_start()
  def start_link(opts \\ []) do
    {gen_opts, opts} = Keyword.split(opts, [:name])
    GenServer.start_link(__MODULE__, opts, gen_opts)
  end

  @doc "Stops the emulator and closes every connection."
  @spec stop(emulator()) :: :ok
  def stop(emu), do: GenServer.stop(emu)

  @doc "The TCP port the emulator listens on."
  @spec port(emulator()) :: :inet.port_number()
  def port(emu), do: GenServer.call(emu, :port)

  @doc "The value to give a runtime as `AWS_LAMBDA_RUNTIME_API` (`host:port`)."
  @spec runtime_api(emulator()) :: String.t()
  def runtime_api(emu), do: GenServer.call(emu, :runtime_api)

  @doc "The URL of the Invoke endpoint (`POST` an event to it)."
  @spec invoke_url(emulator()) :: String.t()
  def invoke_url(emu) do
    "http://#{runtime_api(emu)}/2015-03-31/functions/#{GenServer.call(emu, :function_name)}/invocations"
  end

  @doc """
  Invokes the function with `event` (any term `LambdaRuntime.JSON` encodes)
  and waits for the outcome: `{:ok, response}` or `{:error, error}`, both
  decoded from JSON as the caller of Lambda's Invoke would get them (a
  response that is not JSON is returned as a binary).

  Options: `:client_context` (a map, delivered as
  `Lambda-Runtime-Client-Context`), `:wait` (how long to wait for the
  outcome, default `:infinity`; the emulator's own timeout applies anyway).
  """
  @spec invoke(emulator(), term(), keyword()) :: {:ok, term()} | {:error, term()}
  def invoke(emu, event, opts \\ []) do
    {status, body, _report} = invoke_json(emu, LambdaRuntime.JSON.encode!(event), opts)
    {status, decode(body)}
  end

  @doc """
  Like `invoke/3` but takes the event as JSON text and returns the body as
  it came, with the invocation's REPORT: `{:ok | :error, body, report}`.
  """
  @spec invoke_json(emulator(), iodata(), keyword()) ::
          {:ok | :error, binary(), LambdaRuntime.Tools.Emulator.Report.t() | nil}
  def invoke_json(emu, json, opts \\ []) do
    client_context = opts[:client_context] && LambdaRuntime.JSON.encode!(opts[:client_context])
    meta = %{client_context: client_context, caller: self()}
    monitor = emu |> GenServer.whereis() |> Process.monitor()

    case GenServer.call(emu, {:submit, IO.iodata_to_binary(json), meta}) do
      {:ok, id} ->
        try do
          await(id, monitor, [], Keyword.get(opts, :wait, :infinity))
        after
          Process.demonitor(monitor, [:flush])
        end

      # As Lambda's Invoke API refuses it (413), before any runtime sees it.
      {:error, :too_large} ->
        Process.demonitor(monitor, [:flush])
        {:error, LambdaRuntime.Limits.request_too_large_json(), nil}
    end
  end

  # Waits for the outcome of invocation `id` in the calling process.
  defp await(id, monitor, chunks, wait) do
    receive do
      {:DOWN, ^monitor, :process, _, reason} ->
        exit({{:emulator_down, reason}, {__MODULE__, :invoke, id}})

      {__MODULE__, ^id, {:stream_head, _content_type}} ->
        await(id, monitor, chunks, wait)

      {__MODULE__, ^id, {:stream, data}} ->
        await(id, monitor, [chunks | data], wait)

      {__MODULE__, ^id, {:done, status, body, report, streamed?}} ->
        # A stream that failed midway: the error, not the partial stream.
        body = if streamed? and status == :ok, do: IO.iodata_to_binary(chunks), else: body
        {status, body, report}
    after
      wait -> exit({:timeout, {__MODULE__, :invoke, id}})
    end
  end

  @doc "The REPORTs of the finished invocations (the last 1000), oldest first."
  @spec reports(emulator()) :: [LambdaRuntime.Tools.Emulator.Report.t()]
  def reports(emu), do: GenServer.call(emu, :reports)

  @doc """
  Restarts the init clock: call it when starting a (new) runtime, so the
  next REPORT carries the time from now to the runtime's first `/next` as
  its Init Duration.
  """
  @spec expect_init(emulator()) :: :ok
  def expect_init(emu), do: GenServer.call(emu, :expect_init)

  @doc """
  Sets how the runtime's memory use is measured (a 0-arity function giving
  bytes), e.g. once a runtime OS process has started.
  """
  @spec put_memory_probe(emulator(), (... -> non_neg_integer())) :: :ok
  def put_memory_probe(emu, probe) when is_function(probe, 0),
    do: GenServer.call(emu, {:memory_probe, probe})

  @doc """
  Tells the emulator that the runtime process exited with `status`: the
  invocations it was running fail with `Runtime.ExitError`, as on Lambda;
  queued ones fail with the init error the runtime reported, if any, else
  with `Runtime.ExitError` too.
  """
  @spec runtime_exited(emulator(), integer()) :: :ok
  def runtime_exited(emu, status), do: GenServer.call(emu, {:runtime_exited, status})

  defp decode(body) do
    case LambdaRuntime.JSON.decode(body) do
      {:ok, term} -> term
      {:error, _} -> body
    end
  end

  # --- server ---

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)
    ip = Keyword.get(opts, :ip, {127, 0, 0, 1})

    version = Keyword.get(opts, :function_version, "$LATEST")

    case Listener.start_link(self(), ip, Keyword.get(opts, :port, 0), version) do
      {:ok, listener, port} ->
        config = %{
          ip: ip,
          port: port,
          function_name: Keyword.get(opts, :function_name, "function"),
          function_version: version,
          timeout_ms: round(Keyword.get(opts, :timeout, 3) * 1000),
          memory_size: Keyword.get(opts, :memory_size, 128),
          max_stream_bytes:
            Keyword.get(opts, :max_stream_bytes, LambdaRuntime.Limits.max_streamed_bytes()),
          region: Keyword.get(opts, :region, "us-east-1"),
          account_id: Keyword.get(opts, :account_id, "123456789012"),
          log: Keyword.get(opts, :log),
          memory_probe: Keyword.get(opts, :memory_probe, fn -> :erlang.memory(:total) end)
        }

        {:ok, %{listener: listener, invocations: Invocations.new(config)}}

      {:error, reason} ->
        {:stop, reason}
    end
  end

  @impl true
  def handle_call(:port, _from, state), do: {:reply, state.invocations.config.port, state}

  def handle_call(:function_name, _from, state),
    do: {:reply, state.invocations.config.function_name, state}

  def handle_call(:runtime_api, _from, state) do
    %{ip: ip, port: port} = state.invocations.config
    {:reply, "#{:inet.ntoa(ip)}:#{port}", state}
  end

  def handle_call(:reports, _from, state),
    do: {:reply, Enum.reverse(state.invocations.reports), state}

  def handle_call(request, from, state) do
    {reply, invocations} = Invocations.handle(request, from, state.invocations)
    state = %{state | invocations: invocations}

    case reply do
      :noreply -> {:noreply, state}
      {:reply, value} -> {:reply, value, state}
    end
  end

  @impl true
  def handle_cast(request, state) do
    {_reply, invocations} = Invocations.handle(request, nil, state.invocations)
    {:noreply, %{state | invocations: invocations}}
  end

  @impl true
  def handle_info({:EXIT, listener, reason}, %{listener: listener} = state),
    do: {:stop, reason, state}

  def handle_info({:EXIT, _pid, _reason}, state), do: {:noreply, state}

  def handle_info(message, state) do
    {_reply, invocations} = Invocations.handle(message, nil, state.invocations)
    {:noreply, %{state | invocations: invocations}}
  end

  @impl true
  def terminate(_reason, state) do
    Listener.stop(state.listener)
  end
end
