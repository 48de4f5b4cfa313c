//! The data: 16 databases of keys, each with a value and an optional expiry time.
//!
//! Maps are `BTreeMap`s so that every walk over the keyspace (KEYS, RDB snapshots, the
//! UI's key list, digests) is in one deterministic order, natively and in WASM.

use std::collections::BTreeMap;

pub const DEFAULT_DATABASES: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    String(Vec<u8>),
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::String(_) => "string",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry, unix milliseconds.
    pub expires_at: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Db {
    pub entries: BTreeMap<Vec<u8>, Entry>,
}

impl Db {
    pub fn keys_with_expiry(&self) -> usize {
        self.entries.values().filter(|e| e.expires_at.is_some()).count()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
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
        self.dbs[db].entries.insert(key, Entry { value, expires_at });
    }

    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.dbs[db].entries.remove(key)
    }

    pub fn flush_all(&mut self) {
        for db in &mut self.dbs {
            db.entries.clear();
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
