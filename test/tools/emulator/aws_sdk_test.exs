defmodule LambdaRuntime.AwsSdkTest do
  # An AWS SDK (botocore, the core of boto3 and the AWS CLI) as the caller:
  # Invoke, InvokeWithResponseStream and Event invocations against
  # LambdaRuntime.Tools.Emulator, with the real runtime behind it. Skipped where
  # python3 has no botocore.
  use ExUnit.Case, async: true

  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.TaskRoot
  alias LambdaRuntime.Tools.Emulator

  # The project's venv first (scripts/setup.sh makes it), then the machine's.
  @python [LambdaRuntime.TestSupport.Paths.root(".venv/bin/python3"), "python3"]
          |> Enum.map(&System.find_executable/1)
          |> Enum.find(fn python ->
            python != nil and
              match?(
                {_, 0},
                System.cmd(python, ["-c", "import botocore"], stderr_to_stdout: true)
              )
          end)

  unless @python, do: @moduletag(skip: "no python3 with botocore (pip install botocore)")
  @moduletag :tmp_dir

  @client """
  import base64, json, sys, botocore.session
  port, payload = sys.argv[1], sys.argv[2].encode()
  c = botocore.session.get_session().create_client(
      "lambda", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
      aws_access_key_id="test", aws_secret_access_key="test")
  out = {}
  r = c.invoke(FunctionName="function", Payload=payload)
  out["invoke"] = {"status": r["StatusCode"], "error": r.get("FunctionError"),
                   "version": r["ExecutedVersion"], "payload": r["Payload"].read().decode()}
  r = c.invoke_with_response_stream(FunctionName="function", Payload=payload)
  out["stream"] = {"status": r["StatusCode"], "content_type": r.get("ResponseStreamContentType"),
                   "events": [[k, base64.b64encode(v["Payload"]).decode()] if k == "PayloadChunk" else [k, v]
                              for e in r["EventStream"] for k, v in e.items()]}
  out["event"] = c.invoke(FunctionName="function", InvocationType="Event", Payload=payload)["StatusCode"]
  print(json.dumps(out))
  """

  defp run_client(emu, dir, payload) do
    script = Path.join(dir, "client.py")
    File.write!(script, @client)
    {out, 0} = System.cmd(@python, [script, to_string(Emulator.port(emu)), payload])
    JSON.decode!(out)
  end

  defp start(handler) do
    emu = start_supervised!(Emulator)
    TaskRoot.start_runtime!(emu, handler, function_name: "function")
    emu
  end

  test "a JSON response", %{tmp_dir: dir} do
    emu = start("TaskRootHandlers.Echo.handle")
    out = run_client(emu, dir, ~s({"n":1}))
    expected = ~s({"event":{"n":1},"function_name":"function"})

    assert out["invoke"] == %{
             "status" => 200,
             "error" => nil,
             "version" => "$LATEST",
             "payload" => expected
           }

    assert out["stream"]["content_type"] == "application/json"

    assert out["stream"]["events"] == [
             ["PayloadChunk", Base.encode64(expected)],
             ["InvokeComplete", %{}]
           ]

    assert out["event"] == 202
  end

  test "a function error", %{tmp_dir: dir} do
    emu = start("TaskRootHandlers.Echo.fail")
    out = run_client(emu, dir, "{}")

    assert %{"status" => 200, "error" => "Unhandled", "payload" => payload} = out["invoke"]

    assert %{"errorType" => "ArgumentError", "errorMessage" => "asked to fail"} =
             JSON.decode!(payload)

    assert [["InvokeComplete", %{"ErrorCode" => "ArgumentError", "ErrorDetails" => ^payload}]] =
             out["stream"]["events"]
  end

  test "a streamed response", %{tmp_dir: dir} do
    emu = start("TaskRootHandlers.Streaming.gated")
    gate = Path.join(dir, "gate")
    File.write!(gate, "")
    out = run_client(emu, dir, JSON.encode!(%{"gate" => gate}))

    assert out["invoke"]["payload"] == "first\nsecond\n"
    assert out["stream"]["content_type"] == "text/plain"

    assert out["stream"]["events"] == [
             ["PayloadChunk", Base.encode64("first\n")],
             ["PayloadChunk", Base.encode64("second\n")],
             ["InvokeComplete", %{}]
           ]
  end
end
