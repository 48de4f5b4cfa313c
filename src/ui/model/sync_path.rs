//! The sync path view: one replica's handshake and sync as a sequence of steps (PING →
//! AUTH → REPLCONF → PSYNC → +FULLRESYNC or +CONTINUE → RDB → stream), which of them the
//! latest attempt took, and the master's decision with the numbers behind it.
//!
//! Everything comes from the bus's event log: the replica's `Event::LinkState` entries
//! (each step of its state machine) and the master's `Event::SyncDecision` (what it
//! compared and why it answered as it did). An *attempt* is everything from one
//! `Connecting` to the next.

use std::cell::RefCell;
use std::rc::Rc;

use super::timeline::format_clock;
use crate::bus::{Bus, LogEntry, LogKind, ServerId, EPOCH_MS};
use crate::engine::replication::{LinkStateName, ReplicaSyncState, SyncDecision};
use crate::engine::{Event, Role};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepMark {
    Done,
    /// The step the replica is in now.
    Current,
    /// Not needed on this path (AUTH without `masterauth`, the RDB of a `+CONTINUE`).
    Skipped,
    /// Not reached yet.
    Pending,
    /// Where the attempt stopped (the connection was lost).
    Failed,
}

impl StepMark {
    pub fn symbol(self) -> &'static str {
        match self {
            StepMark::Done => "✓",
            StepMark::Current => "▶",
            StepMark::Skipped => "–",
            StepMark::Pending => "○",
            StepMark::Failed => "✖",
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            StepMark::Done => "done",
            StepMark::Current => "current",
            StepMark::Skipped => "skipped",
            StepMark::Pending => "not yet",
            StepMark::Failed => "stopped here",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub name: String,
    pub mark: StepMark,
    pub detail: String,
}

/// One number of the decision, and whether it let the replica continue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyRow {
    pub label: String,
    pub value: String,
    /// `Some(true)`: this check passed; `Some(false)`: it failed; `None`: context.
    pub check: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WhyView {
    /// `+CONTINUE` or `+FULLRESYNC`.
    pub verdict: String,
    pub partial: bool,
    pub master: String,
    pub time: String,
    pub rows: Vec<WhyRow>,
    /// The engine's explanation, in words.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptRow {
    pub time: String,
    pub partial: bool,
    /// `partial (+CONTINUE)` / `full (+FULLRESYNC)`
    pub kind: String,
    pub master: String,
    /// `PSYNC 8f52a14d… 51`
    pub request: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncPathView {
    /// The replica shown.
    pub replica: Option<ServerId>,
    pub replica_name: String,
    /// Replicas to choose from when the selected server is a master: `(id, "name (port)")`.
    pub picker: Vec<(ServerId, String)>,
    /// Said instead of a path when there is nothing to show.
    pub message: Option<String>,
    pub steps: Vec<Step>,
    /// The replica's state now, in words.
    pub now: String,
    pub why: Option<WhyView>,
    /// Every decision a master made for this replica, newest first.
    pub history: Vec<AttemptRow>,
    /// The master's BGSAVE window behind this replica's full sync.
    pub window: Option<WindowView>,
}

/// A full sync's snapshot window as the master lives it: its BGSAVE child from fork to
/// reaping, the writes it keeps for the replica meanwhile, and where the replica is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowView {
    /// Virtual time of the fork.
    pub start: String,
    /// Virtual time the child was reaped, `None` while it runs.
    pub end: Option<String>,
    /// Stream bytes written since the fork, held in the replica's output buffer until
    /// the snapshot is through: they follow it.
    pub buffered_bytes: u64,
    /// The master's state for this replica (`wait_bgsave`, `send_bulk`, `online`), or
    /// `None` when it no longer has it.
    pub state: Option<&'static str>,
}

/// The window of `master`'s running child, or of its last one once the replica left
/// `wait_bgsave`. Read from the master's node as the replica last asked it.
pub fn window(bus: &Bus, master: ServerId, replica_port: u16) -> Option<WindowView> {
    let node = &bus.server(master).node;
    let state = node
        .replicas()
        .find(|(c, _)| c.replica_listening_port == replica_port)
        .map(|(_, p)| p.state);
    let clock = |t: u64| format_clock(t.saturating_sub(EPOCH_MS));
    match (node.child(), state) {
        (Some(c), Some(ReplicaSyncState::WaitBgsaveEnd)) => Some(WindowView {
            start: clock(c.started_at),
            end: None,
            buffered_bytes: node.replication().master_repl_offset - c.offset,
            state: state.map(ReplicaSyncState::info_name),
        }),
        (_, Some(ReplicaSyncState::WaitBgsaveStart)) | (_, None) => None,
        _ => {
            let s = node.save_stats();
            (s.last_window.0 != 0).then(|| WindowView {
                start: clock(s.last_window.0),
                end: Some(clock(s.last_window.1)),
                buffered_bytes: s.last_offsets.1 - s.last_offsets.0,
                state: state.map(ReplicaSyncState::info_name),
            })
        }
    }
}

/// The listening port of the replica a decision names (`ip:listening-port`).
fn replica_port(d: &SyncDecision) -> Option<u16> {
    d.replica.rsplit(':').next()?.parse().ok()
}

/// The replica named in a decision is `port`.
fn names_port(d: &SyncDecision, port: u16) -> bool {
    replica_port(d) == Some(port)
}

fn short(id: &str) -> String {
    if id.len() > 12 {
        format!("{}…", &id[..8])
    } else {
        id.to_string()
    }
}

/// Replicas of `master`: those whose link points to it now, then those it ever decided a
/// sync for (they may have moved on or be down).
fn replicas_of(bus: &Bus, events: &[&LogEntry], master: ServerId) -> Vec<ServerId> {
    let mut out: Vec<ServerId> = (0..bus.servers().len())
        .filter(|&r| r != master)
        .filter(|&r| {
            bus.server(r)
                .node
                .master_link()
                .is_some_and(|l| bus.server_by_port(l.port) == Some(master))
        })
        .collect();
    for e in events {
        if let (Some(s), LogKind::Engine(Event::SyncDecision(d))) = (e.server, &e.kind) {
            if s == master {
                let r = replica_port(d).and_then(|p| bus.server_by_port(p));
                if let Some(r) = r.filter(|r| !out.contains(r) && *r != master) {
                    out.push(r);
                }
            }
        }
    }
    out
}

/// The steps of the state machine, in order, with the state that waits for each reply.
const PATH: [(&str, Option<LinkStateName>); 9] = [
    ("PING", Some(LinkStateName::ReceivePingReply)),
    ("AUTH", Some(LinkStateName::ReceiveAuthReply)),
    (
        "REPLCONF listening-port",
        Some(LinkStateName::ReceivePortReply),
    ),
    ("REPLCONF ip-address", Some(LinkStateName::ReceiveIpReply)),
    ("REPLCONF capa", Some(LinkStateName::ReceiveCapaReply)),
    ("PSYNC", Some(LinkStateName::ReceivePsyncReply)),
    ("+FULLRESYNC or +CONTINUE", None),
    ("RDB", Some(LinkStateName::Transfer)),
    ("stream", Some(LinkStateName::Connected)),
];

fn rank(s: LinkStateName) -> usize {
    match s {
        LinkStateName::Connect | LinkStateName::Connecting => 0,
        LinkStateName::ReceivePingReply => 1,
        LinkStateName::ReceiveAuthReply => 2,
        LinkStateName::ReceivePortReply => 3,
        LinkStateName::ReceiveIpReply => 4,
        LinkStateName::ReceiveCapaReply => 5,
        LinkStateName::ReceivePsyncReply => 6,
        LinkStateName::Transfer => 8,
        LinkStateName::Connected => 9,
    }
}

fn why(bus: &Bus, master: ServerId, time: u64, d: &SyncDecision) -> WhyView {
    let mut rows = Vec::new();
    rows.push(WhyRow {
        label: "replica asked".into(),
        value: if d.command == "SYNC" {
            "SYNC (no id, no offset)".into()
        } else {
            format!("PSYNC {} {}", d.requested_replid, d.requested_offset)
        },
        check: None,
    });
    let id_is_replid = d.requested_replid.eq_ignore_ascii_case(&d.my_replid);
    let id_is_replid2 = !id_is_replid && d.requested_replid.eq_ignore_ascii_case(&d.my_replid2);
    rows.push(WhyRow {
        label: "master replid".into(),
        value: d.my_replid.clone(),
        check: Some(id_is_replid),
    });
    let second = if d.second_repl_offset < 0 {
        "none".to_string()
    } else {
        d.second_repl_offset.to_string()
    };
    rows.push(WhyRow {
        label: "master replid2 (valid up to second_repl_offset)".into(),
        value: format!("{} (up to {second})", d.my_replid2),
        check: id_is_replid2.then_some(d.requested_offset <= d.second_repl_offset),
    });
    let history_ok = id_is_replid || (id_is_replid2 && d.requested_offset <= d.second_repl_offset);
    rows.push(WhyRow {
        label: "master_repl_offset".into(),
        value: d.master_repl_offset.to_string(),
        check: None,
    });
    let (value, check) = match d.backlog {
        Some((first, histlen)) => {
            let last = first + histlen as u64;
            let ok = d.requested_offset >= first as i64 && d.requested_offset <= last as i64;
            (
                format!("offsets {first}..{last} can be continued from ({histlen} bytes held); asked for {}", d.requested_offset),
                // The backlog is consulted only for a history the master can continue.
                (d.command == "PSYNC" && history_ok).then_some(ok),
            )
        }
        None => ("none (no replica yet)".to_string(), None),
    };
    rows.push(WhyRow {
        label: "backlog".into(),
        value,
        check,
    });
    if d.partial {
        rows.push(WhyRow {
            label: "sent from the backlog".into(),
            value: format!("{} bytes", d.backlog_bytes_sent),
            check: None,
        });
    }
    WhyView {
        verdict: if d.partial {
            "+CONTINUE".into()
        } else {
            "+FULLRESYNC".into()
        },
        partial: d.partial,
        master: format!("{} ({})", bus.server(master).name, bus.server(master).port),
        time: format_clock(time),
        rows,
        reason: d.reason.clone(),
    }
}

pub fn sync_path_view(bus: &Bus, selected: ServerId, picked: Option<ServerId>) -> SyncPathView {
    sync_path_view_cached(bus, selected, picked, &SyncEventsCache::default())
}

/// [`sync_path_view`] reading the log's sync events through `cache`, which keeps them
/// between redraws: a redraw reads only the entries logged since.
pub fn sync_path_view_cached(
    bus: &Bus,
    selected: ServerId,
    picked: Option<ServerId>,
    cache: &SyncEventsCache,
) -> SyncPathView {
    let events = cache.events(bus);
    let sel = bus.server(selected);
    let mut view = SyncPathView {
        replica: None,
        replica_name: String::new(),
        picker: Vec::new(),
        message: None,
        steps: Vec::new(),
        now: String::new(),
        why: None,
        history: Vec::new(),
        window: None,
    };
    let replica = if sel.node.role() == Role::Replica {
        selected
    } else {
        let replicas = replicas_of(bus, &events, selected);
        view.picker = replicas
            .iter()
            .map(|&r| {
                (
                    r,
                    format!("{} ({})", bus.server(r).name, bus.server(r).port),
                )
            })
            .collect();
        match picked
            .filter(|p| replicas.contains(p))
            .or(replicas.first().copied())
        {
            Some(r) => r,
            None => {
                view.message = Some(format!(
                    "{} is a master with no replicas: nothing has synced from it yet.",
                    sel.name
                ));
                return view;
            }
        }
    };
    let r = bus.server(replica);
    view.replica = Some(replica);
    view.replica_name = format!("{} ({})", r.name, r.port);

    // The latest attempt: every state from the last `Connecting` on.
    let mut attempt: Vec<(u64, LinkStateName)> = Vec::new();
    let mut attempt_start = 0u64;
    for e in &events {
        if e.server != Some(replica) {
            continue;
        }
        if let LogKind::Engine(Event::LinkState { state }) = &e.kind {
            if *state == LinkStateName::Connecting {
                attempt.clear();
                attempt_start = e.index;
            }
            attempt.push((e.index, *state));
        }
    }
    // Decisions for this replica, from any master.
    let decisions: Vec<(u64, u64, ServerId, &SyncDecision)> = events
        .iter()
        .filter_map(|e| match (&e.kind, e.server) {
            (LogKind::Engine(Event::SyncDecision(d)), Some(m))
                if m != replica && names_port(d, r.port) =>
            {
                Some((e.index, e.time, m, d))
            }
            _ => None,
        })
        .collect();
    view.history = decisions
        .iter()
        .rev()
        .map(|(_, time, m, d)| AttemptRow {
            time: format_clock(*time),
            partial: d.partial,
            kind: if d.partial {
                "partial (+CONTINUE)".into()
            } else {
                "full (+FULLRESYNC)".into()
            },
            master: format!("{} ({})", bus.server(*m).name, bus.server(*m).port),
            request: if d.command == "SYNC" {
                "SYNC".into()
            } else {
                format!(
                    "PSYNC {} {}",
                    short(&d.requested_replid),
                    d.requested_offset
                )
            },
        })
        .collect();
    let decision = decisions
        .iter()
        .rev()
        .find(|(i, ..)| *i > attempt_start)
        .filter(|_| !attempt.is_empty());
    view.why = decisions.last().map(|(_, t, m, d)| why(bus, *m, *t, d));
    view.window = decision
        .filter(|(.., d)| !d.partial)
        .and_then(|(_, _, m, _)| window(bus, *m, r.port));

    let link_state = r.node.master_link().map(|l| l.state_name());
    view.now = match link_state {
        None => "not a replica now (REPLICAOF NO ONE, or never told to replicate)".into(),
        Some(LinkStateName::Connect) => "link down: retrying every second".into(),
        Some(LinkStateName::Connecting) => "connecting to its master".into(),
        Some(LinkStateName::Transfer) => "loading the snapshot".into(),
        Some(LinkStateName::Connected) => "online: applying the stream".into(),
        Some(LinkStateName::ReceivePsyncReply) => "PSYNC sent, waiting for the answer".into(),
        Some(s) => format!(
            "handshake: waiting for the reply to {}",
            PATH.iter().find(|p| p.1 == Some(s)).map_or("?", |p| p.0)
        ),
    };
    if attempt.is_empty() {
        view.message = Some(format!("{} has not tried to sync yet.", r.name));
        return view;
    }
    let visited = |s: LinkStateName| attempt.iter().any(|(_, v)| *v == s);
    let last = attempt
        .last()
        .map(|(_, s)| *s)
        .unwrap_or(LinkStateName::Connecting);
    // The attempt ended (connection lost) when the state fell back to Connect: the step
    // it was in is where it stopped.
    let ended = last == LinkStateName::Connect;
    let reached = attempt
        .iter()
        .filter(|(_, s)| *s != LinkStateName::Connect)
        .map(|(_, s)| *s)
        .max_by_key(|s| rank(*s));
    let reached_rank = reached.map_or(0, rank);
    let stopped_at = if ended { reached } else { None };
    let full = decision
        .map(|(.., d)| !d.partial)
        .or(visited(LinkStateName::Transfer).then_some(true));

    for (name, state) in PATH {
        let (mark, detail) = match state {
            None => {
                // The answer: it has no state of its own on the replica.
                match (full, decision) {
                    (Some(false), _) => (
                        StepMark::Done,
                        format!("+CONTINUE: {} bytes from the backlog", decision.map_or(0, |(.., d)| d.backlog_bytes_sent)),
                    ),
                    (Some(true), _) if reached_rank >= rank(LinkStateName::Transfer) => {
                        (StepMark::Done, "a snapshot follows".to_string())
                    }
                    (Some(true), _) => (
                        if ended { StepMark::Failed } else { StepMark::Current },
                        "full resync decided; +FULLRESYNC is sent when the snapshot starts (repl-diskless-sync-delay)".to_string(),
                    ),
                    (None, _) => (StepMark::Pending, String::new()),
                }
            }
            Some(s) => {
                // An attempt that never connected (its master unreachable, as right after
                // a cut: the replica reconnects at once and the connect fails) stopped
                // before PING, the first step it would have taken.
                let never_connected = stopped_at == Some(LinkStateName::Connecting);
                let here = Some(s) == stopped_at
                    || (never_connected && s == LinkStateName::ReceivePingReply);
                let mark = if here {
                    StepMark::Failed
                } else if !ended && s == last {
                    StepMark::Current
                } else if visited(s) {
                    StepMark::Done
                } else if rank(s) < reached_rank
                    || (s == LinkStateName::Transfer && full == Some(false))
                {
                    StepMark::Skipped
                } else {
                    StepMark::Pending
                };
                // PSYNC waits through the diskless delay: say so when the answer is known.
                let mark = if s == LinkStateName::ReceivePsyncReply
                    && mark == StepMark::Current
                    && full.is_some()
                {
                    StepMark::Done
                } else {
                    mark
                };
                let detail = match (s, mark) {
                    (LinkStateName::ReceivePingReply, StepMark::Failed) if never_connected => {
                        "could not connect to its master".to_string()
                    }
                    (LinkStateName::ReceiveAuthReply, StepMark::Skipped) => {
                        "no masterauth set".to_string()
                    }
                    (LinkStateName::ReceiveIpReply, StepMark::Skipped) => {
                        "no replica-announce-ip set".to_string()
                    }
                    (LinkStateName::Transfer, StepMark::Skipped) => {
                        "not needed: the backlog had the bytes".to_string()
                    }
                    (LinkStateName::ReceivePsyncReply, _) => match decision {
                        Some((.., d)) if d.command == "SYNC" => {
                            "SYNC (no id, no offset)".to_string()
                        }
                        Some((.., d)) => format!(
                            "PSYNC {} {}",
                            short(&d.requested_replid),
                            d.requested_offset
                        ),
                        None => String::new(),
                    },
                    (LinkStateName::Transfer, StepMark::Current) => {
                        match r.node.master_link().and_then(|l| l.transfer_progress()) {
                            Some((total, read)) if total > 0 => format!("{read} of {total} bytes"),
                            Some((_, read)) => format!("{read} bytes read"),
                            None => String::new(),
                        }
                    }
                    (LinkStateName::Connected, StepMark::Current) => "online".to_string(),
                    (_, StepMark::Failed) => "the connection was lost here".to_string(),
                    _ => String::new(),
                };
                (mark, detail)
            }
        };
        // The ip-address step exists only with replica-announce-ip: leave it out unless taken.
        if state == Some(LinkStateName::ReceiveIpReply) && mark == StepMark::Skipped {
            continue;
        }
        let name = match (state, full, decision) {
            (None, Some(true), _) => "+FULLRESYNC".to_string(),
            (None, Some(false), _) => "+CONTINUE".to_string(),
            (Some(LinkStateName::ReceivePsyncReply), _, Some((.., d))) if d.command == "SYNC" => {
                "SYNC".to_string()
            }
            _ => name.to_string(),
        };
        view.steps.push(Step { name, mark, detail });
    }
    view
}

/// The positions of the log's sync events (link states and sync decisions) read on
/// earlier redraws. The log only grows, or is cut at its end by a jump back, while the
/// bus discards no recorded future ([`Bus::timeline_rewrites`]); otherwise it is read
/// again from the start. A cache, not state: shared by the clones of the page state.
#[derive(Clone, Default)]
pub struct SyncEventsCache(Rc<RefCell<SyncEvents>>);

#[derive(Default)]
struct SyncEvents {
    rewrites: u64,
    scanned: usize,
    positions: Vec<usize>,
}

impl PartialEq for SyncEventsCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for SyncEventsCache {}

impl std::fmt::Debug for SyncEventsCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SyncEventsCache({} events)",
            self.0.borrow().positions.len()
        )
    }
}

impl SyncEventsCache {
    fn events<'a>(&self, bus: &'a Bus) -> Vec<&'a LogEntry> {
        let log = bus.log();
        let mut s = self.0.borrow_mut();
        if s.rewrites != bus.timeline_rewrites() {
            *s = SyncEvents {
                rewrites: bus.timeline_rewrites(),
                ..SyncEvents::default()
            };
        }
        if log.len() < s.scanned {
            let keep = s.positions.partition_point(|&p| p < log.len());
            s.positions.truncate(keep);
            s.scanned = log.len();
        }
        for (p, e) in (s.scanned..).zip(log.range(s.scanned..)) {
            if matches!(
                e.kind,
                LogKind::Engine(Event::SyncDecision(_) | Event::LinkState { .. })
            ) {
                s.positions.push(p);
            }
        }
        s.scanned = log.len();
        s.positions.iter().filter_map(|&p| log.get(p)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::test_bed::TestBed;

    fn marks(v: &SyncPathView) -> Vec<(String, StepMark)> {
        v.steps.iter().map(|s| (s.name.clone(), s.mark)).collect()
    }

    fn row<'a>(w: &'a WhyView, label: &str) -> &'a WhyRow {
        w.rows
            .iter()
            .find(|r| r.label.starts_with(label))
            .unwrap_or_else(|| panic!("no row {label}: {:?}", w.rows))
    }

    #[test]
    fn a_first_sync_is_full_and_streams() {
        let (bus, m) = Bus::master_and_synced_replicas(1, 2);
        let v = sync_path_view(&bus, m, None);
        assert_eq!(
            v.picker.iter().map(|p| p.1.as_str()).collect::<Vec<_>>(),
            ["replica-0 (6381)", "replica-1 (6382)"]
        );
        assert_eq!(v.replica, Some(1));
        use StepMark::*;
        assert_eq!(
            marks(&v),
            [
                ("PING".to_string(), Done),
                ("AUTH".to_string(), Skipped),
                ("REPLCONF listening-port".to_string(), Done),
                ("REPLCONF capa".to_string(), Done),
                ("PSYNC".to_string(), Done),
                ("+FULLRESYNC".to_string(), Done),
                ("RDB".to_string(), Done),
                ("stream".to_string(), Current),
            ]
        );
        let why = v.why.unwrap();
        assert_eq!(why.verdict, "+FULLRESYNC");
        assert_eq!(row(&why, "master replid").check, Some(false));
        assert_eq!(
            row(&why, "backlog").check,
            None,
            "another history: the backlog is not even looked at"
        );
        assert!(why.reason.contains("PSYNC2"), "{}", why.reason);
        assert_eq!(v.history.len(), 1);
        assert_eq!(v.history[0].kind, "full (+FULLRESYNC)");
        assert_eq!(
            sync_path_view(&bus, m, Some(2)).replica_name,
            "replica-1 (6382)"
        );
    }

    #[test]
    fn writes_during_the_bgsave_window_wait_for_the_replica() {
        let (mut bus, m, r) = crate::ui::model::test_setup::master_in_bgsave_with_replica();
        let at_fork = bus.server(m).node.child().expect("a BGSAVE child").offset;
        bus.submit_command(m, "SET during the-window").unwrap();
        bus.advance(100);
        let v = sync_path_view(&bus, r, None);
        let w = v.window.expect("the window while the child runs");
        let stream = bus.server(m).node.replication().master_repl_offset - at_fork;
        assert!(stream > 0);
        assert_eq!(w.buffered_bytes, stream);
        assert_eq!(w.end, None);
        assert_eq!(w.state, Some("wait_bgsave"));
        bus.advance(5_000);
        let v = sync_path_view(&bus, r, None);
        let w = v.window.expect("the window after the child");
        assert!(w.end.is_some());
        assert_eq!(w.buffered_bytes, stream, "no writes after it");
        assert_eq!(w.state, Some("online"));
        assert!(
            bus.server(r).node.keyspace().get(0, b"during", 0).is_some(),
            "the buffered write reached the replica after the snapshot"
        );
    }

    #[test]
    fn cut_write_heal_continues_with_the_numbers() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        bus.submit_command(m, "SET k v").unwrap();
        bus.advance(100);
        bus.cut(0, 1);
        bus.advance(100);
        let v = sync_path_view(&bus, 1, None);
        assert_eq!(v.now, "link down: retrying every second");
        assert!(
            v.steps.iter().any(|s| s.mark == StepMark::Failed),
            "{:?}",
            v.steps
        );
        bus.submit_command(m, "SET k2 v2").unwrap();
        bus.heal(0, 1);
        bus.advance(2_000);
        let v = sync_path_view(&bus, 1, None);
        let names: Vec<_> = v.steps.iter().map(|s| (s.name.as_str(), s.mark)).collect();
        assert!(names.contains(&("+CONTINUE", StepMark::Done)), "{names:?}");
        assert!(names.contains(&("RDB", StepMark::Skipped)), "{names:?}");
        let why = v.why.unwrap();
        assert_eq!(why.verdict, "+CONTINUE");
        let replid = bus.server(m).node.replication().replid.clone();
        assert_eq!(
            row(&why, "replica asked").value,
            format!("PSYNC {replid} 51")
        );
        assert_eq!(row(&why, "master replid").check, Some(true));
        assert_eq!(row(&why, "backlog").check, Some(true));
        assert!(row(&why, "backlog")
            .value
            .starts_with("offsets 1..80 can be continued from (79 bytes held); asked for 51"));
        assert_eq!(row(&why, "sent from the backlog").value, "29 bytes");
        assert_eq!(v.history.len(), 2);
        assert!(
            v.history[0].partial && !v.history[1].partial,
            "newest first"
        );
        assert_eq!(v.history[0].request, format!("PSYNC {}… 51", &replid[..8]));
    }

    #[test]
    fn an_overflowed_small_backlog_explains_the_full_resync() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        bus.submit_command(m, "CONFIG SET repl-backlog-size 16kb")
            .unwrap();
        bus.advance(10);
        bus.cut(0, 1);
        let value = "x".repeat(200);
        let lines: Vec<String> = (0..500).map(|i| format!("SET key:{i} {value}")).collect();
        bus.submit_pipe(m, &lines.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap();
        bus.advance(10);
        bus.heal(0, 1);
        bus.advance(8_000);
        let v = sync_path_view(&bus, 1, None);
        let why = v.why.unwrap();
        assert_eq!(why.verdict, "+FULLRESYNC");
        assert!(!why.partial);
        assert_eq!(
            row(&why, "master replid").check,
            Some(true),
            "the right history..."
        );
        let backlog = row(&why, "backlog");
        assert_eq!(
            backlog.check,
            Some(false),
            "...but the offset is gone: {backlog:?}"
        );
        let first = bus
            .server(m)
            .node
            .replication()
            .backlog
            .as_ref()
            .unwrap()
            .first_byte_offset();
        assert!(first > 1);
        assert!(backlog.value.contains(&format!(
            "asked for {}",
            row(&why, "replica asked").value.rsplit(' ').next().unwrap()
        )));
        assert!(
            why.reason.to_lowercase().contains("backlog"),
            "{}",
            why.reason
        );
        assert_eq!(v.history.len(), 2);
        assert!(!v.history[0].partial);
        assert_eq!(
            v.steps
                .iter()
                .find(|s| s.name == "+FULLRESYNC")
                .map(|s| s.mark),
            Some(StepMark::Done)
        );
    }

    #[test]
    fn a_lone_master_says_so() {
        let mut bus = Bus::new(1);
        bus.add_server(
            "alone",
            crate::engine::Config {
                port: 6390,
                ..Default::default()
            },
        );
        let v = sync_path_view(&bus, 0, None);
        assert!(v.message.unwrap().contains("no replicas"));
        assert!(v.steps.is_empty());
    }

    #[test]
    fn kept_sync_events_equal_reading_the_log_afresh() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        let cache = SyncEventsCache::default();
        let same = |bus: &Bus| {
            assert_eq!(
                sync_path_view_cached(bus, 1, None, &cache),
                sync_path_view(bus, 1, None)
            )
        };
        for i in 0..3 {
            bus.cut(m, 1);
            bus.submit_command(m, &format!("SET k{i} v")).unwrap();
            bus.advance(500);
            same(&bus);
            bus.heal(m, 1);
            bus.advance(2_000);
            same(&bus);
        }
        let end = bus.log().len();
        bus.jump_to(end / 3).unwrap();
        same(&bus);
        bus.jump_to_end();
        same(&bus);
        bus.jump_to(end / 3).unwrap();
        bus.submit_command(1, "REPLICAOF NO ONE").unwrap();
        bus.advance(100);
        same(&bus);
    }
}
