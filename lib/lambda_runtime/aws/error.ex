defmodule LambdaRuntime.AWS.Error do
  @moduledoc """
  A failed AWS call or set-up step: AWS's error code and message (or ours),
  the HTTP status when there was one, and a hint about what to check.
  It never holds request headers, so never credentials.
  """

  defexception [:code, :message, :hint, :status]

  @type t :: %__MODULE__{
          code: String.t(),
          message: String.t(),
          hint: String.t() | nil,
          status: non_neg_integer() | nil
        }

  @doc "Builds an error."
  @spec new(String.t(), String.t(), String.t() | nil, non_neg_integer() | nil) :: t()
  def new(code, message, hint \\ nil, status \\ nil),
    do: %__MODULE__{code: code, message: message, hint: hint, status: status}

  @impl true
  def message(%__MODULE__{} = e) do
    status = if e.status, do: " (HTTP #{e.status})", else: ""
    hint = if e.hint, do: "\nHint: #{e.hint}", else: ""
    "#{e.code}#{status}: #{e.message}#{hint}"
  end

  @doc """
  The hint for an AWS error answer, from its code, message and status.
  """
  @spec hint(String.t(), String.t(), non_neg_integer()) :: String.t() | nil
  def hint(code, message, status) do
    cond do
      # Not a permissions problem: the endpoint does not know the key at all.
      code in ["InvalidClientTokenId", "UnrecognizedClientException"] ->
        "the access key is not known to this account/endpoint: check your credentials " <>
          "(AWS_ACCESS_KEY_ID, AWS_PROFILE, ~/.aws/credentials) and that the endpoint " <>
          "(AWS_ENDPOINT_URL_LAMBDA / AWS_ENDPOINT_URL) and region are the ones the key belongs to"

      code in ["InvalidSignatureException", "SignatureDoesNotMatch"] ->
        "check your credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, " <>
          "~/.aws/credentials) and that the clock is right"

      code in ["ExpiredTokenException", "ExpiredToken"] ->
        "your session token has expired: refresh the credentials"

      code == "AccessDeniedException" or status == 403 ->
        "the credentials are valid but not allowed to do this: check the IAM policy"

      code == "InvalidParameterValueException" and message =~ ~r/role/i ->
        "check the role ARN (--role or lambda: [role: ...]): the role must exist and " <>
          "trust lambda.amazonaws.com; a new role can take a few seconds to be usable"

      code == "ResourceNotFoundException" ->
        "check the name, the region (--region, AWS_REGION) and the account"

      code == "ResourceConflictException" ->
        "another update is in progress: wait for it, then run the command again"

      code in ["CodeStorageExceededException", "RequestEntityTooLargeException"] ->
        "the package is too large for a direct upload: trim it, or move code into a layer"

      true ->
        nil
    end
  end
end
