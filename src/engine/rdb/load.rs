//! RDB version 10, the snapshot format a Redis 7.0 master sends in a full resync.
//!
//! The writer emits what real Redis writes for the same data where that is simple (aux
//! fields in Redis's order, int-encoded and LZF-compressed strings as `rdbSaveRawString`
//! chooses them, expiries, CRC-64) so `redis-check-rdb` and a real redis-server accept it.
//! Collections are written in the plain encodings, which every Redis loads.
//!
//! The reader loads everything a real Redis 7.0 loads that this engine can hold: the
//! plain encodings, the compact ones 7.0 writes (intsets, listpacks, quicklists of
//! listpacks) and the ones older versions wrote (zipmaps, ziplists, quicklists of
//! ziplists, string-encoded scores). It checks every structure as Redis's deep integrity
//! validation does, and fails the way Redis fails: [`load`] also returns the log lines
//! Redis prints while loading, and an error says what Redis does next (see
//! [`RdbErrorKind`]). Every malformed or truncated input is an `RdbError`, never a panic.

use std::collections::{BTreeSet, VecDeque};

use crate::engine::keyspace::{Keyspace, OrderedMap, OrderedSet, SetValue, Value, ZSet};
#[cfg(not(target_arch = "wasm32"))]
use crate::engine::rdb_compact;
use crc::{Crc, CRC_64_REDIS};

pub const RDB_VERSION: u32 = 10;
const CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_REDIS);

const OP_FUNCTION2: u8 = 0xF5;
const OP_FUNCTION_PRE_GA: u8 = 0xF6;
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
const TYPE_ZSET: u8 = 3;
const TYPE_HASH: u8 = 4;
const TYPE_ZSET_2: u8 = 5;
const TYPE_MODULE_PRE_GA: u8 = 6;
const TYPE_MODULE_2: u8 = 7;
const TYPE_HASH_ZIPMAP: u8 = 9;
const TYPE_LIST_ZIPLIST: u8 = 10;
const TYPE_SET_INTSET: u8 = 11;
const TYPE_ZSET_ZIPLIST: u8 = 12;
const TYPE_HASH_ZIPLIST: u8 = 13;
const TYPE_LIST_QUICKLIST: u8 = 14;
const TYPE_STREAM_LISTPACKS: u8 = 15;
const TYPE_HASH_LISTPACK: u8 = 16;
const TYPE_ZSET_LISTPACK: u8 = 17;
const TYPE_LIST_QUICKLIST_2: u8 = 18;
const TYPE_STREAM_LISTPACKS_2: u8 = 19;

/// The most elements reserved up front for a list or set the payload declares (see
/// `Reader::prealloc`).
const PREALLOC_MAX_ELEMENTS: usize = 4096;

/// Redis allocates the expanded length an LZF string declares before it decompresses:
/// that fails (and the load ends like a short read) only for a length beyond the address
/// space (x86-64: 128 TiB); a smaller absurd length is mapped lazily, and the
/// decompression then reports "Invalid LZF compressed string". Seen with redis-server
/// 7.0.15: 2^62 bytes is a short read, 2^40 an invalid string.
const ADDRESS_SPACE_BYTES: u64 = 1 << 47;

const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2).
#[cfg(not(target_arch = "wasm32"))]
const QUICKLIST_NODE_PLAIN: u64 = 1;
#[cfg(not(target_arch = "wasm32"))]
const QUICKLIST_NODE_PACKED: u64 = 2;

/// Redis 7.0 defaults that decide how a loaded collection is encoded.
const SET_MAX_INTSET_ENTRIES: usize = 512;
const HASH_MAX_LISTPACK_ENTRIES: u64 = 128;
const HASH_MAX_LISTPACK_VALUE: usize = 64;

/// `loading-process-events-interval-bytes`: how often, in bytes read, Redis updates the
/// loading progress (the "offset" its corruption report names).
const LOADING_PROGRESS_INTERVAL: u64 = 2 * 1024 * 1024;

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

/// What Redis does when loading fails this way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdbErrorKind {
    /// Not an RDB file Redis can read at all (signature, version): `rdbLoad` fails with
    /// EINVAL and the caller carries on (a replica retries the sync).
    Invalid,
    /// Corrupt or truncated content, reported by `rdbReportCorruptRDB` /
    /// `rdbReportReadError`: a server loading a file (the snapshot a replica received to
    /// disk, too) logs the report, runs redis-check-rdb on the file and exits.
    Corrupt,
    /// Content Redis refuses by exiting at once, without the report (more databases than
    /// configured, module AUX data without its module, a duplicated key).
    Fatal,
    /// Valid for Redis 7.0, but holding what this engine does not model (streams,
    /// functions). Loading cannot go on; like Redis facing data it cannot load, the server
    /// stops.
    Unsupported,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    pub kind: RdbErrorKind,
    /// The reason, in Redis's words where Redis has words for it.
    pub reason: String,
    /// The lines Redis logs for this failure, in order.
    pub log: Vec<String>,
}

impl std::fmt::Display for RdbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for RdbError {}

// ============================================================================ writer

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

struct Writer {
    out: Vec<u8>,
    compression: bool,
    /// Kept for the whole snapshot: the LZF match table and output buffer.
    lzf: Option<crate::engine::rdb_lzf::LzfTable>,
    scratch: Vec<u8>,
}

impl Writer {
    fn new(compression: bool) -> Writer {
        Writer {
            out: Vec::new(),
            compression,
            lzf: None,
            scratch: Vec::new(),
        }
    }
}

impl Writer {
    fn aux(&mut self, key: &str, value: &[u8]) {
        self.out.push(OP_AUX);
        self.string(key.as_bytes());
        self.string(value);
    }

    fn len(&mut self, len: u64) {
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
    fn string(&mut self, s: &[u8]) {
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
            let clen = crate::engine::rdb_lzf::compress(s, &mut self.scratch, table);
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

// ============================================================================ reader

/// A key as loaded: name, value and absolute expiry.
type LoadedKey = (Vec<u8>, Value, Option<u64>);

/// Keys of each database collected while they arrive in strictly ascending order (as our
/// own snapshots list them), then built into the database's ordered map in one pass:
/// inserting a million keys one by one compared keys along a tree path for each, and that
/// was most of a full resync's load. Strictly ascending keys cannot repeat, so nothing is
/// lost: the first key out of order moves the run into the map, and from then on each key
/// is inserted with the duplicate check, as before (snapshots from real Redis list keys in
/// hash order and take that path).
// Indexed by database number (at most `databases`, 16 by default): plain vectors rather
// than ordered maps keep the page's bundle free of two more B-tree instantiations.
#[derive(Default)]
struct SortedRuns {
    /// The run of each database still arriving in order (`None`: none yet, or unordered).
    runs: Vec<Option<Vec<LoadedKey>>>,
    /// Databases whose keys stopped arriving in order.
    unordered: Vec<bool>,
}

impl SortedRuns {
    fn insert(
        &mut self,
        keyspace: &mut Keyspace,
        db: usize,
        key: Vec<u8>,
        value: Value,
        expiry: Option<u64>,
    ) -> Result<(), Vec<u8>> {
        if self.runs.len() <= db {
            self.runs.resize_with(db + 1, || None);
            self.unordered.resize(db + 1, false);
        }
        if !self.unordered[db] {
            let run = self.runs[db].get_or_insert_with(Vec::new);
            if run.last().is_none_or(|(last, _, _)| key > *last) {
                run.push((key, value, expiry));
                return Ok(());
            }
            self.unordered[db] = true;
            let run = self.runs[db].take().unwrap_or_default();
            keyspace.load_sorted(db, run);
        }
        keyspace.insert_new(db, key, value, expiry)
    }

    fn finish(&mut self, keyspace: &mut Keyspace) {
        for (db, run) in std::mem::take(&mut self.runs).into_iter().enumerate() {
            if let Some(run) = run {
                keyspace.load_sorted(db, run);
            }
        }
    }
}

/// A loaded snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub keyspace: Keyspace,
    pub aux: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Parses a whole RDB file (see [`load`]), without the log.
pub fn read(data: &[u8]) -> Result<Loaded, RdbError> {
    load(data, 0).1
}

/// Loads a whole RDB file as a replica loads its master's snapshot (`rdbLoad` with
/// RDBFLAGS_REPLICATION). Keys whose expiry time has passed are still loaded: on a
/// replica the master decides when keys die (and sends DEL). Returns the lines Redis
/// logs while loading (`now_ms` dates the "RDB age"), up to "Done loading RDB" when it
/// succeeds; when it fails, the error's own lines follow them.
pub fn load(data: &[u8], now_ms: u64) -> (Vec<String>, Result<Loaded, RdbError>) {
    let mut loader = Loader {
        r: Reader {
            data,
            pos: 0,
            loaded_bytes: 0,
        },
        log: Vec::new(),
        now_ms,
    };
    let result = loader.run();
    (loader.log, result)
}

struct Loader<'a> {
    r: Reader<'a>,
    log: Vec<String>,
    now_ms: u64,
}

impl Loader<'_> {
    fn run(&mut self) -> Result<Loaded, RdbError> {
        let r = &mut self.r;
        let magic = r.take(9)?;
        if &magic[..5] != b"REDIS" {
            return Err(invalid("Wrong signature trying to load DB from file"));
        }
        let version = c_atoi(&magic[5..]);
        if !(1..=RDB_VERSION as i64).contains(&version) {
            return Err(invalid(format!(
                "Can't handle RDB format version {version}"
            )));
        }
        let mut keyspace = Keyspace::default();
        let mut runs = SortedRuns::default();
        let mut aux = Vec::new();
        let mut db = 0usize;
        let mut expires_at: Option<u64> = None;
        let (mut keys_loaded, mut empty_keys_skipped) = (0u64, 0u64);
        loop {
            let r = &mut self.r;
            let op = r.byte()?;
            match op {
                OP_EXPIRETIME => {
                    let secs = i32::from_le_bytes(r.array()?);
                    expires_at = Some((secs as i64 * 1000).max(0) as u64);
                }
                OP_EXPIRETIME_MS => expires_at = Some(i64::from_le_bytes(r.array()?).max(0) as u64),
                OP_FREQ => {
                    r.byte()?;
                }
                OP_IDLE => {
                    r.len()?;
                }
                OP_EOF => break,
                OP_SELECTDB => {
                    let n = r.len()?;
                    if n >= keyspace.dbs.len() as u64 {
                        let databases = keyspace.dbs.len();
                        return Err(fatal(
                            format!("Data file was created with a Redis server configured to handle more than {databases} databases"),
                            vec![format!("FATAL: Data file was created with a Redis server configured to handle more than {databases} databases. Exiting")],
                        ));
                    }
                    db = n as usize;
                }
                OP_RESIZEDB => {
                    r.len()?;
                    r.len()?;
                }
                OP_AUX => {
                    let k = r.string()?;
                    let v = r.string()?;
                    self.log_aux(&k, &v);
                    aux.push((k, v));
                }
                OP_MODULE_AUX => {
                    let module_id = r.len()?;
                    let when_opcode = r.len()?;
                    r.len()?;
                    if when_opcode != 2 {
                        return Err(r.corrupt(3057, "bad when_opcode"));
                    }
                    let name = module_type_name(module_id);
                    let line =
                        format!("The RDB file contains AUX module data I can't load: no matching module '{name}'");
                    return Err(fatal(line.clone(), vec![line]));
                }
                OP_FUNCTION2 | OP_FUNCTION_PRE_GA => {
                    return Err(unsupported(
                        "the RDB holds a function library: functions are not supported by replscope",
                    ));
                }
                _ => {
                    let key = r.string()?;
                    let value = r.object(op, &key)?;
                    let expiry = expires_at.take();
                    let Some(value) = value else {
                        // Redis once had a bug that could save empty keys (#8453): it skips
                        // them rather than failing, and so do we. No key holds an empty
                        // collection.
                        empty_keys_skipped += 1;
                        if empty_keys_skipped <= 10 {
                            self.log.push(format!(
                                "rdbLoadObject skipping empty key: {}",
                                c_text(&key)
                            ));
                        }
                        continue;
                    };
                    if let Err(key) = runs.insert(&mut keyspace, db, key, value, expiry) {
                        let reason = "Duplicated key found in RDB file";
                        return Err(fatal(
                            reason,
                            vec![
                                format!("RDB has duplicated key '{}' in DB {db}", c_text(&key)),
                                format!("Guru Meditation: {reason} #rdb.c:3175"),
                            ],
                        ));
                    }
                    keys_loaded += 1;
                }
            }
        }
        runs.finish(&mut keyspace);
        if version >= 5 {
            let expected = CRC64.checksum(&self.r.data[..self.r.pos]);
            let stored = u64::from_le_bytes(self.r.array()?);
            if stored == 0 {
                self.log
                    .push("RDB file was saved with checksum disabled: no check performed.".into());
            } else if stored != expected {
                let mut err = self.r.corrupt(3216, "RDB CRC error");
                err.log.insert(
                    0,
                    format!("Wrong RDB checksum expected: ({expected:x}) but got ({stored:x}). Aborting now."),
                );
                return Err(err);
            }
        }
        self.log.push(if empty_keys_skipped > 0 {
            format!("Done loading RDB, keys loaded: {keys_loaded}, keys expired: 0, empty keys skipped: {empty_keys_skipped}.")
        } else {
            format!("Done loading RDB, keys loaded: {keys_loaded}, keys expired: 0.")
        });
        Ok(Loaded { keyspace, aux })
    }

    /// What Redis logs about the aux fields it knows (and nothing about the others).
    fn log_aux(&mut self, key: &[u8], value: &[u8]) {
        let text = c_text(value);
        let line = match key.to_ascii_lowercase().as_slice() {
            k if k.first() == Some(&b'%') => format!("RDB '{}': {text}", c_text(key)),
            b"redis-ver" => format!("Loading RDB produced by version {text}"),
            b"ctime" => {
                let age = (self.now_ms / 1000) as i64 - c_strtoll(value);
                format!("RDB age {} seconds", age.max(0))
            }
            b"used-mem" => {
                format!(
                    "RDB memory usage when created {:.2} Mb",
                    c_strtoll(value) as f64 / (1024.0 * 1024.0)
                )
            }
            b"aof-preamble" if c_strtoll(value) != 0 => "RDB has an AOF tail".into(),
            b"aof-base" if c_strtoll(value) != 0 => "RDB is base AOF".into(),
            _ => return,
        };
        self.log.push(line);
    }
}

fn invalid(reason: impl Into<String>) -> RdbError {
    let reason = reason.into();
    RdbError {
        kind: RdbErrorKind::Invalid,
        log: vec![reason.clone()],
        reason,
    }
}

fn fatal(reason: impl Into<String>, log: Vec<String>) -> RdbError {
    RdbError {
        kind: RdbErrorKind::Fatal,
        reason: reason.into(),
        log,
    }
}

fn unsupported(reason: impl Into<String>) -> RdbError {
    let reason = reason.into();
    RdbError {
        kind: RdbErrorKind::Unsupported,
        log: vec![format!("Can't load the RDB: {reason}")],
        reason,
    }
}

/// What `%s` prints of a byte string: up to its first NUL.
fn c_text(s: &[u8]) -> String {
    let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
    String::from_utf8_lossy(&s[..end]).into_owned()
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

/// C's `atoi` on the four version digits of the signature.
fn c_atoi(s: &[u8]) -> i64 {
    let s = &s[..s.iter().position(|&b| b == 0).unwrap_or(s.len())];
    c_strtoll(s)
}

/// `moduleTypeNameByID`: the nine-character name encoded in a module type id.
fn module_type_name(module_id: u64) -> String {
    const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = module_id >> 10;
    let mut name = [0u8; 9];
    for slot in name.iter_mut().rev() {
        *slot = CHARSET[(id & 63) as usize];
        id >>= 6;
    }
    String::from_utf8_lossy(&name).into_owned()
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Redis's `loading_loaded_bytes`: where reading was when it last crossed a multiple of
    /// the progress interval.
    loaded_bytes: u64,
}

enum Len {
    Plain(u64),
    Encoded(u8),
}

impl<'a> Reader<'a> {
    /// `rdbReportCorruptRDB` / `rdbReportReadError`: the report Redis logs before it runs
    /// redis-check-rdb and exits. `line` is the reporting line of rdb.c in Redis 7.0.15.
    fn corrupt(&self, line: u32, reason: impl Into<String>) -> RdbError {
        let reason = reason.into();
        let report = format!(
            "Internal error in RDB reading offset {}, function at rdb.c:{line} -> {reason}",
            self.loaded_bytes
        );
        RdbError {
            kind: RdbErrorKind::Corrupt,
            log: vec![report],
            reason,
        }
    }

    /// The `eoferr` exit of `rdbLoadRio`: a read came short, or a value could not be
    /// loaded without a report of its own.
    fn eof(&self) -> RdbError {
        let mut err = self.corrupt(3240, "Unexpected EOF reading RDB file");
        err.log.insert(
            0,
            "Short read or OOM loading DB. Unrecoverable error, aborting now.".into(),
        );
        err
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RdbError> {
        if self.data.len() - self.pos < n {
            return Err(self.eof());
        }
        // rioRead reads in chunks of at most the interval and updates the progress when a
        // chunk crosses a multiple of it.
        let (mut at, end) = (self.pos as u64, (self.pos + n) as u64);
        while at < end {
            let chunk = (end - at).min(LOADING_PROGRESS_INTERVAL);
            if (at + chunk) / LOADING_PROGRESS_INTERVAL > at / LOADING_PROGRESS_INTERVAL {
                self.loaded_bytes = at;
            }
            at += chunk;
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// An empty buffer with room for `len` bytes of a string the payload declares, or
    /// Redis's report when that memory cannot be had (`ztrymalloc` returned NULL: the
    /// load ends like a short read) instead of aborting the process. Redis's own line
    /// ("rdbLoadLzfStringObject failed allocating N bytes") is logged at verbose level
    /// while a replica loads, so the default log does not show it.
    fn try_alloc(&self, len: usize) -> Result<Vec<u8>, RdbError> {
        let mut out = Vec::new();
        out.try_reserve_exact(len).map_err(|_| self.eof())?;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn byte(&mut self) -> Result<u8, RdbError> {
        Ok(self.take(1)?[0])
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Room to reserve for `n` declared elements. Each takes at least a byte of what is
    /// left, but a slot costs more than a byte (24 for a string's handle), so a count the
    /// payload only pretends to hold would still reserve many times the payload: past
    /// [`PREALLOC_MAX_ELEMENTS`] the collection grows as its elements actually arrive.
    fn prealloc(&self, n: u64) -> usize {
        usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(self.remaining())
            .min(PREALLOC_MAX_ELEMENTS)
    }

    /// `rdbLoadLen`: where a length is expected, a special-encoding byte just reads as its
    /// low six bits, as in Redis.
    fn len(&mut self) -> Result<u64, RdbError> {
        Ok(match self.len_or_encoding()? {
            Len::Plain(n) => n,
            Len::Encoded(e) => e as u64,
        })
    }

    fn len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => Len::Plain((b & 0x3F) as u64),
            1 => Len::Plain((((b & 0x3F) as u64) << 8) | self.byte()? as u64),
            2 => match b {
                0x80 => Len::Plain(u32::from_be_bytes(self.array()?) as u64),
                0x81 => Len::Plain(u64::from_be_bytes(self.array()?)),
                _ => return Err(self.corrupt(236, "Unknown length encoding 2 in rdbLoadLen()")),
            },
            _ => Len::Encoded(b & 0x3F),
        })
    }

    /// `rdbGenericLoadStringObject`.
    fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => {
                let n = usize::try_from(n).map_err(|_| self.eof())?;
                let bytes = self.take(n)?;
                let mut out = self.try_alloc(bytes.len())?;
                out.extend_from_slice(bytes);
                Ok(out)
            }
            Len::Encoded(ENC_INT8) => Ok((self.byte()? as i8).to_string().into_bytes()),
            Len::Encoded(ENC_INT16) => {
                Ok(i16::from_le_bytes(self.array()?).to_string().into_bytes())
            }
            Len::Encoded(ENC_INT32) => {
                Ok(i32::from_le_bytes(self.array()?).to_string().into_bytes())
            }
            Len::Encoded(ENC_LZF) => {
                let clen = self.len()?;
                let len = self.len()?;
                let compressed = self.take(usize::try_from(clen).map_err(|_| self.eof())?)?;
                // The compressed bytes say exactly how long they expand: a declared length
                // that differs is corrupt (lzf_decompress would not return it), and is refused
                // before anything is allocated for it. A genuine expansion (at most 88 times
                // the compressed bytes) is all that is ever allocated.
                let bad = |r: &Self| r.corrupt(413, "Invalid LZF compressed string");
                if len >= ADDRESS_SPACE_BYTES {
                    return Err(self.eof()); // Redis's allocation for it fails
                }
                if crate::engine::rdb_lzf::decompressed_len(compressed) != Some(len) {
                    return Err(bad(self));
                }
                if clen == 0 {
                    return Ok(Vec::new()); // len is 0 too: nothing to decompress
                }
                let mut out = self.try_alloc(len as usize)?;
                out.resize(len as usize, 0);
                match lzf_rust::decompress(compressed, &mut out) {
                    Ok(n) if n as u64 == len => Ok(out),
                    _ => Err(bad(self)),
                }
            }
            Len::Encoded(e) => {
                Err(self.corrupt(529, format!("Unknown RDB string encoding type {e}")))
            }
        }
    }

    /// The compact encodings (quicklist, ziplist, zipmap, intset, listpack) that a real
    /// Redis writes and replscope-server reads from it. The page never meets them: every
    /// RDB there comes from replscope's own writer, which uses the plain encodings, so the
    /// browser build leaves this reader out (it is the largest part of the loader).
    #[cfg(not(target_arch = "wasm32"))]
    fn compact_object(&mut self, type_byte: u8) -> Result<Value, RdbError> {
        let value = match type_byte {
            TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
                let nodes = self.len()?;
                let mut items = VecDeque::new();
                for _ in 0..nodes {
                    let mut container = QUICKLIST_NODE_PACKED;
                    if type_byte == TYPE_LIST_QUICKLIST_2 {
                        container = self.len()?;
                        if container != QUICKLIST_NODE_PACKED && container != QUICKLIST_NODE_PLAIN {
                            return Err(self.corrupt(2047, "Quicklist integrity check failed."));
                        }
                    }
                    let blob = self.string()?;
                    if blob.is_empty() {
                        return Err(self.eof());
                    }
                    if container == QUICKLIST_NODE_PLAIN {
                        // A PLAIN node is one big element, stored as is.
                        items.push_back(blob);
                    } else if type_byte == TYPE_LIST_QUICKLIST_2 {
                        let entries = rdb_compact::listpack_entries(&blob).ok_or_else(|| {
                            self.corrupt(2070, "Listpack integrity check failed.")
                        })?;
                        items.extend(entries);
                    } else {
                        let entries = rdb_compact::ziplist_entries(&blob)
                            .ok_or_else(|| self.corrupt(2080, "Ziplist integrity check failed."))?;
                        items.extend(entries);
                    }
                }
                Value::List(items)
            }
            TYPE_HASH_ZIPMAP => {
                let blob = self.string()?;
                let pairs = rdb_compact::zipmap_pairs(&blob)
                    .ok_or_else(|| self.corrupt(2129, "Zipmap integrity check failed."))?;
                let mut h = OrderedMap::default();
                for (f, v) in pairs {
                    if h.contains_key(&f) {
                        let reason =
                            format!("Hash zipmap with dup elements, or big length ({})", f.len());
                        return Err(self.corrupt(2153, reason));
                    }
                    h.insert(f, v);
                }
                Value::Hash(h)
            }
            TYPE_LIST_ZIPLIST => {
                let blob = self.string()?;
                let entries = rdb_compact::ziplist_entries(&blob)
                    .ok_or_else(|| self.corrupt(2187, "List ziplist integrity check failed."))?;
                Value::List(entries.into_iter().collect())
            }
            TYPE_SET_INTSET => {
                let blob = self.string()?;
                let members = rdb_compact::intset_members(&blob)
                    .ok_or_else(|| self.corrupt(2212, "Intset integrity check failed."))?;
                Value::Set(set_from_members(
                    members.iter().map(|m| m.to_string().into_bytes()).collect(),
                ))
            }
            TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
                let (line, what) = if type_byte == TYPE_ZSET_ZIPLIST {
                    (2227, "Zset ziplist integrity check failed.")
                } else {
                    (2253, "Zset listpack integrity check failed.")
                };
                let blob = self.string()?;
                let entries = if type_byte == TYPE_ZSET_ZIPLIST {
                    rdb_compact::ziplist_entries(&blob)
                } else {
                    rdb_compact::listpack_entries(&blob)
                };
                let pairs = entries
                    .and_then(unique_pairs)
                    .ok_or_else(|| self.corrupt(line, what))?;
                let mut z = ZSet::default();
                for (member, score) in pairs {
                    // zzlStrtod: a packed score is d2string's text (or an integer). Redis
                    // does not look for NaN here; a sorted set here cannot hold one.
                    let score = crate::engine::command::parse_listpack_score(&score);
                    if score.is_nan() {
                        return Err(self.corrupt(line, what));
                    }
                    z.insert(member, score);
                }
                // Only a hand-made blob holds the text "-0": Redis itself writes 0.
                normalize_listpack_zero(&mut z);
                Value::ZSet(z)
            }
            TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
                let (line, what) = if type_byte == TYPE_HASH_ZIPLIST {
                    (2273, "Hash ziplist integrity check failed.")
                } else {
                    (2299, "Hash listpack integrity check failed.")
                };
                let blob = self.string()?;
                let entries = if type_byte == TYPE_HASH_ZIPLIST {
                    rdb_compact::ziplist_entries(&blob)
                } else {
                    rdb_compact::listpack_entries(&blob)
                };
                let pairs = entries
                    .and_then(unique_pairs)
                    .ok_or_else(|| self.corrupt(line, what))?;
                Value::Hash(pairs.into_iter().collect())
            }
            other => unreachable!("not a compact encoding: {other}"),
        };
        Ok(value)
    }

    #[cfg(target_arch = "wasm32")]
    fn compact_object(&mut self, type_byte: u8) -> Result<Value, RdbError> {
        Err(unsupported(format!(
            "RDB object type {type_byte} (a compact encoding real Redis writes) is not read in the browser build; \
             the playground's servers write plain encodings"
        )))
    }

    /// `rdbLoadObject`: the value of type `type_byte`; `None` for an empty collection
    /// (Redis's RDB_LOAD_ERR_EMPTY_KEY).
    fn object(&mut self, type_byte: u8, key: &[u8]) -> Result<Option<Value>, RdbError> {
        let value = match type_byte {
            TYPE_STRING => Value::String(self.string()?),
            TYPE_LIST => {
                let n = self.len()?;
                let mut items = VecDeque::with_capacity(self.prealloc(n));
                for _ in 0..n {
                    items.push_back(self.string()?);
                }
                Value::List(items)
            }
            TYPE_SET => self.set()?,
            TYPE_ZSET | TYPE_ZSET_2 => self.zset(type_byte == TYPE_ZSET_2)?,
            TYPE_HASH => self.hash()?,
            TYPE_LIST_QUICKLIST
            | TYPE_LIST_QUICKLIST_2
            | TYPE_HASH_ZIPMAP
            | TYPE_LIST_ZIPLIST
            | TYPE_SET_INTSET
            | TYPE_ZSET_ZIPLIST
            | TYPE_ZSET_LISTPACK
            | TYPE_HASH_ZIPLIST
            | TYPE_HASH_LISTPACK => self.compact_object(type_byte)?,
            TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
                let module_id = self
                    .len()
                    .map_err(|_| self.corrupt(2613, "Short read module id"))?;
                let name = module_type_name(module_id);
                return Err(self.corrupt(
                    2627,
                    format!("The RDB file contains module data I can't load: no matching module type '{name}'"),
                ));
            }
            TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 => {
                return Err(unsupported(format!(
                    "stream keys are not supported by replscope (key '{}')",
                    c_text(key)
                )));
            }
            other => return Err(self.corrupt(2672, format!("Unknown RDB encoding type {other}"))),
        };
        Ok((!value.is_empty_collection()).then_some(value))
    }

    /// RDB_TYPE_SET. Redis fills an intset while the members are integers and there are
    /// at most `set-max-intset-entries` of them, a hash table otherwise; either refuses a
    /// member twice.
    fn set(&mut self) -> Result<Value, RdbError> {
        let n = self.len()?;
        let mut intset = n <= SET_MAX_INTSET_ENTRIES as u64;
        let mut seen = OrderedSet::default();
        let mut members = Vec::with_capacity(self.prealloc(n));
        for _ in 0..n {
            let m = self.string()?;
            if intset && crate::engine::resp::parse_i64(&m).is_none() {
                intset = false;
            }
            if !seen.insert(m.clone()) {
                return Err(self.corrupt(
                    if intset { 1808 } else { 1828 },
                    "Duplicate set members detected",
                ));
            }
            members.push(m);
        }
        Ok(Value::Set(set_from_members(members)))
    }

    /// RDB_TYPE_ZSET (scores as text) and RDB_TYPE_ZSET_2 (scores as binary doubles).
    fn zset(&mut self, binary: bool) -> Result<Value, RdbError> {
        let n = self.len()?;
        let mut z = ZSet::default();
        for _ in 0..n {
            let member = self.string()?;
            let score = if binary {
                f64::from_le_bytes(self.array()?)
            } else {
                self.text_double()?
            };
            if score.is_nan() {
                return Err(self.corrupt(1881, "Zset with NAN score detected"));
            }
            if z.score(&member).is_some() {
                return Err(self.corrupt(1893, "Duplicate zset fields detected"));
            }
            z.insert(member, score);
        }
        normalize_listpack_zero(&mut z);
        Ok(Value::ZSet(z))
    }

    /// `rdbLoadDoubleValue`: a length byte (253 NaN, 254 +inf, 255 -inf) then that many
    /// bytes of text, read with `sscanf("%lg")`. Text that is no number fails the load
    /// like a short read.
    fn text_double(&mut self) -> Result<f64, RdbError> {
        Ok(match self.byte()? {
            255 => f64::NEG_INFINITY,
            254 => f64::INFINITY,
            253 => f64::NAN,
            len => {
                let text = self.take(len as usize)?;
                crate::engine::command::scan_double(text).ok_or_else(|| self.eof())?
            }
        })
    }

    /// RDB_TYPE_HASH. Redis fills a listpack while there are at most
    /// `hash-max-listpack-entries` pairs and no field or value is longer than
    /// `hash-max-listpack-value`, a hash table after that; a repeated field is corruption
    /// either way (in the listpack phase, as its deep integrity check reports it).
    fn hash(&mut self) -> Result<Value, RdbError> {
        let n = self.len()?;
        let mut listpack = n <= HASH_MAX_LISTPACK_ENTRIES;
        let mut h = OrderedMap::default();
        for _ in 0..n {
            let field = self.string()?;
            let value = self.string()?;
            if h.contains_key(&field) {
                let (line, reason) = if listpack {
                    (1950, "Hash with dup elements")
                } else {
                    (2018, "Duplicate hash fields detected")
                };
                return Err(self.corrupt(line, reason));
            }
            if field.len() > HASH_MAX_LISTPACK_VALUE || value.len() > HASH_MAX_LISTPACK_VALUE {
                listpack = false;
            }
            h.insert(field, value);
        }
        Ok(Value::Hash(h))
    }
}

/// Field/value (or member/score) pairs of a packed blob: an even number of entries, no
/// field twice.
#[cfg(not(target_arch = "wasm32"))]
fn unique_pairs(entries: Vec<Vec<u8>>) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !entries.len().is_multiple_of(2) {
        return None;
    }
    let mut seen = OrderedSet::default();
    let mut pairs = Vec::with_capacity(entries.len() / 2);
    let mut it = entries.into_iter();
    while let (Some(f), Some(v)) = (it.next(), it.next()) {
        if !seen.insert(f.clone()) {
            return None;
        }
        pairs.push((f, v));
    }
    Some(pairs)
}

/// Redis converts a loaded sorted set that fits in a listpack into one, and a listpack
/// stores an integral score as an integer: a -0 comes back as 0.
fn normalize_listpack_zero(z: &mut ZSet) {
    if z.is_skiplist() {
        return;
    }
    let negative_zeros: Vec<Vec<u8>> = z
        .iter()
        .filter(|(_, s)| *s == 0.0 && s.is_sign_negative())
        .map(|(m, _)| m.to_vec())
        .collect();
    for m in negative_zeros {
        z.insert(m, 0.0);
    }
}

/// Redis loads a small all-integer set as an intset (numeric order), anything else as a
/// hash table.
pub fn set_from_members(members: Vec<Vec<u8>>) -> SetValue {
    if members.len() <= SET_MAX_INTSET_ENTRIES {
        // Inserted one by one: collecting into the set would sort first, one more sort
        // instantiation in the page's bundle for a set of at most 512 integers.
        let mut ints = BTreeSet::new();
        let all_ints = members
            .iter()
            .all(|m| match crate::engine::resp::parse_i64(m) {
                Some(i) => {
                    ints.insert(i);
                    true
                }
                None => false,
            });
        if all_ints {
            return SetValue::Ints(ints);
        }
    }
    SetValue::Members(members.into_iter().collect::<OrderedSet>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rdb_compact::build;

    fn meta() -> SnapshotMeta<'static> {
        SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 0,
            used_mem: 0,
            repl: None,
        }
    }

    /// A whole RDB v10 file around `body` (opcodes and keys after the header).
    fn file(body: &[u8]) -> Vec<u8> {
        let mut out = b"REDIS0010".to_vec();
        out.extend_from_slice(body);
        out.push(OP_EOF);
        let crc = CRC64.checksum(&out);
        out.extend(crc.to_le_bytes());
        out
    }

    /// A plain RDB string (length-prefixed, no special encoding).
    fn raw(s: &[u8]) -> Vec<u8> {
        let mut w = Writer::new(false);
        w.len(s.len() as u64);
        w.out.extend_from_slice(s);
        w.out
    }

    /// One key in db 0: type byte, key, then the value's bytes.
    fn key(type_byte: u8, name: &[u8], value: &[u8]) -> Vec<u8> {
        [&[type_byte][..], &raw(name), value].concat()
    }

    fn loaded(body: &[u8]) -> Keyspace {
        match read(&file(body)) {
            Ok(l) => l.keyspace,
            Err(e) => panic!("load failed: {e} ({:?})", e.log),
        }
    }

    fn value(ks: &Keyspace, name: &[u8]) -> Value {
        ks.dbs[0]
            .entries
            .get(name)
            .unwrap_or_else(|| panic!("no key {name:?}"))
            .value
            .clone()
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| s.as_bytes().to_vec()).collect())
    }

    fn hash(pairs: &[(&str, &str)]) -> Value {
        Value::Hash(
            pairs
                .iter()
                .map(|(f, v)| (f.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
        )
    }

    fn zset(pairs: &[(&str, f64)]) -> Value {
        let mut z = ZSet::default();
        for (m, s) in pairs {
            z.insert(m.as_bytes().to_vec(), *s);
        }
        Value::ZSet(z)
    }

    fn corrupt_reason(body: &[u8]) -> String {
        let err = read(&file(body)).expect_err("must not load");
        assert_eq!(err.kind, RdbErrorKind::Corrupt, "{err:?}");
        err.reason
    }

    #[test]
    fn crc64_is_the_redis_variant() {
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn round_trips_strings_with_expiry_and_dbs() {
        let mut ks = Keyspace::default();
        ks.set(0, b"k".to_vec(), Value::String(b"v".to_vec()), None);
        ks.set(
            0,
            b"n".to_vec(),
            Value::String(b"12345".to_vec()),
            Some(1_900_000_000_000),
        );
        ks.set(3, b"neg".to_vec(), Value::String(b"-70000".to_vec()), None);
        ks.set(3, b"big".to_vec(), Value::String(vec![b'x'; 20_000]), None);
        ks.set(
            3,
            b"incompressible".to_vec(),
            Value::String((0..=255u8).collect()),
            None,
        );
        ks.set(1, b"list".to_vec(), list(&["a", "12"]), None);
        ks.set(
            1,
            b"ints".to_vec(),
            Value::Set(set_from_members(vec![b"3".to_vec(), b"-1".to_vec()])),
            None,
        );
        ks.set(
            1,
            b"names".to_vec(),
            Value::Set(set_from_members(vec![b"x".to_vec(), b"1".to_vec()])),
            None,
        );
        ks.set(
            1,
            b"hash".to_vec(),
            hash(&[("f2", "v"), ("f1", "")]),
            Some(7),
        );
        ks.set(
            1,
            b"zset".to_vec(),
            zset(&[("b", 1.5), ("a", 1.5), ("c", -0.25)]),
            None,
        );
        let meta = SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 1,
            used_mem: 1,
            repl: Some(ReplInfo {
                stream_db: 0,
                replid: "a".repeat(40),
                offset: 7,
            }),
        };
        for compression in [true, false] {
            let bytes = write_with(&ks, &meta, 0, compression);
            let loaded = read(&bytes).unwrap();
            assert_eq!(loaded.keyspace, ks);
            assert!(loaded
                .aux
                .contains(&(b"repl-offset".to_vec(), b"7".to_vec())));
        }
    }

    proptest::proptest! {
        /// Every string, whatever its bytes, survives compression: written with
        /// `rdbcompression yes` and read back unchanged (a compressor once panicked on
        /// strings the scenario sweep produced).
        #[test]
        fn any_string_round_trips_through_lzf(
            alphabet in 1u8..=255,
            seed in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096),
        ) {
            let s: Vec<u8> = seed.iter().map(|b| b % alphabet).collect();
            let mut ks = Keyspace::default();
            ks.set(0, b"s".to_vec(), Value::String(s), None);
            let bytes = write_with(&ks, &meta(), 0, true);
            proptest::prop_assert_eq!(read(&bytes).unwrap().keyspace, ks);
        }
    }

    #[test]
    fn aux_fields_in_redis_order() {
        let meta = SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 1_700_000_000,
            used_mem: 1_048_576,
            repl: Some(ReplInfo {
                stream_db: 0,
                replid: "b".repeat(40),
                offset: 99,
            }),
        };
        let (log, loaded) = load(&write(&Keyspace::default(), &meta, 0), 1_700_000_005_000);
        let keys: Vec<&[u8]> = loaded
            .as_ref()
            .unwrap()
            .aux
            .iter()
            .map(|(k, _)| k.as_slice())
            .collect();
        let want: Vec<&[u8]> = vec![
            b"redis-ver",
            b"redis-bits",
            b"ctime",
            b"used-mem",
            b"repl-stream-db",
            b"repl-id",
            b"repl-offset",
            b"aof-base",
        ];
        assert_eq!(keys, want);
        assert_eq!(
            log,
            vec![
                "Loading RDB produced by version 7.0.15",
                "RDB age 5 seconds",
                "RDB memory usage when created 1.00 Mb",
                "Done loading RDB, keys loaded: 0, keys expired: 0."
            ]
        );
    }

    #[test]
    fn strings_compress_like_rdb_save_raw_string() {
        let compressible = vec![b'a'; 21];
        let mut w = Writer::new(true);
        w.string(&compressible);
        assert_eq!(w.out[0], 0xC3, "over 20 bytes and compressible: LZF");
        let mut w = Writer::new(true);
        w.string(&compressible[..20]);
        assert_eq!(w.out[0], 20, "20 bytes are never compressed");
        let mut w = Writer::new(false);
        w.string(&compressible);
        assert_eq!(w.out[0], 21, "rdbcompression no");
        // Compression must save at least 4 bytes: random-looking text is kept verbatim.
        let noise: Vec<u8> = (0..200u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut w = Writer::new(true);
        w.string(&noise);
        assert_eq!(&w.out[..2], &[0x40, 200]);
        // Integers that fit 32 bits are integers; longer ones and non-canonical forms are text.
        for (s, first) in [
            ("-1", 0xC0),
            ("300", 0xC1),
            ("-2147483648", 0xC2),
            ("2147483648", 10),
            ("007", 3),
            ("-0", 2),
        ] {
            let mut w = Writer::new(true);
            w.string(s.as_bytes());
            assert_eq!(w.out[0], first, "{s}");
        }
    }

    #[test]
    fn lzf_strings_from_the_file_are_checked() {
        // "abcabcabc": literal "abc", then a back-reference of length 6 at distance 3.
        let lzf = |clen: u8, len: u8, data: &[u8]| [&[0xC3, clen, len][..], data].concat();
        let ok = loaded(&key(
            TYPE_STRING,
            b"s",
            &lzf(6, 9, &[2, b'a', b'b', b'c', 4 << 5, 2]),
        ));
        assert_eq!(value(&ok, b"s"), Value::String(b"abcabcabc".to_vec()));
        assert_eq!(
            corrupt_reason(&key(
                TYPE_STRING,
                b"s",
                &lzf(6, 8, &[2, b'a', b'b', b'c', 4 << 5, 2])
            )),
            "Invalid LZF compressed string"
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_STRING, b"s", &lzf(2, 3, &[0x20, 0x05]))),
            "Invalid LZF compressed string"
        );
        // A declared length the input does not expand to is refused before allocating it:
        // as Redis reports it, a short read beyond the address space, an invalid string below.
        let declared =
            |len: u64| [&[0xC3, 2, 0x81][..], &len.to_be_bytes(), &[0x20, 0x05]].concat();
        assert_eq!(
            corrupt_reason(&key(TYPE_STRING, b"s", &declared(u64::MAX))),
            "Unexpected EOF reading RDB file"
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_STRING, b"s", &declared(1 << 40))),
            "Invalid LZF compressed string"
        );
    }

    #[test]
    fn legacy_zset_with_text_scores() {
        // RDB_TYPE_ZSET: each score is a length byte and text, or 254/255 for +/-inf.
        let mut v = vec![5];
        for (m, score) in [
            (&b"a"[..], &b"1.5"[..]),
            (b"b", b"-3"),
            (b"c", b"2.5e1junk"),
            (b"d", b"  0x10"),
        ] {
            v.extend(raw(m));
            v.push(score.len() as u8);
            v.extend_from_slice(score);
        }
        v.extend(raw(b"inf"));
        v.push(254);
        let ks = loaded(
            &[
                key(TYPE_ZSET, b"z", &v),
                key(TYPE_ZSET, b"m", &[1, 1, b'x', 255]),
            ]
            .concat(),
        );
        assert_eq!(
            value(&ks, b"z"),
            zset(&[
                ("a", 1.5),
                ("b", -3.0),
                ("c", 25.0),
                ("d", 16.0),
                ("inf", f64::INFINITY)
            ])
        );
        assert_eq!(value(&ks, b"m"), zset(&[("x", f64::NEG_INFINITY)]));
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET, b"z", &[1, 1, b'x', 253])),
            "Zset with NAN score detected"
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET, b"z", &[1, 1, b'x', 2, b'n', b'o'])),
            "Unexpected EOF reading RDB file"
        );
        let dup = [&[2][..], &raw(b"x"), &[1, b'1'], &raw(b"x"), &[1, b'2']].concat();
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET, b"z", &dup)),
            "Duplicate zset fields detected"
        );
    }

    #[test]
    fn zipmap_hashes() {
        let long = vec![b'v'; 300];
        let blob = build::zipmap(&[(b"f1", b"v1"), (b"f2", &long)], 3);
        let ks = loaded(&key(TYPE_HASH_ZIPMAP, b"h", &raw(&blob)));
        assert_eq!(
            value(&ks, b"h"),
            Value::Hash(
                [(b"f1".to_vec(), b"v1".to_vec()), (b"f2".to_vec(), long)]
                    .into_iter()
                    .collect()
            )
        );
        let dup = build::zipmap(&[(b"f", b"1"), (b"f", b"2")], 0);
        assert_eq!(
            corrupt_reason(&key(TYPE_HASH_ZIPMAP, b"h", &raw(&dup))),
            "Hash zipmap with dup elements, or big length (1)"
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_HASH_ZIPMAP, b"h", &raw(&blob[..blob.len() - 1]))),
            "Zipmap integrity check failed."
        );
    }

    #[test]
    fn ziplist_lists_hashes_and_zsets() {
        let items: [&[u8]; 5] = [b"a", b"12", b"-70000", b"5000000000", b"tail"];
        let ks = loaded(
            &[
                key(TYPE_LIST_ZIPLIST, b"l", &raw(&build::ziplist(&items))),
                key(
                    TYPE_HASH_ZIPLIST,
                    b"h",
                    &raw(&build::ziplist(&[b"f", b"1", b"g", b"two"])),
                ),
                key(
                    TYPE_ZSET_ZIPLIST,
                    b"z",
                    &raw(&build::ziplist(&[b"m", b"1.5", b"n", b"-2"])),
                ),
                key(TYPE_LIST_ZIPLIST, b"empty", &raw(&build::ziplist(&[]))),
            ]
            .concat(),
        );
        assert_eq!(
            value(&ks, b"l"),
            list(&["a", "12", "-70000", "5000000000", "tail"])
        );
        assert_eq!(value(&ks, b"h"), hash(&[("f", "1"), ("g", "two")]));
        assert_eq!(value(&ks, b"z"), zset(&[("m", 1.5), ("n", -2.0)]));
        assert!(
            !ks.dbs[0].entries.contains_key(b"empty".as_slice()),
            "an empty ziplist is an empty key: skipped"
        );
        let dup = raw(&build::ziplist(&[b"f", b"1", b"f", b"2"]));
        assert_eq!(
            corrupt_reason(&key(TYPE_HASH_ZIPLIST, b"h", &dup)),
            "Hash ziplist integrity check failed."
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET_ZIPLIST, b"z", &dup)),
            "Zset ziplist integrity check failed."
        );
        let odd = raw(&build::ziplist(&[b"f", b"1", b"g"]));
        assert_eq!(
            corrupt_reason(&key(TYPE_HASH_ZIPLIST, b"h", &odd)),
            "Hash ziplist integrity check failed."
        );
        let nan = raw(&build::ziplist(&[b"m", b"nan"]));
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET_ZIPLIST, b"z", &nan)),
            "Zset ziplist integrity check failed."
        );
        let mut broken = build::ziplist(&items);
        broken[8] = 9;
        assert_eq!(
            corrupt_reason(&key(TYPE_LIST_ZIPLIST, b"l", &raw(&broken))),
            "List ziplist integrity check failed."
        );
    }

    #[test]
    fn quicklists_of_ziplists_and_listpacks() {
        let v1 = [
            &[3][..],
            &raw(&build::ziplist(&[b"a", b"1"])),
            &raw(&build::ziplist(&[])),
            &raw(&build::ziplist(&[b"b"])),
        ]
        .concat();
        let big = vec![b'p'; 9000];
        let v2 = [
            &[3, 2][..],
            &raw(&build::listpack(&[b"x", b"-5"])),
            &[1],
            &raw(&big),
            &[2],
            &raw(&build::listpack(&[b"y"])),
        ]
        .concat();
        let all_empty = [&[1][..], &raw(&build::ziplist(&[]))].concat();
        let ks = loaded(
            &[
                key(TYPE_LIST_QUICKLIST, b"q1", &v1),
                key(TYPE_LIST_QUICKLIST_2, b"q2", &v2),
                key(TYPE_LIST_QUICKLIST, b"e", &all_empty),
            ]
            .concat(),
        );
        assert_eq!(value(&ks, b"q1"), list(&["a", "1", "b"]));
        let mut want: VecDeque<Vec<u8>> = [b"x".to_vec(), b"-5".to_vec()].into_iter().collect();
        want.push_back(big);
        want.push_back(b"y".to_vec());
        assert_eq!(value(&ks, b"q2"), Value::List(want));
        assert!(!ks.dbs[0].entries.contains_key(b"e".as_slice()));
        assert_eq!(
            corrupt_reason(&key(TYPE_LIST_QUICKLIST_2, b"q", &[1, 3, 1, b'x'])),
            "Quicklist integrity check failed."
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_LIST_QUICKLIST_2, b"q", &[1, 1, 0])),
            "Unexpected EOF reading RDB file"
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_LIST_QUICKLIST_2, b"q", &[1, 2, 1, b'x'])),
            "Listpack integrity check failed."
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_LIST_QUICKLIST, b"q", &[1, 1, b'x'])),
            "Ziplist integrity check failed."
        );
    }

    #[test]
    fn intsets_and_listpacks_as_redis_7_writes_them() {
        let many: Vec<i64> = (0..600).collect();
        let ks = loaded(
            &[
                key(TYPE_SET_INTSET, b"s", &raw(&build::intset(2, &[-3, 7, 9]))),
                key(TYPE_SET_INTSET, b"big", &raw(&build::intset(4, &many))),
                key(
                    TYPE_HASH_LISTPACK,
                    b"h",
                    &raw(&build::listpack(&[b"f", b"v"])),
                ),
                key(
                    TYPE_ZSET_LISTPACK,
                    b"z",
                    &raw(&build::listpack(&[b"m", b"2", b"n", b"0.5"])),
                ),
            ]
            .concat(),
        );
        assert_eq!(
            value(&ks, b"s"),
            Value::Set(SetValue::Ints([-3, 7, 9].into_iter().collect()))
        );
        match value(&ks, b"big") {
            Value::Set(SetValue::Members(m)) => {
                assert_eq!(m.len(), 600, "over set-max-intset-entries: a hash table")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(value(&ks, b"h"), hash(&[("f", "v")]));
        assert_eq!(value(&ks, b"z"), zset(&[("n", 0.5), ("m", 2.0)]));
        assert_eq!(
            corrupt_reason(&key(
                TYPE_SET_INTSET,
                b"s",
                &raw(&build::intset(2, &[1, 1]))
            )),
            "Intset integrity check failed."
        );
        let dup = raw(&build::listpack(&[b"f", b"1", b"f", b"2"]));
        assert_eq!(
            corrupt_reason(&key(TYPE_HASH_LISTPACK, b"h", &dup)),
            "Hash listpack integrity check failed."
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET_LISTPACK, b"z", &dup)),
            "Zset listpack integrity check failed."
        );
    }

    /// One file with every encoding Redis 7.0 loads, each built from the C sources'
    /// format descriptions. `tests/rdb/legacy-encodings.rdb` is this file: tests/rdb_check.rs
    /// has a real redis-server load it and compares with what we read.
    fn every_encoding_fixture() -> Vec<u8> {
        let text_scores = [
            &[3][..],
            &raw(b"a"),
            &[3],
            b"1.5",
            &raw(b"b"),
            &[254],
            &raw(b"c"),
            &[4],
            b"-0.5",
        ]
        .concat();
        let quicklist_v1 = [
            &[2][..],
            &raw(&build::ziplist(&[b"q1", b"7"])),
            &raw(&build::ziplist(&[b"-300000"])),
        ]
        .concat();
        let quicklist_v2 = [
            &[2, 2][..],
            &raw(&build::listpack(&[b"p1", b"8"])),
            &[1],
            &raw(b"plain node"),
        ]
        .concat();
        let mut expiring_secs = vec![OP_EXPIRETIME];
        expiring_secs.extend(2_000_000_000i32.to_le_bytes());
        let lzf = [&[0xC3, 6, 9][..], &[2, b'a', b'b', b'c', 4 << 5, 2]].concat();
        file(
            &[
                key(TYPE_ZSET, b"zset-text", &text_scores),
                key(
                    TYPE_HASH_ZIPMAP,
                    b"hash-zipmap",
                    &raw(&build::zipmap(&[(b"f1", b"v1"), (b"f2", b"300")], 2)),
                ),
                key(
                    TYPE_LIST_ZIPLIST,
                    b"list-ziplist",
                    &raw(&build::ziplist(&[b"a", b"12", b"-70000", b"5000000000"])),
                ),
                key(
                    TYPE_SET_INTSET,
                    b"set-intset",
                    &raw(&build::intset(4, &[-100_000, 3, 70_000])),
                ),
                key(
                    TYPE_ZSET_ZIPLIST,
                    b"zset-ziplist",
                    &raw(&build::ziplist(&[b"m", b"2", b"n", b"2.25"])),
                ),
                key(
                    TYPE_HASH_ZIPLIST,
                    b"hash-ziplist",
                    &raw(&build::ziplist(&[b"f", b"1", b"g", b"two"])),
                ),
                key(TYPE_LIST_QUICKLIST, b"list-quicklist", &quicklist_v1),
                key(TYPE_LIST_QUICKLIST_2, b"list-quicklist2", &quicklist_v2),
                key(
                    TYPE_HASH_LISTPACK,
                    b"hash-listpack",
                    &raw(&build::listpack(&[b"hf", b"hv", b"n", b"-1"])),
                ),
                key(
                    TYPE_ZSET_LISTPACK,
                    b"zset-listpack",
                    &raw(&build::listpack(&[b"x", b"1", b"y", b"1.5"])),
                ),
                [expiring_secs, key(TYPE_STRING, b"lzf-expiring", &lzf)].concat(),
                [
                    &[OP_SELECTDB, 5][..],
                    &key(TYPE_STRING, b"db5", &[0xC2, 0x40, 0xE2, 0x01, 0x00]),
                ]
                .concat(),
            ]
            .concat(),
        )
    }

    #[test]
    fn every_encoding_fixture_loads() {
        let bytes = every_encoding_fixture();
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        assert!(
            bytes == include_bytes!("../../../tests/rdb/legacy-encodings.rdb"),
            "tests/rdb/legacy-encodings.rdb is not this fixture; regenerate it with\n\
             echo {hex} | xxd -r -p > tests/rdb/legacy-encodings.rdb"
        );
        let ks = read(&bytes).unwrap().keyspace;
        assert_eq!(
            value(&ks, b"zset-text"),
            zset(&[("a", 1.5), ("b", f64::INFINITY), ("c", -0.5)])
        );
        assert_eq!(
            value(&ks, b"hash-zipmap"),
            hash(&[("f1", "v1"), ("f2", "300")])
        );
        assert_eq!(
            value(&ks, b"list-quicklist2"),
            list(&["p1", "8", "plain node"])
        );
        assert_eq!(
            ks.dbs[0].entries[&b"lzf-expiring".to_vec()].expires_at,
            Some(2_000_000_000_000)
        );
        assert_eq!(
            ks.dbs[5].entries[&b"db5".to_vec()].value,
            Value::String(b"123456".to_vec())
        );
        assert_eq!(ks.len(), 12);
    }

    #[test]
    fn duplicates_in_plain_encodings_are_corruption() {
        let two = |a: &[u8], b: &[u8]| [&[2][..], &raw(a), &raw(b)].concat();
        assert_eq!(
            corrupt_reason(&key(TYPE_SET, b"s", &two(b"1", b"1"))),
            "Duplicate set members detected"
        );
        assert_eq!(
            corrupt_reason(&key(TYPE_SET, b"s", &two(b"a", b"a"))),
            "Duplicate set members detected"
        );
        let pairs = [&[2][..], &raw(b"f"), &raw(b"1"), &raw(b"f"), &raw(b"2")].concat();
        assert_eq!(
            corrupt_reason(&key(TYPE_HASH, b"h", &pairs)),
            "Hash with dup elements"
        );
        let zdup = [
            &[2][..],
            &raw(b"m"),
            &1f64.to_le_bytes(),
            &raw(b"m"),
            &2f64.to_le_bytes(),
        ]
        .concat();
        assert_eq!(
            corrupt_reason(&key(TYPE_ZSET_2, b"z", &zdup)),
            "Duplicate zset fields detected"
        );
        // The same key twice: Redis stops with a panic.
        let err = read(&file(
            &[
                key(TYPE_STRING, b"k", &raw(b"1")),
                key(TYPE_STRING, b"k", &raw(b"2")),
            ]
            .concat(),
        ))
        .unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::Fatal);
        assert_eq!(err.log[0], "RDB has duplicated key 'k' in DB 0");
        // After keys in ascending order (the fast path), and after keys out of order.
        let s = |k: &[u8]| key(TYPE_STRING, k, &raw(b"v"));
        for keys in [[&b"a"[..], b"b", b"c", b"b"], [b"c", b"a", b"b", b"a"]] {
            let err = read(&file(&keys.map(s).concat())).unwrap_err();
            assert_eq!(
                err.log[0],
                format!("RDB has duplicated key '{}' in DB 0", keys[3][0] as char)
            );
        }
    }

    #[test]
    fn keys_in_any_order_load_the_same() {
        let s = |k: &[u8]| key(TYPE_STRING, k, &raw(k));
        let ascending = loaded(&[s(b"a"), s(b"b"), s(b"c"), s(b"d")].concat());
        let shuffled = loaded(&[s(b"b"), s(b"d"), s(b"a"), s(b"c")].concat());
        let half = loaded(&[s(b"a"), s(b"c"), s(b"b"), s(b"d")].concat());
        assert_eq!(ascending, shuffled);
        assert_eq!(ascending, half);
        assert_eq!(ascending.len(), 4);
    }

    #[test]
    fn what_replscope_cannot_hold_is_named() {
        let err = read(&file(&key(TYPE_STREAM_LISTPACKS_2, b"events", &[0]))).unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::Unsupported);
        assert_eq!(
            err.reason,
            "stream keys are not supported by replscope (key 'events')"
        );
        let err = read(&file(&[OP_FUNCTION2, 0])).unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::Unsupported);
        assert!(
            err.reason.contains("functions are not supported"),
            "{}",
            err.reason
        );
        // A module value: Redis without the module reports the module's name.
        let id: u64 = (0..9).fold(0, |acc, _| (acc << 6) | 1) << 10; // "BBBBBBBBB", version 0
        let mut body = vec![TYPE_MODULE_2];
        body.extend(raw(b"k"));
        body.push(0x81);
        body.extend(id.to_be_bytes());
        assert_eq!(
            corrupt_reason(&body),
            "The RDB file contains module data I can't load: no matching module type 'BBBBBBBBB'"
        );
        let err = read(&file(&[OP_MODULE_AUX, 0, 2, 2])).unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::Fatal);
        assert_eq!(
            corrupt_reason(&key(20, b"k", &[])),
            "Unknown RDB encoding type 20"
        );
    }

    #[test]
    fn header_errors_and_reports_read_like_redis() {
        let mut bad = file(&[]);
        bad[0] = b'X';
        let err = read(&bad).unwrap_err();
        assert_eq!(
            (err.kind, err.log),
            (
                RdbErrorKind::Invalid,
                vec!["Wrong signature trying to load DB from file".to_string()]
            )
        );
        let mut newer = file(&[]);
        newer[5..9].copy_from_slice(b"0011");
        let err = read(&newer).unwrap_err();
        assert_eq!(
            (err.kind, err.log),
            (
                RdbErrorKind::Invalid,
                vec!["Can't handle RDB format version 11".to_string()]
            )
        );
        // Version 9 files load (and, like every version from 5, have a checksum).
        let mut older = b"REDIS0009".to_vec();
        older.extend(key(TYPE_STRING, b"k", &raw(b"v")));
        older.push(OP_EOF);
        older.extend(0u64.to_le_bytes());
        let (log, ok) = load(&older, 0);
        assert!(ok.is_ok());
        assert_eq!(
            log[0],
            "RDB file was saved with checksum disabled: no check performed."
        );
        let mut wrong = file(&key(TYPE_STRING, b"k", &raw(b"v")));
        let n = wrong.len();
        wrong[n - 1] ^= 1;
        let err = read(&wrong).unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::Corrupt);
        assert!(
            err.log[0].starts_with("Wrong RDB checksum expected: ("),
            "{:?}",
            err.log
        );
        assert_eq!(
            err.log[1],
            "Internal error in RDB reading offset 0, function at rdb.c:3216 -> RDB CRC error"
        );
        let truncated = file(&key(TYPE_STRING, b"k", &raw(b"value")));
        let err = read(&truncated[..truncated.len() - 12]).unwrap_err();
        assert_eq!(
            err.log,
            vec![
                "Short read or OOM loading DB. Unrecoverable error, aborting now.",
                "Internal error in RDB reading offset 0, function at rdb.c:3240 -> Unexpected EOF reading RDB file"
            ]
        );
        let err = read(&file(&[OP_SELECTDB, 16])).unwrap_err();
        assert_eq!(err.kind, RdbErrorKind::Fatal);
    }

    #[test]
    fn the_report_names_the_loading_progress_offset() {
        // Redis updates its progress every 2 MB read, to where the crossing read began.
        let mut ks = Keyspace::default();
        for i in 0..3u8 {
            ks.set(0, vec![b'k', i], Value::String(vec![i; 1_500_000]), None);
        }
        let mut bytes = write_with(&ks, &meta(), 0, false);
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        let err = read(&bytes).unwrap_err();
        let string_starts: Vec<usize> = (0..3)
            .map(|i| {
                bytes
                    .windows(5)
                    .position(|w| w == [0x80, 0x00, 0x16, 0xE3, 0x60])
                    .unwrap()
                    + 5
                    + i * (1_500_000 + 9)
            })
            .collect();
        // The second value's read crosses 2 MB, the third value's read crosses 4 MB.
        assert!(
            err.log[1].contains(&format!("reading offset {},", string_starts[2])),
            "{:?} {string_starts:?}",
            err.log
        );
    }

    #[test]
    fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
        let mut ks = Keyspace::default();
        ks.set(
            0,
            b"key".to_vec(),
            Value::String(b"value".to_vec()),
            Some(5),
        );
        ks.set(
            0,
            b"long".to_vec(),
            Value::String(b"compress me ".repeat(10)),
            None,
        );
        let bytes = write(&ks, &meta(), 0);
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
        ks.set(
            0,
            b"list".to_vec(),
            Value::List(Default::default()),
            Some(5),
        );
        ks.set(
            0,
            b"hash".to_vec(),
            Value::Hash(OrderedMap::default()),
            None,
        );
        ks.set(0, b"kept".to_vec(), Value::String(Vec::new()), None);
        let (log, loaded) = load(&write(&ks, &meta(), 0), 0);
        assert_eq!(
            loaded.unwrap().keyspace.dbs[0]
                .entries
                .keys()
                .collect::<Vec<_>>(),
            vec![&b"kept".to_vec()]
        );
        assert!(
            log.contains(&"rdbLoadObject skipping empty key: hash".to_string()),
            "{log:?}"
        );
        assert_eq!(
            log.last().unwrap(),
            "Done loading RDB, keys loaded: 1, keys expired: 0, empty keys skipped: 2."
        );
    }

    #[test]
    fn expired_keys_are_saved_like_redis_7_0() {
        let mut ks = Keyspace::default();
        ks.set(0, b"old".to_vec(), Value::String(b"v".to_vec()), Some(1));
        assert_eq!(read(&write(&ks, &meta(), 1_000_000)).unwrap().keyspace, ks);
    }
}
