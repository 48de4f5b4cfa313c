//! The snapshot writer: what Redis 7.0's `rdbSave` writes for a keyspace.

use super::{
    CRC64, ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF, OP_AUX, OP_EOF, OP_EXPIRETIME_MS, OP_RESIZEDB,
    OP_SELECTDB, RDB_VERSION, TYPE_HASH, TYPE_LIST, TYPE_SET, TYPE_STRING, TYPE_ZSET_2,
};
use crate::engine::keyspace::{Keyspace, Value};

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

/// Serializes the keyspace as an RDB file, compressing strings as Redis does with
/// `rdbcompression yes` (its default).
pub fn write(keyspace: &Keyspace, meta: &SnapshotMeta, now_ms: u64) -> Vec<u8> {
    write_with(keyspace, meta, now_ms, true)
}

/// Serializes the keyspace as an RDB file; `compression` is Redis's `rdbcompression`.
///
/// Every key is written, even one whose expiry time has passed but that has not been
/// deleted yet: Redis 7.0's `rdbSaveDb` writes the whole dictionary, and the loader
/// decides (a master drops such keys on load, a replica keeps them until the master's
/// DEL). `now_ms` is kept for callers; the snapshot does not depend on it.
pub fn write_with(
    keyspace: &Keyspace,
    meta: &SnapshotMeta,
    _now_ms: u64,
    compression: bool,
) -> Vec<u8> {
    let mut w = Writer::new(compression);
    w.out
        .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    // rdbSaveInfoAuxFields, in its order.
    w.aux("redis-ver", meta.redis_ver.as_bytes());
    w.aux("redis-bits", b"64");
    w.aux("ctime", meta.ctime_secs.to_string().as_bytes());
    w.aux("used-mem", meta.used_mem.to_string().as_bytes());
    if let Some(repl) = &meta.repl {
        w.aux("repl-stream-db", repl.stream_db.to_string().as_bytes());
        w.aux("repl-id", repl.replid.as_bytes());
        w.aux("repl-offset", repl.offset.to_string().as_bytes());
    }
    w.aux("aof-base", b"0");
    for (index, db) in keyspace.dbs.iter().enumerate() {
        if db.entries.is_empty() {
            continue;
        }
        w.out.push(OP_SELECTDB);
        w.len(index as u64);
        w.out.push(OP_RESIZEDB);
        w.len(db.entries.len() as u64);
        w.len(db.keys_with_expiry() as u64);
        for (key, entry) in &db.entries {
            if let Some(t) = entry.expires_at {
                w.out.push(OP_EXPIRETIME_MS);
                w.out.extend_from_slice(&t.to_le_bytes());
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
            w.out.push(type_byte);
            w.string(key);
            match &entry.value {
                Value::String(s) => w.string(s),
                Value::List(items) => {
                    w.len(items.len() as u64);
                    items.iter().for_each(|i| w.string(i));
                }
                Value::Set(set) => {
                    let members = set.members();
                    w.len(members.len() as u64);
                    members.iter().for_each(|m| w.string(m));
                }
                Value::Hash(h) => {
                    w.len(h.len() as u64);
                    for (f, v) in h {
                        w.string(f);
                        w.string(v);
                    }
                }
                Value::ZSet(z) => {
                    w.len(z.len() as u64);
                    // Redis writes the highest score first so loading appends in order.
                    for (m, score) in z.iter().rev() {
                        w.string(m);
                        w.out.extend_from_slice(&score.to_le_bytes());
                    }
                }
            }
        }
    }
    w.out.push(OP_EOF);
    let crc = CRC64.checksum(&w.out);
    w.out.extend_from_slice(&crc.to_le_bytes());
    w.out
}

/// An RDB being written (`pub(super)` for the format's tests, which build files by hand).
pub(super) struct Writer {
    pub(super) out: Vec<u8>,
    compression: bool,
    /// Kept for the whole snapshot: the LZF match table and output buffer.
    lzf: Option<super::lzf::LzfTable>,
    scratch: Vec<u8>,
}

impl Writer {
    pub(super) fn new(compression: bool) -> Writer {
        Writer {
            out: Vec::new(),
            compression,
            lzf: None,
            scratch: Vec::new(),
        }
    }

    fn aux(&mut self, key: &str, value: &[u8]) {
        self.out.push(OP_AUX);
        self.string(key.as_bytes());
        self.string(value);
    }

    pub(super) fn len(&mut self, len: u64) {
        let out = &mut self.out;
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

    /// `rdbSaveRawString`: a canonical integer that fits 32 bits as an integer; with
    /// compression on, a string over 20 bytes as LZF when that saves at least 4 bytes
    /// (`rdbSaveLzfStringObject` gives the compressor a buffer of `len - 4`); anything
    /// else verbatim.
    pub(super) fn string(&mut self, s: &[u8]) {
        if s.len() <= 11 {
            if let Some(v) = crate::engine::resp::parse_i64(s) {
                if let Ok(v8) = i8::try_from(v) {
                    self.out.push(0xC0 | ENC_INT8);
                    self.out.push(v8 as u8);
                    return;
                } else if let Ok(v16) = i16::try_from(v) {
                    self.out.push(0xC0 | ENC_INT16);
                    self.out.extend_from_slice(&v16.to_le_bytes());
                    return;
                } else if let Ok(v32) = i32::try_from(v) {
                    self.out.push(0xC0 | ENC_INT32);
                    self.out.extend_from_slice(&v32.to_le_bytes());
                    return;
                }
            }
        }
        if self.compression && s.len() > 20 {
            // rdbSaveLzfStringObject: compress into len-4 bytes at most; a string that
            // does not fit saves at least nothing worth the encoding and goes out plain.
            self.scratch.clear();
            self.scratch.resize(s.len() - 4, 0);
            let table = self.lzf.get_or_insert_with(Default::default);
            let clen = super::lzf::compress(s, &mut self.scratch, table);
            if clen > 0 {
                self.out.push(0xC0 | ENC_LZF);
                self.len(clen as u64);
                self.len(s.len() as u64);
                let Writer { out, scratch, .. } = self;
                out.extend_from_slice(&scratch[..clen]);
                return;
            }
        }
        self.len(s.len() as u64);
        self.out.extend_from_slice(s);
    }
}
