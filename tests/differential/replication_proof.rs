//! The replication proof: every scenario runs on four pairs of processes,
//!
//! 1. a real redis-server master with a real redis-server replica,
//! 2. a replscope-server master with a replscope-server replica,
//! 3. a replscope-server master with a real replica,
//! 4. a real master with a replscope-server replica,
//!
//! with the very same assertions on all four. Combination 1 proves the test itself: every
//! expectation written here (an error text, a counter that moves or does not, whether a
//! failover ends in a partial or a full resync) is what real Redis 7.0 does.
//!
//! What is compared: keyspaces (every key, type, value and exact absolute expire time per
//! db), `master_repl_offset` on the master against `slave_repl_offset` and
//! `master_repl_offset` on the replica, `master_link_status`, the `sync_full` /
//! `sync_partial_ok` / `sync_partial_err` counters, replid / replid2 / second_repl_offset,
//! and raw replication stream bytes. The only normalisations are those of
//! `common::normalize` (random ids, the absolute times relative expiries become, SPOP's
//! random members).
//!
//! Where only one side can be a real server (a master played by the test, to cut a stream
//! mid-transaction; raw PSYNCs at the backlog's edges), the scenario runs once with each
//! kind on the other side, with the same assertions.
//!
//! Servers run with `repl-diskless-sync-delay 0` (no 5 s wait before a snapshot) and
//! `repl-ping-replica-period` very long, so the only bytes in a stream are those of the
//! commands a scenario sends and offsets can be compared across servers step by step.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::normalize::{self, bulk_strings, integer_of};
use common::{encode, redis_installed, show, wait_until, Client, Kind, ServerProcess};

// ============================================================== the four combinations

#[derive(Debug, Clone, Copy)]
struct Combo {
    master: Kind,
    replica: Kind,
}

const ALL_COMBOS: [Combo; 4] = [
    Combo {
        master: Kind::Redis,
        replica: Kind::Redis,
    },
    Combo {
        master: Kind::Replscope,
        replica: Kind::Replscope,
    },
    Combo {
        master: Kind::Replscope,
        replica: Kind::Redis,
    },
    Combo {
        master: Kind::Redis,
        replica: Kind::Replscope,
    },
];

impl Combo {
    fn name(self) -> String {
        format!(
            "{} master + {} replica",
            self.master.name(),
            self.replica.name()
        )
    }
}

/// Options every server of this suite starts with.
const OPTS: [&str; 4] = [
    "--repl-diskless-sync-delay",
    "0",
    "--repl-ping-replica-period",
    "100000",
];

fn start(kind: Kind) -> ServerProcess {
    ServerProcess::start(kind, &OPTS)
}

/// `mod $scenario { four #[test]s }`, one per combination, so a failure names its
/// combination and the others still run.
macro_rules! on_all_four {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;
            #[test]
            fn real_master_real_replica() {
                if redis_installed() {
                    super::$scenario(ALL_COMBOS[0]);
                }
            }
            #[test]
            fn replscope_master_replscope_replica() {
                if redis_installed() {
                    super::$scenario(ALL_COMBOS[1]);
                }
            }
            #[test]
            fn replscope_master_real_replica() {
                if redis_installed() {
                    super::$scenario(ALL_COMBOS[2]);
                }
            }
            #[test]
            fn real_master_replscope_replica() {
                if redis_installed() {
                    super::$scenario(ALL_COMBOS[3]);
                }
            }
        }
    };
}

// ============================================================== small helpers

fn cmdb(c: &mut Client, args: &[&[u8]]) -> Vec<u8> {
    c.send(&encode(args));
    c.read_replies(1)
}

fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

const OK: &[u8] = b"+OK\r\n";

/// Sends `args` and asserts the reply is `want` (what real Redis answers; combination 1
/// proves it).
fn expect(c: &mut Client, who: &str, args: &[&str], want: &[u8]) {
    let got = c.cmd(args);
    assert_eq!(show(&got), show(want), "{who}: {args:?}");
}

/// `INFO <section>` as field -> value.
fn info(server: &ServerProcess, section: &str) -> BTreeMap<String, String> {
    server
        .client()
        .info(section)
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field(server: &ServerProcess, section: &str, name: &str) -> String {
    info(server, section).remove(name).unwrap_or_else(|| {
        panic!(
            "{} (port {}) has no INFO field {name}",
            server.kind.name(),
            server.port
        )
    })
}

fn num(server: &ServerProcess, section: &str, name: &str) -> i64 {
    field(server, section, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} is not a number"))
}

fn offset(server: &ServerProcess) -> i64 {
    num(server, "replication", "master_repl_offset")
}

/// Sync counters on a master: (sync_full, sync_partial_ok, sync_partial_err).
fn sync_stats(server: &ServerProcess) -> (i64, i64, i64) {
    let s = info(server, "stats");
    let n = |k: &str| s[k].parse::<i64>().unwrap();
    (n("sync_full"), n("sync_partial_ok"), n("sync_partial_err"))
}

/// Waits until `replica`'s link is up and its offset (both `slave_repl_offset` and
/// `master_repl_offset`) equals `master`'s; returns that offset.
fn wait_in_sync(master: &ServerProcess, replica: &ServerProcess, what: &str) -> i64 {
    let mut last;
    let deadline = std::time::Instant::now() + common::DEADLINE;
    loop {
        let r = info(replica, "replication");
        let m = offset(master);
        let link = r.get("master_link_status").cloned().unwrap_or_default();
        let slave_off = r.get("slave_repl_offset").cloned().unwrap_or_default();
        let own_off = r.get("master_repl_offset").cloned().unwrap_or_default();
        if link == "up" && slave_off == m.to_string() && own_off == slave_off {
            return m;
        }
        last = format!("master_repl_offset {m}; replica: master_link_status {link}, slave_repl_offset {slave_off}, master_repl_offset {own_off}");
        if std::time::Instant::now() > deadline {
            panic!(
                "{what}: replica (port {}) never caught up with master (port {}): {last}",
                replica.port, master.port
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `REPLICAOF 127.0.0.1 <master port>` on `replica`.
fn replicaof(replica: &ServerProcess, master: &ServerProcess) {
    expect(
        &mut replica.client(),
        replica.kind.name(),
        &["REPLICAOF", "127.0.0.1", &master.port.to_string()],
        OK,
    );
}

/// Waits until `master` counts exactly `n` connected replicas.
fn wait_connected_replicas(master: &ServerProcess, n: usize) {
    wait_until(
        &format!(
            "{} (port {}) has {n} connected replicas",
            master.kind.name(),
            master.port
        ),
        || (field(master, "replication", "connected_slaves") == n.to_string()).then_some(()),
    );
}

/// A port nobody listens on: a replica pointed there stays disconnected ("stopped"),
/// keeping its master cached.
fn closed_port() -> String {
    common::free_port().to_string()
}

// ============================================================== keyspaces

/// One key as it can be read back: type, value (sets and hashes sorted, since their order
/// is Redis's business), and absolute expire time in ms (PEXPIRETIME: -1 without one).
/// Replicas get absolute times (SET ... PXAT, PEXPIREAT, the RDB's expire ms), so a
/// replica's PEXPIRETIME must equal its master's to the millisecond.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: String,
    value: Vec<String>,
    expire_at_ms: i64,
}

type Keyspace = BTreeMap<(u32, String), Entry>;

fn elements(reply: &[u8]) -> Vec<String> {
    bulk_strings(reply)
        .unwrap_or_else(|| panic!("not an array of bulk strings: {}", show(reply)))
        .into_iter()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect()
}

/// Every key of every db (0..16) of `server`.
fn keyspace(server: &ServerProcess) -> Keyspace {
    keyspace_of(server, |_| true)
}

/// Every key of the dbs `which` accepts.
fn keyspace_of(server: &ServerProcess, which: impl Fn(u32) -> bool) -> Keyspace {
    let mut c = server.client();
    let mut out = Keyspace::new();
    for db in (0..16u32).filter(|&db| which(db)) {
        expect(&mut c, "keyspace", &["SELECT", &db.to_string()], OK);
        let mut keys = elements(&c.cmd(&["KEYS", "*"]));
        keys.sort();
        for key in keys {
            let k = key.as_bytes();
            let kind_reply = cmdb(&mut c, &[b"TYPE", k]);
            let kind = String::from_utf8_lossy(&kind_reply)
                .trim_start_matches('+')
                .trim_end()
                .to_string();
            let value = match kind.as_str() {
                "string" => {
                    vec![normalize::bulk_text(&cmdb(&mut c, &[b"GET", k])).expect("a string value")]
                }
                "list" => elements(&cmdb(&mut c, &[b"LRANGE", k, b"0", b"-1"])),
                "set" => {
                    let mut v = elements(&cmdb(&mut c, &[b"SMEMBERS", k]));
                    v.sort();
                    v
                }
                "hash" => {
                    let flat = elements(&cmdb(&mut c, &[b"HGETALL", k]));
                    let mut pairs: Vec<String> = flat
                        .chunks(2)
                        .map(|p| format!("{}={}", p[0], p[1]))
                        .collect();
                    pairs.sort();
                    pairs
                }
                "zset" => elements(&cmdb(&mut c, &[b"ZRANGE", k, b"0", b"-1", b"WITHSCORES"])),
                other => panic!("{}: key {key} has type {other:?}", server.kind.name()),
            };
            let expire_at_ms = integer_of(&cmdb(&mut c, &[b"PEXPIRETIME", k]));
            out.insert(
                (db, key),
                Entry {
                    kind,
                    value,
                    expire_at_ms,
                },
            );
        }
    }
    out
}

/// The first differences between two keyspaces, readable.
fn keyspace_diff(a: &Keyspace, b: &Keyspace) -> Vec<String> {
    let mut diffs = Vec::new();
    for (k, va) in a {
        match b.get(k) {
            None => diffs.push(format!("db{} {:?}: {:?} vs missing", k.0, k.1, va)),
            Some(vb) if vb != va => {
                diffs.push(format!("db{} {:?}: {:?} vs {:?}", k.0, k.1, va, vb))
            }
            _ => {}
        }
    }
    for (k, vb) in b {
        if !a.contains_key(k) {
            diffs.push(format!("db{} {:?}: missing vs {:?}", k.0, k.1, vb));
        }
    }
    diffs.truncate(20);
    diffs
}

/// `replica`'s keyspace equals `master`'s: every key, type, value and expire time.
fn assert_same_keyspace(master: &ServerProcess, replica: &ServerProcess, what: &str) -> Keyspace {
    let m = keyspace(master);
    let r = keyspace(replica);
    let diffs = keyspace_diff(&m, &r);
    assert!(
        diffs.is_empty(),
        "{what}: master {} vs replica {} keyspaces differ:\n{}",
        master.kind.name(),
        replica.kind.name(),
        diffs.join("\n")
    );
    m
}

// ============================================================== a raw replica

/// A connection that did a full sync like a replica (`capa eof psync2`, `PSYNC ? -1`),
/// skipped the payload (disk `$<len>` or diskless `$EOF:<mark>`), acknowledged it, and now
/// reads the stream.
struct RawReplica {
    c: Client,
    replid: String,
    offset: i64,
    /// The payload came as `$EOF:<mark>` (a diskless snapshot), not `$<len>`.
    diskless: bool,
}

fn line(c: &mut Client) -> String {
    // Keepalive newlines may come before the +FULLRESYNC line and the payload header.
    loop {
        let l = c.read_until_suffix(b"\n");
        let l = String::from_utf8_lossy(&l).trim_end().to_string();
        if !l.is_empty() {
            return l;
        }
    }
}

fn attach_raw(server: &ServerProcess) -> RawReplica {
    let mut c = server.client();
    expect(
        &mut c,
        "raw replica",
        &["REPLCONF", "listening-port", "1"],
        OK,
    );
    expect(
        &mut c,
        "raw replica",
        &["REPLCONF", "capa", "eof", "capa", "psync2"],
        OK,
    );
    c.send(&encode(&[b"PSYNC", b"?", b"-1"]));
    let full = line(&mut c);
    let parts: Vec<&str> = full.split(' ').collect();
    assert!(
        parts.len() == 3 && parts[0] == "+FULLRESYNC",
        "{}: {full}",
        server.kind.name()
    );
    let (replid, offset) = (
        parts[1].to_string(),
        parts[2].parse::<i64>().expect("offset"),
    );
    let header = line(&mut c);
    let diskless = header.starts_with("$EOF:");
    if let Some(mark) = header.strip_prefix("$EOF:") {
        let rdb = c.read_until_suffix(mark.as_bytes());
        assert!(rdb.starts_with(b"REDIS0010"), "the payload is an RDB v10");
    } else {
        let len: usize = header
            .strip_prefix('$')
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("payload header {header}"));
        let rdb = c.read_exact_bytes(len);
        assert!(rdb.starts_with(b"REDIS0010"), "the payload is an RDB v10");
    }
    // After a diskless payload the master streams nothing before the first ACK it gets
    // once it has put the replica online (an earlier one, while it still waits for its
    // snapshot child to exit, does not count): wait for `state=online`, then ACK.
    wait_until("the master lists the raw replica online", || {
        info(server, "replication")
            .iter()
            .any(|(k, v)| {
                k.starts_with("slave") && v.contains("port=1,") && v.contains("state=online")
            })
            .then_some(())
    });
    c.send(&encode(&[
        b"REPLCONF",
        b"ACK",
        offset.to_string().as_bytes(),
    ]));
    RawReplica {
        c,
        replid,
        offset,
        diskless,
    }
}

// ============================================================== scenario 1: mixed workload

/// Writes of all five types, TTLs of every form, MULTI/EXEC, several dbs, INCRBYFLOAT and
/// no-op writes. Every reply is asserted (what real Redis answers).
fn mixed_workload(c: &mut Client, p: &str) {
    let w = "workload";
    let k = |name: &str| format!("{p}:{name}");
    expect(c, w, &["SELECT", "0"], OK);
    // strings and TTLs
    expect(c, w, &["SET", &k("s"), "v"], OK);
    expect(c, w, &["SET", &k("ex"), "v", "EX", "1000"], OK);
    expect(c, w, &["SET", &k("px"), "v", "PX", "1000000"], OK);
    expect(c, w, &["SET", &k("exat"), "v", "EXAT", "4102444800"], OK);
    expect(c, w, &["SETEX", &k("setex"), "1000", "v"], OK);
    expect(c, w, &["SET", &k("e1"), "v"], OK);
    expect(c, w, &["EXPIRE", &k("e1"), "1000"], b":1\r\n");
    expect(c, w, &["SET", &k("e2"), "v"], OK);
    expect(c, w, &["PEXPIREAT", &k("e2"), "4102444800123"], b":1\r\n");
    expect(c, w, &["EXPIRETIME", &k("e2")], b":4102444800\r\n");
    expect(c, w, &["PEXPIRETIME", &k("e2")], b":4102444800123\r\n");
    expect(c, w, &["SET", &k("e3"), "v", "EX", "100"], OK);
    expect(c, w, &["PERSIST", &k("e3")], b":1\r\n");
    expect(c, w, &["EXPIRETIME", &k("e3")], b":-1\r\n");
    expect(c, w, &["EXPIRETIME", &k("missing")], b":-2\r\n");
    expect(c, w, &["INCR", &k("n")], b":1\r\n");
    expect(c, w, &["INCRBY", &k("n"), "41"], b":42\r\n");
    expect(c, w, &["INCRBYFLOAT", &k("f"), "10.5"], &bulk("10.5"));
    expect(c, w, &["EXPIRE", &k("f"), "5000"], b":1\r\n");
    expect(c, w, &["INCRBYFLOAT", &k("f"), "0.1"], &bulk("10.6"));
    // Redis computes in long double: 10.6 + 3000 prints with its binary error.
    expect(
        c,
        w,
        &["INCRBYFLOAT", &k("f"), "3.0e3"],
        &bulk("3010.60000000000000009"),
    );
    expect(c, w, &["APPEND", &k("s"), "w"], b":2\r\n");
    // lists, hashes, sets, sorted sets
    expect(c, w, &["RPUSH", &k("l"), "a", "b", "c", "d"], b":4\r\n");
    expect(c, w, &["LPUSH", &k("l"), "z"], b":5\r\n");
    expect(c, w, &["LPOP", &k("l")], &bulk("z"));
    expect(
        c,
        w,
        &["LMOVE", &k("l"), &k("l2"), "LEFT", "RIGHT"],
        &bulk("a"),
    );
    expect(c, w, &["HSET", &k("h"), "f1", "v1", "f2", "v2"], b":2\r\n");
    expect(c, w, &["HINCRBYFLOAT", &k("h"), "fl", "2.5"], &bulk("2.5"));
    expect(c, w, &["HINCRBY", &k("h"), "i", "7"], b":7\r\n");
    expect(c, w, &["SADD", &k("set"), "a", "b", "c"], b":3\r\n");
    expect(c, w, &["SADD", &k("iset"), "1", "2", "3"], b":3\r\n");
    expect(
        c,
        w,
        &["ZADD", &k("z"), "1", "a", "2.5", "b", "-3", "c"],
        b":3\r\n",
    );
    expect(c, w, &["ZINCRBY", &k("z"), "0.5", "a"], &bulk("1.5"));
    expect(c, w, &["PEXPIRE", &k("z"), "9000000"], b":1\r\n");
    // no-op writes: nothing changes, nothing is propagated
    expect(c, w, &["DEL", &k("missing")], b":0\r\n");
    expect(c, w, &["SADD", &k("set"), "a"], b":0\r\n");
    expect(c, w, &["SREM", &k("set"), "nope"], b":0\r\n");
    expect(c, w, &["HDEL", &k("h"), "nope"], b":0\r\n");
    expect(c, w, &["ZADD", &k("z"), "2.5", "b"], b":0\r\n");
    expect(c, w, &["LPOP", &k("missing")], b"$-1\r\n");
    expect(c, w, &["PERSIST", &k("s")], b":0\r\n");
    // MULTI/EXEC: reads and writes mixed, and one that only reads
    expect(c, w, &["MULTI"], OK);
    expect(c, w, &["SET", &k("tx"), "1"], b"+QUEUED\r\n");
    expect(c, w, &["GET", &k("tx")], b"+QUEUED\r\n");
    expect(c, w, &["INCR", &k("tx")], b"+QUEUED\r\n");
    expect(c, w, &["SADD", &k("set"), "d"], b"+QUEUED\r\n");
    expect(c, w, &["EXEC"], b"*4\r\n+OK\r\n$1\r\n1\r\n:2\r\n:1\r\n");
    expect(c, w, &["MULTI"], OK);
    expect(c, w, &["GET", &k("tx")], b"+QUEUED\r\n");
    expect(c, w, &["EXEC"], b"*1\r\n$1\r\n2\r\n");
    // other dbs
    expect(c, w, &["SELECT", "3"], OK);
    expect(c, w, &["SET", &k("in3"), "three", "PX", "8000000"], OK);
    expect(c, w, &["HSET", &k("h3"), "f", "v"], b":1\r\n");
    expect(c, w, &["SELECT", "9"], OK);
    expect(c, w, &["ZADD", &k("z9"), "1", "x"], b":1\r\n");
    expect(c, w, &["MULTI"], OK);
    expect(c, w, &["RPUSH", &k("l9"), "q"], b"+QUEUED\r\n");
    expect(c, w, &["SELECT", "3"], b"+QUEUED\r\n");
    expect(c, w, &["RPUSH", &k("l3"), "r"], b"+QUEUED\r\n");
    expect(c, w, &["EXEC"], b"*3\r\n:1\r\n+OK\r\n:1\r\n");
    expect(c, w, &["SELECT", "0"], OK);
    expect(c, w, &["DEL", &k("e1"), &k("missing")], b":1\r\n");
}

/// A replica attaches at run time to a master that already holds data (it travels in the
/// snapshot), then the same again through the stream.
fn mixed_workload_before_and_after_attach(combo: Combo) {
    mixed_workload_with(combo, &[]);
}

fn mixed_workload_with(combo: Combo, master_opts: &[&str]) {
    let who = combo.name();
    let master = ServerProcess::start(combo.master, &[&OPTS[..], master_opts].concat());
    let replica = start(combo.replica);
    mixed_workload(&mut master.client(), "before");
    // The replica's own data is wiped by the full sync.
    let mut r = replica.client();
    expect(&mut r, &who, &["SET", "replica-own", "v"], OK);
    expect(&mut r, &who, &["SELECT", "5"], OK);
    expect(&mut r, &who, &["SET", "replica-own-5", "v"], OK);
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    mixed_workload(&mut master.client(), "after");
    let off = wait_in_sync(&master, &replica, &who);
    // The master counts what the replica acknowledged (REPLCONF ACK, once a second): all.
    wait_until(
        &format!("{who}: the master sees every byte acknowledged"),
        || {
            let slave0 = field(&master, "replication", "slave0");
            (slave0.contains("state=online") && slave0.contains(&format!(",offset={off},")))
                .then_some(())
        },
    );
    assert!(off > 0, "{who}: the stream carried the writes");
    let r = info(&replica, "replication");
    assert_eq!(r["master_link_status"], "up", "{who}");
    assert_eq!(r["role"], "slave", "{who}");
    assert_eq!(
        r["master_replid"],
        field(&master, "replication", "master_replid"),
        "{who}"
    );
    // INFO replication: the same fields in the same order as Redis, on both sides.
    let names = |text: String| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, _)| k.to_string())
            .collect()
    };
    let master_fields = names(master.client().info("replication"));
    let replica_fields = names(replica.client().info("replication"));
    let backlog = [
        "repl_backlog_active",
        "repl_backlog_size",
        "repl_backlog_first_byte_offset",
        "repl_backlog_histlen",
    ];
    let common_tail = [
        "master_failover_state",
        "master_replid",
        "master_replid2",
        "master_repl_offset",
        "second_repl_offset",
    ];
    let want_master: Vec<&str> = [
        &["role", "connected_slaves", "slave0"][..],
        &common_tail,
        &backlog,
    ]
    .concat();
    let want_replica: Vec<&str> = [
        &[
            "role",
            "master_host",
            "master_port",
            "master_link_status",
            "master_last_io_seconds_ago",
            "master_sync_in_progress",
        ][..],
        &[
            "slave_read_repl_offset",
            "slave_repl_offset",
            "slave_priority",
            "slave_read_only",
            "replica_announced",
            "connected_slaves",
        ],
        &common_tail,
        &backlog,
    ]
    .concat();
    assert_eq!(
        master_fields, want_master,
        "{who}: the master's INFO replication fields"
    );
    assert_eq!(
        replica_fields, want_replica,
        "{who}: the replica's INFO replication fields"
    );
    let mi = info(&master, "replication");
    let slave0 = format!(
        "ip=127.0.0.1,port={},state=online,offset={off},lag=",
        replica.port
    );
    assert!(
        mi["slave0"].starts_with(&slave0),
        "{who}: slave0:{} (want {slave0}...)",
        mi["slave0"]
    );
    assert_eq!(r["master_host"], "127.0.0.1", "{who}");
    assert_eq!(r["master_port"], master.port.to_string(), "{who}");
    assert_eq!(
        (
            r["master_sync_in_progress"].as_str(),
            r["slave_read_only"].as_str()
        ),
        ("0", "1"),
        "{who}"
    );
    assert_eq!(r["slave_read_repl_offset"], off.to_string(), "{who}");
    // Both backlogs began when the replica attached (offset 0) and hold the whole stream.
    for (side, i) in [("master", &mi), ("replica", &r)] {
        let got: Vec<&str> = backlog.iter().map(|k| i[*k].as_str()).collect();
        assert_eq!(
            got,
            ["1", "1048576", "1", &off.to_string()],
            "{who}: the {side}'s backlog"
        );
    }
    let ks = assert_same_keyspace(&master, &replica, &who);
    // A fresh replica made with REPLICAOF offers its own replid: refused, then a full sync.
    assert_eq!(
        sync_stats(&master),
        (1, 0, 1),
        "{who}: (sync_full, sync_partial_ok, sync_partial_err) on the master"
    );
    // The keyspace is the workload's, whatever the master: compared to what real Redis
    // computed (the workload is deterministic), expire times reduced to present/absent.
    assert_eq!(
        ks.len(),
        2 * 21,
        "{who}: keys in the keyspace: {:?}",
        ks.keys().collect::<Vec<_>>()
    );
    let e = |db: u32, key: &str| ks[&(db, key.to_string())].clone();
    assert_eq!(e(0, "after:f").value, ["3010.60000000000000009"], "{who}");
    assert!(
        e(0, "after:f").expire_at_ms > 0,
        "{who}: INCRBYFLOAT keeps the TTL (SET KEEPTTL)"
    );
    assert_eq!(e(0, "after:e2").expire_at_ms, 4102444800123, "{who}");
    assert_eq!(e(0, "after:e3").expire_at_ms, -1, "{who}");
    assert_eq!(
        e(0, "after:h").value,
        ["f1=v1", "f2=v2", "fl=2.5", "i=7"],
        "{who}"
    );
    assert_eq!(
        e(0, "after:z").value,
        ["c", "-3", "a", "1.5", "b", "2.5"],
        "{who}"
    );
    assert_eq!(e(0, "after:set").value, ["a", "b", "c", "d"], "{who}");
    assert_eq!(e(3, "after:l3").value, ["r"], "{who}");
    assert_eq!(e(9, "after:l9").value, ["q"], "{who}");
}
on_all_four!(mixed_workload_before_and_after_attach);

/// The same with `repl-diskless-sync no` on the master: the snapshot travels as
/// `$<len>` (an RDB written to disk first), not `$EOF:<mark>`.
fn mixed_workload_disk_payload(combo: Combo) {
    mixed_workload_with(combo, &["--repl-diskless-sync", "no"]);
}
on_all_four!(mixed_workload_disk_payload);

// ============================================================== scenario 2: step by step

/// One step of the scripted sequence: commands sent in order on one connection, after
/// which every master's `master_repl_offset` must be the same. `__UNTIL_EXPIRED key`
/// waits until the key's expire time has passed on the server's clock; `__WAIT_EMPTY_DB` waits until the current db is empty (a key the master's cron
/// deletes on its own).
type Step = &'static [&'static [&'static str]];

const STEPS: &[Step] = &[
    &[&["SET", "s", "v"]],
    &[&["SET", "s", "v2"]],
    &[&["SET", "s", "v", "EX", "100"]],
    &[&["SET", "s", "v", "PX", "100000"]],
    &[&["SET", "s", "v", "EXAT", "4102444800"]],
    &[&["SET", "s", "v", "PXAT", "4102444800000"]],
    &[&["SET", "s", "w", "KEEPTTL"]],
    &[&["SET", "s", "x", "XX", "GET"]],
    &[&["SET", "s", "y", "EX", "100", "GET", "XX"]],
    &[&["SET", "nx", "v", "NX"]],
    &[&["SET", "nx", "w", "NX"]],
    &[&["SET", "nokey", "v", "XX"]],
    &[&["SET", "nokey", "v", "XX", "GET"]],
    &[&["SET", "s", "z", "NX", "GET"]],
    &[&["SETEX", "se", "100", "v"]],
    &[&["PSETEX", "pe", "100000", "v"]],
    &[&["SETNX", "sn", "v"]],
    &[&["SETNX", "sn", "w"]],
    &[&["GETSET", "s", "g"]],
    &[&["GETDEL", "sn"]],
    &[&["GETDEL", "sn"]],
    &[&["MSET", "a", "1", "b", "2"]],
    &[&["MSETNX", "a", "1", "c", "3"]],
    &[&["APPEND", "a", "x"]],
    &[
        &["INCR", "counter"],
        &["INCRBY", "counter", "5"],
        &["DECR", "counter"],
        &["DECRBY", "counter", "2"],
    ],
    &[&["INCRBYFLOAT", "f", "1.5"]],
    &[&["EXPIRE", "f", "100"]],
    &[&["INCRBYFLOAT", "f", "0.25"]],
    &[&["PEXPIRETIME", "f"], &["TTL", "f"], &["EXPIRETIME", "s"]],
    &[&["EXPIRE", "f", "200", "GT"]],
    &[&["EXPIRE", "f", "50", "GT"]],
    &[&["PEXPIRE", "f", "30000", "LT"]],
    &[&["EXPIRE", "f", "100", "NX"]],
    &[&["EXPIRE", "f", "100", "XX"]],
    &[&["EXPIREAT", "f", "4102444800"]],
    &[&["PEXPIREAT", "f", "4102444800001"]],
    &[&["PERSIST", "f"]],
    &[&["PERSIST", "f"]],
    &[&["EXPIRE", "b", "-1"]],
    &[&["PEXPIREAT", "a", "1000"]],
    &[&["EXPIREAT", "missing", "4102444800"]],
    &[&["SET", "past", "v", "PXAT", "1000"], &["GET", "past"]],
    &[&["DEL", "missing"]],
    &[&["DEL", "c", "missing"]],
    &[
        &["RPUSH", "l", "a", "b", "c", "d"],
        &["LPOP", "l"],
        &["RPOP", "l", "1"],
        &["LPOP", "missing"],
    ],
    &[
        &["LMOVE", "l", "l2", "LEFT", "RIGHT"],
        &["RPOPLPUSH", "l", "l2"],
    ],
    &[
        &["HSET", "h", "f", "v"],
        &["HSET", "h", "f", "v"],
        &["HDEL", "h", "nope"],
    ],
    &[
        &["HINCRBYFLOAT", "h", "g", "2.5"],
        &["HINCRBY", "h", "i", "3"],
    ],
    &[
        &["ZADD", "z", "1", "a", "2", "b", "3", "c"],
        &["ZADD", "z", "1", "a"],
        &["ZINCRBY", "z", "1", "a"],
    ],
    &[&["ZPOPMIN", "z"], &["ZPOPMAX", "z", "1"]],
    &[
        &["SADD", "set", "m1", "m2", "m3", "m4", "m5", "m6"],
        &["SADD", "set", "m1"],
        &["SREM", "set", "nope"],
    ],
    &[&["SRANDMEMBER", "set", "2"], &["SRANDMEMBER", "set"]],
    &[&["SPOP", "set"]],
    &[&["SPOP", "set", "2"]],
    &[&["SPOP", "set", "10"]],
    &[&["SPOP", "set"]],
    &[&["SMOVE", "set2", "set", "m1"]],
    &[
        &["MULTI"],
        &["SET", "m", "1"],
        &["INCR", "counter"],
        &["GET", "s"],
        &["EXEC"],
    ],
    &[&["MULTI"], &["GET", "s"], &["EXEC"]],
    &[&["MULTI"], &["SET", "m", "2"], &["EXEC"]],
    &[&["MULTI"], &["DEL", "missing"], &["EXEC"]],
    &[
        &["MULTI"],
        &["SELECT", "2"],
        &["SET", "in2", "v"],
        &["SELECT", "0"],
        &["SET", "in0", "v"],
        &["EXEC"],
    ],
    &[
        &["MULTI"],
        &["SET", "m", "3", "EX", "100"],
        &["EXPIRE", "m", "200"],
        &["EXEC"],
    ],
    &[&["RENAME", "s", "s2"]],
    &[&["RENAMENX", "s2", "m"]],
    &[&["RENAMENX", "s2", "s3"]],
    &[&["LPUSHX", "missing", "a"]],
    &[&["RPUSHX", "l2", "z"]],
    &[&["LSET", "l2", "0", "q"]],
    &[&["LINSERT", "l2", "BEFORE", "q", "p"]],
    &[&["LREM", "l2", "0", "p"]],
    &[&["LTRIM", "l2", "0", "0"]],
    &[&["LTRIM", "l2", "5", "10"]],
    &[&["LMOVE", "missing", "x", "LEFT", "LEFT"]],
    &[&["HSETNX", "h", "f", "x"]],
    &[&["HSETNX", "h", "n", "x"]],
    &[&["HMSET", "h", "a", "1"]],
    &[&["HINCRBYFLOAT", "h", "g", "-2.5"]],
    &[&["SADD", "s1", "a", "b"], &["SADD", "s2", "b", "c"]],
    &[&["SINTERSTORE", "dst", "s1", "s2"]],
    &[&["SINTERSTORE", "dst", "s1", "missing"]],
    &[&["SINTERSTORE", "dst", "s1", "missing"]],
    &[&["SUNIONSTORE", "dst", "s1", "s2"]],
    &[&["SDIFFSTORE", "dst", "s1", "s2"]],
    &[&["SMOVE", "s1", "s2", "a"]],
    &[&["SPOP", "missing"]],
    &[&["ZADD", "z2", "CH", "1", "a", "2", "b"]],
    &[&["ZADD", "z2", "XX", "CH", "5", "a"]],
    &[&["ZADD", "z2", "NX", "INCR", "1", "c"]],
    &[&["ZADD", "z2", "GT", "1", "a"]],
    &[&["ZREM", "z2", "nope"]],
    &[&["ZREMRANGEBYSCORE", "z2", "0", "1"]],
    &[&["ZREMRANGEBYRANK", "z2", "0", "0"]],
    &[&["ZREMRANGEBYLEX", "z2", "-", "+"]],
    &[&["UNLINK", "m", "missing"]],
    &[&["EXPIRE", "missing", "100"]],
    &[&["INCRBYFLOAT", "f", "1e2"], &["PEXPIRE", "f", "-5"]],
    &[&["GETSET", "newkey", "v"]],
    &[
        &["MULTI"],
        &["SET", "q", "1"],
        &["LPUSH", "q", "x"],
        &["EXEC"],
    ],
    &[&["MULTI"], &["SET", "q"], &["EXEC"]],
    &[&["MULTI"], &["SET", "q", "2"], &["DISCARD"]],
    &[&["MULTI"], &["EXEC"]],
    &[&["SELECT", "15"], &["SET", "k15", "v"], &["SELECT", "0"]],
    // Lazy expiries (`__UNTIL_EXPIRED` waits for the key's time to pass without touching
    // it, then the next command finds it expired), on their own and inside other commands.
    &[
        &["SELECT", "4"],
        &["SET", "lazy", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "lazy"],
        &["GET", "lazy"],
    ],
    &[
        &["SET", "t1", "5", "PX", "20"],
        &["__UNTIL_EXPIRED", "t1"],
        &["incr", "t1"],
    ],
    &[
        &["SET", "t2", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t2"],
        &["MULTI"],
        &["GET", "t2"],
        &["EXEC"],
    ],
    &[
        &["SET", "t3", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t3"],
        &["MULTI"],
        &["SET", "t3", "w", "XX"],
        &["EXEC"],
    ],
    &[
        &["SET", "t4", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t4"],
        &["EXPIRE", "t4", "100"],
    ],
    &[
        &["SET", "t5", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t5"],
        &["MULTI"],
        &["SET", "x", "1"],
        &["GET", "t5"],
        &["EXEC"],
    ],
    &[
        &["SET", "t6", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t6"],
        &["SELECT", "0"],
        &["SET", "y", "1"],
        &["SELECT", "4"],
        &["EXISTS", "t6"],
    ],
    &[
        &["SET", "t7", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t7"],
        &["SET", "t7", "w", "KEEPTTL"],
    ],
    &[
        &["SET", "t8", "v", "PX", "20"],
        &["__UNTIL_EXPIRED", "t8"],
        &["INCRBYFLOAT", "t8", "1"],
    ],
    &[
        &["HSET", "t9", "f", "v"],
        &["PEXPIRE", "t9", "20"],
        &["__UNTIL_EXPIRED", "t9"],
        &["HSET", "t9", "g", "w"],
    ],
    &[&["SELECT", "0"]],
    &[&["SELECT", "3"], &["SET", "k3", "v"]],
    &[&["SET", "k3b", "v"]],
    &[&["SELECT", "0"], &["SET", "k0", "v"]],
    &[&["SELECT", "5"], &["GET", "k5"], &["SELECT", "0"]],
    // Expires actively: nobody touches it, the master's cron deletes it.
    &[
        &["SELECT", "6"],
        &["SET", "active", "v", "PX", "10"],
        &["__WAIT_EMPTY_DB"],
        &["SELECT", "0"],
    ],
    &[&["SET", "afterexpire", "v"]],
    &[&["__COMPARE_KEYSPACES"]],
    &[&["SELECT", "3"], &["FLUSHDB"]],
    &[&["FLUSHDB"]],
    &[&["SELECT", "0"], &["FLUSHALL"]],
    &[&["FLUSHALL"]],
    &[&["SET", "end", "end"]],
];

/// Replies compared only in shape (first byte and length) across servers: random picks,
/// and the absolute or remaining times of relative expiries, which the servers computed
/// some ms apart.
fn compared_in_shape(args: &[&str]) -> bool {
    matches!(
        args[0],
        "SPOP" | "SRANDMEMBER" | "PEXPIRETIME" | "EXPIRETIME" | "TTL" | "PTTL"
    )
}

/// Master and replica of each combination, and a raw replica on each master recording its
/// stream: the same script, step by step, on all four masters.
#[test]
fn offsets_step_by_step_on_all_four() {
    if !redis_installed() {
        return;
    }
    struct Setup {
        combo: Combo,
        master: ServerProcess,
        replica: ServerProcess,
        raw: RawReplica,
        c: Client,
        /// The master's offset up to which `stream` holds the raw replica's bytes.
        stream_at: i64,
        stream: Vec<u8>,
    }
    let mut setups: Vec<Setup> = ALL_COMBOS
        .iter()
        .map(|&combo| {
            // `hz 1`: one active expiry cycle a second instead of ten, and filler with
            // distant TTLs in db 4, where the lazy expiry steps run: each cycle samples
            // about 20 keys of a db, so it is most unlikely to pick, in the ms between its
            // expiry and the step's command, the one key a step let expire. (Were it picked,
            // the DEL would come alone instead of inside the step's MULTI/EXEC.)
            let mut opts = OPTS.to_vec();
            opts.extend(["--hz", "1"]);
            let master = ServerProcess::start(combo.master, &opts);
            let replica = start(combo.replica);
            let mut c = master.client();
            expect(&mut c, "filler", &["SELECT", "4"], OK);
            let mut pipe = Vec::new();
            for i in 0..2000 {
                pipe.extend(encode(&[
                    b"SET",
                    format!("filler:{i}").as_bytes(),
                    b"v",
                    b"EX",
                    b"86400",
                ]));
            }
            c.send(&pipe);
            assert_eq!(c.read_replies(2000), OK.repeat(2000));
            expect(&mut c, "filler", &["SELECT", "0"], OK);
            let raw = attach_raw(&master);
            assert!(
                raw.diskless,
                "{}: repl-diskless-sync yes (the default) sends $EOF: payloads",
                combo.name()
            );
            replicaof(&replica, &master);
            wait_in_sync(&master, &replica, &combo.name());
            let stream_at = raw.offset;
            Setup {
                combo,
                master,
                replica,
                raw,
                c,
                stream_at,
                stream: Vec::new(),
            }
        })
        .collect();
    let base: Vec<i64> = setups.iter().map(|s| offset(&s.master)).collect();
    assert!(
        base.iter().all(|&b| b == 0),
        "every master starts the script at offset 0: {base:?}"
    );

    let mut first_keyspace: Option<Keyspace> = None;
    for (i, step) in STEPS.iter().enumerate() {
        let mut offsets = Vec::new();
        let mut replies: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        for s in setups.iter_mut() {
            let mut got = Vec::new();
            for args in step.iter() {
                match args[0] {
                    "__UNTIL_EXPIRED" => {
                        // Its time passes on the server's clock (TIME), the key untouched.
                        let at = integer_of(&s.c.cmd(&["PEXPIRETIME", args[1]]));
                        assert!(at > 0, "step {i}: {} has no expire time", args[1]);
                        wait_until("the key's time passes", || {
                            let t = elements(&s.c.cmd(&["TIME"]));
                            let now_ms = t[0].parse::<i64>().unwrap() * 1000
                                + t[1].parse::<i64>().unwrap() / 1000;
                            (now_ms > at + 1).then_some(())
                        });
                    }
                    "__COMPARE_KEYSPACES" => {
                        // Every replica holds what its master holds (db 4's filler aside),
                        // and every master what the first real one holds.
                        wait_in_sync(
                            &s.master,
                            &s.replica,
                            &format!("step {i}: {}", s.combo.name()),
                        );
                        let mine = keyspace_of(&s.master, |db| db != 4);
                        let replica = keyspace_of(&s.replica, |db| db != 4);
                        let diffs = keyspace_diff(&mine, &replica);
                        assert!(
                            diffs.is_empty(),
                            "step {i}: {}: master vs replica:\n{}",
                            s.combo.name(),
                            diffs.join("\n")
                        );
                        let timeless: Keyspace = mine
                            .into_iter()
                            .map(|(k, mut e)| {
                                e.expire_at_ms = e.expire_at_ms.signum();
                                (k, e)
                            })
                            .collect();
                        let first = first_keyspace.get_or_insert_with(|| timeless.clone());
                        let diffs = keyspace_diff(first, &timeless);
                        assert!(
                            diffs.is_empty(),
                            "step {i}: {} vs the real master:\n{}",
                            s.combo.name(),
                            diffs.join("\n")
                        );
                        assert!(
                            first.len() > 15,
                            "step {i}: the script left keys to compare: {:?}",
                            first.keys()
                        );
                    }
                    "__WAIT_EMPTY_DB" => {
                        // DBSIZE counts keys whether expired or not, and touches none.
                        wait_until(
                            &format!("step {i}: {}'s cron expires the key", s.combo.master.name()),
                            || (s.c.cmd(&["DBSIZE"]) == b":0\r\n").then_some(()),
                        );
                    }
                    _ => got.push(s.c.cmd(args)),
                }
            }
            let now = offset(&s.master);
            // What this step put in the stream, as the raw replica received it.
            let chunk = s.raw.c.read_exact_bytes((now - s.stream_at) as usize);
            s.stream_at = now;
            s.stream.extend_from_slice(&chunk);
            offsets.push(now);
            chunks.push(chunk);
            replies.push(got);
        }
        let report = || {
            setups
                .iter()
                .zip(&offsets)
                .zip(&chunks)
                .map(|((s, o), chunk)| {
                    format!(
                        "  {}: master_repl_offset {o}, this step's stream: {}",
                        s.combo.name(),
                        show(chunk)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(
            offsets.iter().all(|&o| o == offsets[0]),
            "step {i} {step:?}: the masters' offsets differ:\n{}",
            report()
        );
        let masked =
            |c: &[u8]| normalize::mask_spop_members(&normalize::mask_stream_expiries(c), &[b"set"]);
        assert!(
            chunks.iter().all(|c| masked(c) == masked(&chunks[0])),
            "step {i} {step:?}: the masters' streams differ:\n{}",
            report()
        );
        // Replies too: the same commands gave the same answers.
        let args_of: Vec<&&[&str]> = step.iter().filter(|a| !a[0].starts_with("__")).collect();
        for (s, got) in setups.iter().zip(&replies).skip(1) {
            for (j, args) in args_of.iter().enumerate() {
                let (want, have) = (&replies[0][j], &got[j]);
                if compared_in_shape(args) {
                    assert_eq!(
                        have.first(),
                        want.first(),
                        "step {i} {args:?}: {} {}",
                        s.combo.name(),
                        show(have)
                    );
                    assert_eq!(
                        have.len(),
                        want.len(),
                        "step {i} {args:?}: {} {}",
                        s.combo.name(),
                        show(have)
                    );
                } else {
                    assert_eq!(
                        show(have),
                        show(want),
                        "step {i} {args:?}: {} (left) vs real Redis (right)",
                        s.combo.name()
                    );
                }
            }
        }
        for s in &setups {
            wait_in_sync(
                &s.master,
                &s.replica,
                &format!("step {i} {step:?}: {}", s.combo.name()),
            );
        }
    }
    assert!(STEPS.len() >= 40);

    // The whole raw streams: byte for byte the same once the absolute times of relative
    // expiries and the members SPOP happened to pick are masked.
    let end = b"$3\r\nend\r\n$3\r\nend\r\n";
    let streams: Vec<Vec<u8>> = setups
        .iter()
        .map(|s| {
            assert!(
                s.stream.ends_with(end),
                "{}: the stream ends with the last step",
                s.combo.name()
            );
            assert_eq!(
                s.raw.replid,
                field(&s.master, "replication", "master_replid")
            );
            normalize::mask_spop_members(&normalize::mask_stream_expiries(&s.stream), &[b"set"])
        })
        .collect();
    for (s, stream) in setups.iter().zip(&streams).skip(1) {
        assert_eq!(
            show(stream),
            show(&streams[0]),
            "{} master's stream (left) vs real Redis's (right)",
            s.combo.name()
        );
    }
}

// ============================================================== scenario 3: partial vs full

fn small_writes(c: &mut Client, tag: &str) {
    expect(c, "small writes", &["SELECT", "0"], OK);
    for i in 0..20 {
        expect(c, "small writes", &["SET", &format!("{tag}:{i}"), "v"], OK);
    }
    expect(c, "small writes", &["SELECT", "1"], OK);
    expect(
        c,
        "small writes",
        &["RPUSH", &format!("{tag}:list"), "a", "b"],
        b":2\r\n",
    );
    expect(c, "small writes", &["SELECT", "0"], OK);
}

/// Writes that start in db 1, the db the stream was left in by [`small_writes`]: no
/// SELECT is sent, so a replica that resumed partially must still know its master's db.
fn writes_in_db1_first(c: &mut Client, tag: &str) {
    expect(c, "db 1 first", &["SELECT", "1"], OK);
    expect(c, "db 1 first", &["SET", &format!("{tag}:in1"), "v"], OK);
    expect(c, "db 1 first", &["SELECT", "0"], OK);
    small_writes(c, tag);
}

/// More than a 16kb backlog holds.
fn big_writes(c: &mut Client, tag: &str) {
    let value = "x".repeat(1000);
    for i in 0..40 {
        expect(c, "big writes", &["SET", &format!("{tag}:{i}"), &value], OK);
    }
}

/// The link cut from either side while writing less than the backlog: `+CONTINUE`. The
/// replica pointed at a closed port (it keeps its master cached) while the master writes
/// less than the backlog: partial again; while it writes more: a full resync.
fn partial_and_full_resync(combo: Combo) {
    let who = combo.name();
    let master = start(combo.master);
    let replica = start(combo.replica);
    let mut m = master.client();
    let mut r = replica.client();
    expect(
        &mut m,
        &who,
        &["CONFIG", "SET", "repl-backlog-size", "16kb"],
        OK,
    );
    small_writes(&mut m, "before");
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    let replid = field(&master, "replication", "master_replid");
    let (full, ok, err) = sync_stats(&master);
    assert_eq!((full, ok, err), (1, 0, 1), "{who}: the first sync");

    // The master drops its replica.
    expect(
        &mut m,
        &who,
        &["CLIENT", "KILL", "TYPE", "replica"],
        b":1\r\n",
    );
    writes_in_db1_first(&mut m, "kill-replica");
    wait_in_sync(&master, &replica, &who);
    assert_eq!(
        sync_stats(&master),
        (full, ok + 1, err),
        "{who}: CLIENT KILL TYPE replica -> +CONTINUE"
    );
    assert_same_keyspace(&master, &replica, &who);

    // The replica drops its master.
    expect(
        &mut r,
        &who,
        &["CLIENT", "KILL", "TYPE", "master"],
        b":1\r\n",
    );
    writes_in_db1_first(&mut m, "kill-master");
    wait_in_sync(&master, &replica, &who);
    assert_eq!(
        sync_stats(&master),
        (full, ok + 2, err),
        "{who}: CLIENT KILL TYPE master -> +CONTINUE"
    );

    // The replica "stopped": pointed away, it keeps the master cached; fewer bytes than the
    // backlog meanwhile -> partial when it comes back.
    expect(
        &mut r,
        &who,
        &["REPLICAOF", "127.0.0.1", &closed_port()],
        OK,
    );
    wait_connected_replicas(&master, 0);
    assert_eq!(
        field(&replica, "replication", "master_link_status"),
        "down",
        "{who}"
    );
    writes_in_db1_first(&mut m, "away-small");
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    assert_eq!(
        sync_stats(&master),
        (full, ok + 3, err),
        "{who}: back after fewer bytes than the backlog -> +CONTINUE"
    );
    assert_same_keyspace(&master, &replica, &who);

    // Stopped again, and more bytes than the 16kb backlog: a full resync, the PSYNC refused.
    expect(
        &mut r,
        &who,
        &["REPLICAOF", "127.0.0.1", &closed_port()],
        OK,
    );
    wait_connected_replicas(&master, 0);
    let before = offset(&master);
    big_writes(&mut m, "away-big");
    assert!(
        offset(&master) - before > 16 * 1024,
        "{who}: the writes overflow the backlog"
    );
    let b = info(&master, "replication");
    assert_eq!(b["repl_backlog_size"], "16384", "{who}");
    let first_byte: i64 = b["repl_backlog_first_byte_offset"].parse().unwrap();
    assert!(
        first_byte > before + 1,
        "{who}: the replica's next byte left the backlog: {b:?}"
    );
    let histlen_after_overflow = b["repl_backlog_histlen"].clone();
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    assert_eq!(
        sync_stats(&master),
        (full + 1, ok + 3, err + 1),
        "{who}: back after more than the backlog -> full resync"
    );
    assert_same_keyspace(&master, &replica, &who);
    assert_eq!(
        field(&replica, "replication", "master_replid"),
        replid,
        "{who}: same history throughout"
    );
    // Last, so that everything above is checked whatever this says. Redis 7.0 trims its
    // backlog by whole 16kb blocks of the shared replication buffer, only while the
    // remaining blocks still hold repl-backlog-size bytes: after these writes it holds
    // 24046 bytes, more than the 16384 configured.
    let histlen: i64 = histlen_after_overflow.parse().unwrap();
    assert_eq!(
        histlen, 24046,
        "{who}: repl_backlog_histlen after overflowing a 16kb backlog: Redis trims by whole blocks"
    );
}
on_all_four!(partial_and_full_resync);

// ============================================================== scenario 4: failover

/// Master M with replicas A and B; A promoted with `REPLICAOF NO ONE`; B re-pointed to A
/// continues partially thanks to replid2. Then M, the old master, is pointed at A too:
/// `diverged` says whether M accepted a write of its own after A's promotion.
fn failover(combo: Combo, diverged: bool) {
    let who = format!("{} (M diverged: {diverged})", combo.name());
    let m_srv = start(combo.master);
    let a_srv = start(combo.replica);
    let b_srv = start(combo.replica);
    let mut m = m_srv.client();
    small_writes(&mut m, "before");
    replicaof(&a_srv, &m_srv);
    replicaof(&b_srv, &m_srv);
    wait_in_sync(&m_srv, &a_srv, &who);
    wait_in_sync(&m_srv, &b_srv, &who);
    small_writes(&mut m, "stream");
    let m_off = wait_in_sync(&m_srv, &a_srv, &who);
    wait_in_sync(&m_srv, &b_srv, &who);
    let m_replid = field(&m_srv, "replication", "master_replid");

    // A is promoted: new replid, the old one kept as replid2 valid up to offset + 1.
    expect(&mut a_srv.client(), &who, &["REPLICAOF", "NO", "ONE"], OK);
    let a = info(&a_srv, "replication");
    assert_eq!(a["role"], "master", "{who}");
    assert_ne!(a["master_replid"], m_replid, "{who}: A takes a new replid");
    assert_eq!(a["master_replid2"], m_replid, "{who}");
    assert_eq!(a["second_repl_offset"], (m_off + 1).to_string(), "{who}");
    assert_eq!(a["master_repl_offset"], m_off.to_string(), "{who}");
    let a_replid = a["master_replid"].clone();
    assert_eq!(
        sync_stats(&a_srv),
        (0, 0, 0),
        "{who}: A never served a sync"
    );

    // B follows A: partial, through replid2.
    replicaof(&b_srv, &a_srv);
    wait_in_sync(&a_srv, &b_srv, &who);
    assert_eq!(
        sync_stats(&a_srv),
        (0, 1, 0),
        "{who}: B continues on A partially"
    );
    let b = info(&b_srv, "replication");
    assert_eq!(
        b["master_replid"], a_replid,
        "{who}: B adopted A's new replid"
    );
    assert_eq!(b["master_replid2"], m_replid, "{who}");
    assert_eq!(b["second_repl_offset"], (m_off + 1).to_string(), "{who}");
    let mut a_cli = a_srv.client();
    small_writes(&mut a_cli, "on-a");
    wait_in_sync(&a_srv, &b_srv, &who);
    assert_same_keyspace(&a_srv, &b_srv, &who);

    // The old master: it has no replicas left.
    wait_connected_replicas(&m_srv, 0);
    if diverged {
        expect(&mut m, &who, &["SET", "lost-write", "v"], OK);
    }
    let m_off_now = offset(&m_srv);
    replicaof(&m_srv, &a_srv);
    wait_in_sync(&a_srv, &m_srv, &who);
    let (full, ok, err) = sync_stats(&a_srv);
    if diverged {
        // M offers its own history (old replid, an offset past second_repl_offset): refused.
        assert!(m_off_now > m_off, "{who}");
        assert_eq!(
            (full, ok, err),
            (1, 1, 1),
            "{who}: a diverged M needs a full resync"
        );
        assert_eq!(
            m.cmd(&["GET", "lost-write"]),
            b"$-1\r\n",
            "{who}: M's own write is lost"
        );
    } else {
        // M's history is a prefix of A's: it continues through replid2 too.
        assert_eq!(m_off_now, m_off, "{who}");
        assert_eq!(
            (full, ok, err),
            (0, 2, 0),
            "{who}: M continues on A partially"
        );
    }
    let mi = info(&m_srv, "replication");
    assert_eq!(mi["role"], "slave", "{who}");
    assert_eq!(mi["master_replid"], a_replid, "{who}");
    assert_same_keyspace(&a_srv, &m_srv, &who);
    small_writes(&mut a_cli, "after-all");
    wait_in_sync(&a_srv, &m_srv, &who);
    wait_in_sync(&a_srv, &b_srv, &who);
    assert_same_keyspace(&a_srv, &b_srv, &who);
}

fn failover_old_master_diverged(combo: Combo) {
    failover(combo, true);
}
on_all_four!(failover_old_master_diverged);

fn failover_old_master_in_step(combo: Combo) {
    failover(combo, false);
}
on_all_four!(failover_old_master_in_step);

// ============================================================== scenario 5: a replica's refusals

const READONLY_ERR: &[u8] = b"-READONLY You can't write against a read only replica.\r\n";
const MASTERDOWN_ERR: &[u8] =
    b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n";

/// `replica-read-only` and `replica-serve-stale-data no`: the exact error texts, and what
/// a replica still serves.
fn replica_refusals(combo: Combo) {
    let who = combo.name();
    let master = start(combo.master);
    let replica = start(combo.replica);
    let mut m = master.client();
    expect(&mut m, &who, &["SET", "k", "v"], OK);
    let mut r = replica.client();
    // Never connected: the link has been down "since ever" (-1), however many attempts
    // failed (the cron retries every second).
    expect(
        &mut r,
        &who,
        &["REPLICAOF", "127.0.0.1", &closed_port()],
        OK,
    );
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        field(&replica, "replication", "master_link_down_since_seconds"),
        "-1",
        "{who}: never connected"
    );
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    assert!(
        !info(&replica, "replication").contains_key("master_link_down_since_seconds"),
        "{who}: shown only while down"
    );
    expect(
        &mut r,
        &who,
        &["REPLICAOF", "127.0.0.1", &master.port.to_string()],
        b"+OK Already connected to specified master\r\n",
    );
    // REPLICAOF NO ONE on a master changes nothing.
    let replid = field(&master, "replication", "master_replid");
    expect(&mut m, &who, &["REPLICAOF", "NO", "ONE"], OK);
    assert_eq!(
        field(&master, "replication", "master_replid"),
        replid,
        "{who}"
    );
    assert_eq!(
        field(&master, "replication", "connected_slaves"),
        "1",
        "{who}"
    );
    expect(&mut r, &who, &["GET", "k"], &bulk("v"));
    expect(&mut r, &who, &["SET", "x", "y"], READONLY_ERR);
    expect(&mut r, &who, &["DEL", "k"], READONLY_ERR);
    expect(&mut r, &who, &["MULTI"], OK);
    expect(&mut r, &who, &["SET", "x", "y"], READONLY_ERR);
    expect(
        &mut r,
        &who,
        &["EXEC"],
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    // A writable replica takes the write (and keeps it to itself).
    expect(
        &mut r,
        &who,
        &["CONFIG", "SET", "replica-read-only", "no"],
        OK,
    );
    expect(&mut r, &who, &["SET", "local", "only"], OK);
    expect(&mut r, &who, &["GET", "local"], &bulk("only"));
    expect(&mut m, &who, &["GET", "local"], b"$-1\r\n");
    expect(
        &mut r,
        &who,
        &["CONFIG", "SET", "replica-read-only", "yes"],
        OK,
    );
    expect(&mut r, &who, &["SET", "x", "y"], READONLY_ERR);

    // Stale data: served while the link is up, refused once it is down.
    expect(
        &mut r,
        &who,
        &["CONFIG", "SET", "replica-serve-stale-data", "no"],
        OK,
    );
    expect(&mut r, &who, &["GET", "k"], &bulk("v"));
    expect(
        &mut r,
        &who,
        &["REPLICAOF", "127.0.0.1", &closed_port()],
        OK,
    );
    assert_eq!(
        field(&replica, "replication", "master_link_status"),
        "down",
        "{who}"
    );
    // Down since the connected master was let go (0 or 1 s ago), failed attempts since
    // then do not restart the count.
    std::thread::sleep(Duration::from_millis(1100));
    let down: i64 = field(&replica, "replication", "master_link_down_since_seconds")
        .parse()
        .unwrap();
    assert!(
        (1..=3).contains(&down),
        "{who}: master_link_down_since_seconds {down}"
    );
    expect(&mut r, &who, &["GET", "k"], MASTERDOWN_ERR);
    expect(&mut r, &who, &["DBSIZE"], MASTERDOWN_ERR);
    expect(&mut r, &who, &["PING"], MASTERDOWN_ERR);
    expect(&mut r, &who, &["ECHO", "e"], &bulk("e"));
    expect(&mut r, &who, &["SET", "x", "y"], READONLY_ERR);
    expect(&mut r, &who, &["MULTI"], OK);
    expect(&mut r, &who, &["GET", "k"], MASTERDOWN_ERR);
    expect(
        &mut r,
        &who,
        &["EXEC"],
        b"-EXECABORT Transaction discarded because of previous errors.\r\n",
    );
    assert!(
        r.info("replication").contains("role:slave"),
        "{who}: INFO is served"
    );
    expect(
        &mut r,
        &who,
        &["CONFIG", "SET", "replica-serve-stale-data", "yes"],
        OK,
    );
    expect(&mut r, &who, &["GET", "k"], &bulk("v"));
    expect(
        &mut r,
        &who,
        &["CONFIG", "SET", "replica-serve-stale-data", "no"],
        OK,
    );
    // Back to the master: served again once the link is up.
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    expect(&mut r, &who, &["GET", "k"], &bulk("v"));
}
on_all_four!(replica_refusals);

// ============================================================== scenario 6: a chain

/// M -> A -> B (A and B of the replica kind): the same offsets on all three, and what A
/// sends to its own replicas is byte for byte what it receives from M.
fn chained_replica(combo: Combo) {
    let who = combo.name();
    let m_srv = start(combo.master);
    let a_srv = start(combo.replica);
    let b_srv = start(combo.replica);
    let mut m = m_srv.client();
    mixed_workload(&mut m, "before");
    replicaof(&a_srv, &m_srv);
    wait_in_sync(&m_srv, &a_srv, &who);
    replicaof(&b_srv, &a_srv);
    wait_in_sync(&a_srv, &b_srv, &who);
    // One raw replica on A (it sees what B sees) and one on M, both at the same offset.
    let mut from_a = attach_raw(&a_srv);
    let mut from_m = attach_raw(&m_srv);
    assert_eq!(
        from_a.offset, from_m.offset,
        "{who}: both raw replicas start at the same offset"
    );
    let replid = field(&m_srv, "replication", "master_replid");
    assert_eq!(from_a.replid, replid, "{who}: A serves M's history");
    mixed_workload(&mut m, "after");
    expect(&mut m, &who, &["SELECT", "0"], OK);
    expect(&mut m, &who, &["SET", "end", "end"], OK);
    let off = wait_in_sync(&m_srv, &a_srv, &who);
    assert_eq!(wait_in_sync(&a_srv, &b_srv, &who), off, "{who}");
    for s in [&a_srv, &b_srv] {
        assert_eq!(field(s, "replication", "master_replid"), replid, "{who}");
    }
    let end = b"$3\r\nend\r\n$3\r\nend\r\n";
    let stream_m = from_m.c.read_until_suffix(end);
    let stream_a = from_a.c.read_until_suffix(end);
    assert_eq!(stream_m.len() as i64, off - from_m.offset, "{who}");
    assert_eq!(
        show(&stream_a),
        show(&stream_m),
        "{who}: A's stream to its replicas (left) vs M's (right)"
    );
    assert_same_keyspace(&m_srv, &b_srv, &who);

    // M's PINGs are stream bytes too: A forwards them, and they count on all three.
    // Redis spells them in lower case (its shared "ping" object).
    expect(
        &mut m,
        &who,
        &["CONFIG", "SET", "repl-ping-replica-period", "1"],
        OK,
    );
    wait_until(&format!("{who}: M pings its replicas"), || {
        (offset(&m_srv) > off).then_some(())
    });
    expect(
        &mut m,
        &who,
        &["CONFIG", "SET", "repl-ping-replica-period", "100000"],
        OK,
    );
    let pinged = wait_in_sync(&m_srv, &a_srv, &who);
    assert_eq!(wait_in_sync(&a_srv, &b_srv, &who), pinged, "{who}");
    let pings = from_m.c.read_exact_bytes((pinged - off) as usize);
    assert_eq!(
        show(&pings),
        show(&b"*1\r\n$4\r\nping\r\n".repeat(pings.len() / 14)),
        "{who}"
    );
    assert_eq!(
        show(&from_a.c.read_exact_bytes(pings.len())),
        show(&pings),
        "{who}: A forwards the PINGs"
    );
}
on_all_four!(chained_replica);

/// A chain M -> A -> B re-shaped: A promoted (it drops B, which comes back partially and
/// learns A's new replid), M re-pointed to A (partially, its history is a prefix of A's),
/// then A made the replica of an unrelated master N (a full sync, after which B must
/// resync in full from A too).
fn chain_reshaped(combo: Combo) {
    let who = combo.name();
    let m_srv = start(combo.master);
    let a_srv = start(combo.replica);
    let b_srv = start(combo.replica);
    let mut m = m_srv.client();
    small_writes(&mut m, "before");
    replicaof(&a_srv, &m_srv);
    wait_in_sync(&m_srv, &a_srv, &who);
    // The stream was left in db 1; B's snapshot from A must tell B so (the RDB's
    // repl-stream-db), since M's next write to db 1 comes without a SELECT.
    replicaof(&b_srv, &a_srv);
    wait_in_sync(&a_srv, &b_srv, &who);
    expect(&mut m, &who, &["SELECT", "1"], OK);
    expect(&mut m, &who, &["SET", "no-select-needed", "v"], OK);
    let m_off = wait_in_sync(&m_srv, &a_srv, &who);
    wait_in_sync(&a_srv, &b_srv, &who);
    assert_same_keyspace(&m_srv, &b_srv, &who);
    assert_eq!(
        sync_stats(&a_srv),
        (1, 0, 1),
        "{who}: A served B one full sync"
    );
    let m_replid = field(&m_srv, "replication", "master_replid");

    // A promoted: B is disconnected and continues partially with A's new replid.
    expect(&mut a_srv.client(), &who, &["REPLICAOF", "NO", "ONE"], OK);
    let a_replid = field(&a_srv, "replication", "master_replid");
    wait_until(&format!("{who}: B follows A's new replid"), || {
        (field(&b_srv, "replication", "master_replid") == a_replid).then_some(())
    });
    wait_in_sync(&a_srv, &b_srv, &who);
    assert_eq!(
        sync_stats(&a_srv),
        (1, 1, 1),
        "{who}: B continued on A partially"
    );
    let b = info(&b_srv, "replication");
    assert_eq!(b["master_replid2"], m_replid, "{who}");
    assert_eq!(b["second_repl_offset"], (m_off + 1).to_string(), "{who}");

    // M follows A, partially.
    wait_connected_replicas(&m_srv, 0);
    replicaof(&m_srv, &a_srv);
    wait_in_sync(&a_srv, &m_srv, &who);
    assert_eq!(
        sync_stats(&a_srv),
        (1, 2, 1),
        "{who}: M continued on A partially"
    );
    let mut a = a_srv.client();
    small_writes(&mut a, "on-a");
    wait_in_sync(&a_srv, &m_srv, &who);
    wait_in_sync(&a_srv, &b_srv, &who);
    assert_same_keyspace(&a_srv, &m_srv, &who);
    assert_same_keyspace(&a_srv, &b_srv, &who);

    // A follows an unrelated master N: a full sync for A, then for B from A.
    let n_srv = start(combo.master);
    let mut n = n_srv.client();
    small_writes(&mut n, "on-n");
    replicaof(&a_srv, &n_srv);
    wait_in_sync(&n_srv, &a_srv, &who);
    // (Read only now: N takes a new replid when it creates its backlog for A.)
    let n_replid = field(&n_srv, "replication", "master_replid");
    wait_until(&format!("{who}: B follows N's replid"), || {
        (field(&b_srv, "replication", "master_replid") == n_replid).then_some(())
    });
    small_writes(&mut n, "on-n-after");
    wait_in_sync(&n_srv, &a_srv, &who);
    wait_in_sync(&a_srv, &b_srv, &who);
    wait_in_sync(&a_srv, &m_srv, &who);
    let (full, _, _) = sync_stats(&a_srv);
    assert_eq!(full, 3, "{who}: B and M resynced in full from A");
    assert_eq!(
        sync_stats(&n_srv),
        (1, 0, 1),
        "{who}: A synced in full from N"
    );
    assert_same_keyspace(&n_srv, &a_srv, &who);
    assert_same_keyspace(&n_srv, &b_srv, &who);
    assert_same_keyspace(&n_srv, &m_srv, &who);
}
on_all_four!(chain_reshaped);

// ============================================================== scenario 7: timeouts

fn signal(server: &ServerProcess, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &server.pid().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig} {}", server.pid());
}

/// Resumes a stopped process even when the test fails while it is stopped (a stopped
/// process ignores the SIGKILL of `ServerProcess::drop` until it is continued).
struct Resume<'a>(&'a ServerProcess);
impl Drop for Resume<'_> {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

/// A silent link (the other side frozen with SIGSTOP, its socket still open): only
/// `repl-timeout` notices. The replica times out a frozen master; the master times out a
/// frozen replica. Each time the link comes back with a partial resync.
fn timeouts(combo: Combo) {
    let who = combo.name();
    let master = start(combo.master);
    let replica = start(combo.replica);
    for s in [&master, &replica] {
        expect(
            &mut s.client(),
            &who,
            &["CONFIG", "SET", "repl-timeout", "2"],
            OK,
        );
    }
    // Pings keep an idle link alive under a 2 s timeout.
    expect(
        &mut master.client(),
        &who,
        &["CONFIG", "SET", "repl-ping-replica-period", "1"],
        OK,
    );
    let mut m = master.client();
    small_writes(&mut m, "before");
    replicaof(&replica, &master);
    wait_in_sync(&master, &replica, &who);
    let (full, ok, err) = sync_stats(&master);

    // The master freezes: the replica gives up on it after repl-timeout.
    {
        let _resume = Resume(&master);
        signal(&master, "-STOP");
        wait_until(
            &format!("{who}: the replica times out its frozen master"),
            || (field(&replica, "replication", "master_link_status") == "down").then_some(()),
        );
    }
    wait_in_sync(&master, &replica, &who);
    writes_in_db1_first(&mut m, "after-master-froze");
    wait_in_sync(&master, &replica, &who);
    assert_eq!(
        sync_stats(&master),
        (full, ok + 1, err),
        "{who}: back from a frozen master -> +CONTINUE"
    );

    // The replica freezes: the master drops it after repl-timeout.
    {
        let _resume = Resume(&replica);
        signal(&replica, "-STOP");
        wait_connected_replicas(&master, 0);
        writes_in_db1_first(&mut m, "while-replica-froze");
    }
    wait_in_sync(&master, &replica, &who);
    assert_eq!(
        sync_stats(&master),
        (full, ok + 2, err),
        "{who}: back from a frozen replica -> +CONTINUE"
    );
    assert_same_keyspace(&master, &replica, &who);
}
on_all_four!(timeouts);

// ============================================================== scenario 8: writes during a full sync

/// Writes that arrive while the snapshot is being made and sent travel after it (buffered
/// for the replica), with nothing lost or doubled.
fn writes_during_full_sync(combo: Combo) {
    let who = combo.name();
    let master = start(combo.master);
    let replica = start(combo.replica);
    let mut m = master.client();
    // A snapshot large enough to take a while to make, send and load.
    let mut pipe = Vec::new();
    let value = "v".repeat(200);
    for i in 0..20_000 {
        pipe.extend(encode(&[
            b"RPUSH",
            format!("bulk:{}", i % 2000).as_bytes(),
            value.as_bytes(),
        ]));
    }
    m.send(&pipe);
    let replies = m.read_replies(20_000);
    assert!(
        replies.starts_with(b":1\r\n") && replies.ends_with(b":10\r\n"),
        "{who}"
    );
    replicaof(&replica, &master);
    let mut during = 0;
    let mut i = 0;
    while field(&replica, "replication", "master_link_status") != "up" {
        expect(
            &mut m,
            &who,
            &["INCR", "during"],
            format!(":{}\r\n", i + 1).as_bytes(),
        );
        expect(
            &mut m,
            &who,
            &["RPUSH", "during:list", &i.to_string()],
            format!(":{}\r\n", i + 1).as_bytes(),
        );
        i += 1;
        if field(&replica, "replication", "master_sync_in_progress") == "1" {
            during += 1;
        }
        assert!(i < 100_000, "{who}: the sync never ended");
    }
    for _ in 0..10 {
        expect(
            &mut m,
            &who,
            &["INCR", "during"],
            format!(":{}\r\n", i + 1).as_bytes(),
        );
        expect(
            &mut m,
            &who,
            &["RPUSH", "during:list", &i.to_string()],
            format!(":{}\r\n", i + 1).as_bytes(),
        );
        i += 1;
    }
    wait_in_sync(&master, &replica, &who);
    assert!(
        i > 10,
        "{who}: writes went on while the replica synced ({i}, {during} seen in sync_in_progress)"
    );
    assert_same_keyspace(&master, &replica, &who);
    assert_eq!(sync_stats(&master), (1, 0, 1), "{who}");
}
on_all_four!(writes_during_full_sync);

// ============================================================== scenario 9: a stream cut mid-transaction

/// CRC-64/Jones (reflected, polynomial 0x95ac9329ac4bc9b5), the RDB checksum.
fn crc64(data: &[u8]) -> u64 {
    let mut crc = 0u64;
    for &b in data {
        crc ^= b as u64;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x95ac_9329_ac4b_c9b5
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// The smallest RDB a 7.0 replica loads: header, EOF, checksum.
fn empty_rdb() -> Vec<u8> {
    let mut rdb = b"REDIS0010\xff".to_vec();
    let crc = crc64(&rdb);
    rdb.extend_from_slice(&crc.to_le_bytes());
    rdb
}

/// A master played by the test, to cut the stream exactly where a real master cannot be
/// made to: in the middle of a transaction, in the middle of a command.
struct FakeMaster {
    listener: std::net::TcpListener,
}

/// One connection from the replica to [`FakeMaster`].
struct FakeLink {
    stream: std::net::TcpStream,
    buf: Vec<u8>,
}

/// One RESP array of bulk strings at the start of `buf`: (arguments, bytes used).
fn parse_command(buf: &[u8]) -> Option<(Vec<Vec<u8>>, usize)> {
    let len = common::reply_len(buf)?;
    Some((bulk_strings(&buf[..len])?, len))
}

impl FakeMaster {
    fn new() -> FakeMaster {
        FakeMaster {
            listener: std::net::TcpListener::bind("127.0.0.1:0").expect("bind"),
        }
    }

    fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// Accepts the replica's next connection and answers its handshake (PING, REPLCONF);
    /// returns the link and the replica's PSYNC arguments, unanswered.
    fn accept(&self, who: &str) -> (FakeLink, Vec<String>) {
        let (link, handshake) = self.accept_recording(who);
        (link, handshake.last().cloned().unwrap())
    }

    /// [`FakeMaster::accept`], returning every command of the handshake, PSYNC last.
    fn accept_recording(&self, who: &str) -> (FakeLink, Vec<Vec<String>>) {
        let mut handshake = Vec::new();
        self.listener.set_nonblocking(true).unwrap();
        let stream = wait_until(
            &format!("{who}: the replica connects to the fake master"),
            || self.listener.accept().ok(),
        )
        .0;
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut link = FakeLink {
            stream,
            buf: Vec::new(),
        };
        loop {
            let args = link.next_command(who);
            handshake.push(
                args.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
            let name = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
            match name.as_str() {
                "PING" => link.send(b"+PONG\r\n"),
                "REPLCONF" => link.send(b"+OK\r\n"),
                "PSYNC" => return (link, handshake),
                other => panic!("{who}: unexpected {other} in the handshake"),
            }
        }
    }
}

impl FakeLink {
    fn send(&mut self, data: &[u8]) {
        use std::io::Write;
        self.stream.write_all(data).expect("write to the replica");
    }

    fn try_command(&mut self) -> Option<Vec<Vec<u8>>> {
        use std::io::Read;
        loop {
            // Newlines the replica sends while it loads are not commands.
            while self.buf.first() == Some(&b'\n') {
                self.buf.remove(0);
            }
            if let Some((args, used)) = parse_command(&self.buf) {
                self.buf.drain(..used);
                return Some(args);
            }
            let mut chunk = [0u8; 4096];
            match self.stream.read(&mut chunk) {
                Ok(0) => panic!("the replica closed the link"),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(_) => return None,
            }
        }
    }

    fn next_command(&mut self, who: &str) -> Vec<Vec<u8>> {
        wait_until(&format!("{who}: a command from the replica"), || {
            self.try_command()
        })
    }

    /// Waits for the replica's next `REPLCONF ACK` (sent once a second), returns its offset.
    fn next_ack(&mut self, who: &str) -> i64 {
        loop {
            let args = self.next_command(who);
            if args.len() == 3
                && args[0].eq_ignore_ascii_case(b"REPLCONF")
                && args[1].eq_ignore_ascii_case(b"ACK")
            {
                return String::from_utf8_lossy(&args[2]).parse().unwrap();
            }
        }
    }

    /// ACKs until one reports `offset` (the replica may have sent older ones before).
    fn ack_reaches(&mut self, who: &str, offset: i64) {
        for _ in 0..5 {
            let ack = self.next_ack(who);
            assert!(ack <= offset, "{who}: ACK {ack} is past {offset}");
            if ack == offset {
                return;
            }
        }
        panic!("{who}: the replica never acknowledged {offset}");
    }
}

fn cmd_bytes(args: &[&str]) -> Vec<u8> {
    let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
    encode(&args)
}

/// Waits until the replica has read `read` bytes of stream and applied `applied`.
fn wait_replica_offsets(replica: &ServerProcess, read: i64, applied: i64, who: &str) {
    let mut last = String::new();
    let deadline = std::time::Instant::now() + common::DEADLINE;
    loop {
        let r = info(replica, "replication");
        let got = (
            r["slave_read_repl_offset"].clone(),
            r["slave_repl_offset"].clone(),
            r["master_repl_offset"].clone(),
        );
        if got == (read.to_string(), applied.to_string(), applied.to_string()) {
            return;
        }
        if std::time::Instant::now() > deadline {
            panic!("{who}: want slave_read_repl_offset {read}, slave_repl_offset and master_repl_offset {applied}; have {got:?} {last}");
        }
        last = format!("(link {})", r["master_link_status"]);
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A replica whose link is cut after a `MULTI` (its `EXEC` not yet sent) or in the middle
/// of a command counts as applied only what precedes them: it acknowledges, forwards to
/// its own replicas, and resumes from there (PSYNC), so the master sends the transaction or
/// the command again in full. A `+CONTINUE` with a new replid is adopted as replid2
/// history, and drops the replica's own replicas.
fn stream_cut_mid_transaction(replica_kind: Kind) {
    let who = format!("fake master + {} replica", replica_kind.name());
    let fake = FakeMaster::new();
    let replica = start(replica_kind);
    let own_replid = field(&replica, "replication", "master_replid");
    expect(
        &mut replica.client(),
        &who,
        &["REPLICAOF", "127.0.0.1", &fake.port().to_string()],
        OK,
    );
    let (mut link, handshake) = fake.accept_recording(&who);
    let port = replica.port.to_string();
    let want: [&[&str]; 4] = [
        &["PING"],
        &["REPLCONF", "listening-port", &port],
        &["REPLCONF", "capa", "eof", "capa", "psync2"],
        // A fresh replica offers its own history.
        &["PSYNC", &own_replid, "1"],
    ];
    assert_eq!(handshake, want, "{who}: the handshake, command by command");
    let replid = "a".repeat(40);
    let rdb = empty_rdb();
    let mut full = format!("+FULLRESYNC {replid} 0\r\n${}\r\n", rdb.len()).into_bytes();
    full.extend_from_slice(&rdb);
    link.send(&full);
    let mut sent = cmd_bytes(&["SELECT", "0"]);
    sent.extend(cmd_bytes(&["SET", "a", "1"]));
    link.send(&sent);
    let mut at = sent.len() as i64;
    wait_replica_offsets(&replica, at, at, &who);
    link.ack_reaches(&who, at);

    // A raw replica of the replica: it gets what the replica applied, no more.
    let mut sub = attach_raw(&replica);
    assert_eq!(
        (sub.replid.as_str(), sub.offset),
        (replid.as_str(), at),
        "{who}: the sub-replica's FULLRESYNC"
    );

    // MULTI and a command, the EXEC never sent: read, not applied.
    let open_tx = [cmd_bytes(&["MULTI"]), cmd_bytes(&["SET", "b", "2"])].concat();
    link.send(&open_tx);
    wait_replica_offsets(&replica, at + open_tx.len() as i64, at, &who);
    link.ack_reaches(&who, at);
    expect(&mut replica.client(), &who, &["GET", "b"], b"$-1\r\n");
    drop(link);
    let (mut link, psync) = fake.accept(&who);
    assert_eq!(
        psync,
        ["PSYNC", &replid, &(at + 1).to_string()],
        "{who}: resumes at the MULTI"
    );
    link.send(format!("+CONTINUE {replid}\r\n").as_bytes());
    let resent = [
        open_tx.clone(),
        cmd_bytes(&["EXEC"]),
        cmd_bytes(&["SET", "c", "3"]),
    ]
    .concat();
    link.send(&resent);
    at += resent.len() as i64;
    wait_replica_offsets(&replica, at, at, &who);
    link.ack_reaches(&who, at);
    let mut r = replica.client();
    expect(
        &mut r,
        &who,
        &["MGET", "a", "b", "c"],
        b"*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n",
    );
    // The sub-replica got the transaction once, whole, and nothing of the cut attempt.
    let forwarded = sub.c.read_exact_bytes(resent.len());
    assert_eq!(
        show(&forwarded),
        show(&resent),
        "{who}: forwarded to the sub-replica"
    );

    // Cut inside a command.
    let whole = cmd_bytes(&["SET", "d", "4"]);
    link.send(&whole[..10]);
    wait_replica_offsets(&replica, at + 10, at, &who);
    drop(link);
    let (mut link, psync) = fake.accept(&who);
    assert_eq!(
        psync,
        ["PSYNC", &replid, &(at + 1).to_string()],
        "{who}: resumes at the cut command"
    );
    // ... and this time the master has a new history: replid2 takes the old one.
    let new_replid = "b".repeat(40);
    link.send(format!("+CONTINUE {new_replid}\r\n").as_bytes());
    link.send(&whole);
    wait_replica_offsets(
        &replica,
        at + whole.len() as i64,
        at + whole.len() as i64,
        &who,
    );
    let i = info(&replica, "replication");
    assert_eq!(i["master_replid"], new_replid, "{who}");
    assert_eq!(i["master_replid2"], replid, "{who}");
    assert_eq!(i["second_repl_offset"], (at + 1).to_string(), "{who}");
    expect(&mut r, &who, &["GET", "d"], &bulk("4"));
    // The sub-replica was dropped so that it learns the new replid.
    let (rest, closed) = sub.c.read_until_closed();
    assert!(
        closed,
        "{who}: the replica drops its own replicas when its replid changes"
    );
    assert_eq!(
        show(&rest),
        "",
        "{who}: nothing of the cut command reached the sub-replica"
    );
    wait_until(&format!("{who}: the sub-replica is gone"), || {
        (field(&replica, "replication", "connected_slaves") == "0").then_some(())
    });
    link.ack_reaches(&who, at + whole.len() as i64);
}

mod stream_cut_mid_transaction {
    use super::*;
    #[test]
    fn fake_master_real_replica() {
        if redis_installed() {
            super::stream_cut_mid_transaction(Kind::Redis);
        }
    }
    #[test]
    fn fake_master_replscope_replica() {
        if redis_installed() {
            super::stream_cut_mid_transaction(Kind::Replscope);
        }
    }
}

// ============================================================== scenario 10: the master's PSYNC decision

/// A fresh connection posing as a replica (`capa` as given) that sends `request`; returns
/// the connection and the first non-empty line of the reply.
fn psync_raw(server: &ServerProcess, capa: &[&str], request: &[&str]) -> (Client, String) {
    let mut c = server.client();
    expect(&mut c, "psync", &["REPLCONF", "listening-port", "2"], OK);
    if !capa.is_empty() {
        let mut args = vec!["REPLCONF"];
        for cap in capa {
            args.extend(["capa", cap]);
        }
        expect(&mut c, "psync", &args, OK);
    }
    c.send(&cmd_bytes(request));
    let l = line(&mut c);
    (c, l)
}

/// Where `PSYNC <id> <offset>` is accepted and where refused, on a master whose backlog
/// has overflowed: exactly the backlog's bytes are offered, and its content is the stream
/// a replica received. Also `PSYNC ? -1`, a foreign id, no `capa psync2`, and `SYNC`.
fn psync_decisions(master_kind: Kind) {
    let who = format!("{} master", master_kind.name());
    let master = start(master_kind);
    let mut m = master.client();
    expect(
        &mut m,
        &who,
        &["CONFIG", "SET", "repl-backlog-size", "16kb"],
        OK,
    );
    expect(
        &mut m,
        &who,
        &["CONFIG", "SET", "repl-diskless-sync", "no"],
        OK,
    );
    let mut recorder = attach_raw(&master);
    assert!(
        !recorder.diskless,
        "{who}: repl-diskless-sync no sends a $<len> payload"
    );
    let replid = recorder.replid.clone();
    assert_eq!(recorder.offset, 0, "{who}");
    big_writes(&mut m, "fill");
    small_writes(&mut m, "tail");
    let end = offset(&master);
    let mut stream = recorder.c.read_exact_bytes(end as usize);
    let b = info(&master, "replication");
    let first: i64 = b["repl_backlog_first_byte_offset"].parse().unwrap();
    let histlen: i64 = b["repl_backlog_histlen"].parse().unwrap();
    assert_eq!(
        first + histlen - 1,
        end,
        "{who}: the backlog ends at the master's offset"
    );
    assert!(first > 1, "{who}: the backlog overflowed");
    let mut want = (0, 0, 0);
    assert_eq!(
        sync_stats(&master),
        (1, 0, 0),
        "{who}: PSYNC ? -1 is no refused partial"
    );
    want.0 += 1;

    // Accepted: from the backlog's first byte to one past its last.
    for (from_end, n) in [(end + 1 - first, histlen), (0, 0), (100, 100)] {
        // (Each probe below moves the offset: `from` counts back from the current end.)
        let now = offset(&master);
        stream.extend(recorder.c.read_exact_bytes(now as usize - stream.len()));
        let from = now + 1 - from_end;
        let (mut c, reply) = psync_raw(
            &master,
            &["eof", "psync2"],
            &["PSYNC", &replid, &from.to_string()],
        );
        assert_eq!(
            reply,
            format!("+CONTINUE {replid}"),
            "{who}: PSYNC at {from}"
        );
        want.1 += 1;
        let got = c.read_exact_bytes(n as usize);
        assert_eq!(
            got,
            stream[(from - 1) as usize..],
            "{who}: the backlog from {from} is the stream a replica got"
        );
        let before = offset(&master);
        expect(&mut m, &who, &["SET", "probe", &from.to_string()], OK);
        let live = c.read_exact_bytes((offset(&master) - before) as usize);
        let probe = cmd_bytes(&["SET", "probe", &from.to_string()]);
        assert!(
            live.ends_with(&probe),
            "{who}: then the live stream: {} (offset {before} -> {})",
            show(&live),
            offset(&master)
        );
    }
    let end = offset(&master);
    // Without capa psync2 the reply carries no replid.
    let (_c, reply) = psync_raw(
        &master,
        &["eof"],
        &["PSYNC", &replid, &(end + 1).to_string()],
    );
    assert_eq!(reply, "+CONTINUE", "{who}");
    want.1 += 1;
    assert_eq!(sync_stats(&master), want, "{who}");

    // Refused: before the backlog, past the offset, another history; each a full sync.
    let first: i64 = field(&master, "replication", "repl_backlog_first_byte_offset")
        .parse()
        .unwrap();
    let other = "c".repeat(40);
    for (id, from) in [(&replid, first - 1), (&replid, end + 2), (&other, end + 1)] {
        let (_c, reply) = psync_raw(
            &master,
            &["eof", "psync2"],
            &["PSYNC", id, &from.to_string()],
        );
        assert_eq!(
            reply,
            format!("+FULLRESYNC {replid} {end}"),
            "{who}: PSYNC {id} {from}"
        );
        want.0 += 1;
        want.2 += 1;
    }
    let (_c, reply) = psync_raw(&master, &["eof", "psync2"], &["PSYNC", "?", "-1"]);
    assert_eq!(reply, format!("+FULLRESYNC {replid} {end}"), "{who}");
    want.0 += 1;
    // Legacy SYNC: the payload comes without a +FULLRESYNC line, always disk-style.
    let (mut c, reply) = psync_raw(&master, &[], &["SYNC"]);
    let len: usize = reply
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{who}: SYNC -> {reply}"));
    assert!(c.read_exact_bytes(len).starts_with(b"REDIS0010"), "{who}");
    want.0 += 1;
    wait_until(&format!("{who}: the counters settle"), || {
        (sync_stats(&master) == want).then_some(())
    });

    // A replica with no link to its master serves no sync at all.
    let replica = start(master_kind);
    expect(
        &mut replica.client(),
        &who,
        &["REPLICAOF", "127.0.0.1", &closed_port()],
        OK,
    );
    let (_c, reply) = psync_raw(&replica, &["eof", "psync2"], &["PSYNC", "?", "-1"]);
    assert_eq!(
        reply, "-NOMASTERLINK Can't SYNC while not connected with my master",
        "{who}"
    );
    assert_eq!(sync_stats(&replica), (0, 0, 0), "{who}");
}

mod psync_decisions {
    use super::*;
    #[test]
    fn real_master() {
        if redis_installed() {
            super::psync_decisions(Kind::Redis);
        }
    }
    #[test]
    fn replscope_master() {
        if redis_installed() {
            super::psync_decisions(Kind::Replscope);
        }
    }
}

// ============================================================== scenario 11: expired keys on a replica

/// A replica never expires keys itself: a key whose time has passed is hidden from its
/// clients but kept, and its master's commands still see it, until the master's DEL.
/// Also: keepalive newlines before the payload are skipped, PINGs count in the offset,
/// and `REPLCONF GETACK *` is answered with the offset before the GETACK.
fn replica_keeps_expired_keys(replica_kind: Kind) {
    let who = format!("fake master + {} replica", replica_kind.name());
    let fake = FakeMaster::new();
    let replica = start(replica_kind);
    expect(
        &mut replica.client(),
        &who,
        &["REPLICAOF", "127.0.0.1", &fake.port().to_string()],
        OK,
    );
    let (mut link, _psync) = fake.accept(&who);
    let replid = "d".repeat(40);
    let rdb = empty_rdb();
    link.send(format!("+FULLRESYNC {replid} 1000\r\n").as_bytes());
    link.send(b"\n\n");
    let mut payload = format!("${}\r\n", rdb.len()).into_bytes();
    payload.extend_from_slice(&rdb);
    link.send(&payload);
    let sent = [
        cmd_bytes(&["SELECT", "0"]),
        cmd_bytes(&["SET", "old", "5", "PXAT", "1000"]),
        cmd_bytes(&["SET", "live", "v"]),
        cmd_bytes(&["PING"]),
    ]
    .concat();
    link.send(&sent);
    let mut at = 1000 + sent.len() as i64;
    wait_replica_offsets(&replica, at, at, &who);
    let mut r = replica.client();
    // Hidden from clients, yet kept.
    expect(&mut r, &who, &["GET", "old"], b"$-1\r\n");
    expect(&mut r, &who, &["EXISTS", "old"], b":0\r\n");
    expect(&mut r, &who, &["TTL", "old"], b":-2\r\n");
    expect(&mut r, &who, &["TYPE", "old"], b"+none\r\n");
    expect(&mut r, &who, &["KEYS", "*"], b"*1\r\n$4\r\nlive\r\n");
    expect(&mut r, &who, &["DBSIZE"], b":2\r\n");
    // The master's commands see it as it is.
    let incr = cmd_bytes(&["INCR", "old"]);
    link.send(&incr);
    at += incr.len() as i64;
    wait_replica_offsets(&replica, at, at, &who);
    expect(&mut r, &who, &["DBSIZE"], b":2\r\n");
    expect(&mut r, &who, &["GET", "old"], b"$-1\r\n");
    // GETACK: answered with the offset before its own bytes.
    let getack = cmd_bytes(&["REPLCONF", "GETACK", "*"]);
    link.send(&getack);
    link.ack_reaches(&who, at);
    at += getack.len() as i64;
    link.ack_reaches(&who, at);
    // The master's DEL removes it; then the key is gone for the replica's clients too.
    let del = cmd_bytes(&["DEL", "old"]);
    link.send(&del);
    at += del.len() as i64;
    wait_replica_offsets(&replica, at, at, &who);
    expect(&mut r, &who, &["DBSIZE"], b":1\r\n");
    // Promoted, it expires keys like any master: a past-time key is deleted on access.
    let again = cmd_bytes(&["SET", "old2", "v", "PXAT", "1000"]);
    link.send(&again);
    at += again.len() as i64;
    wait_replica_offsets(&replica, at, at, &who);
    expect(&mut r, &who, &["DBSIZE"], b":2\r\n");
    expect(&mut r, &who, &["REPLICAOF", "NO", "ONE"], OK);
    wait_until(
        &format!("{who}: the promoted replica deletes the expired key"),
        || {
            r.cmd(&["GET", "old2"]);
            (r.cmd(&["DBSIZE"]) == b":1\r\n").then_some(())
        },
    );
}

mod replica_keeps_expired_keys {
    use super::*;
    #[test]
    fn fake_master_real_replica() {
        if redis_installed() {
            super::replica_keeps_expired_keys(Kind::Redis);
        }
    }
    #[test]
    fn fake_master_replscope_replica() {
        if redis_installed() {
            super::replica_keeps_expired_keys(Kind::Replscope);
        }
    }
}
