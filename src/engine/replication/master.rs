//! The master's side: serving PSYNC/SYNC, snapshots, the stream, pings and timeouts.

use super::{ReplicaPeer, ReplicaSyncState};
use crate::engine::rdb::{self, ReplInfo, SnapshotMeta};
use crate::engine::resp::{encode_command, reply};
use crate::engine::{replica_name, Client, ClientRole, ConnId, Event, Node, REDIS_VERSION};

/// How the master answered a replica's PSYNC or SYNC, with the numbers that decided it.
/// The playground shows this as the "why" of every sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncDecision {
    /// The replica, named as Redis logs it (`ip:listening-port`).
    pub replica: String,
    /// `PSYNC` or `SYNC`.
    pub command: String,
    pub requested_replid: String,
    pub requested_offset: i64,
    pub partial: bool,
    /// Redis's own explanation of the outcome.
    pub reason: String,
    pub my_replid: String,
    pub my_replid2: String,
    pub second_repl_offset: i64,
    pub master_repl_offset: u64,
    /// `(first_byte_offset, histlen)` of the backlog when the decision was made.
    pub backlog: Option<(u64, usize)>,
    /// For a partial resync: how many backlog bytes were sent.
    pub backlog_bytes_sent: usize,
}

impl Node {
    /// Appends one command to the replication stream (a master's write, or a master's
    /// PING/GETACK to its replicas). Emits SELECT first when the stream is in another db.
    pub(crate) fn feed_replication_stream(&mut self, db: usize, argv: &[Vec<u8>]) {
        // A replica never originates stream bytes: it forwards its master's verbatim.
        if self.repl.link.is_some() {
            return;
        }
        // Before the first replica ever attached there is no backlog and nobody to send
        // to: the stream, and the offset, do not advance. A master creates its backlog when
        // a client first becomes its replica and frees it only once none is left, so "no
        // backlog" alone says "no replica" (checked in debug builds): no walk over every
        // client on every write (it was the engine's top cost under redis-benchmark).
        if self.repl.backlog.is_none() {
            debug_assert!(
                !self.has_replicas(),
                "a replica without a backlog"
            );
            return;
        }
        let mut bytes = Vec::new();
        if self.repl.stream_db != Some(db) {
            let db_text = db.to_string();
            bytes.extend(encode_command(&[b"SELECT", db_text.as_bytes()]));
            self.repl.stream_db = Some(db);
        }
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        bytes.extend(encode_command(&args));
        self.feed_stream_bytes(&bytes);
    }

    /// Puts stream bytes into the backlog and sends them to every replica that is ready.
    pub(crate) fn feed_stream_bytes(&mut self, bytes: &[u8]) {
        if let Some(backlog) = &mut self.repl.backlog {
            backlog.append(bytes);
        }
        self.repl.master_repl_offset += bytes.len() as u64;
        let mut sends = Vec::new();
        for (conn, client) in self.clients.iter_mut() {
            if let ClientRole::Replica(peer) = &mut client.role {
                match peer.state {
                    // The snapshot, still to be taken, will contain these writes.
                    ReplicaSyncState::WaitBgsaveStart => {}
                    ReplicaSyncState::Online if peer.start_stream_on_ack => peer.held.extend_from_slice(bytes),
                    ReplicaSyncState::Online => sends.push(*conn),
                }
            }
        }
        for conn in sends {
            self.send(conn, bytes.to_vec());
        }
    }

    /// PSYNC <replid> <offset> / SYNC from a client that wants to become our replica.
    pub(crate) fn sync_command(&mut self, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
        if matches!(client.role, ClientRole::Replica(_)) {
            return Vec::new();
        }
        if let Some(link) = &self.repl.link {
            if !link.is_connected() {
                return reply::error("NOMASTERLINK Can't SYNC while not connected with my master");
            }
        }
        let is_psync = argv[0].eq_ignore_ascii_case(b"psync");
        let (requested_replid, requested_offset) = if is_psync {
            let Some(off) = crate::engine::resp::parse_i64(&argv[2]) else {
                return reply::error("ERR value is not an integer or out of range");
            };
            (String::from_utf8_lossy(&argv[1]).into_owned(), off)
        } else {
            ("?".to_string(), -1)
        };
        let name = replica_name(client);
        self.log(format!("Replica {name} asks for synchronization"));

        let mut decision = SyncDecision {
            replica: name.clone(),
            command: if is_psync { "PSYNC" } else { "SYNC" }.into(),
            requested_replid: requested_replid.clone(),
            requested_offset,
            partial: false,
            reason: String::new(),
            my_replid: self.repl.replid.clone(),
            my_replid2: self.repl.replid2.clone(),
            second_repl_offset: self.repl.second_repl_offset,
            master_repl_offset: self.repl.master_repl_offset,
            backlog: self.repl.backlog.as_ref().map(|b| (b.first_byte_offset(), b.histlen())),
            backlog_bytes_sent: 0,
        };

        if is_psync {
            match self.try_partial_resync(client, &requested_replid, requested_offset) {
                Ok((reply_bytes, sent)) => {
                    self.stats.sync_partial_ok += 1;
                    decision.partial = true;
                    decision.backlog_bytes_sent = sent;
                    decision.reason = format!(
                        "Partial resynchronization request from {name} accepted. Sending {sent} bytes of backlog starting from offset {requested_offset}."
                    );
                    self.log(decision.reason.clone());
                    self.emit(Event::SyncDecision(decision));
                    return reply_bytes;
                }
                Err(reason) => {
                    if !requested_replid.starts_with('?') {
                        self.stats.sync_partial_err += 1;
                    }
                    self.log(reason.clone());
                    decision.reason = reason;
                }
            }
        } else {
            decision.reason = "Legacy SYNC: a replica older than 2.8 can only do a full resynchronization.".into();
        }

        // Full resynchronization.
        self.stats.sync_full += 1;
        client.role = ClientRole::Replica(ReplicaPeer {
            state: ReplicaSyncState::WaitBgsaveStart,
            ack_offset: 0,
            ack_time: self.now,
            start_stream_on_ack: false,
            held: Vec::new(),
            pre_psync: !is_psync,
        });
        self.repl.no_replicas_since = None;
        // `client` is out of the client map while its command runs: it is the first
        // replica when no other is there.
        if !self.has_replicas() && self.repl.backlog.is_none() {
            // A new history starts with the first replica: a fresh id that nobody can
            // confuse with whatever this server did before.
            self.repl.replid = self.ids.hex(40);
            self.repl.clear_replid2();
            self.create_backlog();
            let (r1, r2) = (self.repl.replid.clone(), self.repl.replid2.clone());
            self.log(format!("Replication backlog created, my new replication IDs are '{r1}' and '{r2}'"));
        }
        decision.my_replid = self.repl.replid.clone();
        decision.backlog = self.repl.backlog.as_ref().map(|b| (b.first_byte_offset(), b.histlen()));
        self.emit(Event::SyncDecision(decision));
        if self.config.repl_diskless_sync && client.capa_eof && self.config.repl_diskless_sync_delay > 0 {
            self.log("Delay next BGSAVE for diskless SYNC");
        } else {
            // The snapshot starts now; `client` is not in the client map while its command
            // runs, so serve it directly and then any others that are waiting.
            let payload = self.start_full_sync_for(client);
            self.start_pending_full_syncs();
            return payload;
        }
        Vec::new()
    }

    /// Redis's `masterTryPartialResynchronization`: Ok(reply bytes, backlog bytes sent) or
    /// Err(the log line explaining why not).
    fn try_partial_resync(&mut self, client: &mut Client, replid: &str, offset: i64) -> Result<(Vec<u8>, usize), String> {
        let r = &self.repl;
        let same_history = replid.eq_ignore_ascii_case(&r.replid)
            || (replid.eq_ignore_ascii_case(&r.replid2) && offset <= r.second_repl_offset);
        if !same_history {
            return Err(if replid.starts_with('?') {
                format!("Full resync requested by replica {}", replica_name(client))
            } else if !replid.eq_ignore_ascii_case(&r.replid) && !replid.eq_ignore_ascii_case(&r.replid2) {
                format!(
                    "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                    r.replid, r.replid2
                )
            } else {
                format!(
                    "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {}",
                    r.second_repl_offset
                )
            });
        }
        let backlog_bytes = match &r.backlog {
            Some(b) if offset >= 0 && b.covers(offset as u64) => b.read_from(offset as u64).unwrap_or_default(),
            _ => {
                return Err(format!(
                    "Unable to partial resync with replica {} for lack of backlog (Replica request was: {offset}).",
                    replica_name(client)
                ))
            }
        };
        client.role = ClientRole::Replica(ReplicaPeer {
            state: ReplicaSyncState::Online,
            ack_offset: 0,
            ack_time: self.now,
            start_stream_on_ack: false,
            held: Vec::new(),
            pre_psync: false,
        });
        self.repl.no_replicas_since = None;
        let mut out = if client.capa_psync2 {
            format!("+CONTINUE {}\r\n", self.repl.replid).into_bytes()
        } else {
            b"+CONTINUE\r\n".to_vec()
        };
        let sent = backlog_bytes.len();
        out.extend(backlog_bytes);
        Ok((out, sent))
    }

    /// Starts the snapshot for every replica waiting for one (after the diskless delay).
    fn replicas_waiting_for_snapshot(&self) -> Vec<ConnId> {
        self.replicas().filter(|(_, p)| p.state == ReplicaSyncState::WaitBgsaveStart).map(|(c, _)| c.conn).collect()
    }

    pub(crate) fn start_pending_full_syncs(&mut self) {
        let waiting = self.replicas_waiting_for_snapshot();
        for conn in waiting {
            if let Some(mut client) = self.clients.remove(&conn) {
                let payload = self.start_full_sync_for(&mut client);
                self.send(conn, payload);
                self.clients.insert(conn, client);
            }
        }
    }

    /// Takes the snapshot and returns `+FULLRESYNC` and the payload to send; puts the
    /// replica online.
    ///
    /// Redis forks a child to write the snapshot while the parent keeps serving; writes in
    /// between are buffered for the replica. Here the snapshot is taken at one instant of
    /// the stream, so "writes in between" are simply the stream that follows the payload.
    fn start_full_sync_for(&mut self, client: &mut Client) -> Vec<u8> {
        let ClientRole::Replica(peer) = &mut client.role else { return Vec::new() };
        let diskless = self.config.repl_diskless_sync && client.capa_eof;
        let offset = self.repl.master_repl_offset;
        // The replica starts from a snapshot: the stream must re-SELECT its db.
        self.repl.stream_db = None;
        let mut out = Vec::new();
        if !peer.pre_psync {
            out.extend(format!("+FULLRESYNC {} {}\r\n", self.repl.replid, offset).into_bytes());
        }
        let meta = SnapshotMeta {
            redis_ver: REDIS_VERSION,
            ctime_secs: self.now / 1000,
            used_mem: 0,
            repl: Some(ReplInfo { stream_db: 0, replid: self.repl.replid.clone(), offset: offset as i64 }),
        };
        let payload = rdb::write_with(&self.keyspace, &meta, self.now, self.config.rdbcompression);
        let name = replica_name(client);
        if diskless {
            let mark = self.ids.hex(40);
            out.extend(format!("$EOF:{mark}\r\n").into_bytes());
            out.extend(&payload);
            out.extend(mark.as_bytes());
        } else {
            out.extend(format!("${}\r\n", payload.len()).into_bytes());
            out.extend(&payload);
        }
        let ClientRole::Replica(peer) = &mut client.role else { return Vec::new() };
        peer.state = ReplicaSyncState::Online;
        peer.ack_time = self.now;
        peer.start_stream_on_ack = diskless;
        let target = if diskless { "replicas sockets" } else { "disk" };
        self.log(format!("Starting BGSAVE for SYNC with target: {target}"));
        if diskless {
            self.log(format!(
                "Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming"
            ));
        }
        self.log(format!("Synchronization with replica {name} succeeded"));
        out
    }

    /// REPLCONF ACK from a replica.
    pub(crate) fn replica_ack(&mut self, client: &mut Client, offset: u64) {
        let ClientRole::Replica(peer) = &mut client.role else { return };
        if offset > peer.ack_offset {
            peer.ack_offset = offset;
        }
        peer.ack_time = self.now;
        if peer.start_stream_on_ack && peer.state == ReplicaSyncState::Online {
            peer.start_stream_on_ack = false;
            let held = std::mem::take(&mut peer.held);
            self.send(client.conn, held);
        }
    }

    pub(crate) fn on_replica_gone(&mut self) {
        if !self.has_replicas() {
            self.repl.no_replicas_since = Some(self.now);
        }
    }

    /// The master half of Redis's once-a-second `replicationCron`.
    pub(crate) fn master_cron(&mut self) {
        let has_replicas = self.has_replicas();
        // PING replicas every repl-ping-replica-period seconds, counted in cron runs as
        // Redis does, so they can tell a quiet master from a dead link.
        let period = self.config.repl_ping_replica_period.max(1);
        if has_replicas && self.repl_cron_loops() % period == 0 && self.repl.link.is_none() {
            let db = self.repl.stream_db.unwrap_or(usize::MAX);
            if db == usize::MAX {
                self.feed_stream_bytes(&encode_command(&[b"PING"]));
            } else {
                self.feed_replication_stream(db, &[b"PING".to_vec()]);
            }
        }
        // Replicas waiting for the snapshot get a bare newline so their read timeout
        // does not fire while we wait.
        let waiting = self.replicas_waiting_for_snapshot();
        for conn in &waiting {
            self.send(*conn, b"\n".to_vec());
        }
        // Replicas that stopped ACKing for repl-timeout seconds are dropped.
        let now_secs = self.now / 1000;
        let timeout = self.config.repl_timeout;
        let timed_out: Vec<(ConnId, String)> = self
            .clients
            .iter()
            .filter(|(_, c)| {
                matches!(&c.role, ClientRole::Replica(p) if p.state == ReplicaSyncState::Online && !p.pre_psync
                    && now_secs.saturating_sub(p.ack_time / 1000) > timeout)
            })
            .map(|(id, c)| (*id, replica_name(c)))
            .collect();
        for (conn, name) in timed_out {
            self.log(format!("Disconnecting timedout replica (streaming sync): {name}"));
            self.close_conn(conn);
        }
        // Free the backlog of a master that has had no replica for repl-backlog-ttl.
        if self.repl.link.is_none() && self.repl.backlog.is_some() && !has_replicas {
            if let Some(since) = self.repl.no_replicas_since {
                if self.config.repl_backlog_ttl > 0 && now_secs.saturating_sub(since / 1000) > self.config.repl_backlog_ttl {
                    // Nobody can PSYNC with the old history any more: start a new one.
                    self.repl.replid = self.ids.hex(40);
                    self.repl.clear_replid2();
                    self.repl.backlog = None;
                    let ttl = self.config.repl_backlog_ttl;
                    self.log(format!("Replication backlog freed after {ttl} seconds without connected replicas."));
                }
            }
        }
        // Start the diskless snapshot once the waiting replicas have been idle long enough.
        if !waiting.is_empty() {
            // Redis measures this idle time in whole unix seconds (`server.unixtime`).
            let max_idle_secs = waiting
                .iter()
                .filter_map(|c| self.clients.get(c))
                .map(|c| (self.now / 1000).saturating_sub(c.last_interaction / 1000))
                .max()
                .unwrap_or(0);
            // ...or as soon as repl-diskless-sync-max-replicas of them are waiting.
            let max_replicas = self.config.repl_diskless_sync_max_replicas;
            if !self.config.repl_diskless_sync
                || (max_replicas > 0 && waiting.len() as u64 >= max_replicas)
                || max_idle_secs >= self.config.repl_diskless_sync_delay
            {
                self.start_pending_full_syncs();
            }
        }
    }
}
