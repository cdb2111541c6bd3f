defmodule LambdaRuntime.AWS.Credentials do
  @moduledoc """
  AWS credentials, found the way the AWS CLI finds them:

    1. `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (and
       `AWS_SESSION_TOKEN`) in the environment;
    2. the profile named by the `:profile` option, else `AWS_PROFILE`, else
       `default`: `aws_access_key_id`/`aws_secret_access_key`/
       `aws_session_token` in the shared credentials file, then in the
       config file, then the profile's `credential_process`, whose JSON
       output gives `AccessKeyId`, `SecretAccessKey`, `SessionToken` and
       `Expiration`.

  The secret and the token never leave this struct except to sign a
  request: `inspect/1` shows only where the credentials came from.

  A key or token holding a control character (CR or LF above all: in a
  header it would end the line and start a new header of the value's
  choosing) is refused, wherever it came from, with an error that names
  the value and its source, never its content.
  """

  alias LambdaRuntime.AWS.{Error, ProfileFile}

  @derive {Inspect, only: [:source]}
  @enforce_keys [:access_key_id, :secret_access_key, :source]
  defstruct [:access_key_id, :secret_access_key, :session_token, :source]

  @type t :: %__MODULE__{
          access_key_id: String.t(),
          secret_access_key: String.t(),
          session_token: String.t() | nil,
          source: String.t()
        }

  @doc """
  Resolves credentials. `env` is the environment as a map (default: the
  process's); option `:profile` overrides `AWS_PROFILE`.
  """
  @spec resolve(map(), keyword()) :: {:ok, t()} | {:error, Error.t()}
  def resolve(env \\ LambdaRuntime.Config.os_env(), opts \\ []) do
    result =
      case from_env(env) do
        {:ok, creds} -> {:ok, creds}
        :none -> from_profile(env, opts[:profile] || env["AWS_PROFILE"] || "default")
      end

    with {:ok, creds} <- result, do: check_header_safe(creds)
  end

  @fields [
    access_key_id: "access key id",
    secret_access_key: "secret access key",
    session_token: "session token"
  ]

  @env_vars %{
    access_key_id: "AWS_ACCESS_KEY_ID",
    secret_access_key: "AWS_SECRET_ACCESS_KEY",
    session_token: "AWS_SESSION_TOKEN"
  }

  # The access key id and the token go into headers, the secret into the
  # signature; none of them may hold a control character.
  defp check_header_safe(%__MODULE__{} = creds) do
    bad =
      Enum.find(@fields, fn {field, _name} ->
        value = Map.fetch!(creds, field)
        is_binary(value) and String.match?(value, ~r/[\x00-\x1f\x7f]/)
      end)

    case bad do
      nil ->
        {:ok, creds}

      {field, name} ->
        source =
          if creds.source == "environment variables",
            do: "the environment (#{@env_vars[field]})",
            else: "the " <> creds.source

        {:error,
         Error.new(
           "InvalidCredentials",
           "the #{name} from #{source} contains a line break or another control " <>
             "character, which would break the signed request's headers; it is not used",
           "fix the value where it is set (a stray CR from a Windows-edited file, or a " <>
             "pasted newline); its content is not shown here"
         )}
    end
  end

  @doc """
  Where `resolve/2` would take credentials from, without running a
  `credential_process` (for `--dry-run`): `{:ok, source}` or the error
  `resolve/2` would give.
  """
  @spec locate(map(), keyword()) :: {:ok, String.t()} | {:error, Error.t()}
  def locate(env \\ LambdaRuntime.Config.os_env(), opts \\ []) do
    result =
      case from_env(env) do
        {:ok, creds} -> {:ok, creds}
        :none -> from_profile(env, opts[:profile] || env["AWS_PROFILE"] || "default", false)
      end

    case result do
      {:ok, %__MODULE__{} = creds} ->
        with {:ok, creds} <- check_header_safe(creds), do: {:ok, creds.source}

      {:ok, source} when is_binary(source) ->
        {:ok, source}

      {:error, _} = error ->
        error
    end
  end

  @doc "The profile `opts[:profile]`/`AWS_PROFILE`/`default` resolves to."
  @spec profile_name(map(), keyword()) :: String.t()
  def profile_name(env, opts), do: opts[:profile] || env["AWS_PROFILE"] || "default"

  defp from_env(env) do
    case {blank(env["AWS_ACCESS_KEY_ID"]), blank(env["AWS_SECRET_ACCESS_KEY"])} do
      {nil, _} ->
        :none

      {_, nil} ->
        :none

      {id, secret} ->
        {:ok,
         %__MODULE__{
           access_key_id: id,
           secret_access_key: secret,
           session_token: blank(env["AWS_SESSION_TOKEN"]),
           source: "environment variables"
         }}
    end
  end

  defp from_profile(env, profile, run? \\ true) do
    creds_file = Map.get(ProfileFile.credentials(env), profile)
    config = Map.get(ProfileFile.config(env), profile)

    cond do
      static = static(creds_file, "profile #{profile} in the shared credentials file") ->
        {:ok, static}

      static = static(config, "profile #{profile} in the config file") ->
        {:ok, static}

      process = (creds_file || %{})["credential_process"] || (config || %{})["credential_process"] ->
        if run?,
          do: run_process(process, profile),
          else: {:ok, "credential_process of profile #{profile} (not run in a dry run)"}

      creds_file == nil and config == nil ->
        {:error,
         Error.new(
           "NoCredentials",
           "no AWS credentials found: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are not set " <>
             "and there is no profile #{inspect(profile)} in the shared credentials or config file",
           "set the variables, or run `aws configure` (or set AWS_PROFILE to a profile you have)"
         )}

      true ->
        {:error,
         Error.new(
           "NoCredentials",
           "profile #{inspect(profile)} has no aws_access_key_id/aws_secret_access_key " <>
             "and no credential_process (SSO and role profiles are not supported here)",
           "export credentials for this profile first, e.g. with `aws configure export-credentials`"
         )}
    end
  end

  defp static(nil, _source), do: nil

  defp static(section, source) do
    with id when is_binary(id) <- blank(section["aws_access_key_id"]),
         secret when is_binary(secret) <- blank(section["aws_secret_access_key"]) do
      %__MODULE__{
        access_key_id: id,
        secret_access_key: secret,
        session_token: blank(section["aws_session_token"]),
        source: source
      }
    else
      _ -> nil
    end
  end

  defp run_process(command, profile) do
    source = "credential_process of profile #{profile}"

    # The output holds the secret, so it is parsed here and never shown.
    case System.cmd("sh", ["-c", command], stderr_to_stdout: false) do
      {output, 0} ->
        parse_process_output(output, source)

      {_output, status} ->
        {:error,
         Error.new(
           "CredentialProcessFailed",
           "the #{source} exited with status #{status}",
           "run the command by hand to see what it needs"
         )}
    end
  end

  @doc false
  def parse_process_output(output, source) do
    with {:ok, %{} = json} <- LambdaRuntime.JSON.decode(output),
         id when is_binary(id) <- json["AccessKeyId"],
         secret when is_binary(secret) <- json["SecretAccessKey"],
         :ok <- check_expiration(json["Expiration"], source) do
      {:ok,
       %__MODULE__{
         access_key_id: id,
         secret_access_key: secret,
         session_token: json["SessionToken"],
         source: source
       }}
    else
      {:error, %Error{} = error} ->
        {:error, error}

      _ ->
        {:error,
         Error.new(
           "CredentialProcessFailed",
           "the #{source} did not print a JSON object with AccessKeyId and SecretAccessKey",
           "see the AWS CLI documentation of credential_process for the format"
         )}
    end
  end

  defp check_expiration(nil, _source), do: :ok

  defp check_expiration(expiration, source) do
    case DateTime.from_iso8601(expiration) do
      {:ok, time, _} ->
        if DateTime.compare(time, DateTime.utc_now()) == :gt do
          :ok
        else
          {:error,
           Error.new(
             "ExpiredCredentials",
             "the #{source} returned credentials that expired at #{expiration}",
             "refresh the credentials the process reads"
           )}
        end

      _ ->
        {:error,
         Error.new(
           "CredentialProcessFailed",
           "the #{source} returned an Expiration that is not an ISO 8601 time",
           "see the AWS CLI documentation of credential_process for the format"
         )}
    end
  end

  defp blank(nil), do: nil
  defp blank(value), do: if(String.trim(value) == "", do: nil, else: value)
end
