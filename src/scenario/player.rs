//! Plays a scenario's schedule onto a bus as virtual time reaches each step, remembering
//! where in the bus's timeline each step was carried out.
//!
//! The runner plays a scenario straight through. The page plays one while a person also
//! steps back and forth in time and acts: a step already carried out is part of the
//! recorded timeline and replays with it, so it must not be carried out again; but when
//! the person acts in the past, the bus discards the recorded future, and the steps that
//! were in it must be carried out again when time reaches them. Keeping, for each step,
//! the bus position ([`Bus::position`]) at which it was carried out answers both: a step
//! is in the timeline exactly when it has a position, and [`Player::forked`] forgets the
//! positions the bus discarded.
//!
//! Steps run in the runner's order: a step at time t after every bus event due by t
//! (`run_until(t)`), steps at equal times in file order.

use super::schedule::{apply_step, Schedule, Step};
use super::Scenario;
use crate::bus::{Bus, EPOCH_MS};

#[derive(Debug, Clone)]
struct Scheduled {
    /// Unix ms on the bus.
    at: u64,
    step: Step,
    /// Bus position before the step was carried out, while it is in the timeline.
    position: Option<usize>,
}

/// A scenario's schedule and how far it has been carried out.
#[derive(Debug, Clone)]
pub struct Player {
    /// The steps made so far, in order; the rest are still in `schedule`.
    steps: Vec<Scheduled>,
    /// Every step before this one is in the timeline (a hint: forks move it back).
    next: usize,
    /// Steps not made yet: a long load's writes are made as time reaches them.
    schedule: Schedule,
}

impl Player {
    /// The schedule of a validated scenario.
    pub fn new(scenario: &Scenario) -> Player {
        let mut player = Player {
            steps: Vec::new(),
            next: 0,
            schedule: Schedule::new(scenario),
        };
        player.make_next();
        player
    }

    /// Makes the step at `next` if it is not made yet (the schedule goes on from there).
    fn make_next(&mut self) {
        if self.next >= self.steps.len() {
            if let Some((at, _, step)) = self.schedule.next() {
                self.steps.push(Scheduled {
                    at: EPOCH_MS + at,
                    step,
                    position: None,
                });
            }
        }
    }

    /// When the next step not yet carried out is due (unix ms), if any.
    pub fn next_due(&self) -> Option<u64> {
        self.steps.get(self.next).map(|s| s.at)
    }

    /// Carries out the next step (its time must have come) and returns it.
    pub fn apply_next(&mut self, bus: &mut Bus) -> Option<&Step> {
        let i = self.next;
        let scheduled = self.steps.get_mut(i)?;
        scheduled.position = Some(bus.position());
        // A refusal (a command to a crashed server) is part of the run, as in a shell script.
        let _ = apply_step(bus, &scheduled.step);
        self.next += 1;
        self.make_next();
        Some(&self.steps[i].step)
    }

    /// Runs the bus to `until` (unix ms), carrying out each step as its time comes.
    pub fn advance(&mut self, bus: &mut Bus, until: u64) {
        while let Some(at) = self.next_due().filter(|&at| at <= until) {
            bus.run_until(at);
            self.apply_next(bus);
        }
        bus.run_until(until);
    }

    /// The bus discarded its recorded future from `position` on: steps carried out there
    /// are to be carried out again.
    pub fn forked(&mut self, position: usize) {
        for (i, s) in self.steps.iter_mut().enumerate() {
            if s.position.is_some_and(|p| p >= position) {
                s.position = None;
                self.next = self.next.min(i);
            }
        }
    }

    /// Whether every step is in the timeline.
    pub fn finished(&self) -> bool {
        self.next >= self.steps.len() && self.schedule.peek_at().is_none()
    }
}
