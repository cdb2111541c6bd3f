defmodule LambdaRuntime.Events.Cognito do
  @moduledoc """
  A Cognito user pool trigger (pre sign-up, post confirmation, pre token
  generation, custom message, define/create/verify auth challenge, ...):
  `trigger_source` says which (`"PreSignUp_SignUp"`,
  `"TokenGeneration_Authentication"`, ...), `user_pool_id`, `user_name`,
  `region`, `version`, `caller_context` (`"clientId"`,
  `"awsSdkVersion"`), and the trigger's `request` (`"userAttributes"`,
  `"validationData"`, `"clientMetadata"`, ...) and `response` objects as
  they came. `extra` has the keys no field names.

  Cognito expects the whole event back with `response` filled in;
  `respond/2` does that from the raw event:

      def handle(event, _context) do
        {:ok, %LambdaRuntime.Events.Cognito{} = trigger} = LambdaRuntime.Events.decode(event)
        confirm? = String.ends_with?(trigger.request["userAttributes"]["email"], "@example.com")
        {:ok, LambdaRuntime.Events.Cognito.respond(trigger, %{"autoConfirmUser" => confirm?})}
      end
  """
  alias LambdaRuntime.Events.Schema

  defstruct [
    :version,
    :trigger_source,
    :region,
    :user_pool_id,
    :user_name,
    :caller_context,
    :request,
    :response,
    :raw,
    extra: %{}
  ]

  @type t :: %__MODULE__{}

  @fields [
    {:version, "version", :string},
    {:trigger_source, "triggerSource", :string},
    {:region, "region", :string},
    {:user_pool_id, "userPoolId", :string},
    {:user_name, "userName", :string},
    {:caller_context, "callerContext", :map},
    {:request, "request", :map},
    {:response, "response", :map}
  ]

  @doc "Decodes a raw event of this source."
  @spec decode(map()) :: {:ok, t()} | {:error, String.t()}
  def decode(event) do
    with {:ok, trigger} <- Schema.build(__MODULE__, event, @fields, ""),
         do: {:ok, %{trigger | raw: event}}
  end

  @doc """
  The event to return to Cognito: the raw event with `response` merged
  with `fields` (string keys, as Cognito names them).
  """
  @spec respond(t(), map()) :: map()
  def respond(%__MODULE__{raw: raw, response: response}, fields) when is_map(fields),
    do: Map.put(raw, "response", Map.merge(response || %{}, fields))
end
