defmodule Mix.Tasks.Lambda.InvokeTest do
  # mix lambda.invoke, run in this VM with its output captured: the real
  # runtime (bootstrap.sh) against the embedded emulator.
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO

  alias LambdaRuntime.Samples
  alias LambdaRuntime.TestSupport.TaskRoot

  @report ~r/^REPORT RequestId: [0-9a-f-]{36}\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB/m

  defp invoke(args) do
    capture_io(fn ->
      Mix.Tasks.Lambda.Invoke.run(["--task-root", TaskRoot.path() | args])
    end)
  end

  defp invoke_failing(args) do
    me = self()

    output =
      capture_io(fn ->
        error =
          assert_raise Mix.Error, fn ->
            Mix.Tasks.Lambda.Invoke.run(["--task-root", TaskRoot.path() | args])
          end

        send(me, {:error, error.message})
      end)

    assert_received {:error, message}
    {output, message}
  end

  for name <- Samples.names() do
    test "the #{name} sample through an examples/hello-style handler" do
      output = invoke(["--handler", "TaskRootHandlers.Hello.handle", "--sample", unquote(name)])
      keys = unquote(name) |> Samples.load!() |> Map.keys() |> Enum.sort()

      # The function's log, then the response, indented, with the sample's
      # top-level keys, then the REPORT.
      assert [log, response] = String.split(output, ~s(  "message": "Hello, world!"), parts: 2)
      assert log =~ "greeting world"
      assert response =~ @report
      for key <- keys, do: assert(output =~ ~s(    "#{key}"))
      assert output =~ @report
      assert output =~ "Init Duration"
    end
  end

  test "--data, --env and --repeat: warm invocations after the first" do
    output =
      invoke([
        "--handler",
        "TaskRootHandlers.Echo.env",
        "--data",
        ~s({"name":"GREETING"}),
        "--env",
        "GREETING=hi there",
        "--repeat",
        "3"
      ])

    assert length(Regex.scan(~r/"GREETING": "hi there"/, output)) == 3
    assert length(Regex.scan(@report, output)) == 3
    assert length(Regex.scan(~r/Init Duration/, output)) == 1
  end

  @tag :tmp_dir
  test "--event reads a JSON file", %{tmp_dir: dir} do
    path = Path.join(dir, "event.json")
    File.write!(path, ~s({"name": "Grace"}))
    output = invoke(["--handler", "TaskRootHandlers.Hello.handle", "--event", path])
    assert output =~ ~s("message": "Hello, Grace!")
  end

  @tag :tmp_dir
  test "#14.3 --event over 6 MiB is refused as Lambda's Invoke refuses it", %{tmp_dir: dir} do
    path = Path.join(dir, "big.json")
    File.write!(path, ~s({"big":"#{String.duplicate("e", 6_291_456)}"}))

    {output, message} =
      invoke_failing(["--handler", "TaskRootHandlers.Hello.handle", "--event", path])

    assert output =~
             "** (RequestEntityTooLargeException) Request must be smaller than 6291456 bytes"

    refute output =~ "Hello, "
    assert message =~ "1 of 1 invocations failed"
  end

  test "a function error prints the error and its stack trace, and the task fails" do
    {output, message} = invoke_failing(["--handler", "TaskRootHandlers.Echo.fail"])
    assert output =~ "** (ArgumentError) asked to fail"

    assert output =~
             ~r/^    test\/fixtures\/task_root\/handlers.ex:\d+: TaskRootHandlers.Echo.fail\/2$/m

    assert output =~ @report
    assert message =~ "1 of 1 invocations failed"
  end

  test "an init error is printed as Lambda returns it" do
    {output, message} = invoke_failing(["--handler", "TaskRootHandlers.NoSuchModule.handle"])

    assert output =~
             "** (Runtime.HandlerNotFound) module TaskRootHandlers.NoSuchModule is not available"

    assert message =~ "1 of 1 invocations failed"
  end

  test "--timeout: a slow handler fails with Sandbox.Timedout" do
    {output, _} =
      invoke_failing([
        "--handler",
        "TaskRootHandlers.Echo.sleep",
        "--data",
        ~s({"ms":60000}),
        "--timeout",
        "1"
      ])

    assert output =~ "** (Sandbox.Timedout)"
    assert output =~ "Task timed out after 1.00 seconds"
  end

  test "bad arguments are explained" do
    cases = [
      {["--sample", "nope", "--handler", "X.y"], "unknown sample \"nope\"; the samples are: "},
      {["--data", "{", "--handler", "X.y"], "the event from --data is not valid JSON"},
      {["--data", "{}", "--sample", "sqs"], "one event source, got --data and --sample"},
      {["--bogus"], "unknown option --bogus; run `mix help lambda.invoke`"},
      {["--repeat", "0"], "--repeat must be 1 or more"},
      {["--env", "NOEQUALS", "--handler", "X.y"], "--env takes NAME=VALUE"},
      {["stray"], "takes no arguments"},
      {["--data", "{}"], "needs a handler: pass --handler"},
      {[
         "--layer-zip",
         "/nonexistent.zip",
         "--package-zip",
         "/nonexistent.zip",
         "--handler",
         "X.y"
       ], "/nonexistent.zip does not exist"}
    ]

    for {args, expected} <- cases do
      error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Invoke.run(args) end
      assert error.message =~ expected
    end
  end

  @tag :tmp_dir
  @tag :layer
  test "--layer: the layer and the function package, in the sandbox", %{tmp_dir: dir} do
    layer_zip =
      LambdaRuntime.TestSupport.PortableLayers.zip!(LambdaRuntime.Tools.Layer.Target.host_arch())

    package_zip = Path.join(dir, "function.zip")

    # A function package: lib/APP/ebin, as mix lambda.package lays it out.
    files = TaskRoot.path() |> Path.join("lib/task_root_handlers/**") |> Path.wildcard()

    files =
      for f <- files,
          File.regular?(f),
          do: f |> Path.relative_to(TaskRoot.path()) |> to_charlist()

    {:ok, _} = :zip.create(to_charlist(package_zip), files, cwd: to_charlist(TaskRoot.path()))

    output =
      invoke([
        "--layer-zip",
        layer_zip,
        "--package-zip",
        package_zip,
        "--handler",
        "TaskRootHandlers.Echo.where",
        "--repeat",
        "2"
      ])

    assert output =~ ~s("erlang_root": "/opt")
    assert output =~ ~s("cwd": "/var/task")
    assert output =~ ~s("task_root": "/var/task")
    assert output =~ ~s("tmp_writable": true)
    assert output =~ ~s("task_writable": false)
    assert length(Regex.scan(@report, output)) == 2
  end

  test "mix help lambda.invoke shows examples and every option" do
    doc = Mix.Task.moduledoc(Mix.Tasks.Lambda.Invoke)
    assert doc =~ "mix lambda.invoke --sample apigateway-http"

    for option <-
          ~w(--data --event --sample --handler --timeout --memory-size --function-name --env --repeat --task-root --layer),
        do: assert(doc =~ "`#{option}")

    assert Mix.Task.shortdoc(Mix.Tasks.Lambda.Invoke) =~ "locally"
  end
end
