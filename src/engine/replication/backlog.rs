//! The replication backlog: the last `repl-backlog-size` bytes of the replication stream.
//!
//! It is what makes a partial resync possible. A replica that lost its link comes back
//! saying "I have everything up to offset N"; if byte N+1 is still in the ring, the master
//! can send just the bytes from there on (`+CONTINUE`) instead of a whole snapshot.
//!
//! Offsets are 1-based positions in the stream, as in Redis: the first byte ever produced
//! is at offset 1, and `master_repl_offset` is the offset of the last byte produced.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    ring: Vec<u8>,
    /// Index in `ring` where the next byte will be written.
    write_index: usize,
    /// Bytes of history held (≤ capacity).
    histlen: usize,
    /// Stream offset of the oldest byte held (when `histlen == 0`: the next byte's offset).
    first_byte_offset: u64,
}

impl Backlog {
    /// A new, empty backlog for a stream whose last produced byte is `master_repl_offset`.
    pub fn new(capacity: usize, master_repl_offset: u64) -> Self {
        Backlog {
            ring: vec![0; capacity],
            write_index: 0,
            histlen: 0,
            first_byte_offset: master_repl_offset + 1,
        }
    }

    pub fn capacity(&self) -> usize {
        self.ring.len()
    }

    pub fn histlen(&self) -> usize {
        self.histlen
    }

    pub fn first_byte_offset(&self) -> u64 {
        self.first_byte_offset
    }

    /// Offset of the newest byte held (the master's offset when the backlog is current).
    pub fn last_offset(&self) -> u64 {
        self.first_byte_offset + self.histlen as u64 - 1
    }

    pub fn append(&mut self, mut data: &[u8]) {
        let cap = self.ring.len();
        if cap == 0 {
            return;
        }
        let total = data.len();
        // Only the last `cap` bytes can survive; skip straight to them.
        if data.len() > cap {
            data = &data[data.len() - cap..];
        }
        let first = (cap - self.write_index).min(data.len());
        self.ring[self.write_index..self.write_index + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        self.ring[..rest].copy_from_slice(&data[first..]);
        self.write_index = (self.write_index + data.len()) % cap;

        let new_hist = self.histlen + total;
        if new_hist > cap {
            self.first_byte_offset += (new_hist - cap) as u64;
            self.histlen = cap;
        } else {
            self.histlen = new_hist;
        }
    }

    /// Whether a replica that has everything before `offset` can continue from the backlog:
    /// `offset` must be a held byte, or the very next byte to be produced.
    pub fn covers(&self, offset: u64) -> bool {
        offset >= self.first_byte_offset && offset <= self.first_byte_offset + self.histlen as u64
    }

    /// The bytes from stream offset `from` to the newest byte, if `covers(from)`.
    pub fn read_from(&self, from: u64) -> Option<Vec<u8>> {
        if !self.covers(from) {
            return None;
        }
        let skip = (from - self.first_byte_offset) as usize;
        let len = self.histlen - skip;
        let cap = self.ring.len();
        let oldest = (self.write_index + cap - self.histlen) % cap;
        let start = (oldest + skip) % cap;
        let mut out = Vec::with_capacity(len);
        let first = (cap - start).min(len);
        out.extend_from_slice(&self.ring[start..start + first]);
        out.extend_from_slice(&self.ring[..len - first]);
        Some(out)
    }

    /// Changes the capacity, keeping the newest bytes that still fit.
    pub fn resize(&mut self, capacity: usize) {
        let newest = self.read_from(self.first_byte_offset).unwrap_or_default();
        let keep = newest.len().min(capacity);
        let end_offset = self.first_byte_offset + self.histlen as u64;
        *self = Backlog::new(capacity, end_offset - 1 - keep as u64);
        self.append(&newest[newest.len() - keep..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_backlog_starts_after_current_offset() {
        let b = Backlog::new(16, 259);
        assert_eq!(b.first_byte_offset(), 260);
        assert_eq!(b.histlen(), 0);
        assert!(b.covers(260));
        assert!(!b.covers(259));
        assert!(!b.covers(261));
        assert_eq!(b.read_from(260), Some(vec![]));
    }

    #[test]
    fn wraps_and_keeps_newest_bytes() {
        let mut b = Backlog::new(8, 0);
        b.append(b"abcdef");
        b.append(b"ghij");
        assert_eq!(b.histlen(), 8);
        assert_eq!(b.first_byte_offset(), 3);
        assert_eq!(b.last_offset(), 10);
        assert_eq!(b.read_from(3).unwrap(), b"cdefghij");
        assert_eq!(b.read_from(9).unwrap(), b"ij");
        assert_eq!(b.read_from(11).unwrap(), b"");
        assert!(!b.covers(2));
        b.append(b"0123456789xyz");
        assert_eq!(b.read_from(b.first_byte_offset()).unwrap(), b"56789xyz");
        assert_eq!(b.first_byte_offset(), 16);
    }

    #[test]
    fn resize_keeps_the_newest_bytes_and_offsets() {
        let mut b = Backlog::new(8, 100);
        b.append(b"abcdefgh");
        b.resize(4);
        assert_eq!(b.first_byte_offset(), 105);
        assert_eq!(b.read_from(105).unwrap(), b"efgh");
        b.resize(16);
        assert_eq!(b.read_from(105).unwrap(), b"efgh");
        b.append(b"ij");
        assert_eq!(b.last_offset(), 110);
    }
}
