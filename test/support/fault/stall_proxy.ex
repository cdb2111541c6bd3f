defmodule LambdaRuntime.TestSupport.Fault.StallProxy do
  @moduledoc """
  A TCP proxy in front of a FaultApi, byte for byte the same except for
  requests whose bytes contain a marker:

    * `{:stall, marker, ms}`: the answer to such a request is held back
      for `ms` (a Runtime API that takes its time to answer); when it is
      passed on, the process that started the proxy gets
      `{StallProxy, :released, monotonic_ms}`
    * `{:answer_early, marker, status}`: the proxy answers `status` itself
      as soon as it sees the request's head, without reading the body, and
      closes the connection half a second later (as Lambda's Runtime API,
      a Go server, does past its payload limit: it reads the limit plus one
      byte, answers 413 and leaves the rest unread, so the kernel resets the
      connection)
  """

  alias LambdaRuntime.TestSupport.HTTPServer

  @doc "Starts the proxy in front of `upstream_port` (an HTTPServer listener, linked to the caller)."
  def start!(upstream_port, rule) do
    owner = self()
    HTTPServer.start_tcp!(&connection(&1, upstream_port, rule, owner))
  end

  @doc "The value of `AWS_LAMBDA_RUNTIME_API` that goes through the proxy."
  def runtime_api(%HTTPServer{port: port}), do: "127.0.0.1:#{port}"

  @doc "Stops the proxy and its connections."
  def stop(proxy), do: HTTPServer.stop(proxy)

  # Client to upstream here; upstream to client in a linked pump. A request
  # carrying a stall marker tells the pump to wait before passing on the
  # answer; the message is sent before the request goes upstream, so it is
  # always there before the answer.
  defp connection(client, upstream_port, rule, owner) do
    {:ok, upstream} =
      :gen_tcp.connect({127, 0, 0, 1}, upstream_port, [:binary, active: false, nodelay: true])

    pump = spawn_link(fn -> answers(upstream, client, owner) end)
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

  defp answers(upstream, client, owner) do
    case :gen_tcp.recv(upstream, 0) do
      {:ok, data} ->
        receive do
          {:delay, ms} ->
            Process.sleep(ms)
            send(owner, {__MODULE__, :released, System.monotonic_time(:millisecond)})
        after
          0 -> :ok
        end

        _ = :gen_tcp.send(client, data)
        answers(upstream, client, owner)

      {:error, _} ->
        :gen_tcp.close(client)
    end
  end
end
