defmodule LambdaRuntime.Durable.Context do
  @moduledoc """
  The durable context your handler receives: where its operations are
  checkpointed and how they are named.

  Fields you may read: `:lambda` (the invocation's `LambdaRuntime.Context`),
  `:state` (what the handler module's `init/1` returned, if it has one) and
  `:arn` (the durable execution's ARN).

  A context belongs to the process that received it. Operations count in
  call order within each context (that count names them, see
  `LambdaRuntime.Durable.OperationId`), so they must run in that process, in
  the same order on every replay: to do work concurrently, use
  `LambdaRuntime.Durable.parallel/3` or `LambdaRuntime.Durable.map/4`, which
  give each branch a context of its own. A context used from another
  process, or from inside a step's function, raises `ArgumentError`.
  """

  alias LambdaRuntime.Durable.{Execution, Identity, Operation, OperationId, Worker}

  @enforce_keys [:execution, :owner]
  defstruct [
    :execution,
    :owner,
    :parent_id,
    :prefix,
    :lambda,
    :state,
    :arn,
    virtual?: false
  ]

  @type t :: %__MODULE__{
          execution: Execution.t(),
          owner: pid(),
          parent_id: String.t() | nil,
          prefix: String.t() | nil,
          lambda: LambdaRuntime.Context.t() | nil,
          state: term(),
          arn: String.t(),
          virtual?: boolean()
        }

  @in_step :"$durable_in_step"

  @doc false
  @spec root(Execution.t(), LambdaRuntime.Context.t() | nil, term()) :: t()
  def root(execution, lambda, state) do
    %__MODULE__{
      execution: execution,
      owner: self(),
      lambda: lambda,
      state: state,
      arn: execution.arn
    }
  end

  @doc false
  # The context of the operations inside operation `id` (a child context,
  # a branch). A virtual one (a FLAT branch) is not checkpointed itself: its
  # operations name the enclosing context as their parent, but are counted
  # in their own namespace.
  @spec child(t(), String.t(), boolean()) :: t()
  def child(%__MODULE__{} = ctx, id, virtual? \\ false) do
    Process.delete({__MODULE__, id})

    %{ctx | prefix: id, parent_id: if(virtual?, do: ctx.parent_id, else: id), virtual?: virtual?}
  end

  @doc false
  # Hands a context to the process that will use it (a branch's worker).
  @spec adopt(t()) :: t()
  def adopt(%__MODULE__{} = ctx), do: %{ctx | owner: self()}

  @doc false
  # The identity of this context's next operation: allocates its number.
  @spec next(t(), Operation.type(), String.t(), String.t() | nil) :: Identity.t()
  def next(%__MODULE__{} = ctx, type, sub_type, name) do
    check_owner!(ctx)
    key = {__MODULE__, ctx.prefix}
    n = Process.get(key, 0) + 1
    Process.put(key, n)

    %Identity{
      id: OperationId.derive(ctx.prefix, n),
      parent_id: ctx.parent_id,
      name: name,
      type: type,
      sub_type: sub_type
    }
  end

  @doc false
  # The checkpoint of `identity`, after checking it was written by the same
  # code; a mismatch ends the invocation (the execution fails).
  @spec checkpointed(t(), Identity.t()) :: Operation.t() | nil
  def checkpointed(%__MODULE__{execution: execution}, %Identity{} = identity) do
    op = Execution.lookup(execution, identity.id)

    case Identity.mismatch(identity, op) do
      nil -> op
      message -> Worker.abort({:nondeterministic, message})
    end
  end

  @doc false
  # Checkpoints `update` (returning once persisted, or queued when `sync?`
  # is false); a checkpoint the invocation cannot survive ends it.
  @spec save!(t(), map(), boolean()) :: :ok
  def save!(%__MODULE__{execution: execution}, update, sync? \\ true) do
    result =
      if sync?,
        do: Execution.checkpoint(execution, update),
        else: Execution.checkpoint_async(execution, update)

    case result do
      :ok -> :ok
      {:error, reason} -> Worker.abort(reason)
    end
  end

  @doc false
  # The current checkpoint of `identity`'s operation (after a checkpoint).
  @spec reload(t(), Identity.t()) :: Operation.t() | nil
  def reload(%__MODULE__{execution: execution}, %Identity{id: id}),
    do: Execution.lookup(execution, id)

  @doc false
  # An operation name: nil, a string, or an atom (written as its text).
  @spec name!(term()) :: String.t() | nil
  def name!(nil), do: nil
  def name!(name) when is_atom(name), do: name!(Atom.to_string(name))

  def name!(name) when is_binary(name) and byte_size(name) in 1..256 do
    if name =~ ~r/^[\x20-\x7E]+$/,
      do: name,
      else:
        raise(ArgumentError, "an operation name must be printable ASCII, got: #{inspect(name)}")
  end

  def name!(name),
    do:
      raise(
        ArgumentError,
        "an operation name must be a string or atom of 1 to 256 characters, got: #{inspect(name)}"
      )

  @doc false
  # Raises on options a function does not know.
  @spec options!(keyword(), [atom()], String.t()) :: keyword()
  def options!(opts, known, function) when is_list(opts) do
    case Keyword.keys(opts) -- known do
      [] ->
        opts

      unknown ->
        raise ArgumentError,
              "unknown option(s) #{inspect(unknown)} for #{function}; known: #{inspect(known)}"
    end
  end

  @doc """
  Whether the context is replaying: its next operation was already
  checkpointed before this invocation began, so the code now running ran
  before. `LambdaRuntime.Durable.Logger` stays quiet while it is.
  """
  @spec replaying?(t()) :: boolean()
  def replaying?(%__MODULE__{} = ctx) do
    n = Process.get({__MODULE__, ctx.prefix}, 0) + 1
    Execution.initial?(ctx.execution, OperationId.derive(ctx.prefix, n))
  end

  @doc false
  # Runs `fun` as the body of a step: durable operations inside it raise.
  def in_step(fun) do
    Process.put(@in_step, true)

    try do
      fun.()
    after
      Process.delete(@in_step)
    end
  end

  @doc false
  def check_owner!(%__MODULE__{owner: owner}) do
    cond do
      owner != self() ->
        raise ArgumentError,
              "a durable context can only be used by the process that owns it " <>
                "(#{inspect(owner)}, this is #{inspect(self())}): operations are named by " <>
                "their order in the context; run concurrent work with " <>
                "LambdaRuntime.Durable.parallel/3 or map/4, which give each branch its own context"

      Process.get(@in_step) ->
        raise ArgumentError,
              "durable operations cannot run inside a step's function: a step is one " <>
                "checkpointed unit; group operations with LambdaRuntime.Durable.run_in_child_context/4"

      true ->
        :ok
    end
  end
end
