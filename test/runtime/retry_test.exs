defmodule LambdaRuntime.RetryTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureLog

  alias LambdaRuntime.Retry

  # A request that gives the scripted answers in turn and counts its calls.
  defp scripted(answers) do
    {:ok, agent} = Agent.start_link(fn -> {answers, 0} end)

    request = fn ->
      Agent.get_and_update(agent, fn {[answer | rest], n} -> {answer, {rest, n + 1}} end)
    end

    {request, fn -> Agent.get(agent, &elem(&1, 1)) end}
  end

  test "broken connections are retried until an HTTP answer comes" do
    {request, calls} =
      scripted([
        {:error, {:refused, "connection refused"}},
        {:error, {:closed, "reset"}},
        {:error, {:protocol, "garbage"}},
        {:ok, 200, "body"}
      ])

    log =
      capture_log(fn -> assert Retry.transport(request, [0, 0, 0, 0]) == {:ok, 200, "body"} end)

    assert calls.() == 4
    assert log =~ "refused: connection refused"
    assert log =~ "closed: reset"
    assert log =~ "protocol: garbage"
  end

  test "retry/3: a first attempt made elsewhere that failed is retried with request" do
    {request, calls} = scripted([{:error, {:closed, "again"}}, {:ok, 200, %{}, "event"}])

    log =
      capture_log(fn ->
        assert Retry.retry({:error, {:closed, "reset"}}, request, [0, 0, 0]) ==
                 {:ok, 200, %{}, "event"}
      end)

    assert calls.() == 2
    assert log =~ "closed: reset" and log =~ "closed: again"
  end

  test "retry/3: a first attempt that got an answer is returned without another request" do
    {request, calls} = scripted([])

    for answer <- [{:ok, 200, %{}, "event"}, {:truncated, 200, %{}, "cut"}, {:ok, 500, %{}, ""}] do
      assert Retry.retry(answer, request, [0]) == answer
    end

    assert calls.() == 0
  end

  test "any HTTP status is returned at once" do
    for answer <- [{:ok, 500, "x"}, {:ok, 408, %{}, ""}, {:ok, 413, ""}] do
      {request, calls} = scripted([answer])
      assert Retry.transport(request, [0, 0]) == answer
      assert calls.() == 1
    end
  end

  test "when the backoff runs out the last error is returned" do
    error = {:error, {:refused, "still refused"}}
    {request, calls} = scripted(List.duplicate(error, 3))
    capture_log(fn -> assert Retry.transport(request, [0, 0]) == error end)
    assert calls.() == 3
  end

  test "errors that a retry cannot fix are returned at once" do
    for error <- [{:error, {:too_large, "body"}}, {:error, {:other, "bad uri"}}] do
      {request, calls} = scripted([error, {:ok, 200, ""}])
      assert Retry.transport(request, [0, 0]) == error
      assert calls.() == 1
    end
  end
end
