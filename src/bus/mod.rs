//! The in-page network: virtual servers joined by ordered byte streams on one virtual clock.
//!
//! The bus owns the only clock. Every thing that happens — a connection attempt, a chunk
//! of bytes arriving, a connection closing, a server's cron firing, a command typed into a
//! console — is an event in one queue ordered by (virtual time, sequence number), so the
//! same inputs always replay as the same run. Every event that is carried out is appended
//! to the event log, whose hash identifies the run.
//!
//! Links behave like TCP: bytes on a live connection arrive in order, after the link's
//! latency, never reordered or dropped. Cutting a link resets its connections (both ends
//! see them close; bytes in flight are lost with them) and refuses new ones until healed.

mod console;
mod log;

use std::collections::{BTreeMap, BTreeSet};

use crate::engine::{resp, Config, ConnId, Input, Node, Output, PeerAddr};
pub use console::{format_reply, quote, Console, ConsoleEntry};
pub use log::{LogEntry, LogKind};

/// Index of a server on the bus.
pub type ServerId = usize;

/// Virtual time at which every run starts: 2026-01-01T00:00:00Z, in unix milliseconds.
/// A fixed epoch keeps absolute expiry times (`PXAT ...`) identical between runs.
pub const EPOCH_MS: u64 = 1_767_225_600_000;

/// Default one-way latency of a link, in milliseconds.
pub const DEFAULT_LATENCY_MS: u64 = 1;

pub struct Server {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub node: Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Endpoint {
    Server(ServerId, ConnId),
    Console(ServerId),
}

#[derive(Debug, Clone)]
enum Pending {
    ConnectArrive { from: ServerId, conn: ConnId, to: Option<ServerId> },
    Connected { server: ServerId, conn: ConnId },
    ConnectFailed { server: ServerId, conn: ConnId, reason: String },
    Deliver { to: ServerId, conn: ConnId, from: Endpoint, data: Vec<u8> },
    Closed { server: ServerId, conn: ConnId },
    Tick { server: ServerId },
}

/// The simulated network and its servers.
pub struct Bus {
    now: u64,
    seed: u64,
    servers: Vec<Server>,
    /// Each live connection end, mapped to the other end.
    peers: BTreeMap<(ServerId, ConnId), Endpoint>,
    /// Earliest time the next chunk on a connection may arrive (keeps streams in order).
    stream_tail: BTreeMap<(ServerId, ConnId), u64>,
    queue: BTreeMap<(u64, u64), Pending>,
    seq: u64,
    scheduled_tick: Vec<Option<u64>>,
    consoles: Vec<Console>,
    cuts: BTreeSet<(ServerId, ServerId)>,
    latency_ms: u64,
    next_ephemeral_port: u16,
    log: Vec<LogEntry>,
}

fn mix_seed(seed: u64, index: u64) -> u64 {
    // SplitMix64 finaliser: independent-looking per-server seeds from one run seed.
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Bus {
    pub fn new(seed: u64) -> Bus {
        Bus {
            now: EPOCH_MS,
            seed,
            servers: Vec::new(),
            peers: BTreeMap::new(),
            stream_tail: BTreeMap::new(),
            queue: BTreeMap::new(),
            seq: 0,
            scheduled_tick: Vec::new(),
            consoles: Vec::new(),
            cuts: BTreeSet::new(),
            latency_ms: DEFAULT_LATENCY_MS,
            next_ephemeral_port: 40000,
            log: Vec::new(),
        }
    }

    /// Adds a server listening on 127.0.0.1:`port`.
    pub fn add_server(&mut self, name: &str, mut config: Config) -> ServerId {
        let id = self.servers.len();
        config.bind = "127.0.0.1".into();
        let port = config.port;
        let node = Node::new(config, self.now, mix_seed(self.seed, id as u64));
        self.servers.push(Server { name: name.to_string(), host: "127.0.0.1".into(), port, node });
        self.scheduled_tick.push(None);
        self.consoles.push(Console::default());
        self.record(Some(id), LogKind::ServerStarted { name: name.to_string(), port });
        self.drain(id);
        id
    }

    pub fn now(&self) -> u64 {
        self.now
    }

    /// Milliseconds since the run started.
    pub fn elapsed_ms(&self) -> u64 {
        self.now - EPOCH_MS
    }

    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    pub fn server(&self, id: ServerId) -> &Server {
        &self.servers[id]
    }

    pub fn server_by_port(&self, port: u16) -> Option<ServerId> {
        self.servers.iter().position(|s| s.port == port)
    }

    pub fn console(&self, id: ServerId) -> &Console {
        &self.consoles[id]
    }

    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    /// SHA-256 of the canonical text of every log entry: equal hashes, equal runs.
    pub fn log_hash(&self) -> String {
        log::hash(&self.log)
    }

    pub fn is_cut(&self, a: ServerId, b: ServerId) -> bool {
        self.cuts.contains(&(a.min(b), a.max(b)))
    }

    /// Whether `a` and `b` have at least one live connection between them.
    pub fn connected(&self, a: ServerId, b: ServerId) -> bool {
        self.peers.iter().any(|((s, _), e)| *s == a && matches!(e, Endpoint::Server(t, _) if *t == b))
    }

    /// Types a command line into a server's console, as redis-cli would send it.
    /// Returns redis-cli's complaint for a line it would not send.
    pub fn submit_command(&mut self, server: ServerId, line: &str) -> Result<(), String> {
        let Some(args) = resp::split_args(line.as_bytes()) else {
            return Err("Invalid argument(s)".into());
        };
        if args.is_empty() {
            return Ok(());
        }
        let conn = self.console_conn(server);
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let bytes = resp::encode_command(&refs);
        self.consoles[server].push_input(line.to_string());
        self.record(Some(server), LogKind::ConsoleInput { line: line.to_string() });
        let now = self.now;
        self.servers[server].node.handle(now, Input::Bytes { conn, data: bytes });
        self.drain(server);
        Ok(())
    }

    /// The console's connection to its server (a local client, no network in between).
    fn console_conn(&mut self, server: ServerId) -> ConnId {
        if let Some(conn) = self.consoles[server].conn {
            if self.peers.contains_key(&(server, conn)) {
                return conn;
            }
        }
        let peer = PeerAddr { ip: "127.0.0.1".into(), port: self.ephemeral_port() };
        let now = self.now;
        let conn = self.servers[server].node.accept(now, peer);
        self.peers.insert((server, conn), Endpoint::Console(server));
        self.consoles[server].conn = Some(conn);
        conn
    }

    fn ephemeral_port(&mut self) -> u16 {
        let p = self.next_ephemeral_port;
        self.next_ephemeral_port = if p == u16::MAX { 40000 } else { p + 1 };
        p
    }

    /// Cuts the network between two servers: their connections reset, new ones fail.
    pub fn cut(&mut self, a: ServerId, b: ServerId) {
        if !self.cuts.insert((a.min(b), a.max(b))) {
            return;
        }
        self.record(None, LogKind::Cut { a, b });
        let doomed: Vec<(ServerId, ConnId)> = self
            .peers
            .iter()
            .filter(|((s, _), e)| matches!(e, Endpoint::Server(t, _) if (*s == a && *t == b) || (*s == b && *t == a)))
            .map(|(k, _)| *k)
            .collect();
        for (server, conn) in doomed {
            self.peers.remove(&(server, conn));
            self.stream_tail.remove(&(server, conn));
            self.record(Some(server), LogKind::Closed { conn, reason: "connection reset (link cut)".into() });
            let now = self.now;
            self.servers[server].node.handle(now, Input::Closed { conn });
            self.drain(server);
        }
    }

    pub fn heal(&mut self, a: ServerId, b: ServerId) {
        if self.cuts.remove(&(a.min(b), a.max(b))) {
            self.record(None, LogKind::Heal { a, b });
        }
    }

    /// Carries out the next event. Returns false when nothing is scheduled.
    pub fn step(&mut self) -> bool {
        let Some((&(time, seq), _)) = self.queue.iter().next() else { return false };
        let pending = self.queue.remove(&(time, seq)).expect("queued event");
        self.now = self.now.max(time);
        self.apply(pending);
        true
    }

    /// Runs every event up to and including virtual time `until` (unix ms).
    pub fn run_until(&mut self, until: u64) {
        while let Some((&(time, _), _)) = self.queue.iter().next() {
            if time > until {
                break;
            }
            self.step();
        }
        self.now = self.now.max(until);
    }

    /// Advances virtual time by `ms`.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        self.run_until(until);
    }

    fn schedule(&mut self, at: u64, p: Pending) {
        self.seq += 1;
        self.queue.insert((at, self.seq), p);
    }

    fn record(&mut self, server: Option<ServerId>, kind: LogKind) {
        let index = self.log.len() as u64;
        self.log.push(LogEntry { index, time: self.now - EPOCH_MS, server, kind });
    }

    fn apply(&mut self, p: Pending) {
        let now = self.now;
        match p {
            Pending::Tick { server } => {
                self.scheduled_tick[server] = None;
                if self.servers[server].node.next_timer() <= now {
                    self.servers[server].node.tick(now);
                }
                self.drain(server);
            }
            Pending::ConnectArrive { from, conn, to } => {
                let reason = match to {
                    None => Some("Connection refused".to_string()),
                    Some(t) if self.is_cut(from, t) => Some("No route to host".to_string()),
                    Some(_) => None,
                };
                if let (None, Some(to)) = (&reason, to) {
                    let peer = PeerAddr { ip: "127.0.0.1".into(), port: self.ephemeral_port() };
                    let accepted = self.servers[to].node.accept(now, peer);
                    self.peers.insert((from, conn), Endpoint::Server(to, accepted));
                    self.peers.insert((to, accepted), Endpoint::Server(from, conn));
                    self.record(Some(to), LogKind::Accepted { conn: accepted, from });
                    self.drain(to);
                    let at = now + self.latency_ms;
                    self.schedule(at, Pending::Connected { server: from, conn });
                } else {
                    let reason = reason.unwrap_or_default();
                    let at = now + self.latency_ms;
                    self.schedule(at, Pending::ConnectFailed { server: from, conn, reason });
                }
            }
            Pending::Connected { server, conn } => {
                if !self.peers.contains_key(&(server, conn)) {
                    return; // reset while the handshake was in flight
                }
                self.record(Some(server), LogKind::Connected { conn });
                self.servers[server].node.handle(now, Input::Connected { conn });
                self.drain(server);
            }
            Pending::ConnectFailed { server, conn, reason } => {
                self.record(Some(server), LogKind::ConnectFailed { conn, reason: reason.clone() });
                self.servers[server].node.handle(now, Input::ConnectFailed { conn, reason });
                self.drain(server);
            }
            Pending::Deliver { to, conn, from, data } => {
                if !self.peers.contains_key(&(to, conn)) {
                    return; // the connection was reset: bytes in flight are lost with it
                }
                let from_server = match from {
                    Endpoint::Server(s, _) => Some(s),
                    Endpoint::Console(_) => None,
                };
                self.record(Some(to), LogKind::Deliver { conn, from: from_server, data: data.clone() });
                self.servers[to].node.handle(now, Input::Bytes { conn, data });
                self.drain(to);
            }
            Pending::Closed { server, conn } => {
                if self.peers.remove(&(server, conn)).is_none() {
                    return;
                }
                self.stream_tail.remove(&(server, conn));
                self.record(Some(server), LogKind::Closed { conn, reason: "closed by peer".into() });
                self.servers[server].node.handle(now, Input::Closed { conn });
                self.drain(server);
            }
        }
    }

    /// Carries out everything a server asked for, and keeps its cron scheduled.
    fn drain(&mut self, server: ServerId) {
        while let Some(out) = self.servers[server].node.poll_output() {
            match out {
                Output::Send { conn, data } => self.on_send(server, conn, data),
                Output::Connect { conn, host, port } => {
                    self.record(Some(server), LogKind::Connect { conn, host: host.clone(), port });
                    let to = if host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost") {
                        self.server_by_port(port)
                    } else {
                        None
                    };
                    let at = self.now + self.latency_ms;
                    self.schedule(at, Pending::ConnectArrive { from: server, conn, to });
                }
                // Nothing waits in a send buffer on the bus (every sent chunk is already on
                // its link), so dropping a connection at once is the same as closing it.
                Output::Close { conn } | Output::Abort { conn } => {
                    let Some(peer) = self.peers.remove(&(server, conn)) else { continue };
                    self.stream_tail.remove(&(server, conn));
                    self.record(Some(server), LogKind::Closed { conn, reason: "closed locally".into() });
                    match peer {
                        Endpoint::Server(to, their) => {
                            // The FIN travels behind any bytes already in flight.
                            let at = self.stream_tail.get(&(to, their)).copied().unwrap_or(0).max(self.now + self.latency_ms);
                            self.schedule(at, Pending::Closed { server: to, conn: their });
                        }
                        Endpoint::Console(s) => self.consoles[s].conn = None,
                    }
                }
                Output::Event(e) => self.record(Some(server), LogKind::Engine(e)),
            }
        }
        let next = self.servers[server].node.next_timer();
        if self.scheduled_tick[server].is_none_or(|t| next < t) {
            self.scheduled_tick[server] = Some(next);
            self.schedule(next.max(self.now), Pending::Tick { server });
        }
    }

    /// Puts a chunk on its link. Links have no bandwidth limit yet, so the chunk leaves
    /// the server's send buffer at once, and the server is told so right away
    /// (`Input::Written`, not in the event log: it follows from the send). A link with
    /// a bandwidth would report it as the link takes the bytes.
    fn on_send(&mut self, server: ServerId, conn: ConnId, data: Vec<u8>) {
        let len = data.len() as u64;
        let live = self.peers.contains_key(&(server, conn));
        match self.peers.get(&(server, conn)).copied() {
            Some(Endpoint::Console(s)) => {
                self.record(Some(server), LogKind::Reply { data: data.clone() });
                self.consoles[s].receive(&data);
            }
            Some(Endpoint::Server(to, their)) => {
                let tail = self.stream_tail.entry((to, their)).or_insert(0);
                let at = (*tail).max(self.now + self.latency_ms);
                *tail = at;
                self.schedule(at, Pending::Deliver { to, conn: their, from: Endpoint::Server(server, conn), data });
            }
            None => {} // the connection is already gone
        }
        if live {
            let now = self.now;
            self.servers[server].node.handle(now, Input::Written { conn, bytes: len });
        }
    }
}
