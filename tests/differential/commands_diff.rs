//! The same raw bytes to a real Redis 7.0 and to replscope-server; the replies must be the
//! same bytes. Real Redis is the oracle: when they differ, the engine is wrong (or the
//! difference is one of the few legitimate ones: here only the random ids each process
//! picks, masked by `common::normalize::mask_ids`; the list of them all is in
//! tests/common/normalize.rs).
//!
//! Every command the engine implements is here with its error paths, plus the protocol
//! itself: inline commands, pipelining, commands split across writes, protocol errors
//! (the error reply *and* the close that follows it).
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use common::normalize::Norm;
use common::pair::Pair;
use common::{encode, show, Client};

#[test]
fn ping_and_echo() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(&["PING"], b"+PONG\r\n");
    p.cmd(&["ping"]);
    p.cmd(&["PING", "hello world"]);
    p.cmd(&["PING", ""]);
    p.cmd(&["PING", "a", "b"]);
    p.expect(&["ECHO", "hi"], b"$2\r\nhi\r\n");
    p.cmd(&["echo", ""]);
    p.cmd(&["ECHO"]);
    p.cmd(&["ECHO", "a", "b"]);
    p.same(&encode(&[b"ECHO", b"bin\x00\r\n\xff"]), 1);
    p.in_step();
}

#[test]
fn set_options_conflicts_and_bad_values() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let cases: &[&[&str]] = &[
        &["SET", "k"],
        &["SET", "k1", "v"],
        &["SET", "k1", "v", "NX"],
        &["SET", "k1", "v2", "XX"],
        &["SET", "k2", "v", "XX"],
        &["SET", "k2", "v", "NX"],
        &["SET", "k1", "v", "NX", "XX"],
        &["SET", "k1", "v", "XX", "NX"],
        &["SET", "k1", "v", "nx", "nx"],
        &["SET", "k1", "v", "xx", "xx"],
        &["SET", "k1", "v", "GET"],
        &["SET", "k3", "v", "GET"],
        &["SET", "k1", "v3", "NX", "GET"],
        &["SET", "k1", "v4", "XX", "GET"],
        &["SET", "k4", "v", "XX", "GET"],
        &["SET", "k1", "v", "GET", "GET"],
        &["GET", "k1"],
        &["SET", "k1", "v", "EX", "100"],
        &["SET", "k1", "v", "ex", "100"],
        &["SET", "k1", "v", "PX", "100000"],
        &["SET", "k1", "v", "EXAT", "4102444800"],
        &["SET", "k1", "v", "PXAT", "4102444800000"],
        &["SET", "k1", "v", "EX", "10", "EX", "20"],
        &["SET", "k1", "v", "EX", "10", "PX", "10"],
        &["SET", "k1", "v", "PX", "10", "EX", "10"],
        &["SET", "k1", "v", "EX", "10", "EXAT", "4102444800"],
        &[
            "SET",
            "k1",
            "v",
            "EXAT",
            "4102444800",
            "PXAT",
            "4102444800000",
        ],
        &["SET", "k1", "v", "PX", "10", "PXAT", "4102444800000"],
        &["SET", "k1", "v", "KEEPTTL"],
        &["SET", "k1", "v", "KEEPTTL", "KEEPTTL"],
        &["SET", "k1", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k1", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k1", "v", "PXAT", "4102444800000", "KEEPTTL"],
        &["SET", "k1", "v", "EX", "10", "NX", "GET"],
        &["SET", "k1", "v", "GET", "XX", "PX", "5000"],
        &["SET", "k1", "v", "EX"],
        &["SET", "k1", "v", "PXAT"],
        &["SET", "k1", "v", "FOO"],
        &["SET", "k1", "v", "EX", "10", "FOO"],
        &["SET", "k1", "v", "EX", "abc"],
        &["SET", "k1", "v", "EX", "abc", "FOO"],
        &["SET", "k1", "v", "EX", "1.5"],
        &["SET", "k1", "v", "EX", "+5"],
        &["SET", "k1", "v", "EX", "05"],
        &["SET", "k1", "v", "EX", " 5"],
        &["SET", "k1", "v", "EX", ""],
        &["SET", "k1", "v", "EX", "99999999999999999999"],
        &["SET", "k1", "v", "EX", "0"],
        &["SET", "k1", "v", "EX", "-5"],
        &["SET", "k1", "v", "PX", "0"],
        &["SET", "k1", "v", "PX", "-1"],
        &["SET", "k1", "v", "EXAT", "0"],
        &["SET", "k1", "v", "PXAT", "-1"],
        &["SET", "k1", "v", "EX", "-0"],
        // Seconds that overflow once multiplied by 1000, or once added to now.
        &["SET", "k1", "v", "EX", "9223372036854775807"],
        &["SET", "k1", "v", "EX", "9223372036854776"],
        &["SET", "k1", "v", "EX", "9223372036854775"],
        &["SET", "k1", "v", "PX", "9223372036854775807"],
        &["SET", "k1", "v", "EXAT", "9223372036854775"],
        &["SET", "k1", "v", "PXAT", "9223372036854775807"],
        &["GET", "k1"],
        // An expiry in the past is accepted; the key is then gone.
        &["SET", "k5", "v", "PXAT", "1"],
        &["GET", "k5"],
        &["SET", "k5", "v", "EXAT", "1", "GET"],
        &["SET", "k5", "v", "GET"],
        &["GET", "k5"],
    ];
    for case in cases {
        p.cmd(case);
    }
    p.in_step();
}

#[test]
fn set_expiry_keepttl_and_get_semantics() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    // A short TTL that KEEPTTL preserves: the key must vanish on both servers.
    p.expect(&["SET", "kept", "v1", "PX", "300"], b"+OK\r\n");
    p.expect(&["SET", "kept", "v2", "KEEPTTL"], b"+OK\r\n");
    // A plain SET drops the TTL; SET ... GET too.
    p.expect(&["SET", "plain", "v1", "PX", "300"], b"+OK\r\n");
    p.expect(&["SET", "plain", "v2"], b"+OK\r\n");
    p.expect(&["SET", "viaget", "v1", "PX", "300"], b"+OK\r\n");
    p.expect(&["SET", "viaget", "v2", "GET"], b"$2\r\nv1\r\n");
    // A sentinel with the same TTL: once it is gone on both, so must "kept" be.
    p.expect(&["SET", "sentinel", "x", "PX", "300"], b"+OK\r\n");
    let (r, s) = (&mut p.r, &mut p.s);
    common::wait_until("the sentinel key expires on both servers", || {
        let gone = |c: &mut Client| c.cmd(&["GET", "sentinel"]) == b"$-1\r\n";
        (gone(r) && gone(s)).then_some(())
    });
    p.expect(&["GET", "kept"], b"$-1\r\n");
    p.expect(&["GET", "plain"], b"$2\r\nv2\r\n");
    p.expect(&["GET", "viaget"], b"$2\r\nv2\r\n");
    p.cmd(&["SET", "kept", "v3", "GET"]);
    p.cmd(&["SET", "kept", "v4", "NX", "GET"]);
    p.cmd(&["SET", "kept", "v5", "XX", "GET"]);
    p.cmd(&["GET", "kept"]);
    // Binary-safe keys and values.
    p.same(&encode(&[b"SET", b"k\x00\r\n", b"v\x00\r\n\xff"]), 1);
    p.same(&encode(&[b"GET", b"k\x00\r\n"]), 1);
    p.in_step();
}

#[test]
fn get_and_del() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(&["GET", "missing"], b"$-1\r\n");
    p.cmd(&["GET"]);
    p.cmd(&["GET", "a", "b"]);
    p.cmd(&["SET", "a", "1"]);
    p.cmd(&["SET", "b", "2"]);
    p.expect(&["DEL", "a", "b", "c"], b":2\r\n");
    p.cmd(&["DEL", "a"]);
    p.cmd(&["DEL", "x", "x"]);
    p.cmd(&["SET", "x", "1"]);
    p.expect(&["DEL", "x", "x"], b":1\r\n");
    p.cmd(&["DEL"]);
    p.cmd(&["del", "nothing", "here", "at", "all"]);
    p.cmd(&["SET", "gone", "v", "PXAT", "1"]);
    p.cmd(&["DEL", "gone"]);
    p.cmd(&["GET", "x"]);
    p.in_step();
}

#[test]
fn select_and_dbsize() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(&["DBSIZE"], b":0\r\n");
    p.cmd(&["DBSIZE", "x"]);
    for db in [
        "0",
        "15",
        "16",
        "-1",
        "abc",
        "1.5",
        "",
        "01",
        "+1",
        "2147483648",
        "-2147483649",
        "99999999999999999999",
    ] {
        p.cmd(&["SELECT", db]);
    }
    p.cmd(&["SELECT"]);
    p.cmd(&["SELECT", "1", "2"]);
    p.expect(&["SELECT", "3"], b"+OK\r\n");
    p.cmd(&["SET", "in3", "three"]);
    p.cmd(&["SET", "also3", "x"]);
    p.expect(&["DBSIZE"], b":2\r\n");
    p.cmd(&["SELECT", "0"]);
    p.cmd(&["DBSIZE"]);
    p.expect(&["GET", "in3"], b"$-1\r\n");
    p.cmd(&["SET", "in0", "zero"]);
    p.cmd(&["DBSIZE"]);
    p.cmd(&["SELECT", "3"]);
    p.expect(&["GET", "in3"], b"$5\r\nthree\r\n");
    p.cmd(&["DEL", "in3", "in0"]);
    p.cmd(&["DBSIZE"]);
    // The db is per connection: a new one starts in db 0.
    p.reconnect();
    p.cmd(&["GET", "in0"]);
    p.cmd(&["DBSIZE"]);
    p.in_step();
}

#[test]
fn unknown_commands_and_wrong_arity() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(
        &["FOO"],
        b"-ERR unknown command 'FOO', with args beginning with: \r\n",
    );
    p.expect(
        &["foo", "bar", "baz"],
        b"-ERR unknown command 'foo', with args beginning with: 'bar' 'baz' \r\n",
    );
    p.cmd(&["NOSUCH", ""]);
    p.cmd(&[""]);
    let long = "x".repeat(200);
    p.cmd(&[&long, &long]);
    p.cmd(&["FOO", &"a".repeat(100), &"b".repeat(100), "c"]);
    p.cmd(&["FOO", &"a".repeat(127), "b", "c"]);
    p.cmd(&["FOO", &"a".repeat(128), "b"]);
    // Arguments are previewed as raw bytes (and, being C strings, end at a NUL byte);
    // newlines become spaces so the error stays one line.
    p.same(
        &encode(&[b"FOO", b"\xff\xfe", b"a\x00b", b"line\r\nbreak"]),
        1,
    );
    p.same(&encode(&[b"F\xffO\x00X", b"arg"]), 1);
    for args in [
        &["GET"][..],
        &["GET", "a", "b"],
        &["SET", "k"],
        &["DEL"],
        &["DBSIZE", "x"],
        &["ECHO"],
        &["PING", "a", "b"],
        &["SELECT"],
        &["REPLICAOF", "host"],
        &["SLAVEOF", "a", "b", "c"],
        &["PSYNC", "?"],
        &["SYNC", "extra"],
        &["get"],
        &["GeT"],
    ] {
        p.cmd(args);
    }
    p.in_step();
}

#[test]
fn inline_commands() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.same(b"PING\r\n", 1);
    p.same(b"PING\n", 1);
    p.same(b"SET a \"b c\"\r\n", 1);
    p.same(b"GET a\r\n", 1);
    p.same(b"SET q 'it\\'s'\r\nGET q\r\n", 2);
    p.same(b"SET e \"\\x41\\n\\t\\\\\\\"\"\r\nGET e\r\n", 2);
    p.same(b"  ECHO    spaced    \r\n", 1);
    // Empty and blank lines are skipped without a reply.
    p.same(b"\r\n\n   \r\nPING\r\n", 1);
    p.same(b"ECHO \"\"\r\n", 1);
    p.same(b"nosuch a 'b c'\r\n", 1);
    p.same(b"GET\r\n", 1);
    p.in_step();
}

#[test]
fn pipelined_commands_in_one_write() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let mut batch = Vec::new();
    batch.extend(encode(&[b"SET", b"p1", b"one"]));
    batch.extend(b"GET p1\r\n");
    batch.extend(encode(&[b"DEL", b"p1", b"p2"]));
    batch.extend(b"PING\r\n");
    batch.extend(encode(&[b"SELECT", b"99"]));
    batch.extend(encode(&[b"NOSUCH"]));
    batch.extend(encode(&[b"SET", b"p3", b"v", b"EX", b"0"]));
    // Empty multibulks are skipped, as are the two bytes after a bulk (never checked).
    batch.extend(b"*0\r\n*-1\r\n*1\r\n$4\r\nPINGxx");
    batch.extend(encode(&[b"ECHO", b"last"]));
    p.same(&batch, 9);
    // A hundred commands at once.
    let many: Vec<u8> = (0..100)
        .flat_map(|i| encode(&[b"SET", format!("k{i}").as_bytes(), b"v"]))
        .collect();
    p.same(&many, 100);
    p.cmd(&["DBSIZE"]);
    p.in_step();
}

#[test]
fn command_split_across_many_small_writes() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let mut input = encode(&[b"SET", b"split", b"across many writes"]);
    input.extend(b"GET split\r\n");
    input.extend(encode(&[b"ECHO", &vec![b'z'; 300]]));
    // One byte per write for the first commands, then odd-sized chunks; the pause lets
    // each write arrive as its own read on the server side (pacing, not a measurement).
    for (chunk_size, pause) in [(1usize, true), (7, false)] {
        for chunk in input.chunks(chunk_size) {
            p.r.send(chunk);
            p.s.send(chunk);
            if pause {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        let want = p.r.read_replies(3);
        let got = p.s.read_replies(3);
        assert_eq!(
            show(&got),
            show(&want),
            "split writes of {chunk_size} bytes"
        );
    }
    p.in_step();
}

#[test]
fn protocol_errors_are_answered_then_the_connection_is_closed() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let too_long_inline = vec![b'a'; 70_000];
    let too_long_header = [b"*1\r\n$".as_slice(), &vec![b'1'; 70_000]].concat();
    let cases: &[&[u8]] = &[
        b"*1\r\n$x\r\n",
        b"*x\r\n",
        b"*1\r\nx\r\n",
        b"*1\r\n$-3\r\n",
        b"*1\r\n$536870913\r\n",
        b"*3000000000\r\n",
        b"*1\r\n$1x\r\n",
        b"*2\r\n$3\r\nGET\r\n:1\r\n",
        b"SET a \"b\r\n",
        b"SET a 'b\r\n",
        b"SET a \"b\"c\r\n",
        b"PING\r\n*1\r\n$x\r\n",
        b"SET ok 1\r\nGET ok\r\nSET a \"unbalanced\r\nPING\r\n",
        &too_long_inline,
        &too_long_header,
    ];
    for case in cases {
        p.same_then_closed(case);
    }
    // The servers are still fine for everyone else.
    p.in_step();
}

#[test]
fn info_replication_keyspace_and_unknown_sections() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let info = p.cmd(&["INFO", "replication"]);
    assert!(
        info.windows(12).any(|w| w == b"role:master\r"),
        "{}",
        show(&info)
    );
    p.cmd(&["INFO", "REPLICATION"]);
    p.cmd(&["INFO", "keyspace"]);
    p.cmd(&["INFO", "no-such-section"]);
    p.cmd(&["SET", "a", "1"]);
    p.cmd(&["SELECT", "5"]);
    p.cmd(&["SET", "b", "2"]);
    p.cmd(&["INFO", "keyspace"]);
    p.cmd(&["INFO", "keyspace", "replication"]);
    p.cmd(&["INFO", "replication"]);
    p.in_step();
}

#[test]
fn replicaof_errors_and_no_one() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(&["REPLICAOF", "NO", "ONE"], b"+OK\r\n");
    p.cmd(&["replicaof", "no", "one"]);
    p.cmd(&["SLAVEOF", "NO", "ONE"]);
    for port in [
        "abc",
        "70000",
        "65536",
        "-1",
        "",
        "1.5",
        "99999999999999999999",
    ] {
        p.cmd(&["REPLICAOF", "127.0.0.1", port]);
        p.cmd(&["SLAVEOF", "127.0.0.1", port]);
    }
    p.cmd(&["REPLICAOF", "NO", "TWO"]);
    // Point both at a port where nothing listens: they become replicas that never
    // connect, which is enough to see the replica-side replies.
    let dead = common::free_port().to_string();
    p.expect(&["REPLICAOF", "127.0.0.1", &dead], b"+OK\r\n");
    p.cmd(&["REPLICAOF", "127.0.0.1", &dead]);
    p.cmd(&["SET", "k", "v"]);
    p.cmd(&["DEL", "k"]);
    p.cmd(&["GET", "k"]);
    p.cmd(&["REPLICAOF", "NO", "ONE"]);
    p.expect(&["SET", "k", "v"], b"+OK\r\n");
    p.in_step();
}

#[test]
fn replconf_and_psync_errors() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.cmd(&["REPLCONF"]);
    p.cmd(&["REPLCONF", "listening-port"]);
    p.cmd(&["REPLCONF", "listening-port", "6380"]);
    p.cmd(&["REPLCONF", "listening-port", "abc"]);
    p.cmd(&["REPLCONF", "capa", "eof", "capa", "psync2"]);
    p.cmd(&["REPLCONF", "capa", "whatever"]);
    p.cmd(&["REPLCONF", "nosuch", "1"]);
    p.cmd(&["REPLCONF", "listening-port", "1", "nosuch", "2"]);
    p.cmd(&["REPLCONF", "ip-address", &"1".repeat(46)]);
    p.cmd(&["REPLCONF", "ip-address", &"1".repeat(255)]);
    p.cmd(&["REPLCONF", "ip-address", &"1".repeat(256)]);
    // ACK and GETACK from a client that is not a replica get no reply at all.
    p.same(b"REPLCONF ACK 10\r\nREPLCONF GETACK *\r\nPING\r\n", 1);
    p.cmd(&["PSYNC", "?", "notanumber"]);
    p.in_step();
}

#[test]
fn big_values_through_partial_reads_and_writes() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    // Bigger than any socket buffer: the server must reassemble the request from many
    // reads and send the reply in many partial writes.
    let value: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    p.same(&encode(&[b"SET", b"big", &value]), 1);
    let reply = p.same(&encode(&[b"GET", b"big"]), 1);
    assert_eq!(
        reply.len(),
        value.len() + format!("${}\r\n\r\n", value.len()).len()
    );
    p.same(&encode(&[b"ECHO", &value]), 1);
    p.in_step();
}
