defmodule LambdaRuntime.Tools.PrecompiledNif do
  @moduledoc """
  The runtime's NIF precompiled for Linux, shipped in the package under
  `native/precompiled/`, so that installing lambda_runtime needs no Rust:

      native/precompiled/liblambda_runtime_nif-x86_64-linux-gnu.so
      native/precompiled/liblambda_runtime_nif-aarch64-linux-gnu.so
      native/precompiled/SHA256SUMS   one "HEX  FILE" line per library (sha256sum -c format)
      native/precompiled/BUILD        what they were built from and for (below)

  `BUILD` holds `key value` lines:

      source_sha256 2b9c...   source_hash/1 of the sources they were built from
      glibc 2.31              the oldest glibc they need
      nif_version 2.16        the NIF version they were built for
      rustc 1.95.0            the tools that built them (information only)
      zig 0.17.1

  `choose/2` decides whether one fits a machine: Linux on the same CPU,
  glibc at least `glibc`, a NIF version at least `nif_version`, and a
  checkout whose sources hash to `source_sha256`. The last rule is what
  keeps a stale library out: a developer who changes anything under
  `native/lambda_runtime_nif/`, `Cargo.toml` or `Cargo.lock` gets a
  source build, never the library built from the older sources.
  `verify/2` compares a file with its `SHA256SUMS` line before it is
  installed.

  `write!/3` writes both index files; `scripts/precompile-nif.sh` builds
  the libraries (`cargo zigbuild`) and calls it.

  This file lives in `mix/`, not `lib/`: the `:lambda_nif` compiler uses it
  before the project's own code is compiled.
  """

  @lib "liblambda_runtime_nif"
  @cpus ["x86_64", "aarch64"]

  @type host :: %{cpu: String.t(), glibc: {integer(), integer()} | nil, nif_version: String.t()}

  @doc "The folder of the precompiled libraries in the sources at `root`."
  @spec dir(Path.t()) :: Path.t()
  def dir(root), do: Path.join(root, "native/precompiled")

  @doc "The CPUs libraries are shipped for (GNU names: `x86_64`, `aarch64`)."
  def cpus, do: @cpus

  @doc "The file name of the library for `cpu`."
  @spec file_name(String.t()) :: String.t()
  def file_name(cpu), do: "#{@lib}-#{cpu}-linux-gnu.so"

  @doc """
  The SHA-256 (hex) of the NIF's sources at `root`: every file under
  `native/lambda_runtime_nif/` (dotfiles aside, as a Hex package leaves
  them out), `Cargo.toml` and `Cargo.lock`, by relative path and content.
  """
  @spec source_hash(Path.t()) :: String.t()
  def source_hash(root) do
    files =
      Path.wildcard(Path.join(root, "native/lambda_runtime_nif/**"))
      |> Enum.filter(&File.regular?/1)
      |> Kernel.++(Enum.map(["Cargo.toml", "Cargo.lock"], &Path.join(root, &1)))
      |> Enum.map(&Path.relative_to(&1, root))
      |> Enum.sort()

    files
    |> Enum.map(fn rel ->
      content =
        case File.read(Path.join(root, rel)) do
          {:ok, bytes} -> sha256(bytes)
          {:error, _} -> "missing"
        end

      [rel, 0, content, ?\n]
    end)
    |> sha256()
  end

  @doc "The SHA-256 of `data` (iodata), lower-case hex."
  def sha256(data) do
    ensure_crypto()
    :crypto.hash(:sha256, data) |> Base.encode16(case: :lower)
  end

  # Elixir 1.15+ takes OTP applications a Mix project does not depend on
  # off the code path; :crypto is one of them.
  defp ensure_crypto do
    if function_exported?(Mix, :ensure_application!, 1),
      do: apply(Mix, :ensure_application!, [:crypto]),
      else: :ok
  end

  @doc """
  This machine as `choose/2` sees it: the CPU (from the VM's system
  architecture), the glibc version (`getconf GNU_LIBC_VERSION`; nil on a
  system without glibc, or not Linux) and the VM's NIF version.
  """
  @spec host() :: host()
  def host do
    arch = to_string(:erlang.system_info(:system_architecture))
    [cpu | _] = String.split(arch, "-")
    linux_gnu? = String.contains?(arch, "linux") and not String.contains?(arch, "musl")

    %{
      cpu: cpu,
      glibc: if(linux_gnu?, do: glibc_version()),
      nif_version: to_string(:erlang.system_info(:nif_version))
    }
  end

  defp glibc_version do
    case System.find_executable("getconf") do
      nil ->
        nil

      getconf ->
        case System.cmd(getconf, ["GNU_LIBC_VERSION"], stderr_to_stdout: true) do
          {"glibc " <> version, 0} -> parse_version(String.trim(version))
          _ -> nil
        end
    end
  end

  @doc """
  Which precompiled library, if any, to install on `host` from the
  sources at `root`:

    * `{:ok, path, sha256}` - it fits; install it after `verify/2`
    * `{:unavailable, reason}` - none fits (or none is shipped); build
      from source. `reason` is a sentence.
    * `{:error, message}` - the index files are there but damaged
  """
  @spec choose(Path.t(), host()) ::
          {:ok, Path.t(), String.t()} | {:unavailable, String.t()} | {:error, String.t()}
  def choose(root, host) do
    dir = dir(root)

    with {:ok, index} <- read_index(dir),
         :ok <- fits_host(index, host),
         :ok <- fits_sources(index, root) do
      name = file_name(host.cpu)

      case Map.fetch(index.sums, name) do
        {:ok, sha} -> {:ok, Path.join(dir, name), sha}
        :error -> {:unavailable, "no precompiled NIF is shipped for #{host.cpu} Linux"}
      end
    end
  end

  @doc """
  The precompiled library for a layer's target (`cpu` `"x86_64"` or
  `"aarch64"`, `glibc` the oldest the layer targets, e.g. `{2, 31}`), for
  a layer builder that would otherwise compile the NIF: `{:ok, path}` when
  one was built from the sources at `root` for that glibc or an older one
  and matches its SHA-256, else `{:unavailable, reason}` (build it), or
  `{:error, message}` (a library that fails its checksum).
  """
  @spec for_target(Path.t(), String.t(), {integer(), integer()}) ::
          {:ok, Path.t()} | {:unavailable, String.t()} | {:error, String.t()}
  def for_target(root, cpu, glibc) do
    nif_version = to_string(:erlang.system_info(:nif_version))

    with {:ok, path, sha} <- choose(root, %{cpu: cpu, glibc: glibc, nif_version: nif_version}),
         :ok <- verify(path, sha) do
      {:ok, path}
    end
  end

  @doc """
  Reads `SHA256SUMS` and `BUILD` in `dir`: `{:ok, %{sums: %{file => sha},
  build: %{key => value}}}`, `{:unavailable, reason}` when the folder or
  its index is absent, `{:error, message}` when a line is malformed.
  """
  def read_index(dir) do
    sums_path = Path.join(dir, "SHA256SUMS")
    build_path = Path.join(dir, "BUILD")

    with {:ok, sums_text} <- read_or_unavailable(sums_path),
         {:ok, build_text} <- read_or_unavailable(build_path),
         {:ok, sums} <- parse_sums(sums_text, sums_path),
         {:ok, build} <- parse_build(build_text, build_path) do
      {:ok, %{sums: sums, build: build}}
    end
  end

  defp read_or_unavailable(path) do
    case File.read(path) do
      {:ok, text} -> {:ok, text}
      {:error, :enoent} -> {:unavailable, "no precompiled NIF is shipped (#{path} is absent)"}
      {:error, reason} -> {:error, "cannot read #{path}: #{:file.format_error(reason)}"}
    end
  end

  defp parse_sums(text, path) do
    text
    |> lines()
    |> Enum.reduce_while({:ok, %{}}, fn line, {:ok, acc} ->
      case Regex.run(~r/^([0-9a-f]{64}) [ *]([\w.-]+)$/, line) do
        [_, sha, file] -> {:cont, {:ok, Map.put(acc, file, sha)}}
        nil -> {:halt, {:error, "#{path}: malformed line #{inspect(line)}"}}
      end
    end)
  end

  defp parse_build(text, path) do
    build =
      for line <- lines(text), into: %{} do
        case String.split(line, " ", parts: 2) do
          [key, value] -> {key, String.trim(value)}
          [key] -> {key, ""}
        end
      end

    case Enum.reject(["source_sha256", "glibc", "nif_version"], &Map.has_key?(build, &1)) do
      [] -> {:ok, build}
      missing -> {:error, "#{path} lacks #{Enum.join(missing, ", ")}"}
    end
  end

  defp lines(text) do
    text
    |> String.split("\n")
    |> Enum.map(&String.trim/1)
    |> Enum.reject(&(&1 == "" or String.starts_with?(&1, "#")))
  end

  defp fits_host(index, host) do
    needs_glibc = parse_version(index.build["glibc"])

    cond do
      host.cpu not in @cpus ->
        {:unavailable, "no precompiled NIF is shipped for the #{host.cpu} CPU"}

      host.glibc == nil ->
        {:unavailable, "the precompiled NIFs need Linux with glibc, and this system has none"}

      needs_glibc != nil and host.glibc < needs_glibc ->
        {:unavailable,
         "the precompiled NIFs need glibc #{index.build["glibc"]} or newer, " <>
           "this system has #{format_version(host.glibc)}"}

      parse_version(host.nif_version) < parse_version(index.build["nif_version"]) ->
        {:unavailable,
         "the precompiled NIFs need NIF version #{index.build["nif_version"]} " <>
           "(Erlang/OTP 25 or newer), this VM has #{host.nif_version}"}

      true ->
        :ok
    end
  end

  defp fits_sources(index, root) do
    recorded = index.build["source_sha256"]

    case source_hash(root) do
      ^recorded ->
        :ok

      current ->
        {:unavailable,
         "the precompiled NIFs were built from other sources than this checkout's " <>
           "native/lambda_runtime_nif, Cargo.toml and Cargo.lock (source hash " <>
           "#{String.slice(recorded, 0, 12)}, this checkout #{String.slice(current, 0, 12)})"}
    end
  end

  @doc """
  Checks `path` against its expected SHA-256: `:ok`, or `{:error, message}`
  naming the file, both hashes and the way out.
  """
  @spec verify(Path.t(), String.t()) :: :ok | {:error, String.t()}
  def verify(path, expected) do
    case File.read(path) do
      {:ok, bytes} ->
        case sha256(bytes) do
          ^expected ->
            :ok

          actual ->
            {:error,
             """
             the precompiled NIF #{path} does not match its SHA-256 in SHA256SUMS \
             (expected #{expected}, the file has #{actual}): it was changed or damaged \
             after it was published, and is not installed. Fetch lambda_runtime again \
             (mix deps.clean lambda_runtime && mix deps.get), or build the NIF from \
             source with LAMBDA_RUNTIME_BUILD_NIF=1 (needs Rust).\
             """}
        end

      {:error, reason} ->
        {:error, "cannot read the precompiled NIF #{path}: #{:file.format_error(reason)}"}
    end
  end

  @doc """
  Writes `SHA256SUMS` and `BUILD` into `dir` for the libraries there:
  `build` is a keyword list of the `BUILD` values besides `source_sha256`
  (`glibc`, `nif_version`, `rustc`, `zig`); the source hash is computed
  from `root`.
  """
  def write!(dir, root, build) do
    sums =
      for cpu <- @cpus,
          path = Path.join(dir, file_name(cpu)),
          File.regular?(path),
          do: "#{sha256(File.read!(path))}  #{file_name(cpu)}\n"

    if sums == [], do: raise(ArgumentError, "no precompiled NIF in #{dir}")

    header =
      "# What the libraries here were built from and for; written by " <>
        "scripts/precompile-nif.sh, read by mix/compile.lambda_nif.ex.\n"

    values = [{:source_sha256, source_hash(root)} | build]
    File.write!(Path.join(dir, "SHA256SUMS"), sums)

    File.write!(Path.join(dir, "BUILD"), [
      header | Enum.map(values, fn {k, v} -> "#{k} #{v}\n" end)
    ])

    :ok
  end

  defp parse_version(nil), do: nil

  defp parse_version(text) do
    case Regex.run(~r/^(\d+)\.(\d+)/, text) do
      [_, major, minor] -> {String.to_integer(major), String.to_integer(minor)}
      nil -> nil
    end
  end

  defp format_version({major, minor}), do: "#{major}.#{minor}"
end
