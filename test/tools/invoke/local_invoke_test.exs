defmodule LambdaRuntime.Tools.LocalInvokeTest do
  # mix lambda.invoke's options and event, read by the library before any
  # runtime starts (invoke_task_test.exs runs whole invocations).
  use ExUnit.Case, async: true

  alias LambdaRuntime.Samples
  alias LambdaRuntime.Tools.LocalInvoke

  test "one event source, --repeat of 1 or more, --timeout within Lambda's 900 s" do
    assert LocalInvoke.check(data: "{}", repeat: 3, timeout: 2.5) == :ok

    assert LocalInvoke.check(data: "{}", event: "e.json") ==
             {:error,
              "give one event source, got --data and --event; pick one of --data, --event, --sample"}

    assert LocalInvoke.check(repeat: 0) == {:error, "--repeat must be 1 or more, got 0"}
    assert {:error, "--timeout must be" <> _} = LocalInvoke.check(timeout: 901.0)
    assert {:error, "--timeout must be" <> _} = LocalInvoke.check(timeout: 0.0)
  end

  @tag :tmp_dir
  test "the event: --data, a file, a sample, else {}; always valid JSON", %{tmp_dir: dir} do
    assert LocalInvoke.event([]) == {:ok, "{}"}
    assert LocalInvoke.event(data: ~s({"a":1})) == {:ok, ~s({"a":1})}
    assert LocalInvoke.event(sample: "sqs") == {:ok, Samples.json!("sqs")}

    path = Path.join(dir, "event.json")
    File.write!(path, ~s([1, 2]))
    assert LocalInvoke.event(event: path) == {:ok, ~s([1, 2])}

    assert {:error, "cannot read --event /nonexistent.json: no such file or directory"} =
             LocalInvoke.event(event: "/nonexistent.json")

    assert {:error, "the event from --data is not valid JSON: " <> _} =
             LocalInvoke.event(data: "{")

    assert {:error, ~s(unknown sample "nope"; the samples are: ) <> _} =
             LocalInvoke.event(sample: "nope")
  end
end
