//! Replication's invariants, checked while a run progresses and at its end.
//!
//! * **Safety: same offset, same data.** A replica that has applied its master's stream up
//!   to offset X of history R holds exactly the data its master held at (R, X). The checker
//!   samples every master's keyspace digest each time the master's (history, offset)
//!   changes (and after each command typed on it, for a master with no backlog yet, whose
//!   writes do not move its offset), and compares each replica's digest when the replica
//!   reaches an offset that was sampled. A sample keeps its keys with a TTL apart, with
//!   their expiry, so it can be evaluated at any later time: a snapshot leaves out keys
//!   already expired while the server that took it still holds them, and comparing both
//!   sides with the keys expired *now* left out makes the comparison exact. Offsets that a
//!   replica passes without the master having stopped there (several stream chunks in one
//!   master event) are not compared; the next sampled one is.
//! * **A replica's offset never exceeds its master's** while its link is up.
//!   (Not while the replica's connection predates a restart of its master, or the master
//!   has closed its end: until the replica notices, it follows a stream that has ended.)
//! * **WAIT tells the truth, and acknowledged writes stay.** When `WAIT n t` typed on a
//!   master answers k, at least k servers hold that master's history up to the console's
//!   last write (a server that crashed or restarted since the WAIT gets the benefit of the
//!   doubt). At the end, that master still holds the write, unless something that may
//!   legitimately lose it happened after the WAIT (WAIT is not a consensus protocol):
//!   a REPLICAOF (failover, from an action or typed), or a restart of that master without
//!   an RDB, or from an RDB saved before the write (an older save, or none). A master
//!   that is down at the end is not judged.
//! * **Liveness.** After the last action, every replica whose chain of masters reaches a
//!   master over links that are neither cut nor held, through servers that are running
//!   (not crashed, not paused), converges — link up, same offset, same data — within
//!   [`liveness_bound_ms`]: `repl-timeout + 2 × repl-diskless-sync-delay + 5 s`, plus,
//!   per hop, the time the slowest link takes to carry the biggest dataset and backlog
//!   and 20 one-way trips at its worst delay, and never more than one virtual day
//!   ([`MAX_LIVENESS_BOUND_MS`]). A crashed, never restarted server is left out, and so
//!   are its replicas.
//!
//! The bus is checked after every event (the runner steps the bus event by event; see
//! [`runner`](super::runner)); a violation names that event's last log entry.

use std::collections::BTreeMap;
use std::fmt;

use crate::bus::{Bus, LogKind, LogView, ServerId};
use crate::engine::keyspace::entry_digest;
use crate::engine::replication::SyncProtocol;
use crate::engine::replication::NULL_REPLID;
use crate::engine::{Event, Node, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ViolationKind {
    Safety,
    Offset,
    Wait,
    LostWrite,
    Liveness,
    Expectation,
    /// The run panicked (reported by the sweep, which catches it).
    Panic,
}

impl fmt::Display for ViolationKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ViolationKind::Safety => "safety",
            ViolationKind::Offset => "offset",
            ViolationKind::Wait => "wait",
            ViolationKind::LostWrite => "lost-write",
            ViolationKind::Liveness => "liveness",
            ViolationKind::Expectation => "expectation",
            ViolationKind::Panic => "panic",
        };
        f.write_str(s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Index of the log entry after which it was seen.
    pub index: u64,
    /// Milliseconds since the run started.
    pub time: u64,
    pub kind: ViolationKind,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "event #{} t={} {}: {}",
            self.index, self.time, self.kind, self.message
        )
    }
}

/// A master's data at one (history, offset), evaluable at any later time.
#[derive(Debug, Clone)]
struct Sample {
    /// Sum of the digests of keys without a TTL.
    persistent: u64,
    /// (expires_at, digest) of keys with one.
    expiring: Vec<(u64, u64)>,
    server: ServerId,
}

impl Sample {
    /// The sample, and about how many bytes were digested to take it ([`entry_bytes`]).
    fn of(node: &Node, server: ServerId, now: u64) -> (Sample, u64) {
        let mut persistent = 0u64;
        let mut expiring = Vec::new();
        let mut bytes = 0u64;
        for (db, d) in node.keyspace().dbs.iter().enumerate() {
            // Sums: the order of the walk cannot change them.
            for (key, entry) in d.entries.iter_unordered() {
                bytes = bytes.saturating_add(entry_bytes(key, entry));
                match entry.expires_at {
                    None => persistent = persistent.wrapping_add(entry_digest(db, key, entry)),
                    // Already expired: left out of every later evaluation anyway.
                    Some(t) if now > t => {}
                    Some(t) => expiring.push((t, entry_digest(db, key, entry))),
                }
            }
        }
        (
            Sample {
                persistent,
                expiring,
                server,
            },
            bytes,
        )
    }

    /// The digest [`Keyspace::digest`](crate::engine::keyspace::Keyspace::digest) would
    /// have given at `now`.
    fn digest_at(&self, now: u64) -> u64 {
        self.expiring
            .iter()
            .filter(|(t, _)| now <= *t)
            .fold(self.persistent, |sum, (_, d)| sum.wrapping_add(*d))
    }
}

/// Most bytes of keyspace the checker digests in one run (about: see [`entry_bytes`]).
/// It digests a master's whole keyspace each time the master's offset moves, and a
/// replica's when it reaches a sampled offset, so its work is offsets × dataset: within
/// every scenario budget, 16 MiB of data and thousands of writes after it would take
/// hours (the golden link `big-load` took over 5 minutes in a debug build). Past this,
/// the run goes on unchecked for safety (offsets, WAIT and liveness are still checked) and
/// [`CheckStats::digest_budget_reached`] says from which event. 1 GiB is about 10 s of
/// hashing in a debug build, a second natively; the guided scenarios digest at most 75 MB,
/// random sweep seeds some hundreds.
pub const MAX_DIGEST_BYTES: u64 = 1 << 30;

/// About how many bytes [`entry_digest`] reads for a key: exact for strings, lists and
/// hashes, 16 per member for sets (their members are only listed by copying them all).
fn entry_bytes(key: &[u8], entry: &crate::engine::keyspace::Entry) -> u64 {
    use crate::engine::keyspace::Value;
    let value = match &entry.value {
        Value::String(s) => s.len(),
        Value::List(items) => items.iter().map(|i| i.len()).sum(),
        Value::Hash(fields) => fields.iter().map(|(f, v)| f.len() + v.len()).sum(),
        Value::Set(set) => set.len() * 16,
        Value::ZSet(z) => z.iter().map(|(m, _)| m.len() + 8).sum(),
    };
    (key.len() + value + 16) as u64
}

/// The name a node's replicas know its history by (PSYNC1 names it by the run id).
pub fn history_name(node: &Node) -> &str {
    match node.config().sync_protocol {
        SyncProtocol::Psync1 => node.run_id(),
        _ => &node.replication().replid,
    }
}

/// The replica's applied offset while its link is up and carries offsets.
fn streaming_offset(node: &Node) -> Option<u64> {
    let link = node.master_link()?;
    (link.is_connected() && !link.pre_psync).then_some(link.reploff)
}

/// The server a replica's link points at, on this bus.
pub fn master_of(bus: &Bus, id: ServerId) -> Option<ServerId> {
    let link = bus.server(id).node.master_link()?;
    bus.route(&link.host, link.port)
}

#[derive(Debug, Clone)]
struct WaitTrack {
    server: ServerId,
    entry: usize,
    history: String,
    woff: u64,
    submitted_ms: u64,
    /// Log length when the WAIT was typed: later entries are after it.
    submitted_index: u64,
    acked: Option<i64>,
    /// A later fault or failover may legitimately lose the write: why.
    explained: Option<String>,
}

/// Watches one run. The runner calls [`Checker::observe`] after every slice of events and
/// tells it about the actions it carries out.
pub struct Checker {
    samples: BTreeMap<(String, u64), Sample>,
    last_master_key: Vec<Option<(String, u64)>>,
    last_replica_key: Vec<Option<(String, u64)>>,
    /// Offset right after the last command typed on each console (the client's `woff`).
    console_woff: Vec<u64>,
    waits: Vec<WaitTrack>,
    /// Log index after which each server was last crashed or restarted.
    last_restart: Vec<Option<u64>>,
    /// Log index at which each replica's master link last became connected.
    last_relink: Vec<Option<u64>>,
    violations: Vec<Violation>,
    stats: CheckStats,
    /// Bytes digested so far ([`MAX_DIGEST_BYTES`]).
    digested: u64,
}

/// How much a run was checked: a run that passes having compared nothing proves nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckStats {
    /// Replica digests compared with their master's at the same offset.
    pub safety_comparisons: u64,
    /// Replica offsets compared with their master's.
    pub offset_comparisons: u64,
    /// WAIT replies checked against the servers that hold the write.
    pub waits_checked: u64,
    /// About how many bytes of keyspace were digested ([`entry_bytes`]).
    pub digested_bytes: u64,
    /// The log index from which no more digests were taken: [`MAX_DIGEST_BYTES`] was spent.
    pub digest_budget_reached: Option<u64>,
}

/// Enough to understand a run; more would only repeat the first.
const MAX_VIOLATIONS: usize = 20;

impl Checker {
    pub fn new(servers: usize) -> Checker {
        Checker {
            samples: BTreeMap::new(),
            last_master_key: vec![None; servers],
            last_replica_key: vec![None; servers],
            console_woff: vec![0; servers],
            waits: Vec::new(),
            last_restart: vec![None; servers],
            last_relink: vec![None; servers],
            violations: Vec::new(),
            stats: CheckStats::default(),
            digested: 0,
        }
    }

    /// A server joined the run (`add_server`): it gets the next id.
    pub fn server_added(&mut self) {
        self.last_master_key.push(None);
        self.last_replica_key.push(None);
        self.console_woff.push(0);
        self.last_restart.push(None);
        self.last_relink.push(None);
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn stats(&self) -> CheckStats {
        CheckStats {
            digested_bytes: self.digested,
            ..self.stats
        }
    }

    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }

    /// Records a violation about `_server` (its name is in the message). The checker runs
    /// after every event, so the violation shows in the event just carried out: the last
    /// log entry is its index.
    pub fn report(
        &mut self,
        bus: &Bus,
        _server: Option<ServerId>,
        kind: ViolationKind,
        message: String,
    ) {
        if self.violations.len() >= MAX_VIOLATIONS {
            return;
        }
        let index = bus.log().last().map_or(0, |e| e.index);
        self.violations.push(Violation {
            index,
            time: bus.elapsed_ms(),
            kind,
            message,
        });
    }

    /// Whether a digest may still be taken; the first refusal is noted in the stats.
    fn may_digest(&mut self, bus: &Bus) -> bool {
        if self.digested < MAX_DIGEST_BYTES {
            return true;
        }
        if self.stats.digest_budget_reached.is_none() {
            self.stats.digest_budget_reached = Some(bus.log().last().map_or(0, |e| e.index));
        }
        false
    }

    /// A command was typed on `server` (already carried out by the bus).
    pub fn command_typed(&mut self, bus: &Bus, server: ServerId, line: &str) {
        if !bus.is_up(server) {
            return; // refused: nothing was sent
        }
        let node = &bus.server(server).node;
        let first = line.split_whitespace().next().unwrap_or("");
        if first.eq_ignore_ascii_case("replicaof") || first.eq_ignore_ascii_case("slaveof") {
            // Typed by hand or by a REPLICAOF action: a failover may lose acked writes.
            self.explain_waits(
                |_| true,
                &format!(
                    "REPLICAOF on {} at t={}",
                    bus.server(server).name,
                    bus.elapsed_ms()
                ),
            );
        }
        let console = bus.console(server);
        // A console blocked in an earlier WAIT runs what it is sent only later: neither the
        // offset of its writes nor what a new WAIT waits for is known here.
        let open = console
            .entries()
            .iter()
            .rev()
            .skip(1)
            .any(|e| e.reply.is_none());
        if first.eq_ignore_ascii_case("wait") && !open && node.role() == Role::Master {
            self.waits.push(WaitTrack {
                server,
                entry: console.entries().len() - 1,
                history: history_name(node).to_string(),
                woff: self.console_woff[server],
                submitted_ms: bus.elapsed_ms(),
                submitted_index: bus.log().len() as u64,
                acked: None,
                explained: None,
            });
        } else if !open {
            self.console_woff[server] = node.replication().master_repl_offset;
        }
    }

    /// Marks the waits `which` selects as explained (first reason kept).
    fn explain_waits(&mut self, which: impl Fn(&WaitTrack) -> bool, why: &str) {
        for w in self.waits.iter_mut().filter(|w| w.explained.is_none()) {
            if which(w) {
                w.explained = Some(why.to_string());
            }
        }
    }

    /// Crashes, restarts and relinks in the fresh log entries.
    fn note_faults(&mut self, bus: &Bus, fresh: LogView<'_>) {
        for e in fresh {
            let Some(s) = e.server else { continue };
            match &e.kind {
                // The console's connection died with the process: the new one has written
                // nothing yet (Redis's `c->woff` of a new client is 0).
                LogKind::Crashed => {
                    self.last_restart[s] = Some(e.index);
                    self.console_woff[s] = 0;
                }
                LogKind::Restarted {
                    from_disk, repl, ..
                } => {
                    self.last_restart[s] = Some(e.index);
                    self.console_woff[s] = 0;
                    let name = &bus.server(s).name;
                    let why = if *from_disk {
                        format!("restart of {name} from an older RDB at t={}", e.time)
                    } else {
                        format!("restart of {name} without an RDB at t={}", e.time)
                    };
                    // From an RDB that holds the write, the restarted master still does.
                    let keeps = |w: &WaitTrack| {
                        repl.as_ref()
                            .is_some_and(|(id, off)| *id == w.history && *off >= w.woff)
                    };
                    self.explain_waits(
                        |w| w.server == s && w.submitted_index <= e.index && !keeps(w),
                        &why,
                    );
                }
                LogKind::RestartFailed { .. } => self.last_restart[s] = Some(e.index),
                LogKind::Engine(Event::LinkState { state })
                    if *state == crate::engine::replication::LinkStateName::Connected =>
                {
                    self.last_relink[s] = Some(e.index)
                }
                _ => {}
            }
        }
    }

    /// Checks the bus after the log entries from `from` on were carried out.
    pub fn observe(&mut self, bus: &Bus, from: usize) {
        let now = bus.now();
        let fresh = bus.log().range(from.min(bus.log().len())..);
        self.note_faults(bus, fresh);
        let typed_on = |s: ServerId| {
            fresh
                .iter()
                .any(|e| e.server == Some(s) && matches!(e.kind, LogKind::ConsoleInput { .. }))
        };
        let relinked = |s: ServerId| {
            fresh.iter().any(|e| {
                e.server == Some(s)
                    && matches!(&e.kind, LogKind::Engine(Event::LinkState { state }) if *state == crate::engine::replication::LinkStateName::Connected)
            })
        };
        // Masters first: a replica may reach an offset in the same slice its master did.
        for (id, server) in bus.servers().iter().enumerate() {
            let node = &server.node;
            // A crashed server's last state stays on the bus until it restarts: not its data.
            if node.role() != Role::Master || node.is_shut_down() || !bus.is_up(id) {
                self.last_master_key[id] = None;
                continue;
            }
            let offset = node.replication().master_repl_offset;
            let unchanged = self.last_master_key[id]
                .as_ref()
                .is_some_and(|(h, o)| *o == offset && h == history_name(node));
            if !unchanged || typed_on(id) {
                let key = (history_name(node).to_string(), offset);
                if self.may_digest(bus) {
                    let (sample, bytes) = Sample::of(node, id, now);
                    self.digested = self.digested.saturating_add(bytes);
                    self.samples.insert(key.clone(), sample);
                }
                self.last_master_key[id] = Some(key);
            }
        }
        for id in 0..bus.servers().len() {
            let node = &bus.server(id).node;
            let Some(offset) = streaming_offset(node).filter(|_| bus.is_up(id)) else {
                self.last_replica_key[id] = None;
                continue;
            };
            // A link that predates its master's crash or restart follows a process that is
            // gone (the replica has not noticed yet): the new one's offsets are another
            // story.
            let stale = |m: ServerId| {
                self.last_restart[m].is_some_and(|r| self.last_relink[id].is_none_or(|l| l < r))
            };
            // Only while the master still has its end of a connection to the replica: one
            // it has closed (a full sync of its own at an older offset of the same history
            // drops its replicas) may not have reached the replica yet.
            if let Some(m) =
                master_of(bus, id).filter(|&m| bus.is_up(m) && !stale(m) && bus.connected(m, id))
            {
                let mr = bus.server(m).node.replication();
                let master_offset = mr.master_repl_offset;
                // Only within one history: a master that has just loaded another one (a
                // full sync of its own) is at that history's offset until its replicas,
                // which it has dropped, hear of it.
                let same_history = node.replication().replid == mr.replid
                    || node.replication().replid == mr.replid2;
                if same_history {
                    self.stats.offset_comparisons += 1;
                }
                if same_history && offset > master_offset {
                    let msg = format!(
                        "replica {} is at offset {offset}, past its master {} at {master_offset}",
                        bus.server(id).name,
                        bus.server(m).name
                    );
                    self.report(bus, Some(id), ViolationKind::Offset, msg);
                }
            }
            let replid = &node.replication().replid;
            if self.last_replica_key[id]
                .as_ref()
                .is_some_and(|(h, o)| *o == offset && h == replid)
                && !relinked(id)
            {
                continue;
            }
            let key = (replid.clone(), offset);
            self.last_replica_key[id] = Some(key.clone());
            // A writable replica may hold writes of its own: nothing to compare.
            if !node.config().replica_read_only {
                continue;
            }
            if !self.samples.contains_key(&key) || !self.may_digest(bus) {
                continue;
            }
            let (replica, bytes) = Sample::of(node, id, now);
            self.digested = self.digested.saturating_add(bytes);
            let sample = &self.samples[&key];
            self.stats.safety_comparisons += 1;
            let want = sample.digest_at(now);
            let got = replica.digest_at(now);
            if want != got {
                let master = bus.server(sample.server).name.clone();
                let msg = format!(
                    "replica {} at offset {offset} of history {} has data digest {got:016x}, but {master} had {want:016x} at that offset",
                    bus.server(id).name,
                    short(&key.0)
                );
                self.report(bus, Some(id), ViolationKind::Safety, msg);
            }
        }
        self.check_wait_replies(bus);
    }

    fn check_wait_replies(&mut self, bus: &Bus) {
        let mut found = Vec::new();
        for (i, w) in self.waits.iter().enumerate() {
            if w.acked.is_some() {
                continue;
            }
            let Some(entry) = bus.console(w.server).entries().get(w.entry) else {
                continue;
            };
            match &entry.reply {
                Some(crate::engine::resp::Reply::Integer(k)) => found.push((i, *k)),
                Some(_) => found.push((i, -1)),
                None => {}
            }
        }
        for (i, k) in found {
            self.waits[i].acked = Some(k);
            let w = self.waits[i].clone();
            // With nothing written yet (woff 0) every online replica counts, loaded or not,
            // as in Redis: there is nothing to hold.
            if k <= 0 || w.woff == 0 || w.explained.is_some() {
                continue;
            }
            self.stats.waits_checked += 1;
            // A server that crashed or restarted since the WAIT may have acknowledged the
            // write before it went: it counts.
            let restarted_since =
                |id: usize| self.last_restart[id].is_some_and(|r| r >= w.submitted_index);
            let holders = bus
                .servers()
                .iter()
                .enumerate()
                .filter(|(id, s)| {
                    *id != w.server && (restarted_since(*id) || holds(&s.node, &w.history, w.woff))
                })
                .count();
            if (holders as i64) < k {
                let msg = format!(
                    "WAIT on {} answered {k}, but only {holders} other server(s) hold its history {} up to offset {}",
                    bus.server(w.server).name,
                    short(&w.history),
                    w.woff
                );
                self.report(bus, Some(w.server), ViolationKind::Wait, msg);
            }
        }
    }

    /// The end of the run: acknowledged writes must still be there.
    pub fn finish(&mut self, bus: &Bus) {
        for w in self.waits.clone() {
            if w.acked.unwrap_or(0) <= 0
                || w.woff == 0
                || w.explained.is_some()
                || !bus.is_up(w.server)
            {
                continue;
            }
            let node = &bus.server(w.server).node;
            if !holds(node, &w.history, w.woff) {
                let msg = format!(
                    "{} acknowledged offset {} of history {} to {} replica(s) (WAIT at t={}), and no failover or restart that could lose it followed, but it no longer holds it (now {} at {})",
                    bus.server(w.server).name,
                    w.woff,
                    short(&w.history),
                    w.acked.unwrap_or(0),
                    w.submitted_ms,
                    short(history_name(node)),
                    node.replication().master_repl_offset
                );
                self.report(bus, Some(w.server), ViolationKind::LostWrite, msg);
            }
        }
    }
}

/// Whether `node`'s data includes history `history` up to `offset`.
fn holds(node: &Node, history: &str, offset: u64) -> bool {
    let r = node.replication();
    let mine = streaming_offset(node).unwrap_or(r.master_repl_offset);
    if node.role() == Role::Replica && streaming_offset(node).is_none() {
        // Mid-resync: what it holds is in flux (it may be loading another history), except
        // while it keeps its former master's state cached to continue from: that data is
        // intact until a full sync discards it (its link may have timed out while the
        // master was stopped, its acknowledgements still on the way).
        return r
            .cached_master
            .as_ref()
            .is_some_and(|c| c.replid == history && c.reploff >= offset);
    }
    (history_name(node) == history || r.replid == history) && mine >= offset
        || (r.replid2 == history
            && r.replid2 != NULL_REPLID
            && (offset as i64) < r.second_repl_offset)
}

fn short(id: &str) -> &str {
    &id[..id.len().min(8)]
}

/// Why a replica has not converged, or `None` if it has: link up, its master's offset,
/// its master's data.
pub fn convergence_gap(bus: &Bus, id: ServerId, master: ServerId) -> Option<String> {
    let node = &bus.server(id).node;
    let m = &bus.server(master).node;
    let name = &bus.server(id).name;
    let mname = &bus.server(master).name;
    let link = node.master_link()?;
    if !link.is_connected() {
        return Some(format!(
            "replica {name}'s link to {mname} is {:?}",
            link.state_name()
        ));
    }
    let moff = m.replication().master_repl_offset;
    if !link.pre_psync && link.reploff != moff {
        return Some(format!(
            "replica {name} is at offset {} and {mname} at {moff}",
            link.reploff
        ));
    }
    let (a, b) = (
        node.keyspace().digest(bus.now()),
        m.keyspace().digest(bus.now()),
    );
    if a != b {
        return Some(format!(
            "replica {name} has data digest {a:016x} and {mname} {b:016x}"
        ));
    }
    None
}

/// Whether a server runs and handles events (not crashed, not paused, not shut down).
fn running(bus: &Bus, id: ServerId) -> bool {
    bus.is_up(id) && !bus.is_paused(id) && !bus.server(id).node.is_shut_down()
}

/// Replicas expected to converge now: a chain of masters on this bus, no link on it cut or
/// held either way, every server on it running, ending at a master. Each with its direct
/// master.
pub fn expected_to_converge(bus: &Bus) -> Vec<(ServerId, ServerId)> {
    let mut out = Vec::new();
    'replicas: for id in 0..bus.servers().len() {
        if bus.server(id).node.role() != Role::Replica || !running(bus, id) {
            continue;
        }
        let Some(direct) = master_of(bus, id) else {
            continue;
        };
        let (mut cur, mut hops) = (id, 0);
        while bus.server(cur).node.role() == Role::Replica {
            let Some(next) = master_of(bus, cur) else {
                continue 'replicas;
            };
            let blocked = bus.is_cut(cur, next) || bus.is_held(cur, next) || bus.is_held(next, cur);
            if next == cur || blocked || !running(bus, next) || hops > bus.servers().len() {
                continue 'replicas;
            }
            cur = next;
            hops += 1;
        }
        out.push((id, direct));
    }
    out
}

/// The longest [`liveness_bound_ms`] gets: one virtual day, the longest a scenario may run
/// anyway (`end_ms`, [`MAX_TIME_MS`](super::limits::MAX_TIME_MS)). `repl-timeout` and
/// `repl-diskless-sync-delay` accept up to 2^31 seconds (from a server's config or a typed
/// `CONFIG SET`), and a link of 1 byte/ms carries a large dataset for hours; uncapped, a
/// run that does not converge would be played through 68 virtual years before saying so.
/// A run that has not converged at the cap is reported as not converged, as at any bound:
/// no replica is left waiting for a timeout that long in a run replscope plays.
pub const MAX_LIVENESS_BOUND_MS: u64 = super::limits::MAX_TIME_MS as u64;

/// How long after the last action replicas may take to converge (ms): `repl-timeout`
/// (a silent partition or a pause is noticed only by it) and twice the diskless sync
/// delay, 5 s of slack, and for each hop of the longest chain what the network adds: the
/// slowest link carrying the biggest dataset plus a backlog, and 20 one-way trips (the
/// handshake's round trips and the reconnection) at the worst latency + delay + jitter.
/// At most [`MAX_LIVENESS_BOUND_MS`].
pub fn liveness_bound_ms(bus: &Bus) -> u64 {
    let timeout = bus
        .servers()
        .iter()
        .map(|s| s.node.config().repl_timeout)
        .max()
        .unwrap_or(60);
    let delay = bus
        .servers()
        .iter()
        .map(|s| s.node.config().repl_diskless_sync_delay)
        .max()
        .unwrap_or(5);
    let n = bus.servers().len();
    let (mut worst_trip, mut slowest_bw) = (0u64, None::<u64>);
    for a in 0..n {
        for b in 0..n {
            if a != b {
                let l = bus.link(a, b);
                worst_trip = worst_trip.max(
                    l.latency_ms
                        .saturating_add(l.extra_delay_ms)
                        .saturating_add(l.jitter_ms),
                );
                if let Some(bw) = l.bandwidth.filter(|bw| *bw > 0) {
                    slowest_bw = Some(slowest_bw.map_or(bw, |s| s.min(bw)));
                }
            }
        }
    }
    let transfer = slowest_bw.map_or(0, |bw| {
        let data = bus
            .servers()
            .iter()
            .enumerate()
            .filter(|(id, _)| bus.is_up(*id))
            .map(|(_, s)| s.node.save_rdb().len() as u64)
            .max()
            .unwrap_or(0);
        let backlog = bus
            .servers()
            .iter()
            .map(|s| s.node.config().repl_backlog_size)
            .max()
            .unwrap_or(0);
        data.saturating_add(backlog).div_ceil(bw)
    });
    let per_hop = transfer.saturating_add(worst_trip.saturating_mul(20));
    let bound = timeout
        .saturating_add(delay.saturating_mul(2))
        .saturating_mul(1000)
        .saturating_add(5_000)
        .saturating_add((n as u64).saturating_mul(per_hop));
    bound.min(MAX_LIVENESS_BOUND_MS)
}
