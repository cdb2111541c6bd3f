defmodule LambdaRuntime.TestSupport.LayerZips do
  @moduledoc """
  Layer zips for the deploy tests: a `bootstrap` and, unless told
  otherwise, a `lambda_runtime-layer.json` manifest for an architecture.
  Also two stand-in build tasks (`mix lambda.deploy_test_layer`,
  `mix lambda.deploy_test_package`) that write such zips where `--output`
  says and report their arguments to the calling process.
  """

  alias LambdaRuntime.Tools.Layer.Manifest

  @doc "The manifest fields of a normal zig-built layer for `architecture`."
  def manifest_fields(architecture) do
    %{
      architecture: architecture,
      glibc: "2.31",
      needs: %{"GLIBC" => "2.29"},
      otp: "25.2.3",
      erts: "13.1.5",
      elixir: "1.14.0",
      runtime: "0.1.0",
      erts_build: "zig",
      flavor: "jit",
      libcrypto: "system",
      zig: "0.17.1"
    }
  end

  @doc """
  Writes a layer zip to `path`; returns its bytes. Options: `:manifest`
  (`false` for none, or fields merged over `manifest_fields/1`),
  `:bootstrap` (its text).
  """
  def write!(path, architecture, opts \\ []) do
    bootstrap = {~c"bootstrap", Keyword.get(opts, :bootstrap, "#!/bin/sh\necho layer\n")}

    entries =
      case Keyword.get(opts, :manifest, %{}) do
        false ->
          [bootstrap]

        fields ->
          json =
            architecture
            |> manifest_fields()
            |> Map.merge(fields)
            |> Manifest.new()
            |> Manifest.encode()

          [bootstrap, {String.to_charlist(Manifest.file_name()), json}]
      end

    {:ok, {_, bytes}} = :zip.create(~c"layer.zip", entries, [:memory])
    File.mkdir_p!(Path.dirname(path))
    File.write!(path, bytes)
    bytes
  end
end

defmodule Mix.Tasks.Lambda.DeployTestLayer do
  @moduledoc false
  # Stands in for mix lambda.layer: writes a layer zip with a manifest for
  # --arch (default x86_64) and reports its arguments.
  use Mix.Task

  @impl true
  def run(args) do
    {opts, _, _} = OptionParser.parse(args, strict: [output: :string, arch: :string])
    send(self(), {:layer_build_args, args})
    LambdaRuntime.TestSupport.LayerZips.write!(opts[:output], opts[:arch] || "x86_64")
    :ok
  end
end

defmodule Mix.Tasks.Lambda.DeployTestPackage do
  @moduledoc false
  # Stands in for mix lambda.package: writes a function zip and reports its arguments.
  use Mix.Task

  @impl true
  def run(args) do
    {opts, _, _} = OptionParser.parse(args, strict: [output: :string, layer: :string])
    send(self(), {:package_build_args, args})
    LambdaRuntime.TestSupport.Moto.handler_zip!(opts[:output])
    :ok
  end
end
