//! Replication through the in-page bus, natively: full sync, the stream, offsets, a cut
//! link healed by a partial resync, and determinism of the event log.

use replscope::bus::{Bus, LogKind, ServerId, EPOCH_MS};
use replscope::engine::{Config, Event};

fn config(port: u16) -> Config {
    Config {
        port,
        ..Config::default()
    }
}

/// A master on 6380 and two replicas (6381, 6382), attached with REPLICAOF and synced.
fn three_servers(seed: u64) -> (Bus, [ServerId; 3]) {
    let mut bus = Bus::new(seed);
    let m = bus.add_server("master", config(6380));
    let r1 = bus.add_server("replica-1", config(6381));
    let r2 = bus.add_server("replica-2", config(6382));
    bus.submit_command(r1, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.submit_command(r2, "REPLICAOF 127.0.0.1 6380").unwrap();
    // repl-diskless-sync-delay is 5 s by default: the snapshot starts within ~6 s.
    bus.advance(8_000);
    (bus, [m, r1, r2])
}

fn info_field(bus: &Bus, id: ServerId, field: &str) -> String {
    let info = bus.server(id).node.info_replication();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .to_string()
}

#[test]
fn replicas_full_sync_then_follow_the_stream_with_exact_offsets() {
    let (mut bus, [m, r1, r2]) = three_servers(1);
    for r in [r1, r2] {
        assert_eq!(info_field(&bus, r, "master_link_status"), "up");
        assert_eq!(
            info_field(&bus, r, "master_replid"),
            info_field(&bus, m, "master_replid")
        );
    }
    assert_eq!(info_field(&bus, m, "connected_slaves"), "2");
    let base: u64 = info_field(&bus, m, "master_repl_offset").parse().unwrap();

    bus.submit_command(m, "SET k v").unwrap();
    bus.advance(100);
    // SELECT 0 (23 bytes) + SET k v (27 bytes), as real Redis counts them.
    let after: u64 = info_field(&bus, m, "master_repl_offset").parse().unwrap();
    assert_eq!(after - base, 50);
    for r in [r1, r2] {
        let entry = bus
            .server(r)
            .node
            .keyspace()
            .get(0, b"k", bus.now())
            .expect("replicated key");
        assert_eq!(
            entry.value,
            replscope::engine::keyspace::Value::String(b"v".to_vec())
        );
        assert_eq!(info_field(&bus, r, "slave_repl_offset"), after.to_string());
    }
    // Replicas refuse writes from their own clients.
    bus.submit_command(r1, "SET x y").unwrap();
    let last = bus
        .console(r1)
        .entries()
        .last()
        .unwrap()
        .reply
        .clone()
        .unwrap();
    assert_eq!(
        last,
        replscope::engine::resp::Reply::Error(
            "READONLY You can't write against a read only replica.".into()
        )
    );
}

#[test]
fn a_cut_link_heals_with_a_partial_resync() {
    let (mut bus, [m, r1, _]) = three_servers(2);
    bus.cut(m, r1);
    bus.submit_command(m, "SET during cut").unwrap();
    bus.advance(3_000);
    assert_eq!(info_field(&bus, r1, "master_link_status"), "down");
    assert!(bus
        .server(r1)
        .node
        .keyspace()
        .get(0, b"during", bus.now())
        .is_none());
    bus.heal(m, r1);
    bus.advance(3_000);
    assert_eq!(info_field(&bus, r1, "master_link_status"), "up");
    assert!(bus
        .server(r1)
        .node
        .keyspace()
        .get(0, b"during", bus.now())
        .is_some());
    let partial = bus.log().iter().any(|e| {
        e.server == Some(m)
            && matches!(&e.kind, LogKind::Engine(Event::SyncDecision(d)) if d.partial)
    });
    assert!(partial, "expected +CONTINUE after the heal");
    assert_eq!(bus.server(m).node.stats().sync_partial_ok, 1);
    assert_eq!(
        info_field(&bus, r1, "slave_repl_offset"),
        info_field(&bus, m, "master_repl_offset")
    );
}

#[test]
fn same_seed_same_log() {
    let run = |seed| {
        let (mut bus, [m, r1, _]) = three_servers(seed);
        bus.submit_command(m, "SET a 1").unwrap();
        bus.cut(m, r1);
        bus.submit_command(m, "SET b 2 EX 100").unwrap();
        bus.advance(2_000);
        bus.heal(m, r1);
        bus.advance(5_000);
        (bus.log_hash(), bus.log().len())
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9).0, run(10).0, "the seed must matter (replids differ)");
}

#[test]
fn virtual_time_starts_at_the_fixed_epoch() {
    let bus = Bus::new(0);
    assert_eq!(bus.now(), EPOCH_MS);
}

#[test]
#[ignore = "prints a run's log for reading: cargo test --test bus bus_replication:: -- --ignored --nocapture"]
fn print_log() {
    let (mut bus, [m, _, _]) = three_servers(1);
    bus.submit_command(m, "SET k v").unwrap();
    bus.advance(11_000);
    for e in bus.log() {
        println!("{}", e.line());
    }
}

/// The console's output for its entry `i`.
fn console_output(bus: &Bus, server: ServerId, i: usize) -> String {
    match &bus.console(server).entries()[i].reply {
        Some(replscope::engine::resp::Reply::Simple(s)) => s.clone(),
        other => panic!("entry {i}: {other:?}"),
    }
}

/// SYNC typed in a console puts it in redis-cli's replica output mode (redis-cli.c
/// `slaveMode`): the snapshot is skipped with the same two lines redis-cli prints, then the
/// replication stream is printed as CSV, one command a line. Before, the console read the
/// snapshot and the stream as replies (and a chunk starting with CRLF panicked the page).
#[test]
fn sync_in_a_console_prints_the_replication_stream_as_redis_cli_does() {
    let (mut bus, [m, _, _]) = three_servers(7);
    bus.submit_command(m, "SET temp 1 PX 3000").unwrap();
    bus.submit_command(m, "SYNC").unwrap();
    let sync_entry = bus.console(m).entries().len() - 1;
    bus.advance(12_000);
    assert!(bus.console(m).in_replica_output());
    assert_eq!(info_field(&bus, m, "connected_slaves"), "3");
    let out = console_output(&bus, m, sync_entry);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "Entering replica output mode...  (press Ctrl-C to quit)"
    );
    let size: u64 = lines[1]
        .strip_prefix("SYNC with master, discarding ")
        .and_then(|r| r.strip_suffix(" bytes of bulk transfer..."))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(size > 9, "{out}");
    assert_eq!(lines[2], "SYNC done. Logging commands from master.");
    // The master pings its replicas every 10 s (lower case, as Redis's shared "ping"), and
    // the key's expiry reaches them as a DEL.
    assert_eq!(
        &lines[3..],
        [
            "\"ping\"",
            "\"SELECT\",\"0\"",
            "\"DEL\",\"temp\"",
            "\"ping\""
        ],
        "{out}"
    );

    // The next command leaves the mode: a new connection, and the master has one replica
    // fewer.
    bus.submit_command(m, "GET temp").unwrap();
    bus.advance(100);
    assert!(!bus.console(m).in_replica_output());
    assert_eq!(
        bus.console(m).entries().last().unwrap().reply,
        Some(replscope::engine::resp::Reply::Bulk(None))
    );
    assert_eq!(info_field(&bus, m, "connected_slaves"), "2");
    assert_eq!(
        console_output(&bus, m, sync_entry),
        out,
        "what was printed stays"
    );

    // PSYNC: redis-cli reads +FULLRESYNC as a snapshot of size 0, so waits for an EOF
    // mark it never learnt, printing nothing more (real redis-cli 7.0 does the same).
    bus.submit_command(m, "PSYNC ? -1").unwrap();
    let psync_entry = bus.console(m).entries().len() - 1;
    bus.advance(12_000);
    assert_eq!(
        console_output(&bus, m, psync_entry),
        "Entering replica output mode...  (press Ctrl-C to quit)\nSYNC with master, discarding bytes of bulk transfer until EOF marker..."
    );
}

/// A SYNC the server refuses ends the mode with redis-cli's line, and the console reads
/// replies again.
#[test]
fn a_refused_sync_prints_redis_cli_s_failure_line() {
    let (mut bus, [m, r1, _]) = three_servers(7);
    bus.cut(m, r1);
    bus.advance(70_000);
    assert_eq!(info_field(&bus, r1, "master_link_status"), "down");
    bus.submit_command(r1, "SYNC").unwrap();
    let entry = bus.console(r1).entries().len() - 1;
    bus.submit_command(r1, "PING").unwrap();
    bus.advance(100);
    assert_eq!(
        console_output(&bus, r1, entry),
        "Entering replica output mode...  (press Ctrl-C to quit)\nSYNC with master failed: -NOMASTERLINK Can't SYNC while not connected with my master"
    );
    assert_eq!(console_output(&bus, r1, entry + 1), "PONG");
}
