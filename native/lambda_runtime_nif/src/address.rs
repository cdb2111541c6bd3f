//! Turns `AWS_LAMBDA_RUNTIME_API` into the base URL of the Runtime API.
//!
//! Real Lambda sets `host:port`; cargo-lambda's emulator sets
//! `http://host:port/prefix`. Both become `http://host:port[/prefix]/2018-06-01`.

/// The Runtime API version segment every endpoint lives under.
pub const API_VERSION: &str = "2018-06-01";

/// Parses the value of `AWS_LAMBDA_RUNTIME_API` into the base URL that every
/// endpoint path is appended to. Returns a sentence naming the problem on bad input.
pub fn base_url(api: &str) -> Result<String, String> {
    let api = api.trim();
    if api.is_empty() {
        return Err("AWS_LAMBDA_RUNTIME_API is empty; expected host:port".to_string());
    }
    let rest = if let Some(rest) = api.strip_prefix("http://") {
        rest
    } else if api.starts_with("https://") {
        return Err(format!(
            "AWS_LAMBDA_RUNTIME_API {api:?} uses https; the Runtime API is plain http"
        ));
    } else if api.contains("://") {
        return Err(format!(
            "AWS_LAMBDA_RUNTIME_API {api:?} has an unknown scheme; expected host:port"
        ));
    } else {
        api
    };
    let (authority, prefix) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    check_authority(api, authority)?;
    if let Some(c) = prefix.chars().find(|c| !is_path_char(*c)) {
        return Err(format!(
            "AWS_LAMBDA_RUNTIME_API {api:?} has {c:?} in its path; expected http://host:port/prefix"
        ));
    }
    Ok(format!("http://{authority}{prefix}/{API_VERSION}"))
}

fn check_authority(api: &str, authority: &str) -> Result<(), String> {
    let (host_ok, port) = if let Some(rest) = authority.strip_prefix('[') {
        // [ipv6]:port
        match rest.rfind("]:") {
            Some(i) => (
                !rest[..i].is_empty()
                    && rest[..i]
                        .chars()
                        .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.'),
                &rest[i + 2..],
            ),
            None => (false, ""),
        }
    } else {
        match authority.rfind(':') {
            Some(i) if i > 0 => (
                authority[..i]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')),
                &authority[i + 1..],
            ),
            _ => (false, ""),
        }
    };
    match port.parse::<u16>() {
        Ok(p) if p > 0 && host_ok => Ok(()),
        _ => Err(format!(
            "AWS_LAMBDA_RUNTIME_API {api:?} has no valid host:port"
        )),
    }
}

/// Characters a path prefix may hold as they are (RFC 3986 pchar and `/`).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '/' | '-'
                | '.'
                | '_'
                | '~'
                | '%'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | ';'
                | '='
                | ':'
                | '@'
        )
}

/// Splits a base URL made by `base_url` into its authority (`host:port`)
/// and path prefix (`[/prefix]/2018-06-01`).
pub fn split_base(base: &str) -> Option<(&str, &str)> {
    let rest = base.strip_prefix("http://")?;
    let slash = rest.find('/')?;
    Some((&rest[..slash], &rest[slash..]))
}

/// Percent-encodes a request id for use as one path segment. Real ids are
/// UUIDs and pass unchanged; anything else cannot break out of the segment.
pub fn path_segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_lambda_form() {
        assert_eq!(
            base_url("127.0.0.1:9001").unwrap(),
            "http://127.0.0.1:9001/2018-06-01"
        );
        assert_eq!(
            base_url("localhost:80").unwrap(),
            "http://localhost:80/2018-06-01"
        );
    }

    #[test]
    fn emulator_form_with_prefix() {
        assert_eq!(
            base_url("http://127.0.0.1:9000/.rt").unwrap(),
            "http://127.0.0.1:9000/.rt/2018-06-01"
        );
        assert_eq!(
            base_url("http://127.0.0.1:9000/.rt/").unwrap(),
            "http://127.0.0.1:9000/.rt/2018-06-01"
        );
        assert_eq!(
            base_url("http://127.0.0.1:9000").unwrap(),
            "http://127.0.0.1:9000/2018-06-01"
        );
    }

    #[test]
    fn ipv6() {
        assert_eq!(
            base_url("[::1]:9001").unwrap(),
            "http://[::1]:9001/2018-06-01"
        );
    }

    #[test]
    fn whitespace_is_trimmed() {
        assert_eq!(
            base_url(" 127.0.0.1:9001\n").unwrap(),
            "http://127.0.0.1:9001/2018-06-01"
        );
    }

    #[test]
    fn bad_values_name_the_problem() {
        assert!(base_url("").unwrap_err().contains("empty"));
        assert!(base_url("127.0.0.1").unwrap_err().contains("host:port"));
        assert!(base_url("127.0.0.1:abc").unwrap_err().contains("host:port"));
        assert!(base_url("127.0.0.1:0").unwrap_err().contains("host:port"));
        assert!(base_url("https://h:1").unwrap_err().contains("https"));
        assert!(base_url("ftp://h:1").unwrap_err().contains("scheme"));
        assert!(base_url(":9001").unwrap_err().contains("host:port"));
        assert!(base_url("h:1:2").unwrap_err().contains("host:port"));
        assert!(base_url("a b:1").unwrap_err().contains("host:port"));
        assert!(base_url("[]:1").unwrap_err().contains("host:port"));
        assert!(base_url("[::1x]:1").unwrap_err().contains("host:port"));
        assert!(base_url("http://h:1/a b").unwrap_err().contains("' '"));
        assert!(base_url("http://h:1/x?y").unwrap_err().contains("'?'"));
    }

    #[test]
    fn base_urls_split_into_authority_and_prefix() {
        let base = base_url("http://127.0.0.1:9000/.rt").unwrap();
        assert_eq!(
            split_base(&base),
            Some(("127.0.0.1:9000", "/.rt/2018-06-01"))
        );
        let base = base_url("[::1]:9001").unwrap();
        assert_eq!(split_base(&base), Some(("[::1]:9001", "/2018-06-01")));
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(
            path_segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd"),
            "8476a536-e9f4-11e8-9739-2dfe598c3fcd"
        );
        assert_eq!(path_segment("a/../b c"), "a%2F..%2Fb%20c");
    }
}
