//! A page session written down as a scenario replays move for move: whatever a person
//! does in the page (commands, faults, servers added and removed, the load generator,
//! acting after a jump back), the scenario from `Session::to_scenario`, run by the same
//! runner `replscope-sim run` uses, shows the page's log entry for entry.
#![cfg(not(target_arch = "wasm32"))]

use replscope::bus::{Bus, Fault, ServerId, EPOCH_MS};
use replscope::scenario::generate::random_scenario;
use replscope::scenario::generator::{GenerateSpec, GenerateWrite};
use replscope::scenario::runner::run;
use replscope::scenario::session::Session;
use replscope::scenario::{Action, Scenario};

fn example() -> Scenario {
    Scenario::from_json(
        r#"{"version": 1, "seed": 42,
            "servers": [{"name": "master", "port": 6380}, {"name": "replica-1", "port": 6381}, {"name": "replica-2", "port": 6382}],
            "topology": [{"replica": "replica-1", "master": "master"}, {"replica": "replica-2", "master": "master"}],
            "actions": [{"do": "command", "at": 9000, "server": "master", "line": "SET scripted yes"}]}"#,
    )
    .unwrap()
}

/// The example's servers by id, and the one the session adds.
const MASTER: ServerId = 0;
const REPLICA_1: ServerId = 1;
const REPLICA_2: ServerId = 2;
const SERVER_4: ServerId = 3;

fn command(server: ServerId, line: &str) -> Action {
    Action::Command {
        at: 0,
        server,
        line: line.into(),
    }
}

/// The page's log must be a prefix of the replay's: the replay goes on to converge.
fn assert_replays(session: &Session, bus: &Bus) {
    let scenario = session.to_scenario(bus);
    let text = scenario.to_json();
    let scenario = Scenario::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let replay = run(&scenario).unwrap();
    let page: Vec<String> = bus
        .timeline()
        .iter()
        .map(|e| format!("{} {}", e.time, e.line()))
        .collect();
    let again: Vec<String> = replay
        .bus
        .log()
        .iter()
        .map(|e| format!("{} {}", e.time, e.line()))
        .collect();
    assert!(
        again.len() >= page.len(),
        "replay shorter: {} < {}",
        again.len(),
        page.len()
    );
    for (i, (a, b)) in page.iter().zip(&again).enumerate() {
        assert_eq!(a, b, "entry {i} differs\n{text}");
    }
}

#[test]
fn a_page_session_replays_from_its_scenario() {
    let (mut session, mut bus) = Session::start(example()).unwrap();
    let advance = |session: &mut Session, bus: &mut Bus, ms: u64| {
        let until = bus.now() + ms;
        session.advance(bus, until);
    };
    advance(&mut session, &mut bus, 7_000);
    session.act(&mut bus, command(MASTER, "SET a 1")).unwrap();
    session
        .act(
            &mut bus,
            Action::fault(Fault::Cut {
                a: MASTER,
                b: REPLICA_1,
            }),
        )
        .unwrap();
    let spec = GenerateSpec {
        write: GenerateWrite::Incr,
        rate: 200,
        keys: 3,
        value_size: 8,
        ttl_s: 10,
    };
    session.start_generator(&mut bus, 0, spec).unwrap();
    advance(&mut session, &mut bus, 1_250);
    session.stop_generator(&bus);
    session
        .act(
            &mut bus,
            Action::fault(Fault::Heal {
                a: MASTER,
                b: REPLICA_1,
            }),
        )
        .unwrap();
    session
        .act(
            &mut bus,
            Action::AddServer {
                at: 0,
                name: "server-4".into(),
                port: 6383,
                config: Default::default(),
            },
        )
        .unwrap();
    session
        .act(
            &mut bus,
            Action::Replicaof {
                at: 0,
                server: SERVER_4,
                master: Some(REPLICA_2),
            },
        )
        .unwrap();
    // Stepping event by event sends the script's write when its time comes, as running does.
    for _ in 0..50 {
        session.step_event(&mut bus);
    }
    advance(&mut session, &mut bus, 3_000);
    assert!(
        bus.log()
            .iter()
            .any(|e| e.line().contains("SET scripted yes")),
        "the script ran"
    );
    session
        .act(
            &mut bus,
            Action::Remove {
                at: 0,
                server: REPLICA_2,
            },
        )
        .unwrap();
    // Refusals record nothing.
    assert!(session.act(&mut bus, command(REPLICA_2, "GET a")).is_err());
    assert!(session.act(&mut bus, command(9, "GET a")).is_err());
    advance(&mut session, &mut bus, 500);
    assert_replays(&session, &bus);
}

#[test]
fn acting_in_the_past_drops_the_later_actions_and_keeps_the_script() {
    let (mut session, mut bus) = Session::start(example()).unwrap();
    session.advance(&mut bus, EPOCH_MS + 7_000);
    session
        .act(&mut bus, command(MASTER, "SET early 1"))
        .unwrap();
    session.advance(&mut bus, EPOCH_MS + 8_000);
    session
        .act(&mut bus, command(MASTER, "SET late 1"))
        .unwrap();
    session.advance(&mut bus, EPOCH_MS + 12_000);

    // Back to just after "SET early", and act there.
    let early = bus
        .log()
        .iter()
        .position(|e| e.line().contains("SET early"))
        .unwrap();
    bus.jump_to(early).unwrap();
    session
        .act(&mut bus, command(MASTER, "SET instead 1"))
        .unwrap();
    session.advance(&mut bus, EPOCH_MS + 12_000);
    let lines: Vec<String> = bus.log().iter().map(|e| e.line()).collect();
    assert!(
        !lines.iter().any(|l| l.contains("SET late")),
        "the later action is gone"
    );
    assert!(
        lines.iter().any(|l| l.contains("SET scripted yes")),
        "the script's step ran again"
    );
    let actions = session.to_scenario(&bus).actions;
    assert!(actions
        .iter()
        .all(|a| !matches!(a, Action::Command { line, .. } if line == "SET late 1")));
    assert_replays(&session, &bus);

    // A refused action in the past leaves the recorded future alone.
    bus.jump_to(early).unwrap();
    let before = bus.moves_recorded();
    assert!(session
        .act(&mut bus, command(MASTER, "GET \"unbalanced"))
        .is_err());
    assert_eq!(bus.moves_recorded(), before);
    bus.jump_to_end();
    assert_replays(&session, &bus);
}

#[test]
fn a_generator_cut_by_a_fork_resends_its_later_batches() {
    let (mut session, mut bus) = Session::start(example()).unwrap();
    session.advance(&mut bus, EPOCH_MS + 7_000);
    let spec = GenerateSpec {
        write: GenerateWrite::Set,
        rate: 100,
        keys: 10,
        value_size: 4,
        ttl_s: 10,
    };
    session.start_generator(&mut bus, 0, spec).unwrap();
    session.advance(&mut bus, EPOCH_MS + 9_000);
    session.stop_generator(&bus);
    session.advance(&mut bus, EPOCH_MS + 10_000);
    let middle = bus.log().iter().rposition(|e| e.time <= 8_000).unwrap();
    bus.jump_to(middle).unwrap();
    session.act(&mut bus, command(REPLICA_1, "GET x")).unwrap();
    assert!(
        session.running_generator().is_some(),
        "the stop was in the discarded future"
    );
    session.advance(&mut bus, EPOCH_MS + 8_500);
    session.stop_generator(&bus);
    session.advance(&mut bus, EPOCH_MS + 10_000);
    assert_replays(&session, &bus);
}

#[test]
fn playing_through_shows_the_runners_log() {
    for seed in 0..12 {
        let s = random_scenario(seed);
        let expected = run(&s).unwrap().summary.log_hash;
        let (_, bus) = Session::play_through(s).unwrap();
        assert_eq!(bus.log_hash(), expected, "seed {seed}");
    }
}
