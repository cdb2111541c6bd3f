defmodule LambdaRuntime.HandlerRef do
  @moduledoc """
  A resolved `_HANDLER`: which module and function to call, and how.
  The rules are documented in `LambdaRuntime.Handler`.
  """

  alias LambdaRuntime.{Context, ErrorReport}

  defstruct [:module, :function, :arity, :kind, events: nil]

  @type t :: %__MODULE__{
          module: module(),
          function: atom(),
          arity: 1 | 2 | 3,
          kind: :function | :behaviour,
          events: nil | :all | [atom()]
        }

  @doc "Parses and checks a `_HANDLER` value."
  @spec resolve(String.t() | nil) :: {:ok, t()} | {:error, ErrorReport.t()}
  def resolve(handler) do
    with {:ok, module_name, function} <- parse(handler),
         {:ok, module} <- load(module_name),
         {:ok, ref} <- find(module, function) do
      {:ok, typed_events(ref)}
    end
  end

  # `use LambdaRuntime.Events` in the handler's module: events are decoded
  # into structs before the handler gets them (LambdaRuntime.Events).
  defp typed_events(%__MODULE__{module: m} = ref) do
    if function_exported?(m, :__lambda_events__, 0),
      do: %{ref | events: m.__lambda_events__()},
      else: ref
  end

  @doc """
  Starts the OTP application the handler module belongs to (if it has an
  `.app` file next to its beam), then runs `init/1` for behaviour handlers.
  Returns the state every invocation gets.
  """
  @spec init(t(), Context.t()) :: {:ok, term()} | {:error, ErrorReport.t()}
  def init(%__MODULE__{} = ref, %Context{} = context) do
    with :ok <- start_application(ref.module) do
      run_init(ref, context)
    end
  end

  @doc "Calls the handler for one event."
  @spec call(t(), term(), Context.t(), term()) :: term()
  def call(%__MODULE__{events: only} = ref, event, context, state) when only != nil,
    do: call(%{ref | events: nil}, LambdaRuntime.Events.for_handler(event, only), context, state)

  def call(%__MODULE__{kind: :behaviour, module: m}, event, context, state),
    do: m.handle_event(event, context, state)

  def call(%__MODULE__{arity: 2, module: m, function: f}, event, context, _state),
    do: apply(m, f, [event, context])

  def call(%__MODULE__{arity: 1, module: m, function: f}, event, _context, _state),
    do: apply(m, f, [event])

  @doc false
  @spec parse(String.t() | nil) :: {:ok, String.t(), String.t() | nil} | {:error, ErrorReport.t()}
  def parse(nil), do: invalid("_HANDLER is not set; set it to Module.function or Module")

  # Erlang's :string (through Config.trim/1) and :binary rather than
  # Elixir's String: this runs before the first /next, and every module
  # loaded there costs cold-start time (:string is loaded by then, by the
  # elixir application's start).
  def parse(handler) do
    name =
      case LambdaRuntime.Config.trim(handler) do
        "Elixir." <> rest -> rest
        trimmed -> trimmed
      end

    segments = :binary.split(name, ".", [:global])

    cond do
      name == "" ->
        invalid("_HANDLER is empty; set it to Module.function or Module")

      not Enum.all?(segments, &identifier?/1) ->
        invalid("_HANDLER #{inspect(handler)} is not of the form Module.function or Module")

      function_name?(:lists.last(segments)) and length(segments) > 1 ->
        {module_segments, [function]} = Enum.split(segments, -1)
        module_name(handler, module_segments, function)

      true ->
        module_name(handler, segments, nil)
    end
  end

  defp module_name(handler, segments, function) do
    if Enum.all?(segments, &alias?/1) do
      {:ok, Enum.join(segments, "."), function}
    else
      invalid("_HANDLER #{inspect(handler)}: #{Enum.join(segments, ".")} is not a module name")
    end
  end

  defp function_name?(<<c, _::binary>>), do: c in ?a..?z or c == ?_
  defp function_name?(_), do: false

  # Plain binary matching rather than Regex (see parse/1).
  # `[A-Za-z_][A-Za-z0-9_]*[?!]?`
  defp identifier?(<<c, rest::binary>>) when c in ?a..?z or c in ?A..?Z or c == ?_,
    do: identifier_rest?(rest)

  defp identifier?(_), do: false

  defp identifier_rest?(<<>>), do: true
  defp identifier_rest?(<<c>>) when c in [??, ?!], do: true

  defp identifier_rest?(<<c, rest::binary>>)
       when c in ?a..?z or c in ?A..?Z or c in ?0..?9 or c == ?_,
       do: identifier_rest?(rest)

  defp identifier_rest?(_), do: false

  # `[A-Z][A-Za-z0-9_]*`
  defp alias?(<<c, rest::binary>>) when c in ?A..?Z,
    do: identifier_rest?(rest) and not ends_with_mark?(rest)

  defp alias?(_), do: false

  defp ends_with_mark?(<<>>), do: false
  defp ends_with_mark?(name), do: :binary.last(name) in [??, ?!]

  defp load(module_name) do
    module = String.to_atom("Elixir." <> module_name)

    case :code.ensure_loaded(module) do
      {:module, module} ->
        {:ok, module}

      {:error, reason} ->
        not_found(
          "module #{module_name} is not available (#{reason}); " <>
            "is it compiled into the function package?"
        )
    end
  end

  defp find(module, nil) do
    if function_exported?(module, :handle_event, 3) do
      {:ok, %__MODULE__{module: module, function: :handle_event, arity: 3, kind: :behaviour}}
    else
      not_found(
        "#{inspect(module)} does not implement LambdaRuntime.Handler (no handle_event/3); " <>
          "use _HANDLER=#{inspect(module)}.function_name, or `use LambdaRuntime.Handler`"
      )
    end
  end

  defp find(module, function_name) do
    function = String.to_atom(function_name)

    cond do
      function_exported?(module, function, 2) ->
        {:ok, %__MODULE__{module: module, function: function, arity: 2, kind: :function}}

      function_exported?(module, function, 1) ->
        {:ok, %__MODULE__{module: module, function: function, arity: 1, kind: :function}}

      true ->
        not_found(
          "#{inspect(module)}.#{function_name}/2 (or /1) is not exported; #{inspect(module)} exports " <>
            exports(module)
        )
    end
  end

  defp exports(module) do
    case for {f, a} <- module.__info__(:functions), a in [1, 2], do: "#{f}/#{a}" do
      [] -> "no functions of arity 1 or 2"
      list -> Enum.join(list, ", ")
    end
  rescue
    _ -> "an unknown set of functions"
  end

  defp start_application(module) do
    with beam when is_list(beam) <- :code.which(module),
         {:ok, files} <- :file.list_dir(:filename.dirname(beam)),
         [app_file | _] <- for(f <- files, :filename.extension(f) == ~c".app", do: f),
         app = app_file |> :filename.basename(~c".app") |> List.to_atom(),
         {:error, reason} <- Application.ensure_all_started(app) do
      {:error,
       ErrorReport.new(
         "Runtime.InitError",
         "could not start application #{inspect(app)}: #{inspect(reason)}"
       )}
    else
      _ -> :ok
    end
  end

  defp run_init(%__MODULE__{kind: :behaviour, module: m}, context) do
    if function_exported?(m, :init, 1) do
      try do
        case m.init(context) do
          {:ok, state} ->
            {:ok, state}

          {:error, reason} ->
            init_failed("#{inspect(m)}.init/1 returned an error: #{inspect(reason)}")

          other ->
            init_failed("#{inspect(m)}.init/1 must return {:ok, state}, got: #{inspect(other)}")
        end
      catch
        kind, reason ->
          caught = ErrorReport.from_caught(kind, reason, __STACKTRACE__)

          {:error,
           %{
             caught
             | type: "Runtime.InitError",
               message: "#{inspect(m)}.init/1 failed: #{caught.type}: #{caught.message}"
           }}
      end
    else
      {:ok, nil}
    end
  end

  defp run_init(_ref, _context), do: {:ok, nil}

  defp init_failed(message), do: {:error, ErrorReport.new("Runtime.InitError", message)}
  defp invalid(message), do: {:error, ErrorReport.new("Runtime.InvalidHandler", message)}
  defp not_found(message), do: {:error, ErrorReport.new("Runtime.HandlerNotFound", message)}

  @doc false
  def describe(%__MODULE__{kind: :behaviour, module: m}),
    do: "#{inspect(m)} (LambdaRuntime.Handler)"

  def describe(%__MODULE__{module: m, function: f, arity: a}), do: "#{inspect(m)}.#{f}/#{a}"
end
