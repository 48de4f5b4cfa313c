//! Connection and server-control commands: AUTH, QUIT, CLIENT (LIST, INFO, KILL,
//! SETNAME, GETNAME, ID, PAUSE, UNPAUSE), COMMAND COUNT, TIME and SHUTDOWN, as Redis 7.0 answers them.

use super::{lower, CommandSpec, ADMIN, COMMANDS, STALE};
use crate::engine::pause::{PausePurpose, PauseType};
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, ClientRole, Event, Node, PeerAddr};

const SYNTAX: &str = "ERR syntax error";

/// `CLIENT <subcommand>`, each with Redis 7.0's arity and flags.
pub static CLIENT_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "client|getname",
        arity: 2,
        flags: STALE,
        handler: client_getname,
    },
    CommandSpec {
        name: "client|id",
        arity: 2,
        flags: STALE,
        handler: client_id,
    },
    CommandSpec {
        name: "client|info",
        arity: 2,
        flags: STALE,
        handler: client_info,
    },
    CommandSpec {
        name: "client|kill",
        arity: -3,
        flags: ADMIN | STALE,
        handler: client_kill,
    },
    CommandSpec {
        name: "client|list",
        arity: -2,
        flags: ADMIN | STALE,
        handler: client_list,
    },
    CommandSpec {
        name: "client|pause",
        arity: -3,
        flags: ADMIN | STALE,
        handler: client_pause,
    },
    CommandSpec {
        name: "client|setname",
        arity: 3,
        flags: STALE,
        handler: client_setname,
    },
    CommandSpec {
        name: "client|unpause",
        arity: 2,
        flags: ADMIN | STALE,
        handler: client_unpause,
    },
];

/// `COMMAND <subcommand>`.
pub static COMMAND_SUBCOMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "command|count",
    arity: 2,
    flags: STALE,
    handler: command_count,
}];

/// A container command called with a subcommand is resolved before it runs, and without
/// one it fails its arity check; this runs for neither, but the table needs a handler.
pub fn container(_node: &mut Node, _client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    reply::error(&format!(
        "ERR wrong number of arguments for '{}' command",
        String::from_utf8_lossy(&lower(&argv[0]))
    ))
}

/// AUTH [username] password, against the default user (the only user there is) whose
/// password is `requirepass`.
pub fn auth(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.len() > 3 {
        return reply::error(SYNTAX);
    }
    let (user, pass) = if argv.len() == 2 {
        if node.config.requirepass.is_none() {
            return reply::error(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            );
        }
        (b"default".as_slice(), &argv[1])
    } else {
        (argv[1].as_slice(), &argv[2])
    };
    // Usernames are case-sensitive; a user without a password accepts any.
    let ok = user == b"default"
        && node
            .config
            .requirepass
            .as_ref()
            .is_none_or(|p| password_matches(p, pass));
    if !ok {
        return reply::error("WRONGPASS invalid username-password pair or user is disabled.");
    }
    client.authenticated = true;
    reply::ok()
}

/// Redis's ACL password check: both passwords hashed (SHA-256) and the hashes compared
/// with `time_independent_strcmp`, so the time taken says nothing about how much of a
/// guess was right, nor about the password's length.
fn password_matches(stored: &[u8], given: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(stored), Sha256::digest(given));
    // Every byte is looked at, whatever differs first.
    let diff = a.iter().zip(b.iter()).fold(0u8, |d, (x, y)| d | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// CLIENT PAUSE timeout [WRITE|ALL]: until `timeout` ms from now, writes (WRITE) or all
/// commands (ALL, the default) of normal clients wait. A second pause only extends it.
fn client_pause(node: &mut Node, _client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.len() > 4 {
        // Redis's CLIENT takes PAUSE with 3 or 4 arguments only, and says so this way.
        return reply::error_bytes(
            &[
                &b"ERR unknown subcommand or wrong number of arguments for '"[..],
                &argv[1][..argv[1].len().min(128)],
                b"'. Try CLIENT HELP.",
            ]
            .concat(),
        );
    }
    let kind = match argv.get(3).map(|a| lower(a)) {
        None => PauseType::All,
        Some(m) if m == b"write" => PauseType::Write,
        Some(m) if m == b"all" => PauseType::All,
        Some(_) => return reply::error("ERR CLIENT PAUSE mode must be WRITE or ALL"),
    };
    let Some(ms) = parse_i64(&argv[2]) else {
        return reply::error("ERR timeout is not an integer or out of range");
    };
    if ms < 0 {
        return reply::error("ERR timeout is negative");
    }
    // A timeout of 0 is an end of 0: a pause already over.
    let end = if ms > 0 {
        node.now.saturating_add(ms as u64)
    } else {
        0
    };
    node.pause_clients(PausePurpose::ClientCommand, end, kind);
    reply::ok()
}

/// CLIENT UNPAUSE: ends CLIENT PAUSE's pause (not one a failover holds).
fn client_unpause(node: &mut Node, _client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    node.unpause_clients(PausePurpose::ClientCommand);
    reply::ok()
}

pub fn quit(_node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    client.close_after_reply = true;
    reply::ok()
}

/// TIME: unix seconds and microseconds, from the node's clock (milliseconds).
pub fn time(node: &mut Node, _client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = reply::array_header(2);
    out.extend(reply::bulk((node.now / 1000).to_string().as_bytes()));
    out.extend(reply::bulk(
        ((node.now % 1000) * 1000).to_string().as_bytes(),
    ));
    out
}

/// COMMAND without a subcommand would describe every command (flags, key positions,
/// ACL categories...), metadata this engine's table does not carry.
pub fn command(_node: &mut Node, _client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    reply::error("ERR replscope does not describe its commands: use COMMAND COUNT")
}

/// COMMAND COUNT: the top-level commands of the table (Redis counts its own 240).
pub fn command_count(_node: &mut Node, _client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    reply::integer(COMMANDS.len() as i64)
}

/// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT].
///
/// There is nothing to save: without SAVE the server simply stops (every connection
/// closed, [`Event::Shutdown`] for the host). SAVE would write a snapshot to disk, which
/// this engine cannot do, so it fails the way Redis fails when its save fails, unless
/// FORCE says to stop anyway. Redis waits for lagging replicas first (shutdown-timeout);
/// this engine stops at once, as with NOW.
pub fn shutdown(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (mut nosave, mut save, mut force, mut abort, mut now) = (false, false, false, false, false);
    for a in &argv[1..] {
        match lower(a).as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" => now = true,
            b"force" => force = true,
            b"abort" => abort = true,
            _ => return reply::error(SYNTAX),
        }
    }
    if (abort && (nosave || save || now || force)) || (nosave && save) {
        return reply::error(SYNTAX);
    }
    if abort {
        return reply::error("ERR No shutdown in progress.");
    }
    node.log("User requested shutdown...");
    if save && !force {
        node.log("Error trying to save the DB, can't exit.");
        node.log("(replscope keeps everything in memory and cannot write a snapshot to disk)");
        node.log("Errors trying to shut down the server. Check the logs for more information.");
        return reply::error("ERR Errors trying to SHUTDOWN. Check logs.");
    }
    let _ = (now, client);
    node.log("Redis is now ready to exit, bye bye...");
    node.stop();
    Vec::new()
}

impl Node {
    /// The server process ends: every connection closes, nothing runs any more.
    pub(crate) fn stop(&mut self) {
        self.shut_down = true;
        let conns: Vec<_> = self.clients.keys().copied().collect();
        for conn in conns {
            self.close_output(conn);
        }
        self.clients.clear();
        if let Some(conn) = self.repl.link.as_mut().and_then(|l| l.conn.take()) {
            self.close_output(conn);
        }
        self.emit(Event::Shutdown);
    }

    /// Every client as CLIENT LIST shows it, in connection order, with `me` (the client
    /// running the command, which is not in the map while it does) in its place.
    fn all_clients<'a>(&'a self, me: &'a Client) -> Vec<&'a Client> {
        let mut all: Vec<&Client> = self.clients.values().collect();
        all.push(me);
        crate::engine::sort::sort_by_key(&mut all, |c| c.conn);
        all
    }

    /// One line of CLIENT LIST / CLIENT INFO, field for field as Redis 7.0's
    /// `catClientInfoString`. Memory figures the engine cannot know (buffer sizes and
    /// allocations) are plausible values shaped like Redis's.
    pub(crate) fn client_info_line(&self, c: &Client, me: bool) -> String {
        let mut flags = String::new();
        match c.role {
            ClientRole::Replica(_) => flags.push('S'),
            ClientRole::Master => flags.push('M'),
            ClientRole::Normal => {}
        }
        if c.multi.is_some() {
            flags.push('x');
        }
        if c.blocked.is_some() || c.postponed.is_some() {
            flags.push('b');
        }
        if c.close_after_reply {
            flags.push('c');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let secs = |ms: u64| (self.now / 1000).saturating_sub(ms / 1000);
        let laddr = match (&c.local, &c.role) {
            (Some(l), _) => addr_string(l),
            // Our end of the link to our master: the host did not say.
            (None, ClientRole::Master) => "?:0".to_string(),
            (None, _) => format!("{}:{}", self.config.bind, self.config.port),
        };
        // Only the running client has a command in its buffers.
        let (qbuf, argv_mem) = if me { (c.qbuf, c.argv_mem) } else { (0, 0) };
        // Redis's query buffer is a 20474-byte allocation until a big request grows it.
        let qbuf_free = 20474usize.saturating_sub(qbuf);
        // Replies up to 16 KiB sit in the static buffer, the rest in 16 KiB list nodes:
        // those the host has not written yet, and the running client's of this pass.
        let pending = self.unwritten_on(c.conn) as usize + if me { c.reply_pending } else { 0 };
        let mut obl = pending.min(16384);
        let mut oll = pending.saturating_sub(16384).div_ceil(16384);
        let mut omem = oll * 16384;
        // A replica's replies are the replication buffer from its block on; its own reply
        // buffer, unused after the handshake, has shrunk to 1 KiB.
        // A client with bytes its socket has not taken waits to be writable too.
        let waits_to_write = self.unwritten_on(c.conn) > 0;
        let (mut rbs, mut rbp, events) = (16384, 16384, if waits_to_write { "rw" } else { "r" });
        if matches!(c.role, ClientRole::Replica(_)) {
            let (bytes, blocks) = self.replica_output_usage(c.conn);
            (obl, oll, omem) = (0, blocks as usize, bytes as usize);
            (rbs, rbp) = (1024, 0);
        }
        let multi_mem = c.multi.as_ref().map_or(0, |m| m.mem);
        let tot_mem = 22272 + qbuf + argv_mem + multi_mem + omem;
        let (multi, user) = (
            c.multi.as_ref().map_or(-1, |m| m.commands.len() as i64),
            if c.role == ClientRole::Master {
                "(superuser)"
            } else {
                "default"
            },
        );
        format!(
            "id={} addr={} laddr={laddr} fd={} name={} age={} idle={} flags={flags} db={} sub=0 psub=0 ssub=0 multi={multi} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs={rbs} rbp={rbp} obl={obl} oll={oll} omem={omem} tot-mem={tot_mem} events={events} cmd={} user={user} redir=-1 resp=2",
            c.conn,
            addr_string(&c.peer),
            // A plausible descriptor: Redis's first client is usually fd 8.
            c.conn + 7,
            String::from_utf8_lossy(c.name.as_deref().unwrap_or_default()),
            secs(c.created_at),
            secs(c.last_interaction),
            c.db,
            c.last_cmd.unwrap_or("NULL"),
        )
    }
}

/// `ip:port`, with IPv6 addresses in brackets, as Redis formats peers.
fn addr_string(a: &PeerAddr) -> String {
    if a.ip.contains(':') {
        format!("[{}]:{}", a.ip, a.port)
    } else {
        format!("{}:{}", a.ip, a.port)
    }
}

/// Redis's client types for CLIENT LIST / KILL TYPE.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    Master,
    PubSub,
}

fn client_type_by_name(name: &[u8]) -> Option<ClientType> {
    match lower(name).as_slice() {
        b"normal" => Some(ClientType::Normal),
        b"slave" | b"replica" => Some(ClientType::Replica),
        b"master" => Some(ClientType::Master),
        b"pubsub" => Some(ClientType::PubSub),
        _ => None,
    }
}

fn client_type(c: &Client) -> ClientType {
    match c.role {
        ClientRole::Master => ClientType::Master,
        ClientRole::Replica(_) => ClientType::Replica,
        // No pub/sub here: nobody is ever of that type.
        ClientRole::Normal => ClientType::Normal,
    }
}

fn unknown_type(name: &[u8]) -> Vec<u8> {
    let mut msg = b"ERR Unknown client type '".to_vec();
    msg.extend_from_slice(name);
    msg.push(b'\'');
    reply::error_bytes(&msg)
}

fn client_list(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut out = String::new();
    if argv.len() == 4 && argv[2].eq_ignore_ascii_case(b"type") {
        let Some(t) = client_type_by_name(&argv[3]) else {
            return unknown_type(&argv[3]);
        };
        for c in node.all_clients(client) {
            if client_type(c) == t {
                out.push_str(&node.client_info_line(c, c.conn == client.conn));
                out.push('\n');
            }
        }
    } else if argv.len() > 3 && argv[2].eq_ignore_ascii_case(b"id") {
        let mut ids = Vec::new();
        for a in &argv[3..] {
            match parse_i64(a) {
                Some(id) => ids.push(id),
                None => return reply::error("ERR Invalid client ID"),
            }
        }
        // An id may be named many times, each a line of some 300 bytes: the reply stops
        // once the client's output buffer could not take it (the client is dropped).
        let room = node.reply_room(client);
        let all = node.all_clients(client);
        for id in ids {
            if out.len() > room {
                break;
            }
            if let Ok(i) = all.binary_search_by_key(&id, |c| c.conn as i64) {
                let c = all[i];
                out.push_str(&node.client_info_line(c, c.conn == client.conn));
                out.push('\n');
            }
        }
    } else if argv.len() != 2 {
        return reply::error(SYNTAX);
    } else {
        for c in node.all_clients(client) {
            out.push_str(&node.client_info_line(c, c.conn == client.conn));
            out.push('\n');
        }
    }
    reply::bulk(out.as_bytes())
}

fn client_info(node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    let mut line = node.client_info_line(client, true);
    line.push('\n');
    reply::bulk(line.as_bytes())
}

fn client_id(_node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    reply::integer(client.conn as i64)
}

fn client_getname(_node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    match &client.name {
        Some(n) => reply::bulk(n),
        None => reply::nil(),
    }
}

fn client_setname(_node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let name = &argv[2];
    // An empty name removes the name; others must split cleanly in CLIENT LIST.
    if name.is_empty() {
        client.name = None;
        return reply::ok();
    }
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return reply::error(
            "ERR Client names cannot contain spaces, newlines or special characters.",
        );
    }
    client.name = Some(name.clone());
    reply::ok()
}

/// CLIENT KILL addr (old form: may kill the caller, replies OK or "No such client") and
/// CLIENT KILL <ID id | TYPE type | ADDR addr | LADDR addr | USER user | SKIPME yes/no>...
/// (replies with the number killed). A killed master link behaves as a lost link: the
/// master is cached and the replica asks for a partial resync when it reconnects.
fn client_kill(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut addr: Option<&[u8]> = None;
    let mut laddr: Option<&[u8]> = None;
    let mut ctype: Option<ClientType> = None;
    let mut id: Option<u64> = None;
    let mut user: Option<&[u8]> = None;
    let mut skipme = true;
    let old_form = argv.len() == 3;
    if old_form {
        addr = Some(&argv[2]);
        skipme = false;
    } else {
        let mut i = 2;
        while i < argv.len() {
            let Some(value) = argv.get(i + 1) else {
                return reply::error(SYNTAX);
            };
            match lower(&argv[i]).as_slice() {
                b"id" => match parse_i64(value).filter(|v| *v >= 1) {
                    Some(v) => id = Some(v as u64),
                    None => return reply::error("ERR client-id should be greater than 0"),
                },
                b"type" => match client_type_by_name(value) {
                    Some(t) => ctype = Some(t),
                    None => return unknown_type(value),
                },
                b"addr" => addr = Some(value),
                b"laddr" => laddr = Some(value),
                b"user" => {
                    if value.as_slice() != b"default" {
                        let mut msg = b"ERR No such user '".to_vec();
                        msg.extend_from_slice(value);
                        msg.push(b'\'');
                        return reply::error_bytes(&msg);
                    }
                    user = Some(value);
                }
                b"skipme" => match lower(value).as_slice() {
                    b"yes" => skipme = true,
                    b"no" => skipme = false,
                    _ => return reply::error(SYNTAX),
                },
                _ => return reply::error(SYNTAX),
            }
            i += 2;
        }
    }
    let mut victims = Vec::new();
    let mut kill_me = false;
    for c in node.all_clients(client) {
        let line = node.client_info_line(c, false);
        let field = |name: &str| -> String {
            let key = format!(" {name}=");
            line.split_once(&key)
                .map(|(_, rest)| rest.split(' ').next().unwrap_or("").to_string())
                .unwrap_or_default()
        };
        if addr.is_some_and(|a| a != addr_string(&c.peer).as_bytes()) {
            continue;
        }
        if laddr.is_some_and(|a| a != field("laddr").as_bytes()) {
            continue;
        }
        if ctype.is_some_and(|t| t != client_type(c)) {
            continue;
        }
        if id.is_some_and(|id| id != c.conn) {
            continue;
        }
        // The master link runs as no user at all.
        if user.is_some() && c.role == ClientRole::Master {
            continue;
        }
        let is_me = c.conn == client.conn;
        if is_me && skipme {
            continue;
        }
        if is_me {
            kill_me = true;
        } else {
            victims.push(c.conn);
        }
    }
    let killed = victims.len() + kill_me as usize;
    for conn in victims {
        node.close_conn(conn);
    }
    if kill_me {
        client.close_after_reply = true;
    }
    if old_form {
        if killed == 0 {
            reply::error("ERR No such client")
        } else {
            reply::ok()
        }
    } else {
        reply::integer(killed as i64)
    }
}
