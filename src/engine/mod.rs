//! One Redis server as a sans-IO, deterministic state machine.
//!
//! A [`Node`] never touches a socket, a clock or a random source. Its host (the in-page
//! bus, or the native `replscope-server`) tells it what happened — a connection was
//! accepted, bytes arrived, bytes it sent were written out, a connection closed, time
//! passed — always passing the current time in, and then drains the [`Output`]s the node
//! queued: bytes to send, connections to open or close, and [`Event`]s that explain to a
//! human what the server just did.
//!
//! Because everything the node sees comes through these calls, the same inputs always
//! produce the same outputs, byte for byte, natively and in WebAssembly.

#[cfg(not(target_arch = "wasm32"))]
mod asleep;
mod blocked;
mod c_string;
pub(crate) mod cfloat;
pub mod child;
mod client_limits;
pub mod command;
pub mod config;
mod expire;
pub mod info;
pub mod keymap;
pub mod keyspace;
mod pause;
mod persistence;
pub mod rdb;
pub mod replication;
pub mod resp;
pub mod shared_vec;
pub mod sort;
pub mod splitmix;

use std::collections::{BTreeMap, VecDeque};

pub use config::Config;
use keyspace::Keyspace;
pub use persistence::Restored;
use replication::{MasterLink, ReplicaPeer, ReplicationState};
use resp::{ParseLimits, Parsed, RequestParser};

/// Identifies one connection of one node. The node allocates these for connections it
/// accepts and for connections it opens, so they never collide.
pub type ConnId = u64;

/// The Redis version this engine reproduces (INFO, RDB aux fields).
pub const REDIS_VERSION: &str = "7.0.15";

/// Something that happened to the node, reported by its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Bytes arrived on a connection.
    Bytes { conn: ConnId, data: Vec<u8> },
    /// An outgoing connection requested with [`Output::Connect`] is established.
    Connected { conn: ConnId },
    /// An outgoing connection could not be established.
    ConnectFailed { conn: ConnId, reason: String },
    /// The peer closed the connection, or the network broke it.
    Closed { conn: ConnId },
    /// `bytes` more of what the node sent on `conn` (with [`Output::Send`], in order) have
    /// left the host's send buffer: written to the socket, or handed to the link.
    ///
    /// Sending is not the same as being gone. A reader that stops reading leaves the bytes
    /// queued in the host, and Redis counts queued bytes against the client: a replica's
    /// unsent stream keeps replication-buffer blocks alive and makes its output buffer, which
    /// `client-output-buffer-limit replica ...` caps. So the host reports what it actually
    /// wrote; a host without a send buffer of its own reports every `Send` in full at once.
    /// Bytes never reported count as unsent for as long as the connection lives.
    Written { conn: ConnId, bytes: u64 },
}

/// Something the node asks its host to do, or tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Write `data` on `conn`, after everything sent on it before. What one pass queues
    /// for a connection comes as few Sends as the order of outputs allows (one write per
    /// pass, as Redis does), not one per reply or propagated command.
    Send {
        conn: ConnId,
        data: Vec<u8>,
    },
    /// Open a TCP connection to `host:port`; answer with `Connected` or `ConnectFailed`.
    Connect {
        conn: ConnId,
        host: String,
        port: u16,
    },
    /// Close the connection (after sending everything queued for it before this).
    Close {
        conn: ConnId,
    },
    /// Close the connection now and throw away whatever is still queued for it: Redis
    /// frees a client whose output buffer grew past its limit without sending the rest.
    Abort {
        conn: ConnId,
    },
    Event(Event),
}

/// What a human watching the server should know: the structured facts the playground
/// draws, and the log lines Redis itself would print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A line of the server log, in Redis's words.
    Log(String),
    /// This node, as a replica, moved to another step of the handshake / sync.
    LinkState { state: replication::LinkStateName },
    /// This node, as a master, decided how to serve a replica's PSYNC/SYNC.
    SyncDecision(replication::SyncDecision),
    /// The node became a master or a replica.
    Role { role: Role },
    /// SHUTDOWN succeeded: the server stops. The node has closed every connection and
    /// ignores all further input; a host that runs a real process exits now.
    Shutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Replica,
}

/// Where a connection came from, as shown in CLIENT LIST and replica names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerAddr {
    pub ip: String,
    pub port: u16,
}

impl std::fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.ip, self.port)
    }
}

/// What kind of peer a connection is to this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientRole {
    Normal,
    /// A replica of ours (it sent PSYNC/SYNC).
    Replica(ReplicaPeer),
    /// Our master: the stream arrives here and is applied without replies.
    Master,
}

#[derive(Debug, Clone)]
pub struct Client {
    pub conn: ConnId,
    pub peer: PeerAddr,
    pub parser: RequestParser,
    pub db: usize,
    pub authenticated: bool,
    pub role: ClientRole,
    pub name: Option<Vec<u8>>,
    /// Set by REPLCONF before PSYNC: what the replica says about itself.
    pub replica_listening_port: u16,
    pub replica_announced_ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    pub last_interaction: u64,
    pub created_at: u64,
    /// Close once the queued replies are sent (protocol error, QUIT).
    pub close_after_reply: bool,
    /// Inside MULTI: the queued commands (Redis's `mstate`).
    pub multi: Option<command::MultiState>,
    /// Full name of the last command looked up (`client|list`), as CLIENT LIST shows it.
    pub last_cmd: Option<&'static str>,
    /// Bytes of the current command's arguments (CLIENT LIST `argv-mem`).
    pub argv_mem: usize,
    /// Bytes in the query buffer while the current command runs (CLIENT LIST `qbuf`).
    pub qbuf: usize,
    /// Reply bytes produced for this client and not yet handed to the host.
    pub reply_pending: usize,
    /// Our end of the connection, if the host told us (CLIENT LIST `laddr`).
    pub local: Option<PeerAddr>,
    /// Master link only: stream bytes of a transaction still open (MULTI without EXEC
    /// yet). Redis counts them as applied, and forwards them, only once EXEC has run, so
    /// a link lost mid-transaction resumes from before its MULTI.
    pub stream_held: Vec<u8>,
    /// `master_repl_offset` right after this client's last command ran (Redis's `woff`):
    /// the offset its WAIT needs the replicas to have acknowledged.
    pub woff: u64,
    /// Blocked in WAIT: its reply comes later, and the commands it pipelined behind the
    /// WAIT stay unparsed in its query buffer until then.
    pub blocked: Option<blocked::WaitBlock>,
    /// A command held back by a client pause (Redis's `BLOCKED_POSTPONE`): it runs again,
    /// whole, once the pause lets it, and what was pipelined behind it waits too.
    pub postponed: Option<Vec<Vec<u8>>>,
    /// When (unix seconds) its output buffer went over the normal class's soft limit; 0
    /// while under it.
    pub obuf_soft_limit_reached_time: u64,
}

/// Deterministic id generator (SplitMix64) seeded by the host. The engine needs random
/// ids (replid, run id, the diskless EOF mark) but must not own a random source: the bus
/// seeds it from the scenario seed, the native server from the OS.
#[derive(Debug, Clone)]
pub struct IdSource {
    state: splitmix::SplitMix64,
}

impl IdSource {
    pub fn new(seed: u64) -> Self {
        IdSource {
            state: splitmix::SplitMix64::new(seed),
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state.next_u64()
    }

    /// A uniformly random integer in `0..n` (0 when `n` is 0), for SPOP/SRANDMEMBER picks
    /// and active-expiry sampling. Rejection sampling, so no value is favoured.
    pub fn below(&mut self, n: u64) -> u64 {
        if n <= 1 {
            return 0;
        }
        // The largest multiple of n that fits: values at or above it would bias the result.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// `n` lowercase hex characters, like Redis's `getRandomHexChars`.
    pub fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(n);
        while out.len() < n {
            let mut v = self.next_u64();
            for _ in 0..16 {
                if out.len() == n {
                    break;
                }
                out.push(HEX[(v & 0xF) as usize] as char);
                v >>= 4;
            }
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub total_connections_received: u64,
    pub total_commands_processed: u64,
    pub sync_full: u64,
    pub sync_partial_ok: u64,
    pub sync_partial_err: u64,
    /// Keys deleted because they expired, lazily or by the active cycle.
    pub expired_keys: u64,
    /// Connections refused at accept (`maxclients`, protected mode).
    pub rejected_connections: u64,
}

/// Seconds of history behind INFO's `client_recent_max_*_buffer` (Redis's
/// `CLIENTS_PEAK_MEM_USAGE_SLOTS`): a peak is reported for about this long. Here, beside
/// the node's slots, as the clients cron that fills them and INFO that reads them both
/// build on the node.
pub const PEAK_SLOTS: usize = 8;

/// One virtual Redis server.
#[derive(Debug, Clone)]
pub struct Node {
    pub(crate) config: Config,
    pub(crate) ids: IdSource,
    pub(crate) run_id: String,
    pub(crate) started_at: u64,
    pub(crate) now: u64,
    pub(crate) keyspace: Keyspace,
    pub(crate) clients: BTreeMap<ConnId, Client>,
    next_conn_id: ConnId,
    outputs: VecDeque<Output>,
    pub(crate) repl: ReplicationState,
    pub(crate) stats: Stats,
    next_cron_at: u64,
    pub(crate) cron_loops: u64,
    pub(crate) active_expire: expire::ActiveExpire,
    /// Commands queued for the replication stream by the command being executed.
    pending_propagation: replication::Propagation,
    /// Per-command and per-error counters (INFO commandstats / errorstats).
    pub(crate) counters: info::Counters,
    /// The command the last request named (not a container), tried first for the next.
    pub(crate) last_resolved: Option<&'static command::CommandSpec>,
    /// EXEC is running its queued commands: propagation waits for the whole transaction.
    pub(crate) in_exec: bool,
    /// SHUTDOWN ran: the server is gone and ignores everything.
    pub(crate) shut_down: bool,
    /// Clients blocked in WAIT, the most recent first (Redis's `clients_waiting_acks`).
    pub(crate) clients_waiting_acks: Vec<ConnId>,
    /// Clients just unblocked whose pipelined commands must run before the node sleeps.
    pub(crate) unblocked_clients: Vec<ConnId>,
    /// A WAIT blocked during this pass: one `REPLCONF GETACK *` goes to the replicas
    /// before the node sleeps (Redis's `get_ack_from_slaves`).
    pub(crate) get_ack_from_replicas: bool,
    /// CLIENT PAUSE and the like, per purpose.
    pub(crate) pauses: pause::Pauses,
    /// Per accepted connection: bytes sent and not yet reported [`Input::Written`].
    pub(crate) unwritten: litemap::LiteMap<ConnId, u64>,
    /// The largest client output buffer seen in each of the last seconds (Redis's
    /// `ClientsPeakMemOutput`, for INFO `client_recent_max_output_buffer`).
    pub(crate) recent_max_output: [u64; PEAK_SLOTS],
    /// The BGSAVE child, while one runs (Redis has at most one child at a time).
    pub(crate) child: Option<child::RdbChild>,
    pub(crate) saves: child::SaveStats,
    /// DEBUG SLEEP is blocking the server (see `asleep`; native only, as DEBUG is).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) asleep: Option<Box<asleep::Asleep>>,
}

/// The page has no DEBUG, so nothing ever sleeps there (see `asleep`).
#[cfg(target_arch = "wasm32")]
impl Node {
    fn asleep_until(&self) -> Option<u64> {
        None
    }

    fn asleep(&mut self) -> bool {
        false
    }

    fn hold(&mut self, _input: Input) {}

    fn hold_replies(&mut self, _conn: ConnId, replies: Vec<u8>) -> Vec<u8> {
        replies
    }
}

impl Node {
    /// A fresh server at time `now` (unix ms). `seed` feeds the id source.
    pub fn new(config: Config, now: u64, seed: u64) -> Node {
        let mut ids = IdSource::new(seed);
        let run_id = ids.hex(40);
        let replid = ids.hex(40);
        let mut node = Node {
            config,
            ids,
            run_id,
            started_at: now,
            now,
            keyspace: Keyspace::default(),
            clients: BTreeMap::new(),
            next_conn_id: 1,
            outputs: VecDeque::new(),
            repl: ReplicationState::new(replid),
            stats: Stats::default(),
            next_cron_at: now,
            cron_loops: 0,
            active_expire: expire::ActiveExpire::default(),
            pending_propagation: Default::default(),
            counters: info::Counters::default(),
            last_resolved: None,
            in_exec: false,
            shut_down: false,
            clients_waiting_acks: Vec::new(),
            unblocked_clients: Vec::new(),
            get_ack_from_replicas: false,
            pauses: pause::Pauses::default(),
            unwritten: litemap::LiteMap::new(),
            recent_max_output: [0; PEAK_SLOTS],
            child: None,
            saves: child::SaveStats {
                last_secs: -1,
                ..Default::default()
            },
            #[cfg(not(target_arch = "wasm32"))]
            asleep: None,
        };
        node.log(format!(
            "Redis version={REDIS_VERSION}, bits=64, replscope engine, just started"
        ));
        if let Some((host, port)) = node.config.replicaof.clone() {
            node.set_master(host, port);
        }
        node
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn keyspace(&self) -> &Keyspace {
        &self.keyspace
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    pub fn replication(&self) -> &ReplicationState {
        &self.repl
    }

    pub fn role(&self) -> Role {
        if self.repl.link.is_some() {
            Role::Replica
        } else {
            Role::Master
        }
    }

    /// Tells the node the local address of a connection (CLIENT LIST `laddr`). Optional:
    /// without it the node assumes the client connected to `bind:port`.
    pub fn set_local_addr(&mut self, conn: ConnId, local: PeerAddr) {
        if let Some(c) = self.clients.get_mut(&conn) {
            c.local = Some(local);
        }
    }

    /// Whether SHUTDOWN has stopped this server.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down
    }

    /// Redis's `authRequired`: the default user has a password and this client has not
    /// authenticated. (Clients that connected while there was no password stay
    /// authenticated; removing the password frees everyone.)
    pub(crate) fn auth_required(&self, client: &Client) -> bool {
        self.config.requirepass.is_some() && !client.authenticated
    }

    pub fn master_link(&self) -> Option<&MasterLink> {
        self.repl.link.as_ref()
    }

    /// Connected replicas, in connection order.
    pub fn replicas(&self) -> impl Iterator<Item = (&Client, &ReplicaPeer)> {
        self.clients.values().filter_map(|c| match &c.role {
            ClientRole::Replica(r) => Some((c, r)),
            _ => None,
        })
    }

    pub(crate) fn has_replicas(&self) -> bool {
        self.replicas().next().is_some()
    }

    /// Drops every replica of ours (Redis's `disconnectSlaves`): they reconnect and PSYNC.
    pub(crate) fn disconnect_replicas(&mut self) {
        let conns: Vec<ConnId> = self.replicas().map(|(c, _)| c.conn).collect();
        for conn in conns {
            self.close_conn(conn);
        }
    }

    /// A fresh, empty backlog starting after the current offset.
    pub(crate) fn create_backlog(&mut self) {
        self.repl.backlog = Some(replication::Backlog::new(
            self.config.repl_backlog_size as usize,
            self.repl.master_repl_offset,
        ));
    }

    /// The next output the host must act on.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the host must call [`Node::tick`] next (unix ms): the next cron, the first
    /// moment a WAIT's timeout has passed, or when a diskless BGSAVE child has more for
    /// its replicas' sockets, whichever comes first. A node stopped by
    /// SHUTDOWN runs nothing any more: `u64::MAX`, never (its cron time would otherwise
    /// stay due forever, since a stopped node's tick does nothing).
    pub fn next_timer(&self) -> u64 {
        if self.shut_down {
            return u64::MAX;
        }
        if let Some(until) = self.asleep_until() {
            return until;
        }
        let at = self
            .child_pipe_ready_at()
            .map_or(self.next_cron_at, |p| p.min(self.next_cron_at));
        match self.next_wait_timeout() {
            Some(wait) => wait.min(at),
            None => at,
        }
    }

    /// A new inbound connection; returns the id the node will use for it.
    pub fn accept(&mut self, now: u64, peer: PeerAddr) -> ConnId {
        self.advance(now);
        if self.shut_down {
            // A stopped server accepts nothing: the host gets the connection closed.
            let conn = self.alloc_conn();
            self.close_output(conn);
            return conn;
        }
        let conn = self.alloc_conn();
        if let Some(refusal) = self.admission_refusal(&peer) {
            // Redis writes the reason once, best effort, and closes: no client is made.
            self.stats.rejected_connections += 1;
            self.send_slice(conn, refusal.as_bytes());
            self.close_output(conn);
            return conn;
        }
        self.stats.total_connections_received += 1;
        let authenticated = self.config.requirepass.is_none();
        self.clients
            .insert(conn, Client::new(conn, peer, now, authenticated));
        self.unwritten.insert(conn, 0);
        self.before_sleep();
        conn
    }

    /// [`Input::Bytes`] without handing over the buffer: the host keeps it (the bus logs
    /// every delivered chunk, and would otherwise copy each one first).
    pub fn handle_bytes(&mut self, now: u64, conn: ConnId, data: &[u8]) {
        self.advance(now);
        if self.shut_down {
            return;
        }
        if self.asleep() {
            let data = data.to_vec();
            return self.hold(Input::Bytes { conn, data });
        }
        self.on_bytes(conn, data);
        self.before_sleep();
    }

    /// Feeds one input. Outputs are queued for [`Node::poll_output`].
    pub fn handle(&mut self, now: u64, input: Input) {
        self.advance(now);
        if self.shut_down {
            return;
        }
        if self.asleep() {
            return self.hold(input);
        }
        match input {
            Input::Bytes { conn, data } => self.on_bytes(conn, &data),
            Input::Connected { conn } => self.on_master_connected(conn),
            Input::ConnectFailed { conn, reason } => self.on_master_connect_failed(conn, &reason),
            Input::Closed { conn } => self.on_closed(conn),
            Input::Written { conn, bytes } => self.on_written(conn, bytes),
        }
        self.before_sleep();
    }

    /// Runs the server cron (Redis `serverCron`, `hz` times a second) for every period
    /// that has elapsed up to `now`.
    pub fn tick(&mut self, now: u64) {
        self.advance(now);
        if self.shut_down || self.asleep() {
            return;
        }
        self.read_child_pipe();
        let period = 1000 / self.config.hz.max(1) as u64;
        while self.next_cron_at <= now {
            self.server_cron();
            self.cron_loops += 1;
            self.next_cron_at += period;
        }
        self.before_sleep();
    }

    /// Whether every cron loop from now on provably does nothing but count itself until
    /// the next input, so that a host may skip them with [`Node::skip_idle_cron`].
    ///
    /// With a BGSAVE child running nothing is skipped (the cron reaps it). Otherwise
    /// `server_cron` does three things (Redis's `serverCron` as the engine models it):
    /// `clientsCron`'s output-buffer part, which looks at replicas and at normal clients
    /// with replies waiting beyond their static buffer (none here) and clears the
    /// recent-peak slots (all zero here); `databasesCron`'s active expiry, which samples
    /// only keys with an expiry (none here) and otherwise just moves its db cursor; and
    /// once a second `replicationCron`, which does nothing without a master link, without
    /// replicas (no PINGs, newlines, timeouts or pending syncs) and without a backlog (no
    /// TTL to expire). The `beforeSleep` that follows each loop has nothing to do either:
    /// nobody blocked in WAIT or just unblocked, no backlog to trim. Any new cron duty
    /// must be listed here, or the host would skip real work.
    pub fn idle_cron(&self) -> bool {
        !self.shut_down
            && self.child.is_none()
            && self.asleep_until().is_none()
            && self.repl.link.is_none()
            && self.repl.backlog.is_none()
            && self.repl.good_replicas == 0
            && !self.has_replicas()
            && self.clients_waiting_acks.is_empty()
            && self.unblocked_clients.is_empty()
            && !self.get_ack_from_replicas
            && !self.any_pause()
            && !self.active_expire.timelimit_exit
            && self.recent_max_output.iter().all(|&b| b == 0)
            && !self.clients.values().any(|c| self.output_cron_watches(c))
            && self.keyspace.dbs.iter().all(|db| db.expiring.is_empty())
    }

    /// The period of the server cron, in ms.
    pub fn cron_period(&self) -> u64 {
        1000 / self.config.hz.max(1) as u64
    }

    /// When the next cron loop is due (unix ms).
    pub fn next_cron_at(&self) -> u64 {
        self.next_cron_at
    }

    /// Runs every cron loop due up to `until`, each at its own time, when
    /// [`Node::idle_cron`] holds: arithmetically, leaving the state exactly as calling
    /// [`Node::tick`] at each loop's time would (the loop counter, the next loop's time,
    /// active expiry's db cursor, the clock at the last loop). Returns how many loops ran.
    pub fn skip_idle_cron(&mut self, until: u64) -> u64 {
        debug_assert!(self.idle_cron(), "only idle cron loops may be skipped");
        if self.next_cron_at > until {
            return 0;
        }
        let period = self.cron_period();
        let loops = (until - self.next_cron_at) / period + 1;
        let last = self.next_cron_at + (loops - 1) * period;
        self.advance(last);
        // activeExpireCycle with nothing to sample still moves on by a call's worth of dbs.
        let dbnum = self.keyspace.dbs.len() as u64;
        if dbnum > 0 {
            self.active_expire.current_db += loops * dbnum.min(expire::DBS_PER_CALL as u64);
        }
        self.cron_loops += loops;
        self.next_cron_at = last + period;
        loops
    }

    /// The end of every event-loop pass (Redis's `beforeSleep`): blocked clients first,
    /// then the replicas' writes and the backlog trim, which come last in Redis too.
    pub(crate) fn before_sleep(&mut self) {
        if self.shut_down {
            return;
        }
        self.serve_blocked_clients();
        self.update_failover_status();
        self.settle_replication_buffer();
    }

    fn advance(&mut self, now: u64) {
        // Time never goes backwards inside the engine, whatever the host does.
        self.now = self.now.max(now);
    }

    /// How many times the once-a-second replication cron has run.
    pub(crate) fn repl_cron_loops(&self) -> u64 {
        let per_second = (1000 / (1000 / self.config.hz.max(1) as u64)).max(1);
        self.cron_loops / per_second
    }

    fn server_cron(&mut self) {
        let period = 1000 / self.config.hz.max(1) as u64;
        // clientsCron, then databasesCron, then the end of a client pause that is over,
        // then replicationCron, as in Redis's serverCron.
        self.clients_output_cron();
        self.active_expire_cycle();
        self.check_child_done();
        self.clients_paused();
        // replicationCron runs once a second, counted in serverCron loops as Redis does.
        if (1000 / period).max(1) == 1 || self.cron_loops.is_multiple_of(1000 / period) {
            self.replication_cron();
        }
    }

    pub(crate) fn alloc_conn(&mut self) -> ConnId {
        let c = self.next_conn_id;
        self.next_conn_id += 1;
        c
    }

    /// [`Node::send`] for bytes the caller keeps: copied only where they land.
    pub(crate) fn send_slice(&mut self, conn: ConnId, data: &[u8]) {
        if let Some(pending) = self.joinable_send(conn, data.len()) {
            pending.extend_from_slice(data);
        } else if !data.is_empty() {
            self.outputs.push_back(Output::Send {
                conn,
                data: data.to_vec(),
            });
        }
    }

    pub(crate) fn send(&mut self, conn: ConnId, data: Vec<u8>) {
        if let Some(pending) = self.joinable_send(conn, data.len()) {
            pending.extend_from_slice(&data);
        } else if !data.is_empty() {
            self.outputs.push_back(Output::Send { conn, data });
        }
    }

    /// Counts `len` bytes about to be sent on `conn`, and finds the Send they join, if
    /// any (None for nothing to send).
    fn joinable_send(&mut self, conn: ConnId, len: usize) -> Option<&mut Vec<u8>> {
        /// How far back a Send is looked for: the replicas of one master, and then some.
        const SEND_JOIN_WINDOW: usize = 8;
        if len == 0 {
            return None;
        }
        if let Some(unwritten) = self.unwritten.get_mut(&conn) {
            *unwritten += len as u64;
        }
        // Redis writes what a client has pending once per event-loop pass (its replicas'
        // share of the replication buffer too), not once per command: bytes for a
        // connection join its Send still waiting among the latest outputs, as long as only
        // Sends to other connections came after it (a pipelined batch reaches each replica
        // as one write instead of one per propagated command).
        for queued in self.outputs.iter_mut().rev().take(SEND_JOIN_WINDOW) {
            match queued {
                Output::Send {
                    conn: c,
                    data: pending,
                } if *c == conn => return Some(pending),
                Output::Send { .. } => {}
                _ => break,
            }
        }
        None
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    pub(crate) fn log(&mut self, line: impl Into<String>) {
        self.emit(Event::Log(line.into()));
    }

    pub(crate) fn request_connect(&mut self, conn: ConnId, host: String, port: u16) {
        self.outputs.push_back(Output::Connect { conn, host, port });
    }

    /// Asks the host to close a connection that is not (or no longer) a client.
    pub(crate) fn close_output(&mut self, conn: ConnId) {
        self.outputs.push_back(Output::Close { conn });
    }

    /// Drops a client connection from our side.
    pub(crate) fn close_conn(&mut self, conn: ConnId) {
        self.outputs.push_back(Output::Close { conn });
        if let Some(client) = self.clients.remove(&conn) {
            self.on_client_gone(client);
        }
    }

    /// Drops a client connection at once, discarding what is still queued for it.
    pub(crate) fn abort_conn(&mut self, conn: ConnId) {
        self.outputs.push_back(Output::Abort { conn });
        if let Some(client) = self.clients.remove(&conn) {
            self.on_client_gone(client);
        }
    }

    fn on_closed(&mut self, conn: ConnId) {
        if let Some(client) = self.clients.remove(&conn) {
            self.on_client_gone(client);
        } else {
            self.on_handshake_conn_closed(conn);
        }
    }

    fn on_client_gone(&mut self, client: Client) {
        if client.blocked.is_some() {
            // Redis's freeClient unblocks it first: nobody waits for its replicas any more.
            self.clients_waiting_acks.retain(|&c| c != client.conn);
        }
        self.unwritten.remove(&client.conn);
        self.repl.replica_conns.remove(&client.conn);
        match client.role {
            ClientRole::Master => self.on_master_lost(client),
            ClientRole::Replica(_) => {
                self.log(format!(
                    "Connection with replica {} lost.",
                    replica_name(&client)
                ));
                self.on_replica_gone(client.conn);
            }
            ClientRole::Normal => {}
        }
    }

    fn on_bytes(&mut self, conn: ConnId, data: &[u8]) {
        let Some(client) = self.clients.get_mut(&conn) else {
            self.on_handshake_bytes(conn, data);
            return;
        };
        client.last_interaction = self.now;
        if matches!(client.role, ClientRole::Master) {
            if let Some(link) = self.repl.link.as_mut() {
                link.last_io = self.now;
            }
        }
        client.parser.feed(data);
        if self.clients.get(&conn).is_some_and(|c| {
            client_limits::query_buffer_usage(c) > self.config.client_query_buffer_limit
        }) {
            let mut client = self.clients.remove(&conn).expect("checked above");
            if self.query_buffer_over_limit(&mut client) {
                self.clients.insert(conn, client);
                self.abort_conn(conn);
                return;
            }
            self.clients.insert(conn, client);
        }
        self.process_input(conn);
    }

    /// Redis's `processInputBuffer`: runs the complete commands in a client's query
    /// buffer, in order, until it is empty, the client blocks (WAIT), or it must close.
    pub(crate) fn process_input(&mut self, conn: ConnId) {
        let Some(mut client) = self.clients.remove(&conn) else {
            return;
        };
        // Redis's query buffer keeps a whole read until every command in it has run.
        let batch_len = client.parser.pending_len();
        let mut replies = Vec::new();
        let mut closing = false;
        // A blocked client reads, but runs nothing until it is unblocked; a sleeping
        // server runs nothing at all.
        if let Some(mut argv) = client.postponed.take() {
            // Run again from the start: the pause may still hold it back.
            client.qbuf = batch_len;
            replies = self.execute_in_place(&mut client, &mut argv);
        }
        while client.blocked.is_none()
            && client.postponed.is_none()
            && self.asleep_until().is_none()
        {
            let limits = ParseLimits {
                // Redis does not hold its own master to proto-max-bulk-len.
                proto_max_bulk_len: if matches!(client.role, ClientRole::Master) {
                    usize::MAX
                } else {
                    self.config.proto_max_bulk_len as usize
                },
                authenticated: !self.auth_required(&client),
            };
            let Some(parsed) = client.parser.next(limits) else {
                break;
            };
            match parsed {
                Parsed::Empty { consumed } => {
                    if matches!(client.role, ClientRole::Master) {
                        let raw = client.parser.last_raw(consumed).to_vec();
                        if client.multi.is_some() {
                            client.stream_held.extend_from_slice(&raw);
                        } else {
                            self.master_stream_applied(&raw);
                        }
                    }
                }
                Parsed::Error(msg) => {
                    let text = String::from_utf8_lossy(&msg).into_owned();
                    self.log(format!(
                        "Protocol error ({text}) from client: {}",
                        client_desc(&client)
                    ));
                    if matches!(client.role, ClientRole::Master) {
                        // A master that speaks garbage is dropped and resynced.
                        closing = true;
                        break;
                    }
                    replies.extend(resp::reply::error_bytes(&[&b"ERR "[..], &msg].concat()));
                    closing = true;
                    break;
                }
                Parsed::Command { argv, consumed } => {
                    let from_master = matches!(client.role, ClientRole::Master);
                    // Masters and replicas never see replies (a PSYNC's answer is the
                    // sync itself, returned while the client was still a normal one).
                    let answer = matches!(client.role, ClientRole::Normal);
                    client.qbuf = batch_len;
                    client.reply_pending = replies.len();
                    let mut argv = argv;
                    let reply = self.execute_in_place(&mut client, &mut argv);
                    client.parser.recycle(argv);
                    if from_master {
                        // Counted only now: a GETACK reports the offset before itself.
                        // Inside a transaction, only once it is over. (The parser is
                        // not touched by the command: its last request is still there,
                        // and is taken without a copy of its own.)
                        if client.multi.is_none() && client.stream_held.is_empty() {
                            self.master_stream_applied(client.parser.last_raw(consumed));
                        } else {
                            client
                                .stream_held
                                .extend_from_slice(client.parser.last_raw(consumed));
                            if client.multi.is_none() {
                                self.master_stream_applied(&client.stream_held);
                                client.stream_held.clear();
                            }
                        }
                    } else if answer {
                        // A lone reply is moved, not copied: a big one is not held twice.
                        if replies.is_empty() {
                            replies = reply;
                        } else {
                            replies.extend(reply);
                        }
                        if self.client_output_limit_reached(&mut client, replies.len(), true) {
                            // Dropped with nothing more sent, its pipelined commands unrun.
                            client.reply_pending = 0;
                            self.clients.insert(conn, client);
                            self.abort_conn(conn);
                            return;
                        }
                    }
                    if client.close_after_reply || self.shut_down {
                        closing = true;
                        break;
                    }
                }
            }
        }
        client.reply_pending = 0;
        if self.shut_down {
            // SHUTDOWN already closed every other connection; this one goes too.
            self.send(conn, replies);
            self.outputs.push_back(Output::Close { conn });
            return;
        }
        let replies = self.hold_replies(conn, replies);
        self.send(conn, replies);
        if closing {
            self.outputs.push_back(Output::Close { conn });
            self.on_client_gone(client);
        } else {
            self.clients.insert(conn, client);
        }
    }

    /// Queues a command for the replication stream, after the current command completes.
    pub(crate) fn propagate(&mut self, db: usize, argv: Vec<Vec<u8>>) {
        self.propagate_args(db, &argv);
    }

    /// [`Node::propagate`] for arguments the command still holds (its own request's, most
    /// often): they are encoded now, with no copy of their own.
    pub(crate) fn propagate_args<A: AsRef<[u8]>>(&mut self, db: usize, argv: &[A]) {
        self.pending_propagation.push(db, argv);
    }

    pub(crate) fn flush_propagation(&mut self) {
        if self.pending_propagation.is_empty() {
            return;
        }
        let mut pending = std::mem::take(&mut self.pending_propagation);
        // A command that propagates several writes is wrapped in MULTI/EXEC so replicas
        // apply it atomically, as Redis 7.0 does.
        let wrap = pending.len() > 1;
        if let (true, Some(db)) = (wrap, pending.first_db()) {
            self.feed_replication_stream(db, &[b"MULTI".to_vec()]);
        }
        for (db, command) in pending.iter() {
            self.feed_encoded(Some(db), command);
        }
        if let (true, Some(db)) = (wrap, pending.last_db()) {
            self.feed_replication_stream(db, &[b"EXEC".to_vec()]);
        }
        // Its buffers serve the next command, unless feeding queued something new.
        if self.pending_propagation.is_empty() {
            pending.clear();
            self.pending_propagation = pending;
        }
    }
}

impl Client {
    fn new(conn: ConnId, peer: PeerAddr, now: u64, authenticated: bool) -> Client {
        Client {
            conn,
            peer,
            parser: RequestParser::new(),
            db: 0,
            authenticated,
            role: ClientRole::Normal,
            name: None,
            replica_listening_port: 0,
            replica_announced_ip: None,
            capa_eof: false,
            capa_psync2: false,
            last_interaction: now,
            created_at: now,
            close_after_reply: false,
            multi: None,
            last_cmd: None,
            argv_mem: 0,
            qbuf: 0,
            reply_pending: 0,
            local: None,
            stream_held: Vec::new(),
            woff: 0,
            blocked: None,
            postponed: None,
            obuf_soft_limit_reached_time: 0,
        }
    }
}

fn client_desc(c: &Client) -> String {
    format!("id={} addr={}", c.conn, c.peer)
}

/// How Redis names a replica in logs: `ip:listening-port`.
pub(crate) fn replica_name(c: &Client) -> String {
    let ip = c
        .replica_announced_ip
        .clone()
        .unwrap_or_else(|| c.peer.ip.clone());
    if c.replica_listening_port != 0 {
        format!("{ip}:{}", c.replica_listening_port)
    } else {
        format!("{ip}:<unknown-replica-port>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_hex() {
        let a = IdSource::new(7).hex(40);
        assert_eq!(a, IdSource::new(7).hex(40));
        assert_ne!(a, IdSource::new(8).hex(40));
        assert_eq!(a.len(), 40);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    }
}
