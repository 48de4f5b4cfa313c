//! Full resynchronization in process: a master holding N small keys (`SET key:i value:i`)
//! and an empty replica, two engine [`Node`]s wired back to back by a minimal host that
//! carries bytes in 16 KiB chunks (the read size of replscope-server). One iteration is
//! the whole sync: handshake, `+FULLRESYNC`, the master encoding its RDB, the transfer,
//! the replica decoding and loading it, and the first ACK that opens the stream.
//!
//! Also `rdb/write_…` and `rdb/read_…`: the snapshot encoding and decoding alone.
//!
//! `cargo bench --no-default-features --bench replication`
//!
//! The same sync between two replscope-server processes over loopback TCP, next to real
//! redis-server 7.0, is `scripts/bench-replication.py fullsync`.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::BTreeMap;
    use std::hint::black_box;
    use std::time::Duration;

    use criterion::{criterion_group, BatchSize, Criterion};
    use replscope::engine::resp::encode_command;
    use replscope::engine::{Config, ConnId, Input, Node, Output, PeerAddr};

    const NOW: u64 = 1_700_000_000_000;
    const CHUNK: usize = 16 * 1024;

    fn peer(port: u16) -> PeerAddr {
        PeerAddr {
            ip: "127.0.0.1".into(),
            port,
        }
    }

    fn drain(node: &mut Node) -> Vec<Output> {
        std::iter::from_fn(|| node.poll_output()).collect()
    }

    pub fn loaded_master(keys: usize) -> Node {
        let config = Config {
            port: 6380,
            repl_diskless_sync_delay: 0,
            ..Config::default()
        };
        let mut master = Node::new(config, NOW, 1);
        let client = master.accept(NOW, peer(40000));
        for start in (0..keys).step_by(10_000) {
            let mut batch = Vec::new();
            for i in start..(start + 10_000).min(keys) {
                let (k, v) = (format!("key:{i}"), format!("value:{i}"));
                batch.extend(encode_command(&[b"SET", k.as_bytes(), v.as_bytes()]));
            }
            master.handle(
                NOW,
                Input::Bytes {
                    conn: client,
                    data: batch,
                },
            );
            drain(&mut master);
        }
        master
    }

    /// Runs the sync to completion and returns the number of keys the replica loaded.
    pub fn full_resync(mut master: Node) -> usize {
        let mut replica = Node::new(
            Config {
                port: 6381,
                ..Config::default()
            },
            NOW,
            2,
        );
        let console = replica.accept(NOW, peer(40001));
        replica.handle(
            NOW,
            Input::Bytes {
                conn: console,
                data: encode_command(&[b"REPLICAOF", b"127.0.0.1", b"6380"]),
            },
        );
        // replica conn -> master conn, and back.
        let mut to_master: BTreeMap<ConnId, ConnId> = BTreeMap::new();
        let mut to_replica: BTreeMap<ConnId, ConnId> = BTreeMap::new();
        loop {
            let mut moved = false;
            for out in drain(&mut replica) {
                match out {
                    Output::Connect { conn, .. } => {
                        let m = master.accept(NOW, peer(6381));
                        to_master.insert(conn, m);
                        to_replica.insert(m, conn);
                        replica.handle(NOW, Input::Connected { conn });
                        moved = true;
                    }
                    Output::Send { conn, data } => {
                        if let Some(&m) = to_master.get(&conn) {
                            for chunk in data.chunks(CHUNK) {
                                master.handle(
                                    NOW,
                                    Input::Bytes {
                                        conn: m,
                                        data: chunk.to_vec(),
                                    },
                                );
                            }
                            moved = true;
                        }
                    }
                    _ => {}
                }
            }
            for out in drain(&mut master) {
                if let Output::Send { conn, data } = out {
                    if let Some(&r) = to_replica.get(&conn) {
                        for chunk in data.chunks(CHUNK) {
                            replica.handle(
                                NOW,
                                Input::Bytes {
                                    conn: r,
                                    data: chunk.to_vec(),
                                },
                            );
                        }
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
        let info = replica.info_replication();
        assert!(
            info.contains("master_link_status:up"),
            "the sync did not finish:\n{info}"
        );
        replica.keyspace().len()
    }

    fn snapshot(c: &mut Criterion) {
        use replscope::engine::keyspace::{Keyspace, Value};
        use replscope::engine::rdb;
        let mut ks = Keyspace::default();
        for i in 0..1_000_000 {
            ks.set(
                0,
                format!("key:{i}").into_bytes(),
                Value::String(format!("value:{i}").into_bytes()),
                None,
            );
        }
        let meta = rdb::SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: 0,
            used_mem: 0,
            repl: None,
        };
        let bytes = rdb::write(&ks, &meta, 0);
        let mut g = c.benchmark_group("rdb");
        g.sample_size(10).measurement_time(Duration::from_secs(10));
        g.bench_function("write_1000000_small_keys", |b| {
            b.iter(|| black_box(rdb::write(&ks, &meta, 0).len()))
        });
        g.bench_function("read_1000000_small_keys", |b| {
            b.iter(|| black_box(rdb::read(&bytes).unwrap().keyspace.len()))
        });
        g.finish();
    }

    fn replication(c: &mut Criterion) {
        let mut g = c.benchmark_group("full_resync");
        g.sample_size(10).measurement_time(Duration::from_secs(20));
        for keys in [100_000, 1_000_000] {
            let master = loaded_master(keys);
            assert_eq!(full_resync(master.clone()), keys);
            g.bench_function(format!("{keys}_small_keys"), |b| {
                b.iter_batched(
                    || master.clone(),
                    |m| black_box(full_resync(m)),
                    BatchSize::PerIteration,
                )
            });
        }
        g.finish();
    }

    criterion_group!(benches, snapshot, replication);
}
