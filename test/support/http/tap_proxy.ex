defmodule LambdaRuntime.TestSupport.TapProxy do
  @moduledoc """
  A TCP proxy (on `LambdaRuntime.TestSupport.HTTPServer`'s listener) that
  relays bytes both ways unchanged and tells a test what the upstream
  server answered: each piece of data from upstream goes to `tap` as
  `{:tap_proxy, data}`. For servers the tests cannot observe otherwise
  (cargo-lambda's emulator answering an idle `/next` with 408).
  """

  alias LambdaRuntime.TestSupport.HTTPServer

  @doc "Starts the proxy in front of 127.0.0.1:`upstream_port`, linked to the caller."
  def start!(upstream_port, tap),
    do: HTTPServer.start_tcp!(&relay(&1, upstream_port, tap))

  @doc """
  Waits for `count` answers from upstream whose data contains `text`;
  fails after `timeout` ms.
  """
  def await_answers(text, count, timeout \\ 10_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    await(text, count, deadline, timeout)
  end

  defp await(_text, 0, _deadline, _timeout), do: :ok

  defp await(text, count, deadline, timeout) do
    wait = max(deadline - System.monotonic_time(:millisecond), 0)

    receive do
      {:tap_proxy, data} ->
        found = length(:binary.matches(data, text))
        await(text, max(count - found, 0), deadline, timeout)
    after
      wait -> ExUnit.Assertions.flunk("fewer answers with #{inspect(text)} within #{timeout} ms")
    end
  end

  # Client to upstream here; upstream to client (and the tap) in a linked pump.
  defp relay(client, upstream_port, tap) do
    {:ok, upstream} =
      :gen_tcp.connect({127, 0, 0, 1}, upstream_port, [:binary, active: false, nodelay: true])

    spawn_link(fn -> pump(upstream, client, tap) end)
    forward(client, upstream)
  end

  defp forward(client, upstream) do
    case :gen_tcp.recv(client, 0) do
      {:ok, data} ->
        _ = :gen_tcp.send(upstream, data)
        forward(client, upstream)

      {:error, _} ->
        :gen_tcp.close(upstream)
        :gen_tcp.close(client)
    end
  end

  defp pump(upstream, client, tap) do
    case :gen_tcp.recv(upstream, 0) do
      {:ok, data} ->
        send(tap, {:tap_proxy, data})
        _ = :gen_tcp.send(client, data)
        pump(upstream, client, tap)

      {:error, _} ->
        :gen_tcp.close(client)
    end
  end
end
