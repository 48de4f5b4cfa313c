//! A vector whose clones share its elements until one of them changes.
//!
//! The bus keeps time-travel checkpoints: whole copies of the world, taken between two
//! events while a run plays (in the page, inside one slice of the main thread). A plain
//! `Vec` of keys or transcript lines is copied element by element, one allocation each,
//! so a checkpoint of a long run cost tens of milliseconds in one go, growing with the
//! run. Here the elements live in fixed-size pages behind reference counts: a clone
//! copies one pointer per page, and a page is copied (at most [`PAGE`] elements) only
//! when one of its elements is changed while another clone still shares it. What a
//! checkpoint costs is then what changed since the last one, not everything there is.

use std::fmt;
use std::ops::{Index, IndexMut};
use std::sync::Arc;

/// Elements per page: a clone copies `len / PAGE` pointers, and the first write to a
/// shared page copies `PAGE` elements.
pub const PAGE: usize = 64;

/// Every page is full except the last, which is never empty: element `i` is at
/// `pages[i / PAGE][i % PAGE]`.
#[derive(Clone)]
pub struct SharedVec<T> {
    pages: Vec<Arc<Vec<T>>>,
    len: usize,
}

impl<T> Default for SharedVec<T> {
    fn default() -> Self {
        SharedVec {
            pages: Vec::new(),
            len: 0,
        }
    }
}

impl<T: Clone> SharedVec<T> {
    pub fn new() -> SharedVec<T> {
        SharedVec::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        (i < self.len).then(|| &self.pages[i / PAGE][i % PAGE])
    }

    /// The element, its page first copied if a clone still shares it.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        if i >= self.len {
            return None;
        }
        Some(&mut Arc::make_mut(&mut self.pages[i / PAGE])[i % PAGE])
    }

    pub fn last(&self) -> Option<&T> {
        self.len.checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(PAGE) {
            self.pages.push(Arc::new(Vec::with_capacity(PAGE)));
        }
        let last = self.pages.last_mut().expect("a page with room");
        Arc::make_mut(last).push(value);
        self.len += 1;
    }

    pub fn pop(&mut self) -> Option<T> {
        let last = self.pages.last_mut()?;
        let value = Arc::make_mut(last).pop();
        if last.is_empty() {
            self.pages.pop();
        }
        self.len -= 1;
        value
    }

    /// Removes element `i`, the last element taking its place (as `Vec::swap_remove`).
    ///
    /// # Panics
    /// If `i` is out of bounds, as `Vec::swap_remove`.
    pub fn swap_remove(&mut self, i: usize) -> T {
        assert!(i < self.len, "swap_remove index out of bounds");
        let last = self.pop().expect("not empty");
        if i == self.len {
            last
        } else {
            std::mem::replace(&mut self[i], last)
        }
    }

    pub fn clear(&mut self) {
        self.pages.clear();
        self.len = 0;
    }

    /// Keeps the first `len` elements (as `Vec::truncate`).
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.pages.truncate(len.div_ceil(PAGE));
        if let Some(last) = self.pages.last_mut() {
            Arc::make_mut(last).truncate(len - (len - 1) / PAGE * PAGE);
        }
        self.len = len;
    }

    pub fn iter(&self) -> Iter<'_, T> {
        self.iter_range(0, self.len)
    }

    /// Elements `start..end`, in order.
    ///
    /// # Panics
    /// If the range is not within the vector.
    pub fn iter_range(&self, start: usize, end: usize) -> Iter<'_, T> {
        assert!(start <= end && end <= self.len, "range out of bounds");
        Iter {
            vec: self,
            front: start,
            back: end,
        }
    }

    /// Pages held by this vector that no clone shares (what a checkpoint taken now would
    /// not have to copy again): for tests and measurements.
    pub fn unshared_pages(&self) -> usize {
        self.pages
            .iter()
            .filter(|p| Arc::strong_count(p) == 1)
            .count()
    }
}

impl<T: Clone> Index<usize> for SharedVec<T> {
    type Output = T;

    fn index(&self, i: usize) -> &T {
        self.get(i).expect("index out of bounds")
    }
}

impl<T: Clone> IndexMut<usize> for SharedVec<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        self.get_mut(i).expect("index out of bounds")
    }
}

/// The elements in order, by position: one small loop rather than a walk over pages
/// (the page's size counts every iterator instantiated).
pub struct Iter<'a, T> {
    vec: &'a SharedVec<T>,
    front: usize,
    back: usize,
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.front == self.back {
            return None;
        }
        let i = self.front;
        self.front += 1;
        Some(&self.vec.pages[i / PAGE][i % PAGE])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl<T> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(&self.vec.pages[self.back / PAGE][self.back % PAGE])
    }
}

impl<T> ExactSizeIterator for Iter<'_, T> {}

impl<'a, T: Clone> IntoIterator for &'a SharedVec<T> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

impl<T: Clone> FromIterator<T> for SharedVec<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> SharedVec<T> {
        let mut v = SharedVec::new();
        for x in iter {
            v.push(x);
        }
        v
    }
}

impl<T: Clone + PartialEq> PartialEq for SharedVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl<T: Clone + fmt::Debug> fmt::Debug for SharedVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same operations on a `Vec` and a `SharedVec`, with clones taken along the way
    /// and changed afterwards: every clone keeps what it had when it was taken.
    #[test]
    fn behaves_as_a_vec_and_clones_are_independent() {
        let mut v: Vec<u64> = Vec::new();
        let mut s: SharedVec<u64> = SharedVec::new();
        let mut kept: Vec<(Vec<u64>, SharedVec<u64>)> = Vec::new();
        let mut x: u64 = 12345;
        for step in 0..5000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match (x >> 60) % 6 {
                0..=2 => {
                    v.push(step);
                    s.push(step);
                }
                3 if !v.is_empty() => {
                    let i = (x >> 20) as usize % v.len();
                    assert_eq!(v.swap_remove(i), s.swap_remove(i));
                }
                4 if !v.is_empty() => {
                    let i = (x >> 20) as usize % v.len();
                    v[i] += 1000;
                    s[i] += 1000;
                }
                5 if step % 7 == 0 => {
                    let keep = (x >> 20) as usize % (v.len() + 1);
                    v.truncate(keep);
                    s.truncate(keep);
                }
                5 => assert_eq!(v.pop(), s.pop()),
                _ => {}
            }
            if step % 97 == 0 {
                kept.push((v.clone(), s.clone()));
            }
            assert_eq!(v.len(), s.len());
            assert_eq!(v.last(), s.last());
        }
        assert!(v.iter().eq(s.iter()));
        assert!(v.iter().eq((&s).into_iter()));
        assert!(v[v.len() / 3..]
            .iter()
            .rev()
            .eq(s.iter_range(v.len() / 3, v.len()).rev()));
        for (want, got) in &kept {
            assert!(want.iter().eq(got.iter()));
            assert_eq!(got.len(), want.len());
            assert_eq!(got.get(want.len()), None);
        }
        s.clear();
        assert!(s.is_empty() && s.iter().next().is_none());
    }

    /// A clone shares every page; a write copies only the page it lands on.
    #[test]
    fn a_write_after_a_clone_copies_one_page() {
        let mut s: SharedVec<Vec<u8>> = (0..10 * PAGE).map(|i| vec![i as u8]).collect();
        assert_eq!(s.unshared_pages(), 10);
        let checkpoint = s.clone();
        assert_eq!(s.unshared_pages(), 0);
        s[3 * PAGE + 1] = b"changed".to_vec();
        assert_eq!(s.unshared_pages(), 1);
        assert_eq!(checkpoint[3 * PAGE + 1], vec![(3 * PAGE + 1) as u8]);
        assert_eq!(s[3 * PAGE + 1], b"changed".to_vec());
        s.push(vec![0]);
        assert_eq!(s.unshared_pages(), 2);
        assert_eq!(checkpoint.len() + 1, s.len());
    }
}
