//! Random scenarios from a seed, and shrinking a failing one to what still fails.
//!
//! [`random_scenario`] draws 2–5 servers in a random replication tree (chains included),
//! random backlog sizes, sync delays, timeouts and diskless or disk-based sync; load
//! generators of all five types (TTLs and MULTI/EXEC included); single commands (WAIT
//! among them); cuts healed a little later; failovers (`REPLICAOF NO ONE` on a replica, the
//! old master and its other replicas re-pointed to it); replicas moved along the tree; and
//! the bus's faults: severed links noticed late, silent partitions both ways or one way
//! (some longer than `repl-timeout`, so that only the timeout notices), slow, narrow or
//! jittery links, crashes with a restart from the saved RDB or without it (a save
//! sometimes just before), a crashed replica sometimes left down, and pauses (some longer
//! than `repl-timeout`).
//! Every draw comes from the seed, so `replscope-sim sweep --seeds 1 --start <seed>`
//! rebuilds the very same scenario.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::checker::{Violation, ViolationKind};
use super::runner::{run, Summary};
use super::schedule::Rng;
use super::{Action, Expectations, Link, Scenario, ServerSpec, WriteKind, Written, FORMAT_VERSION};
use crate::bus::{Fault, LinkConfig, ServerId, DEFAULT_LATENCY_MS};

/// `fault` at `at`, written under its own name.
fn plain(at: i64, fault: Fault) -> Action {
    Action::Fault {
        at,
        fault,
        written: Written::default(),
    }
}

/// The random scenario for `seed`.
pub fn random_scenario(seed: u64) -> Scenario {
    random_scenario_with(seed, true)
}

/// The random scenario for `seed`, with or without the bus's faults (cuts and heals,
/// which scenarios had before faults, stay). The same seed draws the same rest either way.
pub fn random_scenario_with(seed: u64, faults: bool) -> Scenario {
    let mut rng = Rng::new(seed ^ 0x5EED_5CE7_A210_0001);
    let n = 2 + rng.below(4) as usize;
    let name = |i: usize| format!("s{i}");
    let mut servers = Vec::new();
    for i in 0..n {
        let mut config = std::collections::BTreeMap::new();
        config.insert(
            "repl-diskless-sync-delay".to_string(),
            ["0", "1", "2"][rng.below(3) as usize].to_string(),
        );
        config.insert(
            "repl-backlog-size".to_string(),
            ["16kb", "32kb", "1mb"][rng.below(3) as usize].to_string(),
        );
        config.insert(
            "repl-timeout".to_string(),
            ["5", "10"][rng.below(2) as usize].to_string(),
        );
        if rng.chance(20) {
            config.insert("repl-diskless-sync".to_string(), "no".to_string());
        }
        servers.push(ServerSpec {
            name: name(i),
            port: 6380 + i as i64,
            config,
        });
    }
    // masters[i]: whom server i replicates (None: a master). A tree rooted at s0.
    let mut masters: Vec<Option<usize>> = (0..n)
        .map(|i| {
            if i == 0 {
                None
            } else {
                Some(rng.below(i as u64) as usize)
            }
        })
        .collect();
    let topology = (1..n)
        .map(|i| Link {
            replica: i,
            master: masters[i].expect("set above"),
        })
        .collect();
    let mut root = 0usize;
    let mut actions = Vec::new();
    // Servers crashed and never restarted: nothing more is done to them.
    let mut left_down: Vec<usize> = Vec::new();
    let window = 3_000 + rng.below(9_000) as i64;
    let mut t = rng.below(1_500) as i64;
    while t < window {
        match rng.below(100) {
            0..=27 => {
                let kind = WriteKind::ALL[rng.below(6) as usize];
                let big = rng.chance(15);
                actions.push(Action::Load {
                    at: t,
                    server: root,
                    rate: 5 + rng.below(55) as i64,
                    duration_ms: 300 + rng.below(3_000) as i64,
                    kind,
                    keys: 3 + rng.below(40) as i64,
                    value_bytes: if big {
                        200 + rng.below(1_800) as i64
                    } else {
                        1 + rng.below(32) as i64
                    },
                    ttl_ms: rng.chance(25).then(|| 100 + rng.below(5_000) as i64),
                    multi: rng.chance(20),
                });
            }
            28..=43 => {
                let line = match rng.below(10) {
                    0..=2 => format!("WAIT {} {}", 1 + rng.below(2), 50 + rng.below(200)),
                    3 => format!(
                        "SET k:{} v{} EX {}",
                        rng.below(10),
                        rng.below(100),
                        1 + rng.below(5)
                    ),
                    4 => format!("DEL k:{} str:0:1 list:0:1", rng.below(10)),
                    5 => format!("EXPIRE k:{} {}", rng.below(10), 1 + rng.below(3)),
                    6 => "SELECT 1".to_string(),
                    7 => "SELECT 0".to_string(),
                    8 => format!("INCRBYFLOAT f:{} 1.25", rng.below(3)),
                    _ => "FLUSHDB".to_string(),
                };
                actions.push(Action::Command {
                    at: t,
                    server: root,
                    line,
                });
            }
            44..=57 => {
                // Mostly a replication link; sometimes any pair.
                let (a, b) = match (1..n)
                    .filter(|&i| masters[i].is_some())
                    .nth(rng.below(n as u64) as usize)
                {
                    Some(r) if rng.chance(75) => (r, masters[r].expect("a replica")),
                    _ => {
                        let a = rng.below(n as u64) as usize;
                        (a, (a + 1 + rng.below(n as u64 - 1) as usize) % n)
                    }
                };
                let heal = t + 100 + rng.below(5_000) as i64;
                actions.push(plain(t, Fault::Cut { a, b }));
                actions.push(plain(heal, Fault::Heal { a, b }));
            }
            58..=67 => {
                // Failover: promote a direct replica of the root, re-point the rest to it.
                let children: Vec<usize> = (0..n)
                    .filter(|&i| masters[i] == Some(root) && !left_down.contains(&i))
                    .collect();
                if children.is_empty() {
                    t += 100;
                    continue;
                }
                let new_root = children[rng.below(children.len() as u64) as usize];
                actions.push(Action::Replicaof {
                    at: t,
                    server: new_root,
                    master: None,
                });
                masters[new_root] = None;
                let mut delay = 0;
                for (i, master) in masters.iter_mut().enumerate().take(n) {
                    if i != new_root && (i == root || *master == Some(root)) {
                        delay += rng.below(150) as i64;
                        actions.push(Action::Replicaof {
                            at: t + delay,
                            server: i,
                            master: Some(new_root),
                        });
                        *master = Some(new_root);
                    }
                }
                root = new_root;
            }
            68..=72 => {
                // Move a replica under another server that is not below it.
                let r = rng.below(n as u64) as usize;
                let m = rng.below(n as u64) as usize;
                if masters[r].is_none()
                    || r == m
                    || is_below(&masters, m, r)
                    || left_down.contains(&r)
                    || left_down.contains(&m)
                {
                    t += 100;
                    continue;
                }
                actions.push(Action::Replicaof {
                    at: t,
                    server: r,
                    master: Some(m),
                });
                masters[r] = Some(m);
            }
            _ => {
                let mut drawn = Vec::new();
                fault(
                    &mut rng,
                    &mut drawn,
                    t,
                    n,
                    &masters,
                    root,
                    &mut left_down,
                    &servers,
                );
                if faults {
                    actions.extend(drawn);
                } else {
                    left_down.clear();
                }
            }
        }
        t += 100 + rng.below(1_500) as i64;
    }
    Scenario {
        version: FORMAT_VERSION,
        seed,
        title: None,
        narration: Vec::new(),
        description: Some(if faults {
            format!(
                "random scenario for seed {seed} (replscope-sim sweep --seeds 1 --start {seed})"
            )
        } else {
            format!("random scenario for seed {seed} without faults (replscope-sim sweep --seeds 1 --start {seed} --no-faults)")
        }),
        servers,
        topology,
        actions,
        end_ms: None,
        expect: Expectations::default(),
    }
}

/// A pair of servers to break the network between: mostly a replication link, sometimes
/// any pair.
fn pick_pair(rng: &mut Rng, n: usize, masters: &[Option<usize>]) -> (usize, usize) {
    match (1..n)
        .filter(|&i| masters[i].is_some())
        .nth(rng.below(n as u64) as usize)
    {
        Some(r) if rng.chance(75) => {
            let m = masters[r].expect("a replica");
            // Either direction first: one-way faults matter by direction.
            if rng.chance(50) {
                (r, m)
            } else {
                (m, r)
            }
        }
        _ => {
            let a = rng.below(n as u64) as usize;
            (a, (a + 1 + rng.below(n as u64 - 1) as usize) % n)
        }
    }
}

/// How long a silent fault lasts: mostly short, sometimes past `repl-timeout` (5 or 10 s)
/// so that only the timeout notices.
fn silent_duration(rng: &mut Rng, servers: &[ServerSpec], a: usize, b: usize) -> i64 {
    if rng.chance(30) {
        let timeout = |i: usize| {
            servers[i]
                .config
                .get("repl-timeout")
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(60)
        };
        timeout(a).max(timeout(b)) * 1000 + 500 + rng.below(4_000) as i64
    } else {
        100 + rng.below(3_000) as i64
    }
}

/// One of the bus's faults at time `t`, with what ends it (a heal, a release, a restart,
/// a resume) a little later.
#[allow(clippy::too_many_arguments)]
fn fault(
    rng: &mut Rng,
    actions: &mut Vec<Action>,
    t: i64,
    n: usize,
    masters: &[Option<usize>],
    root: usize,
    left_down: &mut Vec<usize>,
    servers: &[ServerSpec],
) {
    let (a, b) = pick_pair(rng, n, masters);
    if left_down.contains(&a) || left_down.contains(&b) {
        return;
    }
    match rng.below(100) {
        0..=14 => {
            let detect_ms = [0, 10, 200, 1_000, 3_000][rng.below(5) as usize];
            actions.push(plain(t, Fault::Sever { a, b, detect_ms }));
        }
        15..=29 => {
            let d = silent_duration(rng, servers, a, b);
            actions.push(Action::Fault {
                at: t,
                fault: Fault::Hold { from: a, to: b },
                written: Written {
                    both_ways: true,
                    partition: true,
                    ..Written::default()
                },
            });
            actions.push(plain(t + d, Fault::Heal { a, b }));
        }
        30..=41 => {
            let d = silent_duration(rng, servers, a, b);
            actions.push(Action::Fault {
                at: t,
                fault: Fault::Hold { from: a, to: b },
                written: Written {
                    partition: rng.chance(50),
                    ..Written::default()
                },
            });
            actions.push(plain(t + d, Fault::Release { from: a, to: b }));
        }
        42..=55 => {
            // A slow, narrow or jittery link; set back to the default half the time.
            let latency_ms = rng.chance(60).then(|| 1 + rng.below(80));
            let bandwidth = rng
                .chance(40)
                .then(|| [20, 200, 2_000, 20_000][rng.below(4) as usize]);
            let extra_delay_ms = rng.chance(30).then(|| rng.below(200));
            let jitter_ms = rng.chance(50).then(|| 1 + rng.below(40));
            let both_ways = rng.chance(50);
            let set_link = |at: i64, config: LinkConfig, written: Written| Action::Fault {
                at,
                fault: Fault::SetLink {
                    from: a,
                    to: b,
                    config,
                },
                written,
            };
            actions.push(set_link(
                t,
                LinkConfig {
                    latency_ms: latency_ms.unwrap_or(DEFAULT_LATENCY_MS),
                    bandwidth,
                    extra_delay_ms: extra_delay_ms.unwrap_or(0),
                    jitter_ms: jitter_ms.unwrap_or(0),
                },
                Written {
                    both_ways,
                    partition: false,
                    latency: latency_ms.is_some(),
                    extra_delay: extra_delay_ms.is_some(),
                    jitter: jitter_ms.is_some(),
                },
            ));
            if rng.chance(50) {
                let at = t + 200 + rng.below(4_000) as i64;
                let reset = Written {
                    both_ways,
                    ..Written::default()
                };
                actions.push(set_link(at, LinkConfig::default(), reset));
            }
        }
        56..=79 => {
            // A crash, then a restart from the saved RDB or empty; sometimes a save just
            // before (so the RDB is recent), sometimes the process restarts without a crash.
            let s = a;
            let mut at = t;
            if rng.chance(40) {
                actions.push(plain(at, Fault::Save { server: s }));
                at += rng.below(300) as i64;
            }
            let down_for = 50 + rng.below(3_000) as i64;
            if s != root && rng.chance(10) {
                actions.push(plain(at, Fault::Crash { server: s }));
                left_down.push(s);
                return;
            }
            if rng.chance(80) {
                actions.push(plain(at, Fault::Crash { server: s }));
            }
            actions.push(plain(
                at + down_for,
                Fault::Restart {
                    server: s,
                    from_disk: rng.chance(60),
                },
            ));
        }
        80..=89 => {
            let d = silent_duration(rng, servers, a, a);
            actions.push(plain(t, Fault::Pause { server: a }));
            actions.push(plain(t + d, Fault::Resume { server: a }));
        }
        _ => actions.push(plain(t, Fault::Save { server: a })),
    }
}

/// Whether `node` is `ancestor` or replicates it, directly or down a chain.
fn is_below(masters: &[Option<usize>], node: usize, ancestor: usize) -> bool {
    let mut cur = Some(node);
    let mut hops = 0;
    while let Some(c) = cur {
        if c == ancestor {
            return true;
        }
        hops += 1;
        if hops > masters.len() {
            return true; // a loop: treat as below, never make it worse
        }
        cur = masters[c];
    }
    false
}

/// How a scenario failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Violations(Vec<Violation>),
    Panic(String),
    /// A generated or shrunk scenario that does not validate (a generator bug).
    Invalid(String),
}

impl Failure {
    /// The kind of the first problem: shrinking keeps it.
    pub fn kind(&self) -> Option<ViolationKind> {
        match self {
            Failure::Violations(v) => v.first().map(|v| v.kind),
            Failure::Panic(_) => Some(ViolationKind::Panic),
            Failure::Invalid(_) => None,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Violations(v) => {
                for (i, v) in v.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            Failure::Panic(m) => write!(f, "panic: {m}"),
            Failure::Invalid(m) => write!(f, "invalid scenario: {m}"),
        }
    }
}

/// Runs a scenario, turning a panic into a [`Failure`]. `Ok` carries the summary.
pub fn run_catching(s: &Scenario) -> Result<Summary, Failure> {
    match catch_unwind(AssertUnwindSafe(|| run(s))) {
        Ok(Ok(run)) if run.violations().is_empty() => Ok(run.summary),
        Ok(Ok(run)) => Err(Failure::Violations(run.summary.violations)),
        Ok(Err(e)) => Err(Failure::Invalid(e.to_string())),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".into());
            Err(Failure::Panic(msg))
        }
    }
}

/// Shrinks a failing scenario: drops actions (in halves, then one by one), shortens load
/// generators, drops servers and config overrides, as long as the result still fails
/// with the same kind of problem. Runs at most `budget` candidates.
pub fn shrink(s: &Scenario, failure: &Failure, budget: usize) -> (Scenario, Failure) {
    let want = failure.kind();
    let mut best = s.clone();
    let mut best_failure = failure.clone();
    let runs = std::cell::Cell::new(0usize);
    let try_candidate =
        |cand: &Scenario, best: &mut Scenario, best_failure: &mut Failure| -> bool {
            if runs.get() >= budget || cand.validate().is_err() {
                return false;
            }
            runs.set(runs.get() + 1);
            match run_catching(cand) {
                Err(f) if f.kind() == want && want.is_some() => {
                    *best = cand.clone();
                    *best_failure = f;
                    true
                }
                _ => false,
            }
        };
    loop {
        let mut progress = false;
        // Actions: chunks from half the list down to one action.
        let mut chunk = best.actions.len().div_ceil(2).max(1);
        loop {
            let mut i = 0;
            while i < best.actions.len() {
                let mut cand = best.clone();
                let end = (i + chunk).min(cand.actions.len());
                cand.actions.drain(i..end);
                if try_candidate(&cand, &mut best, &mut best_failure) {
                    progress = true;
                } else {
                    i += chunk;
                }
            }
            if chunk == 1 {
                break;
            }
            chunk = chunk.div_ceil(2);
        }
        // Load generators: shorter, slower, smaller.
        for i in 0..best.actions.len() {
            for shrink_field in 0..3 {
                let mut cand = best.clone();
                let changed = match &mut cand.actions[i] {
                    Action::Load { duration_ms, .. } if shrink_field == 0 && *duration_ms > 1 => {
                        *duration_ms /= 2;
                        true
                    }
                    Action::Load { rate, .. } if shrink_field == 1 && *rate > 1 => {
                        *rate /= 2;
                        true
                    }
                    Action::Load { value_bytes, .. } if shrink_field == 2 && *value_bytes > 1 => {
                        *value_bytes /= 2;
                        true
                    }
                    _ => false,
                };
                if changed && try_candidate(&cand, &mut best, &mut best_failure) {
                    progress = true;
                }
            }
        }
        // Servers nothing needs any more (and the links that named them).
        for i in (0..best.servers.len()).rev() {
            let mut cand = best.clone();
            cand.servers.remove(i);
            // What names it goes; the servers after it move down one id.
            let without = |ids: Vec<&mut ServerId>| {
                if ids.iter().any(|id| **id == i) {
                    return false;
                }
                for id in ids {
                    *id -= usize::from(*id > i);
                }
                true
            };
            cand.topology
                .retain_mut(|l| without(vec![&mut l.replica, &mut l.master]));
            cand.actions.retain_mut(|a| without(a.servers_mut()));
            cand.expect
                .info
                .retain_mut(|e| without(vec![&mut e.server]));
            if try_candidate(&cand, &mut best, &mut best_failure) {
                progress = true;
            }
        }
        // Config overrides, one at a time.
        for i in 0..best.servers.len() {
            let keys: Vec<String> = best.servers[i].config.keys().cloned().collect();
            for key in keys {
                let mut cand = best.clone();
                cand.servers[i].config.remove(&key);
                if try_candidate(&cand, &mut best, &mut best_failure) {
                    progress = true;
                }
            }
        }
        if !progress || runs.get() >= budget {
            break;
        }
    }
    (best, best_failure)
}
