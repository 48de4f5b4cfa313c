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
    Config { port, repl_timeout: 5, repl_ping_replica_period: 1, ..Config::default() }
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
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or_else(|| panic!("no {field} in {info}")).to_string()
}

/// Log lines of `server` from `from_index` on that contain `text`.
fn logged(bus: &Bus, server: ServerId, from_index: usize, text: &str) -> Vec<String> {
    bus.log()[from_index..].iter().filter(|e| e.server == Some(server)).map(|e| e.line()).filter(|l| l.contains(text)).collect()
}

fn has_key(bus: &Bus, id: ServerId, key: &str) -> bool {
    bus.server(id).node.keyspace().get(0, key.as_bytes(), bus.now()).is_some()
}

fn string(bus: &Bus, id: ServerId, key: &str) -> Option<Vec<u8>> {
    match bus.server(id).node.keyspace().get(0, key.as_bytes(), bus.now()).map(|e| e.value.clone()) {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn full_syncs(bus: &Bus, master: ServerId, from_index: usize) -> usize {
    bus.log()[from_index..]
        .iter()
        .filter(|e| e.server == Some(master) && matches!(&e.kind, LogKind::Engine(Event::SyncDecision(d)) if !d.partial))
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
    assert_eq!(logged(&bus, r1, mark, "MASTER timeout: no data nor PING received").len(), 1);
    assert_eq!(logged(&bus, m, mark, "Disconnecting timedout replica").len(), 1);
    assert_eq!(info(&bus, r1, "master_link_status"), "down");
    assert_eq!(info(&bus, m, "connected_slaves"), "1");
    // Healed: everything held is delivered to closed connections and dropped; the
    // replica reconnects and continues from its offset.
    bus.heal(m, r1);
    bus.advance(3_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(has_key(&bus, r1, "during"));
    assert_eq!(full_syncs(&bus, m, mark), 0, "the backlog covers the partition: partial resync");
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
    assert_eq!(logged(&bus, m, mark, "Disconnecting timedout replica").len(), 1);
    assert!(logged(&bus, r1, mark, "MASTER timeout").is_empty(), "the master's pings kept the replica content");
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
    assert_eq!(info(&bus, r1, "master_link_status"), "up", "not noticed yet");
    assert!(logged(&bus, r1, mark, "closed").is_empty());
    bus.advance(200);
    assert_eq!(logged(&bus, r1, mark, "connection reset (link severed)").len(), 1);
    assert_eq!(logged(&bus, m, mark, "connection reset (link severed)").len(), 1);
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
    assert!(!logged(&bus, r1, mark, "Connection refused").is_empty(), "nobody listens on a crashed server's port");
    assert!(bus.submit_command(m, "PING").is_err());
    bus.restart(m, false).unwrap();
    bus.advance(10_000);
    assert_ne!(info(&bus, m, "master_replid"), old_replid, "a fresh process has a fresh replid");
    assert_eq!(full_syncs(&bus, m, mark), 2, "neither replica can continue: both full-sync");
    for r in [r1, r2] {
        assert_eq!(info(&bus, r, "master_link_status"), "up");
        assert_eq!(bus.server(r).node.keyspace().len(), 0, "the empty master's snapshot wiped replica s{r}");
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
    assert_eq!(full_syncs(&bus, m, mark), 0, "both replicas continue partially");
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
    assert!(bus.log().iter().any(|e| e.line().contains("restarted empty")));
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
    assert_eq!(bus.console(r1).entries().last().unwrap().reply, None, "the typed command waits in the socket");
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
    assert_eq!(logged(&bus, m, mark, "Disconnecting timedout replica").len(), 1);
    bus.resume(r1).unwrap();
    bus.advance(5_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
}

#[test]
fn a_slow_link_takes_time_to_carry_a_snapshot_in_segments() {
    let mut bus = Bus::new(10);
    let m = bus.add_server("master", config(6380));
    let r = bus.add_server("replica", config(6381));
    let big = "v".repeat(1000);
    let lines: Vec<String> = (0..200).map(|i| format!("SET big:{i} {big}")).collect();
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    bus.submit_pipe(m, &refs).unwrap();
    // Uncompressed, so the snapshot really is 200 kB (LZF would shrink these values to
    // a few bytes each).
    bus.submit_command(m, "CONFIG SET rdbcompression no").unwrap();
    bus.set_link(m, r, LinkConfig { bandwidth: Some(1_000), ..LinkConfig::default() }).unwrap();
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(10_000);
    assert_eq!(bus.console(m).piped(), (200, 0));
    assert_eq!(bus.server(r).node.keyspace().len(), 200);
    let time_of = |text: &str| bus.log().iter().find(|e| e.line().contains(text)).map(|e| e.time).unwrap();
    let took = time_of("sync: Finished with success") - time_of("Starting BGSAVE for SYNC");
    assert!(took >= 200, "200 kB at 1000 B/ms takes at least 200 ms, took {took}");
    let segments: Vec<usize> = bus
        .log()
        .iter()
        .filter_map(|e| match &e.kind {
            LogKind::Deliver { from: Some(f), data, .. } if e.server == Some(r) && *f == m => Some(data.len()),
            _ => None,
        })
        .collect();
    assert!(segments.iter().all(|&n| n <= SEGMENT_BYTES));
    assert!(segments.iter().filter(|&&n| n == SEGMENT_BYTES).count() >= 12);
    assert!(bus.log().iter().any(|e| matches!(e.kind, LogKind::Drained { .. })), "the sender learns its bytes left");
}

#[test]
fn scheduled_faults_fire_at_their_time() {
    let (mut bus, [m, r1, _]) = three_servers(11);
    let start = bus.now();
    bus.schedule_fault_in(1_000, Fault::Crash { server: r1 }).unwrap();
    bus.schedule_fault_in(3_000, Fault::Restart { server: r1, from_disk: false }).unwrap();
    bus.advance(999);
    assert!(bus.is_up(r1));
    bus.advance(1);
    assert!(!bus.is_up(r1));
    bus.advance(2_000);
    assert!(bus.is_up(r1));
    let crash = bus.log().iter().find(|e| e.line().contains("fault crash s1")).unwrap();
    assert_eq!(crash.time, start + 1_000 - replscope::bus::EPOCH_MS);
    bus.advance(8_000);
    assert_eq!(info(&bus, r1, "master_link_status"), "up");
    assert!(bus.schedule_fault(start, Fault::Pause { server: m }).is_err(), "the past is not schedulable");
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
    let last = bus.log().iter().rev().find(|e| e.server == Some(r1) && e.repl_offsets.is_some()).unwrap();
    let (before, after) = last.repl_offsets.unwrap();
    assert!(after > before);
    assert_eq!(after.to_string(), info(&bus, r1, "slave_repl_offset"));
    assert!(last.annotated_line().ends_with(&format!("[offset {before}..{after}]")));
}

/// Jitter and extra delay never reorder a stream, whatever the seed: the replica ends up
/// with exactly the master's bytes, in the master's order.
#[test]
fn jitter_never_reorders_a_stream() {
    let mut timings = std::collections::BTreeSet::new();
    for seed in 0..24u64 {
        let (mut bus, [m, r1, r2]) = three_servers(seed);
        for (from, to) in [(m, r1), (r1, m), (m, r2)] {
            bus.set_link(from, to, LinkConfig { jitter_ms: 40, extra_delay_ms: (seed % 3) * 5, ..LinkConfig::default() }).unwrap();
        }
        for i in 0..60 {
            bus.submit_command(m, &format!("APPEND s {i},")).unwrap();
            bus.submit_command(m, "INCR n").unwrap();
            bus.advance(seed % 4);
            if i == 30 {
                bus.set_link(m, r1, LinkConfig { jitter_ms: 5, ..LinkConfig::default() }).unwrap();
            }
        }
        bus.advance(2_000);
        let want = string(&bus, m, "s").unwrap();
        for r in [r1, r2] {
            assert_eq!(string(&bus, r, "s"), Some(want.clone()), "seed {seed}: s{r} saw the stream out of order");
            assert_eq!(string(&bus, r, "n"), string(&bus, m, "n"), "seed {seed}");
        }
        let mut last = 0;
        for e in bus.log().iter().filter(|e| e.server == Some(r1) && matches!(e.kind, LogKind::Deliver { .. })) {
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
        bus.set_link(m, r2, LinkConfig { jitter_ms: 20, bandwidth: Some(500), ..LinkConfig::default() }).unwrap();
        bus.submit_command(m, "SET a 1").unwrap();
        bus.partition(m, r1).unwrap();
        bus.schedule_fault_in(7_000, Fault::Heal { a: m, b: r1 }).unwrap();
        bus.schedule_fault_in(2_000, Fault::Crash { server: r2 }).unwrap();
        bus.schedule_fault_in(4_000, Fault::Restart { server: r2, from_disk: false }).unwrap();
        bus.advance(12_000);
        (bus.log_hash(), bus.state_digest())
    };
    assert_eq!(run(21), run(21));
    assert_ne!(run(21).0, run(22).0);
}
