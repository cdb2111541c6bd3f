defmodule LambdaRuntime.Deploy.LayerPublisher do
  @moduledoc """
  Publishes the runtime layer zip as a new layer version, unless the latest
  version already holds the same zip: the zip's SHA-256 is written into
  the version's Description, and ListLayerVersions is read first.
  """

  alias LambdaRuntime.AWS.{Lambda, SigV4}
  alias LambdaRuntime.Deploy.Connection

  @type result :: %{arn: String.t(), version: integer() | nil, published: boolean()}

  @doc "Publishes `zip` (the bytes) as layer `name` for `architecture`."
  @spec publish(Connection.t(), String.t(), binary(), String.t()) ::
          {:ok, result()} | {:error, LambdaRuntime.AWS.Error.t()}
  def publish(%Connection{dry_run: true} = conn, name, zip, architecture) do
    Connection.plan(conn, Lambda.list_layer_versions(name))

    Connection.plan(
      conn,
      Lambda.publish_layer_version(name, zip, architecture, description(zip, architecture)),
      "unless the latest version has sha256 #{SigV4.hex_sha256(zip)}"
    )

    {:ok, %{arn: "<new version of layer #{name}>", version: nil, published: false}}
  end

  def publish(%Connection{} = conn, name, zip, architecture) do
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
            do_publish(conn, name, zip, architecture)
          end

        _ ->
          do_publish(conn, name, zip, architecture)
      end
    end
  end

  @doc "The Description a published version gets: it records the zip's SHA-256."
  @spec description(binary(), String.t()) :: String.t()
  def description(zip, architecture) do
    "Elixir lambda_runtime for #{Lambda.runtime()} (#{architecture}) sha256:#{SigV4.hex_sha256(zip)}"
  end

  defp do_publish(conn, name, zip, architecture) do
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
