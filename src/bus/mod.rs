//! The in-page network: virtual servers joined by ordered byte streams on one virtual clock.
//!
//! The bus owns the only clock and the only random source. Every thing that happens — a
//! connection attempt, a chunk of bytes arriving, a connection closing, a server's cron
//! firing, a command typed into a console, a fault — is an event in one queue ordered by
//! (virtual time, sequence number), so the same seed and inputs always replay as the same
//! run, natively and in WebAssembly. Every event carried out is appended to the event log,
//! whose hash identifies the run. (The approach of turmoil and TigerBeetle's simulator:
//! one seed drives everything, and a run is a pure function of it.)
//!
//! Links behave like TCP. A connection takes a SYN one latency out and a SYN/ACK one
//! latency back. Each direction of the network between two servers is a [`LinkConfig`]:
//! latency, optional bandwidth (bytes are serialized onto the wire, so a big snapshot takes
//! time and arrives in segments), extra delay and jitter. Bytes on a live connection arrive
//! in order, never reordered or dropped: jitter only ever delays a chunk to no earlier than
//! the one before it on the same stream. A sender that aborts a connection (a client over
//! its output-buffer limit) loses what it had not put on the wire yet; the FIN follows
//! what had.
//!
//! [`Fault`]s, injected now or scheduled at a virtual time: cut/heal (connections reset,
//! new ones refused), sever (connections die; each end notices after a detection delay),
//! hold/release per direction (a silent partition: bytes wait, nobody is told, so only
//! `repl-timeout` can notice), link changes, and server crash, restart (with or without
//! the RDB last saved to its "disk"), pause/resume (SIGSTOP/SIGCONT) and save.
//!
//! Time travel: the bus keeps the run as a timeline of moves, with a clone of the whole
//! world every few thousand log entries (further apart when the world is big).
//! [`Bus::jump_to`] goes to any event of the log, backwards or forwards, by restoring the
//! nearest checkpoint and replaying the moves after it; the state is identical to the
//! straight run's at that point.
//!
//! Budgets: a run stops once it has recorded [`Budget::max_events`] entries, holds
//! [`Budget::max_bytes`] or has carried out [`Budget::max_steps`] events
//! (`src/bus/budget.rs`); what came before stays, time travel included.

mod budget;
mod console;
mod faults;
mod log;
// Only the page's models' tests use it among the library's own.
mod network;
#[cfg(all(test, feature = "web"))]
#[path = "../../tests/common/test_bed.rs"]
pub(crate) mod test_bed;
mod world;

use std::fmt;

use crate::engine::{resp, Config};
pub use budget::{
    grouped, human_bytes, Budget, BudgetLimit, BudgetStop, DEFAULT_MAX_BYTES, DEFAULT_MAX_EVENTS,
    DEFAULT_MAX_STEPS,
};
pub use console::{format_reply, quote, Console, ConsoleEntry};
use log::Log;
pub use log::{hash as hash_entries, Iter as LogIter, LogEntry, LogKind, LogView, SentAt};
pub use network::SEGMENT_BYTES;
pub use world::Server;
use world::{Endpoint, Pending, ProcState, World};

/// Where [`Bus::run_until_entry`] paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPause {
    /// The last event carried out recorded log entries: look at them before going on.
    Recorded,
    /// No event is left up to the time asked for (the clock was not moved there).
    Reached,
    /// The most events asked for were carried out, none of them recording anything.
    Yielded,
    /// The run has reached its budget ([`Bus::budget_stop`]): nothing was carried out.
    Stopped,
}

/// Index of a server on the bus.
pub type ServerId = usize;

/// A chunk of bytes on its way from one server to another (see [`Bus::in_flight`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    /// The queue's sequence number, unique for the run; `None` while held.
    pub seq: Option<u64>,
    pub from: ServerId,
    pub to: ServerId,
    pub bytes: usize,
    /// Virtual time (unix ms) it was put on the link; for a held chunk, now.
    pub sent_at: u64,
    /// When it arrives (unix ms); `None` while the link holds it.
    pub arrives_at: Option<u64>,
}

/// Virtual time at which every run starts: 2026-01-01T00:00:00Z, in unix milliseconds.
/// A fixed epoch keeps absolute expiry times (`PXAT ...`) identical between runs.
pub const EPOCH_MS: u64 = 1_767_225_600_000;

/// Log entries between two checkpoints of the whole world, at least (time travel replays
/// at most about this many entries' worth of moves; replaying one costs about a
/// microsecond natively, so a jump stays far below 100 ms).
pub const DEFAULT_CHECKPOINT_EVERY: u64 = 4096;

/// All checkpoints together hold at most this share (1/N) of the memory budget: past it,
/// every other one is dropped, so they thin out evenly over the timeline as it grows.
pub const CHECKPOINT_SHARE_DIVISOR: u64 = 4;

/// A checkpoint also waits until the timeline has recorded at least 1/N of the world's
/// size in bytes since the previous one: with big values, a clone per 4096 entries would
/// copy far more than the run itself records. Copying is much cheaper per byte than
/// replaying, so the copies may be several times what is recorded: an ordinary run (a few
/// MB of keys) keeps a checkpoint every 4096 entries.
pub const CHECKPOINT_WORLD_DIVISOR: u64 = 16;

/// Default one-way latency of a link, in milliseconds.
pub const DEFAULT_LATENCY_MS: u64 = 1;

/// One direction of the network between two servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkConfig {
    /// One-way propagation delay.
    pub latency_ms: u64,
    /// Bytes per millisecond the link carries; `None`: unlimited (bytes leave at once).
    pub bandwidth: Option<u64>,
    /// Extra delay on top of the latency (a slow or congested path).
    pub extra_delay_ms: u64,
    /// Up to this many more milliseconds, drawn per chunk from the run's random stream.
    /// Never reorders a stream.
    pub jitter_ms: u64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            latency_ms: DEFAULT_LATENCY_MS,
            bandwidth: None,
            extra_delay_ms: 0,
            jitter_ms: 0,
        }
    }
}

/// Something that goes wrong (or right again), to a link or to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Both directions: connections reset at once, new ones fail ("No route to host").
    Cut { a: ServerId, b: ServerId },
    /// Ends a cut and releases any hold between the two servers.
    Heal { a: ServerId, b: ServerId },
    /// The connections between `a` and `b` die now (bytes in flight are lost); each end
    /// notices `detect_ms` later. New connections may be made at once.
    Sever {
        a: ServerId,
        b: ServerId,
        detect_ms: u64,
    },
    /// Traffic from `from` to `to` is held: nothing arrives, nobody is told, connections
    /// stay open. Both directions held is a silent partition; one is a one-way partition.
    Hold { from: ServerId, to: ServerId },
    /// Lets held traffic through, in order, as if it had been retransmitted.
    Release { from: ServerId, to: ServerId },
    /// Changes one direction's latency, bandwidth, delay or jitter.
    SetLink {
        from: ServerId,
        to: ServerId,
        config: LinkConfig,
    },
    /// The process dies: its memory is lost, its peers see their connections reset.
    Crash { server: ServerId },
    /// The process starts again (crashing it first if running), loading its last saved
    /// RDB if `from_disk` and there is one, otherwise empty.
    Restart { server: ServerId, from_disk: bool },
    /// SIGSTOP: the process handles nothing; bytes queue up, timers fire late.
    Pause { server: ServerId },
    /// SIGCONT.
    Resume { server: ServerId },
    /// The server writes its RDB to disk (SAVE).
    Save { server: ServerId },
}

impl Fault {
    /// The servers it acts on.
    pub fn servers(&self) -> Vec<ServerId> {
        self.clone()
            .servers_mut()
            .into_iter()
            .map(|id| *id)
            .collect()
    }

    /// The servers it acts on, in the order of [`Fault::servers`], to renumber them.
    pub fn servers_mut(&mut self) -> Vec<&mut ServerId> {
        match self {
            Fault::Cut { a, b } | Fault::Heal { a, b } | Fault::Sever { a, b, .. } => vec![a, b],
            Fault::Hold { from, to }
            | Fault::Release { from, to }
            | Fault::SetLink { from, to, .. } => vec![from, to],
            Fault::Crash { server }
            | Fault::Restart { server, .. }
            | Fault::Pause { server }
            | Fault::Resume { server }
            | Fault::Save { server } => vec![server],
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Cut { a, b } => write!(f, "cut s{a} <-> s{b}"),
            Fault::Heal { a, b } => write!(f, "heal s{a} <-> s{b}"),
            Fault::Sever { a, b, detect_ms } => write!(
                f,
                "sever s{a} <-> s{b} (the ends notice after {detect_ms}ms)"
            ),
            Fault::Hold { from, to } => {
                write!(f, "hold s{from} -> s{to} (bytes held, nobody told)")
            }
            Fault::Release { from, to } => write!(f, "release s{from} -> s{to}"),
            Fault::SetLink { from, to, config } => {
                let bw = config
                    .bandwidth
                    .map_or("unlimited".to_string(), |b| format!("{b}B/ms"));
                write!(
                    f,
                    "link s{from} -> s{to}: latency {}ms, bandwidth {bw}, extra delay {}ms, jitter {}ms",
                    config.latency_ms, config.extra_delay_ms, config.jitter_ms
                )
            }
            Fault::Crash { server } => write!(f, "crash s{server}"),
            Fault::Restart {
                server,
                from_disk: true,
            } => write!(f, "restart s{server} (loading its RDB from disk)"),
            Fault::Restart {
                server,
                from_disk: false,
            } => write!(f, "restart s{server} (without an RDB)"),
            Fault::Pause { server } => write!(f, "pause s{server} (SIGSTOP)"),
            Fault::Resume { server } => write!(f, "resume s{server} (SIGCONT)"),
            Fault::Save { server } => write!(f, "save s{server}"),
        }
    }
}

/// One step of the timeline: what was done to the world, in order. Replaying the moves
/// from a checkpoint rebuilds the state exactly.
#[derive(Debug, Clone)]
enum Move {
    /// Carry out the next `n` queued events. Only a single event stands for one that
    /// recorded log entries; a run of events that recorded nothing (a cron with nothing to
    /// say, bytes leaving a send buffer unlogged) is one move, so idle time does not grow
    /// the timeline event by event.
    Steps(u64),
    /// Every cron tick of idle servers due up to this instant, at once (nothing else is
    /// due before it: see `World::idle_window`).
    IdleTo(u64),
    /// Time passes with nothing happening, up to this instant.
    ClockTo(u64),
    Other(Box<Action>),
}

#[derive(Debug, Clone)]
enum Action {
    AddServer {
        name: String,
        /// Boxed: a config is ten times the size of any other action.
        config: Box<Config>,
    },
    Command {
        server: ServerId,
        line: String,
    },
    Pipe {
        server: ServerId,
        data: Vec<u8>,
        commands: u64,
    },
    Fault(Fault),
    Schedule {
        at: u64,
        fault: Fault,
    },
    RemoveServer {
        server: ServerId,
    },
}

impl World {
    fn apply_move(&mut self, m: &Move) {
        match m {
            Move::Steps(n) => {
                for _ in 0..*n {
                    self.step();
                }
            }
            Move::IdleTo(t) => self.skip_idle_ticks(*t),
            Move::ClockTo(t) => self.now = self.now.max(*t),
            Move::Other(action) => match &**action {
                Action::AddServer { name, config } => {
                    self.add_server(name, (**config).clone());
                    self.traffic += budget::SERVER_BYTES;
                }
                Action::Command { server, line } => self.submit_command(*server, line),
                Action::Pipe {
                    server,
                    data,
                    commands,
                } => self.submit_pipe(*server, data.clone(), *commands),
                Action::Fault(f) => self.apply_fault(f.clone()),
                Action::Schedule { at, fault } => self.schedule(*at, Pending::Fault(fault.clone())),
                Action::RemoveServer { server } => self.remove_server(*server),
            },
        }
    }
}

/// A clone of the whole world, to restore from when travelling in time.
struct Checkpoint {
    /// Moves applied to reach it.
    at: usize,
    world: World,
    /// Its accounted size ([`budget::world_bytes`]), walked when it was taken.
    bytes: u64,
}

/// The simulated network and its servers, with its whole timeline.
pub struct Bus {
    world: World,
    /// Every entry of the timeline; entries past the current position are the future.
    log: Log,
    moves: Vec<Move>,
    /// Log length after each move.
    move_log_end: Vec<u64>,
    /// Accounted bytes of the moves and log entries up to and including each move.
    move_bytes_end: Vec<u64>,
    /// Moves carried out by `world` (the position in the timeline).
    applied: usize,
    /// Snapshots, the first one empty.
    checkpoints: Vec<Checkpoint>,
    /// Accounted bytes of every checkpoint but the first (empty) one.
    checkpoint_bytes: u64,
    checkpoint_every: u64,
    /// Recorded futures discarded so far (a new move made after a jump back).
    rewrites: u64,
    budget: Budget,
    /// Set when the run reached a budget: no move is carried out at the end of the timeline.
    stop: Option<BudgetStop>,
    /// The last move is a run of events that recorded nothing, made by the `run_until` being
    /// carried out: the next such event joins it. Never true between two calls, so a
    /// position read by a caller always stays the end of the same move.
    open_run: bool,
    /// Whether `run_until` skips idle servers' cron ticks in one move (see
    /// [`Bus::set_skip_idle_cron`]).
    skip_idle: bool,
}

impl Bus {
    pub fn new(seed: u64) -> Bus {
        let world = World::new(seed);
        Bus {
            checkpoints: vec![Checkpoint {
                at: 0,
                world: world.clone(),
                bytes: 0,
            }],
            checkpoint_bytes: 0,
            world,
            log: Log::default(),
            moves: Vec::new(),
            move_log_end: Vec::new(),
            move_bytes_end: Vec::new(),
            applied: 0,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            rewrites: 0,
            budget: Budget::DEFAULT,
            stop: None,
            open_run: false,
            skip_idle: true,
        }
    }

    /// Whether a move may be carried out now: always in the recorded past (it replaces the
    /// future, and the budget stop with it), never at the end of a stopped run.
    fn may_move(&self) -> bool {
        self.stop.is_none() || self.in_recorded_past()
    }

    /// Carries out a move at the current position; a move made in the past discards the
    /// old future. Does nothing once the run has reached its budget.
    fn perform(&mut self, m: Move) {
        self.open_run = false;
        if !self.may_move() {
            return;
        }
        if self.in_recorded_past() {
            self.truncate_future();
        }
        self.world.apply_move(&m);
        self.record_move(m);
    }

    /// Appends a move just carried out to the timeline, with the entries it logged; then
    /// takes a checkpoint if one is due and checks the budget.
    fn record_move(&mut self, m: Move) {
        let mut bytes = self.recorded_bytes() + budget::move_bytes(&m);
        bytes += self
            .world
            .new_entries
            .iter()
            .map(budget::entry_bytes)
            .sum::<u64>();
        self.log.append(&mut self.world.new_entries);
        let end = self.world.log_len;
        self.moves.push(m);
        self.move_log_end.push(end);
        self.move_bytes_end.push(bytes);
        self.applied += 1;
        self.maybe_checkpoint();
        self.check_budget();
    }

    /// The next queued event as part of a `run_until`: joined to the open run of events
    /// that recorded nothing when it records nothing either.
    fn perform_step_in_run(&mut self) {
        if !self.may_move() {
            return;
        }
        if self.in_recorded_past() {
            self.truncate_future();
            self.open_run = false;
        }
        let before = self.world.log_len;
        self.world.step();
        let quiet = self.world.log_len == before;
        if quiet && self.open_run {
            if let Some(Move::Steps(n)) = self.moves.last_mut() {
                *n += 1;
                self.check_budget();
                return;
            }
        }
        self.record_move(Move::Steps(1));
        // A checkpoint taken after this move pins the position: nothing may join it then.
        self.open_run = quiet && self.checkpoints.last().is_none_or(|c| c.at != self.applied);
    }

    fn maybe_checkpoint(&mut self) {
        let end = self.world.log_len;
        let last = self
            .checkpoints
            .last()
            .expect("the first checkpoint is never removed");
        let (last_at, last_log_end, last_bytes) = (
            last.at,
            self.log_end_after(last.at),
            self.recorded_bytes_after(last.at),
        );
        // A checkpoint costs a copy of every key: with a big keyspace, take them further
        // apart so the copies stay a small part of the run's cost.
        if end - last_log_end < self.checkpoint_every
            || end - last_log_end < self.world_keys() / 4
            || last_at == self.applied
        {
            return;
        }
        let world = self.world_bytes_estimate();
        if self.recorded_bytes() - last_bytes < world / CHECKPOINT_WORLD_DIVISOR {
            return;
        }
        let share = self.budget.max_bytes / CHECKPOINT_SHARE_DIVISOR;
        if world > share {
            return; // one copy would already be too much: replay from the one before
        }
        let bytes = budget::world_bytes(&self.world);
        // Over the share: drop every other checkpoint after the first, so the rest stay
        // evenly spread over the timeline (a jump replays at most twice as far as before).
        while self.checkpoint_bytes + bytes > share && self.checkpoints.len() > 1 {
            let mut i = 0;
            self.checkpoints.retain(|_| {
                i += 1;
                i == 1 || i % 2 == 1
            });
            self.checkpoint_bytes = self.checkpoints.iter().map(|c| c.bytes).sum();
        }
        if self.checkpoint_bytes + bytes <= share {
            self.checkpoints.push(Checkpoint {
                at: self.applied,
                world: self.world.clone(),
                bytes,
            });
            self.checkpoint_bytes += bytes;
        }
    }

    /// Stops the run if it has reached a budget (only at the end of the timeline, where
    /// moves are made).
    fn check_budget(&mut self) {
        if self.stop.is_some() || self.in_recorded_past() {
            return;
        }
        let events = self.log.len() as u64;
        let limit = if events >= self.budget.max_events {
            BudgetLimit::Events(self.budget.max_events)
        } else if self.memory_bytes() >= self.budget.max_bytes {
            BudgetLimit::Bytes(self.budget.max_bytes)
        } else if self.world.steps >= self.budget.max_steps {
            BudgetLimit::Steps(self.budget.max_steps)
        } else {
            return;
        };
        self.stop = Some(BudgetStop {
            event: events,
            limit,
        });
    }

    /// Sets the run's budgets. A run stopped at a budget goes on if the new one allows it.
    pub fn set_budget(&mut self, budget: Budget) {
        self.budget = budget;
        self.stop = None;
        self.check_budget();
    }

    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// Where and why the run was stopped, once it has reached a budget.
    pub fn budget_stop(&self) -> Option<&BudgetStop> {
        self.stop.as_ref()
    }

    /// What the memory budget counts now, in accounted bytes (lengths and fixed per-item
    /// costs, the same natively and in wasm): the whole timeline's log entries (with every
    /// delivered and replied byte) and moves (with command text and piped bytes), the
    /// checkpoints, and the live world.
    pub fn memory_bytes(&self) -> u64 {
        self.move_bytes_end.last().copied().unwrap_or(0)
            + self.checkpoint_bytes
            + self.world_bytes_estimate()
    }

    /// The live world's accounted size, kept without walking it: the size of the latest
    /// checkpoint at or before the position, plus every byte that entered the world since
    /// (typed, piped or sent; deletions are not subtracted, so it errs on the large side).
    /// A function of the position alone, so time travel does not change it.
    fn world_bytes_estimate(&self) -> u64 {
        let i = self.checkpoints.partition_point(|c| c.at <= self.applied) - 1;
        let cp = &self.checkpoints[i];
        cp.bytes + self.world.traffic - cp.world.traffic
    }

    /// Accounted bytes of the timeline's moves and entries up to the current position.
    fn recorded_bytes(&self) -> u64 {
        self.recorded_bytes_after(self.applied)
    }

    fn recorded_bytes_after(&self, moves: usize) -> u64 {
        if moves == 0 {
            0
        } else {
            self.move_bytes_end[moves - 1]
        }
    }

    fn world_keys(&self) -> u64 {
        self.world
            .servers
            .iter()
            .map(|s| s.node.keyspace().len() as u64)
            .sum()
    }

    fn log_end_after(&self, moves: usize) -> u64 {
        if moves == 0 {
            0
        } else {
            self.move_log_end[moves - 1]
        }
    }

    fn truncate_future(&mut self) {
        if self.moves.len() > self.applied {
            self.rewrites += 1;
        }
        let end = self.log_end_after(self.applied) as usize;
        self.log.truncate(end);
        self.moves.truncate(self.applied);
        self.move_log_end.truncate(self.applied);
        self.move_bytes_end.truncate(self.applied);
        let applied = self.applied;
        self.checkpoints.retain(|c| c.at <= applied);
        self.checkpoint_bytes = self.checkpoints.iter().map(|c| c.bytes).sum();
        // The move that reached the budget is gone with the future.
        self.stop = None;
    }

    fn check_server(&self, id: ServerId) -> Result<(), String> {
        if !self.may_move() {
            // The run ended at its budget: nothing more happens at its end.
            return Err(self
                .stop
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default());
        }
        if id >= self.world.servers.len() {
            Err(format!(
                "no server s{id} (the bus has {})",
                self.world.servers.len()
            ))
        } else if self.is_removed(id) {
            Err(format!(
                "server s{id} ({}) was removed",
                self.world.servers[id].name
            ))
        } else {
            Ok(())
        }
    }

    /// Adds a server listening on 127.0.0.1:`port`. Once the run has reached its budget
    /// nothing is added and the id returned names no server: check [`Bus::budget_stop`].
    pub fn add_server(&mut self, name: &str, config: Config) -> ServerId {
        let id = self.world.servers.len();
        self.perform(Move::Other(Box::new(Action::AddServer {
            name: name.to_string(),
            config: Box::new(config),
        })));
        id
    }

    /// Takes a server out of the run for good: it goes down as in a crash and cannot be
    /// restarted. A recorded move like any other, so time travel replays it; the id (and
    /// port) stay taken so earlier log entries keep naming the right server.
    pub fn remove_server(&mut self, server: ServerId) -> Result<(), String> {
        self.check_server(server)?;
        self.perform(Move::Other(Box::new(Action::RemoveServer { server })));
        Ok(())
    }

    /// Whether the server was taken out with [`Bus::remove_server`].
    pub fn is_removed(&self, id: ServerId) -> bool {
        self.world.procs.get(id).is_some_and(|p| p.removed)
    }

    /// Chunks of bytes between servers that are on their way now: queued for delivery, or
    /// held on a silently partitioned link. Chunks of connections that were reset are
    /// left out (they are lost, never delivered). In delivery order.
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut out: Vec<InFlight> = Vec::new();
        let mut queued: Vec<&world::Queued> = self.world.queue.iter().map(|r| &r.0).collect();
        crate::engine::sort::sort(&mut queued);
        for q in queued {
            if let Pending::Deliver {
                to,
                conn,
                from: Endpoint::Server(from, _),
                data,
                ..
            } = &q.event
            {
                if self.world.peers.contains_key(&(*to, *conn)) {
                    out.push(InFlight {
                        seq: Some(q.seq),
                        from: *from,
                        to: *to,
                        bytes: data.len(),
                        sent_at: q.queued_at,
                        arrives_at: Some(q.at),
                    });
                }
            }
        }
        for (&(from, to), link) in &self.world.links {
            for p in &link.parked {
                if let Pending::Deliver { data, .. } = p {
                    out.push(InFlight {
                        seq: None,
                        from,
                        to,
                        bytes: data.len(),
                        sent_at: self.world.now,
                        arrives_at: None,
                    });
                }
            }
        }
        out
    }

    pub fn now(&self) -> u64 {
        self.world.now
    }

    /// Milliseconds since the run started.
    pub fn elapsed_ms(&self) -> u64 {
        self.world.now - EPOCH_MS
    }

    pub fn servers(&self) -> &[Server] {
        &self.world.servers
    }

    pub fn server(&self, id: ServerId) -> &Server {
        &self.world.servers[id]
    }

    pub fn server_by_port(&self, port: u16) -> Option<ServerId> {
        self.world.server_by_port(port)
    }

    /// The server a connection to `host:port` reaches (127.0.0.1 or localhost, and a
    /// server's port), as the bus routes every connection.
    pub fn route(&self, host: &str, port: u16) -> Option<ServerId> {
        self.world.route(host, port)
    }

    pub fn console(&self, id: ServerId) -> &Console {
        &self.world.consoles[id]
    }

    /// The log up to the current position of the timeline.
    pub fn log(&self) -> LogView<'_> {
        self.log.view(self.log_end_after(self.applied) as usize)
    }

    /// SHA-256 of the canonical text of every log entry: equal hashes, equal runs.
    pub fn log_hash(&self) -> String {
        log::hash(self.log())
    }

    pub fn is_cut(&self, a: ServerId, b: ServerId) -> bool {
        self.world.is_cut(a, b)
    }

    /// Whether traffic from `from` to `to` is being held (silent partition).
    pub fn is_held(&self, from: ServerId, to: ServerId) -> bool {
        self.world.is_held(from, to)
    }

    /// Whether `a` and `b` have at least one live connection between them.
    pub fn connected(&self, a: ServerId, b: ServerId) -> bool {
        self.world
            .peers
            .iter()
            .any(|((s, _), e)| *s == a && matches!(e, Endpoint::Server(t, _) if *t == b))
    }

    /// Whether the server's process is running (not crashed; a paused one is running).
    pub fn is_up(&self, id: ServerId) -> bool {
        self.world
            .procs
            .get(id)
            .is_some_and(|p| p.state != ProcState::Down)
    }

    pub fn is_paused(&self, id: ServerId) -> bool {
        self.world
            .procs
            .get(id)
            .is_some_and(|p| p.state == ProcState::Paused)
    }

    /// The RDB the server last saved to its disk.
    pub fn disk_rdb(&self, id: ServerId) -> Option<&[u8]> {
        self.world.procs.get(id).and_then(|p| p.disk.as_deref())
    }

    /// The link from `from` to `to` as configured now.
    pub fn link(&self, from: ServerId, to: ServerId) -> LinkConfig {
        self.world.link_config(from, to)
    }

    /// Types a command line into a server's console, as redis-cli would send it.
    /// Returns redis-cli's complaint for a line it would not send.
    pub fn submit_command(&mut self, server: ServerId, line: &str) -> Result<(), String> {
        self.check_server(server)?;
        let Some(args) = resp::split_args(line.as_bytes()) else {
            return Err("Invalid argument(s)".into());
        };
        if args.is_empty() {
            return Ok(());
        }
        if !self.is_up(server) {
            let port = self.world.servers[server].port;
            return Err(format!(
                "Could not connect to Redis at 127.0.0.1:{port}: Connection refused"
            ));
        }
        self.perform(Move::Other(Box::new(Action::Command {
            server,
            line: line.to_string(),
        })));
        Ok(())
    }

    /// Sends many commands at once through the console, as `redis-cli --pipe` does: one
    /// log entry for the input; replies are counted in [`Console::piped`].
    pub fn submit_pipe(&mut self, server: ServerId, lines: &[&str]) -> Result<(), String> {
        self.check_server(server)?;
        let mut data = Vec::new();
        let mut refs: Vec<&[u8]> = Vec::new();
        for line in lines {
            refs.clear();
            // Most lines have no quotes: their arguments are slices of the line itself.
            if resp::split_plain_args(line.as_bytes(), &mut refs) {
                resp::encode_command_into(&mut data, &refs);
                continue;
            }
            let args = resp::split_args(line.as_bytes())
                .ok_or_else(|| format!("Invalid argument(s): {line}"))?;
            let quoted: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
            resp::encode_command_into(&mut data, &quoted);
        }
        if !self.is_up(server) {
            let port = self.world.servers[server].port;
            return Err(format!(
                "Could not connect to Redis at 127.0.0.1:{port}: Connection refused"
            ));
        }
        self.perform(Move::Other(Box::new(Action::Pipe {
            server,
            data,
            commands: lines.len() as u64,
        })));
        Ok(())
    }

    /// Injects a fault now. A cut of servers already cut apart, or a heal of servers
    /// neither cut nor held apart, changes nothing and is not recorded as a move.
    pub fn inject(&mut self, fault: Fault) -> Result<(), String> {
        for s in fault.servers() {
            self.check_server(s)?;
        }
        let changes = match fault {
            Fault::Cut { a, b } => !self.is_cut(a, b),
            Fault::Heal { a, b } => self.is_cut(a, b) || self.is_held(a, b) || self.is_held(b, a),
            _ => true,
        };
        if changes {
            self.perform(Move::Other(Box::new(Action::Fault(fault))));
        }
        Ok(())
    }

    /// Schedules a fault at virtual time `at` (unix ms; not before now).
    pub fn schedule_fault(&mut self, at: u64, fault: Fault) -> Result<(), String> {
        for s in fault.servers() {
            self.check_server(s)?;
        }
        if at < self.world.now {
            return Err(format!("{at} is in the past (now is {})", self.world.now));
        }
        self.perform(Move::Other(Box::new(Action::Schedule { at, fault })));
        Ok(())
    }

    /// Schedules a fault `ms` from now.
    pub fn schedule_fault_in(&mut self, ms: u64, fault: Fault) -> Result<(), String> {
        self.schedule_fault(self.world.now + ms, fault)
    }

    /// Cuts the network between two servers: their connections reset, new ones fail.
    /// Nothing happens for a server the bus does not run.
    pub fn cut(&mut self, a: ServerId, b: ServerId) {
        let _ = self.inject(Fault::Cut { a, b });
    }

    /// Ends a cut, and any silent partition, between two servers. Nothing happens for a
    /// server the bus does not run.
    pub fn heal(&mut self, a: ServerId, b: ServerId) {
        let _ = self.inject(Fault::Heal { a, b });
    }

    /// The connections between two servers die; each end notices after `detect_ms`.
    pub fn sever(&mut self, a: ServerId, b: ServerId, detect_ms: u64) -> Result<(), String> {
        self.inject(Fault::Sever { a, b, detect_ms })
    }

    /// A silent partition both ways: bytes are held, no connection closes.
    pub fn partition(&mut self, a: ServerId, b: ServerId) -> Result<(), String> {
        self.inject(Fault::Hold { from: a, to: b })?;
        self.inject(Fault::Hold { from: b, to: a })
    }

    /// Holds traffic from `from` to `to` only.
    pub fn partition_one_way(&mut self, from: ServerId, to: ServerId) -> Result<(), String> {
        self.inject(Fault::Hold { from, to })
    }

    pub fn release(&mut self, from: ServerId, to: ServerId) -> Result<(), String> {
        self.inject(Fault::Release { from, to })
    }

    pub fn set_link(
        &mut self,
        from: ServerId,
        to: ServerId,
        config: LinkConfig,
    ) -> Result<(), String> {
        self.inject(Fault::SetLink { from, to, config })
    }

    pub fn crash(&mut self, server: ServerId) -> Result<(), String> {
        self.inject(Fault::Crash { server })
    }

    pub fn restart(&mut self, server: ServerId, from_disk: bool) -> Result<(), String> {
        self.inject(Fault::Restart { server, from_disk })
    }

    pub fn pause(&mut self, server: ServerId) -> Result<(), String> {
        self.inject(Fault::Pause { server })
    }

    pub fn resume(&mut self, server: ServerId) -> Result<(), String> {
        self.inject(Fault::Resume { server })
    }

    pub fn save(&mut self, server: ServerId) -> Result<(), String> {
        self.inject(Fault::Save { server })
    }

    /// When the next queued event is due (unix ms), if any.
    pub fn next_event_at(&self) -> Option<u64> {
        self.world.next_event_time()
    }

    /// Carries out the next event. Returns false when nothing is scheduled.
    pub fn step(&mut self) -> bool {
        if self.world.queue.is_empty() || !self.may_move() {
            return false;
        }
        self.perform(Move::Steps(1));
        true
    }

    /// Runs every event up to and including virtual time `until` (unix ms). Returns at
    /// once, where it stands, when the run has reached its budget.
    pub fn run_until(&mut self, until: u64) {
        self.open_run = false;
        while self.may_move() && self.world.next_event_time().is_some_and(|t| t <= until) {
            if let Some(bound) = self.world.idle_window(until).filter(|_| self.skip_idle) {
                self.perform(Move::IdleTo(bound));
                continue;
            }
            self.perform_step_in_run();
        }
        if self.world.now < until {
            self.perform(Move::ClockTo(until));
        }
        self.open_run = false;
    }

    /// [`Bus::run_until`] for a watcher that must see every log entry as it is made (the
    /// scenario checker, the page opening a run a slice at a time): it pauses right after
    /// the first event that records entries, or after `max_events` events that record
    /// nothing, and never moves the clock past the last event. Quiet events still join into
    /// one move and idle cron loops are still skipped at once, which stepping event by
    /// event ([`Bus::step`]) would give up: an idle virtual day at `hz 500` is a few moves
    /// here and hundreds of millions there.
    pub fn run_until_entry(&mut self, until: u64, max_events: u64) -> RunPause {
        self.open_run = false;
        let mut done = 0;
        let pause = loop {
            if !self.may_move() {
                break RunPause::Stopped;
            }
            if self.world.next_event_time().is_none_or(|t| t > until) {
                break RunPause::Reached;
            }
            if done == max_events {
                break RunPause::Yielded;
            }
            done += 1;
            let before = self.world.log_len;
            match self.world.idle_window(until).filter(|_| self.skip_idle) {
                Some(bound) => self.perform(Move::IdleTo(bound)),
                None => self.perform_step_in_run(),
            }
            if self.world.log_len != before {
                break RunPause::Recorded;
            }
        };
        self.open_run = false;
        pause
    }

    /// Advances virtual time by `ms`.
    pub fn advance(&mut self, ms: u64) {
        let until = self.world.now + ms;
        self.run_until(until);
    }

    // ------------------------------------------------------------ time travel

    /// Goes to the moment right after log entry `index` was recorded (the end of the move
    /// that recorded it), backwards or forwards in the timeline. [`Bus::log`] then ends
    /// there; the rest of the timeline stays reachable until a new move replaces it.
    pub fn jump_to(&mut self, index: usize) -> Result<(), String> {
        if index >= self.log.len() {
            return Err(format!(
                "no event #{index}: the timeline has {} events",
                self.log.len()
            ));
        }
        let m = self
            .move_log_end
            .partition_point(|&end| end <= index as u64);
        self.restore(m + 1);
        Ok(())
    }

    /// One event back: to the end of the latest earlier move that left the log shorter
    /// (moves in which only time passed show nothing to step over). `false` at the start.
    pub fn step_back(&mut self) -> bool {
        let end = self.log_end_after(self.applied);
        let moves = self.move_log_end[..self.applied].partition_point(|&e| e < end);
        if moves == self.applied || end == 0 {
            return false;
        }
        self.restore(moves);
        true
    }

    /// One event forward: along the recorded timeline after a jump back, otherwise the
    /// next queued event. `false` when nothing is left to do.
    ///
    /// Along the timeline it stops where [`Bus::step_back`] would have stopped: after the
    /// move that recorded the next event and the moves after it that recorded nothing
    /// (time passing, a cron that sent bytes without anything arriving yet). So stepping N
    /// back and N forward from the newest point lands on exactly the newest point.
    pub fn step_forward(&mut self) -> bool {
        if self.in_recorded_past() {
            let end = self.log_end_after(self.applied);
            let later = self.move_log_end.partition_point(|&e| e <= end);
            let target = match self.move_log_end.get(later) {
                Some(&next_end) => self.move_log_end.partition_point(|&e| e <= next_end),
                None => self.moves.len(),
            };
            self.restore(target);
            return true;
        }
        self.step()
    }

    /// Goes back to the latest point of the timeline.
    pub fn jump_to_end(&mut self) {
        self.restore(self.moves.len());
    }

    /// Where the world stands in the timeline, counted in moves carried out (everything
    /// done to it, time passing included). A move made at an earlier position than
    /// [`Bus::moves_recorded`] discards the recorded future from there on, so whoever keeps
    /// track of what produced the timeline (a scenario player) can tell what was lost.
    pub fn position(&self) -> usize {
        self.applied
    }

    /// Moves in the whole recorded timeline.
    pub fn moves_recorded(&self) -> usize {
        self.moves.len()
    }

    /// Whether the world stands before the end of its recorded timeline (after a jump
    /// back): the moves ahead replay the recorded future, and a new move discards them.
    pub fn in_recorded_past(&self) -> bool {
        self.applied < self.moves.len()
    }

    /// Events in the whole timeline (the visible log may end earlier after a jump).
    pub fn timeline_len(&self) -> usize {
        self.log.len()
    }

    /// The whole timeline's log, the recorded future after a jump back included: what
    /// playing on from here would replay (until a new move replaces it).
    pub fn timeline(&self) -> LogView<'_> {
        self.log.view(self.log.len())
    }

    /// How many times a recorded future was discarded (something done after a jump back).
    /// While it stays the same, the log only ever grows or is cut at its end, so a view
    /// that keeps work between redraws can trust the prefix it already read.
    pub fn timeline_rewrites(&self) -> u64 {
        self.rewrites
    }

    /// Whether [`Bus::run_until`] carries out the cron ticks of idle servers (nothing to
    /// expire, no replication, nobody waiting: [`crate::engine::Node::idle_cron`]) all at
    /// once, arithmetically, instead of one by one. On by default; the world and the log
    /// come out identical either way (tests/bus_budget.rs compares them), so switching it
    /// off is only for that comparison and for benchmarks.
    pub fn set_skip_idle_cron(&mut self, on: bool) {
        self.skip_idle = on;
    }

    /// How many checkpoints of the world the timeline keeps, and their accounted bytes (at
    /// most a [`CHECKPOINT_SHARE_DIVISOR`]th of the memory budget).
    pub fn checkpoint_stats(&self) -> (usize, u64) {
        (self.checkpoints.len(), self.checkpoint_bytes)
    }

    /// Log entries between checkpoints: smaller jumps faster, uses more memory.
    pub fn set_checkpoint_interval(&mut self, entries: u64) {
        self.checkpoint_every = entries.max(1);
    }

    fn restore(&mut self, target: usize) {
        if target == self.applied {
            return;
        }
        let cp = self.checkpoints.partition_point(|c| c.at <= target) - 1;
        let cp_at = self.checkpoints[cp].at;
        // Going forward from a point past the checkpoint: just replay from here.
        if !(target > self.applied && self.applied >= cp_at) {
            self.world = self.checkpoints[cp].world.clone();
            self.applied = cp_at;
        }
        self.world.recording = false;
        for m in &self.moves[self.applied..target] {
            self.world.apply_move(m);
        }
        self.world.recording = true;
        self.applied = target;
        debug_assert_eq!(
            self.world.log_len,
            self.log_end_after(target),
            "replay recorded a different number of entries"
        );
    }

    /// SHA-256 over the whole simulated state (servers, connections, queue, clock, random
    /// stream): equal digests, equal worlds. For tests of time travel and determinism.
    pub fn state_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        struct HashWriter(Sha256);
        impl fmt::Write for HashWriter {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.update(s.as_bytes());
                Ok(())
            }
        }
        let w = &self.world;
        let mut h = HashWriter(Sha256::new());
        let _ = fmt::write(
            &mut h,
            format_args!(
                "{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}{:?}",
                w.now,
                w.servers,
                w.procs,
                w.peers,
                w.stream_tail,
                w.connecting,
                w.severed,
                w.links,
                // The heap's layout is an implementation detail: digest the order.
                w.queue.clone().into_sorted_vec(),
                w.seq,
                w.scheduled_tick,
                w.consoles,
                w.cuts,
                w.next_ephemeral_port,
                w.log_len,
                w.rng.get_word_pos()
            ),
        );
        h.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
