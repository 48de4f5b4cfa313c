//! The command table and the checks Redis makes before running a command.
//!
//! `Node::execute` follows the order of Redis's `processCommand`: unknown command, arity,
//! authentication, read-only replica, stale data; only then is the command run. The error
//! texts are Redis 7.0's, byte for byte.

mod cfloat;
mod collection;
mod expire;
mod hashes;
mod keys;
mod lists;
mod server;
mod sets;
mod strings;
mod zsets;

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

type Handler = fn(&mut Node, &mut Client, &[Vec<u8>]) -> Vec<u8>;

pub struct CommandSpec {
    /// Lower-case name, as Redis shows it in error messages.
    pub name: &'static str,
    /// Exact argument count including the name when positive, minimum when negative.
    pub arity: i32,
    pub flags: u32,
    pub handler: Handler,
}

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec { name: "append", arity: 3, flags: WRITE, handler: strings::append },
    CommandSpec { name: "dbsize", arity: 1, flags: READONLY, handler: keys::dbsize },
    CommandSpec { name: "decr", arity: 2, flags: WRITE, handler: strings::decr },
    CommandSpec { name: "decrby", arity: 3, flags: WRITE, handler: strings::decrby },
    CommandSpec { name: "del", arity: -2, flags: WRITE, handler: keys::del },
    CommandSpec { name: "echo", arity: 2, flags: 0, handler: server::echo },
    CommandSpec { name: "exists", arity: -2, flags: READONLY, handler: keys::exists },
    CommandSpec { name: "expire", arity: -3, flags: WRITE, handler: expire::expire },
    CommandSpec { name: "expireat", arity: -3, flags: WRITE, handler: expire::expireat },
    CommandSpec { name: "expiretime", arity: 2, flags: READONLY, handler: expire::expiretime },
    CommandSpec { name: "flushall", arity: -1, flags: WRITE, handler: keys::flushall },
    CommandSpec { name: "flushdb", arity: -1, flags: WRITE, handler: keys::flushdb },
    CommandSpec { name: "get", arity: 2, flags: READONLY, handler: strings::get },
    CommandSpec { name: "getdel", arity: 2, flags: WRITE, handler: strings::getdel },
    CommandSpec { name: "getset", arity: 3, flags: WRITE, handler: strings::getset },
    CommandSpec { name: "hdel", arity: -3, flags: WRITE, handler: hashes::hdel },
    CommandSpec { name: "hexists", arity: 3, flags: READONLY, handler: hashes::hexists },
    CommandSpec { name: "hget", arity: 3, flags: READONLY, handler: hashes::hget },
    CommandSpec { name: "hgetall", arity: 2, flags: READONLY, handler: hashes::hgetall },
    CommandSpec { name: "hincrby", arity: 4, flags: WRITE, handler: hashes::hincrby },
    CommandSpec { name: "hincrbyfloat", arity: 4, flags: WRITE, handler: hashes::hincrbyfloat },
    CommandSpec { name: "hkeys", arity: 2, flags: READONLY, handler: hashes::hkeys },
    CommandSpec { name: "hlen", arity: 2, flags: READONLY, handler: hashes::hlen },
    CommandSpec { name: "hmget", arity: -3, flags: READONLY, handler: hashes::hmget },
    CommandSpec { name: "hmset", arity: -4, flags: WRITE, handler: hashes::hmset },
    CommandSpec { name: "hset", arity: -4, flags: WRITE, handler: hashes::hset },
    CommandSpec { name: "hsetnx", arity: 4, flags: WRITE, handler: hashes::hsetnx },
    CommandSpec { name: "hstrlen", arity: 3, flags: READONLY, handler: hashes::hstrlen },
    CommandSpec { name: "hvals", arity: 2, flags: READONLY, handler: hashes::hvals },
    CommandSpec { name: "incr", arity: 2, flags: WRITE, handler: strings::incr },
    CommandSpec { name: "incrby", arity: 3, flags: WRITE, handler: strings::incrby },
    CommandSpec { name: "incrbyfloat", arity: 3, flags: WRITE, handler: strings::incrbyfloat },
    CommandSpec { name: "info", arity: -1, flags: STALE, handler: server::info },
    CommandSpec { name: "keys", arity: 2, flags: READONLY, handler: keys::keys },
    CommandSpec { name: "lindex", arity: 3, flags: READONLY, handler: lists::lindex },
    CommandSpec { name: "linsert", arity: 5, flags: WRITE, handler: lists::linsert },
    CommandSpec { name: "llen", arity: 2, flags: READONLY, handler: lists::llen },
    CommandSpec { name: "lmove", arity: 5, flags: WRITE, handler: lists::lmove },
    CommandSpec { name: "lpop", arity: -2, flags: WRITE, handler: lists::lpop },
    CommandSpec { name: "lpos", arity: -3, flags: READONLY, handler: lists::lpos },
    CommandSpec { name: "lpush", arity: -3, flags: WRITE, handler: lists::lpush },
    CommandSpec { name: "lpushx", arity: -3, flags: WRITE, handler: lists::lpushx },
    CommandSpec { name: "lrange", arity: 4, flags: READONLY, handler: lists::lrange },
    CommandSpec { name: "lrem", arity: 4, flags: WRITE, handler: lists::lrem },
    CommandSpec { name: "lset", arity: 4, flags: WRITE, handler: lists::lset },
    CommandSpec { name: "ltrim", arity: 4, flags: WRITE, handler: lists::ltrim },
    CommandSpec { name: "mget", arity: -2, flags: READONLY, handler: strings::mget },
    CommandSpec { name: "mset", arity: -3, flags: WRITE, handler: strings::mset },
    CommandSpec { name: "msetnx", arity: -3, flags: WRITE, handler: strings::msetnx },
    CommandSpec { name: "persist", arity: 2, flags: WRITE, handler: expire::persist },
    CommandSpec { name: "pexpire", arity: -3, flags: WRITE, handler: expire::pexpire },
    CommandSpec { name: "pexpireat", arity: -3, flags: WRITE, handler: expire::pexpireat },
    CommandSpec { name: "pexpiretime", arity: 2, flags: READONLY, handler: expire::pexpiretime },
    CommandSpec { name: "ping", arity: -1, flags: STALE, handler: server::ping },
    CommandSpec { name: "psetex", arity: 4, flags: WRITE, handler: strings::psetex },
    CommandSpec { name: "psync", arity: -3, flags: ADMIN, handler: server::psync },
    CommandSpec { name: "pttl", arity: 2, flags: READONLY, handler: expire::pttl },
    CommandSpec { name: "rename", arity: 3, flags: WRITE, handler: keys::rename },
    CommandSpec { name: "renamenx", arity: 3, flags: WRITE, handler: keys::renamenx },
    CommandSpec { name: "replconf", arity: -1, flags: ADMIN | STALE, handler: server::replconf },
    CommandSpec { name: "replicaof", arity: 3, flags: ADMIN | STALE, handler: server::replicaof },
    CommandSpec { name: "rpop", arity: -2, flags: WRITE, handler: lists::rpop },
    CommandSpec { name: "rpoplpush", arity: 3, flags: WRITE, handler: lists::rpoplpush },
    CommandSpec { name: "rpush", arity: -3, flags: WRITE, handler: lists::rpush },
    CommandSpec { name: "rpushx", arity: -3, flags: WRITE, handler: lists::rpushx },
    CommandSpec { name: "sadd", arity: -3, flags: WRITE, handler: sets::sadd },
    CommandSpec { name: "scard", arity: 2, flags: READONLY, handler: sets::scard },
    CommandSpec { name: "sdiff", arity: -2, flags: READONLY, handler: sets::sdiff },
    CommandSpec { name: "sdiffstore", arity: -3, flags: WRITE, handler: sets::sdiffstore },
    CommandSpec { name: "select", arity: 2, flags: STALE, handler: keys::select },
    CommandSpec { name: "set", arity: -3, flags: WRITE, handler: strings::set },
    CommandSpec { name: "setex", arity: 4, flags: WRITE, handler: strings::setex },
    CommandSpec { name: "setnx", arity: 3, flags: WRITE, handler: strings::setnx },
    CommandSpec { name: "sinter", arity: -2, flags: READONLY, handler: sets::sinter },
    CommandSpec { name: "sintercard", arity: -3, flags: READONLY, handler: sets::sintercard },
    CommandSpec { name: "sinterstore", arity: -3, flags: WRITE, handler: sets::sinterstore },
    CommandSpec { name: "sismember", arity: 3, flags: READONLY, handler: sets::sismember },
    CommandSpec { name: "slaveof", arity: 3, flags: ADMIN | STALE, handler: server::replicaof },
    CommandSpec { name: "smembers", arity: 2, flags: READONLY, handler: sets::smembers },
    CommandSpec { name: "smismember", arity: -3, flags: READONLY, handler: sets::smismember },
    CommandSpec { name: "smove", arity: 4, flags: WRITE, handler: sets::smove },
    CommandSpec { name: "spop", arity: -2, flags: WRITE, handler: sets::spop },
    CommandSpec { name: "srandmember", arity: -2, flags: READONLY, handler: sets::srandmember },
    CommandSpec { name: "srem", arity: -3, flags: WRITE, handler: sets::srem },
    CommandSpec { name: "strlen", arity: 2, flags: READONLY, handler: strings::strlen },
    CommandSpec { name: "sunion", arity: -2, flags: READONLY, handler: sets::sunion },
    CommandSpec { name: "sunionstore", arity: -3, flags: WRITE, handler: sets::sunionstore },
    CommandSpec { name: "sync", arity: 1, flags: ADMIN, handler: server::sync },
    CommandSpec { name: "ttl", arity: 2, flags: READONLY, handler: expire::ttl },
    CommandSpec { name: "type", arity: 2, flags: READONLY, handler: keys::type_ },
    CommandSpec { name: "unlink", arity: -2, flags: WRITE, handler: keys::del },
    CommandSpec { name: "zadd", arity: -4, flags: WRITE, handler: zsets::zadd },
    CommandSpec { name: "zcard", arity: 2, flags: READONLY, handler: zsets::zcard },
    CommandSpec { name: "zcount", arity: 4, flags: READONLY, handler: zsets::zcount },
    CommandSpec { name: "zincrby", arity: 4, flags: WRITE, handler: zsets::zincrby },
    CommandSpec { name: "zlexcount", arity: 4, flags: READONLY, handler: zsets::zlexcount },
    CommandSpec { name: "zmscore", arity: -3, flags: READONLY, handler: zsets::zmscore },
    CommandSpec { name: "zpopmax", arity: -2, flags: WRITE, handler: zsets::zpopmax },
    CommandSpec { name: "zpopmin", arity: -2, flags: WRITE, handler: zsets::zpopmin },
    CommandSpec { name: "zrange", arity: -4, flags: READONLY, handler: zsets::zrange },
    CommandSpec { name: "zrangebylex", arity: -4, flags: READONLY, handler: zsets::zrangebylex },
    CommandSpec { name: "zrangebyscore", arity: -4, flags: READONLY, handler: zsets::zrangebyscore },
    CommandSpec { name: "zrank", arity: 3, flags: READONLY, handler: zsets::zrank },
    CommandSpec { name: "zrem", arity: -3, flags: WRITE, handler: zsets::zrem },
    CommandSpec { name: "zremrangebylex", arity: 4, flags: WRITE, handler: zsets::zremrangebylex },
    CommandSpec { name: "zremrangebyrank", arity: 4, flags: WRITE, handler: zsets::zremrangebyrank },
    CommandSpec { name: "zremrangebyscore", arity: 4, flags: WRITE, handler: zsets::zremrangebyscore },
    CommandSpec { name: "zrevrange", arity: -4, flags: READONLY, handler: zsets::zrevrange },
    CommandSpec { name: "zrevrangebylex", arity: -4, flags: READONLY, handler: zsets::zrevrangebylex },
    CommandSpec { name: "zrevrangebyscore", arity: -4, flags: READONLY, handler: zsets::zrevrangebyscore },
    CommandSpec { name: "zrevrank", arity: 3, flags: READONLY, handler: zsets::zrevrank },
    CommandSpec { name: "zscore", arity: 3, flags: READONLY, handler: zsets::zscore },
];

pub fn lookup(name: &[u8]) -> Option<&'static CommandSpec> {
    COMMANDS.iter().find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
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
        let Some(spec) = lookup(&argv[0]) else {
            return reply::error_bytes(&unknown_command_error(&argv));
        };
        let argc = argv.len() as i32;
        if (spec.arity > 0 && argc != spec.arity) || argc < -spec.arity {
            return reply::error(&format!("ERR wrong number of arguments for '{}' command", spec.name));
        }
        let from_master = client.role == ClientRole::Master;
        if !client.authenticated && spec.flags & NO_AUTH == 0 {
            return reply::error("NOAUTH Authentication required.");
        }
        if self.repl.link.is_some() && self.config.replica_read_only && !from_master && spec.flags & WRITE != 0 {
            return reply::error("READONLY You can't write against a read only replica.");
        }
        if let Some(link) = &self.repl.link {
            if !link.is_connected() && !self.config.replica_serve_stale_data && spec.flags & STALE == 0 {
                return reply::error(
                    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
                );
            }
        }
        self.stats.total_commands_processed += 1;
        let out = (spec.handler)(self, client, &argv);
        self.flush_propagation();
        out
    }
}

/// A score as a listpack holds it (`zzlStrtod`): plain `strtod` of the text, which is
/// what `d2string` wrote (or an integer). Used when loading an RDB.
pub(crate) fn parse_listpack_score(text: &[u8]) -> f64 {
    cfloat::strto(text, cfloat::F64).value.map_or(f64::NAN, cfloat::Float::to_f64)
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
    }
}
