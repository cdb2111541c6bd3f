defmodule LambdaRuntime.Durable.Child do
  @moduledoc """
  Child contexts (`LambdaRuntime.Durable.run_in_child_context/4`): a group of
  operations checkpointed as one CONTEXT operation. The function runs with a
  context of its own (its operations have the child as parent and are named
  in its namespace); its result is checkpointed (`SUCCEED` with the result,
  `FAIL` with the error) and on replay returned without running it again.

  A result larger than 256 KB is not checkpointed: the child is marked
  `ReplayChildren` (with a summary payload, empty by default) and every
  replay runs the function again, its operations returning their own
  checkpoints.

  This module also runs the branches of map and parallel (`:virtual`
  children are not checkpointed themselves) and `wait_for_callback`.
  """

  alias LambdaRuntime.Durable.{Context, Error, Identity, Outcome, Serdes}

  # Results above this many bytes are replayed, not checkpointed.
  @max_result 256 * 1024

  @options [:name, :serdes, :sub_type, :summary]

  @doc false
  def run(%Context{} = ctx, fun, opts) when is_function(fun, 1) do
    opts = Context.options!(opts, @options, "run_in_child_context")

    identity =
      Context.next(
        ctx,
        :context,
        Keyword.get(opts, :sub_type, "RunInChildContext"),
        Context.name!(opts[:name])
      )

    execute(ctx, identity, fun, opts)
  end

  @doc false
  # Runs a child context for an identity allocated by the caller. Options:
  # `:serdes`, `:summary` (a function of the result, giving the payload of
  # a large result), `:virtual` (no checkpoints of its own), `:error_kind`.
  @spec execute(Context.t(), Identity.t(), (Context.t() -> term()), keyword()) ::
          {:ok, term()} | {:error, Error.t()}
  def execute(%Context{} = ctx, %Identity{} = identity, fun, opts) do
    serdes = Keyword.get(opts, :serdes, Serdes.JSON)
    virtual? = Keyword.get(opts, :virtual, false)
    kind = Keyword.get(opts, :error_kind, :child_context)

    case Context.checkpointed(ctx, identity) do
      %{status: :succeeded, replay_children: false, result: payload} ->
        Serdes.deserialize(serdes, payload)

      %{status: :failed, error: error} ->
        {:error, Error.from_object(kind, error)}

      op ->
        if op == nil and not virtual?,
          do: Context.save!(ctx, Identity.update(identity, "START"), false)

        replay? = match?(%{status: :succeeded, replay_children: true}, op)
        child = Context.child(ctx, identity.id, virtual?)

        case Outcome.run(fn -> fun.(child) end) do
          {:ok, value} -> succeeded(ctx, identity, value, serdes, replay? or virtual?, opts)
          {:error, object} -> failed(ctx, identity, object, virtual?, kind)
        end
    end
  end

  defp succeeded(ctx, identity, value, serdes, skip_checkpoint?, opts) do
    case Serdes.round_trip(serdes, value) do
      {:ok, payload, back} ->
        unless skip_checkpoint? do
          {payload, replay?} =
            if payload != nil and byte_size(payload) > @max_result,
              do: {summary(opts[:summary], value), true},
              else: {payload, false}

          extra = %{"ContextOptions" => %{"ReplayChildren" => replay?}}
          extra = if payload, do: Map.put(extra, "Payload", payload), else: extra
          Context.save!(ctx, Identity.update(identity, "SUCCEED", extra))
        end

        {:ok, back}

      {:error, error} ->
        failed(ctx, identity, Error.to_object(error), skip_checkpoint?, :serdes)
    end
  end

  defp failed(ctx, identity, object, virtual?, kind) do
    unless virtual?,
      do: Context.save!(ctx, Identity.update(identity, "FAIL", %{"Error" => object}))

    {:error, Error.from_object(kind, object)}
  end

  defp summary(nil, _value), do: ""
  defp summary(fun, value) when is_function(fun, 1), do: fun.(value)
end
