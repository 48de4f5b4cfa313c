//! Determinism of the bus, natively: each scenario run twice gives the same log, and that
//! log is the recorded one (`tests/scenarios/*.log`), which the browser build must also
//! reproduce (`web_determinism.rs`).
#![cfg(not(target_arch = "wasm32"))]

use crate::scenarios;

use scenarios::{first_difference, log_text, SCENARIOS};

#[test]
fn every_scenario_reproduces_its_recorded_log() {
    let bless = std::env::var_os("REPLSCOPE_BLESS").is_some();
    for s in SCENARIOS {
        let first = (s.run)();
        let text = log_text(&first);
        let again = log_text(&(s.run)());
        assert!(
            first_difference(&text, &again).is_none(),
            "{}: two runs differ: {:?}",
            s.name,
            first_difference(&text, &again)
        );
        if bless {
            let path = format!(
                "{}/tests/scenarios/{}.log",
                env!("CARGO_MANIFEST_DIR"),
                s.name
            );
            std::fs::write(&path, &text).expect("write the recorded log");
            eprintln!("recorded {} log lines into {path}", text.lines().count());
            continue;
        }
        if let Some(diff) = first_difference(&text, s.recorded) {
            panic!(
                "{}: the log differs from tests/scenarios/{}.log at {diff}",
                s.name, s.name
            );
        }
    }
}

#[test]
fn the_scenarios_show_what_they_are_named_for() {
    let text = |name: &str| {
        SCENARIOS
            .iter()
            .find(|s| s.name == name)
            .map(|s| log_text(&(s.run)()))
            .unwrap()
    };
    let partial = text("cut_heal_partial_resync");
    assert!(
        partial.contains("partial: true"),
        "cut/heal should end in +CONTINUE"
    );
    let failover = text("failover_keeps_history_as_replid2");
    assert!(
        failover.contains("Partial resynchronization request from 127.0.0.1:6382 accepted"),
        "{failover}"
    );
    let overrun = text("backlog_overrun_forces_full_resync");
    assert!(
        overrun.contains("+FULLRESYNC"),
        "a backlog overrun must force a full resync"
    );
    assert_eq!(
        overrun.matches("+FULLRESYNC").count(),
        3,
        "two at start, one after the heal"
    );
}
