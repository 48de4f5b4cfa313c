//! The command table and the checks Redis makes before running a command.
//!
//! `Node::execute` follows the order of Redis's `processCommand`: unknown command, arity,
//! authentication, MULTI restrictions, min-replicas, read-only replica, stale data; then
//! the command is queued (inside MULTI) or run. The error texts are Redis 7.0's, byte
//! for byte. A rejection inside MULTI flags the transaction, and a rejected EXEC aborts it.

mod config;
mod connection;
mod keys;
mod server;
mod strings;
mod transaction;

pub use transaction::MultiState;

use super::resp::reply;
use super::{Client, ClientRole, Node};

/// The command changes the dataset (refused on a read-only replica, propagated).
pub const WRITE: u32 = 1 << 0;
pub const READONLY: u32 = 1 << 1;
pub const ADMIN: u32 = 1 << 2;
/// Allowed before AUTH.
pub const NO_AUTH: u32 = 1 << 3;
/// Allowed on a replica whose link is down while replica-serve-stale-data is no.
pub const STALE: u32 = 1 << 4;
/// Refused inside MULTI ("Command not allowed inside a transaction").
pub const NO_MULTI: u32 = 1 << 5;

type Handler = fn(&mut Node, &mut Client, &[Vec<u8>]) -> Vec<u8>;

pub struct CommandSpec {
    /// Lower-case name, as Redis shows it in error messages; a subcommand's is its full
    /// name (`client|list`).
    pub name: &'static str,
    /// Exact argument count including the name when positive, minimum when negative.
    pub arity: i32,
    pub flags: u32,
    pub handler: Handler,
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "auth", arity: -2, flags: NO_AUTH | STALE, handler: connection::auth },
    CommandSpec { name: "client", arity: -2, flags: 0, handler: connection::container },
    CommandSpec { name: "command", arity: -1, flags: STALE, handler: connection::command },
    CommandSpec { name: "config", arity: -2, flags: 0, handler: connection::container },
    CommandSpec { name: "dbsize", arity: 1, flags: READONLY, handler: keys::dbsize },
    CommandSpec { name: "del", arity: -2, flags: WRITE, handler: keys::del },
    CommandSpec { name: "discard", arity: 1, flags: STALE, handler: transaction::discard },
    CommandSpec { name: "echo", arity: 2, flags: STALE, handler: server::echo },
    CommandSpec { name: "exec", arity: 1, flags: STALE, handler: transaction::exec },
    CommandSpec { name: "get", arity: 2, flags: READONLY, handler: strings::get },
    CommandSpec { name: "info", arity: -1, flags: STALE, handler: server::info },
    CommandSpec { name: "multi", arity: 1, flags: STALE, handler: transaction::multi },
    CommandSpec { name: "ping", arity: -1, flags: 0, handler: server::ping },
    CommandSpec { name: "psync", arity: -3, flags: ADMIN | NO_MULTI, handler: server::psync },
    CommandSpec { name: "quit", arity: -1, flags: NO_AUTH | STALE, handler: connection::quit },
    CommandSpec { name: "replconf", arity: -1, flags: ADMIN | STALE, handler: server::replconf },
    CommandSpec { name: "replicaof", arity: 3, flags: ADMIN | STALE, handler: server::replicaof },
    CommandSpec { name: "select", arity: 2, flags: STALE, handler: keys::select },
    CommandSpec { name: "set", arity: -3, flags: WRITE, handler: strings::set },
    CommandSpec { name: "shutdown", arity: -1, flags: ADMIN | STALE | NO_MULTI, handler: connection::shutdown },
    CommandSpec { name: "slaveof", arity: 3, flags: ADMIN | STALE, handler: server::replicaof },
    CommandSpec { name: "sync", arity: 1, flags: ADMIN | NO_MULTI, handler: server::sync },
    CommandSpec { name: "time", arity: 1, flags: STALE, handler: connection::time },
];

pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
}

/// The subcommands of a container command (Redis 7.0 runs `CLIENT LIST` as its own
/// command `client|list`, with its own arity and flags). Each table is sorted.
pub fn subcommands(container: &str) -> Option<&'static [CommandSpec]> {
    match container {
        "client" => Some(connection::CLIENT_SUBCOMMANDS),
        "command" => Some(connection::COMMAND_SUBCOMMANDS),
        "config" => Some(config::CONFIG_SUBCOMMANDS),
        _ => None,
    }
}

/// Redis's `lookupCommand` for a request: the command, or for a container with an
/// argument, its subcommand. `Err` is the error text for an unknown one.
pub fn resolve(argv: &[Vec<u8>]) -> Result<&'static CommandSpec, Vec<u8>> {
    let Some(base) = lookup(&argv[0]) else {
        return Err(unknown_command_error(argv));
    };
    let Some(subs) = subcommands(base.name).filter(|_| argv.len() > 1) else {
        return Ok(base);
    };
    let wanted = &argv[1];
    subs.iter()
        .find(|s| s.name.split_once('|').is_some_and(|(_, sub)| sub.as_bytes().eq_ignore_ascii_case(wanted)))
        .ok_or_else(|| unknown_subcommand_error(argv))
}

/// `unknown subcommand 'x'. Try CLIENT HELP.`: the subcommand as a C string cut at 128
/// bytes, the container's name as typed, upper-cased.
fn unknown_subcommand_error(argv: &[Vec<u8>]) -> Vec<u8> {
    fn c_str(a: &[u8]) -> &[u8] {
        a.iter().position(|&b| b == 0).map_or(a, |nul| &a[..nul])
    }
    let sub = c_str(&argv[1]);
    let mut msg = b"ERR unknown subcommand '".to_vec();
    msg.extend_from_slice(&sub[..sub.len().min(128)]);
    msg.extend_from_slice(b"'. Try ");
    msg.extend(c_str(&argv[0]).to_ascii_uppercase());
    msg.extend_from_slice(b" HELP.");
    msg
}

/// Redis's reply to an unknown command: the name and a preview of the arguments, each
/// quoted and followed by a space, cut once the preview reaches 128 bytes.
///
/// Redis formats these with `%.*s`, so the text is the raw bytes (not necessarily UTF-8)
/// and every name or argument ends at its first NUL byte, as a C string would.
pub fn unknown_command_error(argv: &[Vec<u8>]) -> Vec<u8> {
    fn c_str(a: &[u8]) -> &[u8] {
        a.iter().position(|&b| b == 0).map_or(a, |nul| &a[..nul])
    }
    let mut args = Vec::new();
    for a in &argv[1..] {
        if args.len() >= 128 {
            break;
        }
        let a = c_str(a);
        let room = 128 - args.len();
        args.push(b'\'');
        args.extend_from_slice(&a[..a.len().min(room)]);
        args.extend_from_slice(b"' ");
    }
    let name = c_str(&argv[0]);
    let mut msg = b"ERR unknown command '".to_vec();
    msg.extend_from_slice(&name[..name.len().min(128)]);
    msg.extend_from_slice(b"', with args beginning with: ");
    msg.extend(args);
    msg
}

impl Node {
    /// Runs one command for `client` and returns its reply bytes (the caller decides
    /// whether the client gets to see them: replicas and masters do not).
    pub(crate) fn execute(&mut self, client: &mut Client, argv: Vec<Vec<u8>>) -> Vec<u8> {
        client.argv_mem = argv.iter().map(|a| a.len()).sum();
        let spec = match resolve(&argv) {
            Ok(spec) => spec,
            Err(msg) => {
                client.last_cmd = None;
                return self.reject(client, None, &msg);
            }
        };
        client.last_cmd = Some(spec.name);
        let argc = argv.len() as i32;
        if (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity {
            let msg = format!("ERR wrong number of arguments for '{}' command", spec.name);
            return self.reject(client, Some(spec), msg.as_bytes());
        }
        // EXEC is as much a write, and as little allowed on stale data, as what it runs.
        let queued = client.multi.as_ref().filter(|_| spec.name == "exec");
        let is_write = spec.flags & WRITE != 0 || queued.is_some_and(|m| m.any_flag(WRITE));
        let deny_stale = spec.flags & STALE == 0 || queued.is_some_and(|m| m.any_without(STALE));
        let from_master = client.role == ClientRole::Master;
        if self.auth_required(client) && spec.flags & NO_AUTH == 0 {
            return self.reject(client, Some(spec), b"NOAUTH Authentication required.");
        }
        if client.multi.is_some() && spec.flags & NO_MULTI != 0 {
            return self.reject(client, Some(spec), b"ERR Command not allowed inside a transaction");
        }
        if is_write && !self.enough_good_replicas() {
            return self.reject(client, Some(spec), b"NOREPLICAS Not enough good replicas to write.");
        }
        if self.repl.link.is_some() && self.config.replica_read_only && !from_master && is_write {
            return self.reject(client, Some(spec), b"READONLY You can't write against a read only replica.");
        }
        if let Some(link) = &self.repl.link {
            if !link.is_connected() && !self.config.replica_serve_stale_data && deny_stale {
                return self.reject(
                    client,
                    Some(spec),
                    b"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
                );
            }
        }
        if client.multi.is_some() && !matches!(spec.name, "exec" | "discard" | "multi" | "quit") {
            transaction::queue(client, spec, argv);
            return reply::simple("QUEUED");
        }
        self.call(client, spec, &argv)
    }

    /// Redis's `call`: runs the command and accounts for it. Outside EXEC, what it
    /// propagated goes to the replication stream now; inside, after the whole EXEC.
    pub(crate) fn call(&mut self, client: &mut Client, spec: &'static CommandSpec, argv: &[Vec<u8>]) -> Vec<u8> {
        let out = (spec.handler)(self, client, argv);
        self.stats.total_commands_processed += 1;
        let failed = out.first() == Some(&b'-');
        if failed {
            self.counters.error_reply(&out);
        }
        self.counters.called(spec.name, failed);
        if !self.in_exec {
            self.flush_propagation();
        }
        out
    }

    /// Redis's `rejectCommand`: the error, counted; inside MULTI the transaction is
    /// flagged to fail at EXEC, and a rejected EXEC aborts the transaction at once.
    /// `msg` is the whole error (`ERR ...`, `NOAUTH ...`).
    fn reject(&mut self, client: &mut Client, spec: Option<&'static CommandSpec>, msg: &[u8]) -> Vec<u8> {
        if let Some(m) = client.multi.as_mut() {
            m.dirty = true;
        }
        let mut msg = msg.to_vec();
        if let Some(spec) = spec {
            self.counters.rejected(spec.name);
            if spec.name == "exec" {
                // execCommandAbort, even outside MULTI: the reason loses its "ERR ".
                client.multi = None;
                let reason = msg.strip_prefix(b"ERR ").unwrap_or(&msg).to_vec();
                msg = [b"EXECABORT Transaction discarded because of: ".as_slice(), &reason].concat();
            }
        }
        let out = reply::error_bytes(&msg);
        self.counters.error_reply(&out);
        out
    }

    /// Redis's `checkGoodReplicasStatus`: with min-replicas-to-write set, a master needs
    /// that many online replicas that acknowledged within min-replicas-max-lag seconds.
    pub(crate) fn enough_good_replicas(&self) -> bool {
        self.repl.link.is_some()
            || self.config.min_replicas_max_lag == 0
            || self.config.min_replicas_to_write == 0
            || self.good_replicas() >= self.config.min_replicas_to_write
    }

    /// Online replicas whose last ACK is at most min-replicas-max-lag seconds old
    /// (counted in whole unix seconds, as Redis does).
    pub(crate) fn good_replicas(&self) -> u64 {
        let now = self.now / 1000;
        self.replicas()
            .filter(|(_, p)| {
                p.state == super::replication::ReplicaSyncState::Online
                    && now.saturating_sub(p.ack_time / 1000) <= self.config.min_replicas_max_lag
            })
            .count() as u64
    }
}

/// Lower-cased copy of an argument, for option matching.
pub(crate) fn lower(arg: &[u8]) -> Vec<u8> {
    arg.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_preview_matches_redis() {
        let argv: Vec<Vec<u8>> = vec![b"foo".to_vec(), b"bar".to_vec(), b"baz".to_vec()];
        assert_eq!(unknown_command_error(&argv), b"ERR unknown command 'foo', with args beginning with: 'bar' 'baz' ");
        let argv: Vec<Vec<u8>> = vec![b"foo".to_vec()];
        assert_eq!(unknown_command_error(&argv), b"ERR unknown command 'foo', with args beginning with: ");
        // Raw bytes, each argument cut at a NUL like the C string it is in Redis.
        let argv: Vec<Vec<u8>> = vec![b"f\x00o".to_vec(), b"\xff".to_vec(), b"a\x00b".to_vec()];
        assert_eq!(unknown_command_error(&argv), b"ERR unknown command 'f', with args beginning with: '\xff' 'a' ");
    }

    #[test]
    fn table_is_sorted_and_lowercase() {
        for w in COMMANDS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        assert!(COMMANDS.iter().all(|c| c.name == c.name.to_ascii_lowercase()));
        for c in COMMANDS {
            let Some(subs) = subcommands(c.name) else { continue };
            for w in subs.windows(2) {
                assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
            }
            let prefix = format!("{}|", c.name);
            assert!(subs.iter().all(|s| s.name.starts_with(&prefix) && s.name == s.name.to_ascii_lowercase()));
        }
    }

    #[test]
    fn subcommands_resolve_like_redis() {
        let argv = |items: &[&[u8]]| items.iter().map(|s| s.to_vec()).collect::<Vec<_>>();
        assert_eq!(resolve(&argv(&[b"CLIENT", b"List"])).ok().map(|s| s.name), Some("client|list"));
        assert_eq!(resolve(&argv(&[b"client"])).ok().map(|s| s.name), Some("client"));
        assert_eq!(resolve(&argv(&[b"cOnFiG", b"nope"])).err().unwrap(), b"ERR unknown subcommand 'nope'. Try CONFIG HELP.");
        // A C string: cut at the NUL byte.
        assert_eq!(resolve(&argv(&[b"config", b"a\0b"])).err().unwrap(), b"ERR unknown subcommand 'a'. Try CONFIG HELP.");
    }
}
