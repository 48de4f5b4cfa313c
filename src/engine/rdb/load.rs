//! The snapshot loader: what Redis 7.0's `rdbLoad` accepts, and how it fails.

use std::collections::{BTreeSet, VecDeque};

use super::*;
use crate::engine::c_string::{c_str, c_strtoll};
use crate::engine::cfloat;
use crate::engine::keyspace::{Keyspace, OrderedMap, OrderedSet, SetValue, Value, ZSet};

/// The most elements reserved up front for a list or set the payload declares (see
/// `Reader::prealloc`).
const PREALLOC_MAX_ELEMENTS: usize = 4096;

/// Redis allocates the expanded length an LZF string declares before it decompresses:
/// that fails (and the load ends like a short read) only for a length beyond the address
/// space (x86-64: 128 TiB); a smaller absurd length is mapped lazily, and the
/// decompression then reports "Invalid LZF compressed string". Seen with redis-server
/// 7.0.15: 2^62 bytes is a short read, 2^40 an invalid string.
const ADDRESS_SPACE_BYTES: u64 = 1 << 47;

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
    String::from_utf8_lossy(c_str(s)).into_owned()
}

/// C's `atoi` on the four version digits of the signature.
fn c_atoi(s: &[u8]) -> i64 {
    c_strtoll(c_str(s))
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
                if super::lzf::decompressed_len(compressed) != Some(len) {
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
                        let entries = compact::listpack_entries(&blob).ok_or_else(|| {
                            self.corrupt(2070, "Listpack integrity check failed.")
                        })?;
                        items.extend(entries);
                    } else {
                        let entries = compact::ziplist_entries(&blob)
                            .ok_or_else(|| self.corrupt(2080, "Ziplist integrity check failed."))?;
                        items.extend(entries);
                    }
                }
                Value::List(items)
            }
            TYPE_HASH_ZIPMAP => {
                let blob = self.string()?;
                let pairs = compact::zipmap_pairs(&blob)
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
                let entries = compact::ziplist_entries(&blob)
                    .ok_or_else(|| self.corrupt(2187, "List ziplist integrity check failed."))?;
                Value::List(entries.into_iter().collect())
            }
            TYPE_SET_INTSET => {
                let blob = self.string()?;
                let members = compact::intset_members(&blob)
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
                    compact::ziplist_entries(&blob)
                } else {
                    compact::listpack_entries(&blob)
                };
                let pairs = entries
                    .and_then(unique_pairs)
                    .ok_or_else(|| self.corrupt(line, what))?;
                let mut z = ZSet::default();
                for (member, score) in pairs {
                    // zzlStrtod: a packed score is d2string's text (or an integer). Redis
                    // does not look for NaN here; a sorted set here cannot hold one.
                    let score = listpack_score(&score);
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
                    compact::ziplist_entries(&blob)
                } else {
                    compact::listpack_entries(&blob)
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
                cfloat::scan_double(text).ok_or_else(|| self.eof())?
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

/// A score as a listpack holds it (`zzlStrtod`): plain `strtod` of the text, which is
/// what `d2string` wrote (or an integer).
#[cfg(not(target_arch = "wasm32"))]
fn listpack_score(text: &[u8]) -> f64 {
    cfloat::strto(text, cfloat::F64)
        .value
        .map_or(f64::NAN, cfloat::Float::to_f64)
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
