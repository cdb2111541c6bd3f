//! Duplicate names in a map of mixed key types: `:a` and `"a"`, or `1` and
//! `"1"`, would write one object key twice. A map's keys of one type are
//! distinct names; the encode notes the types as it writes (`Keys`) and
//! checks the whole map once when a second type appears.

use std::collections::HashMap;

use rustler::types::map::MapIterator;
use rustler::{Binary, Term, TermType};

use super::encode_error::EncodeError;
use super::encode_scalar::integer;

/// The type of a map's keys, as far as they have been written.
#[derive(Clone, Copy, PartialEq)]
pub enum Keys {
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
    pub fn mixed_by(&mut self, key: Term) -> bool {
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
pub fn check_duplicate_keys<'a>(map: Term<'a>) -> Result<(), EncodeError<'a>> {
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
