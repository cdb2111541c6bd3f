defmodule LambdaRuntime.ErrorReport do
  @moduledoc """
  An error as Lambda receives it: `errorType`, `errorMessage` and
  `stackTrace`, plus the `Lambda-Runtime-Function-Error-Type` header.

  ## Error types

  | what happened                               | `errorType`                    |
  | ------------------------------------------- | ------------------------------ |
  | handler raised `ArgumentError`              | `ArgumentError`                |
  | handler raised `MyApp.Invalid`              | `MyApp.Invalid`                |
  | handler returned `{:error, %SomeError{}}`   | `SomeError`                    |
  | handler returned `{:error, other}`          | `HandlerError`                 |
  | handler threw a value                       | `UncaughtThrow`                |
  | handler exited, or its process was killed   | `ProcessExit`                  |
  | deadline passed while the handler ran       | `Sandbox.Timedout`             |
  | response too large for Lambda (HTTP 413)    | `Function.ResponseSizeTooLarge`|
  | response cannot be encoded as JSON          | `Runtime.InvalidResponse`      |
  | event is not valid JSON                     | `Runtime.InvalidEvent`         |
  | `_HANDLER` malformed or missing             | `Runtime.InvalidHandler`       |
  | handler module or function not found        | `Runtime.HandlerNotFound`      |
  | `init/1` raised or returned an error        | `Runtime.InitError`            |

  The header always has the `Category.Reason` shape: a type that already
  starts with `Function.`, `Runtime.` or `Sandbox.` is sent as it is, any
  other gets the `Function.` category (`Function.ArgumentError`).
  """

  defstruct [:type, :message, stack_trace: []]

  @type t :: %__MODULE__{type: String.t(), message: String.t(), stack_trace: [String.t()]}

  @categories ["Function.", "Runtime.", "Sandbox."]

  @doc "An error of the given type and message."
  @spec new(String.t(), String.t(), [String.t()]) :: t()
  def new(type, message, stack_trace \\ []),
    do: %__MODULE__{type: type, message: message, stack_trace: stack_trace}

  @doc "From an exception and (optionally) the stack trace where it was raised."
  @spec from_exception(Exception.t(), Exception.stacktrace()) :: t()
  def from_exception(exception, stacktrace \\ []) do
    new(inspect(exception.__struct__), safe_message(exception), format_stacktrace(stacktrace))
  end

  @doc "From what `catch kind, reason` caught."
  @spec from_caught(:error | :throw | :exit, term(), Exception.stacktrace()) :: t()
  def from_caught(:error, reason, stacktrace),
    do: from_exception(Exception.normalize(:error, reason, stacktrace), stacktrace)

  def from_caught(:throw, value, stacktrace),
    do: new("UncaughtThrow", "uncaught throw: #{inspect(value)}", format_stacktrace(stacktrace))

  def from_caught(:exit, reason, stacktrace),
    do: new("ProcessExit", "handler exited: #{inspect(reason)}", format_stacktrace(stacktrace))

  @doc "From the reason a handler process went down without answering."
  @spec from_down(term()) :: t()
  def from_down(:killed), do: new("ProcessExit", "handler process was killed")
  def from_down(reason), do: new("ProcessExit", "handler process exited: #{inspect(reason)}")

  @doc "From the `reason` in a handler's `{:error, reason}`."
  @spec from_error_return(term()) :: t()
  def from_error_return(%_{__exception__: true} = exception), do: from_exception(exception)
  def from_error_return(message) when is_binary(message), do: new("HandlerError", message)
  def from_error_return(reason), do: new("HandlerError", inspect(reason))

  @doc "The `Lambda-Runtime-Function-Error-Type` header value."
  @spec header_type(t()) :: String.t()
  def header_type(%__MODULE__{type: type}) do
    if String.starts_with?(type, @categories), do: type, else: "Function." <> type
  end

  @doc false
  # The shape the NIF takes: {header_type, error_type, message, stack_trace}.
  def to_wire(%__MODULE__{} = report),
    do: {header_type(report), report.type, report.message, report.stack_trace}

  @doc """
  Formats a stack trace as one readable line per frame, without the
  runtime's own frames below the handler.
  """
  @spec format_stacktrace(Exception.stacktrace()) :: [String.t()]
  def format_stacktrace(stacktrace) when is_list(stacktrace) do
    stacktrace
    |> Enum.reject(&runtime_frame?/1)
    |> Enum.map(&Exception.format_stacktrace_entry/1)
  end

  def format_stacktrace(_), do: []

  defp runtime_frame?({LambdaRuntime.Invoker, _, _, _}), do: true
  defp runtime_frame?(_), do: false

  # An exception whose message/1 itself raises must not hide the original.
  defp safe_message(exception) do
    Exception.message(exception)
  rescue
    _ -> inspect(exception)
  end
end
