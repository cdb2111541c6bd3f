//! The JSON number grammar, for a `LambdaRuntime.JSON.BigNumber`'s text
//! (written as it is, so it must be a JSON number).

/// RFC 8259's number grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
pub fn is_json_number(s: &[u8]) -> bool {
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < s.len() && s[*i].is_ascii_digit() {
            *i += 1;
        }
        *i > start
    };
    if s.get(i) == Some(&b'-') {
        i += 1;
    }
    match s.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if s.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    }
    if matches!(s.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(s.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use super::is_json_number;

    #[test]
    fn accepts_rfc_8259_numbers_only() {
        for ok in [
            "0",
            "-0",
            "7",
            "-12",
            "1.5",
            "0.25",
            "1e9",
            "1E+9",
            "-2.5e-10",
            "123456789012345678901234567890",
        ] {
            assert!(is_json_number(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "", "-", "01", "+1", "1.", ".5", "1e", "1e+", "0x10", "1.5.2", " 1", "1 ", "NaN",
            "Infinity", "--1",
        ] {
            assert!(!is_json_number(bad.as_bytes()), "{bad}");
        }
    }
}
