//! Drawing a run that replaced the one shown (a link, a guided scenario, an embed's
//! `load`) over a few tasks: a long run's panels all drawn at once, and laid out in the
//! frame after, blocked the page for 50 to 90 ms. The controls and the cluster show the new
//! run at once; the [`LATER`] panels follow one a task, [`PANEL_GAP_MS`] apart so the page
//! lays out and paints each before the next, and show the run shown before until then.

use std::rc::Rc;

use crate::ui::state::Sim;

/// Panels drawn after the rest, in their order: the server panel (its console's 200
/// lines), the inspector, the timeline's diagram, its event log.
pub const LATER: usize = 4;

/// Wall-clock milliseconds between two later panels: longer than a frame at 60 Hz, so a
/// frame comes between them.
pub const PANEL_GAP_MS: u32 = 20;

/// The run drawn, and how many of the later panels show it.
pub struct Reveal {
    run: u64,
    pub panels: usize,
    /// The page as last drawn while a run was opening: what the later panels show until
    /// their turn. (The reducer's handle reads the newest state, not the one drawn.)
    before: Option<Rc<Sim>>,
}

impl Reveal {
    pub fn new(sim: &Sim) -> Reveal {
        Reveal {
            run: sim.run,
            panels: LATER,
            before: None,
        }
    }

    /// At each drawing of the page: a run that replaced the one shown starts over (one
    /// opened at once, with nothing drawn while it opened, is drawn at once too).
    pub fn update(&mut self, sim: &Sim) {
        if self.run != sim.run {
            self.run = sim.run;
            self.panels = if self.before.is_some() { 0 } else { LATER };
        }
        if self.panels == LATER {
            self.before = sim.opening.is_some().then(|| Rc::new(sim.clone()));
        }
    }

    /// The next panel's turn has come, if `run` is still the one drawn.
    pub fn next(&mut self, run: u64) {
        if self.run == run && self.panels < LATER {
            self.panels += 1;
        }
    }

    /// What each later panel draws: `now`, once its turn has come.
    pub fn sims<'a>(&'a self, now: &'a Sim) -> [&'a Sim; LATER] {
        std::array::from_fn(|i| match &self.before {
            Some(before) if i >= self.panels => before,
            _ => now,
        })
    }
}
