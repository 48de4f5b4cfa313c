//! The BGSAVE child, modelled: Redis forks a process that writes the snapshot of the
//! instant of the fork while the parent keeps serving. Here the snapshot's bytes are made
//! at the fork (from the keyspace of that instant, which is what the child's copy-on-write
//! view holds), and the child "writes" them over time on the engine's clock: the node
//! learns that it is done in its cron, as Redis's `checkChildrenDone` does, so even an
//! empty snapshot takes until the next cron loop.
//!
//! How long a child takes: `rdb-key-save-delay` microseconds per key (Redis's
//! `debugDelay` in `rdbSaveRio`; a negative value sleeps one microsecond every that many
//! keys, which Redis does at random and this model does evenly), plus the bytes at
//! [`WRITE_BYTES_PER_MS`]. The sleeps are taken as exact; a real `usleep` oversleeps by
//! tens of microseconds.

use super::{ConnId, Node};

/// Bytes a child writes per millisecond: redis-server 7.0.15 on this project's 2-core
/// machine wrote 1,000,000 keys (`DEBUG POPULATE`, a 24,777,878-byte RDB) in 936 ms at
/// best (BENCHMARKS.md, "BGSAVE child").
pub const WRITE_BYTES_PER_MS: u64 = 26_000;

/// The child's report of the memory it copied: none, as the model shares the keyspace
/// copy-on-write without counting pages.
const COW_LINE: &str = "Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB";

/// What the parent reads from a diskless child's pipe at a time (`PROTO_IOBUF_LEN`).
pub const PIPE_READ_BYTES: usize = 16 * 1024;

/// A running BGSAVE child.
#[derive(Debug, Clone)]
pub struct RdbChild {
    /// Modelled pid: the server's pid plus the number of forks so far, as consecutive
    /// forks of a quiet machine get.
    pub pid: u64,
    /// Writing to the replicas' sockets (diskless) rather than to disk.
    pub to_sockets: bool,
    /// When it forked and when it exits (unix ms).
    pub started_at: u64,
    pub ends_at: u64,
    /// `master_repl_offset` at the fork: where the replicas it serves continue.
    pub offset: u64,
    /// What it writes: the RDB file, or for sockets the `$EOF:` framed payload.
    pub(crate) bytes: Vec<u8>,
    /// Sockets only: how many of `bytes` went to the replicas so far, and to which.
    pub(crate) streamed: usize,
    pub(crate) conns: Vec<ConnId>,
    /// Sockets only: every replica it wrote for is gone, and it was told to stop.
    pub(crate) killed: bool,
}

impl RdbChild {
    /// A child forked at `now` that saves `keys` keys as `bytes`.
    pub fn new(
        pid: u64,
        to_sockets: bool,
        now: u64,
        offset: u64,
        keys: u64,
        delay_us: i64,
    ) -> Self {
        let sleep_us = match delay_us {
            d if d > 0 => keys.saturating_mul(d as u64),
            d if d < 0 => keys / d.unsigned_abs(),
            _ => 0,
        };
        RdbChild {
            pid,
            to_sockets,
            started_at: now,
            ends_at: now + sleep_us / 1000,
            offset,
            bytes: Vec::new(),
            streamed: 0,
            conns: Vec::new(),
            killed: false,
        }
    }

    /// Sets what it writes; its end moves by the time writing takes.
    pub(crate) fn set_bytes(&mut self, bytes: Vec<u8>) {
        self.ends_at += (bytes.len() as u64).div_ceil(WRITE_BYTES_PER_MS);
        self.bytes = bytes;
    }

    /// How many bytes it has written by `now`: evenly over its life.
    pub fn written_by(&self, now: u64) -> usize {
        let life = self.ends_at - self.started_at;
        if now >= self.ends_at || life == 0 {
            return self.bytes.len();
        }
        let done = now.saturating_sub(self.started_at);
        // In f64: exact for any real size and life, and no 128-bit division in the page.
        (self.bytes.len() as f64 * done as f64 / life as f64) as usize
    }
}

/// What INFO persistence tells about past BGSAVEs (plain numbers: a node is cloned for
/// every checkpoint of a run).
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveStats {
    /// Children forked so far.
    pub forks: u64,
    /// The last BGSAVE failed (`rdb_last_bgsave_status:err`).
    pub last_failed: bool,
    /// Seconds the last BGSAVE took, -1 before any.
    pub last_secs: i64,
    /// Unix seconds of the last successful save (`LASTSAVE`); 0: none since the start.
    pub last_save: u64,
    /// The last child's life (unix ms, fork and reaping), for a reader drawing its
    /// window; (0, 0) before any.
    pub last_window: (u64, u64),
    /// `master_repl_offset` at the last child's fork and at its reaping: the stream its
    /// replicas were sent after the snapshot is the bytes between them.
    pub last_offsets: (u64, u64),
}

impl Node {
    /// The pid a process would report (INFO `process_id`): derived from the run id, as
    /// the engine is no process.
    pub(crate) fn pid(&self) -> u64 {
        u64::from_str_radix(&self.run_id[..4], 16).unwrap_or(0) % 60000 + 1000
    }

    /// The running BGSAVE child, if any.
    pub fn child(&self) -> Option<&RdbChild> {
        self.child.as_ref()
    }

    /// What INFO persistence reports about saves.
    pub fn save_stats(&self) -> &SaveStats {
        &self.saves
    }

    /// Forks a child (Redis's `redisFork`) for a snapshot of `offset`.
    pub(crate) fn fork_child(&mut self, to_sockets: bool, offset: u64) -> RdbChild {
        self.saves.forks += 1;
        let keys = self.keyspace.len() as u64;
        let pid = self.pid() + self.saves.forks;
        RdbChild::new(
            pid,
            to_sockets,
            self.now,
            offset,
            keys,
            self.config.rdb_key_save_delay,
        )
    }

    /// How many of a diskless child's replicas are still connected, and whether one of
    /// them has not yet written all it was handed (the parent then reads no more of the
    /// pipe: the child waits, as a full pipe makes it).
    fn pipe_readers(&self) -> (usize, bool) {
        let Some(child) = &self.child else {
            return (0, false);
        };
        // Before its first read nothing of the pipe is pending (what is queued ahead of
        // it, `+FULLRESYNC`, Redis wrote straight to the socket).
        let (mut alive, mut busy) = (0, false);
        for conn in &child.conns {
            if self.clients.contains_key(conn) {
                alive += 1;
                busy |= child.streamed > 0 && self.unwritten_on(*conn) > 0;
            }
        }
        (alive, busy)
    }

    /// When a diskless child will have written its next [`PIPE_READ_BYTES`] (or its
    /// last bytes) for a parent whose sockets took everything so far: the host must tick
    /// the node then. A parent still writing waits for [`Input::Written`] instead.
    ///
    /// [`Input::Written`]: super::Input::Written
    pub(crate) fn child_pipe_ready_at(&self) -> Option<u64> {
        let c = self
            .child
            .as_ref()
            .filter(|c| c.to_sockets && !c.killed && c.streamed < c.bytes.len())?;
        if self.pipe_readers().1 {
            return None;
        }
        let len = c.bytes.len() as f64;
        let target = (c.streamed + PIPE_READ_BYTES).min(c.bytes.len()) as f64;
        let life = (c.ends_at - c.started_at) as f64;
        Some(c.started_at + (life * target / len).ceil() as u64)
    }

    /// Redis's `rdbPipeReadHandler`: what a diskless child wrote so far goes to the
    /// sockets of the replicas it serves that are still connected, once they have
    /// written what they had; with none of them left, the child is killed.
    pub(crate) fn read_child_pipe(&mut self) {
        if !self
            .child
            .as_ref()
            .is_some_and(|c| c.to_sockets && !c.killed)
        {
            return;
        }
        let (alive, busy) = self.pipe_readers();
        let now = self.now;
        let Some(child) = self.child.as_mut() else {
            return;
        };
        if alive == 0 {
            child.killed = true;
            self.log("Diskless rdb transfer, last replica dropped, killing fork child.");
            return;
        }
        let upto = child.written_by(now);
        if busy || upto <= child.streamed {
            return;
        }
        let from = std::mem::replace(&mut child.streamed, upto);
        let bytes = child.bytes[from..upto].to_vec();
        let mut i = 0;
        while let Some(conn) = self.child.as_ref().and_then(|c| c.conns.get(i)).copied() {
            i += 1;
            if self.clients.contains_key(&conn) {
                self.send_slice(conn, &bytes);
                self.payload_progress(conn);
            }
        }
        if upto == self.child.as_ref().map_or(0, |c| c.bytes.len()) {
            // The child's last line comes before it closes the pipe.
            self.log(COW_LINE);
            self.log(format!(
                "Diskless rdb transfer, done reading from pipe, {alive} replicas still up."
            ));
        }
    }

    /// A diskless replica's socket took some of the payload (or was handed more): it is
    /// in a partial write until it has taken everything.
    pub(crate) fn payload_progress(&mut self, conn: ConnId) {
        let partial = self.unwritten_on(conn) > 0;
        let now_secs = self.now / 1000;
        if let Some(super::ClientRole::Replica(p)) =
            self.clients.get_mut(&conn).map(|c| &mut c.role)
        {
            p.last_partial_write = if partial { now_secs } else { 0 };
        }
    }

    /// Redis's `checkChildrenDone`, in the cron: a child that is through is reaped. A
    /// diskless child is through once its replicas' sockets took all it wrote.
    pub(crate) fn check_child_done(&mut self) {
        self.read_child_pipe();
        let now = self.now;
        let through = |n: &Node, c: &RdbChild| {
            c.killed
                || (c.ends_at <= now
                    && (!c.to_sockets || (c.streamed == c.bytes.len() && !n.pipe_readers().1)))
        };
        if !self.child.as_ref().is_some_and(|c| through(self, c)) {
            return;
        }
        let Some(child) = self.child.take() else {
            return;
        };
        self.saves.last_secs = (now / 1000 - child.started_at / 1000) as i64;
        self.saves.last_window = (child.started_at, now);
        self.saves.last_offsets = (child.offset, self.repl.master_repl_offset);
        if child.killed {
            // SIGUSR1: not an error for the save status.
            self.log("Background transfer terminated by signal 10");
        } else if child.to_sockets {
            self.log("Background RDB transfer terminated with success");
        } else {
            // The child's own last lines first.
            self.log("DB saved on disk");
            self.log(COW_LINE);
            self.log("Background saving terminated with success");
            self.saves.last_save = now / 1000;
            self.saves.last_failed = false;
        }
        self.replicas_bgsave_done(child.to_sockets, &child.bytes);
        // Start any pending fork at once.
        self.start_pending_fork();
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::resp::encode_command;
    use crate::engine::{Config, ConnId, Event, Input, Node, Output, PeerAddr};

    const T0: u64 = 1_700_000_000_000;

    /// A diskless master (repl-timeout 5 s) holding 300 kB, and a replica that asked for
    /// a full sync; nothing it was sent is written yet.
    fn master_and_replica() -> (Node, ConnId) {
        let config = Config {
            repl_diskless_sync_delay: 0,
            repl_timeout: 5,
            ..Config::default()
        };
        let mut n = Node::new(config, T0, 1);
        let peer = |port| PeerAddr {
            ip: "127.0.0.1".into(),
            port,
        };
        let writer = n.accept(T0, peer(40000));
        // Pseudo-random bytes: LZF cannot shrink them.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let value: Vec<u8> = (0..300_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        n.handle_bytes(T0, writer, &encode_command(&[b"SET", b"big", &value]));
        let replica = n.accept(T0, peer(40001));
        let hello = [
            encode_command(&[b"REPLCONF", b"listening-port", b"6390"]),
            encode_command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"]),
            encode_command(&[b"PSYNC", b"?", b"-1"]),
        ]
        .concat();
        n.handle_bytes(T0, replica, &hello);
        (n, replica)
    }

    /// Runs the node to `until`, one ms at a time, reporting `rate` bytes a second of
    /// the replica's as written (0: it reads nothing). Returns the log lines and whether
    /// the replica's connection was closed.
    fn run(n: &mut Node, replica: ConnId, until: u64, rate: u64) -> (Vec<String>, bool) {
        let (mut logs, mut closed, mut owed) = (Vec::new(), false, 0u64);
        let mut now = n.now;
        while now < until {
            now += 1;
            n.tick(now);
            while let Some(o) = n.poll_output() {
                match o {
                    Output::Event(Event::Log(l)) => logs.push(l),
                    Output::Close { conn } if conn == replica => closed = true,
                    Output::Send { conn, data } if conn == replica => owed += data.len() as u64,
                    _ => {}
                }
            }
            if rate > 0 && now.is_multiple_of(1000) && owed > 0 {
                let bytes = owed.min(rate);
                owed -= bytes;
                n.handle(
                    now,
                    Input::Written {
                        conn: replica,
                        bytes,
                    },
                );
            }
        }
        (logs, closed)
    }

    #[test]
    fn a_diskless_replica_that_stops_reading_is_dropped_after_repl_timeout() {
        let (mut n, replica) = master_and_replica();
        let (logs, closed) = run(&mut n, replica, T0 + 5_500, 0);
        assert!(!closed, "{logs:?}");
        let (logs, closed) = run(&mut n, replica, T0 + 8_000, 0);
        assert!(closed, "{logs:?}");
        assert!(logs.contains(&"Disconnecting timedout replica (full sync): 127.0.0.1:6390".into()));
        assert!(logs
            .contains(&"Diskless rdb transfer, last replica dropped, killing fork child.".into()));
    }

    #[test]
    fn a_diskless_transfer_longer_than_repl_timeout_goes_on_while_bytes_flow() {
        let (mut n, replica) = master_and_replica();
        // 20 kB a second: the 300 kB snapshot takes about 15 s, three times repl-timeout.
        let (logs, closed) = run(&mut n, replica, T0 + 20_000, 20_000);
        assert!(!closed, "{logs:?}");
        assert!(
            logs.contains(&"Background RDB transfer terminated with success".into()),
            "{logs:?}"
        );
        assert!(logs.contains(&"Synchronization with replica 127.0.0.1:6390 succeeded".into()));
    }
}
