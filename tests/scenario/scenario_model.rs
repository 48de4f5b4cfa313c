//! The scenario file format: round trips, one clear error per bad input naming its field,
//! and no panic on any JSON.
#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use replscope::scenario::generate::random_scenario;
use replscope::scenario::runner::run;
use replscope::scenario::{Action, Scenario, FORMAT_VERSION};

const GOOD: &str = r#"{
  "version": 1,
  "seed": 7,
  "servers": [
    {"name": "m", "port": 6380, "config": {"repl-backlog-size": "16kb", "repl-diskless-sync-delay": "0"}},
    {"name": "r1", "port": 6381},
    {"name": "r2", "port": 6382}
  ],
  "topology": [{"replica": "r1", "master": "m"}, {"replica": "r2", "master": "r1"}],
  "actions": [
    {"do": "command", "at": 100, "server": "m", "line": "SET a 1"},
    {"do": "load", "at": 200, "server": "m", "rate": 20, "duration_ms": 500, "type": "hash", "keys": 5, "ttl_ms": 10000, "multi": true},
    {"do": "cut", "at": 800, "a": "m", "b": "r1"},
    {"do": "command", "at": 900, "server": "m", "line": "SET during cut"},
    {"do": "heal", "at": 2000, "a": "m", "b": "r1"},
    {"do": "command", "at": 5000, "server": "m", "line": "WAIT 1 100"},
    {"do": "replicaof", "at": 6000, "server": "r1"},
    {"do": "replicaof", "at": 6010, "server": "m", "master": "r1"}
  ],
  "expect": {"info": [{"server": "m", "field": "role", "equals": "slave"}], "log_contains": ["+CONTINUE"]}
}"#;

#[test]
fn a_good_file_parses_round_trips_and_runs_clean() {
    let s = Scenario::from_json(GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.version, FORMAT_VERSION);
    assert_eq!(s.servers.len(), 3);
    assert!(matches!(s.actions[1], Action::Load { multi: true, .. }));
    let again = Scenario::from_json(&s.to_json()).expect("its own JSON parses");
    assert_eq!(again, s);
    let run = run(&s).expect("valid");
    assert!(run.violations().is_empty(), "{}", run.summary);
    assert!(run.summary.checks.safety_comparisons > 0, "{}", run.summary);
    assert!(
        run.summary.syncs.iter().any(|d| d.partial),
        "the heal continues partially:\n{}",
        run.summary
    );
}

#[test]
fn the_same_scenario_gives_the_same_log() {
    let s = Scenario::from_json(GOOD).unwrap();
    let a = run(&s).unwrap().summary;
    let b = run(&s).unwrap().summary;
    assert_eq!(a.log_hash, b.log_hash);
    let mut other = s.clone();
    other.seed = 8;
    assert_ne!(
        run(&other).unwrap().summary.log_hash,
        a.log_hash,
        "the seed must matter"
    );
}

#[test]
fn random_scenarios_round_trip() {
    for seed in 0..200 {
        let s = random_scenario(seed);
        s.validate()
            .unwrap_or_else(|e| panic!("seed {seed}: generated an invalid scenario: {e}"));
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s, "seed {seed}");
    }
}

/// Replaces `from` with `to` in the good file (once, and it must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "the good file has no {from:?}");
    GOOD.replacen(from, to, 1)
}

#[test]
fn each_bad_input_gets_one_error_naming_its_field() {
    let servers9: Vec<String> = (0..9)
        .map(|i| format!(r#"{{"name": "s{i}", "port": {}}}"#, 7000 + i))
        .collect();
    let nine = format!(
        r#"{{"version": 1, "seed": 1, "servers": [{}]}}"#,
        servers9.join(",")
    );
    let cases: Vec<(String, &str)> = vec![
        (edit(r#""port": 6382"#, r#""port": 6381"#), "servers[2].port: duplicate port 6381"),
        (edit(r#""at": 900"#, r#""at": -5"#), "actions[3].at: negative time"),
        (edit(r#""at": 100, "server": "m""#, r#""at": 100, "server": "r9""#), "actions[0].server: unknown server \"r9\""),
        (edit(r#""version": 1"#, r#""version": 7"#), "version: 7 is newer than this replscope understands (1)"),
        (edit(r#""version": 1"#, r#""version": 0"#), "version: 0 is not a version (they start at 1)"),
        (edit(r#""version": 1,"#, ""), "version: missing (this replscope writes version 1)"),
        (nine, "servers: 9 servers, more than the limit of 8"),
        (edit(r#""rate": 20"#, r#""rate": 1000000000000"#), "actions[1].rate: 1000000000000 writes/s is outside 1 to 10000"),
        (edit(r#""duration_ms": 500"#, r#""duration_ms": 0"#), "actions[1].duration_ms: 0 ms is outside 1 to 3600000"),
        (edit(r#""keys": 5"#, r#""keys": 0"#), "actions[1].keys: 0 keys is outside 1 to 1000000"),
        (edit(r#""ttl_ms": 10000"#, r#""ttl_ms": -1"#), "actions[1].ttl_ms: -1 ms is outside 1 to 86400000"),
        (edit(r#""at": 5000"#, r#""at": 100000000000"#), "actions[5].at: 100000000000 ms is later than the limit of 86400000 ms (one virtual day)"),
        (edit(r#""name": "r2""#, r#""name": "r1""#), "servers[2].name: duplicate name \"r1\""),
        (edit(r#""name": "r2""#, r#""name": """#), "servers[2].name: \"\" is not a name (1 to 64 bytes, no spaces)"),
        (edit(r#""port": 6381"#, r#""port": 70000"#), "servers[1].port: 70000 is not a TCP port (1 to 65535)"),
        (edit(r#""port": 6381"#, r#""port": "x""#), "servers[1].port: invalid type: string \"x\", expected i64"),
        (edit(r#""16kb""#, r#""lots""#), "servers[0].config.repl-backlog-size: argument must be a memory value"),
        (edit(r#""repl-backlog-size""#, r#""no-such-option""#), "servers[0].config.no-such-option: not a Redis option this replscope knows"),
        (edit(r#""repl-backlog-size": "16kb""#, r#""port": "7000""#), "servers[0].config.port: set by the scenario itself: use the server's \"port\" field"),
        (edit(r#"{"replica": "r2", "master": "r1"}"#, r#"{"replica": "r2", "master": "r2"}"#), "topology[1]: \"r2\" cannot replicate itself"),
        (edit(r#"{"replica": "r2", "master": "r1"}"#, r#"{"replica": "r1", "master": "m"}"#), "topology[1].replica: \"r1\" already has a master"),
        (edit(r#""master": "r1"}]"#, r#""master": "zz"}]"#), "topology[1].master: unknown server \"zz\""),
        (edit(r#""line": "SET a 1""#, r#""line": "SET \"a 1""#), "actions[0].line: unbalanced quotes (redis-cli would not send it)"),
        (edit(r#""line": "SET a 1""#, r#""line": "   ""#), "actions[0].line: empty command"),
        (edit(r#""b": "r1"}"#, r#""b": "m"}"#), "actions[2].b: a link joins two servers, not \"m\" to itself"),
        (edit(r#""at": 6010, "server": "m""#, r#""at": 6010, "server": "r1""#), "actions[7].master: \"r1\" cannot replicate itself"),
        (edit(r#""do": "cut""#, r#""do": "explode""#), "actions[2].do: unknown variant `explode`, expected one of `command`, `replicaof`, `cut`, `heal`, `sever`, `partition`, `partition_one_way`, `hold`, `release`, `set_link`, `crash`, `restart`, `save`, `pause`, `resume`, `add_server`, `remove`, `generate`, `load`"),
        // A bad value inside an action names its field, not just the action.
        (edit(r#""type": "hash""#, r#""type": "stream""#), "actions[1].type: unknown variant `stream`, expected one of `string`, `list`, `hash`, `set`, `zset`, `mixed`"),
        (edit(r#""seed": 7"#, r#""seed": -7"#), "seed: invalid value: integer `-7`, expected u64"),
        (edit(r#""seed": 7,"#, r#""seed": 7, "colour": "red","#), "colour: unknown field `colour`, expected one of `version`, `seed`, `description`, `title`, `narration`, `servers`, `topology`, `actions`, `end_ms`, `expect`"),
        (edit(r#""field": "role""#, r#""field": "role", "server2": "m""#), "expect.info[0].server2: unknown field `server2`, expected one of `server`, `field`, `equals`"),
        (edit(r#"{"server": "m", "field""#, r#"{"server": "q", "field""#), "expect.info[0].server: unknown server \"q\""),
        ("[1, 2]".to_string(), "expected a JSON object with \"version\", \"seed\", \"servers\" and \"actions\""),
        (r#"{"version": 1, "seed": 1, "servers": []}"#.to_string(), "servers: no servers: a scenario needs at least one"),
        (
            r#"{"version": 1, "seed": 1, "servers": [{"name": "a", "port": 1}], "actions": [{"do": "load", "at": 0, "server": "a", "rate": 10000, "duration_ms": 3600000, "type": "set", "keys": 1}]}"#.to_string(),
            "actions[0].at: the actions so far type more than 200000 commands, the limit for one scenario",
        ),
    ];
    let mut failures = Vec::new();
    for (input, want) in &cases {
        match Scenario::from_json(input) {
            Ok(_) => failures.push(format!("accepted, wanted {want:?}")),
            Err(e) if e.to_string() == *want => {}
            Err(e) => failures.push(format!("got  {:?}\nwant {want:?}", e.to_string())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// A scenario with every fault the bus has, as actions.
const FAULTS: &str = r#"{
  "version": 1,
  "seed": 11,
  "servers": [
    {"name": "m", "port": 6380, "config": {"repl-diskless-sync-delay": "0", "repl-timeout": "5"}},
    {"name": "r1", "port": 6381, "config": {"repl-timeout": "5"}},
    {"name": "r2", "port": 6382, "config": {"repl-timeout": "5"}}
  ],
  "topology": [{"replica": "r1", "master": "m"}, {"replica": "r2", "master": "m"}],
  "actions": [
    {"do": "load", "at": 100, "server": "m", "rate": 50, "duration_ms": 1000, "type": "mixed", "keys": 10},
    {"do": "set_link", "at": 200, "from": "m", "to": "r1", "latency_ms": 20, "bandwidth": 500, "extra_delay_ms": 5, "jitter_ms": 10, "both_ways": true},
    {"do": "sever", "at": 400, "a": "m", "b": "r2", "detect_ms": 300},
    {"do": "partition", "at": 1500, "a": "m", "b": "r1"},
    {"do": "command", "at": 1600, "server": "m", "line": "SET during partition"},
    {"do": "heal", "at": 8000, "a": "m", "b": "r1"},
    {"do": "partition_one_way", "at": 8500, "from": "r2", "to": "m"},
    {"do": "release", "at": 9000, "from": "r2", "to": "m"},
    {"do": "hold", "at": 9100, "from": "m", "to": "r2"},
    {"do": "release", "at": 9200, "from": "m", "to": "r2"},
    {"do": "save", "at": 9500, "server": "r1"},
    {"do": "crash", "at": 9600, "server": "r1"},
    {"do": "restart", "at": 9900, "server": "r1", "with_rdb": true},
    {"do": "pause", "at": 10000, "server": "r2"},
    {"do": "resume", "at": 10500, "server": "r2"},
    {"do": "command", "at": 11000, "server": "m", "line": "SET a 1"},
    {"do": "command", "at": 11001, "server": "m", "line": "WAIT 2 1000"},
    {"do": "restart", "at": 12000, "server": "m", "with_rdb": false},
    {"do": "set_link", "at": 12100, "from": "m", "to": "r1"}
  ],
  "expect": {"log_contains": ["Connection with master lost", "restarted", "MASTER timeout: no data nor PING received", "Disconnecting timedout replica"]}
}"#;

#[test]
fn every_fault_is_an_action_and_runs_clean() {
    let s = Scenario::from_json(FAULTS).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s, "round trip");
    let run = run(&s).expect("valid");
    assert!(run.violations().is_empty(), "{}", run.summary);
    let log: Vec<String> = run.bus.log().iter().map(|e| e.line()).collect();
    let has = |t: &str| log.iter().any(|l| l.contains(t));
    for t in [
        "sever s0 <-> s2",
        "hold s0 -> s1",
        "hold s1 -> s0",
        "hold s2 -> s0",
        "released s2 -> s0",
        "link s0 -> s1: latency 20ms",
        "link s1 -> s0",
        "crash s1",
        "pause s2",
        "resumed",
        "restart s0 (without an RDB)",
    ] {
        assert!(has(t), "the log never shows {t:?}");
    }
    // The master restarted empty: the acknowledged SET is legitimately gone, and the
    // replicas follow the new history.
    assert!(
        run.summary.servers.iter().all(|s| s.keys == 0),
        "{}",
        run.summary
    );
    assert!(run.summary.checks.waits_checked > 0, "{}", run.summary);
}

/// An acknowledged write lost by a restart from an RDB that holds it is a violation:
/// the checker does not excuse every restart.
#[test]
fn a_restart_from_a_recent_save_must_keep_acknowledged_writes() {
    let s = Scenario::from_json(r#"{
      "version": 1, "seed": 2,
      "servers": [{"name": "m", "port": 6380, "config": {"repl-diskless-sync-delay": "0"}}, {"name": "r", "port": 6381}],
      "topology": [{"replica": "r", "master": "m"}],
      "actions": [
        {"do": "command", "at": 100, "server": "m", "line": "SET a 1"},
        {"do": "command", "at": 101, "server": "m", "line": "WAIT 1 1000"},
        {"do": "save", "at": 200, "server": "m"},
        {"do": "restart", "at": 300, "server": "m", "with_rdb": true}
      ]
    }"#).unwrap();
    let run = run(&s).unwrap();
    assert!(run.violations().is_empty(), "{}", run.summary);
    assert!(
        run.summary.servers.iter().all(|s| s.keys == 1),
        "{}",
        run.summary
    );
    assert!(run.summary.checks.waits_checked == 1, "{}", run.summary);
}

#[test]
fn bad_fault_actions_get_one_error_naming_their_field() {
    let one = |action: &str| {
        format!(
            r#"{{"version": 1, "seed": 1, "servers": [{{"name": "a", "port": 1}}, {{"name": "b", "port": 2}}], "actions": [{{"do": "save", "at": 0, "server": "a"}}, {action}]}}"#
        )
    };
    let cases = [
        (r#"{"do": "crash", "at": 5, "server": "x"}"#, "actions[1].server: unknown server \"x\""),
        (r#"{"do": "set_link", "at": 5, "from": "a", "to": "b", "jitter_ms": 10000000}"#, "actions[1].jitter_ms: 10000000 is over the limit 60000"),
        (r#"{"do": "set_link", "at": 5, "from": "a", "to": "b", "latency_ms": -1}"#, "actions[1].latency_ms: -1 is under the minimum 0"),
        (r#"{"do": "set_link", "at": 5, "from": "a", "to": "b", "extra_delay_ms": 60001}"#, "actions[1].extra_delay_ms: 60001 is over the limit 60000"),
        (r#"{"do": "set_link", "at": 5, "from": "a", "to": "b", "bandwidth": 0}"#, "actions[1].bandwidth: 0 bytes/ms: a link carries at least 1 (leave it out for unlimited)"),
        (r#"{"do": "set_link", "at": 5, "from": "a", "to": "b", "bandwidth": 2000000}"#, "actions[1].bandwidth: 2000000 is over the limit 1000000 bytes/ms"),
        (r#"{"do": "sever", "at": 5, "a": "a", "b": "b", "detect_ms": 70000}"#, "actions[1].detect_ms: 70000 is over the limit 60000"),
        (r#"{"do": "sever", "at": 5, "a": "a", "b": "a"}"#, "actions[1].b: a link joins two servers, not \"a\" to itself"),
        (r#"{"do": "partition", "at": 5, "a": "a", "b": "q"}"#, "actions[1].b: unknown server \"q\""),
        (r#"{"do": "partition_one_way", "at": 5, "from": "b", "to": "b"}"#, "actions[1].to: a link joins two servers, not \"b\" to itself"),
        (r#"{"do": "hold", "at": 5, "from": "z", "to": "b"}"#, "actions[1].from: unknown server \"z\""),
        (r#"{"do": "release", "at": -5, "from": "a", "to": "b"}"#, "actions[1].at: negative time"),
        (r#"{"do": "pause", "at": 100000000, "server": "a"}"#, "actions[1].at: 100000000 ms is later than the limit of 86400000 ms (one virtual day)"),
        (r#"{"do": "restart", "at": 5, "server": "a"}"#, "actions[1]: missing field `with_rdb`"),
        (r#"{"do": "resume", "at": 5, "server": "a", "for_ms": 3}"#, "actions[1]: unknown field `for_ms`, expected `at` or `server`"),
        // The kind may come last: fields read before it are checked once it is known.
        (r#"{"at": 5, "server": "a", "for_ms": 3, "do": "resume"}"#, "actions[1]: unknown field `for_ms`, expected `at` or `server`"),
        (r#"{"at": 5, "a": "a", "b": "b", "do": "resume"}"#, "actions[1]: unknown field `a`, expected `at` or `server`"),
        (r#"{"at": 5, "server": "a"}"#, "actions[1]: missing field `do`"),
        (r#"{"do": "crash", "at": "soon", "server": "a"}"#, "actions[1].at: invalid type: string \"soon\", expected i64"),
        (r#"{"do": "load", "at": 0, "server": "a", "rate": 1, "duration_ms": 1, "keys": 1}"#, "actions[1]: missing field `type`"),
        (r#""crash""#, "actions[1]: invalid type: string \"crash\", expected an action: an object with \"do\" and \"at\""),
    ];
    let mut failures = Vec::new();
    for (action, want) in cases {
        match Scenario::from_json(&one(action)) {
            Ok(_) => failures.push(format!("{action}: accepted, wanted {want:?}")),
            Err(e) if e.to_string() == want => {}
            Err(e) => failures.push(format!(
                "{action}:\n got  {:?}\n want {want:?}",
                e.to_string()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn syntax_errors_say_where() {
    let e = Scenario::from_json("{\"version\": 1,,}")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("not valid JSON: ") && e.contains("line 1"),
        "{e}"
    );
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-2i64..100_000).prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(vec![
            "m",
            "r1",
            "s0",
            "SET a 1",
            "WAIT 1 10",
            "command",
            "load",
            "cut",
            "heal",
            "replicaof",
            "hash",
            "mixed",
            "16kb",
            "repl-backlog-size",
            "",
            "crash",
            "restart",
            "partition",
            "set_link",
            "sever",
            "pause",
        ])
        .prop_map(Value::from),
        "[a-z\\- ]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        let keys = prop::sample::select(vec![
            "version",
            "seed",
            "servers",
            "name",
            "port",
            "config",
            "topology",
            "replica",
            "master",
            "actions",
            "do",
            "at",
            "server",
            "line",
            "a",
            "b",
            "rate",
            "duration_ms",
            "type",
            "keys",
            "value_bytes",
            "ttl_ms",
            "multi",
            "expect",
            "end_ms",
            "liveness",
            "info",
            "field",
            "equals",
            "log_contains",
            "repl-backlog-size",
            "from",
            "to",
            "with_rdb",
            "detect_ms",
            "latency_ms",
            "bandwidth",
            "jitter_ms",
            "extra_delay_ms",
            "both_ways",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.prop_map(String::from), inner, 0..8)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any JSON at all: an error or a scenario, never a panic.
    #[test]
    fn random_json_never_panics(value in json_value()) {
        let _ = Scenario::from_json(&value.to_string());
    }

    /// Shaped like a scenario, with random values: mostly refused, never a panic; what
    /// is accepted runs (tiny ones only, so the test stays fast).
    #[test]
    fn scenario_shaped_json_never_panics(
        version in -1i64..3,
        ports in prop::collection::vec(-1i64..70_000, 0..4),
        at in -10i64..3_000,
        rate in -1i64..50,
        line in "[A-Z]{1,6}( [a-z0-9\"]{0,4}){0,3}",
    ) {
        let servers: Vec<String> = ports.iter().enumerate().map(|(i, p)| format!(r#"{{"name": "s{i}", "port": {p}}}"#)).collect();
        let text = format!(
            r#"{{"version": {version}, "seed": 3, "servers": [{}], "topology": [{{"replica": "s1", "master": "s0"}}],
                "actions": [{{"do": "command", "at": {at}, "server": "s0", "line": {}}},
                            {{"do": "load", "at": {at}, "server": "s0", "rate": {rate}, "duration_ms": 100, "type": "mixed", "keys": 3}}],
                "expect": {{"liveness": false}}}}"#,
            servers.join(","),
            serde_json::Value::from(line.as_str()),
        );
        if let Ok(s) = Scenario::from_json(&text) {
            let _ = run(&s);
        }
    }
}

/// What the page records: a server added mid-run, the page's load generator, a removal,
/// narration. They validate, run clean, and the generator's writes all arrive.
const PAGE_SESSION: &str = r#"{
  "version": 1,
  "seed": 3,
  "title": "Added later",
  "narration": [{"at": 0, "text": "One master."}, {"at": 1000, "text": "A replica joins."}],
  "servers": [{"name": "m", "port": 6380, "config": {"repl-diskless-sync-delay": "0"}}],
  "actions": [
    {"do": "add_server", "at": 1000, "name": "late", "port": 6390},
    {"do": "replicaof", "at": 1000, "server": "late", "master": "m"},
    {"do": "generate", "at": 2000, "server": "m", "write": "incr", "rate": 50, "keys": 1, "value_size": 8, "stop_at": 3000},
    {"do": "add_server", "at": 4000, "name": "gone", "port": 6391},
    {"do": "remove", "at": 5000, "server": "gone"}
  ],
  "expect": {"info": [{"server": "late", "field": "master_link_status", "equals": "up"}]}
}"#;

#[test]
fn page_actions_validate_and_run() {
    let s = Scenario::from_json(PAGE_SESSION).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.server_index("late"), Some(1));
    assert_eq!(s.server_index("gone"), Some(2));
    assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
    let run = run(&s).unwrap();
    assert!(run.violations().is_empty(), "{}", run.summary);
    let late = &run.summary.servers[1];
    assert_eq!(late.keys, 1, "{}", run.summary);
    // 50 writes/s for one second, all on one counter.
    let counter = run
        .bus
        .server(1)
        .node
        .keyspace()
        .get(0, b"load:counter:0", run.bus.now())
        .map(|e| e.value.clone());
    assert_eq!(
        counter,
        Some(replscope::engine::keyspace::Value::String(b"50".to_vec())),
        "{}",
        run.summary
    );
    assert!(run.bus.is_removed(2));
}

#[test]
fn page_action_errors_name_their_field() {
    let cases = [
        (
            r#""at": 1000, "server": "late", "master": "m""#,
            r#""at": 999, "server": "late", "master": "m""#,
            "actions[1].server: \"late\" only joins at 1000 ms (actions[0]), after this",
        ),
        (
            r#""port": 6390"#,
            r#""port": 6380"#,
            "actions[0].port: duplicate port 6380",
        ),
        (
            r#""stop_at": 3000"#,
            r#""stop_at": 2000"#,
            "actions[2].stop_at: 2000 ms must be after `at` (2000 ms) and at most 86400000 ms",
        ),
        (
            r#""rate": 50"#,
            r#""rate": 0"#,
            "actions[2].rate: writes/s must be a whole number from 1 to 10000",
        ),
        (
            r#"{"at": 1000, "text""#,
            r#"{"at": -1, "text""#,
            "narration[1].at: -1 ms is outside 0 to 86400000",
        ),
    ];
    for (from, to, expected) in cases {
        let text = PAGE_SESSION.replacen(from, to, 1);
        assert_ne!(text, PAGE_SESSION, "{from} not found");
        assert_eq!(
            Scenario::from_json(&text).unwrap_err().to_string(),
            expected
        );
    }
}

/// The topology and the `info` checks address servers by bus id, as actions do: a name
/// is resolved once, as the file is read, to a listed server or one an action adds, and
/// written back as it was. An id no server has is refused, not a panic.
#[test]
fn links_and_checks_address_servers_by_id() {
    let good = Scenario::from_json(GOOD).unwrap();
    let links: Vec<(usize, usize)> = good
        .topology
        .iter()
        .map(|l| (l.replica, l.master))
        .collect();
    assert_eq!(links, [(1, 0), (2, 1)]);
    assert_eq!(good.expect.info[0].server, 0);
    let page = Scenario::from_json(PAGE_SESSION).unwrap();
    assert_eq!(page.expect.info[0].server, 1, "\"late\" is added first");
    assert!(page.to_json().contains(r#""server": "late""#));
    // A link may not name a server before it joins.
    let early = PAGE_SESSION.replacen(
        r#""servers": [{"name": "m", "port": 6380, "config": {"repl-diskless-sync-delay": "0"}}],"#,
        r#""servers": [{"name": "m", "port": 6380, "config": {"repl-diskless-sync-delay": "0"}}], "topology": [{"replica": "late", "master": "m"}],"#,
        1,
    );
    assert_ne!(early, PAGE_SESSION);
    assert_eq!(
        Scenario::from_json(&early).unwrap_err().to_string(),
        "topology[0].replica: \"late\" only joins at 1000 ms (add_server)"
    );
    // A misspelt server and a bad definition: the definition is reported.
    let both = edit(r#""master": "r1"}]"#, r#""master": "zz"}]"#).replacen(
        r#""port": 6382"#,
        r#""port": 0"#,
        1,
    );
    assert_eq!(
        Scenario::from_json(&both).unwrap_err().to_string(),
        "servers[2].port: 0 is not a TCP port (1 to 65535)"
    );
    let mut bad = good.clone();
    bad.topology[1].master = 9;
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "topology[1].master: unknown server #9"
    );
    let mut bad = good.clone();
    bad.expect.info[0].server = 3;
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "expect.info[0].server: unknown server #3"
    );
    let unwritable = serde_json::to_string(&bad).unwrap_err().to_string();
    assert_eq!(unwritable, "no server #3");
}

/// Actions are read and written by hand (src/scenario/action_json.rs), servers named in the file
/// and addressed by id in the scenario: every kind, with each optional field set and with
/// none, is written back byte for byte as it was read, and the kinds written are the kinds
/// the reader lists.
#[test]
fn every_action_kind_reads_back_what_is_written() {
    use replscope::bus::Fault;
    use replscope::scenario::Written;
    let texts = [
        r#"{"do":"command","at":1,"server":"a","line":"SET k v"}"#,
        r#"{"do":"replicaof","at":2,"server":"a","master":"b"}"#,
        r#"{"do":"replicaof","at":2,"server":"a"}"#,
        r#"{"do":"cut","at":3,"a":"a","b":"b"}"#,
        r#"{"do":"heal","at":4,"a":"a","b":"b"}"#,
        r#"{"do":"sever","at":5,"a":"a","b":"b","detect_ms":7}"#,
        r#"{"do":"sever","at":5,"a":"a","b":"b","detect_ms":0}"#,
        r#"{"do":"partition","at":6,"a":"a","b":"b"}"#,
        r#"{"do":"partition_one_way","at":7,"from":"a","to":"b"}"#,
        r#"{"do":"hold","at":8,"from":"a","to":"b"}"#,
        r#"{"do":"release","at":9,"from":"a","to":"b"}"#,
        r#"{"do":"set_link","at":10,"from":"a","to":"b","latency_ms":3,"bandwidth":4,"extra_delay_ms":5,"jitter_ms":6,"both_ways":true}"#,
        r#"{"do":"set_link","at":10,"from":"a","to":"b"}"#,
        r#"{"do":"set_link","at":10,"from":"b","to":"a","latency_ms":1,"extra_delay_ms":0,"jitter_ms":0}"#,
        r#"{"do":"crash","at":11,"server":"a"}"#,
        r#"{"do":"restart","at":12,"server":"a","with_rdb":true}"#,
        r#"{"do":"save","at":13,"server":"a"}"#,
        r#"{"do":"pause","at":14,"server":"a"}"#,
        r#"{"do":"resume","at":15,"server":"a"}"#,
        r#"{"do":"add_server","at":16,"name":"c","port":6390,"config":{"repl-backlog-size":"1mb"}}"#,
        r#"{"do":"add_server","at":16,"name":"d","port":6391}"#,
        r#"{"do":"remove","at":17,"server":"d"}"#,
        r#"{"do":"generate","at":18,"server":"c","write":"set_ex","rate":10,"keys":5,"value_size":3,"ttl_s":4,"stop_at":900}"#,
        r#"{"do":"load","at":19,"server":"a","rate":10,"duration_ms":100,"type":"zset","keys":2,"value_bytes":9,"ttl_ms":50,"multi":true}"#,
        r#"{"do":"load","at":19,"server":"a","rate":10,"duration_ms":100,"type":"mixed","keys":2,"value_bytes":8}"#,
    ];
    let file = |actions: &[&str]| {
        format!(
            r#"{{"version":1,"seed":1,"servers":[{{"name":"a","port":1}},{{"name":"b","port":2}}],"actions":[{}]}}"#,
            actions.join(",")
        )
    };
    let whole = file(&texts);
    let s = Scenario::from_json(&whole).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(serde_json::to_string(&s).unwrap(), whole);

    // Servers by id: the listed ones, then those added in the order they join.
    let plain = |at, fault| Action::Fault {
        at,
        fault,
        written: Written::default(),
    };
    assert_eq!(s.actions[3], plain(3, Fault::Cut { a: 0, b: 1 }));
    assert_eq!(
        s.actions[7],
        Action::Fault {
            at: 6,
            fault: Fault::Hold { from: 0, to: 1 },
            written: Written {
                both_ways: true,
                partition: true,
                ..Written::default()
            },
        }
    );
    assert_eq!(
        s.actions[15],
        plain(
            12,
            Fault::Restart {
                server: 0,
                from_disk: true
            }
        )
    );
    assert_eq!(s.actions[21], Action::Remove { at: 17, server: 3 });
    assert!(matches!(s.actions[22], Action::Generate { server: 2, .. }));

    let kinds: std::collections::BTreeSet<String> = texts
        .iter()
        .map(|t| {
            serde_json::from_str::<serde_json::Value>(t).unwrap()["do"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let listed = Scenario::from_json(&file(&[r#"{"do": "no such kind"}"#]))
        .unwrap_err()
        .to_string();
    let listed: std::collections::BTreeSet<String> = listed
        .split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert_eq!(kinds, listed);

    // The defaults the format documents, when a field is left out or null, written out.
    let read = |text: &str| {
        let s = Scenario::from_json(&file(&[text])).unwrap_or_else(|e| panic!("{e}"));
        serde_json::to_string(&s).unwrap()
    };
    assert_eq!(
        read(r#"{"do": "sever", "at": 5, "a": "a", "b": "b"}"#),
        file(&[texts[6]])
    );
    assert_eq!(
        read(r#"{"do": "set_link", "at": 10, "from": "a", "to": "b", "latency_ms": null}"#),
        file(&[texts[12]])
    );
    assert_eq!(
        read(
            r#"{"at": 19, "do": "load", "server": "a", "rate": 10, "duration_ms": 100, "type": "mixed", "keys": 2}"#
        ),
        file(&[texts[24]])
    );
    let generate = Scenario::from_json(&file(&[
        r#"{"do": "generate", "at": 18, "server": "a", "write": "set", "rate": 10, "keys": 5, "value_size": 3, "stop_at": 900}"#,
    ]))
    .unwrap();
    assert!(
        matches!(generate.actions[0], Action::Generate { ttl_s: 10, .. }),
        "{generate:?}"
    );

    // Straight from the text, as the page reads, a repeated field is refused.
    let twice = serde_json::from_str::<Scenario>(&file(&[
        r#"{"do": "crash", "at": 5, "at": 6, "server": "a"}"#,
    ]))
    .unwrap_err()
    .to_string();
    assert!(twice.starts_with("duplicate field `at`"), "{twice}");
    let twice = serde_json::from_str::<Scenario>(&file(&[
        r#"{"do": "crash", "server": "a", "do": "save", "at": 5}"#,
    ]))
    .unwrap_err()
    .to_string();
    assert!(twice.starts_with("duplicate field `do`"), "{twice}");
    // A server no action may name, and one named before it is there.
    let unknown = Scenario::from_json(&file(&[r#"{"do": "crash", "at": 5, "server": "z"}"#]))
        .unwrap_err()
        .to_string();
    assert_eq!(unknown, "actions[0].server: unknown server \"z\"");
}
