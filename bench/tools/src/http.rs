//! A minimal HTTP/1.1 message reader and writer: enough for the Runtime API
//! and the emulator's invoke endpoint (Content-Length or chunked bodies).

use std::io::{self, BufRead, Write};

/// One request or response.
#[derive(Debug, Clone)]
pub struct Message {
    /// The request line or status line, without CRLF.
    pub start: String,
    /// Header names and values as received.
    pub headers: Vec<(String, String)>,
    /// The whole body, de-chunked.
    pub body: Vec<u8>,
}

impl Message {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The status code of a response (0 when unparsable).
    pub fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    /// Serialises the message with a Content-Length body (never chunked).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        out.extend_from_slice(self.start.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("content-length")
                || k.eq_ignore_ascii_case("transfer-encoding")
            {
                continue;
            }
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        out.extend_from_slice(&self.body);
        out
    }

    /// Writes the message in one `write_all`.
    pub fn write_to<W: Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(&self.to_bytes())?;
        w.flush()
    }
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn read_line<R: BufRead>(r: &mut R) -> io::Result<Option<String>> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    while line.ends_with('\n') || line.ends_with('\r') {
        line.pop();
    }
    Ok(Some(line))
}

/// Reads the start line and headers; `None` on a clean end of stream.
pub fn read_head<R: BufRead>(r: &mut R) -> io::Result<Option<Message>> {
    let start = loop {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => break l,
        }
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(|| bad("end of stream in headers"))?;
        if line.is_empty() {
            break;
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| bad("header without ':'"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(Some(Message {
        start,
        headers,
        body: Vec::new(),
    }))
}

/// Reads the body that `head` announces. A response with neither length nor
/// chunking is read to the end of the stream.
pub fn read_body<R: BufRead>(r: &mut R, head: &mut Message, is_response: bool) -> io::Result<()> {
    let chunked = head
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        loop {
            let line = read_line(r)?.ok_or_else(|| bad("end of stream in chunk size"))?;
            let size_hex = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_hex, 16).map_err(|_| bad("bad chunk size"))?;
            if size == 0 {
                // Trailers, then the empty line.
                while let Some(l) = read_line(r)? {
                    if l.is_empty() {
                        break;
                    }
                }
                return Ok(());
            }
            let at = head.body.len();
            head.body.resize(at + size, 0);
            r.read_exact(&mut head.body[at..])?;
            read_line(r)?;
        }
    } else if let Some(len) = head.header("content-length") {
        let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
        head.body.resize(len, 0);
        r.read_exact(&mut head.body)?;
    } else if is_response {
        let status = head.status();
        if !(status == 204 || status == 304 || (100..200).contains(&status)) {
            r.read_to_end(&mut head.body)?;
        }
    }
    Ok(())
}

/// Reads one whole message; `None` on a clean end of stream.
pub fn read_message<R: BufRead>(r: &mut R, is_response: bool) -> io::Result<Option<Message>> {
    match read_head(r)? {
        None => Ok(None),
        Some(mut m) => {
            read_body(r, &mut m, is_response)?;
            Ok(Some(m))
        }
    }
}
