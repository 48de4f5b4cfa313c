//! Carries a [`Scenario`] out on the bus, deterministically, under the [`Checker`].
//!
//! Servers are added in file order, the topology is typed as `REPLICAOF` at 0 ms, and the
//! actions (load generators expanded into their commands, faults injected into the bus)
//! run in time order, ties in file order. Between actions the bus carries out one event at
//! a time ([`Bus::next_event_at`], [`Bus::step`]) and the checker looks at it after every
//! event, so a violation names the exact event that shows it. After the last action the
//! run goes on until every replica that can converge has (or the liveness bound passes),
//! and at least until `end_ms`.
//!
//! The same scenario always gives the same log, natively and in WASM: the bus is seeded
//! with the scenario's seed, and load generators derive keys and values from it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;

use super::checker::{self, CheckStats, Checker, Violation, ViolationKind};
use super::generator::{GenerateSpec, Generator};
use super::player::Player;
use super::{Action, Scenario, ScenarioError, WriteKind};
use crate::bus::{
    BudgetStop, Bus, Fault, LinkConfig, LogKind, RunPause, ServerId, DEFAULT_LATENCY_MS, EPOCH_MS,
};
use crate::engine::splitmix::SplitMix64;
use crate::engine::Event;

/// One step of the expanded schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Command {
        server: ServerId,
        line: String,
    },
    Replicaof {
        server: ServerId,
        master: Option<ServerId>,
    },
    Cut {
        a: ServerId,
        b: ServerId,
    },
    Heal {
        a: ServerId,
        b: ServerId,
    },
    /// A server joins; its id is the next one on the bus.
    AddServer {
        name: String,
        config: Box<crate::engine::Config>,
    },
    Remove {
        server: ServerId,
    },
    /// One batch of the page's load generator, pipelined.
    Pipe {
        server: ServerId,
        lines: Vec<String>,
    },
    /// Any other fault, injected into the bus as it is.
    Fault(Fault),
}

/// The scenario's actions as (ms, index of the action each step comes from (`None`:
/// topology), step), in the order they run: [`Schedule`], all at once.
pub fn schedule(s: &Scenario) -> Vec<(u64, Option<usize>, Step)> {
    Schedule::new(s).collect()
}

/// A scenario's schedule, expanded as it is consumed: a load generator's writes (with
/// their values) are made when time comes to them, not all before the run starts, so
/// opening a run with a long load neither waits for nor holds all of its text at once.
/// The order is [`schedule`]'s: by time, ties in file order (topology first), each
/// action's own steps in their order (every action's times only grow).
#[derive(Debug, Clone)]
pub struct Schedule {
    /// One per action (index + 1; 0 is the topology), each with its next step ready.
    sources: Vec<Source>,
    /// (time of the source's next step, source index) of every source not yet exhausted.
    heads: BinaryHeap<Reverse<(u64, usize)>>,
}

#[derive(Debug, Clone)]
struct Source {
    head: Option<(u64, Step)>,
    rest: Rest,
}

#[derive(Debug, Clone)]
enum Rest {
    Steps(std::vec::IntoIter<(u64, Step)>),
    Load(LoadSteps),
    Generate { generator: Generator, after: u64 },
}

impl Rest {
    fn next(&mut self) -> Option<(u64, Step)> {
        match self {
            Rest::Steps(steps) => steps.next(),
            Rest::Load(load) => load.next(),
            Rest::Generate { generator, after } => loop {
                let at = generator.next_batch_after(*after)?;
                *after = at;
                let lines = generator.batch(at);
                if !lines.is_empty() {
                    break Some((
                        at,
                        Step::Pipe {
                            server: generator.server,
                            lines,
                        },
                    ));
                }
            },
        }
    }
}

impl Schedule {
    /// The schedule of a validated scenario.
    pub fn new(s: &Scenario) -> Schedule {
        let topology = s.topology.iter().map(|link| {
            let idx = |name: &str| s.server_index(name).expect("validated server name");
            (
                0,
                Step::Replicaof {
                    server: idx(&link.replica),
                    master: Some(idx(&link.master)),
                },
            )
        });
        let mut rests = vec![Rest::Steps(topology.collect::<Vec<_>>().into_iter())];
        let idx = |name: &str| s.server_index(name);
        for (i, action) in s.actions.iter().enumerate() {
            rests.push(action_rest(action, i, s.seed, &idx).expect("validated scenario"));
        }
        let mut schedule = Schedule {
            sources: Vec::with_capacity(rests.len()),
            heads: BinaryHeap::new(),
        };
        for (order, mut rest) in rests.into_iter().enumerate() {
            let head = rest.next();
            if let Some((t, _)) = &head {
                schedule.heads.push(Reverse((*t, order)));
            }
            schedule.sources.push(Source { head, rest });
        }
        schedule
    }

    /// When the next step is due (ms since the start).
    pub fn peek_at(&self) -> Option<u64> {
        self.heads.peek().map(|Reverse((t, _))| *t)
    }
}

impl Iterator for Schedule {
    /// (ms, index of its action (`None`: topology), step).
    type Item = (u64, Option<usize>, Step);

    fn next(&mut self) -> Option<(u64, Option<usize>, Step)> {
        let Reverse((_, order)) = self.heads.pop()?;
        let source = &mut self.sources[order];
        let (t, step) = source.head.take().expect("a source in the heap has a head");
        source.head = source.rest.next();
        if let Some((next, _)) = &source.head {
            self.heads.push(Reverse((*next, order)));
        }
        Some((t, order.checked_sub(1), step))
    }
}

/// Action `i`'s steps, to be expanded as they are reached: a load generator's writes one
/// by one, anything else at once.
fn action_rest(
    action: &Action,
    i: usize,
    seed: u64,
    idx: &dyn Fn(&str) -> Option<ServerId>,
) -> Result<Rest, String> {
    let server = |name: &str| idx(name).ok_or_else(|| format!("no server named {name:?}"));
    Ok(match action {
        Action::Generate {
            server: name,
            write,
            rate,
            keys,
            value_size,
            ttl_s,
            stop_at,
            ..
        } => {
            let spec = GenerateSpec {
                write: *write,
                rate: *rate as u64,
                keys: *keys as u64,
                value_size: *value_size as u64,
                ttl_s: *ttl_s as u64,
            };
            let at = action.at().max(0) as u64;
            let generator = Generator {
                server: server(name)?,
                spec,
                start: at,
                stop: Some(*stop_at as u64),
            };
            Rest::Generate {
                generator,
                after: at,
            }
        }
        Action::Load {
            server: name,
            rate,
            duration_ms,
            kind,
            keys,
            value_bytes,
            ttl_ms,
            multi,
            ..
        } => Rest::Load(LoadSteps {
            server: server(name)?,
            at: action.at().max(0) as u64,
            rate: *rate as u64,
            writes: (*rate as u64) * (*duration_ms as u64) / 1000,
            n: 0,
            kind: *kind,
            multi: *multi,
            rng: Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407)),
            shape: LoadShape {
                action: i,
                keys: *keys as u64,
                value_bytes: *value_bytes as usize,
                ttl_ms: ttl_ms.map(|t| t as u64),
            },
            lines: std::collections::VecDeque::new(),
        }),
        other => Rest::Steps(action_steps(other, i, seed, idx)?.into_iter()),
    })
}

/// A `load` action's writes, made one at a time from its seeded random stream.
#[derive(Debug, Clone)]
struct LoadSteps {
    server: ServerId,
    at: u64,
    rate: u64,
    writes: u64,
    /// Writes made so far.
    n: u64,
    kind: WriteKind,
    multi: bool,
    rng: Rng,
    shape: LoadShape,
    /// The lines of the write being sent (a MULTI block, a PEXPIRE after its write).
    lines: std::collections::VecDeque<String>,
}

impl LoadSteps {
    fn next(&mut self) -> Option<(u64, Step)> {
        if self.lines.is_empty() {
            if self.n >= self.writes {
                return None;
            }
            self.n += 1;
            let mut lines = Vec::new();
            if self.multi {
                lines.push("MULTI".to_string());
                self.shape.write(self.kind, &mut self.rng, &mut lines);
                self.shape.write(self.kind, &mut self.rng, &mut lines);
                lines.push("EXEC".to_string());
            } else {
                self.shape.write(self.kind, &mut self.rng, &mut lines);
            }
            self.lines.extend(lines);
        }
        let t = self.at + (self.n - 1) * 1000 / self.rate;
        let line = self.lines.pop_front()?;
        Some((
            t,
            Step::Command {
                server: self.server,
                line,
            },
        ))
    }
}

/// The steps one action expands to, as (ms, step), in order. `index` is the action's
/// place in the file (load generators derive their keys from it); `idx` finds a server's
/// bus id by name. Shared by the runner and by the page, which records what a person
/// does as actions and carries them out through here.
pub fn action_steps(
    action: &Action,
    i: usize,
    seed: u64,
    idx: &dyn Fn(&str) -> Option<ServerId>,
) -> Result<Vec<(u64, Step)>, String> {
    for (_, name) in action.servers() {
        if idx(name).is_none() {
            return Err(format!("no server named {name:?}"));
        }
    }
    let idx = |name: &str| idx(name).expect("checked above");
    let at = action.at().max(0) as u64;
    let mut out: Vec<(u64, Step)> = Vec::new();
    match action {
        Action::Command { server, line, .. } => out.push((
            at,
            Step::Command {
                server: idx(server),
                line: line.clone(),
            },
        )),
        Action::Replicaof { server, master, .. } => out.push((
            at,
            Step::Replicaof {
                server: idx(server),
                master: master.as_deref().map(idx),
            },
        )),
        Action::Cut { a, b, .. } => out.push((
            at,
            Step::Cut {
                a: idx(a),
                b: idx(b),
            },
        )),
        Action::Heal { a, b, .. } => out.push((
            at,
            Step::Heal {
                a: idx(a),
                b: idx(b),
            },
        )),
        Action::Sever {
            a, b, detect_ms, ..
        } => out.push((
            at,
            Step::Fault(Fault::Sever {
                a: idx(a),
                b: idx(b),
                detect_ms: *detect_ms as u64,
            }),
        )),
        Action::Partition { a, b, .. } => {
            let (a, b) = (idx(a), idx(b));
            out.push((at, Step::Fault(Fault::Hold { from: a, to: b })));
            out.push((at, Step::Fault(Fault::Hold { from: b, to: a })));
        }
        Action::PartitionOneWay { from, to, .. } | Action::Hold { from, to, .. } => out.push((
            at,
            Step::Fault(Fault::Hold {
                from: idx(from),
                to: idx(to),
            }),
        )),
        Action::Release { from, to, .. } => out.push((
            at,
            Step::Fault(Fault::Release {
                from: idx(from),
                to: idx(to),
            }),
        )),
        Action::SetLink {
            from,
            to,
            latency_ms,
            bandwidth,
            extra_delay_ms,
            jitter_ms,
            both_ways,
            ..
        } => {
            let config = LinkConfig {
                latency_ms: latency_ms.map_or(DEFAULT_LATENCY_MS, |v| v as u64),
                bandwidth: bandwidth.map(|v| v as u64),
                extra_delay_ms: extra_delay_ms.unwrap_or(0) as u64,
                jitter_ms: jitter_ms.unwrap_or(0) as u64,
            };
            let (from, to) = (idx(from), idx(to));
            out.push((at, Step::Fault(Fault::SetLink { from, to, config })));
            if *both_ways {
                out.push((
                    at,
                    Step::Fault(Fault::SetLink {
                        from: to,
                        to: from,
                        config,
                    }),
                ));
            }
        }
        Action::AddServer {
            name, port, config, ..
        } => {
            let config = super::config_for(&format!("actions[{i}].config"), *port, config)
                .map_err(|e| e.to_string())?;
            out.push((
                at,
                Step::AddServer {
                    name: name.clone(),
                    config: Box::new(config),
                },
            ))
        }
        Action::Remove { server, .. } => out.push((
            at,
            Step::Remove {
                server: idx(server),
            },
        )),
        Action::Generate { .. } | Action::Load { .. } => {
            let mut rest = action_rest(action, i, seed, &|name| Some(idx(name)))?;
            out.extend(std::iter::from_fn(|| rest.next()));
        }
        Action::Crash { server, .. } => out.push((
            at,
            Step::Fault(Fault::Crash {
                server: idx(server),
            }),
        )),
        Action::Restart {
            server, with_rdb, ..
        } => out.push((
            at,
            Step::Fault(Fault::Restart {
                server: idx(server),
                from_disk: *with_rdb,
            }),
        )),
        Action::Save { server, .. } => out.push((
            at,
            Step::Fault(Fault::Save {
                server: idx(server),
            }),
        )),
        Action::Pause { server, .. } => out.push((
            at,
            Step::Fault(Fault::Pause {
                server: idx(server),
            }),
        )),
        Action::Resume { server, .. } => out.push((
            at,
            Step::Fault(Fault::Resume {
                server: idx(server),
            }),
        )),
    }
    Ok(out)
}

/// The load generators' keys and values, from the scenario seed.
#[derive(Debug, Clone)]
pub struct Rng(SplitMix64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SplitMix64::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// In `0..n` (0 when n is 0); the tiny modulo bias does not matter here.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

#[derive(Debug, Clone)]
struct LoadShape {
    action: usize,
    keys: u64,
    value_bytes: usize,
    ttl_ms: Option<u64>,
}

impl LoadShape {
    fn value(&self, rng: &mut Rng) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        (0..self.value_bytes)
            .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// One write of `kind` (and its PEXPIRE when the load has a TTL).
    fn write(&self, kind: WriteKind, rng: &mut Rng, lines: &mut Vec<String>) {
        let kind = match kind {
            WriteKind::Mixed => WriteKind::ALL[rng.below(5) as usize],
            k => k,
        };
        let tag = match kind {
            WriteKind::String => "str",
            WriteKind::List => "list",
            WriteKind::Hash => "hash",
            WriteKind::Set => "set",
            WriteKind::Zset => "zset",
            WriteKind::Mixed => unreachable!("resolved above"),
        };
        let key = format!("{tag}:{}:{}", self.action, rng.below(self.keys));
        let member = format!("m{}", rng.below(self.keys.max(4)));
        let roll = rng.below(10);
        let line = match kind {
            WriteKind::String => match (roll, self.ttl_ms) {
                (0, _) => format!("APPEND {key} {}", self.value(rng)),
                (1, _) => format!("INCRBY {key}:n {}", rng.below(100)),
                (_, Some(ttl)) => format!("SET {key} {} PX {ttl}", self.value(rng)),
                (_, None) => format!("SET {key} {}", self.value(rng)),
            },
            WriteKind::List => match roll {
                0..=1 => format!("LPOP {key}"),
                2..=4 => format!("LPUSH {key} {}", self.value(rng)),
                _ => format!("RPUSH {key} {}", self.value(rng)),
            },
            WriteKind::Hash => match roll {
                0..=1 => format!("HDEL {key} {member}"),
                2 => format!("HINCRBY {key} n 1"),
                _ => format!("HSET {key} {member} {}", self.value(rng)),
            },
            WriteKind::Set => match roll {
                0 => format!("SREM {key} {member}"),
                // Random: Redis propagates what it popped as SREM.
                1 => format!("SPOP {key}"),
                2 => format!("SADD {key} {}", rng.below(1000)),
                _ => format!("SADD {key} {member}"),
            },
            WriteKind::Zset => match roll {
                0 => format!("ZREM {key} {member}"),
                1 => format!("ZINCRBY {key} 1.5 {member}"),
                _ => format!("ZADD {key} {} {member}", rng.below(1000) as f64 / 4.0),
            },
            WriteKind::Mixed => unreachable!("resolved above"),
        };
        lines.push(line);
        if let (Some(ttl), false) = (self.ttl_ms, kind == WriteKind::String && roll >= 2) {
            let key = if kind == WriteKind::String && roll == 1 {
                format!("{key}:n")
            } else {
                key
            };
            lines.push(format!("PEXPIRE {key} {ttl}"));
        }
    }
}

/// The final state of one server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSummary {
    pub name: String,
    pub port: u16,
    pub info_replication: String,
    /// [`Keyspace::digest`](crate::engine::keyspace::Keyspace::digest) at the end.
    pub digest: u64,
    pub keys: usize,
}

/// One PSYNC/SYNC decision, as the master explained it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSummary {
    pub index: u64,
    pub time: u64,
    pub master: String,
    pub replica: String,
    pub partial: bool,
    pub reason: String,
}

/// What a run came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub log_hash: String,
    pub log_entries: usize,
    pub end_ms: u64,
    pub servers: Vec<ServerSummary>,
    pub syncs: Vec<SyncSummary>,
    pub checks: CheckStats,
    pub violations: Vec<Violation>,
    /// Where the bus stopped the run at its budget, if it did: the run is everything
    /// before that event.
    pub budget_stop: Option<BudgetStop>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "log: {} entries, hash {}, ended at t={} ms",
            self.log_entries, self.log_hash, self.end_ms
        )?;
        if let Some(stop) = &self.budget_stop {
            writeln!(f, "run {stop}: what follows is the run up to there")?;
        }
        for s in &self.servers {
            writeln!(
                f,
                "\n{} (port {}): {} keys, digest {:016x}",
                s.name, s.port, s.keys, s.digest
            )?;
            for line in s
                .info_replication
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
            {
                writeln!(f, "  {line}")?;
            }
        }
        writeln!(f, "\nsync decisions: {}", self.syncs.len())?;
        for d in &self.syncs {
            let how = if d.partial { "partial" } else { "full" };
            writeln!(
                f,
                "  #{} t={} {} -> {}: {how}: {}",
                d.index, d.time, d.master, d.replica, d.reason
            )?;
        }
        let c = &self.checks;
        writeln!(
            f,
            "\nchecked: {} replica digests against their master's at the same offset, {} offsets, {} WAIT replies",
            c.safety_comparisons, c.offset_comparisons, c.waits_checked
        )?;
        if self.violations.is_empty() {
            writeln!(f, "invariants: all held")?;
        } else {
            writeln!(f, "invariant violations: {}", self.violations.len())?;
            for v in &self.violations {
                writeln!(f, "  {v}")?;
            }
        }
        Ok(())
    }
}

/// A finished run.
pub struct Run {
    pub bus: Bus,
    pub summary: Summary,
}

impl Run {
    pub fn violations(&self) -> &[Violation] {
        &self.summary.violations
    }
}

/// Who looks at a run while it is played: the runner's [`Checker`], or nobody (`()`,
/// the page, which then carries none of the checker's code).
pub trait Watcher {
    /// Events from log index `before` on were just recorded.
    fn event(&mut self, bus: &Bus, before: usize);
    /// A step of the schedule was carried out (its entries start at `before`).
    fn step(&mut self, bus: &Bus, step: &Step, before: usize);
    /// Replicas that should have converged by the liveness bound have not.
    fn not_converged(&mut self, bus: &Bus, message: String);
}

impl Watcher for () {
    fn event(&mut self, _: &Bus, _: usize) {}
    fn step(&mut self, _: &Bus, _: &Step, _: usize) {}
    fn not_converged(&mut self, _: &Bus, _: String) {}
}

impl Watcher for Checker {
    fn event(&mut self, bus: &Bus, before: usize) {
        self.observe(bus, before);
    }

    fn step(&mut self, bus: &Bus, step: &Step, before: usize) {
        match step {
            Step::Command { server, line } => self.command_typed(bus, *server, line),
            Step::Replicaof { server, .. } => {
                let line = replicaof_line(bus, step).expect("a REPLICAOF step");
                self.command_typed(bus, *server, &line);
            }
            Step::AddServer { .. } => self.server_added(),
            _ => {}
        }
        self.observe(bus, before);
    }

    fn not_converged(&mut self, bus: &Bus, message: String) {
        self.report(bus, None, ViolationKind::Liveness, message);
    }
}

fn replicaof_line(bus: &Bus, step: &Step) -> Option<String> {
    match step {
        Step::Replicaof {
            master: Some(m), ..
        } => Some(format!("REPLICAOF 127.0.0.1 {}", bus.server(*m).port)),
        Step::Replicaof { master: None, .. } => Some("REPLICAOF NO ONE".to_string()),
        _ => None,
    }
}

/// Carries out one step of the schedule on the bus, as the page does when a person does
/// the same thing (so a link of a page session replays it move for move). The error is
/// the bus's refusal (a command to a crashed server): part of the run for the runner,
/// shown to the person in the page.
pub fn apply_step(bus: &mut Bus, step: &Step) -> Result<(), String> {
    match step {
        Step::Command { server, line } => bus.submit_command(*server, line),
        Step::Replicaof { server, .. } => {
            let line = replicaof_line(bus, step).expect("a REPLICAOF step");
            bus.submit_command(*server, &line)
        }
        Step::Cut { a, b } => {
            bus.cut(*a, *b);
            Ok(())
        }
        Step::Heal { a, b } => {
            bus.heal(*a, *b);
            Ok(())
        }
        Step::AddServer { name, config } => {
            bus.add_server(name, (**config).clone());
            Ok(())
        }
        Step::Remove { server } => bus.remove_server(*server),
        Step::Pipe { server, lines } => {
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            bus.submit_pipe(*server, &refs)
        }
        Step::Fault(f) => bus.inject(f.clone()),
    }
}

/// A bus with the scenario's listed servers, before any step.
pub fn new_bus(s: &Scenario) -> Result<Bus, ScenarioError> {
    let mut bus = Bus::new(s.seed);
    for (i, spec) in s.servers.iter().enumerate() {
        let config = s.server_config(i)?;
        bus.add_server(&spec.name, config);
    }
    Ok(bus)
}

/// Carries out a scenario (validated first) and checks it.
pub fn run(s: &Scenario) -> Result<Run, ScenarioError> {
    s.validate()?;
    let mut bus = new_bus(s)?;
    let mut checker = Checker::new(s.servers.len());
    checker.observe(&bus, 0);
    let mut player = Player::new(s);
    play_through(s, &mut bus, &mut player, &mut checker);
    checker.finish(&bus);
    check_expectations(s, &bus, &mut checker);
    let checks = checker.stats();
    let summary = summarise(&bus, checks, checker.into_violations());
    Ok(Run { bus, summary })
}

/// Plays the rest of the schedule, then on until every replica that can converge has
/// (or the liveness bound passes), then to `end_ms`: the whole run as `replscope-sim`
/// makes it. The page opens a link the same way, without a checker, so the log it shows
/// is the log `replscope-sim run` prints; it goes through [`PlayThrough`] in slices, this
/// in one go, and both make the same moves.
pub fn play_through(s: &Scenario, bus: &mut Bus, player: &mut Player, watcher: &mut impl Watcher) {
    let mut through = PlayThrough::new(s);
    while !through.run_some(bus, player, watcher, usize::MAX) {}
}

/// How far a [`PlayThrough`] has come, in virtual milliseconds since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub now_ms: u64,
    /// Where the run is expected to end: the last action or `end_ms`, and once the actions
    /// are done and replicas are still catching up, the convergence deadline if later.
    pub end_ms: u64,
    /// The actions are done; the run goes on until the replicas converge (or `end_ms`).
    pub converging: bool,
    pub done: bool,
    /// Percent shown when the actions were done: the deadline moving the end further
    /// must not make the bar go back.
    floor: u64,
}

impl Progress {
    /// Whole percent, never going back, 100 only once done (time can reach the expected
    /// end before the events due there are carried out).
    pub fn percent(&self) -> u64 {
        match (self.done, self.end_ms) {
            (true, _) => 100,
            (false, 0) => self.floor,
            (false, end) => (self.now_ms.saturating_mul(100) / end).clamp(self.floor, 99),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Carrying out the schedule, each step after the events due by its time.
    Schedule,
    /// After the last action: until the replicas converge or `deadline` (unix ms);
    /// `floor` is the percent reached by then.
    Converge {
        last_action: u64,
        deadline: u64,
        floor: u64,
    },
    /// On to `end_ms`.
    End,
    Done,
}

/// Bus events that record nothing carried out as one move of [`PlayThrough::run_some`]:
/// cron ticks cost microseconds, so a slice's clock, read every few moves, stays close.
const QUIET_EVENTS_PER_MOVE: u64 = 256;

/// [`play_through`] as a state machine, so the page can carry a run out a slice at a time
/// without blocking its thread: [`PlayThrough::run_some`] does a bounded number of moves
/// and says whether the run is done. Slicing changes nothing in what is done or in which
/// order: every loop of the one-go version is one move here, resumed where it stopped.
#[derive(Debug, Clone)]
pub struct PlayThrough {
    phase: Phase,
    liveness: bool,
    /// The scenario's last action's end (ms since the start).
    actions_end: u64,
    end_ms: Option<u64>,
}

impl PlayThrough {
    pub fn new(s: &Scenario) -> PlayThrough {
        PlayThrough {
            phase: Phase::Schedule,
            liveness: s.expect.liveness(),
            actions_end: s
                .actions
                .iter()
                .map(|a| a.end().max(0) as u64)
                .max()
                .unwrap_or(0),
            end_ms: s.end_ms.map(|e| e.max(0) as u64),
        }
    }

    pub fn done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Carries out up to `max_moves` moves (a bus event, or a step of the schedule with the
    /// clock moved to it); returns whether the run is done. A bus that refuses to step
    /// while an event is due (it stopped at its budget) ends the run where it is.
    pub fn run_some(
        &mut self,
        bus: &mut Bus,
        player: &mut Player,
        watcher: &mut impl Watcher,
        max_moves: usize,
    ) -> bool {
        let mut moves = 0;
        while moves < max_moves && self.phase != Phase::Done {
            moves += 1;
            match self.phase {
                Phase::Schedule => match player.next_due() {
                    Some(at) if bus.next_event_at().is_some_and(|t| t <= at) => {
                        self.event(bus, watcher, at);
                    }
                    Some(at) => {
                        bus.run_until(at);
                        let before = bus.log().len();
                        let step = player.apply_next(bus).expect("a step is due").clone();
                        watcher.step(bus, &step, before);
                    }
                    None => self.phase = self.after_schedule(bus),
                },
                Phase::Converge {
                    last_action,
                    deadline,
                    ..
                } => match bus.next_event_at() {
                    Some(t) if t <= deadline => {
                        if self.event(bus, watcher, deadline) && converged(bus) {
                            self.phase = Phase::End;
                        }
                    }
                    _ => {
                        bus.run_until(deadline);
                        let gaps: Vec<String> = checker::expected_to_converge(bus)
                            .iter()
                            .filter_map(|(r, m)| checker::convergence_gap(bus, *r, *m))
                            .collect();
                        let msg = format!(
                            "{} ms after the last action (t={}), replicas have not converged: {}",
                            deadline - last_action,
                            last_action - EPOCH_MS,
                            gaps.join("; ")
                        );
                        watcher.not_converged(bus, msg);
                        self.phase = Phase::End;
                    }
                },
                Phase::End => match self.end_ms.map(|e| EPOCH_MS + e) {
                    Some(end) if bus.next_event_at().is_some_and(|t| t <= end) => {
                        self.event(bus, watcher, end);
                    }
                    Some(end) => {
                        bus.run_until(end);
                        self.phase = Phase::Done;
                    }
                    None => self.phase = Phase::Done,
                },
                Phase::Done => {}
            }
        }
        self.done()
    }

    /// Carries out bus events due by `until` up to the next one that records anything,
    /// and shows that one to the watcher; returns whether one did. A bus that will not go
    /// on (it stopped at its budget) ends the run where it is.
    fn event(&mut self, bus: &mut Bus, watcher: &mut impl Watcher, until: u64) -> bool {
        let before = bus.log().len();
        match bus.run_until_entry(until, QUIET_EVENTS_PER_MOVE) {
            RunPause::Recorded => {
                watcher.event(bus, before);
                true
            }
            // Where and why: `Bus::budget_stop`.
            RunPause::Stopped => {
                self.phase = Phase::Done;
                false
            }
            RunPause::Reached | RunPause::Yielded => false,
        }
    }

    fn after_schedule(&self, bus: &Bus) -> Phase {
        let last_action = EPOCH_MS + self.actions_end.max(bus.elapsed_ms());
        if !self.liveness || converged(bus) {
            return Phase::End;
        }
        let floor = self.progress(bus).percent();
        Phase::Converge {
            last_action,
            deadline: last_action + checker::liveness_bound_ms(bus),
            floor,
        }
    }

    /// Virtual time reached out of the run's expected end.
    pub fn progress(&self, bus: &Bus) -> Progress {
        let end = self.actions_end.max(self.end_ms.unwrap_or(0));
        let (end, converging, floor) = match self.phase {
            Phase::Converge {
                deadline, floor, ..
            } => (end.max(deadline - EPOCH_MS), true, floor),
            Phase::Schedule => (end, false, 0),
            Phase::End | Phase::Done => (end, true, 0),
        };
        Progress {
            now_ms: bus.elapsed_ms(),
            end_ms: end,
            converging,
            done: self.done(),
            floor,
        }
    }
}

fn converged(bus: &Bus) -> bool {
    checker::expected_to_converge(bus)
        .iter()
        .all(|(r, m)| checker::convergence_gap(bus, *r, *m).is_none())
}

fn check_expectations(s: &Scenario, bus: &Bus, checker: &mut Checker) {
    for e in &s.expect.info {
        let id = s.server_index(&e.server).expect("validated server name");
        let info = bus.server(id).node.info_replication();
        let got = info
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{}:", e.field)));
        if got != Some(e.equals.as_str()) {
            let msg = format!(
                "{}'s INFO replication {}: expected {:?}, got {:?}",
                e.server,
                e.field,
                e.equals,
                got.unwrap_or("<absent>")
            );
            checker.report(bus, Some(id), ViolationKind::Expectation, msg);
        }
    }
    for text in &s.expect.log_contains {
        if !bus.log().iter().any(|e| e.line().contains(text.as_str())) {
            checker.report(
                bus,
                None,
                ViolationKind::Expectation,
                format!("the log never shows {text:?}"),
            );
        }
    }
}

fn summarise(bus: &Bus, checks: CheckStats, violations: Vec<Violation>) -> Summary {
    let servers = bus
        .servers()
        .iter()
        .map(|s| ServerSummary {
            name: s.name.clone(),
            port: s.port,
            info_replication: s.node.info_replication(),
            digest: s.node.keyspace().digest(bus.now()),
            keys: s.node.keyspace().len(),
        })
        .collect();
    let syncs = bus
        .log()
        .iter()
        .filter_map(|e| match (&e.kind, e.server) {
            (LogKind::Engine(Event::SyncDecision(d)), Some(m)) => Some(SyncSummary {
                index: e.index,
                time: e.time,
                master: bus.server(m).name.clone(),
                replica: d.replica.clone(),
                partial: d.partial,
                reason: d.reason.clone(),
            }),
            _ => None,
        })
        .collect();
    Summary {
        log_hash: bus.log_hash(),
        log_entries: bus.log().len(),
        end_ms: bus.elapsed_ms(),
        servers,
        syncs,
        checks,
        violations,
        budget_stop: bus.budget_stop().cloned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run played through in slices of `slice` moves, under the checker.
    fn sliced(s: &Scenario, slice: usize) -> (String, Vec<Violation>, Vec<u64>) {
        let mut bus = new_bus(s).unwrap();
        let mut checker = Checker::new(s.servers.len());
        checker.observe(&bus, 0);
        let mut player = Player::new(s);
        let mut through = PlayThrough::new(s);
        let mut percents = Vec::new();
        while !through.run_some(&mut bus, &mut player, &mut checker, slice) {
            percents.push(through.progress(&bus).percent());
        }
        percents.push(through.progress(&bus).percent());
        (bus.log_hash(), checker.into_violations(), percents)
    }

    #[test]
    fn the_schedule_made_as_it_goes_is_every_actions_steps_sorted_by_time_then_file_order() {
        let mut scenarios: Vec<Scenario> = (0..40)
            .map(crate::scenario::generate::random_scenario)
            .collect();
        scenarios.extend(
            crate::scenario::guided::ALL
                .iter()
                .filter_map(|g| crate::scenario::guided::scenario(g.id)),
        );
        let mut loads = Scenario::from_json(r#"{"version": 1, "seed": 5, "servers": [{"name": "m", "port": 6380}, {"name": "r", "port": 6381}], "topology": [{"replica": "r", "master": "m"}]}"#).unwrap();
        loads.actions = serde_json::from_str(
            r#"[{"do": "load", "at": 1000, "server": "m", "rate": 300, "duration_ms": 2000, "type": "mixed", "keys": 50, "value_bytes": 8, "ttl_ms": 500, "multi": true},
                {"do": "command", "at": 1500, "server": "m", "line": "SET x 1"},
                {"do": "generate", "at": 1200, "server": "m", "write": "hset", "rate": 70, "keys": 9, "value_size": 5, "ttl_s": 1, "stop_at": 2600},
                {"do": "load", "at": 1000, "server": "m", "rate": 7, "duration_ms": 3000, "type": "list", "keys": 3, "value_bytes": 3}]"#,
        )
        .unwrap();
        loads.validate().unwrap();
        scenarios.push(loads);
        for s in &scenarios {
            let idx = |name: &str| s.server_index(name);
            let mut sorted: Vec<(u64, usize, Step)> = s
                .topology
                .iter()
                .map(|l| {
                    (
                        0,
                        0,
                        Step::Replicaof {
                            server: idx(&l.replica).unwrap(),
                            master: idx(&l.master),
                        },
                    )
                })
                .collect();
            for (i, a) in s.actions.iter().enumerate() {
                sorted.extend(
                    action_steps(a, i, s.seed, &idx)
                        .unwrap()
                        .into_iter()
                        .map(|(t, step)| (t, i + 1, step)),
                );
            }
            sorted.sort_by_key(|(t, order, _)| (*t, *order));
            let sorted: Vec<_> = sorted
                .into_iter()
                .map(|(t, order, step)| (t, order.checked_sub(1), step))
                .collect();
            assert_eq!(schedule(s), sorted, "{:?}", s.title);
        }
    }

    #[test]
    fn a_huge_load_is_scheduled_as_time_reaches_it_not_all_at_once() {
        // The issue's link: 10,000 SETs/s for 20 s with 64 KiB values, 13 GB of text if
        // made up front (which aborted the process).
        let s: Scenario = serde_json::from_str(
            r#"{"version": 1, "seed": 1, "servers": [{"name": "m", "port": 6380}],
                "actions": [{"do": "load", "at": 0, "server": "m", "rate": 10000, "duration_ms": 20000, "type": "string", "keys": 1000000, "value_bytes": 65536}]}"#,
        )
        .unwrap();
        let started = std::time::Instant::now();
        let mut schedule = Schedule::new(&s);
        let first: Vec<_> = schedule.by_ref().take(100).collect();
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(first.len(), 100);
        assert!(
            first
                .iter()
                .all(|(t, action, _)| *t < 20 && *action == Some(0)),
            "the first 100 writes fall in the first 10 ms"
        );
        assert_eq!(schedule.peek_at(), Some(10), "the rest is still to be made");
    }

    #[test]
    fn a_run_played_in_slices_makes_the_same_moves_as_in_one_go() {
        let mut scenarios: Vec<Scenario> = (0..6)
            .map(crate::scenario::generate::random_scenario)
            .collect();
        scenarios.extend(
            crate::scenario::guided::ALL
                .iter()
                .filter_map(|g| crate::scenario::guided::scenario(g.id)),
        );
        for s in &scenarios {
            let mut bus = new_bus(s).unwrap();
            let mut checker = Checker::new(s.servers.len());
            checker.observe(&bus, 0);
            play_through(s, &mut bus, &mut Player::new(s), &mut checker);
            let whole = (bus.log_hash(), checker.into_violations());
            for slice in [1, 7, 500] {
                let (hash, violations, percents) = sliced(s, slice);
                assert_eq!(
                    (&hash, &violations),
                    (&whole.0, &whole.1),
                    "{:?} in slices of {slice}",
                    s.title
                );
                assert!(
                    percents.windows(2).all(|w| w[0] <= w[1]),
                    "progress went back: {percents:?}"
                );
                assert_eq!(percents.last(), Some(&100));
                assert!(percents[..percents.len() - 1].iter().all(|&p| p < 100));
            }
        }
    }
}
