//! Our RDB writer's output must be accepted by Redis's own `redis-check-rdb`.
#![cfg(not(target_arch = "wasm32"))]

use replscope::engine::keyspace::{Keyspace, OrderedMap, Value, ZSet};
use replscope::engine::rdb::{self, set_from_members, ReplInfo, SnapshotMeta};
use std::process::Command;

fn dataset() -> Keyspace {
    let mut ks = Keyspace::default();
    for i in 0..2_000u32 {
        ks.set(0, format!("key:{i}").into_bytes(), Value::String(format!("value-{i}").repeat((i % 7) as usize + 1).into_bytes()), None);
    }
    ks.set(0, b"int".to_vec(), Value::String(b"-123456".to_vec()), Some(4_102_444_800_000));
    ks.set(0, b"big".to_vec(), Value::String(vec![b'z'; 300_000]), None);
    ks.set(2, b"list".to_vec(), Value::List((0..500).map(|i| format!("item{i}").into_bytes()).collect()), None);
    ks.set(2, b"ints".to_vec(), Value::Set(set_from_members((0..100).map(|i| i.to_string().into_bytes()).collect())), None);
    ks.set(2, b"set".to_vec(), Value::Set(set_from_members(vec![b"a".to_vec(), b"b".to_vec()])), None);
    let mut h = OrderedMap::default();
    for i in 0..300 {
        h.insert(format!("f{i}").into_bytes(), format!("{i}").into_bytes());
    }
    ks.set(15, b"hash".to_vec(), Value::Hash(h), None);
    let mut z = ZSet::default();
    for i in 0..200 {
        z.insert(format!("m{i}").into_bytes(), i as f64 / 3.0);
    }
    ks.set(15, b"zset".to_vec(), Value::ZSet(z), None);
    ks
}

#[test]
fn redis_check_rdb_accepts_our_snapshot() {
    if Command::new("redis-check-rdb").arg("--help").output().is_err() {
        assert!(std::env::var_os("REPLSCOPE_REQUIRE_REDIS").is_none(), "redis-check-rdb is required but missing");
        eprintln!("SKIPPED: redis-check-rdb is not installed");
        return;
    }
    let ks = dataset();
    let meta = SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 1_767_225_600,
        used_mem: 1_000_000,
        repl: Some(ReplInfo { stream_db: 0, replid: "f".repeat(40), offset: 1234 }),
    };
    let bytes = rdb::write(&ks, &meta, 0);
    assert_eq!(rdb::read(&bytes).unwrap().keyspace, ks);
    let dir = std::env::temp_dir().join(format!("replscope-rdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dump.rdb");
    std::fs::write(&path, &bytes).unwrap();
    let out = Command::new("redis-check-rdb").arg(&path).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.status.success() && text.contains("RDB looks OK"), "redis-check-rdb refused our RDB:\n{text}");
    assert!(text.contains("2007 keys read"), "redis-check-rdb counted another number of keys:\n{text}");
}
