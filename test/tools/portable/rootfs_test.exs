defmodule LambdaRuntime.Portable.RootfsTest do
  # The old-glibc sandbox itself (scripts/rootfs.sh's bullseye roots, glibc
  # 2.31, through LambdaRuntime.Tools.Emulator.Sandbox), with small C programs
  # built by zig for a chosen architecture and glibc: what runs there, what
  # does not, and the other architecture under qemu through a binfmt_misc
  # registration private to the sandbox.
  use ExUnit.Case, async: false

  alias LambdaRuntime.Tools.Emulator.Sandbox, as: Command
  alias LambdaRuntime.TestSupport.{Binfmt, RootFS, Sandbox, Zig}

  @moduletag :portable
  @moduletag timeout: 900_000

  # Prints the machine the kernel reports (qemu-user reports the emulated
  # one) and the glibc it runs on.
  @where """
  #include <stdio.h>
  #include <sys/utsname.h>
  #include <gnu/libc-version.h>
  int main(void) {
    struct utsname u;
    if (uname(&u) != 0) return 2;
    printf("machine=%s glibc=%s\\n", u.machine, gnu_get_libc_version());
    return 0;
  }
  """

  # arc4random is new in glibc 2.36: the program needs GLIBC_2.36.
  @new_glibc """
  #include <stdio.h>
  #include <stdlib.h>
  int main(void) { printf("random=%u\\n", arc4random()); return 0; }
  """

  @triples %{x86_64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu"}

  setup_all do
    if Command.bwrap() == nil, do: raise("bwrap is required: run scripts/setup.sh")
    if Zig.command() == nil, do: raise("zig is required: pip install ziglang (into .venv)")

    tmp = Path.join(System.tmp_dir!(), "lambda_rootfs_#{System.unique_integer([:positive])}")
    File.mkdir_p!(tmp)
    on_exit(fn -> File.rm_rf!(tmp) end)

    where = Path.join(tmp, "where.c")
    new_glibc = Path.join(tmp, "new_glibc.c")
    File.write!(where, @where)
    File.write!(new_glibc, @new_glibc)

    # One /opt per architecture: `where` for glibc 2.31, `new_glibc` for 2.36.
    opts =
      for {arch, triple} <- @triples, into: %{} do
        dir = Path.join(tmp, "opt-#{arch}")
        File.mkdir_p!(dir)
        Zig.cc!(where, "#{triple}.2.31", Path.join(dir, "where"))
        Zig.cc!(new_glibc, "#{triple}.2.36", Path.join(dir, "new_glibc"))
        {arch, dir}
      end

    empty = Path.join(tmp, "task")
    File.mkdir_p!(empty)
    host = Command.host_arch()
    foreign = if host == :x86_64, do: :arm64, else: :x86_64
    %{opts: opts, task: empty, host: host, foreign: foreign}
  end

  defp run(ctx, arch, program, sandbox_opts) do
    ctx.opts[arch]
    |> Sandbox.start!(ctx.task, "127.0.0.1:9", "none", [command: program] ++ sandbox_opts)
    |> Sandbox.await_exit(120_000)
  end

  test "this machine's architecture: a glibc 2.31 program runs in the bullseye root, a 2.36 one does not",
       ctx do
    root = RootFS.path!(ctx.host)

    assert {0, output} = run(ctx, ctx.host, "/opt/where", rootfs: root)
    assert output =~ "glibc=2.31"
    # The system files are the root's (Debian 11), not this machine's.
    assert {0, "11." <> _} = run(ctx, ctx.host, ["/bin/cat", "/etc/debian_version"], rootfs: root)

    assert {status, output} = run(ctx, ctx.host, "/opt/new_glibc", rootfs: root)
    assert status != 0
    assert output =~ "version `GLIBC_2.36' not found"

    # The same program runs over this machine's own root (Debian 12: 2.36),
    # so what failed above is the root's glibc.
    assert {0, output} = run(ctx, ctx.host, "/opt/new_glibc", [])
    assert output =~ "random="
  end

  test "the other architecture runs in its root under qemu, registered only in the sandbox",
       ctx do
    root = RootFS.path!(ctx.foreign)
    before = Binfmt.state()
    host_ran_it = host_runs?(Path.join(ctx.opts[ctx.foreign], "where"))

    assert {0, output} = run(ctx, ctx.foreign, "/opt/where", rootfs: root, arch: ctx.foreign)
    machine = %{arm64: "aarch64", x86_64: "x86_64"}[ctx.foreign]
    assert output =~ "machine=#{machine} glibc=2.31"
    # The root's own programs run the same way.
    assert {0, uname} =
             run(ctx, ctx.foreign, ["/bin/uname", "-m"], rootfs: root, arch: ctx.foreign)

    assert uname == machine <> "\n"

    # The root's glibc is the floor for that architecture too.
    assert {status, output} =
             run(ctx, ctx.foreign, "/opt/new_glibc", rootfs: root, arch: ctx.foreign)

    assert status != 0
    assert output =~ "version `GLIBC_2.36' not found"

    # Nothing was registered with the system's binfmt_misc, and the host
    # still cannot run the program unless it could before.
    assert Binfmt.state() == before
    unless Binfmt.emulates?(before, ctx.foreign), do: refute(host_ran_it)
    assert host_runs?(Path.join(ctx.opts[ctx.foreign], "where")) == host_ran_it
  end

  # Runs `program` on this machine, outside any sandbox: true when it printed
  # its report (a binfmt_misc registration of the system ran it).
  defp host_runs?(program) do
    {output, status} = System.cmd(program, [], stderr_to_stdout: true)
    status == 0 and output =~ ~r/\Amachine=\S+ glibc=\S+\n\z/
  rescue
    _ -> false
  end
end
