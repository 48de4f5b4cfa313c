//! The bus's budgets: a run that would cost unbounded work or memory stops at a fixed
//! event with one sentence, keeps everything before, and stays steppable; idle time and
//! checkpoints stay cheap.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, Instant};

use crate::test_bed::TestBed;
use replscope::bus::{hash_entries, Budget, BudgetLimit, Bus, LogKind, ServerId, EPOCH_MS};
use replscope::engine::Config;

const KB: u64 = 1 << 10;
const MB: u64 = 1 << 20;

/// A master with one replica in sync, with a budget set before anything happens.
fn replicated(budget: Budget) -> (Bus, ServerId) {
    let mut bus = Bus::new(7);
    bus.set_budget(budget);
    let m = bus.add_server(
        "master",
        Config {
            port: 6380,
            ..Config::default()
        },
    );
    let r = bus.add_server(
        "replica",
        Config {
            port: 6381,
            ..Config::default()
        },
    );
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(7_000);
    assert!(bus.budget_stop().is_none());
    (bus, m)
}

/// A load generator's work as the page pipes it: every 10 ms, `per_batch` SETs of
/// `value_size`-byte values over `keys` keys, until the run stops or `batches` are sent.
/// Returns how many batches went in.
fn load(
    bus: &mut Bus,
    m: ServerId,
    per_batch: usize,
    value_size: usize,
    keys: usize,
    batches: usize,
) -> usize {
    let value = "v".repeat(value_size);
    for b in 0..batches {
        if bus.budget_stop().is_some() {
            return b;
        }
        let lines: Vec<String> = (0..per_batch)
            .map(|i| format!("SET key:{} {value}", (b * per_batch + i) % keys))
            .collect();
        let refs: Vec<&str> = lines.iter().map(|l| l.as_str()).collect();
        let _ = bus.submit_pipe(m, &refs);
        bus.advance(10);
    }
    batches
}

/// 64 KiB values, as the link that crashed the page asked for (10,000 SET/s): stops at the
/// memory budget, at the same event every time, with the sentence the page shows.
#[test]
fn a_big_value_load_stops_at_the_memory_budget() {
    let budget = Budget {
        max_bytes: 64 * MB,
        ..Budget::DEFAULT
    };
    let run = || {
        let (mut bus, m) = replicated(budget);
        let started = Instant::now();
        let batches = load(&mut bus, m, 100, 64 * KB as usize, 1_000_000, 10_000);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "took {:?}",
            started.elapsed()
        );
        assert!(batches < 10_000, "the run did not stop");
        bus
    };
    let bus = run();
    let stop = bus.budget_stop().expect("stopped").clone();
    assert_eq!(stop.limit, BudgetLimit::Bytes(64 * MB));
    assert_eq!(
        stop.event, 68,
        "the memory budget stops the run at a recorded event"
    );
    assert_eq!(
        stop.to_string(),
        "stopped at event 68: budget of 64 MiB of memory reached"
    );
    assert!(bus.memory_bytes() >= 64 * MB);
    assert!(
        bus.memory_bytes() < 64 * MB + 16 * MB,
        "one move overshoots by one batch at most: {}",
        bus.memory_bytes()
    );
    let again = run();
    assert_eq!(again.budget_stop(), Some(&stop));
    assert_eq!(again.log_hash(), bus.log_hash());
}

/// The event budget, likewise; and what a stopped run still does.
#[test]
fn a_stopped_run_keeps_its_past_and_stays_steppable() {
    let budget = Budget {
        max_events: 2_000,
        ..Budget::DEFAULT
    };
    let (mut bus, m) = replicated(budget);
    let (mut straight, sm) = replicated(Budget::DEFAULT);
    for i in 0..2_000 {
        let line = format!("SET k{i} {i}");
        let _ = bus.submit_command(m, &line);
        straight.submit_command(sm, &line).unwrap();
        bus.advance(3);
        straight.advance(3);
    }
    let stop = bus.budget_stop().expect("stopped").clone();
    assert_eq!(stop.limit, BudgetLimit::Events(2_000));
    // The move that reached the budget (a SET's console line and its reply) ends a
    // past it: the stop comes after whole moves.
    assert_eq!(stop.event, 2_001);
    assert_eq!(
        stop.to_string(),
        "stopped at event 2001: budget of 2,000 events reached"
    );
    assert_eq!(bus.log().len(), 2_001);
    // Everything before the stop is the straight run's.
    assert_eq!(bus.log_hash(), hash_entries(straight.log().range(..2_001)));

    // Past the end nothing happens, and every call returns.
    let (now, moves, hash) = (bus.now(), bus.moves_recorded(), bus.log_hash());
    bus.run_until(now + 86_400_000);
    bus.advance(1_000);
    assert!(!bus.step());
    assert!(!bus.step_forward());
    assert_eq!(bus.submit_command(m, "SET more 1"), Err(stop.to_string()));
    assert!(bus.crash(m).is_err());
    assert_eq!(
        (bus.now(), bus.moves_recorded(), bus.log_hash()),
        (now, moves, hash.clone())
    );

    // Time travel inside the recorded timeline works, both ways.
    let digest = bus.state_digest();
    bus.jump_to(500).unwrap();
    // At the end of the move that recorded event 500 (which may have recorded more).
    let at = bus.log().len();
    assert!((501..=505).contains(&at), "{at}");
    assert_eq!(bus.log_hash(), hash_entries(straight.log().range(..at)));
    assert!(bus.step_back());
    assert!(bus.step_forward());
    bus.jump_to(1_999).unwrap();
    bus.jump_to_end();
    assert_eq!((bus.state_digest(), bus.log_hash()), (digest, hash));
    assert_eq!(bus.budget_stop(), Some(&stop));

    // Acting in the past replaces the future, and the stop with it.
    bus.jump_to(1_000).unwrap();
    bus.submit_command(m, "GET k1").unwrap();
    assert!(bus.budget_stop().is_none());
    // A bigger budget lets a stopped run go on.
    bus.advance(10_000);
    bus.set_budget(Budget::DEFAULT);
    bus.advance(1_000);
    assert!(bus.budget_stop().is_none());
}

/// With 64 KiB values, checkpoints would copy gigabytes if spaced by entries only: they
/// stay within their share of the memory budget, and a jump anywhere stays exact.
#[test]
fn checkpoints_stay_within_their_share_with_big_values() {
    let budget = Budget {
        max_bytes: 128 * MB,
        ..Budget::DEFAULT
    };
    let (mut bus, m) = replicated(budget);
    bus.set_checkpoint_interval(64);
    let value = "v".repeat(64 * KB as usize);
    let mut peak = 0;
    for i in 0..2_000 {
        if bus.budget_stop().is_some() {
            break;
        }
        // 100 keys: the world (both copies) stays small enough for checkpoints to fit.
        let _ = bus.submit_command(m, &format!("SET key:{} {value}", i % 100));
        bus.advance(2);
        let (_, bytes) = bus.checkpoint_stats();
        peak = peak.max(bytes);
    }
    assert!(bus.budget_stop().is_some(), "the load reaches the budget");
    let (count, _) = bus.checkpoint_stats();
    assert!(count >= 2, "some checkpoints are kept: {count}");
    assert!(peak <= 128 * MB / 4, "checkpoints held {peak} bytes");
    let end = bus.state_digest();
    let len = bus.log().len();
    let mut slowest = Duration::ZERO;
    for index in [len / 3, len / 2, 10, len - 1] {
        let started = Instant::now();
        bus.jump_to(index).unwrap();
        slowest = slowest.max(started.elapsed());
    }
    bus.jump_to_end();
    assert_eq!(bus.state_digest(), end);
    assert!(slowest < Duration::from_secs(3), "a jump took {slowest:?}");
}

/// Idle time costs no moves: a run of events that record nothing (crons with nothing to
/// say) is one move of the timeline, whatever its length, and time travel over it stays
/// exact.
#[test]
fn idle_time_is_one_move_per_call() {
    let mut bus = Bus::new(3);
    for i in 0..8 {
        bus.add_server(
            &format!("s{i}"),
            Config {
                port: 6380 + i,
                hz: 100,
                ..Config::default()
            },
        );
    }
    let before = bus.moves_recorded();
    bus.run_until(EPOCH_MS + 600_000);
    assert!(
        bus.moves_recorded() <= before + 2,
        "one run of quiet events, then the clock: {}",
        bus.moves_recorded() - before
    );
    bus.submit_command(0, "SET a 1").unwrap();
    let after_set = bus.position();
    bus.advance(60_000);
    assert!(bus.moves_recorded() <= after_set + 2);
    let (digest, hash) = (bus.state_digest(), bus.log_hash());
    bus.jump_to(0).unwrap();
    bus.jump_to_end();
    assert_eq!((bus.state_digest(), bus.log_hash()), (digest, hash));
    assert!(bus.step_back());
    assert_eq!(
        bus.log().last().unwrap().line(),
        bus.timeline()[bus.log().len() - 1].line()
    );
}

/// A budget a run recorded today stays far under.
#[test]
fn ordinary_runs_stay_far_under_the_default_budget() {
    let (mut bus, m) = Bus::master_and_synced_replicas(1, 2);
    for i in 0..1_000 {
        bus.submit_command(m, &format!("SET key:{i} {}", "x".repeat(100)))
            .unwrap();
        bus.advance(5);
    }
    bus.advance(60_000);
    assert!(bus.budget_stop().is_none());
    assert!(
        bus.memory_bytes() < Budget::DEFAULT.max_bytes / 50,
        "{} bytes",
        bus.memory_bytes()
    );
    assert!((bus.log().len() as u64) < Budget::DEFAULT.max_events / 50);
}

/// A run's calls; it calls its second argument after each one.
type Script = dyn Fn(&mut Bus, &mut dyn FnMut(&Bus));

/// Runs `script` on two buses, one skipping idle cron ticks and one carrying out every
/// tick, and checks after every call that worlds and logs are the same.
fn same_with_and_without_skipping(seed: u64, script: &Script) {
    let mut plain = Bus::new(seed);
    plain.set_skip_idle_cron(false);
    let mut states = Vec::new();
    script(&mut plain, &mut |b| {
        states.push((b.state_digest(), b.log_hash(), b.now()))
    });
    let mut skipping = Bus::new(seed);
    let mut i = 0;
    script(&mut skipping, &mut |b| {
        assert_eq!(
            (b.state_digest(), b.log_hash(), b.now()),
            states[i],
            "differs after call {i}"
        );
        i += 1;
    });
    assert_eq!(i, states.len());
}

/// Servers of every cron period, idle and busy in turn: keys with a TTL (active expiry
/// works, then has nothing left), a replica attached (replication cron, backlog), commands
/// at the very instants crons are due, a WAIT, a crash and a restart.
#[test]
fn skipping_idle_crons_changes_nothing() {
    same_with_and_without_skipping(11, &|bus, check| {
        for (i, hz) in [10u32, 500, 3, 100, 7, 1].into_iter().enumerate() {
            bus.add_server(
                &format!("s{i}"),
                Config {
                    port: 6380 + i as u16,
                    hz,
                    ..Config::default()
                },
            );
            check(bus);
            bus.advance(37 * i as u64);
            check(bus);
        }
        // Two servers of the same period whose crons fall due at the same instants, the
        // second one's chain started later.
        bus.add_server(
            "s6",
            Config {
                port: 6386,
                hz: 10,
                ..Config::default()
            },
        );
        bus.advance(300);
        bus.add_server(
            "s7",
            Config {
                port: 6387,
                hz: 10,
                ..Config::default()
            },
        );
        check(bus);
        bus.advance(5_000);
        check(bus);
        // On the exact instant of s0's crons (period 100 ms from its start).
        let t = bus.now() - (bus.now() - EPOCH_MS) % 100 + 100;
        bus.run_until(t);
        bus.submit_command(0, "SET a 1 PX 250").unwrap();
        bus.submit_command(1, "SET b 1 EX 1").unwrap();
        for k in 0..50 {
            bus.submit_command(2, &format!("SET v{k} x PX {}", 100 + k * 37))
                .unwrap();
        }
        check(bus);
        bus.advance(10_000);
        check(bus);
        bus.submit_command(3, "REPLICAOF 127.0.0.1 6380").unwrap();
        bus.advance(8_000);
        check(bus);
        bus.submit_command(0, "SET c 3").unwrap();
        bus.submit_command(0, "WAIT 1 0").unwrap();
        bus.advance(3_000);
        check(bus);
        // A replica's output buffer seen by the cron (a slow link, a big value), then the
        // replica leaves and the backlog is freed after its TTL, before or after the
        // output peaks are forgotten (8 s), and the master goes idle.
        bus.set_link(
            0,
            3,
            replscope::bus::LinkConfig {
                bandwidth: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
        for ttl in [20, 1] {
            bus.submit_command(0, &format!("CONFIG SET repl-backlog-ttl {ttl}"))
                .unwrap();
            bus.submit_command(0, &format!("SET big {}", "x".repeat(50_000)))
                .unwrap();
            bus.advance(200);
            check(bus);
            bus.submit_command(3, "REPLICAOF NO ONE").unwrap();
            bus.advance(70_000);
            check(bus);
            bus.submit_command(3, "REPLICAOF 127.0.0.1 6380").unwrap();
            bus.advance(8_000);
        }
        bus.crash(4).unwrap();
        bus.advance(1_000);
        bus.restart(4, false).unwrap();
        bus.schedule_fault_in(12_345, replscope::bus::Fault::Pause { server: 5 })
            .unwrap();
        bus.advance(20_000);
        check(bus);
        bus.resume(5).unwrap();
        bus.advance(100_000);
        check(bus);
    });
}

/// The same for random scenarios, the ones `tests/scenario/sim.rs` records hashes of.
#[test]
fn skipping_idle_crons_changes_nothing_in_random_scenarios() {
    use replscope::scenario::{generate, player::Player, runner};
    for seed in [1u64, 2, 3, 5, 8, 13, 21] {
        let s = generate::random_scenario(seed);
        let end = EPOCH_MS + runner::run(&s).unwrap().bus.elapsed_ms();
        let run = |skip: bool| {
            let mut bus = runner::new_bus(&s).unwrap();
            bus.set_skip_idle_cron(skip);
            let mut player = Player::new(&s);
            player.advance(&mut bus, end);
            (bus.state_digest(), bus.log_hash(), bus.moves_recorded())
        };
        let (with, without) = (run(true), run(false));
        assert_eq!((&with.0, &with.1), (&without.0, &without.1), "seed {seed}");
    }
}

/// The idle day: 8 servers at hz 500 for the allowed virtual day, about 345
/// million cron loops, in a few moves and a moment.
#[test]
fn an_idle_virtual_day_at_hz_500_costs_a_few_moves() {
    let started = Instant::now();
    let mut bus = Bus::new(5);
    for i in 0..8 {
        bus.add_server(
            &format!("s{i}"),
            Config {
                port: 6380 + i,
                hz: 500,
                ..Config::default()
            },
        );
    }
    bus.submit_command(0, "SET a 1").unwrap();
    bus.advance(86_400_000);
    assert_eq!(bus.elapsed_ms(), 86_400_000);
    assert!(bus.moves_recorded() < 32, "{} moves", bus.moves_recorded());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(bus.budget_stop().is_none());
    // The servers' clocks moved on with the crons.
    bus.submit_command(0, "INFO server").unwrap();
    let info = bus.log().iter().rev().find_map(|e| match &e.kind {
        LogKind::Reply { data } => Some(String::from_utf8_lossy(data).into_owned()),
        _ => None,
    });
    let info = info.expect("INFO replied");
    assert!(info.contains("uptime_in_seconds:86400"), "{info}");
}

/// Work the log does not show: cron ticks at `hz 500` on a replicated pair record nothing
/// (the crons have work, so none is skipped), yet each is a step; the step budget stops
/// the run where the same count of steps is reached every time.
#[test]
fn cron_ticks_that_log_nothing_still_meet_the_step_budget() {
    let run = || {
        let budget = Budget {
            max_steps: 200_000,
            ..Budget::DEFAULT
        };
        let (mut bus, m) = replicated(budget);
        bus.submit_command(m, "CONFIG SET hz 500").unwrap();
        bus.advance(86_400_000);
        bus
    };
    let bus = run();
    let stop = bus
        .budget_stop()
        .expect("stopped by the step budget")
        .clone();
    assert_eq!(stop.limit, BudgetLimit::Steps(200_000));
    assert_eq!(
        stop.to_string(),
        format!(
            "stopped at event {}: budget of 200,000 steps of simulation reached",
            stop.event
        )
    );
    assert!(
        bus.elapsed_ms() < 600_000,
        "stopped minutes in, not a day: {} ms",
        bus.elapsed_ms()
    );
    let again = run();
    assert_eq!(again.budget_stop(), Some(&stop));
    assert_eq!(again.log_hash(), bus.log_hash());
}

/// Heap allocations made by the calling thread (every test runs on its own thread, so
/// others' work does not count): what a copy costs, whatever the machine's speed.
mod allocations {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static COUNT: Cell<u64> = const { Cell::new(0) };
    }

    struct Counting;

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
            let _ = COUNT.try_with(|c| c.set(c.get() + 1));
            unsafe { System.realloc(ptr, layout, size) }
        }
    }

    #[global_allocator]
    static COUNTING: Counting = Counting;

    /// `f`'s result and the allocations it made.
    pub fn counted<T>(f: impl FnOnce() -> T) -> (T, u64) {
        let before = COUNT.with(|c| c.get());
        let out = f();
        (out, COUNT.with(|c| c.get()) - before)
    }
}

/// A time-travel checkpoint clones the world between two events, in the page inside one
/// slice of the main thread. Its two big parts, a server's keys and a console's
/// transcript, share their pages with the copy instead of copying each key and line: a
/// clone allocates per page, not per key (it was two allocations per key and per line,
/// 40,000 and more here, tens of milliseconds in the page at once).
#[test]
fn a_checkpoint_copies_pages_not_keys_or_transcript_lines() {
    use allocations::counted;
    let (mut bus, m) = replicated(Budget::default());
    const KEYS: usize = 20_000;
    for i in 0..KEYS {
        bus.submit_command(m, &format!("SET key:{i} value:{i}"))
            .unwrap();
    }
    bus.advance(2_000);
    let node = &bus.server(m).node;
    assert_eq!(node.keyspace().len(), KEYS);
    let (copy, allocs) = counted(|| node.clone());
    assert_eq!(copy.keyspace().len(), KEYS);
    assert!(
        allocs < 1_000,
        "cloning a server with {KEYS} keys made {allocs} allocations"
    );
    let console = bus.console(m);
    assert_eq!(console.entries().len(), KEYS);
    let (copy, allocs) = counted(|| console.clone());
    assert_eq!(copy.entries().len(), console.entries().len());
    assert!(
        allocs < 100,
        "cloning a transcript of {} lines made {allocs} allocations",
        console.entries().len()
    );
}
