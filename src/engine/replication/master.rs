//! The master's side: serving PSYNC/SYNC, snapshots, the stream, pings and timeouts.

use super::explain::{self, Refusal};
use super::{ReplicaPeer, ReplicaSyncState, SyncProtocol};
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
    /// The protocol this master decided under (`replscope-sync-protocol`).
    pub protocol: SyncProtocol,
    pub requested_replid: String,
    pub requested_offset: i64,
    pub partial: bool,
    /// Why, in plain words: which ids and offsets were compared, and what the other
    /// protocols would have done. (Redis's own log line is the `Event::Log` before it.)
    pub reason: String,
    /// The id this master continues: its replid, or under `psync1` its run id.
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
    /// Whether what a command propagates now would be dropped by
    /// [`Node::feed_replication_stream`]: a replica forwards its master's stream verbatim
    /// and originates none, and a master with no backlog has never had a replica. Outside
    /// EXEC nothing between a command and the flush of its propagation changes either.
    pub(crate) fn propagation_discarded(&self) -> bool {
        !self.in_exec && (self.repl.link.is_some() || self.repl.backlog.is_none())
    }

    /// Appends one command to the replication stream (a master's write). Emits SELECT
    /// first when the stream is in another db.
    pub(crate) fn feed_replication_stream(&mut self, db: usize, argv: &[Vec<u8>]) {
        self.feed_command(Some(db), argv);
    }

    /// A command the master sends on its own (PING, GETACK): Redis feeds it with the
    /// stream's current db as the command's db, so it never carries a SELECT, even before
    /// any db was selected.
    fn feed_in_stream_db(&mut self, argv: &[Vec<u8>]) {
        self.feed_command(self.repl.stream_db, argv);
    }

    /// Redis's `replicationFeedSlaves`: SELECT first if `db` is not the stream's, then the
    /// command, fed piece by piece.
    fn feed_command(&mut self, db: Option<usize>, argv: &[Vec<u8>]) {
        let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        self.feed_encoded(db, &encode_command(&refs));
    }

    /// [`Node::feed_command`] for a command already encoded in RESP.
    pub(crate) fn feed_encoded(&mut self, db: Option<usize>, command: &[u8]) {
        // A replica never originates stream bytes: it forwards its master's verbatim.
        if self.repl.link.is_some() {
            return;
        }
        // Before the first replica ever attached there is no backlog and nobody to send
        // to: the stream, and the offset, do not advance. A master creates its backlog when
        // a client first becomes its replica and frees it only once none is left, so "no
        // backlog" alone says "no replica" (checked in debug builds): no walk over every
        // client on every write (it was the engine's top cost under redis-benchmark).
        let Some(backlog) = &self.repl.backlog else {
            debug_assert!(!self.has_replicas(), "a replica without a backlog");
            return;
        };
        let select = db.filter(|&db| self.repl.stream_db != Some(db));
        if select.is_none() {
            // The usual case: the command alone, straight from where it was encoded. Its
            // pieces matter only if it overflows the tail block (see feed_stream).
            let mut ends = std::mem::take(&mut self.repl.feed_piece_ends);
            ends.clear();
            if backlog.tail_room() >= command.len() {
                ends.push(command.len());
            } else {
                resp_piece_ends(command, 0, &mut ends);
            }
            self.feed_stream(command, &ends);
            self.repl.feed_piece_ends = ends;
            return;
        }
        let mut bytes = Vec::with_capacity(32 + command.len());
        let mut ends = Vec::new();
        if let Some(db) = select {
            let db_text = db.to_string();
            bytes.extend(encode_command(&[b"SELECT", db_text.as_bytes()]));
            ends.push(bytes.len());
            self.repl.stream_db = Some(db);
        }
        let at = bytes.len();
        bytes.extend_from_slice(command);
        resp_piece_ends(command, at, &mut ends);
        self.feed_stream(&bytes, &ends);
    }

    /// Stream bytes that are fed as one piece: what a replica forwards from its master
    /// (one applied command, or a whole transaction), as Redis feeds `c->querybuf` ranges.
    pub(crate) fn feed_stream_bytes(&mut self, bytes: &[u8]) {
        self.feed_stream(bytes, &[bytes.len()]);
    }

    /// Puts stream bytes into the replication buffer and hands them to every replica whose
    /// stream flows.
    ///
    /// `piece_ends` cuts `bytes` the way Redis feeds its buffer: a master feeds a command
    /// as `*<argc>`, then `$<len>`, the argument and CRLF for each argument, each a call of
    /// its own. The cut matters because a new block is sized by the piece that overflows
    /// the tail block, and block sizes decide what can be trimmed.
    fn feed_stream(&mut self, bytes: &[u8], piece_ends: &[usize]) {
        // No backlog, no stream: the offset does not move either (Redis's
        // `feedReplicationBuffer` returns at once).
        let Some(backlog) = self.repl.backlog.as_mut() else {
            return;
        };
        // Every replica but those still waiting for their snapshot to start (the snapshot
        // will contain these writes) takes these bytes: from now on they hold its place
        // in the buffer until they have left the node, even while they wait behind the
        // snapshot payload or for the first ACK after a diskless one.
        let clients = &self.clients;
        let mut readers = std::mem::take(&mut self.repl.feed_readers);
        let mut flowing = std::mem::take(&mut self.repl.feed_flowing);
        readers.clear();
        flowing.clear();
        for conn in self.repl.replica_conns.keys() {
            if let Some(ClientRole::Replica(p)) = clients.get(conn).map(|c| &c.role) {
                if p.state != ReplicaSyncState::WaitBgsaveStart {
                    readers.push(*conn);
                    // Whether its stream flows yet (see below), read in the same lookup.
                    flowing.push(p.state == ReplicaSyncState::Online && !p.start_stream_on_ack);
                }
            }
        }
        let mut start = 0;
        let mut new_block = false;
        // When the whole write fits in the tail block no piece overflows it, so the cut
        // decides nothing: one call stores the same bytes and places the readers alike.
        let piece_ends = if backlog.tail_room() >= bytes.len() {
            &[bytes.len()][..]
        } else {
            piece_ends
        };
        for (i, &end) in piece_ends.iter().enumerate() {
            // A reader's place is where the first piece starts; later pieces cannot move it.
            let placed = if i == 0 { &readers[..] } else { &[] };
            new_block |= backlog.feed(&bytes[start..end], placed);
            start = end;
        }
        self.repl.master_repl_offset += bytes.len() as u64;
        debug_assert_eq!(backlog.last_offset(), self.repl.master_repl_offset);
        for (conn, &flows) in readers.iter().zip(&flowing) {
            if flows {
                self.send_slice(*conn, bytes);
            }
        }
        self.repl.feed_flowing = flowing;
        // Redis checks the limits only when the buffer grew by a block.
        if new_block {
            self.close_replicas_over_output_limit(&readers, true);
        }
        self.repl.feed_readers = readers;
    }

    /// PSYNC <replid> <offset> / SYNC from a client that wants to become our replica.
    pub(crate) fn sync_command(&mut self, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
        let protocol = self.config.sync_protocol;
        let is_psync = argv[0].eq_ignore_ascii_case(b"psync");
        if is_psync && protocol == SyncProtocol::Sync {
            // A server older than 2.8 did not know PSYNC at all. Newer replicas take this
            // error as "old master" and retry with SYNC.
            self.log(format!(
                "replscope-sync-protocol is 'sync': answering PSYNC from {} as Redis 2.6 would (unknown command)",
                replica_name(client)
            ));
            return reply::error("ERR unknown command 'PSYNC'");
        }
        if matches!(client.role, ClientRole::Replica(_)) {
            return Vec::new();
        }
        if is_psync {
            if let Err(refusal) = self.accept_failover_request(client, argv) {
                return refusal;
            }
        }
        if self.repl.failover.is_some() {
            return reply::error("NOMASTERLINK Can't SYNC while failing over");
        }
        if let Some(link) = &self.repl.link {
            if !link.is_connected() {
                return reply::error("NOMASTERLINK Can't SYNC while not connected with my master");
            }
        }
        let (requested_replid, requested_offset) = if is_psync {
            let Some(off) = crate::engine::resp::parse_i64(&argv[2]) else {
                return reply::error("ERR value is not an integer or out of range");
            };
            (String::from_utf8_lossy(&argv[1]).into_owned(), off)
        } else {
            ("?".to_string(), -1)
        };
        // An older server knew fewer capabilities, and ignored the ones it did not know:
        // 2.8-3.2 only `eof` (so `+CONTINUE` never carries an id), 2.6 none at all (so
        // the snapshot is always a `$<len>` payload).
        match protocol {
            SyncProtocol::Psync2 => {}
            SyncProtocol::Psync1 => client.capa_psync2 = false,
            SyncProtocol::Sync => {
                client.capa_eof = false;
                client.capa_psync2 = false;
            }
        }
        let name = replica_name(client);
        self.log(format!("Replica {name} asks for synchronization"));

        let mut decision = SyncDecision {
            replica: name.clone(),
            command: if is_psync { "PSYNC" } else { "SYNC" }.into(),
            protocol,
            requested_replid: requested_replid.clone(),
            requested_offset,
            partial: false,
            reason: String::new(),
            my_replid: self.history_name().to_string(),
            my_replid2: self.repl.replid2.clone(),
            second_repl_offset: self.repl.second_repl_offset,
            master_repl_offset: self.repl.master_repl_offset,
            backlog: self
                .repl
                .backlog
                .as_ref()
                .map(|b| (b.first_byte_offset(), b.histlen())),
            backlog_bytes_sent: 0,
        };

        if is_psync {
            match self.try_partial_resync(client, &requested_replid, requested_offset) {
                Ok((reply_bytes, sent)) => {
                    self.stats.sync_partial_ok += 1;
                    self.refresh_good_replicas_count(Some(&*client));
                    decision.partial = true;
                    decision.backlog_bytes_sent = sent;
                    self.log(format!(
                        "Partial resynchronization request from {name} accepted. Sending {sent} bytes of backlog starting from offset {requested_offset}."
                    ));
                    decision.reason =
                        self.explain_partial(&requested_replid, requested_offset, sent);
                    self.emit(Event::SyncDecision(decision));
                    return reply_bytes;
                }
                Err(refusal) => {
                    if !requested_replid.starts_with('?') {
                        self.stats.sync_partial_err += 1;
                    }
                    let line =
                        self.refusal_log_line(refusal, &name, &requested_replid, requested_offset);
                    self.log(line);
                    decision.reason =
                        self.explain_refusal(refusal, &requested_replid, requested_offset);
                }
            }
        } else {
            decision.reason = explain::SYNC.into();
        }

        // Full resynchronization.
        self.stats.sync_full += 1;
        client.role = ClientRole::Replica(ReplicaPeer::new(
            ReplicaSyncState::WaitBgsaveStart,
            self.now,
            !is_psync,
        ));
        self.repl.replica_conns.insert(client.conn, ());
        self.repl.no_replicas_since = None;
        // `client` is out of the client map while its command runs: it is the first
        // replica when no other is there.
        if !self.has_replicas() && self.repl.backlog.is_none() {
            if protocol == SyncProtocol::Psync1 {
                // 2.8-3.2 had no replication id: the history is named by our run id,
                // which does not change while this process lives. A replica keeps the
                // name its master gave it (what its own replicas never see).
                if self.repl.link.is_none() {
                    self.repl.replid = self.run_id.clone();
                    self.repl.clear_replid2();
                }
                self.create_backlog();
                self.log("Replication backlog created (PSYNC1: the history is named by my run ID)");
            } else {
                // A new history starts with the first replica: a fresh id that nobody can
                // confuse with whatever this server did before.
                self.repl.replid = self.ids.hex(40);
                self.repl.clear_replid2();
                self.create_backlog();
                let (r1, r2) = (self.repl.replid.clone(), self.repl.replid2.clone());
                self.log(format!(
                    "Replication backlog created, my new replication IDs are '{r1}' and '{r2}'"
                ));
            }
        }
        decision.my_replid = self.history_name().to_string();
        decision.backlog = self
            .repl
            .backlog
            .as_ref()
            .map(|b| (b.first_byte_offset(), b.histlen()));
        self.emit(Event::SyncDecision(decision));
        // Redis's syncCommand: attach to a running BGSAVE, wait for the next one, or start
        // one (after the diskless delay).
        match &self.child {
            Some(child) if !child.to_sockets => {
                let offset = child.offset;
                // The first replica the running child writes for: this one attaches only
                // with at least its capabilities.
                let first = self
                    .replicas()
                    .find(|(_, p)| p.state == ReplicaSyncState::WaitBgsaveEnd)
                    .map(|(c, _)| (c.conn, c.capa_eof, c.capa_psync2));
                match first {
                    Some((other, eof, psync2))
                        if (client.capa_eof || !eof) && (client.capa_psync2 || !psync2) =>
                    {
                        // It shares the other's buffer from the fork on.
                        if let Some(backlog) = self.repl.backlog.as_mut() {
                            if let Some(at) = backlog.replica_offset(other) {
                                backlog.attach_replica_at(client.conn, at);
                            }
                        }
                        let out = self.setup_for_full_resync(client, offset);
                        self.log("Waiting for end of BGSAVE for SYNC");
                        return out;
                    }
                    _ => self.log("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC"),
                }
            }
            Some(_) => {
                self.log("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
            }
            None if self.config.repl_diskless_sync
                && client.capa_eof
                && self.config.repl_diskless_sync_delay > 0 =>
            {
                self.log("Delay next BGSAVE for diskless SYNC")
            }
            // `client` is out of the client map while its command runs: it is served
            // with the others waiting.
            None => return self.start_bgsave_for_replication(Some(client)),
        }
        Vec::new()
    }

    /// The name `+FULLRESYNC` gives our history, and the id a replica must PSYNC with:
    /// our replid, or under PSYNC1 our run id.
    pub(crate) fn history_name(&self) -> &str {
        match self.config.sync_protocol {
            SyncProtocol::Psync1 => &self.run_id,
            _ => &self.repl.replid,
        }
    }

    /// Whether our backlog holds the stream from `offset` on.
    fn backlog_covers(&self, offset: i64) -> bool {
        offset >= 0
            && self
                .repl
                .backlog
                .as_ref()
                .is_some_and(|b| b.covers(offset as u64))
    }

    /// Which of our histories the PSYNC2 rules would continue for `replid` at `offset`
    /// (before looking at the backlog).
    fn psync2_history_check(&self, replid: &str, offset: i64) -> Result<(), Refusal> {
        let r = &self.repl;
        if replid.eq_ignore_ascii_case(&r.replid) {
            return Ok(());
        }
        if replid.eq_ignore_ascii_case(&r.replid2) {
            return if offset <= r.second_repl_offset {
                Ok(())
            } else {
                Err(Refusal::PastSecondId)
            };
        }
        Err(if replid.starts_with('?') {
            Refusal::FullRequested
        } else {
            Refusal::IdMismatch
        })
    }

    /// Redis's `masterTryPartialResynchronization` (7.0's, or 3.2's under PSYNC1):
    /// Ok(reply bytes, backlog bytes sent), or why not.
    fn try_partial_resync(
        &mut self,
        client: &mut Client,
        replid: &str,
        offset: i64,
    ) -> Result<(Vec<u8>, usize), Refusal> {
        match self.config.sync_protocol {
            SyncProtocol::Psync1 => {
                if !replid.eq_ignore_ascii_case(&self.run_id) {
                    return Err(if replid.starts_with('?') {
                        Refusal::FullRequested
                    } else {
                        Refusal::RunIdMismatch
                    });
                }
            }
            _ => self.psync2_history_check(replid, offset)?,
        }
        if !self.backlog_covers(offset) {
            return Err(Refusal::NoBacklog);
        }
        let backlog_bytes = self
            .repl
            .backlog
            .as_ref()
            .and_then(|b| b.read_from(offset as u64))
            .unwrap_or_default();
        // Only a replica that declared `capa psync2` understands an id here (and a PSYNC1
        // master has cleared that capability: it did not know it).
        let mut out = if client.capa_psync2 {
            format!("+CONTINUE {}\r\n", self.repl.replid).into_bytes()
        } else {
            b"+CONTINUE\r\n".to_vec()
        };
        // The replica now references the buffer from the byte it asked for: those blocks
        // stay until the bytes have left, exactly like the stream that follows them. The
        // backlog bytes travel in this reply, behind the replies already queued and the
        // +CONTINUE line.
        if let Some(backlog) = self.repl.backlog.as_mut() {
            backlog.attach_replica_at(client.conn, offset as u64);
        }
        let mut peer = ReplicaPeer::new(ReplicaSyncState::Online, self.now, false);
        peer.bytes_ahead_of_stream =
            Some(self.unwritten_on(client.conn) + (client.reply_pending + out.len()) as u64);
        client.role = ClientRole::Replica(peer);
        self.repl.replica_conns.insert(client.conn, ());
        self.repl.no_replicas_since = None;
        let sent = backlog_bytes.len();
        out.extend(backlog_bytes);
        Ok((out, sent))
    }

    /// The line Redis logs for a refused PSYNC (7.0's words; 3.2's under PSYNC1).
    fn refusal_log_line(&self, refusal: Refusal, name: &str, replid: &str, offset: i64) -> String {
        let r = &self.repl;
        match refusal {
            Refusal::FullRequested => format!("Full resync requested by replica {name}"),
            Refusal::IdMismatch => format!(
                "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{replid}', my replication IDs are '{}' and '{}')",
                r.replid, r.replid2
            ),
            Refusal::PastSecondId => format!(
                "Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {}",
                r.second_repl_offset
            ),
            Refusal::RunIdMismatch => format!(
                "Partial resynchronization not accepted: Runid mismatch (Client asked for runid '{replid}', my runid is '{}')",
                self.run_id
            ),
            Refusal::NoBacklog => {
                format!("Unable to partial resync with replica {name} for lack of backlog (Replica request was: {offset}).")
            }
        }
    }

    /// The replicas waiting for a BGSAVE to start.
    fn replicas_waiting_for_snapshot(&self) -> Vec<ConnId> {
        self.replicas()
            .filter(|(_, p)| p.state == ReplicaSyncState::WaitBgsaveStart)
            .map(|(c, _)| c.conn)
            .collect()
    }

    /// Redis's `replicationStartPendingFork`: with no child running, a BGSAVE starts for
    /// the replicas waiting for one, at once on disk; for a diskless sync once they have
    /// been idle repl-diskless-sync-delay seconds (whole unix seconds, as Redis counts),
    /// or as soon as repl-diskless-sync-max-replicas of them wait.
    pub(crate) fn start_pending_fork(&mut self) {
        let waiting = self.replicas_waiting_for_snapshot();
        if self.child.is_some() || waiting.is_empty() {
            return;
        }
        let max_idle_secs = waiting
            .iter()
            .filter_map(|c| self.clients.get(c))
            .map(|c| (self.now / 1000).saturating_sub(c.last_interaction / 1000))
            .max()
            .unwrap_or(0);
        let max_replicas = self.config.repl_diskless_sync_max_replicas;
        if !self.config.repl_diskless_sync
            || (max_replicas > 0 && waiting.len() as u64 >= max_replicas)
            || max_idle_secs >= self.config.repl_diskless_sync_delay
        {
            self.start_bgsave_for_replication(None);
        }
    }

    /// The `repl-stream-db` a snapshot tells its replica (Redis's `rdbPopulateSaveInfo`).
    /// A master re-SELECTs after every snapshot, so 0 will do. A replica serving its own
    /// replicas forwards its master's stream verbatim and cannot SELECT: the snapshot must
    /// name the db that stream is in, or the next write without a SELECT lands in db 0.
    fn snapshot_stream_db(&self) -> i64 {
        if self.repl.link.is_none() {
            return 0;
        }
        // Its link may be down (the snapshot was waiting for the diskless delay): then the
        // cached master's db, where the stream resumes after a +CONTINUE.
        match self.clients.values().find(|c| c.role == ClientRole::Master) {
            Some(master) => master.db as i64,
            None => self.repl.cached_master.as_ref().map_or(0, |c| c.db as i64),
        }
    }

    /// Redis's `startBgsaveForReplication`: forks the child for every replica waiting for
    /// a BGSAVE (and `in_flight`, the one whose PSYNC is running, out of the client map),
    /// to the sockets when they all read an EOF-marked payload and the sync is diskless,
    /// else to disk. Returns what `in_flight` is sent now (`+FULLRESYNC`).
    fn start_bgsave_for_replication(&mut self, in_flight: Option<&mut Client>) -> Vec<u8> {
        let waiting = self.replicas_waiting_for_snapshot();
        let all_eof = waiting
            .iter()
            .filter_map(|c| self.clients.get(c))
            .chain(in_flight.as_deref())
            .all(|c| c.capa_eof);
        let to_sockets = self.config.repl_diskless_sync && all_eof;
        let target = if to_sockets {
            "replicas sockets"
        } else {
            "disk"
        };
        self.log(format!("Starting BGSAVE for SYNC with target: {target}"));
        let offset = self.repl.master_repl_offset;
        let meta = SnapshotMeta {
            redis_ver: REDIS_VERSION,
            ctime_secs: self.now / 1000,
            used_mem: 0,
            repl: Some(ReplInfo {
                stream_db: self.snapshot_stream_db(),
                replid: self.history_name().to_string(),
                offset: offset as i64,
            }),
        };
        let rdb = rdb::write_with(&self.keyspace, &meta, self.now, self.config.rdbcompression);
        let mut child = self.fork_child(to_sockets, offset);
        let bytes = if to_sockets {
            let mark = self.ids.hex(40);
            let mut framed = format!("$EOF:{mark}\r\n").into_bytes();
            framed.extend(&rdb);
            framed.extend(mark.as_bytes());
            framed
        } else {
            rdb
        };
        child.set_bytes(bytes);
        let mut out = Vec::new();
        for conn in waiting {
            if let Some(mut c) = self.clients.remove(&conn) {
                let line = self.setup_for_full_resync(&mut c, offset);
                self.send(conn, line);
                self.clients.insert(conn, c);
                child.conns.push(conn);
            }
        }
        if let Some(c) = in_flight {
            if matches!(&c.role, ClientRole::Replica(p) if p.state == ReplicaSyncState::WaitBgsaveStart)
            {
                out = self.setup_for_full_resync(c, offset);
                child.conns.push(c.conn);
            }
        }
        let pid = child.pid;
        self.child = Some(child);
        let what = if to_sockets { "RDB transfer" } else { "saving" };
        self.log(format!("Background {what} started by pid {pid}"));
        out
    }

    /// Redis's `replicationSetupSlaveForFullResync`: the replica waits for the child's
    /// snapshot of `offset`, and learns that offset now (`+FULLRESYNC`; a SYNC replica
    /// only gets the payload). The stream must re-SELECT its db after a snapshot.
    fn setup_for_full_resync(&mut self, client: &mut Client, offset: u64) -> Vec<u8> {
        self.repl.stream_db = None;
        let ClientRole::Replica(peer) = &mut client.role else {
            return Vec::new();
        };
        peer.state = ReplicaSyncState::WaitBgsaveEnd;
        if peer.pre_psync {
            return Vec::new();
        }
        format!("+FULLRESYNC {} {}\r\n", self.history_name(), offset).into_bytes()
    }

    /// Redis's `updateSlavesWaitingBgsave` once the child is done: a disk snapshot is now
    /// sent to each replica that waited for it (`send_bulk`); after a diskless one, they
    /// are online at once and their stream waits for their first ACK.
    pub(crate) fn replicas_bgsave_done(&mut self, to_sockets: bool, rdb: &[u8]) {
        let done: Vec<ConnId> = self
            .replicas()
            .filter(|(_, p)| p.state == ReplicaSyncState::WaitBgsaveEnd)
            .map(|(c, _)| c.conn)
            .collect();
        for conn in done {
            if to_sockets {
                let name = self
                    .clients
                    .get(&conn)
                    .map(replica_name)
                    .unwrap_or_default();
                self.log(format!(
                    "Streamed RDB transfer with replica {name} succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming"
                ));
                self.replica_put_online(conn);
                if let Some(ClientRole::Replica(p)) =
                    self.clients.get_mut(&conn).map(|c| &mut c.role)
                {
                    p.start_stream_on_ack = true;
                }
            } else {
                let mut bulk = format!("${}\r\n", rdb.len()).into_bytes();
                bulk.extend_from_slice(rdb);
                let left = self.unwritten_on(conn) + bulk.len() as u64;
                if let Some(ClientRole::Replica(p)) =
                    self.clients.get_mut(&conn).map(|c| &mut c.role)
                {
                    p.state = ReplicaSyncState::SendBulk;
                    p.bulk_unwritten = left;
                }
                self.send(conn, bulk);
            }
        }
    }

    /// `bytes` more of a replica's connection were written: a snapshot file whose last
    /// byte is now out puts it online, and its stream starts (`sendBulkToSlave`).
    /// Whether the bytes were its snapshot's (none of its stream).
    pub(crate) fn bulk_written(&mut self, conn: ConnId, bytes: u64) -> bool {
        let Some(ClientRole::Replica(p)) = self.clients.get_mut(&conn).map(|c| &mut c.role) else {
            return false;
        };
        if p.state != ReplicaSyncState::SendBulk {
            return false;
        }
        p.bulk_unwritten = p.bulk_unwritten.saturating_sub(bytes);
        if p.bulk_unwritten == 0 {
            p.bytes_ahead_of_stream = Some(0);
            self.replica_put_online(conn);
            self.send_missed_stream(conn);
        }
        true
    }

    /// Redis's `replicaPutOnline`.
    fn replica_put_online(&mut self, conn: ConnId) {
        let now = self.now;
        let Some(client) = self.clients.get_mut(&conn) else {
            return;
        };
        if let ClientRole::Replica(p) = &mut client.role {
            p.state = ReplicaSyncState::Online;
            // No false timeout for the time the sync took.
            p.ack_time = now;
        }
        let name = replica_name(client);
        self.refresh_good_replicas_count(None);
        self.log(format!("Synchronization with replica {name} succeeded"));
    }

    /// Everything fed since the snapshot, which this replica kept alive in the buffer.
    fn send_missed_stream(&mut self, conn: ConnId) {
        let backlog = self.repl.backlog.as_ref();
        let missed = backlog
            .and_then(|b| b.read_from(b.replica_offset(conn)?))
            .unwrap_or_default();
        self.send(conn, missed);
    }

    /// REPLCONF ACK from a replica.
    pub(crate) fn replica_ack(&mut self, client: &mut Client, offset: u64) {
        let ClientRole::Replica(peer) = &mut client.role else {
            return;
        };
        if offset > peer.ack_offset {
            peer.ack_offset = offset;
        }
        peer.ack_time = self.now;
        if peer.state == ReplicaSyncState::WaitBgsaveEnd && self.child.is_some() {
            // The ACK may come before the cron noticed that the child is done: Redis
            // checks at once rather than wait for the next ACK. The replica joins the
            // others in the client map for that (its command is running out of it).
            self.clients.insert(client.conn, client.clone());
            self.check_child_done();
            match self.clients.remove(&client.conn) {
                Some(c) => *client = c,
                None => return,
            }
        }
        let ClientRole::Replica(peer) = &mut client.role else {
            return;
        };
        if peer.start_stream_on_ack && peer.state == ReplicaSyncState::Online {
            // The snapshot is loaded: everything fed since it was taken, which this
            // replica has kept alive in the buffer, goes now.
            peer.start_stream_on_ack = false;
            let conn = client.conn;
            let ahead =
                self.unwritten.get(&conn).copied().unwrap_or(0) + client.reply_pending as u64;
            if let ClientRole::Replica(peer) = &mut client.role {
                peer.bytes_ahead_of_stream = Some(ahead);
            }
            self.send_missed_stream(conn);
        }
    }

    pub(crate) fn on_replica_gone(&mut self, conn: ConnId) {
        if let Some(backlog) = self.repl.backlog.as_mut() {
            backlog.detach_replica(conn);
        }
        // A diskless child may have lost its last reader, or waited for this one.
        self.read_child_pipe();
        if !self.has_replicas() {
            self.repl.no_replicas_since = Some(self.now);
        }
        self.refresh_good_replicas_count(None);
    }

    /// Redis's `refreshGoodSlavesCount`: online replicas whose last ACK is at most
    /// min-replicas-max-lag seconds old, in whole unix seconds. Redis refreshes the count
    /// once a second (replication cron), when a replica goes online or away, and when the
    /// options change; writes are checked against it in between. `in_flight` is a
    /// replica being served right now (out of the client map while its command runs).
    /// With either option at 0 the count is left as it was, as in Redis.
    pub(crate) fn refresh_good_replicas_count(&mut self, in_flight: Option<&Client>) {
        let max_lag = self.config.min_replicas_max_lag;
        if self.config.min_replicas_to_write == 0 || max_lag == 0 {
            return;
        }
        let now_secs = self.now / 1000;
        let good = |c: &Client| {
            matches!(&c.role, ClientRole::Replica(p)
                if p.state == ReplicaSyncState::Online && now_secs.saturating_sub(p.ack_time / 1000) <= max_lag)
        };
        let in_map = self
            .clients
            .values()
            .filter(|c| in_flight.is_none_or(|f| f.conn != c.conn))
            .filter(|c| good(c))
            .count();
        self.repl.good_replicas = (in_map + in_flight.filter(|c| good(c)).map_or(0, |_| 1)) as u64;
    }

    /// Redis's `replicationCountAcksByOffset`: online replicas that acknowledged at
    /// least `offset`.
    pub(crate) fn count_acks_by_offset(&self, offset: u64) -> u64 {
        self.replicas()
            .filter(|(_, p)| p.state == ReplicaSyncState::Online && p.ack_offset >= offset)
            .count() as u64
    }

    /// Redis's `processClientsWaitingReplicas`, once per event-loop pass: every WAIT whose
    /// offset enough replicas have now acknowledged gets its count and is unblocked. The
    /// last count found is reused for a later waiter asking for no more (an offset and a
    /// number of replicas not above it), without counting again, as Redis does.
    pub(crate) fn process_clients_waiting_replicas(&mut self) {
        let mut last: Option<(u64, u64)> = None;
        for conn in self.clients_waiting_acks.clone() {
            let Some(block) = self.clients.get(&conn).and_then(|c| c.blocked.clone()) else {
                continue;
            };
            let satisfied = match last {
                Some((offset, acked))
                    if offset >= block.offset && acked as i64 >= block.numreplicas =>
                {
                    Some(acked)
                }
                _ => {
                    let acked = self.count_acks_by_offset(block.offset);
                    (acked as i64 >= block.numreplicas).then(|| {
                        last = Some((block.offset, acked));
                        acked
                    })
                }
            };
            if let Some(acked) = satisfied {
                self.send(conn, reply::integer(acked as i64));
                self.unblock_client(conn);
            }
        }
    }

    /// `REPLCONF GETACK *` to every replica, in the stream's current db (no SELECT): the
    /// replicas answer with an ACK at once, which is what a blocked WAIT needs. Its 37
    /// bytes count in the offset like any other stream bytes.
    pub(crate) fn send_getack_to_replicas(&mut self) {
        self.feed_in_stream_db(&[b"REPLCONF".to_vec(), b"GETACK".to_vec(), b"*".to_vec()]);
    }

    /// The master half of Redis's once-a-second `replicationCron`.
    pub(crate) fn master_cron(&mut self) {
        let has_replicas = self.has_replicas();
        // PING replicas every repl-ping-replica-period seconds, counted in cron runs as
        // Redis does, so they can tell a quiet master from a dead link. Lower case, as
        // Redis's shared "ping" object spells it: the bytes a replica forwards and keeps
        // in its backlog are the same whichever server is the master.
        let period = self.config.repl_ping_replica_period.max(1);
        // Not while a failover pauses writes: the target must be able to catch up.
        let failing_over = self.repl.failover.is_some() && self.clients_paused();
        if has_replicas
            && self.repl_cron_loops().is_multiple_of(period)
            && self.repl.link.is_none()
            && !failing_over
        {
            self.feed_in_stream_db(&[b"ping".to_vec()]);
        }
        // Replicas waiting for a BGSAVE to start, or for a child writing to disk, get a
        // bare newline so their read timeout does not fire while we wait.
        let disk_child = self.child.as_ref().is_some_and(|c| !c.to_sockets);
        let keepalive: Vec<ConnId> = self
            .replicas()
            .filter(|(_, p)| {
                p.state == ReplicaSyncState::WaitBgsaveStart
                    || (p.state == ReplicaSyncState::WaitBgsaveEnd && disk_child)
            })
            .map(|(c, _)| c.conn)
            .collect();
        for conn in keepalive {
            self.send(conn, b"\n".to_vec());
        }
        // Replicas that stopped ACKing for repl-timeout seconds are dropped.
        let now_secs = self.now / 1000;
        let timeout = self.config.repl_timeout;
        // And, only while a diskless child runs, those stuck on its pipe as long: a
        // replica stuck on a disk snapshot does not hold up the child, one on the pipe does.
        let pipe = self.child.as_ref().is_some_and(|c| c.to_sockets);
        let timed_out: Vec<(ConnId, &str, String)> = self
            .replicas()
            .filter_map(|(c, p)| {
                let how = if p.state == ReplicaSyncState::Online
                    && !p.pre_psync
                    && now_secs.saturating_sub(p.ack_time / 1000) > timeout
                {
                    "streaming"
                } else if pipe
                    && p.state == ReplicaSyncState::WaitBgsaveEnd
                    && p.last_partial_write != 0
                    && now_secs.saturating_sub(p.last_partial_write) > timeout
                {
                    "full"
                } else {
                    return None;
                };
                Some((c.conn, how, replica_name(c)))
            })
            .collect();
        for (conn, how, name) in timed_out {
            self.log(format!(
                "Disconnecting timedout replica ({how} sync): {name}"
            ));
            self.close_conn(conn);
        }
        // Free the backlog of a master that has had no replica for repl-backlog-ttl.
        if self.repl.link.is_none() && self.repl.backlog.is_some() && !has_replicas {
            if let Some(since) = self.repl.no_replicas_since {
                if self.config.repl_backlog_ttl > 0
                    && now_secs.saturating_sub(since / 1000) > self.config.repl_backlog_ttl
                {
                    // Nobody can PSYNC with the old history any more: start a new one.
                    self.repl.replid = self.ids.hex(40);
                    self.repl.clear_replid2();
                    self.repl.backlog = None;
                    let ttl = self.config.repl_backlog_ttl;
                    self.log(format!(
                        "Replication backlog freed after {ttl} seconds without connected replicas."
                    ));
                }
            }
        }
        self.start_pending_fork();
        // Last thing of Redis's replicationCron.
        self.refresh_good_replicas_count(None);
    }
}

/// Where each of the pieces Redis's `replicationFeedSlaves` feeds separately ends, for a
/// command encoded in RESP (as [`encode_command`] writes it) that starts at `at`:
/// `*<argc>\r\n`, and per argument `$<len>\r\n`, the argument, `\r\n`.
fn resp_piece_ends(command: &[u8], at: usize, ends: &mut Vec<usize>) {
    let header_end = |from: usize| -> (usize, usize) {
        let cr = from
            + command[from..]
                .iter()
                .position(|&b| b == b'\r')
                .expect("an encoded command");
        let n = std::str::from_utf8(&command[from + 1..cr])
            .ok()
            .and_then(|t| t.parse().ok())
            .expect("an encoded command");
        (n, cr + 2)
    };
    let (argc, mut i) = header_end(0);
    ends.push(at + i);
    for _ in 0..argc {
        let (len, data) = header_end(i);
        ends.push(at + data);
        ends.push(at + data + len);
        i = data + len + 2;
        ends.push(at + i);
    }
}

/// The commands the command being executed propagates, encoded as they are queued
/// (Redis's `alsoPropagate` list), fed to the stream once it completes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Propagation {
    bytes: Vec<u8>,
    /// Per command: its db, and where its bytes end.
    commands: Vec<(usize, usize)>,
}

impl Propagation {
    pub(crate) fn push<A: AsRef<[u8]>>(&mut self, db: usize, argv: &[A]) {
        crate::engine::resp::push_header(&mut self.bytes, b'*', argv.len());
        for arg in argv {
            let arg = arg.as_ref();
            crate::engine::resp::push_header(&mut self.bytes, b'$', arg.len());
            self.bytes.extend_from_slice(arg);
            self.bytes.extend_from_slice(b"\r\n");
        }
        self.commands.push((db, self.bytes.len()));
    }

    pub(crate) fn len(&self) -> usize {
        self.commands.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    pub(crate) fn first_db(&self) -> Option<usize> {
        self.commands.first().map(|c| c.0)
    }

    pub(crate) fn last_db(&self) -> Option<usize> {
        self.commands.last().map(|c| c.0)
    }

    /// Each command: its db and its bytes.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, &[u8])> {
        let mut from = 0;
        self.commands.iter().map(move |&(db, end)| {
            let start = from;
            from = end;
            (db, &self.bytes[start..end])
        })
    }

    pub(crate) fn clear(&mut self) {
        self.bytes.clear();
        self.commands.clear();
    }
}

#[cfg(test)]
mod piece_tests {
    use super::*;

    #[test]
    fn piece_ends_are_the_feeds_redis_makes() {
        let argv: [&[u8]; 3] = [b"SET", b"key:12345678901", b""];
        let cmd = encode_command(&argv);
        let mut ends = Vec::new();
        resp_piece_ends(&cmd, 7, &mut ends);
        // *3\r\n | $3\r\n | SET | \r\n | $15\r\n | key:12345678901 | \r\n | $0\r\n | | \r\n
        assert_eq!(ends, [4, 8, 11, 13, 18, 33, 35, 39, 39, 41].map(|e| e + 7));
        assert_eq!(*ends.last().unwrap(), cmd.len() + 7);
    }
}
