//! Lists, sets, hashes and sorted sets: the same raw bytes to a real Redis 7.0 and to
//! replscope-server, and the replies must be the same bytes, error texts included.
//!
//! Replies are compared byte for byte, with the exceptions documented in the one list of
//! legitimate differences, `common::normalize`: where real Redis leaves an order undefined
//! (the members of a set that is a hash table, the fields of a hash that outgrew its
//! listpack) both replies are compared after sorting their elements (`Norm::Unordered`).
//! Random picks (SPOP, SRANDMEMBER) are checked for what must hold for them (how many,
//! from which set: `assert_random_picks`), and the state they leave is compared after; in
//! the replication stream, SPOP's SREMs are checked against each server's own replies,
//! then masked (`mask_spop_members`).
//!
//! The last tests compare replication streams: the same writes on both servers must
//! propagate the same bytes (SPOP as SREM or DEL, HINCRBYFLOAT as HSET, ...); and
//! replscope as the replica of a real Redis must end up with the master's data.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use common::normalize::{self, bulk_strings, Norm};
use common::pair::Pair;
use common::{redis_installed, show, Client, Kind, ServerProcess};

fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

const WRONGTYPE: &[u8] = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";

#[test]
fn lists_push_pop_and_read() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.expect(&["RPUSH", "l", "a", "b", "c"], b":3\r\n");
    p.expect(&["LPUSH", "l", "x", "y"], b":5\r\n");
    p.run(&[
        &["LRANGE", "l", "0", "-1"],
        &["LRANGE", "l", "1", "2"],
        &["LRANGE", "l", "-2", "-1"],
        &["LRANGE", "l", "-100", "100"],
        &["LRANGE", "l", "3", "1"],
        &["LRANGE", "l", "5", "10"],
        &["LRANGE", "l", "-1", "-2"],
        &["LRANGE", "l", "0", "-9223372036854775808"],
        &["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
        &["LRANGE", "l", "0", "9223372036854775808"],
        &["LRANGE", "l", "a", "1"],
        &["LRANGE", "l", "0", "1.5"],
        &["LRANGE", "l", " 1", "2"],
        &["LRANGE", "l", "01", "2"],
        &["LRANGE", "l", "+1", "2"],
        &["LRANGE", "nolist", "0", "-1"],
        &["LRANGE", "nolist", "x", "-1"],
        &["LLEN", "l"],
        &["LLEN", "nolist"],
        &["LINDEX", "l", "0"],
        &["LINDEX", "l", "-1"],
        &["LINDEX", "l", "4"],
        &["LINDEX", "l", "5"],
        &["LINDEX", "l", "-6"],
        &["LINDEX", "l", "-9223372036854775808"],
        &["LINDEX", "l", "notanumber"],
        &["LINDEX", "nolist", "notanumber"],
        &["LINDEX", "nolist", "0"],
        &["LPUSHX", "nolist", "a"],
        &["RPUSHX", "nolist", "a", "b"],
        &["DBSIZE"],
        &["LPUSHX", "l", "p1", "p2"],
        &["RPUSHX", "l", "q1"],
        &["LRANGE", "l", "0", "-1"],
    ]);
    // Pops: nil vs nil array, count 0, counts past the length.
    p.expect(&["LPOP", "l"], &bulk("p2"));
    p.expect(&["RPOP", "l"], &bulk("q1"));
    p.run(&[
        &["LPOP", "l", "2"],
        &["RPOP", "l", "2"],
        &["LPOP", "l", "0"],
        &["RPOP", "l", "0"],
        &["LLEN", "l"],
        &["RPOP", "l", "100"],
        &["DBSIZE"],
        &["LPOP", "l"],
        &["RPOP", "l"],
        &["LPOP", "l", "1"],
        &["RPOP", "l", "0"],
        &["LPOP", "l", "-1"],
        &["LPOP", "l", "abc"],
        &["LPOP", "l", "1.0"],
        &["LPOP", "l", "9223372036854775807"],
        &["LPOP", "l", "9223372036854775808"],
        &["LPOP", "l", "1", "2"],
        &["RPOP", "l", "1", "2", "3"],
        &["LPOP"],
        &["RPUSH", "l"],
        &["LPUSH"],
        &["RPUSH", "one", "x"],
        &["LPOP", "one", "9223372036854775807"],
        &["DBSIZE"],
        &["RPUSH", "one", "x", "y"],
        &["RPOP", "one"],
        &["LPOP", "one"],
        &["DBSIZE"],
    ]);
    // Binary-safe elements.
    p.cmd_bytes(&[b"RPUSH", b"bin", b"\x00\xff\r\n", b"", b"-0", b"007"]);
    p.cmd(&["LRANGE", "bin", "0", "-1"]);
    p.cmd(&["LPOP", "bin", "4"]);
}

#[test]
fn lists_lrem_lset_linsert_ltrim() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.cmd(&["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"]);
    p.run(&[
        &["LREM", "l", "1", "a"],
        &["LRANGE", "l", "0", "-1"],
        &["LREM", "l", "-2", "a"],
        &["LRANGE", "l", "0", "-1"],
        &["LREM", "l", "0", "b"],
        &["LRANGE", "l", "0", "-1"],
        &["LREM", "l", "5", "zzz"],
        &["LREM", "l", "x", "a"],
        &["LREM", "nolist", "x", "a"],
        &["LREM", "nolist", "1", "a"],
        &["RPUSH", "l", "a", "a"],
        &["LREM", "l", "-9223372036854775808", "a"],
        &["LRANGE", "l", "0", "-1"],
        &["LREM", "l", "0", "c"],
        &["DBSIZE"],
    ]);
    p.cmd(&["RPUSH", "l", "a", "b", "c"]);
    p.run(&[
        &["LSET", "l", "0", "A"],
        &["LSET", "l", "-1", "C"],
        &["LSET", "l", "3", "x"],
        &["LSET", "l", "-4", "x"],
        &["LSET", "l", "x", "x"],
        &["LSET", "nolist", "0", "x"],
        &["LSET", "nolist", "x", "x"],
        &["LRANGE", "l", "0", "-1"],
        &["LINSERT", "l", "BEFORE", "b", "b0"],
        &["LINSERT", "l", "after", "b", "b1"],
        &["LINSERT", "l", "AFTER", "C", "end"],
        &["LINSERT", "l", "before", "A", "start"],
        &["LINSERT", "l", "before", "missing", "x"],
        &["LINSERT", "l", "middle", "b", "x"],
        &["LINSERT", "nolist", "before", "a", "x"],
        &["LINSERT", "nolist", "middle", "a", "x"],
        &["LRANGE", "l", "0", "-1"],
        &["LTRIM", "l", "1", "-2"],
        &["LRANGE", "l", "0", "-1"],
        &["LTRIM", "l", "0", "-1"],
        &["LTRIM", "l", "-100", "100"],
        &["LTRIM", "l", "1", "1"],
        &["LRANGE", "l", "0", "-1"],
        &["LTRIM", "l", "x", "1"],
        &["LTRIM", "nolist", "0", "1"],
        &["LTRIM", "nolist", "x", "1"],
        &["LTRIM", "l", "5", "1"],
        &["DBSIZE"],
        &["LINSERT", "l", "before", "a"],
        &["LSET", "l", "0"],
        &["LREM", "l", "0"],
        &["LTRIM", "l", "0"],
    ]);
}

#[test]
fn wrongtype_both_ways() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.run(&[
        &["SET", "str", "v"],
        &["RPUSH", "list", "a"],
        &["SADD", "set", "a"],
        &["HSET", "hash", "f", "v"],
        &["ZADD", "zset", "1", "a"],
    ]);
    let on_any: &[&[&str]] = &[
        &["LPUSH", "K", "a"],
        &["RPUSH", "K", "a"],
        &["LPUSHX", "K", "a"],
        &["RPUSHX", "K", "a"],
        &["LPOP", "K"],
        &["RPOP", "K", "2"],
        &["LPOP", "K", "0"],
        &["LRANGE", "K", "0", "-1"],
        &["LLEN", "K"],
        &["LINDEX", "K", "0"],
        &["LINDEX", "K", "x"],
        &["LSET", "K", "0", "x"],
        &["LSET", "K", "x", "x"],
        &["LREM", "K", "0", "a"],
        &["LINSERT", "K", "before", "a", "b"],
        &["LTRIM", "K", "0", "1"],
        &["SADD", "K", "a"],
        &["SREM", "K", "a"],
        &["SMEMBERS", "K"],
        &["SISMEMBER", "K", "a"],
        &["SMISMEMBER", "K", "a", "b"],
        &["SCARD", "K"],
        &["SPOP", "K"],
        &["SPOP", "K", "1"],
        &["SPOP", "K", "0"],
        &["SPOP", "K", "x"],
        &["SRANDMEMBER", "K"],
        &["SRANDMEMBER", "K", "2"],
        &["SRANDMEMBER", "K", "x"],
        &["HSET", "K", "f", "v"],
        &["HMSET", "K", "f", "v"],
        &["HSETNX", "K", "f", "v"],
        &["HGET", "K", "f"],
        &["HMGET", "K", "f"],
        &["HDEL", "K", "f"],
        &["HLEN", "K"],
        &["HSTRLEN", "K", "f"],
        &["HGETALL", "K"],
        &["HKEYS", "K"],
        &["HVALS", "K"],
        &["HEXISTS", "K", "f"],
        &["HINCRBY", "K", "f", "1"],
        &["HINCRBY", "K", "f", "x"],
        &["HINCRBYFLOAT", "K", "f", "1"],
        &["HINCRBYFLOAT", "K", "f", "x"],
        &["ZADD", "K", "1", "a"],
        &["ZADD", "K", "x", "a"],
        &["ZADD", "K", "XX", "1", "a"],
        &["ZINCRBY", "K", "1", "a"],
        &["ZREM", "K", "a"],
        &["ZCARD", "K"],
        &["ZSCORE", "K", "a"],
        &["ZMSCORE", "K", "a"],
        &["ZRANK", "K", "a"],
        &["ZREVRANK", "K", "a"],
        &["ZCOUNT", "K", "0", "1"],
        &["ZRANGE", "K", "0", "-1"],
        &["ZRANGE", "K", "x", "-1"],
        &["ZRANGE", "K", "0", "1", "BYSCORE"],
        &["ZRANGE", "K", "[a", "[b", "BYLEX"],
        &["ZREVRANGE", "K", "0", "-1"],
        &["ZRANGEBYSCORE", "K", "0", "1"],
        &["ZREVRANGEBYSCORE", "K", "1", "0"],
        &["ZRANGEBYLEX", "K", "-", "+"],
        &["ZREVRANGEBYLEX", "K", "+", "-"],
    ];
    let mut wrong = 0;
    for key in ["str", "list", "set", "hash", "zset"] {
        for c in on_any {
            let args: Vec<&str> = c.iter().map(|a| if *a == "K" { key } else { a }).collect();
            if p.cmd(&args) == WRONGTYPE {
                wrong += 1;
            }
        }
    }
    assert!(
        wrong > 200,
        "most of those must be WRONGTYPE on Redis, only {wrong} were"
    );
    p.run(&[
        &["GET", "str"],
        &["LRANGE", "list", "0", "-1"],
        &["SMEMBERS", "set"],
        &["HGETALL", "hash"],
        &["ZRANGE", "zset", "0", "-1", "WITHSCORES"],
    ]);
}

#[test]
fn sets_intset_order_and_conversion() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.expect(
        &[
            "SADD",
            "s",
            "5",
            "-3",
            "100",
            "0",
            "5",
            "-9223372036854775808",
            "9223372036854775807",
        ],
        b":6\r\n",
    );
    p.run(&[
        &["SMEMBERS", "s"],
        &["SCARD", "s"],
        &["SISMEMBER", "s", "5"],
        &["SISMEMBER", "s", "05"],
        &["SISMEMBER", "s", "6"],
        &["SISMEMBER", "s", "x"],
        &["SMISMEMBER", "s", "5", "x", "0", "-0"],
        &["SMISMEMBER", "nokey", "5", "x"],
        &["SISMEMBER", "nokey", "5"],
        &["SCARD", "nokey"],
        &["SMEMBERS", "nokey"],
        &["SREM", "s", "5", "5", "x", "05"],
        &["SMEMBERS", "s"],
        &["SADD", "s", "-0"],
        &["SREM", "nokey", "a"],
        &["SADD", "s"],
        &["SREM", "s"],
    ]);
    // Whatever is not a canonical integer makes a hash table: order undefined.
    p.unordered(&["SMEMBERS", "s"]);
    p.run(&[
        &["SISMEMBER", "s", "-0"],
        &["SISMEMBER", "s", "100"],
        &["SREM", "s", "100"],
        &["SCARD", "s"],
    ]);
    for set in ["01", "+1", " 1", "1.0", "9223372036854775808", "abc", ""] {
        p.run(&[&["SADD", "t", "1", "2", set], &["SCARD", "t"]]);
        p.unordered(&["SMEMBERS", "t"]);
        p.cmd(&["DEL", "t"]);
    }
    // 512 integers are an intset (numeric order, compared exactly); the 513th converts.
    let mut args: Vec<String> = vec!["SADD".into(), "big".into()];
    args.extend((0..512).rev().map(|i| (i * 7 - 1000).to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    p.expect(&a, b":512\r\n");
    p.cmd(&["SMEMBERS", "big"]);
    p.expect(&["SADD", "big", "5000"], b":1\r\n");
    p.unordered(&["SMEMBERS", "big"]);
    // Back down to a few integers: still a hash table in Redis.
    p.cmd(&["SREM", "big", "5000"]);
    p.unordered(&["SMEMBERS", "big"]);
    // One SADD that crosses the limit.
    let mut args: Vec<String> = vec!["SADD".into(), "big2".into()];
    args.extend((0..600).map(|i| i.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    p.expect(&a, b":600\r\n");
    p.unordered(&["SMEMBERS", "big2"]);
    // The last member out deletes the key.
    p.run(&[
        &["SADD", "one", "a"],
        &["SREM", "one", "a", "b"],
        &["DBSIZE"],
    ]);
}

/// SPOP and SRANDMEMBER pick at random, so two servers pick differently. What must hold
/// is compared instead: the shape of the reply, that the picks come from the set, and
/// the state left behind.
#[test]
fn sets_random_picks() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    // Deterministic cases first: nothing, everything, errors.
    p.run(&[
        &["SPOP", "nokey"],
        &["SPOP", "nokey", "3"],
        &["SPOP", "nokey", "0"],
        &["SPOP", "nokey", "-1"],
        &["SPOP", "nokey", "x"],
        &["SPOP", "nokey", "1", "2"],
        &["SRANDMEMBER", "nokey"],
        &["SRANDMEMBER", "nokey", "3"],
        &["SRANDMEMBER", "nokey", "-3"],
        &["SRANDMEMBER", "nokey", "x"],
        &["SRANDMEMBER", "nokey", "-9223372036854775808"],
        &["SRANDMEMBER", "nokey", "-9223372036854775807"],
        &["SRANDMEMBER", "nokey", "1", "2"],
        &["SADD", "ints", "3", "1", "2"],
        &["SPOP", "ints", "0"],
        &["SRANDMEMBER", "ints", "0"],
        &["SPOP", "ints", "-1"],
        &["SRANDMEMBER", "ints", "-9223372036854775808"],
        &["SRANDMEMBER", "ints", "3"],
        &["SRANDMEMBER", "ints", "100"],
        // Popping everything: the whole set (an intset's numeric order) and no key left.
        &["SPOP", "ints", "3"],
        &["DBSIZE"],
        &["SADD", "ints", "3", "1", "2"],
        &["SPOP", "ints", "9223372036854775807"],
        &["SADD", "one", "only"],
        &["SPOP", "one"],
        &["DBSIZE"],
        &["SADD", "one", "only"],
        &["SRANDMEMBER", "one"],
        &["SRANDMEMBER", "one", "-3"],
    ]);
    p.cmd(&["SADD", "strs", "a", "b", "c"]);
    p.unordered(&["SPOP", "strs", "5"]);
    // Random: same shape, members from the set.
    let members: Vec<String> = (0..20).map(|i| format!("m{i:02}")).collect();
    for key in ["hs", "is"] {
        let mut add = vec!["SADD".to_string(), key.to_string()];
        if key == "hs" {
            add.extend(members.iter().cloned());
        } else {
            add.extend((0..20).map(|i| (i * 3).to_string()));
        }
        let a: Vec<&str> = add.iter().map(String::as_str).collect();
        p.cmd(&a);
        let universe: Vec<Vec<u8>> = add[2..].iter().map(|m| m.as_bytes().to_vec()).collect();
        for (args, n, distinct) in [
            (vec!["SRANDMEMBER", key, "5"], 5, true),
            (vec!["SRANDMEMBER", key, "15"], 15, true),
            (vec!["SRANDMEMBER", key, "-30"], 30, false),
            (vec!["SRANDMEMBER", key, "1"], 1, true),
            (vec!["SPOP", key, "2"], 2, true),
            (vec!["SPOP", key, "15"], 15, true),
        ] {
            let a: Vec<&[u8]> = args.iter().map(|x| x.as_bytes()).collect();
            let (want, got) = p.both(&a);
            for (who, reply) in [("Redis", &want), ("replscope", &got)] {
                normalize::assert_random_picks(who, &args, reply, n, &universe, distinct);
            }
        }
        p.run(&[&["SCARD", key]]);
        for cmd in ["SPOP", "SRANDMEMBER"] {
            let (want, got) = p.both(&[cmd.as_bytes(), key.as_bytes()]);
            for reply in [want, got] {
                normalize::assert_one_random_pick(&format!("{cmd} {key}"), &reply);
            }
        }
        p.run(&[&["SCARD", key]]);
    }
    // Popping most of an intset keeps the survivors an intset; of a hash table whose
    // survivors are integers, Redis builds a fresh set, an intset again.
    p.cmd(&[
        "SADD", "mixed", "x", "1", "2", "3", "4", "5", "6", "7", "8", "9",
    ]);
    let (want, got) = p.both(&[b"SPOP", b"mixed", b"9"]);
    let (w, g) = (bulk_strings(&want).unwrap(), bulk_strings(&got).unwrap());
    assert_eq!((w.len(), g.len()), (9, 9));
    // Whatever survived: compared as the servers hold it (only an intset's order is exact).
    p.run(&[&["SCARD", "mixed"]]);
}

#[test]
fn hashes() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.expect(&["HSET", "h", "f1", "v1", "f2", "v2"], b":2\r\n");
    p.run(&[
        &["HSET", "h", "f1", "v1b", "f3", "v3"],
        &["HMSET", "h", "f4", "v4", "f1", "v1c"],
        &["HSET", "h", "f1"],
        &["HSET", "h", "f1", "v", "f2"],
        &["HMSET", "h", "f1", "v", "f2"],
        &["HMSET", "h"],
        &["HSET", "h"],
        &["HGETALL", "h"],
        &["HKEYS", "h"],
        &["HVALS", "h"],
        &["HLEN", "h"],
        &["HGET", "h", "f1"],
        &["HGET", "h", "nofield"],
        &["HGET", "nokey", "f1"],
        &["HMGET", "h", "f1", "nofield", "f2"],
        &["HMGET", "nokey", "f1", "f2"],
        &["HEXISTS", "h", "f1"],
        &["HEXISTS", "h", "nofield"],
        &["HEXISTS", "nokey", "f1"],
        &["HSTRLEN", "h", "f1"],
        &["HSTRLEN", "h", "nofield"],
        &["HSTRLEN", "nokey", "f"],
        &["HLEN", "nokey"],
        &["HGETALL", "nokey"],
        &["HKEYS", "nokey"],
        &["HVALS", "nokey"],
        &["HSETNX", "h", "f1", "x"],
        &["HSETNX", "h", "f9", "x"],
        &["HSETNX", "newh", "f", "x"],
        // Deleting keeps the others in listpack order.
        &["HDEL", "h", "f2", "nofield", "f2"],
        &["HGETALL", "h"],
        &["HSET", "h", "f2", "back"],
        &["HGETALL", "h"],
        &["HDEL", "nokey", "f"],
        &["HDEL", "newh", "f", "g"],
        &["DBSIZE"],
    ]);
    // Integers.
    p.run(&[
        &["HINCRBY", "n", "a", "5"],
        &["HINCRBY", "n", "a", "-10"],
        &["HINCRBY", "n", "a", "x"],
        &["HINCRBY", "n", "a", "1.5"],
        &["HINCRBY", "n", "a", "9223372036854775808"],
        &[
            "HSET",
            "n",
            "big",
            "9223372036854775806",
            "small",
            "-9223372036854775807",
            "str",
            "abc",
            "pad",
            " 1",
            "zero",
            "007",
        ],
        &["HINCRBY", "n", "big", "1"],
        &["HINCRBY", "n", "big", "1"],
        &["HINCRBY", "n", "small", "-1"],
        &["HINCRBY", "n", "small", "-1"],
        &["HINCRBY", "n", "small", "9223372036854775807"],
        &["HINCRBY", "n", "str", "1"],
        &["HINCRBY", "n", "pad", "1"],
        &["HINCRBY", "n", "zero", "1"],
        &["HINCRBY", "nokey2", "f", "x"],
        &["DBSIZE"],
        &["HGETALL", "n"],
    ]);
    // Long double arithmetic and its printing.
    let floats: &[&[&str]] = &[
        &["HINCRBYFLOAT", "fl", "a", "0.1"],
        &["HINCRBYFLOAT", "fl", "a", "0.2"],
        &["HINCRBYFLOAT", "fl", "a", "-0.3"],
        &["HINCRBYFLOAT", "fl", "b", "1e-20"],
        &["HINCRBYFLOAT", "fl", "c", "3.0e0"],
        &["HINCRBYFLOAT", "fl", "d", "-0"],
        &["HINCRBYFLOAT", "fl", "e", "1e4000"],
        &["HINCRBYFLOAT", "fl", "e", "1e4000"],
        &["HINCRBYFLOAT", "fl", "f", "1.7976931348623157e308"],
        &["HINCRBYFLOAT", "fl", "g", "0x1p-3"],
        &["HINCRBYFLOAT", "fl", "h", "1e5000"],
        &["HINCRBYFLOAT", "fl", "h", "1e-5000"],
        &["HINCRBYFLOAT", "fl", "h", "inf"],
        &["HINCRBYFLOAT", "fl", "h", "-Infinity"],
        &["HINCRBYFLOAT", "fl", "h", "nan"],
        &["HINCRBYFLOAT", "fl", "h", "abc"],
        &["HINCRBYFLOAT", "fl", "h", " 1"],
        &["HINCRBYFLOAT", "fl", "h", "1 "],
        &["HINCRBYFLOAT", "fl", "h", ""],
        &["HINCRBYFLOAT", "fl", "h", "+.5"],
        &["HINCRBYFLOAT", "fl", "h", "5."],
        &["HINCRBYFLOAT", "fl", "i", "123456789012345678901234567890"],
        &[
            "HINCRBYFLOAT",
            "fl",
            "j",
            "-1.23456789012345678901234567890",
        ],
        &["HINCRBYFLOAT", "fl", "k", "10.5"],
        &["HINCRBYFLOAT", "fl", "k", "0.0000000000000000001"],
        &["HINCRBYFLOAT", "fl", "l", "1e-4940"],
        &[
            "HSET", "fl", "s", "abc", "inf", "inf", "ws", " 1", "hex", "0x10", "int", "17",
        ],
        &["HINCRBYFLOAT", "fl", "s", "1"],
        &["HINCRBYFLOAT", "fl", "inf", "1"],
        &["HINCRBYFLOAT", "fl", "ws", "1"],
        &["HINCRBYFLOAT", "fl", "hex", "1"],
        &["HINCRBYFLOAT", "fl", "int", "0.5"],
        &["HINCRBYFLOAT", "fl", "e", "-1e4000"],
        &["HINCRBYFLOAT", "fl", "e", "-1e4000"],
        &["HINCRBYFLOAT", "flnew", "x", "nan"],
        &["DBSIZE"],
    ];
    p.run(floats);
    // 1e4000 printed is far longer than 64 bytes: "fl" is a hash table now.
    p.unordered_pairs(&["HGETALL", "fl"]);
    for i in 0..60 {
        // Running sums that stress the 64-bit mantissa and the 17-digit rounding.
        let incr = format!("{}.{}", (i * 37) % 11, (i * 7919) % 1000);
        p.run(&[
            &["HINCRBYFLOAT", "acc", "x", &incr],
            &["HINCRBYFLOAT", "acc", "y", &format!("-0.0{i}7")],
        ]);
    }
    p.cmd(&["HGETALL", "acc"]);
    // Past the listpack limits the order is undefined: compared sorted.
    let mut args = vec!["HSET".to_string(), "wide".to_string()];
    for i in 0..129 {
        args.push(format!("field{i}"));
        args.push(format!("value{i}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    p.expect(&a, b":129\r\n");
    p.unordered_pairs(&["HGETALL", "wide"]);
    p.unordered(&["HKEYS", "wide"]);
    p.unordered(&["HVALS", "wide"]);
    p.cmd(&["HLEN", "wide"]);
    // 128 small fields stay a listpack: exact order.
    let a: Vec<&str> = args[..2 + 256].iter().map(String::as_str).collect();
    let mut a = a.clone();
    a[1] = "narrow";
    p.cmd(&a);
    p.cmd(&["HGETALL", "narrow"]);
    let long = "v".repeat(65);
    p.run(&[&["HSET", "longval", "a", "1", "b", &long, "c", "3"]]);
    p.unordered_pairs(&["HGETALL", "longval"]);
    p.cmd_bytes(&[b"HSET", b"binh", b"\x00f", b"\xff\r\n"]);
    p.cmd(&["HGETALL", "binh"]);
}

#[test]
fn zsets_add_options_and_errors() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.run(&[
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZADD", "z", "NX", "10", "a", "4", "d"],
        &["ZADD", "z", "XX", "10", "a", "5", "e"],
        &["ZADD", "z", "CH", "11", "a", "5", "e", "2", "b"],
        &["ZADD", "z", "GT", "1", "a", "20", "b"],
        &["ZADD", "z", "LT", "CH", "100", "c", "0", "d"],
        &[
            "ZADD",
            "z",
            "GT",
            "XX",
            "CH",
            "50",
            "a",
            "1",
            "b",
            "7",
            "nonexistent",
        ],
        &["ZADD", "z", "INCR", "5", "a"],
        &["ZADD", "z", "INCR", "NX", "5", "a"],
        &["ZADD", "z", "INCR", "XX", "5", "nonexistent"],
        &["ZADD", "z", "INCR", "GT", "-5", "a"],
        &["ZADD", "z", "INCR", "LT", "-5", "a"],
        &["ZADD", "z", "INCR", "NX", "5", "newm"],
        &["ZADD", "z", "incr", "xx", "ch", "0", "a"],
        &["ZADD", "z", "0", "a"],
        &["ZADD", "z", "CH", "0", "a"],
        &["ZADD", "z", "NX", "XX", "1", "a"],
        &["ZADD", "z", "GT", "LT", "1", "a"],
        &["ZADD", "z", "GT", "NX", "1", "a"],
        &["ZADD", "z", "LT", "NX", "1", "a"],
        &["ZADD", "z", "NX", "XX", "GT", "1", "a"],
        &["ZADD", "z", "INCR", "1", "a", "2", "b"],
        &["ZADD", "z", "INCR", "NX", "XX", "1", "a", "2", "b"],
        &["ZADD", "z", "1"],
        &["ZADD", "z", "1", "a", "2"],
        &["ZADD", "z", "NX"],
        &["ZADD", "z", "NX", "CH"],
        &["ZADD", "z", "x", "a"],
        &["ZADD", "z", "1", "a", "x", "b"],
        &["ZADD", "z", "nan", "a"],
        &["ZADD", "z", "1e400", "a"],
        &["ZADD", "z", " 1", "a"],
        &["ZADD", "z", "1 ", "a"],
        &["ZADD", "z", "", "a"],
        &["ZADD", "z", "XX", "x", "a"],
        &["ZADD", "nokey", "XX", "1", "a"],
        &["ZADD", "nokey", "XX", "INCR", "1", "a"],
        &["DBSIZE"],
        &["ZADD", "z", "inf", "pinf", "-inf", "ninf"],
        &["ZADD", "z", "INCR", "-inf", "pinf"],
        &["ZINCRBY", "z", "-inf", "pinf"],
        &["ZINCRBY", "z", "inf", "ninf"],
        &["ZSCORE", "z", "pinf"],
        &["ZSCORE", "z", "ninf"],
        &["ZINCRBY", "z", "1", "a"],
        &["ZINCRBY", "z", "x", "a"],
        &["ZINCRBY", "z", "nx", "a"],
        &["ZINCRBY", "z", "1.5", "new"],
        &["ZINCRBY", "nz", "-2.5", "m"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZCARD", "z"],
        &["ZCARD", "nokey"],
        &["ZSCORE", "z", "a"],
        &["ZSCORE", "z", "none"],
        &["ZSCORE", "nokey", "a"],
        &["ZMSCORE", "z", "a", "none", "b"],
        &["ZMSCORE", "nokey", "a", "b"],
        &["ZRANK", "z", "a"],
        &["ZRANK", "z", "none"],
        &["ZREVRANK", "z", "a"],
        &["ZRANK", "nokey", "a"],
        &["ZREM", "z", "a", "none", "a"],
        &["ZREM", "nokey", "a"],
        &["ZREM", "nz", "m", "x"],
        &["DBSIZE"],
        &["ZREM", "z"],
        &["ZADD", "z"],
        &["ZINCRBY", "z", "1"],
    ]);
}

#[test]
fn zsets_scores_print_like_redis() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    let scores = [
        "0.1",
        "1e300",
        "-0",
        "3.0",
        "0.3333333333333333",
        "1",
        "-1",
        "1.5",
        "1e17",
        "1e16",
        "123456789012345678",
        "1e-5",
        "0.0001",
        "-2.5e-10",
        "1.7976931348623157e308",
        "4.9406564584124654e-324",
        "1e-320",
        "2.2250738585072014e-308",
        "1125899906842624.25",
        "1125899906842624.75",
        "0x1p-1074",
        "0x1.fffffffffffffp1023",
        "0X10",
        "+7",
        ".5",
        "5.",
        "1E2",
        "9007199254740993",
        "-9007199254740993",
        "99999999999999999",
        "0.1e1",
        "100000000000000000000",
        "1e22",
        "1e23",
        "inf",
        "-inf",
        "Infinity",
        "123.456",
        "-0.000001",
        "1e-7",
        "12345678.901234567",
    ];
    let mut args = vec!["ZADD".to_string(), "s".to_string()];
    for (i, s) in scores.iter().enumerate() {
        args.push(s.to_string());
        args.push(format!("m{i:02}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    p.cmd(&a);
    p.cmd(&["ZRANGE", "s", "0", "-1", "WITHSCORES"]);
    for i in 0..scores.len() {
        p.cmd(&["ZSCORE", "s", &format!("m{i:02}")]);
    }
    // Increments that land on awkward values, and ZINCRBY replies.
    for (a, b) in [
        ("0.1", "0.2"),
        ("1e308", "1e308"),
        ("-0", "-0"),
        ("0", "-0"),
        ("1", "-1"),
        ("1e-320", "1e-320"),
        ("3", "0.3"),
    ] {
        let m = format!("{a}+{b}");
        p.run(&[
            &["ZINCRBY", "inc", a, &m],
            &["ZINCRBY", "inc", b, &m],
            &["ZSCORE", "inc", &m],
        ]);
    }
    p.cmd(&["ZRANGE", "inc", "0", "-1", "WITHSCORES"]);
    // -0: a listpack stores it as the integer 0, a skiplist keeps it.
    let long = "m".repeat(65);
    p.run(&[
        &["ZADD", "lp", "-0", "a"],
        &["ZSCORE", "lp", "a"],
        &["ZADD", "lp", "INCR", "-0", "b"],
        &["ZSCORE", "lp", "b"],
        &["ZADD", "sl", "-0", "a", "1", &long],
        &["ZSCORE", "sl", "a"],
        &["ZADD", "sl", "-0", "b"],
        &["ZSCORE", "sl", "b"],
        &["ZADD", "sl2", "-0", &long],
        &["ZSCORE", "sl2", &long],
    ]);
    // A set past 128 members is a skiplist from then on.
    let mut args = vec!["ZADD".to_string(), "many".to_string()];
    for i in 0..129 {
        args.push(format!("{}", i as f64 / 7.0));
        args.push(format!("e{i:03}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    p.cmd(&a);
    p.run(&[
        &["ZADD", "many", "-0", "zero"],
        &["ZSCORE", "many", "zero"],
        &["ZRANGE", "many", "0", "-1", "WITHSCORES"],
    ]);
}

#[test]
fn zsets_ranges() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.cmd(&[
        "ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-1.5", "e", "inf", "f", "-inf", "g",
        "0", "h", "-0", "i",
    ]);
    p.cmd(&[
        "ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e", "0", "ab", "0", "", "0",
        "\u{7f}",
    ]);
    let cases: &[&[&str]] = &[
        &["ZRANGE", "z", "0", "-1"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["ZRANGE", "z", "2", "4", "withscores"],
        &["ZRANGE", "z", "-3", "-1"],
        &["ZRANGE", "z", "5", "2"],
        &["ZRANGE", "z", "100", "200"],
        &["ZRANGE", "z", "-100", "100"],
        &["ZRANGE", "z", "0", "-9223372036854775808"],
        &["ZRANGE", "z", "0", "-1", "REV"],
        &["ZRANGE", "z", "0", "2", "REV", "WITHSCORES"],
        &["ZRANGE", "z", "x", "1"],
        &["ZRANGE", "z", "0", "1.5"],
        &["ZRANGE", "z", "0", "1", "LIMIT", "0", "1"],
        &["ZRANGE", "z", "0", "1", "LIMIT", "0"],
        &["ZRANGE", "z", "0", "1", "LIMIT", "x", "1"],
        &["ZRANGE", "z", "0", "1", "BOGUS"],
        &["ZRANGE", "z", "0", "1", "REV", "REV"],
        &["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"],
        &["ZRANGE", "z", "0", "1", "BYSCORE", "BYSCORE"],
        &["ZRANGE", "nokey", "0", "-1"],
        &["ZRANGE", "nokey", "x", "-1"],
        &["ZRANGE", "nokey", "0", "1", "BYLEX"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE"],
        &["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES"],
        &["ZRANGE", "z", "(1", "3", "BYSCORE", "WITHSCORES"],
        &["ZRANGE", "z", "1", "(3", "BYSCORE"],
        &["ZRANGE", "z", "(1", "(2", "BYSCORE"],
        &["ZRANGE", "z", "2", "2", "BYSCORE"],
        &["ZRANGE", "z", "(2", "2", "BYSCORE"],
        &["ZRANGE", "z", "3", "1", "BYSCORE"],
        &["ZRANGE", "z", "0", "0", "BYSCORE"],
        &["ZRANGE", "z", "-0", "(0.5", "BYSCORE"],
        &["ZRANGE", "z", "", "", "BYSCORE"],
        &["ZRANGE", "z", "(", "1", "BYSCORE"],
        &["ZRANGE", "z", " 1", "3", "BYSCORE"],
        &["ZRANGE", "z", "1 ", "3", "BYSCORE"],
        &["ZRANGE", "z", "1e400", "inf", "BYSCORE"],
        &["ZRANGE", "z", "-1e400", "-1e300", "BYSCORE"],
        &["ZRANGE", "z", "0x1", "0x3", "BYSCORE"],
        &["ZRANGE", "z", "nan", "1", "BYSCORE"],
        &["ZRANGE", "z", "((1", "1", "BYSCORE"],
        &["ZRANGE", "z", "a", "1", "BYSCORE"],
        &["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "1", "2"],
        &["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "1", "-1"],
        &["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "-1", "2"],
        &["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "100", "2"],
        &["ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "0", "0"],
        &[
            "ZRANGE",
            "z",
            "-inf",
            "inf",
            "BYSCORE",
            "LIMIT",
            "2",
            "3",
            "WITHSCORES",
        ],
        &["ZRANGE", "z", "inf", "-inf", "BYSCORE", "REV"],
        &["ZRANGE", "z", "3", "(1", "BYSCORE", "REV", "WITHSCORES"],
        &["ZRANGE", "z", "-inf", "inf", "BYSCORE", "REV"],
        &[
            "ZRANGE", "z", "inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "3",
        ],
        &[
            "ZRANGE",
            "z",
            "(2",
            "-inf",
            "BYSCORE",
            "REV",
            "LIMIT",
            "0",
            "1",
            "WITHSCORES",
        ],
        &["ZRANGE", "lex", "-", "+", "BYLEX"],
        &["ZRANGE", "lex", "[a", "[c", "BYLEX"],
        &["ZRANGE", "lex", "(a", "(c", "BYLEX"],
        &["ZRANGE", "lex", "[", "(b", "BYLEX"],
        &["ZRANGE", "lex", "(", "+", "BYLEX"],
        &["ZRANGE", "lex", "+", "-", "BYLEX"],
        &["ZRANGE", "lex", "[c", "[a", "BYLEX"],
        &["ZRANGE", "lex", "+", "-", "BYLEX", "REV"],
        &["ZRANGE", "lex", "[c", "(a", "BYLEX", "REV"],
        &["ZRANGE", "lex", "-", "+", "BYLEX", "LIMIT", "2", "3"],
        &["ZRANGE", "lex", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2"],
        &["ZRANGE", "lex", "-", "+", "BYLEX", "LIMIT", "-1", "3"],
        &["ZRANGE", "lex", "a", "+", "BYLEX"],
        &["ZRANGE", "lex", "-", "", "BYLEX"],
        &["ZRANGE", "lex", "-x", "+", "BYLEX"],
        &["ZRANGE", "lex", "++", "+", "BYLEX"],
        &["ZRANGE", "lex", "-", "+", "BYLEX", "WITHSCORES"],
        &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES", "LIMIT", "0", "1"],
        &["ZRANGE", "z", "0", "-1", "BYLEX", "WITHSCORES"],
        &["ZREVRANGE", "z", "0", "-1"],
        &["ZREVRANGE", "z", "0", "2", "WITHSCORES"],
        &["ZREVRANGE", "z", "0", "2", "REV"],
        &["ZREVRANGE", "z", "0", "2", "BYSCORE"],
        &["ZREVRANGE", "z", "0", "2", "LIMIT", "0", "1"],
        &["ZRANGEBYSCORE", "z", "-inf", "inf"],
        &[
            "ZRANGEBYSCORE",
            "z",
            "1",
            "3",
            "WITHSCORES",
            "LIMIT",
            "1",
            "2",
        ],
        &["ZRANGEBYSCORE", "z", "1", "3", "REV"],
        &["ZRANGEBYSCORE", "z", "1", "3", "BYSCORE"],
        &["ZREVRANGEBYSCORE", "z", "inf", "-inf"],
        &["ZREVRANGEBYSCORE", "z", "3", "1", "WITHSCORES"],
        &["ZREVRANGEBYSCORE", "z", "1", "3"],
        &["ZRANGEBYLEX", "lex", "-", "+"],
        &["ZRANGEBYLEX", "lex", "[b", "+", "LIMIT", "0", "2"],
        &["ZRANGEBYLEX", "lex", "[b", "+", "WITHSCORES"],
        &["ZREVRANGEBYLEX", "lex", "+", "-"],
        &["ZREVRANGEBYLEX", "lex", "(c", "[a"],
        &["ZCOUNT", "z", "-inf", "inf"],
        &["ZCOUNT", "z", "(1", "3"],
        &["ZCOUNT", "z", "3", "1"],
        &["ZCOUNT", "z", "x", "1"],
        &["ZCOUNT", "nokey", "0", "1"],
        &["ZCOUNT", "nokey", "x", "1"],
        &["ZRANK", "z", "g"],
        &["ZRANK", "z", "f"],
        &["ZREVRANK", "z", "g"],
        &["ZRANK", "z", "i"],
        &["ZRANK", "z", "h"],
    ];
    p.run(cases);
    p.cmd_bytes(&[b"ZRANGE", b"z", b"1\x002", b"3", b"BYSCORE"]);
    p.cmd_bytes(&[b"ZADD", b"z", b"1\x002", b"x"]);
    p.cmd_bytes(&[b"ZADD", b"bin", b"1", b"\x00\xff", b"1", b"\x00"]);
    p.cmd(&["ZRANGE", "bin", "0", "-1", "WITHSCORES"]);
}

/// A key that expired is gone for every command, and a write recreates it from nothing.
#[test]
fn lazy_expiry_applies_to_collections() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    for k in ["l", "s", "h", "z", "r"] {
        p.cmd(&["SET", k, "v", "PX", "1"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    p.run(&[
        &["LLEN", "l"],
        &["RPUSH", "l", "a"],
        &["SADD", "s", "1"],
        &["HSET", "h", "f", "v"],
        &["ZADD", "z", "1", "m"],
        &["LRANGE", "r", "0", "-1"],
        &["DBSIZE"],
    ]);
}

/// Parses a replication stream into commands.
fn commands(stream: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < stream.len() {
        let len = common::reply_len(&stream[at..]).expect("whole commands");
        out.push(
            bulk_strings(&stream[at..at + len]).expect("a command is an array of bulk strings"),
        );
        at += len;
    }
    out
}

/// The writes whose propagation is compared, run on one server; returns what SPOP
/// replied, since its picks are random.
fn collection_writes(w: &mut Client) -> Vec<Vec<Vec<u8>>> {
    let mut run = |args: &[&str]| w.cmd(args);
    run(&["SELECT", "3"]);
    for c in [
        &["RPUSH", "l", "a", "b", "c", "d", "e"][..],
        &["LPUSH", "l", "z"],
        &["LPOP", "l", "2"],
        &["RPOP", "l", "10"],
        &["LPOP", "l", "0"],
        &["LPOP", "l"],
        &["LPOP", "nolist", "3"],
        &["RPUSH", "l", "a", "b", "a"],
        &["LREM", "l", "0", "zz"],
        &["LREM", "l", "-1", "a"],
        &["LSET", "l", "0", "A"],
        &["LINSERT", "l", "after", "A", "x"],
        &["LINSERT", "l", "after", "nothere", "x"],
        &["LTRIM", "l", "0", "-1"],
        &["LTRIM", "l", "1", "-1"],
        &["LPUSHX", "nolist", "a"],
        &["SADD", "s", "a", "b"],
        &["SADD", "s", "a"],
        &["SREM", "s", "zz"],
        &["SREM", "s", "a", "zz"],
        &["HSET", "h", "f", "v"],
        &["HSET", "h", "f", "v"],
        &["HMSET", "h", "g", "1"],
        &["HSETNX", "h", "g", "2"],
        &["HSETNX", "h", "n", "2"],
        &["HINCRBY", "h", "g", "41"],
        &["HINCRBYFLOAT", "h", "fl", "0.1"],
        &["hincrbyfloat", "h", "fl", "1e-3"],
        &["HINCRBYFLOAT", "h", "fl", "abc"],
        &["HDEL", "h", "zz"],
        &["HDEL", "h", "f", "zz"],
        &["ZADD", "z", "1", "a", "2", "b"],
        &["ZADD", "z", "XX", "5", "nothere"],
        &["ZADD", "z", "1", "a"],
        &["ZADD", "z", "INCR", "1.5", "a"],
        &["ZINCRBY", "z", "-0.25", "b"],
        &["ZADD", "z", "inf", "i"],
        &["ZADD", "z", "INCR", "-inf", "i"],
        &["ZREM", "z", "zz"],
        &["ZREM", "z", "b"],
        // Emptied collections go; the replicas are told by the command itself.
        &["RPUSH", "gone", "x"],
        &["LREM", "gone", "0", "x"],
        &["HSET", "gone", "f", "v"],
        &["HDEL", "gone", "f"],
        &["ZADD", "gone", "1", "m"],
        &["ZREM", "gone", "m"],
    ] {
        run(c);
    }
    // SPOP: one member -> SREM; a few -> SREMs in MULTI/EXEC; most of an intset -> the
    // popped ones in numeric order; everything -> DEL.
    run(&["SADD", "one", "only"]);
    run(&[
        "SADD", "ht", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j",
    ]);
    run(&["SADD", "ints", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    run(&["SADD", "all", "x", "y"]);
    let mut popped = Vec::new();
    for c in [
        &["SPOP", "one"][..],
        &["SPOP", "ht", "3"],
        &["SPOP", "ht", "1"],
        &["SPOP", "ints", "8"],
        &["SPOP", "all", "2"],
        &["SPOP", "ht", "0"],
    ] {
        let reply = run(c);
        popped.push(bulk_strings(&reply).unwrap_or_else(|| {
            vec![
                reply[reply.iter().position(|&b| b == b'\n').unwrap() + 1..reply.len() - 2]
                    .to_vec(),
            ]
        }));
    }
    for c in [
        &["RPUSH", "src", "1", "2", "3"][..],
        &["LMOVE", "src", "dst", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "src", "src"],
        &["LMOVE", "nosrc", "dst", "LEFT", "LEFT"],
        &["SADD", "sa", "1", "2", "x"],
        &["SADD", "sb", "2", "3"],
        &["SMOVE", "sa", "sb", "x"],
        &["SMOVE", "sa", "sb", "nothere"],
        &["SINTERSTORE", "si", "sa", "sb"],
        &["SINTERSTORE", "nodst", "sa", "nokey"],
        &["SINTERSTORE", "si", "sa", "nokey"],
        &["SUNIONSTORE", "su", "sa", "sb"],
        &["SDIFFSTORE", "sd", "sb", "sa"],
        &[
            "ZADD", "zp", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
        ],
        &["ZPOPMIN", "zp"],
        &["ZPOPMAX", "zp", "2"],
        &["ZPOPMIN", "zp", "0"],
        &["ZPOPMIN", "nozp", "3"],
        &[
            "ZADD", "zr", "0", "a", "0", "b", "0", "c", "1", "d", "2", "e", "3", "f",
        ],
        &["ZREMRANGEBYRANK", "zr", "0", "0"],
        &["ZREMRANGEBYRANK", "zr", "5", "9"],
        &["ZREMRANGEBYSCORE", "zr", "(2", "+inf"],
        &["ZREMRANGEBYSCORE", "zr", "10", "20"],
        &["ZREMRANGEBYLEX", "zr", "[b", "[c"],
        &["ZREMRANGEBYLEX", "zr", "-", "+"],
    ] {
        run(c);
    }
    // A write on a key that expired: DEL, then the write, in one MULTI/EXEC.
    run(&["SET", "exp", "v", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    run(&["RPUSH", "exp", "new"]);
    run(&["SET", "end", "end"]);
    popped
}

/// The sets [`collection_writes`] SPOPs from with SREMs in the stream.
const SPOPPED: &[&[u8]] = &[b"one", b"ht", b"ints"];

#[test]
fn propagation_matches_real_redis() {
    let Some(both) = common::streams_from_both(collection_writes, b"$3\r\nend\r\n$3\r\nend\r\n")
    else {
        return;
    };
    let mut streams = Vec::new();
    for (kind, (stream, popped)) in [Kind::Redis, Kind::Replscope].into_iter().zip(both) {
        let stream = normalize::mask_relative_expiries(&stream);
        // Each SPOP's SREMs name exactly what it replied, in the same order.
        let srems: Vec<Vec<u8>> = commands(&stream)
            .into_iter()
            .filter(|c| c[0] == b"SREM" && SPOPPED.contains(&c[1].as_slice()))
            .map(|c| c[2].clone())
            .collect();
        let replied: Vec<Vec<u8>> = popped[..4].iter().flatten().cloned().collect();
        assert_eq!(
            srems,
            replied,
            "{}: SPOP's SREMs vs its replies",
            kind.name()
        );
        let ints: Vec<i64> = popped[3]
            .iter()
            .map(|m| String::from_utf8_lossy(m).parse().unwrap())
            .collect();
        assert!(
            ints.windows(2).all(|w| w[0] < w[1]),
            "{}: most of an intset pops in numeric order: {ints:?}",
            kind.name()
        );
        streams.push(normalize::mask_spop_members(&stream, SPOPPED));
    }
    assert_eq!(
        show(&streams[1]),
        show(&streams[0]),
        "replscope's stream (left) vs Redis's (right)"
    );
}

/// Number texts of many shapes from a fixed-seed generator: parsing (strtod / strtold),
/// 80-bit addition and both printers must agree with Redis on every one.
#[test]
fn floats_fuzzed_against_redis() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut texts = Vec::new();
    for i in 0..400 {
        let r = next();
        let text = match i % 5 {
            // Any double, in Rust's shortest and in long forms.
            0 => {
                let v = f64::from_bits(r);
                if v.is_nan() {
                    "nan".to_string()
                } else if i % 2 == 0 {
                    format!("{v:e}")
                } else {
                    format!("{v:.25e}")
                }
            }
            // Decimal digits with a point somewhere and an exponent.
            1 => {
                let digits: String = (0..(r % 30 + 1))
                    .map(|k| char::from(b'0' + ((r >> (k % 60)) % 10) as u8))
                    .collect();
                let point = (r >> 20) as usize % (digits.len() + 1);
                let exp = ((r >> 32) % 80) as i64 - 40;
                let sign = if r & (1 << 40) != 0 { "-" } else { "" };
                format!("{sign}{}.{}e{exp}", &digits[..point], &digits[point..])
            }
            // Small money-like values: where 17 decimals show the binary error.
            2 => format!("{}.{:02}", (r % 2000) as i64 - 1000, (r >> 16) % 100),
            // Hexadecimal floats.
            3 => format!(
                "0x{:x}.{:x}p{}",
                r % 0xffff,
                (r >> 16) % 0xfff,
                ((r >> 32) % 200) as i64 - 100
            ),
            // Large and tiny magnitudes.
            _ => format!("{}e{}", (r % 999) + 1, ((r >> 16) % 700) as i64 - 350),
        };
        texts.push(text);
    }
    for (i, t) in texts.iter().enumerate() {
        let m = format!("m{i}");
        p.cmd(&["ZADD", "fz", t, &m]);
        p.cmd(&["ZSCORE", "fz", &m]);
        p.cmd(&["ZINCRBY", "fz", &texts[(i * 7 + 3) % texts.len()], &m]);
        let f = format!("f{}", i % 37);
        p.cmd(&["HINCRBYFLOAT", "hf", &f, t]);
        p.cmd(&[
            "ZRANGEBYSCORE",
            "fz",
            t,
            "+inf",
            "LIMIT",
            "0",
            "3",
            "WITHSCORES",
        ]);
    }
    p.cmd(&["ZRANGE", "fz", "0", "-1", "WITHSCORES"]);
    p.unordered_pairs(&["HGETALL", "hf"]);
}

#[test]
fn lists_lpos_lmove_rpoplpush() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.cmd(&["RPUSH", "l", "a", "b", "c", "b", "a", "b"]);
    p.run(&[
        &["LPOS", "l", "b"],
        &["LPOS", "l", "b", "RANK", "2"],
        &["LPOS", "l", "b", "RANK", "-1"],
        &["LPOS", "l", "b", "RANK", "-2", "COUNT", "0"],
        &["LPOS", "l", "b", "COUNT", "2"],
        &["LPOS", "l", "b", "COUNT", "0"],
        &["LPOS", "l", "b", "COUNT", "0", "MAXLEN", "4"],
        &["LPOS", "l", "b", "RANK", "-1", "MAXLEN", "1"],
        &["LPOS", "l", "b", "RANK", "4"],
        &["LPOS", "l", "b", "RANK", "4", "COUNT", "1"],
        &["LPOS", "l", "z"],
        &["LPOS", "l", "z", "COUNT", "1"],
        &["LPOS", "l", "b", "RANK", "0"],
        &["LPOS", "l", "b", "RANK", "x"],
        &["LPOS", "l", "b", "COUNT", "-1"],
        &["LPOS", "l", "b", "COUNT", "x"],
        &["LPOS", "l", "b", "MAXLEN", "-1"],
        &["LPOS", "l", "b", "MAXLEN"],
        &["LPOS", "l", "b", "BOGUS", "1"],
        &["LPOS", "l", "b", "RANK", "-9223372036854775808"],
        &[
            "LPOS",
            "l",
            "b",
            "RANK",
            "-9223372036854775808",
            "COUNT",
            "1",
        ],
        &[
            "LPOS",
            "l",
            "b",
            "RANK",
            "9223372036854775807",
            "COUNT",
            "0",
        ],
        &["LPOS", "nokey", "b"],
        &["LPOS", "nokey", "b", "COUNT", "2"],
        &["LPOS", "nokey", "b", "RANK", "0"],
        &["SET", "str", "v"],
        &["LPOS", "str", "b"],
        &["LPOS", "str", "b", "RANK", "0"],
        &["LMOVE", "l", "m", "LEFT", "RIGHT"],
        &["LMOVE", "l", "m", "right", "left"],
        &["LMOVE", "l", "l", "LEFT", "RIGHT"],
        &["LRANGE", "l", "0", "-1"],
        &["LRANGE", "m", "0", "-1"],
        &["LMOVE", "l", "m", "UP", "LEFT"],
        &["LMOVE", "nokey", "m", "UP", "LEFT"],
        &["LMOVE", "nokey", "m", "LEFT", "LEFT"],
        &["LMOVE", "nokey", "str", "LEFT", "LEFT"],
        &["LMOVE", "l", "str", "LEFT", "LEFT"],
        &["LMOVE", "str", "l", "LEFT", "LEFT"],
        &["RPOPLPUSH", "l", "m"],
        &["RPOPLPUSH", "l", "str"],
        &["RPOPLPUSH", "nokey", "m"],
        &["RPUSH", "single", "x"],
        &["RPOPLPUSH", "single", "single"],
        &["LRANGE", "single", "0", "-1"],
        &["RPOPLPUSH", "single", "other"],
        &["DBSIZE"],
        &["LRANGE", "other", "0", "-1"],
    ]);
}

#[test]
fn sets_algebra_and_smove() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.run(&[
        &["SADD", "i1", "1", "2", "3", "4", "5"],
        &["SADD", "i2", "4", "5", "6"],
        &["SADD", "i3", "5", "7"],
        &["SADD", "h1", "a", "b", "c", "1"],
        &["SADD", "h2", "b", "c", "d"],
        &["SET", "str", "v"],
        // Intset results come out in numeric order: compared exactly.
        &["SINTER", "i1", "i2"],
        &["SINTER", "i1", "i2", "i3"],
        &["SINTER", "i2", "i1"],
        &["SINTER", "i1", "nokey"],
        &["SINTER", "nokey", "str"],
        &["SINTER", "i1", "str"],
        &["SUNION", "i1", "i2", "i3", "nokey"],
        &["SDIFF", "i1", "i2", "i3"],
        &["SDIFF", "i1", "nokey"],
        &["SDIFF", "nokey", "i1"],
        &["SDIFF", "i1", "i1"],
        &["SDIFF", "i1", "i2", "i1"],
        &["SUNION", "str"],
        &["SDIFF", "i1", "str"],
        &["SINTERCARD", "2", "i1", "i2"],
        &["SINTERCARD", "3", "i1", "i2", "i3", "LIMIT", "0"],
        &["SINTERCARD", "2", "i1", "i2", "LIMIT", "1"],
        &["SINTERCARD", "1", "i1", "LIMIT", "3"],
        &["SINTERCARD", "2", "i1", "nokey"],
        &["SINTERCARD", "0", "i1"],
        &["SINTERCARD", "x", "i1"],
        &["SINTERCARD", "3", "i1", "i2"],
        &["SINTERCARD", "1", "i1", "LIMIT", "-1"],
        &["SINTERCARD", "1", "i1", "LIMIT"],
        &["SINTERCARD", "1", "i1", "BOGUS", "1"],
        &["SINTERCARD", "1", "str"],
        &["SINTERSTORE", "d1", "i1", "i2"],
        &["SMEMBERS", "d1"],
        &["SUNIONSTORE", "d2", "i1", "i2"],
        &["SMEMBERS", "d2"],
        &["SDIFFSTORE", "d3", "i1", "i2"],
        &["SMEMBERS", "d3"],
        &["SINTERSTORE", "d3", "i1", "nokey"],
        &["DBSIZE"],
        &["SDIFFSTORE", "d2", "i1", "i1"],
        &["SUNIONSTORE", "d9", "nokey"],
        &["DBSIZE"],
        &["SINTERSTORE", "str", "i1", "i2"],
        &["SMEMBERS", "str"],
        &["SET", "str", "v"],
        &["SUNIONSTORE", "d4", "str"],
        &["SDIFFSTORE", "d4", "i1", "str"],
        // SMOVE.
        &["SMOVE", "i1", "i2", "1"],
        &["SMOVE", "i1", "i2", "4"],
        &["SMOVE", "i1", "i1", "2"],
        &["SMOVE", "i1", "i1", "99"],
        &["SMOVE", "i1", "i2", "99"],
        &["SMOVE", "nokey", "str", "1"],
        &["SMOVE", "i1", "str", "2"],
        &["SMOVE", "str", "i1", "2"],
        &["SMOVE", "i1", "fresh", "2"],
        &["SMOVE", "h1", "fresh2", "a"],
        &["SMEMBERS", "i1"],
        &["SMEMBERS", "i2"],
        &["SMEMBERS", "fresh"],
        &["SMEMBERS", "fresh2"],
        &["SADD", "last", "z"],
        &["SMOVE", "last", "i2", "z"],
        &["DBSIZE"],
    ]);
    // Hash-table results: order undefined.
    for c in [
        &["SINTER", "h1", "h2"][..],
        &["SUNION", "h1", "h2"],
        &["SDIFF", "h1", "h2"],
        &["SUNION", "h1", "i1"],
        &["SMEMBERS", "i2"],
    ] {
        p.unordered(c);
    }
    p.run(&[
        &["SUNIONSTORE", "d5", "h1", "h2"],
        &["SCARD", "d5"],
        &["SDIFFSTORE", "d6", "h1", "h2", "d5"],
        &["DBSIZE"],
    ]);
    // SDIFF's two algorithms: from a big hash-table set, take away most of it. The
    // integers left are collected by algorithm 1 (Redis's choice here) into a fresh
    // intset, so they come out in numeric order; algorithm 2 would leave them in the
    // big set's own order (here descending).
    let mut big = vec!["SADD".to_string(), "big".to_string(), "x".to_string()];
    big.extend((0..600).rev().map(|i| i.to_string()));
    let mut most = vec!["SADD".to_string(), "most".to_string(), "x".to_string()];
    most.extend((5..600).map(|i| i.to_string()));
    let mut few = vec!["SADD".to_string(), "few".to_string()];
    few.extend((0..5).map(|i| i.to_string()));
    for c in [&big, &most, &few] {
        let a: Vec<&str> = c.iter().map(String::as_str).collect();
        p.cmd(&a);
    }
    p.expect(
        &["SDIFF", "big", "most"],
        b"*5\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n",
    );
    p.unordered(&["SDIFF", "big", "few"]);
    p.cmd(&["SINTER", "big", "few"]);
    p.unordered(&["SINTER", "big", "most"]);
}

#[test]
fn zsets_pop_remrange_lexcount() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.run(&[
        &[
            "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "-0", "n",
        ],
        &["ZPOPMIN", "z"],
        &["ZPOPMAX", "z"],
        &["ZPOPMIN", "z", "2"],
        &["ZPOPMAX", "z", "0"],
        &["ZPOPMIN", "z", "-1"],
        &["ZPOPMIN", "z", "x"],
        &["ZPOPMIN", "z", "1", "2"],
        &["ZPOPMAX", "z", "100"],
        &["DBSIZE"],
        &["ZPOPMIN", "z"],
        &["ZPOPMIN", "z", "0"],
        &["ZPOPMAX", "z", "5"],
        &["SET", "str", "v"],
        &["ZPOPMIN", "str"],
        &["ZPOPMIN", "str", "x"],
        &[
            "ZADD", "r", "0", "a", "0", "b", "0", "c", "0", "d", "1", "e", "2", "f", "3", "g",
        ],
        &["ZLEXCOUNT", "r", "-", "+"],
        &["ZLEXCOUNT", "r", "[b", "(d"],
        &["ZLEXCOUNT", "r", "x", "+"],
        &["ZLEXCOUNT", "nokey", "-", "+"],
        &["ZLEXCOUNT", "nokey", "x", "+"],
        &["ZLEXCOUNT", "str", "-", "+"],
        &["ZREMRANGEBYRANK", "r", "-1", "-1"],
        &["ZREMRANGEBYRANK", "r", "10", "20"],
        &["ZREMRANGEBYRANK", "r", "x", "1"],
        &["ZREMRANGEBYRANK", "nokey", "0", "1"],
        &["ZREMRANGEBYRANK", "str", "0", "1"],
        &["ZREMRANGEBYSCORE", "r", "(1", "2"],
        &["ZREMRANGEBYSCORE", "r", "5", "1"],
        &["ZREMRANGEBYSCORE", "r", "x", "1"],
        &["ZREMRANGEBYSCORE", "nokey", "x", "1"],
        &["ZREMRANGEBYSCORE", "str", "0", "1"],
        &["ZRANGE", "r", "0", "-1", "WITHSCORES"],
        &["ZREMRANGEBYLEX", "r", "(a", "[c"],
        &["ZREMRANGEBYLEX", "r", "x", "[c"],
        &["ZREMRANGEBYLEX", "str", "-", "+"],
        &["ZRANGE", "r", "0", "-1", "WITHSCORES"],
        &["ZREMRANGEBYRANK", "r", "0", "-1"],
        &["DBSIZE"],
    ]);
}

/// The other direction: replscope as the replica of a real Redis master applies what
/// Redis propagates for these commands (SREMs for SPOP, HSET for HINCRBYFLOAT, DELs for
/// expired keys, MULTI/EXEC) and ends up holding the same data.
#[test]
fn replscope_replica_applies_real_redis_stream() {
    if !redis_installed() {
        return;
    }
    let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
    let replica = ServerProcess::replscope(&[]);
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        b"+OK\r\n"
    );
    common::wait_until("the link is up", || {
        (replica.info_field("replication", "master_link_status")? == "up").then_some(())
    });
    let mut m = master.client();
    collection_writes(&mut m);
    assert_eq!(r.cmd(&["SELECT", "3"]), b"+OK\r\n");
    common::wait_until("the replica has every write", || {
        (r.cmd(&["GET", "end"]) == b"$3\r\nend\r\n").then_some(())
    });
    assert_eq!(m.cmd(&["DBSIZE"]), r.cmd(&["DBSIZE"]));
    let reads: &[(&[&str], Norm)] = &[
        (&["LRANGE", "l", "0", "-1"], Norm::Exact),
        (&["LRANGE", "dst", "0", "-1"], Norm::Exact),
        (&["LRANGE", "src", "0", "-1"], Norm::Exact),
        (&["LRANGE", "exp", "0", "-1"], Norm::Exact),
        (&["SMEMBERS", "s"], Norm::Unordered { pairs: false }),
        (&["SMEMBERS", "ht"], Norm::Unordered { pairs: false }),
        (&["SMEMBERS", "ints"], Norm::Exact),
        (&["SMEMBERS", "sa"], Norm::Unordered { pairs: false }),
        (&["SMEMBERS", "sb"], Norm::Unordered { pairs: false }),
        (&["SMEMBERS", "su"], Norm::Unordered { pairs: false }),
        (&["SMEMBERS", "sd"], Norm::Unordered { pairs: false }),
        (&["HGETALL", "h"], Norm::Exact),
        (&["ZRANGE", "z", "0", "-1", "WITHSCORES"], Norm::Exact),
        (&["ZRANGE", "zp", "0", "-1", "WITHSCORES"], Norm::Exact),
        (&["ZRANGE", "zr", "0", "-1", "WITHSCORES"], Norm::Exact),
    ];
    for (args, how) in reads {
        let (want, got) = (
            normalize::reply(&m.cmd(args), *how),
            normalize::reply(&r.cmd(args), *how),
        );
        assert_eq!(
            show(&got),
            show(&want),
            "replica (left) vs master (right) for {args:?}"
        );
    }
}

/// A real Redis 7.0 master writes small collections in its compact encodings (intsets,
/// listpacks, quicklist nodes) into the snapshot of a full sync; replscope must load
/// every one of them, and the big ones in their plain encodings, into the same data.
#[test]
fn replscope_replica_loads_real_redis_snapshot_with_collections() {
    if !redis_installed() {
        return;
    }
    let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.client();
    let ints = [
        "0",
        "127",
        "128",
        "-1",
        "-4096",
        "4095",
        "-32768",
        "32767",
        "8388607",
        "-8388608",
        "2147483647",
        "-2147483648",
        "9223372036854775807",
        "-9223372036854775808",
    ];
    let strings = [
        "",
        "a",
        &"x".repeat(63),
        &"y".repeat(64),
        &"z".repeat(4095),
        &"w".repeat(4096),
        "-0",
        "007",
        "1.5",
    ];
    let mut small: Vec<&str> = ints.to_vec();
    small.extend(strings.iter().copied());
    let mut cmd = |args: &[&str]| m.cmd(args);
    let with = |head: &[&str], rest: &[String]| -> Vec<String> {
        head.iter()
            .map(|s| s.to_string())
            .chain(rest.iter().cloned())
            .collect()
    };
    let small_owned: Vec<String> = small.iter().map(|s| s.to_string()).collect();
    let big_list: Vec<String> = (0..3000)
        .map(|i| format!("element-{i:05}-{}", "p".repeat(i % 50)))
        .collect();
    let pairs: Vec<String> = small_owned
        .iter()
        .enumerate()
        .flat_map(|(i, v)| [format!("f{i}"), v.clone()])
        .collect();
    let many_pairs: Vec<String> = (0..300)
        .flat_map(|i| [format!("field{i}"), format!("{}", i * 1001 - 7000)])
        .collect();
    let zpairs: Vec<String> = [
        "1",
        "-2.5",
        "0.1",
        "1e300",
        "-0",
        "3",
        "inf",
        "-inf",
        "123456789012",
        "-7",
    ]
    .iter()
    .enumerate()
    .flat_map(|(i, s)| [s.to_string(), format!("m{i}")])
    .collect();
    let many_z: Vec<String> = (0..200)
        .flat_map(|i| [format!("{}", i as f64 / 3.0), format!("z{i}")])
        .collect();
    for c in [
        with(&["RPUSH", "list"], &small_owned),
        with(&["RPUSH", "biglist"], &big_list),
        with(
            &["SADD", "iset16"],
            &["1".into(), "-300".into(), "32767".into()],
        ),
        with(&["SADD", "iset32"], &["1".into(), "70000".into()]),
        with(
            &["SADD", "iset64"],
            &["1".into(), "-9223372036854775808".into()],
        ),
        with(&["SADD", "hset"], &small_owned),
        with(
            &["SADD", "bigiset"],
            &(0..600).map(|i| i.to_string()).collect::<Vec<_>>(),
        ),
        with(&["HSET", "hash"], &pairs),
        with(&["HSET", "bighash"], &many_pairs),
        with(&["HSET", "smallhash"], &pairs[..28]),
        with(&["ZADD", "zset"], &zpairs),
        with(&["ZADD", "bigz"], &many_z),
        with(&["ZADD", "longz", "-0", "a", "1"], &["m".repeat(70)]),
        vec!["SET".into(), "str".into(), "v".into()],
        vec!["RPUSH".into(), "ttl".into(), "x".into()],
        vec!["PEXPIREAT".into(), "ttl".into(), "4102444800000".into()],
        vec!["SET".into(), "end".into(), "end".into()],
    ] {
        let a: Vec<&str> = c.iter().map(String::as_str).collect();
        let reply = cmd(&a);
        assert!(!reply.starts_with(b"-"), "{}: {}", a[0], show(&reply));
    }
    let replica = ServerProcess::replscope(&[]);
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        b"+OK\r\n"
    );
    common::wait_until("the replica loaded the snapshot", || {
        (r.cmd(&["GET", "end"]) == b"$3\r\nend\r\n").then_some(())
    });
    assert_eq!(m.cmd(&["DBSIZE"]), r.cmd(&["DBSIZE"]));
    let u = Norm::Unordered { pairs: false };
    let reads: &[(&[&str], Norm)] = &[
        (&["LRANGE", "list", "0", "-1"], Norm::Exact),
        (&["LRANGE", "biglist", "0", "-1"], Norm::Exact),
        (&["LRANGE", "ttl", "0", "-1"], Norm::Exact),
        (&["SMEMBERS", "iset16"], Norm::Exact),
        (&["SMEMBERS", "iset32"], Norm::Exact),
        (&["SMEMBERS", "iset64"], Norm::Exact),
        (&["SMEMBERS", "hset"], u),
        (&["SMEMBERS", "bigiset"], u),
        (&["HGETALL", "hash"], Norm::Unordered { pairs: true }),
        (&["HGETALL", "bighash"], Norm::Unordered { pairs: true }),
        (&["ZRANGE", "zset", "0", "-1", "WITHSCORES"], Norm::Exact),
        (&["ZRANGE", "bigz", "0", "-1", "WITHSCORES"], Norm::Exact),
        (&["ZRANGE", "longz", "0", "-1", "WITHSCORES"], Norm::Exact),
        (&["GET", "str"], Norm::Exact),
    ];
    for (args, how) in reads {
        let (want, got) = (
            normalize::reply(&m.cmd(args), *how),
            normalize::reply(&r.cmd(args), *how),
        );
        assert_eq!(
            show(&got),
            show(&want),
            "replica (left) vs master (right) for {args:?}"
        );
    }
    // A listpack hash keeps its order through the snapshot.
    let (want, got) = (
        m.cmd(&["HGETALL", "smallhash"]),
        r.cmd(&["HGETALL", "smallhash"]),
    );
    assert_eq!(show(&got), show(&want));
}
