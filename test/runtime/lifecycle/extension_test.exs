defmodule LambdaRuntime.ExtensionTest do
  # LambdaRuntime.Extension against a recording Extensions API.
  use LambdaRuntime.TestSupport.RecordingApiCase, async: true

  import ExUnit.CaptureLog

  alias LambdaRuntime.Extension
  alias LambdaRuntime.TestSupport.{CargoLambda, HTTPServer}

  defp header(request, name), do: :proplists.get_value(name, request.headers, nil)

  test "registers with no events, then waits in event/next with its identifier" do
    api = RecordingApi.start!()
    assert {:ok, pid} = Extension.start(RecordingApi.runtime_api(api))

    [register] = RecordingApi.await(api, "/2020-01-01/extension/register")
    assert register.method == "POST"
    assert register.path == "/2020-01-01/extension/register"
    assert header(register, "lambda-extension-name") == "lambda_runtime"
    assert JSON.decode!(register.body) == %{"events" => []}

    [next] = RecordingApi.await(api, "/2020-01-01/extension/event/next")
    assert next.method == "GET"
    # The identifier the API gave at registration (its request count then).
    assert header(next, "lambda-extension-identifier") == "ext-id-1"

    # It stays there: no answer comes for an extension without events.
    assert Process.alive?(pid)
    assert length(RecordingApi.requests(api)) == 2
    Process.exit(pid, :kill)
  end

  test "the emulator address form with a path prefix" do
    api = RecordingApi.start!()
    assert {:ok, pid} = Extension.start("http://127.0.0.1:#{api.port}/.rt")
    [register] = RecordingApi.await(api, "/extension/register")
    assert register.path == "/.rt/2020-01-01/extension/register"
    [next] = RecordingApi.await(api, "/extension/event/next")
    assert next.path == "/.rt/2020-01-01/extension/event/next"
    Process.exit(pid, :kill)
  end

  describe "a failed registration logs a warning and carries on" do
    test "an error answer" do
      api = RecordingApi.start!(register: {500, ~s({"errorType":"Extension.Crash"})})

      log =
        capture_log(fn ->
          assert {:error, {:status, 500, _}} = Extension.start(RecordingApi.runtime_api(api))
        end)

      assert log =~ "could not register the internal extension (answered 500"
      assert log =~ "carrying on without it"
      refute Enum.any?(RecordingApi.requests(api), &(&1.path =~ "event/next"))
    end

    test "a 200 without an identifier" do
      api = RecordingApi.start!(register: {200, "{}"})

      assert capture_log(fn ->
               assert {:error, :no_extension_identifier} =
                        Extension.start(RecordingApi.runtime_api(api))
             end) =~ "no_extension_identifier"
    end

    test "nothing listening" do
      port = HTTPServer.free_port()

      assert capture_log(fn ->
               assert {:error, :econnrefused} = Extension.start("127.0.0.1:#{port}")
             end) =~ "could not register"
    end

    test "no answer: gives up after the timeout" do
      api = RecordingApi.start!(register: :hang)
      started = System.monotonic_time(:millisecond)

      assert capture_log(fn ->
               assert {:error, :timeout} =
                        Extension.start(RecordingApi.runtime_api(api), timeout: 200)
             end) =~ ":timeout"

      assert System.monotonic_time(:millisecond) - started < 2_000
    end

    test "a malformed address" do
      assert capture_log(fn ->
               assert {:error, {:bad_address, "nonsense"}} = Extension.start("nonsense")
             end) =~ ~s(bad AWS_LAMBDA_RUNTIME_API "nonsense")
    end
  end

  @tag :cargo_lambda
  test "against cargo-lambda's Extensions API: registers; the runtime serves as usual" do
    cargo = CargoLambda.start!()
    on_exit(fn -> CargoLambda.stop(cargo) end)
    api = CargoLambda.runtime_api(cargo)

    log =
      capture_log(fn ->
        assert {:ok, pid} = Extension.start(api)
        Process.exit(pid, :kill)
      end)

    refute log =~ "could not register"

    runtime =
      FeaturesFixture.start_runtime!(api, "Features.Streaming.plain",
        env: [{"LAMBDA_RUNTIME_REGISTER_EXTENSION", "true"}]
      )

    assert {200, body} = CargoLambda.invoke(cargo, ~s({"n":1}))
    assert JSON.decode!(body)["event"] == %{"n" => 1}
    refute RuntimeProcess.output(runtime) =~ "could not register"
  end

  @tag timeout: 60_000
  test "the runtime registers it before its first /next when enabled" do
    {api, _runtime} =
      start_runtime("Features.Lifecycle", env: [{"LAMBDA_RUNTIME_REGISTER_EXTENSION", "true"}])

    RecordingApi.await(api, "/runtime/invocation/next")
    RecordingApi.await(api, "/extension/event/next")
    paths = Enum.map(RecordingApi.requests(api), & &1.path)
    register = Enum.find_index(paths, &(&1 == "/2020-01-01/extension/register"))
    first_next = Enum.find_index(paths, &String.ends_with?(&1, "/runtime/invocation/next"))
    assert register < first_next
    # Exactly one registration, and one extension waiting in event/next.
    assert Enum.count(paths, &(&1 == "/2020-01-01/extension/register")) == 1
    assert Enum.count(paths, &(&1 == "/2020-01-01/extension/event/next")) == 1
  end

  @tag timeout: 60_000
  test "the runtime does not register it unless LAMBDA_RUNTIME_REGISTER_EXTENSION is true" do
    {api, _runtime} =
      start_runtime("Features.Lifecycle", env: [{"LAMBDA_RUNTIME_REGISTER_EXTENSION", "no"}])

    RecordingApi.await(api, "/runtime/invocation/next")
    refute Enum.any?(RecordingApi.requests(api), &(&1.path =~ "/extension/"))
  end
end
