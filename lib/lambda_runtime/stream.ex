defmodule LambdaRuntime.Stream do
  @moduledoc """
  Deprecated: the former name of `LambdaRuntime.StreamedResponse`, kept for
  one release. Its functions delegate there and return a
  `%LambdaRuntime.StreamedResponse{}`; a `%LambdaRuntime.Stream{}` built by
  hand is still streamed. Replace `LambdaRuntime.Stream` with
  `LambdaRuntime.StreamedResponse`: the functions and options are the same.
  """
  @moduledoc deprecated: "Use LambdaRuntime.StreamedResponse instead"

  alias LambdaRuntime.StreamedResponse

  defstruct [:enumerable, content_type: "application/octet-stream"]

  @typedoc "Deprecated: `t:LambdaRuntime.StreamedResponse.t/0`."
  @type t :: StreamedResponse.t()

  @doc "Deprecated: `LambdaRuntime.StreamedResponse.new/2`."
  @deprecated "Use LambdaRuntime.StreamedResponse.new/2 instead"
  defdelegate new(enumerable, opts \\ []), to: StreamedResponse

  @doc "Deprecated: `LambdaRuntime.StreamedResponse.http/2`."
  @deprecated "Use LambdaRuntime.StreamedResponse.http/2 instead"
  defdelegate http(body, opts \\ []), to: StreamedResponse

  @doc "Deprecated: `LambdaRuntime.StreamedResponse.from_response/1`."
  @deprecated "Use LambdaRuntime.StreamedResponse.from_response/1 instead"
  defdelegate from_response(value), to: StreamedResponse
end
