//! Integers beyond 64 bits, converted between decimal text and the Erlang
//! external term format (which is how a NIF makes or reads a bignum).

/// Longest integer literal we convert; past this the quadratic conversion
/// would be a denial-of-service vector.
pub const MAX_DIGITS: usize = 4096;

const SMALL_BIG_EXT: u8 = 110;
const LARGE_BIG_EXT: u8 = 111;
const VERSION: u8 = 131;

/// Encodes a decimal integer literal (optional leading `-`, then digits) as
/// an external-term-format bignum, ready for `enif_binary_to_term`.
pub fn decimal_to_etf(text: &[u8]) -> Option<Vec<u8>> {
    let (negative, digits) = match text.first()? {
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Little-endian base-2^32 limbs; fold in nine decimal digits at a time.
    let mut limbs: Vec<u32> = vec![0];
    for chunk in digits.chunks(9) {
        let mut mul: u64 = 1;
        let mut add: u64 = 0;
        for d in chunk {
            mul *= 10;
            add = add * 10 + u64::from(d - b'0');
        }
        let mut carry = add;
        for limb in limbs.iter_mut() {
            let v = u64::from(*limb) * mul + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry > 0 {
            limbs.push(carry as u32);
        }
    }
    let mut bytes: Vec<u8> = limbs.iter().flat_map(|l| l.to_le_bytes()).collect();
    while bytes.len() > 1 && *bytes.last().unwrap() == 0 {
        bytes.pop();
    }
    let mut out = Vec::with_capacity(bytes.len() + 7);
    out.push(VERSION);
    if bytes.len() < 256 {
        out.push(SMALL_BIG_EXT);
        out.push(bytes.len() as u8);
    } else {
        out.push(LARGE_BIG_EXT);
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    }
    out.push(u8::from(negative && bytes.iter().any(|b| *b != 0)));
    out.extend_from_slice(&bytes);
    Some(out)
}

/// Renders an external-term-format bignum (as `term_to_binary` gives it) as
/// decimal text. Returns `None` for anything that is not a bignum.
pub fn etf_to_decimal(etf: &[u8]) -> Option<String> {
    let (negative, bytes) = match etf {
        [VERSION, SMALL_BIG_EXT, n, sign, rest @ ..] if rest.len() == *n as usize => {
            (*sign != 0, rest)
        }
        [VERSION, LARGE_BIG_EXT, a, b, c, d, sign, rest @ ..]
            if rest.len() == u32::from_be_bytes([*a, *b, *c, *d]) as usize =>
        {
            (*sign != 0, rest)
        }
        _ => return None,
    };
    // Big-endian base-2^32 limbs, repeatedly divided by 10^9.
    let mut limbs: Vec<u32> = bytes
        .chunks(4)
        .map(|c| {
            let mut w = [0u8; 4];
            w[..c.len()].copy_from_slice(c);
            u32::from_le_bytes(w)
        })
        .collect();
    limbs.reverse();
    let mut groups: Vec<u32> = Vec::new();
    while limbs.iter().any(|l| *l != 0) {
        let mut rem: u64 = 0;
        for limb in limbs.iter_mut() {
            let cur = (rem << 32) | u64::from(*limb);
            *limb = (cur / 1_000_000_000) as u32;
            rem = cur % 1_000_000_000;
        }
        groups.push(rem as u32);
        while limbs.first() == Some(&0) && limbs.len() > 1 {
            limbs.remove(0);
        }
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    match groups.split_last() {
        None => out.push('0'),
        Some((top, rest)) => {
            out.push_str(&top.to_string());
            for g in rest.iter().rev() {
                out.push_str(&format!("{g:09}"));
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_to_the_64_matches_erlang() {
        // term_to_binary(18446744073709551616) in Erlang.
        let etf = decimal_to_etf(b"18446744073709551616").unwrap();
        assert_eq!(etf, vec![131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(etf_to_decimal(&etf).unwrap(), "18446744073709551616");
    }

    #[test]
    fn negative_round_trip() {
        let text = "-123456789012345678901234567890123456789";
        let etf = decimal_to_etf(text.as_bytes()).unwrap();
        assert_eq!(etf[3], 1);
        assert_eq!(etf_to_decimal(&etf).unwrap(), text);
    }

    #[test]
    fn huge_round_trip_uses_large_big_ext() {
        let text: String = "9876543210".repeat(100);
        let etf = decimal_to_etf(text.as_bytes()).unwrap();
        assert_eq!(etf[1], LARGE_BIG_EXT);
        assert_eq!(etf_to_decimal(&etf).unwrap(), text);
    }

    #[test]
    fn rejects_bad_input() {
        assert!(decimal_to_etf(b"").is_none());
        assert!(decimal_to_etf(b"-").is_none());
        assert!(decimal_to_etf(b"12a").is_none());
        assert!(decimal_to_etf(&vec![b'1'; MAX_DIGITS + 1]).is_none());
        assert!(etf_to_decimal(&[131, 97, 1]).is_none());
    }
}
