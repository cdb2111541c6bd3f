defmodule LambdaRuntime.TestHandlers do
  @moduledoc false
  # Handler modules for in-VM tests of HandlerRef and Invoker. Each function
  # does one thing that a real handler might do.

  defmodule Plain do
    @moduledoc false
    def two(event, context), do: {:ok, %{"event" => event, "request_id" => context.request_id}}
    def one(event), do: {:ok, %{"only_event" => event}}
    def both(_event), do: {:ok, "arity 1"}
    def both(_event, _context), do: {:ok, "arity 2"}
    def valid?(event), do: is_map(event)
    def bang!(_event, _context), do: :ok
    def zero, do: :ok
    def three(_a, _b, _c), do: :ok
    defp hidden(event), do: event
    def calls_private(event), do: hidden(event)
  end

  defmodule Outcomes do
    @moduledoc false
    def ok_tuple(event, _context), do: {:ok, %{"got" => event}}
    def bare_ok(_event, _context), do: :ok
    def bare_value(_event, _context), do: %{"statusCode" => 200, "body" => "hi"}
    def error_string(_event, _context), do: {:error, "it went wrong"}
    def error_exception(_event, _context), do: {:error, %ArgumentError{message: "bad argument"}}
    def error_term(_event, _context), do: {:error, {:db, :timeout}}
    def raise_error(_event, _context), do: raise(ArgumentError, "raised on purpose")
    def raise_erlang(_event, _context), do: :erlang.error(:badarith)
    def throw_value(_event, _context), do: throw({:thrown, 1})
    def exit_reason(_event, _context), do: exit(:went_away)
    def kill_self(_event, _context), do: Process.exit(self(), :kill)
    def unencodable(_event, _context), do: {:ok, %{"pid" => self()}}
    def bad_utf8(_event, _context), do: {:ok, <<"ok", 0xFF>>}
    def duplicate_keys(_event, _context), do: {:ok, %{:a => 1, "a" => 2}}
    def exploding(_event, _context), do: {:ok, %LambdaRuntime.TestSupport.Exploding{}}

    def log_line(_event, _context) do
      require Logger
      Logger.warning("line from the handler")
      :ok
    end

    def context(_event, context) do
      {:ok,
       %{
         "request_id" => context.request_id,
         "remaining" => LambdaRuntime.Context.remaining_time_ms(context),
         "trace_env" => System.get_env("_X_AMZN_TRACE_ID")
       }}
    end
  end

  defmodule Looper do
    @moduledoc false
    # A behaviour handler that tells the test (its state) its pid, then never returns.
    use LambdaRuntime.Handler

    @impl true
    def handle_event(_event, _context, test_pid) do
      send(test_pid, {:handler_pid, self()})
      loop()
    end

    defp loop, do: loop()
  end

  defmodule Sleeper do
    @moduledoc false
    use LambdaRuntime.Handler

    @impl true
    def handle_event(%{"ms" => ms}, _context, test_pid) do
      send(test_pid, {:handler_pid, self()})
      Process.sleep(ms)
      {:ok, %{"slept" => ms}}
    end
  end

  defmodule Stateful do
    @moduledoc false
    use LambdaRuntime.Handler

    @impl true
    def init(context), do: {:ok, %{"function" => context.function_name, "n" => 7}}

    @impl true
    def handle_event(event, _context, state), do: {:ok, %{"state" => state, "event" => event}}
  end

  defmodule NoInit do
    @moduledoc false
    use LambdaRuntime.Handler

    @impl true
    def handle_event(_event, _context, state), do: {:ok, %{"state" => state}}
  end

  defmodule InitRaises do
    @moduledoc false
    use LambdaRuntime.Handler

    @impl true
    def init(_context), do: raise(RuntimeError, "init blew up")

    @impl true
    def handle_event(_event, _context, _state), do: :ok
  end

  defmodule InitError do
    @moduledoc false
    use LambdaRuntime.Handler

    @impl true
    def init(_context), do: {:error, :no_database}

    @impl true
    def handle_event(_event, _context, _state), do: :ok
  end

  defmodule InitBadReturn do
    @moduledoc false
    use LambdaRuntime.Handler

    @impl true
    def init(_context), do: :ready

    @impl true
    def handle_event(_event, _context, _state), do: :ok
  end

  defmodule NotAHandler do
    @moduledoc false
    def something(_event, _context), do: :ok
  end
end
