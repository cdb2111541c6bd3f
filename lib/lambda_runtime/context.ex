defmodule LambdaRuntime.Context do
  @moduledoc """
  What a handler knows about its invocation and its function.

  Per invocation (from the Runtime API's `/next` headers):
  `request_id`, `deadline_ms` (milliseconds since the epoch),
  `invoked_function_arn`, `trace_id` (also in the `_X_AMZN_TRACE_ID`
  environment variable while the handler runs), `client_context` and
  `cognito_identity` (decoded from JSON when present; the raw text if it is
  not JSON), `tenant_id` and `invocation_id`.

  Per function (from the environment Lambda sets): `function_name`,
  `function_version`, `memory_limit_in_mb`, `log_group_name`,
  `log_stream_name`.
  """

  alias LambdaRuntime.{Config, JSON}

  defstruct [
    :request_id,
    :deadline_ms,
    :invoked_function_arn,
    :trace_id,
    :client_context,
    :cognito_identity,
    :tenant_id,
    :invocation_id,
    :function_name,
    :function_version,
    :memory_limit_in_mb,
    :log_group_name,
    :log_stream_name
  ]

  @type t :: %__MODULE__{
          request_id: String.t() | nil,
          deadline_ms: non_neg_integer() | nil,
          invoked_function_arn: String.t() | nil,
          trace_id: String.t() | nil,
          client_context: map() | String.t() | nil,
          cognito_identity: map() | String.t() | nil,
          tenant_id: String.t() | nil,
          invocation_id: String.t() | nil,
          function_name: String.t() | nil,
          function_version: String.t() | nil,
          memory_limit_in_mb: pos_integer() | nil,
          log_group_name: String.t() | nil,
          log_stream_name: String.t() | nil
        }

  # Deadlines below this (2001-09-09 in epoch milliseconds) are not epoch
  # times: cargo-lambda's emulator, for one, sends the constant 600000.
  @epoch_floor 1_000_000_000_000

  @doc "The function-level context, before any invocation (what `init/1` gets)."
  @spec for_function(Config.t()) :: t()
  def for_function(%Config{} = config) do
    %__MODULE__{
      function_name: config.function_name,
      function_version: config.function_version,
      memory_limit_in_mb: config.memory_limit_in_mb,
      log_group_name: config.log_group_name,
      log_stream_name: config.log_stream_name
    }
  end

  @doc "The context of one invocation: `/next`'s headers on top of `base`."
  @spec for_invocation(t(), map()) :: t()
  def for_invocation(%__MODULE__{} = base, meta) do
    %__MODULE__{
      base
      | request_id: meta.request_id,
        deadline_ms: meta.deadline_ms,
        invoked_function_arn: meta.invoked_function_arn,
        trace_id: meta.trace_id,
        client_context: maybe_json(meta.client_context),
        cognito_identity: maybe_json(meta.cognito_identity),
        tenant_id: meta.tenant_id,
        invocation_id: meta.invocation_id
    }
  end

  @doc """
  Milliseconds left before the deadline (never negative), or `nil` when the
  deadline is unknown or not an epoch time.
  """
  @spec remaining_time_ms(t()) :: non_neg_integer() | nil
  def remaining_time_ms(%__MODULE__{} = context) do
    if epoch_deadline?(context),
      do: max(context.deadline_ms - System.os_time(:millisecond), 0),
      else: nil
  end

  @doc "Whether the deadline is a real epoch time (and so can be enforced)."
  @spec epoch_deadline?(t()) :: boolean()
  def epoch_deadline?(%__MODULE__{deadline_ms: d}), do: is_integer(d) and d >= @epoch_floor

  defp maybe_json(nil), do: nil

  defp maybe_json(text) do
    case JSON.decode(text) do
      {:ok, value} -> value
      {:error, _} -> text
    end
  end
end
