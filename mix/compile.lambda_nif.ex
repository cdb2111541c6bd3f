defmodule Mix.Tasks.Compile.LambdaNif do
  @shortdoc "Builds the lambda_runtime Rust NIF into priv/native"
  @moduledoc """
  Builds the `lambda_runtime_nif` Rust crate with cargo and installs the
  shared library as `priv/native/liblambda_runtime_nif.so`.

  It runs as the first compiler of the `:lambda_runtime` project (also when
  that project is a dependency), and rebuilds only when a file under
  `native/`, `Cargo.toml` or `Cargo.lock` is newer than the installed library.
  The copy into `priv/native` is atomic: a rename of a finished file.

  ## Using a prebuilt library

  Set `LAMBDA_RUNTIME_NIF_PATH` to the path of a built
  `liblambda_runtime_nif.so` (for example one taken from the published layer,
  at `/opt/lib/lambda_runtime-*/priv/native/`) and no Rust toolchain is
  needed: the file is copied instead of built.

      LAMBDA_RUNTIME_NIF_PATH=/path/to/liblambda_runtime_nif.so mix compile

  Other environment variables: `CARGO` (the cargo executable, default
  `cargo` from `PATH`) and `CARGO_TARGET_DIR` (cargo's own).
  """
  use Mix.Task.Compiler

  @lib "liblambda_runtime_nif.so"
  @crate "lambda_runtime_nif"
  @env_prebuilt "LAMBDA_RUNTIME_NIF_PATH"

  @impl true
  def run(_args) do
    root = Path.dirname(Mix.Project.project_file())
    dest_dir = Path.join(root, "priv/native")
    dest = Path.join(dest_dir, @lib)
    File.mkdir_p!(dest_dir)
    # A priv/ created after _build was laid out is not linked into it.
    Mix.Project.build_structure()

    case System.get_env(@env_prebuilt) do
      nil -> build(root, dest)
      "" -> build(root, dest)
      prebuilt -> use_prebuilt(prebuilt, dest)
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

  defp build(root, dest) do
    if stale?(root, dest) do
      cargo = cargo()

      unless cargo do
        Mix.raise("""
        cargo was not found on PATH, and lambda_runtime needs it to build its NIF.
        Install Rust (https://rustup.rs), or set #{@env_prebuilt} to a prebuilt \
        #{@lib} (for example the one in the lambda_runtime layer).
        """)
      end

      Mix.shell().info("Compiling NIF crate #{@crate} (cargo build --release)")
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

  defp stale?(root, dest) do
    case File.stat(dest, time: :posix) do
      {:ok, %{mtime: built}} -> Enum.any?(sources(root), &(mtime(&1) > built))
      {:error, _} -> true
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
