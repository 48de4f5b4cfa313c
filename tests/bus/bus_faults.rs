//! Faults on the bus and what replication makes of them: silent and one-way partitions
//! that only `repl-timeout` can notice, severed links noticed late, crashes and restarts
//! with and without an RDB on disk, paused servers, slow links, and jitter that never
//! reorders a stream.
#![cfg(not(target_arch = "wasm32"))]

use replscope::bus::{Bus, Fault, LinkConfig, LogKind, ServerId, SEGMENT_BYTES};
use replscope::engine::keyspace::Value;
use replscope::engine::{Config, Event};

fn config(port: u16) -> Config {
    // A short repl-timeout keeps the runs short (Redis's default is 60 s); pings stay
    // well inside it, as they do with the defaults (10 s against 60 s).
    Config {
        port,
        repl_timeout: 5,
        repl_ping_replica_period: 1,
        ..Config::default()
    }
}

/// A master on 6380 and two replicas (6381, 6382), synced.
fn three_servers(seed: u64) -> (Bus, [ServerId; 3]) {
    let mut bus = Bus::new(seed);
    let m = bus.add_server("master", config(6380));
    let r1 = bus.add_server("replica-1", config(6381));
    let r2 = bus.add_server("replica-2", config(6382));
    bus.submit_command(r1, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.submit_command(r2, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(8_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert_eq!(info(&bus, r2, "master_link_status"), "up");
    (bus, [m, r1, r2])
}

fn info(bus: &Bus, id: ServerId, field: &str) -> String {
    let info = bus.server(id).node.info_replication();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .to_string()
}

/// Log lines of `server` from `from_index` on that contain `text`.
fn logged(bus: &Bus, server: ServerId, from_index: usize, text: &str) -> Vec<String> {
    bus.log()
        .range(from_index..)
        .iter()
        .filter(|e| e.server == Some(server))
        .map(|e| e.line())
        .filter(|l| l.contains(text))
        .collect()
}

/// Index of the first log entry of `server` from `from_index` on that contains `text`.
fn first_logged(bus: &Bus, server: ServerId, from_index: usize, text: &str) -> Option<usize> {
    bus.log()
        .range(from_index..)
        .iter()
        .position(|e| e.server == Some(server) && e.line().contains(text))
        .map(|i| i + from_index)
}

fn has_key(bus: &Bus, id: ServerId, key: &str) -> bool {
    bus.server(id)
        .node
        .keyspace()
        .get(0, key.as_bytes(), bus.now())
        .is_some()
}

fn string(bus: &Bus, id: ServerId, key: &str) -> Option<Vec<u8>> {
    match bus
        .server(id)
        .node
        .keyspace()
        .get(0, key.as_bytes(), bus.now())
        .map(|e| e.value.clone())
    {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn full_syncs(bus: &Bus, master: ServerId, from_index: usize) -> usize {
    bus.log()
        .range(from_index..)
        .iter()
        .filter(|e| {
            e.server == Some(master)
                && matches!(&e.kind, LogKind::Engine(Event::SyncDecision(d)) if !d.partial)
        })
        .count()
}

#[test]
fn a_silent_partition_is_noticed_only_by_repl_timeout_on_both_sides() {
    let (mut bus, [m, r1, _]) = three_servers(1);
    let mark = bus.log().len();
    bus.partition(m, r1).unwrap();
    bus.submit_command(m, "SET during partition").unwrap();
    // Nobody is told: the connection stays open, the replica still believes it is up.
    bus.advance(3_000);
    assert!(bus.connected(m, r1));
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(!has_key(&bus, r1, "during"), "held bytes must not arrive");
    assert!(logged(&bus, r1, mark, "closed").is_empty());
    // repl-timeout (5 s) passes without a byte from the master, and without an ACK from
    // the replica: each side gives up on its own.
    bus.advance(5_000);
    assert_eq!(
        logged(&bus, r1, mark, "MASTER timeout: no data nor PING received").len(),
        1
    );
    assert_eq!(
        logged(&bus, m, mark, "Disconnecting timedout replica").len(),
        1
    );
    assert_eq!(info(&bus, r1, "master_link_status"), "down");
    assert_eq!(info(&bus, m, "connected_slaves"), "1");
    // Healed: everything held is delivered to closed connections and dropped; the
    // replica reconnects and continues from its offset.
    bus.heal(m, r1);
    bus.advance(3_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(has_key(&bus, r1, "during"));
    assert_eq!(
        full_syncs(&bus, m, mark),
        0,
        "the backlog covers the partition: partial resync"
    );
    assert_eq!(string(&bus, r1, "during"), Some(b"partition".to_vec()));
}

#[test]
fn a_one_way_partition_master_to_replica() {
    let (mut bus, [m, r1, _]) = three_servers(2);
    let mark = bus.log().len();
    bus.partition_one_way(m, r1).unwrap();
    bus.submit_command(m, "SET lost way").unwrap();
    bus.advance(8_000);
    // The replica hears nothing and times out; its ACKs still reached the master, which
    // learns of the loss only from the replica closing the connection.
    assert_eq!(logged(&bus, r1, mark, "MASTER timeout").len(), 1);
    assert!(logged(&bus, m, mark, "Disconnecting timedout replica").is_empty());
    assert!(!logged(&bus, m, mark, "closed by peer").is_empty());
    // Reconnecting fails: the SYN gets through but the SYN/ACK is held.
    bus.advance(8_000);
    assert!(!logged(&bus, r1, mark, "Timeout connecting to the MASTER").is_empty());
    assert_eq!(info(&bus, r1, "master_link_status"), "down");
    assert!(!has_key(&bus, r1, "lost"));
    bus.release(m, r1).unwrap();
    bus.advance(8_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(has_key(&bus, r1, "lost"));
}

#[test]
fn a_one_way_partition_replica_to_master() {
    let (mut bus, [m, r1, _]) = three_servers(3);
    let mark = bus.log().len();
    bus.partition_one_way(r1, m).unwrap();
    bus.submit_command(m, "SET arrives anyway").unwrap();
    bus.advance(500);
    // The stream still flows to the replica; only its ACKs are lost.
    assert!(has_key(&bus, r1, "arrives"));
    bus.advance(7_000);
    assert_eq!(
        logged(&bus, m, mark, "Disconnecting timedout replica").len(),
        1
    );
    assert!(
        logged(&bus, r1, mark, "MASTER timeout").is_empty(),
        "the master's pings kept the replica content"
    );
    // The master's close does reach the replica, which then cannot reconnect.
    assert!(!logged(&bus, r1, mark, "closed by peer").is_empty());
    assert_eq!(info(&bus, m, "connected_slaves"), "1");
}

#[test]
fn a_severed_link_is_noticed_after_the_detection_delay() {
    let (mut bus, [m, r1, _]) = three_servers(4);
    let mark = bus.log().len();
    bus.sever(m, r1, 500).unwrap();
    bus.submit_command(m, "SET gone with-the-link").unwrap();
    bus.advance(400);
    assert!(!bus.connected(m, r1));
    assert_eq!(
        info(&bus, r1, "master_link_status"),
        "up",
        "not noticed yet"
    );
    assert!(logged(&bus, r1, mark, "closed").is_empty());
    bus.advance(200);
    assert_eq!(
        logged(&bus, r1, mark, "connection reset (link severed)").len(),
        1
    );
    assert_eq!(
        logged(&bus, m, mark, "connection reset (link severed)").len(),
        1
    );
    // A sever is not a cut: the replica reconnects at once and continues.
    bus.advance(3_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(has_key(&bus, r1, "gone"));
    assert_eq!(full_syncs(&bus, m, mark), 0);
}

#[test]
fn a_master_restarted_without_its_rdb_wipes_its_replicas() {
    let (mut bus, [m, r1, r2]) = three_servers(5);
    for i in 0..10 {
        bus.submit_command(m, &format!("SET key:{i} {i}")).unwrap();
    }
    bus.advance(500);
    assert!(has_key(&bus, r1, "key:9") && has_key(&bus, r2, "key:9"));
    let old_replid = info(&bus, m, "master_replid");
    let mark = bus.log().len();
    bus.crash(m).unwrap();
    assert!(!bus.is_up(m));
    bus.advance(10);
    assert!(!logged(&bus, r1, mark, "connection reset by peer (server crashed)").is_empty());
    bus.advance(2_000);
    assert!(
        !logged(&bus, r1, mark, "Connection refused").is_empty(),
        "nobody listens on a crashed server's port"
    );
    assert!(bus.submit_command(m, "PING").is_err());
    bus.restart(m, false).unwrap();
    bus.advance(10_000);
    assert_ne!(
        info(&bus, m, "master_replid"),
        old_replid,
        "a fresh process has a fresh replid"
    );
    assert_eq!(
        full_syncs(&bus, m, mark),
        2,
        "neither replica can continue: both full-sync"
    );
    for r in [r1, r2] {
        assert_eq!(info(&bus, r, "master_link_status"), "up");
        assert_eq!(
            bus.server(r).node.keyspace().len(),
            0,
            "the empty master's snapshot wiped replica s{r}"
        );
    }
}

#[test]
fn a_master_restarted_from_its_rdb_keeps_data_and_lets_replicas_continue() {
    let (mut bus, [m, r1, r2]) = three_servers(6);
    for i in 0..10 {
        bus.submit_command(m, &format!("SET key:{i} {i}")).unwrap();
    }
    bus.advance(500);
    let old_replid = info(&bus, m, "master_replid");
    let offset = info(&bus, m, "master_repl_offset");
    bus.save(m).unwrap();
    assert!(bus.disk_rdb(m).is_some_and(|rdb| rdb.starts_with(b"REDIS")));
    let mark = bus.log().len();
    bus.restart(m, true).unwrap();
    assert_eq!(bus.server(m).node.keyspace().len(), 10);
    // Redis 7.0's loadDataFromDisk: the RDB's history becomes replid2, the offset carries on.
    assert_eq!(info(&bus, m, "master_replid2"), old_replid);
    assert_eq!(info(&bus, m, "master_repl_offset"), offset);
    bus.advance(10_000);
    assert_eq!(
        full_syncs(&bus, m, mark),
        0,
        "both replicas continue partially"
    );
    for r in [r1, r2] {
        assert_eq!(info(&bus, r, "master_link_status"), "up");
        assert!(has_key(&bus, r, "key:9"));
    }
    // Writes after the save are lost with the crash: replicas ahead of the RDB cannot
    // continue from it and must full-sync, losing them too.
    bus.submit_command(m, "SET unsaved 1").unwrap();
    bus.advance(100);
    let mark = bus.log().len();
    bus.restart(m, true).unwrap();
    bus.advance(10_000);
    assert_eq!(full_syncs(&bus, m, mark), 2);
    assert!(!has_key(&bus, r1, "unsaved") && has_key(&bus, r1, "key:9"));
}

#[test]
fn a_replica_restarted_from_its_rdb_continues_partially() {
    let (mut bus, [m, r1, _]) = three_servers(7);
    bus.submit_command(m, "SET a 1").unwrap();
    bus.advance(200);
    bus.save(r1).unwrap();
    let mark = bus.log().len();
    bus.restart(r1, true).unwrap();
    assert!(has_key(&bus, r1, "a"));
    bus.advance(5_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert_eq!(full_syncs(&bus, m, mark), 0);
    // Without the RDB it starts empty and needs a full sync.
    let mark = bus.log().len();
    bus.restart(r1, false).unwrap();
    assert!(!has_key(&bus, r1, "a"));
    bus.advance(10_000);
    assert_eq!(full_syncs(&bus, m, mark), 1);
    assert!(has_key(&bus, r1, "a"));
}

#[test]
fn a_restart_from_disk_with_nothing_saved_starts_empty() {
    let (mut bus, [m, ..]) = three_servers(8);
    bus.restart(m, true).unwrap();
    assert!(bus.is_up(m));
    assert!(bus
        .log()
        .iter()
        .any(|e| e.line().contains("restarted empty")));
}

#[test]
fn a_paused_server_reads_nothing_until_resumed() {
    let (mut bus, [m, r1, _]) = three_servers(9);
    bus.pause(r1).unwrap();
    assert!(bus.is_paused(r1));
    bus.submit_command(m, "SET while paused").unwrap();
    bus.submit_command(r1, "GET while").unwrap();
    bus.advance(2_000);
    assert!(!has_key(&bus, r1, "while"));
    assert_eq!(
        bus.console(r1).entries().last().unwrap().reply,
        None,
        "the typed command waits in the socket"
    );
    let mark = bus.log().len();
    bus.resume(r1).unwrap();
    bus.advance(10);
    assert!(has_key(&bus, r1, "while"));
    assert!(bus.console(r1).entries().last().unwrap().reply.is_some());
    assert!(logged(&bus, r1, mark, "resumed").len() == 1);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    // Paused longer than repl-timeout: the master gives up on the silent replica.
    let mark = bus.log().len();
    bus.pause(r1).unwrap();
    bus.advance(8_000);
    assert_eq!(
        logged(&bus, m, mark, "Disconnecting timedout replica").len(),
        1
    );
    bus.resume(r1).unwrap();
    bus.advance(5_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
}

/// 200 keys of 1000 bytes (`big:0` ...) piped into `server`: a 200 KB snapshot.
fn pipe_big_keys(bus: &mut Bus, server: ServerId) {
    let value = "v".repeat(1000);
    let lines: Vec<String> = (0..200).map(|i| format!("SET big:{i} {value}")).collect();
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    bus.submit_pipe(server, &refs).unwrap();
}

#[test]
fn a_slow_link_takes_time_to_carry_a_snapshot_in_segments() {
    let mut bus = Bus::new(10);
    let m = bus.add_server("master", config(6380));
    let r = bus.add_server("replica", config(6381));
    pipe_big_keys(&mut bus, m);
    // Uncompressed, so the snapshot really is 200 kB (LZF would shrink these values to
    // a few bytes each).
    bus.submit_command(m, "CONFIG SET rdbcompression no")
        .unwrap();
    bus.set_link(
        m,
        r,
        LinkConfig {
            bandwidth: Some(1_000),
            ..LinkConfig::default()
        },
    )
    .unwrap();
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(10_000);
    assert_eq!(bus.console(m).piped(), (200, 0));
    assert_eq!(bus.server(r).node.keyspace().len(), 200);
    let time_of = |text: &str| {
        bus.log()
            .iter()
            .find(|e| e.line().contains(text))
            .map(|e| e.time)
            .unwrap()
    };
    let took = time_of("sync: Finished with success") - time_of("Starting BGSAVE for SYNC");
    assert!(
        took >= 200,
        "200 kB at 1000 B/ms takes at least 200 ms, took {took}"
    );
    let segments: Vec<usize> = bus
        .log()
        .iter()
        .filter_map(|e| match &e.kind {
            LogKind::Deliver {
                from: Some(f),
                data,
                ..
            } if e.server == Some(r) && *f == m => Some(data.len()),
            _ => None,
        })
        .collect();
    assert!(segments.iter().all(|&n| n <= SEGMENT_BYTES));
    // The child's pipe hands the payload over read by read, and each read's tail is a
    // shorter segment: most are full all the same.
    assert!(segments.iter().filter(|&&n| n == SEGMENT_BYTES).count() >= 11);
    assert!(segments.iter().sum::<usize>() > 200_000);
    assert!(
        bus.log()
            .iter()
            .any(|e| matches!(e.kind, LogKind::Drained { .. })),
        "the sender learns its bytes left"
    );
}

#[test]
fn scheduled_faults_fire_at_their_time() {
    let (mut bus, [m, r1, _]) = three_servers(11);
    let start = bus.now();
    bus.schedule_fault_in(1_000, Fault::Crash { server: r1 })
        .unwrap();
    bus.schedule_fault_in(
        3_000,
        Fault::Restart {
            server: r1,
            from_disk: false,
        },
    )
    .unwrap();
    bus.advance(999);
    assert!(bus.is_up(r1));
    bus.advance(1);
    assert!(!bus.is_up(r1));
    bus.advance(2_000);
    assert!(bus.is_up(r1));
    let crash = bus
        .log()
        .iter()
        .find(|e| e.line().contains("fault crash s1"))
        .unwrap();
    assert_eq!(crash.time, start + 1_000 - replscope::bus::EPOCH_MS);
    bus.advance(8_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(
        bus.schedule_fault(start, Fault::Pause { server: m })
            .is_err(),
        "the past is not schedulable"
    );
}

#[test]
fn bad_fault_targets_are_errors() {
    let (mut bus, _) = three_servers(12);
    assert!(bus.crash(7).is_err());
    assert!(bus.partition(0, 9).is_err());
    assert!(bus.submit_command(5, "PING").is_err());
    assert!(bus.jump_to(usize::MAX).is_err());
}

/// Delivery offsets: each chunk on a master link says how far it moved the replica.
#[test]
fn deliveries_to_a_replica_carry_its_offsets() {
    let (mut bus, [m, r1, _]) = three_servers(13);
    bus.submit_command(m, "SET k v").unwrap();
    bus.advance(100);
    let last = bus
        .log()
        .iter()
        .rev()
        .find(|e| e.server == Some(r1) && e.repl_offsets.is_some())
        .unwrap();
    let (before, after) = last.repl_offsets.unwrap();
    assert!(after > before);
    assert_eq!(after.to_string(), info(&bus, r1, "slave_repl_offset"));
    assert!(last
        .annotated_line()
        .ends_with(&format!("[offset {before}..{after}]")));
}

/// Jitter and extra delay never reorder a stream, whatever the seed: the replica ends up
/// with exactly the master's bytes, in the master's order.
#[test]
fn jitter_never_reorders_a_stream() {
    let mut timings = std::collections::BTreeSet::new();
    for seed in 0..24u64 {
        let (mut bus, [m, r1, r2]) = three_servers(seed);
        for (from, to) in [(m, r1), (r1, m), (m, r2)] {
            bus.set_link(
                from,
                to,
                LinkConfig {
                    jitter_ms: 40,
                    extra_delay_ms: (seed % 3) * 5,
                    ..LinkConfig::default()
                },
            )
            .unwrap();
        }
        for i in 0..60 {
            bus.submit_command(m, &format!("APPEND s {i},")).unwrap();
            bus.submit_command(m, "INCR n").unwrap();
            bus.advance(seed % 4);
            if i == 30 {
                bus.set_link(
                    m,
                    r1,
                    LinkConfig {
                        jitter_ms: 5,
                        ..LinkConfig::default()
                    },
                )
                .unwrap();
            }
        }
        bus.advance(2_000);
        let want = string(&bus, m, "s").unwrap();
        for r in [r1, r2] {
            assert_eq!(
                string(&bus, r, "s"),
                Some(want.clone()),
                "seed {seed}: s{r} saw the stream out of order"
            );
            assert_eq!(string(&bus, r, "n"), string(&bus, m, "n"), "seed {seed}");
        }
        let mut last = 0;
        for e in bus
            .log()
            .iter()
            .filter(|e| e.server == Some(r1) && matches!(e.kind, LogKind::Deliver { .. }))
        {
            assert!(e.time >= last);
            last = e.time;
        }
        timings.insert(bus.log_hash());
    }
    assert_eq!(timings.len(), 24, "the seed drives the jitter");
}

#[test]
fn the_same_seed_with_faults_and_jitter_gives_the_same_log() {
    let run = |seed| {
        let (mut bus, [m, r1, r2]) = three_servers(seed);
        bus.set_link(
            m,
            r2,
            LinkConfig {
                jitter_ms: 20,
                bandwidth: Some(500),
                ..LinkConfig::default()
            },
        )
        .unwrap();
        bus.submit_command(m, "SET a 1").unwrap();
        bus.partition(m, r1).unwrap();
        bus.schedule_fault_in(7_000, Fault::Heal { a: m, b: r1 })
            .unwrap();
        bus.schedule_fault_in(2_000, Fault::Crash { server: r2 })
            .unwrap();
        bus.schedule_fault_in(
            4_000,
            Fault::Restart {
                server: r2,
                from_disk: false,
            },
        )
        .unwrap();
        bus.advance(12_000);
        (bus.log_hash(), bus.state_digest())
    };
    assert_eq!(run(21), run(21));
    assert_ne!(run(21).0, run(22).0);
}

// ------------------------------------------------------------ output-buffer aborts

/// A master whose replicas may hold at most 64 KB of output (hard limit; the 16 KB
/// backlog does not raise it), streaming its snapshot at once and uncompressed, and an
/// empty replica.
fn master_with_a_tight_replica_limit(seed: u64) -> (Bus, ServerId, ServerId) {
    let mut bus = Bus::new(seed);
    let mut master = config(6380);
    master.client_output_buffer_limit[1] = (64 * 1024, 0, 0);
    master.repl_backlog_size = 16 * 1024;
    master.repl_diskless_sync_delay = 0;
    master.rdbcompression = false;
    let m = bus.add_server("master", master);
    let r = bus.add_server("replica", config(6381));
    (bus, m, r)
}

/// The master's log line that says why it closed a connection, and how many unsent
/// bytes it dropped doing so.
fn dropped_on_close(bus: &Bus, server: ServerId, from_index: usize) -> (usize, usize) {
    let (at, reason) = bus
        .log()
        .range(from_index..)
        .iter()
        .enumerate()
        .find_map(|(i, e)| match &e.kind {
            LogKind::Closed { reason, .. } if e.server == Some(server) => {
                Some((from_index + i, reason.clone()))
            }
            _ => None,
        })
        .expect("a close");
    let bytes = reason
        .strip_prefix("closed locally, ")
        .and_then(|r| r.strip_suffix(" unsent bytes dropped"))
        .unwrap_or_else(|| panic!("an abort drops what was not sent yet: {reason}"));
    (at, bytes.parse().unwrap())
}

fn sync_decisions(
    bus: &Bus,
    master: ServerId,
) -> Vec<replscope::engine::replication::SyncDecision> {
    bus.log()
        .iter()
        .filter_map(|e| match &e.kind {
            LogKind::Engine(Event::SyncDecision(d)) if e.server == Some(master) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

/// Redis frees a replica over its output-buffer limit without writing the rest of its
/// output: the snapshot stops part-way, the replica reads EOF in the middle of it, keeps
/// its old data and its cached master, and reconnects at once with the same PSYNC
/// (readSyncBulkPayload: "connection lost", cancelReplicationHandshake(1)).
#[test]
fn a_replica_dropped_for_its_output_buffer_never_gets_the_rest_of_its_snapshot() {
    let (mut bus, m, r) = master_with_a_tight_replica_limit(30);
    pipe_big_keys(&mut bus, m);
    bus.submit_command(r, "SET mine before-the-sync").unwrap();
    // 200 KB of snapshot at 50 B/ms: four seconds on the wire.
    bus.set_link(
        m,
        r,
        LinkConfig {
            bandwidth: Some(50),
            ..LinkConfig::default()
        },
    )
    .unwrap();
    bus.advance(100);
    let own_replid = info(&bus, r, "master_replid");
    let start = bus.log().len();
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    // 1 KB writes every 10 ms: the stream kept for the replica behind its snapshot passes
    // 64 KB within a second, long before the snapshot is through.
    let lost = |bus: &Bus| logged(bus, r, start, "I/O error trying to sync with MASTER").len();
    let value = "v".repeat(1000);
    let mut i = 0;
    while lost(&bus) == 0 && i < 300 {
        bus.submit_command(m, &format!("SET w:{i} {value}"))
            .unwrap();
        bus.advance(10);
        i += 1;
    }
    assert_eq!(
        lost(&bus),
        1,
        "the replica loses the connection mid-transfer"
    );
    let log = bus.log();
    let limit = first_logged(
        &bus,
        m,
        start,
        "scheduled to be closed ASAP for overcoming of output buffer limits",
    )
    .expect("the master drops the replica");
    let (closed, dropped) = dropped_on_close(&bus, m, limit);
    assert!(
        dropped > 100_000,
        "most of the snapshot had not left the master: {dropped} bytes dropped"
    );
    // The replica got the snapshot's beginning, then the FIN one latency after the close:
    // not the rest of the snapshot first.
    let eof = log
        .range(closed..)
        .iter()
        .find(|e| e.server == Some(r) && e.line().contains("closed by peer"))
        .expect("the replica sees the close");
    assert!(
        eof.time <= log[closed].time + 1,
        "the FIN follows what was on the wire, not the dropped bytes"
    );
    let received: usize = log
        .range(start..)
        .iter()
        .filter_map(|e| match &e.kind {
            LogKind::Deliver {
                from: Some(f),
                data,
                ..
            } if e.server == Some(r) && *f == m => Some(data.len()),
            _ => None,
        })
        .sum();
    assert!(
        received < 100_000,
        "only the start of the 200 KB snapshot arrives: {received} bytes"
    );
    for text in [
        "Done loading RDB",
        "MASTER <-> REPLICA sync: Flushing old data",
        "sync: Finished with success",
    ] {
        assert!(
            logged(&bus, r, start, text).is_empty(),
            "the aborted transfer must not load: {text}"
        );
    }
    // Receiving to a temporary file, Redis touches the dataset only once the whole
    // payload is here: the replica keeps its own data, and its cached master (the one
    // REPLICAOF made from its own history).
    assert!(has_key(&bus, r, "mine"));
    assert_eq!(bus.server(r).node.keyspace().len(), 1);
    let io_error = first_logged(&bus, r, start, "I/O error trying to sync").unwrap();
    let next: Vec<String> = log
        .range(io_error..)
        .iter()
        .filter(|e| e.server == Some(r))
        .take(4)
        .map(|e| e.line())
        .collect();
    assert!(
        next[0].ends_with("Log(\"I/O error trying to sync with MASTER: connection lost\")"),
        "{next:?}"
    );
    assert!(
        next.iter()
            .any(|l| l.contains("Reconnecting to MASTER 127.0.0.1:6380 after failure")),
        "at once, not at the next cron: {next:?}"
    );
    // The next snapshot's first segment, with the +FULLRESYNC before it, takes a third of
    // a second on this link.
    bus.advance(1_000);
    let decisions = sync_decisions(&bus, m);
    assert_eq!(decisions.len(), 2, "{decisions:?}");
    for d in &decisions {
        // Both times: PSYNC with the replica's own id and offset + 1, as a real 7.0
        // replica does after a failed transfer; the master cannot continue that.
        assert_eq!(
            (d.requested_replid.as_str(), d.requested_offset),
            (own_replid.as_str(), 1),
            "{d:?}"
        );
        assert!(!d.partial, "{d:?}");
    }
    assert_eq!(
        logged(&bus, r, io_error, "Full resync from master").len(),
        1,
        "the next attempt is a full sync again"
    );
}

/// Held bytes never left the master: when it drops the replica they go with its output
/// buffer, and the replica, told of the close once the link lets it through, continues
/// from where it really was.
#[test]
fn a_held_stream_is_dropped_with_the_replica_it_was_for() {
    let (mut bus, m, r) = master_with_a_tight_replica_limit(31);
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(3_000);
    assert_eq!(info(&bus, r, "master_link_status"), "up");
    let start = bus.log().len();
    bus.partition_one_way(m, r).unwrap();
    // A ping already on the wire still arrives; after that the replica's offset stays.
    bus.advance(10);
    let offset: i64 = info(&bus, r, "slave_repl_offset").parse().unwrap();
    let value = "v".repeat(1000);
    for i in 0..100 {
        bus.submit_command(m, &format!("SET w:{i} {value}"))
            .unwrap();
        bus.advance(10);
    }
    let limit = first_logged(&bus, m, start, "for overcoming of output buffer limits")
        .expect("the master drops the replica");
    let (_, dropped) = dropped_on_close(&bus, m, limit);
    // The 64 KB limit counts whole buffer blocks with their overhead; the bytes are fewer.
    assert!(
        dropped > 50_000,
        "the held stream goes with the output buffer: {dropped} bytes"
    );
    let released = bus.log().len();
    bus.release(m, r).unwrap();
    bus.advance(2_000);
    // What the link lets through for the old connection is its FIN alone.
    let eof =
        first_logged(&bus, r, released, "closed by peer").expect("the replica learns of the close");
    let delivered = bus
        .log()
        .range(released..eof)
        .iter()
        .filter(|e| e.server == Some(r) && matches!(e.kind, LogKind::Deliver { .. }))
        .count();
    assert_eq!(
        delivered, 0,
        "nothing held reaches the replica before the FIN"
    );
    let decisions = sync_decisions(&bus, m);
    let after = decisions.last().unwrap();
    assert_eq!(
        after.requested_offset,
        offset + 1,
        "nothing held reached the replica: {after:?}"
    );
    assert!(
        !after.partial,
        "the 16 KB backlog no longer reaches back there: {after:?}"
    );
    assert_eq!(info(&bus, r, "master_link_status"), "up");
}

/// SHUTDOWN stops the process for good: time runs on without it (a stopped node has no
/// timer; before, its due cron was scheduled again and again at the same instant and the
/// run never advanced), its port refuses its replicas' reconnects, as a port nobody
/// listens on does, and a restart brings it back.
/// The same with a console that typed SYNC, a replica from the master's point of view.
#[test]
fn shutdown_stops_the_server_and_time_runs_on() {
    for sync_first in [false, true] {
        let (mut bus, [m, r1, _]) = three_servers(3);
        if sync_first {
            bus.submit_command(m, "SYNC").unwrap();
            bus.advance(1_000);
        }
        let from = bus.log().len();
        bus.submit_command(m, "SHUTDOWN NOSAVE").unwrap();
        let before = bus.now();
        bus.advance(10_000);
        assert_eq!(bus.now(), before + 10_000, "sync_first={sync_first}");
        assert!(bus.server(m).node.is_shut_down());
        let stopped_at = from
            + bus
                .log()
                .range(from..)
                .iter()
                .position(|e| matches!(&e.kind, LogKind::Engine(Event::Shutdown)))
                .expect("the server logs its shutdown");
        assert_eq!(info(&bus, r1, "master_link_status"), "down");
        assert!(
            !logged(&bus, r1, from, "Connection refused").is_empty(),
            "sync_first={sync_first}"
        );
        // Nothing of the stopped server runs after it stopped.
        assert!(bus
            .log()
            .range(stopped_at + 1..)
            .iter()
            .all(|e| e.server != Some(m) || matches!(e.kind, LogKind::Closed { .. })));
        bus.restart(m, false).unwrap();
        bus.advance(8_000);
        assert!(!bus.server(m).node.is_shut_down());
        assert_eq!(
            info(&bus, r1, "master_link_status"),
            "up",
            "sync_first={sync_first}"
        );
    }
}
