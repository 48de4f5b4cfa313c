//! Replication, both roles, as Redis 7.0's `replication.c` does it.
//!
//! A *master* turns every write into bytes of one ordered stream. Each byte has an offset;
//! `master_repl_offset` is the offset of the last byte produced. The newest bytes are kept
//! in the [`Backlog`] so a replica that briefly lost its link can ask to continue from
//! where it was (`PSYNC <replid> <offset>`) instead of downloading a whole snapshot.
//!
//! A *replica* runs a handshake with its master (PING, AUTH, REPLCONF, PSYNC), then either
//! continues from its offset (`+CONTINUE`) or loads a snapshot (`+FULLRESYNC`, RDB payload),
//! and from then on applies the stream, counting every byte it applies in its own offset.
//! It forwards the very same bytes to its own replicas, so a chain shares one history.
//!
//! A *replication id* names a history. When a replica is promoted it keeps the old id as
//! `replid2` (valid up to `second_repl_offset`) and starts a new one: its former siblings,
//! which still speak the old id, can then continue partially from it.

pub mod backlog;
mod master;
mod output_buffer;
mod replica;

pub use backlog::Backlog;
pub use master::SyncDecision;
pub use replica::{LinkStateName, MasterLink};

/// Replication state that both roles share.
#[derive(Debug, Clone)]
pub struct ReplicationState {
    pub replid: String,
    pub replid2: String,
    /// First offset *not* covered by `replid2` (-1: none).
    pub second_repl_offset: i64,
    pub master_repl_offset: u64,
    pub backlog: Option<Backlog>,
    /// Database the stream last SELECTed; `None` forces a SELECT before the next write.
    pub stream_db: Option<usize>,
    /// When the last replica left (for `repl-backlog-ttl`).
    pub no_replicas_since: Option<u64>,
    /// Present while this node is a replica (REPLICAOF host port).
    pub link: Option<MasterLink>,
    /// The master we lost (or ourselves, before becoming a replica): what we may PSYNC with.
    pub cached_master: Option<CachedMaster>,
}

/// The replication id and offset a replica can offer for a partial resync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedMaster {
    pub replid: String,
    pub reploff: u64,
    /// Database the stream was in, so SELECT is not needed again after `+CONTINUE`.
    pub db: usize,
}

pub const NULL_REPLID: &str = "0000000000000000000000000000000000000000";

impl ReplicationState {
    /// Forgets the previous history (Redis's `clearReplicationId2`).
    pub(crate) fn clear_replid2(&mut self) {
        self.replid2 = NULL_REPLID.into();
        self.second_repl_offset = -1;
    }

    pub fn new(replid: String) -> Self {
        ReplicationState {
            replid,
            replid2: NULL_REPLID.into(),
            second_repl_offset: -1,
            master_repl_offset: 0,
            backlog: None,
            stream_db: None,
            no_replicas_since: None,
            link: None,
            cached_master: None,
        }
    }
}

/// A replica as its master sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaPeer {
    pub state: ReplicaSyncState,
    /// Highest offset the replica acknowledged with REPLCONF ACK.
    pub ack_offset: u64,
    /// When the last ACK arrived (unix ms).
    pub ack_time: u64,
    /// After a diskless payload the stream waits for the replica's first ACK, which
    /// proves it loaded the snapshot (Redis 7.0 `repl_start_cmd_stream_on_ack`). The
    /// bytes it misses meanwhile stay in the replication buffer, which this replica
    /// references from the snapshot's offset on.
    pub start_stream_on_ack: bool,
    /// Once its stream is handed to the host: how many bytes queued on the connection
    /// ahead of the first stream byte (the `+FULLRESYNC` line and payload, `+CONTINUE`)
    /// have not been written yet. Written bytes count against these first; only the rest
    /// moves the replica's reference in the replication buffer. `None` while no stream
    /// byte has been handed over.
    pub bytes_ahead_of_stream: Option<u64>,
    /// Unix second at which its output buffer was first seen over the soft limit, 0 when
    /// it is under (Redis's `obuf_soft_limit_reached_time`).
    pub obuf_soft_limit_reached_time: u64,
    /// Connected with legacy SYNC (no +FULLRESYNC line, no ACKs).
    pub pre_psync: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaSyncState {
    /// Waiting for the snapshot to start (diskless delay).
    WaitBgsaveStart,
    Online,
}

impl ReplicaPeer {
    /// A replica that just sent PSYNC or SYNC and is not fed any stream yet.
    pub fn new(state: ReplicaSyncState, now: u64, pre_psync: bool) -> Self {
        ReplicaPeer {
            state,
            ack_offset: 0,
            ack_time: now,
            start_stream_on_ack: false,
            bytes_ahead_of_stream: None,
            obuf_soft_limit_reached_time: 0,
            pre_psync,
        }
    }
}

impl ReplicaSyncState {
    /// The name INFO uses.
    pub fn info_name(self) -> &'static str {
        match self {
            ReplicaSyncState::WaitBgsaveStart => "wait_bgsave",
            ReplicaSyncState::Online => "online",
        }
    }
}
