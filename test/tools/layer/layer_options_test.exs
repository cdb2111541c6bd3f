defmodule LambdaRuntime.Tools.LayerOptionsTest do
  # mix lambda.layer's options, checked and resolved by the library
  # (LambdaRuntime.Tools.Layer.options/1) before anything is compiled.
  use ExUnit.Case, async: true

  alias LambdaRuntime.Tools.Layer
  alias LambdaRuntime.Tools.Layer.Target

  test "the defaults: x86_64, ERTS from zig for glibc 2.31, the interpreter" do
    assert Layer.options([]) == {:ok, %{arch: :x86_64, erts: :zig, glibc: {2, 31}, flavor: :emu}}

    assert {:ok, %{arch: :arm64, glibc: {2, 34}, flavor: :jit}} =
             Layer.options(arch: "arm64", glibc: "2.34", flavor: "jit")
  end

  test "--erts host: this machine's architecture, glibc 2.34 and the JIT" do
    host = Target.host_arch()

    assert {:ok, %{erts: :host, glibc: {2, 34}, flavor: :jit}} =
             Layer.options(erts: "host", arch: "#{host}")

    other = if host == :x86_64, do: "arm64", else: "x86_64"
    assert {:error, message} = Layer.options(erts: "host", arch: other)
    assert message =~ "--erts host copies this machine's ERTS, which is #{host}, not #{other}"

    assert {:error, "--flavor emu needs ERTS built from source: drop --erts host"} =
             Layer.options(erts: "host", flavor: "emu")
  end

  test "bad values are named with the accepted ones" do
    assert {:error, "--arch expects x86_64 or arm64 (Lambda's names), got amd64"} =
             Layer.options(arch: "amd64")

    assert {:error, "--erts expects zig (the default) or host, got docker"} =
             Layer.options(erts: "docker")

    assert {:error, "--flavor expects jit or emu, got beam"} = Layer.options(flavor: "beam")

    assert {:error, "--glibc expects a version such as 2.31 or 2.34, got new"} =
             Layer.options(glibc: "new")
  end

  test "a glibc newer than provided.al2023's only with --force" do
    assert {:error, message} = Layer.options(glibc: "2.36")
    assert message =~ "newer than provided.al2023's glibc 2.34"
    assert message =~ "--force"
    assert {:ok, %{glibc: {2, 36}}} = Layer.options(glibc: "2.36", force: true)
  end
end
