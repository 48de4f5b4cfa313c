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
use std::hash::{Hash, Hasher};
use std::ops::Index;

use hashbrown::hash_table::{Entry as Probe, HashTable};

use super::shared_vec::SharedVec;

/// The index: entries (with their hashes) in a vector, found through a small hash table
/// of positions (what `indexmap` is). A hash table holding the entries themselves took
/// fewer instructions but more time: with 10 000s of keys each doubling rewrote megabytes
/// into fresh memory (most of a pipelined batch's page faults); here the table holds
/// 8-byte positions.
///
/// The vector is a [`SharedVec`]: the bus's time-travel checkpoints clone every database,
/// and a clone that copied each key and value (two allocations per key) cost a long run's
/// page tens of milliseconds of its main thread at once. Now a clone copies the table of
/// positions and one pointer per page of keys; the first write to a page afterwards
/// copies that page.
///
/// Generic over what a key maps to (the keyspace's `Entry`), so the index knows nothing
/// of values and the keyspace builds on it without the two naming each other.
#[derive(Clone)]
pub struct KeyMap<V> {
    index: HashTable<usize>,
    slots: SharedVec<Slot<V>>,
}

impl<V> Default for KeyMap<V> {
    fn default() -> Self {
        KeyMap {
            index: HashTable::new(),
            slots: SharedVec::default(),
        }
    }
}

#[derive(Clone, PartialEq)]
struct Slot<V> {
    hash: u64,
    key: Vec<u8>,
    entry: V,
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

fn hash_of(key: &[u8]) -> u64 {
    let mut h = KeyHasher::default();
    key.hash(&mut h);
    h.finish()
}

impl<V: Clone> KeyMap<V> {
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
    }

    /// The key's position in `slots`.
    fn position(&self, key: &[u8]) -> Option<usize> {
        let slots = &self.slots;
        self.index
            .find(hash_of(key), |&i| slots[i].key == key)
            .copied()
    }

    pub fn get(&self, key: &[u8]) -> Option<&V> {
        self.position(key).map(|i| &self.slots[i].entry)
    }

    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let i = self.position(key)?;
        Some(&mut self.slots[i].entry)
    }

    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key`'s entry; returns the one it replaces (the stored key is kept, as a
    /// `BTreeMap` keeps it).
    pub fn insert(&mut self, key: Vec<u8>, entry: V) -> Option<V> {
        match self.add(key, entry) {
            Ok(()) => None,
            Err((i, _, entry)) => Some(std::mem::replace(&mut self.slots[i].entry, entry)),
        }
    }

    /// Adds a key that must not be there yet; gives the key back if it is.
    pub fn insert_new(&mut self, key: Vec<u8>, entry: V) -> Result<(), Vec<u8>> {
        self.add(key, entry).map_err(|(_, key, _)| key)
    }

    /// Adds a new key at the end of `slots`, or gives back the key's position and what
    /// was to be added.
    #[allow(clippy::type_complexity)]
    fn add(&mut self, key: Vec<u8>, entry: V) -> Result<(), (usize, Vec<u8>, V)> {
        let hash = hash_of(&key);
        let slots = &mut self.slots;
        let at = slots.len();
        match self
            .index
            .entry(hash, |&i| slots[i].key == key, |&i| slots[i].hash)
        {
            Probe::Occupied(o) => Err((*o.get(), key, entry)),
            Probe::Vacant(v) => {
                v.insert(at);
                slots.push(Slot { hash, key, entry });
                Ok(())
            }
        }
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        let slots = &mut self.slots;
        let Ok(found) = self
            .index
            .find_entry(hash_of(key), |&i| slots[i].key == key)
        else {
            return None;
        };
        let (i, _) = found.remove();
        // The last slot takes the removed one's place: the vector's order is never shown.
        let last = slots.len() - 1;
        let removed = slots.swap_remove(i);
        if i != last {
            let moved = slots[i].hash;
            *self
                .index
                .find_mut(moved, |&j| j == last)
                .expect("the moved slot is indexed") = i;
        }
        Some(removed.entry)
    }

    /// Every key with its entry, in ascending key order (what a `BTreeMap` walk gives).
    pub fn iter(&self) -> std::vec::IntoIter<(&Vec<u8>, &V)> {
        let mut all: Vec<(&Vec<u8>, &V)> = self.iter_unordered().collect();
        super::sort::sort_by(&mut all, |a, b| a.0.cmp(b.0));
        all.into_iter()
    }

    /// The keys in ascending order.
    pub fn keys(&self) -> impl Iterator<Item = &Vec<u8>> {
        self.iter().map(|(k, _)| k)
    }

    /// Every key with its entry in the index's own order: only for what no order can
    /// change (sums of digests, counts). Anything shown or written walks [`KeyMap::iter`].
    pub fn iter_unordered(&self) -> impl Iterator<Item = (&Vec<u8>, &V)> {
        self.slots.iter().map(|s| (&s.key, &s.entry))
    }

    /// The entry at position `i` of the index's own order: a uniform pick for RANDOMKEY
    /// (which key a position holds depends only on the history of writes, so a seeded
    /// pick is reproducible).
    pub fn get_index(&self, i: usize) -> Option<(&Vec<u8>, &V)> {
        self.slots.get(i).map(|s| (&s.key, &s.entry))
    }

    /// How many entries satisfy `pred`: a count, which no order can change, so it walks
    /// the index as it lies instead of sorting every key first.
    pub fn count_where(&self, pred: impl Fn(&V) -> bool) -> usize {
        self.slots.iter().filter(|s| pred(&s.entry)).count()
    }
}

impl<'a, V: Clone> IntoIterator for &'a KeyMap<V> {
    type Item = (&'a Vec<u8>, &'a V);
    type IntoIter = std::vec::IntoIter<(&'a Vec<u8>, &'a V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<V: Clone> FromIterator<(Vec<u8>, V)> for KeyMap<V> {
    fn from_iter<I: IntoIterator<Item = (Vec<u8>, V)>>(iter: I) -> KeyMap<V> {
        let mut map = KeyMap::default();
        for (key, entry) in iter {
            map.insert(key, entry);
        }
        map
    }
}

impl<V: Clone> Index<&[u8]> for KeyMap<V> {
    type Output = V;

    fn index(&self, key: &[u8]) -> &V {
        self.get(key).expect("no such key")
    }
}

impl<V: Clone> Index<&Vec<u8>> for KeyMap<V> {
    type Output = V;

    fn index(&self, key: &Vec<u8>) -> &V {
        &self[key.as_slice()]
    }
}

impl<V: Clone + PartialEq> PartialEq for KeyMap<V> {
    fn eq(&self, other: &KeyMap<V>) -> bool {
        // Equal key sets with equal entries, whatever order they were added in.
        self.len() == other.len() && self.iter_unordered().all(|(k, e)| other.get(k) == Some(e))
    }
}

impl<V: Clone + fmt::Debug> fmt::Debug for KeyMap<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::keyspace::{Entry, Value};

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
        let same: KeyMap<Entry> = [(b"b".to_vec(), entry(b"3")), (b"a".to_vec(), entry(b"2"))]
            .into_iter()
            .collect();
        assert_eq!(m, same);
        assert_eq!(format!("{m:?}"), format!("{same:?}"));
    }
}
