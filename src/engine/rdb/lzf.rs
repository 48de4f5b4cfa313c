//! LZF compression as Redis 7.0 builds liblzf (`lzf_c.c` with its `lzfP.h`: `HLOG 16`,
//! `VERY_FAST 1`, `ULTRA_FAST 0`), so a snapshot's compressed strings are the bytes
//! real Redis writes. Decompression uses the `lzf-rust` crate (see `load.rs`).
//!
//! Why not a crate for this half too: the `lzf` crate panics with an index out of bounds
//! on some inputs, and both it and `lzf-rust` zero a 64 Ki-slot hash table on every call
//! (a 256 KiB memset for each string longer than 20 bytes: a million such keys made a
//! snapshot take seconds), and `lzf-rust` chooses its matches differently from Redis's
//! build. Here the table lives as long as the snapshot writer and is invalidated in O(1)
//! per string with a generation number. Redis itself never initialises the table
//! (`INIT_HTAB 0`) and guards every candidate with range checks; a fresh table per
//! string is what it behaves like whenever stale slots do not happen to point into the
//! new input.
//!
//! Format (liblzf): `000LLLLL` + L+1 literal bytes; `LLLooooo oooooooo` a back
//! reference of L+2 bytes at distance o+1; `111ooooo LLLLLLLL oooooooo` one of L+9.

const HLOG: u32 = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// The match-finder's hash table: slot -> (generation << 32) | position + 1.
pub struct LzfTable {
    slots: Vec<u64>,
    generation: u64,
}

impl Default for LzfTable {
    fn default() -> Self {
        LzfTable {
            slots: vec![0; HSIZE],
            generation: 0,
        }
    }
}

impl LzfTable {
    fn start(&mut self) {
        self.generation += 1;
        if self.generation > u32::MAX as u64 {
            self.slots.fill(0);
            self.generation = 1;
        }
    }

    /// The position last stored in `slot` for the current input, if any.
    fn get(&self, slot: usize) -> Option<usize> {
        let v = self.slots[slot];
        (v >> 32 == self.generation).then(|| (v & 0xffff_ffff) as usize - 1)
    }

    fn set(&mut self, slot: usize, pos: usize) {
        self.slots[slot] = (self.generation << 32) | (pos as u64 + 1);
    }
}

fn first(input: &[u8], ip: usize) -> u32 {
    (u32::from(input[ip]) << 8) | u32::from(input[ip + 1])
}

fn next(hval: u32, input: &[u8], ip: usize) -> u32 {
    (hval << 8) | u32::from(input[ip + 2])
}

/// VERY_FAST's `IDX(h)`.
fn idx(h: u32) -> usize {
    ((h >> (3 * 8 - HLOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HSIZE - 1)
}

/// One more byte of the current literal run; a full run (32 bytes) gets its length
/// byte and a new run starts.
fn push_literal(out: &mut [u8], op: &mut usize, lit: &mut usize, byte: u8) {
    *lit += 1;
    out[*op] = byte;
    *op += 1;
    if *lit == MAX_LIT {
        out[*op - *lit - 1] = (*lit - 1) as u8;
        *lit = 0;
        *op += 1;
    }
}

/// `lzf_compress`: compresses `input` into `out` and returns the compressed length, or 0
/// when the result would not fit in `out` (the caller then stores the string plain).
/// Strings of fewer than 3 bytes are never compressed (Redis only tries above 20).
pub fn compress(input: &[u8], out: &mut [u8], table: &mut LzfTable) -> usize {
    let in_len = input.len();
    let out_len = out.len();
    if in_len < 3 || out_len == 0 {
        return 0;
    }
    table.start();
    let mut ip = 0usize;
    let mut op = 1usize; // the first literal run's length byte
    let mut lit = 0usize;
    let mut hval = first(input, ip);
    while ip < in_len - 2 {
        hval = next(hval, input, ip);
        let slot = idx(hval);
        let candidate = table.get(slot);
        table.set(slot, ip);
        let found = candidate.filter(|&r| {
            r > 0
                && ip - r - 1 < MAX_OFF
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1]
        });
        if let Some(r) = found {
            let off = ip - r - 1;
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_len && op - usize::from(lit == 0) + 3 + 1 >= out_len {
                return 0;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1); // stop the literal run
            op -= usize::from(lit == 0); // undo it if it is empty
                                         // liblzf's unrolled first 16 comparisons run without the `len < maxlen`
                                         // test (safe: maxlen > 16 leaves room), then the careful loop continues.
            let mut mismatch = false;
            if maxlen > 16 {
                for _ in 0..16 {
                    len += 1;
                    if input[r + len] != input[ip + len] {
                        mismatch = true;
                        break;
                    }
                }
            }
            if !mismatch {
                loop {
                    len += 1;
                    if !(len < maxlen && input[r + len] == input[ip + len]) {
                        break;
                    }
                }
            }
            len -= 2; // now the number of octets - 1
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start a new literal run
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            // VERY_FAST: hash the last two positions of the match.
            ip -= 2;
            hval = first(input, ip);
            hval = next(hval, input, ip);
            table.set(idx(hval), ip);
            ip += 1;
            hval = next(hval, input, ip);
            table.set(idx(hval), ip);
            ip += 1;
        } else {
            if op >= out_len {
                return 0;
            }
            push_literal(out, &mut op, &mut lit, input[ip]);
            ip += 1;
        }
    }
    if op + 3 > out_len {
        return 0;
    }
    for &byte in &input[ip..] {
        push_literal(out, &mut op, &mut lit, byte);
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op - usize::from(lit == 0)
}

/// How many bytes `input` expands to, read from its control bytes alone (the length each
/// literal run and back reference produces), or `None` when a run or reference is cut
/// short. Looks at each control byte once and allocates nothing, so a loader can check a
/// peer's declared length before it allocates for it. Whether each back reference points
/// inside the output is left to the decompressor.
pub fn decompressed_len(input: &[u8]) -> Option<u64> {
    let (mut at, mut out) = (0usize, 0u64);
    while at < input.len() {
        let ctrl = input[at] as usize;
        at += 1;
        if ctrl < MAX_LIT {
            at += ctrl + 1;
            out += ctrl as u64 + 1;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(at)? as usize;
                at += 1;
            }
            at += 1; // the low byte of the distance
            out += len as u64 + 2;
        }
        if at > input.len() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compressed(input: &[u8]) -> Option<Vec<u8>> {
        let mut out = vec![0u8; input.len().saturating_sub(4)];
        let n = compress(input, &mut out, &mut LzfTable::default());
        (n > 0).then(|| out[..n].to_vec())
    }

    /// Lengths of what redis-server 7.0.15 wrote in a dump for these two values
    /// (`SET big <1000 x>`, and the 2000-byte `mixed` pattern below).
    #[test]
    fn the_same_bytes_as_redis() {
        let big = compressed(&[b'x'; 1000]).unwrap();
        assert_eq!(big.len(), 18);
        let mixed: Vec<u8> = (0..2000u64)
            .map(|i| b"abcdefgh"[((i * i * 7 + i / 3) % 8) as usize])
            .collect();
        assert_eq!(compressed(&mixed).unwrap().len(), 53);
    }

    proptest::proptest! {
        /// Whatever the input, compression never panics, and what it produces
        /// decompresses to the input.
        #[test]
        fn round_trips(alphabet in 1u8..=255, seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..3000), room in 0usize..8) {
            let input: Vec<u8> = seed.iter().map(|b| b % alphabet).collect();
            let mut out = vec![0u8; input.len().saturating_sub(room)];
            let mut table = LzfTable::default();
            let n = compress(&input, &mut out, &mut table);
            if n > 0 {
                let mut back = vec![0u8; input.len()];
                let got = lzf_rust::decompress(&out[..n], &mut back).unwrap();
                proptest::prop_assert_eq!(got, input.len());
                proptest::prop_assert_eq!(back, input.clone());
                // The length a loader checks before allocating is the one it expands to.
                proptest::prop_assert_eq!(decompressed_len(&out[..n]), Some(input.len() as u64));
                if n > 1 {
                    proptest::prop_assert_ne!(decompressed_len(&out[..n - 1]), Some(input.len() as u64));
                }
            }
            // A reused table gives the same bytes as a fresh one.
            let mut again = vec![0u8; out.len()];
            proptest::prop_assert_eq!(compress(&input, &mut again, &mut table), n);
            proptest::prop_assert_eq!(&again[..n], &out[..n]);
        }
    }
}
