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
//!
//! That is PSYNC2 (Redis 4.0+). `replscope-sync-protocol` ([`SyncProtocol`]) can make a
//! node speak what came before, to show why it was needed:
//!
//! * `psync1` (Redis 2.8–3.2): the history is named by the *run id* of the server that
//!   started it. A replica asks `PSYNC <its master's run id> <offset>` and sends only
//!   `capa eof`; a master continues only when the id is its own run id and the backlog
//!   covers the offset, and answers a bare `+CONTINUE`. There is no `replid2`: after a
//!   failover the promoted replica has its own run id, and its former siblings must load a
//!   full snapshot from it (PSYNC2 would continue them from the backlog). A master that
//!   restarts gets a new run id too (here every start does: nothing is persisted). A
//!   former master told to follow another server has no cached master to offer (PSYNC2
//!   offers its own history), and a replica keeps a backlog only once a replica of its
//!   own has full-synced from it (PSYNC2 replicas always keep one, for a failover).
//! * `sync` (before 2.8): the replica sends PING, AUTH, `REPLCONF listening-port` (which
//!   2.4 and 2.6 did send) and `SYNC`: no id, no offset, no capabilities, no ACKs. The
//!   master answers with the RDB payload alone (no `+FULLRESYNC`, always `$<len>` since
//!   there is no `capa eof`), does not time the replica out for missing ACKs, and INFO
//!   shows its lag growing. Every reconnection is a full resynchronization. As a master,
//!   such a node answers PSYNC as 2.6 did (`-ERR unknown command 'PSYNC'`), and newer
//!   replicas fall back to SYNC.
//!
//! Where a mode departs from the old servers, on purpose: a `psync1` replica re-pointed
//! with REPLICAOF keeps its cached master and offers it to the new master, where 2.8–3.2
//! discarded it and sent `PSYNC ? -1` (the attempt could not succeed); the new master's
//! refusal then says *why* ([`SyncDecision::reason`]), which is the lesson. And the
//! old masters' command tables are not modelled: a `sync` or `psync1` master still
//! accepts every REPLCONF of 7.0 (it ignores the capabilities it did not know).

pub mod backlog;
mod explain;
pub mod failover;
mod master;
mod output_buffer;
pub(crate) use output_buffer::soft_limit_passed;
mod replica;

pub use crate::engine::config::SyncProtocol;
pub use backlog::Backlog;
pub(crate) use master::Propagation;
pub use master::SyncDecision;
pub use replica::{LinkStateName, MasterLink, SYNC_PAYLOAD_MAX_BYTES};

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
    /// A FAILOVER under way.
    pub failover: Option<failover::Failover>,
    /// The master we lost (or ourselves, before becoming a replica): what we may PSYNC with.
    pub cached_master: Option<CachedMaster>,
    /// `psync1` only: the id and offset limit that PSYNC2 would have kept as `replid2`
    /// when this node was promoted, but PSYNC1 forgets. Used only to explain a refusal
    /// ("PSYNC2 would have continued you"), never to decide.
    pub psync1_forgotten_replid2: Option<(String, i64)>,
    /// Replicas counted as good for min-replicas-to-write when last refreshed (Redis's
    /// `repl_good_slaves_count`).
    pub good_replicas: u64,
    /// Connections that became replicas of ours, so feeding the stream does not walk
    /// every client on every write (with 50 benchmark clients that walk was a tenth of
    /// the master's time). A superset: readers are still checked in the client map.
    pub replica_conns: litemap::LiteMap<crate::engine::ConnId, ()>,
    /// Scratch buffers for feeding the stream, kept so that a write allocates nothing
    /// (always empty between writes).
    pub(crate) feed_readers: Vec<crate::engine::ConnId>,
    pub(crate) feed_flowing: Vec<bool>,
    pub(crate) feed_piece_ends: Vec<usize>,
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
        self.psync1_forgotten_replid2 = None;
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
            failover: None,
            cached_master: None,
            psync1_forgotten_replid2: None,
            feed_readers: Vec::new(),
            feed_flowing: Vec::new(),
            feed_piece_ends: Vec::new(),
            good_replicas: 0,
            replica_conns: litemap::LiteMap::new(),
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
    /// While its snapshot file is sent (`send_bulk`): bytes queued on the connection up
    /// to the file's last byte that the host has not written yet. It goes online when
    /// they are all written, as Redis's `sendBulkToSlave` does after its last write.
    pub bulk_unwritten: u64,
    /// Diskless: unix second of the last write of the child's payload that the socket
    /// did not take whole, 0 once it took everything (Redis's `repl_last_partial_write`):
    /// a replica stuck there for repl-timeout is dropped; one that reads on is not.
    pub last_partial_write: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplicaSyncState {
    /// Waiting for a BGSAVE to start (the diskless delay, or another child running).
    WaitBgsaveStart,
    /// Told `+FULLRESYNC`; the child writes its snapshot, and the writes made meanwhile
    /// wait in the replication buffer (its output buffer, under its class's limit).
    WaitBgsaveEnd,
    /// The child's file is being sent.
    SendBulk,
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
            bulk_unwritten: 0,
            last_partial_write: 0,
        }
    }
}

impl ReplicaSyncState {
    /// The name INFO uses.
    pub fn info_name(self) -> &'static str {
        match self {
            ReplicaSyncState::WaitBgsaveStart | ReplicaSyncState::WaitBgsaveEnd => "wait_bgsave",
            ReplicaSyncState::SendBulk => "send_bulk",
            ReplicaSyncState::Online => "online",
        }
    }
}
