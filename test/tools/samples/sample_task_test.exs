defmodule Mix.Tasks.Lambda.SampleTest do
  use ExUnit.Case, async: true

  import ExUnit.CaptureIO

  alias LambdaRuntime.{JSON, Samples}

  test "without a name, lists every sample with its description" do
    output = capture_io(fn -> Mix.Tasks.Lambda.Sample.run([]) end)
    lines = String.split(output, "\n", trim: true)
    assert length(lines) == length(Samples.list())

    for {{name, description}, line} <- Enum.zip(Samples.list(), lines),
        do: assert(line =~ ~r/^#{name}\s+#{Regex.escape(description)}$/)
  end

  test "with a name, prints the sample's JSON" do
    output = capture_io(fn -> Mix.Tasks.Lambda.Sample.run(["sqs"]) end)
    assert JSON.decode!(output) == Samples.load!("sqs")
  end

  test "an unknown name or an option is explained" do
    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Sample.run(["sqs-fifo"]) end
    assert error.message =~ ~s(no sample named "sqs-fifo"; the samples are: apigateway-rest)

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Sample.run(["--all"]) end
    assert error.message =~ "mix lambda.sample takes no options, got --all"

    error = assert_raise Mix.Error, fn -> Mix.Tasks.Lambda.Sample.run(["sqs", "sns"]) end
    assert error.message =~ ~s(takes one sample name, got "sqs" "sns"; the samples are: )
  end
end
