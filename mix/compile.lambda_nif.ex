# The precompiled libraries' index and checks (same folder, also outside lib/).
Code.require_file("precompiled_nif.ex", __DIR__)

defmodule Mix.Tasks.Compile.LambdaNif do
  @shortdoc "Installs the lambda_runtime NIF into priv/native (precompiled, or built)"
  @moduledoc """
  Installs the runtime's NIF as `priv/native/liblambda_runtime_nif.so`. It
  runs as the first compiler of the `:lambda_runtime` project (also when
  that project is a dependency). The copy into `priv/native` is atomic: a
  rename of a finished file.

  ## Precompiled, or built from source

  By default the library comes precompiled from `native/precompiled/`
  (x86_64 and aarch64 Linux, glibc 2.31 or newer; see
  `LambdaRuntime.Tools.PrecompiledNif`): no Rust is needed. It is checked
  against its SHA-256 in `native/precompiled/SHA256SUMS` before it is
  installed, and a file that does not match stops the build with an
  error. When none fits (another OS or CPU, musl, an older glibc, or a
  checkout whose `native/`, `Cargo.toml` or `Cargo.lock` differ from the
  sources the libraries were built from), the `lambda_runtime_nif` crate is
  built with cargo, as it is when the environment asks for it:

      LAMBDA_RUNTIME_BUILD_NIF=1 mix compile

  A source build runs again only when a file under `native/`,
  `Cargo.toml` or `Cargo.lock` is newer than the installed library (or the
  installed library is a precompiled one).

  ## Using a prebuilt library

  Set `LAMBDA_RUNTIME_NIF_PATH` to the path of a built
  `liblambda_runtime_nif.so` (for example one taken from the published layer,
  at `/opt/lib/lambda_runtime-*/priv/native/`) and that file is copied, in
  place of the precompiled one or a build (it is not checked: it is yours).

      LAMBDA_RUNTIME_NIF_PATH=/path/to/liblambda_runtime_nif.so mix compile

  Other environment variables: `CARGO` (the cargo executable, default
  `cargo` from `PATH`) and `CARGO_TARGET_DIR` (cargo's own).
  """
  use Mix.Task.Compiler

  @lib "liblambda_runtime_nif.so"
  @crate "lambda_runtime_nif"
  @env_prebuilt "LAMBDA_RUNTIME_NIF_PATH"
  @env_build "LAMBDA_RUNTIME_BUILD_NIF"

  @impl true
  def run(_args) do
    root = Path.dirname(Mix.Project.project_file())
    dest_dir = Path.join(root, "priv/native")
    dest = Path.join(dest_dir, @lib)
    File.mkdir_p!(dest_dir)
    # A priv/ created after _build was laid out is not linked into it.
    Mix.Project.build_structure()

    cond do
      System.get_env(@env_prebuilt) not in [nil, ""] ->
        use_prebuilt(System.get_env(@env_prebuilt), dest)

      System.get_env(@env_build) not in [nil, "", "0", "false"] ->
        build(root, dest, "#{@env_build} is set")

      true ->
        case LambdaRuntime.Tools.PrecompiledNif.choose(
               root,
               LambdaRuntime.Tools.PrecompiledNif.host()
             ) do
          {:ok, path, sha} -> use_precompiled(path, sha, dest)
          {:unavailable, reason} -> build(root, dest, reason)
          {:error, message} -> Mix.raise("lambda_runtime's precompiled NIFs: " <> message)
        end
    end
  end

  # The installed library is already this one: nothing to do. Otherwise the
  # file is checked against SHA256SUMS first, and never installed unchecked.
  defp use_precompiled(src, sha, dest) do
    if installed_sha(dest) == sha do
      {:noop, []}
    else
      case LambdaRuntime.Tools.PrecompiledNif.verify(src, sha) do
        :ok ->
          install(src, dest)
          Mix.shell().info("Installed precompiled NIF #{Path.basename(src)} (SHA-256 checked)")
          {:ok, []}

        {:error, message} ->
          Mix.raise(message)
      end
    end
  end

  defp installed_sha(dest) do
    case File.read(dest) do
      {:ok, bytes} -> LambdaRuntime.Tools.PrecompiledNif.sha256(bytes)
      {:error, _} -> nil
    end
  end

  defp use_prebuilt(src, dest) do
    unless File.regular?(src) do
      Mix.raise("#{@env_prebuilt} is set to #{inspect(src)}, which is not a file")
    end

    if File.exists?(dest) and File.read!(src) == File.read!(dest) do
      {:noop, []}
    else
      install(src, dest)
      Mix.shell().info("Installed prebuilt NIF #{src}")
      {:ok, []}
    end
  end

  defp build(root, dest, why) do
    if stale?(root, dest) do
      cargo = cargo()

      unless cargo do
        Mix.raise("""
        cargo was not found on PATH, and lambda_runtime needs it to build its NIF: \
        #{why}.
        Install Rust (https://rustup.rs), or set #{@env_prebuilt} to a prebuilt \
        #{@lib} (for example the one in the lambda_runtime layer).
        """)
      end

      Mix.shell().info("Compiling NIF crate #{@crate} (cargo build --release): #{why}")
      args = ["build", "--release", "--locked", "-p", @crate]

      case System.cmd(cargo, args,
             cd: root,
             into: IO.stream(:stdio, :line),
             stderr_to_stdout: true
           ) do
        {_, 0} -> :ok
        {_, status} -> Mix.raise("cargo build of #{@crate} failed (exit status #{status})")
      end

      install(Path.join(target_dir(root), "release/#{@lib}"), dest)
      {:ok, []}
    else
      {:noop, []}
    end
  end

  # $CARGO if it names an executable, else cargo from PATH.
  defp cargo do
    case System.get_env("CARGO") do
      nil -> System.find_executable("cargo")
      "" -> System.find_executable("cargo")
      path -> if File.regular?(path), do: path, else: System.find_executable(path)
    end
  end

  defp target_dir(root) do
    case System.get_env("CARGO_TARGET_DIR") do
      nil -> Path.join(root, "target")
      "" -> Path.join(root, "target")
      dir -> Path.expand(dir, root)
    end
  end

  # A precompiled library in place counts as stale: a source build was asked for.
  defp stale?(root, dest) do
    case File.stat(dest, time: :posix) do
      {:ok, %{mtime: built}} ->
        Enum.any?(sources(root), &(mtime(&1) > built)) or precompiled?(root, dest)

      {:error, _} ->
        true
    end
  end

  defp precompiled?(root, dest) do
    case LambdaRuntime.Tools.PrecompiledNif.read_index(
           LambdaRuntime.Tools.PrecompiledNif.dir(root)
         ) do
      {:ok, %{sums: sums}} -> installed_sha(dest) in Map.values(sums)
      _ -> false
    end
  end

  defp sources(root) do
    Path.wildcard(Path.join(root, "native/**/*.{rs,toml}")) ++
      Enum.map(["Cargo.toml", "Cargo.lock"], &Path.join(root, &1))
  end

  defp mtime(path) do
    case File.stat(path, time: :posix) do
      {:ok, %{mtime: t}} -> t
      {:error, _} -> 0
    end
  end

  # Copy to a temporary name in the same directory, then rename over the
  # destination: a VM that has the old library loaded never sees a half file.
  defp install(src, dest) do
    tmp = dest <> ".tmp#{System.unique_integer([:positive])}"
    File.cp!(src, tmp)
    File.rename!(tmp, dest)
  end
end
