defmodule LambdaRuntime.Tools.Layer.Download do
  @moduledoc """
  Downloads a build input (OTP's source tarball, OpenSSL's sources) to a
  file with OTP's `:httpc`: HTTPS verifies the server's certificate
  against the operating system's trust store and its host name, redirects
  are followed, and the file appears under its final name only once it is
  complete and its SHA-256 matches the expected one.
  """

  alias LambdaRuntime.AWS.HTTP

  @timeout 600_000

  @doc """
  Downloads `url` to `dest` and checks it against `sha256` (lower-case
  hex). Returns `:ok` or `{:error, message}`; on any error nothing is left
  at `dest`.
  """
  @spec fetch(String.t(), Path.t(), String.t()) :: :ok | {:error, String.t()}
  def fetch(url, dest, sha256) do
    with {:ok, tmp} <- get_to_file(url, dest),
         :ok <- verify(tmp, url, sha256) do
      File.rename!(tmp, dest)
      :ok
    end
  end

  @doc "Downloads `url` into memory: `{:ok, body}` or `{:error, message}`."
  @spec get(String.t()) :: {:ok, binary()} | {:error, String.t()}
  def get(url) do
    HTTP.start_apps!(url)

    case :httpc.request(:get, {String.to_charlist(url), []}, http_opts(url), body_format: :binary) do
      {:ok, {{_, 200, _}, _, body}} -> {:ok, body}
      {:ok, {{_, status, _}, _, _}} -> {:error, "#{url} answered HTTP #{status}"}
      {:error, reason} -> {:error, "#{url} could not be downloaded: #{inspect(reason)}"}
    end
  end

  defp get_to_file(url, dest) do
    HTTP.start_apps!(url)
    File.mkdir_p!(Path.dirname(dest))
    tmp = "#{dest}.part#{:os.getpid()}"
    File.rm(tmp)
    request = {String.to_charlist(url), []}

    case :httpc.request(:get, request, http_opts(url), stream: String.to_charlist(tmp)) do
      {:ok, :saved_to_file} ->
        {:ok, tmp}

      {:ok, {{_, status, _}, _, _}} ->
        File.rm(tmp)
        {:error, "#{url} answered HTTP #{status}"}

      {:error, reason} ->
        File.rm(tmp)
        {:error, "#{url} could not be downloaded: #{inspect(reason)}"}
    end
  end

  defp verify(tmp, url, expected) do
    actual = LambdaRuntime.Tools.Layer.Cache.file_sha256(tmp)

    if actual == String.downcase(expected) do
      :ok
    else
      File.rm(tmp)

      {:error,
       "the file downloaded from #{url} has SHA-256 #{actual}, not the published " <>
         "#{expected}: it was not used"}
    end
  end

  defp http_opts(url) do
    [connect_timeout: 30_000, timeout: @timeout, autoredirect: true, ssl: HTTP.ssl_opts(url)]
  end
end
