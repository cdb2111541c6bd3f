defmodule LambdaRuntime.Durable.CheckpointError do
  @moduledoc """
  Raised out of a durable handler when the checkpoint service failed in a
  way a new invocation can fix (throttling, a 5xx answer, the network, a
  stale token): the invocation fails, and Lambda invokes the function again,
  which replays from the last checkpoint. Failures that no retry can fix
  (other 4xx answers) end the execution `FAILED` instead.
  """
  defexception [:message]
end
