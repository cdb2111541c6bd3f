defmodule LambdaRuntime.TestSupport.Fault.Assert do
  @moduledoc "What the fault tests check, against the FaultApi's record."

  import ExUnit.Assertions

  alias LambdaRuntime.JSON
  alias LambdaRuntime.TestSupport.{FaultApi, Wait}

  def header(request, name), do: :proplists.get_value(name, request.headers, nil)

  @doc "The one request posted to `/runtime/invocation/ID/KIND`."
  def posted(api, request_id, kind \\ "response") do
    [request] = FaultApi.await(api, "/runtime/invocation/#{request_id}/#{kind}")
    request
  end

  @doc "All requests to `/runtime/invocation/ID/KIND` so far."
  def all_posted(api, request_id, kind) do
    suffix = "/runtime/invocation/#{request_id}/#{kind}"
    api |> FaultApi.requests() |> Enum.filter(&String.ends_with?(&1.path, suffix))
  end

  @doc """
  Queues `event` (a term, or a raw binary body), waits for its `/error` and
  returns `{header_type, decoded_body, request}`; no `/response` was posted.
  """
  def failed!(api, request_id, event, opts \\ []) do
    FaultApi.event(api, request_id, body(event), opts)
    error = posted(api, request_id, "error")
    assert all_posted(api, request_id, "response") == []
    {header(error, "lambda-runtime-function-error-type"), JSON.decode!(error.body), error}
  end

  @doc "Queues `event` and returns its decoded `/response` body."
  def served!(api, request_id, event, opts \\ []) do
    FaultApi.event(api, request_id, body(event), opts)
    JSON.decode!(posted(api, request_id).body)
  end

  @doc "The next invocation on the same runtime succeeds."
  def serves_next!(api, after_id) do
    id = after_id <> "-next"
    body = served!(api, id, %{"do" => "ok", "after" => after_id})

    assert body == %{
             "ok" => true,
             "request_id" => id,
             "event" => %{"do" => "ok", "after" => after_id}
           }
  end

  @doc "Waits until the runtime's latest request is a `/next` (it is idle) and returns it."
  def idle!(api, timeout \\ 10_000) do
    Wait.until(
      fn ->
        last = List.last(FaultApi.requests(api))
        if match?(%{method: "GET"}, last) and String.ends_with?(last.path, "/next"), do: last
      end,
      timeout: timeout,
      message: fn ->
        "the runtime is not waiting on /next; last request: " <>
          inspect(List.last(FaultApi.requests(api)))
      end
    )
  end

  @doc "How many `/next` requests the API has seen."
  def next_count(api),
    do: api |> FaultApi.requests() |> Enum.count(&String.ends_with?(&1.path, "/next"))

  defp body(event) when is_binary(event), do: event
  defp body(event), do: JSON.encode!(event)
end
