defmodule LambdaRuntime.Tools.Emulator.LayerSetup do
  @moduledoc """
  What `mix lambda.invoke --layer` runs in the sandbox: the layer and the
  function package as directories (a zip is unpacked into a scratch
  directory, a directory is used as it is; either is built by the given
  function when not given), the layer's architecture, and the root
  filesystem; checked with `LambdaRuntime.Tools.Emulator.Sandbox.check/1` before
  anything runs.

      {:ok, setup} = LayerSetup.prepare(layer: "dist/layer.zip", package: "dist/fn.zip",
                                         rootfs: root, build_layer: ..., build_package: ...)
      LocalRuntime.start(emu, sandbox: LayerSetup.sandbox(setup), handler: ...)
      File.rm_rf(setup.scratch)
  """

  alias LambdaRuntime.Tools.Emulator.Sandbox

  defstruct [:layer_dir, :task_dir, :scratch, :rootfs, :arch]

  @type t :: %__MODULE__{
          layer_dir: Path.t(),
          task_dir: Path.t(),
          scratch: Path.t(),
          rootfs: Path.t() | nil,
          arch: Sandbox.arch()
        }

  # The layer's manifest, at the root of the zip (/opt in the sandbox).
  @manifest "lambda_runtime-layer.json"
  @arches %{"x86_64" => :x86_64, "arm64" => :arm64}

  @doc """
  Unpacks (or builds) the layer and the package and checks the sandbox.

  Options: `:layer` and `:package` (a zip or a directory, or nil to build
  one), `:rootfs` (a root filesystem directory, or nil for this machine's),
  `:arch` (`"x86_64"` or `"arm64"`, or nil: see `layer_arch/2`),
  `:build_layer` (a function of the zip path to write) and
  `:build_package` (a function of the zip path to write and the layer zip,
  or nil when the layer is a directory). On error the scratch directory is
  removed and `{:error, sentence}` returned (what the build functions
  raise is raised).
  """
  @spec prepare(keyword()) :: {:ok, t()} | {:error, String.t()}
  def prepare(opts) do
    with :ok <- precheck(opts),
         {:ok, requested} <- parse_arch(opts[:arch]) do
      scratch =
        Path.join(System.tmp_dir!(), "lambda_invoke_#{System.unique_integer([:positive])}")

      File.mkdir_p!(scratch)

      try do
        unpack(opts, requested, scratch)
      rescue
        error in [ArgumentError, File.Error] ->
          File.rm_rf(scratch)
          {:error, Exception.message(error)}

        error ->
          File.rm_rf(scratch)
          reraise error, __STACKTRACE__
      else
        {:error, _} = error ->
          File.rm_rf(scratch)
          error

        ok ->
          ok
      end
    end
  end

  @doc "The `:sandbox` option of `LambdaRuntime.Tools.Emulator.LocalRuntime.start/2`."
  @spec sandbox(t()) :: {Path.t(), Path.t(), keyword()}
  def sandbox(%__MODULE__{} = setup),
    do: {setup.layer_dir, setup.task_dir, rootfs: setup.rootfs, arch: setup.arch}

  @doc """
  The architecture of the layer unpacked in `layer_dir`: the `architecture`
  of its manifest (`#{@manifest}`) when it has one, else `requested`
  (`--arch`), else this machine's. A manifest that disagrees with
  `requested` is an error.
  """
  @spec layer_arch(Path.t(), Sandbox.arch() | nil) :: {:ok, Sandbox.arch()} | {:error, String.t()}
  def layer_arch(layer_dir, requested) do
    case read_manifest_arch(Path.join(layer_dir, @manifest)) do
      nil ->
        {:ok, requested || Sandbox.host_arch()}

      {:error, _} = error ->
        error

      {:ok, arch} when requested in [nil, arch] ->
        {:ok, arch}

      {:ok, arch} ->
        {:error, "the layer is built for #{arch} (its #{@manifest}), not #{requested} (--arch)"}
    end
  end

  @doc "This machine's glibc version (`getconf GNU_LIBC_VERSION`), e.g. `\"2.36\"`."
  @spec host_glibc() :: {:ok, String.t()} | :error
  def host_glibc do
    case System.cmd("getconf", ["GNU_LIBC_VERSION"], stderr_to_stdout: true) do
      {"glibc " <> version, 0} -> {:ok, String.trim(version)}
      _ -> :error
    end
  end

  defp precheck(opts) do
    rootfs = opts[:rootfs]

    cond do
      Sandbox.bwrap() == nil ->
        {:error, "--layer needs bubblewrap (bwrap): apt-get install bubblewrap"}

      rootfs && not File.dir?(rootfs) ->
        {:error,
         "the root filesystem #{rootfs} does not exist; scripts/rootfs.sh amd64|arm64 builds one"}

      true ->
        :ok
    end
  end

  defp parse_arch(nil), do: {:ok, nil}

  defp parse_arch(name) do
    case Map.fetch(@arches, name) do
      {:ok, arch} -> {:ok, arch}
      :error -> {:error, "--arch takes x86_64 or arm64, got #{inspect(name)}"}
    end
  end

  defp unpack(opts, requested, scratch) do
    {layer_dir, layer_zip} =
      get_dir(opts[:layer], Path.join(scratch, "layer.zip"), Path.join(scratch, "opt"), fn zip ->
        opts[:build_layer].(zip)
      end)

    rootfs = opts[:rootfs] && Path.expand(opts[:rootfs])

    with {:ok, arch} <- layer_arch(layer_dir, requested),
         :ok <- Sandbox.check(rootfs: rootfs, arch: arch) do
      {task_dir, _} =
        get_dir(
          opts[:package],
          Path.join(scratch, "function.zip"),
          Path.join(scratch, "task"),
          &opts[:build_package].(&1, layer_zip)
        )

      {:ok,
       %__MODULE__{
         layer_dir: layer_dir,
         task_dir: task_dir,
         scratch: scratch,
         rootfs: rootfs,
         arch: arch
       }}
    end
  end

  # {directory, zip or nil}: a given directory as it is, a given zip
  # unpacked, or a zip built at `build_to` then unpacked.
  defp get_dir(nil, build_to, dest, build) do
    build.(build_to)
    {unzip!(build_to, dest), build_to}
  end

  defp get_dir(path, _build_to, dest, _build) do
    cond do
      File.dir?(path) -> {Path.expand(path), nil}
      File.exists?(path) -> {unzip!(path, dest), path}
      true -> raise ArgumentError, "#{path} does not exist"
    end
  end

  defp unzip!(zip, dest) do
    unzip = System.find_executable("unzip") || raise ArgumentError, "--layer needs unzip"

    case System.cmd(unzip, ["-q", "-o", zip, "-d", dest], stderr_to_stdout: true) do
      {_, 0} -> dest
      {output, _} -> raise ArgumentError, "cannot unzip #{zip}: #{output}"
    end
  end

  defp read_manifest_arch(path) do
    with {:ok, text} <- File.read(path) do
      case LambdaRuntime.JSON.decode(text) do
        {:ok, %{"architecture" => name}} ->
          with {:error, _} <- parse_arch(name),
               do: {:error, "#{path}: unknown architecture #{inspect(name)}"}

        _ ->
          {:error, "#{path} is not a layer manifest (no \"architecture\")"}
      end
    else
      {:error, _} -> nil
    end
  end
end
