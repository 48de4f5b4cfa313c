//! The event log: everything the bus carried out, in order, and its stable hash.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;

use super::ServerId;
use crate::engine::{ConnId, Event};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub index: u64,
    /// Milliseconds since the run started.
    pub time: u64,
    /// The server it happened on, if any.
    pub server: Option<ServerId>,
    pub kind: LogKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogKind {
    ServerStarted { name: String, port: u16 },
    ConsoleInput { line: String },
    /// Reply bytes to the console.
    Reply { data: Vec<u8> },
    Connect { conn: ConnId, host: String, port: u16 },
    Accepted { conn: ConnId, from: ServerId },
    Connected { conn: ConnId },
    ConnectFailed { conn: ConnId, reason: String },
    /// A chunk of bytes arrived on `conn` of `server`.
    Deliver { conn: ConnId, from: Option<ServerId>, data: Vec<u8> },
    Closed { conn: ConnId, reason: String },
    Cut { a: ServerId, b: ServerId },
    Heal { a: ServerId, b: ServerId },
    Engine(Event),
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
            LogKind::ConnectFailed { conn, reason } => write!(s, " connect-failed c{conn} {reason}"),
            LogKind::Deliver { conn, from, data } => match from {
                Some(f) => write!(s, " recv c{conn} from s{f} {}B {}", data.len(), escape(data)),
                None => write!(s, " recv c{conn} {}B {}", data.len(), escape(data)),
            },
            LogKind::Closed { conn, reason } => write!(s, " closed c{conn} ({reason})"),
            LogKind::Cut { a, b } => write!(s, " cut s{a} <-> s{b}"),
            LogKind::Heal { a, b } => write!(s, " heal s{a} <-> s{b}"),
            LogKind::Engine(e) => write!(s, " {e:?}"),
        };
        s
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

pub fn hash(log: &[LogEntry]) -> String {
    let mut h = Sha256::new();
    for e in log {
        h.update(e.line().as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}
