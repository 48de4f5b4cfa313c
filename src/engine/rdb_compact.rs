//! The compact encodings a real Redis 7.0 writes into an RDB for small collections:
//! intsets (RDB_TYPE_SET_INTSET), listpacks (RDB_TYPE_HASH_LISTPACK,
//! RDB_TYPE_ZSET_LISTPACK, and the nodes of RDB_TYPE_LIST_QUICKLIST_2). A replica must
//! read them to load a real master's snapshot. Each blob arrives as one RDB string; these
//! functions turn it into its elements, as the strings Redis would reply with. Every
//! malformed blob is an error, never a panic.

/// The members of an intset blob: `encoding` (bytes per member: 2, 4 or 8) and `length`,
/// both u32 little-endian, then the members, little-endian, sorted.
pub fn intset_members(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "Intset integrity check failed.".to_string();
    if blob.len() < 8 {
        return Err(bad());
    }
    let width = u32::from_le_bytes(blob[0..4].try_into().map_err(|_| bad())?) as usize;
    let len = u32::from_le_bytes(blob[4..8].try_into().map_err(|_| bad())?) as usize;
    if !matches!(width, 2 | 4 | 8) || blob.len() - 8 != len.checked_mul(width).ok_or_else(bad)? {
        return Err(bad());
    }
    Ok(blob[8..]
        .chunks(width)
        .map(|c| {
            let v = match width {
                2 => i16::from_le_bytes([c[0], c[1]]) as i64,
                4 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64,
                _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
            };
            v.to_string().into_bytes()
        })
        .collect())
}

/// The entries of a listpack blob: `total-bytes` u32, `num-elements` u16, the entries
/// (each an encoding, its data and a back-length), then 0xFF. Integers come back as
/// their decimal text.
pub fn listpack_entries(blob: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "Listpack integrity check failed.".to_string();
    if blob.len() < 7 || u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize != blob.len() {
        return Err(bad());
    }
    let mut at = 6;
    let mut out = Vec::new();
    let take = |at: usize, n: usize| at.checked_add(n).and_then(|end| blob.get(at..end)).ok_or_else(bad);
    loop {
        let b = *blob.get(at).ok_or_else(bad)?;
        if b == 0xFF {
            break;
        }
        let (entry, header, data): (Vec<u8>, usize, usize);
        if b & 0x80 == 0 {
            (entry, header, data) = ((b & 0x7F).to_string().into_bytes(), 1, 0);
        } else if b & 0xC0 == 0x80 {
            let n = (b & 0x3F) as usize;
            (entry, header, data) = (take(at + 1, n)?.to_vec(), 1, n);
        } else if b & 0xE0 == 0xC0 {
            let raw = (((b & 0x1F) as u16) << 8) | *blob.get(at + 1).ok_or_else(bad)? as u16;
            // 13-bit two's complement.
            let v = if raw >= 1 << 12 { raw as i64 - (1 << 13) } else { raw as i64 };
            (entry, header, data) = (v.to_string().into_bytes(), 2, 0);
        } else if b & 0xF0 == 0xE0 {
            let n = (((b & 0x0F) as usize) << 8) | *blob.get(at + 1).ok_or_else(bad)? as usize;
            (entry, header, data) = (take(at + 2, n)?.to_vec(), 2, n);
        } else {
            match b {
                0xF0 => {
                    let l = take(at + 1, 4)?;
                    let n = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                    (entry, header, data) = (take(at + 5, n)?.to_vec(), 5, n);
                }
                0xF1..=0xF4 => {
                    let width = match b {
                        0xF1 => 2,
                        0xF2 => 3,
                        0xF3 => 4,
                        _ => 8,
                    };
                    let raw = take(at + 1, width)?;
                    let mut bytes = [0u8; 8];
                    bytes[..width].copy_from_slice(raw);
                    // Sign-extend from `width` bytes.
                    let shift = 64 - 8 * width as u32;
                    let v = ((u64::from_le_bytes(bytes) << shift) as i64) >> shift;
                    (entry, header, data) = (v.to_string().into_bytes(), 1, width);
                }
                _ => return Err(bad()),
            }
        }
        let size = header + data;
        let backlen = match size {
            0..=127 => 1,
            128..=16382 => 2,
            16383..=2097150 => 3,
            2097151..=268435454 => 4,
            _ => 5,
        };
        at = at.checked_add(size + backlen).ok_or_else(bad)?;
        out.push(entry);
    }
    if at + 1 != blob.len() {
        return Err(bad());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intsets() {
        let mut blob = vec![2, 0, 0, 0, 3, 0, 0, 0];
        for v in [-2i16, 5, 300] {
            blob.extend(v.to_le_bytes());
        }
        assert_eq!(intset_members(&blob).unwrap(), vec![b"-2".to_vec(), b"5".to_vec(), b"300".to_vec()]);
        assert!(intset_members(&blob[..blob.len() - 1]).is_err());
        assert!(intset_members(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(intset_members(&[8, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]).is_err(), "a huge length is refused, not allocated");
    }

    #[test]
    fn listpacks() {
        // "a", 5, -1 (13-bit), 1000 (13-bit), 70000 (24-bit), then EOF.
        let mut body = vec![0x81, b'a', 2, 0x05, 1, 0xDF, 0xFF, 2, 0xC3, 0xE8, 2, 0xF2];
        body.extend(&70000i32.to_le_bytes()[..3]);
        body.push(4);
        let total = (6 + body.len() + 1) as u32;
        let mut blob = total.to_le_bytes().to_vec();
        blob.extend(5u16.to_le_bytes());
        blob.extend(&body);
        blob.push(0xFF);
        let entries = listpack_entries(&blob).unwrap();
        let want: Vec<Vec<u8>> = ["a", "5", "-1", "1000", "70000"].iter().map(|s| s.as_bytes().to_vec()).collect();
        assert_eq!(entries, want);
        for cut in 0..blob.len() {
            assert!(listpack_entries(&blob[..cut]).is_err());
        }
    }
}
