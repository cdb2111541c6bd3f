defmodule LambdaRuntime.ManagedInstancesTest do
  # AWS_LAMBDA_MAX_CONCURRENCY=8: eight /next loops in one runtime, under
  # many concurrent callers.
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  alias LambdaRuntime.TestSupport.Wait

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

  # Invocations `ns` held at a gate (a directory) in the handler, once all
  # of them run at once; open_gate/1 lets them finish.
  defp hold(api, ns, gate) do
    tasks = for n <- ns, do: Task.async(fn -> invoke(api, n, %{"gate" => gate}) end)

    Wait.until(fn -> length(Path.wildcard(Path.join(gate, "started-*"))) == length(tasks) end,
      timeout: 30_000,
      message: fn -> "not all of #{inspect(ns)} ran at once: #{inspect(File.ls!(gate))}" end
    )

    tasks
  end

  defp open_gate(gate), do: File.write!(Path.join(gate, "go"), "")

  @tag :tmp_dir
  test "slow and fast invocations interleave across the pollers", %{api: api, tmp_dir: dir} do
    # Eight invocations that cannot finish run at once: one on each poller.
    all = Path.join(dir, "all")
    File.mkdir_p!(all)
    held = hold(api, 1..8, all)
    open_gate(all)
    for t <- held, do: assert({:response, _} = Task.await(t, 60_000))

    # Four held invocations occupy four pollers; the other four serve 100
    # more meanwhile.
    four = Path.join(dir, "four")
    File.mkdir_p!(four)
    slow = hold(api, 101..104, four)

    1001..1100
    |> Task.async_stream(&invoke(api, &1), max_concurrency: 4, timeout: 60_000)
    |> Enum.each(fn {:ok, outcome} -> assert {:response, _} = outcome end)

    assert Enum.all?(slow, &(Task.yield(&1, 0) == nil)), "a held invocation finished early"
    open_gate(four)
    for t <- slow, do: assert({:response, _} = Task.await(t, 60_000))
  end

  @tag :tmp_dir
  test "a killed handler fails only its own invocation", %{api: api, tmp_dir: gate} do
    running = hold(api, 1..6, gate)
    assert {:error, killed} = invoke(api, 99, %{"crash" => "kill"})
    assert killed.path =~ "/req-99/error"
    open_gate(gate)

    for {t, n} <- Enum.with_index(running, 1) do
      assert {:response, request} = Task.await(t, 60_000)
      assert JSON.decode!(request.body)["id"] == "id-#{n}"
    end
  end
end
