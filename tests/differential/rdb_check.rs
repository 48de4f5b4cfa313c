//! Our RDB files against real Redis 7.0, both ways, on datasets large enough to reach
//! every encoding and size class (200k keys, a 20 MB string, 100k-element collections).
//!
//! For each dataset:
//! 1. our snapshot passes `redis-check-rdb`;
//! 2. a real redis-server loads it (right key counts per db), and the snapshot it then
//!    saves itself reads back, with our reader, as exactly the dataset;
//! 3. a real redis-server given the same dataset by commands saves a snapshot that reads
//!    back as exactly the dataset too (so we read every encoding real Redis writes for it),
//!    and its `DEBUG DIGEST` equals the one of the server that loaded our file.
//!
//! And the hand-built files of `tests/rdb/` (every encoding Redis 7.0 loads, old ones
//! included; one written by a real Redis with tiny thresholds) load in real Redis with
//! its deep integrity checks on and hold what we read from them.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{encode, redis_installed, ServerProcess};
use replscope::engine::keyspace::{Keyspace, OrderedMap, SetValue, Value, ZSet};
use replscope::engine::rdb::{self, set_from_members, ReplInfo, SnapshotMeta};

/// 2100-01-01: an expiry that is still in the future when the test runs.
const FUTURE_MS: u64 = 4_102_444_800_000;

fn meta() -> SnapshotMeta<'static> {
    SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 1_767_225_600,
        used_mem: 1_000_000,
        repl: Some(ReplInfo {
            stream_db: 0,
            replid: "f".repeat(40),
            offset: 1234,
        }),
    }
}

/// A deterministic byte generator (xorshift), so datasets are the same on every run.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn fill(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn many_keys() -> Keyspace {
    let mut ks = Keyspace::default();
    let mut rng = Bytes(0x5eed);
    for i in 0..200_000u32 {
        let db = [0, 0, 0, 1, 9][i as usize % 5];
        let key = match i % 4 {
            0 => format!("key:{i}").into_bytes(),
            1 => [b"bin\x00\r\n\xff".as_slice(), &i.to_le_bytes()].concat(),
            2 => i.to_string().into_bytes(), // a key that is an integer
            _ => format!("k{i}").repeat(4).into_bytes(),
        };
        let value = match i % 6 {
            0 => (i as i64 - 100_000).to_string().into_bytes(),
            1 => format!("value-{i}").into_bytes(),
            2 => format!("compressible {i} ").repeat(8).into_bytes(),
            3 => rng.fill(30),
            4 => Vec::new(),
            _ => (i as i64 * 1_000_000_007).to_string().into_bytes(), // past 32 bits: stored as text
        };
        let expiry = (i % 7 == 0).then_some(FUTURE_MS + i as u64);
        ks.set(db, key, Value::String(value), expiry);
    }
    ks
}

fn large_values() -> Keyspace {
    let mut ks = Keyspace::default();
    let mut rng = Bytes(0xb16);
    // 20 MB: a random 1 KB block repeated, so LZF finds matches and the file stays small.
    let block = rng.fill(1024);
    ks.set(
        0,
        b"huge".to_vec(),
        Value::String(block.repeat(20 * 1024)),
        None,
    );
    ks.set(
        0,
        b"random".to_vec(),
        Value::String(rng.fill(300_000)),
        Some(FUTURE_MS),
    );
    let n = 100_000;
    ks.set(
        1,
        b"list".to_vec(),
        Value::List((0..n).map(|i| format!("item-{i}").into_bytes()).collect()),
        None,
    );
    let hash: OrderedMap = (0..n)
        .map(|i| {
            (
                format!("field:{i}").into_bytes(),
                i.to_string().into_bytes(),
            )
        })
        .collect();
    ks.set(1, b"hash".to_vec(), Value::Hash(hash), Some(FUTURE_MS));
    ks.set(
        2,
        b"set".to_vec(),
        Value::Set(set_from_members(
            (0..n).map(|i| format!("m{i}").into_bytes()).collect(),
        )),
        None,
    );
    let ints = (0..n)
        .map(|i| (i as i64 * 7919 - 300_000_000).to_string().into_bytes())
        .collect();
    ks.set(
        2,
        b"intset-able".to_vec(),
        Value::Set(set_from_members(ints)),
        None,
    );
    let mut z = ZSet::default();
    for i in 0..n {
        z.insert(
            format!("member-{i}").into_bytes(),
            (i as f64 - 50_000.0) / 3.0,
        );
    }
    ks.set(3, b"zset".to_vec(), Value::ZSet(z), None);
    ks
}

/// Each type small (Redis's compact encodings) and just past each threshold.
fn every_encoding() -> Keyspace {
    let mut ks = Keyspace::default();
    let texts = |n: usize, f: &dyn Fn(usize) -> String| -> Vec<Vec<u8>> {
        (0..n).map(|i| f(i).into_bytes()).collect()
    };
    ks.set(
        0,
        b"int".to_vec(),
        Value::String(b"-2147483648".to_vec()),
        None,
    );
    ks.set(
        0,
        b"int64".to_vec(),
        Value::String(b"9223372036854775807".to_vec()),
        None,
    );
    ks.set(
        0,
        b"lzf".to_vec(),
        Value::String(b"replscope ".repeat(50)),
        Some(FUTURE_MS),
    );
    ks.set(0, b"empty".to_vec(), Value::String(Vec::new()), None);
    ks.set(
        0,
        b"list-small".to_vec(),
        Value::List(texts(5, &|i| format!("{i}")).into_iter().collect()),
        None,
    );
    ks.set(
        0,
        b"list-long-element".to_vec(),
        Value::List([vec![b'e'; 10_000], b"x".to_vec()].into_iter().collect()),
        None,
    );
    ks.set(
        0,
        b"list-nodes".to_vec(),
        Value::List(
            texts(3000, &|i| format!("element {i}"))
                .into_iter()
                .collect(),
        ),
        None,
    );
    ks.set(
        1,
        b"set-intset".to_vec(),
        Value::Set(set_from_members(texts(512, &|i| format!("{}", i * 3)))),
        None,
    );
    ks.set(
        1,
        b"set-513-ints".to_vec(),
        Value::Set(set_from_members(texts(513, &|i| format!("{i}")))),
        None,
    );
    ks.set(
        1,
        b"set-strings".to_vec(),
        Value::Set(set_from_members(texts(10, &|i| format!("s{i}")))),
        None,
    );
    ks.set(
        1,
        b"set-int64".to_vec(),
        Value::Set(SetValue::Ints(
            [i64::MIN, -1, i64::MAX].into_iter().collect(),
        )),
        None,
    );
    let hash = |n: usize, len: usize| -> Value {
        Value::Hash(
            (0..n)
                .map(|i| (format!("f{i}").into_bytes(), vec![b'v'; len]))
                .collect(),
        )
    };
    ks.set(2, b"hash-listpack".to_vec(), hash(128, 64), None);
    ks.set(2, b"hash-129".to_vec(), hash(129, 1), None);
    ks.set(2, b"hash-long-value".to_vec(), hash(3, 65), Some(FUTURE_MS));
    let zset = |n: usize, member_len: usize| -> Value {
        let mut z = ZSet::default();
        for i in 0..n {
            let mut m = format!("{i}:").into_bytes();
            m.resize(member_len.max(m.len()), b'm');
            let score = match i % 4 {
                0 => i as f64,
                1 => -(i as f64) / 7.0,
                2 => f64::INFINITY,
                _ => 1e300 * i as f64,
            };
            z.insert(
                m,
                if i % 4 == 2 && i % 8 == 6 {
                    f64::NEG_INFINITY
                } else {
                    score
                },
            );
        }
        Value::ZSet(z)
    };
    ks.set(3, b"zset-listpack".to_vec(), zset(128, 5), None);
    ks.set(3, b"zset-129".to_vec(), zset(129, 5), None);
    ks.set(3, b"zset-long-member".to_vec(), zset(3, 65), None);
    ks.set(15, b"db15".to_vec(), Value::String(b"last".to_vec()), None);
    ks
}

/// The commands that build `ks` in an empty server, as one RESP pipeline.
fn commands(ks: &Keyspace) -> Vec<u8> {
    let mut out = Vec::new();
    let mut push = |args: Vec<&[u8]>| out.extend(encode(&args));
    for (db, d) in ks.dbs.iter().enumerate() {
        if d.entries.is_empty() {
            continue;
        }
        let db_text = db.to_string();
        push(vec![b"SELECT", db_text.as_bytes()]);
        for (key, entry) in &d.entries {
            let k = key.as_slice();
            match &entry.value {
                Value::String(s) => push(vec![b"SET", k, s]),
                Value::List(items) => {
                    for chunk in items.iter().collect::<Vec<_>>().chunks(1000) {
                        push(
                            [
                                &[b"RPUSH".as_slice(), k][..],
                                &chunk.iter().map(|i| i.as_slice()).collect::<Vec<_>>(),
                            ]
                            .concat(),
                        );
                    }
                }
                Value::Set(set) => {
                    for chunk in set.members().chunks(1000) {
                        push(
                            [
                                &[b"SADD".as_slice(), k][..],
                                &chunk.iter().map(|m| m.as_slice()).collect::<Vec<_>>(),
                            ]
                            .concat(),
                        );
                    }
                }
                Value::Hash(h) => {
                    for chunk in h.iter().collect::<Vec<_>>().chunks(500) {
                        let mut args: Vec<&[u8]> = vec![b"HSET", k];
                        chunk
                            .iter()
                            .for_each(|(f, v)| args.extend([f.as_slice(), v.as_slice()]));
                        push(args);
                    }
                }
                Value::ZSet(z) => {
                    let pairs: Vec<(String, &[u8])> =
                        z.iter().map(|(m, s)| (format!("{s}"), m)).collect();
                    for chunk in pairs.chunks(500) {
                        let mut args: Vec<&[u8]> = vec![b"ZADD", k];
                        chunk
                            .iter()
                            .for_each(|(s, m)| args.extend([s.as_bytes(), *m]));
                        push(args);
                    }
                }
            }
            if let Some(t) = entry.expires_at {
                push(vec![b"PEXPIREAT", k, t.to_string().as_bytes()]);
            }
        }
    }
    out
}

/// A directory of our own (the servers' temp dirs belong to the harness).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir()
            .join("replscope-tests")
            .join(format!("rdb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn check_rdb(path: &Path) -> String {
    let out = Command::new("redis-check-rdb")
        .arg(path)
        .output()
        .expect("run redis-check-rdb");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && text.contains("RDB looks OK"),
        "redis-check-rdb refused {}:\n{text}",
        path.display()
    );
    text
}

/// A real redis-server started on the `dump.rdb` in `dir` (an empty dir: empty server).
fn redis_in(dir: &Path, extra: &[&str]) -> ServerProcess {
    let d = dir.to_str().expect("utf-8 path");
    let mut args = vec![
        "--dir",
        d,
        "--dbfilename",
        "dump.rdb",
        "--enable-debug-command",
        "yes",
    ];
    args.extend(extra);
    ServerProcess::redis(&args)
}

/// SAVE, then our reading of the snapshot the server wrote.
fn saved_by(server: &ServerProcess, dir: &Path) -> Keyspace {
    assert_eq!(server.client().cmd(&["SAVE"]), b"+OK\r\n");
    let bytes = std::fs::read(dir.join("dump.rdb")).expect("the server's dump.rdb");
    check_rdb(&dir.join("dump.rdb"));
    match rdb::read(&bytes) {
        Ok(l) => l.keyspace,
        Err(e) => panic!("we cannot read what redis-server saved: {e} {:?}", e.log),
    }
}

fn digest(server: &ServerProcess) -> Vec<u8> {
    let d = server.client().cmd(&["DEBUG", "DIGEST"]);
    assert!(
        d.starts_with(b"+") && d.len() == 43,
        "DEBUG DIGEST: {}",
        common::show(&d)
    );
    d
}

fn dbsizes(server: &ServerProcess) -> Vec<usize> {
    let mut c = server.client();
    (0..16)
        .map(|db| {
            assert_eq!(c.cmd(&["SELECT", &db.to_string()]), b"+OK\r\n");
            let r = c.cmd(&["DBSIZE"]);
            String::from_utf8_lossy(&r[1..r.len() - 2])
                .parse()
                .expect("DBSIZE")
        })
        .collect()
}

/// First difference between two keyspaces, for a readable failure.
fn first_difference(want: &Keyspace, got: &Keyspace) -> Option<String> {
    for (db, (w, g)) in want.dbs.iter().zip(&got.dbs).enumerate() {
        for (key, e) in &w.entries {
            match g.entries.get(key) {
                None => {
                    return Some(format!(
                        "db {db}: key {:?} missing",
                        key.escape_ascii().to_string()
                    ))
                }
                Some(ge) if ge != e => {
                    let short = |e: &replscope::engine::keyspace::Entry| {
                        let value: String = format!("{:?}", e.value).chars().take(300).collect();
                        format!("expires_at {:?}, {value}", e.expires_at)
                    };
                    return Some(format!(
                        "db {db}: key {:?} differs:\n want {}\n  got {}",
                        key.escape_ascii().to_string(),
                        short(e),
                        short(ge)
                    ));
                }
                _ => {}
            }
        }
        if let Some(extra) = g.entries.keys().find(|k| !w.entries.contains_key(k)) {
            return Some(format!(
                "db {db}: unexpected key {:?}",
                extra.escape_ascii().to_string()
            ));
        }
    }
    None
}

fn assert_same(want: &Keyspace, got: &Keyspace, what: &str) {
    if let Some(diff) = first_difference(want, got) {
        panic!("{what}: {diff}");
    }
}

/// Both directions for one dataset (see the module documentation).
fn both_ways(name: &str, ks: &Keyspace) {
    let keys: usize = ks.dbs.iter().map(|d| d.entries.len()).sum();
    let sizes: Vec<usize> = ks.dbs.iter().map(|d| d.entries.len()).collect();

    // 1. Ours passes redis-check-rdb.
    let ours = TempDir::new(&format!("{name}-ours"));
    let bytes = rdb::write(ks, &meta(), 0);
    assert_same(
        ks,
        &rdb::read(&bytes).expect("our own snapshot").keyspace,
        "our writer and reader",
    );
    std::fs::write(ours.0.join("dump.rdb"), &bytes).expect("write our snapshot");
    let report = check_rdb(&ours.0.join("dump.rdb"));
    assert!(
        report.contains(&format!("[info] {keys} keys read")),
        "redis-check-rdb counted another number of keys:\n{report}"
    );

    // 2. A real server loads it, then saves its own.
    let loaded = redis_in(&ours.0, &[]);
    assert!(
        loaded.log().contains(&format!(
            "Done loading RDB, keys loaded: {keys}, keys expired: 0."
        )),
        "{}",
        loaded.log()
    );
    assert_eq!(
        dbsizes(&loaded),
        sizes,
        "DBSIZE per db after loading our snapshot"
    );
    assert_same(
        ks,
        &saved_by(&loaded, &ours.0),
        "redis-server's save of our snapshot",
    );

    // 3. A real server given the dataset by commands.
    let built = TempDir::new(&format!("{name}-built"));
    let server = redis_in(&built.0, &[]);
    let pipe = built.0.join("commands.resp");
    std::fs::write(&pipe, commands(ks)).expect("write the commands");
    let out = Command::new("redis-cli")
        .args(["-p", &server.port.to_string(), "--pipe"])
        .stdin(std::fs::File::open(&pipe).expect("open the commands"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run redis-cli --pipe");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("errors: 0,"),
        "redis-cli --pipe: {said}"
    );
    assert_eq!(dbsizes(&server), sizes, "DBSIZE per db after the commands");
    assert_same(
        ks,
        &saved_by(&server, &built.0),
        "redis-server's own snapshot of the dataset",
    );
    assert_eq!(
        digest(&server),
        digest(&loaded),
        "DEBUG DIGEST: built by commands vs loaded from our snapshot"
    );
}

#[test]
fn two_hundred_thousand_keys_in_three_dbs() {
    if !redis_installed() {
        return;
    }
    both_ways("keys", &many_keys());
}

#[test]
fn large_values_both_ways() {
    if !redis_installed() {
        return;
    }
    both_ways("large", &large_values());
}

#[test]
fn every_encoding_redis_writes_both_ways() {
    if !redis_installed() {
        return;
    }
    both_ways("encodings", &every_encoding());
}

#[test]
fn expired_keys_are_saved_and_dropped_by_a_loading_master() {
    if !redis_installed() {
        return;
    }
    let mut ks = Keyspace::default();
    ks.set(
        0,
        b"gone".to_vec(),
        Value::String(b"v".to_vec()),
        Some(1_000),
    );
    ks.set(
        0,
        b"kept".to_vec(),
        Value::List(VecDeque::from([b"a".to_vec()])),
        Some(FUTURE_MS),
    );
    let dir = TempDir::new("expired");
    std::fs::write(dir.0.join("dump.rdb"), rdb::write(&ks, &meta(), 5_000)).expect("write");
    let report = check_rdb(&dir.0.join("dump.rdb"));
    assert!(
        report.contains("[info] 2 keys read") && report.contains("[info] 1 already expired"),
        "{report}"
    );
    let server = redis_in(&dir.0, &[]);
    assert!(
        server
            .log()
            .contains("Done loading RDB, keys loaded: 1, keys expired: 1."),
        "{}",
        server.log()
    );
}

#[test]
fn hand_built_and_tiny_threshold_files_load_in_redis_as_we_read_them() {
    if !redis_installed() {
        return;
    }
    for file in ["legacy-encodings.rdb", "redis-7.0-encodings.rdb"] {
        let bytes = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/rdb")
                .join(file),
        )
        .expect("fixture");
        let mut ours = rdb::read(&bytes)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .keyspace;
        // The fixtures were saved by a real redis-server with real TTLs: a key whose
        // expiry has passed on the wall clock by now is dropped by the loading server, so
        // it is dropped here too (the fixture ages; the comparison must not).
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        let mut expired = 0;
        for db in 0..ours.dbs.len() {
            let gone: Vec<Vec<u8>> = ours.dbs[db]
                .entries
                .iter()
                .filter(|(_, e)| e.expires_at.is_some_and(|t| t <= now_ms))
                .map(|(k, _)| k.clone())
                .collect();
            expired += gone.len();
            for key in gone {
                ours.remove(db, &key);
            }
        }
        let dir = TempDir::new(file.trim_end_matches(".rdb"));
        std::fs::write(dir.0.join("dump.rdb"), &bytes).expect("copy the fixture");
        check_rdb(&dir.0.join("dump.rdb"));
        // Deep integrity checks on, as our reader always has them.
        let server = redis_in(&dir.0, &["--sanitize-dump-payload", "yes"]);
        let keys = ours.len();
        assert!(
            server.log().contains(&format!(
                "Done loading RDB, keys loaded: {keys}, keys expired: {expired}."
            )),
            "{file}: {}",
            server.log()
        );
        assert_same(&ours, &saved_by(&server, &dir.0), file);
    }
}
