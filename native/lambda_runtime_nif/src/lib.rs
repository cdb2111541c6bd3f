//! The `lambda_runtime` NIF: the Lambda Runtime API client and JSON.
//!
//! Every function here is a thin adapter: it decodes arguments, calls plain
//! Rust (`client`, `json`), and returns `{:ok, ...}` or `{:error, reason}`.
//! Network calls run on dirty IO schedulers, except the non-blocking write
//! of a small response sent ahead (`client_response_ahead`); JSON on the
//! calling scheduler when small and on dirty CPU schedulers when large (see
//! `nif_json`).

mod address;
mod client;
#[cfg(test)]
mod client_tests;
mod invocation;
mod json;
mod post;
#[cfg(test)]
mod post_tests;
mod stream;
#[cfg(test)]
mod test_server;
// The NIF adapters call into the BEAM, which a `cargo test` binary does not
// have; the plain Rust below them is what the unit tests cover.
#[cfg(not(test))]
mod nif_client;
#[cfg(not(test))]
mod nif_json;
#[cfg(not(test))]
mod nif_stream;

#[cfg(not(test))]
pub mod atoms {
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
    // client_response_ahead/4: the connection is in use, nothing was sent
    busy,
    }
}

#[cfg(not(test))]
rustler::init!("Elixir.LambdaRuntime.Native");
