//! What a run may cost: an event budget, a memory budget and a step budget, and the
//! deterministic byte accounting the memory budget is checked against.
//!
//! The bus keeps a whole run (its log, its moves, checkpoints of the world for time
//! travel) and the live world. Whatever a run holds — a link, a guide, an embed's request
//! — it must end in bounded work and memory, natively and in a wasm tab. So the bus stops
//! a run once it has recorded [`Budget::max_events`] log entries, holds
//! [`Budget::max_bytes`] of memory or has carried out [`Budget::max_steps`] events (the
//! work the log does not show, such as cron ticks), keeps everything before that, and
//! stays steppable.
//!
//! Bytes are counted from lengths and fixed per-item costs, never from the allocator or
//! `size_of` (which differs between wasm32 and 64-bit targets): the same run stops at the
//! same event natively and in the browser.

use std::fmt;

use super::log::{LogEntry, LogKind};
use super::world::{Pending, World};
use super::{Action, Move};
use crate::engine::keyspace::{SetValue, Value};
use crate::engine::Event;

/// A run's limits. [`Bus::new`](super::Bus::new) starts with [`Budget::DEFAULT`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Log entries the run may record.
    pub max_events: u64,
    /// Bytes the run may hold: log, moves, checkpoints and the live world (see
    /// [`Bus::memory_bytes`](super::Bus::memory_bytes)).
    pub max_bytes: u64,
    /// Events the run may carry out, those that record nothing (a server's cron tick)
    /// included: the work a run asks of the page, which the log does not show.
    pub max_steps: u64,
}

/// Default event budget: ten times the largest run the project records today (a
/// `replscope-sim sweep` seed, a guided scenario, the `big-load` golden link: each under
/// 200,000 entries), and a log the page's views page through without trouble.
pub const DEFAULT_MAX_EVENTS: u64 = 2_000_000;

/// Default memory budget, 512 MiB. A wasm32 tab addresses 4 GiB at most and browsers
/// often give less; the accounting counts payloads and fixed per-item costs, not the
/// allocator's slack, and a jump back clones one checkpoint more, so a quarter of that
/// ceiling leaves room for both. Runs recorded today hold a few MB.
pub const DEFAULT_MAX_BYTES: u64 = 512 << 20;

/// Default step budget: three times what the scenario budgets let a run's own length ask
/// of the servers' crons (`scenario::limits::MAX_CRON_LOOPS`, 10,000,000), so it stops
/// only what no check before the run could see coming, such as a long wait for replicas
/// that never converge at a high `hz`. A cron tick costs about a microsecond natively, a
/// few in a tab: tens of seconds at worst, carried out in slices the page can cancel.
pub const DEFAULT_MAX_STEPS: u64 = 30_000_000;

impl Budget {
    pub const DEFAULT: Budget = Budget {
        max_events: DEFAULT_MAX_EVENTS,
        max_bytes: DEFAULT_MAX_BYTES,
        max_steps: DEFAULT_MAX_STEPS,
    };
}

impl Default for Budget {
    fn default() -> Self {
        Budget::DEFAULT
    }
}

/// Which budget stopped a run, with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetLimit {
    Events(u64),
    Bytes(u64),
    Steps(u64),
}

/// Where and why the bus stopped a run: no move is carried out past `event` (the number of
/// log entries recorded when it stopped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetStop {
    pub event: u64,
    pub limit: BudgetLimit,
}

impl fmt::Display for BudgetStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.limit {
            BudgetLimit::Events(n) => write!(
                f,
                "stopped at event {}: budget of {} events reached",
                self.event,
                grouped(n)
            ),
            BudgetLimit::Bytes(n) => write!(
                f,
                "stopped at event {}: budget of {} of memory reached",
                self.event,
                human_bytes(n)
            ),
            BudgetLimit::Steps(n) => write!(
                f,
                "stopped at event {}: budget of {} steps of simulation reached",
                self.event,
                grouped(n)
            ),
        }
    }
}

/// A whole number with thousands separators, as the page shows counts: `200,000`.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A size as the page shows it: `16 MiB`, `12.2 GiB`, or exact bytes where rounding would
/// read as a round number.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if bytes >= size {
            if bytes.is_multiple_of(size) {
                return format!("{} {unit}", bytes / size);
            }
            let rounded = format!("{:.1}", bytes as f64 / size as f64);
            // Just past a round number, "16.0 MiB" would read as the budget itself.
            return if rounded.ends_with(".0") {
                format!("{} bytes", grouped(bytes))
            } else {
                format!("{rounded} {unit}")
            };
        }
    }
    format!("{bytes} bytes")
}

/// What one log entry costs besides its payload (index, time, server, kind tag,
/// offsets, sent stamp, the vector's slot).
pub const LOG_ENTRY_BYTES: u64 = 96;
/// What one move of the timeline costs besides an action's payload (the move, its log
/// end and its byte total).
pub const MOVE_BYTES: u64 = 32;
/// What an action behind a move costs besides its text or bytes.
pub const ACTION_BYTES: u64 = 64;
/// Per key: the key map's slot, the entry, the value's header.
pub const KEY_BYTES: u64 = 64;
/// Per element of a list, hash, set or sorted set.
pub const ELEMENT_BYTES: u64 = 24;
/// Per server: the node with its clients, config and replication state, the console.
pub const SERVER_BYTES: u64 = 64 << 10;
/// Per queued event or parked chunk besides its bytes.
pub const QUEUED_BYTES: u64 = 64;

/// The accounted size of one log entry.
pub(crate) fn entry_bytes(e: &LogEntry) -> u64 {
    let payload = match &e.kind {
        LogKind::ServerStarted { name, .. } => name.len(),
        LogKind::ConsoleInput { line } => line.len(),
        LogKind::Reply { data } | LogKind::Deliver { data, .. } => data.len(),
        LogKind::Closed { reason, .. }
        | LogKind::ConnectFailed { reason, .. }
        | LogKind::RestartFailed { reason } => reason.len(),
        LogKind::Connect { host, .. } => host.len(),
        LogKind::Engine(Event::Log(line)) => line.len(),
        LogKind::Restarted {
            repl: Some((id, _)),
            ..
        } => id.len(),
        _ => 0,
    };
    LOG_ENTRY_BYTES + payload as u64
}

/// The accounted size of one move (not of what it logs).
pub(crate) fn move_bytes(m: &Move) -> u64 {
    let action = match m {
        Move::Steps(_) | Move::IdleTo(_) | Move::ClockTo(_) => return MOVE_BYTES,
        Move::Other(a) => a,
    };
    let payload = match &**action {
        Action::AddServer { name, .. } => name.len() as u64 + SERVER_BYTES / 16,
        Action::Command { line, .. } => line.len() as u64,
        Action::Pipe { data, .. } => data.len() as u64,
        _ => 0,
    };
    MOVE_BYTES + ACTION_BYTES + payload
}

/// The accounted size of a whole world, by walking it: its keyspaces, the servers'
/// replication buffers and saved RDBs, and every byte queued or parked on the network.
/// As costly as cloning the world, so the bus does it only where it clones one (a
/// checkpoint) and counts the bytes that enter the world in between (see
/// [`World::traffic`]).
pub(crate) fn world_bytes(w: &World) -> u64 {
    let mut total = 0u64;
    for s in &w.servers {
        total += SERVER_BYTES;
        let node = &s.node;
        for db in &node.keyspace().dbs {
            for (key, entry) in db.entries.iter_unordered() {
                total += KEY_BYTES + key.len() as u64 + value_bytes(&entry.value);
            }
        }
        total += node
            .replication()
            .backlog
            .as_ref()
            .map_or(0, |b| b.buffer_memory());
    }
    for p in &w.procs {
        total += p.disk.as_ref().map_or(0, |d| d.len() as u64);
        total += p.stash.iter().map(pending_bytes).sum::<u64>();
    }
    total += w
        .queue
        .iter()
        .map(|q| pending_bytes(&q.0.event))
        .sum::<u64>();
    for (_, link) in w.links.iter() {
        total += link.parked.iter().map(pending_bytes).sum::<u64>();
    }
    total
}

fn pending_bytes(p: &Pending) -> u64 {
    QUEUED_BYTES
        + match p {
            Pending::Deliver { data, .. } => data.len() as u64,
            _ => 0,
        }
}

fn value_bytes(v: &Value) -> u64 {
    let elements =
        |lens: &mut dyn Iterator<Item = usize>| lens.map(|n| ELEMENT_BYTES + n as u64).sum::<u64>();
    match v {
        Value::String(s) => s.len() as u64,
        Value::List(l) => elements(&mut l.iter().map(|e| e.len())),
        Value::Hash(h) => elements(&mut h.iter().map(|(f, v)| f.len() + v.len())),
        Value::Set(SetValue::Ints(s)) => s.len() as u64 * ELEMENT_BYTES,
        Value::Set(SetValue::Members(s)) => elements(&mut s.iter().map(|m| m.len())),
        Value::ZSet(z) => elements(&mut z.iter().map(|(m, _)| m.len() + 8)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_read_as_the_page_shows_them() {
        let events = BudgetStop {
            event: 2_000_000,
            limit: BudgetLimit::Events(2_000_000),
        };
        assert_eq!(
            events.to_string(),
            "stopped at event 2000000: budget of 2,000,000 events reached"
        );
        let bytes = BudgetStop {
            event: 1234,
            limit: BudgetLimit::Bytes(512 << 20),
        };
        assert_eq!(
            bytes.to_string(),
            "stopped at event 1234: budget of 512 MiB of memory reached"
        );
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
        assert_eq!(human_bytes(64 << 10), "64 KiB");
        assert_eq!(human_bytes(100), "100 bytes");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
    }
}
