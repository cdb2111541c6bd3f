//! The `lambda_runtime` NIF: the Lambda Runtime API client and JSON.
//!
//! Every function here is a thin adapter: it decodes arguments, calls plain
//! Rust (`client`, `stream`, `json`), and returns `{:ok, ...}` or
//! `{:error, reason}`. Network calls run on dirty IO schedulers, except the
//! non-blocking write of a small response sent ahead (the first half of
//! `client_respond_next`); JSON on the calling scheduler when small and on
//! dirty CPU schedulers when large (see `nif_json`).
//!
//! Modules build on each other in one direction (a unit test checks that
//! no two import each other, directly or in a loop): `address`,
//! `invocation`, `error_report`, `in_flight` and `json` stand alone; `wire`
//! (the protocol's names, transport errors, connect, heads, the answer
//! reader) builds on `address`; `post` and `stream` on `wire`; `client` on
//! `post` and `wire`; the `nif_*` adapters on all of them.

mod address;
mod client;
#[cfg(test)]
mod client_tests;
mod error_report;
mod in_flight;
mod invocation;
mod json;
#[cfg(test)]
mod module_graph_tests;
mod post;
#[cfg(test)]
mod post_tests;
mod stream;
#[cfg(test)]
mod test_server;
mod wire;
// The NIF adapters call into the BEAM, which a `cargo test` binary does not
// have; the plain Rust below them is what the unit tests cover.
#[cfg(not(test))]
mod atoms;
#[cfg(not(test))]
mod nif_client;
#[cfg(not(test))]
mod nif_in_flight;
#[cfg(not(test))]
mod nif_json;
#[cfg(not(test))]
mod nif_stream;

#[cfg(not(test))]
rustler::init!("Elixir.LambdaRuntime.Native");
