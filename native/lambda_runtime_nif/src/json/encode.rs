//! Erlang terms to JSON text. Maps (atom, binary or integer keys), lists,
//! UTF-8 binaries, integers of any size, floats, `true`/`false`/`nil`, and
//! other atoms as strings. Structs are not handled here: the Elixir side
//! converts them through a protocol and calls again (see `EncodeError::Struct`),
//! except `LambdaRuntime.JSON.BigNumber`, whose `text` (a JSON number the
//! decoder kept) is written as it is.
//!
//! A map whose keys are not all of one type (atoms, binaries, integers) may
//! hold two keys that write the same name (`:a` and `"a"`, `1` and `"1"`):
//! such a map is an error (`EncodeError::DuplicateKey`), never an object with
//! a repeated name. Maps of one key type, nearly all of them, are never
//! checked: their keys are distinct terms of one type, so distinct names.
//!
//! With a budget, an encode that outgrows it *pauses*: the output so far and
//! the open containers come back as plain terms (`Paused::into_terms`), and
//! `resume` carries on from them, on a dirty scheduler, instead of starting
//! again. A string value (not a map key) too large for what is left of the
//! budget is left for `resume` as well.

use std::collections::HashMap;

use rustler::types::atom;
use rustler::types::map::MapIterator;
use rustler::types::tuple::get_tuple;
use rustler::{Binary, Encoder, Env, Term, TermType};
use serde_json::ser::{CompactFormatter, Formatter};

use super::bignum;
pub use super::encode_error::EncodeError;
use super::escape::escape;
use super::number::is_json_number;
use super::MAX_DEPTH;

/// What an encode gives: the whole text, or, past the budget, where it
/// stopped.
pub enum Encoded<'a> {
    Done(Vec<u8>),
    Paused(Paused<'a>),
}

/// An encode stopped between two items: the text so far and the open
/// containers, outermost first.
pub struct Paused<'a> {
    out: Vec<u8>,
    stack: Vec<Frame<'a>>,
}

// A map iterator is large, but frames live in one reused Vec, not per value.
#[allow(clippy::large_enum_variant)]
enum Frame<'a> {
    /// The rest of a list still to write; `first` until an item is written.
    List { rest: Term<'a>, first: bool },
    /// A map being written: `written` of its entries are out already.
    /// `keys` is the type of the keys seen so far, until a second type shows
    /// up; the whole map is then checked for duplicate names once.
    Map {
        map: Term<'a>,
        iter: MapIterator<'a>,
        written: usize,
        first: bool,
        keys: Keys,
    },
    /// One value still to write (its comma or key is written already): a
    /// string too large for what is left of the budget, or the whole term.
    Value(Term<'a>),
}

/// Encodes `term`; with a `budget`, pauses once the output is larger than
/// that many bytes (which bounds the time spent).
pub fn encode<'a>(term: Term<'a>, budget: Option<usize>) -> Result<Encoded<'a>, EncodeError<'a>> {
    run(
        Vec::with_capacity(256),
        vec![Frame::Value(term)],
        budget.unwrap_or(usize::MAX),
    )
}

/// Carries on from `Paused::into_terms`: `prefix` is the text so far,
/// `frames` the open containers. No budget: this runs to the end.
pub fn resume<'a>(prefix: &[u8], frames: Term<'a>) -> Result<Encoded<'a>, EncodeError<'a>> {
    let mut out = Vec::with_capacity(prefix.len() * 2);
    out.extend_from_slice(prefix);
    let mut stack = Vec::new();
    let bad = || EncodeError::BadFrames(frames);
    for frame in frames.decode::<Vec<Term<'a>>>().map_err(|_| bad())? {
        let env = frame.get_env();
        let is = |kind: Term<'a>, atom: rustler::Atom| kind == atom.to_term(env);
        match get_tuple(frame).map_err(|_| bad())?[..] {
            [kind, term] if is(kind, frame_atoms::value()) => stack.push(Frame::Value(term)),
            // An improper tail is the encoder's to report, as in one go.
            [kind, rest, first] if is(kind, frame_atoms::list()) => stack.push(Frame::List {
                rest,
                first: first.decode().map_err(|_| bad())?,
            }),
            [kind, map, written, first] if is(kind, frame_atoms::map()) => {
                let written: usize = written.decode().map_err(|_| bad())?;
                let mut iter = MapIterator::new(map).ok_or_else(bad)?;
                // Skipping what was written is the dirty scheduler's work,
                // not the paused encode's.
                for _ in 0..written {
                    iter.next().ok_or_else(bad)?;
                }
                let first = first.decode().map_err(|_| bad())?;
                // The key types written before the pause are not known
                // here: the whole map is checked now, once.
                check_duplicate_keys(map)?;
                stack.push(Frame::Map {
                    map,
                    iter,
                    written,
                    first,
                    keys: Keys::Checked,
                });
            }
            _ => return Err(bad()),
        }
    }
    run(out, stack, usize::MAX)
}

mod frame_atoms {
    rustler::atoms! { list, map, value }
}

impl<'a> Paused<'a> {
    /// The text so far, and the open containers, outermost first, for
    /// `resume`: `{:list, rest, first}`, `{:map, map, entries_written,
    /// first}` or `{:value, term}`. Constant work per frame: nothing of a
    /// container's remaining items is copied.
    pub fn into_terms(self, env: Env<'a>) -> (Vec<u8>, Term<'a>) {
        let frames: Vec<Term<'a>> = self
            .stack
            .into_iter()
            .map(|frame| match frame {
                Frame::List { rest, first } => (frame_atoms::list(), rest, first).encode(env),
                Frame::Map {
                    map,
                    written,
                    first,
                    ..
                } => (frame_atoms::map(), map, written, first).encode(env),
                Frame::Value(term) => (frame_atoms::value(), term).encode(env),
            })
            .collect();
        (self.out, frames.encode(env))
    }
}

/// The loop: each turn writes one item of the innermost open container (or
/// closes it); `value` only ever opens containers, so nothing here recurses.
fn run<'a>(
    mut out: Vec<u8>,
    mut stack: Vec<Frame<'a>>,
    budget: usize,
) -> Result<Encoded<'a>, EncodeError<'a>> {
    while let Some(frame) = stack.last_mut() {
        if out.len() > budget {
            return Ok(Encoded::Paused(Paused { out, stack }));
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
            Frame::Map {
                map,
                iter,
                written,
                first,
                keys,
            } => match iter.next() {
                None => {
                    out.push(b'}');
                    None
                }
                Some((k, v)) => {
                    if keys.mixed_by(k) {
                        check_duplicate_keys(*map)?;
                    }
                    *written += 1;
                    if !std::mem::take(first) {
                        out.push(b',');
                    }
                    key(&mut out, k)?;
                    out.push(b':');
                    Some(v)
                }
            },
            Frame::Value(term) => {
                let term = *term;
                stack.pop();
                Some(term)
            }
        };
        match item {
            Some(term) => {
                if value(&mut out, &mut stack, term, budget)? == Written::Deferred {
                    return Ok(Encoded::Paused(Paused { out, stack }));
                }
            }
            None => {
                stack.pop();
            }
        }
    }
    Ok(Encoded::Done(out))
}

#[derive(PartialEq)]
enum Written {
    Done,
    /// A string that would take the output past the budget was left, as a
    /// `Frame::Value`, for the resumed (dirty) encode: escaping megabytes
    /// is not a normal scheduler's job.
    Deferred,
}

/// Writes a scalar, or opens a container by pushing its frame.
#[inline]
fn value<'a>(
    out: &mut Vec<u8>,
    stack: &mut Vec<Frame<'a>>,
    term: Term<'a>,
    budget: usize,
) -> Result<Written, EncodeError<'a>> {
    match term.get_type() {
        TermType::Binary => {
            let bin: Binary = term.decode().map_err(|_| EncodeError::Unsupported(term))?;
            if out.len().saturating_add(bin.len()) > budget {
                stack.push(Frame::Value(term));
                return Ok(Written::Deferred);
            }
            text(out, term, bin)?;
        }
        TermType::Integer => integer(out, term)?,
        TermType::Float => {
            let f: f64 = term.decode().map_err(|_| EncodeError::Unsupported(term))?;
            CompactFormatter
                .write_f64(out, f)
                .expect("writing to a Vec");
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
        }
        TermType::List => {
            if term.is_empty_list() {
                out.extend_from_slice(b"[]");
            } else {
                depth(stack)?;
                out.push(b'[');
                stack.push(Frame::List {
                    rest: term,
                    first: true,
                });
            }
        }
        TermType::Map => {
            let env = term.get_env();
            if let Ok(module) = term.map_get(atom::__struct__().to_term(env)) {
                if module == big_number_atoms::big_number_module().to_term(env) {
                    return big_number(out, term).map(|()| Written::Done);
                }
                return Err(EncodeError::Struct(term));
            }
            if term.map_size().unwrap_or(0) == 0 {
                out.extend_from_slice(b"{}");
            } else {
                let iter = MapIterator::new(term).ok_or(EncodeError::Unsupported(term))?;
                depth(stack)?;
                out.push(b'{');
                stack.push(Frame::Map {
                    map: term,
                    iter,
                    written: 0,
                    first: true,
                    keys: Keys::None,
                });
            }
        }
        _ => return Err(EncodeError::Unsupported(term)),
    }
    Ok(Written::Done)
}

mod big_number_atoms {
    rustler::atoms! { text, big_number_module = "Elixir.LambdaRuntime.JSON.BigNumber" }
}

/// A `LambdaRuntime.JSON.BigNumber`: its `text`, if it is a JSON number.
fn big_number<'a>(out: &mut Vec<u8>, term: Term<'a>) -> Result<(), EncodeError<'a>> {
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

/// The type of a map's keys, as far as they have been written.
#[derive(Clone, Copy, PartialEq)]
enum Keys {
    None,
    Atoms,
    Binaries,
    Integers,
    /// Checked for duplicate names already.
    Checked,
}

impl Keys {
    /// Notes the type of `key`; true the first time a second type appears.
    #[inline]
    fn mixed_by(&mut self, key: Term) -> bool {
        let kind = match key.get_type() {
            TermType::Atom => Keys::Atoms,
            TermType::Binary => Keys::Binaries,
            TermType::Integer => Keys::Integers,
            // Not a valid key: `key()` reports it.
            _ => return false,
        };
        match *self {
            Keys::None => {
                *self = kind;
                false
            }
            Keys::Checked => false,
            seen if seen == kind => false,
            _ => {
                *self = Keys::Checked;
                true
            }
        }
    }
}

/// Fails when two keys of `map` write the same object key.
fn check_duplicate_keys<'a>(map: Term<'a>) -> Result<(), EncodeError<'a>> {
    let iter = MapIterator::new(map).ok_or(EncodeError::Unsupported(map))?;
    let mut seen: HashMap<Vec<u8>, Term<'a>> = HashMap::new();
    let mut name = Vec::new();
    for (k, _) in iter {
        name.clear();
        match k.get_type() {
            TermType::Binary => {
                let bin: Binary = k.decode().map_err(|_| EncodeError::InvalidKey(k))?;
                name.extend_from_slice(bin.as_slice());
            }
            TermType::Atom => {
                let text = k.atom_to_string().map_err(|_| EncodeError::InvalidKey(k))?;
                name.extend_from_slice(text.as_bytes());
            }
            TermType::Integer => integer(&mut name, k)?,
            _ => return Err(EncodeError::InvalidKey(k)),
        }
        if let Some(other) = seen.insert(name.clone(), k) {
            return Err(EncodeError::DuplicateKey(other, k));
        }
    }
    Ok(())
}

fn depth<'a>(stack: &[Frame<'a>]) -> Result<(), EncodeError<'a>> {
    if stack.len() >= MAX_DEPTH {
        Err(EncodeError::TooDeep)
    } else {
        Ok(())
    }
}

#[inline]
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
    text(out, term, bin)
}

#[inline]
fn text<'a>(out: &mut Vec<u8>, term: Term<'a>, bin: Binary<'a>) -> Result<(), EncodeError<'a>> {
    let s = std::str::from_utf8(bin.as_slice()).map_err(|_| EncodeError::InvalidUtf8(term))?;
    escape(out, s);
    Ok(())
}

#[inline]
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
