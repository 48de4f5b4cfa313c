//! The event log: everything the bus carried out, in order, and its stable hash.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::ops::{Bound, Index, RangeBounds};

use crate::engine::shared_vec::{self, SharedVec};

use super::{Fault, ServerId};
use crate::engine::{ConnId, Event};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    /// Milliseconds since the run started.
    pub time: u64,
    /// The server it happened on, if any.
    pub server: Option<ServerId>,
    pub kind: LogKind,
    /// For a chunk delivered to a replica on its master link: the replica's applied
    /// replication offset (`slave_repl_offset`) before and after the chunk. Derived from
    /// the bytes and the engine's state, so it is not part of [`LogEntry::line`] (the hash
    /// already covers what determines it); [`LogEntry::annotated_line`] shows it.
    pub repl_offsets: Option<(u64, u64)>,
    /// For a delivered chunk: when its sender wrote it. Like `repl_offsets`, not part of
    /// [`LogEntry::line`]: the run that determines it is already hashed. The space-time
    /// diagram draws its arrows from here to the delivery.
    pub sent: Option<SentAt>,
}

/// The moment a chunk was written by its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentAt {
    /// Milliseconds since the run started.
    pub time: u64,
    /// Log entries recorded before the write: the send happened after entry
    /// `log_position - 1` and before entry `log_position`.
    pub log_position: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKind {
    ServerStarted {
        name: String,
        port: u16,
    },
    ConsoleInput {
        line: String,
    },
    /// Reply bytes to the console.
    Reply {
        data: Vec<u8>,
    },
    Connect {
        conn: ConnId,
        host: String,
        port: u16,
    },
    Accepted {
        conn: ConnId,
        from: ServerId,
    },
    Connected {
        conn: ConnId,
    },
    ConnectFailed {
        conn: ConnId,
        reason: String,
    },
    /// A chunk of bytes arrived on `conn` of `server`.
    Deliver {
        conn: ConnId,
        from: Option<ServerId>,
        data: Vec<u8>,
    },
    Closed {
        conn: ConnId,
        reason: String,
    },
    Cut {
        a: ServerId,
        b: ServerId,
    },
    Heal {
        a: ServerId,
        b: ServerId,
    },
    Engine(Event),
    /// A fault injected into the network or a server (immediately or as scheduled).
    Fault(Fault),
    /// A crashed server's connections die with it; a peer learns it here.
    Crashed,
    /// The server process started again, with what it loaded from its RDB on disk.
    Restarted {
        from_disk: bool,
        keys: usize,
        repl: Option<(String, u64)>,
    },
    /// A restart from disk could not read the RDB: the server stays down (Redis exits).
    RestartFailed {
        reason: String,
    },
    /// The server's RDB on disk was replaced by a fresh snapshot.
    Saved {
        bytes: usize,
    },
    /// A paused (SIGSTOPped) server was resumed; `queued` events had waited for it.
    Resumed {
        queued: usize,
    },
    /// Held traffic on the link `from -> to` was let through, in order.
    Released {
        from: ServerId,
        to: ServerId,
        items: usize,
    },
    /// `bytes` of `conn` left the sender's send buffer onto a bandwidth-limited link.
    Drained {
        conn: ConnId,
        bytes: usize,
    },
    /// The server was taken out of the playground (down for good; its id stays taken).
    Removed,
}

impl LogEntry {
    /// One canonical line: the hash input, and what `replscope-sim` prints.
    pub fn line(&self) -> String {
        let mut s = format!("#{} t={}", self.index, self.time);
        if let Some(server) = self.server {
            let _ = write!(s, " s{server}");
        }
        let _ = match &self.kind {
            LogKind::ServerStarted { name, port } => write!(s, " started {name} port={port}"),
            LogKind::ConsoleInput { line } => write!(s, " console> {line}"),
            LogKind::Reply { data } => write!(s, " reply {}", escape(data)),
            LogKind::Connect { conn, host, port } => write!(s, " connect c{conn} -> {host}:{port}"),
            LogKind::Accepted { conn, from } => write!(s, " accept c{conn} from s{from}"),
            LogKind::Connected { conn } => write!(s, " connected c{conn}"),
            LogKind::ConnectFailed { conn, reason } => {
                write!(s, " connect-failed c{conn} {reason}")
            }
            LogKind::Deliver { conn, from, data } => match from {
                Some(f) => write!(
                    s,
                    " recv c{conn} from s{f} {}B {}",
                    data.len(),
                    escape(data)
                ),
                None => write!(s, " recv c{conn} {}B {}", data.len(), escape(data)),
            },
            LogKind::Closed { conn, reason } => write!(s, " closed c{conn} ({reason})"),
            LogKind::Cut { a, b } => write!(s, " cut s{a} <-> s{b}"),
            LogKind::Heal { a, b } => write!(s, " heal s{a} <-> s{b}"),
            LogKind::Engine(e) => write!(s, " {e:?}"),
            LogKind::Fault(f) => write!(s, " fault {f}"),
            LogKind::Crashed => write!(s, " crashed (memory lost, connections reset)"),
            LogKind::Restarted {
                from_disk,
                keys,
                repl,
            } => {
                let from = if *from_disk {
                    "from its RDB on disk"
                } else {
                    "empty (no RDB loaded)"
                };
                match repl {
                    Some((id, off)) => write!(
                        s,
                        " restarted {from}: {keys} keys, replid {id} offset {off}"
                    ),
                    None => write!(s, " restarted {from}: {keys} keys, no replication info"),
                }
            }
            LogKind::RestartFailed { reason } => write!(s, " restart failed: {reason}"),
            LogKind::Saved { bytes } => write!(s, " saved RDB to disk ({bytes}B)"),
            LogKind::Resumed { queued } => write!(s, " resumed ({queued} events had waited)"),
            LogKind::Released { from, to, items } => {
                write!(s, " released s{from} -> s{to} ({items} held)")
            }
            LogKind::Drained { conn, bytes } => {
                write!(s, " sent c{conn} {bytes}B (left the send buffer)")
            }
            LogKind::Removed => write!(s, " removed (down for good)"),
        };
        s
    }

    /// [`LogEntry::line`] plus the replication offsets a delivered chunk moved a replica
    /// through, when known. For reading, not hashed.
    pub fn annotated_line(&self) -> String {
        match self.repl_offsets {
            Some((before, after)) => format!("{} [offset {before}..{after}]", self.line()),
            None => self.line(),
        }
    }
}

/// Printable form of bytes; long payloads are summarised by length and hash so log lines
/// stay readable while the hash still covers every byte.
fn escape(data: &[u8]) -> String {
    const SHOWN: usize = 120;
    let text = crate::bus::console::quote(&data[..data.len().min(SHOWN)]);
    if data.len() > SHOWN {
        let digest = Sha256::digest(data);
        format!("{text}... sha256={}", hex(&digest[..8]))
    } else {
        text
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of the canonical lines of `log`: what [`super::Bus::log_hash`] returns for a
/// whole log, usable on any part of it.
pub fn hash(log: LogView<'_>) -> String {
    let mut h = Sha256::new();
    for e in log {
        h.update(e.line().as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// The whole timeline's entries, in a [`SharedVec`]'s fixed-size pages: appending never
/// moves an entry, so a long run's log never copies what it already holds (one big copy,
/// as a `Vec` makes when it doubles, would stall the page). Nothing shares the pages: the
/// checkpoints do not copy the log.
#[derive(Debug, Default)]
pub struct Log {
    entries: SharedVec<LogEntry>,
}

impl Log {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn push(&mut self, entry: LogEntry) {
        self.entries.push(entry);
    }

    /// Moves every entry of `entries` to the end of the log, leaving it empty.
    pub fn append(&mut self, entries: &mut Vec<LogEntry>) {
        for e in entries.drain(..) {
            self.push(e);
        }
    }

    pub fn truncate(&mut self, len: usize) {
        self.entries.truncate(len);
    }

    /// The first `len` entries.
    pub fn view(&self, len: usize) -> LogView<'_> {
        LogView {
            log: self,
            start: 0,
            end: len.min(self.len()),
        }
    }

    fn at(&self, i: usize) -> &LogEntry {
        &self.entries[i]
    }
}

/// The entries of a [`LogView`], in order.
pub type Iter<'a> = shared_vec::Iter<'a, LogEntry>;

/// A contiguous run of a [`Log`]'s entries, indexed from its own start like a slice.
#[derive(Debug, Clone, Copy)]
pub struct LogView<'a> {
    log: &'a Log,
    start: usize,
    end: usize,
}

impl<'a> LogView<'a> {
    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn get(self, i: usize) -> Option<&'a LogEntry> {
        (i < self.len()).then(|| self.log.at(self.start + i))
    }

    pub fn first(self) -> Option<&'a LogEntry> {
        self.get(0)
    }

    pub fn last(self) -> Option<&'a LogEntry> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(self) -> Iter<'a> {
        self.log.entries.iter_range(self.start, self.end)
    }

    /// The entries in `range` of this view, like slicing; panics past its end.
    pub fn range(self, range: impl RangeBounds<usize>) -> LogView<'a> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s + 1,
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e + 1,
            Bound::Excluded(&e) => e,
            Bound::Unbounded => self.len(),
        };
        self.sub(start, end)
    }

    fn sub(self, start: usize, end: usize) -> LogView<'a> {
        assert!(start <= end && end <= self.len(), "log range out of bounds");
        LogView {
            log: self.log,
            start: self.start + start,
            end: self.start + end,
        }
    }

    /// Like [`slice::partition_point`]: the index of the first entry for which `pred` is
    /// false, the view being partitioned by it.
    pub fn partition_point(self, mut pred: impl FnMut(&LogEntry) -> bool) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.log.at(self.start + mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

impl<'a> Index<usize> for LogView<'a> {
    type Output = LogEntry;

    fn index(&self, i: usize) -> &LogEntry {
        self.get(i).expect("log index out of range")
    }
}

impl<'a> IntoIterator for LogView<'a> {
    type Item = &'a LogEntry;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::shared_vec::PAGE;

    fn entry(index: u64) -> LogEntry {
        LogEntry {
            index,
            time: index / 3,
            server: None,
            kind: LogKind::Crashed,
            repl_offsets: None,
            sent: None,
        }
    }

    #[test]
    fn appending_never_moves_an_entry() {
        let mut log = Log::default();
        log.push(entry(0));
        let first = &log.view(1)[0] as *const LogEntry;
        let mut batch = Vec::new();
        for i in 1..100_000 {
            batch.push(entry(i));
            if batch.len() == 7 {
                log.append(&mut batch);
            }
        }
        log.append(&mut batch);
        assert_eq!(log.len(), 100_000);
        let view = log.view(log.len());
        assert_eq!(&view[0] as *const LogEntry, first);
        // Nor any other: the first entry of every page stays where it was written.
        let starts: Vec<*const LogEntry> = (0..log.len())
            .step_by(PAGE)
            .map(|i| &view[i] as *const LogEntry)
            .collect();
        log.append(&mut (100_000..200_000).map(entry).collect());
        let view = log.view(log.len());
        assert!((0..100_000)
            .step_by(PAGE)
            .zip(&starts)
            .all(|(i, &p)| std::ptr::eq(&view[i], p)));
    }

    #[test]
    fn views_agree_with_a_vec() {
        let n = 3 * PAGE + 17;
        let model: Vec<LogEntry> = (0..n as u64).map(entry).collect();
        let mut log = Log::default();
        log.append(&mut model.clone());
        for cut in [n, 2 * PAGE + 1, 2 * PAGE, PAGE - 1, 1, 0] {
            log.truncate(cut);
            let model = &model[..cut];
            let view = log.view(cut);
            assert_eq!(view.len(), cut);
            assert_eq!(view.is_empty(), cut == 0);
            assert_eq!(view.first(), model.first());
            assert_eq!(view.last(), model.last());
            assert!(view.iter().eq(model.iter()));
            assert!(view.iter().rev().eq(model.iter().rev()));
            assert_eq!(view.iter().len(), cut);
            for (a, b) in [(0, cut), (cut / 3, cut / 2), (cut / 2, cut), (cut, cut)] {
                let sub = view.range(a..b);
                assert!(sub.iter().eq(model[a..b].iter()));
                assert_eq!(sub.get(0), model[a..b].first());
                assert_eq!(sub.get(b - a), None);
                assert_eq!(sub.iter().nth(1), model[a..b].get(1));
                for t in [0, 1, PAGE as u64 / 3, n as u64] {
                    assert_eq!(
                        sub.partition_point(|e| e.time < t),
                        model[a..b].partition_point(|e| e.time < t)
                    );
                }
            }
            // Refilling after a cut starts where the cut left off.
            let mut again: Vec<LogEntry> = (cut as u64..cut as u64 + 5).map(entry).collect();
            log.append(&mut again);
            assert!(log
                .view(cut + 5)
                .iter()
                .map(|e| e.index)
                .eq(0..cut as u64 + 5));
            log.truncate(cut);
        }
    }
}
