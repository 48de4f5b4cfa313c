//! The replica's side: REPLICAOF, the handshake state machine, loading the snapshot,
//! applying and forwarding the stream, ACKs, timeouts and reconnection.

use super::{CachedMaster, SyncProtocol};
use crate::engine::c_string::{c_str, c_strtoll};
use crate::engine::rdb;
use crate::engine::resp::encode_command;
use crate::engine::{Client, ClientRole, ConnId, Event, Node, PeerAddr, Role};

/// `receiveSynchronousResponse` reads each handshake reply (PING, AUTH, REPLCONF, PSYNC)
/// with `connSyncReadLine` into a 256-byte buffer: at most 255 bytes make one reply, and
/// the rest of a longer line is read as the next reply.
const HANDSHAKE_LINE_MAX: usize = 255;

/// `readSyncBulkPayload` reads the `$<len>` or `$EOF:<mark>` line into a 1024-byte
/// buffer: at most 1023 bytes, the rest of a longer line is payload.
const BULK_HEADER_LINE_MAX: usize = 1023;

/// Redis formats a log message into `LOG_MAX_LEN` (1024) bytes: a line quoting what a
/// master sent is cut at 1023.
const LOG_MESSAGE_MAX: usize = 1023;

/// `CONFIG_RUN_ID_SIZE`: a replication id is exactly 40 characters.
const REPLID_LEN: usize = 40;

/// The most snapshot payload a replica keeps while it arrives. Redis writes it to a
/// temporary file and fails the transfer when the disk is full; here it is held in memory,
/// so this is that disk, and a master that sends more (an endless `$EOF:` payload, a
/// `$<len>` larger than this) fails the transfer the same way.
pub const SYNC_PAYLOAD_MAX_BYTES: usize = 512 * 1024 * 1024;

/// Where a replica stands with its master. The names follow Redis's `REPL_STATE_*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Must connect (at once after REPLICAOF, then from the once-a-second cron).
    Connect,
    /// TCP connect in progress.
    Connecting,
    ReceivePingReply,
    /// Replies to the burst of AUTH / REPLCONF listening-port / ip-address / capa, in order.
    ReceiveHandshakeReplies {
        pending: Vec<HandshakeStep>,
    },
    ReceivePsyncReply,
    /// Receiving the snapshot payload.
    Transfer(Transfer),
    Connected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeStep {
    Auth,
    Port,
    Ip,
    Capa,
}

/// The step names the UI and `ROLE` show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkStateName {
    Connect,
    Connecting,
    ReceivePingReply,
    ReceiveAuthReply,
    ReceivePortReply,
    ReceiveIpReply,
    ReceiveCapaReply,
    ReceivePsyncReply,
    Transfer,
    Connected,
}

impl LinkStateName {
    /// The state word of `ROLE` on a replica.
    pub fn role_word(self) -> &'static str {
        match self {
            LinkStateName::Connect => "connect",
            LinkStateName::Connecting => "connecting",
            LinkStateName::Transfer => "sync",
            LinkStateName::Connected => "connected",
            _ => "handshake",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub master_replid: String,
    pub initial_offset: i64,
    /// Declared payload size (Redis's `repl_transfer_size`, `strtol` of the `$<len>` line, so
    /// it may be 0 or negative); `None` before the header, `Some(0)` for EOF-marked.
    pub size: Option<i64>,
    pub eof_mark: Option<Vec<u8>>,
    pub payload: Vec<u8>,
    /// From a legacy SYNC (no +FULLRESYNC: the offset is unknown).
    pub legacy: bool,
}

/// This node's link to its master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterLink {
    pub host: String,
    pub port: u16,
    pub state: LinkState,
    /// The connection while connecting / in handshake / transferring / connected.
    pub conn: Option<ConnId>,
    /// Reply bytes of the handshake; those before `inbox_read` are consumed. Lines are taken
    /// by moving the cursor, and the consumed bytes are dropped once per delivery: dropping
    /// them line by line moved the rest of the buffer each time (quadratic in a chunk of
    /// many short lines).
    inbox: Vec<u8>,
    inbox_read: usize,
    /// Offset of the last stream byte applied (`slave_repl_offset`).
    pub reploff: u64,
    /// When we last heard from the master (unix ms).
    pub last_io: u64,
    pub down_since: Option<u64>,
    /// Unix second of the last newline sent to the master while loading a snapshot
    /// (Redis sends at most one per second).
    last_newline_sec: u64,
    /// We synced with SYNC (Redis flags such a master client `CLIENT_PRE_PSYNC`): the
    /// stream has no offsets the master tracks, so we send it no periodic ACKs.
    pub pre_psync: bool,
}

impl MasterLink {
    fn clear_inbox(&mut self) {
        self.inbox.clear();
        self.inbox_read = 0;
    }

    /// The unread bytes of the inbox, which is left empty.
    fn take_inbox(&mut self) -> Vec<u8> {
        let mut rest = std::mem::take(&mut self.inbox);
        rest.drain(..self.inbox_read);
        self.inbox_read = 0;
        rest
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.state, LinkState::Connected)
    }

    pub fn state_name(&self) -> LinkStateName {
        match &self.state {
            LinkState::Connect => LinkStateName::Connect,
            LinkState::Connecting => LinkStateName::Connecting,
            LinkState::ReceivePingReply => LinkStateName::ReceivePingReply,
            LinkState::ReceiveHandshakeReplies { pending } => match pending.first() {
                Some(HandshakeStep::Auth) => LinkStateName::ReceiveAuthReply,
                Some(HandshakeStep::Port) => LinkStateName::ReceivePortReply,
                Some(HandshakeStep::Ip) => LinkStateName::ReceiveIpReply,
                _ => LinkStateName::ReceiveCapaReply,
            },
            LinkState::ReceivePsyncReply => LinkStateName::ReceivePsyncReply,
            LinkState::Transfer(_) => LinkStateName::Transfer,
            LinkState::Connected => LinkStateName::Connected,
        }
    }

    /// `(total, read)` bytes of a snapshot transfer in progress (total -1 before the header).
    pub fn transfer_progress(&self) -> Option<(i64, usize)> {
        match &self.state {
            LinkState::Transfer(t) => Some((t.size.unwrap_or(-1), t.payload.len())),
            _ => None,
        }
    }
}

/// What the master sent, for a log line (Redis prints the bytes as they are).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A replication id the master announced, `CONFIG_RUN_ID_SIZE` bytes. Redis keeps the bytes
/// as they are; a byte that is not printable ASCII is kept as `?` here, so the id stays 40
/// one-byte characters wherever it is shown or cut.
fn replid_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect()
}

/// Appends arriving payload bytes, as Redis writes them to its temporary file: past
/// [`SYNC_PAYLOAD_MAX_BYTES`] the "disk" is full, and memory that cannot be had fails the
/// same way instead of aborting.
fn push_payload(payload: &mut Vec<u8>, bytes: &[u8]) -> Result<(), &'static str> {
    if payload.len().saturating_add(bytes.len()) > SYNC_PAYLOAD_MAX_BYTES {
        return Err("No space left on device");
    }
    payload
        .try_reserve(bytes.len())
        .map_err(|_| "Cannot allocate memory")?;
    payload.extend_from_slice(bytes);
    Ok(())
}

enum Step {
    /// Keep going with the bytes that are left.
    Continue,
    /// Need more bytes.
    Wait,
    /// The handshake failed: drop the connection and retry from the cron.
    Fail,
}

impl Node {
    /// REPLICAOF host port (also `replicaof` in the config at start).
    pub(crate) fn set_master(&mut self, host: String, port: u16) {
        let was_master = self.repl.link.is_none();
        if let Some(conn) = self.repl.link.as_ref().and_then(|l| l.conn) {
            if self.clients.contains_key(&conn) {
                // Freeing a connected master caches it: we may continue with the new
                // master if it shares our history. Redis forgets the old host first, so
                // it does not reconnect to it: the link lets go of the connection first.
                if let Some(link) = self.repl.link.as_mut() {
                    link.conn = None;
                }
                self.close_conn(conn);
            } else {
                // A handshake or transfer in progress is simply abandoned.
                self.close_output(conn);
            }
        }
        // Our own replicas stay connected: they may be able to continue with us.
        let protocol = self.config.sync_protocol;
        if was_master && protocol != SyncProtocol::Psync2 {
            // Before PSYNC2 a master turned into a replica had nothing to offer: its
            // history was named by its own run id, which no other server continues.
            self.repl.cached_master = None;
            self.log(format!(
                "replscope-sync-protocol is '{}': a former master has no cached master to offer (only PSYNC2 lets it offer its own history), so the new master will send a full snapshot.",
                protocol.name()
            ));
            self.emit(Event::Role {
                role: Role::Replica,
            });
        } else if was_master {
            self.repl.cached_master = None;
            self.log(
                "Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.",
            );
            self.repl.cached_master = Some(CachedMaster {
                replid: self.repl.replid.clone(),
                reploff: self.repl.master_repl_offset,
                db: self.repl.stream_db.unwrap_or(0),
            });
            self.emit(Event::Role {
                role: Role::Replica,
            });
        }
        let reploff = self
            .repl
            .cached_master
            .as_ref()
            .map_or(self.repl.master_repl_offset, |c| c.reploff);
        // Switching masters keeps the time the previous link went down.
        let down_since = self.repl.link.as_ref().and_then(|l| l.down_since);
        self.repl.link = Some(MasterLink {
            host,
            port,
            state: LinkState::Connect,
            conn: None,
            inbox: Vec::new(),
            inbox_read: 0,
            reploff,
            last_io: self.now,
            down_since,
            last_newline_sec: 0,
            pre_psync: false,
        });
        self.connect_to_master();
    }

    /// REPLICAOF NO ONE.
    pub(crate) fn unset_master(&mut self) {
        let Some(link) = self.repl.link.take() else {
            return;
        };
        if let Some(conn) = link.conn {
            self.clients.remove(&conn);
            self.close_output(conn);
        }
        self.repl.cached_master = None;
        if self.config.sync_protocol == SyncProtocol::Psync1 {
            // PSYNC1 keeps no second id: from now on the history is named by our own run
            // id, which none of our former siblings knows. What PSYNC2 would have kept is
            // remembered only to explain their full resyncs.
            let former = std::mem::replace(&mut self.repl.replid, self.run_id.clone());
            let limit = self.repl.master_repl_offset as i64 + 1;
            self.repl.clear_replid2();
            self.log(format!(
                "PSYNC1: no secondary replication ID is kept; my history is now named by my run ID {}. Replicas of '{former}' must resync fully (PSYNC2 would keep it as replid2, valid up to offset {limit}).",
                self.run_id
            ));
            self.repl.psync1_forgotten_replid2 = Some((former, limit));
        } else {
            // Keep our history reachable as replid2: former siblings that follow us now can
            // continue partially with the id they know, up to the offset we reached.
            self.repl.replid2 = std::mem::replace(&mut self.repl.replid, self.ids.hex(40));
            self.repl.second_repl_offset = self.repl.master_repl_offset as i64 + 1;
            let (r1, r2, off) = (
                self.repl.replid.clone(),
                self.repl.replid2.clone(),
                self.repl.second_repl_offset,
            );
            self.log(format!("Setting secondary replication ID to {r2}, valid up to offset: {off}. New replication ID is {r1}"));
        }
        // Our replicas must learn the new id: drop them, they come back with PSYNC.
        self.disconnect_replicas();
        self.repl.stream_db = None;
        self.repl.no_replicas_since = Some(self.now);
        self.emit(Event::Role { role: Role::Master });
    }

    fn set_link_state(&mut self, state: LinkState) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        let before = link.state_name();
        link.state = state;
        let after = link.state_name();
        if before != after {
            self.emit(Event::LinkState { state: after });
        }
    }

    /// What REPLICAOF and the replication cron do: say so, then connect.
    fn connect_to_master(&mut self) {
        if let Some(link) = &self.repl.link {
            let (host, port) = (link.host.clone(), link.port);
            self.log(format!("Connecting to MASTER {host}:{port}"));
        }
        self.connect_with_master();
    }

    /// Redis's connectWithMaster: a new non-blocking connect.
    fn connect_with_master(&mut self) {
        let conn = self.alloc_conn();
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        link.conn = Some(conn);
        link.clear_inbox();
        link.last_io = self.now;
        let (host, port) = (link.host.clone(), link.port);
        self.request_connect(conn, host, port);
        self.set_link_state(LinkState::Connecting);
        self.log("MASTER <-> REPLICA sync started");
    }

    fn link_conn_is(&self, conn: ConnId) -> bool {
        self.repl
            .link
            .as_ref()
            .is_some_and(|l| l.conn == Some(conn))
    }

    pub(crate) fn on_master_connected(&mut self, conn: ConnId) {
        if !self.link_conn_is(conn)
            || self.repl.link.as_ref().map(|l| &l.state) != Some(&LinkState::Connecting)
        {
            // A connection we gave up on came through after all.
            self.close_output(conn);
            return;
        }
        self.log("Non blocking connect for SYNC fired the event.");
        self.send(conn, encode_command(&[b"PING"]));
        self.set_link_state(LinkState::ReceivePingReply);
    }

    pub(crate) fn on_master_connect_failed(&mut self, conn: ConnId, reason: &str) {
        if !self.link_conn_is(conn) {
            return;
        }
        self.log(format!("Error condition on socket for SYNC: {reason}"));
        self.handshake_failed();
    }

    /// The handshake connection closed (before the link became a client).
    pub(crate) fn on_handshake_conn_closed(&mut self, conn: ConnId) {
        if !self.link_conn_is(conn) {
            return;
        }
        let in_transfer = matches!(
            self.repl.link.as_ref().map(|l| &l.state),
            Some(LinkState::Transfer(_))
        );
        if in_transfer {
            self.log("I/O error trying to sync with MASTER: connection lost");
        } else {
            self.log("Master closed the connection during the handshake");
        }
        if let Some(link) = self.repl.link.as_mut() {
            link.conn = None;
        }
        self.handshake_failed();
        if in_transfer {
            // readSyncBulkPayload gives up with cancelReplicationHandshake(1): the next
            // attempt starts at once, not at the next cron. The cached master is still
            // there (only a complete payload replaces it), so it asks the same PSYNC.
            self.reconnect_after_failure();
        }
    }

    /// Abandons the current attempt; the replication cron retries within a second.
    fn handshake_failed(&mut self) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        if let Some(conn) = link.conn.take() {
            self.close_output(conn);
        }
        self.set_link_state(LinkState::Connect);
        // The link is not "down since" a failed attempt: Redis counts that from the loss
        // of a connected master only (master_link_down_since_seconds stays -1 before).
        if let Some(link) = self.repl.link.as_mut() {
            link.clear_inbox();
        }
    }

    /// Bytes on the handshake connection (replies to PING/AUTH/REPLCONF/PSYNC, payload).
    pub(crate) fn on_handshake_bytes(&mut self, conn: ConnId, data: &[u8]) {
        if !self.link_conn_is(conn) {
            return;
        }
        let now = self.now;
        if let Some(link) = self.repl.link.as_mut() {
            link.inbox.extend_from_slice(data);
            link.last_io = now;
        }
        loop {
            // The snapshot received so far moves out of the state rather than being
            // copied: cloning it on every chunk made loading a large payload quadratic.
            let state = self.repl.link.as_mut().map(|l| match &mut l.state {
                LinkState::Transfer(t) => {
                    let payload = std::mem::take(&mut t.payload);
                    LinkState::Transfer(Transfer {
                        payload,
                        ..t.clone()
                    })
                }
                other => other.clone(),
            });
            let in_transfer = matches!(state, Some(LinkState::Transfer(_)));
            let step = match state {
                Some(LinkState::ReceivePingReply) => self.on_ping_reply(conn),
                Some(LinkState::ReceiveHandshakeReplies { pending }) => {
                    self.on_handshake_reply(conn, pending)
                }
                Some(LinkState::ReceivePsyncReply) => self.on_psync_reply(conn),
                Some(LinkState::Transfer(t)) => self.on_transfer_bytes(conn, t),
                _ => {
                    // No reply is read in this state (Redis has no read handler on the
                    // connection then): the bytes are not kept.
                    if let Some(link) = self.repl.link.as_mut() {
                        link.clear_inbox();
                    }
                    Step::Wait
                }
            };
            match step {
                Step::Continue => continue,
                Step::Wait => break,
                Step::Fail => {
                    self.handshake_failed();
                    if in_transfer {
                        // An error while reading the payload (readSyncBulkPayload's
                        // `goto error`) retries at once too; a failed handshake step
                        // (syncWithMaster's) waits for the cron.
                        self.reconnect_after_failure();
                    }
                    break;
                }
            }
        }
        if let Some(link) = self.repl.link.as_mut() {
            let read = std::mem::take(&mut link.inbox_read);
            link.inbox.drain(..read);
        }
    }

    /// One reply line as `connSyncReadLine` reads it into a buffer of `max + 1` bytes: up to
    /// its `\n`, without it and a `\r` before it, or else the first `max` bytes of a longer
    /// line (the rest is the next line). Like the C string it becomes, it ends at a NUL.
    /// `None` while neither a `\n` nor `max` bytes are here. Looks at no more than `max`
    /// bytes, so an endless line costs the same per byte however long it grows.
    fn take_line(&mut self, max: usize) -> Option<Vec<u8>> {
        let link = self.repl.link.as_mut()?;
        let unread = &link.inbox[link.inbox_read..];
        let window = &unread[..unread.len().min(max)];
        let (line, used) = match window.iter().position(|&b| b == b'\n') {
            Some(nl) => (
                window[..nl].strip_suffix(b"\r").unwrap_or(&window[..nl]),
                nl + 1,
            ),
            None if window.len() == max => (window, max),
            None => return None,
        };
        let line = c_str(line).to_vec();
        link.inbox_read += used;
        Some(line)
    }

    /// Logs a line that quotes what the master sent, cut as Redis's `LOG_MAX_LEN` cuts it.
    fn log_quoting_master(&mut self, mut message: String) {
        if message.len() > LOG_MESSAGE_MAX {
            let mut end = LOG_MESSAGE_MAX;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        self.log(message);
    }

    fn on_ping_reply(&mut self, conn: ConnId) -> Step {
        let Some(line) = self.take_line(HANDSHAKE_LINE_MAX) else {
            return Step::Wait;
        };
        // A `+` reply or an auth error is fine (AUTH follows); anything else, an empty line
        // included, ends the attempt.
        if !line.starts_with(b"+")
            && !line.starts_with(b"-NOAUTH")
            && !line.starts_with(b"-NOPERM")
            && !line.starts_with(b"-ERR operation not permitted")
        {
            self.log_quoting_master(format!(
                "Error reply to PING from master: '{}'",
                text(&line)
            ));
            return Step::Fail;
        }
        self.log("Master replied to PING, replication can continue...");
        // AUTH and the REPLCONFs go out together; their replies are read in order.
        let mut burst = Vec::new();
        let mut pending = Vec::new();
        if let Some(pass) = self.config.masterauth.clone() {
            match self.config.masteruser.clone() {
                Some(user) => burst.extend(encode_command(&[b"AUTH", &user, &pass])),
                None => burst.extend(encode_command(&[b"AUTH", &pass])),
            }
            pending.push(HandshakeStep::Auth);
        }
        let port = if self.config.replica_announce_port != 0 {
            self.config.replica_announce_port
        } else {
            self.config.port
        };
        // Redis 2.4 and 2.6 already announced their port; a SYNC-only replica says
        // nothing else about itself (no announced ip, no capabilities).
        burst.extend(encode_command(&[
            b"REPLCONF",
            b"listening-port",
            port.to_string().as_bytes(),
        ]));
        pending.push(HandshakeStep::Port);
        let protocol = self.config.sync_protocol;
        if protocol != SyncProtocol::Sync {
            if let Some(ip) = self.config.replica_announce_ip.clone() {
                burst.extend(encode_command(&[b"REPLCONF", b"ip-address", ip.as_bytes()]));
                pending.push(HandshakeStep::Ip);
            }
            if protocol == SyncProtocol::Psync1 {
                // 3.0-3.2 knew diskless payloads, but not `+CONTINUE <new id>`.
                burst.extend(encode_command(&[b"REPLCONF", b"capa", b"eof"]));
            } else {
                burst.extend(encode_command(&[
                    b"REPLCONF",
                    b"capa",
                    b"eof",
                    b"capa",
                    b"psync2",
                ]));
            }
            pending.push(HandshakeStep::Capa);
        }
        self.send(conn, burst);
        self.set_link_state(LinkState::ReceiveHandshakeReplies { pending });
        Step::Continue
    }

    fn on_handshake_reply(&mut self, conn: ConnId, mut pending: Vec<HandshakeStep>) -> Step {
        let Some(line) = self.take_line(HANDSHAKE_LINE_MAX) else {
            return Step::Wait;
        };
        let step = pending.remove(0);
        if line.starts_with(b"-") {
            // Redis quotes the whole reply, its `-` included.
            let err = text(&line);
            match step {
                HandshakeStep::Auth => {
                    self.log(format!("Unable to AUTH to MASTER: {err}"));
                    return Step::Fail;
                }
                HandshakeStep::Port => self.log(format!(
                    "(Non critical) Master does not understand REPLCONF listening-port: {err}"
                )),
                HandshakeStep::Ip => self.log(format!(
                    "(Non critical) Master does not understand REPLCONF ip-address: {err}"
                )),
                HandshakeStep::Capa => self.log(format!(
                    "(Non critical) Master does not understand REPLCONF capa: {err}"
                )),
            }
        }
        if !pending.is_empty() {
            self.set_link_state(LinkState::ReceiveHandshakeReplies { pending });
            return Step::Continue;
        }
        self.send_psync(conn);
        Step::Continue
    }

    fn send_psync(&mut self, conn: ConnId) {
        if self.config.sync_protocol == SyncProtocol::Sync {
            // Before 2.8 there was nothing to continue: no id, no offset. The master answers
            // with the snapshot itself, no `+FULLRESYNC` line.
            self.repl.cached_master = None;
            self.log("replscope-sync-protocol is 'sync': asking for the whole dataset with SYNC, as Redis before 2.8 did (no PSYNC: a replica cannot continue where it left off)");
            self.send(conn, encode_command(&[b"SYNC"]));
            self.begin_transfer(String::new(), -1, true);
            return;
        }
        let (replid, offset) = match self.repl.cached_master.clone() {
            Some(cached) => {
                let off = cached.reploff as i64 + 1;
                self.log(format!(
                    "Trying a partial resynchronization (request {}:{off}).",
                    cached.replid
                ));
                (cached.replid.clone(), off)
            }
            None => {
                self.log("Partial resynchronization not possible (no cached master)");
                ("?".to_string(), -1)
            }
        };
        let offset = offset.to_string();
        // A master failing over asks its target to take over with this very PSYNC.
        let psync: &[&[u8]] = if self.failover_in_progress() {
            &[b"PSYNC", replid.as_bytes(), offset.as_bytes(), b"FAILOVER"]
        } else {
            &[b"PSYNC", replid.as_bytes(), offset.as_bytes()]
        };
        self.send(conn, encode_command(psync));
        self.set_link_state(LinkState::ReceivePsyncReply);
    }

    fn on_psync_reply(&mut self, conn: ConnId) -> Step {
        let Some(line) = self.take_line(HANDSHAKE_LINE_MAX) else {
            return Step::Wait;
        };
        if line.is_empty() {
            // The master keeps the connection alive with newlines while it prepares.
            return Step::Continue;
        }
        if line.starts_with(b"+FULLRESYNC") {
            // The id is what lies between the line's first space and the next one, and must
            // be exactly CONFIG_RUN_ID_SIZE long; the offset is strtoll of the rest.
            let fields = line.iter().position(|&b| b == b' ').and_then(|sp| {
                let rest = &line[sp + 1..];
                rest.iter()
                    .position(|&b| b == b' ')
                    .map(|sp2| (&rest[..sp2], &rest[sp2 + 1..]))
            });
            match fields {
                Some((replid, offset)) if replid.len() == REPLID_LEN => {
                    let (replid, offset) = (replid_text(replid), c_strtoll(offset));
                    self.log(format!("Full resync from master: {replid}:{offset}"));
                    // The cached master stays until the whole payload is here (Redis's
                    // replicationAttachToNewMaster): INFO shows its offsets during the
                    // transfer, and a transfer that fails leaves it to PSYNC with again.
                    self.begin_transfer(replid, offset, false);
                }
                _ => {
                    // Redis blanks the master's id "to make sure next PSYNCs will fail" and
                    // still reads the payload; its initial offset stays the -1 it set when
                    // it sent PSYNC.
                    self.log("Master replied with wrong +FULLRESYNC syntax.");
                    self.begin_transfer(String::new(), -1, false);
                }
            }
            self.failover_psync_accepted();
            return Step::Continue;
        }
        if line.starts_with(b"+CONTINUE") {
            self.log("Successful partial resynchronization with master.");
            // A new id is the 40 bytes after `+CONTINUE ` when the line ends right there
            // (Redis scans to the first `\r`); anything else is not an id, and is ignored.
            let tail = &line[9..];
            let end = tail.iter().position(|&b| b == b'\r').unwrap_or(tail.len());
            let new_id = if end == REPLID_LEN + 1 {
                replid_text(&tail[1..end])
            } else {
                String::new()
            };
            self.resurrect_cached_master(conn, new_id);
            self.log("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            self.failover_psync_accepted();
            return Step::Continue;
        }
        let reply = text(&line);
        if line.starts_with(b"-NOMASTERLINK") || line.starts_with(b"-LOADING") {
            self.log_quoting_master(format!(
                "Master is currently unable to PSYNC but should be in the future: {reply}"
            ));
            if self.failover_psync_rejected() {
                return Step::Wait;
            }
            return Step::Fail;
        }
        if line.starts_with(b"-") {
            // A master older than 2.8 does not know PSYNC: fall back to SYNC.
            if line.starts_with(b"-ERR") {
                self.log_quoting_master(format!(
                    "Master does not support PSYNC or is in error state (reply: {reply})"
                ));
            } else {
                self.log_quoting_master(format!("Unexpected reply to PSYNC from master: {reply}"));
            }
            if self.failover_psync_rejected() {
                return Step::Wait;
            }
            self.log("Retrying with SYNC...");
            self.send(conn, b"SYNC\r\n".to_vec());
            self.repl.cached_master = None;
            self.begin_transfer(String::new(), -1, true);
            return Step::Continue;
        }
        // Redis treats any other reply as a master that does not know PSYNC either.
        self.log_quoting_master(format!("Unexpected reply to PSYNC from master: {reply}"));
        if self.failover_psync_rejected() {
            return Step::Wait;
        }
        self.log("Retrying with SYNC...");
        self.send(conn, b"SYNC\r\n".to_vec());
        self.repl.cached_master = None;
        self.begin_transfer(String::new(), -1, true);
        Step::Continue
    }

    fn begin_transfer(&mut self, master_replid: String, initial_offset: i64, legacy: bool) {
        self.set_link_state(LinkState::Transfer(Transfer {
            master_replid,
            initial_offset,
            size: None,
            eof_mark: None,
            payload: Vec::new(),
            legacy,
        }));
    }

    fn on_transfer_bytes(&mut self, conn: ConnId, mut t: Transfer) -> Step {
        let Some(size) = t.size else {
            let Some(line) = self.take_line(BULK_HEADER_LINE_MAX) else {
                return Step::Wait;
            };
            if line.is_empty() {
                return Step::Continue; // keepalive newline
            }
            if let Some(err) = line.strip_prefix(b"-") {
                self.log_quoting_master(format!(
                    "MASTER aborted replication with an error: {}",
                    text(err)
                ));
                return Step::Fail;
            }
            let Some(rest) = line.strip_prefix(b"$") else {
                self.log_quoting_master(format!(
                    "Bad protocol from MASTER, the first byte is not '$' (we received '{}'), are you sure the host and port are right?",
                    text(&line)
                ));
                return Step::Fail;
            };
            if rest.starts_with(b"EOF:") && rest.len() - 4 >= REPLID_LEN {
                t.eof_mark = Some(rest[4..4 + REPLID_LEN].to_vec());
                t.size = Some(0);
                self.log(
                    "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk",
                );
            } else {
                // strtol: no digits read as 0 (a short `$EOF:` mark too), and an absurd
                // length saturates. Nothing is allocated for it.
                let n = c_strtoll(rest);
                t.size = Some(n);
                self.log(format!(
                    "MASTER <-> REPLICA sync: receiving {n} bytes from master to disk"
                ));
            }
            self.set_link_state(LinkState::Transfer(t));
            return Step::Continue;
        };
        let Some(link) = self.repl.link.as_mut() else {
            return Step::Wait;
        };
        let inbox = link.take_inbox();
        if inbox.is_empty() {
            self.set_link_state(LinkState::Transfer(t));
            return Step::Wait;
        }
        let (done, leftover) = if let Some(mark) = t.eof_mark.clone() {
            if let Err(e) = push_payload(&mut t.payload, &inbox) {
                return self.payload_write_failed(e);
            }
            if t.payload.ends_with(&mark) {
                let n = t.payload.len() - mark.len();
                t.payload.truncate(n);
                (true, Vec::new())
            } else {
                (false, Vec::new())
            }
        } else if size < 0 {
            // Redis reads `size - read` bytes: a negative count fails read(2) with EFAULT.
            self.log("I/O error trying to sync with MASTER: Bad address");
            return Step::Fail;
        } else if size == 0 {
            // A read of 0 bytes reads nothing: the transfer never completes and ends at
            // repl-timeout. The bytes would stay in the socket; they are not kept.
            (false, Vec::new())
        } else {
            let need = (size as u64).saturating_sub(t.payload.len() as u64);
            let take = usize::try_from(need).unwrap_or(usize::MAX).min(inbox.len());
            if let Err(e) = push_payload(&mut t.payload, &inbox[..take]) {
                return self.payload_write_failed(e);
            }
            (
                t.payload.len() as u64 == size as u64,
                inbox[take..].to_vec(),
            )
        };
        if !done {
            self.set_link_state(LinkState::Transfer(t));
            return Step::Wait;
        }
        self.finish_transfer(conn, t, leftover)
    }

    /// Redis's write of the payload to its temporary file failed (`goto error`: the attempt
    /// starts over at once).
    fn payload_write_failed(&mut self, reason: &str) -> Step {
        self.log(format!(
            "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: {reason}"
        ));
        Step::Fail
    }

    fn finish_transfer(&mut self, conn: ConnId, t: Transfer, leftover: Vec<u8>) -> Step {
        // A new master's full history: our own replicas cannot continue with us, and our
        // backlog describes a history that no longer exists.
        self.repl.cached_master = None;
        self.disconnect_replicas();
        self.repl.backlog = None;
        // Flushing a non-empty dataset and loading every 2 MB of snapshot both tell the
        // master we are alive with a bare newline, at most once a second.
        if !self.keyspace.is_empty() || t.payload.len() >= 2 * 1024 * 1024 {
            self.send_loading_newline(conn);
        }
        self.log("MASTER <-> REPLICA sync: Flushing old data");
        self.keyspace.flush_all();
        self.log("MASTER <-> REPLICA sync: Loading DB in memory");
        let (load_log, result) = rdb::load(&t.payload, self.now);
        for line in load_log {
            self.log(line);
        }
        let loaded = match result {
            Ok(l) => l,
            Err(e) => return self.sync_load_failed(e),
        };
        let aux = |k: &[u8]| {
            loaded
                .aux
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        let stream_db = aux(b"repl-stream-db")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|d| *d < 16)
            .unwrap_or(0);
        self.keyspace = loaded.keyspace;
        let offset = if t.legacy {
            0
        } else {
            t.initial_offset.max(0) as u64
        };
        let replid = if t.legacy {
            self.ids.hex(40)
        } else {
            t.master_replid.clone()
        };
        self.repl.replid = replid;
        self.repl.clear_replid2();
        self.repl.master_repl_offset = offset;
        if self.config.sync_protocol == SyncProtocol::Psync1 {
            // 2.8-3.2 freed the backlog here and created one only for a replica of ours
            // that full-syncs. It must: our run id (what our replicas PSYNC with) does not
            // change with the new history, so a fresh backlog at the new offset could
            // splice it onto a replica that followed the old one.
            self.repl.backlog = None;
        } else {
            self.create_backlog();
        }
        self.repl.stream_db = None;
        self.become_connected(conn, offset, stream_db, leftover);
        if let Some(link) = self.repl.link.as_mut() {
            link.pre_psync = t.legacy;
        }
        self.log("MASTER <-> REPLICA sync: Finished with success");
        if t.eof_mark.is_some() {
            // After a diskless payload the master waits for this ACK before streaming.
            self.send_ack();
        }
        Step::Wait
    }

    /// The received snapshot did not load (Redis 7.0, `repl-diskless-load disabled`:
    /// `rdbLoad` of the file just received). The old data is gone already: it was flushed
    /// before loading, and Redis does not bring it back.
    fn sync_load_failed(&mut self, e: rdb::RdbError) -> Step {
        for line in &e.log {
            self.log(line.clone());
        }
        if e.kind == rdb::RdbErrorKind::Invalid {
            // Not an RDB file at all: rdbLoad fails with EINVAL, and the replica starts
            // the sync over at once (cancelReplicationHandshake with reconnect).
            self.log(
                "Failed trying to load the MASTER synchronization DB from disk: Invalid argument",
            );
            self.handshake_failed();
            self.reconnect_after_failure();
            return Step::Wait;
        }
        // Corrupt or truncated content: Redis, loading a file, runs redis-check-rdb on it
        // (its report goes to standard output) and exits. Data it cannot hold ends the
        // process the same way.
        self.stop();
        Step::Wait
    }

    fn send_loading_newline(&mut self, conn: ConnId) {
        let sec = self.now / 1000;
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        if link.last_newline_sec != sec {
            link.last_newline_sec = sec;
            self.send(conn, b"\n".to_vec());
        }
    }

    /// `+CONTINUE [replid]`: the cached master becomes our master again.
    fn resurrect_cached_master(&mut self, conn: ConnId, new_id: String) {
        let cached = self.repl.cached_master.take().unwrap_or(CachedMaster {
            replid: self.repl.replid.clone(),
            reploff: self.repl.master_repl_offset,
            db: 0,
        });
        if !new_id.is_empty() && new_id != cached.replid {
            // The master's history continues ours under a new name (it was promoted, or
            // follows a promoted node): remember the old name for our own replicas.
            self.repl.replid2 = cached.replid.clone();
            self.repl.second_repl_offset = self.repl.master_repl_offset as i64 + 1;
            self.repl.replid = new_id.clone();
            self.log(format!("Master replication ID changed to {new_id}"));
            self.disconnect_replicas();
        }
        if self.repl.backlog.is_none() {
            self.create_backlog();
        }
        let leftover = self
            .repl
            .link
            .as_mut()
            .map(|l| l.take_inbox())
            .unwrap_or_default();
        if let Some(link) = self.repl.link.as_mut() {
            link.pre_psync = false;
        }
        self.become_connected(conn, cached.reploff, cached.db, leftover);
    }

    fn become_connected(&mut self, conn: ConnId, reploff: u64, db: usize, leftover: Vec<u8>) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        link.reploff = reploff;
        link.down_since = None;
        link.last_io = self.now;
        link.clear_inbox();
        let peer = PeerAddr {
            ip: link.host.clone(),
            port: link.port,
        };
        let mut client = Client::new(conn, peer, self.now, true);
        client.role = ClientRole::Master;
        client.db = db;
        self.clients.insert(conn, client);
        self.set_link_state(LinkState::Connected);
        if !leftover.is_empty() {
            self.handle_master_stream(conn, &leftover);
        }
    }

    fn handle_master_stream(&mut self, conn: ConnId, data: &[u8]) {
        self.handle(
            self.now,
            crate::engine::Input::Bytes {
                conn,
                data: data.to_vec(),
            },
        );
    }

    /// The master client applied these stream bytes: advance our offset and forward the
    /// very same bytes to our backlog and our own replicas.
    pub(crate) fn master_stream_applied(&mut self, bytes: &[u8]) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        link.last_io = self.now;
        link.reploff += bytes.len() as u64;
        if self.repl.backlog.is_none() {
            // Only a PSYNC1 replica runs without a backlog (until a replica of its own
            // full-syncs): its offset still follows the stream, which is the history it
            // holds, even though no buffer keeps the bytes.
            self.repl.master_repl_offset += bytes.len() as u64;
        }
        self.feed_stream_bytes(bytes);
    }

    /// REPLCONF ACK <offset> to our master.
    pub(crate) fn send_ack(&mut self) {
        let Some(link) = &self.repl.link else { return };
        let (Some(conn), true) = (link.conn, link.is_connected()) else {
            return;
        };
        if link.pre_psync && self.config.sync_protocol == SyncProtocol::Sync {
            // A SYNC-only replica (Redis before 2.8) knows no REPLCONF ACK, not even when
            // the master asks with GETACK.
            return;
        }
        let off = link.reploff.to_string();
        self.send(conn, encode_command(&[b"REPLCONF", b"ACK", off.as_bytes()]));
    }

    /// The connected master's link broke: Redis 7.0 reconnects at once rather than at
    /// the next cron, which might find the master's backlog already moved on.
    /// (Not when REPLICAOF let go of it: the link had no connection any more.)
    pub(crate) fn on_master_lost(&mut self, client: Client) {
        let linked = self.repl.link.as_ref().is_some_and(|l| l.conn.is_some());
        self.cache_lost_master(client);
        if let (Some(link), true, false) = (&self.repl.link, linked, self.shut_down) {
            self.log(format!(
                "Reconnecting to MASTER {}:{}",
                link.host, link.port
            ));
            self.connect_with_master();
        }
    }

    /// Redis's `replicationCacheMaster`.
    fn cache_lost_master(&mut self, client: Client) {
        let Some(link) = self.repl.link.as_mut() else {
            return;
        };
        link.conn = None;
        link.down_since = Some(self.now);
        let cached = CachedMaster {
            replid: self.repl.replid.clone(),
            reploff: link.reploff,
            db: client.db,
        };
        self.log("Connection with master lost.");
        self.log("Caching the disconnected master state.");
        self.repl.cached_master = Some(cached);
        self.set_link_state(LinkState::Connect);
    }

    /// The once-a-second replication cron, in the order of Redis's `replicationCron`.
    /// Its timeouts compare whole unix seconds, as Redis does.
    pub(crate) fn replication_cron(&mut self) {
        let timeout = self.config.repl_timeout;
        let idle_secs = |node: &Node| {
            node.repl
                .link
                .as_ref()
                .map_or(0, |l| node.now / 1000 - l.last_io / 1000)
        };
        let state = self.repl.link.as_ref().map(|l| l.state_name());
        use LinkStateName as S;
        match state {
            Some(S::Connect | S::Connected | S::Transfer) | None => {}
            Some(_) if idle_secs(self) > timeout => {
                self.log("Timeout connecting to the MASTER...");
                self.handshake_failed();
                self.reconnect_after_failure();
            }
            Some(_) => {}
        }
        if state == Some(S::Transfer) && idle_secs(self) > timeout {
            self.log("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            self.handshake_failed();
            self.reconnect_after_failure();
        }
        if state == Some(S::Connected) && idle_secs(self) > timeout {
            self.log("MASTER timeout: no data nor PING received...");
            if let Some(conn) = self.repl.link.as_ref().and_then(|l| l.conn) {
                self.close_conn(conn);
            }
        }
        if self.repl.link.as_ref().map(|l| &l.state) == Some(&LinkState::Connect) {
            self.connect_to_master();
        }
        // No periodic ACKs to a master we synced with SYNC: it tracks no offset for us.
        if self
            .repl
            .link
            .as_ref()
            .is_some_and(|l| l.is_connected() && !l.pre_psync)
        {
            self.send_ack();
        }
        self.master_cron();
    }

    fn reconnect_after_failure(&mut self) {
        if let Some(link) = &self.repl.link {
            let (h, p) = (link.host.clone(), link.port);
            self.log(format!("Reconnecting to MASTER {h}:{p} after failure"));
        }
        // cancelReplicationHandshake(1) calls connectWithMaster directly: no "Connecting
        // to MASTER" line, that one is replicationCron's.
        self.connect_with_master();
    }
}

#[cfg(test)]
mod tests {
    //! A replica fed by a scripted master: what it does when the snapshot does not load.
    use crate::engine::keyspace::{Keyspace, Value};
    use crate::engine::rdb::{self, SnapshotMeta};
    use crate::engine::{Config, ConnId, Event, Input, Node, Output};

    const T: u64 = 1_700_000_000_000;

    fn drain(n: &mut Node) -> (Vec<String>, Option<ConnId>) {
        let mut logs = Vec::new();
        let mut connect = None;
        while let Some(o) = n.poll_output() {
            match o {
                Output::Event(Event::Log(line)) => logs.push(line),
                Output::Connect { conn, .. } => connect = Some(conn),
                _ => {}
            }
        }
        (logs, connect)
    }

    /// Runs the handshake on `conn` up to the PSYNC, then sends `reply` (FULLRESYNC and the
    /// payload with its framing). Returns the log lines and a new connection, if any.
    fn sync(n: &mut Node, conn: ConnId, reply: Vec<u8>) -> (Vec<String>, Option<ConnId>) {
        n.handle(T, Input::Connected { conn });
        n.handle(
            T,
            Input::Bytes {
                conn,
                data: b"+PONG\r\n".to_vec(),
            },
        );
        n.handle(
            T,
            Input::Bytes {
                conn,
                data: b"+OK\r\n+OK\r\n".to_vec(),
            },
        );
        drain(n);
        n.handle(T, Input::Bytes { conn, data: reply });
        drain(n)
    }

    fn framed(payload: &[u8], diskless: bool) -> Vec<u8> {
        let mut out = format!("+FULLRESYNC {} 0\r\n", "a".repeat(40)).into_bytes();
        let mark = "m".repeat(40);
        if diskless {
            out.extend(format!("$EOF:{mark}\r\n").into_bytes());
        } else {
            out.extend(format!("${}\r\n", payload.len()).into_bytes());
        }
        out.extend_from_slice(payload);
        if diskless {
            out.extend(mark.as_bytes());
        }
        out
    }

    fn snapshot(key: &[u8]) -> Vec<u8> {
        let mut ks = Keyspace::default();
        ks.set(0, key.to_vec(), Value::String(b"v".to_vec()), None);
        rdb::write(
            &ks,
            &SnapshotMeta {
                redis_ver: "7.0.15",
                ctime_secs: T / 1000,
                used_mem: 0,
                repl: None,
            },
            T,
        )
    }

    /// A replica that synced once (key "old") and lost its master; returns it and the
    /// connection of its next attempt.
    fn replica_with_old_data() -> (Node, ConnId) {
        let config = Config {
            replicaof: Some(("master".into(), 6379)),
            ..Config::default()
        };
        let mut n = Node::new(config, T, 7);
        let (_, conn) = drain(&mut n);
        let conn = conn.expect("the replica connects to its master");
        let (logs, _) = sync(&mut n, conn, framed(&snapshot(b"old"), false));
        assert!(
            logs.contains(&"MASTER <-> REPLICA sync: Finished with success".to_string()),
            "{logs:?}"
        );
        assert!(
            logs.contains(&"Loading RDB produced by version 7.0.15".to_string()),
            "{logs:?}"
        );
        n.handle(T, Input::Closed { conn });
        n.tick(T + 1000);
        let (_, next) = drain(&mut n);
        (n, next.expect("the replica reconnects"))
    }

    #[test]
    fn a_corrupt_or_truncated_snapshot_stops_the_replica_like_redis() {
        let good = snapshot(b"new");
        let mut flipped = good.clone();
        let at = flipped.len() - 12;
        flipped[at] ^= 0x10; // inside the value: the checksum no longer matches
        let mut bad_type = good[..good.len() - 9].to_vec();
        bad_type.extend([99, 1, b'k', 1, b'v', 0xFF]);
        let cases: [(&[u8], &[&str]); 3] = [
            (
                &good[..good.len() - 6],
                &[
                    "Short read or OOM loading DB. Unrecoverable error, aborting now.",
                    "Internal error in RDB reading offset 0, function at rdb.c:3240 -> Unexpected EOF reading RDB file",
                ],
            ),
            (&flipped, &["Internal error in RDB reading offset 0, function at rdb.c:3216 -> RDB CRC error"]),
            (&bad_type, &["Internal error in RDB reading offset 0, function at rdb.c:2672 -> Unknown RDB encoding type 99"]),
        ];
        for diskless in [false, true] {
            for (payload, want) in cases {
                let (mut n, conn) = replica_with_old_data();
                let (logs, reconnect) = sync(&mut n, conn, framed(payload, diskless));
                let flushed = logs
                    .iter()
                    .position(|l| l == "MASTER <-> REPLICA sync: Flushing old data")
                    .expect("flushes");
                let loading = logs
                    .iter()
                    .position(|l| l == "MASTER <-> REPLICA sync: Loading DB in memory")
                    .expect("loads");
                assert!(flushed < loading);
                assert!(
                    logs.ends_with(&want.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
                    "{logs:?}"
                );
                assert!(
                    n.is_shut_down(),
                    "Redis exits after reporting a corrupt RDB"
                );
                assert!(reconnect.is_none());
                assert!(
                    n.keyspace().is_empty(),
                    "the old data was flushed before loading"
                );
            }
        }
    }

    /// The master closes the connection in the middle of the payload (it dropped us for
    /// our output buffer, say): Redis 7.0's readSyncBulkPayload logs the lost connection
    /// and calls cancelReplicationHandshake(1), which reconnects at once. The payload was
    /// going to a temporary file: the dataset is untouched, and so is the cached master,
    /// so the new attempt asks the same PSYNC as before, not the id the failed
    /// `+FULLRESYNC` announced.
    #[test]
    fn a_payload_cut_short_keeps_the_data_and_the_cached_master_and_retries_at_once() {
        for diskless in [false, true] {
            let (mut n, conn) = replica_with_old_data();
            let full = framed(&snapshot(b"new"), diskless);
            let mut cut = full[..full.len() - 20].to_vec();
            cut[12..52].copy_from_slice("b".repeat(40).as_bytes());
            let (logs, _) = sync(&mut n, conn, cut);
            assert!(
                logs.contains(&format!("Full resync from master: {}:0", "b".repeat(40))),
                "{logs:?}"
            );
            n.handle(T + 5, Input::Closed { conn });
            let (logs, reconnect) = drain(&mut n);
            assert_eq!(
                logs[..3],
                [
                    "I/O error trying to sync with MASTER: connection lost",
                    "Reconnecting to MASTER master:6379 after failure",
                    "MASTER <-> REPLICA sync started",
                ],
                "{logs:?}"
            );
            assert!(
                !logs
                    .iter()
                    .any(|l| l.contains("Flushing old data") || l.contains("Loading")),
                "{logs:?}"
            );
            assert!(
                n.keyspace().dbs[0].entries.contains_key(b"old".as_slice()),
                "the old data stays"
            );
            let conn = reconnect.expect("a new attempt at once");
            n.handle(T + 5, Input::Connected { conn });
            n.handle(
                T + 5,
                Input::Bytes {
                    conn,
                    data: b"+PONG\r\n".to_vec(),
                },
            );
            n.handle(
                T + 5,
                Input::Bytes {
                    conn,
                    data: b"+OK\r\n+OK\r\n".to_vec(),
                },
            );
            let mut sent = Vec::new();
            while let Some(o) = n.poll_output() {
                if let Output::Send { conn: c, data } = o {
                    if c == conn {
                        sent.extend(data);
                    }
                }
            }
            let psync = format!(
                "*3\r\n$5\r\nPSYNC\r\n$40\r\n{}\r\n$1\r\n1\r\n",
                "a".repeat(40)
            );
            assert!(
                sent.ends_with(psync.as_bytes()),
                "{:?}",
                String::from_utf8_lossy(&sent)
            );
        }
    }

    #[test]
    fn a_snapshot_of_another_format_fails_the_sync_and_it_starts_over() {
        for diskless in [false, true] {
            let (mut n, conn) = replica_with_old_data();
            let mut newer = snapshot(b"new");
            newer[5..9].copy_from_slice(b"0011");
            let (logs, reconnect) = sync(&mut n, conn, framed(&newer, diskless));
            let tail = [
                "MASTER <-> REPLICA sync: Loading DB in memory",
                "Can't handle RDB format version 11",
                "Failed trying to load the MASTER synchronization DB from disk: Invalid argument",
                "Reconnecting to MASTER master:6379 after failure",
            ];
            let at = logs.iter().position(|l| l == tail[0]).expect("loads");
            assert_eq!(&logs[at..at + 4], &tail, "{logs:?}");
            assert!(!n.is_shut_down());
            assert!(
                n.keyspace().is_empty(),
                "the old data was flushed before loading, and stays gone"
            );
            let conn = reconnect.expect("a new attempt at once");
            let (logs, _) = sync(&mut n, conn, framed(&snapshot(b"new"), diskless));
            assert!(
                logs.contains(&"MASTER <-> REPLICA sync: Finished with success".to_string()),
                "{logs:?}"
            );
            assert!(n.keyspace().dbs[0].entries.contains_key(b"new".as_slice()));
        }
    }
}
