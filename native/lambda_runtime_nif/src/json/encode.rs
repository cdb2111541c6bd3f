//! Erlang terms to JSON text. Maps (atom, binary or integer keys), lists,
//! UTF-8 binaries, integers of any size, floats, `true`/`false`/`nil`, and
//! other atoms as strings. Structs are not handled here: the Elixir side
//! converts them through a protocol and calls again (see `EncodeError::Struct`).

use rustler::types::atom;
use rustler::types::map::MapIterator;
use rustler::{Binary, Term, TermType};
use serde_json::ser::{CompactFormatter, Formatter};

use super::bignum;
use super::escape::escape;
use super::MAX_DEPTH;

/// Why a term cannot be encoded, carrying the offending term.
pub enum EncodeError<'a> {
    /// A pid, port, reference, function or tuple.
    Unsupported(Term<'a>),
    /// A binary (value or key) that is not valid UTF-8.
    InvalidUtf8(Term<'a>),
    /// A map key that is not an atom, binary or integer.
    InvalidKey(Term<'a>),
    /// A list whose tail is not a list.
    ImproperList(Term<'a>),
    /// A map with `__struct__`: the caller converts structs and retries.
    Struct(Term<'a>),
    TooDeep,
    /// The output outgrew the budget: the caller retries on a dirty scheduler.
    OverBudget,
}

// A map iterator is large, but frames live in one reused Vec, not per value.
#[allow(clippy::large_enum_variant)]
enum Frame<'a> {
    /// The rest of a list still to write; `first` until an item is written.
    List {
        rest: Term<'a>,
        first: bool,
    },
    Map {
        iter: MapIterator<'a>,
        first: bool,
    },
}

/// Encodes `term`; with a `budget`, gives up with `OverBudget` once the
/// output is larger than that many bytes (which bounds the time spent).
pub fn encode<'a>(term: Term<'a>, budget: Option<usize>) -> Result<Vec<u8>, EncodeError<'a>> {
    let mut out: Vec<u8> = Vec::with_capacity(256);
    let mut stack: Vec<Frame<'a>> = Vec::new();
    let budget = budget.unwrap_or(usize::MAX);
    value(&mut out, &mut stack, term)?;
    // Each turn writes one item of the innermost open container (or closes
    // it); `value` only ever opens containers, so nothing here recurses.
    while let Some(frame) = stack.last_mut() {
        if out.len() > budget {
            return Err(EncodeError::OverBudget);
        }
        let item = match frame {
            Frame::List { rest, first } => {
                if rest.is_empty_list() {
                    out.push(b']');
                    None
                } else {
                    let Ok((head, tail)) = rest.list_get_cell() else {
                        return Err(EncodeError::ImproperList(*rest));
                    };
                    *rest = tail;
                    if !std::mem::take(first) {
                        out.push(b',');
                    }
                    Some(head)
                }
            }
            Frame::Map { iter, first } => match iter.next() {
                None => {
                    out.push(b'}');
                    None
                }
                Some((k, v)) => {
                    if !std::mem::take(first) {
                        out.push(b',');
                    }
                    key(&mut out, k)?;
                    out.push(b':');
                    Some(v)
                }
            },
        };
        match item {
            Some(term) => value(&mut out, &mut stack, term)?,
            None => {
                stack.pop();
            }
        }
    }
    Ok(out)
}

/// Writes a scalar, or opens a container by pushing its frame.
fn value<'a>(
    out: &mut Vec<u8>,
    stack: &mut Vec<Frame<'a>>,
    term: Term<'a>,
) -> Result<(), EncodeError<'a>> {
    match term.get_type() {
        TermType::Binary => string(out, term),
        TermType::Integer => integer(out, term),
        TermType::Float => {
            let f: f64 = term.decode().map_err(|_| EncodeError::Unsupported(term))?;
            CompactFormatter
                .write_f64(out, f)
                .expect("writing to a Vec");
            Ok(())
        }
        TermType::Atom => {
            let env = term.get_env();
            if term == atom::nil().to_term(env) {
                out.extend_from_slice(b"null");
            } else if term == atom::true_().to_term(env) {
                out.extend_from_slice(b"true");
            } else if term == atom::false_().to_term(env) {
                out.extend_from_slice(b"false");
            } else {
                let name = term
                    .atom_to_string()
                    .map_err(|_| EncodeError::Unsupported(term))?;
                escape(out, &name);
            }
            Ok(())
        }
        TermType::List => {
            if term.is_empty_list() {
                out.extend_from_slice(b"[]");
                return Ok(());
            }
            depth(stack)?;
            out.push(b'[');
            stack.push(Frame::List {
                rest: term,
                first: true,
            });
            Ok(())
        }
        TermType::Map => {
            let env = term.get_env();
            if term.map_get(atom::__struct__().to_term(env)).is_ok() {
                return Err(EncodeError::Struct(term));
            }
            if term.map_size().unwrap_or(0) == 0 {
                out.extend_from_slice(b"{}");
                return Ok(());
            }
            let iter = MapIterator::new(term).ok_or(EncodeError::Unsupported(term))?;
            depth(stack)?;
            out.push(b'{');
            stack.push(Frame::Map { iter, first: true });
            Ok(())
        }
        _ => Err(EncodeError::Unsupported(term)),
    }
}

fn depth<'a>(stack: &[Frame<'a>]) -> Result<(), EncodeError<'a>> {
    if stack.len() >= MAX_DEPTH {
        Err(EncodeError::TooDeep)
    } else {
        Ok(())
    }
}

fn key<'a>(out: &mut Vec<u8>, k: Term<'a>) -> Result<(), EncodeError<'a>> {
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
    let s = std::str::from_utf8(bin.as_slice()).map_err(|_| EncodeError::InvalidUtf8(term))?;
    escape(out, s);
    Ok(())
}

fn integer<'a>(out: &mut Vec<u8>, term: Term<'a>) -> Result<(), EncodeError<'a>> {
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
