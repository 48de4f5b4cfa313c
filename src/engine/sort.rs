//! The one sort of the whole program. The standard library's sorts are instantiated once
//! per element type and comparison, each about 4 KB of wasm (the page had ten of them, 14 KB
//! gzip); these sort positions instead, through one comparison behind a reference, so the
//! standard library's sort is compiled once. Stable, like `slice::sort_by`.

use std::cmp::Ordering;

/// Sorts `v` by `cmp`; equal elements keep their order.
pub fn sort_by<T>(v: &mut [T], cmp: impl Fn(&T, &T) -> Ordering) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_positions(&mut order, &|a, b| cmp(&v[a], &v[b]));
    permute(v, &mut order);
}

/// Sorts `v` by `key`; elements with equal keys keep their order.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], key: impl Fn(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` in ascending order.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Sorts positions by `cmp`, the earlier position first among equals: a total order, so
/// the unstable sort (smaller than the stable one, and without its buffer) gives the
/// stable result.
fn sort_positions(order: &mut [usize], cmp: &dyn Fn(usize, usize) -> Ordering) {
    order.sort_unstable_by(|&a, &b| cmp(a, b).then(a.cmp(&b)));
}

/// Puts at each position `k` the element that was at `order[k]`, a cycle of the
/// permutation at a time (`order` ends up as the identity, marking what is done).
fn permute<T>(v: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        let mut k = start;
        loop {
            let next = order[k];
            order[k] = k;
            if next == start {
                break;
            }
            v.swap(k, next);
            k = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_as_the_standard_librarys_stable_sort() {
        let mut x: u64 = 7;
        for len in [0, 1, 2, 3, 10, 33, 200, 1_000] {
            for modulus in [1, 3, 50, u64::MAX] {
                let v: Vec<(u64, usize)> = (0..len)
                    .map(|i| {
                        x = crate::engine::splitmix::finalize(x);
                        (x % modulus, i)
                    })
                    .collect();
                // Sorted by the first field only: the second shows whether equals kept
                // their order.
                let mut want = v.clone();
                want.sort_by_key(|p| p.0);
                let mut got = v.clone();
                sort_by_key(&mut got, |p| p.0);
                assert_eq!(got, want, "{len} elements modulo {modulus}");
                let mut want = v.clone();
                want.sort_by_key(|p| std::cmp::Reverse(p.0));
                let mut got = v.clone();
                sort_by(&mut got, |a, b| b.0.cmp(&a.0));
                assert_eq!(got, want, "{len} elements modulo {modulus}, descending");
                let mut want = v.clone();
                want.sort();
                let mut got = v;
                sort(&mut got);
                assert_eq!(got, want);
            }
        }
    }
}
