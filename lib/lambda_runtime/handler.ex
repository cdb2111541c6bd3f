defmodule LambdaRuntime.Handler do
  @moduledoc """
  How the runtime finds and calls your code, from the `_HANDLER` setting.

  ## `_HANDLER` rules

    * `Module.function`: calls `Module.function(event, context)` if it is
      exported with arity 2, else `Module.function(event)` (arity 1). The last
      segment starts with a lower-case letter or `_`; names may end in `?` or `!`.
    * `Module`: the module implements this behaviour
      (`use LambdaRuntime.Handler`); the runtime calls `init/1` once, if
      defined, before asking for the first event, then
      `handle_event(event, context, state)` for every event.
    * An `Elixir.` prefix is accepted and ignored: `Elixir.MyApp.Handler`
      is `MyApp.Handler`. Surrounding whitespace is ignored.
    * When the module belongs to an OTP application with an `.app` file
      (every Mix project has one), that application and its dependencies
      are started before `init/1`, so supervision trees work as usual.

  Anything else, a module that is not loaded or a function that is not
  exported, fails the function's init with `Runtime.InvalidHandler` or
  `Runtime.HandlerNotFound`, and the runtime exits.

  ## Return values

    * `{:ok, response}`: `response` is encoded as JSON and returned.
    * `:ok`: the response is JSON `null`.
    * `{:error, reason}`: the invocation fails; an exception `reason` keeps
      its type and message, a binary is the message of a `HandlerError`,
      anything else is inspected.
    * anything else is itself the response (so `%{"statusCode" => 200}`
      works as well as `{:ok, %{"statusCode" => 200}}`).

  A raise, throw or exit in the handler is reported as a function error with
  the exception's type, message and stack trace; see `LambdaRuntime.ErrorReport`.
  The handler runs in its own process for each event, so a crash never
  reaches the runtime loop.

  ## Example

      defmodule MyApp.Handler do
        use LambdaRuntime.Handler

        @impl true
        def init(_context), do: {:ok, %{greeting: "Hello"}}

        @impl true
        def handle_event(%{"name" => name}, _context, state),
          do: {:ok, %{message: "\#{state.greeting}, \#{name}!"}}
      end
  """

  alias LambdaRuntime.Context

  @doc """
  Runs once, before the first event, in a long-lived process (ETS tables
  and processes it starts outlive it). The state reaches every invocation.

  Each invocation runs in its own process, so the state is copied into it:
  keep it small (a 100 000-entry map costs about 2.6 ms per invocation),
  and put large read-only data in `:persistent_term` or ETS from `init/1`.
  """
  @callback init(Context.t()) :: {:ok, state :: term()} | {:error, reason :: term()}

  @doc "Handles one event."
  @callback handle_event(event :: term(), Context.t(), state :: term()) :: term()

  @doc """
  Runs on graceful shutdown (SIGTERM; see `LambdaRuntime.Shutdown`) with
  reason `:sigterm`, after running invocations finished. The return value
  is ignored.
  """
  @callback terminate(reason :: term(), state :: term()) :: term()

  @optional_callbacks init: 1, terminate: 2

  defmacro __using__(_opts) do
    quote do
      @behaviour LambdaRuntime.Handler
    end
  end
end
