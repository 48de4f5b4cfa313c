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
use crate::engine::{ClientRole, ConnId, Node, PEAK_SLOTS};

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
        if self.bulk_written(conn, bytes) {
            return;
        }
        // A diskless child's reader that is through writes reads on.
        if self
            .child
            .as_ref()
            .is_some_and(|c| c.to_sockets && c.conns.contains(&conn))
        {
            self.payload_progress(conn);
            self.read_child_pipe();
            return;
        }
        let Some(client) = self.clients.get_mut(&conn) else {
            return;
        };
        let ClientRole::Replica(peer) = &mut client.role else {
            return;
        };
        // Bytes queued ahead of the stream (replies, the payload) leave first.
        let Some(ahead) = peer.bytes_ahead_of_stream.as_mut() else {
            return;
        };
        let not_stream = bytes.min(*ahead);
        *ahead -= not_stream;
        let stream = bytes - not_stream;
        if stream > 0 {
            if let Some(backlog) = self.repl.backlog.as_mut() {
                backlog.replica_wrote(conn, stream);
            }
        }
    }

    /// The replication-buffer part of the end of an event-loop turn (the writes and the
    /// trim at the end of Redis's `beforeSleep`). First every replica whose
    /// stream flows makes its write attempt: one that had sent all of its block before a
    /// new block was fed moves on to it, even if its socket is full (Redis's
    /// `_writeToClientSlave` steps over a finished block before writing). Then the blocks
    /// nobody holds any more are given back, ten times faster than a single trim, for a
    /// replica that left may have held many.
    pub(crate) fn settle_replication_buffer(&mut self) {
        let Some(backlog) = self.repl.backlog.as_ref() else {
            return;
        };
        for conn in backlog.replicas_done_with_their_block() {
            // Replicas still receiving their payload, or waiting to ACK it, do not write
            // the stream yet.
            let flowing = matches!(
                self.clients.get(&conn).map(|c| &c.role),
                Some(ClientRole::Replica(p)) if p.bytes_ahead_of_stream == Some(0)
            );
            if let (true, Some(backlog)) = (flowing, self.repl.backlog.as_mut()) {
                backlog.replica_wrote(conn, 0);
            }
        }
        if let Some(backlog) = self.repl.backlog.as_mut() {
            backlog.trim(TRIM_BLOCKS_BEFORE_SLEEP);
        }
    }

    /// A replica's output buffer as `client-output-buffer-limit` and CLIENT LIST count it:
    /// (bytes, blocks).
    pub(crate) fn replica_output_usage(&self, conn: ConnId) -> (u64, u64) {
        self.repl
            .backlog
            .as_ref()
            .map_or((0, 0), |b| b.replica_output_usage(conn))
    }

    /// Redis's `checkClientOutputBufferLimits` for a replica: whether it must go. Also
    /// starts or clears its soft-limit clock.
    fn replica_over_output_limit(&mut self, conn: ConnId) -> bool {
        let (used, _) = self.replica_output_usage(conn);
        let (hard, soft, soft_secs) = self.config.client_output_buffer_limit[REPLICA_CLASS];
        let hard_limit = if hard != 0 {
            hard.max(self.config.repl_backlog_size)
        } else {
            0
        };
        let now_secs = self.now / 1000;
        let Some(client) = self.clients.get_mut(&conn) else {
            return false;
        };
        let ClientRole::Replica(peer) = &mut client.role else {
            return false;
        };
        let over_hard = hard != 0 && used >= hard_limit;
        let over_soft = soft_limit_passed(
            &mut peer.obuf_soft_limit_reached_time,
            soft != 0 && used >= soft,
            now_secs,
            soft_secs,
        );
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
            let Some(client) = self.clients.get(&conn) else {
                continue;
            };
            let desc = self.client_info_line(client, false);
            let how = if asap {
                "scheduled to be closed ASAP"
            } else {
                "closed"
            };
            self.log(format!(
                "Client {desc} {how} for overcoming of output buffer limits."
            ));
            self.abort_conn(conn);
        }
    }

    /// The output-buffer part of Redis's `clientsCron`, run every server cron: the soft
    /// limit's clock is checked here even when no byte is written, and the recent peak of
    /// output buffers is tracked for INFO.
    pub(crate) fn clients_output_cron(&mut self) {
        let replicas: Vec<ConnId> = self.replicas().map(|(c, _)| c.conn).collect();
        // One slot per second, the next one cleared as it comes round.
        let slot = (self.now / 1000) as usize % PEAK_SLOTS;
        self.recent_max_output[(slot + 1) % PEAK_SLOTS] = 0;
        for conn in &replicas {
            let (used, _) = self.replica_output_usage(*conn);
            self.recent_max_output[slot] = self.recent_max_output[slot].max(used);
        }
        self.close_replicas_over_output_limit(&replicas, false);
        self.clients_normal_output_cron();
    }
}

/// The soft limit's clock, as Redis's `checkClientOutputBufferLimits` keeps it for every
/// class: the first time a client is over the soft limit the clock starts (`since`, in
/// unix seconds) and it is not over yet; it is over once it has stayed over for more than
/// `soft_secs`; back under the limit, the clock stops.
pub(crate) fn soft_limit_passed(
    since: &mut u64,
    over_soft: bool,
    now_secs: u64,
    soft_secs: u64,
) -> bool {
    if !over_soft {
        *since = 0;
        return false;
    }
    if *since == 0 {
        *since = now_secs;
        return false;
    }
    now_secs.saturating_sub(*since) > soft_secs
}

#[cfg(test)]
mod tests {
    use crate::engine::resp::encode_command;
    use crate::engine::{Config, ConnId, Event, Input, Node, Output, PeerAddr};

    const T0: u64 = 1_767_225_600_000;
    const MB: u64 = 1 << 20;

    /// A host that writes everything at once except to the connections in `stalled`,
    /// whose peer never reads: returns the log lines and the aborted connections.
    fn pump(node: &mut Node, now: u64, stalled: &[ConnId]) -> (Vec<String>, Vec<ConnId>) {
        let (mut logs, mut aborted) = (Vec::new(), Vec::new());
        while let Some(out) = node.poll_output() {
            match out {
                Output::Send { conn, data } if !stalled.contains(&conn) => {
                    node.handle(
                        now,
                        Input::Written {
                            conn,
                            bytes: data.len() as u64,
                        },
                    );
                }
                Output::Abort { conn } => aborted.push(conn),
                Output::Event(Event::Log(line)) => logs.push(line),
                _ => {}
            }
        }
        (logs, aborted)
    }

    fn master(limit: (u64, u64, u64), diskless: bool) -> Node {
        let mut config = Config {
            repl_diskless_sync: diskless,
            repl_diskless_sync_delay: 0,
            ..Config::default()
        };
        config.client_output_buffer_limit[1] = limit;
        // Early enough for a snapshot's child to be reaped by a cron before T0.
        let mut node = Node::new(config, T0 - 200, 1);
        node.tick(T0 - 200);
        node
    }

    fn connect(node: &mut Node, port: u16) -> ConnId {
        node.accept(
            node.now,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port,
            },
        )
    }

    /// A replica that sends its handshake and PSYNC and from then on never reads.
    fn attach_replica(node: &mut Node, diskless: bool) -> ConnId {
        let conn = connect(node, 50000);
        let mut hello = encode_command(&[b"REPLCONF", b"listening-port", b"6390"]);
        if diskless {
            hello.extend(encode_command(&[
                b"REPLCONF",
                b"capa",
                b"eof",
                b"capa",
                b"psync2",
            ]));
        }
        hello.extend(encode_command(&[b"PSYNC", b"?", b"-1"]));
        let now = node.now;
        node.handle(now, Input::Bytes { conn, data: hello });
        // The BGSAVE child is reaped at the next cron.
        node.tick(now + 100);
        conn
    }

    fn set(node: &mut Node, now: u64, writer: ConnId, key: &str, len: usize) {
        let value = vec![b'v'; len];
        node.handle(
            now,
            Input::Bytes {
                conn: writer,
                data: encode_command(&[b"SET", key.as_bytes(), &value]),
            },
        );
    }

    fn backlog(node: &Node) -> &crate::engine::replication::Backlog {
        node.repl.backlog.as_ref().expect("a backlog")
    }

    #[test]
    fn a_replica_that_never_reads_is_dropped_at_the_hard_limit() {
        let mut node = master((MB, 0, 0), false);
        let replica = attach_replica(&mut node, false);
        let writer = connect(&mut node, 50001);
        pump(&mut node, T0, &[replica]);
        let mut dropped = None;
        for i in 0..40 {
            let before = node.replica_output_usage(replica).0;
            set(&mut node, T0, writer, &format!("k{i}"), 100_000);
            let (logs, aborted) = pump(&mut node, T0, &[replica]);
            if !aborted.is_empty() {
                dropped = Some((i, before, logs, aborted));
                break;
            }
        }
        let (i, before, logs, aborted) = dropped.expect("the replica is dropped");
        assert_eq!(aborted, vec![replica]);
        // Dropped by the write that took its buffer to 1 MiB, not before.
        assert!(
            before < MB && i >= 9,
            "dropped after {i} writes with {before} bytes"
        );
        let line = logs
            .iter()
            .find(|l| l.contains("output buffer limits"))
            .expect("the drop is logged");
        assert!(
            line.starts_with(&format!("Client id={replica} addr=127.0.0.1:50000 ")),
            "{line}"
        );
        assert!(
            line.contains(" flags=S ") && line.contains(" events=rw cmd=psync "),
            "{line}"
        );
        assert!(
            line.ends_with(" scheduled to be closed ASAP for overcoming of output buffer limits."),
            "{line}"
        );
        assert!(
            logs.iter()
                .any(|l| l == "Connection with replica 127.0.0.1:6390 lost."),
            "{logs:?}"
        );
        assert_eq!(node.replicas().count(), 0);
        // What only it held is given back: the history is trimmed to its setting again.
        let b = backlog(&node);
        assert_eq!(b.replica_refs().count(), 0);
        assert!(b.histlen() as u64 <= MB + 81_880, "histlen {}", b.histlen());
        assert!(b.histlen() as u64 > MB);
    }

    #[test]
    fn a_replica_over_the_soft_limit_goes_only_after_its_seconds() {
        let mut node = master((0, 256 * 1024, 2), false);
        let replica = attach_replica(&mut node, false);
        let writer = connect(&mut node, 50001);
        pump(&mut node, T0, &[replica]);
        for i in 0..4 {
            set(&mut node, T0, writer, &format!("k{i}"), 100_000);
            assert!(
                pump(&mut node, T0, &[replica]).1.is_empty(),
                "the soft limit only starts a clock"
            );
        }
        assert!(node.replica_output_usage(replica).0 > 256 * 1024);
        // Over the limit for 2 whole seconds is still allowed; a third one is not.
        node.tick(T0 + 2_900);
        assert!(pump(&mut node, T0 + 2_900, &[replica]).1.is_empty());
        node.tick(T0 + 3_000);
        let (logs, aborted) = pump(&mut node, T0 + 3_000, &[replica]);
        assert_eq!(aborted, vec![replica]);
        assert!(
            logs.iter().any(|l| l.starts_with("Client id=")
                && l.ends_with(" closed for overcoming of output buffer limits.")),
            "{logs:?}"
        );
    }

    #[test]
    fn a_replica_that_keeps_up_is_never_dropped_and_holds_one_block() {
        let mut node = master((MB, 256 * 1024, 1), false);
        let replica = attach_replica(&mut node, false);
        let writer = connect(&mut node, 50001);
        pump(&mut node, T0, &[]);
        for i in 0..200 {
            let now = T0 + 100 * i;
            set(&mut node, now, writer, &format!("k{i}"), 100_000);
            node.tick(now);
            assert!(pump(&mut node, now, &[]).1.is_empty());
        }
        assert_eq!(node.replicas().count(), 1);
        // It has sent everything, so it only references the tail block.
        let b = backlog(&node);
        let tail = b.blocks().last().expect("a tail block");
        assert_eq!(
            b.replica_offset(replica),
            Some(tail.first_offset + tail.used as u64)
        );
        assert!(b.histlen() as u64 <= MB + 81_880);
    }

    #[test]
    fn a_replica_steps_off_a_block_it_finished_even_if_its_socket_is_full() {
        let mut node = master((MB, 0, 0), false);
        let replica = attach_replica(&mut node, false);
        let writer = connect(&mut node, 50001);
        pump(&mut node, T0, &[]);
        set(&mut node, T0, writer, "a", 20_000);
        pump(&mut node, T0, &[]);
        // Fill the tail block exactly, and let the replica send all of it.
        let tail = backlog(&node).blocks().last().unwrap();
        let room = tail.size - tail.used;
        let len = (1..room)
            .find(|l| 25 + l.to_string().len() + l == room)
            .expect("a value that fills the block");
        set(&mut node, T0, writer, "c", len);
        pump(&mut node, T0, &[]);
        let tail = backlog(&node).blocks().last().unwrap();
        assert_eq!(tail.used, tail.size);
        assert_eq!(backlog(&node).replica_refs().next().unwrap().pos, tail.used);
        let tail_id = tail.id;
        // Its socket is full now: nothing more is written. The next write starts a new
        // block, and the replica, which had sent all of the old one, moves to it at its
        // write attempt, so the old block no longer counts against it.
        set(&mut node, T0, writer, "b", 1000);
        pump(&mut node, T0, &[replica]);
        let r = backlog(&node).replica_refs().next().unwrap();
        assert_eq!((r.block_id, r.pos), (tail_id + 1, 0));
        assert_eq!(node.replica_output_usage(replica).1, 1);
    }

    #[test]
    fn the_stream_held_for_a_diskless_replica_counts_until_its_first_ack() {
        let mut node = master((MB, 0, 0), true);
        let replica = attach_replica(&mut node, true);
        let writer = connect(&mut node, 50001);
        // The payload leaves; the stream waits for the replica's ACK, in the buffer.
        pump(&mut node, T0, &[]);
        set(&mut node, T0, writer, "a", 300_000);
        pump(&mut node, T0, &[]);
        let (held, _) = node.replica_output_usage(replica);
        assert!(held > 300_000, "{held}");
        // The ACK releases it: the whole stream since the snapshot is sent at once.
        let ack = encode_command(&[b"REPLCONF", b"ACK", b"0"]);
        node.handle(
            T0,
            Input::Bytes {
                conn: replica,
                data: ack,
            },
        );
        let mut sent = 0;
        while let Some(out) = node.poll_output() {
            if let Output::Send { conn, data } = out {
                if conn == replica {
                    sent += data.len();
                    node.handle(
                        T0,
                        Input::Written {
                            conn,
                            bytes: data.len() as u64,
                        },
                    );
                }
            }
        }
        assert_eq!(sent as u64, node.repl.master_repl_offset);
        assert!(node.replica_output_usage(replica).0 < held);
        // Held again past the hard limit, it is dropped.
        let replica2 = attach_replica(&mut node, true);
        pump(&mut node, T0, &[]);
        let mut aborted = Vec::new();
        for i in 0..12 {
            set(&mut node, T0, writer, &format!("k{i}"), 100_000);
            aborted.extend(pump(&mut node, T0, &[]).1);
        }
        assert_eq!(aborted, vec![replica2], "the replica that reads stays");
        assert_eq!(node.replicas().count(), 1);
    }
}
