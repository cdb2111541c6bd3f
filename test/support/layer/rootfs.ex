defmodule LambdaRuntime.TestSupport.RootFS do
  @moduledoc """
  Debian bullseye root filesystems (glibc 2.31), one per architecture,
  built and cached by `scripts/rootfs.sh` (the first call on a machine
  runs debootstrap: under a minute for amd64, about 3 minutes for arm64,
  whose second stage runs under qemu; then about 10 ms); later calls in the
  same test run return the path at once.

      root = RootFS.path!(:x86_64)
      root = RootFS.path!(:arm64, libcrypto: "/path/to/aarch64/libcrypto.so.3")
  """

  @root LambdaRuntime.TestSupport.Paths.root()
  @script Path.join(@root, "scripts/rootfs.sh")

  @doc """
  The root filesystem for `arch` (`:x86_64` or `:arm64`). Option
  `:libcrypto`: a `libcrypto.so.3` that the script places in the root (the
  stand-in for AL2023's).
  """
  def path!(arch, opts \\ []) do
    libcrypto = opts[:libcrypto]
    key = {__MODULE__, arch, libcrypto}

    case :persistent_term.get(key, nil) do
      nil -> :global.trans({key, self()}, fn -> build!(key, arch, libcrypto) end)
      path -> path
    end
  end

  @doc "Debian's name of an architecture (`amd64`, `arm64`)."
  def debian_arch(:x86_64), do: "amd64"
  def debian_arch(:arm64), do: "arm64"

  defp build!(key, arch, libcrypto) do
    with nil <- :persistent_term.get(key, nil) do
      args = [debian_arch(arch)] ++ if(libcrypto, do: ["--libcrypto", libcrypto], else: [])
      {output, status} = System.cmd(@script, args, stderr_to_stdout: false)

      if status != 0 do
        raise "scripts/rootfs.sh #{Enum.join(args, " ")} failed (status #{status}); " <>
                "its messages are above. Output:\n#{output}"
      end

      path = output |> String.split("\n", trim: true) |> List.last()

      unless path && File.dir?(Path.join(path, "usr/lib")),
        do: raise("no root at #{inspect(path)}")

      :persistent_term.put(key, path)
      path
    end
  end
end
