//! The data: 16 databases of keys, each with a value and an optional expiry time.
//!
//! Maps are `BTreeMap`s so that every walk over the keyspace (KEYS, RDB snapshots, the
//! UI's key list, digests) is in one deterministic order, natively and in WASM.

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::BuildHasherDefault;

use indexmap::{IndexMap, IndexSet};

pub const DEFAULT_DATABASES: usize = 16;

/// A fixed-key hasher: insertion-ordered maps hash with it so that nothing about a run
/// depends on a per-process random seed (iteration order is insertion order anyway).
pub type FixedState = BuildHasherDefault<DefaultHasher>;
pub type OrderedMap = IndexMap<Vec<u8>, Vec<u8>, FixedState>;
pub type OrderedSet = IndexSet<Vec<u8>, FixedState>;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(Vec<u8>),
    List(VecDeque<Vec<u8>>),
    /// Small hashes keep insertion order (Redis's listpack encoding does; its hashtable
    /// encoding has no defined order, so insertion order is as good as any).
    Hash(OrderedMap),
    Set(SetValue),
    ZSet(ZSet),
}

/// Redis keeps sets of integers as a sorted intset (so SMEMBERS is in numeric order)
/// until a non-integer member arrives or it grows past `set-max-intset-entries`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetValue {
    Ints(BTreeSet<i64>),
    Members(OrderedSet),
}

impl SetValue {
    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(s) => s.len(),
            SetValue::Members(s) => s.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Members in the order SMEMBERS returns them.
    pub fn members(&self) -> Vec<Vec<u8>> {
        match self {
            SetValue::Ints(s) => s.iter().map(|i| i.to_string().into_bytes()).collect(),
            SetValue::Members(s) => s.iter().cloned().collect(),
        }
    }
}

/// A score that orders like Redis's skiplist: by value, with -0 equal to 0 (then the
/// member decides). Scores are never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score(pub f64);

impl Eq for Score {}
impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Score {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.partial_cmp(&other.0).unwrap_or(Ordering::Equal)
    }
}

/// A sorted set: members ordered by (score, member bytes), as ZRANGE returns them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSet {
    scores: BTreeMap<Vec<u8>, f64>,
    ordered: BTreeSet<(Score, Vec<u8>)>,
    /// Whether Redis would hold this set as a skiplist rather than a listpack: once it
    /// has had more than `zset-max-listpack-entries` (128) members or a member longer
    /// than `zset-max-listpack-value` (64 bytes). The conversion is one-way, and it is
    /// observable: a listpack stores an integral score as an integer, so -0 becomes 0.
    skiplist: bool,
}

impl ZSet {
    pub fn len(&self) -> usize {
        self.scores.len()
    }

    pub fn is_empty(&self) -> bool {
        self.scores.is_empty()
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.scores.get(member).copied()
    }

    /// Redis's `zset-max-listpack-entries` and `zset-max-listpack-value` defaults.
    pub const MAX_LISTPACK_ENTRIES: usize = 128;
    pub const MAX_LISTPACK_VALUE: usize = 64;

    /// Whether Redis would have converted this set to a skiplist by now.
    pub fn is_skiplist(&self) -> bool {
        self.skiplist
    }

    /// Sets a member's score; returns the previous one.
    pub fn insert(&mut self, member: Vec<u8>, score: f64) -> Option<f64> {
        if member.len() > Self::MAX_LISTPACK_VALUE {
            self.skiplist = true;
        }
        let old = self.scores.insert(member.clone(), score);
        if self.scores.len() > Self::MAX_LISTPACK_ENTRIES {
            self.skiplist = true;
        }
        if let Some(o) = old {
            self.ordered.remove(&(Score(o), member.clone()));
        }
        self.ordered.insert((Score(score), member));
        old
    }

    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let old = self.scores.remove(member)?;
        self.ordered.remove(&(Score(old), member.to_vec()));
        Some(old)
    }

    /// Members with scores, lowest score first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&[u8], f64)> + ExactSizeIterator {
        self.ordered.iter().map(|(s, m)| (m.as_slice(), s.0))
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// Elements in the value (1 for a string), for summaries.
    pub fn len(&self) -> usize {
        match self {
            Value::String(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
        }
    }

    /// Collections that become empty are deleted, as in Redis.
    pub fn is_empty_collection(&self) -> bool {
        !matches!(self, Value::String(_)) && self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry, unix milliseconds.
    pub expires_at: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Db {
    pub entries: BTreeMap<Vec<u8>, Entry>,
    /// The keys that have an expiry (Redis's `db->expires`), indexable so that active
    /// expiry can sample them at random in O(1). Kept by [`Keyspace::set`],
    /// [`Keyspace::set_expiry`], [`Keyspace::remove`] and the flushes: change an entry's
    /// `expires_at` only through those.
    pub expiring: OrderedSet,
}

impl Db {
    pub fn keys_with_expiry(&self) -> usize {
        self.entries.values().filter(|e| e.expires_at.is_some()).count()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace { dbs: vec![Db::default(); DEFAULT_DATABASES] }
    }
}

impl Keyspace {
    /// The entry for `key` unless it is logically expired at `now`.
    ///
    /// Deleting expired keys is the master's job (and is propagated as DEL); this lookup
    /// only hides them, which is exactly what a replica must do.
    pub fn get(&self, db: usize, key: &[u8], now: u64) -> Option<&Entry> {
        self.dbs[db].entries.get(key).filter(|e| !is_expired(e, now))
    }

    pub fn set(&mut self, db: usize, key: Vec<u8>, value: Value, expires_at: Option<u64>) {
        let d = &mut self.dbs[db];
        if expires_at.is_some() {
            d.expiring.insert(key.clone());
        } else {
            d.expiring.swap_remove(&key);
        }
        d.entries.insert(key, Entry { value, expires_at });
    }

    /// Sets or removes the expiry of an existing key; `false` if there is no such key.
    pub fn set_expiry(&mut self, db: usize, key: &[u8], expires_at: Option<u64>) -> bool {
        let d = &mut self.dbs[db];
        let Some(entry) = d.entries.get_mut(key) else { return false };
        entry.expires_at = expires_at;
        if expires_at.is_some() {
            d.expiring.insert(key.to_vec());
        } else {
            d.expiring.swap_remove(key);
        }
        true
    }

    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        let d = &mut self.dbs[db];
        d.expiring.swap_remove(key);
        d.entries.remove(key)
    }

    pub fn flush_db(&mut self, db: usize) {
        self.dbs[db].entries.clear();
        self.dbs[db].expiring.clear();
    }

    pub fn flush_all(&mut self) {
        for db in 0..self.dbs.len() {
            self.flush_db(db);
        }
    }

    pub fn len(&self) -> usize {
        self.dbs.iter().map(|d| d.entries.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Redis treats a key as expired once the clock is strictly past its expiry time.
pub fn is_expired(entry: &Entry, now: u64) -> bool {
    entry.expires_at.is_some_and(|t| now > t)
}
