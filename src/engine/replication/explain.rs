//! The teaching text of a sync decision ([`SyncDecision::reason`]): why a master continued
//! a replica from its backlog or sent it a snapshot, in plain words, with what the other
//! protocols would have done. Redis's own log line for the decision is written by
//! `master.rs`, which decides; this file only explains.
//!
//! [`SyncDecision::reason`]: super::SyncDecision::reason

use super::{SyncProtocol, NULL_REPLID};
use crate::engine::Node;

/// Why a PSYNC could not continue partially.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// `PSYNC ? -1`: the replica itself asks for a snapshot.
    FullRequested,
    /// PSYNC2: the id is neither our replid nor our replid2.
    IdMismatch,
    /// PSYNC2: our replid2, but past the offset where we stopped following that history.
    PastSecondId,
    /// PSYNC1: the id is not our run id.
    RunIdMismatch,
    /// The right history, but the backlog does not hold the offset.
    NoBacklog,
}

/// Why a SYNC (no id, no offset) is always a full resynchronization.
pub(super) const SYNC: &str = "SYNC, the protocol of Redis before 2.8: the replica sends no replication ID and no offset, \
    so there is nothing to continue from, and every connection, even after the briefest network cut, \
    is a full resynchronization. PSYNC (2.8) lets a replica continue from the master's backlog.";

impl Node {
    /// Why a PSYNC was refused, in plain words.
    pub(super) fn explain_refusal(&self, refusal: Refusal, replid: &str, offset: i64) -> String {
        let r = &self.repl;
        let mode = match self.config.sync_protocol {
            SyncProtocol::Psync1 => "PSYNC1",
            _ => "PSYNC2",
        };
        match refusal {
            Refusal::FullRequested => {
                let mut s = format!(
                    "{mode}: the replica sent PSYNC ? -1: it has no history it could continue (it never replicated, \
                     or it loaded a snapshot from elsewhere), so it asks for a full resynchronization."
                );
                if self.config.sync_protocol == SyncProtocol::Psync1 {
                    s.push_str(
                        " A PSYNC1 server that was a master until now sends this too: only PSYNC2 lets a former master offer its own history.",
                    );
                }
                s
            }
            Refusal::IdMismatch => {
                let mine = if r.replid2 == NULL_REPLID {
                    format!("my only history is '{}'", r.replid)
                } else {
                    format!(
                        "my histories are '{}' and, up to offset {}, '{}' (replid2)",
                        r.replid,
                        r.second_repl_offset - 1,
                        r.replid2
                    )
                };
                format!(
                    "PSYNC2: the replica asked to continue history '{replid}' at offset {offset}, but {mine}: \
                     it followed another history, so it needs a full snapshot."
                )
            }
            Refusal::PastSecondId => format!(
                "PSYNC2: the replica asked to continue my former history '{replid}' at offset {offset}, but I followed \
                 that history only up to offset {}: past that point ours differ (it received writes I never did), \
                 so it needs a full snapshot.",
                r.second_repl_offset - 1
            ),
            Refusal::RunIdMismatch => {
                let mut s = format!(
                    "PSYNC1: the replica asked for run ID '{replid}', mine is '{}'. PSYNC1 names a history by the run ID \
                     of the server that started it, so only that very process can continue it.",
                    self.run_id
                );
                match &r.psync1_forgotten_replid2 {
                    Some((old, limit)) if old.eq_ignore_ascii_case(replid) => {
                        s.push_str(&format!(
                            " I am a promoted replica: my data continues '{replid}' up to offset {}, but a promotion \
                             starts a new history under my own run ID, so my former siblings must reload everything.",
                            limit - 1
                        ));
                        // What a PSYNC2 replica would have had: the same stream in a
                        // backlog of repl-backlog-size, kept even without replicas of its
                        // own (a PSYNC1 replica keeps one only for replicas of its own).
                        let missed = limit.saturating_sub(offset);
                        if offset > *limit {
                            s.push_str(
                                " (PSYNC2 could not have continued it either: it is past the point where I stopped following that history.)",
                            );
                        } else if offset < 0 || missed as u64 > self.config.repl_backlog_size {
                            s.push_str(" (PSYNC2 could not have continued it either: it missed more than a backlog holds.)");
                        } else {
                            s.push_str(
                                " PSYNC2 would have continued this replica from the backlog: a PSYNC2 replica keeps its former \
                                 master's ID as replid2, and keeps a backlog even without replicas of its own, for this very moment.",
                            );
                        }
                    }
                    _ => s.push_str(
                        " A promoted replica or a restarted master has another run ID, and every replica must reload everything \
                         (PSYNC2 keeps a promoted replica's former history as replid2).",
                    ),
                }
                s
            }
            Refusal::NoBacklog => {
                let held = match &r.backlog {
                    Some(b) if b.histlen() > 0 => format!(
                        "my backlog holds offsets {} to {} (repl-backlog-size {})",
                        b.first_byte_offset(),
                        b.first_byte_offset() + b.histlen() as u64 - 1,
                        self.config.repl_backlog_size
                    ),
                    Some(b) => format!("my backlog is empty, waiting for offset {}", b.first_byte_offset()),
                    None => "I have no backlog (a master creates it for its first replica, and frees it after \
                             repl-backlog-ttl without replicas)"
                        .to_string(),
                };
                format!(
                    "{mode}: the replica continues my history, but asked for offset {offset} and {held}: the bytes it \
                     missed are not there, so it needs a full snapshot."
                )
            }
        }
    }

    /// Why a PSYNC could continue, in plain words, with what PSYNC1 would have done.
    pub(super) fn explain_partial(&self, replid: &str, offset: i64, sent: usize) -> String {
        let r = &self.repl;
        if self.config.sync_protocol == SyncProtocol::Psync1 {
            return format!(
                "PSYNC1: the replica asked for my run ID at offset {offset}, which my backlog holds: sending {sent} bytes."
            );
        }
        if replid.eq_ignore_ascii_case(&r.replid) {
            format!("PSYNC2: the replica continues my history '{}' from offset {offset}, which my backlog holds: sending {sent} bytes.", r.replid)
        } else {
            format!(
                "PSYNC2: the replica asked for '{replid}', the history I followed before I was promoted (my replid2, up to \
                 offset {}), at offset {offset}, which my backlog holds: sending {sent} bytes. PSYNC1 would have refused: \
                 it knows only my run ID, and a promoted replica's former siblings had to reload everything.",
                r.second_repl_offset - 1
            )
        }
    }
}
