# Conformance requirements that cannot pass against dex-local-runner 1.4.0,
# each with the reason and the only errors the validator may report for it
# (so the rest of the requirement's history is still checked). The
# conformance test fails when a listed requirement passes (remove it), when
# it fails with any other error, or when an unlisted requirement fails.
# Every reason is the runner's: an SDK cannot change what it writes into
# an event's details.

retry_details =
  {"the runner writes no RetryDetails on StepSucceeded: it builds a SUCCEED event " <>
     "without the update (only RETRY and FAIL events get it)",
   [~r/StepSucceededDetails\.RetryDetails: key missing/]}

callback_timeouts =
  {"the runner writes no Timeout/HeartbeatTimeout on CallbackStarted: it builds a START " <>
     "event without the update's CallbackOptions",
   [~r/CallbackStartedDetails\.(Heartbeat)?Timeout: key missing/]}

poll_payload =
  {"the runner writes no Result.Payload on the StepSucceeded of a RETRY (a wait_for_condition " <>
     "poll): it builds the event from the attempt and error only",
   [~r/StepSucceededDetails\.Result\.Payload: key missing/]}

# The runner records events as they arrive: on a loaded machine the chained
# function's result can land before the invoking invocation's
# InvocationCompleted (seen in CI for 5-4), which swaps two EventIds.
invoke_order =
  ~r/^Event\[EventId=\d+\]\.(EventType: expected '(InvocationCompleted|ChainedInvoke\w+)', got '(InvocationCompleted|ChainedInvoke\w+)'|(InvocationCompletedDetails|ChainedInvoke\w+Details|Id): key missing)/

executed_version =
  {"the runner never writes ExecutedVersion on ChainedInvokeStarted (it resolves no function " <>
     "versions, says its model.py); under load it may also record the chained invoke's result " <>
     "before the invoking invocation's InvocationCompleted (events in arrival order)",
   [~r/ChainedInvokeStartedDetails\.ExecutedVersion: key missing/, invoke_order]}

tenant =
  {"as 5-x, and the runner leaves TenantId out of ChainedInvokeStarted on purpose",
   [~r/ChainedInvokeStartedDetails\.(ExecutedVersion|TenantId): key missing/, invoke_order]}

crash =
  {"the function exits (Runtime.ExitError, as required); the runner records no " <>
     "InvocationCompleted event for a failed invocation (it only invokes again), so every later " <>
     "EventId is one lower than required. The crash-and-resume behaviour itself is covered by " <>
     "test/runtime/durable/e2e_test.exs", [~r/.*/]}

Map.merge(
  %{
    "1-11" => retry_details,
    "1-13" => retry_details,
    "1-14" => retry_details,
    "1-15" => retry_details,
    "3-7" => retry_details,
    "1-17" => crash,
    "1-18" => crash,
    "3-12" => crash,
    "4-3" => callback_timeouts,
    "4-4" => callback_timeouts,
    "4-5" => callback_timeouts,
    "4-8" => callback_timeouts,
    "4-11" => callback_timeouts,
    "4-14" => callback_timeouts,
    "7-5" => callback_timeouts,
    "7-12" => callback_timeouts,
    "7-13" => callback_timeouts,
    "7-14" => callback_timeouts,
    "6-1" => poll_payload,
    "6-3" => poll_payload,
    "6-4" => poll_payload,
    "6-5" => poll_payload,
    "6-12" => poll_payload,
    "6-13" => poll_payload,
    "5-8" => tenant
  },
  Map.new(Enum.reject(1..16, &(&1 == 8)), &{"5-#{&1}", executed_version})
)
