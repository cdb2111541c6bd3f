//! NIF adapters for JSON.

use rustler::{Binary, Encoder, Env, NewBinary, Term};

use crate::atoms;
use crate::json::decode::decode;
use crate::json::encode::{encode, EncodeError};
use crate::json::MAX_DEPTH;

/// `{:ok, term} | {:error, {byte_offset, message}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn json_decode<'a>(env: Env<'a>, input: Binary<'a>) -> Term<'a> {
    match decode(env, &input) {
        Ok(term) => (atoms::ok(), term).encode(env),
        Err(e) => (atoms::error(), (e.offset, e.message)).encode(env),
    }
}

/// `{:ok, binary} | {:error, {kind, offending_term}}`.
#[rustler::nif(schedule = "DirtyCpu")]
fn json_encode<'a>(env: Env<'a>, term: Term<'a>) -> Term<'a> {
    match encode(term) {
        Ok(bytes) => {
            let mut bin = NewBinary::new(env, bytes.len());
            bin.as_mut_slice().copy_from_slice(&bytes);
            (atoms::ok(), Binary::from(bin)).encode(env)
        }
        Err(e) => {
            let reason = match e {
                EncodeError::Unsupported(t) => (atoms::unsupported(), t).encode(env),
                EncodeError::InvalidUtf8(t) => (atoms::invalid_utf8(), t).encode(env),
                EncodeError::InvalidKey(t) => (atoms::invalid_key(), t).encode(env),
                EncodeError::ImproperList(t) => (atoms::improper_list(), t).encode(env),
                EncodeError::Struct(t) => (atoms::r#struct(), t).encode(env),
                EncodeError::TooDeep => (atoms::too_deep(), MAX_DEPTH).encode(env),
            };
            (atoms::error(), reason).encode(env)
        }
    }
}
