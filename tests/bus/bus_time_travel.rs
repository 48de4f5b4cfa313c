//! Time travel: jumping to any event of a run, backwards or forwards, gives exactly the
//! state and log a straight run had at that point.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeMap;

use crate::test_bed::TestBed;
use replscope::bus::{hash_entries, Bus, Fault, LinkConfig, ServerId};
use replscope::engine::Config;

fn config(port: u16) -> Config {
    // A small backlog keeps the state digests cheap to compute.
    Config {
        port,
        repl_backlog_size: 16 * 1024,
        repl_timeout: 5,
        repl_ping_replica_period: 1,
        ..Config::default()
    }
}

/// A run with replication, faults, jitter and a slow link. `after_move` is called after
/// every public call that may change the world, and after every single event.
fn script(bus: &mut Bus, after_move: &mut dyn FnMut(&Bus)) {
    let m = bus.add_server("master", config(6380));
    after_move(bus);
    let r1 = bus.add_server("replica-1", config(6381));
    after_move(bus);
    let r2 = bus.add_server("replica-2", config(6382));
    after_move(bus);
    let run = |bus: &mut Bus, ms: u64, after_move: &mut dyn FnMut(&Bus)| {
        let until = bus.now() + ms;
        while bus.next_event_at().is_some_and(|t| t <= until) {
            bus.step();
            after_move(bus);
        }
        bus.run_until(until);
        after_move(bus);
    };
    let act = |bus: &mut Bus, f: &mut dyn FnMut(&mut Bus), after_move: &mut dyn FnMut(&Bus)| {
        f(bus);
        after_move(bus);
    };
    let replicate =
        |r: ServerId| move |b: &mut Bus| b.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    act(bus, &mut replicate(r1), after_move);
    act(bus, &mut replicate(r2), after_move);
    act(
        bus,
        &mut |b| {
            b.set_link(
                m,
                r2,
                LinkConfig {
                    jitter_ms: 15,
                    bandwidth: Some(200),
                    ..LinkConfig::default()
                },
            )
            .unwrap()
        },
        after_move,
    );
    run(bus, 7_000, after_move);
    for i in 0..400 {
        act(
            bus,
            &mut |b| {
                b.submit_command(m, &format!("SET key:{i} v{}", "x".repeat((i % 40) * 10)))
                    .unwrap()
            },
            after_move,
        );
        run(bus, 7, after_move);
    }
    act(bus, &mut |b| b.partition(m, r1).unwrap(), after_move);
    act(
        bus,
        &mut |b| {
            b.schedule_fault_in(6_000, Fault::Heal { a: m, b: r1 })
                .unwrap()
        },
        after_move,
    );
    act(bus, &mut |b| b.save(m).unwrap(), after_move);
    run(bus, 3_000, after_move);
    act(bus, &mut |b| b.restart(m, true).unwrap(), after_move);
    act(bus, &mut |b| b.pause(r2).unwrap(), after_move);
    run(bus, 2_000, after_move);
    act(bus, &mut |b| b.resume(r2).unwrap(), after_move);
    run(bus, 8_000, after_move);
}

/// A tiny deterministic generator for the indices to visit.
fn indices(n: usize, count: usize) -> Vec<usize> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % n as u64) as usize
        })
        .collect()
}

#[test]
fn jumping_anywhere_gives_the_straight_runs_state_and_log() {
    let mut bus = Bus::new(42);
    bus.set_checkpoint_interval(256);
    script(&mut bus, &mut |_| {});
    let total = bus.log().len();
    assert!(total > 2_000, "a run worth travelling in ({total} events)");
    let end_digest = bus.state_digest();
    let end_hash = bus.log_hash();

    // Visit random events in random order (backwards and forwards), noting what we see.
    let mut seen: BTreeMap<usize, (String, String)> = BTreeMap::new();
    let mut targets = indices(total, 24);
    targets.extend([0, total - 1, total / 2, 1]);
    for &i in &targets {
        bus.jump_to(i).unwrap();
        let len = bus.log().len();
        assert!(len > i, "event #{i} is visible after jumping to it");
        assert_eq!(bus.log()[i].index, i as u64);
        assert_eq!(
            bus.timeline_len(),
            total,
            "jumping never changes the timeline"
        );
        seen.insert(len, (bus.state_digest(), bus.log_hash()));
    }
    bus.jump_to_end();
    assert_eq!(bus.state_digest(), end_digest);
    assert_eq!(bus.log_hash(), end_hash);

    // The straight run, one event at a time, compared wherever the jumps landed.
    let mut straight = Bus::new(42);
    let mut checked = 0;
    let mut last_len = 0;
    script(&mut straight, &mut |b| {
        let len = b.log().len();
        if len != last_len {
            last_len = len;
            if let Some((digest, hash)) = seen.get(&len) {
                assert_eq!(
                    &b.state_digest(),
                    digest,
                    "state after event #{} differs from the straight run",
                    len - 1
                );
                assert_eq!(&hash_entries(b.log()), hash);
                checked += 1;
            }
        }
    });
    assert_eq!(checked, seen.len(), "every visited point was compared");
    assert_eq!(straight.log_hash(), end_hash);
}

#[test]
fn a_move_made_in_the_past_replaces_the_future() {
    let mut bus = Bus::new(7);
    script(&mut bus, &mut |_| {});
    let total = bus.log().len();
    bus.jump_to(total / 3).unwrap();
    let here = bus.log().len();
    let old_next = bus.timeline_len();
    bus.submit_command(0, "SET new branch").unwrap();
    assert!(bus.timeline_len() < old_next, "the old future is gone");
    assert_eq!(bus.log().len(), bus.timeline_len());
    assert!(bus
        .log()
        .range(here..)
        .iter()
        .any(|e| e.line().contains("console> SET new branch")));
    // The new branch is as reproducible as any run: jump back and forth within it.
    bus.advance(2_000);
    let digest = bus.state_digest();
    let len = bus.log().len();
    bus.jump_to(here / 2).unwrap();
    bus.jump_to(len - 1).unwrap();
    bus.jump_to_end();
    assert_eq!(bus.state_digest(), digest);
}

#[test]
#[ignore = "prints jump latencies in a 100k-event run: cargo test --release --test bus bus_time_travel:: -- --ignored --nocapture"]
fn jump_latency_in_a_long_run() {
    let (mut bus, m) = Bus::master_and_synced_replicas(1, 2);
    let mut i = 0;
    while bus.log().len() < 100_000 {
        bus.submit_command(m, &format!("SET key:{i} {i}")).unwrap();
        bus.advance(1);
        i += 1;
    }
    let total = bus.log().len();
    let mut worst = std::time::Duration::ZERO;
    for &i in &indices(total, 50) {
        let t = std::time::Instant::now();
        bus.jump_to(i).unwrap();
        worst = worst.max(t.elapsed());
    }
    println!("{total} events: worst jump {worst:?}");
}
