defmodule Mix.Tasks.Lambda.DeployTestBuild do
  @moduledoc false
  # A stand-in build task: writes a zip where --output says, like
  # mix lambda.layer and mix lambda.package do, and reports its arguments.
  use Mix.Task

  @impl true
  def run(args) do
    {opts, _, _} = OptionParser.parse(args, strict: [output: :string, layer: :string])
    send(self(), {:build_args, args})
    {:ok, {_, zip}} = :zip.create(~c"x.zip", [{~c"built", "by the build task"}], [:memory])
    File.mkdir_p!(Path.dirname(opts[:output]))
    File.write!(opts[:output], zip)
    :ok
  end
end

defmodule LambdaRuntime.Tools.Deploy.ArtifactsTest do
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Deploy.Artifacts
  alias LambdaRuntime.TestSupport.MixShell

  @moduletag :tmp_dir

  setup do
    MixShell.use_process_shell()
  end

  test "without a path, the build task runs with --output and its zip is read" do
    assert {:ok, path, zip} =
             Artifacts.fetch(nil, "lambda.deploy_test_build", "--zip", ["--layer", "l.zip"])

    on_exit(fn -> File.rm(path) end)
    assert path == Artifacts.default_output("lambda.deploy_test_build")
    assert_received {:build_args, ["--output", ^path, "--layer", "l.zip"]}
    assert {:ok, [{~c"built", "by the build task"}]} = :zip.extract(zip, [:memory])
    assert Artifacts.default_output("lambda.layer") =~ ~r{/lambda/layer\.zip$}
    assert Artifacts.default_output("lambda.package") =~ ~r{/lambda/lambda_runtime\.zip$}
  end

  test "a given path is read and must be a zip", %{tmp_dir: dir} do
    not_zip = Path.join(dir, "notes.txt")
    File.write!(not_zip, "hello")
    assert {:error, message} = Artifacts.fetch(not_zip, "lambda.package", "--zip")
    assert message == "#{not_zip} (from --zip) is not a zip file"

    assert {:error, message} =
             Artifacts.fetch(Path.join(dir, "nope.zip"), "lambda.package", "--zip")

    assert message =~ "cannot read"
    assert message =~ "no such file or directory"
  end

  test "without a path or a build task, the flag to use is named" do
    assert {:error, message} = Artifacts.fetch(nil, "lambda.no_such_task", "--layer-zip")
    assert message =~ "pass --layer-zip PATH"
  end
end
