//! The simulator's sweep in the normal test run: random scenarios from many seeds, each
//! checked against replication's invariants, with no panic and no violation. A failure
//! prints the seed and the commands that replay it. Also shows that the checker does see
//! a replica that cannot converge, and a failed expectation. And the built binary on
//! share links: `run <link>` as documentation checks its examples, `link` as it makes them.
#![cfg(not(target_arch = "wasm32"))]

use crate::recorded;

use replscope::scenario::checker::ViolationKind;
use replscope::scenario::generate::{random_scenario, run_catching, shrink, Failure};
use replscope::scenario::runner::run;
use replscope::scenario::Scenario;

/// Seeds in the debug sweep (`REPLSCOPE_SIM_SEEDS` overrides; the release sweep of 10 000
/// seeds is `replscope-sim sweep --seeds 10000`).
fn seeds() -> u64 {
    std::env::var("REPLSCOPE_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500)
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
    assert!(
        compared > 0,
        "the sweep compared no replica with its master: the checker is not looking"
    );
    failures
}

// Two halves, so the test harness can run them on two cores.
#[test]
fn random_scenarios_keep_every_invariant_first_half() {
    let n = seeds();
    let failures = sweep(0..n / 2);
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed:\n{}",
        failures.len(),
        n / 2,
        failures.join("\n")
    );
}

#[test]
fn random_scenarios_keep_every_invariant_second_half() {
    let n = seeds();
    let failures = sweep(n / 2..n);
    assert!(
        failures.is_empty(),
        "{} of {} seeds failed:\n{}",
        failures.len(),
        n - n / 2,
        failures.join("\n")
    );
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

/// A master that wants a password its replica does not give.
const AUTH_MISMATCH: &str = r#"{
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

/// A replica that cannot authenticate never converges: the liveness check must say so,
/// name the replica and why, and shrinking keeps the failure.
#[test]
fn a_replica_that_cannot_sync_is_a_liveness_violation() {
    let s = Scenario::from_json(AUTH_MISMATCH).unwrap();
    let failure = run_catching(&s).expect_err("r cannot authenticate");
    let Failure::Violations(v) = &failure else {
        panic!("{failure}")
    };
    assert_eq!(v.len(), 1, "{failure}");
    assert_eq!(v[0].kind, ViolationKind::Liveness);
    assert!(
        v[0].message.contains("replica r's link to m is"),
        "{}",
        v[0]
    );
    assert!(
        v[0].to_string()
            .starts_with(&format!("event #{} t=", v[0].index)),
        "{}",
        v[0]
    );
    let (small, small_failure) = shrink(&s, &failure, 50);
    assert_eq!(small_failure.kind(), Some(ViolationKind::Liveness));
    assert!(
        small.actions.is_empty(),
        "nothing but the auth mismatch is needed: {}",
        small.to_json()
    );
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
    assert!(
        msgs[0].contains("r's INFO replication master_link_status: expected \"down\", got \"up\""),
        "{msgs:?}"
    );
    assert!(
        msgs[1].contains("the log never shows \"no such text\""),
        "{msgs:?}"
    );
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
/// natively here and in the browser (`tests/web/web_scenarios.rs`): the same scenario must
/// give the same log in every build. Their scenarios have faults (partitions, crashes and
/// restarts, pauses, link settings).
const HASHED_SEEDS: [u64; 4] = [3, 12, 26, 110];
const HASH_FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/scenarios/sim_hashes.txt"
);

/// Checks the recorded hashes, or records them again with `REPLSCOPE_BLESS=1`.
#[test]
fn generated_scenarios_match_their_recorded_log_hashes() {
    let mut lines = vec![
        "# seed log-hash of replscope::scenario::generate::random_scenario(seed), run natively;".to_string(),
        "# checked by tests/scenario/sim.rs and, in the browser, by tests/web/web_scenarios.rs.".to_string(),
        "# Re-record: REPLSCOPE_BLESS=1 cargo test --no-default-features --test scenario sim::generated_scenarios".to_string(),
    ];
    for seed in HASHED_SEEDS {
        let s = random_scenario(seed);
        assert!(
            s.actions.iter().any(|a| a.is_fault()),
            "seed {seed} has no fault: pick another"
        );
        let summary = run_catching(&s).unwrap_or_else(|f| panic!("seed {seed}: {f}"));
        lines.push(format!("{seed} {}", summary.log_hash));
    }
    recorded::check_or_bless(HASH_FILE, &(lines.join("\n") + "\n"), "log hashes");
}

// ------------------------------------------------------------------ share links

mod links {
    use std::process::{Command, Output};

    use replscope::scenario::share_link::{decode, encode, SharedRun};
    use replscope::scenario::Scenario;

    const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/links/golden");

    fn sim(args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_replscope-sim"))
            .args(args)
            .output()
            .expect("run replscope-sim")
    }

    fn stdout(out: &Output) -> String {
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn stderr(out: &Output) -> String {
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn golden(name: &str) -> String {
        std::fs::read_to_string(format!("{GOLDEN}/{name}"))
            .unwrap()
            .trim_end()
            .to_string()
    }

    /// A documentation example: the page's address with a link runs in the terminal, and
    /// shows the same final state as the scenario file it was made from.
    #[test]
    fn run_opens_a_link_and_prints_the_final_info() {
        let url = format!(
            "https://example.org/replscope/#{}",
            golden("with-step.link")
        );
        let out = sim(&["run", &url]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        let text = stdout(&out);
        let from_file = sim(&["run", &format!("{GOLDEN}/with-step.json"), "--summary"]);
        assert_eq!(from_file.status.code(), Some(0));
        assert!(
            text.ends_with(&stdout(&from_file)),
            "the link's summary differs from its file's:\n{text}\n---\n{}",
            stdout(&from_file)
        );
        assert!(
            text.starts_with("step: the link opens with the first 81 of the "),
            "{text}"
        );
        assert!(
            text.contains("\nr (port 6381): 2 keys") && text.contains("  master_link_status:up\n"),
            "{text}"
        );
        assert!(
            text.contains("partial: PSYNC2") && text.contains("invariants: all held"),
            "{text}"
        );
        assert!(!text.contains("console>"), "no log without --log:\n{text}");
    }

    #[test]
    fn run_with_log_prints_every_log_entry() {
        let link = golden("with-step.link");
        let out = sim(&["run", &link, "--log"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        let entries: Vec<&str> = text.lines().take_while(|l| !l.is_empty()).collect();
        let total: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("log: "))
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse().ok())
            .expect("log: N entries");
        assert_eq!(entries.len(), total, "{text}");
        for (i, line) in entries.iter().enumerate() {
            assert!(line.starts_with(&format!("#{i} t=")), "entry {i}: {line}");
        }
        // The partial resync the scenario is about. (The link's step, 81, ended at it
        // when the link was made; a full sync has taken longer since, as in Redis.)
        assert!(
            entries[92].contains("SyncDecision") && entries[92].contains("partial: true"),
            "{}",
            entries[92]
        );
        assert!(text.contains("console> SET b 2"));
    }

    #[test]
    fn run_refuses_a_bad_link_with_the_pages_message() {
        let link = golden("with-step.link");
        let cases = [
            // Cut at a whole number of base64 quads: the compressed data ends early.
            (format!("#{}", &link[..203]), "replscope-sim: this link is truncated or corrupt: the compressed data ends early (was the link cut off when it was copied?)"),
            ("#v9.abc".to_string(), "replscope-sim: this link was made by a newer replscope (link format v9); this page reads links up to v1"),
            ("https://example.org/replscope/".to_string(), "replscope-sim: this address has no \"#v1.…\" part, so it holds no run: was the link cut off before its '#'?"),
        ];
        for (arg, expected) in cases {
            let out = sim(&["run", &arg]);
            assert_eq!(out.status.code(), Some(2), "{arg}: {}", stdout(&out));
            assert_eq!(stderr(&out).trim_end(), expected, "{arg}");
            assert!(stdout(&out).is_empty(), "{arg}");
        }
        // Neither a file nor a link: the file's error, as before links.
        let out = sim(&["run", "no-such-file.json"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            stderr(&out).starts_with("replscope-sim: no-such-file.json: "),
            "{}",
            stderr(&out)
        );
    }

    #[test]
    fn run_exits_1_when_a_links_expectation_fails() {
        let mut scenario = Scenario::from_json(
            &std::fs::read_to_string(format!("{GOLDEN}/with-step.json")).unwrap(),
        )
        .unwrap();
        scenario.expect.info[0].equals = "down".into();
        let link = encode(&SharedRun {
            scenario,
            step: None,
        });
        let out = sim(&["run", &link]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}{}",
            stdout(&out),
            stderr(&out)
        );
        assert!(
            stdout(&out).contains("invariant violations: 1"),
            "{}",
            stdout(&out)
        );
        assert!(!stdout(&out).contains("step:"), "no step, no step line");
    }

    #[test]
    fn link_prints_a_link_that_opens_to_the_file() {
        let path = format!("{GOLDEN}/unicode-quotes.json");
        let out = sim(&["link", &path, "--step", "12"]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let text = stdout(&out);
        assert_eq!(text.lines().count(), 1, "{text}");
        let run = decode(&text).unwrap_or_else(|e| panic!("{e}"));
        let file = Scenario::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            run,
            SharedRun {
                scenario: file.clone(),
                step: Some(12)
            }
        );
        let out = sim(&["link", &path]);
        assert_eq!(
            decode(&stdout(&out)).unwrap(),
            SharedRun {
                scenario: file,
                step: None
            }
        );
    }

    #[test]
    fn link_refuses_bad_input() {
        let dir = std::env::temp_dir().join(format!("replscope-sim-link-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.json");
        std::fs::write(
            &bad,
            r#"{"version": 1, "seed": 0, "servers": [{"name": "m", "port": 0}]}"#,
        )
        .unwrap();
        let bad = bad.to_string_lossy().into_owned();
        let out = sim(&["link", &bad]);
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            stderr(&out).trim_end(),
            format!("replscope-sim: {bad}: servers[0].port: 0 is not a TCP port (1 to 65535)")
        );
        let good = format!("{GOLDEN}/minimal.json");
        for args in [
            vec!["link"],
            vec!["link", &good, "--step"],
            vec!["link", &good, "--step", "-3"],
            vec!["link", &good, "--bogus"],
        ] {
            let out = sim(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(stdout(&out).is_empty(), "{args:?}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Shrinking drops a server nothing needs: the links and checks that address the servers
/// after it by id move down with them, and still name the same servers in the file.
#[test]
fn shrinking_a_server_away_renumbers_links_and_checks() {
    let edits = [
        (
            r#"    {"name": "r""#,
            "    {\"name\": \"idle\", \"port\": 6390},\n    {\"name\": \"r\"",
        ),
        (
            r#""actions": ["#,
            r#""expect": {"info": [{"server": "r", "field": "role", "equals": "slave"}]}, "actions": ["#,
        ),
    ];
    let text = edits
        .iter()
        .fold(AUTH_MISMATCH.to_string(), |text, (from, to)| {
            assert!(text.contains(from), "{from}");
            text.replacen(from, to, 1)
        });
    let s = Scenario::from_json(&text).unwrap();
    assert_eq!((s.topology[0].replica, s.topology[0].master), (2, 0));
    let failure = run_catching(&s).expect_err("r cannot authenticate");
    let (small, small_failure) = shrink(&s, &failure, 50);
    assert_eq!(small_failure.kind(), Some(ViolationKind::Liveness));
    let names: Vec<&str> = small.servers.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["m", "r"], "{}", small.to_json());
    assert_eq!(
        (small.topology[0].replica, small.topology[0].master),
        (1, 0)
    );
    assert_eq!(small.expect.info[0].server, 1);
    let json = small.to_json();
    assert!(json.contains(r#""replica": "r""#), "{json}");
    assert!(json.contains(r#""server": "r""#), "{json}");
}
