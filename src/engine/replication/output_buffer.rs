//! A replica's output buffer, and `client-output-buffer-limit replica <hard> <soft> <secs>`.
//!
//! In Redis 7.0 a replica has no buffer of its own: it references the shared replication
//! buffer (see [`super::backlog`]) from the block holding its first unsent byte, and its
//! output buffer is everything from that block to the end. A replica that reads slowly —
//! or not at all — makes that grow without bound, and the master would run out of memory
//! keeping the stream for it. So the master drops it:
//!
//! * at once when the buffer reaches the **hard** limit (never less than
//!   `repl-backlog-size`: a smaller limit would drop replicas that a partial resync just
//!   served from a full backlog), or
//! * when it has stayed at or above the **soft** limit for more than `secs` seconds.
//!
//! Redis checks when the buffer grows by a block (and closes the replica "ASAP", at the
//! end of the event-loop turn) and from its clients cron (and closes it right away). The
//! dropped replica reconnects and asks for a partial resync; if it fell too far behind the
//! backlog it gets a full one, and may be dropped again: the classic resync loop of a
//! replica too slow for its master's write rate.
//!
//! What has "left the node" is what the host reported with [`Input::Written`]; bytes
//! waiting behind a snapshot payload, or for the first ACK after a diskless one, count
//! too, as they do in Redis while a replica waits for its snapshot to end.
//!
//! [`Input::Written`]: crate::engine::Input::Written

use super::backlog::TRIM_BLOCKS_BEFORE_SLEEP;
use crate::engine::{info, ClientRole, ConnId, Node};

/// Index of the replica class in `Config::client_output_buffer_limit`.
const REPLICA_CLASS: usize = 1;

impl Node {
    /// Bytes sent on `conn` that the host has not reported written yet.
    pub(crate) fn unwritten_on(&self, conn: ConnId) -> u64 {
        self.unwritten.get(&conn).copied().unwrap_or(0)
    }

    /// The host wrote `bytes` more of what was sent on `conn`.
    pub(crate) fn on_written(&mut self, conn: ConnId, bytes: u64) {
        if let Some(unwritten) = self.unwritten.get_mut(&conn) {
            *unwritten = unwritten.saturating_sub(bytes);
        }
        let Some(client) = self.clients.get_mut(&conn) else { return };
        let ClientRole::Replica(peer) = &mut client.role else { return };
        // Bytes queued ahead of the stream (replies, the payload) leave first.
        let Some(ahead) = peer.bytes_ahead_of_stream.as_mut() else { return };
        let not_stream = bytes.min(*ahead);
        *ahead -= not_stream;
        let stream = bytes - not_stream;
        if stream > 0 {
            if let Some(backlog) = self.repl.backlog.as_mut() {
                backlog.replica_wrote(conn, stream);
            }
        }
    }

    /// The end of an event-loop turn (Redis's `beforeSleep`): give back, ten times faster
    /// than a single trim, the blocks that a replica which left no longer holds.
    pub(crate) fn before_sleep(&mut self) {
        if let Some(backlog) = self.repl.backlog.as_mut() {
            backlog.trim(TRIM_BLOCKS_BEFORE_SLEEP);
        }
    }

    /// A replica's output buffer as `client-output-buffer-limit` and CLIENT LIST count it:
    /// (bytes, blocks).
    pub(crate) fn replica_output_usage(&self, conn: ConnId) -> (u64, u64) {
        self.repl.backlog.as_ref().map_or((0, 0), |b| b.replica_output_usage(conn))
    }

    /// Redis's `checkClientOutputBufferLimits` for a replica: whether it must go. Also
    /// starts or clears its soft-limit clock.
    fn replica_over_output_limit(&mut self, conn: ConnId) -> bool {
        let (used, _) = self.replica_output_usage(conn);
        let (hard, soft, soft_secs) = self.config.client_output_buffer_limit[REPLICA_CLASS];
        let hard_limit = if hard != 0 { hard.max(self.config.repl_backlog_size) } else { 0 };
        let now_secs = self.now / 1000;
        let Some(client) = self.clients.get_mut(&conn) else { return false };
        let ClientRole::Replica(peer) = &mut client.role else { return false };
        let over_hard = hard != 0 && used >= hard_limit;
        let mut over_soft = soft != 0 && used >= soft;
        if over_soft {
            if peer.obuf_soft_limit_reached_time == 0 {
                // First time over: the clock starts now.
                peer.obuf_soft_limit_reached_time = now_secs;
                over_soft = false;
            } else if now_secs.saturating_sub(peer.obuf_soft_limit_reached_time) <= soft_secs {
                over_soft = false;
            }
        } else {
            peer.obuf_soft_limit_reached_time = 0;
        }
        over_hard || over_soft
    }

    /// Drops the replicas among `conns` whose output buffer is over its limit, with
    /// Redis's log line (`closeClientOnOutputBufferLimitReached`). `asap`: found while
    /// feeding the stream (Redis frees it at the end of the turn) rather than by the cron.
    pub(crate) fn close_replicas_over_output_limit(&mut self, conns: &[ConnId], asap: bool) {
        for &conn in conns {
            if !self.replica_over_output_limit(conn) {
                continue;
            }
            let Some(client) = self.clients.get(&conn) else { continue };
            let desc = self.client_info_line(client, false);
            let how = if asap { "scheduled to be closed ASAP" } else { "closed" };
            self.log(format!("Client {desc} {how} for overcoming of output buffer limits."));
            self.abort_conn(conn);
        }
    }

    /// The output-buffer part of Redis's `clientsCron`, run every server cron: the soft
    /// limit's clock is checked here even when no byte is written, and the recent peak of
    /// output buffers is tracked for INFO.
    pub(crate) fn clients_output_cron(&mut self) {
        let replicas: Vec<ConnId> = self.replicas().map(|(c, _)| c.conn).collect();
        // One slot per second, the next one cleared as it comes round.
        let slot = (self.now / 1000) as usize % info::PEAK_SLOTS;
        self.recent_max_output[(slot + 1) % info::PEAK_SLOTS] = 0;
        for conn in &replicas {
            let (used, _) = self.replica_output_usage(*conn);
            self.recent_max_output[slot] = self.recent_max_output[slot].max(used);
        }
        self.close_replicas_over_output_limit(&replicas, false);
    }
}
