defmodule LambdaRuntime.Tools.AWS.Lambda do
  @moduledoc """
  The AWS Lambda API calls the deploy tasks make, as
  `LambdaRuntime.AWS.Request`s (send them with `LambdaRuntime.AWS.ServiceClient`).

  Every request carries a summary for `--dry-run` output: names, sizes and
  the SHA-256 of zips, the keys (not the values) of environment variables.
  A zip is its bytes, or `:unbuilt` in a dry run that builds nothing: the
  request then shows a placeholder and must not be sent.
  """

  alias LambdaRuntime.AWS.{Request, SigV4}

  @functions "/2015-03-31/functions"
  @layers "/2018-10-31/layers"
  @runtime "provided.al2023"

  @doc "The runtime every function and layer is made for."
  def runtime, do: @runtime

  @doc "GetFunction: 200 when the function exists, 404 when it does not."
  @spec get_function(String.t()) :: Request.t()
  def get_function(name),
    do: %Request{operation: "GetFunction", method: "GET", path: function_path(name)}

  @doc "GetFunctionConfiguration: state and last update status."
  @spec get_function_configuration(String.t()) :: Request.t()
  def get_function_configuration(name) do
    %Request{
      operation: "GetFunctionConfiguration",
      method: "GET",
      path: function_path(name) <> "/configuration"
    }
  end

  @doc """
  CreateFunction. `config` has `:function_name`, `:handler`, `:role`,
  `:memory_size`, `:timeout`, `:architecture`, `:environment`,
  `:description` and `:layers` (the full list, runtime layer first).
  """
  @spec create_function(map(), binary() | :unbuilt) :: Request.t()
  def create_function(config, zip) do
    body =
      config
      |> configuration_body()
      |> Map.merge(%{
        "FunctionName" => config.function_name,
        "Code" => %{"ZipFile" => zip_file(zip)},
        "Architectures" => [config.architecture],
        "PackageType" => "Zip"
      })
      |> Map.merge(durable_body(Map.get(config, :durable)))

    %Request{
      operation: "CreateFunction",
      method: "POST",
      path: @functions,
      body: body,
      summary:
        configuration_summary(config, "<none: CreateFunction needs a role>") <>
          ", " <> zip_summary(zip)
    }
  end

  @doc "UpdateFunctionCode with a new zip."
  @spec update_function_code(String.t(), binary() | :unbuilt, String.t()) :: Request.t()
  def update_function_code(name, zip, architecture) do
    %Request{
      operation: "UpdateFunctionCode",
      method: "PUT",
      path: function_path(name) <> "/code",
      body: %{"ZipFile" => zip_file(zip), "Architectures" => [architecture]},
      summary: "Architectures=#{architecture}, " <> zip_summary(zip)
    }
  end

  @doc "UpdateFunctionConfiguration with the same keys as `create_function/2`."
  @spec update_function_configuration(map()) :: Request.t()
  def update_function_configuration(config) do
    # A durable function's timeout and retention can change; durable
    # execution itself is only enabled at creation (Deploy.Preflight).
    body = Map.merge(configuration_body(config), durable_body(Map.get(config, :durable)))
    body = if config.role, do: body, else: Map.delete(body, "Role")

    %Request{
      operation: "UpdateFunctionConfiguration",
      method: "PUT",
      path: function_path(config.function_name) <> "/configuration",
      body: body,
      summary: configuration_summary(config)
    }
  end

  @doc "PublishVersion of the code with the given SHA-256 (base64, as Lambda reports it)."
  @spec publish_version(String.t(), String.t() | nil) :: Request.t()
  def publish_version(name, code_sha256) do
    body = if code_sha256, do: %{"CodeSha256" => code_sha256}, else: %{}

    %Request{
      operation: "PublishVersion",
      method: "POST",
      path: function_path(name) <> "/versions",
      body: body,
      summary: if(code_sha256, do: "CodeSha256=#{code_sha256}")
    }
  end

  @doc "GetAlias: 200 when the alias exists, 404 when it does not."
  @spec get_alias(String.t(), String.t()) :: Request.t()
  def get_alias(name, alias_name) do
    %Request{operation: "GetAlias", method: "GET", path: alias_path(name, alias_name)}
  end

  @doc "CreateAlias pointing at `version`."
  @spec create_alias(String.t(), String.t(), String.t()) :: Request.t()
  def create_alias(name, alias_name, version) do
    %Request{
      operation: "CreateAlias",
      method: "POST",
      path: function_path(name) <> "/aliases",
      body: %{"Name" => alias_name, "FunctionVersion" => version},
      summary: "Name=#{alias_name}, FunctionVersion=#{version}"
    }
  end

  @doc "UpdateAlias to point at `version`."
  @spec update_alias(String.t(), String.t(), String.t()) :: Request.t()
  def update_alias(name, alias_name, version) do
    %Request{
      operation: "UpdateAlias",
      method: "PUT",
      path: alias_path(name, alias_name),
      body: %{"FunctionVersion" => version},
      summary: "FunctionVersion=#{version}"
    }
  end

  @doc "ListLayerVersions of a layer (newest first on AWS)."
  @spec list_layer_versions(String.t()) :: Request.t()
  def list_layer_versions(layer_name) do
    %Request{
      operation: "ListLayerVersions",
      method: "GET",
      path: "#{@layers}/#{Request.segment(layer_name)}/versions",
      query: "MaxItems=50"
    }
  end

  @doc "PublishLayerVersion of a zip for `provided.al2023` and one architecture."
  @spec publish_layer_version(String.t(), binary() | :unbuilt, String.t(), String.t()) ::
          Request.t()
  def publish_layer_version(layer_name, zip, architecture, description) do
    %Request{
      operation: "PublishLayerVersion",
      method: "POST",
      path: "#{@layers}/#{Request.segment(layer_name)}/versions",
      body: %{
        "Content" => %{"ZipFile" => zip_file(zip)},
        "CompatibleRuntimes" => [@runtime],
        "CompatibleArchitectures" => [architecture],
        "Description" => description
      },
      summary:
        "CompatibleRuntimes=#{@runtime}, CompatibleArchitectures=#{architecture}, " <>
          "Description=#{inspect(description)}, " <> zip_summary(zip)
    }
  end

  defp configuration_body(config) do
    %{
      "Runtime" => @runtime,
      "Handler" => config.handler,
      "Role" => config.role,
      "MemorySize" => config.memory_size,
      "Timeout" => config.timeout,
      "Description" => config.description || "",
      "Environment" => %{"Variables" => config.environment},
      "Layers" => config.layers
    }
  end

  @doc """
  The `DurableConfig` of a function with `durable:` settings (see
  `LambdaRuntime.Tools.Settings`), or nothing for a plain function.
  """
  @spec durable_body(keyword() | nil) :: map()
  def durable_body(nil), do: %{}

  def durable_body(durable) do
    config =
      %{
        "ExecutionTimeout" => durable[:execution_timeout],
        "RetentionPeriodInDays" => durable[:retention_period_in_days] || 14,
        "KMSKeyArn" => durable[:kms_key_arn]
      }
      |> Map.reject(fn {_, v} -> is_nil(v) end)

    %{"DurableConfig" => config}
  end

  defp configuration_summary(config, no_role \\ "(unchanged)") do
    env_keys = config.environment |> Map.keys() |> Enum.sort() |> Enum.join(",")

    [
      "FunctionName=#{config.function_name}",
      "Runtime=#{@runtime}",
      "Handler=#{config.handler}",
      "Role=#{config.role || no_role}",
      "MemorySize=#{config.memory_size}",
      "Timeout=#{config.timeout}",
      "Environment keys=[#{env_keys}]",
      "Layers=[#{Enum.join(config.layers, ",")}]"
    ]
    |> Kernel.++(durable_summary(Map.get(config, :durable)))
    |> Enum.join(", ")
  end

  defp durable_summary(nil), do: []

  defp durable_summary(durable) do
    %{"DurableConfig" => c} = durable_body(durable)

    [
      "DurableConfig=ExecutionTimeout:#{c["ExecutionTimeout"]}s,RetentionPeriodInDays:#{c["RetentionPeriodInDays"]}"
    ]
  end

  defp zip_file(:unbuilt), do: "<not built in a dry run>"
  defp zip_file(zip), do: Base.encode64(zip)

  defp zip_summary(:unbuilt), do: "ZipFile=<not built in a dry run>"

  defp zip_summary(zip),
    do: "ZipFile=<#{byte_size(zip)} bytes, sha256 #{SigV4.hex_sha256(zip)}>"

  defp function_path(name), do: "#{@functions}/#{Request.segment(name)}"

  defp alias_path(name, alias_name),
    do: function_path(name) <> "/aliases/" <> Request.segment(alias_name)
end
