//! Random use of the bus, as the page's users (and its e2e monkey) use it: console lines
//! on any server, including the ones that change what a connection is (SYNC, PSYNC,
//! REPLICAOF, SHUTDOWN, CLIENT KILL, FAILOVER), faults, time, and time travel. Properties
//! that must hold whatever the sequence:
//!
//! - nothing panics;
//! - time always moves on: every advance finishes within a budget of events, so no
//!   server can schedule itself at the same instant forever (SHUTDOWN once did, and the
//!   page froze);
//! - the same sequence gives the same log, and stepping back then forward again gives
//!   back the same log (time travel replays, it does not re-run differently).
//!
//! `REPLSCOPE_FUZZ_CASES=N` sets the cases (default 64); failures shrink and are stored in
//! `proptest-regressions/bus_random_use.txt`.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use replscope::bus::{Bus, Fault, ServerId};
use replscope::engine::Config as NodeConfig;

const SERVERS: usize = 3;

/// Most events one virtual second may hold in these runs (a few servers, a few writes):
/// far above what they produce, far below a livelock.
const EVENTS_PER_SECOND: u64 = 20_000;

const LINES: &[&str] = &[
    "SET k v",
    "INCR n",
    "SET big xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "SET temp 1 PX 500",
    "REPLICAOF 127.0.0.1 6380",
    "REPLICAOF 127.0.0.1 6381",
    "REPLICAOF 127.0.0.1 6382",
    "REPLICAOF NO ONE",
    "SYNC",
    "PSYNC ? -1",
    "PSYNC 0000000000000000000000000000000000000000 1",
    "SHUTDOWN NOSAVE",
    "SHUTDOWN",
    "CLIENT KILL TYPE master",
    "CLIENT KILL TYPE replica",
    "FAILOVER",
    "WAIT 1 200",
    "CONFIG SET repl-backlog-size 16384",
    "CONFIG SET repl-diskless-sync no",
    "CONFIG SET min-replicas-to-write 1",
    "CONFIG SET client-output-buffer-limit \"replica 1024 0 0\"",
    "MULTI",
    "EXEC",
    "REPLCONF ACK 99999",
    "REPLCONF GETACK *",
    "FLUSHALL",
    "DEBUG SLEEP 0",
];

#[derive(Debug, Clone)]
enum Step {
    Line {
        server: ServerId,
        line: &'static str,
    },
    Fault(Fault),
    Advance(u64),
    Back(u8),
    Forward(u8),
}

fn server() -> impl Strategy<Value = ServerId> {
    0..SERVERS
}

fn pair() -> impl Strategy<Value = (ServerId, ServerId)> {
    (server(), server()).prop_filter("two servers", |(a, b)| a != b)
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (server(), prop::sample::select(LINES)).prop_map(|(server, line)| Step::Line { server, line }),
        3 => prop_oneof![
            pair().prop_map(|(a, b)| Fault::Cut { a, b }),
            pair().prop_map(|(a, b)| Fault::Heal { a, b }),
            pair().prop_map(|(from, to)| Fault::Hold { from, to }),
            pair().prop_map(|(from, to)| Fault::Release { from, to }),
            server().prop_map(|server| Fault::Crash { server }),
            (server(), any::<bool>()).prop_map(|(server, from_disk)| Fault::Restart { server, from_disk }),
            server().prop_map(|server| Fault::Pause { server }),
            server().prop_map(|server| Fault::Resume { server }),
            server().prop_map(|server| Fault::Save { server }),
        ]
        .prop_map(Step::Fault),
        4 => prop_oneof![Just(50u64), Just(1_000), Just(6_000), Just(65_000)].prop_map(Step::Advance),
        1 => (1u8..20).prop_map(Step::Back),
        1 => (1u8..20).prop_map(Step::Forward),
    ]
}

/// Runs the steps; returns the log's lines, or why time stopped moving.
fn run(steps: &[Step]) -> Result<Vec<String>, String> {
    let mut bus = Bus::new(11);
    for i in 0..SERVERS {
        bus.add_server(
            &format!("s{i}"),
            NodeConfig {
                port: 6380 + i as u16,
                ..NodeConfig::default()
            },
        );
    }
    for step in steps {
        match step {
            // Refusals (a stopped server, a line redis-cli would not send) are answers too.
            Step::Line { server, line } => drop(bus.submit_command(*server, line)),
            Step::Fault(f) => drop(bus.inject(f.clone())),
            Step::Advance(ms) => {
                let until = bus.now() + ms;
                let budget = EVENTS_PER_SECOND * (ms / 1000 + 1);
                let mut events = 0;
                while bus.next_event_at().is_some_and(|t| t <= until) {
                    bus.step();
                    events += 1;
                    if events > budget {
                        let last: Vec<String> =
                            bus.log().iter().rev().take(5).map(|e| e.line()).collect();
                        return Err(format!(
                            "over {budget} events before t+{ms} ms; last: {last:#?}"
                        ));
                    }
                }
                bus.advance(until - bus.now());
            }
            Step::Back(n) => {
                for _ in 0..*n {
                    bus.step_back();
                }
            }
            Step::Forward(n) => {
                for _ in 0..*n {
                    bus.step_forward();
                }
            }
        }
    }
    bus.jump_to_end();
    let end: Vec<String> = bus.log().iter().map(|e| e.line()).collect();
    // Back to the first event and forward again: the recorded timeline, replayed.
    if !end.is_empty() {
        bus.jump_to(0)
            .map_err(|e| format!("jump to the first event: {e}"))?;
    }
    bus.jump_to_end();
    let again: Vec<String> = bus.log().iter().map(|e| e.line()).collect();
    if again != end {
        return Err("jumping back to the start and to the end again changed the log".into());
    }
    Ok(end)
}

fn config() -> Config {
    let cases = std::env::var("REPLSCOPE_FUZZ_CASES")
        .ok()
        .map(|v| v.parse().expect("REPLSCOPE_FUZZ_CASES is a number"));
    Config {
        cases: cases.unwrap_or(64),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/bus_random_use.txt",
        ))),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_use_keeps_time_moving_and_replays_the_same(steps in prop::collection::vec(step(), 1..40)) {
        let first = run(&steps).map_err(TestCaseError::fail)?;
        let second = run(&steps).map_err(TestCaseError::fail)?;
        prop_assert_eq!(first, second, "the same steps gave another log");
    }
}

/// The sequence that froze the page, kept as an example.
#[test]
fn shutdown_after_sync_keeps_time_moving() {
    let steps = [
        Step::Line {
            server: 0,
            line: "SYNC",
        },
        Step::Advance(1_000),
        Step::Line {
            server: 0,
            line: "SHUTDOWN NOSAVE",
        },
        Step::Advance(6_000),
    ];
    run(&steps).unwrap();
}
