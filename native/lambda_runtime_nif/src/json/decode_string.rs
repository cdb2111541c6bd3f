//! JSON strings to Erlang binaries: the unescaped fast path (a sub-binary
//! of the input, no copy) and the escape-decoding slow path, with UTF-8
//! validation and byte offsets in errors.

use rustler::{Binary, Term};

use super::decode::{err, DecodeError, Parser};

impl<'a> Parser<'a, '_> {
    pub(super) fn string(&mut self) -> Result<Term<'a>, DecodeError> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    let raw = &self.bytes[start..self.pos];
                    self.pos += 1;
                    check_utf8(raw, start)?;
                    let sub =
                        self.input
                            .make_subbinary(start, raw.len())
                            .map_err(|_| DecodeError {
                                offset: start,
                                message: "could not slice the input".into(),
                            })?;
                    return Ok(sub.to_term(self.env));
                }
                Some(b'\\') => return self.escaped_string(start),
                Some(c) if *c < 0x20 => {
                    return err(self.pos, "control character in string (must be escaped)")
                }
                Some(_) => self.pos += 1,
                None => return err(open, "unterminated string"),
            }
        }
    }

    /// The slow path of `string`, once a backslash is seen.
    fn escaped_string(&mut self, start: usize) -> Result<Term<'a>, DecodeError> {
        let mut out: Vec<u8> = Vec::with_capacity(self.pos - start + 16);
        out.extend_from_slice(&self.bytes[start..self.pos]);
        loop {
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    check_utf8(&out, start)?;
                    let mut bin = rustler::NewBinary::new(self.env, out.len());
                    bin.as_mut_slice().copy_from_slice(&out);
                    return Ok(Binary::from(bin).to_term(self.env));
                }
                Some(b'\\') => {
                    let at = self.pos;
                    self.pos += 1;
                    let c = match self.bytes.get(self.pos) {
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        Some(b'/') => b'/',
                        Some(b'b') => 0x08,
                        Some(b'f') => 0x0c,
                        Some(b'n') => b'\n',
                        Some(b'r') => b'\r',
                        Some(b't') => b'\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let ch = self.unicode_escape(at)?;
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            continue;
                        }
                        Some(_) => return err(at, "invalid escape in string"),
                        None => return err(start - 1, "unterminated string"),
                    };
                    self.pos += 1;
                    out.push(c);
                }
                Some(c) if *c < 0x20 => {
                    return err(self.pos, "control character in string (must be escaped)")
                }
                Some(c) => {
                    out.push(*c);
                    self.pos += 1;
                }
                None => return err(start - 1, "unterminated string"),
            }
        }
    }

    /// After `\u`: four hex digits, and a low surrogate's escape when the
    /// first is a high surrogate.
    fn unicode_escape(&mut self, at: usize) -> Result<char, DecodeError> {
        let hi = self.hex4(at)?;
        let code = match hi {
            0xD800..=0xDBFF => {
                if self.bytes.get(self.pos..self.pos + 2) != Some(&b"\\u"[..]) {
                    return err(at, "unpaired surrogate in \\u escape");
                }
                self.pos += 2;
                let lo = self.hex4(at)?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return err(at, "unpaired surrogate in \\u escape");
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return err(at, "unpaired surrogate in \\u escape"),
            _ => hi,
        };
        char::from_u32(code).ok_or(DecodeError {
            offset: at,
            message: "invalid \\u escape".into(),
        })
    }

    fn hex4(&mut self, at: usize) -> Result<u32, DecodeError> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            return err(at, "invalid \\u escape");
        };
        let mut v = 0u32;
        for d in digits {
            let x = match d {
                b'0'..=b'9' => d - b'0',
                b'a'..=b'f' => d - b'a' + 10,
                b'A'..=b'F' => d - b'A' + 10,
                _ => return err(at, "invalid \\u escape"),
            };
            v = v * 16 + u32::from(x);
        }
        self.pos += 4;
        Ok(v)
    }
}

fn check_utf8(raw: &[u8], start: usize) -> Result<(), DecodeError> {
    match std::str::from_utf8(raw) {
        Ok(_) => Ok(()),
        Err(e) => err(start + e.valid_up_to(), "invalid UTF-8 in string"),
    }
}
