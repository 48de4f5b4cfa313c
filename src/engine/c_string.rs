//! Bytes as C's string functions see them. Redis keeps arguments and payload fields as
//! byte strings but often formats or parses them with C functions (`%s`, `strtoll`),
//! which stop at the first NUL byte, so replies and log lines show only that part.

/// The part of `s` a C string would see: up to its first NUL byte.
pub(crate) fn c_str(s: &[u8]) -> &[u8] {
    s.iter().position(|&b| b == 0).map_or(s, |nul| &s[..nul])
}

/// C's `strtoll(s, NULL, 10)`: leading spaces, a sign, digits; 0 when there are none,
/// saturating on overflow.
pub(crate) fn c_strtoll(s: &[u8]) -> i64 {
    let s = &s[s
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'))
        .count()..];
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i128 = 0;
    for &d in digits.iter().take_while(|b| b.is_ascii_digit()) {
        v = (v * 10 + (d - b'0') as i128).min(i64::MAX as i128 + 1);
    }
    let v = if neg { -v } else { v };
    v.clamp(i64::MIN as i128, i64::MAX as i128) as i64
}
