# Handlers for the developer-experience tests. They are compiled into a
# temporary LAMBDA_TASK_ROOT (see task_root.exs), so the same beams run in
# this VM, under bootstrap.sh against LambdaRuntime.Tools.Emulator, and under
# bootstrap.sh against cargo-lambda's emulator.
defmodule DxHandlers.Echo do
  @moduledoc false
  alias LambdaRuntime.Context

  # Deterministic: the same event gives the same response on every emulator.
  def handle(event, %Context{} = context),
    do: {:ok, %{"event" => event, "function_name" => context.function_name}}

  def fail(_event, _context), do: raise(ArgumentError, "asked to fail")

  # One runtime for several scenarios: the event says what to do.
  def dispatch(%{"do" => "raise"}, _context), do: raise(ArgumentError, "asked to fail")
  def dispatch(%{"do" => "error"}, _context), do: {:error, "it went wrong"}
  def dispatch(%{"do" => "throw"}, _context), do: throw(:thrown)
  def dispatch(event, context), do: handle(event, context)

  def error_tuple(_event, _context), do: {:error, "it went wrong"}

  # Where the runtime runs: the Erlang root, the working directory, the task root.
  def where(_event, _context) do
    {:ok,
     %{
       "erlang_root" => List.to_string(:code.root_dir()),
       "cwd" => File.cwd!(),
       "task_root" => System.get_env("LAMBDA_TASK_ROOT"),
       "tmp_writable" => File.write("/tmp/probe", "x") == :ok,
       "task_writable" => File.write(Path.join(File.cwd!(), "probe"), "x") == :ok
     }}
  end

  def env(%{"name" => name}, _context), do: {:ok, %{name => System.get_env(name)}}

  # A response of `bytes` bytes of JSON (a string of bytes - 2 characters).
  def sized(%{"bytes" => bytes}, _context), do: {:ok, String.duplicate("x", bytes - 2)}

  def sleep(%{"ms" => ms}, _context) do
    Process.sleep(ms)
    {:ok, "slept"}
  end

  def context(_event, %Context{} = context) do
    {:ok,
     %{
       "request_id" => context.request_id,
       "deadline_ms" => context.deadline_ms,
       "arn" => context.invoked_function_arn,
       "trace_id" => context.trace_id,
       "client_context" => context.client_context,
       "remaining_ms" => Context.remaining_time_ms(context)
     }}
  end
end

defmodule DxHandlers.Hello do
  @moduledoc false
  require Logger

  # examples/hello's shape: greets, and tells what kind of event it got.
  def handle(event, _context) do
    Logger.info("greeting #{Map.get(event, "name", "world")}")
    {:ok, %{"message" => "Hello, #{Map.get(event, "name", "world")}!", "keys" => keys(event)}}
  end

  defp keys(event) when is_map(event), do: event |> Map.keys() |> Enum.sort()
  defp keys(_), do: []
end

defmodule DxHandlers.Stateful do
  @moduledoc false
  use LambdaRuntime.Handler

  @impl true
  def init(_context), do: {:ok, %{greeting: "Hi"}}

  @impl true
  def handle_event(%{"name" => name}, _context, state), do: {:ok, "#{state.greeting}, #{name}"}
end

defmodule DxHandlers.BadInit do
  @moduledoc false
  use LambdaRuntime.Handler

  @impl true
  def init(_context), do: {:error, :no_database}

  @impl true
  def handle_event(_event, _context, _state), do: :ok
end

defmodule DxHandlers.Streaming do
  @moduledoc false
  # Streamed responses (LambdaRuntime.StreamedResponse).

  # "first\n", then, once the file `gate` exists, "second\n".
  def gated(%{"gate" => gate}, _context) do
    chunks =
      Stream.resource(
        fn -> 0 end,
        fn
          0 ->
            {["first\n"], 1}

          1 ->
            wait_for(gate)
            {["second\n"], 2}

          2 ->
            {:halt, 2}
        end,
        fn _ -> :ok end
      )

    {:ok, LambdaRuntime.StreamedResponse.new(chunks, content_type: "text/plain")}
  end

  # `mib` chunks of 1 MiB (one binary, sent again and again).
  def sized(%{"mib" => mib}, _context) do
    chunk = :binary.copy("x", 1024 * 1024)
    {:ok, LambdaRuntime.StreamedResponse.new(Stream.map(1..mib, fn _ -> chunk end))}
  end

  def fails_midway(_event, _context) do
    chunks = Stream.map([1, 2], fn n -> if n == 1, do: "partial", else: raise("midway") end)
    {:ok, LambdaRuntime.StreamedResponse.new(chunks)}
  end

  defp wait_for(path) do
    unless File.exists?(path) do
      Process.sleep(5)
      wait_for(path)
    end
  end
end

defmodule DxHandlers.Responses do
  @moduledoc false
  # The response helpers, returned from handlers.
  alias LambdaRuntime.{BatchResponse, HTTPResponse}

  def http(event, _context) do
    %{"path" => event["rawPath"] || event["path"]}
    |> HTTPResponse.json(status: 201)
    |> HTTPResponse.put_cookie("seen=1; Path=/")
    |> HTTPResponse.for_event(event)
  end

  # Fails the records whose body or data mentions "cancel".
  def batch(event, _context) do
    BatchResponse.process(event, fn record ->
      text = record["body"] || Base.decode64!(record["kinesis"]["data"])
      if text =~ "cancel", do: {:error, :cancelled}, else: :ok
    end)
  end
end
