//! RDB version 10, the snapshot format a Redis 7.0 master sends in a full resync.
//!
//! The writer emits what real Redis writes for the same data where that is simple (aux
//! fields, int-encoded strings, expiries, CRC-64) so `redis-check-rdb` and a real
//! redis-server accept it. The reader takes what a real 7.0 master sends; every malformed
//! or truncated input is an `RdbError`, never a panic.

use super::keyspace::{Keyspace, OrderedMap, OrderedSet, SetValue, Value, ZSet};
use super::rdb_compact;
use crc::{Crc, CRC_64_REDIS};

pub const RDB_VERSION: u32 = 10;
const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

const OP_FUNCTION2: u8 = 0xF5;
const OP_MODULE_AUX: u8 = 0xF7;
const OP_IDLE: u8 = 0xF8;
const OP_FREQ: u8 = 0xF9;
const OP_AUX: u8 = 0xFA;
const OP_RESIZEDB: u8 = 0xFB;
const OP_EXPIRETIME_MS: u8 = 0xFC;
const OP_EXPIRETIME: u8 = 0xFD;
const OP_SELECTDB: u8 = 0xFE;
const OP_EOF: u8 = 0xFF;

const TYPE_STRING: u8 = 0;
const TYPE_LIST: u8 = 1;
const TYPE_SET: u8 = 2;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
// The compact encodings a real Redis 7.0 writes for small collections (see rdb_compact).
const TYPE_SET_INTSET: u8 = 11;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Replication facts stored in a snapshot made for a replica (or by SAVE).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplInfo {
    pub stream_db: i64,
    pub replid: String,
    pub offset: i64,
}

/// What a snapshot is made of besides the data.
#[derive(Debug, Clone)]
pub struct SnapshotMeta<'a> {
    pub redis_ver: &'a str,
    pub ctime_secs: u64,
    pub used_mem: u64,
    pub repl: Option<ReplInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError(pub String);

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serializes the keyspace as an RDB file.
pub fn write(keyspace: &Keyspace, meta: &SnapshotMeta, now_ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    aux(&mut out, "redis-ver", meta.redis_ver.as_bytes());
    aux(&mut out, "redis-bits", b"64");
    aux(&mut out, "ctime", meta.ctime_secs.to_string().as_bytes());
    aux(&mut out, "used-mem", meta.used_mem.to_string().as_bytes());
    if let Some(repl) = &meta.repl {
        aux(&mut out, "repl-stream-db", repl.stream_db.to_string().as_bytes());
        aux(&mut out, "repl-id", repl.replid.as_bytes());
        aux(&mut out, "repl-offset", repl.offset.to_string().as_bytes());
    }
    aux(&mut out, "aof-base", b"0");
    for (index, db) in keyspace.dbs.iter().enumerate() {
        // Keys already expired are not saved, as Redis does when it writes a snapshot.
        let live: Vec<_> = db.entries.iter().filter(|(_, e)| !e.expires_at.is_some_and(|t| now_ms > t)).collect();
        if live.is_empty() {
            continue;
        }
        out.push(OP_SELECTDB);
        write_len(&mut out, index as u64);
        out.push(OP_RESIZEDB);
        write_len(&mut out, live.len() as u64);
        write_len(&mut out, live.iter().filter(|(_, e)| e.expires_at.is_some()).count() as u64);
        for (key, entry) in live {
            if let Some(t) = entry.expires_at {
                out.push(OP_EXPIRETIME_MS);
                out.extend_from_slice(&t.to_le_bytes());
            }
            // The plain (non-packed) encodings: Redis 7.0 still loads every one of them
            // and converts to its compact encodings itself.
            let type_byte = match &entry.value {
                Value::String(_) => TYPE_STRING,
                Value::List(_) => TYPE_LIST,
                Value::Set(_) => TYPE_SET,
                Value::Hash(_) => TYPE_HASH,
                Value::ZSet(_) => TYPE_ZSET_2,
            };
            out.push(type_byte);
            write_string(&mut out, key);
            match &entry.value {
                Value::String(s) => write_string(&mut out, s),
                Value::List(items) => {
                    write_len(&mut out, items.len() as u64);
                    items.iter().for_each(|i| write_string(&mut out, i));
                }
                Value::Set(set) => {
                    let members = set.members();
                    write_len(&mut out, members.len() as u64);
                    members.iter().for_each(|m| write_string(&mut out, m));
                }
                Value::Hash(h) => {
                    write_len(&mut out, h.len() as u64);
                    for (f, v) in h {
                        write_string(&mut out, f);
                        write_string(&mut out, v);
                    }
                }
                Value::ZSet(z) => {
                    write_len(&mut out, z.len() as u64);
                    // Redis writes the highest score first so loading appends in order.
                    for (m, score) in z.iter().rev() {
                        write_string(&mut out, m);
                        out.extend_from_slice(&score.to_le_bytes());
                    }
                }
            }
        }
    }
    out.push(OP_EOF);
    let crc = CRC64.checksum(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn aux(out: &mut Vec<u8>, key: &str, value: &[u8]) {
    out.push(OP_AUX);
    write_string(out, key.as_bytes());
    write_string(out, value);
}

fn write_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(0x40 | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(0x80);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(0x81);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Strings that are canonical integers fitting 32 bits are stored as integers, like Redis.
fn write_string(out: &mut Vec<u8>, s: &[u8]) {
    if s.len() <= 11 {
        if let Some(v) = super::resp::parse_i64(s) {
            if let Ok(v8) = i8::try_from(v) {
                out.push(0xC0 | ENC_INT8);
                out.push(v8 as u8);
                return;
            } else if let Ok(v16) = i16::try_from(v) {
                out.push(0xC0 | ENC_INT16);
                out.extend_from_slice(&v16.to_le_bytes());
                return;
            } else if let Ok(v32) = i32::try_from(v) {
                out.push(0xC0 | ENC_INT32);
                out.extend_from_slice(&v32.to_le_bytes());
                return;
            }
        }
    }
    write_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// A loaded snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub keyspace: Keyspace,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Parses a whole RDB file. Keys already expired at `now_ms` are still loaded: on a replica
/// the master decides when keys die (and sends DEL), exactly as Redis does when loading
/// the payload of a full sync.
pub fn read(data: &[u8]) -> Result<Loaded, RdbError> {
    let mut r = Reader { data, pos: 0 };
    let magic = r.take(9)?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError("Wrong signature trying to load DB from file".into()));
    }
    let version: u32 = std::str::from_utf8(&magic[5..])
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| RdbError("Bad RDB version field".into()))?;
    if !(1..=RDB_VERSION).contains(&version) {
        return Err(RdbError(format!("Can't handle RDB format version {version}")));
    }
    let mut keyspace = Keyspace::default();
    let mut aux = Vec::new();
    let mut db = 0usize;
    let mut expires_at: Option<u64> = None;
    loop {
        let op = r.byte()?;
        match op {
            OP_EOF => {
                let body_len = r.pos;
                if version >= 5 {
                    let stored = u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes"));
                    if stored != 0 && stored != CRC64.checksum(&data[..body_len]) {
                        return Err(RdbError("Wrong RDB checksum".into()));
                    }
                }
                return Ok(Loaded { keyspace, aux });
            }
            OP_AUX => {
                let k = r.string()?;
                let v = r.string()?;
                aux.push((k, v));
            }
            OP_SELECTDB => {
                let n = r.len()?;
                if n >= keyspace.dbs.len() as u64 {
                    return Err(RdbError(format!("FATAL: Data file was created with a Redis server configured to handle more than {} databases", keyspace.dbs.len())));
                }
                db = n as usize;
            }
            OP_RESIZEDB => {
                r.len()?;
                r.len()?;
            }
            OP_EXPIRETIME_MS => {
                expires_at = Some(u64::from_le_bytes(r.take(8)?.try_into().expect("8 bytes")));
            }
            OP_EXPIRETIME => {
                let secs = u32::from_le_bytes(r.take(4)?.try_into().expect("4 bytes"));
                expires_at = Some(secs as u64 * 1000);
            }
            OP_IDLE => {
                r.len()?;
            }
            OP_FREQ => {
                r.byte()?;
            }
            OP_FUNCTION2 | OP_MODULE_AUX => {
                return Err(RdbError(format!("Unsupported RDB opcode 0x{op:02x} (functions and modules are not supported)")));
            }
            TYPE_STRING | TYPE_LIST | TYPE_SET | TYPE_HASH | TYPE_ZSET_2 | TYPE_SET_INTSET | TYPE_HASH_LISTPACK
            | TYPE_ZSET_LISTPACK | TYPE_LIST_QUICKLIST_2 => {
                let key = r.string()?;
                let value = r.value(op)?;
                let expiry = expires_at.take();
                // An empty collection is skipped, as Redis's rdbLoad does (RDB_LOAD_ERR_EMPTY_KEY):
                // no key ever holds one. (Found by tests/fuzz_resp.rs.)
                if !value.is_empty_collection() {
                    keyspace.set(db, key, value, expiry);
                }
            }
            other => return Err(RdbError(format!("Unknown RDB encoding type {other}"))),
        }
    }
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if self.data.len() - self.pos < n {
            return Err(RdbError("Short read or OOM loading DB. Unrecoverable error, aborting now.".into()));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// A collection's element count, refusing counts the remaining input cannot hold
    /// (every element takes at least one byte) so a corrupt count cannot make us reserve
    /// gigabytes.
    fn count(&mut self) -> Result<usize, RdbError> {
        let n = self.len()?;
        if n > (self.data.len() - self.pos) as u64 {
            return Err(RdbError("Short read or OOM loading DB. Unrecoverable error, aborting now.".into()));
        }
        Ok(n as usize)
    }

    fn value(&mut self, type_byte: u8) -> Result<Value, RdbError> {
        Ok(match type_byte {
            TYPE_STRING => Value::String(self.string()?),
            TYPE_LIST => {
                let n = self.count()?;
                let mut items = std::collections::VecDeque::with_capacity(n);
                for _ in 0..n {
                    items.push_back(self.string()?);
                }
                Value::List(items)
            }
            TYPE_SET => {
                let n = self.count()?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    members.push(self.string()?);
                }
                Value::Set(set_from_members(members))
            }
            TYPE_HASH => {
                let n = self.count()?;
                let mut h = OrderedMap::default();
                for _ in 0..n {
                    let f = self.string()?;
                    let v = self.string()?;
                    h.insert(f, v);
                }
                Value::Hash(h)
            }
            TYPE_ZSET_2 => {
                let n = self.count()?;
                let mut z = ZSet::default();
                for _ in 0..n {
                    let m = self.string()?;
                    let score = f64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes"));
                    if score.is_nan() {
                        return Err(RdbError("Zset with NAN score detected".into()));
                    }
                    z.insert(m, score);
                }
                normalize_listpack_zero(&mut z);
                Value::ZSet(z)
            }
            TYPE_SET_INTSET => {
                let blob = self.string()?;
                Value::Set(set_from_members(rdb_compact::intset_members(&blob).map_err(RdbError)?))
            }
            TYPE_HASH_LISTPACK => {
                let entries = rdb_compact::listpack_entries(&self.string()?).map_err(RdbError)?;
                if entries.len() % 2 != 0 {
                    return Err(RdbError("Listpack integrity check failed.".into()));
                }
                let mut h = OrderedMap::default();
                for pair in entries.chunks(2) {
                    h.insert(pair[0].clone(), pair[1].clone());
                }
                Value::Hash(h)
            }
            TYPE_ZSET_LISTPACK => {
                let entries = rdb_compact::listpack_entries(&self.string()?).map_err(RdbError)?;
                if entries.len() % 2 != 0 {
                    return Err(RdbError("Listpack integrity check failed.".into()));
                }
                let mut z = ZSet::default();
                for pair in entries.chunks(2) {
                    // zzlStrtod: a listpack score is d2string's text (or an integer).
                    let score = crate::engine::command::parse_listpack_score(&pair[1]);
                    if score.is_nan() {
                        return Err(RdbError("Zset with NAN score detected".into()));
                    }
                    z.insert(pair[0].clone(), score);
                }
                Value::ZSet(z)
            }
            TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.count()?;
                let mut items = std::collections::VecDeque::new();
                for _ in 0..nodes {
                    let container = self.len()?;
                    let blob = self.string()?;
                    match container {
                        // A PLAIN node is one big element, stored as is.
                        1 => items.push_back(blob),
                        2 => items.extend(rdb_compact::listpack_entries(&blob).map_err(RdbError)?),
                        _ => return Err(RdbError("Quicklist integrity check failed.".into())),
                    }
                }
                Value::List(items)
            }
            other => return Err(RdbError(format!("Unknown RDB encoding type {other}"))),
        })
    }

    fn byte(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    /// Reads a length; `Err` for the special string encodings (use `len_or_encoding`).
    fn len(&mut self) -> Result<u64, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(RdbError("Unexpected encoded length".into())),
        }
    }

    fn len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3F) as u64),
            1 => Len::Plain((((b & 0x3F) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes"))),
                _ => return Err(RdbError(format!("Unknown length encoding {b} in rdbLoadLen()"))),
            },
            _ => Len::Encoded(b & 0x3F),
        })
    }

    fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| RdbError("String length too large".into()))?;
                Ok(self.take(n)?.to_vec())
            }
            Len::Encoded(ENC_INT8) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Len::Encoded(ENC_INT16) => {
                Ok(i16::from_le_bytes(self.take(2)?.try_into().expect("2 bytes")).to_string().into_bytes())
            }
            Len::Encoded(ENC_INT32) => {
                Ok(i32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")).to_string().into_bytes())
            }
            Len::Encoded(ENC_LZF) => {
                let clen = self.len()? as usize;
                let len = self.len()? as usize;
                let compressed = self.take(clen)?;
                lzf_decompress(compressed, len)
            }
            Len::Encoded(e) => Err(RdbError(format!("Unknown RDB string encoding type {e}"))),
        }
    }
}

/// Redis converts a loaded sorted set that fits in a listpack into one, and a listpack
/// stores an integral score as an integer: a -0 comes back as 0.
fn normalize_listpack_zero(z: &mut ZSet) {
    if z.is_skiplist() {
        return;
    }
    let negative_zeros: Vec<Vec<u8>> = z.iter().filter(|(_, s)| *s == 0.0 && s.is_sign_negative()).map(|(m, _)| m.to_vec()).collect();
    for m in negative_zeros {
        z.insert(m, 0.0);
    }
}

/// Redis loads a small all-integer set as an intset (numeric order), anything else as a
/// hash table.
pub fn set_from_members(members: Vec<Vec<u8>>) -> SetValue {
    const SET_MAX_INTSET_ENTRIES: usize = 512;
    if members.len() <= SET_MAX_INTSET_ENTRIES {
        let ints: Option<std::collections::BTreeSet<i64>> = members.iter().map(|m| super::resp::parse_i64(m)).collect();
        if let Some(ints) = ints {
            return SetValue::Ints(ints);
        }
    }
    SetValue::Members(members.into_iter().collect::<OrderedSet>())
}

enum Len {
    Plain(u64),
    Encoded(u8),
}

/// LZF decompression (the format of liblzf that Redis uses for RDB strings). The output
/// must be exactly `expected_len` bytes; anything else is corruption.
pub fn lzf_decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, RdbError> {
    let corrupt = || RdbError("Invalid LZF compressed string".into());
    // The declared length comes from the file: never trust it for an up-front allocation
    // beyond what the input could possibly expand to.
    let mut out = Vec::with_capacity(expected_len.min(input.len().saturating_mul(264)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = input[i] as usize;
        i += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lit = input.get(i..i + run).ok_or_else(corrupt)?;
            out.extend_from_slice(lit);
            i += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(i).ok_or_else(corrupt)? as usize;
                i += 1;
            }
            let low = *input.get(i).ok_or_else(corrupt)? as usize;
            i += 1;
            let back = ((ctrl & 0x1F) << 8) + low + 1;
            if back > out.len() {
                return Err(corrupt());
            }
            let start = out.len() - back;
            for k in 0..len + 2 {
                let b = out[start + k];
                out.push(b);
            }
        }
        if out.len() > expected_len {
            return Err(corrupt());
        }
    }
    if out.len() != expected_len {
        return Err(corrupt());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_is_the_redis_variant() {
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn round_trips_strings_with_expiry_and_dbs() {
        let mut ks = Keyspace::default();
        ks.set(0, b"k".to_vec(), Value::String(b"v".to_vec()), None);
        ks.set(0, b"n".to_vec(), Value::String(b"12345".to_vec()), Some(1_900_000_000_000));
        ks.set(3, b"neg".to_vec(), Value::String(b"-70000".to_vec()), None);
        ks.set(3, b"big".to_vec(), Value::String(vec![b'x'; 20_000]), None);
        ks.set(1, b"list".to_vec(), Value::List([b"a".to_vec(), b"12".to_vec()].into_iter().collect()), None);
        ks.set(1, b"ints".to_vec(), Value::Set(set_from_members(vec![b"3".to_vec(), b"-1".to_vec()])), None);
        ks.set(1, b"names".to_vec(), Value::Set(set_from_members(vec![b"x".to_vec(), b"1".to_vec()])), None);
        let mut h = OrderedMap::default();
        h.insert(b"f2".to_vec(), b"v".to_vec());
        h.insert(b"f1".to_vec(), b"".to_vec());
        ks.set(1, b"hash".to_vec(), Value::Hash(h), Some(7));
        let mut z = ZSet::default();
        z.insert(b"b".to_vec(), 1.5);
        z.insert(b"a".to_vec(), 1.5);
        z.insert(b"c".to_vec(), -0.25);
        ks.set(1, b"zset".to_vec(), Value::ZSet(z), None);
        let meta = SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 1,
            used_mem: 1,
            repl: Some(ReplInfo { stream_db: 0, replid: "a".repeat(40), offset: 7 }),
        };
        let bytes = write(&ks, &meta, 0);
        let loaded = read(&bytes).unwrap();
        assert_eq!(loaded.keyspace, ks);
        assert!(loaded.aux.contains(&(b"repl-offset".to_vec(), b"7".to_vec())));
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
        let mut ks = Keyspace::default();
        ks.set(0, b"key".to_vec(), Value::String(b"value".to_vec()), Some(5));
        let bytes = write(&ks, &SnapshotMeta { redis_ver: "7.0.15", ctime_secs: 0, used_mem: 0, repl: None }, 0);
        for cut in 0..bytes.len() {
            assert!(read(&bytes[..cut]).is_err(), "truncated at {cut} loaded");
        }
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x41;
            let _ = read(&bad);
        }
    }

    #[test]
    fn empty_collections_are_skipped_like_redis() {
        let mut ks = Keyspace::default();
        ks.set(0, b"list".to_vec(), Value::List(Default::default()), Some(5));
        ks.set(0, b"hash".to_vec(), Value::Hash(OrderedMap::default()), None);
        ks.set(0, b"kept".to_vec(), Value::String(Vec::new()), None);
        let bytes = write(&ks, &SnapshotMeta { redis_ver: "7.0.15", ctime_secs: 0, used_mem: 0, repl: None }, 0);
        let loaded = read(&bytes).unwrap().keyspace;
        assert_eq!(loaded.dbs[0].entries.keys().collect::<Vec<_>>(), vec![&b"kept".to_vec()]);
    }

    #[test]
    fn lzf_backreferences() {
        // literal "abc", then a back-reference of length 6 at distance 3: "abcabcabc"
        let compressed = [2, b'a', b'b', b'c', (4 << 5) as u8, 2];
        assert_eq!(lzf_decompress(&compressed, 9).unwrap(), b"abcabcabc");
        assert!(lzf_decompress(&compressed, 8).is_err());
        assert!(lzf_decompress(&[0x20, 0x05], 3).is_err());
    }
}
