defmodule LambdaRuntime.Tools.Deploy.LayerPublisherTest do
  # The publisher's own manifest check (dry-run connection: nothing is sent).
  use ExUnit.Case, async: false

  alias LambdaRuntime.AWS.Error
  alias LambdaRuntime.Tools.Deploy.{Connection, LayerPublisher}
  alias LambdaRuntime.TestSupport.LayerZips
  alias LambdaRuntime.TestSupport.MixShell

  @moduletag :tmp_dir

  setup do
    MixShell.use_process_shell()
    {:ok, conn} = Connection.open(dry_run: true, region: "us-east-1", env: %{})
    %{conn: conn}
  end

  test "the bytes it would upload must carry a manifest for the architecture", ctx do
    arm = LayerZips.write!(Path.join(ctx.tmp_dir, "arm.zip"), "arm64")
    old = LayerZips.write!(Path.join(ctx.tmp_dir, "old.zip"), "arm64", manifest: false)

    assert {:error, %Error{code: "LayerRefused", message: message}} =
             LayerPublisher.publish(ctx.conn, "rt", arm, "x86_64")

    assert message =~ "built for arm64, but the function's architecture is x86_64"

    assert {:error, %Error{code: "LayerRefused", message: message}} =
             LayerPublisher.publish(ctx.conn, "rt", old, "arm64")

    assert message =~ "has no lambda_runtime-layer.json"
    refute_received {:mix_shell, _, _}

    assert {:ok, %{published: false}} = LayerPublisher.publish(ctx.conn, "rt", arm, "arm64")
    assert_received {:mix_shell, :info, ["  ListLayerVersions: " <> _]}
    assert_received {:mix_shell, :info, ["  [unless the latest version has sha256 " <> line]}
    assert line =~ "CompatibleArchitectures=arm64"
  end

  test "a dry run may show a zip that was not built", ctx do
    assert {:ok, _} = LayerPublisher.publish(ctx.conn, "rt", :unbuilt, "arm64")
    assert_received {:mix_shell, :info, ["  ListLayerVersions: " <> _]}

    assert_received {:mix_shell, :info,
                     ["  [unless the latest version holds the same zip] " <> line]}

    assert line =~ "ZipFile=<not built in a dry run>"
    assert line =~ "sha256:<of the built zip>"
  end
end
