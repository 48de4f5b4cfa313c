//! Opening a run (a share link, a guided scenario, an embed's `load`) without freezing the
//! page: the run is played through a slice at a time ([`PlayingThrough`]), each slice
//! under [`SLICE_MS`] of wall-clock time, with the page drawn and answering between
//! slices and a progress line shown ([`OpeningView`]). The run opened is the one
//! `replscope-sim run` makes of the same scenario: slicing changes when the moves are
//! made, never which. In the page a guided scenario's run starts before its file is
//! here (the page fetches the file: it does not carry them), showing as opening, and plays
//! once the file arrives ([`OpeningRun::fetched`]).

use yew::Callback;

use crate::bus::Bus;
use crate::scenario::guided::Guided;
use crate::scenario::runner::Progress;
use crate::scenario::session::{PlayingThrough, Session};
use crate::scenario::{share_link, Scenario, ScenarioError};
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
    /// `None` while the guided scenario's file is fetched.
    playing: Option<PlayingThrough>,
    /// The guided scenario being opened, if it is one.
    guide: Option<&'static Guided>,
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
            playing: Some(playing),
            guide: None,
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

    /// The guided scenario `guide`, to be played through once its file is here
    /// ([`OpeningRun::fetched`]); its link goes to the address bar once open.
    pub fn guide(guide: &'static Guided) -> OpeningRun {
        OpeningRun {
            playing: None,
            guide: Some(guide),
            step: None,
            what: format!("the guided scenario \u{201c}{}\u{201d}", guide.title),
            link: None,
            waiting: None,
            play: false,
            slices: 0,
            stage: Stage::Playing,
            played: None,
        }
    }

    /// The guided scenario whose file this run waits for, if it does.
    pub fn fetching(&self) -> Option<&'static str> {
        self.guide.filter(|_| self.playing.is_none()).map(|g| g.id)
    }

    /// The guided scenario's file (or why the page could not fetch it): the run is set up
    /// from it, or the error is the sentence saying why it cannot open.
    pub fn fetched(&mut self, file: Result<&str, &str>) -> Result<(), String> {
        let Some(guide) = self.guide.filter(|_| self.playing.is_none()) else {
            return Ok(());
        };
        let title = guide.title;
        let file = file.map_err(|why| {
            format!("The guided scenario \u{201c}{title}\u{201d} could not be fetched: {why}.")
        })?;
        let playing = Scenario::from_json(file).and_then(|scenario| {
            self.link = Some(share_link::encode(&share_link::SharedRun {
                scenario: scenario.clone(),
                step: None,
            }));
            Session::playing_through(scenario)
        });
        let playing = playing.map_err(|e| {
            format!("The guided scenario \u{201c}{title}\u{201d} could not be opened: {e}")
        })?;
        self.playing = Some(playing);
        Ok(())
    }

    /// Plays on for about `budget_ms` of wall-clock time; returns whether the run is ready
    /// to be shown (played through, and at the event to open at). With an unbounded budget
    /// it does everything at once. While its file is fetched it does nothing, and counts
    /// no slice: the page asks for the next slice when the file arrives.
    pub fn slice(&mut self, budget_ms: f64) -> bool {
        let Some(playing) = self.playing.as_mut() else {
            return false;
        };
        self.slices += 1;
        let start = wall_ms();
        let whole = budget_ms.is_infinite();
        if self.stage == Stage::Playing {
            loop {
                if playing.run_some(MOVES_PER_LOOK) {
                    self.stage = Stage::Seeking;
                    self.played = Some(playing.progress());
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
            seek(playing, self.step);
            self.stage = Stage::Ready;
            if !whole {
                return false;
            }
        }
        true
    }

    /// Plays the rest in one go (tests, and whoever can wait); a run waiting for its file
    /// stays waiting.
    pub fn finish(&mut self) {
        while self.playing.is_some() && !self.slice(f64::INFINITY) {}
    }

    /// Played through and at the event to open at.
    pub fn done(&self) -> bool {
        self.stage == Stage::Ready
    }

    /// The title of the scenario being opened.
    pub fn title(&self) -> Option<String> {
        match (&self.playing, self.guide) {
            (Some(playing), _) => playing.base().title.clone(),
            (None, guide) => guide.map(|g| g.title.to_string()),
        }
    }

    /// What the page shows while the run opens.
    pub fn view(&self) -> OpeningView {
        let Some(playing) = &self.playing else {
            return OpeningView {
                what: self.what.clone(),
                percent: 0,
                now_ms: 0,
                end_ms: 0,
                converging: false,
                fetching: true,
            };
        };
        let p = self.played.unwrap_or_else(|| playing.progress());
        OpeningView {
            what: self.what.clone(),
            percent: p.percent(),
            now_ms: p.now_ms,
            end_ms: p.end_ms,
            converging: p.converging,
            fetching: false,
        }
    }

    /// The session and bus played through, and the sentence to show if the run was cut
    /// short.
    pub fn into_parts(self) -> (Session, Bus, Option<String>) {
        // Only a run `slice` called ready is taken apart, and it plays only once its file
        // is here.
        let (session, bus) = self
            .playing
            .expect("a run is played through before it is shown")
            .into_parts();
        let sentence = stopped_sentence(&bus);
        (session, bus, sentence)
    }
}

/// Moves the played-through run to the event it opens at: `step`, the one the link names,
/// or the last one at or before a guided scenario's first narration step, or the end.
fn seek(playing: &mut PlayingThrough, step: Option<u64>) {
    let base = playing.base();
    let servers = base.servers.len();
    let start = base.narration.first().map(|n| n.at.max(0) as u64);
    let bus = playing.bus_mut();
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
    /// The guided scenario's file is still on its way (nothing played yet).
    pub fetching: bool,
}

impl OpeningView {
    /// "Opening the shared run… 42 % (t = 8.4 s of 20.0 s)".
    pub fn text(&self) -> String {
        let (now, end) = (seconds(self.now_ms), seconds(self.end_ms));
        let detail = if self.fetching {
            "fetching its file".to_string()
        } else if self.converging {
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
            fetching: false,
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
        let view = OpeningView {
            what: "the guided scenario \u{201c}The full-sync loop\u{201d}".into(),
            percent: 0,
            now_ms: 0,
            end_ms: 0,
            converging: false,
            fetching: true,
        };
        assert_eq!(
            view.text(),
            "Opening the guided scenario \u{201c}The full-sync loop\u{201d}… 0 % (fetching its file)"
        );
    }
}
