//! The simulator's sweep in the normal test run: random scenarios from many seeds, each
//! checked against replication's invariants, with no panic and no violation. A failure
//! prints the seed and the commands that replay it. Also shows that the checker does see
//! a replica that cannot converge, and a failed expectation.
#![cfg(not(target_arch = "wasm32"))]

use replscope::scenario::checker::ViolationKind;
use replscope::scenario::generate::{random_scenario, run_catching, shrink, Failure};
use replscope::scenario::runner::run;
use replscope::scenario::Scenario;

/// Seeds in the debug sweep (`REPLSCOPE_SIM_SEEDS` overrides; the release sweep of 10 000
/// seeds is `replscope-sim sweep --seeds 10000`).
fn seeds() -> u64 {
    std::env::var("REPLSCOPE_SIM_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(500)
}

fn sweep(range: std::ops::Range<u64>) -> Vec<String> {
    let mut failures = Vec::new();
    let mut compared = 0;
    for seed in range {
        let scenario = random_scenario(seed);
        match run_catching(&scenario) {
            Ok(summary) => compared += summary.checks.safety_comparisons,
            Err(failure) => {
                let (small, small_failure) = shrink(&scenario, &failure, 60);
                failures.push(format!(
                    "seed {seed}: {failure}\n  shrunk to {} actions: {small_failure}\n  replay: cargo run --profile release-native --bin replscope-sim -- sweep --seeds 1 --start {seed}\n  shrunk scenario:\n{}",
                    small.actions.len(),
                    small.to_json()
                ));
            }
        }
    }
    assert!(compared > 0, "the sweep compared no replica with its master: the checker is not looking");
    failures
}

// Two halves, so the test harness can run them on two cores.
#[test]
fn random_scenarios_keep_every_invariant_first_half() {
    let n = seeds();
    let failures = sweep(0..n / 2);
    assert!(failures.is_empty(), "{} of {} seeds failed:\n{}", failures.len(), n / 2, failures.join("\n"));
}

#[test]
fn random_scenarios_keep_every_invariant_second_half() {
    let n = seeds();
    let failures = sweep(n / 2..n);
    assert!(failures.is_empty(), "{} of {} seeds failed:\n{}", failures.len(), n - n / 2, failures.join("\n"));
}

#[test]
fn generation_is_deterministic() {
    for seed in [0, 1, 99, u64::MAX] {
        assert_eq!(random_scenario(seed), random_scenario(seed));
        let a = run_catching(&random_scenario(seed)).expect("passes");
        let b = run_catching(&random_scenario(seed)).expect("passes");
        assert_eq!(a.log_hash, b.log_hash, "seed {seed}");
    }
}

/// A replica that cannot authenticate never converges: the liveness check must say so,
/// name the replica and why, and shrinking keeps the failure.
#[test]
fn a_replica_that_cannot_sync_is_a_liveness_violation() {
    let text = r#"{
      "version": 1, "seed": 5,
      "servers": [
        {"name": "m", "port": 6380, "config": {"requirepass": "secret", "repl-diskless-sync-delay": "0", "repl-timeout": "5"}},
        {"name": "r", "port": 6381, "config": {"repl-timeout": "5"}}
      ],
      "topology": [{"replica": "r", "master": "m"}],
      "actions": [
        {"do": "command", "at": 10, "server": "m", "line": "AUTH secret"},
        {"do": "command", "at": 20, "server": "m", "line": "SET a 1"},
        {"do": "cut", "at": 30, "a": "m", "b": "r"},
        {"do": "heal", "at": 40, "a": "m", "b": "r"}
      ]
    }"#;
    let s = Scenario::from_json(text).unwrap();
    let failure = run_catching(&s).expect_err("r cannot authenticate");
    let Failure::Violations(v) = &failure else { panic!("{failure}") };
    assert_eq!(v.len(), 1, "{failure}");
    assert_eq!(v[0].kind, ViolationKind::Liveness);
    assert!(v[0].message.contains("replica r's link to m is"), "{}", v[0]);
    assert!(v[0].to_string().starts_with(&format!("event #{} t=", v[0].index)), "{}", v[0]);
    let (small, small_failure) = shrink(&s, &failure, 50);
    assert_eq!(small_failure.kind(), Some(ViolationKind::Liveness));
    assert!(small.actions.is_empty(), "nothing but the auth mismatch is needed: {}", small.to_json());
    // Turned off, it is not a violation.
    let mut off = s.clone();
    off.expect.liveness = Some(false);
    assert!(run_catching(&off).is_ok());
}

#[test]
fn a_failed_expectation_is_reported() {
    let text = r#"{
      "version": 1, "seed": 5,
      "servers": [{"name": "m", "port": 6380}, {"name": "r", "port": 6381, "config": {"repl-diskless-sync-delay": "0"}}],
      "topology": [{"replica": "r", "master": "m"}],
      "expect": {"info": [{"server": "r", "field": "master_link_status", "equals": "down"}], "log_contains": ["no such text"]}
    }"#;
    let run = run(&Scenario::from_json(text).unwrap()).unwrap();
    let msgs: Vec<String> = run.violations().iter().map(|v| v.to_string()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert!(msgs[0].contains("r's INFO replication master_link_status: expected \"down\", got \"up\""), "{msgs:?}");
    assert!(msgs[1].contains("the log never shows \"no such text\""), "{msgs:?}");
}

/// Found by the sweep (seed 85, shrunk): a replica that serves a full sync to a replica of
/// its own must name, in the snapshot, the db its master's stream is in (Redis's
/// `rdbPopulateSaveInfo`); it wrote 0, and the next forwarded write without a SELECT landed
/// in db 0 of the sub-replica. Seed 990: the same while the replica's own link is down
/// (the snapshot waited for the diskless delay): then the cached master's db counts.
#[test]
fn a_chained_full_sync_keeps_the_stream_db() {
    for text in [SEED_85_SHRUNK, SEED_990_SHRUNK] {
        chained_full_sync_converges(text);
    }
}

const SEED_85_SHRUNK: &str = r#"{"version": 1, "seed": 85, "servers": [{"name": "s0", "port": 6380, "config": {"repl-diskless-sync": "no"}}, {"name": "s1", "port": 6381}, {"name": "s2", "port": 6382}], "topology": [{"replica": "s1", "master": "s0"}, {"replica": "s2", "master": "s1"}], "actions": [{"do": "load", "at": 5337, "server": "s0", "rate": 3, "duration_ms": 1337, "type": "hash", "keys": 40, "value_bytes": 77}, {"do": "command", "at": 5447, "server": "s0", "line": "SELECT 1"}]}"#;

const SEED_990_SHRUNK: &str = r#"{"version": 1, "seed": 990, "servers": [{"name": "s0", "port": 6380, "config": {"repl-diskless-sync-delay": "2"}}, {"name": "s2", "port": 6382, "config": {"repl-diskless-sync-delay": "1"}}, {"name": "s3", "port": 6383}], "topology": [{"replica": "s2", "master": "s0"}, {"replica": "s3", "master": "s2"}], "actions": [{"do": "command", "at": 1121, "server": "s0", "line": "SELECT 1"}, {"do": "load", "at": 2227, "server": "s0", "rate": 10, "duration_ms": 107, "type": "list", "keys": 13, "value_bytes": 1}, {"do": "cut", "at": 2974, "a": "s2", "b": "s0"}, {"do": "heal", "at": 4220, "a": "s2", "b": "s0"}, {"do": "load", "at": 4306, "server": "s0", "rate": 6, "duration_ms": 245, "type": "set", "keys": 14, "value_bytes": 1, "multi": true}]}"#;

fn chained_full_sync_converges(text: &str) {
    let s = Scenario::from_json(text).unwrap();
    let summary = run_catching(&s).unwrap_or_else(|f| panic!("{f}"));
    assert!(summary.checks.safety_comparisons > 0);
    let digests: Vec<u64> = summary.servers.iter().map(|s| s.digest).collect();
    assert!(digests.iter().all(|d| *d == digests[0]), "{summary}");
}

/// Seeds whose log hashes are recorded in `tests/scenarios/sim_hashes.txt` and checked
/// natively here and in the browser (`tests/web_scenarios.rs`): the same scenario must
/// give the same log in every build. Their scenarios have faults (partitions, crashes and
/// restarts, pauses, link settings).
const HASHED_SEEDS: [u64; 4] = [3, 12, 26, 110];
const HASH_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/scenarios/sim_hashes.txt");

/// Checks the recorded hashes, or records them again with `REPLSCOPE_BLESS=1`.
#[test]
fn generated_scenarios_match_their_recorded_log_hashes() {
    let mut lines = vec![
        "# seed log-hash of replscope::scenario::generate::random_scenario(seed), run natively;".to_string(),
        "# checked by tests/sim.rs and, in the browser, by tests/web_scenarios.rs.".to_string(),
        "# Re-record: REPLSCOPE_BLESS=1 cargo test --no-default-features --test sim generated_scenarios".to_string(),
    ];
    for seed in HASHED_SEEDS {
        let s = random_scenario(seed);
        assert!(s.actions.iter().any(|a| a.is_fault()), "seed {seed} has no fault: pick another");
        let summary = run_catching(&s).unwrap_or_else(|f| panic!("seed {seed}: {f}"));
        lines.push(format!("{seed} {}", summary.log_hash));
    }
    let text = lines.join("\n") + "\n";
    if std::env::var_os("REPLSCOPE_BLESS").is_some() {
        std::fs::write(HASH_FILE, &text).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(HASH_FILE).expect("tests/scenarios/sim_hashes.txt (record it with REPLSCOPE_BLESS=1)");
    assert_eq!(recorded, text, "log hashes changed: if the change is meant, re-record with REPLSCOPE_BLESS=1");
}
