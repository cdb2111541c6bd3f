defmodule LambdaRuntime.Tools.Deploy.LayerPublisher do
  @moduledoc """
  Publishes the runtime layer zip as a new layer version, unless the latest
  version already holds the same zip: the zip's SHA-256 is written into
  the version's Description, and ListLayerVersions is read first.

  The zip's manifest is checked first (`LambdaRuntime.Tools.Layer.Manifest.check_deployable/2`):
  a layer without one, for another architecture, or forced past the
  target's limits is refused before any request. In a dry run the zip may
  be `:unbuilt` (a placeholder in the printed requests).
  """

  alias LambdaRuntime.AWS.{Error, SigV4}
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.Connection
  alias LambdaRuntime.Tools.Layer.Manifest

  @type result :: %{arn: String.t(), version: integer() | nil, published: boolean()}

  @doc """
  Publishes `zip` (the bytes) as layer `name` for `architecture`, after
  checking its manifest.
  """
  @spec publish(Connection.t(), String.t(), binary() | :unbuilt, String.t()) ::
          {:ok, result()} | {:error, Error.t()}
  def publish(conn, name, zip, architecture) do
    with :ok <- check_manifest(conn, zip, architecture),
         do: plan_or_publish(conn, name, zip, architecture)
  end

  defp check_manifest(%Connection{dry_run: true}, :unbuilt, _architecture), do: :ok

  defp check_manifest(_conn, zip, architecture) when is_binary(zip) do
    case Manifest.check_deployable(Manifest.read_zip_binary(zip, "the layer zip"), architecture) do
      :ok -> :ok
      {:error, message} -> {:error, Error.new("LayerRefused", message)}
    end
  end

  defp plan_or_publish(%Connection{dry_run: true} = conn, name, zip, architecture) do
    Connection.plan(conn, Lambda.list_layer_versions(name))

    condition =
      if zip == :unbuilt,
        do: "unless the latest version holds the same zip",
        else: "unless the latest version has sha256 #{SigV4.hex_sha256(zip)}"

    Connection.plan(
      conn,
      Lambda.publish_layer_version(name, zip, architecture, description(zip, architecture)),
      condition
    )

    {:ok, %{arn: "<new version of layer #{name}>", version: nil, published: false}}
  end

  defp plan_or_publish(%Connection{} = conn, name, zip, architecture) do
    sha = SigV4.hex_sha256(zip)

    with {:ok, _, listing} <- Connection.call(conn, Lambda.list_layer_versions(name)) do
      case latest(listing) do
        %{"Description" => description} = latest when is_binary(description) ->
          if String.contains?(description, "sha256:#{sha}") and
               architecture in (latest["CompatibleArchitectures"] || [architecture]) do
            Mix.shell().info(
              "Layer #{name} version #{latest["Version"]} already holds this zip " <>
                "(sha256 #{sha}); not publishing a new version"
            )

            {:ok, %{arn: latest["LayerVersionArn"], version: latest["Version"], published: false}}
          else
            upload(conn, name, zip, architecture)
          end

        _ ->
          upload(conn, name, zip, architecture)
      end
    end
  end

  @doc "The Description a published version gets: it records the zip's SHA-256."
  @spec description(binary() | :unbuilt, String.t()) :: String.t()
  def description(zip, architecture) do
    sha = if zip == :unbuilt, do: "<of the built zip>", else: SigV4.hex_sha256(zip)
    "Elixir lambda_runtime for #{Lambda.runtime()} (#{architecture}) sha256:#{sha}"
  end

  defp upload(conn, name, zip, architecture) do
    request =
      Lambda.publish_layer_version(name, zip, architecture, description(zip, architecture))

    with {:ok, _, body} <- Connection.call(conn, request) do
      arn = body["LayerVersionArn"]
      Mix.shell().info("Published layer version #{arn} (#{byte_size(zip)} bytes)")
      {:ok, %{arn: arn, version: body["Version"], published: true}}
    end
  end

  defp latest(%{"LayerVersions" => [_ | _] = versions}),
    do: Enum.max_by(versions, &(&1["Version"] || 0))

  defp latest(_), do: nil
end
