//! replscope-server against the real thing: real `redis-cli` as a client, a real
//! `redis-server` as its replica, and a real `redis-server` as its master.
//!
//! A replication test passes when the link is up, the keys arrived, and the offsets
//! agree: both sides count every byte of the stream, so equal offsets mean the engine
//! produced (or consumed) exactly the bytes Redis expects, rewrites and SELECTs included.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use common::{redis_cli, redis_installed, wait_until, Client, Kind, ServerProcess};

/// A value long and repetitive enough that Redis LZF-compresses it in its RDB.
fn long_value() -> String {
    "replscope-".repeat(30)
}

/// Big values: one that LZF cannot shrink (pseudo-random bytes) and one it shrinks a lot,
/// each larger than a socket buffer, so snapshots and replies take many partial writes.
fn big_values() -> [(String, Vec<u8>); 2] {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let noise: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    [
        ("big:noise".into(), noise),
        ("big:pattern".into(), b"0123456789abcdef".repeat(200_000)),
    ]
}

fn set_big_values(c: &mut Client) {
    for (k, v) in big_values() {
        c.send(&common::encode(&[b"SET", k.as_bytes(), &v]));
        assert_eq!(c.read_replies(1), b"+OK\r\n");
    }
}

fn check_big_values(c: &mut Client) {
    assert_eq!(c.cmd(&["SELECT", "0"]), b"+OK\r\n");
    for (k, v) in big_values() {
        let mut want = format!("${}\r\n", v.len()).into_bytes();
        want.extend_from_slice(&v);
        want.extend_from_slice(b"\r\n");
        assert!(c.cmd(&["GET", &k]) == want, "{k} did not arrive intact");
    }
}

fn get(c: &mut Client, db: &str, key: &str) -> Vec<u8> {
    assert_eq!(c.cmd(&["SELECT", db]), b"+OK\r\n");
    c.cmd(&["GET", key])
}

fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

/// Writes on `master`: some before the replica exists (they travel in the snapshot),
/// which is what `phase` "before" does, the rest through the stream.
fn write_phase(master: &mut Client, phase: &str) {
    let ok = b"+OK\r\n".to_vec();
    let long = long_value();
    assert_eq!(master.cmd(&["SELECT", "0"]), ok);
    assert_eq!(master.cmd(&["SET", &format!("{phase}:plain"), "v"]), ok);
    assert_eq!(master.cmd(&["SET", &format!("{phase}:int"), "12345"]), ok);
    assert_eq!(master.cmd(&["SET", &format!("{phase}:neg"), "-70000"]), ok);
    assert_eq!(master.cmd(&["SET", &format!("{phase}:long"), &long]), ok);
    assert_eq!(
        master.cmd(&["SET", &format!("{phase}:ex"), "v", "EX", "1000"]),
        ok
    );
    assert_eq!(
        master.cmd(&["SET", &format!("{phase}:px"), "v", "PX", "1000000"]),
        ok
    );
    assert_eq!(
        master.cmd(&["SET", &format!("{phase}:exat"), "v", "EXAT", "4102444800"]),
        ok
    );
    assert_eq!(
        master.cmd(&[
            "SET",
            &format!("{phase}:pxat"),
            "v",
            "NX",
            "PXAT",
            "4102444800000"
        ]),
        ok
    );
    assert_eq!(master.cmd(&["SET", &format!("{phase}:get"), "old"]), ok);
    assert_eq!(
        master.cmd(&["SET", &format!("{phase}:get"), "new", "GET"]),
        bulk("old")
    );
    assert_eq!(master.cmd(&["SET", &format!("{phase}:gone"), "v"]), ok);
    assert_eq!(
        master.cmd(&["DEL", &format!("{phase}:gone"), "never-existed"]),
        b":1\r\n"
    );
    assert_eq!(master.cmd(&["DEL", "never-existed"]), b":0\r\n");
    assert_eq!(master.cmd(&["SET", &format!("{phase}:nx"), "v", "NX"]), ok);
    assert_eq!(
        master.cmd(&["SET", &format!("{phase}:nx"), "w", "NX"]),
        b"$-1\r\n"
    );
    assert_eq!(master.cmd(&["SELECT", "2"]), ok);
    assert_eq!(master.cmd(&["SET", &format!("{phase}:in2"), "two"]), ok);
    assert_eq!(master.cmd(&["SELECT", "0"]), ok);
}

/// What `write_phase` must have left on any server that has its effects.
fn check_phase(c: &mut Client, phase: &str) {
    let long = long_value();
    let key = |k: &str| format!("{phase}:{k}");
    assert_eq!(get(c, "0", &key("plain")), bulk("v"));
    assert_eq!(get(c, "0", &key("int")), bulk("12345"));
    assert_eq!(get(c, "0", &key("neg")), bulk("-70000"));
    assert_eq!(get(c, "0", &key("long")), bulk(&long));
    for k in ["ex", "px", "exat", "pxat", "nx"] {
        assert_eq!(get(c, "0", &key(k)), bulk("v"), "{}", key(k));
    }
    assert_eq!(get(c, "0", &key("get")), bulk("new"));
    assert_eq!(get(c, "0", &key("gone")), b"$-1\r\n");
    assert_eq!(get(c, "2", &key("in2")), bulk("two"));
    assert_eq!(get(c, "2", &key("plain")), b"$-1\r\n");
    assert_eq!(c.cmd(&["SELECT", "0"]), b"+OK\r\n");
}

fn field(s: &ServerProcess, section: &str, name: &str) -> String {
    s.info_field(section, name)
        .unwrap_or_else(|| panic!("{} has no INFO field {name}", s.kind.name()))
}

/// Waits until the replica's link is up and its offset equals the master's (both sides
/// read in one turn; a PING in between just means another turn).
fn wait_in_sync(master: &ServerProcess, replica: &ServerProcess) -> u64 {
    wait_until(
        "the replica's link is up and its offset equals the master's",
        || {
            if replica.info_field("replication", "master_link_status")? != "up" {
                return None;
            }
            let m = master.info_field("replication", "master_repl_offset")?;
            let r = replica.info_field("replication", "slave_repl_offset")?;
            (m == r).then(|| m.parse().expect("numeric offset"))
        },
    )
}

/// The master's view of its one replica: `slave0:ip=...,state=online,offset=N,lag=L`
/// must reach `state=online` and `offset` = the master's offset (the replica ACKed it all).
fn wait_master_sees_ack(master: &ServerProcess) {
    wait_until(
        "the master sees its replica online with every byte acknowledged",
        || {
            let slave0 = master.info_field("replication", "slave0")?;
            let offset = master.info_field("replication", "master_repl_offset")?;
            (slave0.contains("state=online") && slave0.contains(&format!(",offset={offset},")))
                .then_some(())
        },
    );
}

/// Mass insertion with `redis-cli --pipe` and a pipelined `redis-benchmark` run against
/// replscope-server complete without a single error reply.
#[test]
fn redis_cli_pipe_and_redis_benchmark_work_against_replscope() {
    if !redis_installed() {
        return;
    }
    let scope = ServerProcess::replscope(&[]);
    let port = scope.port.to_string();
    let mut input = Vec::new();
    for i in 0..5000 {
        input.extend(common::encode(&[
            b"SET",
            format!("pipe:{i}").as_bytes(),
            b"value",
        ]));
    }
    input.extend(common::encode(&[b"RPUSH", b"pipe:list", b"a", b"b"]));
    let mut child = std::process::Command::new("redis-cli")
        .args(["-p", &port, "--pipe"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run redis-cli --pipe");
    std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), &input)
        .expect("feed redis-cli");
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("redis-cli --pipe finishes");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("errors: 0, replies: 5001"),
        "redis-cli --pipe said:\n{text}"
    );
    assert_eq!(scope.client().cmd(&["DBSIZE"]), b":5001\r\n");

    let bench = std::process::Command::new("redis-benchmark")
        .args([
            "-p",
            &port,
            "-q",
            "-t",
            "set,get,incr,lpush",
            "-n",
            "20000",
            "-P",
            "16",
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run redis-benchmark");
    let text = String::from_utf8_lossy(&bench.stdout).into_owned()
        + &String::from_utf8_lossy(&bench.stderr);
    assert!(bench.status.success(), "redis-benchmark failed:\n{text}");
    for test in ["SET", "GET", "INCR", "LPUSH"] {
        assert!(
            text.contains(&format!("{test}: ")) && text.contains("requests per second"),
            "no {test} result:\n{text}"
        );
    }
    assert!(
        !text.contains("ERR") && !text.to_lowercase().contains("error"),
        "redis-benchmark saw errors:\n{text}"
    );
}

/// The same redis-cli invocations against real Redis and replscope-server print the same.
#[test]
fn redis_cli_talks_to_replscope() {
    if !redis_installed() {
        return;
    }
    let redis = ServerProcess::redis(&[]);
    let scope = ServerProcess::replscope(&[]);
    let cli = |server: &ServerProcess, args: &[&str]| {
        let port = server.port.to_string();
        let mut all = vec!["-h", "127.0.0.1", "-p", &port];
        all.extend_from_slice(args);
        let (out, ok) = redis_cli(&all);
        assert!(
            ok,
            "redis-cli {args:?} against {} failed: {out}",
            server.kind.name()
        );
        out
    };
    let both = |args: &[&str]| {
        let want = cli(&redis, args);
        let got = cli(&scope, args);
        assert_eq!(
            got, want,
            "redis-cli {args:?}: replscope (left) vs Redis (right)"
        );
        got
    };
    assert_eq!(both(&["PING"]), "PONG\n");
    assert_eq!(both(&["SET", "k", "v"]), "OK\n");
    assert_eq!(both(&["GET", "k"]), "v\n");
    both(&["SET", "spaced key", "a value with spaces"]);
    assert_eq!(both(&["GET", "spaced key"]), "a value with spaces\n");
    assert_eq!(both(&["DBSIZE"]), "2\n");
    both(&["-n", "3", "SET", "k3", "in db 3"]);
    assert_eq!(both(&["-n", "3", "GET", "k3"]), "in db 3\n");
    both(&["GET", "k3"]);
    both(&["SET", "k", "v", "EX", "0"]);
    both(&["NOSUCH", "x"]);
    assert_eq!(both(&["DEL", "k", "spaced key", "nope"]), "2\n");
    assert!(cli(&scope, &["INFO", "replication"]).contains("role:master"));
}

/// A master of one kind, a replica of the other: the same mixed workload before and after
/// the replica attaches must leave both with the same data, replid and offset.
fn replicate(master_kind: Kind, diskless: &str) {
    if !redis_installed() {
        return;
    }
    let replica_kind = match master_kind {
        Kind::Redis => Kind::Replscope,
        Kind::Replscope => Kind::Redis,
    };
    let master = ServerProcess::start(
        master_kind,
        &[
            "--repl-diskless-sync",
            diskless,
            "--repl-diskless-sync-delay",
            "0",
        ],
    );
    let mut m = master.client();
    write_phase(&mut m, "before");
    set_big_values(&mut m);
    let replica = ServerProcess::start(
        replica_kind,
        &["--replicaof", "127.0.0.1", &master.port.to_string()],
    );
    wait_in_sync(&master, &replica);
    write_phase(&mut m, "after");
    let offset = wait_in_sync(&master, &replica);
    assert!(offset > 0, "the stream carried the writes");
    // The master counts what the replica ACKs: it must be every byte.
    wait_master_sees_ack(&master);

    let mut r = replica.client();
    check_phase(&mut r, "before");
    check_phase(&mut r, "after");
    check_big_values(&mut r);
    // The expiries arrived as absolute times (SET ... PXAT), so the replica has TTLs.
    for k in [
        "before:ex",
        "after:ex",
        "after:px",
        "after:exat",
        "after:pxat",
    ] {
        let ttl = r.cmd(&["PTTL", k]);
        assert!(
            ttl.starts_with(b":") && !ttl.starts_with(b":-"),
            "{k} has no TTL on the replica: {ttl:?}"
        );
    }
    assert_eq!(r.cmd(&["PTTL", "after:plain"]), b":-1\r\n");
    assert_eq!(r.cmd(&["DBSIZE"]), m.cmd(&["DBSIZE"]));
    assert_eq!(
        field(&replica, "replication", "master_replid"),
        field(&master, "replication", "master_replid")
    );
    assert_eq!(
        field(&replica, "replication", "master_repl_offset"),
        offset.to_string()
    );
    assert_eq!(field(&replica, "replication", "role"), "slave");
    assert_eq!(field(&master, "replication", "connected_slaves"), "1");
    // A replica refuses writes from its own clients.
    assert_eq!(
        r.cmd(&["SET", "x", "y"]),
        b"-READONLY You can't write against a read only replica.\r\n"
    );
    // A key that expires on the master is hidden by the replica at once, and deleted
    // when the master's DEL arrives.
    assert_eq!(m.cmd(&["SET", "short", "v", "PX", "100"]), b"+OK\r\n");
    wait_until("the short-lived key is gone on the replica", || {
        (r.cmd(&["GET", "short"]) == b"$-1\r\n").then_some(())
    });
}

#[test]
fn real_replica_replicates_from_replscope_diskless() {
    replicate(Kind::Replscope, "yes");
}

#[test]
fn real_replica_replicates_from_replscope_disk_payload() {
    replicate(Kind::Replscope, "no");
}

#[test]
fn replscope_replicates_from_real_redis_diskless() {
    replicate(Kind::Redis, "yes");
}

#[test]
fn replscope_replicates_from_real_redis_disk_payload() {
    replicate(Kind::Redis, "no");
}

/// real master -> replscope -> real sub-replica: replscope forwards its master's stream
/// byte for byte, so all three agree on the replid and the offset.
#[test]
fn replscope_in_the_middle_of_a_chain() {
    if !redis_installed() {
        return;
    }
    let top = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
    let middle = ServerProcess::replscope(&[
        "--replicaof",
        "127.0.0.1",
        &top.port.to_string(),
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let mut t = top.client();
    write_phase(&mut t, "before");
    wait_in_sync(&top, &middle);
    let bottom = ServerProcess::redis(&["--replicaof", "127.0.0.1", &middle.port.to_string()]);
    wait_in_sync(&middle, &bottom);
    write_phase(&mut t, "after");
    let offset = wait_in_sync(&top, &middle);
    wait_until("the bottom replica reaches the top's offset", || {
        let b = bottom.info_field("replication", "slave_repl_offset")?;
        (b == offset.to_string() || b.parse::<u64>().ok()? > offset).then_some(())
    });
    let mut b = bottom.client();
    check_phase(&mut b, "before");
    check_phase(&mut b, "after");
    let replid = field(&top, "replication", "master_replid");
    assert_eq!(field(&middle, "replication", "master_replid"), replid);
    assert_eq!(field(&bottom, "replication", "master_replid"), replid);
}

#[test]
fn bad_option_is_one_line_and_exit_code_1() {
    for (args, expect) in [
        (
            &["--port", "70000"][..],
            "argument must be between 0 and 65535 inclusive",
        ),
        (
            &["--no-such-option", "1"],
            "Bad directive or wrong number of arguments",
        ),
        (
            &["--replicaof", "127.0.0.1", "notaport"],
            "Invalid master port",
        ),
        (
            &["--repl-diskless-sync", "maybe"],
            "argument must be 'yes' or 'no'",
        ),
        (&["/nonexistent/replscope.conf"], "can't open config file"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_replscope-server"))
            .args(args)
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(
            stderr.lines().count(),
            1,
            "{args:?} must print exactly one line: {stderr}"
        );
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
}

#[test]
fn config_file_and_options_combine_like_redis() {
    let dir = std::env::temp_dir().join(format!("replscope-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let conf = dir.join("r.conf");
    std::fs::write(&conf, "# a comment\nport 1\nhz 20\n").expect("write conf");
    // The options come after the file: --port wins. Probe with a bad later line instead
    // of starting a server: its line number proves where the options were placed.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_replscope-server"))
        .arg(&conf)
        .args(["--port", "7", "--hz", "x"])
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("at line 6 >>> 'hz \"x\"'"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_and_sigint_shut_down_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut scope = ServerProcess::replscope(&[]);
        let mut c = scope.client();
        assert_eq!(c.cmd(&["SET", "k", "v"]), b"+OK\r\n");
        let pid = scope.pid().to_string();
        assert!(std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill")
            .success());
        let status = wait_until("replscope-server exits", || scope.try_wait());
        assert!(
            status.success(),
            "{signal}: exit status {status}\n{}",
            scope.log()
        );
        assert!(
            scope
                .log()
                .contains("Redis is now ready to exit, bye bye..."),
            "{}",
            scope.log()
        );
        // The client sees the connection closed.
        let (_, closed) = c.read_until_closed();
        assert!(closed);
    }
}

/// The same writes on a real Redis master and on replscope produce the very same
/// replication stream bytes: same SELECTs, same rewrites (EX/PX/EXAT/PXAT -> PXAT, GET
/// dropped), nothing for writes that change nothing. Only the absolute times that
/// relative expiries become may differ, and they are masked.
#[test]
fn replication_stream_bytes_match_real_redis() {
    let writes = |writer: &mut Client| {
        write_phase(writer, "stream");
        assert_eq!(writer.cmd(&["SET", "k", "v"]), b"+OK\r\n");
        assert_eq!(
            writer.cmd(&["SET", "k", "w", "ex", "100", "get", "xx"]),
            bulk("v")
        );
        assert_eq!(
            writer.cmd(&["SET", "k", "x", "pxat", "4102444800000", "get"]),
            bulk("w")
        );
        assert_eq!(writer.cmd(&["SET", "k", "y", "get"]), bulk("x"));
        assert_eq!(writer.cmd(&["set", "lower", "case"]), b"+OK\r\n");
        assert_eq!(writer.cmd(&["SELECT", "7"]), b"+OK\r\n");
        assert_eq!(writer.cmd(&["SET", "end", "end"]), b"+OK\r\n");
    };
    let end = b"$3\r\nend\r\n$3\r\nend\r\n";
    let Some(both) = common::streams_from_both(writes, end) else {
        return;
    };
    let streams = both.map(|(stream, ())| common::normalize::mask_relative_expiries(&stream));
    assert_eq!(
        common::show(&streams[1]),
        common::show(&streams[0]),
        "replscope's stream (left) vs Redis's (right)"
    );
}

/// A real replica that loses its link to replscope comes back with `PSYNC <replid>
/// <offset>` and must get `+CONTINUE` and the missed bytes from the backlog.
#[test]
fn real_replica_resumes_partially_from_replscope() {
    if !redis_installed() {
        return;
    }
    let master = ServerProcess::replscope(&["--repl-diskless-sync-delay", "0"]);
    let replica = ServerProcess::redis(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let mut m = master.client();
    write_phase(&mut m, "before");
    wait_in_sync(&master, &replica);
    let mut r = replica.client();
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), b":1\r\n");
    write_phase(&mut m, "after");
    wait_in_sync(&master, &replica);
    wait_master_sees_ack(&master);
    check_phase(&mut r, "before");
    check_phase(&mut r, "after");
    assert_eq!(field(&master, "stats", "sync_full"), "1");
    assert_eq!(field(&master, "stats", "sync_partial_ok"), "1");
}

/// replscope, made a replica at run time with REPLICAOF, loses its link (the real master
/// kills it) and resumes with a partial resync; then REPLICAOF NO ONE promotes it.
#[test]
fn replscope_resumes_partially_from_real_redis() {
    if !redis_installed() {
        return;
    }
    let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
    let replica = ServerProcess::replscope(&[]);
    let mut m = master.client();
    let mut r = replica.client();
    write_phase(&mut m, "before");
    assert_eq!(
        r.cmd(&["REPLICAOF", "127.0.0.1", &master.port.to_string()]),
        b"+OK\r\n"
    );
    wait_in_sync(&master, &replica);
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), b":1\r\n");
    write_phase(&mut m, "after");
    wait_in_sync(&master, &replica);
    wait_master_sees_ack(&master);
    check_phase(&mut r, "before");
    check_phase(&mut r, "after");
    assert_eq!(field(&master, "stats", "sync_full"), "1");
    assert_eq!(field(&master, "stats", "sync_partial_ok"), "1");

    let old_replid = field(&master, "replication", "master_replid");
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), b"+OK\r\n");
    assert_eq!(field(&replica, "replication", "role"), "master");
    assert_eq!(field(&replica, "replication", "master_replid2"), old_replid);
    assert_eq!(r.cmd(&["SET", "promoted", "yes"]), b"+OK\r\n");
}
