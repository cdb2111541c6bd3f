defmodule LambdaRuntime.LifecycleTest do
  # SIGTERM (kill -TERM on the runtime's BEAM) and the X-Ray error cause,
  # end to end through bootstrap.sh.
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  @moduletag timeout: 60_000

  defp invoke_async(api, id, event),
    do: Task.async(fn -> RecordingApi.invoke(api, id, JSON.encode!(event)) end)

  describe "SIGTERM" do
    # These give the runtime a budget longer than the invocations (Lambda's
    # own is 300-500 ms: see the default-budget tests below).
    test "a running invocation completes, terminate/2 runs once, the exit status is 0" do
      {api, runtime} =
        start_runtime("Features.Lifecycle", env: [{"LAMBDA_RUNTIME_SHUTDOWN_MS", "3000"}])

      task = invoke_async(api, "req-term", %{"sleep" => 600})
      before = RuntimeProcess.await_output(runtime, &(&1 =~ "handling req-term"))

      FeaturesFixture.signal!(runtime, "TERM")
      # A second signal while shutting down changes nothing.
      before = before <> RuntimeProcess.await_output(runtime, "SIGTERM received")
      FeaturesFixture.signal!(runtime, "TERM")

      assert {:response, response} = Task.await(task)
      assert JSON.decode!(response.body) == %{"slept" => 600, "request_id" => "req-term"}

      assert {0, rest} = RuntimeProcess.await_exit(runtime)
      output = before <> rest
      # One shutdown: one log line, one terminate/2.
      assert length(String.split(output, "SIGTERM received")) == 2
      assert [_, after_marker] = String.split(output, "TERMINATE-MARKER reason=:sigterm started=")
      assert after_marker =~ ~r/^\d+\n/
    end

    test "with several pollers, every running invocation completes before the exit" do
      {api, runtime} =
        start_runtime("Features.Lifecycle",
          env: [
            {"AWS_LAMBDA_MAX_CONCURRENCY", "4"},
            {"LAMBDA_RUNTIME_SHUTDOWN_MS", "3000"}
          ]
        )

      tasks = for n <- 1..3, do: invoke_async(api, "req-mi-#{n}", %{"sleep" => 400 + 100 * n})

      before =
        RuntimeProcess.await_output(runtime, fn out ->
          Enum.all?(1..3, &(out =~ "handling req-mi-#{&1}"))
        end)

      FeaturesFixture.signal!(runtime, "TERM")

      for {task, n} <- Enum.with_index(tasks, 1) do
        assert {:response, response} = Task.await(task)
        assert JSON.decode!(response.body)["request_id"] == "req-mi-#{n}"
      end

      assert {0, rest} = RuntimeProcess.await_exit(runtime)
      assert before <> rest =~ "TERMINATE-MARKER reason=:sigterm"
    end

    test "idle: terminate/2 runs and the exit status is 0" do
      {api, runtime} = start_runtime("Features.Lifecycle")
      RecordingApi.await(api, "/runtime/invocation/next")
      FeaturesFixture.signal!(runtime, "TERM")

      assert {0, output} = RuntimeProcess.await_exit(runtime)
      assert output =~ "TERMINATE-MARKER reason=:sigterm"
      # Only external extensions: Lambda gives the runtime 300 ms.
      assert output =~ "up to 250 ms"
    end

    test "after an invocation, waiting for the next one: exits at once, nothing counted as running" do
      # The accepted /response and the next /next are one NIF call; the
      # invocation stops counting as running once Lambda accepted it.
      {api, runtime} =
        start_runtime("Features.Lifecycle", env: [{"LAMBDA_RUNTIME_SHUTDOWN_MS", "5000"}])

      assert {:response, _} = RecordingApi.invoke(api, "req-done", JSON.encode!(%{"sleep" => 0}))
      RecordingApi.await(api, "/runtime/invocation/next", 2)

      FeaturesFixture.signal!(runtime, "TERM")
      assert {0, output} = RuntimeProcess.await_exit(runtime)

      assert output =~ "TERMINATE-MARKER reason=:sigterm"
      # Had the finished invocation still counted as running, the shutdown
      # would have waited out its 5 s budget and said so.
      refute output =~ "shutdown budget spent"
    end

    test "if registering its own extension failed, the default budget is 250 ms" do
      {api, runtime} =
        start_runtime("Features.Lifecycle",
          env: [{"LAMBDA_RUNTIME_REGISTER_EXTENSION", "true"}],
          api: [register: {500, ~s({"errorType":"Extension.Crash"})}]
        )

      RecordingApi.await(api, "/runtime/invocation/next")
      FeaturesFixture.signal!(runtime, "TERM")

      assert {0, output} = RuntimeProcess.await_exit(runtime)
      assert output =~ "could not register the internal extension"
      assert output =~ "up to 250 ms"
    end

    test "with the runtime's own extension the default budget is 450 ms" do
      {api, runtime} =
        start_runtime("Features.Lifecycle", env: [{"LAMBDA_RUNTIME_REGISTER_EXTENSION", "true"}])

      RecordingApi.await(api, "/runtime/invocation/next")
      FeaturesFixture.signal!(runtime, "TERM")

      assert {0, output} = RuntimeProcess.await_exit(runtime)
      assert output =~ "up to 450 ms"
      assert output =~ "TERMINATE-MARKER reason=:sigterm"
    end

    test "an invocation longer than the shutdown budget: terminate/2 still runs, exit 0" do
      {api, runtime} =
        start_runtime("Features.Lifecycle", env: [{"LAMBDA_RUNTIME_SHUTDOWN_MS", "300"}])

      invoke_async(api, "req-long", %{"sleep" => 30_000})
      before = RuntimeProcess.await_output(runtime, &(&1 =~ "handling req-long"))
      FeaturesFixture.signal!(runtime, "TERM")

      assert {0, rest} = RuntimeProcess.await_exit(runtime, 5_000)
      output = before <> rest
      assert output =~ "shutdown budget spent with an invocation still running"
      assert output =~ "TERMINATE-MARKER reason=:sigterm"
      refute Enum.any?(RecordingApi.requests(api), &(&1.path =~ "req-long/response"))
    end
  end

  test "X-Ray: /error carries Lambda-Runtime-Function-XRay-Error-Cause with the raise site" do
    {api, _runtime} = start_runtime("Features.Raise.handle")
    {:error, request} = RecordingApi.invoke(api, "req-xray", ~s({"a":1}))

    {_, header} = List.keyfind(request.headers, "lambda-runtime-function-xray-error-cause", 0)
    cause = JSON.decode!(header)

    assert cause["working_directory"] == File.cwd!()
    assert [exception] = cause["exceptions"]
    assert exception["type"] == "KeyError"
    assert exception["message"] =~ ~s(key "missing" not found)
    assert [%{"path" => path, "line" => line, "label" => label} | _] = exception["stack"]
    assert label == "Features.Raise.nested/1"
    assert path == "lib/lifecycle.ex" and is_integer(line) and line > 0
    assert "lib/lifecycle.ex" in cause["paths"]
    assert Enum.any?(exception["stack"], &(&1["label"] == "Features.Raise.handle/2"))
  end
end
