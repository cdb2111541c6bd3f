defmodule LambdaRuntime.AWS.Endpoint do
  @moduledoc """
  Where a service's requests go: the region and the base URL.

  The region is, in order: the `:region` option (a flag or the project's
  `lambda:` config), `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's
  `region` in the config file. The URL is `AWS_ENDPOINT_URL_<SERVICE>`
  (e.g. `AWS_ENDPOINT_URL_LAMBDA`), else `AWS_ENDPOINT_URL`, else the
  public endpoint `https://<service>.<region>.amazonaws.com` (`.com.cn` in
  China regions). Plain `http` is used only when an override says so.

  A `user:password@` part of an override is dropped (requests never carry
  it) and never printed: errors show it as `***@` (`redact/1`).
  """

  alias LambdaRuntime.AWS.{Credentials, Error, ProfileFile}

  defstruct [:service, :region, :uri]

  @type t :: %__MODULE__{service: String.t(), region: String.t(), uri: URI.t()}

  @region ~r/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/

  @doc "Resolves the endpoint of `service` (e.g. `\"lambda\"`)."
  @spec resolve(String.t(), map(), keyword()) :: {:ok, t()} | {:error, Error.t()}
  def resolve(service, env \\ LambdaRuntime.Config.os_env(), opts \\ []) do
    with {:ok, region} <- region(env, opts),
         {:ok, uri} <- uri(service, region, env) do
      {:ok, %__MODULE__{service: service, region: region, uri: uri}}
    end
  end

  @doc """
  `url` with any `user:password@` part shown as `***@`, for output; works on
  text that does not parse as a URL too.

      iex> LambdaRuntime.AWS.Endpoint.redact("http://key:secret@127.0.0.1:5000/x")
      "http://***@127.0.0.1:5000/x"
  """
  @spec redact(String.t()) :: String.t()
  def redact(url) when is_binary(url) do
    # Everything up to the last @: a password may hold an unescaped @ or
    # /, and hiding too much of a URL is better than showing a secret.
    Regex.replace(~r{^([A-Za-z][A-Za-z0-9+.-]*://)?.*@}s, url, "\\1***@")
  end

  @doc "Checks that `region` looks like an AWS region name."
  @spec valid_region?(term()) :: boolean()
  def valid_region?(region), do: is_binary(region) and Regex.match?(@region, region)

  defp region(env, opts) do
    profile = Credentials.profile_name(env, opts)

    candidates = [
      {"the --region option or the lambda: region config", opts[:region]},
      {"AWS_REGION", env["AWS_REGION"]},
      {"AWS_DEFAULT_REGION", env["AWS_DEFAULT_REGION"]},
      {"the region of profile #{profile}",
       fn -> get_in(ProfileFile.config(env), [profile, "region"]) end}
    ]

    case Enum.find_value(candidates, &present/1) do
      nil ->
        {:error,
         Error.new(
           "NoRegion",
           "no AWS region is set",
           "pass --region, set AWS_REGION, or set region in your AWS profile"
         )}

      {source, region} ->
        if valid_region?(region) do
          {:ok, region}
        else
          {:error,
           Error.new(
             "InvalidRegion",
             "#{inspect(region)} (from #{source}) is not an AWS region name",
             "use a region such as us-east-1 or eu-west-1"
           )}
        end
    end
  end

  defp present({source, fun}) when is_function(fun), do: present({source, fun.()})
  defp present({_source, nil}), do: nil
  defp present({_source, ""}), do: nil
  defp present({source, value}), do: {source, value}

  defp uri(service, region, env) do
    var = "AWS_ENDPOINT_URL_" <> String.upcase(service)

    case env[var] || env["AWS_ENDPOINT_URL"] do
      override when override in [nil, ""] ->
        suffix =
          if String.starts_with?(region, "cn-"), do: "amazonaws.com.cn", else: "amazonaws.com"

        {:ok, URI.parse("https://#{service}.#{region}.#{suffix}")}

      override ->
        case URI.parse(override) do
          %URI{scheme: scheme, host: host} = uri
          when scheme in ["http", "https"] and is_binary(host) and host != "" ->
            {:ok, %URI{uri | path: String.trim_trailing(uri.path || "", "/"), userinfo: nil}}

          _ ->
            {:error,
             Error.new(
               "InvalidEndpoint",
               "the endpoint override #{inspect(redact(override))} is not an http(s) URL",
               "set #{var} or AWS_ENDPOINT_URL to e.g. http://127.0.0.1:5000"
             )}
        end
    end
  end
end
