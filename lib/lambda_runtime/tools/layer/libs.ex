defmodule LambdaRuntime.Tools.Layer.Libs do
  @moduledoc """
  Finds the shared libraries that the layer's ELF files link to beyond glibc
  (for ERTS and OTP's NIFs on Debian: libtinfo, libz, libstdc++, libgcc_s,
  libcrypto) and copies them, and what they link to in turn, into the
  layer's `shlib/` directory, which `bootstrap` puts on `LD_LIBRARY_PATH`.

  Libraries are looked up in the dynamic linker's cache (`ldconfig -p`) and
  then in the usual library directories of the build machine.
  """

  alias LambdaRuntime.Tools.Layer.Elf

  # The libraries glibc itself installs: every Linux target has its own,
  # so they are never bundled (only their symbol versions are checked).
  @glibc ~w(libc.so.6 libm.so.6 libmvec.so.1 libdl.so.2 libpthread.so.0 librt.so.1
            libutil.so.1 libresolv.so.2 libanl.so.1 libBrokenLocale.so.1 libthread_db.so.1
            libnss_files.so.2 libnss_dns.so.2 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1)

  @doc "True when `soname` is one of glibc's own libraries."
  @spec glibc?(String.t()) :: boolean()
  def glibc?(soname), do: soname in @glibc

  @doc """
  Copies every non-glibc library needed by `elfs` (parsed `Elf` structs),
  transitively, into `dest_dir`, except those named in `system_libs` (which
  the target is trusted to provide). Returns `{bundled, unresolved}`:
  `[{soname, source_path}]` and the sonames found nowhere on this machine.
  """
  @spec bundle([Elf.t()], Path.t(), [String.t()]) ::
          {[{String.t(), Path.t()}], [String.t()]}
  def bundle(elfs, dest_dir, system_libs \\ []) do
    cache = ld_cache()
    File.mkdir_p!(dest_dir)
    walk(needed(elfs, system_libs), MapSet.new(), cache, dest_dir, system_libs, [], [])
  end

  defp walk([], _seen, _cache, _dest, _system, bundled, missing),
    do: {Enum.reverse(bundled), Enum.reverse(missing)}

  defp walk([soname | rest], seen, cache, dest, system, bundled, missing) do
    if MapSet.member?(seen, soname) do
      walk(rest, seen, cache, dest, system, bundled, missing)
    else
      seen = MapSet.put(seen, soname)

      case locate(soname, cache) do
        nil ->
          walk(rest, seen, cache, dest, system, bundled, [soname | missing])

        path ->
          target = Path.join(dest, soname)
          File.cp!(path, target)
          File.chmod!(target, 0o644)
          {:ok, elf} = Elf.read(target)
          more = needed([elf], system)
          walk(rest ++ more, seen, cache, dest, system, [{soname, path} | bundled], missing)
      end
    end
  end

  defp needed(elfs, system_libs) do
    for %Elf{needed: needed} <- elfs,
        soname <- needed,
        not glibc?(soname),
        soname not in system_libs,
        uniq: true,
        do: soname
  end

  @doc "The path of `soname` on this machine, or nil."
  @spec locate(String.t(), %{String.t() => Path.t()}) :: Path.t() | nil
  def locate(soname, cache \\ ld_cache()) do
    case Map.fetch(cache, soname) do
      {:ok, path} ->
        path

      :error ->
        Enum.find_value(library_dirs(), fn dir ->
          path = Path.join(dir, soname)
          if File.regular?(path), do: path
        end)
    end
  end

  @doc false
  def ld_cache do
    ldconfig =
      System.find_executable("ldconfig") ||
        Enum.find(["/sbin/ldconfig", "/usr/sbin/ldconfig"], &File.exists?/1)

    with true <- is_binary(ldconfig),
         {out, 0} <- System.cmd(ldconfig, ["-p"], stderr_to_stdout: true) do
      arch = arch_tag()

      for line <- String.split(out, "\n"),
          [_, soname, tags, path] <- [Regex.run(~r/^\s+(\S+) \(([^)]*)\) => (\S+)$/, line)],
          arch == nil or String.contains?(tags, arch),
          reduce: %{} do
        acc -> Map.put_new(acc, soname, path)
      end
    else
      _ -> %{}
    end
  end

  defp arch_tag do
    case machine() do
      "x86_64" -> "x86-64"
      "aarch64" -> "AArch64"
      _ -> nil
    end
  end

  defp library_dirs do
    m = machine()
    ["/lib/#{m}-linux-gnu", "/usr/lib/#{m}-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"]
  end

  defp machine do
    :erlang.system_info(:system_architecture) |> to_string() |> String.split("-") |> hd()
  end
end
