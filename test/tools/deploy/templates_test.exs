defmodule LambdaRuntime.Tools.Deploy.TemplatesTest do
  # rel/sam: the SAM template and its plain CloudFormation equivalent,
  # validated with cfn-lint (installed into .venv by scripts/setup.sh).
  use ExUnit.Case, async: true

  @root LambdaRuntime.TestSupport.Paths.root()
  @cfn_lint Path.join(@root, ".venv/bin/cfn-lint")
  @templates ["rel/sam/template.yaml", "rel/sam/cloudformation.yaml"]

  defp cfn_lint(paths) do
    unless File.exists?(@cfn_lint), do: flunk("cfn-lint is not installed; run scripts/setup.sh")
    System.cmd(@cfn_lint, paths, cd: @root, stderr_to_stdout: true)
  end

  test "both templates pass cfn-lint" do
    assert {"", 0} = cfn_lint(@templates)
  end

  @tag :tmp_dir
  test "cfn-lint catches a broken template (the check is live)", %{tmp_dir: dir} do
    broken = Path.join(dir, "broken.yaml")

    File.write!(
      broken,
      @root
      |> Path.join("rel/sam/cloudformation.yaml")
      |> File.read!()
      |> String.replace("Runtime: provided.al2023", "Runtime: elixir99")
    )

    assert {output, status} = cfn_lint([broken])
    assert status != 0
    assert output =~ "E3030"
  end

  test "the SAM template deploys the zips mix lambda.layer and mix lambda.package write" do
    sam = File.read!(Path.join(@root, "rel/sam/template.yaml"))
    [layer_uri] = Regex.run(~r/ContentUri: (\S+)/, sam, capture: :all_but_first)
    [code_uri] = Regex.run(~r/CodeUri: (\S+)/, sam, capture: :all_but_first)

    assert Path.expand(layer_uri, Path.join(@root, "rel/sam")) ==
             Path.join(@root, "_build/lambda/layer.zip")

    assert Path.expand(code_uri, Path.join(@root, "rel/sam")) ==
             Path.join(@root, "examples/hello/_build/lambda/hello.zip")

    # The handler is the example's: Hello.handle/2.
    assert sam =~ "Handler: Hello.handle"
    assert File.read!(Path.join(@root, "examples/hello/lib/hello.ex")) =~ "def handle("

    for template <- @templates do
      text = File.read!(Path.join(@root, template))
      assert text =~ "Runtime: provided.al2023"
      assert text =~ "- provided.al2023"
    end
  end
end
