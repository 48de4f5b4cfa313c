//! The packed blobs an RDB can hold, each stored as one RDB string: intsets, listpacks
//! (what Redis 7.0 writes), and the ziplists and zipmaps of older versions (what Redis 7.0
//! still loads, converting them as it goes). These functions turn a blob into its
//! elements, as the strings Redis would reply with (integers as their decimal text).
//!
//! Every blob is checked the way Redis's *deep* integrity validation checks it
//! (`intsetValidateIntegrity`, `lpValidateIntegrity`, `ziplistValidateIntegrity`,
//! `zipmapValidateIntegrity` with `deep` set): sizes in headers match the blob, every
//! entry stays inside it, back-lengths and prev-lengths agree with the entries, element
//! counts match, intsets are strictly ascending. Redis always runs the deep checks on
//! ziplists and zipmaps (it converts them anyway) and runs them on listpacks and intsets
//! only with `sanitize-dump-payload yes`; this engine always runs them, since a blob that
//! passes only the shallow checks can hold what its keyspace cannot (duplicate fields).
//! Every malformed blob is `None`, never a panic: the caller knows which of Redis's
//! messages to report.

/// The members of an intset: `encoding` (bytes per member: 2, 4 or 8) and `length`, both
/// u32 little-endian, then the members, little-endian, strictly ascending, at least one.
pub fn intset_members(blob: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(blob.get(0..4)?.try_into().ok()?) as usize;
    let count = u32::from_le_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    if !matches!(width, 2 | 4 | 8)
        || (blob.len() - 8) as u64 != count as u64 * width as u64
        || count == 0
    {
        return None;
    }
    let members: Vec<i64> = blob[8..].chunks_exact(width).map(sign_extend_le).collect();
    members.windows(2).all(|w| w[0] < w[1]).then_some(members)
}

/// A little-endian two's-complement integer of 1 to 8 bytes.
fn sign_extend_le(bytes: &[u8]) -> i64 {
    let mut buf = [0u8; 8];
    buf[..bytes.len()].copy_from_slice(bytes);
    let shift = 64 - 8 * bytes.len() as u32;
    ((u64::from_le_bytes(buf) << shift) as i64) >> shift
}

fn int_text(v: i64) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// The entries of a listpack: `total-bytes` u32, `num-elements` u16 (65535: unknown),
/// the entries (each an encoding, its data and a back-length), then 0xFF.
pub fn listpack_entries(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    const HEADER: usize = 6;
    if blob.len() < HEADER + 1
        || u32::from_le_bytes(blob[0..4].try_into().ok()?) as usize != blob.len()
    {
        return None;
    }
    if blob[blob.len() - 1] != 0xFF {
        return None;
    }
    let declared = u16::from_le_bytes([blob[4], blob[5]]);
    let last = blob.len() - 1; // the terminator: no entry may reach it
    let mut at = HEADER;
    let mut out = Vec::new();
    while blob[at] != 0xFF {
        let b = blob[at];
        let byte = |i: usize| blob.get(at + i).copied();
        // (bytes of encoding + data, and the element).
        let (size, entry): (usize, Vec<u8>) = if b & 0x80 == 0 {
            (1, int_text((b & 0x7F) as i64))
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3F) as usize;
            (1 + n, blob.get(at + 1..at + 1 + n)?.to_vec())
        } else if b & 0xE0 == 0xC0 {
            let raw = (((b & 0x1F) as i64) << 8) | byte(1)? as i64;
            // 13-bit two's complement.
            (
                2,
                int_text(if raw >= 1 << 12 { raw - (1 << 13) } else { raw }),
            )
        } else if b & 0xF0 == 0xE0 {
            let n = (((b & 0x0F) as usize) << 8) | byte(1)? as usize;
            (2 + n, blob.get(at + 2..at + 2 + n)?.to_vec())
        } else {
            match b {
                0xF0 => {
                    let n = u32::from_le_bytes(blob.get(at + 1..at + 5)?.try_into().ok()?) as usize;
                    let end = (at + 5).checked_add(n)?;
                    let data = blob.get(at + 5..end)?.to_vec();
                    (5 + n, data)
                }
                0xF1..=0xF4 => {
                    let width = [2, 3, 4, 8][(b - 0xF1) as usize];
                    (
                        1 + width,
                        int_text(sign_extend_le(blob.get(at + 1..at + 1 + width)?)),
                    )
                }
                _ => return None,
            }
        };
        let backlen_bytes = match size {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        let next = at.checked_add(size)?.checked_add(backlen_bytes)?;
        if next > last {
            return None;
        }
        // The back-length, read backwards as Redis walks it: 7 bits a byte, the high bit
        // saying another byte precedes.
        let mut value: u64 = 0;
        let mut shift = 0;
        let mut p = next - 1;
        loop {
            value |= ((blob[p] & 127) as u64) << shift;
            if blob[p] & 128 == 0 {
                break;
            }
            shift += 7;
            if shift > 28 || p == 0 {
                return None;
            }
            p -= 1;
        }
        if value != size as u64 {
            return None;
        }
        out.push(entry);
        at = next;
    }
    (declared == u16::MAX || declared as usize == out.len()).then_some(out)
}

/// The entries of a ziplist: `zlbytes` u32, `zltail` u32 (offset of the last entry),
/// `zllen` u16 (65535: unknown), the entries, then 0xFF. Each entry is the previous
/// entry's size (1 byte, or 0xFE and a u32), an encoding with the string length or the
/// integer type, then the data.
pub fn ziplist_entries(blob: &[u8]) -> Option<Vec<Vec<u8>>> {
    const HEADER: usize = 10;
    if blob.len() < HEADER + 1
        || u32::from_le_bytes(blob[0..4].try_into().ok()?) as usize != blob.len()
    {
        return None;
    }
    let last = blob.len() - 1;
    if blob[last] != 0xFF {
        return None;
    }
    let tail = u32::from_le_bytes(blob[4..8].try_into().ok()?) as usize;
    if tail > last {
        return None;
    }
    let declared = u16::from_le_bytes([blob[8], blob[9]]);
    let mut at = HEADER;
    let mut prev_size = 0usize;
    let mut prev_at = None;
    let mut out = Vec::new();
    while blob[at] != 0xFF {
        let (prevlen, prevlen_bytes) = if blob[at] < 0xFE {
            (blob[at] as usize, 1)
        } else {
            (
                u32::from_le_bytes(blob.get(at + 1..at + 5)?.try_into().ok()?) as usize,
                5,
            )
        };
        if prevlen != prev_size {
            return None;
        }
        let enc_at = at + prevlen_bytes;
        if enc_at > last {
            return None;
        }
        let enc = blob[enc_at];
        let header_end = |n: usize| (enc_at + n <= last).then_some(enc_at + n);
        let (data_at, len, entry_kind) = match enc {
            0x00..=0x3F => (header_end(1)?, (enc & 0x3F) as usize, None),
            0x40..=0x7F => (
                header_end(2)?,
                (((enc & 0x3F) as usize) << 8) | blob[enc_at + 1] as usize,
                None,
            ),
            // The low six bits of a 32-bit length's first byte are ignored, as in Redis.
            0x80..=0xBF => {
                let d = header_end(5)?;
                (
                    d,
                    u32::from_be_bytes(blob[enc_at + 1..enc_at + 5].try_into().ok()?) as usize,
                    None,
                )
            }
            0xC0 => (header_end(1)?, 2, Some(2)),
            0xD0 => (header_end(1)?, 4, Some(4)),
            0xE0 => (header_end(1)?, 8, Some(8)),
            0xF0 => (header_end(1)?, 3, Some(3)),
            0xFE => (header_end(1)?, 1, Some(1)),
            0xF1..=0xFD => (header_end(1)?, 0, Some(0)),
            _ => return None,
        };
        let end = data_at.checked_add(len)?;
        if end > last {
            return None;
        }
        let data = &blob[data_at..end];
        out.push(match entry_kind {
            None => data.to_vec(),
            Some(0) => int_text((enc & 0x0F) as i64 - 1),
            Some(_) => int_text(sign_extend_le(data)),
        });
        prev_size = end - at;
        prev_at = Some(at);
        at = end;
    }
    if prev_at.is_some_and(|p| p != tail) {
        return None;
    }
    (declared == u16::MAX || declared as usize == out.len()).then_some(out)
}

/// The field/value pairs of a zipmap (the hash encoding of Redis before 2.6): a count
/// byte (254: count it), then per pair a field length, the field, a value length, one
/// byte of trailing free space `f`, the value and `f` unused bytes; then 0xFF. A length is
/// one byte below 254, or 254 and a u32.
pub fn zipmap_pairs(blob: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if blob.len() < 2 || blob[blob.len() - 1] != 0xFF {
        return None;
    }
    let last = blob.len() - 1;
    let length = |at: usize| -> Option<(usize, usize)> {
        let b = *blob.get(at)?;
        if b < 254 {
            Some((b as usize, 1))
        } else {
            Some((
                u32::from_le_bytes(blob.get(at + 1..at + 5)?.try_into().ok()?) as usize,
                5,
            ))
        }
    };
    // Nothing may reach past the terminator (Redis's OUT_OF_RANGE).
    let within = |p: usize| (p <= last).then_some(p);
    let mut at = 1;
    let mut pairs = Vec::new();
    while blob[at] != 0xFF {
        let (flen, n) = length(at)?;
        let field_at = within(at + n)?;
        let value_len_at = within(field_at.checked_add(flen)?)?;
        let (vlen, n) = length(value_len_at)?;
        let free_at = within(value_len_at + n)?;
        let value_at = free_at + 1;
        let next = within(
            value_at
                .checked_add(vlen)?
                .checked_add(blob[free_at] as usize)?,
        )?;
        let value_end = value_at + vlen;
        pairs.push((
            blob[field_at..field_at + flen].to_vec(),
            blob[value_at..value_end].to_vec(),
        ));
        at = next;
    }
    if pairs.is_empty() || (blob[0] != 254 && blob[0] as usize != pairs.len()) {
        return None;
    }
    Some(pairs)
}

#[cfg(test)]
pub(crate) mod build {
    //! Blob builders for tests, written from the C sources' format descriptions
    //! (listpack.c, ziplist.c, zipmap.c, intset.c), independent of the parsers above.

    /// A listpack of string entries (integers written as strings, which is valid: Redis
    /// reads back the same text).
    pub fn listpack(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        for e in entries {
            let mut entry = Vec::new();
            if e.len() < 64 {
                entry.push(0x80 | e.len() as u8);
            } else if e.len() < 4096 {
                entry.push(0xE0 | (e.len() >> 8) as u8);
                entry.push(e.len() as u8);
            } else {
                entry.push(0xF0);
                entry.extend((e.len() as u32).to_le_bytes());
            }
            entry.extend_from_slice(e);
            let l = entry.len();
            body.extend(&entry);
            if l <= 127 {
                body.push(l as u8);
            } else if l < 16383 {
                body.push((l >> 7) as u8);
                body.push((l & 127) as u8 | 128);
            } else {
                body.push((l >> 14) as u8);
                body.push(((l >> 7) & 127) as u8 | 128);
                body.push((l & 127) as u8 | 128);
            }
        }
        let total = 6 + body.len() + 1;
        let mut blob = (total as u32).to_le_bytes().to_vec();
        blob.extend((entries.len() as u16).to_le_bytes());
        blob.extend(body);
        blob.push(0xFF);
        blob
    }

    /// One ziplist entry's encoding and data: an integer as the smallest integer
    /// encoding Redis would choose, anything else as a string.
    fn ziplist_payload(e: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(v) = crate::engine::resp::parse_i64(e) {
            match v {
                0..=12 => out.push(0xF1 + v as u8),
                -128..=127 => out.extend([0xFE, v as i8 as u8]),
                -32768..=32767 => {
                    out.push(0xC0);
                    out.extend((v as i16).to_le_bytes());
                }
                -8388608..=8388607 => {
                    out.push(0xF0);
                    out.extend(&(v as i32).to_le_bytes()[..3]);
                }
                _ if i32::try_from(v).is_ok() => {
                    out.push(0xD0);
                    out.extend((v as i32).to_le_bytes());
                }
                _ => {
                    out.push(0xE0);
                    out.extend(v.to_le_bytes());
                }
            }
            return out;
        }
        if e.len() < 64 {
            out.push(e.len() as u8);
        } else if e.len() < 16384 {
            out.push(0x40 | (e.len() >> 8) as u8);
            out.push(e.len() as u8);
        } else {
            out.push(0x80);
            out.extend((e.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(e);
        out
    }

    pub fn ziplist(entries: &[&[u8]]) -> Vec<u8> {
        let mut body = Vec::new();
        let mut prev = 0usize;
        let mut tail = 10usize;
        for e in entries {
            let mut entry = Vec::new();
            if prev < 254 {
                entry.push(prev as u8);
            } else {
                entry.push(0xFE);
                entry.extend((prev as u32).to_le_bytes());
            }
            entry.extend(ziplist_payload(e));
            tail = 10 + body.len();
            prev = entry.len();
            body.extend(entry);
        }
        let total = 10 + body.len() + 1;
        let mut blob = (total as u32).to_le_bytes().to_vec();
        blob.extend((tail as u32).to_le_bytes());
        blob.extend((entries.len() as u16).to_le_bytes());
        blob.extend(body);
        blob.push(0xFF);
        blob
    }

    pub fn zipmap(pairs: &[(&[u8], &[u8])], free: u8) -> Vec<u8> {
        let len = |out: &mut Vec<u8>, n: usize| {
            if n < 254 {
                out.push(n as u8);
            } else {
                out.push(254);
                out.extend((n as u32).to_le_bytes());
            }
        };
        let mut blob = vec![pairs.len().min(254) as u8];
        for (f, v) in pairs {
            len(&mut blob, f.len());
            blob.extend_from_slice(f);
            len(&mut blob, v.len());
            blob.push(free);
            blob.extend_from_slice(v);
            blob.extend(std::iter::repeat_n(0u8, free as usize));
        }
        blob.push(0xFF);
        blob
    }

    pub fn intset(width: usize, members: &[i64]) -> Vec<u8> {
        let mut blob = (width as u32).to_le_bytes().to_vec();
        blob.extend((members.len() as u32).to_le_bytes());
        for m in members {
            blob.extend(&m.to_le_bytes()[..width]);
        }
        blob
    }
}

#[cfg(test)]
mod tests {
    use super::build;
    use super::*;

    fn texts(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn intsets() {
        let blob = build::intset(2, &[-2, 5, 300]);
        assert_eq!(intset_members(&blob).unwrap(), vec![-2, 5, 300]);
        assert_eq!(
            intset_members(&build::intset(8, &[i64::MIN, i64::MAX])).unwrap(),
            vec![i64::MIN, i64::MAX]
        );
        assert!(intset_members(&blob[..blob.len() - 1]).is_none());
        assert!(intset_members(&[3, 0, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(
            intset_members(&[8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).is_none(),
            "a huge length is refused, not allocated"
        );
        assert!(intset_members(&build::intset(4, &[])).is_none(), "empty");
        assert!(
            intset_members(&build::intset(4, &[3, 3])).is_none(),
            "duplicate"
        );
        assert!(
            intset_members(&build::intset(4, &[3, 1])).is_none(),
            "out of order"
        );
    }

    #[test]
    fn listpacks_with_every_encoding() {
        // "a", 5, -1 (13-bit), 1000 (13-bit), 70000 (24-bit), then EOF.
        let mut body = vec![0x81, b'a', 2, 0x05, 1, 0xDF, 0xFF, 2, 0xC3, 0xE8, 2, 0xF2];
        body.extend(&70000i32.to_le_bytes()[..3]);
        body.push(4);
        body.extend([0xF1, 0x18, 0xFC, 3]); // -1000 as 16-bit
        body.push(0xF3);
        body.extend((-100_000_000i32).to_le_bytes());
        body.push(5);
        body.push(0xF4);
        body.extend(i64::MIN.to_le_bytes());
        body.push(9);
        let total = (6 + body.len() + 1) as u32;
        let mut blob = total.to_le_bytes().to_vec();
        blob.extend(8u16.to_le_bytes());
        blob.extend(&body);
        blob.push(0xFF);
        let want = texts(&[
            "a",
            "5",
            "-1",
            "1000",
            "70000",
            "-1000",
            "-100000000",
            &i64::MIN.to_string(),
        ]);
        assert_eq!(listpack_entries(&blob).unwrap(), want);
        for cut in 0..blob.len() {
            assert!(listpack_entries(&blob[..cut]).is_none());
        }
        // Wrong element count, unknown count, wrong back-length.
        let mut bad = blob.clone();
        bad[4] = 7;
        assert!(listpack_entries(&bad).is_none());
        bad[4..6].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(listpack_entries(&bad).unwrap(), want);
        let mut bad = blob.clone();
        bad[8] = 3;
        assert!(listpack_entries(&bad).is_none());
    }

    #[test]
    fn long_listpack_strings_round_trip() {
        let long = vec![b'x'; 5000];
        let mid = vec![b'y'; 200];
        let blob = build::listpack(&[&long, &mid, b""]);
        assert_eq!(
            listpack_entries(&blob).unwrap(),
            vec![long, mid, Vec::new()]
        );
    }

    #[test]
    fn ziplists_with_every_encoding() {
        let big = "z".repeat(300);
        let huge = "h".repeat(20_000);
        let items = [
            "a",
            "0",
            "12",
            "13",
            "-5",
            "300",
            "-70000",
            "8388608",
            "-2147483649",
            "",
            &big,
            &huge,
            "x",
        ];
        let blob = build::ziplist(&items.iter().map(|s| s.as_bytes()).collect::<Vec<_>>());
        assert_eq!(ziplist_entries(&blob).unwrap(), texts(&items));
        for cut in 0..blob.len().min(400) {
            assert!(ziplist_entries(&blob[..cut]).is_none());
        }
        // A wrong prevlen, count or tail offset is corruption.
        let mut bad = blob.clone();
        bad[8] = 1;
        assert!(ziplist_entries(&bad).is_none());
        let mut bad = blob.clone();
        bad[4] = bad[4].wrapping_add(1);
        assert!(ziplist_entries(&bad).is_none());
        let mut bad = blob.clone();
        bad[10 + 3] = 9; // the second entry's prevlen
        assert!(ziplist_entries(&bad).is_none());
        assert_eq!(
            ziplist_entries(&build::ziplist(&[])).unwrap(),
            Vec::<Vec<u8>>::new()
        );
    }

    #[test]
    fn zipmaps() {
        let long = vec![b'v'; 300];
        let blob = build::zipmap(&[(b"f1", b"v1"), (b"f2", &long)], 2);
        assert_eq!(
            zipmap_pairs(&blob).unwrap(),
            vec![(b"f1".to_vec(), b"v1".to_vec()), (b"f2".to_vec(), long)]
        );
        for cut in 0..blob.len() {
            assert!(zipmap_pairs(&blob[..cut]).is_none());
        }
        let mut bad = blob.clone();
        bad[0] = 3;
        assert!(zipmap_pairs(&bad).is_none(), "wrong count");
        assert!(zipmap_pairs(&[0, 0xFF]).is_none(), "empty");
    }
}
