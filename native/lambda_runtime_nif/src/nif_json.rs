//! NIF adapters for JSON.
//!
//! Each direction has two entry points. A dirty scheduler hop costs a few
//! microseconds, more than decoding a typical event takes, so small work runs
//! on the calling (normal) scheduler and large work on a dirty CPU scheduler:
//! the Elixir side picks `json_decode` for inputs up to a size limit, and
//! `json_encode` gives up (`:dirty`) past an output budget, to be retried
//! with `json_encode_dirty`. Both bounds keep a normal-scheduler call well
//! under a millisecond.

use rustler::{Binary, Encoder, Env, NewBinary, Term};

use crate::atoms;
use crate::json::decode::decode;
use crate::json::encode::{encode, EncodeError};
use crate::json::MAX_DEPTH;

/// Output bytes a normal-scheduler encode may produce before it gives up
/// and restarts on a dirty scheduler. Measured (bench/, JSON): 8 KiB made an
/// 11 KB SQS batch encode at 0.64x jiffy (the restart wastes most of the
/// work); 32 KiB keeps every corpus event faster than jiffy, at the price of
/// 0.7-0.9x for documents between 32 and ~250 KB. Continuing the partial
/// encode on the dirty scheduler instead of restarting would remove both.
const ENCODE_BUDGET: usize = 32 * 1024;

/// `{:ok, term} | {:error, {byte_offset, message}}`; for small inputs.
#[rustler::nif]
fn json_decode<'a>(env: Env<'a>, input: Binary<'a>) -> Term<'a> {
    decode_term(env, input)
}

/// The same as `json_decode`, on a dirty CPU scheduler.
#[rustler::nif(schedule = "DirtyCpu")]
fn json_decode_dirty<'a>(env: Env<'a>, input: Binary<'a>) -> Term<'a> {
    decode_term(env, input)
}

/// `{:ok, binary} | {:error, {kind, offending_term}} | :dirty` (over budget).
#[rustler::nif]
fn json_encode<'a>(env: Env<'a>, term: Term<'a>) -> Term<'a> {
    encode_term(env, term, Some(ENCODE_BUDGET))
}

/// `{:ok, binary} | {:error, {kind, offending_term}}`, on a dirty CPU scheduler.
#[rustler::nif(schedule = "DirtyCpu")]
fn json_encode_dirty<'a>(env: Env<'a>, term: Term<'a>) -> Term<'a> {
    encode_term(env, term, None)
}

fn decode_term<'a>(env: Env<'a>, input: Binary<'a>) -> Term<'a> {
    match decode(env, &input) {
        Ok(term) => (atoms::ok(), term).encode(env),
        Err(e) => (atoms::error(), (e.offset, e.message)).encode(env),
    }
}

fn encode_term<'a>(env: Env<'a>, term: Term<'a>, budget: Option<usize>) -> Term<'a> {
    match encode(term, budget) {
        Ok(bytes) => {
            let mut bin = NewBinary::new(env, bytes.len());
            bin.as_mut_slice().copy_from_slice(&bytes);
            (atoms::ok(), Binary::from(bin)).encode(env)
        }
        Err(EncodeError::OverBudget) => atoms::dirty().encode(env),
        Err(e) => {
            let reason = match e {
                EncodeError::Unsupported(t) => (atoms::unsupported(), t).encode(env),
                EncodeError::InvalidUtf8(t) => (atoms::invalid_utf8(), t).encode(env),
                EncodeError::InvalidKey(t) => (atoms::invalid_key(), t).encode(env),
                EncodeError::ImproperList(t) => (atoms::improper_list(), t).encode(env),
                EncodeError::Struct(t) => (atoms::r#struct(), t).encode(env),
                EncodeError::TooDeep => (atoms::too_deep(), MAX_DEPTH).encode(env),
                EncodeError::OverBudget => unreachable!("handled above"),
            };
            (atoms::error(), reason).encode(env)
        }
    }
}
