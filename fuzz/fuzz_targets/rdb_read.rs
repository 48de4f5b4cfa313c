//! engine::rdb::read on arbitrary bytes (seed the corpus with real snapshots: see
//! fuzz/README.md): never panics; whatever it accepts is a valid keyspace (no empty
//! collection, no NaN score) that writes and reads back the same. Each input is read as
//! is and once more with its trailing CRC-64 recomputed, so mutations are judged by the
//! parser, not only by the checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replscope::engine::keyspace::Value;
use replscope::engine::rdb::{self, SnapshotMeta};

const CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

fn check(data: &[u8]) {
    let Ok(loaded) = rdb::read(data) else { return };
    for db in &loaded.keyspace.dbs {
        for (key, entry) in &db.entries {
            assert!(!entry.value.is_empty_collection(), "empty collection at {key:?}");
            if let Value::ZSet(z) = &entry.value {
                assert!(z.iter().all(|(_, s)| !s.is_nan()), "NaN score at {key:?}");
            }
        }
    }
    let meta = SnapshotMeta { redis_ver: "7.0.15", ctime_secs: 0, used_mem: 0, repl: None };
    let again = rdb::read(&rdb::write(&loaded.keyspace, &meta, 0)).expect("our own snapshot reads back");
    assert!(again.keyspace == loaded.keyspace, "accepted keyspace does not round-trip");
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() >= 8 {
        let mut fixed = data.to_vec();
        let n = fixed.len();
        let crc = CRC64.checksum(&fixed[..n - 8]);
        fixed[n - 8..].copy_from_slice(&crc.to_le_bytes());
        check(&fixed);
    }
});
