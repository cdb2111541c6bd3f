defmodule LambdaRuntime.Durable.Invoke do
  @moduledoc """
  Chained invokes (`LambdaRuntime.Durable.invoke/4`): the service invokes
  another function (durable or not) with a payload and records its result;
  this execution suspends meanwhile and, on the invocation after the target
  finished, gets `{:ok, result}` or `{:error, %LambdaRuntime.Durable.Error{kind: :invoke}}`
  (the target failed, timed out or was stopped).
  """

  alias LambdaRuntime.Durable.{Context, Error, Identity, Serdes, Worker}

  @options [:name, :tenant_id, :payload_serdes, :result_serdes]

  @doc false
  def run(%Context{} = ctx, function_name, payload, opts) when is_binary(function_name) do
    opts = Context.options!(opts, @options, "invoke")
    identity = Context.next(ctx, :chained_invoke, "ChainedInvoke", Context.name!(opts[:name]))
    result_serdes = Keyword.get(opts, :result_serdes, Serdes.JSON)

    case Context.checkpointed(ctx, identity) do
      nil ->
        with {:ok, json} <-
               Serdes.serialize(Keyword.get(opts, :payload_serdes, Serdes.JSON), payload) do
          options =
            %{"FunctionName" => function_name}
            |> then(
              &if(opts[:tenant_id], do: Map.put(&1, "TenantId", opts[:tenant_id]), else: &1)
            )

          extra = %{"ChainedInvokeOptions" => options}
          extra = if json, do: Map.put(extra, "Payload", json), else: extra
          Context.save!(ctx, Identity.update(identity, "START", extra))
          settle(Context.reload(ctx, identity), result_serdes)
        end

      op ->
        settle(op, result_serdes)
    end
  end

  defp settle(%{status: :succeeded, result: payload}, serdes),
    do: Serdes.deserialize(serdes, payload)

  defp settle(%{status: status, error: error}, _serdes)
       when status in [:failed, :timed_out, :stopped, :cancelled],
       do: {:error, Error.from_object(:invoke, error, "invoke #{status}")}

  defp settle(_started, _serdes), do: Worker.suspend(nil)
end
