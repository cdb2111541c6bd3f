defmodule LambdaRuntime.Tools.Deploy.Waiter do
  @moduledoc """
  Waits until a function is ready for the next change: polls
  GetFunctionConfiguration while `State` is `Pending` or `LastUpdateStatus`
  is `InProgress`, and fails with Lambda's reason when either is `Failed`.
  """

  alias LambdaRuntime.AWS.Error
  alias LambdaRuntime.Tools.AWS.Lambda
  alias LambdaRuntime.Tools.Deploy.Connection

  @doc "Polls until the function is `Active` and its last update `Successful`."
  @spec wait(Connection.t(), String.t()) :: {:ok, map()} | {:error, Error.t()}
  def wait(%Connection{} = conn, name), do: poll(conn, name, conn.max_polls)

  defp poll(_conn, name, 0) do
    {:error,
     Error.new(
       "WaitTimeout",
       "function #{name} was still being updated after the time allowed",
       "look at the function in the Lambda console or with `aws lambda get-function`"
     )}
  end

  defp poll(conn, name, tries) do
    with {:ok, _, config} <- Connection.call(conn, Lambda.get_function_configuration(name)) do
      case {config["State"], config["LastUpdateStatus"]} do
        {"Failed", _} ->
          failed(name, "State", config["StateReasonCode"], config["StateReason"])

        {_, "Failed"} ->
          failed(
            name,
            "LastUpdateStatus",
            config["LastUpdateStatusReasonCode"],
            config["LastUpdateStatusReason"]
          )

        {state, status} when state == "Pending" or status == "InProgress" ->
          Process.sleep(conn.poll_ms)
          poll(conn, name, tries - 1)

        _ ->
          {:ok, config}
      end
    end
  end

  defp failed(name, field, code, reason) do
    {:error,
     Error.new(
       code || "UpdateFailed",
       "function #{name}: #{field} is Failed: #{reason || "no reason given"}",
       "fix the cause above and deploy again"
     )}
  end
end
