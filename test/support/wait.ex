defmodule LambdaRuntime.TestSupport.Wait do
  @moduledoc ~S"""
  Waiting for what another process, an OS process or a server does: a
  condition polled until it holds, with a bounded deadline, failing the
  test with a message that says what did not happen. Tests wait on events
  this way (or on a message, a monitor's `:DOWN`, a port's exit), never on
  a fixed sleep.

      Wait.until(fn -> File.exists?(path) end, message: "#{path} was never written")
      request = Wait.until(fn -> Enum.find(requests(api), &next?/1) end, timeout: 5_000)
  """

  import ExUnit.Assertions, only: [flunk: 1]

  @doc """
  Calls `fun` until it returns a value other than `nil` or `false`, and
  returns that value. Options: `:timeout` (ms, default 10 000),
  `:interval` (ms between calls, default 10), `:message` (a string, or a
  zero-arity function called once on timeout, for the failure).
  """
  @spec until((... -> term), keyword) :: term
  def until(fun, opts \\ []) when is_function(fun, 0) do
    timeout = Keyword.get(opts, :timeout, 10_000)
    deadline = System.monotonic_time(:millisecond) + timeout
    poll(fun, deadline, Keyword.get(opts, :interval, 10), opts, timeout)
  end

  defp poll(fun, deadline, interval, opts, timeout) do
    cond do
      value = fun.() ->
        value

      System.monotonic_time(:millisecond) >= deadline ->
        flunk("waited #{timeout} ms: " <> message(Keyword.get(opts, :message)))

      true ->
        Process.sleep(interval)
        poll(fun, deadline, interval, opts, timeout)
    end
  end

  defp message(nil), do: "the condition never held"
  defp message(fun) when is_function(fun, 0), do: fun.()
  defp message(text) when is_binary(text), do: text
end
