defmodule LambdaRuntime.Limits do
  @moduledoc """
  Lambda's payload limits, in one place for the runtime, the emulator
  (`LambdaRuntime.Tools.Emulator`, `mix lambda.invoke`) and `LambdaRuntime.Test`,
  so that a local run refuses what Lambda refuses:

    * an Invoke request (the event) over #{6_291_456} bytes (6 MiB) is
      refused with `RequestEntityTooLargeException` (HTTP 413) before the
      function runs;
    * a buffered response over #{6_291_556} bytes is refused by the
      Runtime API (413) and the invocation fails with
      `Function.ResponseSizeTooLarge`;
    * a streamed response may be up to #{209_715_200} bytes (200 MiB, the
      default limit of response streaming); past that the invocation fails
      with `Function.ResponseSizeTooLarge`.
  """

  alias LambdaRuntime.ErrorReport

  @max_request_bytes 6_291_456
  @max_response_bytes 6_291_556
  @max_streamed_bytes 209_715_200

  @doc "The largest event (Invoke request body), in bytes."
  @spec max_request_bytes() :: pos_integer()
  def max_request_bytes, do: @max_request_bytes

  @doc "The largest buffered response, in bytes."
  @spec max_response_bytes() :: pos_integer()
  def max_response_bytes, do: @max_response_bytes

  @doc "The largest streamed response, in bytes."
  @spec max_streamed_bytes() :: pos_integer()
  def max_streamed_bytes, do: @max_streamed_bytes

  @doc "The function error for a response of `size` bytes over `limit`, in Lambda's words."
  @spec response_too_large(non_neg_integer(), pos_integer()) :: ErrorReport.t()
  def response_too_large(size, limit \\ @max_response_bytes) do
    ErrorReport.new(
      "Function.ResponseSizeTooLarge",
      "Response payload size (#{size} bytes) exceeded maximum allowed payload size " <>
        "(#{limit} bytes)."
    )
  end

  @doc "The error body Lambda's Invoke API answers an oversized event with (HTTP 413)."
  @spec request_too_large_json() :: String.t()
  def request_too_large_json do
    LambdaRuntime.JSON.encode!(%{
      "errorType" => "RequestEntityTooLargeException",
      "errorMessage" =>
        "Request must be smaller than #{@max_request_bytes} bytes for the InvokeFunction operation"
    })
  end
end
