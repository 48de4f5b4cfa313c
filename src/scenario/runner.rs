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

use std::fmt;

use super::checker::{self, CheckStats, Checker, Violation, ViolationKind};
use super::player::Player;
use super::schedule::{replicaof_line, Step};
use super::{Scenario, ScenarioError};
use crate::bus::{BudgetStop, Bus, LogKind, RunPause, EPOCH_MS};
use crate::engine::Event;

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
    let names = s.all_servers();
    for e in &s.expect.info {
        let id = e.server;
        let info = bus.server(id).node.info_replication();
        let got = info
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{}:", e.field)));
        if got != Some(e.equals.as_str()) {
            let msg = format!(
                "{}'s INFO replication {}: expected {:?}, got {:?}",
                names[id].0,
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
    use crate::scenario::schedule::{action_steps, schedule, Schedule};

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
        let loads = Scenario::from_json(r#"{"version": 1, "seed": 5, "servers": [{"name": "m", "port": 6380}, {"name": "r", "port": 6381}], "topology": [{"replica": "r", "master": "m"}],
            "actions": [{"do": "load", "at": 1000, "server": "m", "rate": 300, "duration_ms": 2000, "type": "mixed", "keys": 50, "value_bytes": 8, "ttl_ms": 500, "multi": true},
                {"do": "command", "at": 1500, "server": "m", "line": "SET x 1"},
                {"do": "generate", "at": 1200, "server": "m", "write": "hset", "rate": 70, "keys": 9, "value_size": 5, "ttl_s": 1, "stop_at": 2600},
                {"do": "load", "at": 1000, "server": "m", "rate": 7, "duration_ms": 3000, "type": "list", "keys": 3, "value_bytes": 3}]}"#).unwrap();
        loads.validate().unwrap();
        scenarios.push(loads);
        for s in &scenarios {
            let mut sorted: Vec<(u64, usize, Step)> = s
                .topology
                .iter()
                .map(|l| {
                    (
                        0,
                        0,
                        Step::Replicaof {
                            server: l.replica,
                            master: Some(l.master),
                        },
                    )
                })
                .collect();
            for (i, a) in s.actions.iter().enumerate() {
                sorted.extend(
                    action_steps(a, i, s.seed)
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

    fn two_writes() -> Scenario {
        Scenario::from_json(
            r#"{"version": 1, "seed": 1,
                "servers": [{"name": "m", "port": 6380}, {"name": "r", "port": 6381}],
                "topology": [{"replica": "r", "master": "m"}],
                "actions": [
                  {"do": "command", "at": 1000, "server": "m", "line": "SET a 1"},
                  {"do": "command", "at": 2000, "server": "m", "line": "SET b 2"}
                ]}"#,
        )
        .unwrap()
    }

    #[test]
    fn steps_replay_with_the_timeline_and_run_again_after_a_fork() {
        let s = two_writes();
        let mut player = Player::new(&s);
        let mut bus = new_bus(&s).unwrap();
        player.advance(&mut bus, EPOCH_MS + 3_000);
        assert!(player.finished());
        let straight = bus.log_hash();

        // Back before the second write, and act there: the write is in the discarded
        // future, so it must be carried out again when time comes back to it.
        let before_b = bus.log().iter().rposition(|e| e.time < 2_000).unwrap();
        bus.jump_to(before_b).unwrap();
        let fork = bus.position();
        bus.run_until(bus.now());
        bus.submit_command(1, "GET a").unwrap();
        player.forked(fork);
        assert!(!player.finished());
        player.advance(&mut bus, EPOCH_MS + 3_000);
        assert!(player.finished());
        assert!(
            bus.log().iter().any(|e| e.line().contains("SET b 2")),
            "the script's write ran again"
        );
        assert_ne!(
            bus.log_hash(),
            straight,
            "the GET is part of the new timeline"
        );

        // A jump back without a new move forks nothing: the steps stay carried out.
        bus.jump_to(0).unwrap();
        bus.jump_to_end();
        assert!(player.finished());
    }
}
