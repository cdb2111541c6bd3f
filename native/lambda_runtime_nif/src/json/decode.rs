//! JSON text to Erlang terms: objects become maps with binary keys, arrays
//! lists, strings binaries, `null` the atom `nil`, numbers integers (of any
//! size) or floats. Duplicate keys: the last one wins. A number with a
//! fraction or exponent beyond a float's range (`1e400`) becomes a
//! `%LambdaRuntime.JSON.BigNumber{text: "1e400"}` struct that keeps its text:
//! an Erlang float has no infinity, and refusing it would lose the event.

use rustler::sys::ErlNifTerm;
use rustler::types::atom;
use rustler::{Binary, Encoder, Env, Term};

use super::bignum;
use super::MAX_DEPTH;

/// Why the text is not JSON, and the byte offset where that became clear.
#[derive(Debug)]
pub struct DecodeError {
    pub offset: usize,
    pub message: String,
}

pub(super) fn err<T>(offset: usize, message: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError {
        offset,
        message: message.into(),
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Array,
    Object,
}

struct Frame {
    kind: Kind,
    /// Index into `values` where this container's items start.
    start: usize,
}

pub(super) struct Parser<'a, 'b> {
    pub(super) env: Env<'a>,
    pub(super) input: &'b Binary<'a>,
    pub(super) bytes: &'b [u8],
    pub(super) pos: usize,
    /// Finished values of every open container, in order (objects alternate key, value).
    values: Vec<Term<'a>>,
    frames: Vec<Frame>,
    /// Scratch space for building lists and maps from raw term handles.
    raw: Vec<ErlNifTerm>,
    keys: Vec<ErlNifTerm>,
    vals: Vec<ErlNifTerm>,
}

/// Decodes one JSON document (surrounding whitespace allowed).
pub fn decode<'a>(env: Env<'a>, input: &Binary<'a>) -> Result<Term<'a>, DecodeError> {
    let mut p = Parser {
        env,
        input,
        bytes: input.as_slice(),
        pos: 0,
        values: Vec::with_capacity(64),
        frames: Vec::new(),
        raw: Vec::new(),
        keys: Vec::new(),
        vals: Vec::new(),
    };
    p.run()
}

impl<'a> Parser<'a, '_> {
    fn run(&mut self) -> Result<Term<'a>, DecodeError> {
        'value: loop {
            self.skip_ws();
            let value = match self.peek() {
                Some(b'{') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.pos += 1;
                        Term::map_new(self.env)
                    } else {
                        self.open(Kind::Object)?;
                        self.key()?;
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.pos += 1;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.pos += 1;
                        make_list(self.env, &[][..])
                    } else {
                        self.open(Kind::Array)?;
                        continue 'value;
                    }
                }
                Some(b'"') => self.string()?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                Some(b't') => self.literal(b"true", atom::true_().encode(self.env))?,
                Some(b'f') => self.literal(b"false", atom::false_().encode(self.env))?,
                Some(b'n') => self.literal(b"null", atom::nil().encode(self.env))?,
                Some(_) => return self.unexpected("a value"),
                None => return self.unexpected_end("a value"),
            };
            self.values.push(value);
            // Close every container that ends here, then expect the next item.
            loop {
                self.skip_ws();
                let Some(frame) = self.frames.last() else {
                    return self.finish();
                };
                let kind = frame.kind;
                match (kind, self.peek()) {
                    (_, Some(b',')) => {
                        self.pos += 1;
                        if kind == Kind::Object {
                            self.skip_ws();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    (Kind::Array, Some(b']')) => {
                        self.pos += 1;
                        self.close_array();
                    }
                    (Kind::Object, Some(b'}')) => {
                        self.pos += 1;
                        self.close_object()?;
                    }
                    (Kind::Array, Some(_)) => return self.unexpected("',' or ']'"),
                    (Kind::Object, Some(_)) => return self.unexpected("',' or '}'"),
                    (_, None) => return self.unexpected_end("',' or a closing bracket"),
                }
            }
        }
    }

    fn finish(&mut self) -> Result<Term<'a>, DecodeError> {
        if self.pos < self.bytes.len() {
            return self.unexpected("the end of the document");
        }
        Ok(self
            .values
            .pop()
            .expect("a finished document has one value"))
    }

    fn open(&mut self, kind: Kind) -> Result<(), DecodeError> {
        if self.frames.len() >= MAX_DEPTH {
            return err(
                self.pos - 1,
                format!("nesting is deeper than {MAX_DEPTH} levels"),
            );
        }
        self.frames.push(Frame {
            kind,
            start: self.values.len(),
        });
        Ok(())
    }

    fn close_array(&mut self) {
        let frame = self.frames.pop().expect("open array");
        self.raw.clear();
        self.raw
            .extend(self.values[frame.start..].iter().map(|t| t.as_c_arg()));
        let list = make_list(self.env, &self.raw);
        self.values.truncate(frame.start);
        self.values.push(list);
    }

    fn close_object(&mut self) -> Result<(), DecodeError> {
        let frame = self.frames.pop().expect("open object");
        self.keys.clear();
        self.vals.clear();
        for pair in self.values[frame.start..].chunks_exact(2) {
            self.keys.push(pair[0].as_c_arg());
            self.vals.push(pair[1].as_c_arg());
        }
        let mut out = ErlNifTerm::default();
        // SAFETY: keys and values are valid terms of `self.env`, equal in number.
        let made = unsafe {
            rustler::sys::enif_make_map_from_arrays(
                self.env.as_c_arg(),
                self.keys.as_ptr(),
                self.vals.as_ptr(),
                self.keys.len(),
                &mut out,
            )
        };
        let map = match made {
            // SAFETY: the call succeeded, so `out` is a map term of `self.env`.
            1 => unsafe { Term::new(self.env, out) },
            // Duplicate keys: put them one by one so that the last one wins.
            _ => {
                let mut map = Term::map_new(self.env);
                for pair in self.values[frame.start..].chunks_exact(2) {
                    map = map.map_put(pair[0], pair[1]).map_err(|_| DecodeError {
                        offset: self.pos,
                        message: "could not build an object".into(),
                    })?;
                }
                map
            }
        };
        self.values.truncate(frame.start);
        self.values.push(map);
        Ok(())
    }

    /// An object key and its colon.
    fn key(&mut self) -> Result<(), DecodeError> {
        match self.peek() {
            Some(b'"') => {
                let k = self.string()?;
                self.values.push(k);
            }
            Some(_) => return self.unexpected("a string key"),
            None => return self.unexpected_end("a string key"),
        }
        self.skip_ws();
        match self.peek() {
            Some(b':') => {
                self.pos += 1;
                Ok(())
            }
            Some(_) => self.unexpected("':'"),
            None => self.unexpected_end("':'"),
        }
    }

    fn number(&mut self) -> Result<Term<'a>, DecodeError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return err(start, "invalid number"),
        }
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return err(start, "invalid number: digits must follow '.'");
            }
            self.digits();
            float = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return err(start, "invalid number: digits must follow the exponent");
            }
            self.digits();
            float = true;
        }
        let text = &self.bytes[start..self.pos];
        // SAFETY: the grammar above admits only ASCII.
        let s = unsafe { std::str::from_utf8_unchecked(text) };
        if float {
            return match s.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(f.encode(self.env)),
                _ => self.big_number(start, text),
            };
        }
        if let Ok(i) = s.parse::<i64>() {
            return Ok(i.encode(self.env));
        }
        if let Ok(u) = s.parse::<u64>() {
            return Ok(u.encode(self.env));
        }
        let etf = bignum::decimal_to_etf(text).ok_or(DecodeError {
            offset: start,
            message: format!("integer has more than {} digits", bignum::MAX_DIGITS),
        })?;
        match self.env.binary_to_term(&etf) {
            Some((term, _)) => Ok(term),
            None => err(start, "could not build a big integer"),
        }
    }

    /// `%LambdaRuntime.JSON.BigNumber{text: text}`, for a number whose
    /// magnitude no float holds. The encoder writes `text` back as it is.
    fn big_number(&self, start: usize, text: &[u8]) -> Result<Term<'a>, DecodeError> {
        let env = self.env;
        let mut bin = rustler::NewBinary::new(env, text.len());
        bin.as_mut_slice().copy_from_slice(text);
        let text: Term<'a> = Binary::from(bin).encode(env);
        let keys = [
            big_number_atoms::__struct__().encode(env),
            big_number_atoms::text().encode(env),
        ];
        let values = [big_number_atoms::big_number_module().encode(env), text];
        Term::map_from_term_arrays(env, &keys, &values).map_err(|_| DecodeError {
            offset: start,
            message: "could not build a big number".into(),
        })
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &[u8], value: Term<'a>) -> Result<Term<'a>, DecodeError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(value)
        } else {
            self.unexpected("a value")
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn unexpected<T>(&self, wanted: &str) -> Result<T, DecodeError> {
        let b = self.bytes[self.pos];
        let shown = if b.is_ascii_graphic() {
            format!("'{}'", b as char)
        } else {
            format!("byte 0x{b:02X}")
        };
        err(self.pos, format!("unexpected {shown}, expected {wanted}"))
    }

    fn unexpected_end<T>(&self, wanted: &str) -> Result<T, DecodeError> {
        err(
            self.pos,
            format!("unexpected end of input, expected {wanted}"),
        )
    }
}

/// A list of `items`, in one call. (rustler's `list_new_empty` goes through
/// the variadic `enif_make_list`, which does not give `[]` here.)
mod big_number_atoms {
    rustler::atoms! { __struct__, text, big_number_module = "Elixir.LambdaRuntime.JSON.BigNumber" }
}

fn make_list<'a>(env: Env<'a>, items: &[ErlNifTerm]) -> Term<'a> {
    // SAFETY: `items` are valid terms of `env`; the call copies them.
    unsafe {
        Term::new(
            env,
            rustler::sys::enif_make_list_from_array(
                env.as_c_arg(),
                items.as_ptr(),
                items.len() as _,
            ),
        )
    }
}
