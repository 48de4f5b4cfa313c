//! The command table and the checks Redis makes before running a command.
//!
//! `Node::execute` follows the order of Redis's `processCommand`: unknown command, arity,
//! authentication, MULTI restrictions, min-replicas, read-only replica, stale data; then
//! the command is queued (inside MULTI) or run. The error texts are Redis 7.0's, byte
//! for byte. A rejection inside MULTI flags the transaction, and a rejected EXEC aborts it.

mod collection;
mod config;
mod connection;
#[cfg(not(target_arch = "wasm32"))]
mod debug;
mod expire;
mod hashes;
mod keys;
mod lists;
mod replication;
mod server;
mod sets;
mod strings;
mod transaction;
mod zsets;

pub use keys::stringmatch;
pub use transaction::MultiState;

use super::c_string::c_str;
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
/// Runs only where `enable-debug-command` allows it (Redis's `CMD_PROTECTED`; DEBUG is
/// the only such command here, there is no MODULE).
pub const PROTECTED: u32 = 1 << 6;

/// processCommand's refusal of a protected command, for DEBUG.
const DEBUG_REFUSED: &[u8] = b"ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// Whether `enable-debug-command` lets this client run DEBUG.
#[cfg(not(target_arch = "wasm32"))]
fn debug_allowed(node: &Node, client: &Client) -> bool {
    super::config::allows_protected(node.config.enable_debug_command, &client.peer.ip)
}

/// The page has no DEBUG (see `debug`): it answers as `enable-debug-command no`.
#[cfg(target_arch = "wasm32")]
fn debug_allowed(_: &Node, _: &Client) -> bool {
    false
}

/// The page's DEBUG: never run, as `enable-debug-command` is never satisfied there.
#[cfg(target_arch = "wasm32")]
mod debug {
    pub fn debug(_: &mut super::Node, _: &mut super::Client, _: &[Vec<u8>]) -> Vec<u8> {
        super::reply::error_bytes(super::DEBUG_REFUSED)
    }
}

type Handler = fn(&mut Node, &mut Client, &[Vec<u8>]) -> Vec<u8>;

#[derive(Debug)]
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
    CommandSpec {
        name: "append",
        arity: 3,
        flags: WRITE,
        handler: strings::append,
    },
    CommandSpec {
        name: "auth",
        arity: -2,
        flags: NO_AUTH | STALE,
        handler: connection::auth,
    },
    CommandSpec {
        name: "client",
        arity: -2,
        flags: 0,
        handler: connection::container,
    },
    CommandSpec {
        name: "command",
        arity: -1,
        flags: STALE,
        handler: connection::command,
    },
    CommandSpec {
        name: "config",
        arity: -2,
        flags: 0,
        handler: connection::container,
    },
    CommandSpec {
        name: "dbsize",
        arity: 1,
        flags: READONLY,
        handler: keys::dbsize,
    },
    CommandSpec {
        name: "debug",
        arity: -2,
        flags: ADMIN | STALE | PROTECTED,
        handler: debug::debug,
    },
    CommandSpec {
        name: "decr",
        arity: 2,
        flags: WRITE,
        handler: strings::decr,
    },
    CommandSpec {
        name: "decrby",
        arity: 3,
        flags: WRITE,
        handler: strings::decrby,
    },
    CommandSpec {
        name: "del",
        arity: -2,
        flags: WRITE,
        handler: keys::del,
    },
    CommandSpec {
        name: "discard",
        arity: 1,
        flags: STALE,
        handler: transaction::discard,
    },
    CommandSpec {
        name: "echo",
        arity: 2,
        flags: STALE,
        handler: server::echo,
    },
    CommandSpec {
        name: "exec",
        arity: 1,
        flags: STALE,
        handler: transaction::exec,
    },
    CommandSpec {
        name: "exists",
        arity: -2,
        flags: READONLY,
        handler: keys::exists,
    },
    CommandSpec {
        name: "expire",
        arity: -3,
        flags: WRITE,
        handler: expire::expire,
    },
    CommandSpec {
        name: "expireat",
        arity: -3,
        flags: WRITE,
        handler: expire::expireat,
    },
    CommandSpec {
        name: "expiretime",
        arity: 2,
        flags: READONLY,
        handler: expire::expiretime,
    },
    CommandSpec {
        name: "failover",
        arity: -1,
        flags: ADMIN | STALE,
        handler: crate::engine::replication::failover::failover,
    },
    CommandSpec {
        name: "flushall",
        arity: -1,
        flags: WRITE,
        handler: keys::flushall,
    },
    CommandSpec {
        name: "flushdb",
        arity: -1,
        flags: WRITE,
        handler: keys::flushdb,
    },
    CommandSpec {
        name: "get",
        arity: 2,
        flags: READONLY,
        handler: strings::get,
    },
    CommandSpec {
        name: "getdel",
        arity: 2,
        flags: WRITE,
        handler: strings::getdel,
    },
    CommandSpec {
        name: "getset",
        arity: 3,
        flags: WRITE,
        handler: strings::getset,
    },
    CommandSpec {
        name: "hdel",
        arity: -3,
        flags: WRITE,
        handler: hashes::hdel,
    },
    CommandSpec {
        name: "hexists",
        arity: 3,
        flags: READONLY,
        handler: hashes::hexists,
    },
    CommandSpec {
        name: "hget",
        arity: 3,
        flags: READONLY,
        handler: hashes::hget,
    },
    CommandSpec {
        name: "hgetall",
        arity: 2,
        flags: READONLY,
        handler: hashes::hgetall,
    },
    CommandSpec {
        name: "hincrby",
        arity: 4,
        flags: WRITE,
        handler: hashes::hincrby,
    },
    CommandSpec {
        name: "hincrbyfloat",
        arity: 4,
        flags: WRITE,
        handler: hashes::hincrbyfloat,
    },
    CommandSpec {
        name: "hkeys",
        arity: 2,
        flags: READONLY,
        handler: hashes::hkeys,
    },
    CommandSpec {
        name: "hlen",
        arity: 2,
        flags: READONLY,
        handler: hashes::hlen,
    },
    CommandSpec {
        name: "hmget",
        arity: -3,
        flags: READONLY,
        handler: hashes::hmget,
    },
    CommandSpec {
        name: "hmset",
        arity: -4,
        flags: WRITE,
        handler: hashes::hmset,
    },
    CommandSpec {
        name: "hset",
        arity: -4,
        flags: WRITE,
        handler: hashes::hset,
    },
    CommandSpec {
        name: "hsetnx",
        arity: 4,
        flags: WRITE,
        handler: hashes::hsetnx,
    },
    CommandSpec {
        name: "hstrlen",
        arity: 3,
        flags: READONLY,
        handler: hashes::hstrlen,
    },
    CommandSpec {
        name: "hvals",
        arity: 2,
        flags: READONLY,
        handler: hashes::hvals,
    },
    CommandSpec {
        name: "incr",
        arity: 2,
        flags: WRITE,
        handler: strings::incr,
    },
    CommandSpec {
        name: "incrby",
        arity: 3,
        flags: WRITE,
        handler: strings::incrby,
    },
    CommandSpec {
        name: "incrbyfloat",
        arity: 3,
        flags: WRITE,
        handler: strings::incrbyfloat,
    },
    CommandSpec {
        name: "info",
        arity: -1,
        flags: STALE,
        handler: server::info,
    },
    CommandSpec {
        name: "keys",
        arity: 2,
        flags: READONLY,
        handler: keys::keys,
    },
    CommandSpec {
        name: "lindex",
        arity: 3,
        flags: READONLY,
        handler: lists::lindex,
    },
    CommandSpec {
        name: "linsert",
        arity: 5,
        flags: WRITE,
        handler: lists::linsert,
    },
    CommandSpec {
        name: "llen",
        arity: 2,
        flags: READONLY,
        handler: lists::llen,
    },
    CommandSpec {
        name: "lmove",
        arity: 5,
        flags: WRITE,
        handler: lists::lmove,
    },
    CommandSpec {
        name: "lpop",
        arity: -2,
        flags: WRITE,
        handler: lists::lpop,
    },
    CommandSpec {
        name: "lpos",
        arity: -3,
        flags: READONLY,
        handler: lists::lpos,
    },
    CommandSpec {
        name: "lpush",
        arity: -3,
        flags: WRITE,
        handler: lists::lpush,
    },
    CommandSpec {
        name: "lpushx",
        arity: -3,
        flags: WRITE,
        handler: lists::lpushx,
    },
    CommandSpec {
        name: "lrange",
        arity: 4,
        flags: READONLY,
        handler: lists::lrange,
    },
    CommandSpec {
        name: "lrem",
        arity: 4,
        flags: WRITE,
        handler: lists::lrem,
    },
    CommandSpec {
        name: "lset",
        arity: 4,
        flags: WRITE,
        handler: lists::lset,
    },
    CommandSpec {
        name: "ltrim",
        arity: 4,
        flags: WRITE,
        handler: lists::ltrim,
    },
    CommandSpec {
        name: "mget",
        arity: -2,
        flags: READONLY,
        handler: strings::mget,
    },
    CommandSpec {
        name: "mset",
        arity: -3,
        flags: WRITE,
        handler: strings::mset,
    },
    CommandSpec {
        name: "msetnx",
        arity: -3,
        flags: WRITE,
        handler: strings::msetnx,
    },
    CommandSpec {
        name: "multi",
        arity: 1,
        flags: STALE,
        handler: transaction::multi,
    },
    CommandSpec {
        name: "persist",
        arity: 2,
        flags: WRITE,
        handler: expire::persist,
    },
    CommandSpec {
        name: "pexpire",
        arity: -3,
        flags: WRITE,
        handler: expire::pexpire,
    },
    CommandSpec {
        name: "pexpireat",
        arity: -3,
        flags: WRITE,
        handler: expire::pexpireat,
    },
    CommandSpec {
        name: "pexpiretime",
        arity: 2,
        flags: READONLY,
        handler: expire::pexpiretime,
    },
    CommandSpec {
        name: "ping",
        arity: -1,
        flags: 0,
        handler: server::ping,
    },
    CommandSpec {
        name: "psetex",
        arity: 4,
        flags: WRITE,
        handler: strings::psetex,
    },
    CommandSpec {
        name: "psync",
        arity: -3,
        flags: ADMIN | NO_MULTI,
        handler: replication::psync,
    },
    CommandSpec {
        name: "pttl",
        arity: 2,
        flags: READONLY,
        handler: expire::pttl,
    },
    CommandSpec {
        name: "quit",
        arity: -1,
        flags: NO_AUTH | STALE,
        handler: connection::quit,
    },
    CommandSpec {
        name: "randomkey",
        arity: 1,
        flags: READONLY,
        handler: keys::randomkey,
    },
    CommandSpec {
        name: "rename",
        arity: 3,
        flags: WRITE,
        handler: keys::rename,
    },
    CommandSpec {
        name: "renamenx",
        arity: 3,
        flags: WRITE,
        handler: keys::renamenx,
    },
    CommandSpec {
        name: "replconf",
        arity: -1,
        flags: ADMIN | STALE,
        handler: replication::replconf,
    },
    CommandSpec {
        name: "replicaof",
        arity: 3,
        flags: ADMIN | STALE,
        handler: replication::replicaof,
    },
    CommandSpec {
        name: "role",
        arity: 1,
        flags: STALE,
        handler: replication::role,
    },
    CommandSpec {
        name: "rpop",
        arity: -2,
        flags: WRITE,
        handler: lists::rpop,
    },
    CommandSpec {
        name: "rpoplpush",
        arity: 3,
        flags: WRITE,
        handler: lists::rpoplpush,
    },
    CommandSpec {
        name: "rpush",
        arity: -3,
        flags: WRITE,
        handler: lists::rpush,
    },
    CommandSpec {
        name: "rpushx",
        arity: -3,
        flags: WRITE,
        handler: lists::rpushx,
    },
    CommandSpec {
        name: "sadd",
        arity: -3,
        flags: WRITE,
        handler: sets::sadd,
    },
    CommandSpec {
        name: "scard",
        arity: 2,
        flags: READONLY,
        handler: sets::scard,
    },
    CommandSpec {
        name: "sdiff",
        arity: -2,
        flags: READONLY,
        handler: sets::sdiff,
    },
    CommandSpec {
        name: "sdiffstore",
        arity: -3,
        flags: WRITE,
        handler: sets::sdiffstore,
    },
    CommandSpec {
        name: "select",
        arity: 2,
        flags: STALE,
        handler: keys::select,
    },
    CommandSpec {
        name: "set",
        arity: -3,
        flags: WRITE,
        handler: strings::set,
    },
    CommandSpec {
        name: "setex",
        arity: 4,
        flags: WRITE,
        handler: strings::setex,
    },
    CommandSpec {
        name: "setnx",
        arity: 3,
        flags: WRITE,
        handler: strings::setnx,
    },
    CommandSpec {
        name: "shutdown",
        arity: -1,
        flags: ADMIN | STALE | NO_MULTI,
        handler: connection::shutdown,
    },
    CommandSpec {
        name: "sinter",
        arity: -2,
        flags: READONLY,
        handler: sets::sinter,
    },
    CommandSpec {
        name: "sintercard",
        arity: -3,
        flags: READONLY,
        handler: sets::sintercard,
    },
    CommandSpec {
        name: "sinterstore",
        arity: -3,
        flags: WRITE,
        handler: sets::sinterstore,
    },
    CommandSpec {
        name: "sismember",
        arity: 3,
        flags: READONLY,
        handler: sets::sismember,
    },
    CommandSpec {
        name: "slaveof",
        arity: 3,
        flags: ADMIN | STALE,
        handler: replication::replicaof,
    },
    CommandSpec {
        name: "smembers",
        arity: 2,
        flags: READONLY,
        handler: sets::smembers,
    },
    CommandSpec {
        name: "smismember",
        arity: -3,
        flags: READONLY,
        handler: sets::smismember,
    },
    CommandSpec {
        name: "smove",
        arity: 4,
        flags: WRITE,
        handler: sets::smove,
    },
    CommandSpec {
        name: "spop",
        arity: -2,
        flags: WRITE,
        handler: sets::spop,
    },
    CommandSpec {
        name: "srandmember",
        arity: -2,
        flags: READONLY,
        handler: sets::srandmember,
    },
    CommandSpec {
        name: "srem",
        arity: -3,
        flags: WRITE,
        handler: sets::srem,
    },
    CommandSpec {
        name: "strlen",
        arity: 2,
        flags: READONLY,
        handler: strings::strlen,
    },
    CommandSpec {
        name: "sunion",
        arity: -2,
        flags: READONLY,
        handler: sets::sunion,
    },
    CommandSpec {
        name: "sunionstore",
        arity: -3,
        flags: WRITE,
        handler: sets::sunionstore,
    },
    CommandSpec {
        name: "sync",
        arity: 1,
        flags: ADMIN | NO_MULTI,
        handler: replication::sync,
    },
    CommandSpec {
        name: "time",
        arity: 1,
        flags: STALE,
        handler: connection::time,
    },
    CommandSpec {
        name: "ttl",
        arity: 2,
        flags: READONLY,
        handler: expire::ttl,
    },
    CommandSpec {
        name: "type",
        arity: 2,
        flags: READONLY,
        handler: keys::type_,
    },
    CommandSpec {
        name: "unlink",
        arity: -2,
        flags: WRITE,
        handler: keys::del,
    },
    CommandSpec {
        name: "wait",
        arity: 3,
        flags: 0,
        handler: replication::wait,
    },
    CommandSpec {
        name: "zadd",
        arity: -4,
        flags: WRITE,
        handler: zsets::zadd,
    },
    CommandSpec {
        name: "zcard",
        arity: 2,
        flags: READONLY,
        handler: zsets::zcard,
    },
    CommandSpec {
        name: "zcount",
        arity: 4,
        flags: READONLY,
        handler: zsets::zcount,
    },
    CommandSpec {
        name: "zincrby",
        arity: 4,
        flags: WRITE,
        handler: zsets::zincrby,
    },
    #[cfg(not(target_arch = "wasm32"))]
    CommandSpec {
        name: "zinterstore",
        arity: -4,
        flags: WRITE,
        handler: zsets::zinterstore,
    },
    CommandSpec {
        name: "zlexcount",
        arity: 4,
        flags: READONLY,
        handler: zsets::zlexcount,
    },
    CommandSpec {
        name: "zmscore",
        arity: -3,
        flags: READONLY,
        handler: zsets::zmscore,
    },
    CommandSpec {
        name: "zpopmax",
        arity: -2,
        flags: WRITE,
        handler: zsets::zpopmax,
    },
    CommandSpec {
        name: "zpopmin",
        arity: -2,
        flags: WRITE,
        handler: zsets::zpopmin,
    },
    CommandSpec {
        name: "zrange",
        arity: -4,
        flags: READONLY,
        handler: zsets::zrange,
    },
    CommandSpec {
        name: "zrangebylex",
        arity: -4,
        flags: READONLY,
        handler: zsets::zrangebylex,
    },
    CommandSpec {
        name: "zrangebyscore",
        arity: -4,
        flags: READONLY,
        handler: zsets::zrangebyscore,
    },
    CommandSpec {
        name: "zrank",
        arity: 3,
        flags: READONLY,
        handler: zsets::zrank,
    },
    CommandSpec {
        name: "zrem",
        arity: -3,
        flags: WRITE,
        handler: zsets::zrem,
    },
    CommandSpec {
        name: "zremrangebylex",
        arity: 4,
        flags: WRITE,
        handler: zsets::zremrangebylex,
    },
    CommandSpec {
        name: "zremrangebyrank",
        arity: 4,
        flags: WRITE,
        handler: zsets::zremrangebyrank,
    },
    CommandSpec {
        name: "zremrangebyscore",
        arity: 4,
        flags: WRITE,
        handler: zsets::zremrangebyscore,
    },
    CommandSpec {
        name: "zrevrange",
        arity: -4,
        flags: READONLY,
        handler: zsets::zrevrange,
    },
    CommandSpec {
        name: "zrevrangebylex",
        arity: -4,
        flags: READONLY,
        handler: zsets::zrevrangebylex,
    },
    CommandSpec {
        name: "zrevrangebyscore",
        arity: -4,
        flags: READONLY,
        handler: zsets::zrevrangebyscore,
    },
    CommandSpec {
        name: "zrevrank",
        arity: 3,
        flags: READONLY,
        handler: zsets::zrevrank,
    },
    CommandSpec {
        name: "zscore",
        arity: 3,
        flags: READONLY,
        handler: zsets::zscore,
    },
    #[cfg(not(target_arch = "wasm32"))]
    CommandSpec {
        name: "zunionstore",
        arity: -4,
        flags: WRITE,
        handler: zsets::zunionstore,
    },
];

pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    // The table is sorted by lower-case name (a test checks it), so a case-insensitive
    // binary search finds a name in ~7 comparisons among ~120 commands.
    COMMANDS
        .binary_search_by(|c| c.name.bytes().cmp(name.iter().map(u8::to_ascii_lowercase)))
        .ok()
        .map(|i| &COMMANDS[i])
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
        .find(|s| {
            s.name
                .split_once('|')
                .is_some_and(|(_, sub)| sub.as_bytes().eq_ignore_ascii_case(wanted))
        })
        .ok_or_else(|| unknown_subcommand_error(argv))
}

/// `unknown subcommand 'x'. Try CLIENT HELP.`: the subcommand as a C string cut at 128
/// bytes, the container's name as typed, upper-cased.
fn unknown_subcommand_error(argv: &[Vec<u8>]) -> Vec<u8> {
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
    #[cfg(test)]
    pub(crate) fn execute(&mut self, client: &mut Client, mut argv: Vec<Vec<u8>>) -> Vec<u8> {
        self.execute_in_place(client, &mut argv)
    }

    /// [`Node::execute`] leaving `argv` to the caller (emptied if a transaction queued
    /// it), so that its buffers can serve the next request.
    pub(crate) fn execute_in_place(
        &mut self,
        client: &mut Client,
        argv: &mut Vec<Vec<u8>>,
    ) -> Vec<u8> {
        client.argv_mem = argv.iter().map(|a| a.len()).sum();
        // A pipeline mostly repeats one command: the last one resolved is tried first
        // (any command but a container, whose subcommand decides).
        let repeated = self
            .last_resolved
            .filter(|s| s.name.as_bytes().eq_ignore_ascii_case(&argv[0]));
        let spec = match repeated.map_or_else(|| resolve(argv), Ok) {
            Ok(spec) => spec,
            Err(msg) => {
                client.last_cmd = None;
                return self.reject(client, None, &msg);
            }
        };
        client.last_cmd = Some(spec.name);
        // Only a command of the main table: a subcommand (`client|list`) is no name a
        // request can give.
        if !spec.name.contains('|') && subcommands(spec.name).is_none() {
            self.last_resolved = Some(spec);
        }
        let argc = argv.len() as i32;
        if (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity {
            let msg = format!("ERR wrong number of arguments for '{}' command", spec.name);
            return self.reject(client, Some(spec), msg.as_bytes());
        }
        if spec.flags & PROTECTED != 0 && !debug_allowed(self, client) {
            return self.reject(client, Some(spec), DEBUG_REFUSED);
        }
        // EXEC is as much a write, and as little allowed on stale data, as what it runs.
        let queued = client.multi.as_ref().filter(|_| spec.name == "exec");
        let is_write = spec.flags & WRITE != 0 || queued.is_some_and(|m| m.any_flag(WRITE));
        let deny_stale = spec.flags & STALE == 0 || queued.is_some_and(|m| m.any_without(STALE));
        let from_master = matches!(client.role, ClientRole::Master);
        if self.auth_required(client) && spec.flags & NO_AUTH == 0 {
            return self.reject(client, Some(spec), b"NOAUTH Authentication required.");
        }
        if client.multi.is_some() && spec.flags & NO_MULTI != 0 {
            return self.reject(
                client,
                Some(spec),
                b"ERR Command not allowed inside a transaction",
            );
        }
        if is_write && !self.enough_good_replicas() {
            return self.reject(
                client,
                Some(spec),
                b"NOREPLICAS Not enough good replicas to write.",
            );
        }
        if self.repl.link.is_some() && self.config.replica_read_only && !from_master && is_write {
            return self.reject(
                client,
                Some(spec),
                b"READONLY You can't write against a read only replica.",
            );
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
        // Replicas are never paused. (Redis pauses its master's stream too; the engine does
        // not hold back a master's writes yet.)
        if matches!(client.role, ClientRole::Normal) && self.paused_for(is_write) {
            client.postponed = Some(std::mem::take(argv));
            return Vec::new();
        }
        if client.multi.is_some() && !matches!(spec.name, "exec" | "discard" | "multi" | "quit") {
            transaction::queue(client, spec, std::mem::take(argv));
            return reply::simple("QUEUED");
        }
        let out = self.call(client, spec, argv);
        // What a WAIT from this client will wait for: everything up to here, whether or
        // not this command wrote anything (processCommand sets it after every call).
        client.woff = self.repl.master_repl_offset;
        out
    }

    /// Redis's `call`: runs the command and accounts for it. Outside EXEC, what it
    /// propagated goes to the replication stream now; inside, after the whole EXEC.
    pub(crate) fn call(
        &mut self,
        client: &mut Client,
        spec: &'static CommandSpec,
        argv: &[Vec<u8>],
    ) -> Vec<u8> {
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
    fn reject(
        &mut self,
        client: &mut Client,
        spec: Option<&'static CommandSpec>,
        msg: &[u8],
    ) -> Vec<u8> {
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
                msg = [
                    b"EXECABORT Transaction discarded because of: ".as_slice(),
                    &reason,
                ]
                .concat();
            }
        }
        let out = reply::error_bytes(&msg);
        self.counters.error_reply(&out);
        out
    }

    /// Redis's `checkGoodReplicasStatus`: with min-replicas-to-write set, a master needs
    /// that many good replicas. The count is the one last refreshed (once a second by the
    /// replication cron, and when a replica comes or goes), not a fresh one: a replica
    /// that stopped acknowledging is still good until the next cron notices.
    pub(crate) fn enough_good_replicas(&self) -> bool {
        self.repl.link.is_some()
            || self.config.min_replicas_max_lag == 0
            || self.config.min_replicas_to_write == 0
            || self.repl.good_replicas >= self.config.min_replicas_to_write
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
        assert_eq!(
            unknown_command_error(&argv),
            b"ERR unknown command 'foo', with args beginning with: 'bar' 'baz' "
        );
        let argv: Vec<Vec<u8>> = vec![b"foo".to_vec()];
        assert_eq!(
            unknown_command_error(&argv),
            b"ERR unknown command 'foo', with args beginning with: "
        );
        // Raw bytes, each argument cut at a NUL like the C string it is in Redis.
        let argv: Vec<Vec<u8>> = vec![b"f\x00o".to_vec(), b"\xff".to_vec(), b"a\x00b".to_vec()];
        assert_eq!(
            unknown_command_error(&argv),
            b"ERR unknown command 'f', with args beginning with: '\xff' 'a' "
        );
    }

    #[test]
    fn table_is_sorted_and_lowercase() {
        for w in COMMANDS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
        assert!(COMMANDS
            .iter()
            .all(|c| c.name == c.name.to_ascii_lowercase()));
        for c in COMMANDS {
            let Some(subs) = subcommands(c.name) else {
                continue;
            };
            for w in subs.windows(2) {
                assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
            }
            let prefix = format!("{}|", c.name);
            assert!(subs
                .iter()
                .all(|s| s.name.starts_with(&prefix) && s.name == s.name.to_ascii_lowercase()));
        }
    }

    #[test]
    fn subcommands_resolve_like_redis() {
        let argv = |items: &[&[u8]]| items.iter().map(|s| s.to_vec()).collect::<Vec<_>>();
        assert_eq!(
            resolve(&argv(&[b"CLIENT", b"List"])).ok().map(|s| s.name),
            Some("client|list")
        );
        assert_eq!(
            resolve(&argv(&[b"client"])).ok().map(|s| s.name),
            Some("client")
        );
        assert_eq!(
            resolve(&argv(&[b"cOnFiG", b"nope"])).err().unwrap(),
            b"ERR unknown subcommand 'nope'. Try CONFIG HELP."
        );
        // A C string: cut at the NUL byte.
        assert_eq!(
            resolve(&argv(&[b"config", b"a\0b"])).err().unwrap(),
            b"ERR unknown subcommand 'a'. Try CONFIG HELP."
        );
    }
}
