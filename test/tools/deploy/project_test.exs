defmodule LambdaRuntime.Tools.Deploy.ProjectTest do
  # The deploy flow's dry runs (nothing is sent, so no server is needed).
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Deploy.{Connection, Project}
  alias LambdaRuntime.Tools.Settings
  alias LambdaRuntime.TestSupport.LayerZips
  alias LambdaRuntime.TestSupport.MixShell

  @moduletag :tmp_dir
  @tasks %{layer: "lambda.deploy_test_layer", package: "lambda.deploy_test_package"}
  @role "arn:aws:iam::123456789012:role/hello"

  setup do
    MixShell.use_process_shell()
    {:ok, conn} = Connection.open(dry_run: true, region: "us-east-1", env: %{})
    %{conn: conn}
  end

  defp config(flags \\ []) do
    {:ok, config} = Settings.load([lambda: [handler: "Hello.handle", role: @role]], flags, :hello)
    config
  end

  test "a dry run builds nothing and shows what a deploy would build", %{conn: conn} do
    assert {:ok, result} = Project.deploy(conn, config(architecture: "arm64"), tasks: @tasks)
    refute_received {:layer_build_args, _}
    refute_received {:package_build_args, _}

    out = MixShell.output()
    assert out =~ "Dry run: nothing is sent. Would deploy the function zip to"

    assert out =~
             "(the function zip is not built in a dry run: a deploy builds it with `mix lambda.deploy_test_package`)"

    assert out =~ "a deploy builds it with `mix lambda.deploy_test_layer --arch arm64`"
    assert out =~ "CompatibleArchitectures=arm64"

    assert out =~
             "UpdateFunctionCode: PUT /2015-03-31/functions/hello/code  Architectures=arm64, ZipFile=<not built in a dry run>"

    assert out =~ "PublishLayerVersion: POST /2018-10-31/layers/elixir-runtime/versions"
    assert result.architecture == "arm64"
    assert result.code_size == nil
  end

  test "a dry run reads named zips and takes the layer's architecture", %{
    conn: conn,
    tmp_dir: dir
  } do
    layer = Path.join(dir, "layer.zip")
    bytes = LayerZips.write!(layer, "arm64")
    fun = Path.join(dir, "fun.zip")
    LayerZips.write!(fun, "x86_64", manifest: false)

    assert {:ok, result} =
             Project.deploy(conn, config(), tasks: @tasks, zip: fun, layer_zip: layer)

    refute_received {:layer_build_args, _}
    refute_received {:package_build_args, _}
    assert result.architecture == "arm64"

    out = MixShell.output()
    assert out =~ "Would deploy #{fun} to"
    refute out =~ "not built"
    assert out =~ "CompatibleArchitectures=arm64"
    assert out =~ "ZipFile=<#{byte_size(bytes)} bytes"
  end

  test "a dry run refuses a mismatched layer before printing any request", %{
    conn: conn,
    tmp_dir: dir
  } do
    layer = Path.join(dir, "layer.zip")
    LayerZips.write!(layer, "arm64")

    assert {:error, message} =
             Project.deploy(conn, config(architecture: "x86_64"), tasks: @tasks, layer_zip: layer)

    assert message =~ "is built for arm64, but the function's architecture is x86_64"
    assert MixShell.output() == ""
  end

  describe "#14.10 a dry run warns where the deploy would stop" do
    test "no role, no credentials, a handler not in the named zip", %{conn: conn, tmp_dir: dir} do
      {:ok, config} = Settings.load([lambda: [handler: "Nope.handle"]], [], :hello)
      fun = Path.join(dir, "fun.zip")
      LambdaRuntime.TestSupport.Moto.handler_zip!(fun)

      env = %{
        "AWS_CONFIG_FILE" => Path.join(dir, "none"),
        "AWS_SHARED_CREDENTIALS_FILE" => Path.join(dir, "none")
      }

      arn = "arn:aws:lambda:us-east-1:123456789012:layer:elixir-runtime:7"

      assert {:ok, _} =
               Project.deploy(conn, %{config | layer_arn: arn}, tasks: @tasks, zip: fun, env: env)

      out = MixShell.output()
      assert out =~ "warning: a deploy would stop here: the handler Nope.handle cannot work"
      assert out =~ "warning: a deploy would stop here: credentials: NoCredentials"
      assert out =~ "warning: a deploy would stop here: no role is set"
      # Every request is shown, Role included.
      assert out =~ "GetFunction: GET /2015-03-31/functions/hello"
      assert out =~ "Role=<none: CreateFunction needs a role>"
    end

    test "a fine deploy gets no warning; an unbuilt zip is checked in the project's build",
         %{conn: conn, tmp_dir: dir} do
      env = %{"AWS_ACCESS_KEY_ID" => "AKID", "AWS_SECRET_ACCESS_KEY" => "secret"}
      fun = Path.join(dir, "fun.zip")
      LambdaRuntime.TestSupport.Moto.handler_zip!(fun)
      arn = "arn:aws:lambda:us-east-1:123456789012:layer:elixir-runtime:7"
      config = config(layer_arn: arn)

      assert {:ok, _} = Project.deploy(conn, config, tasks: @tasks, zip: fun, env: env)
      out = MixShell.output()
      refute out =~ "a deploy would stop here"
      assert out =~ "Role=#{@role}"

      # No zip: this project's build has no Hello module.
      assert {:ok, _} = Project.deploy(conn, config, tasks: @tasks, env: env)
      assert MixShell.output() =~ "module Hello is not compiled in this project"
    end
  end

  test "with a layer ARN no layer zip is read or built", %{conn: conn} do
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:elixir-runtime:7"
    assert {:ok, result} = Project.deploy(conn, config(layer_arn: arn), tasks: @tasks)
    refute_received {:layer_build_args, _}
    assert result.layer_arn == arn
    assert result.architecture == "x86_64"
    out = MixShell.output()
    refute out =~ "PublishLayerVersion"
    refute out =~ "runtime layer zip is not built"
    assert out =~ "Layers=[#{arn}]"
  end

  test "the summary a task prints: every fact of the result, a dry run's code size said",
       %{conn: conn} do
    arn = "arn:aws:lambda:us-east-1:123456789012:layer:elixir-runtime:7"
    assert {:ok, result} = Project.deploy(conn, config(layer_arn: arn), tasks: @tasks)
    _ = MixShell.output()

    assert Project.summary(result) == [
             "Function ARN: #{result.function_arn}",
             "Code size:    (not built in a dry run)",
             "Architecture: x86_64",
             "Layer ARN:    #{arn}"
           ]

    full = %{result | code_size: 123, version: "3", alias_arn: "arn:alias"}
    lines = Project.summary(full)
    assert "Code size:    123 bytes" in lines
    assert "Version:      3" in lines and "Alias ARN:    arn:alias" in lines
  end

  test "publishing the layer alone: its manifest sets the architecture; a dry run prints",
       %{conn: conn, tmp_dir: dir} do
    zip = Path.join(dir, "layer.zip")
    LayerZips.write!(zip, "arm64")

    assert {:ok, %{architecture: "arm64", published: false}} =
             Project.publish_layer(conn, config(), zip: zip)

    out = MixShell.output()
    assert out =~ "Dry run: nothing is sent. Would publish #{zip}"
    assert out =~ "PublishLayerVersion"

    assert {:error, message} =
             Project.publish_layer(conn, config(architecture: "x86_64"), zip: zip)

    assert message =~ "is built for arm64, but the function's architecture is x86_64"
  end
end
