defmodule LambdaRuntime.Tools.Deploy.RuntimeLayer do
  @moduledoc """
  The runtime layer zip a deploy or `mix lambda.layer.publish` uploads:
  the one the user names, or the one the build task (`mix lambda.layer`)
  writes. Its manifest (`LambdaRuntime.Tools.Layer.Manifest`) is read and
  checked before anything is uploaded, and settles the architecture:

    * no architecture asked for: the layer's;
    * one asked for (`--architecture`, `lambda: [architecture: ...]`)
      that differs from the layer's: refused, both named;
    * no manifest, another target, or a layer forced past the target's
      limits: refused, with the fix.

  A dry run builds nothing: without a named zip the layer is `:unbuilt`
  (the requests show a placeholder) and the architecture is the one asked
  for, else `"x86_64"`, the build task's default.
  """

  alias LambdaRuntime.Tools.Deploy.Artifacts
  alias LambdaRuntime.Tools.Layer.Manifest

  defstruct [:path, :zip, :manifest, :architecture, :build_command]

  @type t :: %__MODULE__{
          path: Path.t() | nil,
          zip: binary() | :unbuilt,
          manifest: Manifest.t() | nil,
          architecture: String.t(),
          build_command: String.t()
        }

  @default_arch "x86_64"

  @doc """
  Finds, builds or (dry run) skips the layer zip and checks it. `path` is
  the zip the user named (or nil); `architecture` the one asked for (or
  nil). Options: `:dry_run`, `:task` (default `"lambda.layer"`, run with
  `--output` and, when an architecture was asked for, `--arch`), `:output`
  (where the task writes, default `_build/lambda/layer.zip`), `:flag` (the
  option that names a zip, for messages).
  """
  @spec fetch(Path.t() | nil, String.t() | nil, keyword()) :: {:ok, t()} | {:error, String.t()}
  def fetch(path, architecture, opts \\ []) do
    task = Keyword.get(opts, :task, "lambda.layer")
    arch_args = if architecture, do: ["--arch", architecture], else: []
    command = Enum.join(["mix", task | arch_args], " ")

    flag = Keyword.get(opts, :flag, "--layer-zip")

    cond do
      path != nil ->
        with {:ok, path, zip} <- Artifacts.fetch(path, task, flag),
             do: check(path, zip, architecture, command)

      Keyword.get(opts, :dry_run, false) ->
        {:ok,
         %__MODULE__{
           zip: :unbuilt,
           architecture: architecture || @default_arch,
           build_command: command
         }}

      true ->
        output =
          Keyword.get_lazy(opts, :output, fn -> Artifacts.default_output("lambda.layer") end)

        with {:ok, path, zip} <- Artifacts.fetch(nil, task, flag, arch_args, output),
             do: check(path, zip, architecture, command)
    end
  end

  @doc """
  Checks the zip `bytes` (read from `path`) against the architecture asked
  for (nil: take the layer's).
  """
  @spec check(Path.t(), binary(), String.t() | nil, String.t()) ::
          {:ok, t()} | {:error, String.t()}
  def check(path, bytes, architecture, command \\ "mix lambda.layer") do
    read = Manifest.read_zip_binary(bytes, path)

    arch =
      case read do
        {:ok, manifest} -> architecture || manifest.architecture
        {:error, _} -> architecture || @default_arch
      end

    with :ok <- Manifest.check_deployable(read, arch) do
      {:ok, manifest} = read

      {:ok,
       %__MODULE__{
         path: path,
         zip: bytes,
         manifest: manifest,
         architecture: arch,
         build_command: command
       }}
    end
  end

  @doc "The dry-run note for a layer that was not built, or nil."
  @spec dry_run_note(t()) :: String.t() | nil
  def dry_run_note(%__MODULE__{zip: :unbuilt} = layer) do
    "the runtime layer zip is not built in a dry run: a deploy builds it with " <>
      "`#{layer.build_command}` and refuses it unless its manifest says " <>
      "#{layer.architecture} and #{LambdaRuntime.Tools.AWS.Lambda.runtime()}"
  end

  def dry_run_note(%__MODULE__{}), do: nil
end
