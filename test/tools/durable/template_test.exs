defmodule LambdaRuntime.Durable.TemplateTest do
  # rel/sam/durable.yaml: the durable function's SAM template, through
  # cfn-lint (installed into .venv by scripts/setup.sh).
  use ExUnit.Case, async: true

  @root LambdaRuntime.TestSupport.Paths.root()
  @cfn_lint Path.join(@root, ".venv/bin/cfn-lint")

  test "the durable SAM template passes cfn-lint and sets DurableConfig and the checkpoint policy" do
    unless File.exists?(@cfn_lint), do: flunk("cfn-lint is not installed; run scripts/setup.sh")

    assert {"", 0} =
             System.cmd(@cfn_lint, ["rel/sam/durable.yaml"], cd: @root, stderr_to_stdout: true)

    text = File.read!(Path.join(@root, "rel/sam/durable.yaml"))
    assert text =~ ~r/DurableConfig:\n\s+ExecutionTimeout: /
    assert text =~ "AWSLambdaBasicDurableExecutionRolePolicy"
  end

  @tag :tmp_dir
  test "cfn-lint rejects a DurableConfig without ExecutionTimeout (the check is live)", %{
    tmp_dir: dir
  } do
    broken = Path.join(dir, "durable.yaml")
    text = File.read!(Path.join(@root, "rel/sam/durable.yaml"))

    File.write!(
      broken,
      String.replace(text, "        ExecutionTimeout: !Ref ExecutionTimeout\n", "")
    )

    assert {output, status} = System.cmd(@cfn_lint, [broken], stderr_to_stdout: true)
    assert status != 0
    assert output =~ "ExecutionTimeout"
  end
end
