defmodule LambdaRuntime.ManagedInstancesTest do
  # AWS_LAMBDA_MAX_CONCURRENCY=8: eight /next loops in one runtime, under
  # many concurrent callers.
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  @moduletag timeout: 180_000

  setup do
    {api, runtime} =
      start_runtime("Features.Concurrent.handle", env: [{"AWS_LAMBDA_MAX_CONCURRENCY", "8"}])

    # All eight pollers are waiting before the first invocation. (Each
    # long poll holds a dirty IO scheduler thread while it waits, so the VM
    # needs more than eight of them.)
    RecordingApi.await(api, "/runtime/invocation/next", 8)
    %{api: api, runtime: runtime}
  end

  defp invoke(api, n, extra \\ %{}) do
    event = Map.put(extra, "id", "id-#{n}")
    RecordingApi.invoke(api, "req-#{n}", JSON.encode!(event), [], 60_000)
  end

  defp crash(n) when rem(n, 100) == 7, do: %{"crash" => "kill"}
  defp crash(n) when rem(n, 100) == 57, do: %{"crash" => "raise"}
  defp crash(_), do: %{}

  test "2 000 invocations from 16 callers: each answered once, with its own data", %{api: api} do
    outcomes =
      1..2000
      |> Task.async_stream(&{&1, invoke(api, &1, crash(&1))},
        max_concurrency: 16,
        timeout: 60_000,
        ordered: false
      )
      |> Enum.map(fn {:ok, result} -> result end)

    for {n, outcome} <- outcomes do
      case {crash(n), outcome} do
        {plain, {:response, request}} when map_size(plain) == 0 ->
          assert JSON.decode!(request.body) == %{
                   "id" => "id-#{n}",
                   "request_id" => "req-#{n}",
                   "trace_id" => RecordingApi.trace_id("req-#{n}"),
                   # Never process-wide in this mode.
                   "trace_env" => nil
                 }

        {%{"crash" => "kill"}, {:error, request}} ->
          assert JSON.decode!(request.body)["errorMessage"] == "handler process was killed"

        {%{"crash" => "raise"}, {:error, request}} ->
          assert JSON.decode!(request.body)["errorMessage"] == "crash id-#{n}"

        other ->
          flunk("invocation #{n}: unexpected #{inspect(other, limit: 5)}")
      end
    end

    # At the Runtime API: exactly one outcome per request id, none stray.
    posted =
      for %{method: "POST", path: path} <- RecordingApi.requests(api),
          [_, id] <- [Regex.run(~r{/invocation/(req-\d+)/(?:response|error)$}, path)],
          do: id

    assert length(posted) == 2000
    assert posted |> Enum.frequencies() |> Map.values() |> Enum.uniq() == [1]
  end

  test "slow and fast invocations interleave across the pollers", %{api: api} do
    started = System.monotonic_time(:millisecond)

    # 16 invocations of 200 ms: one after another they would take 3.2 s.
    1..16
    |> Task.async_stream(&invoke(api, &1, %{"sleep" => 200}), max_concurrency: 16)
    |> Enum.each(fn {:ok, {:response, _}} -> :ok end)

    elapsed = System.monotonic_time(:millisecond) - started
    assert elapsed < 1600, "16 x 200 ms took #{elapsed} ms"

    # Four long invocations hold four pollers; the other four keep serving.
    slow = for n <- 101..104, do: Task.async(fn -> invoke(api, n, %{"sleep" => 1500}) end)
    RecordingApi.await_delivered(api, for(n <- 101..104, do: "req-#{n}"))

    fast_done =
      1001..1100
      |> Task.async_stream(&invoke(api, &1), max_concurrency: 4)
      |> Enum.map(fn {:ok, {:response, request}} -> request.done_at end)
      |> Enum.max()

    slow_done = for t <- slow, {:response, request} = Task.await(t), do: request.done_at
    assert fast_done < Enum.min(slow_done)
  end

  test "a killed handler fails only its own invocation", %{api: api} do
    slow = for n <- 1..6, do: Task.async(fn -> invoke(api, n, %{"sleep" => 300}) end)
    Process.sleep(50)
    assert {:error, killed} = invoke(api, 99, %{"crash" => "kill"})
    assert killed.path =~ "/req-99/error"

    for {t, n} <- Enum.with_index(slow, 1) do
      assert {:response, request} = Task.await(t)
      assert JSON.decode!(request.body)["id"] == "id-#{n}"
    end
  end
end
