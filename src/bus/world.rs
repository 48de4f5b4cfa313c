//! The simulated world: servers and their processes, the event queue and the clock, and
//! how each event is carried out. How bytes travel between servers is in `network.rs`,
//! what each fault does in `faults.rs`. [`super::Bus`] wraps it with the timeline
//! (moves, checkpoints, the log).
//!
//! A `World` is plain data and `Clone`: cloning it is a checkpoint for time travel.
//! Everything it does is a function of its state and the move it is given; the only
//! randomness (link jitter) comes from its own seeded ChaCha8 stream, which is part of the
//! state and so travels with every checkpoint.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use litemap::LiteMap;
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;

use super::console::Console;
use super::log::{LogEntry, LogKind, SentAt};
use super::{Fault, LinkConfig, ServerId, DEFAULT_LATENCY_MS, EPOCH_MS};
use crate::engine::splitmix::mix_seed;
use crate::engine::{resp, Config, ConnId, Input, Node, Output, PeerAddr};

#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub node: Node,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Endpoint {
    Server(ServerId, ConnId),
    Console(ServerId),
}

/// Something in flight or due, in the queue ordered by (time, sequence).
#[derive(Debug, Clone)]
pub(crate) enum Pending {
    /// The SYN reaches `to` (None: nobody listens on that address).
    ConnectArrive {
        from: ServerId,
        conn: ConnId,
        to: Option<ServerId>,
    },
    /// The SYN/ACK reaches the connecting side.
    Connected {
        server: ServerId,
        conn: ConnId,
    },
    ConnectFailed {
        server: ServerId,
        conn: ConnId,
        reason: String,
    },
    /// `sent` is when the sender wrote the bytes: (unix ms, log entries recorded by then),
    /// kept only so the delivery's log entry can say where its arrow starts. `leaves_us` is
    /// when (virtual microseconds) its last byte leaves the sender's send buffer onto the
    /// wire, set by `World::transmit`; until then an abort of the sending connection drops
    /// it (see `World::discard_unsent`).
    Deliver {
        to: ServerId,
        conn: ConnId,
        from: Endpoint,
        data: Vec<u8>,
        sent: (u64, u64),
        leaves_us: u64,
    },
    /// The FIN reaches `server`: the peer closed.
    Closed {
        server: ServerId,
        conn: ConnId,
    },
    /// A severed or crashed connection: its end learns it (after the detection delay).
    Reset {
        server: ServerId,
        conn: ConnId,
        reason: String,
    },
    Tick {
        server: ServerId,
    },
    /// Bytes of `conn` finished leaving `server`'s send buffer onto a slow link.
    Drained {
        server: ServerId,
        conn: ConnId,
        bytes: usize,
    },
    /// A fault scheduled for this time.
    Fault(Fault),
}

impl Pending {
    /// The server that must be running to take this event (paused: it waits).
    pub(super) fn target(&self) -> Option<ServerId> {
        match self {
            Pending::ConnectArrive { to, .. } => *to,
            Pending::Connected { server, .. }
            | Pending::ConnectFailed { server, .. }
            | Pending::Closed { server, .. }
            | Pending::Reset { server, .. }
            | Pending::Tick { server }
            | Pending::Drained { server, .. } => Some(*server),
            Pending::Deliver { to, .. } => Some(*to),
            Pending::Fault(_) => None,
        }
    }

    /// The receiving end of a stream this event travels on, for in-order arrival.
    pub(super) fn stream(&self) -> Option<(ServerId, ConnId)> {
        match self {
            Pending::Deliver { to, conn, .. } => Some((*to, *conn)),
            Pending::Closed { server, conn } | Pending::Connected { server, conn } => {
                Some((*server, *conn))
            }
            _ => None,
        }
    }

    pub(super) fn bytes(&self) -> usize {
        match self {
            Pending::Deliver { data, .. } => data.len(),
            _ => 0,
        }
    }
}

/// A queued event, ordered by (time, sequence) only: the sequence number is unique, so
/// the order is total and the same in every run.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub at: u64,
    pub seq: u64,
    /// When it was queued: for a chunk of bytes, when it was sent (what the page needs to
    /// draw it part way along its link). Not part of the order.
    pub queued_at: u64,
    pub event: Pending,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProcState {
    Up,
    /// SIGSTOP: the process takes nothing; what arrives for it waits in `stash`.
    Paused,
    /// Crashed: gone until restarted.
    Down,
}

#[derive(Debug, Clone)]
pub(crate) struct Proc {
    pub state: ProcState,
    /// Events that arrived while paused, in arrival order.
    pub stash: Vec<Pending>,
    /// The server's RDB "on disk" (last save), shared between checkpoints.
    pub disk: Option<Arc<[u8]>>,
    /// How many times it was restarted (feeds the new process's id seed).
    pub incarnation: u64,
    /// Taken out of the playground: down for good, its id kept so the timeline stays valid.
    pub removed: bool,
}

/// One direction of the network between two servers.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// None: [`LinkConfig::default`].
    pub config: Option<LinkConfig>,
    /// Silently partitioned / held: traffic waits in `parked`, nobody is told.
    pub held: bool,
    pub parked: Vec<Pending>,
    /// When (in virtual microseconds) the link finishes serializing what it was given.
    pub wire_free_us: u64,
}

#[derive(Clone)]
pub(crate) struct World {
    pub now: u64,
    pub seed: u64,
    pub rng: ChaCha8Rng,
    pub servers: Vec<Server>,
    pub procs: Vec<Proc>,
    // The maps and sets below hold tens of entries: sorted Vecs (LiteMap), walked in key
    // order as B-trees would be. A set is a map to ().
    /// Each live connection end, mapped to the other end.
    pub peers: LiteMap<(ServerId, ConnId), Endpoint>,
    /// Receiving end of a stream -> latest arrival time scheduled on it (keeps order).
    pub stream_tail: LiteMap<(ServerId, ConnId), u64>,
    /// Outgoing connections whose handshake is still in flight.
    pub connecting: LiteMap<(ServerId, ConnId), ()>,
    /// Connection ends that are dead (severed, peer crashed) but not yet told.
    pub severed: LiteMap<(ServerId, ConnId), ()>,
    pub links: LiteMap<(ServerId, ServerId), Link>,
    /// A min-heap: far fewer bytes moved per event than an ordered map.
    pub queue: BinaryHeap<Reverse<Queued>>,
    pub seq: u64,
    pub scheduled_tick: Vec<Option<u64>>,
    pub consoles: Vec<Console>,
    pub cuts: LiteMap<(ServerId, ServerId), ()>,
    pub next_ephemeral_port: u16,
    /// Log entries recorded so far (the next entry's index).
    pub log_len: u64,
    /// Events carried out so far, recording or not (idle cron loops skipped at once are
    /// not counted): the work the step budget bounds. Part of the world, so a jump back
    /// and a new future count from where the jump landed.
    pub steps: u64,
    /// Entries recorded by the move being carried out; the bus takes them after each move.
    pub new_entries: Vec<LogEntry>,
    /// Off while replaying moves whose entries the log already has.
    pub recording: bool,
    /// Accounted bytes that entered the world so far: servers added, bytes typed, piped or
    /// sent, RDBs saved. Lets the bus estimate the world's size between the walks it makes
    /// at checkpoints (see `budget::world_bytes`) without walking it per move.
    pub traffic: u64,
}

/// The bus's random stream: a constant far from the per-server indexes keeps it apart
/// from the server id seeds drawn from the same run seed.
const RNG_STREAM: u64 = 0x6A09_E667_F3BC_C908;

impl World {
    pub fn new(seed: u64) -> World {
        World {
            now: EPOCH_MS,
            seed,
            rng: ChaCha8Rng::seed_from_u64(mix_seed(seed, RNG_STREAM)),
            servers: Vec::new(),
            procs: Vec::new(),
            peers: LiteMap::new(),
            stream_tail: LiteMap::new(),
            connecting: LiteMap::new(),
            severed: LiteMap::new(),
            links: LiteMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            scheduled_tick: Vec::new(),
            consoles: Vec::new(),
            cuts: LiteMap::new(),
            next_ephemeral_port: 40000,
            log_len: 0,
            steps: 0,
            new_entries: Vec::new(),
            recording: true,
            traffic: 0,
        }
    }

    pub fn add_server(&mut self, name: &str, mut config: Config) -> ServerId {
        let id = self.servers.len();
        config.bind = "127.0.0.1".into();
        let port = config.port;
        let node = Node::new(config, self.now, mix_seed(self.seed, id as u64));
        self.servers.push(Server {
            name: name.to_string(),
            host: "127.0.0.1".into(),
            port,
            node,
        });
        self.procs.push(Proc {
            state: ProcState::Up,
            stash: Vec::new(),
            disk: None,
            incarnation: 0,
            removed: false,
        });
        self.scheduled_tick.push(None);
        self.consoles.push(Console::default());
        self.record(
            Some(id),
            LogKind::ServerStarted {
                name: name.to_string(),
                port,
            },
        );
        self.drain(id);
        id
    }

    pub fn server_by_port(&self, port: u16) -> Option<ServerId> {
        self.servers.iter().position(|s| s.port == port)
    }

    pub fn record(&mut self, server: Option<ServerId>, kind: LogKind) {
        self.record_with(server, kind, None);
    }

    fn record_with(
        &mut self,
        server: Option<ServerId>,
        kind: LogKind,
        repl_offsets: Option<(u64, u64)>,
    ) {
        self.record_entry(server, kind, repl_offsets, None);
    }

    fn record_entry(
        &mut self,
        server: Option<ServerId>,
        kind: LogKind,
        repl_offsets: Option<(u64, u64)>,
        sent: Option<SentAt>,
    ) {
        let index = self.log_len;
        self.log_len += 1;
        if self.recording {
            self.new_entries.push(LogEntry {
                index,
                time: self.now - EPOCH_MS,
                server,
                kind,
                repl_offsets,
                sent,
            });
        }
    }

    /// Stamp for bytes written now: see [`Pending::Deliver`].
    pub(super) fn sent_now(&self) -> (u64, u64) {
        (self.now, self.log_len)
    }

    pub fn schedule(&mut self, at: u64, p: Pending) {
        self.seq += 1;
        self.queue.push(Reverse(Queued {
            at,
            seq: self.seq,
            queued_at: self.now,
            event: p,
        }));
    }

    pub fn next_event_time(&self) -> Option<u64> {
        self.queue.peek().map(|q| q.0.at)
    }

    /// Carries out the next event. Returns false when nothing is scheduled.
    pub fn step(&mut self) -> bool {
        let Some(Reverse(Queued { at, event, .. })) = self.queue.pop() else {
            return false;
        };
        self.now = self.now.max(at);
        self.steps += 1;
        self.apply(event);
        true
    }

    /// How far idle time can be skipped in one go, up to `until`: the last instant before
    /// anything but an idle server's cron tick is due. `None` when the next event is not
    /// such a tick (or a server's tick is not the single one the chain of crons keeps).
    ///
    /// A server is idle when its node says every cron loop does nothing
    /// ([`Node::idle_cron`]); its one queued `Tick` is then a chain: each tick runs one
    /// loop, sends nothing, and queues the next one a period later.
    pub fn idle_window(&self, until: u64) -> Option<u64> {
        let first = self.queue.peek()?;
        if first.0.at > until || !self.is_idle_tick(&first.0) {
            return None;
        }
        // Far beyond any run's virtual time, so the next tick's time cannot overflow.
        let mut bound = until.min(u64::MAX / 2);
        let mut ticks = vec![0u32; self.servers.len()];
        for Reverse(q) in self.queue.iter() {
            match q.event {
                Pending::Tick { server } if self.is_idle_tick(q) => ticks[server] += 1,
                // Stop just before it: ticks due at that very instant keep their order
                // with it by being carried out one by one.
                _ => bound = bound.min(q.at.saturating_sub(1)),
            }
        }
        (ticks.iter().all(|&n| n <= 1) && first.0.at <= bound).then_some(bound)
    }

    fn is_idle_tick(&self, q: &Queued) -> bool {
        let Pending::Tick { server } = q.event else {
            return false;
        };
        let node = &self.servers[server].node;
        self.procs[server].state == ProcState::Up
            && self.scheduled_tick[server] == Some(q.at)
            && node.next_cron_at() == q.at
            && node.idle_cron()
    }

    /// Carries out every idle server's cron tick due up to `bound` (from
    /// [`World::idle_window`]) at once, leaving the world exactly as carrying them out one
    /// by one would: each node's loops run arithmetically ([`Node::skip_idle_cron`]), and
    /// each server's next tick gets the time, the sequence number and the queueing time the
    /// chain of ticks would have given it.
    ///
    /// Sequence numbers: carrying out a tick queues its successor with the next number.
    /// So the successor of the last tick carried out for server `i`, at `y_i`, gets
    /// `seq0 + r`, where `r` is the rank of that tick among all ticks carried out in the
    /// window, ordered by (time, sequence number). Between two ticks due at the same
    /// instant, the one whose own number was handed out earlier goes first: a tick queued
    /// before the window (the first of its chain) before any other; otherwise the one
    /// queued at the earlier time (the longer period); with equal times (equal periods),
    /// the chains are in step back to the later chain's first tick, which goes first; and
    /// two first ticks keep their own order.
    pub fn skip_idle_ticks(&mut self, bound: u64) {
        struct Chain {
            server: ServerId,
            first: u64,
            first_seq: u64,
            period: u64,
            ticks: u64,
        }
        let mut chains: Vec<Chain> = Vec::new();
        for Reverse(q) in self.queue.iter() {
            if let Pending::Tick { server } = q.event {
                if q.at <= bound {
                    let period = self.servers[server].node.cron_period();
                    let ticks = (bound - q.at) / period + 1;
                    chains.push(Chain {
                        server,
                        first: q.at,
                        first_seq: q.seq,
                        period,
                        ticks,
                    });
                }
            }
        }
        // Whether the tick of chain `a` due at `x` is carried out before chain `b`'s.
        let before = |a: &Chain, b: &Chain, x: u64| -> bool {
            match (x == a.first, x == b.first) {
                (true, true) => a.first_seq < b.first_seq,
                (true, false) => true,
                (false, true) => false,
                (false, false) if a.period != b.period => a.period > b.period,
                (false, false) if a.first != b.first => a.first > b.first,
                (false, false) => a.first_seq < b.first_seq,
            }
        };
        // Ticks of `c` carried out strictly before time `x`.
        let ticks_before = |c: &Chain, x: u64| -> u64 {
            if x <= c.first {
                0
            } else {
                ((x - c.first - 1) / c.period + 1).min(c.ticks)
            }
        };
        let on_chain = |c: &Chain, x: u64| {
            x >= c.first
                && (x - c.first).is_multiple_of(c.period)
                && (x - c.first) / c.period < c.ticks
        };
        let seq0 = self.seq;
        let mut next: Vec<(ServerId, u64, u64, u64)> = Vec::new(); // (server, at, seq, queued_at)
        let mut last_tick = 0;
        for a in &chains {
            let y = a.first + (a.ticks - 1) * a.period;
            let mut rank = 1;
            for b in &chains {
                rank += ticks_before(b, y);
                if b.server != a.server && on_chain(b, y) && before(b, a, y) {
                    rank += 1;
                }
            }
            next.push((a.server, y + a.period, seq0 + rank, y));
            last_tick = last_tick.max(y);
        }
        let skipped: u64 = chains.iter().map(|c| c.ticks).sum();
        self.seq = seq0 + skipped;
        self.queue
            .retain(|Reverse(q)| !matches!(q.event, Pending::Tick { .. } if q.at <= bound));
        for (server, at, seq, queued_at) in next {
            self.servers[server].node.skip_idle_cron(bound);
            self.scheduled_tick[server] = Some(at);
            self.queue.push(Reverse(Queued {
                at,
                seq,
                queued_at,
                event: Pending::Tick { server },
            }));
        }
        self.now = self.now.max(last_tick);
    }

    /// Types a command into a server's console (the line was checked by the caller).
    pub fn submit_command(&mut self, server: ServerId, line: &str) {
        let Some(args) = resp::split_args(line.as_bytes()) else {
            return;
        };
        if args.is_empty() {
            return;
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        let bytes = resp::encode_command(&refs);
        self.leave_replica_output(server);
        self.consoles[server].push_input(line.to_string());
        self.record(
            Some(server),
            LogKind::ConsoleInput {
                line: line.to_string(),
            },
        );
        self.console_bytes(server, bytes);
    }

    /// Raw RESP from the console, as `redis-cli --pipe` sends it: replies are counted,
    /// not kept one by one.
    pub fn submit_pipe(&mut self, server: ServerId, data: Vec<u8>, commands: u64) {
        self.leave_replica_output(server);
        self.consoles[server].expect_piped(commands);
        self.record(
            Some(server),
            LogKind::ConsoleInput {
                line: format!("--pipe {} commands, {}B", commands, data.len()),
            },
        );
        self.console_bytes(server, data);
    }

    /// A console printing a replication stream (after SYNC) cannot send commands on that
    /// connection: redis-cli would be quit with Ctrl-C and run again. The console closes
    /// the connection (the server sees its replica go) and the next command opens a new
    /// one.
    fn leave_replica_output(&mut self, server: ServerId) {
        if !self.consoles[server].in_replica_output() {
            return;
        }
        let Some(conn) = self.consoles[server].disconnect() else {
            return;
        };
        // The console sits on the server's own machine: its FIN arrives at once, or
        // waits in the socket of a paused process.
        self.apply(Pending::Closed { server, conn });
    }

    fn console_bytes(&mut self, server: ServerId, data: Vec<u8>) {
        self.traffic += data.len() as u64;
        let conn = self.console_conn(server);
        match self.procs[server].state {
            ProcState::Up => {
                let now = self.now;
                self.servers[server]
                    .node
                    .handle(now, Input::Bytes { conn, data });
                self.drain(server);
            }
            // A stopped process reads nothing: the line waits in its socket.
            ProcState::Paused => {
                let sent = self.sent_now();
                self.procs[server].stash.push(Pending::Deliver {
                    to: server,
                    conn,
                    from: Endpoint::Console(server),
                    data,
                    sent,
                    leaves_us: 0,
                })
            }
            ProcState::Down => {}
        }
    }

    fn apply(&mut self, p: Pending) {
        if let Some(target) = p.target() {
            match self.procs[target].state {
                ProcState::Up => {}
                ProcState::Paused => {
                    // A SYN to a stopped process waits too; so does everything else.
                    self.procs[target].stash.push(p);
                    return;
                }
                ProcState::Down => {
                    if let Pending::ConnectArrive { from, conn, .. } = p {
                        // Nobody listens on a dead server's port.
                        self.refuse(from, conn, target, "Connection refused".into());
                    }
                    return;
                }
            }
        }
        let now = self.now;
        match p {
            Pending::Tick { server } => {
                self.scheduled_tick[server] = None;
                if self.servers[server].node.next_timer() <= now {
                    self.servers[server].node.tick(now);
                }
                self.drain(server);
            }
            Pending::Fault(f) => self.apply_fault(f),
            Pending::ConnectArrive { from, conn, to } => {
                if !self.connecting.contains_key(&(from, conn)) {
                    return; // the connecting side gave up (or crashed) meanwhile
                }
                let Some(to) = to else {
                    let at = now + DEFAULT_LATENCY_MS;
                    self.schedule(
                        at,
                        Pending::ConnectFailed {
                            server: from,
                            conn,
                            reason: "Connection refused".into(),
                        },
                    );
                    return;
                };
                if self.is_cut(from, to) {
                    self.refuse(from, conn, to, "No route to host".into());
                    return;
                }
                let peer = PeerAddr {
                    ip: "127.0.0.1".into(),
                    port: self.ephemeral_port(),
                };
                let accepted = self.servers[to].node.accept(now, peer);
                self.peers
                    .insert((from, conn), Endpoint::Server(to, accepted));
                self.peers
                    .insert((to, accepted), Endpoint::Server(from, conn));
                self.record(
                    Some(to),
                    LogKind::Accepted {
                        conn: accepted,
                        from,
                    },
                );
                self.drain(to);
                self.transmit(to, from, Pending::Connected { server: from, conn });
            }
            Pending::Connected { server, conn } => {
                self.connecting.remove(&(server, conn));
                if !self.peers.contains_key(&(server, conn)) {
                    return; // reset while the handshake was in flight
                }
                self.record(Some(server), LogKind::Connected { conn });
                self.servers[server]
                    .node
                    .handle(now, Input::Connected { conn });
                self.drain(server);
            }
            Pending::ConnectFailed {
                server,
                conn,
                reason,
            } => {
                if self.connecting.remove(&(server, conn)).is_none() {
                    return;
                }
                self.record(
                    Some(server),
                    LogKind::ConnectFailed {
                        conn,
                        reason: reason.clone(),
                    },
                );
                self.servers[server]
                    .node
                    .handle(now, Input::ConnectFailed { conn, reason });
                self.drain(server);
            }
            Pending::Deliver {
                to,
                conn,
                from,
                data,
                sent,
                ..
            } => {
                if !self.peers.contains_key(&(to, conn)) {
                    return; // the connection was reset: bytes in flight are lost with it
                }
                let from_server = match from {
                    Endpoint::Server(s, _) => Some(s),
                    Endpoint::Console(_) => None,
                };
                let node = &mut self.servers[to].node;
                let on_master_link = node
                    .master_link()
                    .filter(|l| l.conn == Some(conn))
                    .map(|l| l.reploff);
                node.handle_bytes(now, conn, &data);
                let logged = if self.recording { data } else { Vec::new() };
                let offsets = on_master_link.and_then(|before| {
                    let after = node
                        .master_link()
                        .filter(|l| l.conn == Some(conn))
                        .map(|l| l.reploff)?;
                    Some((before, after))
                });
                let sent = SentAt {
                    time: sent.0 - EPOCH_MS,
                    log_position: sent.1,
                };
                self.record_entry(
                    Some(to),
                    LogKind::Deliver {
                        conn,
                        from: from_server,
                        data: logged,
                    },
                    offsets,
                    Some(sent),
                );
                self.drain(to);
            }
            Pending::Closed { server, conn } => {
                if self.peers.remove(&(server, conn)).is_none() {
                    return;
                }
                self.stream_tail.remove(&(server, conn));
                self.record(
                    Some(server),
                    LogKind::Closed {
                        conn,
                        reason: "closed by peer".into(),
                    },
                );
                self.servers[server]
                    .node
                    .handle(now, Input::Closed { conn });
                self.drain(server);
            }
            Pending::Reset {
                server,
                conn,
                reason,
            } => {
                if self.severed.remove(&(server, conn)).is_none() {
                    return; // its owner closed it first
                }
                self.record(Some(server), LogKind::Closed { conn, reason });
                self.servers[server]
                    .node
                    .handle(now, Input::Closed { conn });
                self.drain(server);
            }
            Pending::Drained {
                server,
                conn,
                bytes,
            } => {
                self.record(Some(server), LogKind::Drained { conn, bytes });
                self.on_drained(server, conn, bytes);
                self.drain(server);
            }
        }
    }

    /// Carries out everything a server asked for, and keeps its cron scheduled.
    pub fn drain(&mut self, server: ServerId) {
        while let Some(out) = self.servers[server].node.poll_output() {
            match out {
                Output::Send { conn, data } => self.on_send(server, conn, data),
                Output::Connect { conn, host, port } => {
                    self.record(
                        Some(server),
                        LogKind::Connect {
                            conn,
                            host: host.clone(),
                            port,
                        },
                    );
                    let to = self.route(&host, port);
                    self.connecting.insert((server, conn), ());
                    match to {
                        Some(to) => self.transmit(
                            server,
                            to,
                            Pending::ConnectArrive {
                                from: server,
                                conn,
                                to: Some(to),
                            },
                        ),
                        None => {
                            let at = self.now + DEFAULT_LATENCY_MS;
                            self.schedule(
                                at,
                                Pending::ConnectArrive {
                                    from: server,
                                    conn,
                                    to: None,
                                },
                            );
                        }
                    }
                }
                Output::Close { conn } => self.on_close(server, conn, "closed locally".into()),
                Output::Abort { conn } => {
                    let dropped = self.discard_unsent(server, conn);
                    let reason = match dropped {
                        0 => "closed locally".to_string(),
                        n => format!("closed locally, {n} unsent bytes dropped"),
                    };
                    self.on_close(server, conn, reason);
                }
                Output::Event(e) => self.record(Some(server), LogKind::Engine(e)),
            }
        }
        if self.procs[server].state != ProcState::Up {
            return;
        }
        if self.servers[server].node.is_shut_down() {
            // SHUTDOWN: the process exits once it has closed its connections (their FINs
            // are on their way). From now on its port refuses connections, as a port
            // nobody listens on does, until a restart.
            self.procs[server].state = ProcState::Down;
            self.procs[server].stash.clear();
            self.scheduled_tick[server] = None;
            self.queue.retain(
                |Reverse(q)| !matches!(q.event, Pending::Tick { server: s } if s == server),
            );
            return;
        }
        let next = self.servers[server].node.next_timer();
        if self.scheduled_tick[server].is_none_or(|t| next < t) {
            self.scheduled_tick[server] = Some(next);
            self.schedule(next.max(self.now), Pending::Tick { server });
        }
    }
}
