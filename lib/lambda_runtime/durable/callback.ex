defmodule LambdaRuntime.Durable.Callback do
  @moduledoc """
  Callbacks: an id to hand to another system, which answers through
  Lambda's `SendDurableExecutionCallbackSuccess`, `...Failure` or
  `...Heartbeat` APIs (`LambdaRuntime.Durable.create_callback/2`,
  `await_callback/2`, `wait_for_callback/3`).

  `%LambdaRuntime.Durable.Callback{}` holds the `:id` to send and the
  operation it belongs to. Awaiting it returns the result (by default the
  raw string the system sent; `serdes:` to decode it), or suspends the
  execution until the answer, a timeout (`:timeout`) or a missed heartbeat
  (`:heartbeat_timeout`) arrives. Errors are deferred to `await_callback/2`,
  so code between creating and awaiting runs the same on every replay.
  """

  alias LambdaRuntime.Durable.{Child, Context, Duration, Error, Identity, Serdes, Step, Worker}

  @enforce_keys [:id, :operation_id]
  defstruct [:id, :operation_id, :name, serdes: Serdes.Raw]

  @type t :: %__MODULE__{
          id: String.t(),
          operation_id: String.t(),
          name: String.t() | nil,
          serdes: Serdes.t()
        }

  @options [:name, :timeout, :heartbeat_timeout, :serdes, :sub_type]

  @doc false
  def create(%Context{} = ctx, opts) do
    opts = Context.options!(opts, @options, "create_callback")

    identity =
      Context.next(
        ctx,
        :callback,
        Keyword.get(opts, :sub_type, "Callback"),
        Context.name!(opts[:name])
      )

    op =
      case Context.checkpointed(ctx, identity) do
        nil ->
          options = %{
            "TimeoutSeconds" => seconds(opts[:timeout]),
            "HeartbeatTimeoutSeconds" => seconds(opts[:heartbeat_timeout])
          }

          Context.save!(ctx, Identity.update(identity, "START", %{"CallbackOptions" => options}))
          Context.reload(ctx, identity)

        op ->
          op
      end

    {:ok,
     %__MODULE__{
       id: op.callback_id,
       operation_id: identity.id,
       name: identity.name,
       serdes: Keyword.get(opts, :serdes, Serdes.Raw)
     }}
  end

  @doc false
  def await(%Context{} = ctx, %__MODULE__{} = callback) do
    Context.check_owner!(ctx)

    case LambdaRuntime.Durable.Execution.lookup(ctx.execution, callback.operation_id) do
      %{status: :succeeded, result: payload} ->
        Serdes.deserialize(callback.serdes, payload)

      %{status: :timed_out, error: error} ->
        {:error, Error.from_object(:callback_timeout, error, "Callback timed out")}

      %{status: status, error: error} when status in [:failed, :cancelled, :stopped] ->
        {:error, Error.from_object(:callback, error, "Callback failed")}

      _started ->
        Worker.suspend(nil)
    end
  end

  @doc false
  # A child context (subtype WaitForCallback) that creates a callback, runs
  # `submitter.(callback_id)` or `submitter.(callback_id, step)` as a step,
  # and awaits the answer.
  def wait_for(%Context{} = ctx, submitter, opts)
      when is_function(submitter, 1) or is_function(submitter, 2) do
    opts =
      Context.options!(
        opts,
        [:name, :timeout, :heartbeat_timeout, :serdes, :retry],
        "wait_for_callback"
      )

    name = Context.name!(opts[:name])
    identity = Context.next(ctx, :context, "WaitForCallback", name)
    prefix = if name, do: name <> " ", else: ""

    body = fn child ->
      {:ok, callback} =
        create(
          child,
          Keyword.merge(Keyword.take(opts, [:timeout, :heartbeat_timeout, :serdes]),
            name: prefix <> "create callback id"
          )
        )

      submit = fn step ->
        if is_function(submitter, 1),
          do: submitter.(callback.id),
          else: submitter.(callback.id, step)
      end

      case Step.run(child, submit, name: prefix <> "submitter", retry: opts[:retry]) do
        {:ok, _} ->
          await(child, callback)

        {:error, %Error{} = e} ->
          message = if e.type, do: "#{e.type}: #{e.message}", else: e.message

          {:error,
           %{e | kind: :callback_submitter, type: "CallbackSubmitterError", message: message}}
      end
    end

    # The kind comes from the checkpointed error alone, so that the first
    # run and every replay return the same error.
    case Child.execute(ctx, identity, body, error_kind: :callback) do
      {:error, %Error{type: "CallbackSubmitterError"} = e} ->
        {:error, %{e | kind: :callback_submitter}}

      {:error, %Error{type: "Callback." <> _} = e} ->
        {:error, %{e | kind: :callback_timeout}}

      other ->
        other
    end
  end

  defp seconds(nil), do: 0
  defp seconds(duration), do: Duration.seconds!(duration)
end
