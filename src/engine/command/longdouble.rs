//! The `long double` arithmetic behind INCRBYFLOAT (and HINCRBYFLOAT).
//!
//! Redis does these increments in C's `long double`, which on x86-64 Linux (where the
//! real servers we copy run) is the x87 80-bit extended format: a 64-bit significand
//! with an explicit integer bit and a 15-bit exponent. Doing the sum in an `f64` instead
//! would give different digits (`INCRBYFLOAT k 0.1` on `10.5` is `10.6` in Redis because
//! the 17 printed decimals are rounded from an 80-bit value), so this module implements
//! exactly the three operations Redis needs, in software, with the rounding glibc does:
//!
//! * [`parse`]: `string2ld` — glibc's `strtold` (correctly rounded decimal and hex
//!   input, `inf`/`infinity`) plus Redis's strictness (no spaces, no trailing bytes,
//!   no NaN, and no overflow to infinity or underflow to zero);
//! * [`LongDouble::add`]: one correctly rounded (nearest, ties to even) addition;
//! * [`LongDouble::to_human`]: `ld2string(..., LD_STR_HUMAN)` — `%.17Lf`, then the
//!   trailing zeros and a lone `.` trimmed, and `-0` written as `0`.
//!
//! Everything is exact big-integer arithmetic: no host floating point is involved, so
//! the results are the same natively and in WebAssembly.

use std::cmp::Ordering;

/// Longest text `string2ld` accepts (`MAX_LONG_DOUBLE_CHARS` less its NUL).
pub const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

/// Exponent of the last significand bit of a subnormal (2^-16445, the smallest value).
const MIN_ULP_EXP: i64 = -16445;
/// Largest exponent of the last significand bit of a finite value (max is ~2^16384).
const MAX_ULP_EXP: i64 = 16383 - 63;

/// An x87 extended-precision value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongDouble {
    /// `(-1)^neg * mant * 2^exp`. Normal values have bit 63 of `mant` set; subnormals
    /// have `exp == -16445`; zero has `mant == 0` (and keeps its sign, like IEEE).
    Finite { neg: bool, mant: u64, exp: i64 },
    Inf { neg: bool },
    Nan,
}

impl LongDouble {
    pub const ZERO: LongDouble = LongDouble::Finite { neg: false, mant: 0, exp: 0 };

    pub fn is_finite(&self) -> bool {
        matches!(self, LongDouble::Finite { .. })
    }

    /// `self + other`, rounded to nearest (ties to even) like the x87 FPU does.
    pub fn add(self, other: LongDouble) -> LongDouble {
        use LongDouble::*;
        match (self, other) {
            (Nan, _) | (_, Nan) => Nan,
            (Inf { neg: a }, Inf { neg: b }) => {
                if a == b {
                    Inf { neg: a }
                } else {
                    Nan
                }
            }
            (Inf { neg }, _) | (_, Inf { neg }) => Inf { neg },
            (Finite { neg: na, mant: ma, exp: ea }, Finite { neg: nb, mant: mb, exp: eb }) => {
                if ma == 0 && mb == 0 {
                    // Round to nearest: -0 + -0 is -0, any other mix of zeros is +0.
                    return Finite { neg: na && nb, mant: 0, exp: 0 };
                }
                if ma == 0 {
                    return other;
                }
                if mb == 0 {
                    return self;
                }
                // Exact sum on a common exponent, then a single rounding. The shift is
                // at most ~32800 bits, a few hundred limbs: cheap and simple.
                let e = ea.min(eb);
                let a = Big::from_u64(ma).shl((ea - e) as usize);
                let b = Big::from_u64(mb).shl((eb - e) as usize);
                if na == nb {
                    round(na, &a.add(&b), e, false)
                } else {
                    match a.cmp(&b) {
                        Ordering::Equal => LongDouble::ZERO,
                        Ordering::Greater => round(na, &a.sub(&b), e, false),
                        Ordering::Less => round(nb, &b.sub(&a), e, false),
                    }
                }
            }
        }
    }

    /// `ld2string(value, LD_STR_HUMAN)`: `%.17Lf` with the trailing zeros (and then a
    /// trailing `.`) removed, and `-0` turned into `0`.
    pub fn to_human(self) -> String {
        let (neg, mant, exp) = match self {
            LongDouble::Inf { neg: false } => return "inf".into(),
            LongDouble::Inf { neg: true } => return "-inf".into(),
            // Never stored by Redis (callers refuse NaN first); glibc would print this.
            LongDouble::Nan => return "nan".into(),
            LongDouble::Finite { neg, mant, exp } => (neg, mant, exp),
        };
        // round(|v| * 10^17), ties to even: glibc's printf rounds the exact binary value
        // in the current (nearest-even) rounding mode.
        let scaled = Big::from_u64(mant).mul(&Big::pow10(17));
        let fixed = if mant == 0 || exp >= 0 {
            scaled.shl(exp.max(0) as usize)
        } else {
            let s = (-exp) as usize;
            let q = scaled.shr(s);
            let half = scaled.bit(s - 1);
            let rest = scaled.any_below(s - 1);
            if half && (rest || q.bit(0)) {
                q.add(&Big::from_u64(1))
            } else {
                q
            }
        };
        let mut digits = fixed.to_decimal();
        while digits.len() < 18 {
            digits.insert(0, '0');
        }
        let (int_part, frac) = digits.split_at(digits.len() - 17);
        let frac = frac.trim_end_matches('0');
        let mut out = String::with_capacity(digits.len() + 2);
        if neg {
            out.push('-');
        }
        out.push_str(int_part);
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

/// Redis's `string2ld`: the whole text must be one number as `strtold` reads it, with no
/// leading space, no trailing byte, not NaN, and not out of range (overflow to infinity
/// or underflow to zero; a subnormal result is accepted, as ERANGE alone is not enough).
/// Explicit infinities (`inf`, `-Infinity`) are accepted, as in Redis.
pub fn parse(s: &[u8]) -> Option<LongDouble> {
    if s.is_empty() || s.len() >= MAX_LONG_DOUBLE_CHARS {
        return None;
    }
    let (neg, body) = match s[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case(b"inf") || body.eq_ignore_ascii_case(b"infinity") {
        return Some(LongDouble::Inf { neg });
    }
    let hex = body.len() >= 2 && body[0] == b'0' && (body[1] == b'x' || body[1] == b'X');
    let (digits_part, radix) = if hex { (&body[2..], 16u32) } else { (body, 10u32) };
    let exp_char = if hex { b'p' } else { b'e' };

    // Mantissa: digits with at most one '.', at least one digit.
    let mut mantissa = Big::zero();
    let mut any_digit = false;
    let mut seen_point = false;
    let mut frac_digits: i64 = 0;
    let mut i = 0;
    while i < digits_part.len() {
        let c = digits_part[i];
        if c == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = (c as char).to_digit(radix) {
            any_digit = true;
            mantissa = mantissa.mul_small(radix as u64).add(&Big::from_u64(d as u64));
            if seen_point {
                frac_digits += 1;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !any_digit {
        return None;
    }
    // Optional exponent: the letter, an optional sign, at least one decimal digit.
    let mut exponent: i64 = 0;
    if i < digits_part.len() {
        if digits_part[i].to_ascii_lowercase() != exp_char {
            return None;
        }
        i += 1;
        let mut exp_neg = false;
        if i < digits_part.len() && (digits_part[i] == b'+' || digits_part[i] == b'-') {
            exp_neg = digits_part[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < digits_part.len() && digits_part[i].is_ascii_digit() {
            // Saturate: anything this large is out of range either way.
            exponent = (exponent * 10 + (digits_part[i] - b'0') as i64).min(1 << 40);
            i += 1;
        }
        if i == start || i != digits_part.len() {
            return None;
        }
        if exp_neg {
            exponent = -exponent;
        }
    }
    if mantissa.is_zero() {
        return Some(LongDouble::Finite { neg, mant: 0, exp: 0 });
    }

    let value = if hex {
        // mantissa * 2^(exponent - 4 * frac_digits), exactly.
        let e2 = exponent - 4 * frac_digits;
        let top = e2 + mantissa.bit_len() as i64; // value < 2^top
        if top > 16384 + 1 {
            LongDouble::Inf { neg }
        } else if top < MIN_ULP_EXP - 1 {
            LongDouble::Finite { neg, mant: 0, exp: 0 }
        } else {
            round(neg, &mantissa, e2, false)
        }
    } else {
        // mantissa * 10^e10; digit count d: 10^(d-1) <= mantissa < 10^d.
        let e10 = exponent - frac_digits;
        let d = mantissa.to_decimal().len() as i64;
        if d + e10 - 1 > 4933 {
            // >= 10^4933, beyond the largest long double (~1.19e4932).
            LongDouble::Inf { neg }
        } else if d + e10 < -4952 {
            // < 10^-4952, under half the smallest subnormal (~3.65e-4951).
            LongDouble::Finite { neg, mant: 0, exp: 0 }
        } else if e10 >= 0 {
            round(neg, &mantissa.mul(&Big::pow10(e10 as u32)), 0, false)
        } else {
            // mantissa / 10^k: a quotient of 68-69 bits plus a sticky remainder is
            // enough to round correctly to 64 bits (or fewer, for subnormals).
            // Scale one side by 2^|t| so the quotient has 68-69 bits.
            let den = Big::pow10((-e10) as u32);
            let t = mantissa.bit_len() as i64 - den.bit_len() as i64 - 68;
            let (num, den) = if t < 0 { (mantissa.shl((-t) as usize), den) } else { (mantissa, den.shl(t as usize)) };
            let (q, rem_nonzero) = num.div_small_quotient(&den, 70);
            round(neg, &q, t, rem_nonzero)
        }
    };
    match value {
        // Overflow (strtold's ERANGE with HUGE_VALL) and underflow to zero are refused.
        LongDouble::Inf { .. } => None,
        LongDouble::Finite { mant: 0, .. } => None,
        v => Some(v),
    }
}

/// Rounds the exact value `(-1)^neg * (m * 2^e + something below 2^e if sticky)` to the
/// nearest long double, ties to even; too large becomes infinity, too small zero.
fn round(neg: bool, m: &Big, e: i64, sticky: bool) -> LongDouble {
    let len = m.bit_len() as i64;
    if len == 0 {
        return LongDouble::Finite { neg, mant: 0, exp: 0 };
    }
    let lead = e + len - 1;
    let mut ulp = (lead - 63).max(MIN_ULP_EXP);
    let shift = ulp - e;
    let mut mant: u128 = if shift <= 0 {
        // Exact: the value fits the significand (callers give enough bits for sticky).
        m.low_u128() << (-shift) as u32
    } else {
        let s = shift as usize;
        let q = m.shr(s).low_u128();
        let half = m.bit(s - 1);
        let rest = sticky || m.any_below(s - 1);
        if half && (rest || q & 1 == 1) {
            q + 1
        } else {
            q
        }
    };
    if mant == 1u128 << 64 {
        mant >>= 1;
        ulp += 1;
    }
    if ulp > MAX_ULP_EXP {
        return LongDouble::Inf { neg };
    }
    if mant == 0 {
        return LongDouble::Finite { neg, mant: 0, exp: 0 };
    }
    LongDouble::Finite { neg, mant: mant as u64, exp: ulp }
}

/// A little unsigned big integer (64-bit limbs, least significant first, no trailing
/// zero limbs): just what exact decimal/binary conversion needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Big(Vec<u64>);

impl Big {
    fn zero() -> Big {
        Big(Vec::new())
    }

    fn from_u64(v: u64) -> Big {
        let mut b = Big(vec![v]);
        b.trim();
        b
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    fn bit_len(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(&top) => self.0.len() * 64 - top.leading_zeros() as usize,
        }
    }

    fn bit(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|l| (l >> (i % 64)) & 1 == 1)
    }

    /// Whether any bit below `i` is set.
    fn any_below(&self, i: usize) -> bool {
        let full = i / 64;
        if self.0.iter().take(full).any(|&l| l != 0) {
            return true;
        }
        let part = i % 64;
        part > 0 && self.0.get(full).is_some_and(|&l| l & ((1u64 << part) - 1) != 0)
    }

    fn low_u128(&self) -> u128 {
        let lo = self.0.first().copied().unwrap_or(0) as u128;
        let hi = self.0.get(1).copied().unwrap_or(0) as u128;
        lo | (hi << 64)
    }

    fn shl(&self, bits: usize) -> Big {
        if self.is_zero() {
            return Big::zero();
        }
        let (limbs, rem) = (bits / 64, bits % 64);
        let mut out = vec![0u64; limbs];
        let mut carry = 0u64;
        for &l in &self.0 {
            if rem == 0 {
                out.push(l);
            } else {
                out.push((l << rem) | carry);
                carry = l >> (64 - rem);
            }
        }
        if carry != 0 {
            out.push(carry);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn shr(&self, bits: usize) -> Big {
        let (limbs, rem) = (bits / 64, bits % 64);
        if limbs >= self.0.len() {
            return Big::zero();
        }
        let src = &self.0[limbs..];
        let mut out = Vec::with_capacity(src.len());
        for (k, &l) in src.iter().enumerate() {
            let hi = if rem == 0 { 0 } else { src.get(k + 1).map_or(0, |&h| h << (64 - rem)) };
            out.push((l >> rem) | hi);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn add(&self, other: &Big) -> Big {
        let n = self.0.len().max(other.0.len());
        let mut out = Vec::with_capacity(n + 1);
        let mut carry = 0u128;
        for k in 0..n {
            let s = self.0.get(k).copied().unwrap_or(0) as u128 + other.0.get(k).copied().unwrap_or(0) as u128 + carry;
            out.push(s as u64);
            carry = s >> 64;
        }
        if carry != 0 {
            out.push(carry as u64);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    /// `self - other`; requires `self >= other`.
    fn sub(&self, other: &Big) -> Big {
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0u64;
        for k in 0..self.0.len() {
            let (d1, b1) = self.0[k].overflowing_sub(other.0.get(k).copied().unwrap_or(0));
            let (d2, b2) = d1.overflowing_sub(borrow);
            out.push(d2);
            borrow = (b1 || b2) as u64;
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn mul_small(&self, m: u64) -> Big {
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = 0u128;
        for &l in &self.0 {
            let p = l as u128 * m as u128 + carry;
            out.push(p as u64);
            carry = p >> 64;
        }
        if carry != 0 {
            out.push(carry as u64);
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn mul(&self, other: &Big) -> Big {
        if self.is_zero() || other.is_zero() {
            return Big::zero();
        }
        let mut out = vec![0u64; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in other.0.iter().enumerate() {
                let t = a as u128 * b as u128 + out[i + j] as u128 + carry;
                out[i + j] = t as u64;
                carry = t >> 64;
            }
            let mut k = i + other.0.len();
            while carry != 0 {
                let t = out[k] as u128 + carry;
                out[k] = t as u64;
                carry = t >> 64;
                k += 1;
            }
        }
        let mut b = Big(out);
        b.trim();
        b
    }

    fn pow10(k: u32) -> Big {
        // 10^k by squaring, so 10^10000 costs a handful of multiplications.
        let mut result = Big::from_u64(1);
        let mut base = Big::from_u64(10);
        let mut k = k;
        while k > 0 {
            if k & 1 == 1 {
                result = result.mul(&base);
            }
            k >>= 1;
            if k > 0 {
                base = base.mul(&base);
            }
        }
        result
    }

    /// `(floor(self / den), self % den != 0)` for a quotient known to be below
    /// `2^bits`: restoring division, one quotient bit at a time.
    fn div_small_quotient(&self, den: &Big, bits: usize) -> (Big, bool) {
        let mut rem = self.clone();
        let mut q = 0u128;
        for i in (0..bits).rev() {
            let shifted = den.shl(i);
            if rem.cmp(&shifted) != Ordering::Less {
                rem = rem.sub(&shifted);
                q |= 1u128 << i;
            }
        }
        let mut b = Big(vec![q as u64, (q >> 64) as u64]);
        b.trim();
        (b, !rem.is_zero())
    }

    /// Divides in place by `d`, returning the remainder.
    fn div_rem_small(&mut self, d: u64) -> u64 {
        let mut rem = 0u128;
        for l in self.0.iter_mut().rev() {
            let cur = (rem << 64) | *l as u128;
            *l = (cur / d as u128) as u64;
            rem = cur % d as u128;
        }
        self.trim();
        rem as u64
    }

    fn to_decimal(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        const CHUNK: u64 = 10_000_000_000_000_000_000; // 10^19
        let mut n = self.clone();
        let mut chunks = Vec::new();
        while !n.is_zero() {
            chunks.push(n.div_rem_small(CHUNK));
        }
        let mut out = chunks.pop().map(|c| c.to_string()).unwrap_or_default();
        for c in chunks.iter().rev() {
            out.push_str(&format!("{c:019}"));
        }
        out
    }
}

impl PartialOrd for Big {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Big {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incr(stored: &str, by: &str) -> Option<String> {
        let v = parse(stored.as_bytes())?.add(parse(by.as_bytes())?);
        v.is_finite().then(|| v.to_human())
    }

    #[test]
    fn sums_print_like_redis() {
        // Every expected text below is what redis-server 7.0.15 on x86-64 answered.
        assert_eq!(incr("10.5", "0.1").as_deref(), Some("10.6"));
        assert_eq!(incr("0", "0.000003814697265625").as_deref(), Some("0.00000381469726562"));
        assert_eq!(incr("0", "0.000011444091796875").as_deref(), Some("0.00001144409179688"));
        assert_eq!(incr("0", "0x1p-3").as_deref(), Some("0.125"));
        assert_eq!(incr("0", "3.6e-4951").as_deref(), Some("0"));
        assert_eq!(incr("0", "-0").as_deref(), Some("0"));
        assert_eq!(incr("0", "-1e-30").as_deref(), Some("0"));
        assert!(incr("0", "1e4000").unwrap().starts_with("99999999999999999999654638730996237849324925835069"));
        assert_eq!(incr("0", "inf"), None);
        assert_eq!(incr("1", "-1").as_deref(), Some("0"));
        assert_eq!(incr("3.0e3", "1.5").as_deref(), Some("3001.5"));
    }

    #[test]
    fn strict_parsing() {
        for bad in ["", " 1", "1 ", "1e", "1e+", ".", "-", "+", "0x", "0x.p1", "nan", "-nan", "1e-4960", "1e5000", "1.2.3", "1x", "infinit", "0x1p", "1\u{0}"] {
            assert_eq!(parse(bad.as_bytes()), None, "{bad:?}");
        }
        for good in ["1", "+1", "-.5", "5.", "1e+5", "1E-5", "0x1P3", "0xA.8", "INF", "-Infinity", "0e99999999999", "3.6e-4951"] {
            assert!(parse(good.as_bytes()).is_some(), "{good:?}");
        }
        assert_eq!(parse(b"0x1p3").map(LongDouble::to_human).as_deref(), Some("8"));
        assert_eq!(parse(b"0xA.8").map(LongDouble::to_human).as_deref(), Some("10.5"));
        assert_eq!(parse(&vec![b'1'; MAX_LONG_DOUBLE_CHARS]), None);
    }

    #[test]
    fn rounding_of_sums_and_limits() {
        let max = parse(b"1.18973149535723176502e+4932").unwrap();
        assert!(max.is_finite());
        assert_eq!(max.add(max), LongDouble::Inf { neg: false });
        assert_eq!(LongDouble::Inf { neg: false }.add(LongDouble::Inf { neg: true }), LongDouble::Nan);
        // 2^64 + 1 is not representable (64-bit significand): rounds to even, 2^64.
        let big = parse(b"18446744073709551616").unwrap();
        assert_eq!(big.add(parse(b"1").unwrap()).to_human(), "18446744073709551616");
        assert_eq!(big.add(parse(b"2").unwrap()).to_human(), "18446744073709551618");
        assert_eq!(parse(b"-42").unwrap().to_human(), "-42");
    }
}
