defmodule LambdaRuntime.Portable.SandboxCommandTest do
  # The sandbox's command line and its refusals (LambdaRuntime.Tools.Emulator.Sandbox
  # and mix lambda.invoke's --rootfs/--arch), without running anything.
  use ExUnit.Case, async: false

  import ExUnit.CaptureIO

  alias LambdaRuntime.Tools.Emulator.Sandbox

  @moduletag :tmp_dir

  setup %{tmp_dir: dir} do
    host = Sandbox.host_arch()
    foreign = if host == :x86_64, do: :arm64, else: :x86_64

    %{
      host: host,
      foreign: foreign,
      host_root: fake_root(dir, "host", host),
      foreign_root: fake_root(dir, "foreign", foreign)
    }
  end

  # A directory that looks like a root filesystem of `arch`: usr/lib, and a
  # usr/bin/env whose ELF header names the machine.
  defp fake_root(dir, name, arch) do
    root = Path.join(dir, name)
    File.mkdir_p!(Path.join(root, "usr/lib"))
    File.mkdir_p!(Path.join(root, "usr/bin"))
    File.mkdir_p!(Path.join(root, "etc"))
    File.ln_s!("usr/lib", Path.join(root, "lib"))
    machine = %{x86_64: 0x3E, arm64: 0xB7}[arch]
    header = <<0x7F, "ELF", 2, 1, 1, 0::72, 2::little-16, machine::little-16>>
    File.write!(Path.join(root, "usr/bin/env"), header)
    root
  end

  test "over a root filesystem: its system directories, the layer and task as on Lambda",
       ctx do
    [exe | args] = Sandbox.command("/L", "/T", [{"A", "1"}], rootfs: ctx.host_root)

    assert exe == Sandbox.bwrap()
    assert pairs(args, "--ro-bind") |> Enum.member?({Path.join(ctx.host_root, "usr"), "/usr"})
    assert pairs(args, "--ro-bind") |> Enum.member?({Path.join(ctx.host_root, "etc"), "/etc"})
    assert pairs(args, "--ro-bind") |> Enum.member?({"/L", "/opt"})
    assert pairs(args, "--ro-bind") |> Enum.member?({"/T", "/var/task"})
    assert {"usr/lib", "/lib"} in pairs(args, "--symlink")
    # Nothing of this machine's /usr or /etc, and no Erlang to hide there.
    refute {"/usr", "/usr"} in pairs(args, "--ro-bind")
    refute "/usr/lib/erlang" in args

    assert ["--uid", "993", "--gid", "990"] ==
             Enum.drop_while(args, &(&1 != "--uid")) |> Enum.take(4)

    assert List.last(args) == "/opt/bootstrap"
    refute "ERL_AFLAGS" in args
  end

  test "this machine's root: its Erlang and Elixir hidden, as before", ctx do
    [_ | args] = Sandbox.command("/L", "/T", [], command: "/opt/x")
    assert {"/usr", "/usr"} in pairs(args, "--ro-bind")
    if File.dir?("/usr/lib/erlang"), do: assert("/usr/lib/erlang" in pairs_first(args, "--tmpfs"))
    assert List.last(args) == "/opt/x"
    assert ctx.host
  end

  test "another architecture: a private binfmt_misc registration, then the same bwrap", ctx do
    if System.find_executable(qemu(ctx.foreign)) == nil or kernel() < {6, 7} do
      assert {:error, _} = Sandbox.check(rootfs: ctx.foreign_root, arch: ctx.foreign)
    else
      env = [{"ERL_AFLAGS", "+S 1"}, {"B", "2"}]
      jit = fake_layer(ctx.tmp_dir, "jit", "usage: -JPperf bool ...")
      command = Sandbox.command(jit, "/T", env, rootfs: ctx.foreign_root, arch: ctx.foreign)

      [
        unshare,
        "--user",
        "--map-root-user",
        "--mount",
        "--",
        "/bin/sh",
        "-c",
        script,
        _name,
        mount,
        registration,
        bwrap | args
      ] = command

      assert Path.basename(unshare) == "unshare"
      assert Path.basename(mount) == "mount"
      assert script =~ "binfmt_misc"
      assert bwrap == Sandbox.bwrap()
      # The F flag: the kernel opens the emulator at registration.
      assert registration =~
               ~r/^:qemu-[a-z0-9_]+:M::\\x7f\\x45\\x4c\\x46.*:#{System.find_executable(qemu(ctx.foreign))}:F$/

      assert {Path.join(ctx.foreign_root, "usr"), "/usr"} in pairs(args, "--ro-bind")
      # The OTP 25 JIT under qemu-user needs single-mapped code memory; the
      # function's own ERL_AFLAGS stay.
      assert {"ERL_AFLAGS", "+JPperf map +S 1"} in setenv(args)
      assert {"B", "2"} in setenv(args)

      # The interpreter flavor refuses +JP flags: its environment stays as given.
      emu = fake_layer(ctx.tmp_dir, "emu", "usage: -a size ...")
      command = Sandbox.command(emu, "/T", env, rootfs: ctx.foreign_root, arch: ctx.foreign)
      assert {"ERL_AFLAGS", "+S 1"} in setenv(command)
    end
  end

  # A layer directory whose erts-*/bin/beam.smp holds `text`.
  defp fake_layer(dir, name, text) do
    bin = Path.join([dir, name, "erts-13.1.5/bin"])
    File.mkdir_p!(bin)
    File.write!(Path.join(bin, "beam.smp"), text)
    Path.join(dir, name)
  end

  test "the binfmt registration matches the target's ELF header" do
    assert Sandbox.binfmt_registration(:arm64, "/q") ==
             ":qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00" <>
               "\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00:\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00" <>
               "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff:/q:F"

    assert Sandbox.binfmt_registration(:x86_64, "/q") =~ ~r/^:qemu-x86_64:M::.*\\x3e\\x00:/
  end

  test "refusals name the problem and the fix", ctx do
    not_a_root = Path.join(ctx.tmp_dir, "not_a_root")
    File.mkdir_p!(not_a_root)

    assert {:error, message} = Sandbox.check(rootfs: Path.join(ctx.tmp_dir, "missing"))
    assert message =~ "does not exist (scripts/rootfs.sh builds one)"

    assert {:error, message} = Sandbox.check(rootfs: not_a_root)
    assert message =~ "is not a root filesystem: it has no usr/lib"

    assert {:error, message} = Sandbox.check(rootfs: ctx.foreign_root, arch: ctx.host)
    assert message =~ "is #{ctx.foreign} but the layer is #{ctx.host}"
    assert message =~ "scripts/rootfs.sh #{debian(ctx.host)}"

    assert {:error, message} = Sandbox.check(arch: ctx.foreign)
    assert message =~ "needs an #{ctx.foreign} root filesystem"
    assert message =~ "scripts/rootfs.sh #{debian(ctx.foreign)}"

    assert {:error, message} = Sandbox.check(arch: :sparc)
    assert message =~ "unknown architecture :sparc"

    assert_raise ArgumentError, ~r/no usr\/lib/, fn ->
      Sandbox.command("/L", "/T", [], rootfs: not_a_root)
    end
  end

  test "a kernel older than 6.7 cannot give the sandbox its own binfmt_misc" do
    assert :ok = Sandbox.check_kernel({6, 7, 0})
    assert :ok = Sandbox.check_kernel({7, 0, 1})
    assert {:error, message} = Sandbox.check_kernel({6, 6, 30})
    assert message =~ "needs Linux >= 6.7 (this kernel is 6.6)"
    assert {:error, _} = Sandbox.check_kernel({5, 15, 0})
  end

  test "no qemu for a foreign architecture: how to install it", ctx do
    # A PATH with bwrap on it and nothing else.
    bin = Path.join(ctx.tmp_dir, "bin")
    File.mkdir_p!(bin)
    File.ln_s!(Sandbox.bwrap(), Path.join(bin, "bwrap"))
    path = System.get_env("PATH")

    try do
      System.put_env("PATH", bin)
      assert {:error, message} = Sandbox.check(rootfs: ctx.foreign_root, arch: ctx.foreign)
      assert message =~ "needs #{qemu(ctx.foreign)}"
      assert message =~ "apt-get install --no-install-recommends qemu-user-static"
    after
      System.put_env("PATH", path)
    end
  end

  test "mix lambda.invoke: --rootfs and --arch are checked before anything is built", ctx do
    cases = [
      {["--rootfs", Path.join(ctx.tmp_dir, "missing")], "does not exist; scripts/rootfs.sh"},
      {["--layer", ctx.tmp_dir, "--arch", "sparc"], "--arch takes x86_64 or arm64"},
      {["--layer", Path.join(ctx.tmp_dir, "nope.zip"), "--package-zip", ctx.tmp_dir],
       "nope.zip does not exist"},
      {["--layer", ctx.tmp_dir, "--package-zip", ctx.tmp_dir, "--rootfs", ctx.foreign_root],
       "is #{ctx.foreign} but the layer is #{ctx.host}"}
    ]

    for {args, expected} <- cases do
      capture_io(fn ->
        error =
          assert_raise Mix.Error, fn ->
            Mix.Tasks.Lambda.Invoke.run(args ++ ["--handler", "X.y"])
          end

        assert error.message =~ "mix lambda.invoke: "
        assert error.message =~ expected
      end)
    end
  end

  test "mix lambda.invoke --layer DIR: the layer's manifest names its architecture", ctx do
    layer = Path.join(ctx.tmp_dir, "layer")
    File.mkdir_p!(layer)

    File.write!(
      Path.join(layer, "lambda_runtime-layer.json"),
      ~s({"architecture":"#{ctx.foreign}"})
    )

    assert {:ok, ctx.foreign} == LambdaRuntime.Tools.Emulator.LayerSetup.layer_arch(layer, nil)

    assert {:error, message} = LambdaRuntime.Tools.Emulator.LayerSetup.layer_arch(layer, ctx.host)
    assert message =~ "built for #{ctx.foreign} (its lambda_runtime-layer.json), not #{ctx.host}"

    assert {:ok, ctx.host} ==
             LambdaRuntime.Tools.Emulator.LayerSetup.layer_arch(ctx.tmp_dir, nil)
  end

  defp qemu(:arm64), do: "qemu-aarch64-static"
  defp qemu(:x86_64), do: "qemu-x86_64-static"
  defp debian(:arm64), do: "arm64"
  defp debian(:x86_64), do: "amd64"

  defp kernel do
    {major, minor, _} = :os.version()
    {major, minor}
  end

  defp pairs([flag, a, b | rest], flag), do: [{a, b} | pairs(rest, flag)]
  defp pairs([_ | rest], flag), do: pairs(rest, flag)
  defp pairs([], _flag), do: []

  defp pairs_first([flag, a | rest], flag), do: [a | pairs_first(rest, flag)]
  defp pairs_first([_ | rest], flag), do: pairs_first(rest, flag)
  defp pairs_first([], _flag), do: []

  defp setenv(args), do: pairs(args, "--setenv")
end
