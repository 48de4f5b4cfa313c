//! One database's keys: a hash index for lookups, sorted order for every walk.
//!
//! Redis finds a key through a hash table. A `BTreeMap` gave every walk (KEYS, RDB
//! snapshots, the UI's key list) one deterministic order, but paid for it on every
//! lookup and insert with a descent that compares whole keys at each level: the largest
//! single cost of a replicated SET. Here a key is found with one hash probe, and a walk
//! sorts the keys first, so what any walk returns is exactly what the ordered map
//! returned. The table's own order is never shown; the only unordered walk,
//! [`KeyMap::iter_unordered`], is for sums and counts, where order cannot matter.
//!
//! The hash function is fixed (no per-process seed): the table's layout, and so the
//! work it does, is the same in every run, natively and in WASM.

use std::fmt;
use std::ops::Index;

use hashbrown::hash_table::{Entry as Slot, HashTable};

use super::keyspace::Entry;

/// Each slot keeps its key's hash: growing the table then reads no key bytes (each key is
/// a separate allocation, so rehashing from the keys was a cache miss per key).
#[derive(Clone, Default)]
pub struct KeyMap {
    table: HashTable<(u64, Vec<u8>, Entry)>,
}

/// A fixed 64-bit hash of a key: 8-byte words mixed by multiply-rotate, then a folded
/// 128-bit multiply so that the high bits (the table's control bytes) depend on every
/// input bit. Fast for the short keys Redis workloads use; not keyed, like everything in
/// the engine (a playground, not a server facing hostile clients).
fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (key.len() as u64).wrapping_mul(0xA076_1D64_78BD_642F);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K).rotate_left(31);
    }
    let m = (h as u128).wrapping_mul(0xE703_7ED1_A0B4_28DB_u128);
    (m as u64) ^ ((m >> 64) as u64)
}

fn stored_hash(slot: &(u64, Vec<u8>, Entry)) -> u64 {
    slot.0
}

impl KeyMap {
    pub fn new() -> KeyMap {
        KeyMap::default()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    pub fn clear(&mut self) {
        self.table.clear();
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        let hash = key_hash(key);
        self.table.find(hash, |(h, k, _)| *h == hash && k.as_slice() == key).map(|(_, _, e)| e)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let hash = key_hash(key);
        self.table.find_mut(hash, |(h, k, _)| *h == hash && k.as_slice() == key).map(|(_, _, e)| e)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`'s entry; returns the one it replaces (the stored key is kept, as a
    /// `BTreeMap` keeps it).
    pub fn insert(&mut self, key: Vec<u8>, entry: Entry) -> Option<Entry> {
        let hash = key_hash(&key);
        match self.table.entry(hash, |(h, k, _)| *h == hash && *k == key, stored_hash) {
            Slot::Occupied(mut o) => Some(std::mem::replace(&mut o.get_mut().2, entry)),
            Slot::Vacant(v) => {
                v.insert((hash, key, entry));
                None
            }
        }
    }

    /// Adds a key that must not be there yet; gives the key back if it is.
    pub fn insert_new(&mut self, key: Vec<u8>, entry: Entry) -> Result<(), Vec<u8>> {
        let hash = key_hash(&key);
        match self.table.entry(hash, |(h, k, _)| *h == hash && *k == key, stored_hash) {
            Slot::Occupied(_) => Err(key),
            Slot::Vacant(v) => {
                v.insert((hash, key, entry));
                Ok(())
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let hash = key_hash(key);
        match self.table.find_entry(hash, |(h, k, _)| *h == hash && k.as_slice() == key) {
            Ok(o) => Some(o.remove().0 .2),
            Err(_) => None,
        }
    }

    /// Every key with its entry, in ascending key order (what a `BTreeMap` walk gives).
    pub fn iter(&self) -> std::vec::IntoIter<(&Vec<u8>, &Entry)> {
        let mut all: Vec<(&Vec<u8>, &Entry)> = self.table.iter().map(|(_, k, e)| (k, e)).collect();
        // Keys are unique: an unstable sort is as deterministic as a stable one.
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }

    /// The keys in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.iter().map(|(k, _)| k)
    }

    /// Every key with its entry in the table's own order: only for what no order can
    /// change (sums of digests, counts). Anything shown or written walks [`KeyMap::iter`].
    pub fn iter_unordered(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.table.iter().map(|(_, k, e)| (k, e))
    }

    /// How many keys have an expiry.
    pub fn count_with_expiry(&self) -> usize {
        self.table.iter().filter(|(_, _, e)| e.expires_at.is_some()).count()
    }
}

impl<'a> IntoIterator for &'a KeyMap {
    type Item = (&'a Vec<u8>, &'a Entry);
    type IntoIter = std::vec::IntoIter<(&'a Vec<u8>, &'a Entry)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl FromIterator<(Vec<u8>, Entry)> for KeyMap {
    fn from_iter<I: IntoIterator<Item = (Vec<u8>, Entry)>>(iter: I) -> KeyMap {
        let iter = iter.into_iter();
        let mut map = KeyMap { table: HashTable::with_capacity(iter.size_hint().0) };
        for (key, entry) in iter {
            map.insert(key, entry);
        }
        map
    }
}

impl Index<&[u8]> for KeyMap {
    type Output = Entry;

    fn index(&self, key: &[u8]) -> &Entry {
        self.get(key).expect("no such key")
    }
}

impl Index<&Vec<u8>> for KeyMap {
    type Output = Entry;

    fn index(&self, key: &Vec<u8>) -> &Entry {
        &self[key.as_slice()]
    }
}

impl PartialEq for KeyMap {
    fn eq(&self, other: &KeyMap) -> bool {
        self.len() == other.len() && self.table.iter().all(|(_, k, e)| other.get(k) == Some(e))
    }
}

impl fmt::Debug for KeyMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::keyspace::Value;

    fn entry(v: &[u8]) -> Entry {
        Entry { value: Value::String(v.to_vec()), expires_at: None }
    }

    #[test]
    fn walks_in_key_order_whatever_the_insertion_order() {
        let mut m = KeyMap::new();
        let mut x: u64 = 7;
        let mut want = Vec::new();
        for _ in 0..2000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let key = format!("k{}", x >> 40).into_bytes();
            m.insert(key.clone(), entry(&key));
            want.push(key);
        }
        want.sort();
        want.dedup();
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), want);
        assert_eq!(m.len(), want.len());
        for k in want.iter().step_by(3) {
            assert_eq!(m.remove(k), Some(entry(k)));
            assert_eq!(m.remove(k), None);
        }
        let left: Vec<_> = want.iter().enumerate().filter(|(i, _)| i % 3 != 0).map(|(_, k)| k.clone()).collect();
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), left);
        assert!(left.iter().all(|k| m.contains_key(k) && m[k] == entry(k)));
    }

    #[test]
    fn insert_replaces_and_insert_new_refuses() {
        let mut m = KeyMap::new();
        assert_eq!(m.insert(b"a".to_vec(), entry(b"1")), None);
        assert_eq!(m.insert(b"a".to_vec(), entry(b"2")), Some(entry(b"1")));
        assert_eq!(m.insert_new(b"a".to_vec(), entry(b"3")), Err(b"a".to_vec()));
        assert_eq!(m.insert_new(b"b".to_vec(), entry(b"3")), Ok(()));
        assert_eq!(m.get(b"a"), Some(&entry(b"2")));
        let same: KeyMap = [(b"b".to_vec(), entry(b"3")), (b"a".to_vec(), entry(b"2"))].into_iter().collect();
        assert_eq!(m, same);
        assert_eq!(format!("{m:?}"), format!("{same:?}"));
    }
}
