defmodule LambdaRuntime.StreamingTest do
  # Streamed responses through the real bootstrap.sh, against a Runtime API
  # that records every chunk as it arrives (framing, order, trailers).
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  @moduletag timeout: 120_000

  defp header(request, name), do: :proplists.get_value(name, request.headers, nil)

  @tag :tmp_dir
  test "chunks reach the Runtime API one by one, as the handler produces them", %{tmp_dir: gate} do
    {api, _runtime} = start_runtime("Features.Streaming.gated", api: [tap: self()])
    event = JSON.encode!(%{"chunks" => 3, "gate" => gate})
    invocation = Task.async(fn -> RecordingApi.invoke(api, "req-gated", event, [], 60_000) end)

    # The handler makes chunk i + 1 only once this test saw chunk i reach
    # the Runtime API: a chunk held back until the next one is written
    # would never arrive, and the stream would stall.
    for i <- 1..3 do
      assert_receive {:recording_api_chunk, _path, data}, 30_000
      assert data == "chunk #{i}\n"
      File.write!(Path.join(gate, "seen-#{i}"), "")
    end

    {:response, request} = Task.await(invocation, 60_000)
    assert header(request, "lambda-runtime-function-response-mode") == "streaming"
    assert header(request, "transfer-encoding") == "chunked"
    assert header(request, "content-type") == "text/plain"
    assert Enum.map(request.chunks, & &1.data) == ["chunk 1\n", "chunk 2\n", "chunk 3\n"]
    assert request.trailers == []
  end

  test "a raise mid-stream: the chunks before it, then the error as real trailers" do
    {api, _runtime} = start_runtime("Features.Streaming.handle")

    {:response, request} = RecordingApi.invoke(api, "req-mid", ~s({"do":"fail_midway"}))

    assert Enum.map(request.chunks, & &1.data) == ["part 1;", "part 2;"]
    trailers = Map.new(request.trailers)
    assert trailers["lambda-runtime-function-error-type"] == "Function.ArgumentError"

    error = trailers["lambda-runtime-function-error-body"] |> Base.decode64!() |> JSON.decode!()
    assert error["errorType"] == "ArgumentError"
    assert error["errorMessage"] == "broke after two chunks"
    assert Enum.any?(error["stackTrace"], &(&1 =~ "Features.Streaming"))

    # The declared trailers are announced up front, as HTTP/1.1 asks.
    assert header(request, "trailer") =~ "Lambda-Runtime-Function-Error-Type"

    # Nothing went to /error for it, and the runtime serves on.
    {:response, next} =
      RecordingApi.invoke(api, "req-after-mid", ~s({"do":"spaced","chunks":1,"sleep":0}))

    assert {next.body, next.trailers} == {"chunk 1\n", []}
    refute Enum.any?(RecordingApi.requests(api), &(&1.path =~ "req-mid/error"))
  end

  test "a handler killed mid-stream (deadline, crash): the stream ends with error trailers" do
    {api, _runtime} = start_runtime("Features.Streaming.handle")
    # The deadline leaves room for the first chunk even on a busy machine
    # (counted from when the runtime is polling, not from its boot); the
    # 100 chunks would take 10 s.
    RecordingApi.await(api, "/runtime/invocation/next")
    deadline = {"Lambda-Runtime-Deadline-Ms", to_string(System.os_time(:millisecond) + 2_000)}
    event = ~s({"do":"spaced","chunks":100,"sleep":100})

    {:response, timed_out} = RecordingApi.invoke(api, "req-deadline", event, [deadline])
    assert ["chunk 1\n" | _] = Enum.map(timed_out.chunks, & &1.data)
    assert length(timed_out.chunks) < 100
    trailers = Map.new(timed_out.trailers)
    assert trailers["lambda-runtime-function-error-type"] == "Sandbox.Timedout"
    error = trailers["lambda-runtime-function-error-body"] |> Base.decode64!() |> JSON.decode!()
    assert error["errorMessage"] =~ "Task timed out after"

    {:response, killed} = RecordingApi.invoke(api, "req-killed", ~s({"do":"killed_midway"}))
    assert killed.body == "before the kill;"
    trailers = Map.new(killed.trailers)
    assert trailers["lambda-runtime-function-error-type"] == "Function.ProcessExit"

    refute Enum.any?(RecordingApi.requests(api), &String.ends_with?(&1.path, "/error"))
    assert {:response, _} = RecordingApi.invoke(api, "req-next", ~s({"do":"plain"}))
  end

  test "a raise before the first chunk goes to /error, not to a stream" do
    {api, _runtime} = start_runtime("Features.Streaming.fail_first")

    {:error, request} = RecordingApi.invoke(api, "req-first", "{}")

    assert header(request, "lambda-runtime-function-error-type") == "Function.RuntimeError"
    body = JSON.decode!(request.body)
    assert body["errorType"] == "RuntimeError"
    assert body["errorMessage"] == "no chunk at all"
    refute Enum.any?(RecordingApi.requests(api), &(&1.path =~ "req-first/response"))
  end

  test "an element that is not iodata, or only empty ones before a raise: /error, no stream" do
    {api, _runtime} = start_runtime("Features.Streaming.handle")

    {:error, bad} = RecordingApi.invoke(api, "req-bad", ~s({"do":"not_iodata"}))
    assert JSON.decode!(bad.body)["errorMessage"] == "a stream element is not iodata: :not_iodata"

    {:error, empty} = RecordingApi.invoke(api, "req-empty", ~s({"do":"empty_then_raise"}))
    assert JSON.decode!(empty.body)["errorMessage"] == "after empties"

    refute Enum.any?(RecordingApi.requests(api), &String.ends_with?(&1.path, "/response"))

    # After a first chunk, a bad element ends the stream with error trailers
    # (it used to stop the runtime), and the runtime serves on.
    {:response, later} = RecordingApi.invoke(api, "req-later", ~s({"do":"not_iodata_later"}))
    assert later.body == "sent"
    trailers = Map.new(later.trailers)
    assert trailers["lambda-runtime-function-error-type"] == "Function.ArgumentError"

    assert {:response, _} = RecordingApi.invoke(api, "req-fine", ~s({"do":"plain"}))
  end

  test "the HTTP-integration prelude is byte-exact and its own chunk, then 8 zero bytes" do
    {api, _runtime} = start_runtime("Features.Streaming.http")

    {:response, request} = RecordingApi.invoke(api, "req-http", "{}")

    assert header(request, "content-type") ==
             "application/vnd.awslambda.http-integration-response"

    assert Enum.map(request.chunks, & &1.data) == [
             ~s({"cookies":["a=1; Path=/","b=2"],) <>
               ~s("headers":{"content-type":"text/plain","x-features":"yes"},"statusCode":201}),
             <<0, 0, 0, 0, 0, 0, 0, 0>>,
             "hello, ",
             "streamed ",
             "world"
           ]
  end

  test "Managed Instances: 8 streams at once, each on its own connection, chunks intact" do
    {api, _runtime} =
      start_runtime("Features.Streaming.together", env: [{"AWS_LAMBDA_MAX_CONCURRENCY", "8"}])

    # Each stream produces chunk i only when all 8 have produced chunk i - 1
    # (a barrier in the runtime's VM): 8 streams open at once, or none ends.
    requests =
      1..8
      |> Task.async_stream(
        &RecordingApi.invoke(api, "req-s#{&1}", ~s({"chunks":3,"group":"g","of":8})),
        max_concurrency: 8,
        timeout: 60_000
      )
      |> Enum.map(fn {:ok, {:response, request}} -> request end)

    for request <- requests do
      assert request.trailers == []
      assert request.body == "chunk 1\nchunk 2\nchunk 3\n"
      assert length(request.chunks) == 3
    end
  end

  test "100 MiB streamed in 1 MiB chunks with flat memory; the next invocation works" do
    {api, runtime} = start_runtime("Features.Streaming.handle")
    {:response, _} = RecordingApi.invoke(api, "req-warm", ~s({"do":"plain"}))
    baseline = FeaturesFixture.peak_rss!(runtime)

    {:response, request} =
      RecordingApi.invoke(api, "req-big", ~s({"do":"big","mib":100}), [], 60_000)

    assert request.bytes == 100 * 1_048_576
    assert length(request.chunks) == 100
    assert Enum.all?(request.chunks, &(&1.size == 1_048_576))

    expected =
      Enum.reduce(1..100, :crypto.hash_init(:sha256), fn i, acc ->
        :crypto.hash_update(acc, :binary.copy(<<rem(i, 256)>>, 1_048_576))
      end)

    assert request.sha256 == :crypto.hash_final(expected)

    # A warm runtime VM is ~50 MB resident; holding the body would add
    # 100 MiB. Streaming it raised the peak by a few chunks at most.
    peak = FeaturesFixture.peak_rss!(runtime)
    mib = &"#{div(&1, 1_048_576)} MiB"
    assert peak - baseline < 24 * 1_048_576, "peak RSS #{mib.(baseline)} -> #{mib.(peak)}"
    assert peak < 100 * 1_048_576, "peak RSS #{mib.(peak)}"

    {:response, next} = RecordingApi.invoke(api, "req-after-big", ~s({"do":"plain"}))

    assert JSON.decode!(next.body) == %{
             "event" => %{"do" => "plain"},
             "request_id" => "req-after-big"
           }
  end
end
