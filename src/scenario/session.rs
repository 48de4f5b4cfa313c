//! A scenario being played in the page, with what the person does added to it.
//!
//! The page always plays a scenario: the small example it opens on, a guided scenario,
//! or a shared link. The scenario's own steps run as virtual time reaches them
//! ([`Player`]); everything the person does (a command typed, a link cut, a server added,
//! the load generator started) is carried out through [`Session::act`] and recorded as a
//! scenario action at the virtual millisecond it happened. [`Session::to_scenario`] writes
//! the whole thing back as a scenario, which is what a share link holds: opening that
//! link plays the same moves in the same order, so its log is the page's log.
//!
//! Time travel shapes what is recorded. Stepping back and forth changes nothing; acting in
//! the past makes the bus discard its recorded future, and with it the person's actions
//! recorded there ([`Session::forked`]). The scenario's own steps are never dropped: the
//! ones that were in the discarded future run again when time comes back to them.
//!
//! Order within one millisecond follows the runner: the scenario's steps first, then the
//! person's actions in the order done, each after every bus event due by then.

use super::generator::{GenerateSpec, Generator, BATCH_MS};
use super::player::Player;
use super::runner::{self, PlayThrough, Progress};
use super::schedule::{action_steps, apply_step, Step};
use super::{Action, Scenario, ScenarioError};
use crate::bus::{Bus, ServerId, EPOCH_MS};

/// One thing the person did.
#[derive(Debug, Clone, PartialEq)]
struct Recorded {
    /// Bus position before it was carried out.
    position: usize,
    action: Action,
}

/// A load generator the person started.
#[derive(Debug, Clone, PartialEq)]
struct LiveGenerator {
    /// Index of its `generate` action in `user`.
    recorded: usize,
    generator: Generator,
    /// Bus position at which Stop was pressed, if it was.
    stopped_at: Option<usize>,
    /// Bus position at each batch instant already reached (the first at start + BATCH_MS),
    /// empty batches included, so a fork can tell which batches it discarded.
    batches: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Session {
    /// The scenario as opened; its actions are the script.
    base: Scenario,
    player: Player,
    user: Vec<Recorded>,
    generators: Vec<LiveGenerator>,
}

impl Session {
    /// A bus for `scenario` with its steps at 0 ms carried out: the page plays on live.
    pub fn start(scenario: Scenario) -> Result<(Session, Bus), ScenarioError> {
        let (mut session, mut bus) = Session::new(scenario)?;
        session.player.advance(&mut bus, EPOCH_MS);
        Ok((session, bus))
    }

    /// A bus for `scenario` played through as `replscope-sim run` plays it (to the end of
    /// its actions, until replicas converge, and to `end_ms`): the recorded timeline a
    /// shared link or a guided scenario is explored in.
    pub fn play_through(scenario: Scenario) -> Result<(Session, Bus), ScenarioError> {
        let mut playing = Session::playing_through(scenario)?;
        while !playing.run_some(usize::MAX) {}
        Ok(playing.into_parts())
    }

    /// [`Session::play_through`] a slice at a time ([`PlayingThrough::run_some`]), for the
    /// page, which must not block its thread while a long run opens. Same moves, same log.
    pub fn playing_through(scenario: Scenario) -> Result<PlayingThrough, ScenarioError> {
        let (session, bus) = Session::new(scenario)?;
        let through = PlayThrough::new(&session.base);
        Ok(PlayingThrough {
            session,
            bus,
            through,
        })
    }

    /// The scenario's servers on a new bus, before any step.
    fn new(scenario: Scenario) -> Result<(Session, Bus), ScenarioError> {
        scenario.validate()?;
        let bus = runner::new_bus(&scenario)?;
        let session = Session {
            player: Player::new(&scenario),
            base: scenario,
            user: Vec::new(),
            generators: Vec::new(),
        };
        Ok((session, bus))
    }

    /// The scenario as opened.
    pub fn base(&self) -> &Scenario {
        &self.base
    }

    /// Carries out something the person does, now, and records it. Its `at` is ignored:
    /// it happens at the bus's current time, after every event due by then. A refusal
    /// (a command to a crashed server, an unknown server) records nothing.
    pub fn act(&mut self, bus: &mut Bus, mut action: Action) -> Result<(), String> {
        // redis-cli sends nothing for an empty line.
        if let Action::Command { line, .. } = &action {
            if crate::engine::resp::split_args(line.as_bytes()).is_some_and(|args| args.is_empty())
            {
                return Ok(());
            }
        }
        if let Some((_, id)) = action
            .servers()
            .into_iter()
            .find(|&(_, id)| id >= bus.servers().len())
        {
            return Err(format!("no server s{id}"));
        }
        let index = self.base.actions.len() + self.user.len();
        let steps = action_steps(&action, index, self.base.seed)?;
        let position = bus.position();
        let rewrites = bus.timeline_rewrites();
        // Acting in the past replaces the recorded future: the script's steps that were in
        // it become due again, and those due this very millisecond go first, as the runner
        // orders them. If nothing ends up done (a refusal), the future stays, and so does
        // what this session knew about it.
        let in_past = bus.in_recorded_past();
        let before = in_past.then(|| self.clone());
        if in_past {
            self.forked(position);
        }
        let now = bus.now();
        bus.run_until(now);
        self.apply_due(bus, now);
        let mut result = Ok(());
        for (_, step) in &steps {
            result = apply_step(bus, step);
            if result.is_err() {
                break;
            }
        }
        if let (Some(before), true) = (before, bus.timeline_rewrites() == rewrites) {
            *self = before;
        }
        result?;
        action.set_at(bus.elapsed_ms() as i64);
        self.user.push(Recorded { position, action });
        Ok(())
    }

    /// Starts the load generator on `server` now; it runs until [`Session::stop_generator`].
    pub fn start_generator(
        &mut self,
        bus: &mut Bus,
        server: ServerId,
        spec: GenerateSpec,
    ) -> Result<(), String> {
        spec.check()?;
        let Some(name) = bus.servers().get(server).map(|s| &s.name) else {
            return Err(format!("no server s{server}"));
        };
        if bus.is_removed(server) {
            return Err(format!("server {name} was removed"));
        }
        let at = bus.elapsed_ms() as i64;
        let action = Action::Generate {
            at,
            server,
            write: spec.write,
            rate: spec.rate as i64,
            keys: spec.keys as i64,
            value_size: spec.value_size as i64,
            ttl_s: spec.ttl_s as i64,
            // Set when it stops, or when the session is written down.
            stop_at: at,
        };
        let position = bus.position();
        self.user.push(Recorded { position, action });
        let generator = Generator {
            server,
            spec,
            start: bus.now(),
            stop: None,
        };
        self.generators.push(LiveGenerator {
            recorded: self.user.len() - 1,
            generator,
            stopped_at: None,
            batches: Vec::new(),
        });
        Ok(())
    }

    /// Stops every running generator (now).
    pub fn stop_generator(&mut self, bus: &Bus) {
        let now = bus.now();
        for g in self
            .generators
            .iter_mut()
            .filter(|g| g.generator.stop.is_none())
        {
            g.generator.stop = Some(now);
            g.stopped_at = Some(bus.position());
        }
    }

    /// The running generator, if any: (server, spec, start in unix ms).
    pub fn running_generator(&self) -> Option<&Generator> {
        self.generators
            .iter()
            .map(|g| &g.generator)
            .find(|g| g.stop.is_none())
    }

    /// The generator started last, running or stopped (what the page's Load tab shows).
    pub fn last_generator(&self) -> Option<&Generator> {
        self.generators.last().map(|g| &g.generator)
    }

    /// The bus discarded its recorded future from `position` on (something was done in the
    /// past): forget what was recorded there.
    pub fn forked(&mut self, position: usize) {
        self.player.forked(position);
        let kept = self
            .user
            .iter()
            .take_while(|r| r.position < position)
            .count();
        self.user.truncate(kept);
        self.generators.retain(|g| g.recorded < kept);
        for g in &mut self.generators {
            while g.batches.last().is_some_and(|&p| p >= position) {
                g.batches.pop();
            }
            if g.stopped_at.is_some_and(|p| p >= position) {
                g.stopped_at = None;
                g.generator.stop = None;
            }
        }
    }

    /// The next instant at which a step or a generator batch falls due (unix ms).
    fn next_due(&self) -> Option<u64> {
        let batches = self.generators.iter().filter_map(|g| g.next_batch());
        self.player.next_due().into_iter().chain(batches).min()
    }

    /// Carries out everything due at `at` (the bus stands there): the scenario's steps
    /// first, then the generators' batches in the order they were started.
    fn apply_due(&mut self, bus: &mut Bus, at: u64) {
        while self.player.next_due().is_some_and(|t| t <= at) {
            self.player.apply_next(bus);
        }
        for g in &mut self.generators {
            while let Some(instant) = g.next_batch().filter(|&t| t <= at) {
                g.batches.push(bus.position());
                let lines = g.generator.batch(instant);
                if !lines.is_empty() {
                    // A batch to a crashed server is refused, as redis-cli --pipe would be.
                    let _ = apply_step(
                        bus,
                        &Step::Pipe {
                            server: g.generator.server,
                            lines,
                        },
                    );
                }
            }
        }
    }

    /// Live time moves on to `until` (unix ms): steps and batches as they fall due. Only
    /// for the newest point of the timeline (the recorded future replays by itself).
    pub fn advance(&mut self, bus: &mut Bus, until: u64) {
        while let Some(at) = self.next_due().filter(|&at| at <= until) {
            bus.run_until(at);
            self.apply_due(bus, at);
        }
        bus.run_until(until);
    }

    /// One event forward at the newest point of the timeline: a step or batch due before
    /// the next queued event is that event. Returns false when nothing is left to do.
    pub fn step_event(&mut self, bus: &mut Bus) -> bool {
        if let Some(at) = self.next_due() {
            if bus.next_event_at().is_none_or(|next| at <= next) {
                bus.run_until(at);
                self.apply_due(bus, at);
                return true;
            }
        }
        bus.step()
    }

    /// The scenario this session has become: the script, then what the person did, with
    /// `end_ms` covering the whole recorded timeline (so opening it shows every event).
    pub fn to_scenario(&self, bus: &Bus) -> Scenario {
        self.written(bus, None)
    }

    /// The scenario up to the event shown (what Share offers when the whole recording is
    /// over a limit): what the person did from the bus's position on is left out, load
    /// generators stop at the current time, and `end_ms` is that time. The script is kept
    /// as opened ([`share`](super::share) shortens its load generators).
    pub fn to_scenario_up_to_now(&self, bus: &Bus) -> Scenario {
        self.written(bus, Some(bus.position()))
    }

    fn written(&self, bus: &Bus, cut: Option<usize>) -> Scenario {
        let timeline_end = bus
            .timeline()
            .last()
            .map_or(0, |e| e.time)
            .max(bus.elapsed_ms()) as i64;
        let now = bus.elapsed_ms() as i64;
        let mut s = self.base.clone();
        for (i, r) in self.user.iter().enumerate() {
            if cut.is_some_and(|position| r.position >= position) {
                continue;
            }
            let mut action = r.action.clone();
            if let Action::Generate { at, stop_at, .. } = &mut action {
                let live = self
                    .generators
                    .iter()
                    .find(|g| g.recorded == i)
                    .expect("every generate has its generator");
                *stop_at = live
                    .generator
                    .stop
                    .map_or(timeline_end, |t| (t - EPOCH_MS) as i64);
                if cut.is_some() {
                    // Batches fall at instants up to the stop: none after now was sent yet.
                    *stop_at = (*stop_at).min(now);
                }
                if *stop_at <= *at {
                    continue;
                }
            }
            s.actions.push(action);
        }
        s.end_ms = match cut {
            None => Some(s.end_ms.unwrap_or(0).max(timeline_end)),
            Some(_) => Some(now),
        };
        s
    }
}

impl LiveGenerator {
    fn next_batch(&self) -> Option<u64> {
        let at = self.generator.start + (self.batches.len() as u64 + 1) * BATCH_MS;
        self.generator.stop.is_none_or(|s| at <= s).then_some(at)
    }
}

/// A scenario being played through (see [`Session::playing_through`]).
pub struct PlayingThrough {
    session: Session,
    bus: Bus,
    through: PlayThrough,
}

impl PlayingThrough {
    /// Carries out up to `max_moves` more moves; returns whether the run is done.
    pub fn run_some(&mut self, max_moves: usize) -> bool {
        self.through
            .run_some(&mut self.bus, &mut self.session.player, &mut (), max_moves)
    }

    pub fn progress(&self) -> Progress {
        self.through.progress(&self.bus)
    }

    pub fn done(&self) -> bool {
        self.through.done()
    }

    /// The scenario being opened.
    pub fn base(&self) -> &Scenario {
        &self.session.base
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// The bus, to travel in time once the run is played through.
    pub fn bus_mut(&mut self) -> &mut Bus {
        &mut self.bus
    }

    /// The session and its bus as far as they got (the whole run once done).
    pub fn into_parts(self) -> (Session, Bus) {
        (self.session, self.bus)
    }
}
