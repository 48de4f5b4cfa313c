//! C floating point exactly as Redis 7.0 on x86-64 Linux sees it.
//!
//! Redis parses scores and increments with glibc's `strtod` / `strtold` and prints them
//! with `snprintf("%.17g")` (RESP2 double replies) or `"%.17Lf"` (HINCRBYFLOAT, whose
//! arithmetic is done in the x87 80-bit `long double`). The bytes a client or a replica
//! sees depend on every detail of that: correct rounding, hexadecimal input, `inf`,
//! underflow and overflow, and a 64-bit mantissa for `long double`. Rust has no `long
//! double`, and its own float parsing accepts a different syntax, so this module does it
//! all itself, exactly, with a small big-integer type: parse to an exact rational, round
//! once (to nearest, ties to even, as glibc does in the default rounding mode), and print
//! from the exact binary value (glibc's printf is exact too).

use std::cmp::Ordering;

/// An unsigned big integer, little-endian 32-bit limbs, no high zero limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Big(Vec<u32>);

impl Big {
    fn zero() -> Big {
        Big(Vec::new())
    }

    fn from_u128(mut v: u128) -> Big {
        let mut limbs = Vec::new();
        while v != 0 {
            limbs.push(v as u32);
            v >>= 32;
        }
        Big(limbs)
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bits(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 32 + (32 - top.leading_zeros() as u64),
        }
    }

    fn bit(&self, i: u64) -> bool {
        let limb = (i / 32) as usize;
        limb < self.0.len() && (self.0[limb] >> (i % 32)) & 1 == 1
    }

    /// Whether any of the lowest `n` bits is set.
    fn any_below(&self, n: u64) -> bool {
        let full = (n / 32) as usize;
        if self.0.iter().take(full).any(|&l| l != 0) {
            return true;
        }
        let rest = n % 32;
        rest != 0 && full < self.0.len() && self.0[full] & ((1u32 << rest) - 1) != 0
    }

    /// The value as u128 when it fits (callers only ask for small values).
    fn to_u128(&self) -> u128 {
        self.0
            .iter()
            .rev()
            .take(4)
            .fold(0u128, |acc, &l| (acc << 32) | l as u128)
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for l in &mut self.0 {
            let v = *l as u64 * m as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
        self.trim();
    }

    fn add_small(&mut self, a: u32) {
        let mut carry = a as u64;
        for l in &mut self.0 {
            if carry == 0 {
                return;
            }
            let v = *l as u64 + carry;
            *l = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    fn mul_pow10(&mut self, mut n: u64) {
        while n >= 9 {
            self.mul_small(1_000_000_000);
            n -= 9;
        }
        if n > 0 {
            self.mul_small(10u32.pow(n as u32));
        }
    }

    fn pow10(n: u64) -> Big {
        let mut b = Big::from_u128(1);
        b.mul_pow10(n);
        b
    }

    fn shl(&self, n: u64) -> Big {
        if self.is_zero() {
            return Big::zero();
        }
        let limbs = (n / 32) as usize;
        let bits = (n % 32) as u32;
        let mut out = vec![0u32; limbs];
        if bits == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u32;
            for &l in &self.0 {
                out.push((l << bits) | carry);
                carry = l >> (32 - bits);
            }
            if carry != 0 {
                out.push(carry);
            }
        }
        Big(out)
    }

    fn shr(&self, n: u64) -> Big {
        let limbs = (n / 32) as usize;
        if limbs >= self.0.len() {
            return Big::zero();
        }
        let bits = (n % 32) as u32;
        let src = &self.0[limbs..];
        let mut out = Vec::with_capacity(src.len());
        for i in 0..src.len() {
            let lo = src[i] >> bits;
            let hi = if bits == 0 {
                0
            } else {
                src.get(i + 1).map_or(0, |&h| h << (32 - bits))
            };
            out.push(lo | hi);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn cmp(&self, other: &Big) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    fn add(&self, other: &Big) -> Big {
        let (a, b) = if self.0.len() >= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(a.0.len() + 1);
        let mut carry = 0u64;
        for i in 0..a.0.len() {
            let v = a.0[i] as u64 + b.0.get(i).copied().unwrap_or(0) as u64 + carry;
            out.push(v as u32);
            carry = v >> 32;
        }
        if carry != 0 {
            out.push(carry as u32);
        }
        Big(out)
    }

    /// `self - other`; requires `self >= other`.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let mut v = self.0[i] as i64 - other.0.get(i).copied().unwrap_or(0) as i64 - borrow;
            borrow = 0;
            if v < 0 {
                v += 1 << 32;
                borrow = 1;
            }
            out.push(v as u32);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    /// Quotient and remainder. Shift-and-subtract, one quotient bit at a time: every
    /// caller arranges for quotients of a few dozen bits.
    fn divmod(&self, d: &Big) -> (Big, Big) {
        if self.cmp(d) == Ordering::Less {
            return (Big::zero(), self.clone());
        }
        let mut rem = self.clone();
        let shift = self.bits() - d.bits();
        let mut q = Big(vec![0u32; (shift / 32) as usize + 1]);
        for i in (0..=shift).rev() {
            let t = d.shl(i);
            if rem.cmp(&t) != Ordering::Less {
                rem = rem.sub(&t);
                q.0[(i / 32) as usize] |= 1 << (i % 32);
            }
        }
        q.trim();
        (q, rem)
    }

    fn divmod_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for l in self.0.iter_mut().rev() {
            let v = (rem << 32) | *l as u64;
            *l = (v / d as u64) as u32;
            rem = v % d as u64;
        }
        self.trim();
        rem as u32
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut chunks = Vec::new();
        let mut n = self.clone();
        while !n.is_zero() {
            chunks.push(n.divmod_small(1_000_000_000));
        }
        let mut s = chunks.pop().expect("nonzero").to_string();
        for c in chunks.iter().rev() {
            s.push_str(&format!("{c:09}"));
        }
        s
    }
}

/// A binary floating-point format.
#[derive(Clone, Copy, Debug)]
pub struct Format {
    /// Mantissa bits, the leading one included.
    prec: u64,
    /// Exponent of the least significant mantissa bit of the smallest subnormal.
    emin: i64,
    /// Finite values are below 2^max_bits.
    max_bits: i64,
    /// Decimal digits kept when parsing: at least as many as the longest exact midpoint
    /// between two neighbours has, so dropping the rest (remembering only whether they
    /// were zero) cannot change the rounding.
    max_digits: usize,
}

/// IEEE double.
pub const F64: Format = Format {
    prec: 53,
    emin: -1074,
    max_bits: 1024,
    max_digits: 800,
};
/// x87 80-bit extended precision, `long double` on x86-64.
pub const F80: Format = Format {
    prec: 64,
    emin: -16445,
    max_bits: 16384,
    max_digits: 12_000,
};

/// A value of one of the formats: `mant * 2^exp` (`mant == 0` is a signed zero), or an
/// infinity. NaN never needs representing: Redis rejects it wherever it could enter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Float {
    Finite { neg: bool, mant: u64, exp: i64 },
    Inf { neg: bool },
}

impl Float {
    pub fn is_inf(&self) -> bool {
        matches!(self, Float::Inf { .. })
    }

    /// The double this is (exact for values of the F64 format).
    pub fn to_f64(self) -> f64 {
        match self {
            Float::Inf { neg } => {
                if neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            Float::Finite { neg, mant, exp } => {
                // mant < 2^53 and the exponent in range for F64 values: both factors exact.
                let m = mant as f64;
                let v = if exp >= 0 {
                    m * 2f64.powi(exp as i32)
                } else {
                    scale_down(m, -exp)
                };
                if neg {
                    -v
                } else {
                    v
                }
            }
        }
    }

    pub fn from_f64(v: f64) -> Float {
        let neg = v.is_sign_negative();
        if v.is_infinite() {
            return Float::Inf { neg };
        }
        if v == 0.0 {
            return Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            };
        }
        let bits = v.to_bits();
        let e = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        if e == 0 {
            Float::Finite {
                neg,
                mant: frac,
                exp: -1074,
            }
        } else {
            Float::Finite {
                neg,
                mant: frac | (1u64 << 52),
                exp: e - 1075,
            }
        }
    }
}

/// `m / 2^k` for an F64 value, without an intermediate under- or overflow.
fn scale_down(mut m: f64, mut k: i64) -> f64 {
    while k > 0 {
        let step = k.min(1000);
        m /= 2f64.powi(step as i32);
        k -= step;
    }
    m
}

/// Rounds the exact value `n * 2^e` (plus something smaller than one unit of `n` when
/// `sticky`) to the format: to nearest, ties to even. Returns the value and whether it
/// under- or overflowed (glibc's ERANGE with a zero or infinite result).
fn round(neg: bool, n: &Big, e: i64, sticky: bool, f: Format) -> (Float, bool) {
    if n.is_zero() {
        return (
            Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            },
            sticky,
        );
    }
    let bl = n.bits() as i64;
    let mut shift = bl - f.prec as i64;
    if e + shift < f.emin {
        shift = f.emin - e;
    }
    let (mut mant, mut exp);
    if shift <= 0 {
        mant = n.to_u128();
        exp = e;
    } else {
        let s = shift as u64;
        mant = n.shr(s).to_u128();
        let half = n.bit(s - 1);
        let rest = sticky || n.any_below(s - 1);
        if half && (rest || mant & 1 == 1) {
            mant += 1;
            if mant >> f.prec != 0 {
                mant >>= 1;
                shift += 1;
            }
        }
        exp = e + shift;
    }
    if mant == 0 {
        return (
            Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            },
            true,
        );
    }
    let top = 128 - mant.leading_zeros() as i64;
    if exp + top > f.max_bits {
        return (Float::Inf { neg }, true);
    }
    // Keep the representation canonical (odd mantissa) so equal values compare equal.
    let tz = (mant.trailing_zeros() as i64).min(127);
    mant >>= tz;
    exp += tz;
    (
        Float::Finite {
            neg,
            mant: mant as u64,
            exp,
        },
        false,
    )
}

/// What `strtod` / `strtold` made of the front of a string.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scanned {
    /// `None` for NaN.
    pub value: Option<Float>,
    /// Bytes consumed; 0 when no number was recognised (the value is then +0).
    pub consumed: usize,
    /// ERANGE with a zero or infinite result, which Redis's `string2d` rejects.
    pub range_error: bool,
}

fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn starts_with_ignore_case(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// glibc `strtod` (F64) / `strtold` (F80) in the C locale over `s`, which ends at its
/// first NUL byte as a C string would: leading white space, a sign, `inf`/`infinity`,
/// `nan` with an optional `(chars)`, hexadecimal `0x1.8p3`, or decimal `1.5e-3`.
pub fn strto(s: &[u8], f: Format) -> Scanned {
    let none = Scanned {
        value: Some(Float::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        }),
        consumed: 0,
        range_error: false,
    };
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let rest = &s[i..];
    if starts_with_ignore_case(rest, b"inf") {
        let len = if starts_with_ignore_case(rest, b"infinity") {
            8
        } else {
            3
        };
        return Scanned {
            value: Some(Float::Inf { neg }),
            consumed: i + len,
            range_error: false,
        };
    }
    if starts_with_ignore_case(rest, b"nan") {
        let mut len = 3;
        if rest.get(3) == Some(&b'(') {
            let inner = rest[4..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                .count();
            if rest.get(4 + inner) == Some(&b')') {
                len = 5 + inner;
            }
        }
        return Scanned {
            value: None,
            consumed: i + len,
            range_error: false,
        };
    }
    let hex_digit = |b: u8| (b as char).to_digit(16);
    if rest.len() >= 2 && rest[0] == b'0' && (rest[1] == b'x' || rest[1] == b'X') {
        let after = &rest[2..];
        let has_digits = after.first().is_some_and(|&b| hex_digit(b).is_some())
            || (after.first() == Some(&b'.')
                && after.get(1).is_some_and(|&b| hex_digit(b).is_some()));
        if has_digits {
            return scan_hex(after, i + 2, neg, f);
        }
        // "0x" with nothing after it is the number 0 followed by an 'x'.
        return Scanned {
            value: Some(Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            }),
            consumed: i + 1,
            range_error: false,
        };
    }
    // Decimal: digits [. digits] [e [sign] digits], at least one digit in the mantissa.
    let mut j = 0;
    let mut digits: Vec<u8> = Vec::new();
    let mut dropped_nonzero = false;
    let mut exp10: i64 = 0;
    let mut any = false;
    let mut push = |d: u8, frac: bool, digits: &mut Vec<u8>, exp10: &mut i64| {
        if digits.is_empty() && d == 0 {
            if frac {
                *exp10 -= 1;
            }
            return;
        }
        if digits.len() < f.max_digits {
            digits.push(d);
            if frac {
                *exp10 -= 1;
            }
        } else {
            if d != 0 {
                dropped_nonzero = true;
            }
            if !frac {
                *exp10 += 1;
            }
        }
    };
    while j < rest.len() && rest[j].is_ascii_digit() {
        push(rest[j] - b'0', false, &mut digits, &mut exp10);
        any = true;
        j += 1;
    }
    if j < rest.len() && rest[j] == b'.' {
        let mut k = j + 1;
        let mut frac_any = false;
        while k < rest.len() && rest[k].is_ascii_digit() {
            push(rest[k] - b'0', true, &mut digits, &mut exp10);
            frac_any = true;
            k += 1;
        }
        if any || frac_any {
            j = k;
            any = true;
        }
    }
    if !any {
        return none;
    }
    if j < rest.len() && (rest[j] == b'e' || rest[j] == b'E') {
        let mut k = j + 1;
        let mut eneg = false;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            eneg = rest[k] == b'-';
            k += 1;
        }
        if k < rest.len() && rest[k].is_ascii_digit() {
            let mut e: i64 = 0;
            while k < rest.len() && rest[k].is_ascii_digit() {
                // Saturate: anything this large under- or overflows whatever the digits.
                e = (e * 10 + (rest[k] - b'0') as i64).min(1_000_000_000);
                k += 1;
            }
            exp10 += if eneg { -e } else { e };
            j = k;
        }
    }
    if dropped_nonzero {
        // A digit past the kept ones stands for "a little more than what we kept".
        digits.push(1);
        exp10 -= 1;
    }
    let (value, range_error) = decimal_value(neg, &digits, exp10, f);
    Scanned {
        value: Some(value),
        consumed: i + j,
        range_error,
    }
}

fn scan_hex(s: &[u8], offset: usize, neg: bool, f: Format) -> Scanned {
    let hex_digit = |b: u8| (b as char).to_digit(16);
    let mut n = Big::zero();
    let mut sticky = false;
    let mut exp2: i64 = 0;
    let mut j = 0;
    let mut push = |d: u32, frac: bool, n: &mut Big, exp2: &mut i64| {
        if n.bits() > f.prec + 64 {
            // Far below the last mantissa bit: only whether it is zero matters.
            sticky |= d != 0;
            if !frac {
                *exp2 += 4;
            }
        } else {
            n.mul_small(16);
            n.add_small(d);
            if frac {
                *exp2 -= 4;
            }
        }
    };
    while j < s.len() && hex_digit(s[j]).is_some() {
        push(hex_digit(s[j]).unwrap_or(0), false, &mut n, &mut exp2);
        j += 1;
    }
    if j < s.len() && s[j] == b'.' {
        j += 1;
        while j < s.len() && hex_digit(s[j]).is_some() {
            push(hex_digit(s[j]).unwrap_or(0), true, &mut n, &mut exp2);
            j += 1;
        }
    }
    if j < s.len() && (s[j] == b'p' || s[j] == b'P') {
        let mut k = j + 1;
        let mut eneg = false;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            eneg = s[k] == b'-';
            k += 1;
        }
        if k < s.len() && s[k].is_ascii_digit() {
            let mut e: i64 = 0;
            while k < s.len() && s[k].is_ascii_digit() {
                e = (e * 10 + (s[k] - b'0') as i64).min(1_000_000_000);
                k += 1;
            }
            exp2 += if eneg { -e } else { e };
            j = k;
        }
    }
    let (value, range_error) = if n.is_zero() {
        (
            Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            },
            false,
        )
    } else if exp2 + n.bits() as i64 > f.max_bits + 2 {
        (Float::Inf { neg }, true)
    } else if exp2 + (n.bits() as i64) < f.emin - 2 {
        (
            Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            },
            true,
        )
    } else {
        round(neg, &n, exp2, sticky, f)
    };
    Scanned {
        value: Some(value),
        consumed: offset + j,
        range_error,
    }
}

/// Rounds `digits * 10^exp10` (digits most significant first, no leading zeros).
fn decimal_value(neg: bool, digits: &[u8], exp10: i64, f: Format) -> (Float, bool) {
    if digits.is_empty() {
        return (
            Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            },
            false,
        );
    }
    let magnitude = digits.len() as i64 + exp10; // the value is below 10^magnitude
                                                 // Decimal digits of the largest finite value and of half the smallest subnormal.
    let (max10, min10) = if f.prec == 53 {
        (310, -330)
    } else {
        (4934, -4960)
    };
    if magnitude > max10 {
        return (Float::Inf { neg }, true);
    }
    if magnitude < min10 {
        return (
            Float::Finite {
                neg,
                mant: 0,
                exp: 0,
            },
            true,
        );
    }
    let mut d = Big::zero();
    for chunk in digits.chunks(9) {
        let mut v = 0u32;
        for &c in chunk {
            v = v * 10 + c as u32;
        }
        d.mul_small(10u32.pow(chunk.len() as u32));
        d.add_small(v);
    }
    if exp10 >= 0 {
        d.mul_pow10(exp10 as u64);
        return round(neg, &d, 0, false, f);
    }
    // digits / 10^-exp10: divide with enough quotient bits to round once.
    let p = Big::pow10((-exp10) as u64);
    let t = d.bits() as i64 - p.bits() as i64 - (f.prec as i64 + 3);
    let (num, den) = if t >= 0 {
        (d, p.shl(t as u64))
    } else {
        (d.shl((-t) as u64), p)
    };
    let (q, r) = num.divmod(&den);
    round(neg, &q, t, !r.is_zero(), f)
}

/// `sscanf(text, "%lg", &d) == 1`: the double at the start of the text (after spaces;
/// anything after it ignored), or `None` when nothing there reads as one. The old RDB
/// sorted-set format stores scores this way.
pub fn scan_double(text: &[u8]) -> Option<f64> {
    let scanned = strto(text, F64);
    if scanned.consumed == 0 {
        return None;
    }
    Some(scanned.value.map_or(f64::NAN, Float::to_f64))
}

/// Redis's `string2d`: the whole string must be one number, with no leading space, and
/// neither overflow nor underflow to zero; NaN is refused.
pub fn string2d(s: &[u8]) -> Option<f64> {
    if s.is_empty() || is_c_space(s[0]) {
        return None;
    }
    let r = strto(s, F64);
    if r.consumed != s.len() || r.range_error {
        return None;
    }
    r.value.map(Float::to_f64)
}

/// Redis's `string2ld` (5 KiB at most, then as `string2d`), in 80-bit precision.
pub fn string2ld(s: &[u8]) -> Option<Float> {
    const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS || is_c_space(s[0]) {
        return None;
    }
    let r = strto(s, F80);
    if r.consumed != s.len() || r.range_error {
        return None;
    }
    r.value
}

/// `a + b` in the format, rounded once. Never called with opposite infinities.
pub fn add(a: Float, b: Float, f: Format) -> Float {
    match (a, b) {
        (Float::Inf { neg }, _) | (_, Float::Inf { neg }) => Float::Inf { neg },
        (
            Float::Finite {
                neg: na,
                mant: ma,
                exp: ea,
            },
            Float::Finite {
                neg: nb,
                mant: mb,
                exp: eb,
            },
        ) => {
            if ma == 0 && mb == 0 {
                return Float::Finite {
                    neg: na && nb,
                    mant: 0,
                    exp: 0,
                };
            }
            if ma == 0 {
                return b;
            }
            if mb == 0 {
                return a;
            }
            let e = ea.min(eb);
            let x = Big::from_u128(ma as u128).shl((ea - e) as u64);
            let y = Big::from_u128(mb as u128).shl((eb - e) as u64);
            let (neg, sum) = if na == nb {
                (na, x.add(&y))
            } else {
                match x.cmp(&y) {
                    Ordering::Equal => {
                        return Float::Finite {
                            neg: false,
                            mant: 0,
                            exp: 0,
                        }
                    }
                    Ordering::Greater => (na, x.sub(&y)),
                    Ordering::Less => (nb, y.sub(&x)),
                }
            };
            round(neg, &sum, e, false, f).0
        }
    }
}

/// `|v| * 10^p10`, rounded to an integer (ties to even).
fn scaled_integer(mant: u64, exp: i64, p10: i64) -> Big {
    let mut num = Big::from_u128(mant as u128);
    let mut den = Big::from_u128(1);
    if exp >= 0 {
        num = num.shl(exp as u64);
    } else {
        den = den.shl((-exp) as u64);
    }
    if p10 >= 0 {
        num.mul_pow10(p10 as u64);
    } else {
        den.mul_pow10((-p10) as u64);
    }
    if den.bits() == 1 {
        return num;
    }
    let (mut q, r) = num.divmod(&den);
    let twice = r.shl(1);
    match twice.cmp(&den) {
        Ordering::Greater => q.add_small(1),
        Ordering::Equal if q.bit(0) => q.add_small(1),
        _ => {}
    }
    q
}

/// `mant * 2^exp` compared with `10^x`.
fn cmp_pow10(mant: u64, exp: i64, x: i64) -> Ordering {
    let mut a = Big::from_u128(mant as u128);
    let mut b = Big::from_u128(1);
    if exp >= 0 {
        a = a.shl(exp as u64);
    } else {
        b = b.shl((-exp) as u64);
    }
    if x >= 0 {
        b.mul_pow10(x as u64);
    } else {
        a.mul_pow10((-x) as u64);
    }
    a.cmp(&b)
}

/// C's `printf("%.17g", v)` for a double, with Redis's own spelling of the infinities
/// (`inf`, `-inf`): the text of every RESP2 double reply (ZSCORE, ZINCRBY, WITHSCORES).
pub fn fmt_g17(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if v.is_nan() {
        return "nan".into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Integers of at most 17 digits print as themselves under %.17g.
    if v.fract() == 0.0 && v.abs() < 1e17 {
        return format!("{}", v as i64);
    }
    let Float::Finite { neg, mant, exp } = Float::from_f64(v) else {
        unreachable!("finite")
    };
    const P: i64 = 17;
    // The decimal exponent of the exact value (the float estimate can be off by one
    // near powers of ten), then the 17 digits; a carry out of them bumps the exponent.
    let mut x = v.abs().log10().floor() as i64;
    while cmp_pow10(mant, exp, x) == Ordering::Less {
        x -= 1;
    }
    while cmp_pow10(mant, exp, x + 1) != Ordering::Less {
        x += 1;
    }
    let mut q = scaled_integer(mant, exp, P - 1 - x);
    if q.cmp(&Big::pow10(P as u64)) != Ordering::Less {
        q = Big::pow10(P as u64 - 1);
        x += 1;
    }
    let digits = q.to_decimal();
    let d = digits.as_bytes();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let trim = |frac: &str| frac.trim_end_matches('0').to_string();
    if !(-4..P).contains(&x) {
        out.push(d[0] as char);
        let frac = trim(&digits[1..]);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&frac);
        }
        out.push('e');
        out.push(if x < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", x.abs()));
    } else if x >= 0 {
        let split = (x + 1) as usize;
        out.push_str(&digits[..split]);
        let frac = trim(&digits[split..]);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(&frac);
        }
    } else {
        out.push_str("0.");
        for _ in 0..(-x - 1) {
            out.push('0');
        }
        out.push_str(&trim(&digits));
    }
    out
}

/// Redis's `ld2string(.., LD_STR_HUMAN)`: `printf("%.17Lf")`, trailing zeros (and a
/// bare point) removed, "-0" written "0". The text of HINCRBYFLOAT's result.
pub fn fmt_ld_human(v: Float) -> String {
    match v {
        Float::Inf { neg } => (if neg { "-inf" } else { "inf" }).into(),
        Float::Finite { neg, mant, exp } => {
            let q = scaled_integer(mant, exp, 17).to_decimal();
            let padded = if q.len() < 18 {
                format!("{}{q}", "0".repeat(18 - q.len()))
            } else {
                q
            };
            let (int, frac) = padded.split_at(padded.len() - 17);
            let frac = frac.trim_end_matches('0');
            let mut out = String::new();
            if neg {
                out.push('-');
            }
            out.push_str(int);
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
            if out == "-0" {
                out = "0".into();
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<f64> {
        string2d(s.as_bytes())
    }

    #[test]
    fn string2d_accepts_what_strtod_accepts() {
        assert_eq!(d("1.5"), Some(1.5));
        assert_eq!(d("+1"), Some(1.0));
        assert_eq!(d("-.5"), Some(-0.5));
        assert_eq!(d("5."), Some(5.0));
        assert_eq!(d("1e3"), Some(1000.0));
        assert_eq!(d("0x10"), Some(16.0));
        assert_eq!(d("0x1.8p1"), Some(3.0));
        assert_eq!(d("0X.8"), Some(0.5));
        assert_eq!(d("inf"), Some(f64::INFINITY));
        assert_eq!(d("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(d("-0").is_some_and(|v| v == 0.0 && v.is_sign_negative()));
        assert_eq!(d("4.9e-324"), Some(f64::from_bits(1)));
        assert_eq!(d("1e-320"), "1e-320".parse().ok());
        for bad in [
            "", " 1", "1 ", "nan", "NaN(1)", "1e400", "-1e400", "1e-400", "abc", ".", "e5", "1e",
            "0x", "1\x002", "--1",
        ] {
            assert_eq!(d(bad), None, "{bad:?}");
        }
        // "1e" is the number 1 followed by junk for strtod; string2d wants it all.
        assert_eq!(strto(b"1e", F64).consumed, 1);
        assert_eq!(strto(b"0x", F64).consumed, 1);
        assert_eq!(strto(b" (", F64).consumed, 0);
        assert_eq!(strto(b"nan(abc)x", F64).consumed, 8);
    }

    #[test]
    fn decimal_parsing_matches_rust_for_doubles() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed >> 11
        };
        for _ in 0..3000 {
            let bits = next() | (next() << 53);
            let v = f64::from_bits(bits);
            if !v.is_finite() {
                continue;
            }
            for text in [
                format!("{v:e}"),
                format!("{v:.20e}"),
                format!("{v:.5e}"),
                format!("{v}"),
            ] {
                assert_eq!(
                    d(&text).map(f64::to_bits),
                    Some(text.parse::<f64>().unwrap().to_bits()),
                    "{text}"
                );
            }
        }
        for text in [
            "0.1",
            "0.3",
            "1e23",
            "9007199254740993",
            "2.2250738585072011e-308",
            "1.7976931348623157e308",
        ] {
            assert_eq!(d(text), text.parse().ok(), "{text}");
        }
        // Too many digits: only whether the dropped ones were zero matters.
        let long = format!("0.{}1", "0".repeat(2000));
        assert_eq!(d(&long), None, "underflows to zero");
        let long = format!("1.{}1", "0".repeat(2000));
        assert_eq!(d(&long), Some(1.0));
        let tie = format!("9007199254740993{}e-900", "0".repeat(900));
        assert_eq!(d(&tie), Some(9007199254740992.0));
        let above = format!("9007199254740993{}1e-901", "0".repeat(900));
        assert_eq!(d(&above), Some(9007199254740994.0));
        assert_eq!(d(&above), above.parse().ok());
    }

    #[test]
    fn g17_matches_printf() {
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1e300, "1.0000000000000001e+300"),
            (-0.0, "-0"),
            (3.0, "3"),
            (1.0 / 3.0, "0.33333333333333331"),
            (1.5, "1.5"),
            (1e17, "1e+17"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1e16, "10000000000000000"),
            (1e-5, "1.0000000000000001e-05"),
            (0.0001, "0.0001"),
            (-2.5e-10, "-2.5000000000000002e-10"),
            // Just below a power of ten: the exponent is that of the exact value.
            (-1e-6, "-9.9999999999999995e-07"),
            (1e-7, "9.9999999999999995e-08"),
            (1e23, "9.9999999999999992e+22"),
            (0.3, "0.29999999999999999"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::from_bits(1), "4.9406564584124654e-324"),
            // An exact tie at the 18th digit rounds to even, as glibc does.
            ((1u64 << 50) as f64 + 0.25, "1125899906842624.2"),
            ((1u64 << 50) as f64 + 0.75, "1125899906842624.8"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
        ];
        for (v, want) in cases {
            assert_eq!(fmt_g17(*v), *want, "{v:e}");
        }
    }

    #[test]
    fn long_double_human() {
        let ld = |s: &str| string2ld(s.as_bytes()).unwrap();
        assert_eq!(fmt_ld_human(ld("1.1")), "1.1");
        assert_eq!(fmt_ld_human(add(ld("1"), ld("0.1"), F80)), "1.1");
        assert_eq!(fmt_ld_human(ld("0.1")), "0.1");
        // 17 fractional digits are not enough to hide the error of a double.
        assert_eq!(
            fmt_ld_human(ld("0.1000000000000000055511151231257827")),
            "0.10000000000000001"
        );
        assert_eq!(fmt_ld_human(ld("3.0e0")), "3");
        assert_eq!(fmt_ld_human(ld("-0")), "0");
        assert_eq!(fmt_ld_human(ld("1e-20")), "0");
        assert_eq!(fmt_ld_human(ld("-1e-20")), "0");
        assert_eq!(fmt_ld_human(ld("10.5")), "10.5");
        assert_eq!(fmt_ld_human(ld("5.0e3")), "5000");
        assert!(fmt_ld_human(ld("1e4000")).starts_with("9999999999999999999965463873099623784932492583506957631301508333043261943306342355481821641865509279"));
        assert_eq!(string2ld(b"1e5000"), None);
        assert_eq!(string2ld(b"1e-5000"), None);
        assert!(string2ld(b"1e-4940").is_some(), "subnormal long double");
        assert_eq!(
            string2ld(&vec![b'1'; 5120]),
            None,
            "longer than MAX_LONG_DOUBLE_CHARS"
        );
    }

    #[test]
    fn adding_rounds_once() {
        let ld = |s: &str| string2ld(s.as_bytes()).unwrap();
        assert_eq!(
            add(ld("1"), ld("-1"), F80),
            Float::Finite {
                neg: false,
                mant: 0,
                exp: 0
            }
        );
        assert_eq!(
            add(ld("-0"), ld("-0"), F80),
            Float::Finite {
                neg: true,
                mant: 0,
                exp: 0
            }
        );
        let f = |a: f64, b: f64| add(Float::from_f64(a), Float::from_f64(b), F64).to_f64();
        assert_eq!(f(0.1, 0.2), 0.1 + 0.2);
        assert_eq!(f(1e308, 1e308), f64::INFINITY);
        assert_eq!(f(1.0, 1e-30), 1.0);
    }
}
