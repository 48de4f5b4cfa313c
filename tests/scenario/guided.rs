//! The guided scenarios (src/scenario/guided): each parses, reads as a guided tour (a
//! title, a description, 4 to 10 narration steps in time order), runs clean under the
//! checker with its expectations met, and its narration matches the run: every step falls
//! on a moment the log shows something happening, and every number a step states is one
//! the file's expectations (or its own actions and settings) pin down.
#![cfg(not(target_arch = "wasm32"))]

use crate::recorded;

use std::collections::BTreeSet;

use replscope::scenario::guided::{self, ALL};
use replscope::scenario::runner::run;
use replscope::scenario::Scenario;

const IDS: [&str; 14] = [
    "first-sync",
    "writes-during-full-sync",
    "brief-cut-partial-resync",
    "backlog-too-small",
    "full-sync-loop",
    "failover-psync2",
    "failover-psync1",
    "chained-replicas",
    "min-replicas-to-write",
    "read-only-replica",
    "restart-without-persistence",
    "silent-one-way-partition",
    "wait-semantics",
    "legacy-sync-cost",
];

/// The guided scenario with its checks (`guided/<id>.checks.json`) in its `expect`.
fn parse(g: &guided::Guided) -> Scenario {
    Scenario::from_json(g.json).unwrap_or_else(|e| panic!("{}: {e}", g.id));
    serde_json::from_str::<serde_json::Value>(g.checks)
        .unwrap_or_else(|e| panic!("{}.checks.json: {e}", g.id));
    guided::checked_scenario(g.id)
        .unwrap_or_else(|| panic!("{}: its checks are not expectations", g.id))
}

#[test]
fn the_list_is_complete_and_in_teaching_order() {
    let ids: Vec<&str> = ALL.iter().map(|g| g.id).collect();
    assert_eq!(ids, IDS);
    for id in IDS {
        let g = ALL.iter().find(|g| g.id == id).unwrap();
        assert_eq!(
            guided::scenario(id),
            Some(Scenario::from_json(g.json).unwrap()),
            "{id}"
        );
        // What the page opens is the checked scenario without its checks.
        let mut checked = parse(g);
        checked.expect.info.clear();
        checked.expect.log_contains.clear();
        assert_eq!(guided::scenario(id), Some(checked), "{id}");
        assert!(guided::exists(id), "{id}");
        // The page's menu shows the title compiled into it, without the file.
        assert_eq!(
            guided::scenario(id).unwrap().title.as_deref(),
            Some(g.title)
        );
    }
    assert_eq!(guided::scenario("no-such-scenario"), None);
    assert!(!guided::exists("no-such-scenario"));
}

#[test]
fn every_guided_scenario_reads_as_a_guided_tour() {
    for g in ALL {
        let s = parse(g);
        let title = s.title.as_deref().unwrap_or("");
        assert!(!title.trim().is_empty(), "{}: no title", g.id);
        let description = s.description.as_deref().unwrap_or("");
        assert!(
            !description.trim().is_empty() && !description.contains('\n'),
            "{}: needs a one-line description",
            g.id
        );
        assert!(
            (2..=4).contains(&s.all_servers().len()),
            "{}: {} servers",
            g.id,
            s.all_servers().len()
        );
        assert!(
            (4..=10).contains(&s.narration.len()),
            "{}: {} narration steps",
            g.id,
            s.narration.len()
        );
        // The page shows the latest step at or before the playhead: a step sharing its
        // time with the next would never be seen.
        for pair in s.narration.windows(2) {
            assert!(
                pair[0].at < pair[1].at,
                "{}: steps at {} and {} ms are not in strict time order",
                g.id,
                pair[0].at,
                pair[1].at
            );
        }
        for step in &s.narration {
            assert!(
                !step.text.trim().is_empty(),
                "{}: empty step at {} ms",
                g.id,
                step.at
            );
        }
        let end = s.end_ms.expect("a guided scenario says how long it runs");
        assert!(
            end <= 60_000,
            "{}: {end} ms of virtual time is long for a guided tour",
            g.id
        );
    }
}

#[test]
fn every_guided_scenario_runs_clean_and_shows_what_its_narration_says() {
    let mut problems = Vec::new();
    for g in ALL {
        let s = parse(g);
        let run = run(&s).unwrap_or_else(|e| panic!("{}: {e}", g.id));
        if !run.violations().is_empty() {
            problems.push(format!("{}:\n{}", g.id, run.summary));
        }
        // A tour whose claims went unchecked would pass anything.
        if s.expect.log_contains.is_empty() || s.expect.info.is_empty() {
            problems.push(format!("{}: expects no log line or no INFO field", g.id));
        }
        let times: BTreeSet<u64> = run.bus.log().iter().map(|e| e.time).collect();
        for step in &s.narration {
            let at = step.at as u64;
            if at > run.summary.end_ms {
                problems.push(format!(
                    "{}: a step at {at} ms, after the run ended ({} ms)",
                    g.id, run.summary.end_ms
                ));
            } else if !times.contains(&at) {
                problems.push(format!(
                    "{}: nothing happens at {at} ms, where the step {:?} is shown",
                    g.id, step.text
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Numbers in `text`: maximal runs of digits (an address or a version gives several).
fn numbers(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// A narration that says "offset 57" where the run shows 56 is caught here: the number
/// must be one the guide itself states, in a check the run makes (its checks file) or in
/// the actions and settings that make it so.
#[test]
fn every_number_the_narration_states_is_pinned_down_by_the_file() {
    let mut problems = Vec::new();
    for g in ALL {
        let mut value: serde_json::Value = serde_json::from_str(g.json).expect("valid JSON");
        let narration = value
            .as_object_mut()
            .and_then(|o| o.remove("narration"))
            .expect("a narration");
        let known: BTreeSet<String> = numbers(&value.to_string())
            .union(&numbers(g.checks))
            .cloned()
            .collect();
        for step in narration.as_array().expect("a list of steps") {
            let text = step["text"].as_str().expect("a text");
            for n in numbers(text).difference(&known) {
                problems.push(format!(
                    "{}: the step at {} ms states {n}, which nothing else in the file states",
                    g.id, step["at"]
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Each guided scenario is shared as a link; a typical one must stay under 2 000
/// characters (README lists the sizes), so it fits in chat messages and issue comments.
#[test]
fn every_guided_link_is_under_two_thousand_characters() {
    use replscope::scenario::share_link::{decode, encode, SharedRun};
    for g in replscope::scenario::guided::ALL {
        let scenario = replscope::scenario::guided::scenario(g.id).unwrap();
        let link = encode(&SharedRun {
            scenario: scenario.clone(),
            step: None,
        });
        assert!(link.len() < 2_000, "{}: {} characters", g.id, link.len());
        assert_eq!(decode(&link).unwrap().scenario, scenario, "{}", g.id);
    }
}

const GUIDED_HASH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/scenarios/guided_hashes.txt"
);

/// Each guided scenario's log hash as the page plays it (`Session::play_through`, the same
/// run as `runner::run`), recorded so `tests/web/web_guided.rs` can check the browser plays
/// it byte for byte the same. Re-record with `REPLSCOPE_BLESS=1` when a change is meant.
#[test]
fn guided_scenarios_match_their_recorded_log_hashes() {
    use replscope::scenario::session::Session;
    let mut lines = vec![
        "# id log-hash of each guided scenario played through natively (scenario::session::Session::play_through);".to_string(),
        "# checked by tests/scenario/guided.rs and, in the browser, by tests/web/web_guided.rs.".to_string(),
        "# Re-record: REPLSCOPE_BLESS=1 cargo test --no-default-features --test scenario guided::guided_scenarios_match".to_string(),
    ];
    for g in replscope::scenario::guided::ALL {
        let scenario = replscope::scenario::guided::scenario(g.id).unwrap();
        let expected = replscope::scenario::runner::run(&scenario)
            .unwrap()
            .summary
            .log_hash;
        let (_, bus) = Session::play_through(scenario).unwrap();
        assert_eq!(
            bus.log_hash(),
            expected,
            "{}: the page's run differs from the runner's",
            g.id
        );
        lines.push(format!("{} {expected}", g.id));
    }
    recorded::check_or_bless(
        GUIDED_HASH_FILE,
        &(lines.join("\n") + "\n"),
        "guided log hashes",
    );
}
