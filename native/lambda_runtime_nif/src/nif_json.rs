//! NIF adapters for JSON.
//!
//! Each direction has a normal and a dirty entry point. A dirty scheduler
//! hop costs a few microseconds, more than decoding a typical event takes,
//! so small work runs on the calling (normal) scheduler and large work on a
//! dirty CPU scheduler: the Elixir side picks `json_decode` for inputs up to
//! a size limit, and `json_encode` pauses past an output budget
//! (`{:cont, prefix, frames}`), to be finished by `json_encode_resume` on a
//! dirty scheduler. Both bounds keep a normal-scheduler call well under a
//! millisecond.

use rustler::{Binary, Encoder, Env, NewBinary, Term};

use crate::atoms;
use crate::json::decode::decode;
use crate::json::encode::{encode, resume, EncodeError, Encoded};
use crate::json::MAX_DEPTH;

/// Output bytes a normal-scheduler encode may produce before it pauses and
/// a dirty scheduler carries on (`json_encode_resume`, from where it
/// stopped). 32 KiB keeps every event of the corpus on the calling
/// scheduler, and a larger document still encodes at 1.17-1.41x jiffy
/// (BENCHMARKS.md, JSON).
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

/// `{:ok, binary} | {:error, {kind, offending_term}} | {:cont, prefix,
/// frames}` (over budget: `json_encode_resume/2` finishes it).
#[rustler::nif]
fn json_encode<'a>(env: Env<'a>, term: Term<'a>) -> Term<'a> {
    encoded_term(env, encode(term, Some(ENCODE_BUDGET)))
}

/// `{:ok, binary} | {:error, {kind, offending_term}}`, on a dirty CPU
/// scheduler, from the start (benchmarks compare it with the resumed path).
#[rustler::nif(schedule = "DirtyCpu")]
fn json_encode_dirty<'a>(env: Env<'a>, term: Term<'a>) -> Term<'a> {
    encoded_term(env, encode(term, None))
}

/// Finishes an encode that `json_encode/1` paused, on a dirty CPU
/// scheduler: `{:ok, binary} | {:error, {kind, offending_term}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn json_encode_resume<'a>(env: Env<'a>, prefix: Binary<'a>, frames: Term<'a>) -> Term<'a> {
    encoded_term(env, resume(prefix.as_slice(), frames))
}

fn decode_term<'a>(env: Env<'a>, input: Binary<'a>) -> Term<'a> {
    match decode(env, &input) {
        Ok(term) => (atoms::ok(), term).encode(env),
        Err(e) => (atoms::error(), (e.offset, e.message)).encode(env),
    }
}

fn encoded_term<'a>(env: Env<'a>, encoded: Result<Encoded<'a>, EncodeError<'a>>) -> Term<'a> {
    match encoded {
        Ok(Encoded::Done(bytes)) => (atoms::ok(), binary(env, &bytes)).encode(env),
        Ok(Encoded::Paused(paused)) => {
            let (prefix, frames) = paused.into_terms(env);
            (atoms::cont(), binary(env, &prefix), frames).encode(env)
        }
        Err(e) => {
            let reason = match e {
                EncodeError::Unsupported(t) => (atoms::unsupported(), t).encode(env),
                EncodeError::InvalidUtf8(t) => (atoms::invalid_utf8(), t).encode(env),
                EncodeError::InvalidKey(t) => (atoms::invalid_key(), t).encode(env),
                EncodeError::ImproperList(t) => (atoms::improper_list(), t).encode(env),
                EncodeError::Struct(t) => (atoms::r#struct(), t).encode(env),
                EncodeError::TooDeep => (atoms::too_deep(), MAX_DEPTH).encode(env),
                EncodeError::BadFrames(t) => (atoms::bad_frames(), t).encode(env),
                EncodeError::DuplicateKey(a, b) => (atoms::duplicate_key(), (a, b)).encode(env),
                EncodeError::BadNumber(t) => (atoms::bad_number(), t).encode(env),
            };
            (atoms::error(), reason).encode(env)
        }
    }
}

fn binary<'a>(env: Env<'a>, bytes: &[u8]) -> Binary<'a> {
    let mut bin = NewBinary::new(env, bytes.len());
    bin.as_mut_slice().copy_from_slice(bytes);
    Binary::from(bin)
}
