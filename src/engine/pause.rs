//! Client pause, as Redis 7.0's `pauseClients` / `unpauseClients` (networking.c): while a
//! pause holds, normal clients' writes (or, for `ALL`, every command) wait, postponed,
//! until it ends. Replicas are never paused. Each purpose (CLIENT PAUSE, and FAILOVER
//! later) keeps its own end and type; the most restrictive type rules, until the
//! furthest end among the pauses of that type. While any pause holds, the dataset stays
//! as it is: no active or lazy expiry deletes a key, and no GETACK goes to the replicas.
//! (Redis also holds back its own master's stream on a paused replica; the engine does
//! not yet.)

use super::{ConnId, Node};

/// How much a pause holds back (Redis's `pause_type`, ordered by restrictiveness).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseType {
    Write,
    All,
}

/// Why clients are paused (Redis's `pause_purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePurpose {
    ClientCommand = 0,
    Failover = 1,
}

const PURPOSES: usize = 2;

/// One purpose's pause: its type and its end (unix ms; it is over once `end < now`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PauseEvent {
    kind: PauseType,
    end: u64,
}

/// The pauses in force, per purpose, and what they add up to.
#[derive(Debug, Clone, Default)]
pub struct Pauses {
    per_purpose: [Option<PauseEvent>; PURPOSES],
    /// The most restrictive type in force, `None` when nothing is paused.
    kind: Option<PauseType>,
    end: u64,
}

impl Node {
    /// Redis's `pauseClients`: a purpose's pause only grows, in type and in end.
    pub(crate) fn pause_clients(&mut self, purpose: PausePurpose, end: u64, kind: PauseType) {
        let slot = &mut self.pauses.per_purpose[purpose as usize];
        *slot = Some(match *slot {
            None => PauseEvent { kind, end },
            Some(p) => PauseEvent {
                kind: p.kind.max(kind),
                end: p.end.max(end),
            },
        });
        self.update_pause();
    }

    /// Redis's `unpauseClients`.
    pub(crate) fn unpause_clients(&mut self, purpose: PausePurpose) {
        if self.pauses.per_purpose[purpose as usize].take().is_some() {
            self.update_pause();
        }
    }

    /// Whether a command (`writes`: it may reach the replication stream) from a normal
    /// client must wait for the pause to end.
    pub(crate) fn paused_for(&self, writes: bool) -> bool {
        match self.pauses.kind {
            Some(PauseType::All) => true,
            Some(PauseType::Write) => writes,
            None => false,
        }
    }

    /// Redis's `checkClientPauseTimeoutAndReturnIfPaused`: ends pauses whose time is up,
    /// and says whether clients are still paused.
    pub(crate) fn clients_paused(&mut self) -> bool {
        if self.pauses.kind.is_some() && self.pauses.end < self.now {
            self.update_pause();
        }
        self.pauses.kind.is_some()
    }

    /// Whether a pause is in force. Its end is noticed by the server cron, as in Redis,
    /// so the cron is never idle while one holds.
    pub(crate) fn any_pause(&self) -> bool {
        self.pauses.kind.is_some()
    }

    /// Redis's `updateClientPauseTypeAndEndTime`: drops the pauses that are over, and
    /// when what remains is less restrictive, every postponed client is queued to run
    /// its command again (it may be postponed again).
    fn update_pause(&mut self) {
        let old = self.pauses.kind;
        let now = self.now;
        let mut kind = None;
        for slot in self.pauses.per_purpose.iter_mut() {
            match *slot {
                Some(p) if p.end < now => *slot = None,
                Some(p) => kind = kind.max(Some(p.kind)),
                None => {}
            }
        }
        self.pauses.end = self
            .pauses
            .per_purpose
            .iter()
            .flatten()
            .filter(|p| Some(p.kind) == kind)
            .map(|p| p.end)
            .max()
            .unwrap_or(0);
        self.pauses.kind = kind;
        if kind < old {
            let postponed: Vec<ConnId> = self
                .clients
                .values()
                .filter(|c| c.postponed.is_some())
                .map(|c| c.conn)
                .collect();
            for conn in postponed {
                if !self.unblocked_clients.contains(&conn) {
                    self.unblocked_clients.push(conn);
                }
            }
        }
    }
}
