//! The server/connection family against real Redis 7.0: MULTI/EXEC/DISCARD (replies and
//! the replication stream of a transaction), AUTH and requirepass, CONFIG GET/SET, CLIENT
//! LIST/INFO/KILL/SETNAME/GETNAME/ID, INFO, COMMAND COUNT, TIME, QUIT, SHUTDOWN.
//!
//! Replies are compared as raw bytes. The few things real Redis leaves volatile or
//! unordered are normalised in `common::normalize`, the one list of legitimate
//! differences: random ids (`Norm::Ids`), CONFIG GET's order (`Norm::ConfigPairs`), CLIENT
//! LIST's process facts (`Norm::ClientList`), INFO compared field by field
//! (`compare_info`), TIME (`assert_times_close`); nothing else is relaxed.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use common::normalize::{self, Norm};
use common::pair::Pair;
use common::{encode, redis_installed, show, wait_until, Client, ServerProcess};

fn split_at_crlf(data: &[u8]) -> (&[u8], &[u8]) {
    let p = data
        .windows(2)
        .position(|w| w == b"\r\n")
        .expect("a reply line");
    (&data[..p], &data[p + 2..])
}

/// One field of a CLIENT INFO reply (a bulk holding one line).
fn client_field(reply: &[u8], name: &str) -> String {
    let (_, body) = split_at_crlf(reply);
    let text = String::from_utf8_lossy(&body[..body.len() - 2]).into_owned();
    let prefix = format!("{name}=");
    text.trim_end()
        .split(' ')
        .find_map(|f| f.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .to_string()
}

fn enc(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    encode(&args)
}

// ------------------------------------------------------------------ transactions

#[test]
fn multi_exec_discard_replies_and_errors() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(&["EXEC"], b"-ERR EXEC without MULTI\r\n");
    p.expect(&["DISCARD"], b"-ERR DISCARD without MULTI\r\n");
    // Arity errors of EXEC itself abort "the transaction", even outside MULTI.
    p.cmd(&["EXEC", "x"]);
    p.cmd(&["DISCARD", "x"]);
    p.cmd(&["MULTI", "x"]);
    // An empty transaction.
    p.expect(&["MULTI"], b"+OK\r\n");
    p.expect(&["EXEC"], b"*0\r\n");
    // Queued commands, a nested MULTI (an error that does not abort), runtime errors in
    // the result array, SELECT and the db it leaves the client in.
    p.expect(&["MULTI"], b"+OK\r\n");
    p.expect(&["MULTI"], b"-ERR MULTI calls can not be nested\r\n");
    p.expect(&["SET", "a", "1"], b"+QUEUED\r\n");
    p.cmd(&["GET", "a"]);
    p.cmd(&["SET", "a", "2", "EX", "abc"]);
    p.cmd(&["SET", "a", "3", "NX", "XX"]);
    p.cmd(&["SELECT", "4"]);
    p.cmd(&["SET", "in4", "x"]);
    p.cmd(&["SELECT", "99"]);
    p.cmd(&["ECHO", "hi"]);
    p.cmd(&["PING"]);
    p.cmd(&["DBSIZE"]);
    p.cmd(&["CLIENT", "SETNAME", "in-multi"]);
    p.cmd(&["CLIENT", "SETNAME", "bad name"]);
    p.cmd(&["AUTH", "x"]);
    p.cmd(&["CONFIG", "GET", "hz"]);
    let exec = p.cmd(&["EXEC"]);
    assert!(
        exec.starts_with(b"*14\r\n+OK\r\n$1\r\n1\r\n-ERR value is not an integer"),
        "{}",
        show(&exec)
    );
    p.cmd(&["DBSIZE"]);
    p.cmd(&["CLIENT", "GETNAME"]);
    p.cmd(&["SELECT", "0"]);
    // DISCARD drops the queue.
    p.cmd(&["MULTI"]);
    p.cmd(&["SET", "discarded", "1"]);
    p.expect(&["DISCARD"], b"+OK\r\n");
    p.expect(&["GET", "discarded"], b"$-1\r\n");
    p.cmd(&["EXEC"]);
    // Errors while queueing: unknown command, unknown subcommand, arity (of a command
    // and of a subcommand), commands not allowed in MULTI. EXEC then refuses.
    for bad in [
        &["NOSUCH", "x"][..],
        &["CLIENT", "NOSUCH"],
        &["GET"],
        &["CONFIG", "GET"],
        &["CLIENT"],
        &["SYNC"],
        &["PSYNC", "?", "-1"],
        &["SHUTDOWN"],
        &["SHUTDOWN", "NOSAVE"],
    ] {
        p.expect(&["MULTI"], b"+OK\r\n");
        p.cmd(&["SET", "never", "1"]);
        p.cmd(bad);
        p.cmd(&["SET", "never2", "1"]);
        p.expect(
            &["EXEC"],
            b"-EXECABORT Transaction discarded because of previous errors.\r\n",
        );
        p.expect(&["GET", "never"], b"$-1\r\n");
    }
    // A flagged transaction can still be discarded.
    p.cmd(&["MULTI"]);
    p.cmd(&["NOSUCH"]);
    p.expect(&["DISCARD"], b"+OK\r\n");
    // MULTI/EXEC/DISCARD in one pipelined write.
    let mut batch = Vec::new();
    for args in [
        &["MULTI"][..],
        &["INCRBYFLOAT-NOT-HERE"],
        &["MULTI"],
        &["SET", "p", "1"],
        &["EXEC"],
        &["MULTI"],
        &["SET", "p", "2"],
        &["GET", "p"],
        &["EXEC"],
        &["GET", "p"],
    ] {
        batch.extend(enc(args));
    }
    p.same(&batch, 10);
    p.in_step();
}

#[test]
fn quit_inside_multi_and_client_state_during_exec() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    // QUIT is never queued: +OK and the connection closes.
    let mut input = enc(&["MULTI"]);
    input.extend(enc(&["SET", "q", "1"]));
    input.extend(enc(&["QUIT"]));
    input.extend(enc(&["PING"]));
    assert_eq!(p.same_then_closed(&input), b"+OK\r\n+QUEUED\r\n+OK\r\n");
    p.expect(&["GET", "q"], b"$-1\r\n");
    // CLIENT LIST / INFO run inside EXEC see the transaction (flag x, multi=count,
    // multi-mem, cmd=exec, the reply so far in obl).
    p.cmd(&["CLIENT", "SETNAME", "tx"]);
    p.cmd(&["MULTI"]);
    p.cmd(&["SET", "a", "b"]);
    p.cmd(&["CLIENT", "INFO"]);
    p.cmd(&["CLIENT", "LIST", "TYPE", "normal"]);
    p.r.send(&enc(&["EXEC"]));
    p.s.send(&enc(&["EXEC"]));
    let want = p.r.read_replies(1);
    let got = p.s.read_replies(1);
    // The array's elements: +OK and two bulks, each normalised.
    let split = |reply: &[u8]| -> Vec<Vec<u8>> {
        let (_, mut rest) = split_at_crlf(reply);
        let mut items = Vec::new();
        while !rest.is_empty() {
            let n = common::reply_len(rest).unwrap();
            items.push(rest[..n].to_vec());
            rest = &rest[n..];
        }
        items
    };
    let (want, got) = (split(&want), split(&got));
    assert_eq!(want.len(), 3);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0], want[0]);
    for i in 1..3 {
        assert_eq!(
            show(&normalize::reply(&got[i], Norm::ClientList)),
            show(&normalize::reply(&want[i], Norm::ClientList))
        );
    }
    assert!(String::from_utf8_lossy(&want[1]).contains("flags=x db=0 sub=0 psub=0 ssub=0 multi=3"));
    p.in_step();
}

/// The replication stream of transactions: only the writes, wrapped in MULTI/EXEC when
/// there is more than one, a single write unwrapped, a read-only transaction absent.
#[test]
fn transaction_propagation_matches_real_redis() {
    let writes = |w: &mut Client| {
        let run = |w: &mut Client, cmds: &[&[&str]]| {
            for c in cmds {
                let _ = w.cmd(c);
            }
        };
        // One write: not wrapped.
        run(w, &[&["MULTI"], &["SET", "x", "1"], &["EXEC"]]);
        // Reads only: nothing.
        run(w, &[&["MULTI"], &["GET", "x"], &["PING"], &["EXEC"]]);
        // Reads and writes: only the writes, wrapped.
        run(
            w,
            &[
                &["MULTI"],
                &["GET", "x"],
                &["SET", "y", "2"],
                &["GET", "y"],
                &["DEL", "y"],
                &["EXEC"],
            ],
        );
        // A db switch inside, a no-op write (DEL of nothing) and a failing one.
        run(
            w,
            &[
                &["MULTI"],
                &["SET", "z", "1"],
                &["DEL", "nothing"],
                &["SET", "z", "2", "EX", "abc"],
                &["SELECT", "3"],
                &["SET", "z", "3", "EX", "100"],
                &["EXEC"],
            ],
        );
        // Back in db 3 after the transaction; expiry rewrites inside.
        run(
            w,
            &[
                &["MULTI"],
                &["SET", "e", "v", "PXAT", "4102444800000"],
                &["SET", "f", "v", "GET"],
                &["EXEC"],
            ],
        );
        // Aborted and discarded transactions write nothing.
        run(
            w,
            &[&["MULTI"], &["SET", "no", "1"], &["NOSUCH"], &["EXEC"]],
        );
        run(w, &[&["MULTI"], &["SET", "no", "1"], &["DISCARD"]]);
        // A write that is a no-op alone in a transaction.
        run(w, &[&["MULTI"], &["DEL", "nothing"], &["EXEC"]]);
        assert_eq!(w.cmd(&["SET", "end", "end"]), b"+OK\r\n");
    };
    let Some(both) = common::streams_from_both(writes, b"$3\r\nend\r\n$3\r\nend\r\n") else {
        return;
    };
    let streams = both.map(|(stream, ())| normalize::mask_relative_expiries(&stream));
    assert_eq!(
        show(&streams[1]),
        show(&streams[0]),
        "replscope's stream (left) vs Redis's (right)"
    );
    assert!(
        streams[0].windows(11).any(|w| w == b"$5\r\nMULTI\r\n"),
        "the stream has a transaction"
    );
}

// ------------------------------------------------------------------ auth

#[test]
fn auth_with_requirepass() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    // Set at run time (the harness's readiness probe does not AUTH): the connection that
    // sets it stays authenticated, new ones are not.
    p.expect(&["CONFIG", "SET", "requirepass", "s3cret"], b"+OK\r\n");
    p.expect(&["GET", "k"], b"$-1\r\n");
    (p.r, p.s) = p.clients();
    for args in [
        &["GET", "k"][..],
        &["PING"],
        &["SET", "k", "v"],
        &["MULTI"],
        &["DISCARD"],
        &["CLIENT", "ID"],
        &["CONFIG", "GET", "hz"],
        &["INFO", "server"],
    ] {
        p.expect(args, b"-NOAUTH Authentication required.\r\n");
    }
    // EXEC is refused like any command, and a refused EXEC is an aborted transaction.
    p.expect(
        &["EXEC"],
        b"-EXECABORT Transaction discarded because of: NOAUTH Authentication required.\r\n",
    );
    // Errors that come before the auth check.
    p.cmd(&["NOSUCH"]);
    p.cmd(&["GET"]);
    p.cmd(&["AUTH"]);
    p.cmd(&["AUTH", "a", "b", "c"]);
    p.expect(
        &["AUTH", "wrong"],
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    p.cmd(&["AUTH", "default", "wrong"]);
    p.cmd(&["AUTH", "nobody", "s3cret"]);
    p.cmd(&["AUTH", "DEFAULT", "s3cret"]);
    p.cmd(&["GET", "k"]);
    // The parser is stricter before AUTH: at most 10 arguments, bulks of at most 16384.
    let many: Vec<&[u8]> = std::iter::repeat_n(&b"x"[..], 11).collect();
    p.same_then_closed(&encode(&many));
    let big = vec![b'v'; 16385];
    p.same_then_closed(&encode(&[b"AUTH", &big]));
    p.same(&encode(&[b"AUTH", &vec![b'v'; 16384]]), 1);
    let ten: Vec<&[u8]> = std::iter::repeat_n(&b"x"[..], 10).collect();
    p.same(&encode(&ten), 1);
    // QUIT needs no AUTH.
    p.same_then_closed(&enc(&["QUIT"]));
    p.expect(&["AUTH", "s3cret"], b"+OK\r\n");
    p.expect(&["SET", "k", "v"], b"+OK\r\n");
    p.cmd(&["AUTH", "wrong"]);
    // A failed AUTH does not log the client out.
    p.expect(&["GET", "k"], b"$1\r\nv\r\n");
    p.cmd(&["AUTH", "default", "s3cret"]);
    // After AUTH, big requests are fine.
    p.same(&encode(&many), 1);
    p.same(&encode(&[b"ECHO", &big]), 1);
    // Removing the password frees clients that never authenticated.
    let (mut r2, mut s2) = p.clients();
    assert_eq!(r2.cmd(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(s2.cmd(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    p.cmd(&["CONFIG", "SET", "requirepass", ""]);
    assert_eq!(r2.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(s2.cmd(&["PING"]), b"+PONG\r\n");
    p.cmd(&["AUTH", "s3cret"]);
    p.cmd(&["AUTH", "default", "anything"]);
    p.cmd(&["AUTH", "other", "anything"]);
    // Setting one again: connected clients stay authenticated, new ones must AUTH.
    p.cmd(&["CONFIG", "SET", "requirepass", "again"]);
    p.cmd(&["GET", "k"]);
    let (mut r3, mut s3) = p.clients();
    assert_eq!(s3.cmd(&["GET", "k"]), r3.cmd(&["GET", "k"]));
    assert_eq!(s3.cmd(&["AUTH", "again"]), b"+OK\r\n");
    p.in_step();
}

#[test]
fn auth_without_a_password() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.expect(
        &["AUTH", "x"],
        b"-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n",
    );
    p.expect(&["AUTH", "default", "x"], b"+OK\r\n");
    p.cmd(&["AUTH", "nobody", "x"]);
    p.cmd(&["AUTH", "a", "b", "c"]);
    p.in_step();
}

// ------------------------------------------------------------------ CONFIG

/// Every option replscope knows, CONFIG GET by name on both servers (ports excepted:
/// each server has its own).
const OPTION_NAMES: &[&str] = &[
    "appendonly",
    "bind",
    "client-output-buffer-limit",
    "daemonize",
    "databases",
    "hz",
    "masterauth",
    "masteruser",
    "min-replicas-max-lag",
    "min-replicas-to-write",
    "min-slaves-max-lag",
    "min-slaves-to-write",
    "proto-max-bulk-len",
    "repl-backlog-size",
    "repl-backlog-ttl",
    "repl-disable-tcp-nodelay",
    "repl-diskless-load",
    "repl-diskless-sync",
    "repl-diskless-sync-delay",
    "repl-diskless-sync-max-replicas",
    "repl-ping-replica-period",
    "repl-ping-slave-period",
    "repl-timeout",
    "replica-announce-ip",
    "replica-announce-port",
    "replica-announced",
    "replica-ignore-disk-write-errors",
    "replica-ignore-maxmemory",
    "replica-lazy-flush",
    "replica-priority",
    "replica-read-only",
    "replica-serve-stale-data",
    "replicaof",
    "requirepass",
    "save",
    "slave-announce-ip",
    "slave-announce-port",
    "slave-ignore-maxmemory",
    "slave-lazy-flush",
    "slave-priority",
    "slave-read-only",
    "slave-serve-stale-data",
    "slaveof",
];

#[test]
fn config_get_names_and_patterns() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    for name in OPTION_NAMES {
        let reply = p.cmd(&["CONFIG", "GET", name]);
        assert!(
            reply.starts_with(b"*2\r\n"),
            "Redis knows {name}: {}",
            show(&reply)
        );
    }
    // Each server's own port.
    for (c, server) in [(&mut p.r, &p.redis), (&mut p.s, &p.scope)] {
        let port = server.port.to_string();
        let want = format!("*2\r\n$4\r\nport\r\n${}\r\n{port}\r\n", port.len()).into_bytes();
        assert_eq!(show(&c.cmd(&["CONFIG", "GET", "port"])), show(&want));
    }
    // Names as typed, duplicates once, unknown names nothing.
    p.cmd(&["CONFIG", "GET", "HZ"]);
    p.cmd(&["CONFIG", "GET", "hz", "hz"]);
    p.cmd(&["CONFIG", "GET", "hz", "h?"]);
    p.cmd(&["CONFIG", "GET", "nosuch"]);
    p.cmd(&["CONFIG", "GET", "slave-read-only"]);
    p.cmd(&["CONFIG", "GET", "SLAVE-read-ONLY"]);
    p.cmd(&["CONFIG", "GET", "nosuch", "hz"]);
    // Patterns whose matches real Redis and replscope both know fully.
    for pats in [
        &["repl*"][..],
        &["slave*"],
        &["min-*"],
        &["h?"],
        &["REPL-BACKLOG-*"],
        &["repl-ping-*", "hz", "*-ttl"],
        &["[h]z"],
        &["repl-diskless-[ls]*"],
    ] {
        let mut args = vec!["CONFIG", "GET"];
        args.extend(pats);
        p.cmd_norm(&args, Norm::ConfigPairs);
    }
    // Errors.
    p.cmd(&["CONFIG"]);
    p.cmd(&["CONFIG", "GET"]);
    p.cmd(&["CONFIG", "NOSUCH"]);
    p.cmd(&["config", "nosuch", "a"]);
    p.in_step();
}

#[test]
fn config_set_values_and_errors() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let cases: &[&[&str]] = &[
        &["CONFIG", "SET", "a"],
        &["CONFIG", "SET", "a", "b", "c"],
        &["CONFIG", "SET", "nosuch", "1"],
        &["CONFIG", "SET", "nosuch", "1", "hz", "5"],
        &["CONFIG", "SET", "hz", "5", "nosuch", "1"],
        &["CONFIG", "SET", "hz", "5", "hz", "6"],
        &["CONFIG", "SET", "hz", "5", "HZ", "6"],
        &["CONFIG", "SET", "replicaof", "no one"],
        &["CONFIG", "SET", "slaveof", "127.0.0.1 1"],
        &["CONFIG", "SET", "daemonize", "no"],
        &["CONFIG", "SET", "databases", "16"],
        &["CONFIG", "SET", "hz", "abc"],
        &["CONFIG", "SET", "hz", "-1"],
        &["CONFIG", "SET", "hz", "1.5"],
        &["CONFIG", "SET", "hz", "600"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "hz", "0"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "hz", "10"],
        // One bad value undoes the whole command.
        &["CONFIG", "SET", "hz", "7", "repl-timeout", "0"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "repl-timeout", "30", "hz", "x"],
        &["CONFIG", "GET", "repl-timeout"],
        &["CONFIG", "SET", "repl-timeout", "30", "hz", "12"],
        &["CONFIG", "GET", "repl-timeout"],
        &["CONFIG", "GET", "hz"],
        // Memory values.
        &["CONFIG", "SET", "repl-backlog-size", "1"],
        &["CONFIG", "GET", "repl-backlog-size"],
        &["CONFIG", "SET", "repl-backlog-size", ""],
        &["CONFIG", "SET", "repl-backlog-size", "-1"],
        &["CONFIG", "SET", "repl-backlog-size", "99999999999999999999"],
        &["CONFIG", "SET", "repl-backlog-size", "1kb"],
        &["CONFIG", "SET", "repl-backlog-size", "2MB"],
        &["CONFIG", "GET", "repl-backlog-size"],
        &["CONFIG", "SET", "repl-backlog-size", "1g"],
        &["CONFIG", "GET", "repl-backlog-size"],
        &["CONFIG", "SET", "repl-backlog-size", "1 mb"],
        &["CONFIG", "SET", "repl-backlog-size", "1tb"],
        &["CONFIG", "SET", "repl-backlog-size", "1mb"],
        &["CONFIG", "SET", "proto-max-bulk-len", "1"],
        &["CONFIG", "SET", "proto-max-bulk-len", "2mb"],
        &["CONFIG", "GET", "proto-max-bulk-len"],
        &["CONFIG", "SET", "proto-max-bulk-len", "512mb"],
        &["CONFIG", "SET", "repl-backlog-ttl", "-1"],
        &["CONFIG", "SET", "repl-backlog-ttl", "0"],
        &["CONFIG", "GET", "repl-backlog-ttl"],
        // Booleans, aliases.
        &["CONFIG", "SET", "replica-read-only", "maybe"],
        &["CONFIG", "SET", "SLAVE-READ-ONLY", "maybe"],
        &["CONFIG", "SET", "replica-read-only", "NO"],
        &["CONFIG", "GET", "slave-read-only"],
        &[
            "CONFIG",
            "SET",
            "slave-read-only",
            "yes",
            "replica-read-only",
            "no",
        ],
        &["CONFIG", "GET", "replica-read-only"],
        &[
            "CONFIG",
            "SET",
            "replica-read-only",
            "yes",
            "replica-serve-stale-data",
            "no",
            "repl-diskless-sync",
            "no",
        ],
        &["CONFIG", "GET", "repl-diskless-sync"],
        &[
            "CONFIG",
            "SET",
            "repl-disable-tcp-nodelay",
            "yes",
            "replica-lazy-flush",
            "yes",
            "replica-ignore-maxmemory",
            "no",
        ],
        &[
            "CONFIG",
            "SET",
            "replica-announced",
            "no",
            "replica-ignore-disk-write-errors",
            "yes",
        ],
        // Integers.
        &[
            "CONFIG",
            "SET",
            "repl-diskless-sync-delay",
            "0",
            "repl-diskless-sync-max-replicas",
            "3",
        ],
        &["CONFIG", "SET", "repl-ping-replica-period", "0"],
        &["CONFIG", "SET", "repl-ping-slave-period", "5"],
        &["CONFIG", "GET", "repl-ping-replica-period"],
        &["CONFIG", "SET", "replica-announce-port", "65536"],
        &[
            "CONFIG",
            "SET",
            "replica-announce-port",
            "7000",
            "replica-priority",
            "50",
        ],
        &["CONFIG", "SET", "min-replicas-to-write", "-1"],
        &["CONFIG", "SET", "min-slaves-max-lag", "20"],
        &["CONFIG", "GET", "min-replicas-max-lag"],
        // Strings.
        &["CONFIG", "SET", "replica-announce-ip", "10.0.0.1"],
        &["CONFIG", "SET", "masteruser", "someone", "masterauth", "pw"],
        &["CONFIG", "GET", "masterauth"],
        &["CONFIG", "SET", "masterauth", ""],
        &["CONFIG", "SET", "replica-announce-ip", ""],
        // Enum and specials.
        &["CONFIG", "SET", "repl-diskless-load", "foo"],
        &["CONFIG", "SET", "repl-diskless-load", "DISABLED"],
        &["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "master 0 0 0",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "nobody 0 0 0",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal x 0 0",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 -1",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 0 0 1.5",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "replica 1mb 2kb 3",
        ],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1 2 3 normal 4 5 6",
        ],
        &["CONFIG", "GET", "client-output-buffer-limit"],
        &["CONFIG", "SET", "client-output-buffer-limit", ""],
        &["CONFIG", "SET", "save", ""],
        &["CONFIG", "SET", "save", "900"],
        &["CONFIG", "SET", "save", "0 1"],
        &["CONFIG", "SET", "save", "x 1"],
        &["CONFIG", "GET", "save"],
        &["CONFIG", "SET", "appendonly", "no"],
        &["CONFIG", "SET", "appendonly", "maybe"],
        &["CONFIG", "SET", "bind", "127.0.0.1"],
        &["CONFIG", "SET", "requirepass", ""],
    ];
    for case in cases {
        p.cmd(case);
    }
    for name in OPTION_NAMES {
        p.cmd(&["CONFIG", "GET", name]);
    }
    p.in_step();
}

/// Values real Redis accepts and replscope, which cannot do what they ask, refuses in
/// CONFIG SET's own format (checked on replscope alone).
#[test]
fn config_set_refuses_what_the_engine_cannot_do() {
    if !redis_installed() {
        return;
    }
    let scope = ServerProcess::replscope(&[]);
    let mut c = scope.client();
    for (name, value) in [
        ("repl-diskless-load", "swapdb"),
        ("appendonly", "yes"),
        ("port", "1"),
    ] {
        let reply = c.cmd(&["CONFIG", "SET", name, value]);
        let prefix = format!("-ERR CONFIG SET failed (possibly related to argument '{name}') - ");
        assert!(
            reply.starts_with(prefix.as_bytes()),
            "{name} {value}: {}",
            show(&reply)
        );
    }
    let port = scope.port.to_string();
    assert_eq!(c.cmd(&["CONFIG", "SET", "port", &port]), b"+OK\r\n");
}

/// CONFIG SET repl-backlog-size resizes the live backlog: shrinking drops whole old
/// blocks, but never below the new size, and growing keeps what is there; the same
/// numbers as real Redis (`tests/differential/diff_backlog.rs` has many more).
#[test]
fn config_set_resizes_the_live_backlog() {
    if !redis_installed() {
        return;
    }
    let run = |server: ServerProcess| -> Vec<u64> {
        let _replica = common::attach_raw_replica(&server);
        let mut c = server.client();
        let value = "v".repeat(1000);
        for i in 0..40 {
            assert_eq!(c.cmd(&["SET", &format!("k{i}"), &value]), b"+OK\r\n");
        }
        let field = |c: &mut Client, f: &str| {
            c.info_field("replication", f)
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        let mut seen = vec![
            field(&mut c, "master_repl_offset"),
            field(&mut c, "repl_backlog_histlen"),
        ];
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "repl-backlog-size", "16kb"]),
            b"+OK\r\n"
        );
        assert_eq!(field(&mut c, "repl_backlog_size"), 16384);
        seen.extend([
            field(&mut c, "repl_backlog_histlen"),
            field(&mut c, "repl_backlog_first_byte_offset"),
        ]);
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "repl-backlog-size", "1mb"]),
            b"+OK\r\n"
        );
        seen.push(field(&mut c, "repl_backlog_histlen"));
        seen
    };
    let want = run(ServerProcess::redis(&["--repl-diskless-sync", "no"]));
    let got = run(ServerProcess::replscope(&["--repl-diskless-sync", "no"]));
    assert_eq!(
        got, want,
        "offset, histlen, after shrinking: histlen, first byte, after growing: histlen"
    );
    assert!(
        want[2] >= 16384 && want[2] < want[1],
        "Redis shrank the history to whole blocks: {want:?}"
    );
    assert_eq!(want[4], want[2], "growing keeps what is there");
}

// ------------------------------------------------------------------ CLIENT

#[test]
fn client_list_info_names_and_ids() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let cl = Norm::ClientList;
    p.cmd_norm(&["CLIENT", "LIST"], cl);
    p.cmd_norm(&["CLIENT", "INFO"], cl);
    p.expect(&["CLIENT", "GETNAME"], b"$-1\r\n");
    p.expect(&["CLIENT", "SETNAME", "conn-1"], b"+OK\r\n");
    p.cmd(&["CLIENT", "GETNAME"]);
    p.cmd_norm(&["CLIENT", "LIST"], cl);
    for bad in ["a b", "a\nb", "tab\t", "\u{7f}", "é", " "] {
        p.cmd(&["CLIENT", "SETNAME", bad]);
    }
    p.cmd(&["CLIENT", "SETNAME", "!~"]);
    p.cmd(&["CLIENT", "GETNAME"]);
    p.cmd(&["CLIENT", "SETNAME", ""]);
    p.cmd(&["CLIENT", "GETNAME"]);
    p.cmd(&["CLIENT", "SETNAME", "conn-1"]);
    // A second client that did things: its cmd, db and name show; its buffers are empty.
    let (mut r2, mut s2) = p.clients();
    for c in [&mut r2, &mut s2] {
        assert_eq!(c.cmd(&["SELECT", "5"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["CLIENT", "SETNAME", "other"]), b"+OK\r\n");
        assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n");
    }
    // Pipelined: qbuf holds the rest of the batch, obl the replies so far.
    let mut batch = enc(&["PING"]);
    batch.extend(enc(&["CLIENT", "LIST"]));
    batch.extend(enc(&["ECHO", "after"]));
    p.r.send(&batch);
    p.s.send(&batch);
    // Replies: +PONG, the list, $5 after. Compare the list in the middle.
    let middle = |all: Vec<u8>| -> Vec<u8> {
        let all = all
            .strip_prefix(b"+PONG\r\n".as_slice())
            .expect("PONG first")
            .to_vec();
        all[..all.len() - b"$5\r\nafter\r\n".len()].to_vec()
    };
    let (want, got) = (middle(p.r.read_replies(3)), middle(p.s.read_replies(3)));
    assert_eq!(
        show(&normalize::reply(&got, cl)),
        show(&normalize::reply(&want, cl))
    );
    p.cmd_norm(&["CLIENT", "LIST", "TYPE", "normal"], cl);
    p.cmd_norm(&["CLIENT", "LIST", "type", "NORMAL"], cl);
    for t in ["master", "replica", "slave", "pubsub"] {
        p.cmd(&["CLIENT", "LIST", "TYPE", t]);
    }
    p.cmd(&["CLIENT", "LIST", "TYPE", "nobody"]);
    p.cmd(&["CLIENT", "LIST", "TYPE"]);
    p.cmd(&["CLIENT", "LIST", "x"]);
    p.cmd(&["CLIENT", "LIST", "TYPE", "normal", "x"]);
    p.cmd(&["CLIENT", "LIST", "ID", "abc"]);
    p.cmd(&["CLIENT", "LIST", "ID", "999999"]);
    // CLIENT LIST ID with each server's own ids.
    let ids = |c: &mut Client| -> String {
        let reply = c.cmd(&["CLIENT", "ID"]);
        String::from_utf8_lossy(&reply[1..reply.len() - 2]).into_owned()
    };
    let (rid, sid) = (ids(&mut p.r), ids(&mut p.s));
    let (rid2, sid2) = (ids(&mut r2), ids(&mut s2));
    let want = p.r.cmd(&["CLIENT", "LIST", "ID", &rid2, "999999", &rid]);
    let got = p.s.cmd(&["CLIENT", "LIST", "ID", &sid2, "999999", &sid]);
    assert_eq!(
        show(&normalize::reply(&got, cl)),
        show(&normalize::reply(&want, cl))
    );
    // Ids grow by one per connection.
    let (mut r3, mut s3) = p.clients();
    let (rid3, sid3) = (ids(&mut r3), ids(&mut s3));
    assert_eq!(
        rid3.parse::<u64>().unwrap(),
        rid2.parse::<u64>().unwrap() + 1
    );
    assert_eq!(
        sid3.parse::<u64>().unwrap(),
        sid2.parse::<u64>().unwrap() + 1
    );
    // Errors.
    for args in [
        &["CLIENT"][..],
        &["CLIENT", "NOSUCH"],
        &["CLIENT", "ID", "x"],
        &["CLIENT", "INFO", "x"],
        &["CLIENT", "GETNAME", "x"],
        &["CLIENT", "SETNAME"],
        &["CLIENT", "SETNAME", "a", "b"],
        &["CLIENT", "KILL"],
    ] {
        p.cmd(args);
    }
    p.in_step();
}

#[test]
fn client_kill_forms_and_replies() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    for args in [
        &["CLIENT", "KILL", "1.2.3.4:5"][..],
        &["CLIENT", "KILL", "a", "b"],
        &["CLIENT", "KILL", "TYPE", "foo"],
        &["CLIENT", "KILL", "TYPE"],
        &["CLIENT", "KILL", "TYPE", "normal", "x"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "ID", "abc"],
        &["CLIENT", "KILL", "ID", "-5"],
        &["CLIENT", "KILL", "ID", "999999"],
        &["CLIENT", "KILL", "USER", "nobody"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "TYPE", "normal"],
        &["CLIENT", "KILL", "TYPE", "master"],
        &["CLIENT", "KILL", "TYPE", "replica"],
        &["CLIENT", "KILL", "TYPE", "slave"],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
        &["CLIENT", "KILL", "USER", "default"],
    ] {
        p.cmd(args);
    }
    // Kill another normal client: it is closed.
    let (mut r2, mut s2) = p.clients();
    assert_eq!(r2.cmd(&["PING"]), b"+PONG\r\n");
    assert_eq!(s2.cmd(&["PING"]), b"+PONG\r\n");
    p.expect(&["CLIENT", "KILL", "TYPE", "normal"], b":1\r\n");
    assert!(r2.read_until_closed().1);
    assert!(s2.read_until_closed().1);
    // By each server's own address and id.
    for server in [&p.redis, &p.scope] {
        let mut killer = server.client();
        let mut victim = server.client();
        let info = victim.cmd(&["CLIENT", "INFO"]);
        let (id, addr, laddr) = (
            client_field(&info, "id"),
            client_field(&info, "addr"),
            client_field(&info, "laddr"),
        );
        assert_eq!(
            killer.cmd(&["CLIENT", "KILL", "ID", &id, "ADDR", "1.1.1.1:1"]),
            b":0\r\n"
        );
        assert_eq!(
            killer.cmd(&["CLIENT", "KILL", "LADDR", &laddr, "ID", &id]),
            b":1\r\n",
            "{}",
            server.kind.name()
        );
        assert!(victim.read_until_closed().1);
        let mut victim = server.client();
        let addr2 = client_field(&victim.cmd(&["CLIENT", "INFO"]), "addr");
        assert_ne!(addr2, addr);
        assert_eq!(killer.cmd(&["CLIENT", "KILL", &addr2]), b"+OK\r\n");
        assert!(victim.read_until_closed().1);
        // The caller itself: skipped by default, killed (after the reply) with SKIPME no
        // or the old form.
        let own_addr = client_field(&killer.cmd(&["CLIENT", "INFO"]), "addr");
        assert_eq!(
            killer.cmd(&["CLIENT", "KILL", "ADDR", &own_addr]),
            b":0\r\n"
        );
        killer.send(&enc(&["CLIENT", "KILL", "ADDR", &own_addr, "SKIPME", "no"]));
        assert_eq!(killer.read_until_closed(), (b":1\r\n".to_vec(), true));
        let mut me = server.client();
        let own_addr = client_field(&me.cmd(&["CLIENT", "INFO"]), "addr");
        me.send(&enc(&["CLIENT", "KILL", &own_addr]));
        me.send(&enc(&["PING"]));
        assert_eq!(me.read_until_closed(), (b"+OK\r\n".to_vec(), true));
    }
    p.in_step();
}

/// On a replica, killing the master link is a lost link: the master is cached and the
/// reconnection continues with a partial resync.
#[test]
fn client_kill_type_master_on_a_replica_resumes_partially() {
    if !redis_installed() {
        return;
    }
    let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
    let replica = ServerProcess::replscope(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut m = master.client();
    let mut r = replica.client();
    assert_eq!(m.cmd(&["SET", "before", "1"]), b"+OK\r\n");
    wait_until("the replica has the first key", || {
        (r.cmd(&["GET", "before"]) == b"$1\r\n1\r\n").then_some(())
    });
    // The master link is listed, flags M, as no user.
    let list = String::from_utf8_lossy(&r.cmd(&["CLIENT", "LIST", "TYPE", "master"])).into_owned();
    assert!(
        list.contains(" flags=M ") && list.contains(" user=(superuser) "),
        "{list}"
    );
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), b":1\r\n");
    assert_eq!(m.cmd(&["SET", "after", "2"]), b"+OK\r\n");
    wait_until("the replica has the key written after the kill", || {
        (r.cmd(&["GET", "after"]) == b"$1\r\n2\r\n").then_some(())
    });
    assert_eq!(
        master.info_field("stats", "sync_full").as_deref(),
        Some("1")
    );
    assert_eq!(
        master.info_field("stats", "sync_partial_ok").as_deref(),
        Some("1")
    );
}

// ------------------------------------------------------------------ INFO

#[test]
fn info_sections_fields_and_values() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    // Zero the counters the harness's readiness probes touched.
    p.expect(&["CONFIG", "RESETSTAT"], b"+OK\r\n");
    p.cmd(&["SET", "a", "1"]);
    p.cmd(&["SELECT", "2"]);
    p.cmd(&["SET", "b", "2"]);
    p.cmd(&["SET", "c", "3", "PXAT", "4102444800000"]);
    p.cmd(&["SELECT", "0"]);
    p.cmd(&["GET"]);
    p.cmd(&["NOSUCH"]);
    p.cmd(&["CLIENT", "NOSUCH"]);
    p.cmd(&["MULTI"]);
    p.cmd(&["GET", "a"]);
    p.cmd(&["MULTI"]);
    p.cmd(&["EXEC"]);
    p.cmd(&["EXEC"]);
    p.cmd(&["CLIENT", "SETNAME", "x y"]);
    p.cmd(&["CONFIG", "GET", "hz"]);
    for args in [
        &["INFO"][..],
        &["INFO", "default"],
        &["INFO", "all"],
        &["INFO", "everything"],
        &["INFO", "server"],
        &["INFO", "CLIENTS"],
        &["INFO", "stats"],
        &["INFO", "replication"],
        &["INFO", "keyspace"],
        &["INFO", "memory", "cpu"],
        &["INFO", "persistence", "modules", "cluster"],
        &["INFO", "module_list"],
        &["INFO", "commandstats"],
        &["INFO", "errorstats"],
        &["INFO", "latencystats"],
        &["INFO", "keyspace", "server", "keyspace"],
        &["INFO", "default", "commandstats"],
        &["INFO", "all", "server"],
        &["INFO", "nosuch"],
        &["INFO", "nosuch", "clients"],
    ] {
        let input = enc(args);
        p.r.send(&input);
        p.s.send(&input);
        let want = p.r.read_replies(1);
        let got = p.s.read_replies(1);
        normalize::compare_info(&got, &want, &format!("{args:?}"));
    }
    // min_slaves_good_slaves appears with min-replicas-to-write.
    p.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    let (mut r, mut s) = p.clients();
    normalize::compare_info(
        &s.cmd(&["INFO", "replication"]),
        &r.cmd(&["INFO", "replication"]),
        "min-replicas",
    );
    p.in_step();
}

// ------------------------------------------------------------------ replica rules

#[test]
fn min_replicas_to_write_refuses_writes() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    p.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    p.expect(
        &["SET", "k", "v"],
        b"-NOREPLICAS Not enough good replicas to write.\r\n",
    );
    p.cmd(&["DEL", "k"]);
    p.cmd(&["GET", "k"]);
    p.cmd(&["MULTI"]);
    p.cmd(&["SET", "k", "v"]);
    p.cmd(&["GET", "k"]);
    p.cmd(&["EXEC"]);
    p.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "0"]);
    p.expect(&["SET", "k", "v"], b"+OK\r\n");
    // Queued while allowed, refused at EXEC: the whole transaction is aborted.
    p.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "10"]);
    p.cmd(&["CONFIG", "SET", "min-replicas-to-write", "0"]);
    p.cmd(&["MULTI"]);
    p.cmd(&["SET", "k", "w"]);
    let (mut r2, mut s2) = p.clients();
    assert_eq!(
        r2.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]),
        b"+OK\r\n"
    );
    assert_eq!(
        s2.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]),
        b"+OK\r\n"
    );
    p.cmd(&["EXEC"]);
    p.cmd(&["GET", "k"]);
    p.in_step();
}

#[test]
fn stale_and_read_only_replica_rules() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    let dead = common::free_port().to_string();
    p.cmd(&["REPLICAOF", "127.0.0.1", &dead]);
    p.cmd(&["MULTI"]);
    p.cmd(&["SET", "k", "v"]);
    p.cmd(&["GET", "k"]);
    p.cmd(&["EXEC"]);
    p.cmd(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    // TIME and COMMAND COUNT are allowed too (their values differ by nature).
    for args in [
        &["PING"][..],
        &["ECHO", "x"],
        &["GET", "k"],
        &["MULTI"],
        &["DISCARD"],
        &["CLIENT", "GETNAME"],
        &["CONFIG", "GET", "hz"],
        &["AUTH", "x"],
        &["DBSIZE"],
        &["SELECT", "1"],
        &["INFO", "keyspace"],
        &["SET", "k", "v"],
    ] {
        p.cmd(args);
    }
    // Inside MULTI: EXEC is refused when what it would run may not run on stale data.
    p.cmd(&["MULTI"]);
    p.cmd(&["SELECT", "2"]);
    p.cmd(&["EXEC"]);
    p.cmd(&["MULTI"]);
    p.cmd(&["GET", "k"]);
    p.cmd(&["EXEC"]);
    p.cmd(&["REPLICAOF", "NO", "ONE"]);
    p.in_step();
}

// ------------------------------------------------------------------ the rest

#[test]
fn command_count_time_quit_and_ping() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    // Real Redis has 240 commands; replscope answers with its own table's size.
    let (want, got) = (
        p.r.cmd(&["COMMAND", "COUNT"]),
        p.s.cmd(&["COMMAND", "COUNT"]),
    );
    assert_eq!(want, b":240\r\n");
    assert_eq!(
        got,
        format!(":{}\r\n", replscope::engine::command::COMMANDS.len()).into_bytes()
    );
    p.cmd(&["COMMAND", "COUNT", "x"]);
    p.cmd(&["COMMAND", "NOSUCH"]);
    // TIME: two bulks, seconds (10 digits) and microseconds (< 1000000), close to each other.
    let (want, got) = (p.r.cmd(&["TIME"]), p.s.cmd(&["TIME"]));
    normalize::assert_times_close(&want, &got);
    p.cmd(&["TIME", "x"]);
    // QUIT, with or without arguments, answers +OK and closes.
    assert_eq!(p.same_then_closed(&enc(&["QUIT"])), b"+OK\r\n");
    p.same_then_closed(&enc(&["QUIT", "x", "y"]));
    p.same_then_closed(b"QUIT\r\nPING\r\n");
    p.in_step();
}

#[test]
fn shutdown_errors_and_exit() {
    let Some(mut p) = Pair::new(&[], Norm::Ids) else {
        return;
    };
    for args in [
        &["SHUTDOWN", "FOO"][..],
        &["SHUTDOWN", "NOSAVE", "SAVE"],
        &["SHUTDOWN", "ABORT"],
        &["SHUTDOWN", "ABORT", "NOSAVE"],
        &["SHUTDOWN", "NOW", "ABORT"],
    ] {
        p.cmd(args);
    }
    p.in_step();
    // SHUTDOWN [NOSAVE]: no reply, every connection closes, the process exits with 0.
    for args in [&["SHUTDOWN"][..], &["shutdown", "nosave", "now"]] {
        let Some(mut q) = Pair::new(&[], Norm::Ids) else {
            return;
        };
        let (mut r_other, mut s_other) = q.clients();
        assert_eq!(q.same_then_closed(&enc(args)), b"");
        assert!(r_other.read_until_closed().1);
        assert!(s_other.read_until_closed().1);
        for server in [&mut q.redis, &mut q.scope] {
            let status = wait_until("the server exits", || server.try_wait());
            assert!(
                status.success(),
                "{} exited with {status}",
                server.kind.name()
            );
        }
        assert!(q.scope.log().contains("User requested shutdown..."));
    }
}

/// SHUTDOWN SAVE: there is no disk to save to, so replscope fails like a Redis whose save
/// failed (and keeps running); with FORCE it stops anyway.
#[test]
fn shutdown_save_fails_without_a_disk() {
    if !redis_installed() {
        return;
    }
    let mut scope = ServerProcess::replscope(&[]);
    let mut c = scope.client();
    assert_eq!(
        c.cmd(&["SHUTDOWN", "SAVE"]),
        b"-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
    c.send(&enc(&["SHUTDOWN", "SAVE", "FORCE"]));
    assert_eq!(c.read_until_closed(), (Vec::new(), true));
    let status = wait_until("replscope exits", || scope.try_wait());
    assert!(status.success());
}

/// The replication links as CLIENT LIST shows them: a real Redis replica and a replscope
/// replica of the same real master list their master link alike (flags M, no user, the
/// stream's db and last command), and a real master and a replscope master list a real
/// replica alike (flags S, its REPLCONF). The replica's output buffers on a master are
/// Redis's shared replication blocks, so for those lines only the fields that do not
/// depend on them are compared.
#[test]
fn client_list_of_replication_links() {
    if !redis_installed() {
        return;
    }
    let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
    let port = master.port.to_string();
    let real_replica = ServerProcess::redis(&["--replicaof", "127.0.0.1", &port]);
    let our_replica = ServerProcess::replscope(&["--replicaof", "127.0.0.1", &port]);
    let mut m = master.client();
    for r in [&real_replica, &our_replica] {
        wait_until("the replica's link is up", || {
            (r.info_field("replication", "master_link_status").as_deref() == Some("up"))
                .then_some(())
        });
    }
    // A transaction in the stream: both replicas apply it.
    for args in [
        &["SELECT", "3"][..],
        &["MULTI"],
        &["SET", "a", "1"],
        &["SET", "b", "2"],
        &["EXEC"],
    ] {
        m.cmd(args);
    }
    let (mut rr, mut sr) = (real_replica.client(), our_replica.client());
    for c in [&mut rr, &mut sr] {
        assert_eq!(c.cmd(&["SELECT", "3"]), b"+OK\r\n");
        wait_until("the replica applied the transaction", || {
            (c.cmd(&["GET", "b"]) == b"$1\r\n2\r\n").then_some(())
        });
    }
    let want = normalize::reply(
        &rr.cmd(&["CLIENT", "LIST", "TYPE", "master"]),
        Norm::ClientList,
    );
    let got = normalize::reply(
        &sr.cmd(&["CLIENT", "LIST", "TYPE", "master"]),
        Norm::ClientList,
    );
    assert_eq!(show(&got), show(&want));
    // Both replicas are in step with the master.
    let offset = |s: &ServerProcess, f: &str| s.info_field("replication", f).unwrap();
    wait_until("both replicas reach the master's offset", || {
        let o = offset(&master, "master_repl_offset");
        (offset(&real_replica, "slave_repl_offset") == o
            && offset(&our_replica, "slave_repl_offset") == o)
            .then_some(())
    });

    // Masters listing a real replica.
    let scope_master = ServerProcess::replscope(&["--repl-diskless-sync-delay", "0"]);
    let _r2 = ServerProcess::redis(&["--replicaof", "127.0.0.1", &scope_master.port.to_string()]);
    let line = |s: &ServerProcess| -> String {
        let mut c = s.client();
        wait_until("the replica is online and ACKs", || {
            let l = String::from_utf8_lossy(&c.cmd(&["CLIENT", "LIST", "TYPE", "replica"]))
                .into_owned();
            l.contains("cmd=replconf").then_some(l)
        })
    };
    // Each listed replica's stable fields, one line per replica.
    let keep = |l: &str| -> Vec<String> {
        let body = l.split_once("\r\n").unwrap().1;
        body.lines()
            .filter(|line| line.starts_with("id="))
            .map(|line| {
                line.split(' ')
                    .filter(|f| {
                        [
                            "name=",
                            "flags=",
                            "db=",
                            "sub=",
                            "psub=",
                            "ssub=",
                            "multi=",
                            "argv-mem=",
                            "multi-mem=",
                            "events=",
                            "cmd=",
                            "user=",
                            "redir=",
                            "resp=",
                        ]
                        .iter()
                        .any(|k| f.starts_with(k))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    };
    // The real master has two replicas (a real one and a replscope one), ours one.
    let (ours, real) = (keep(&line(&scope_master)), keep(&line(&master)));
    assert_eq!(ours.len(), 1);
    assert_eq!(real.len(), 2);
    assert_eq!(ours[0], real[0]);
    assert_eq!(
        real[0], real[1],
        "a replscope replica looks like a real one to a real master"
    );
}

/// repl-diskless-sync-max-replicas: the diskless sync starts as soon as that many
/// replicas wait, instead of after repl-diskless-sync-delay (here far longer than the
/// test's deadline), on real Redis and on replscope alike.
#[test]
fn diskless_sync_starts_once_max_replicas_wait() {
    if !redis_installed() {
        return;
    }
    let opts = [
        "--repl-diskless-sync-delay",
        "1000",
        "--repl-diskless-sync-max-replicas",
        "1",
    ];
    let masters = [ServerProcess::redis(&opts), ServerProcess::replscope(&opts)];
    let replicas: Vec<ServerProcess> = masters
        .iter()
        .map(|m| ServerProcess::redis(&["--replicaof", "127.0.0.1", &m.port.to_string()]))
        .collect();
    for r in &replicas {
        wait_until("the replica's link is up", || {
            (r.info_field("replication", "master_link_status").as_deref() == Some("up"))
                .then_some(())
        });
    }
}
