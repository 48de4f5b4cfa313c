//! How a server protects itself from the clients it serves, as Redis 7.0's `networking.c`
//! does: `protected-mode` and `maxclients` at accept, `client-query-buffer-limit` on what a
//! client sends, and `client-output-buffer-limit normal ...` on what it leaves unread.
//!
//! A normal client's output buffer is what the node produced for it and the host has not
//! written yet ([`Input::Written`] counts it down), plus the reply being built. Redis keeps
//! the first 16 KiB of a client's pending replies in a static buffer that no limit counts,
//! and the rest in a list of blocks of at least 16 KiB that it does: so a client is over a
//! limit only once it has more than 16 KiB pending, and then by at least one block.
//!
//! Two rules go beyond the configured classes, both so that no client can exhaust memory
//! with the default configuration (`normal 0 0 0`, no limit at all):
//!
//! * a client that still has to AUTH may hold no more than [`UNAUTHENTICATED_OUTPUT_LIMIT`]
//!   bytes beyond the static buffer. That is the fix for CVE-2025-21605 ("Limiting output
//!   buffer for unauthenticated client", Redis 7.2.8 / 7.4.3): before it, a client that
//!   never authenticated could pipeline PING without reading and grow the server's memory
//!   for ever. 7.0.15 predates it; replscope applies it all the same.
//! * every normal client's hard limit is at most [`MAX_CLIENT_OUTPUT_BUFFER`], replscope's
//!   own cap, so that one reply (`SRANDMEMBER s -1000000` of a 1 MB member) or one reader
//!   that never reads cannot take the process (or the page's wasm memory) down.
//!
//! A client over a limit is dropped as Redis drops it: with Redis's log line, and without
//! the replies still queued for it. Commands that can build a reply far larger than their
//! request ([`Node::reply_room`]: SRANDMEMBER with a negative count, MGET, HMGET and
//! ZMSCORE naming one key or member many times, CLIENT LIST ID repeating an id) stop
//! building it once it would be over the limit, since it will never be sent.
//!
//! [`Input::Written`]: crate::engine::Input::Written

use crate::engine::replication::soft_limit_passed;
use crate::engine::{Client, ClientRole, ConnId, Node, PeerAddr, PEAK_SLOTS};

/// Redis's static reply buffer (`PROTO_REPLY_CHUNK_BYTES`): pending bytes up to it count
/// against no limit, and a reply list block is never smaller.
pub const PROTO_REPLY_CHUNK_BYTES: u64 = 16 * 1024;

/// Output beyond the static buffer a client that has not authenticated may hold
/// (CVE-2025-21605's fix: `used_mem > 1024 && authRequired(c)`).
pub const UNAUTHENTICATED_OUTPUT_LIMIT: u64 = 1024;

/// replscope's cap on a normal client's output buffer, whatever `client-output-buffer-limit
/// normal` says (its default, `0 0 0`, is no limit). 64 MiB: twice Redis's default hard
/// limit for pub/sub clients (32mb), the only clients Redis limits by default that get
/// replies of their own; far above any reply the page shows (its consoles print 200 lines);
/// and small enough that the page's wasm memory holds it while a reply is built (a Vec
/// that doubles, then the copy into the pass's writes: about three times the cap) next to
/// eight servers. A value bigger than this can be stored but not read back in one reply.
pub const MAX_CLIENT_OUTPUT_BUFFER: u64 = 64 << 20;

/// How much of the query buffer the query-buffer-limit log line shows (Redis's
/// `sdscatrepr(bytes, c->querybuf, 64)`).
const QBUF_LOGGED_BYTES: usize = 64;

/// What Redis writes, then closes, when a client arrives while `maxclients` are connected.
pub const MAX_CLIENTS_REACHED: &str = "-ERR max number of clients reached\r\n";

/// What Redis writes, then closes, to a client from another host while it runs in
/// protected mode with no password (`clientAcceptHandler`, word for word).
#[cfg(not(target_arch = "wasm32"))]
pub const PROTECTED_MODE_DENIED: &str = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Index of the normal class in `Config::client_output_buffer_limit`.
const NORMAL_CLASS: usize = 0;

impl Node {
    /// Why a new connection from `peer` is refused, as the bytes Redis writes before
    /// closing it; `None` to serve it. `maxclients` counts every client (replicas and our
    /// master's link too, as Redis's `server.clients` does), checked before the client
    /// exists; protected mode then refuses anything but loopback while the default user
    /// has no password (`islocalClient`: exactly 127.0.0.1 or ::1).
    pub(crate) fn admission_refusal(&self, peer: &PeerAddr) -> Option<&'static str> {
        if self.clients.len() as u64 >= self.config.maxclients {
            return Some(MAX_CLIENTS_REACHED);
        }
        // Every peer on the page's bus is 127.0.0.1: the refusal (and its kilobyte of text)
        // stays out of the page's download.
        #[cfg(not(target_arch = "wasm32"))]
        if self.config.protected_mode
            && self.config.requirepass.is_none()
            && peer.ip != "127.0.0.1"
            && peer.ip != "::1"
        {
            return Some(PROTECTED_MODE_DENIED);
        }
        #[cfg(target_arch = "wasm32")]
        let _ = peer;
        None
    }

    /// Redis's check after each read: a client (not our master) whose query buffer holds
    /// more than `client-query-buffer-limit` is closed, with the log line naming it and
    /// its first bytes (see [`query_buffer_usage`] for what counts). Returns whether the
    /// client must go.
    pub(crate) fn query_buffer_over_limit(&mut self, client: &mut Client) -> bool {
        if matches!(client.role, ClientRole::Master)
            || query_buffer_usage(client) <= self.config.client_query_buffer_limit
        {
            return false;
        }
        client.qbuf = client.parser.pending_len();
        let desc = self.client_info_line(client, true);
        let bytes = crate::engine::resp::quote(client.parser.pending_prefix(QBUF_LOGGED_BYTES));
        self.log(format!("Closing client that reached max query buffer length: {desc} (qbuf initial bytes: {bytes})"));
        true
    }

    /// A normal client's output buffer as its limits count it (see the module's notes),
    /// with `building` more bytes produced in this pass and not yet handed to the host.
    pub(crate) fn client_output_usage(&self, conn: ConnId, building: usize) -> u64 {
        let pending = self.unwritten_on(conn) + building as u64;
        if pending <= PROTO_REPLY_CHUNK_BYTES {
            0
        } else {
            (pending - PROTO_REPLY_CHUNK_BYTES).max(PROTO_REPLY_CHUNK_BYTES)
        }
    }

    /// The hard limit on a normal client's output buffer: the configured one, never above
    /// [`MAX_CLIENT_OUTPUT_BUFFER`], and [`UNAUTHENTICATED_OUTPUT_LIMIT`] before AUTH.
    fn client_hard_limit(&self, client: &Client) -> u64 {
        if self.auth_required(client) {
            return UNAUTHENTICATED_OUTPUT_LIMIT;
        }
        match self.config.client_output_buffer_limit[NORMAL_CLASS].0 {
            0 => MAX_CLIENT_OUTPUT_BUFFER,
            hard => hard.min(MAX_CLIENT_OUTPUT_BUFFER),
        }
    }

    /// How many more reply bytes the running command may build for `client` before its
    /// output buffer is over its hard limit. A command that amplifies its request stops
    /// there (the client is then dropped, its reply never sent), so building never goes
    /// more than one element past the limit.
    pub(crate) fn reply_room(&self, client: &Client) -> usize {
        if !matches!(client.role, ClientRole::Normal) {
            return usize::MAX;
        }
        let limit = self.client_hard_limit(client) + PROTO_REPLY_CHUNK_BYTES;
        let pending = self.unwritten_on(client.conn) + client.reply_pending as u64;
        limit.saturating_sub(pending) as usize
    }

    /// Redis's `checkClientOutputBufferLimits` for a normal client with `building` bytes
    /// not yet handed to the host: whether it must go. Starts or clears its soft-limit
    /// clock. Unauthenticated clients are over at once past their limit, as in the fix
    /// for CVE-2025-21605, which checks them before any class.
    fn normal_over_output_limit(&self, client: &mut Client, building: usize) -> bool {
        let used = self.client_output_usage(client.conn, building);
        if used == 0 {
            // Redis's `reply_bytes == 0`: nothing beyond the static buffer, nothing to check.
            client.obuf_soft_limit_reached_time = 0;
            return false;
        }
        if self.auth_required(client) && used > UNAUTHENTICATED_OUTPUT_LIMIT {
            return true;
        }
        let (_, soft, soft_secs) = self.config.client_output_buffer_limit[NORMAL_CLASS];
        let over_hard = used >= self.client_hard_limit(client);
        let over_soft = soft_limit_passed(
            &mut client.obuf_soft_limit_reached_time,
            soft != 0 && used >= soft,
            self.now / 1000,
            soft_secs,
        );
        over_hard || over_soft
    }

    /// Redis's `closeClientOnOutputBufferLimitReached` for a normal client: logs the line
    /// when it is over, and returns whether it is. The caller drops it (and whatever is
    /// still queued for it). `asap`: found while replies are added (Redis frees it at the
    /// end of the turn) rather than by the clients cron.
    pub(crate) fn client_output_limit_reached(
        &mut self,
        client: &mut Client,
        building: usize,
        asap: bool,
    ) -> bool {
        if !matches!(client.role, ClientRole::Normal)
            || !self.normal_over_output_limit(client, building)
        {
            return false;
        }
        // The line shows the whole output buffer (obl, oll, omem), not only this pass's part.
        client.reply_pending = (self.unwritten_on(client.conn) as usize).saturating_add(building);
        let desc = self.client_info_line(client, true);
        let how = if asap {
            "scheduled to be closed ASAP"
        } else {
            "closed"
        };
        self.log(format!(
            "Client {desc} {how} for overcoming of output buffer limits."
        ));
        true
    }

    /// The normal clients' part of Redis's `clientsCron`: a reader that stopped reading
    /// is dropped once over the soft limit long enough, even when nothing more is sent to
    /// it; and the recent peak of output buffers, for INFO, counts normal clients too.
    /// Whether the cron looks at this client's output: a normal client with replies
    /// beyond its static buffer, or whose soft-limit clock runs (looked at even once it
    /// drained, so that the clock stops). While no client is, the cron's output check has
    /// nothing to do, and [`Node::idle_cron`] may skip it.
    pub(crate) fn output_cron_watches(&self, c: &Client) -> bool {
        matches!(c.role, ClientRole::Normal)
            && (self.unwritten_on(c.conn) > PROTO_REPLY_CHUNK_BYTES
                || c.obuf_soft_limit_reached_time != 0)
    }

    pub(crate) fn clients_normal_output_cron(&mut self) {
        let slot = (self.now / 1000) as usize % PEAK_SLOTS;
        let pending: Vec<ConnId> = self
            .clients
            .values()
            .filter(|c| self.output_cron_watches(c))
            .map(|c| c.conn)
            .collect();
        for conn in pending {
            let used = self.client_output_usage(conn, 0);
            self.recent_max_output[slot] = self.recent_max_output[slot].max(used);
            let Some(mut client) = self.clients.remove(&conn) else {
                continue;
            };
            if self.client_output_limit_reached(&mut client, 0, false) {
                self.clients.insert(conn, client);
                self.abort_conn(conn);
            } else {
                self.clients.insert(conn, client);
            }
        }
    }
}

/// What `client-query-buffer-limit` holds a client to: its query buffer, and the commands
/// it queued inside MULTI. 7.0.15 counts only the query buffer, so a client could queue
/// commands without bound; Redis 7.4 counts the queue too ("add multi buffer limit",
/// e4c9ac2d1), and so does replscope. The whole request still arriving counts, where Redis
/// counts only the part not yet split into arguments: a request's memory is bounded as a
/// whole, not one argument at a time.
pub(crate) fn query_buffer_usage(client: &Client) -> u64 {
    (client.parser.pending_len() + client.multi.as_ref().map_or(0, |m| m.mem)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::resp::encode_command;
    use crate::engine::{Config, Event, Input, Output};

    const T0: u64 = 1_767_225_600_000;

    /// What the host saw: (bytes sent per connection, closed, aborted, log lines). Sends
    /// to `stalled` connections are never reported written: their peer does not read.
    #[derive(Default)]
    struct Seen {
        sent: std::collections::BTreeMap<ConnId, Vec<u8>>,
        closed: Vec<ConnId>,
        aborted: Vec<ConnId>,
        logs: Vec<String>,
    }

    fn pump(node: &mut Node, now: u64, stalled: &[ConnId], seen: &mut Seen) {
        while let Some(out) = node.poll_output() {
            match out {
                Output::Send { conn, data } => {
                    if !stalled.contains(&conn) {
                        node.handle(
                            now,
                            Input::Written {
                                conn,
                                bytes: data.len() as u64,
                            },
                        );
                    }
                    seen.sent.entry(conn).or_default().extend(data);
                }
                Output::Close { conn } => seen.closed.push(conn),
                Output::Abort { conn } => seen.aborted.push(conn),
                Output::Event(Event::Log(line)) => seen.logs.push(line),
                _ => {}
            }
        }
    }

    fn peer(ip: &str, port: u16) -> PeerAddr {
        PeerAddr {
            ip: ip.into(),
            port,
        }
    }

    fn send(node: &mut Node, conn: ConnId, argv: &[&[u8]]) {
        node.handle(
            T0,
            Input::Bytes {
                conn,
                data: encode_command(argv),
            },
        );
    }

    #[test]
    fn protected_mode_refuses_other_hosts_until_a_password_is_set() {
        let mut node = Node::new(Config::default(), T0, 1);
        let mut seen = Seen::default();
        let far = node.accept(T0, peer("10.0.0.7", 40000));
        let near = node.accept(T0, peer("127.0.0.1", 40001));
        let v6 = node.accept(T0, peer("::1", 40002));
        pump(&mut node, T0, &[], &mut seen);
        assert_eq!(seen.sent[&far], PROTECTED_MODE_DENIED.as_bytes());
        assert!(PROTECTED_MODE_DENIED.starts_with(
            "-DENIED Redis is running in protected mode because protected mode is enabled"
        ));
        assert_eq!(seen.closed, vec![far]);
        assert!(
            !node.clients.contains_key(&far)
                && node.clients.contains_key(&near)
                && node.clients.contains_key(&v6)
        );
        assert_eq!(
            (
                node.stats.rejected_connections,
                node.stats.total_connections_received
            ),
            (1, 2)
        );
        // A 127.0.0.2 client is not loopback to Redis either.
        let other_loopback = node.accept(T0, peer("127.0.0.2", 40003));
        pump(&mut node, T0, &[], &mut seen);
        assert!(seen.closed.contains(&other_loopback));
        // With a password, or protected mode off, everyone is served.
        node.config.requirepass = Some(b"pw".to_vec());
        let far2 = node.accept(T0, peer("10.0.0.7", 40004));
        node.config.requirepass = None;
        node.config.protected_mode = false;
        let far3 = node.accept(T0, peer("10.0.0.7", 40005));
        assert!(node.clients.contains_key(&far2) && node.clients.contains_key(&far3));
        assert!(node
            .info_text(&["everything".to_string()])
            .contains("rejected_connections:2\r\n"));
    }

    #[test]
    fn maxclients_refuses_with_redis_error_and_counts_every_client() {
        let config = Config {
            maxclients: 2,
            ..Config::default()
        };
        let mut node = Node::new(config, T0, 1);
        let mut seen = Seen::default();
        let a = node.accept(T0, peer("127.0.0.1", 1));
        let b = node.accept(T0, peer("127.0.0.1", 2));
        // A replica of ours is a client like any other.
        send(&mut node, b, &[b"PSYNC", b"?", b"-1"]);
        assert_eq!(node.replicas().count(), 1);
        let c = node.accept(T0, peer("127.0.0.1", 3));
        pump(&mut node, T0, &[], &mut seen);
        assert_eq!(seen.sent[&c], b"-ERR max number of clients reached\r\n");
        assert_eq!(seen.closed, vec![c]);
        assert!(node
            .info_text(&["everything".to_string()])
            .contains("maxclients:2\r\n"));
        // One leaves: the next is served.
        node.handle(T0, Input::Closed { conn: a });
        let d = node.accept(T0, peer("127.0.0.1", 4));
        assert!(node.clients.contains_key(&b) && node.clients.contains_key(&d));
    }

    #[test]
    fn our_masters_link_counts_against_maxclients() {
        use crate::engine::keyspace::Keyspace;
        use crate::engine::rdb::{self, SnapshotMeta};
        let config = Config {
            replicaof: Some(("master".into(), 6379)),
            maxclients: 1,
            ..Config::default()
        };
        let mut node = Node::new(config, T0, 7);
        let link = std::iter::from_fn(|| node.poll_output())
            .find_map(|o| match o {
                Output::Connect { conn, .. } => Some(conn),
                _ => None,
            })
            .expect("the replica connects to its master");
        node.handle(T0, Input::Connected { conn: link });
        node.handle(
            T0,
            Input::Bytes {
                conn: link,
                data: b"+PONG\r\n".to_vec(),
            },
        );
        node.handle(
            T0,
            Input::Bytes {
                conn: link,
                data: b"+OK\r\n+OK\r\n".to_vec(),
            },
        );
        let meta = SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 1000,
            used_mem: 0,
            repl: None,
        };
        let payload = rdb::write(&Keyspace::default(), &meta, T0);
        let mut sync =
            format!("+FULLRESYNC {} 0\r\n${}\r\n", "a".repeat(40), payload.len()).into_bytes();
        sync.extend(payload);
        node.handle(
            T0,
            Input::Bytes {
                conn: link,
                data: sync,
            },
        );
        assert!(node.master_link().is_some_and(|l| l.is_connected()));
        let mut seen = Seen::default();
        pump(&mut node, T0, &[], &mut seen);
        let c = node.accept(T0, peer("127.0.0.1", 3));
        pump(&mut node, T0, &[], &mut seen);
        assert_eq!(seen.sent[&c], MAX_CLIENTS_REACHED.as_bytes());
    }

    #[test]
    fn a_query_buffer_past_its_limit_closes_the_client_with_redis_log_line() {
        let config = Config {
            client_query_buffer_limit: 1 << 20,
            ..Config::default()
        };
        let mut node = Node::new(config, T0, 1);
        let mut seen = Seen::default();
        let conn = node.accept(T0, peer("127.0.0.1", 5000));
        let mut head = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n".to_vec();
        head.extend(vec![b'x'; 512 * 1024]);
        node.handle(T0, Input::Bytes { conn, data: head });
        pump(&mut node, T0, &[], &mut seen);
        assert!(seen.aborted.is_empty(), "under the limit");
        node.handle(
            T0,
            Input::Bytes {
                conn,
                data: vec![b'x'; 600 * 1024],
            },
        );
        pump(&mut node, T0, &[], &mut seen);
        assert_eq!(seen.aborted, vec![conn]);
        let line = seen
            .logs
            .iter()
            .find(|l| l.contains("max query buffer"))
            .expect("logged");
        assert!(line.starts_with(&format!("Closing client that reached max query buffer length: id={conn} addr=127.0.0.1:5000 ")), "{line}");
        // The 30-byte header, 512 KiB, then 600 KiB; the log shows its first 64 bytes.
        assert!(
            line.contains(&format!(" qbuf={} ", 30 + 512 * 1024 + 600 * 1024)),
            "{line}"
        );
        let shown = format!(
            r#" (qbuf initial bytes: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n{}")"#,
            "x".repeat(34)
        );
        assert!(line.ends_with(&shown), "{line}");
    }

    #[test]
    fn commands_queued_in_multi_count_against_the_query_buffer_limit() {
        let config = Config {
            client_query_buffer_limit: 1 << 20,
            ..Config::default()
        };
        let mut node = Node::new(config, T0, 1);
        let mut seen = Seen::default();
        let conn = node.accept(T0, peer("127.0.0.1", 5005));
        send(&mut node, conn, &[b"MULTI"]);
        let value = vec![b'v'; 100_000];
        for i in 0..12 {
            send(&mut node, conn, &[b"SET", b"k", &value]);
            pump(&mut node, T0, &[], &mut seen);
            // The eleventh request's read: 10 x 100 KB queued and 100 KB read pass 1 MiB.
            assert_eq!(!seen.aborted.is_empty(), i == 10, "command {i}");
            if i == 10 {
                break;
            }
        }
        assert!(seen.logs.iter().any(|l| l
            .starts_with("Closing client that reached max query buffer length: ")
            && l.contains(" flags=x ")));
    }

    #[test]
    fn an_unauthenticated_client_that_never_reads_is_dropped_past_1024_bytes() {
        let config = Config {
            requirepass: Some(b"secret".to_vec()),
            ..Config::default()
        };
        let mut node = Node::new(config, T0, 1);
        let mut seen = Seen::default();
        let conn = node.accept(T0, peer("127.0.0.1", 5001));
        let ping = encode_command(&[b"PING"]);
        for round in 0..100 {
            node.handle(
                T0,
                Input::Bytes {
                    conn,
                    data: ping.repeat(50),
                },
            );
            pump(&mut node, T0, &[conn], &mut seen);
            if !seen.aborted.is_empty() {
                // 50 NOAUTH errors of 34 bytes a round: over 16 KiB + 1 KiB by round 11.
                assert!((9..=11).contains(&round), "dropped at round {round}");
                break;
            }
        }
        assert_eq!(seen.aborted, vec![conn]);
        assert!(
            seen.logs.iter().any(|l| l
                .starts_with(&format!("Client id={conn} addr=127.0.0.1:5001 "))
                && l.ends_with(
                    " scheduled to be closed ASAP for overcoming of output buffer limits."
                )),
            "{:?}",
            seen.logs
        );
        // Authenticated, the same client would only meet the default (engine) cap.
        let conn2 = node.accept(T0, peer("127.0.0.1", 5002));
        send(&mut node, conn2, &[b"AUTH", b"secret"]);
        for _ in 0..100 {
            node.handle(
                T0,
                Input::Bytes {
                    conn: conn2,
                    data: ping.repeat(50),
                },
            );
        }
        pump(&mut node, T0, &[conn2], &mut seen);
        assert_eq!(seen.aborted, vec![conn]);
    }

    #[test]
    fn amplifying_commands_stop_at_the_output_cap_and_drop_the_client() {
        let mut node = Node::new(Config::default(), T0, 1);
        let mut seen = Seen::default();
        let conn = node.accept(T0, peer("127.0.0.1", 5003));
        let big = vec![b'm'; 1 << 20];
        send(&mut node, conn, &[b"SADD", b"s", &big]);
        send(&mut node, conn, &[b"SET", b"k", &big]);
        send(&mut node, conn, &[b"HSET", b"h", b"f", &big]);
        pump(&mut node, T0, &[], &mut seen);
        let mut mget: Vec<&[u8]> = vec![b"MGET"];
        mget.extend(std::iter::repeat_n(&b"k"[..], 100_000));
        let mut hmget: Vec<&[u8]> = vec![b"HMGET", b"h"];
        hmget.extend(std::iter::repeat_n(&b"f"[..], 100_000));
        let cases: [&[&[u8]]; 3] = [&[b"SRANDMEMBER", b"s", b"-1000000"], &mget, &hmget];
        for argv in cases {
            let c = node.accept(T0, peer("127.0.0.1", 6000));
            send(&mut node, c, argv);
            let mut one = Seen::default();
            pump(&mut node, T0, &[], &mut one);
            assert_eq!(one.aborted, vec![c], "{:?}", &argv[0]);
            assert!(
                !one.sent.contains_key(&c),
                "nothing of the cut reply is sent"
            );
            assert!(one.logs.iter().any(|l| l.contains(" cmd=")
                && l.ends_with(
                    "scheduled to be closed ASAP for overcoming of output buffer limits."
                )));
        }
        // Under the cap the whole reply comes, as Redis sends it.
        let c = node.accept(T0, peer("127.0.0.1", 6001));
        send(&mut node, c, &[b"SRANDMEMBER", b"s", b"-3"]);
        let mut one = Seen::default();
        pump(&mut node, T0, &[], &mut one);
        assert_eq!(one.sent[&c].len(), 3 * (big.len() + 12) + 4);
    }

    #[test]
    fn the_normal_class_limits_are_enforced() {
        let mut config = Config::default();
        config.client_output_buffer_limit[0] = (1 << 20, 256 << 10, 2);
        let mut node = Node::new(config, T0, 1);
        let mut seen = Seen::default();
        let writer = node.accept(T0, peer("127.0.0.1", 7000));
        send(&mut node, writer, &[b"SET", b"k", &vec![b'v'; 300_000]]);
        pump(&mut node, T0, &[], &mut seen);
        // Hard: the fourth unread GET of 300 KB takes it past 1 MiB beyond the static buffer.
        let hard = node.accept(T0, peer("127.0.0.1", 7001));
        for i in 0..4 {
            send(&mut node, hard, &[b"GET", b"k"]);
            pump(&mut node, T0, &[hard], &mut seen);
            assert_eq!(!seen.aborted.is_empty(), i == 3, "GET {i}");
            if i == 1 {
                // CLIENT LIST shows what it has not read, as Redis does.
                let id = hard.to_string();
                send(
                    &mut node,
                    writer,
                    &[b"CLIENT", b"LIST", b"ID", id.as_bytes()],
                );
                pump(&mut node, T0, &[hard], &mut seen);
                let list = String::from_utf8_lossy(&seen.sent[&writer]).into_owned();
                assert!(
                    list.contains(" obl=16384 oll=36 omem=589824 ") && list.contains(" events=rw "),
                    "{list}"
                );
            }
        }
        // Soft: over 256 KiB is fine for 2 s, not for a third.
        let soft = node.accept(T0, peer("127.0.0.1", 7002));
        send(&mut node, soft, &[b"GET", b"k"]);
        send(&mut node, soft, &[b"GET", b"k"]);
        pump(&mut node, T0, &[soft], &mut seen);
        assert!(!seen.aborted.contains(&soft));
        node.tick(T0 + 2_900);
        pump(&mut node, T0 + 2_900, &[soft], &mut seen);
        assert!(!seen.aborted.contains(&soft));
        node.tick(T0 + 3_100);
        pump(&mut node, T0 + 3_100, &[soft], &mut seen);
        assert!(seen.aborted.contains(&soft));
        assert!(seen
            .logs
            .iter()
            .any(|l| l.starts_with(&format!("Client id={soft} "))
                && l.ends_with(" closed for overcoming of output buffer limits.")));
    }

    #[test]
    fn repr_quotes_like_sdscatrepr() {
        assert_eq!(
            crate::engine::resp::quote(b"*1\r\n$4\r\nPING\"\\\x01\x07"),
            r#""*1\r\n$4\r\nPING\"\\\x01\a""#
        );
    }
}
