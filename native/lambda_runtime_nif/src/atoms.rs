//! The atoms the NIF adapters return.

rustler::atoms! {
    ok,
    error,
    nil,
    // transport error kinds
    refused,
    closed,
    protocol,
    too_large,
    timeout,
    other,
    // invocation metadata keys
    request_id,
    deadline_ms,
    invoked_function_arn,
    trace_id,
    client_context,
    cognito_identity,
    tenant_id,
    invocation_id,
    // encode error kinds
    unsupported,
    invalid_utf8,
    invalid_key,
    improper_list,
    r#struct = "struct",
    too_deep,
    bad_frames,
    duplicate_key,
    bad_number,
    // json_encode/1: paused past its budget, json_encode_resume/2 finishes
    cont,
    truncated,
    finished,
    // client_respond_next/5: the /response was accepted, here is /next
    next,
}
