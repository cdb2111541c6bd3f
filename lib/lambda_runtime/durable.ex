defmodule LambdaRuntime.Durable do
  @moduledoc """
  Lambda durable functions in Elixir: handlers whose work is checkpointed,
  so an execution can wait (up to a year), survive failures and resume where
  it was, each invocation replaying the checkpoints instead of redoing the
  work. See `docs/durable.md` for the guide.

      defmodule MyApp.Order do
        use LambdaRuntime.Durable
        alias LambdaRuntime.Durable

        @impl true
        def handle_execution(%{"order_id" => id}, ctx) do
          with {:ok, order} <- Durable.step(ctx, :load, fn _ -> Orders.load(id) end),
               :ok <- Durable.wait(ctx, {5, :minutes}),
               {:ok, answer} <-
                 Durable.wait_for_callback(ctx, &Approvals.request(order, &1), name: "approval", timeout: {1, :day}) do
            {:ok, %{order: id, approved: answer}}
          end
        end
      end

  Set `_HANDLER` to the module (`MyApp.Order`) and turn durable execution
  on for the function (`DurableConfig`). A module with `init/1` gets its
  state in `ctx.state`. A `Module.function` handler can call `execute/4`.

  ## Operations

  Every operation takes the context first and returns `{:ok, value}` or
  `{:error, %LambdaRuntime.Durable.Error{}}` (`wait/3` returns `:ok`).
  When it cannot complete in this invocation (a timer, a callback, a retry
  later), it *suspends*: the invocation ends `PENDING` and a later one
  replays to this point. Names (`:name`, or the second argument of `step`
  and `run_in_child_context`) are optional, strings or atoms, and shown in
  the execution's history.

    * `step/4` - run a function once and checkpoint its result, with retries;
    * `wait/3` - sleep without running;
    * `create_callback/2`, `await_callback/2`, `wait_for_callback/3` - hand an
      id to another system and wait for its answer;
    * `run_in_child_context/4` - checkpoint a group of operations as one;
    * `wait_for_condition/4` - poll until a condition holds;
    * `map/4`, `parallel/3` - concurrent branches with completion rules;
    * `invoke/4` - invoke another function and wait for its result.

  ## Determinism

  On every replay the handler must call the same operations, in the same
  order, with the same names: put anything that varies (time, randomness,
  I/O) inside steps. A checkpoint that does not match the code (another
  type, name or parent at the same position) fails the execution with
  `NonDeterministicExecutionError`. Values come back from checkpoints
  through JSON (by default), so a step returning `%{id: 1}` gives
  `%{"id" => 1}`, on the first run too.

  Operations run in the process that owns the context; for concurrency use
  `map/4` and `parallel/3`, whose branches get their own processes and
  contexts.
  """

  alias LambdaRuntime.Durable.{
    Batch,
    Callback,
    Child,
    Condition,
    Context,
    Invoke,
    Runner,
    Step,
    Wait
  }

  @warm_modules [
    LambdaRuntime.Durable.Runner,
    LambdaRuntime.Durable.Execution,
    LambdaRuntime.Durable.Worker,
    LambdaRuntime.Durable.Context,
    LambdaRuntime.Durable.Identity,
    LambdaRuntime.Durable.Operation,
    LambdaRuntime.Durable.Envelope,
    LambdaRuntime.Durable.Outcome,
    LambdaRuntime.Durable.Step,
    LambdaRuntime.Durable.Serdes,
    LambdaRuntime.Durable.Serdes.JSON,
    LambdaRuntime.Durable.Service.HTTP,
    LambdaRuntime.AWS.ServiceClient,
    LambdaRuntime.AWS.SigV4,
    LambdaRuntime.AWS.HTTP
  ]

  @doc "Runs the durable execution: `input` is the execution's input (decoded JSON)."
  @callback handle_execution(input :: term(), Context.t()) :: term()

  defmacro __using__(_opts) do
    quote do
      @behaviour LambdaRuntime.Durable
      @behaviour LambdaRuntime.Handler

      @impl LambdaRuntime.Handler
      def init(_context) do
        LambdaRuntime.Durable.warm_up()
        {:ok, nil}
      end

      @impl LambdaRuntime.Handler
      def handle_event(event, context, state) do
        LambdaRuntime.Durable.execute(event, context, &handle_execution/2, state: state)
      end

      defoverridable init: 1, handle_event: 3
    end
  end

  @doc """
  Loads, during the function's init, what the first durable invocation
  would otherwise load: the durable modules, `:crypto` (operation ids,
  SigV4), `:inets` and, for the HTTPS endpoint, `:ssl` and the trust store
  (about 100-250 ms of CPU on this project's test machine). The default
  `init/1` of `use LambdaRuntime.Durable` calls it; a module that defines
  its own `init/1` should call it too. Never raises.
  """
  @spec warm_up() :: :ok
  def warm_up do
    Enum.each(@warm_modules, &Code.ensure_loaded/1)
    LambdaRuntime.Durable.OperationId.derive(nil, 1)
    {:ok, _} = Application.ensure_all_started(:inets)

    case LambdaRuntime.Durable.Service.HTTP.from_env() do
      {:ok, {_, %{endpoint: %{uri: %URI{scheme: "https"}}}}} ->
        {:ok, _} = Application.ensure_all_started(:ssl)
        :public_key.cacerts_get()

      _ ->
        :ok
    end

    :ok
  rescue
    _ -> :ok
  catch
    _, _ -> :ok
  end

  @doc """
  Runs `fun.(input, ctx)` as a durable execution for the invocation `event`
  and returns `{:ok, durable_response}` for the runtime to send. Options:
  `:state` (for `ctx.state`), `:client` (a checkpoint service, see
  `LambdaRuntime.Durable.Service`).

      def handle(event, context), do: LambdaRuntime.Durable.execute(event, context, &run/2)
  """
  @spec execute(
          term(),
          LambdaRuntime.Context.t() | nil,
          (term(), Context.t() -> term()),
          keyword()
        ) ::
          {:ok, map()}
  def execute(event, lambda_context, fun, opts \\ []),
    do: {:ok, Runner.run(fun, event, lambda_context, opts)}

  @doc """
  Runs `fun` once and checkpoints its result; on replay returns the
  checkpoint. `fun` takes no argument or a `%LambdaRuntime.Durable.Step{}`
  (attempt number, for logging with `LambdaRuntime.Durable.Logger`). It
  returns like a handler: `{:ok, value}`, `:ok`, `{:error, reason}`, a
  raise (a failure), or any value.

  Options: `:retry` (a `LambdaRuntime.Durable.Retry` strategy, `:none`, or
  a function; default AWS's 6 attempts with backoff), `:semantics`
  (`:at_least_once` (default) or `:at_most_once` per retry), `:serdes`,
  `:sub_type`, `:name`.

      {:ok, user} = Durable.step(ctx, :load_user, fn _ -> Users.get!(id) end, retry: Retry.exponential(max_attempts: 3))
  """
  @spec step(
          Context.t(),
          String.t() | atom() | nil,
          (() -> term()) | (Step.t() -> term()),
          keyword()
        ) ::
          {:ok, term()} | {:error, LambdaRuntime.Durable.Error.t()}
  def step(ctx, name, fun, opts) when is_function(fun),
    do: Step.run(ctx, fun, Keyword.put(opts, :name, name))

  @doc "`step/4` without options: `step(ctx, name, fun)`, or `step(ctx, fun, opts)`."
  def step(ctx, fun, opts) when is_function(fun) and is_list(opts), do: Step.run(ctx, fun, opts)
  def step(ctx, name, fun) when is_function(fun), do: step(ctx, name, fun, [])

  @doc "`step/4` with neither name nor options."
  def step(ctx, fun) when is_function(fun), do: Step.run(ctx, fun, [])

  @doc """
  Waits `duration` (seconds, or `{n, :minutes}` etc., at least 1 second)
  without running: the invocation suspends and the function is invoked
  again when the time has passed. Option: `:name`.
  """
  @spec wait(Context.t(), LambdaRuntime.Durable.Duration.t(), keyword()) :: :ok
  def wait(ctx, duration, opts \\ []), do: Wait.run(ctx, duration, opts)

  @doc """
  Creates a callback: `{:ok, %LambdaRuntime.Durable.Callback{id: id}}`. Send
  `id` to the system that will answer with `SendDurableExecutionCallbackSuccess`
  (or `Failure`, `Heartbeat`). Options: `:name`, `:timeout`,
  `:heartbeat_timeout` (durations; none by default), `:serdes` for the
  result (default: the raw string sent).
  """
  @spec create_callback(Context.t(), keyword()) :: {:ok, Callback.t()}
  def create_callback(ctx, opts \\ []), do: Callback.create(ctx, opts)

  @doc """
  The answer to a callback: `{:ok, result}`, or `{:error, error}` of kind
  `:callback` (the system reported a failure) or `:callback_timeout`;
  suspends until then.
  """
  @spec await_callback(Context.t(), Callback.t()) ::
          {:ok, term()} | {:error, LambdaRuntime.Durable.Error.t()}
  def await_callback(ctx, callback), do: Callback.await(ctx, callback)

  @doc """
  Creates a callback, calls `submitter.(callback_id)` (or
  `submitter.(callback_id, step)`) as a step (to
  hand the id over; retried by `:retry`), and awaits the answer, all in one
  child context (subtype `WaitForCallback`). Options: those of
  `create_callback/2` and `:retry`. A failed submitter is an error of kind
  `:callback_submitter`.
  """
  @spec wait_for_callback(
          Context.t(),
          (String.t() -> term()) | (String.t(), Step.t() -> term()),
          keyword()
        ) ::
          {:ok, term()} | {:error, LambdaRuntime.Durable.Error.t()}
  def wait_for_callback(ctx, submitter, opts \\ []), do: Callback.wait_for(ctx, submitter, opts)

  @doc """
  Runs `fun.(child_ctx)` as one checkpointed operation; its operations are
  the child's. Returns what `fun` returned (handler rules), from the
  checkpoint on replay. Options: `:serdes`, `:sub_type`, `:summary` (the
  payload for a result too large to checkpoint, see `LambdaRuntime.Durable.Child`).
  """
  @spec run_in_child_context(
          Context.t(),
          String.t() | atom() | nil,
          (Context.t() -> term()),
          keyword()
        ) ::
          {:ok, term()} | {:error, LambdaRuntime.Durable.Error.t()}
  def run_in_child_context(ctx, name, fun, opts \\ [])

  def run_in_child_context(ctx, fun, opts, []) when is_function(fun, 1) and is_list(opts),
    do: Child.run(ctx, fun, opts)

  def run_in_child_context(ctx, name, fun, opts) when is_function(fun, 1),
    do: Child.run(ctx, fun, Keyword.put(opts, :name, name))

  @doc "`run_in_child_context/4` without a name."
  def run_in_child_context(ctx, fun) when is_function(fun, 1), do: Child.run(ctx, fun, [])

  @doc """
  Polls: `check.(state)` or `check.(state, step)` computes the next state
  from the previous one (starting at `initial`), one check per invocation;
  the `:strategy` (`LambdaRuntime.Durable.WaitStrategy`, required) decides
  after each check whether and when to check again. Returns the final
  state. Options: `:strategy`, `:name`, `:serdes`.
  """
  @spec wait_for_condition(
          Context.t(),
          term(),
          (term() -> term()) | (term(), Step.t() -> term()),
          keyword()
        ) ::
          {:ok, term()} | {:error, LambdaRuntime.Durable.Error.t()}
  def wait_for_condition(ctx, initial, check, opts), do: Condition.run(ctx, initial, check, opts)

  @doc """
  Runs `fun.(ctx, item)` (or `fun.(ctx, item, index)`) for each item, in
  concurrent branches (see `LambdaRuntime.Durable.Batch`), and returns
  `{:ok, %LambdaRuntime.Durable.BatchResult{}}`. Options: `:name`,
  `:max_concurrency`, completion rules (`LambdaRuntime.Durable.Completion`),
  `:nesting` (`:nested` or `:flat`), `:item_namer` (`fn item, index -> name`),
  `:item_serdes` (each item's result), `:serdes` (the batch result),
  `:summary`.
  """
  @spec map(Context.t(), [term()], function(), keyword()) ::
          {:ok, LambdaRuntime.Durable.BatchResult.t()} | {:error, LambdaRuntime.Durable.Error.t()}
  def map(ctx, items, fun, opts \\ [])
      when is_list(items) and (is_function(fun, 2) or is_function(fun, 3)) do
    {namer, opts} = Keyword.pop(opts, :item_namer)

    branches =
      items
      |> Enum.with_index()
      |> Enum.map(fn {item, index} ->
        name = if namer, do: Context.name!(namer.(item, index)), else: "map-item-#{index}"
        body = if is_function(fun, 2), do: &fun.(&1, item), else: &fun.(&1, item, index)
        {name, body}
      end)

    Batch.run(ctx, :map, branches, opts)
  end

  @doc """
  Runs branches concurrently: each is `fun.(ctx)` or `{name, fun}`. Returns
  `{:ok, %LambdaRuntime.Durable.BatchResult{}}`. Options as `map/4` but
  `:item_namer`.
  """
  @spec parallel(Context.t(), [function() | {String.t() | atom(), function()}], keyword()) ::
          {:ok, LambdaRuntime.Durable.BatchResult.t()} | {:error, LambdaRuntime.Durable.Error.t()}
  def parallel(ctx, branches, opts \\ []) when is_list(branches) do
    branches =
      branches
      |> Enum.with_index()
      |> Enum.map(fn
        {{name, fun}, _index} when is_function(fun, 1) ->
          {Context.name!(name), fun}

        {fun, index} when is_function(fun, 1) ->
          {"parallel-branch-#{index}", fun}

        {other, _} ->
          raise ArgumentError,
                "a parallel branch is fun(ctx) or {name, fun(ctx)}, got: #{inspect(other)}"
      end)

    Batch.run(ctx, :parallel, branches, opts)
  end

  @doc """
  Invokes the function `function_name` (a name, or a qualified ARN) with
  `payload` and waits for its result: `{:ok, result}` or `{:error, error}`
  of kind `:invoke`. Options: `:name`, `:tenant_id`, `:payload_serdes`,
  `:result_serdes`.
  """
  @spec invoke(Context.t(), String.t(), term(), keyword()) ::
          {:ok, term()} | {:error, LambdaRuntime.Durable.Error.t()}
  def invoke(ctx, function_name, payload, opts \\ []),
    do: Invoke.run(ctx, function_name, payload, opts)
end
