defmodule LambdaRuntime.Tools.Emulator.Sandbox do
  @moduledoc """
  The command that runs a layer's `/opt/bootstrap` in a Lambda-shaped
  sandbox, with bubblewrap (`bwrap`): the unpacked layer read-only at
  `/opt`, the unpacked function package read-only at `/var/task` (the
  working directory), a tmpfs `/tmp` as the only writable place, a
  read-only system (`/usr`, `/etc`, and `/bin`, `/sbin`, `/lib*`) with any
  Erlang and Elixir in it hidden (so only the layer can provide them), only
  the given environment, uid 993 / gid 990 as on Lambda, and the host's
  loopback network for the Runtime API. `mix lambda.invoke --layer` and
  the tests use this one command line.

  ## The system: this machine's, or a root filesystem (`:rootfs`)

  By default the system directories are this machine's. With `:rootfs`,
  they come from that directory instead (`scripts/rootfs.sh` builds a
  Debian bullseye minbase root: glibc 2.31, older than `provided.al2023`'s
  2.34): nothing of the host's C library or shared libraries is visible,
  so a layer that starts there needs no more than that root gives it.

  ## Another architecture (`:arch`)

  When `:arch` (`:x86_64` or `:arm64`) is not this machine's, the sandbox
  runs the target's programs with `qemu-user-static` (e.g.
  `qemu-aarch64-static`), and needs a `:rootfs` of that architecture.
  The emulator is registered with binfmt_misc privately: the command
  starts with `unshare --user --map-root-user --mount`, which makes a user
  and mount namespace of its own; in it a `sh` mounts a fresh binfmt_misc
  instance (Linux >= 6.7 gives each user namespace its own), registers the
  emulator with the `F` flag (the kernel opens the emulator at
  registration, so it runs inside the sandbox, whose file system does not
  contain it), and execs `bwrap`, whose namespaces nest in that one and
  inherit the registration. Nothing is registered with the system's
  binfmt_misc; the registration ends with the namespace. The emulator
  resolves the target's dynamic loader and libraries in the sandbox's own
  root, which is the target root filesystem (the part `QEMU_LD_PREFIX`
  plays otherwise). When the layer's BEAM is the JIT flavor, the
  environment also gets `ERL_AFLAGS=+JPperf map` (before the function's
  own `ERL_AFLAGS`): the OTP 25 JIT's dual-mapped code memory crashes under
  qemu-user, and perf support makes it single-mapped; the interpreter
  flavor refuses `+JP` flags and needs none.

  ## What it proves, and what it does not

  A layer that serves invocations here starts with a glibc no newer than
  the root's, finds every library it needs in the layer or the root (none
  from this machine), and runs on the target instruction set as qemu
  implements it. It does not prove that it runs on Lambda: bullseye is
  not Amazon Linux 2023 (other library versions; AL2023 has OpenSSL 3,
  bullseye 1.1, hence a stand-in `libcrypto.so.3`, see
  `scripts/rootfs.sh`), qemu-user is not a Graviton CPU (it emulates
  the instruction set, not its memory model or timing), and bwrap is not
  Firecracker.

  `LambdaRuntime.Tools.Emulator.LocalRuntime` runs it with the `:sandbox` option.
  """

  # The uid and gid Lambda's sandbox user has.
  @uid "993"
  @gid "990"

  # binfmt_misc registrations for qemu-user-static (the magic and mask match
  # an ELF executable or shared object of the target machine, as in qemu's
  # own binfmt.d files), and each architecture's ELF e_machine.
  @elf_header "\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00"
  @elf_mask "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff"
  @targets %{
    x86_64: %{qemu: "qemu-x86_64-static", machine: "\\x3e\\x00", e_machine: 0x3E},
    arm64: %{qemu: "qemu-aarch64-static", machine: "\\xb7\\x00", e_machine: 0xB7}
  }

  # The first kernel whose binfmt_misc can be mounted per user namespace.
  @private_binfmt_kernel {6, 7}

  @type arch :: :x86_64 | :arm64

  @doc "The bwrap executable, or nil when bubblewrap is not installed."
  @spec bwrap() :: String.t() | nil
  def bwrap, do: System.find_executable("bwrap")

  @doc "This machine's architecture, or nil if it is neither x86_64 nor arm64."
  @spec host_arch() :: arch() | nil
  def host_arch do
    case :erlang.system_info(:system_architecture) |> to_string() do
      "x86_64" <> _ -> :x86_64
      "aarch64" <> _ -> :arm64
      _ -> nil
    end
  end

  @doc """
  Whether the sandbox can run with these options (`:rootfs`, `:arch`):
  `:ok`, or `{:error, sentence}` naming what is missing and how to get it.
  """
  @spec check(keyword()) :: :ok | {:error, String.t()}
  def check(opts \\ []) do
    rootfs = opts[:rootfs]
    arch = opts[:arch] || host_arch()

    with :ok <- check_bwrap(),
         :ok <- check_arch(arch),
         :ok <- check_rootfs(rootfs, arch) do
      if foreign?(arch), do: check_emulation(arch, rootfs), else: :ok
    end
  end

  @doc """
  `[executable | args]` running `/opt/bootstrap` with `layer_dir` at `/opt`,
  `task_dir` at `/var/task` and exactly the variables in `env`.

  Options: `:command` (what to run instead of `/opt/bootstrap`: a path,
  or a list of a path and its arguments),
  `:rootfs` (the system directories' root, default `/`), `:arch` (the
  layer's architecture, default this machine's). Raises `ArgumentError`
  with `check/1`'s sentence when the sandbox cannot run.
  """
  @spec command(Path.t(), Path.t(), [{String.t(), String.t()}], keyword()) :: [String.t()]
  def command(layer_dir, task_dir, env, opts \\ []) do
    with {:error, message} <- check(opts), do: raise(ArgumentError, message)
    root = Path.expand(opts[:rootfs] || "/")
    arch = opts[:arch] || host_arch()
    env = if foreign?(arch) and jit?(layer_dir), do: qemu_jit_env(env), else: env

    bwrap =
      [bwrap(), "--unshare-all", "--share-net", "--die-with-parent", "--new-session"] ++
        system_dirs(root) ++
        [
          ["--ro-bind", Path.expand(layer_dir), "/opt"],
          ["--ro-bind", Path.expand(task_dir), "/var/task"],
          hidden_dirs(root),
          ["--remount-ro", "/", "--uid", @uid, "--gid", @gid, "--chdir", "/var/task"],
          ["--clearenv" | Enum.flat_map(env, fn {k, v} -> ["--setenv", k, to_string(v)] end)],
          [opts[:command] || "/opt/bootstrap"]
        ]

    command = List.flatten(bwrap)
    if foreign?(arch), do: with_private_binfmt(arch, command), else: command
  end

  @doc """
  The binfmt_misc registration line (as written to `register`) that runs
  `arch`'s programs with `interpreter`, with the `F` flag.
  """
  @spec binfmt_registration(arch(), Path.t()) :: String.t()
  def binfmt_registration(arch, interpreter) do
    %{qemu: qemu, machine: machine} = Map.fetch!(@targets, arch)
    name = String.replace_suffix(qemu, "-static", "")
    ":#{name}:M::#{@elf_header}#{machine}:#{@elf_mask}:#{interpreter}:F"
  end

  @doc "The architecture an ELF file is for (`:x86_64`, `:arm64`), or nil."
  @spec elf_arch(Path.t()) :: arch() | nil
  def elf_arch(path) do
    with {:ok, data} when is_binary(data) <- File.open(path, [:read], &IO.binread(&1, 20)),
         <<0x7F, "ELF", _class, 1, _::binary-size(12), machine::little-16>> <- data do
      Enum.find_value(@targets, fn {arch, %{e_machine: m}} -> if m == machine, do: arch end)
    else
      _ -> nil
    end
  end

  defp foreign?(arch), do: arch != host_arch()

  defp check_bwrap do
    if bwrap(),
      do: :ok,
      else: {:error, "the sandbox needs bubblewrap (bwrap): apt-get install bubblewrap"}
  end

  defp check_arch(arch) when is_map_key(@targets, arch), do: :ok

  defp check_arch(arch),
    do: {:error, "unknown architecture #{inspect(arch)}: the sandbox runs :x86_64 or :arm64"}

  defp check_rootfs(nil, _arch), do: :ok

  defp check_rootfs(rootfs, arch) do
    root_arch = elf_arch(Path.join(rootfs, "usr/bin/env"))

    cond do
      not File.dir?(rootfs) ->
        {:error, "the root filesystem #{rootfs} does not exist (scripts/rootfs.sh builds one)"}

      not File.dir?(Path.join(rootfs, "usr/lib")) ->
        {:error,
         "#{rootfs} is not a root filesystem: it has no usr/lib (scripts/rootfs.sh builds one)"}

      root_arch && root_arch != arch ->
        {:error,
         "the root filesystem #{rootfs} is #{root_arch} but the layer is #{arch}; " <>
           "use a root of the layer's architecture (scripts/rootfs.sh #{debian_arch(arch)})"}

      true ->
        :ok
    end
  end

  @doc """
  Whether a kernel of `version` (as `:os.version/0` gives it) can mount a
  binfmt_misc of a user namespace's own (Linux >= 6.7): `:ok` or
  `{:error, sentence}`.
  """
  @spec check_kernel({non_neg_integer(), non_neg_integer(), non_neg_integer()}) ::
          :ok | {:error, String.t()}
  def check_kernel({major, minor, _}) when {major, minor} >= @private_binfmt_kernel, do: :ok

  def check_kernel({major, minor, _}) do
    {:error,
     "running another architecture registers qemu in a binfmt_misc private to the sandbox, " <>
       "which needs Linux >= 6.7 (this kernel is #{major}.#{minor}); " <>
       "use a newer kernel or a machine of the layer's architecture"}
  end

  defp check_emulation(arch, rootfs) do
    qemu = @targets[arch].qemu

    cond do
      rootfs == nil ->
        {:error,
         "an #{arch} layer on this #{host_arch()} machine needs an #{arch} root filesystem " <>
           "to run in (its loader and libc): build one with scripts/rootfs.sh #{debian_arch(arch)} " <>
           "and pass it as the root filesystem (--rootfs DIR)"}

      System.find_executable(qemu) == nil ->
        {:error,
         "running an #{arch} layer on this #{host_arch()} machine needs #{qemu}: " <>
           "apt-get install --no-install-recommends qemu-user-static"}

      check_kernel(kernel()) != :ok ->
        check_kernel(kernel())

      not File.dir?("/proc/sys/fs/binfmt_misc") ->
        {:error, "this kernel has no binfmt_misc (/proc/sys/fs/binfmt_misc is missing)"}

      System.find_executable("unshare") == nil or System.find_executable("mount") == nil ->
        {:error,
         "running another architecture needs unshare and mount (apt-get install util-linux mount)"}

      true ->
        :ok
    end
  end

  defp kernel do
    case :os.version() do
      {_, _, _} = version -> version
      _ -> {0, 0, 0}
    end
  end

  defp debian_arch(:x86_64), do: "amd64"
  defp debian_arch(:arm64), do: "arm64"

  # unshare makes a user and mount namespace; in it sh mounts a binfmt_misc
  # of that namespace's own, registers qemu and execs bwrap. unshare and sh
  # exec in place, so the command's OS pid ends up being bwrap's.
  defp with_private_binfmt(arch, bwrap_command) do
    qemu = System.find_executable(@targets[arch].qemu)

    script =
      ~s(set -e; "$1" -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; ) <>
        ~s(printf '%s' "$2" > /proc/sys/fs/binfmt_misc/register; shift 2; exec "$@")

    [System.find_executable("unshare"), "--user", "--map-root-user", "--mount", "--"] ++
      ["/bin/sh", "-c", script, "lambda-sandbox", System.find_executable("mount")] ++
      [binfmt_registration(arch, qemu) | bwrap_command]
  end

  # Whether the layer's BEAM is the JIT flavor: only its usage text names
  # the +JP flags (the interpreter refuses them).
  defp jit?(layer_dir) do
    case Path.wildcard(Path.join(Path.expand(layer_dir), "erts-*/bin/beam.smp")) do
      [beam | _] -> :binary.match(File.read!(beam), "-JPperf") != :nomatch
      [] -> false
    end
  end

  defp qemu_jit_env(env) do
    {aflags, rest} = Enum.split_with(env, fn {k, _} -> k == "ERL_AFLAGS" end)
    user = Enum.map(aflags, fn {_, v} -> " " <> to_string(v) end)
    rest ++ [{"ERL_AFLAGS", IO.iodata_to_binary(["+JPperf map" | user])}]
  end

  # A read-only system from `root`: /usr, /etc, and the top-level links or
  # directories of a merged-/usr layout (or the directories themselves).
  defp system_dirs(root) do
    top =
      Enum.flat_map(~w(bin lib lib32 lib64 libx32 sbin), fn dir ->
        path = Path.join(root, dir)

        case File.read_link(path) do
          {:ok, target} ->
            ["--symlink", target, "/" <> dir]

          {:error, _} ->
            if File.dir?(path), do: ["--ro-bind", path, "/" <> dir], else: []
        end
      end)

    ["--ro-bind", Path.join(root, "usr"), "/usr", "--ro-bind", Path.join(root, "etc"), "/etc"] ++
      top ++
      [
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/var/task",
        "--dir",
        "/opt"
      ]
  end

  # Erlang and Elixir of the system, under empty tmpfs mounts.
  defp hidden_dirs(root) do
    for dir <- ~w(usr/lib/erlang usr/lib/elixir),
        File.dir?(Path.join(root, dir)),
        do: ["--tmpfs", "/" <> dir]
  end
end
