//! Opening a run (a share link, a guided scenario, an embed's `load`) without freezing the
//! page: the run is played through a slice at a time ([`PlayingThrough`]), each slice
//! under [`SLICE_MS`] of wall-clock time, with the page drawn and answering between
//! slices and a progress line shown ([`OpeningView`]). The run opened is the one
//! `replscope-sim run` makes of the same scenario: slicing changes when the moves are
//! made, never which.

use yew::Callback;

use crate::bus::Bus;
use crate::scenario::runner::Progress;
use crate::scenario::session::{PlayingThrough, Session};
use crate::scenario::{Scenario, ScenarioError};
use crate::ui::embed::protocol::Outbound;

/// Wall-clock milliseconds of play-through per slice: one frame's worth. The page must
/// never block longer than 50 ms; the rest goes to drawing the progress and to whatever
/// the person does, and to the odd move that is itself long.
pub const SLICE_MS: f64 = 16.0;
/// Moves carried out between two looks at the clock. One move is a bus event or a step
/// of the schedule: microseconds, and a look costs far less, so a slice looks after every
/// move and overshoots [`SLICE_MS`] by at most one (a move that is itself long, such as
/// writing a large RDB snapshot). Sixteen moves at a time overshot by 10 ms and more at
/// the start of a load, where each move first runs engine code the browser compiles then.
pub const MOVES_PER_LOOK: usize = 1;

/// Where an opening stands. The jump to the event the link names and the first drawing of
/// the opened run each take a slice of their own after the play-through: in the slice that
/// finished it, the three together blocked the page for 50 ms and more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Playing,
    Seeking,
    Ready,
}

/// An embed's `load` or `guide` waiting for its run to open: the reply goes out then.
pub struct Waiting {
    pub reply: Callback<Outbound>,
    /// The request's type, as the reply names it.
    pub to: String,
}

/// A run being opened.
pub struct OpeningRun {
    playing: PlayingThrough,
    /// The events to open at (`None`: the first narration step, or the end).
    pub step: Option<u64>,
    /// "the shared run", "the guided scenario “…”": for the progress line.
    pub what: String,
    /// The run's own link, for the address bar once open (a guided scenario's).
    pub link: Option<String>,
    pub waiting: Option<Waiting>,
    /// Whether the run plays once open (an embed's `autoplay`); otherwise it waits paused.
    pub play: bool,
    /// Slices run so far: the page schedules the next one whenever this changes.
    pub slices: u64,
    stage: Stage,
    /// How far the play-through came: the progress line keeps showing it while the run
    /// travels back to the event it opens at.
    played: Option<Progress>,
}

impl OpeningRun {
    /// Checks `scenario` (a refusal is the error) and sets it up to be played through.
    pub fn new(
        scenario: Scenario,
        step: Option<u64>,
        what: String,
    ) -> Result<OpeningRun, ScenarioError> {
        let playing = Session::playing_through(scenario)?;
        Ok(OpeningRun {
            playing,
            step,
            what,
            link: None,
            waiting: None,
            play: false,
            slices: 0,
            stage: Stage::Playing,
            played: None,
        })
    }

    /// Plays on for about `budget_ms` of wall-clock time; returns whether the run is ready
    /// to be shown (played through, and at the event to open at). With an unbounded budget
    /// it does everything at once.
    pub fn slice(&mut self, budget_ms: f64) -> bool {
        self.slices += 1;
        let start = wall_ms();
        let whole = budget_ms.is_infinite();
        if self.stage == Stage::Playing {
            loop {
                if self.playing.run_some(MOVES_PER_LOOK) {
                    self.stage = Stage::Seeking;
                    self.played = Some(self.playing.progress());
                    break;
                }
                if wall_ms() - start >= budget_ms {
                    return false;
                }
            }
            if !whole {
                return false;
            }
        }
        if self.stage == Stage::Seeking {
            self.seek();
            self.stage = Stage::Ready;
            if !whole {
                return false;
            }
        }
        true
    }

    /// Moves the played-through run to the event it opens at: the one the link names, or
    /// the last one at or before a guided scenario's first narration step, or the end.
    fn seek(&mut self) {
        let step = self.step;
        let base = self.playing.base();
        let servers = base.servers.len();
        let start = base.narration.first().map(|n| n.at.max(0) as u64);
        let bus = self.playing.bus_mut();
        let events = match (step, start) {
            (Some(step), _) => usize::try_from(step).unwrap_or(usize::MAX),
            (None, Some(at)) => bus.timeline().partition_point(|e| e.time <= at),
            (None, None) => bus.timeline_len(),
        };
        // A run cut short early may have fewer events than servers.
        let events = events.max(servers.max(1)).min(bus.timeline_len());
        if events > 0 {
            let _ = bus.jump_to(events - 1);
        }
    }

    /// Plays the rest in one go (tests, and whoever can wait).
    pub fn finish(&mut self) {
        while !self.slice(f64::INFINITY) {}
    }

    /// Played through and at the event to open at.
    pub fn done(&self) -> bool {
        self.stage == Stage::Ready
    }

    /// The scenario being opened.
    pub fn base(&self) -> &Scenario {
        self.playing.base()
    }

    /// What the page shows while the run opens.
    pub fn view(&self) -> OpeningView {
        let p = self.played.unwrap_or_else(|| self.playing.progress());
        OpeningView {
            what: self.what.clone(),
            percent: p.percent(),
            now_ms: p.now_ms,
            end_ms: p.end_ms,
            converging: p.converging,
        }
    }

    /// The session and bus played through, and the sentence to show if the run was cut
    /// short.
    pub fn into_parts(self) -> (Session, Bus, Option<String>) {
        let (session, bus) = self.playing.into_parts();
        let sentence = stopped_sentence(&bus);
        (session, bus, sentence)
    }
}

/// The one sentence the page shows when a run it opened was cut short by the bus's budget:
/// the only place the page words it.
pub fn stopped_sentence(bus: &Bus) -> Option<String> {
    bus.budget_stop()
        .map(|stop| format!("This run {stop}. {KEPT}"))
}

/// What a run cut short keeps.
const KEPT: &str = "Everything before it is kept and can be stepped through.";

/// The progress line's model.
#[derive(Clone, Debug, PartialEq)]
pub struct OpeningView {
    pub what: String,
    pub percent: u64,
    /// Virtual time reached, and where the run is expected to end (ms since its start).
    pub now_ms: u64,
    pub end_ms: u64,
    /// The actions are done; replicas are catching up.
    pub converging: bool,
}

impl OpeningView {
    /// "Opening the shared run… 42 % (t = 8.4 s of 20.0 s)".
    pub fn text(&self) -> String {
        let (now, end) = (seconds(self.now_ms), seconds(self.end_ms));
        let detail = if self.converging {
            format!("t = {now}; replicas catching up, at most until {end}")
        } else {
            format!("t = {now} of {end}")
        };
        format!("Opening {}… {} % ({detail})", self.what, self.percent)
    }

    /// For screen readers, in steps of ten percent: a live region read at every slice
    /// would never stop talking.
    pub fn announcement(&self) -> String {
        format!("Opening {}… {} %", self.what, self.percent / 10 * 10)
    }
}

/// `8.4 s`, without floats.
fn seconds(ms: u64) -> String {
    format!("{}.{} s", ms / 1000, ms / 100 % 10)
}

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// Milliseconds on a monotonic wall clock: `performance.now()` in the browser.
#[cfg(target_arch = "wasm32")]
pub fn wall_ms() -> f64 {
    performance_now()
}

/// Milliseconds on a monotonic wall clock (natively: since the first call).
#[cfg(not(target_arch = "wasm32"))]
pub fn wall_ms() -> f64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_says_what_opens_and_how_far() {
        let view = OpeningView {
            what: "the shared run".into(),
            percent: 42,
            now_ms: 8_432,
            end_ms: 20_000,
            converging: false,
        };
        assert_eq!(
            view.text(),
            "Opening the shared run… 42 % (t = 8.4 s of 20.0 s)"
        );
        assert_eq!(view.announcement(), "Opening the shared run… 40 %");
        let view = OpeningView {
            converging: true,
            percent: 99,
            now_ms: 21_300,
            end_ms: 80_000,
            ..view
        };
        assert_eq!(
            view.text(),
            "Opening the shared run… 99 % (t = 21.3 s; replicas catching up, at most until 80.0 s)"
        );
    }
}
