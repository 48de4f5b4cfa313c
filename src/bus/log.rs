//! The event log: everything the bus carried out, in order, and its stable hash.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;

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
/// whole log, usable on any prefix.
pub fn hash(log: &[LogEntry]) -> String {
    let mut h = Sha256::new();
    for e in log {
        h.update(e.line().as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}
