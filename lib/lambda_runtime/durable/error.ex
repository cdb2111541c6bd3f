defmodule LambdaRuntime.Durable.Error do
  @moduledoc """
  A failed durable operation, as the operations return it:
  `{:error, %LambdaRuntime.Durable.Error{}}`.

    * `:kind` - which operation failed: `:step`, `:child_context`,
      `:callback` (the external system reported a failure, or the callback
      was cancelled), `:callback_timeout`, `:callback_submitter`, `:invoke`,
      `:wait_for_condition`, `:batch` (a map or parallel item, from
      `LambdaRuntime.Durable.BatchResult.check/1`) or `:serdes`;
    * `:type`, `:message`, `:data`, `:stack_trace` - the error as it was
      checkpointed (`ErrorType`, `ErrorMessage`, `ErrorData`, `StackTrace`):
      for an exception raised in your code, its module (`"RuntimeError"`,
      `"MyApp.TransientError"`), message and stack trace.

  The same error comes back on every replay, read from the checkpoint, so
  code that matches on it behaves the same in every invocation. Returning it
  (`{:error, error}`) from a child context, a branch or the handler fails that
  level with the same type and message; raising it does the same.
  """

  alias LambdaRuntime.ErrorReport

  defexception [:kind, :type, :message, :data, stack_trace: []]

  @type kind ::
          :step
          | :child_context
          | :callback
          | :callback_timeout
          | :callback_submitter
          | :invoke
          | :wait_for_condition
          | :batch
          | :serdes
          | :execution

  @type t :: %__MODULE__{
          kind: kind(),
          type: String.t() | nil,
          message: String.t() | nil,
          data: String.t() | nil,
          stack_trace: [String.t()]
        }

  @impl true
  def message(%__MODULE__{type: nil, message: message}), do: message || "durable operation failed"
  def message(%__MODULE__{type: type, message: message}), do: "#{type}: #{message}"

  @doc "An error of `kind` from a checkpointed `ErrorObject` map (or `nil`)."
  @spec from_object(kind(), map() | nil, String.t()) :: t()
  def from_object(kind, object, default_message \\ "operation failed")

  def from_object(kind, nil, default_message),
    do: %__MODULE__{kind: kind, message: default_message}

  def from_object(kind, %{} = object, default_message) do
    %__MODULE__{
      kind: kind,
      type: object["ErrorType"],
      message: object["ErrorMessage"] || default_message,
      data: object["ErrorData"],
      stack_trace: object["StackTrace"] || []
    }
  end

  @doc "The wire `ErrorObject` of an error (keys with no value are left out)."
  @spec to_object(t()) :: map()
  def to_object(%__MODULE__{} = e) do
    [
      {"ErrorType", e.type},
      {"ErrorMessage", e.message},
      {"ErrorData", e.data},
      {"StackTrace", if(e.stack_trace == [], do: nil, else: e.stack_trace)}
    ]
    |> Enum.reject(fn {_, v} -> is_nil(v) end)
    |> Map.new()
  end

  @doc """
  The `ErrorObject` for what user code did: `{:caught, kind, reason, stack}`
  (a raise, throw or exit) or `{:error, reason}` (a returned error). A
  `LambdaRuntime.Durable.Error` keeps its own type, message, data and trace.
  """
  @spec object_for({:caught, atom(), term(), list()} | {:error, term()}) :: map()
  def object_for({:caught, :error, %__MODULE__{} = e, _stack}), do: to_object(e)
  def object_for({:error, %__MODULE__{} = e}), do: to_object(e)

  def object_for({:caught, kind, reason, stack}),
    do: kind |> ErrorReport.from_caught(reason, stack) |> report_object()

  def object_for({:error, reason}),
    do: reason |> ErrorReport.from_error_return() |> report_object()

  @doc "An `ErrorObject` with a type and a message."
  @spec object(String.t(), String.t()) :: map()
  def object(type, message), do: %{"ErrorType" => type, "ErrorMessage" => message}

  defp report_object(%ErrorReport{} = report) do
    base = %{"ErrorType" => report.type, "ErrorMessage" => report.message}
    if report.stack_trace == [], do: base, else: Map.put(base, "StackTrace", report.stack_trace)
  end
end

defimpl LambdaRuntime.JSON.Encoder, for: LambdaRuntime.Durable.Error do
  def encode(error), do: LambdaRuntime.Durable.Error.to_object(error)
end
