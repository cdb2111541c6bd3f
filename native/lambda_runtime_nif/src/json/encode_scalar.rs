//! Writing the scalars of a JSON text: strings (UTF-8 checked, escaped),
//! integers of any size, a `LambdaRuntime.JSON.BigNumber`'s text, and
//! object keys (atoms, binaries, integers as their decimal text).

use rustler::{Binary, Term, TermType};
use serde_json::ser::{CompactFormatter, Formatter};

use super::bignum;
use super::encode_error::EncodeError;
use super::escape::escape;
use super::number::is_json_number;

mod big_number_atoms {
    rustler::atoms! { text, big_number_module = "Elixir.LambdaRuntime.JSON.BigNumber" }
}

/// Whether a struct's module (its `__struct__`) is `LambdaRuntime.JSON.BigNumber`.
pub fn is_big_number(module: Term) -> bool {
    module == big_number_atoms::big_number_module().to_term(module.get_env())
}

/// A `LambdaRuntime.JSON.BigNumber`: its `text`, if it is a JSON number.
pub fn big_number<'a>(out: &mut Vec<u8>, term: Term<'a>) -> Result<(), EncodeError<'a>> {
    let env = term.get_env();
    let text: Binary = term
        .map_get(big_number_atoms::text().to_term(env))
        .and_then(|t| t.decode())
        .map_err(|_| EncodeError::BadNumber(term))?;
    if !is_json_number(text.as_slice()) {
        return Err(EncodeError::BadNumber(term));
    }
    out.extend_from_slice(text.as_slice());
    Ok(())
}

/// Writes an object key.
#[inline]
pub fn key<'a>(out: &mut Vec<u8>, k: Term<'a>) -> Result<(), EncodeError<'a>> {
    match k.get_type() {
        TermType::Binary => string(out, k),
        TermType::Atom => {
            let name = k.atom_to_string().map_err(|_| EncodeError::InvalidKey(k))?;
            escape(out, &name);
            Ok(())
        }
        TermType::Integer => {
            out.push(b'"');
            integer(out, k)?;
            out.push(b'"');
            Ok(())
        }
        _ => Err(EncodeError::InvalidKey(k)),
    }
}

fn string<'a>(out: &mut Vec<u8>, term: Term<'a>) -> Result<(), EncodeError<'a>> {
    let bin: Binary = term.decode().map_err(|_| EncodeError::Unsupported(term))?;
    text(out, term, bin)
}

/// Writes a binary term, checked as UTF-8, as a JSON string.
#[inline]
pub fn text<'a>(out: &mut Vec<u8>, term: Term<'a>, bin: Binary<'a>) -> Result<(), EncodeError<'a>> {
    let s = std::str::from_utf8(bin.as_slice()).map_err(|_| EncodeError::InvalidUtf8(term))?;
    escape(out, s);
    Ok(())
}

/// Writes an integer term, a bignum too.
#[inline]
pub fn integer<'a>(out: &mut Vec<u8>, term: Term<'a>) -> Result<(), EncodeError<'a>> {
    if let Ok(i) = term.decode::<i64>() {
        CompactFormatter
            .write_i64(out, i)
            .expect("writing to a Vec");
    } else if let Ok(u) = term.decode::<u64>() {
        CompactFormatter
            .write_u64(out, u)
            .expect("writing to a Vec");
    } else {
        let etf = term.to_binary();
        let text = bignum::etf_to_decimal(etf.as_slice()).ok_or(EncodeError::Unsupported(term))?;
        out.extend_from_slice(text.as_bytes());
    }
    Ok(())
}
