//! Random commands through a whole Node: never panics, exactly one well-formed RESP2 reply
//! per command, the client's connection stays open, no empty collection or NaN score is
//! left in the keyspace, and a second run gives the same outputs.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use replscope::engine::keyspace::Value;
use replscope::engine::resp::{encode_command, parse_reply, Reply};
use replscope::engine::{Config, Input, Node, Output, PeerAddr};

/// Names outside the table that every family will add (an unknown one must still get
/// exactly one error reply).
const FAMILY_NAMES: &[&str] = &[
    "append", "copy", "decr", "decrby", "discard", "exec", "exists", "expire", "expireat", "expiretime", "flushall",
    "flushdb", "getdel", "getex", "getrange", "getset", "hdel", "hexists", "hget", "hgetall", "hincrby",
    "hincrbyfloat", "hkeys", "hlen", "hmget", "hmset", "hset", "hsetnx", "hstrlen", "hvals", "incr", "incrby",
    "incrbyfloat", "keys", "lindex", "linsert", "llen", "lmove", "lmpop", "lpop", "lpos", "lpush", "lpushx", "lrange",
    "lrem", "lset", "ltrim", "mget", "move", "mset", "msetnx", "multi", "persist", "pexpire", "pexpireat",
    "pexpiretime", "psetex", "pttl", "rename", "renamenx", "rpop", "rpoplpush", "rpush", "rpushx", "sadd", "scard",
    "sdiff", "sdiffstore", "setex", "setnx", "setrange", "sinter", "sintercard", "sinterstore", "sismember",
    "smembers", "smismember", "smove", "spop", "srandmember", "srem", "strlen", "substr", "sunion", "sunionstore",
    "swapdb", "touch", "ttl", "type", "unlink", "unwatch", "watch", "zadd", "zcard", "zcount", "zincrby", "zinterstore",
    "zlexcount", "zmscore", "zpopmax", "zpopmin", "zrange", "zrangebylex", "zrangebyscore", "zrangestore", "zrank",
    "zrem", "zremrangebylex", "zremrangebyrank", "zremrangebyscore", "zrevrange", "zrevrangebyscore", "zrevrank",
    "zscore", "zunionstore", "randomkey", "scan", "object", "hrandfield", "zrandmember", "lcs",
];

/// Commands that legitimately do not answer exactly once (block, switch protocol, close).
const NOT_ONE_REPLY: &[&str] = &[
    "psync", "sync", "quit", "shutdown", "monitor", "subscribe", "psubscribe", "ssubscribe", "unsubscribe",
    "punsubscribe", "sunsubscribe", "hello", "client", "debug", "wait", "waitaof", "failover", "blpop", "brpop",
    "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "xread", "xreadgroup",
];

const WORDS: &[&str] = &[
    "a", "b", "c", "0", "1", "-1", "2", "10", "-100", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "18446744073709551616", "2147483647", "2147483648", "4294967296", "536870912", "1e308",
    "1e400", "nan", "-nan", "inf", "-inf", "+inf", "1.5", "-0", "", "(1", "(inf", "[a", "(a", "-", "+", "*", "NX",
    "XX", "GT", "LT", "CH", "INCR", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET", "PERSIST", "WITHSCORES", "LIMIT",
    "BYSCORE", "BYLEX", "REV", "COUNT", "RANK", "MAXLEN", "BEFORE", "AFTER", "LEFT", "RIGHT", "WEIGHTS",
    "AGGREGATE", "SUM", "MIN", "MAX", "REPLACE", "DB", "ASYNC", "NO", "ONE", "listening-port", "capa",
];

#[derive(Debug, Arbitrary)]
enum Name {
    Table(u8),
    Family(u8),
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Arg {
    Word(u8),
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
struct Cmd {
    name: Name,
    args: Vec<Arg>,
}

#[derive(Debug, Arbitrary)]
struct Case {
    cmds: Vec<Cmd>,
    chunk: u8,
    step_ms: u16,
    seed: u64,
}

fn argv(cmd: &Cmd) -> Vec<Vec<u8>> {
    let table = replscope::engine::command::COMMANDS;
    let mut name = match &cmd.name {
        Name::Table(i) => table[*i as usize % table.len()].name.as_bytes().to_vec(),
        Name::Family(i) => FAMILY_NAMES[*i as usize % FAMILY_NAMES.len()].as_bytes().to_vec(),
        Name::Raw(b) => b.clone(),
    };
    let args: Vec<Vec<u8>> = cmd
        .args
        .iter()
        .take(8)
        .map(|a| match a {
            Arg::Word(i) => WORDS[*i as usize % WORDS.len()].as_bytes().to_vec(),
            Arg::Raw(b) => b.clone(),
        })
        .collect();
    let lower = String::from_utf8_lossy(&name).to_ascii_lowercase();
    let silent_replconf =
        lower == "replconf" && args.iter().any(|a| a.eq_ignore_ascii_case(b"ack") || a.eq_ignore_ascii_case(b"getack"));
    if NOT_ONE_REPLY.contains(&lower.as_str()) || silent_replconf {
        name.splice(0..0, b"not-".iter().copied());
    }
    let mut v = vec![name];
    v.extend(args);
    v
}

fn run(input: &[u8], chunk: usize, step: u64, seed: u64) -> (Node, u64, Vec<Output>) {
    let mut now = 1_700_000_000_000u64;
    let mut node = Node::new(Config::default(), now, seed);
    let conn = node.accept(now, PeerAddr { ip: "127.0.0.1".into(), port: 40000 });
    let mut outputs = Vec::new();
    for (k, piece) in input.chunks(chunk.max(1)).enumerate() {
        now += step;
        node.handle(now, Input::Bytes { conn, data: piece.to_vec() });
        if k % 3 == 2 {
            node.tick(now);
        }
        while let Some(o) = node.poll_output() {
            outputs.push(o);
        }
    }
    (node, conn, outputs)
}

fn well_formed(r: &Reply) -> bool {
    match r {
        Reply::Simple(s) => !s.contains(['\r', '\n']),
        Reply::Error(s) => {
            !s.contains(['\r', '\n'])
                && s.split(' ').next().is_some_and(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_uppercase()))
        }
        Reply::Array(Some(items)) => items.iter().all(well_formed),
        _ => true,
    }
}

fuzz_target!(|case: Case| {
    let cmds: Vec<Vec<Vec<u8>>> = case.cmds.iter().take(32).map(argv).collect();
    if cmds.is_empty() {
        return;
    }
    let input: Vec<u8> =
        cmds.iter().flat_map(|a| encode_command(&a.iter().map(|x| x.as_slice()).collect::<Vec<_>>())).collect();
    let (node, conn, outputs) = run(&input, case.chunk as usize + 1, case.step_ms as u64, case.seed);
    let mut replies = Vec::new();
    for o in &outputs {
        match o {
            Output::Send { conn: c, data } if *c == conn => replies.extend_from_slice(data),
            Output::Close { conn: c } if *c == conn => panic!("the node closed the client's connection"),
            _ => {}
        }
    }
    let mut at = 0;
    for (i, cmd) in cmds.iter().enumerate() {
        match parse_reply(&replies[at..]) {
            Ok(Some((reply, used))) => {
                assert!(well_formed(&reply), "command #{i} {cmd:?}: {reply:?}");
                at += used;
            }
            other => panic!("command #{i} {cmd:?}: no single well-formed reply: {other:?}"),
        }
    }
    assert_eq!(at, replies.len(), "more replies than commands");
    for db in &node.keyspace().dbs {
        for (key, entry) in &db.entries {
            assert!(!entry.value.is_empty_collection(), "empty collection at {key:?}");
            if let Value::ZSet(z) = &entry.value {
                assert!(z.iter().all(|(_, s)| !s.is_nan()), "NaN score at {key:?}");
            }
        }
    }
    let (_, _, again) = run(&input, case.chunk as usize + 1, case.step_ms as u64, case.seed);
    assert!(again == outputs, "not deterministic");
});
