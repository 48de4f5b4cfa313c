//! Hostile links: whatever a share link holds, opening it is bounded in work and memory.
//! The links the issue found (a 227-character load of 13 GB, a virtual day of idle
//! servers at `hz 500`, a convergence deadline of 2^31 seconds) and every scenario limit
//! and budget at its edge and just past it are built here with `link::encode`, then opened
//! as the page opens them: decode (which validates), then `Session::play_through`. Each
//! case must finish within a wall-time bound in this debug build and stay under a peak of
//! heap bytes, counted by this binary's global allocator; a link over a limit must give
//! the sentence that names it. Share is held to the same: it never writes a link this
//! build refuses.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use replscope::bus::{Bus, EPOCH_MS};
use replscope::scenario::checker::{liveness_bound_ms, MAX_LIVENESS_BOUND_MS};
use replscope::scenario::generator::{GenerateSpec, GenerateWrite};
use replscope::scenario::limits::*;
use replscope::scenario::session::Session;
use replscope::scenario::share::share;
use replscope::scenario::share_link::{self as link, LinkError, SharedRun};
use replscope::scenario::{runner, Action, Scenario};

/// Counts live heap bytes and their peak, so a case can say how much it used.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call goes to the system allocator as it is; only the counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// One test at a time, so that a peak belongs to the case that made it (each test holds
/// this for its whole length).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a case cost: wall time, and the heap's peak above what was live when it started.
struct Cost {
    wall: Duration,
    peak: usize,
}

fn measured<T>(f: impl FnOnce() -> T) -> (T, Cost) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let out = f();
    let wall = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (out, Cost { wall, peak })
}

const MIB: usize = 1 << 20;
/// A link refused before anything runs costs its decoding: the link, its JSON, the parse.
const REFUSED_WALL: Duration = Duration::from_secs(2);
const REFUSED_PEAK: usize = 16 * MIB;
/// A link that opens, in this debug build, on the 2-core machine shared with others.
const OPENED_WALL: Duration = Duration::from_secs(20);

/// Decodes `link` and plays it through as the page opens it.
fn open(link: &str) -> Result<(Session, Bus), LinkError> {
    let run = link::decode(link)?;
    Ok(Session::play_through(run.scenario).expect("a decoded scenario is valid"))
}

fn link_of(scenario: &Scenario) -> String {
    link::encode(&SharedRun {
        scenario: scenario.clone(),
        step: None,
    })
}

/// The link is refused, quickly and in little memory, with a sentence that contains `says`.
fn assert_refused(scenario: &Scenario, says: &str) -> String {
    let link = link_of(scenario);
    let (result, cost) = measured(|| open(&link).map(|_| ()));
    let message = result
        .expect_err("an over-budget link must be refused")
        .to_string();
    assert!(
        message.contains(says),
        "the sentence should say {says:?}: {message}"
    );
    assert!(cost.wall < REFUSED_WALL, "refusing took {:?}", cost.wall);
    assert!(
        cost.peak < REFUSED_PEAK,
        "refusing used {} bytes",
        cost.peak
    );
    message
}

/// The link opens, within `wall` and `peak`; returns the log's length.
fn assert_opens(scenario: &Scenario, wall: Duration, peak: usize) -> usize {
    let link = link_of(scenario);
    let (result, cost) = measured(|| open(&link).map(|(_, bus)| bus.log().len()));
    let entries = result.unwrap_or_else(|e| panic!("a link at the edge of a limit must open: {e}"));
    eprintln!(
        "opened in {:?}, peak {} MiB, {entries} log entries",
        cost.wall,
        cost.peak / MIB
    );
    assert!(cost.wall < wall, "opening took {:?}", cost.wall);
    assert!(cost.peak < peak, "opening used {} MiB", cost.peak / MIB);
    entries
}

/// `servers` servers (`s0` the master of the others) and `actions`, not validated: what a
/// hostile link may hold.
fn scenario(servers: usize, actions: &str) -> Scenario {
    let json = scenario_json(servers, actions);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}\n{json}"))
}

fn scenario_json(servers: usize, actions: &str) -> String {
    let list: Vec<String> = (0..servers)
        .map(|i| format!(r#"{{"name": "s{i}", "port": {}}}"#, 6380 + i))
        .collect();
    let topology: Vec<String> = (1..servers)
        .map(|i| format!(r#"{{"replica": "s{i}", "master": "s0"}}"#))
        .collect();
    format!(
        r#"{{"version": 1, "seed": 7, "servers": [{}], "topology": [{}], "actions": [{actions}]}}"#,
        list.join(", "),
        topology.join(", ")
    )
}

/// `make(n)` for the largest `n` in `lo..=hi` that validates (`make(lo)` must, `make(hi)`
/// must not): the edge of whatever limit `make` approaches.
fn edge(lo: i64, hi: i64, make: impl Fn(i64) -> Scenario) -> (Scenario, Scenario) {
    assert!(
        make(lo).validate().is_ok(),
        "{lo} should be within the limit"
    );
    assert!(
        make(hi).validate().is_err(),
        "{hi} should be past the limit"
    );
    let (mut lo, mut hi) = (lo, hi);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if make(mid).validate().is_ok() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (make(lo), make(hi))
}

/// [`scenario`] with `actions` as given.
fn raw(servers: usize, actions: Vec<Action>) -> Scenario {
    let mut s = scenario(servers, "");
    s.actions = actions;
    s
}

fn load(rate: i64, duration_ms: i64, kind: &str, keys: i64, value_bytes: i64) -> String {
    format!(
        r#"{{"do": "load", "at": 0, "server": "s0", "rate": {rate}, "duration_ms": {duration_ms}, "type": "{kind}", "keys": {keys}, "value_bytes": {value_bytes}}}"#
    )
}

// ------------------------------------------------------------------ the issue's links

#[test]
fn the_issues_227_character_link_is_refused_with_the_budget_it_breaks() {
    let _one = serial();
    let s = scenario(1, &load(10_000, 20_000, "string", 1_000_000, 65_536));
    let link = link_of(&s);
    assert!(link.len() < 250, "a short link: {} characters", link.len());
    let message = assert_refused(&s, "actions[0]: this load generator types 12.2 GiB of commands, over the budget of 16 MiB for one scenario by 12.2 GiB");
    assert!(
        message.starts_with("the scenario in this link is not valid: "),
        "{message}"
    );
}

#[test]
fn a_load_within_every_count_but_over_the_bytes_is_refused_as_a_generate_too() {
    let _one = serial();
    let s = scenario(
        2,
        r#"{"do": "generate", "at": 0, "server": "s0", "write": "set", "rate": 10000, "keys": 1000000, "value_size": 65536, "ttl_s": 10, "stop_at": 20000}"#,
    );
    assert_refused(
        &s,
        "actions[0]: this load generator types 12.2 GiB of commands, over the budget of 16 MiB",
    );
}

#[test]
fn a_virtual_day_at_hz_500_on_8_servers_is_refused_before_any_work() {
    let _one = serial();
    let at_hz = |hz: &str, end_ms: i64| {
        let mut s = scenario(8, "");
        for server in &mut s.servers {
            server.config.insert("hz".into(), hz.into());
        }
        s.end_ms = Some(end_ms);
        s
    };
    assert_refused(
        &at_hz("500", MAX_TIME_MS),
        "end_ms: 8 servers running 4,000 cron loops a virtual second (hz) for 86,400,000 ms come to 345,600,000 cron loops, over the budget of 10,000,000 by 335,600,000",
    );
    // The default hz for a whole day fits; 2,500 virtual seconds at hz 500 is the edge.
    at_hz("10", MAX_TIME_MS).validate().unwrap();
    at_hz("500", 2_500_000).validate().unwrap();
    assert_refused(
        &at_hz("500", 2_500_001),
        "come to 10,000,004 cron loops, over the budget of 10,000,000 by 4",
    );
    // A CONFIG SET typed in the actions counts as much as the config.
    let mut typed = scenario(
        8,
        r#"{"do": "command", "at": 0, "server": "s0", "line": "config set maxmemory 0 HZ 900"}"#,
    );
    typed.end_ms = Some(MAX_TIME_MS);
    assert_refused(
        &typed,
        "8 servers running 4,000 cron loops a virtual second",
    );
}

#[test]
fn a_convergence_deadline_of_two_to_the_31_seconds_is_capped() {
    let _one = serial();
    // In a server's config, and by a CONFIG SET typed later: the bound is taken from the
    // bus as the run reaches its last action.
    let huge = "2147483647";
    let mut s = scenario(
        2,
        &format!(
            r#"{{"do": "command", "at": 10, "server": "s1", "line": "CONFIG SET repl-timeout {huge}"}}"#
        ),
    );
    s.servers[0]
        .config
        .insert("repl-diskless-sync-delay".into(), huge.into());
    s.validate().unwrap();
    let (session, bus) = Session::play_through(s.clone()).unwrap();
    assert_eq!(session.base(), &s);
    assert_eq!(bus.server(1).node.config().repl_timeout, 2_147_483_647);
    assert_eq!(
        liveness_bound_ms(&bus),
        MAX_LIVENESS_BOUND_MS,
        "uncapped it would be 6.4e12 ms"
    );
    let mut small = s.clone();
    small.servers[0].config.clear();
    small.actions.clear();
    let (_, bus) = Session::play_through(small).unwrap();
    assert!(
        liveness_bound_ms(&bus) < 100_000,
        "the default configuration's bound is untouched"
    );
}

#[test]
fn a_replica_that_cannot_converge_is_reported_at_the_capped_deadline() {
    let _one = serial();
    // The master delays its diskless sync for 68 years: the replica never loads, and the
    // checker says so at the cap, one virtual day after the last action.
    let mut s = scenario(2, "");
    s.servers[0]
        .config
        .insert("repl-diskless-sync-delay".into(), "2147483647".into());
    let (run, cost) = measured(|| runner::run(&s).unwrap());
    let liveness: Vec<_> = run
        .violations()
        .iter()
        .filter(|v| v.kind == replscope::scenario::checker::ViolationKind::Liveness)
        .collect();
    assert_eq!(liveness.len(), 1, "{:?}", run.violations());
    assert!(
        liveness[0]
            .message
            .starts_with(&format!("{MAX_LIVENESS_BOUND_MS} ms after the last action")),
        "{}",
        liveness[0].message
    );
    assert!(cost.wall < OPENED_WALL, "{:?}", cost.wall);
}

#[test]
fn replscope_sim_gives_the_same_sentence_and_exits_2_for_a_file_and_a_link() {
    let _one = serial();
    let s = scenario(1, &load(10_000, 20_000, "string", 1_000_000, 65_536));
    let dir = std::env::temp_dir().join(format!("replscope-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("issue.json");
    std::fs::write(&file, s.to_json()).unwrap();
    let sentence = "actions[0]: this load generator types 12.2 GiB of commands, over the budget of 16 MiB for one scenario by 12.2 GiB";
    let link = link_of(&s);
    for args in [
        vec!["run", file.to_str().unwrap()],
        vec!["link", file.to_str().unwrap()],
        vec!["run", &link],
    ] {
        let start = Instant::now();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_replscope-sim"))
            .args(&args)
            .output()
            .expect("run replscope-sim");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(sentence), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed nothing else");
        assert!(
            start.elapsed() < REFUSED_WALL * 5,
            "{args:?} took {:?}",
            start.elapsed()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_checker_stops_digesting_at_its_budget() {
    let _one = serial();
    // 15 MB of list values once the replica is online (the diskless sync waits 5 s), then 300 writes at their own
    // instants: each moves the offset, and the checker would digest the whole dataset on
    // master and replica at each (some 10 GB).
    let mut actions =
        vec![load(250, 1_000, "list", 1, 60_000).replace(r#""at": 0"#, r#""at": 7000"#)];
    actions.extend((0..300).map(|i| {
        format!(
            r#"{{"do": "command", "at": {}, "server": "s0", "line": "SET k{i} v"}}"#,
            9_000 + i
        )
    }));
    let s = scenario(2, &actions.join(", "));
    s.validate().unwrap();
    let (run, cost) = measured(|| runner::run(&s).unwrap());
    let checks = run.summary.checks;
    eprintln!(
        "checked in {:?}, peak {} MiB: {checks:?}",
        cost.wall,
        cost.peak / MIB
    );
    assert!(run.violations().is_empty(), "{}", run.summary);
    assert!(
        checks.safety_comparisons > 0,
        "digests were compared until the budget"
    );
    let reached = checks.digest_budget_reached.expect("the budget is reached");
    assert!(reached < run.bus.log().len() as u64);
    assert!(cost.wall < OPENED_WALL * 2, "{:?}", cost.wall);
}

// ------------------------------------------------------------------ budgets at their edge

#[test]
fn the_command_bytes_budget_at_its_edge_and_just_past() {
    let _one = serial();
    // 64 KiB lines: at most 256 fit in 16 MiB.
    let make = |rate: i64| scenario(2, &load(rate, 1_000, "string", 1, 65_536 - 48));
    let (within, past) = edge(1, 1_000, make);
    assert_eq!(
        within.actions[0].cost().command_bytes,
        MAX_COMMAND_BYTES,
        "the edge is exactly the budget"
    );
    assert_refused(&past, "actions[0]: this load generator types 16.1 MiB of commands, over the budget of 16 MiB for one scenario by 64 KiB");
    assert_opens(&within, OPENED_WALL, 1024 * MIB);
}

#[test]
fn the_command_bytes_budget_counts_every_action() {
    let _one = serial();
    // Two loads of 8 MiB each fit; a typed line more does not, and the sentence says so.
    let half = load(128, 1_000, "list", 1, 65_536 - 48);
    let s = scenario(1, &format!("{half}, {half}"));
    s.validate().unwrap();
    let mut past = s.clone();
    past.actions.push(Action::Command {
        at: 5,
        server: 0,
        line: "SET k 1".into(),
    });
    assert_refused(&past, "actions[2]: the actions up to here type 16,777,223 bytes of commands, over the budget of 16 MiB for one scenario by 7 bytes");
}

#[test]
fn the_dataset_budget_at_its_edge_and_just_past() {
    let _one = serial();
    // A list load keeps every value; SUNIONSTORE may store it all again.
    let make = |rate: i64| {
        let copy =
            r#"{"do": "command", "at": 2000, "server": "s0", "line": "SUNIONSTORE copy list:0:0"}"#;
        scenario(
            2,
            &format!("{}, {copy}", load(rate, 1_000, "list", 1, 60_000)),
        )
    };
    let (within, past) = edge(1, 1_000, make);
    let message = assert_refused(
        &past,
        "actions[1]: the actions up to here can build a dataset of",
    );
    assert!(message.contains("(SUNIONSTORE, SINTERSTORE and SDIFFSTORE can store again what was written), over the budget of 16 MiB for one scenario by"), "{message}");
    assert_opens(&within, OPENED_WALL, 1024 * MIB);
}

#[test]
fn the_key_budget_at_its_edge_and_just_past() {
    let _one = serial();
    // SET over a million keys, pipelined: one key per write up to the budget.
    let make = |stop_at: i64| {
        scenario(
            2,
            &format!(
                r#"{{"do": "generate", "at": 0, "server": "s0", "write": "set", "rate": 10000, "keys": 1000000, "value_size": 1, "ttl_s": 10, "stop_at": {stop_at}}}"#
            ),
        )
    };
    let (within, past) = edge(100, 100_000, make);
    assert_eq!(within.actions[0].cost().keys, MAX_DATASET_KEYS);
    assert_refused(&past, "actions[0]: this load generator can create 100,010 keys, over the budget of 100,000 keys for one scenario by 10");
    assert_opens(&within, OPENED_WALL, 1024 * MIB);
}

#[test]
fn the_command_count_at_its_edge_and_just_past() {
    let _one = serial();
    // INCR of one key: 200 000 commands in 200 pipelined batches, small in bytes.
    let make = |stop_at: i64| {
        scenario(
            2,
            &format!(
                r#"{{"do": "generate", "at": 0, "server": "s0", "write": "incr", "rate": 10000, "keys": 1, "value_size": 1, "ttl_s": 10, "stop_at": {stop_at}}}"#
            ),
        )
    };
    let (within, past) = edge(100, 100_000, make);
    assert_eq!(within.actions[0].command_count(), MAX_COMMANDS);
    assert_refused(
        &past,
        &format!(
            "the actions so far type more than {MAX_COMMANDS} commands, the limit for one scenario"
        ),
    );
    assert_opens(&within, OPENED_WALL, 1024 * MIB);
}

#[test]
#[ignore = "over a minute in a debug build (200,000 writes, each its own bus step): cargo test --release --test hostile_links -- --ignored"]
fn the_command_count_at_its_edge_as_single_writes_opens_in_bounded_work() {
    let _one = serial();
    // A load writes each command at its own instant (two log entries each), unlike the
    // pipelined batches above: 200 000 steps, every one within every limit.
    let s = scenario(2, &load(10_000, 20_000, "string", 1, 1));
    assert_eq!(s.actions[0].command_count(), MAX_COMMANDS);
    assert_opens(&s, OPENED_WALL, 512 * MIB);
}

#[test]
fn srandmember_of_a_big_member_with_a_huge_negative_count_is_bounded() {
    let _one = serial();
    let member = "x".repeat(60_000);
    let s = raw(
        1,
        vec![
            Action::Command {
                at: 0,
                server: 0,
                line: format!("SADD s {member}"),
            },
            Action::Command {
                at: 1,
                server: 0,
                line: "SRANDMEMBER s -1000000".into(),
            },
        ],
    );
    assert_opens(&s, OPENED_WALL, 512 * MIB);
}

#[test]
fn the_action_count_at_its_edge_and_just_past() {
    let _one = serial();
    let typed = |n: usize| {
        raw(
            1,
            (0..n)
                .map(|i| Action::Command {
                    at: i as i64,
                    server: 0,
                    line: format!("SET k{i} v"),
                })
                .collect(),
        )
    };
    let within = typed(MAX_ACTIONS);
    within.validate().unwrap();
    assert_refused(
        &typed(MAX_ACTIONS + 1),
        &format!(
            "actions: {} actions, more than the limit of {MAX_ACTIONS}",
            MAX_ACTIONS + 1
        ),
    );
    assert_opens(&within, OPENED_WALL, 512 * MIB);
}

#[test]
fn the_line_length_at_its_edge_and_just_past() {
    let _one = serial();
    let line = |n: usize| {
        raw(
            2,
            vec![Action::Command {
                at: 0,
                server: 0,
                line: format!("SET k {}", "x".repeat(n - 6)),
            }],
        )
    };
    assert_refused(
        &line(MAX_LINE_BYTES + 1),
        &format!("actions[0].line: longer than {MAX_LINE_BYTES} bytes"),
    );
    assert_opens(&line(MAX_LINE_BYTES), OPENED_WALL, 256 * MIB);
}

#[test]
fn the_server_count_at_its_edge_and_just_past() {
    let _one = serial();
    assert_refused(
        &raw(MAX_SERVERS + 1, vec![]),
        &format!(
            "servers: {} servers, more than the limit of {MAX_SERVERS}",
            MAX_SERVERS + 1
        ),
    );
    assert_opens(&raw(MAX_SERVERS, vec![]), OPENED_WALL, 256 * MIB);
}

#[test]
fn the_run_length_at_its_edge_and_just_past() {
    let _one = serial();
    let mut past = raw(1, vec![]);
    past.end_ms = Some(MAX_TIME_MS + 1);
    assert_refused(
        &past,
        &format!(
            "end_ms: {} ms is outside 0 to {MAX_TIME_MS}",
            MAX_TIME_MS + 1
        ),
    );
    let late = raw(
        1,
        vec![Action::Command {
            at: MAX_TIME_MS + 1,
            server: 0,
            line: "PING".into(),
        }],
    );
    assert_refused(
        &late,
        "later than the limit of 86400000 ms (one virtual day)",
    );
}

#[test]
fn the_link_length_and_its_json_at_their_edge_and_just_past() {
    let _one = serial();
    // Text no link contains fails on its characters at the limit, on its length past it.
    let at = format!("v1.{}", "A".repeat(link::MAX_LINK_CHARS - 3));
    let (result, cost) = measured(|| link::decode(&at));
    assert!(
        matches!(result, Err(LinkError::Corrupt { .. })),
        "{result:?}"
    );
    assert!(cost.wall < REFUSED_WALL && cost.peak < REFUSED_PEAK);
    let past = format!("{at}A");
    let (result, cost) = measured(|| link::decode(&past));
    assert!(
        matches!(result, Err(LinkError::TooLarge { .. })),
        "{result:?}"
    );
    assert!(cost.wall < REFUSED_WALL && cost.peak < REFUSED_PEAK);
    // A few hundred characters of DEFLATE that unpack to the JSON limit and one byte past.
    for (size, too_large) in [
        (link::MAX_SCENARIO_JSON_BYTES, false),
        (link::MAX_SCENARIO_JSON_BYTES + 1, true),
    ] {
        let bomb = vec![b' '; size];
        let deflated = miniz_oxide::deflate::compress_to_vec(&bomb, 9);
        use base64::Engine;
        let text = format!(
            "v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(deflated)
        );
        assert!(text.len() < 20_000, "{} characters", text.len());
        let (result, cost) = measured(|| link::decode(&text));
        let err = result.unwrap_err();
        assert_eq!(
            matches!(err, LinkError::TooLarge { .. }),
            too_large,
            "{err}"
        );
        assert!(cost.wall < REFUSED_WALL, "{:?}", cost.wall);
        assert!(
            cost.peak < 3 * link::MAX_SCENARIO_JSON_BYTES,
            "{} bytes",
            cost.peak
        );
    }
}

// ------------------------------------------------------------------ Share

/// A page session on one server with the load generator running at `rate` for `ms`.
fn session_with_load(write: GenerateWrite, rate: u64, value_size: u64, ms: u64) -> (Session, Bus) {
    let (mut session, mut bus) = Session::start(raw(1, vec![])).unwrap();
    session.advance(&mut bus, EPOCH_MS + 1_000);
    session
        .act(
            &mut bus,
            Action::Command {
                at: 0,
                server: 0,
                line: "SET before 1".into(),
            },
        )
        .unwrap();
    let spec = GenerateSpec {
        write,
        rate,
        keys: 10,
        value_size,
        ttl_s: 10,
    };
    session.start_generator(&mut bus, 0, spec).unwrap();
    let until = bus.now() + ms;
    session.advance(&mut bus, until);
    session
        .act(
            &mut bus,
            Action::Command {
                at: 0,
                server: 0,
                line: "SET after 1".into(),
            },
        )
        .unwrap();
    let until = bus.now() + 500;
    session.advance(&mut bus, until);
    (session, bus)
}

/// Every link Share gives opens, in this build, to the run it holds.
fn assert_opens_to(link: &replscope::scenario::share::ShareLink) {
    let back = link::decode(&link.link)
        .unwrap_or_else(|e| panic!("Share wrote a link this build refuses: {e}"));
    assert_eq!(back, link.run);
}

#[test]
fn share_writes_a_link_that_opens_when_the_run_fits() {
    let _one = serial();
    let (session, bus) = session_with_load(GenerateWrite::Set, 100, 16, 2_000);
    let link = share(&session, &bus).expect("a small run is shared whole");
    assert_opens_to(&link);
    assert_eq!(link.run.scenario, session.to_scenario(&bus));
    assert_eq!(link.run.step, Some(bus.log().len() as u64));
}

#[test]
fn share_refuses_a_recording_over_the_byte_budget_and_offers_the_run_up_to_the_event_shown() {
    let _one = serial();
    // 64 KiB values at 400 writes/s: 16 MiB of commands after some 0.65 s.
    let (session, mut bus) = session_with_load(GenerateWrite::Set, 400, 65_536, 1_000);
    let whole = session.to_scenario(&bus);
    assert!(
        whole.validate().is_err(),
        "the recording is over the budget"
    );
    // Back to an event in the first 300 ms of the load.
    let target = bus.log().iter().position(|e| e.time >= 1_300).unwrap();
    bus.jump_to(target).unwrap();
    let refusal = share(&session, &bus).expect_err("the whole recording is over the budget");
    assert!(
        refusal
            .sentence
            .starts_with("This run cannot be shared as a link: actions[")
            && refusal
                .sentence
                .contains("of commands, over the budget of 16 MiB for one scenario by"),
        "{}",
        refusal.sentence
    );
    let fits = refusal
        .fits
        .as_ref()
        .expect("the run up to the event shown fits");
    assert_opens_to(fits);
    assert_eq!(fits.run.step, Some(bus.log().len() as u64));
    assert_eq!(fits.run.scenario.end_ms, Some(bus.elapsed_ms() as i64));
    assert!(
        !fits
            .run
            .scenario
            .actions
            .iter()
            .any(|a| matches!(a, Action::Command { line, .. } if line == "SET after 1")),
        "later actions dropped"
    );
    assert!(
        refusal
            .offer()
            .unwrap()
            .starts_with("Share the run up to event "),
        "{:?}",
        refusal.offer()
    );
    // Opening it shows the page's log up to the event shown, entry for entry.
    let (_, opened) = Session::play_through(fits.run.scenario.clone()).unwrap();
    let shown: Vec<String> = bus.log().iter().map(|e| e.line()).collect();
    let again: Vec<String> = opened
        .log()
        .iter()
        .take(shown.len())
        .map(|e| e.line())
        .collect();
    assert_eq!(shown, again);
}

#[test]
fn share_refuses_more_than_the_command_limit_after_a_long_load() {
    let _one = serial();
    // 10 000 INCR/s for 20.5 s: more than 200 000 commands, small in bytes.
    let (session, mut bus) = session_with_load(GenerateWrite::Incr, 10_000, 1, 20_500);
    let refusal = share(&session, &bus).expect_err("over the command limit");
    assert!(
        refusal
            .sentence
            .contains(&format!("more than {MAX_COMMANDS} commands")),
        "{}",
        refusal.sentence
    );
    assert!(
        refusal.fits.is_none(),
        "at the end of the recording nothing shorter is offered"
    );
    let half = bus.log().len() / 2;
    bus.jump_to(half).unwrap();
    let refusal = share(&session, &bus).expect_err("still over the command limit");
    assert_opens_to(refusal.fits.as_ref().expect("half the run fits"));
}

#[test]
fn share_refuses_a_run_longer_than_one_virtual_day_and_offers_the_part_that_fits() {
    let _one = serial();
    let (mut session, mut bus) = Session::start(raw(1, vec![])).unwrap();
    session
        .act(
            &mut bus,
            Action::Command {
                at: 0,
                server: 0,
                line: "SET early 1".into(),
            },
        )
        .unwrap();
    session.advance(&mut bus, EPOCH_MS + MAX_TIME_MS as u64 + 60_000);
    session
        .act(
            &mut bus,
            Action::Command {
                at: 0,
                server: 0,
                line: "SET late 1".into(),
            },
        )
        .unwrap();
    let refusal = share(&session, &bus).expect_err("longer than a virtual day");
    assert!(
        refusal
            .sentence
            .contains("later than the limit of 86400000 ms (one virtual day)"),
        "{}",
        refusal.sentence
    );
    assert!(
        refusal.fits.is_none(),
        "standing past the day, nothing up to the event shown fits"
    );
    // Back to the last event within the day (an idle day logs nothing), the run up to
    // there fits.
    let target = bus
        .log()
        .iter()
        .rposition(|e| e.time <= MAX_TIME_MS as u64)
        .unwrap();
    bus.jump_to(target).unwrap();
    let refusal =
        share(&session, &bus).expect_err("the whole recording is still longer than a day");
    let fits = refusal.fits.as_ref().expect("the run within the day fits");
    assert_opens_to(fits);
    assert!(fits
        .run
        .scenario
        .actions
        .iter()
        .any(|a| matches!(a, Action::Command { line, .. } if line == "SET early 1")));
}
