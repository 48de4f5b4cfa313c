//! The data: 16 databases of keys, each with a value and an optional expiry time.
//!
//! Every walk over the keyspace (KEYS, RDB snapshots, the UI's key list) is in one
//! deterministic order, natively and in WASM: ascending key order ([`KeyMap`]).

use std::cmp::Ordering;
use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::hash::BuildHasherDefault;

use indexmap::{IndexMap, IndexSet};

/// One database's keys and their entries.
pub type KeyMap = super::keymap::KeyMap<Entry>;

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

    /// Elements in the value (1 for a string), for summaries. A string is never "empty" in
    /// this count, so there is no `is_empty`: see [`Value::is_empty_collection`].
    #[allow(clippy::len_without_is_empty)]
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
    pub entries: KeyMap,
    /// The keys that have an expiry (Redis's `db->expires`), indexable so that active
    /// expiry can sample them at random in O(1). Kept by [`Keyspace::set`],
    /// [`Keyspace::set_expiry`], [`Keyspace::remove`] and the flushes: change an entry's
    /// `expires_at` only through those.
    pub expiring: OrderedSet,
}

impl Db {
    pub fn keys_with_expiry(&self) -> usize {
        self.entries.count_where(|e| e.expires_at.is_some())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Keyspace {
    pub dbs: Vec<Db>,
}

impl Default for Keyspace {
    fn default() -> Self {
        Keyspace {
            dbs: vec![Db::default(); DEFAULT_DATABASES],
        }
    }
}

impl Keyspace {
    /// The entry for `key` unless it is logically expired at `now`.
    ///
    /// Deleting expired keys is the master's job (and is propagated as DEL); this lookup
    /// only hides them, which is exactly what a replica must do.
    pub fn get(&self, db: usize, key: &[u8], now: u64) -> Option<&Entry> {
        self.dbs[db]
            .entries
            .get(key)
            .filter(|e| !is_expired(e, now))
    }

    pub fn set(&mut self, db: usize, key: Vec<u8>, value: Value, expires_at: Option<u64>) {
        let d = &mut self.dbs[db];
        if expires_at.is_some() {
            d.expiring.insert(key.clone());
        } else if !d.expiring.is_empty() {
            // Hashing the key only when some key could have an expiry to forget.
            d.expiring.swap_remove(&key);
        }
        d.entries.insert(key, Entry { value, expires_at });
    }

    /// Adds a key that must not exist yet (loading a snapshot): one probe instead of a
    /// lookup and an insert. Gives the key back if it is already there.
    pub fn insert_new(
        &mut self,
        db: usize,
        key: Vec<u8>,
        value: Value,
        expires_at: Option<u64>,
    ) -> Result<(), Vec<u8>> {
        let d = &mut self.dbs[db];
        let expiring = expires_at.is_some().then(|| key.clone());
        d.entries.insert_new(key, Entry { value, expires_at })?;
        if let Some(key) = expiring {
            d.expiring.insert(key);
        }
        Ok(())
    }

    /// Fills an empty database from keys in strictly ascending order (loading a
    /// snapshot).
    pub fn load_sorted(&mut self, db: usize, entries: Vec<(Vec<u8>, Value, Option<u64>)>) {
        let d = &mut self.dbs[db];
        debug_assert!(
            d.entries.is_empty(),
            "load_sorted into a database that has keys"
        );
        debug_assert!(
            entries.windows(2).all(|w| w[0].0 < w[1].0),
            "keys not strictly ascending"
        );
        for (key, _, expires_at) in &entries {
            if expires_at.is_some() {
                d.expiring.insert(key.clone());
            }
        }
        d.entries = entries
            .into_iter()
            .map(|(key, value, expires_at)| (key, Entry { value, expires_at }))
            .collect();
    }

    /// Sets or removes the expiry of an existing key; `false` if there is no such key.
    pub fn set_expiry(&mut self, db: usize, key: &[u8], expires_at: Option<u64>) -> bool {
        let d = &mut self.dbs[db];
        let Some(entry) = d.entries.get_mut(key) else {
            return false;
        };
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
        if !d.expiring.is_empty() {
            d.expiring.swap_remove(key);
        }
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

/// A deterministic 64-bit digest of one key: its database, name, type, value and expiry.
///
/// Like Redis's `DEBUG DIGEST`, it describes the data, not its encoding: a set of integers
/// digests the same as an intset or as a hash table, and the members of a set or a hash
/// count in any order (they are summed), while a list's and a sorted set's order counts.
/// Summed over a keyspace ([`Keyspace::digest`]) it tells two servers' data apart without
/// comparing them key by key: the simulator compares a replica with its master this way
/// at every replication offset. Not cryptographic; a fixed function, equal natively and in
/// WASM.
pub fn entry_digest(db: usize, key: &[u8], entry: &Entry) -> u64 {
    let mut h = DigestHasher::new(db as u64);
    h.bytes(key);
    match &entry.value {
        Value::String(s) => {
            h.word(1);
            h.bytes(s);
        }
        Value::List(items) => {
            h.word(2);
            for item in items {
                h.bytes(item);
            }
        }
        Value::Hash(fields) => {
            h.word(3);
            let mut sum = 0u64;
            for (field, value) in fields {
                let mut f = DigestHasher::new(3);
                f.bytes(field);
                f.bytes(value);
                sum = sum.wrapping_add(f.finish());
            }
            h.word(sum);
        }
        Value::Set(set) => {
            h.word(4);
            let mut sum = 0u64;
            for member in set.members() {
                let mut m = DigestHasher::new(4);
                m.bytes(&member);
                sum = sum.wrapping_add(m.finish());
            }
            h.word(sum);
        }
        Value::ZSet(z) => {
            h.word(5);
            for (member, score) in z.iter() {
                h.bytes(member);
                h.word(score.to_bits());
            }
        }
    }
    h.word(entry.expires_at.map_or(u64::MAX, |t| t));
    h.finish()
}

impl Keyspace {
    /// The digest of every key not expired at `now` (the sum of [`entry_digest`]s): equal
    /// data, equal digest, whatever order the keys were written in. Keys past their expiry
    /// are left out because a snapshot leaves them out while the server that wrote it may
    /// still hold them until it deletes them.
    pub fn digest(&self, now: u64) -> u64 {
        let mut sum = 0u64;
        for (db, d) in self.dbs.iter().enumerate() {
            // A sum: the order of the walk cannot change it.
            for (key, entry) in d.entries.iter_unordered() {
                if !is_expired(entry, now) {
                    sum = sum.wrapping_add(entry_digest(db, key, entry));
                }
            }
        }
        sum
    }
}

/// A small fixed mixing hash (64-bit multiply-rotate over 8-byte words, SplitMix64
/// finaliser). Every field is length-prefixed so that ("ab","c") and ("a","bc") differ.
struct DigestHasher(u64);

impl DigestHasher {
    fn new(domain: u64) -> Self {
        DigestHasher(0x243F_6A88_85A3_08D3 ^ domain.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w)
            .wrapping_mul(0xFF51_AFD7_ED55_8CCD)
            .rotate_left(29);
    }

    fn bytes(&mut self, b: &[u8]) {
        self.word(b.len() as u64);
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            self.word(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.word(u64::from_le_bytes(tail));
    }

    fn finish(&self) -> u64 {
        crate::engine::splitmix::finalize(self.0)
    }
}

#[cfg(test)]
mod digest_tests {
    use super::*;

    fn set_of(members: &[&[u8]]) -> Value {
        Value::Set(SetValue::Members(
            members.iter().map(|m| m.to_vec()).collect(),
        ))
    }

    #[test]
    fn digest_ignores_encoding_and_unordered_order_but_not_values() {
        let mut a = Keyspace::default();
        let mut b = Keyspace::default();
        assert_eq!(a.digest(0), b.digest(0));
        a.set(0, b"s".to_vec(), set_of(&[b"1", b"2"]), None);
        b.set(
            0,
            b"s".to_vec(),
            Value::Set(SetValue::Ints([2, 1].into_iter().collect())),
            None,
        );
        assert_eq!(
            a.digest(0),
            b.digest(0),
            "intset and hash table encodings of one set"
        );
        a.set(0, b"t".to_vec(), set_of(&[b"x", b"y"]), None);
        b.set(0, b"t".to_vec(), set_of(&[b"y", b"x"]), None);
        assert_eq!(a.digest(0), b.digest(0), "set members in another order");
        b.set(1, b"t".to_vec(), set_of(&[b"y", b"x"]), None);
        assert_ne!(a.digest(0), b.digest(0), "another database");
        b.remove(1, b"t");
        a.set(
            0,
            b"l".to_vec(),
            Value::List([b"a".to_vec(), b"b".to_vec()].into()),
            None,
        );
        b.set(
            0,
            b"l".to_vec(),
            Value::List([b"b".to_vec(), b"a".to_vec()].into()),
            None,
        );
        assert_ne!(a.digest(0), b.digest(0), "a list's order counts");
        b.set(
            0,
            b"l".to_vec(),
            Value::List([b"a".to_vec(), b"b".to_vec()].into()),
            Some(5),
        );
        assert_ne!(a.digest(0), b.digest(0), "an expiry counts");
        assert_ne!(b.digest(0), b.digest(6), "an expired key is left out");
    }

    #[test]
    fn field_boundaries_count() {
        let mut a = Keyspace::default();
        let mut b = Keyspace::default();
        a.set(0, b"ab".to_vec(), Value::String(b"c".to_vec()), None);
        b.set(0, b"a".to_vec(), Value::String(b"bc".to_vec()), None);
        assert_ne!(a.digest(0), b.digest(0));
    }
}
