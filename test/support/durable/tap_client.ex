defmodule LambdaRuntime.TestSupport.Durable.TapClient do
  @moduledoc """
  A checkpoint client that forwards to an in-memory service and lets a
  test see and bend the traffic: every request body is sent to the test
  process, and `:answer` may replace an answer (`fn request_number, answer
  -> answer end`).
  """
  @behaviour LambdaRuntime.Durable.Service

  alias LambdaRuntime.Tools.Durable.Local.Service

  @impl true
  def checkpoint(%{svc: svc, test: test, counter: counter} = config, arn, body) do
    :ok = :counters.add(counter, 1, 1)
    n = :counters.get(counter, 1)
    body = IO.iodata_to_binary(body)
    send(test, {:checkpoint, n, LambdaRuntime.JSON.decode!(body)})
    answer = Service.checkpoint(svc, arn, body)
    if config[:answer], do: config.answer.(n, answer), else: answer
  end

  @impl true
  def get_state(%{svc: svc, test: test}, arn, token, marker) do
    send(test, {:get_state, marker})
    Service.get_state(svc, arn, token, marker)
  end
end
