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

  ## The error-type header

  `Lambda-Runtime-Function-Error-Type` (on `/error` and `/init/error`, and
  as a trailer of a stream that fails after its first byte) is
  `header_type/1`, the one rule for it: the type keeps only letters,
  digits, `.`, `_` and `-` (no leading or trailing dot); one that then
  starts with `Function.`, `Runtime.` or `Sandbox.` is sent as it is, any
  other gets the `Function.` category (`Function.ArgumentError`); an
  empty one is `Function.Unknown`. The NIF sends the value it is given.
  """

  import Bitwise

  defstruct [:type, :message, stack_trace: [], frames: []]

  @typedoc "A stack frame for X-Ray: file, line and a `Module.fun/arity` label."
  @type frame :: %{path: String.t(), line: non_neg_integer(), label: String.t()}

  @type t :: %__MODULE__{
          type: String.t(),
          message: String.t(),
          stack_trace: [String.t()],
          frames: [frame()]
        }

  # The X-Ray cause header stays far below Lambda's 1 MiB limit.
  @max_xray_bytes 64 * 1024

  @categories ["Function.", "Runtime.", "Sandbox."]

  @doc "An error of the given type and message."
  @spec new(String.t(), String.t(), [String.t()]) :: t()
  def new(type, message, stack_trace \\ []) do
    %__MODULE__{
      type: text(type),
      message: text(message),
      stack_trace: Enum.map(stack_trace, &text/1)
    }
  end

  @doc "From an exception and (optionally) the stack trace where it was raised."
  @spec from_exception(Exception.t(), Exception.stacktrace()) :: t()
  def from_exception(exception, stacktrace \\ []) do
    report =
      new(inspect(exception.__struct__), safe_message(exception), format_stacktrace(stacktrace))

    %{report | frames: frames(stacktrace)}
  end

  @doc "From what `catch kind, reason` caught."
  @spec from_caught(:error | :throw | :exit, term(), Exception.stacktrace()) :: t()
  def from_caught(:error, reason, stacktrace),
    do: from_exception(Exception.normalize(:error, reason, stacktrace), stacktrace)

  def from_caught(:throw, value, stacktrace) do
    report =
      new("UncaughtThrow", "uncaught throw: #{inspect(value)}", format_stacktrace(stacktrace))

    %{report | frames: frames(stacktrace)}
  end

  def from_caught(:exit, reason, stacktrace) do
    report =
      new("ProcessExit", "handler exited: #{inspect(reason)}", format_stacktrace(stacktrace))

    %{report | frames: frames(stacktrace)}
  end

  @doc "From the reason a handler process went down without answering."
  @spec from_down(term()) :: t()
  def from_down(:killed), do: new("ProcessExit", "handler process was killed")
  def from_down(reason), do: new("ProcessExit", "handler process exited: #{inspect(reason)}")

  @doc "From the `reason` in a handler's `{:error, reason}`."
  @spec from_error_return(term()) :: t()
  def from_error_return(%_{__exception__: true} = exception), do: from_exception(exception)
  def from_error_return(message) when is_binary(message), do: new("HandlerError", message)
  def from_error_return(reason), do: new("HandlerError", inspect(reason))

  @doc "The error as Lambda shows it: `errorType`, `errorMessage`, `stackTrace`."
  @spec to_map(t()) :: %{String.t() => String.t() | [String.t()]}
  def to_map(%__MODULE__{} = report) do
    %{
      "errorType" => report.type,
      "errorMessage" => report.message,
      "stackTrace" => report.stack_trace
    }
  end

  @doc "The `Lambda-Runtime-Function-Error-Type` value (see the module doc)."
  @spec header_type(t()) :: String.t()
  def header_type(%__MODULE__{type: type}) do
    case type |> header_chars() |> trim_dots() do
      "" -> "Function.Unknown"
      clean -> if String.starts_with?(clean, @categories), do: clean, else: "Function." <> clean
    end
  end

  defp header_chars(type) do
    for <<c <- type>>, c in ?a..?z or c in ?A..?Z or c in ?0..?9 or c in [?., ?_, ?-], into: "" do
      <<c>>
    end
  end

  defp trim_dots("." <> rest), do: trim_dots(rest)

  defp trim_dots(type) do
    if String.ends_with?(type, "."),
      do: trim_dots(binary_part(type, 0, byte_size(type) - 1)),
      else: type
  end

  @doc """
  The `Lambda-Runtime-Function-XRay-Error-Cause` header value: the working
  directory, the exception with its stack frames, and the files involved, as
  JSON; frames are dropped from the end to stay under 64 KiB.
  """
  @spec xray_cause(t()) :: String.t()
  def xray_cause(%__MODULE__{} = report), do: xray_cause(report, report.frames)

  defp xray_cause(report, frames) do
    cause = %{
      "working_directory" => cwd(),
      "exceptions" => [
        %{"type" => report.type, "message" => truncate(report.message), "stack" => frames}
      ],
      "paths" => frames |> Enum.map(& &1.path) |> Enum.uniq()
    }

    json = cause |> LambdaRuntime.JSON.encode!() |> ascii_only()

    if byte_size(json) > @max_xray_bytes and frames != [],
      do: xray_cause(report, Enum.take(frames, div(length(frames), 2))),
      else: json
  end

  @doc false
  # The report as the NIF takes it on every path (/error, /init/error, a
  # failed stream's trailers): native/lambda_runtime_nif/src/error_report.rs.
  def to_wire(%__MODULE__{} = report) do
    %{
      header_type: header_type(report),
      error_type: report.type,
      error_message: report.message,
      stack_trace: report.stack_trace,
      xray_cause: xray_cause(report)
    }
  end

  defp frames(stacktrace) when is_list(stacktrace) do
    for {mod, fun, arity, location} = entry <- stacktrace, not runtime_frame?(entry) do
      arity = if is_list(arity), do: length(arity), else: arity

      %{
        path: location |> Keyword.get(:file, ~c"unknown") |> to_string(),
        line: Keyword.get(location, :line, 0),
        label: Exception.format_mfa(mod, fun, arity)
      }
    end
  end

  defp frames(_), do: []

  # Header values are visible ASCII: escape everything else (DEL and
  # beyond; the JSON encoder already escapes control characters) the JSON way.
  defp ascii_only(json) do
    if ascii?(json), do: json, else: for(<<c::utf8 <- json>>, into: "", do: ascii_char(c))
  end

  defp ascii?(<<c, rest::binary>>) when c < 127, do: ascii?(rest)
  defp ascii?(<<>>), do: true
  defp ascii?(_), do: false

  defp ascii_char(c) when c < 127, do: <<c>>

  defp ascii_char(c) when c < 0x10000,
    do: "\\u" <> String.pad_leading(Integer.to_string(c, 16), 4, "0")

  defp ascii_char(c) do
    c = c - 0x10000
    ascii_char(0xD800 + (c >>> 10)) <> ascii_char(0xDC00 + (c &&& 0x3FF))
  end

  defp truncate(message) when byte_size(message) > 8192, do: String.slice(message, 0, 2048) <> "…"
  defp truncate(message), do: message

  # Everything sent to Lambda must be UTF-8 text; a message built from raw
  # bytes is shown inspected rather than lost.
  defp text(value) when is_binary(value) do
    if String.valid?(value), do: value, else: inspect(value)
  end

  defp text(value), do: inspect(value)

  defp cwd do
    case File.cwd() do
      {:ok, dir} -> dir
      _ -> "/"
    end
  end

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

  defp runtime_frame?({m, _, _, _}) when m in [LambdaRuntime.Invoker, LambdaRuntime.Streamer],
    do: true

  defp runtime_frame?(_), do: false

  # An exception whose message/1 itself raises must not hide the original.
  defp safe_message(exception) do
    Exception.message(exception)
  rescue
    _ -> inspect(exception)
  end
end
