//! One database's keys: a hash index for lookups, sorted order for every walk.
//!
//! Redis finds a key through a hash table. A `BTreeMap` gave every walk (KEYS, RDB
//! snapshots, the UI's key list) one deterministic order, but paid for it on every
//! lookup and insert with a descent that compares whole keys at each level: the largest
//! single cost of a replicated SET. Here a key is found with one hash probe, and a walk
//! sorts the keys first, so what any walk returns is exactly what the ordered map
//! returned. The index's own order is never shown; the only unordered walk,
//! [`KeyMap::iter_unordered`], is for sums and counts, where order cannot matter.
//!
//! The hash function is fixed (no per-process seed): the index's layout, and so the
//! work it does, is the same in every run, natively and in WASM.

use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Index;

use indexmap::map::Entry as Slot;
use indexmap::IndexMap;

use super::keyspace::Entry;

/// The index: entries (with their hashes) in a vector, found through a small hash table
/// of positions (what `indexmap` is). A hash table holding the entries themselves took
/// fewer instructions but more time: with 10 000s of keys each doubling rewrote megabytes
/// into fresh memory (most of a pipelined batch's page faults); here the table holds
/// 8-byte positions and the vector grows by reallocation.
#[derive(Clone, Default)]
pub struct KeyMap {
    map: IndexMap<Vec<u8>, Entry, BuildHasherDefault<KeyHasher>>,
}

/// A fixed 64-bit hash of a key: 8-byte words mixed by multiply-rotate, then a folded
/// 128-bit multiply so that the high bits (the table's control bytes) depend on every
/// input bit. Fast for the short keys Redis workloads use; not keyed, like everything in
/// the engine (a playground, not a server facing hostile clients). The same on every
/// platform (lengths are mixed as 64-bit numbers), though nothing shown depends on it.
#[derive(Default)]
pub struct KeyHasher(u64);

const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl KeyHasher {
    fn word(&mut self, w: u64) {
        self.0 = (self.0 ^ w).wrapping_mul(MIX).rotate_left(31);
    }
}

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut tail = [0u8; 8];
            tail[..rest.len()].copy_from_slice(rest);
            self.word(u64::from_le_bytes(tail));
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.word(n as u64);
    }

    fn finish(&self) -> u64 {
        let m = (self.0 as u128).wrapping_mul(0xE703_7ED1_A0B4_28DB_u128);
        (m as u64) ^ ((m >> 64) as u64)
    }
}

impl KeyMap {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.map.get_mut(key)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.map.contains_key(key)
    }

    /// Sets `key`'s entry; returns the one it replaces (the stored key is kept, as a
    /// `BTreeMap` keeps it).
    pub fn insert(&mut self, key: Vec<u8>, entry: Entry) -> Option<Entry> {
        self.map.insert(key, entry)
    }

    /// Adds a key that must not be there yet; gives the key back if it is.
    pub fn insert_new(&mut self, key: Vec<u8>, entry: Entry) -> Result<(), Vec<u8>> {
        match self.map.entry(key) {
            Slot::Occupied(o) => Err(o.key().clone()),
            Slot::Vacant(v) => {
                v.insert(entry);
                Ok(())
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        // The last entry takes the removed one's place: the vector's order is never shown.
        self.map.swap_remove(key)
    }

    /// Every key with its entry, in ascending key order (what a `BTreeMap` walk gives).
    pub fn iter(&self) -> std::vec::IntoIter<(&Vec<u8>, &Entry)> {
        let mut all: Vec<(&Vec<u8>, &Entry)> = self.map.iter().collect();
        // Keys are unique: an unstable sort is as deterministic as a stable one.
        all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        all.into_iter()
    }

    /// The keys in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.iter().map(|(k, _)| k)
    }

    /// Every key with its entry in the index's own order: only for what no order can
    /// change (sums of digests, counts). Anything shown or written walks [`KeyMap::iter`].
    pub fn iter_unordered(&self) -> impl Iterator<Item = (&Vec<u8>, &Entry)> {
        self.map.iter()
    }

    /// How many keys have an expiry.
    pub fn count_with_expiry(&self) -> usize {
        self.count_where(|e| e.expires_at.is_some())
    }

    /// How many entries satisfy `pred`: a count, which no order can change, so it walks
    /// the index as it lies instead of sorting every key first.
    pub fn count_where(&self, pred: impl Fn(&Entry) -> bool) -> usize {
        self.map.values().filter(|e| pred(e)).count()
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
        KeyMap {
            map: iter.into_iter().collect(),
        }
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
        // IndexMap's equality ignores order, as the key set's does.
        self.map == other.map
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
        Entry {
            value: Value::String(v.to_vec()),
            expires_at: None,
        }
    }

    #[test]
    fn walks_in_key_order_whatever_the_insertion_order() {
        let mut m = KeyMap::default();
        let mut x: u64 = 7;
        let mut want = Vec::new();
        for _ in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
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
        let left: Vec<_> = want
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 3 != 0)
            .map(|(_, k)| k.clone())
            .collect();
        assert_eq!(m.keys().cloned().collect::<Vec<_>>(), left);
        assert!(left.iter().all(|k| m.contains_key(k) && m[k] == entry(k)));
    }

    #[test]
    fn insert_replaces_and_insert_new_refuses() {
        let mut m = KeyMap::default();
        assert_eq!(m.insert(b"a".to_vec(), entry(b"1")), None);
        assert_eq!(m.insert(b"a".to_vec(), entry(b"2")), Some(entry(b"1")));
        assert_eq!(m.insert_new(b"a".to_vec(), entry(b"3")), Err(b"a".to_vec()));
        assert_eq!(m.insert_new(b"b".to_vec(), entry(b"3")), Ok(()));
        assert_eq!(m.get(b"a"), Some(&entry(b"2")));
        let same: KeyMap = [(b"b".to_vec(), entry(b"3")), (b"a".to_vec(), entry(b"2"))]
            .into_iter()
            .collect();
        assert_eq!(m, same);
        assert_eq!(format!("{m:?}"), format!("{same:?}"));
    }
}
