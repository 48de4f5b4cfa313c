//! Fuzzing on stable Rust, run by plain `cargo test`: proptest feeds hostile input to the
//! three places where bytes from outside enter the engine, and checks properties that must
//! hold for ANY input, not expected values.
//!
//! - [`request_parser`]: `engine::resp::RequestParser` on RESP-ish garbage in random
//!   chunkings: never panics; holds exactly the bytes fed and not yet consumed (so a
//!   declared `$536870912` costs what actually arrived); parses the same whatever the
//!   chunking; a protocol error is final.
//! - [`node_dispatch`]: random argument vectors (names from the command table and every
//!   family, garbage names, huge counts, negative numbers, NaN/inf strings, random bytes)
//!   through a whole `Node`: never panics; answers every command with exactly one
//!   well-formed RESP2 reply; never closes the connection; keeps no empty collection
//!   (Redis deletes them); gives the same outputs for the same inputs.
//! - [`rdb_reader`]: `engine::rdb::read` on mutated valid snapshots (bit flips, splices,
//!   truncations, with the checksum kept, fixed up or zeroed): never panics; what it
//!   accepts is a valid keyspace that writes and reads back the same.
//!   [`rdb_reader_packed`] does the same to snapshots holding every encoding Redis 7.0
//!   loads (intsets, listpacks, quicklists, and the ziplists, zipmaps and text scores of
//!   older versions), one written by a real Redis 7.0.
//!
//! `REPLSCOPE_FUZZ_CASES=N` sets the cases per property (default 256, a few seconds);
//! raise it for a long run. Failures shrink and are stored in `proptest-regressions/`.
//! The same three targets run under libFuzzer in `fuzz/` (nightly, not part of the build).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::VecDeque;

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence};
use replscope::engine::keyspace::{Keyspace, OrderedMap, Value, ZSet};
use replscope::engine::rdb::{self, ReplInfo, SnapshotMeta};
use replscope::engine::resp::{
    encode_command, parse_reply, ParseLimits, Parsed, Reply, RequestParser,
    DEFAULT_PROTO_MAX_BULK_LEN, PROTO_INLINE_MAX_SIZE,
};
use replscope::engine::{Config as NodeConfig, Input, Node, Output, PeerAddr};

fn config(regressions: &'static str) -> Config {
    let cases = std::env::var("REPLSCOPE_FUZZ_CASES")
        .ok()
        .map(|v| v.parse().expect("REPLSCOPE_FUZZ_CASES is a number"));
    Config {
        cases: cases.unwrap_or(256),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}

// ======================================================================= RESP requests

/// Pieces that look like RESP, or nearly: the parser's edge cases are where they meet.
const TOKENS: &[&[u8]] = &[
    b"*",
    b"$",
    b"\r\n",
    b"\r",
    b"\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"*1\r\n",
    b"*2\r\n",
    b"*3\r\n",
    b"$0\r\n",
    b"$1\r\n",
    b"$3\r\n",
    b"$-1\r\n",
    b"$-3\r\n",
    b"*10\r\n",
    b"*11\r\n",
    b"$16384\r\n",
    b"$16385\r\n",
    b"*2147483647\r\n",
    b"*2147483648\r\n",
    b"$536870912\r\n",
    b"$536870913\r\n",
    b"*99999999999999999999\r\n",
    b"*+1\r\n",
    b"*01\r\n",
    b"$ 1\r\n",
    b"*1\r\n$",
    b"\"",
    b"'",
    b"\\x41",
    b"\\x4",
    b"\\",
    b" ",
    b"\t",
    b"GET",
    b"SET k v",
    b"PING\r\n",
    b"\x00",
    b"\xff",
    b"abc",
];

/// A request stream: whole commands, inline lines, RESP tokens and raw bytes, mixed.
fn request_bytes() -> impl Strategy<Value = Vec<u8>> {
    let fragment = prop_oneof![
        3 => prop::collection::vec(prop::collection::vec(any::<u8>(), 0..8), 1..4).prop_map(|argv| {
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            encode_command(&refs)
        }),
        2 => prop::collection::vec(prop::sample::select(vec![&b"SET"[..], b"k", b"\"a b\"", b"'c'", b"\"\\x41\"", b"\"x\"y", b""]), 0..4)
            .prop_map(|words| {
                let mut line = words.join(&b' ');
                line.extend_from_slice(b"\r\n");
                line
            }),
        4 => prop::sample::select(TOKENS).prop_map(|t| t.to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(fragment, 0..24).prop_map(|f| f.concat())
}

/// What the parser returned, in order; an error ends it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Command(Vec<Vec<u8>>, Vec<u8>),
    Empty(usize),
    Error(Vec<u8>),
}

/// Feeds `input` in chunks of the given sizes (cycled), checking the buffering invariant at
/// every step; returns what was parsed.
fn parse_chunked(
    input: &[u8],
    chunks: &[usize],
    limits: ParseLimits,
) -> Result<Vec<Event>, TestCaseError> {
    let mut p = RequestParser::new();
    let mut events = Vec::new();
    let (mut fed, mut consumed, mut at, mut k) = (0usize, 0usize, 0usize, 0usize);
    let mut error: Option<Vec<u8>> = None;
    while at < input.len() || k == 0 {
        let size = chunks[k % chunks.len()].max(1);
        k += 1;
        let end = (at + size).min(input.len());
        p.feed(&input[at..end]);
        fed += end - at;
        at = end;
        while let Some(parsed) = p.next(limits) {
            if let Some(first) = &error {
                // A protocol error is final: the connection is closing; nothing after it
                // may turn into a command, whatever else arrives.
                let brief = format!("{parsed:?}").chars().take(120).collect::<String>();
                prop_assert!(
                    parsed == Parsed::Error(first.clone()),
                    "after a protocol error the parser went on: {}",
                    brief
                );
                break;
            }
            match parsed {
                Parsed::Command { argv, consumed: n } => {
                    prop_assert!(!argv.is_empty(), "a command with no arguments");
                    events.push(Event::Command(argv, p.last_raw(n).to_vec()));
                    consumed += n;
                }
                Parsed::Empty { consumed: n } => {
                    prop_assert!(
                        n > 0,
                        "an empty request that consumed nothing would loop forever"
                    );
                    events.push(Event::Empty(n));
                    consumed += n;
                }
                Parsed::Error(e) => {
                    prop_assert!(
                        e.starts_with(b"Protocol error: "),
                        "{}",
                        String::from_utf8_lossy(&e)
                    );
                    events.push(Event::Error(e.clone()));
                    error = Some(e);
                    break;
                }
            }
            // It holds exactly what arrived and no command has consumed: nothing is
            // allocated for what a header merely declares.
            prop_assert_eq!(p.pending_len(), fed - consumed);
        }
        prop_assert_eq!(p.pending_len(), fed - consumed);
        if at >= input.len() {
            break;
        }
    }
    Ok(events)
}

proptest! {
    #![proptest_config(config("proptest-regressions/fuzz_resp_parser.txt"))]

    #[test]
    fn request_parser(
        input in request_bytes(),
        chunks in prop::collection::vec(1usize..40, 1..16),
        authenticated in any::<bool>(),
        max_bulk in prop::sample::select(vec![DEFAULT_PROTO_MAX_BULK_LEN, 0, 3, 16]),
    ) {
        let limits = ParseLimits { proto_max_bulk_len: max_bulk, authenticated };
        let chunked = parse_chunked(&input, &chunks, limits)?;
        // Below the 64 KiB line limits nothing depends on how the bytes were split.
        if input.len() <= PROTO_INLINE_MAX_SIZE {
            let whole = parse_chunked(&input, &[input.len().max(1)], limits)?;
            prop_assert_eq!(&chunked, &whole, "the parse depends on the chunking");
        }
        // A multibulk command consumed exactly its encoding's length (not its bytes: like
        // Redis, the parser skips the two bytes after a bulk without checking they are CRLF).
        for e in &chunked {
            if let Event::Command(argv, raw) = e {
                if raw.first() == Some(&b'*') {
                    let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
                    let header = format!("*{}\r\n", argv.len());
                    prop_assert_eq!(encode_command(&refs).len(), raw.len());
                    prop_assert!(raw.starts_with(header.as_bytes()));
                }
            }
        }
    }

    /// Well-formed commands come back exactly, however they are split.
    #[test]
    fn request_parser_round_trips(
        argvs in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..6), 1..8),
        chunks in prop::collection::vec(1usize..30, 1..8),
    ) {
        let input: Vec<u8> = argvs.iter().flat_map(|a| encode_command(&a.iter().map(|x| x.as_slice()).collect::<Vec<_>>())).collect();
        let events = parse_chunked(&input, &chunks, ParseLimits::default())?;
        let got: Vec<Vec<Vec<u8>>> = events.into_iter().map(|e| match e {
            Event::Command(argv, _) => argv,
            other => panic!("unexpected {other:?}"),
        }).collect();
        prop_assert_eq!(got, argvs);
    }

    /// Long lines: the 64 KiB limits of Redis's inline and header parsing.
    #[test]
    fn request_parser_long_lines(
        prefix in prop::sample::select(vec![&b""[..], b"*", b"*1\r\n$", b"GET "]),
        len in prop_oneof![(PROTO_INLINE_MAX_SIZE - 8)..(PROTO_INLINE_MAX_SIZE + 8), (PROTO_INLINE_MAX_SIZE + 8)..(PROTO_INLINE_MAX_SIZE + 20_000)],
        tail in prop::sample::select(vec![&b""[..], b"\r\n", b"\n"]),
        chunk in prop::sample::select(vec![1000usize, 4096, 16384, 70000]),
    ) {
        let mut input = prefix.to_vec();
        input.extend(std::iter::repeat_n(b'1', len));
        input.extend_from_slice(tail);
        parse_chunked(&input, &[chunk], ParseLimits::default())?;
    }
}

// ======================================================================= RESP replies

proptest! {
    #![proptest_config(config("proptest-regressions/fuzz_resp_replies.txt"))]

    /// The console parses whatever its connection brings, and that is not always replies:
    /// a console that typed SYNC receives a replica's stream (keepalive newlines, a
    /// snapshot's raw bytes). Any bytes, read from any position, give a reply, a wait or
    /// an error; a reply never claims more bytes than there are.
    #[test]
    fn reply_parser_takes_any_bytes(input in request_bytes(), start in any::<Index>()) {
        for at in [0, start.index(input.len() + 1)] {
            let rest = &input[at..];
            if let Ok(Some((_, used))) = parse_reply(rest) {
                prop_assert!(used > 0 && used <= rest.len(), "used {used} of {}", rest.len());
            }
        }
    }
}

#[test]
fn reply_parser_edge_cases() {
    // A line that is only its CRLF has no type byte.
    assert_eq!(parse_reply(b"\r\n").unwrap_err(), "empty reply line");
    assert_eq!(parse_reply(b"*1\r\n\r\n").unwrap_err(), "empty reply line");
    // A bulk length no buffer can hold is an error at once, not a wait for bytes.
    assert_eq!(
        parse_reply(b"$9223372036854775807\r\nab").unwrap_err(),
        "bulk length 9223372036854775807 is too large"
    );
    assert_eq!(parse_reply(b"$4294967295\r\nab").unwrap(), None);
    assert_eq!(parse_reply(b"$3\r\nab").unwrap(), None);
    assert_eq!(
        parse_reply(b"\n$3\r\n").unwrap_err(),
        "unexpected reply type byte 0x0a"
    );
}

// ======================================================================= node dispatch

/// Commands Redis answers with something other than exactly one reply now (they block,
/// switch the connection to replication, subscriptions, RESP3 or close it): the fuzzer
/// renames them so every command it sends must get one reply.
const NOT_ONE_REPLY: &[&str] = &[
    "psync",
    "sync",
    "quit",
    "shutdown",
    "monitor",
    "subscribe",
    "psubscribe",
    "ssubscribe",
    "unsubscribe",
    "punsubscribe",
    "sunsubscribe",
    "hello",
    "client",
    "debug",
    "wait",
    "waitaof",
    "failover",
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "xread",
    "xreadgroup",
];

/// Every family's commands, implemented yet or not (an unknown command must still get
/// exactly one error reply).
const FAMILY_NAMES: &[&str] = &[
    "append",
    "copy",
    "dbsize",
    "decr",
    "decrby",
    "del",
    "discard",
    "echo",
    "exec",
    "exists",
    "expire",
    "expireat",
    "expiretime",
    "flushall",
    "flushdb",
    "get",
    "getdel",
    "getex",
    "getrange",
    "getset",
    "hdel",
    "hexists",
    "hget",
    "hgetall",
    "hincrby",
    "hincrbyfloat",
    "hkeys",
    "hlen",
    "hmget",
    "hmset",
    "hset",
    "hsetnx",
    "hstrlen",
    "hvals",
    "incr",
    "incrby",
    "incrbyfloat",
    "info",
    "keys",
    "lindex",
    "linsert",
    "llen",
    "lmove",
    "lmpop",
    "lpop",
    "lpos",
    "lpush",
    "lpushx",
    "lrange",
    "lrem",
    "lset",
    "ltrim",
    "mget",
    "move",
    "mset",
    "msetnx",
    "multi",
    "persist",
    "pexpire",
    "pexpireat",
    "pexpiretime",
    "ping",
    "psetex",
    "pttl",
    "rename",
    "renamenx",
    "rpop",
    "rpoplpush",
    "rpush",
    "rpushx",
    "sadd",
    "scard",
    "sdiff",
    "sdiffstore",
    "select",
    "set",
    "setex",
    "setnx",
    "setrange",
    "sinter",
    "sintercard",
    "sinterstore",
    "sismember",
    "smembers",
    "smismember",
    "smove",
    "spop",
    "srandmember",
    "srem",
    "strlen",
    "substr",
    "sunion",
    "sunionstore",
    "swapdb",
    "touch",
    "ttl",
    "type",
    "unlink",
    "unwatch",
    "watch",
    "zadd",
    "zcard",
    "zcount",
    "zincrby",
    "zinterstore",
    "zlexcount",
    "zmscore",
    "zpopmax",
    "zpopmin",
    "zrange",
    "zrangebylex",
    "zrangebyscore",
    "zrangestore",
    "zrank",
    "zrem",
    "zremrangebylex",
    "zremrangebyrank",
    "zremrangebyscore",
    "zrevrange",
    "zrevrangebyscore",
    "zrevrank",
    "zscore",
    "zunionstore",
    "replicaof",
    "slaveof",
    "replconf",
    "randomkey",
    "scan",
    "object",
    "hrandfield",
    "zrandmember",
    "lcs",
];

/// Arguments where bugs live: edges of every integer type, NaN and infinities, option
/// words of every command, range syntax.
const HOSTILE_ARGS: &[&str] = &[
    "a",
    "b",
    "c",
    "0",
    "1",
    "-1",
    "2",
    "10",
    "-100",
    "9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "99999999999999999999999",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967296",
    "536870912",
    "1e308",
    "1e400",
    "-1e400",
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-inf",
    "+inf",
    "infinity",
    "1.5",
    "-0",
    "0x10",
    "1e-400",
    "4.9e-324",
    "",
    " ",
    "(1",
    "(inf",
    "(nan",
    "[a",
    "(a",
    "-",
    "+",
    "*",
    "?",
    "[",
    "\\",
    "NX",
    "XX",
    "GT",
    "LT",
    "CH",
    "INCR",
    "EX",
    "PX",
    "EXAT",
    "PXAT",
    "KEEPTTL",
    "GET",
    "PERSIST",
    "WITHSCORES",
    "LIMIT",
    "BYSCORE",
    "BYLEX",
    "REV",
    "COUNT",
    "RANK",
    "MAXLEN",
    "BEFORE",
    "AFTER",
    "LEFT",
    "RIGHT",
    "WEIGHTS",
    "AGGREGATE",
    "SUM",
    "MIN",
    "MAX",
    "REPLACE",
    "DB",
    "ASYNC",
    "SYNC",
    "MATCH",
    "TYPE",
    "NO",
    "ONE",
    "listening-port",
    "capa",
    "eof",
    "psync2",
    "ack",
    "getack",
    "ip-address",
    "*",
];

fn hostile_arg() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::sample::select(HOSTILE_ARGS).prop_map(|s| s.as_bytes().to_vec()),
        2 => prop::collection::vec(any::<u8>(), 0..12),
        1 => (1usize..200).prop_map(|n| vec![b'x'; n]),
    ]
}

fn command_name() -> impl Strategy<Value = Vec<u8>> {
    let table: Vec<&'static str> = replscope::engine::command::COMMANDS
        .iter()
        .map(|c| c.name)
        .collect();
    prop_oneof![
        4 => prop::sample::select(table).prop_map(|s| s.as_bytes().to_vec()),
        4 => prop::sample::select(FAMILY_NAMES).prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::sample::select(FAMILY_NAMES).prop_map(|s| s.to_ascii_uppercase().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..10),
    ]
}

fn argv() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (command_name(), prop::collection::vec(hostile_arg(), 0..7)).prop_map(|(name, mut args)| {
        let lower = String::from_utf8_lossy(&name).to_ascii_lowercase();
        // REPLCONF ACK / GETACK from a client that is not a replica get no reply at all
        // (Redis's replconfCommand returns silently), so they are not fuzzed here.
        let silent_replconf = lower == "replconf"
            && args
                .iter()
                .any(|a| a.eq_ignore_ascii_case(b"ack") || a.eq_ignore_ascii_case(b"getack"));
        let name = if NOT_ONE_REPLY.contains(&lower.as_str()) || silent_replconf {
            [b"not-".as_slice(), &name].concat()
        } else {
            name
        };
        args.insert(0, name);
        args
    })
}

/// The node's outputs for `cmds`, fed as one pipeline in `chunks`, time moving by `steps`.
fn run_node(
    cmds: &[Vec<Vec<u8>>],
    chunks: &[usize],
    steps: &[u64],
    seed: u64,
) -> (Node, u64, Vec<Output>) {
    let mut now = 1_700_000_000_000u64;
    let mut node = Node::new(NodeConfig::default(), now, seed);
    let conn = node.accept(
        now,
        PeerAddr {
            ip: "127.0.0.1".into(),
            port: 40000,
        },
    );
    let input: Vec<u8> = cmds
        .iter()
        .flat_map(|a| encode_command(&a.iter().map(|x| x.as_slice()).collect::<Vec<_>>()))
        .collect();
    let mut outputs = Vec::new();
    let (mut at, mut k) = (0, 0);
    while at < input.len() {
        let end = (at + chunks[k % chunks.len()].max(1)).min(input.len());
        now += steps[k % steps.len()];
        k += 1;
        node.handle(
            now,
            Input::Bytes {
                conn,
                data: input[at..end].to_vec(),
            },
        );
        if k % 3 == 0 {
            node.tick(now);
        }
        while let Some(o) = node.poll_output() {
            outputs.push(o);
        }
        at = end;
    }
    (node, conn, outputs)
}

/// A reply as the protocol allows it: no CR/LF inside status and error lines, an error
/// starts with its code.
fn well_formed(r: &Reply) -> Result<(), String> {
    match r {
        Reply::Simple(s) | Reply::Error(s) if s.contains(['\r', '\n']) => {
            Err(format!("line reply with CR/LF: {s:?}"))
        }
        Reply::Error(s)
            if !s
                .split(' ')
                .next()
                .is_some_and(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_uppercase())) =>
        {
            Err(format!("error without an upper-case code: {s:?}"))
        }
        Reply::Array(Some(items)) => items.iter().try_for_each(well_formed),
        _ => Ok(()),
    }
}

fn check_keyspace(ks: &Keyspace) -> Result<(), String> {
    for (i, db) in ks.dbs.iter().enumerate() {
        for (key, entry) in &db.entries {
            if entry.value.is_empty_collection() {
                return Err(format!(
                    "db {i}: key {:?} is an empty {}",
                    key.escape_ascii().to_string(),
                    entry.value.type_name()
                ));
            }
            if let Value::ZSet(z) = &entry.value {
                if z.iter().any(|(_, s)| s.is_nan()) {
                    return Err(format!(
                        "db {i}: zset {:?} has a NaN score",
                        key.escape_ascii().to_string()
                    ));
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config("proptest-regressions/fuzz_resp_node.txt"))]

    #[test]
    fn node_dispatch(
        cmds in prop::collection::vec(argv(), 1..16),
        chunks in prop::collection::vec(1usize..64, 1..8),
        steps in prop::collection::vec(prop::sample::select(vec![0u64, 1, 999, 1000, 60_000]), 1..4),
        seed in any::<u64>(),
    ) {
        let (node, conn, outputs) = run_node(&cmds, &chunks, &steps, seed);
        let mut replies = Vec::new();
        for o in &outputs {
            match o {
                Output::Send { conn: c, data } if *c == conn => replies.extend_from_slice(data),
                Output::Close { conn: c } if *c == conn => prop_assert!(false, "the node closed the client's connection"),
                _ => {}
            }
        }
        let mut at = 0;
        for (i, cmd) in cmds.iter().enumerate() {
            let shown = || cmd.iter().map(|a| a.escape_ascii().to_string()).collect::<Vec<_>>().join(" ");
            match parse_reply(&replies[at..]) {
                Ok(Some((reply, used))) => {
                    prop_assert!(well_formed(&reply).is_ok(), "command #{} {}: {:?}", i, shown(), well_formed(&reply));
                    at += used;
                }
                Ok(None) => prop_assert!(false, "command #{} {} got no (complete) reply", i, shown()),
                Err(e) => prop_assert!(false, "command #{} {}: malformed reply: {}", i, shown(), e),
            }
        }
        prop_assert_eq!(at, replies.len(), "more replies than commands: {:?}", replies[at..].escape_ascii().to_string());
        if let Err(e) = check_keyspace(node.keyspace()) {
            prop_assert!(false, "{}", e);
        }
        // Deterministic: the same inputs give the same outputs, byte for byte.
        let (_, _, again) = run_node(&cmds, &chunks, &steps, seed);
        prop_assert!(again == outputs, "two runs of the same input differ");
    }
}

// ======================================================================= RDB reader

fn small_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "0",
            "1",
            "-1",
            "12",
            "127",
            "128",
            "-129",
            "32767",
            "40000",
            "2147483647",
            "2147483648",
            "-2147483649",
            "9223372036854775807",
            "007",
            "a",
            "key",
            "x y"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..12),
        // Long and repetitive: LZF territory.
        (20usize..300, any::<u8>()).prop_map(|(n, b)| vec![b; n]),
    ]
}

fn score() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE
        ]),
        any::<f64>().prop_filter("NaN is not a score", |f| !f.is_nan()),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        small_bytes().prop_map(Value::String),
        prop::collection::vec(small_bytes(), 1..6)
            .prop_map(|v| Value::List(v.into_iter().collect::<VecDeque<_>>())),
        prop::collection::vec(small_bytes(), 1..6)
            .prop_map(|v| Value::Set(rdb::set_from_members(v))),
        prop::collection::vec((small_bytes(), small_bytes()), 1..5)
            .prop_map(|v| Value::Hash(v.into_iter().collect::<OrderedMap>())),
        prop::collection::vec((small_bytes(), score()), 1..5).prop_map(|v| {
            let mut z = ZSet::default();
            for (m, s) in v {
                z.insert(m, s);
            }
            Value::ZSet(z)
        }),
    ]
}

fn keyspace() -> impl Strategy<Value = Keyspace> {
    let entry = (
        0usize..16,
        small_bytes(),
        value(),
        // Redis keeps expiry times as signed milliseconds: nothing above i64::MAX exists.
        prop::option::of(prop_oneof![
            Just(1u64),
            Just(4_102_444_800_000),
            0..=i64::MAX as u64
        ]),
    );
    prop::collection::vec(entry, 0..8).prop_map(|entries| {
        let mut ks = Keyspace::default();
        for (db, key, value, expiry) in entries {
            ks.set(db, key, value, expiry);
        }
        ks
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(Index, u8),
    Set(Index, u8),
    Insert(Index, Vec<u8>),
    Remove(Index, usize),
    Truncate(Index),
    /// Copies a slice of the file over another place (duplicated keys, lengths, opcodes).
    Splice(Index, Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<Index>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (any::<Index>(), prop_oneof![any::<u8>(), prop::sample::select(vec![0x00u8, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xc3, 0xfa, 0xfc, 0xfe, 0xff])])
            .prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..6)).prop_map(|(i, v)| Mutation::Insert(i, v)),
        2 => (any::<Index>(), 1usize..16).prop_map(|(i, n)| Mutation::Remove(i, n)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
        2 => (any::<Index>(), any::<Index>(), 1usize..40).prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
    ]
}

fn mutate(data: &mut Vec<u8>, m: &Mutation) {
    if data.is_empty() {
        return;
    }
    let len = data.len();
    match m {
        Mutation::Flip(i, bit) => data[i.index(len)] ^= 1 << bit,
        Mutation::Set(i, b) => data[i.index(len)] = *b,
        Mutation::Insert(i, v) => {
            let at = i.index(len + 1);
            data.splice(at..at, v.iter().copied());
        }
        Mutation::Remove(i, n) => {
            let at = i.index(len);
            data.drain(at..(at + n).min(len));
        }
        Mutation::Truncate(i) => data.truncate(i.index(len)),
        Mutation::Splice(from, to, n) => {
            let (a, b) = (from.index(len), to.index(len));
            let n = (*n).min(len - a).min(len - b);
            let chunk = data[a..a + n].to_vec();
            data[b..b + n].copy_from_slice(&chunk);
        }
    }
}

fn meta() -> SnapshotMeta<'static> {
    SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 1_700_000_000,
        used_mem: 1_000_000,
        repl: Some(ReplInfo {
            stream_db: 0,
            replid: "a".repeat(40),
            offset: 12345,
        }),
    }
}

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

proptest! {
    #![proptest_config(config("proptest-regressions/fuzz_resp_rdb.txt"))]

    #[test]
    fn rdb_reader(
        ks in keyspace(),
        mutations in prop::collection::vec(mutation(), 0..4),
        checksum in 0u8..3,
    ) {
        let mut data = rdb::write(&ks, &meta(), 0);
        // Unmutated, the snapshot reads back as what was written.
        let loaded = rdb::read(&data).map_err(|e| TestCaseError::fail(e.reason))?;
        prop_assert_eq!(&loaded.keyspace, &ks);
        for m in &mutations {
            mutate(&mut data, m);
        }
        // Most mutations would only be caught by the checksum at the very end; fixing it
        // (or zeroing it: "no checksum") makes the reader judge the content itself.
        let n = data.len();
        if n >= 8 && checksum > 0 {
            let crc = if checksum == 1 { CRC64.checksum(&data[..n - 8]) } else { 0 };
            data[n - 8..].copy_from_slice(&crc.to_le_bytes());
        }
        if let Ok(loaded) = rdb::read(&data) {
            if let Err(e) = check_keyspace(&loaded.keyspace) {
                prop_assert!(false, "accepted an invalid keyspace: {}", e);
            }
            let again = rdb::read(&rdb::write(&loaded.keyspace, &meta(), 0)).map_err(|e| TestCaseError::fail(e.reason))?;
            prop_assert_eq!(again.keyspace, loaded.keyspace, "what was accepted does not write and read back the same");
        }
    }
}

/// Snapshots with every packed encoding: built from Redis's format descriptions
/// (tests/rdb/, checked against a real redis-server by tests/differential/rdb_check.rs) and written
/// by a real Redis 7.0.
const PACKED_SEEDS: &[&[u8]] = &[
    include_bytes!("../rdb/legacy-encodings.rdb"),
    include_bytes!("../rdb/redis-7.0-encodings.rdb"),
    include_bytes!("../../fuzz/seeds/rdb_read/redis-7.0-compact-encodings.rdb"),
];

/// Mutations aimed inside the packed blobs too: most of a packed snapshot is blobs.
fn packed_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => mutation(),
        1 => (any::<Index>(), prop::sample::select(vec![0x00u8, 0x01, 0x02, 0x7f, 0x80, 0xc0, 0xe0, 0xf0, 0xf1, 0xf4, 0xfe, 0xff]))
            .prop_map(|(i, b)| Mutation::Set(i, b)),
    ]
}

proptest! {
    #![proptest_config(config("proptest-regressions/fuzz_resp_rdb_packed.txt"))]

    #[test]
    fn rdb_reader_packed(
        seed in prop::sample::select(PACKED_SEEDS.to_vec()),
        mutations in prop::collection::vec(packed_mutation(), 1..4),
        checksum in 0u8..3,
    ) {
        let mut data = seed.to_vec();
        prop_assert!(rdb::read(&data).is_ok(), "the seed itself loads");
        for m in &mutations {
            mutate(&mut data, m);
        }
        let n = data.len();
        if n >= 8 && checksum > 0 {
            let crc = if checksum == 1 { CRC64.checksum(&data[..n - 8]) } else { 0 };
            data[n - 8..].copy_from_slice(&crc.to_le_bytes());
        }
        let (_, result) = rdb::load(&data, 1_700_000_000_000);
        if let Ok(loaded) = result {
            if let Err(e) = check_keyspace(&loaded.keyspace) {
                prop_assert!(false, "accepted an invalid keyspace: {}", e);
            }
            for compression in [true, false] {
                let again = rdb::read(&rdb::write_with(&loaded.keyspace, &meta(), 0, compression))
                    .map_err(|e| TestCaseError::fail(e.reason))?;
                prop_assert_eq!(&again.keyspace, &loaded.keyspace, "what was accepted does not write and read back the same");
            }
        }
    }
}

// ======================================================================= libFuzzer seeds

/// Writes seed inputs for the libFuzzer targets in `fuzz/` (valid pipelines, snapshots of
/// every type): `REPLSCOPE_FUZZ_SEEDS=fuzz/seeds cargo test --no-default-features --test
/// engine fuzz_resp::write_fuzz_seeds`. Does nothing without the variable.
#[test]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("REPLSCOPE_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let write = |target: &str, name: &str, data: &[u8]| {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).expect("seed dir");
        std::fs::write(d.join(name), data).expect("write seed");
    };
    let pipelines: &[&[u8]] = &[
        b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
        b"PING\r\nSET k \"a b\\x41\" 'c'\r\n\r\n",
        b"*0\r\n*-1\r\n*1\r\n$4\r\nPING\r\n",
        b"*1\r\n$536870912\r\nabc",
        b"*11\r\n$16385\r\n",
    ];
    for (i, p) in pipelines.iter().enumerate() {
        for flags in [0u8, 1] {
            write(
                "resp_parser",
                &format!("pipeline-{i}-{flags}"),
                &[&[flags, 6][..], p].concat(),
            );
        }
    }
    let mut ks = Keyspace::default();
    ks.set(0, b"str".to_vec(), Value::String(b"value".to_vec()), None);
    ks.set(
        0,
        b"int".to_vec(),
        Value::String(b"-70000".to_vec()),
        Some(4_102_444_800_000),
    );
    ks.set(
        0,
        b"long".to_vec(),
        Value::String(b"replscope-".repeat(30)),
        None,
    );
    ks.set(
        1,
        b"list".to_vec(),
        Value::List([b"a".to_vec(), b"12".to_vec()].into_iter().collect()),
        None,
    );
    ks.set(
        1,
        b"ints".to_vec(),
        Value::Set(rdb::set_from_members(vec![b"3".to_vec(), b"-1".to_vec()])),
        None,
    );
    ks.set(
        1,
        b"names".to_vec(),
        Value::Set(rdb::set_from_members(vec![b"x".to_vec(), b"1".to_vec()])),
        None,
    );
    ks.set(
        2,
        b"hash".to_vec(),
        Value::Hash([(b"f".to_vec(), b"v".to_vec())].into_iter().collect()),
        Some(5),
    );
    let mut z = ZSet::default();
    z.insert(b"m".to_vec(), 1.5);
    z.insert(b"n".to_vec(), f64::NEG_INFINITY);
    ks.set(15, b"zset".to_vec(), Value::ZSet(z), None);
    write("rdb_read", "all-types.rdb", &rdb::write(&ks, &meta(), 0));
    write(
        "rdb_read",
        "empty.rdb",
        &rdb::write(&Keyspace::default(), &meta(), 0),
    );
    write("rdb_read", "legacy-encodings.rdb", PACKED_SEEDS[0]);
    write("rdb_read", "redis-7.0-encodings.rdb", PACKED_SEEDS[1]);
}
