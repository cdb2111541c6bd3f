defmodule LambdaRuntime.Fault.Matrix.Shared do
  @moduledoc """
  A runtime (the real `bootstrap.sh` with the fixture project) that several
  tests share: started in `setup_all`, owned by a process of its own that
  keeps everything the runtime prints, so that any test can read it.
  """

  alias LambdaRuntime.TestSupport.{FaultApi, Fixture}

  defstruct [:api, :holder, :runtime]

  @doc "Starts a FaultApi (unless `api` is given) and a runtime against `runtime_api`."
  def start!(handler, opts \\ []) do
    api = Keyword.get_lazy(opts, :api, &FaultApi.start!/0)
    runtime_api = Keyword.get(opts, :runtime_api, FaultApi.runtime_api(api))
    parent = self()
    ref = make_ref()

    holder =
      spawn(fn ->
        runtime = Fixture.start_runtime!(runtime_api, handler)
        send(parent, {ref, runtime})
        hold(runtime.port, [], nil)
      end)

    receive do
      {^ref, runtime} -> %__MODULE__{api: api, holder: holder, runtime: runtime}
    after
      60_000 -> raise "the shared runtime did not start"
    end
  end

  @doc "Kills the runtime and stops the API."
  def stop(%__MODULE__{api: api, holder: holder, runtime: runtime}) do
    Fixture.kill_runtime(runtime)
    Process.exit(holder, :kill)
    FaultApi.stop(api)
  end

  @doc "Everything the runtime printed so far, and its exit status (nil while it runs)."
  def output(%__MODULE__{holder: holder}) do
    ref = make_ref()
    send(holder, {:get, self(), ref})

    receive do
      {^ref, output, status} -> {output, status}
    after
      5_000 -> raise "the runtime holder does not answer"
    end
  end

  @doc "The output, once it contains `text` (or after `timeout` ms)."
  def await_output(shared, text, timeout \\ 5_000),
    do: poll_output(shared, text, System.monotonic_time(:millisecond) + timeout)

  defp poll_output(shared, text, deadline) do
    {output, _status} = output(shared)

    if output =~ text or System.monotonic_time(:millisecond) > deadline do
      output
    else
      Process.sleep(20)
      poll_output(shared, text, deadline)
    end
  end

  defp hold(port, acc, status) do
    receive do
      {^port, {:data, data}} ->
        hold(port, [acc | data], status)

      {^port, {:exit_status, code}} ->
        hold(port, acc, code)

      {:get, from, ref} ->
        send(from, {ref, IO.iodata_to_binary(acc), status})
        hold(port, acc, status)
    end
  end
end

defmodule LambdaRuntime.Fault.Matrix.StallProxy do
  @moduledoc """
  A TCP proxy in front of a FaultApi, byte for byte the same except for
  requests whose bytes contain a marker:

    * `{:stall, marker, ms}`: the answer to such a request is held back
      for `ms` (a Runtime API that takes its time to answer)
    * `{:answer_early, marker, status}`: the proxy answers `status` itself
      as soon as it sees the request's head, without reading the body, and
      closes the connection half a second later (as Lambda's Runtime API,
      a Go server, does past its payload limit: it reads the limit plus one
      byte, answers 413 and leaves the rest unread, so the kernel resets the
      connection)
  """

  defstruct [:port, :pid]

  def start!(upstream_port, rule) do
    parent = self()

    pid =
      spawn(fn ->
        {:ok, listen} =
          :gen_tcp.listen(0, [
            :binary,
            ip: {127, 0, 0, 1},
            active: false,
            reuseaddr: true,
            nodelay: true
          ])

        {:ok, port} = :inet.port(listen)
        send(parent, {self(), port})
        accept(listen, upstream_port, rule)
      end)

    receive do
      {^pid, port} -> %__MODULE__{port: port, pid: pid}
    end
  end

  def runtime_api(%__MODULE__{port: port}), do: "127.0.0.1:#{port}"

  def stop(%__MODULE__{pid: pid}), do: Process.exit(pid, :kill)

  defp accept(listen, upstream_port, rule) do
    {:ok, client} = :gen_tcp.accept(listen)

    {:ok, upstream} =
      :gen_tcp.connect({127, 0, 0, 1}, upstream_port, [:binary, active: false, nodelay: true])

    conn = spawn_link(fn -> connection(client, upstream, rule) end)
    :ok = :gen_tcp.controlling_process(client, conn)
    :ok = :gen_tcp.controlling_process(upstream, conn)
    send(conn, :go)
    accept(listen, upstream_port, rule)
  end

  # Client to upstream here; upstream to client in a linked pump. A request
  # carrying a stall marker tells the pump to wait before passing on the
  # answer; the message is sent before the request goes upstream, so it is
  # always there before the answer.
  defp connection(client, upstream, rule) do
    receive do
      :go -> :ok
    end

    :ok = :inet.setopts(client, nodelay: true)
    pump = spawn_link(fn -> answers(upstream, client) end)
    requests(client, upstream, pump, rule)
  end

  defp requests(client, upstream, pump, {mode, marker, arg} = rule) do
    with {:ok, data} <- :gen_tcp.recv(client, 0) do
      case {mode, :binary.match(data, marker)} do
        {_, :nomatch} ->
          :ok = :gen_tcp.send(upstream, data)
          requests(client, upstream, pump, rule)

        {:stall, _} ->
          send(pump, {:delay, arg})
          :ok = :gen_tcp.send(upstream, data)
          requests(client, upstream, pump, rule)

        {:answer_early, _} ->
          body = ~s({"errorType":"RequestEntityTooLarge","errorMessage":"early #{arg}"})

          :gen_tcp.send(
            client,
            "HTTP/1.1 #{arg} Status\r\nContent-Type: application/json\r\n" <>
              "Content-Length: #{byte_size(body)}\r\n\r\n" <> body
          )

          # Like Go's server: FIN, half a second for the client to read
          # the answer, then close with the body unread (a reset).
          Process.unlink(pump)
          Process.exit(pump, :kill)
          :gen_tcp.close(upstream)
          :gen_tcp.shutdown(client, :write)
          Process.sleep(500)
          :gen_tcp.close(client)
      end
    else
      {:error, _} ->
        :gen_tcp.close(upstream)
        :gen_tcp.close(client)
    end
  end

  defp answers(upstream, client) do
    case :gen_tcp.recv(upstream, 0) do
      {:ok, data} ->
        receive do
          {:delay, ms} -> Process.sleep(ms)
        after
          0 -> :ok
        end

        _ = :gen_tcp.send(client, data)
        answers(upstream, client)

      {:error, _} ->
        :gen_tcp.close(client)
    end
  end
end

defmodule LambdaRuntime.Fault.Matrix.Assert do
  @moduledoc "What the matrix rows check, against the FaultApi's record."

  import ExUnit.Assertions

  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.FaultApi

  def header(request, name), do: :proplists.get_value(name, request.headers, nil)

  @doc "The one request posted to `/runtime/invocation/ID/KIND`."
  def posted(api, request_id, kind \\ "response") do
    [request] = FaultApi.await(api, "/runtime/invocation/#{request_id}/#{kind}")
    request
  end

  @doc "All requests to `/runtime/invocation/ID/KIND` so far."
  def all_posted(api, request_id, kind) do
    suffix = "/runtime/invocation/#{request_id}/#{kind}"
    api |> FaultApi.requests() |> Enum.filter(&String.ends_with?(&1.path, suffix))
  end

  @doc """
  Queues `event` (a term, or a raw binary body), waits for its `/error` and
  returns `{header_type, decoded_body, request}`; no `/response` was posted.
  """
  def failed!(api, request_id, event, opts \\ []) do
    FaultApi.event(api, request_id, body(event), opts)
    error = posted(api, request_id, "error")
    assert all_posted(api, request_id, "response") == []
    {header(error, "lambda-runtime-function-error-type"), JSON.decode!(error.body), error}
  end

  @doc "Queues `event` and returns its decoded `/response` body."
  def served!(api, request_id, event, opts \\ []) do
    FaultApi.event(api, request_id, body(event), opts)
    JSON.decode!(posted(api, request_id).body)
  end

  @doc "The next invocation on the same runtime succeeds."
  def serves_next!(api, after_id) do
    id = after_id <> "-next"
    body = served!(api, id, %{"do" => "ok", "after" => after_id})

    assert body == %{
             "ok" => true,
             "request_id" => id,
             "event" => %{"do" => "ok", "after" => after_id}
           }
  end

  @doc "Waits until the runtime's latest request is a `/next` (it is idle) and returns it."
  def idle!(api, timeout \\ 10_000),
    do: await_idle(api, System.monotonic_time(:millisecond) + timeout)

  defp await_idle(api, deadline) do
    last = List.last(FaultApi.requests(api))

    cond do
      match?(%{method: "GET"}, last) and String.ends_with?(last.path, "/next") ->
        last

      System.monotonic_time(:millisecond) > deadline ->
        flunk("the runtime is not waiting on /next; last request: #{inspect(last)}")

      true ->
        Process.sleep(10)
        await_idle(api, deadline)
    end
  end

  @doc "How many `/next` requests the API has seen."
  def next_count(api),
    do: api |> FaultApi.requests() |> Enum.count(&String.ends_with?(&1.path, "/next"))

  defp body(event) when is_binary(event), do: event
  defp body(event), do: JSON.encode!(event)
end
