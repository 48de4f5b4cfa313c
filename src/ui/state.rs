//! The playground's state: one bus on a virtual clock, changed only through [`Action`]s.
//!
//! Components never touch the bus. They render view models built here ([`ServerView`],
//! [`TranscriptLine`]), which compare by value so Yew skips the parts of the
//! page that did not change, and they send [`Action`]s to the reducer. Everything in this
//! file is plain Rust, so the native test suite covers it without a browser.

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use yew::Reducible;

use super::model::topology::{self, TopologyAction};
use crate::bus::{format_reply, quote, Bus, Fault, ServerId};
use crate::engine::keyspace::{is_expired, Value};
use crate::engine::replication::LinkStateName;
use crate::engine::resp::{split_args, Reply};
use crate::engine::Role;
use crate::scenario::generator::GenerateSpec;
use crate::scenario::session::Session;
use crate::scenario::{self, Scenario};
use crate::ui::model::inspect::{InspectAction, InspectUi};
use crate::ui::model::server_panel::{PanelAction, PanelUi};
use crate::ui::model::timeline::{self, DiagramScroll, LogFilter, Theme, TimelineUi};
use crate::ui::opening::{self, OpeningRun, OpeningView};

/// Fixed, so every visit replays the same run (same replids, same event log).
pub const SEED: u64 = 1;
pub const MASTER_PORT: u16 = 6380;
pub const REPLICA_PORTS: [u16; 2] = [6381, 6382];
pub use crate::ui::model::timeline::SPEEDS;
/// A tick longer than this is clamped: after the tab slept, the simulation resumes where
/// it was instead of jumping minutes ahead in one frame.
pub const MAX_TICK_MS: u64 = 1_000;
/// redis-cli keeps this many lines of history.
const HISTORY_LEN: usize = 100;
/// Older transcript lines are not drawn (they stay in the bus).
const TRANSCRIPT_LEN: usize = 200;
/// Keys shown per card; the rest is summarised.
const KEYS_SHOWN: usize = 50;
/// Escaped characters shown of a value before it is cut.
const VALUE_CHARS: usize = 40;

pub enum Action {
    /// A line typed into the console of `server`, as redis-cli would send it.
    SubmitCommand {
        server: ServerId,
        line: String,
    },
    /// The console's input changed.
    EditDraft(String),
    SelectConsole(ServerId),
    HistoryPrev,
    HistoryNext,
    Cut(ServerId, ServerId),
    Heal(ServerId, ServerId),
    /// Wall-clock milliseconds passed: advances virtual time by that × speed unless paused.
    Tick(u64),
    /// Advances virtual time by exactly this many milliseconds, paused or not.
    Step(u64),
    /// One event forward (along the recorded timeline after stepping back).
    StepEvent,
    /// One event back in time: the whole cluster as it was before the last event.
    StepBackEvent,
    /// Speed in hundredths of real time (100 = 1×), one of [`SPEEDS`].
    SetSpeed(u32),
    SetPaused(bool),
    /// Something done in the server panel (its tabs, completion, keys, config, load).
    Panel(PanelAction),
    /// Something done from the topology view (servers, links, faults, REPLICAOF).
    Topology(TopologyAction),
    /// Time travel to just after this event of the timeline (pauses).
    JumpTo(usize),
    /// Back to the newest point of the timeline (pauses).
    JumpToEnd,
    /// Selects an event in the list and the diagram (both highlight it).
    SelectEvent(Option<u64>),
    SetLogFilter(LogFilter),
    /// The event list scrolled to this filtered row; `None` follows the newest.
    ScrollLog(Option<usize>),
    ScrollDiagram(DiagramScroll),
    /// `None` follows the system's colour scheme.
    SetTheme(Option<Theme>),
    ShowHelp(bool),
    /// A choice in the inspection panels (tab, replica, link, hex, show more).
    Inspect(InspectAction),
    /// Writes the run down as a share link and shows it (`Share`).
    Share,
    /// Closes the share box.
    CloseShare,
    /// Opens a guided scenario by id, at its first narration step.
    OpenGuide(String),
    /// Opens a scenario (a share link's), at `step` events.
    Open {
        scenario: Box<Scenario>,
        step: Option<u64>,
    },
    /// Time travel to the moment narration step `n` describes (pauses).
    NarrationGo(usize),
    /// Dismisses the message about the page's address.
    DismissNotice,
    /// A request from the page embedding this one (see [`crate::ui::embed`]).
    Api(Box<crate::ui::embed::Call>),
    /// Plays the run being opened on for one slice of wall-clock time (see [`opening`]).
    OpenSlice,
    /// Stops opening a run; the one shown stays.
    CancelOpening,
}

/// A link written by Share.
#[derive(Clone, Debug, PartialEq)]
pub struct SharedLink {
    /// `v1.…` (the page puts it after its own address and `#`).
    pub link: String,
    /// Events the link opens at.
    pub step: u64,
}

/// The share box, made when the person asked for it: the link, or why this build would
/// refuse it (Share never writes a link the page cannot open) and what fits instead.
#[derive(Clone, Debug, PartialEq)]
pub enum ShareView {
    Link(SharedLink),
    Refused {
        /// One sentence naming the limit and by how much.
        sentence: String,
        /// The run up to the event shown, when that fits.
        fits: Option<SharedLink>,
    },
}

impl ShareView {
    /// The link written, if one was.
    pub fn link(&self) -> Option<&SharedLink> {
        match self {
            ShareView::Link(link) => Some(link),
            ShareView::Refused { .. } => None,
        }
    }
}

/// The narration of the scenario being played, with the step the playhead is at.
#[derive(Clone, Debug, PartialEq)]
pub struct NarrationView {
    pub title: Option<String>,
    pub description: Option<String>,
    /// (virtual ms, text) of every step.
    pub steps: Vec<(u64, String)>,
    /// The latest step at or before the current virtual time.
    pub current: Option<usize>,
}

/// The console's own state: what is being typed, and redis-cli's line history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsoleUi {
    pub selected: ServerId,
    pub draft: String,
    /// redis-cli's complaint about the last line it refused to send (the line stays typed).
    pub notice: Option<String>,
    history: Vec<String>,
    /// Position while walking the history with up/down; `None` when editing a new line.
    cursor: Option<usize>,
    /// The new line being typed when the walk started, restored when walking past the end.
    stash: String,
}

#[derive(Clone)]
pub struct Sim {
    bus: Rc<RefCell<Bus>>,
    /// The scenario being played and what the person did (every change to the bus goes
    /// through it, so the run can be written down as a link).
    session: Rc<RefCell<Session>>,
    /// Hundredths of real time (100 = 1×): see [`timeline::scale`].
    pub speed_pct: u32,
    pub paused: bool,
    pub console: ConsoleUi,
    pub panel: PanelUi,
    /// Why the last action from the topology view was refused, if it was.
    pub topology_notice: Option<String>,
    pub timeline: TimelineUi,
    pub inspect: InspectUi,
    /// Why the page could not open what its address asked for (a bad link), until dismissed.
    pub notice: Option<String>,
    pub share: Option<ShareView>,
    /// The link of what was last opened from inside the page (a guided scenario), for the
    /// address bar.
    pub opened_link: Option<String>,
    /// An embed's `readonly=1`: actions that would change the run are ignored.
    pub read_only: bool,
    /// Counts the runs opened on this page, so whoever follows the log (the embed's host)
    /// knows when it is another run's.
    pub run: u64,
    /// A run being opened a slice at a time; it replaces this one when done. `None` inside
    /// once taken out to be opened.
    pub opening: Option<Rc<RefCell<Option<OpeningRun>>>>,
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Reducible for Sim {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        // While a run opens, the wall clock's ticks go to it, not to the run it replaces.
        if (self.paused || self.opening.is_some()) && matches!(action, Action::Tick(_)) {
            // The same Rc back tells Yew nothing changed: a paused page does not redraw
            // twenty times a second.
            return self;
        }
        // The bus is shared and mutated in place: copying it on every tick would cost
        // more than the whole simulation. The new Rc is what tells Yew to render again.
        let mut next = (*self).clone();
        next.apply(action);
        Rc::new(next)
    }
}

impl Sim {
    /// The example the page opens on: a master on 6380 and two replicas told `REPLICAOF
    /// 127.0.0.1 6380` through their consoles at 0 ms, so the command and its `OK` are the
    /// first lines of their transcripts.
    pub fn example() -> Scenario {
        let server = |name: &str, port: u16| scenario::ServerSpec {
            name: name.into(),
            port: port.into(),
            config: Default::default(),
        };
        let replicas: Vec<_> = REPLICA_PORTS
            .iter()
            .enumerate()
            .map(|(i, &port)| server(&format!("replica-{}", i + 1), port))
            .collect();
        Scenario {
            version: scenario::FORMAT_VERSION,
            seed: SEED,
            description: None,
            title: None,
            narration: Vec::new(),
            topology: replicas
                .iter()
                .map(|r| scenario::Link {
                    replica: r.name.clone(),
                    master: "master".into(),
                })
                .collect(),
            servers: std::iter::once(server("master", MASTER_PORT))
                .chain(replicas)
                .collect(),
            actions: Vec::new(),
            end_ms: None,
            expect: Default::default(),
        }
    }

    pub fn new() -> Sim {
        let (session, bus) =
            Session::start(Sim::example()).expect("the example is a valid scenario");
        Sim::with(session, bus)
    }

    /// Plays `scenario` through (as `replscope-sim run` does) and stands at `step` events
    /// (clamped to the timeline; `None`: the start of the narration, or the end), paused.
    /// In one go: the page opens runs in slices ([`Sim::begin_opening`]).
    pub fn open(scenario: Scenario, step: Option<u64>) -> Result<Sim, scenario::ScenarioError> {
        let mut run = OpeningRun::new(scenario, step, "the shared run".to_string())?;
        run.finish();
        Ok(Sim::opened(run))
    }

    /// A run played through, standing at its step, paused; with the sentence saying so if
    /// it was cut short.
    fn opened(run: OpeningRun) -> Sim {
        let step = run.step;
        let (session, mut bus, stopped) = run.into_parts();
        let servers = session.base().servers.len();
        let start = session.base().narration.first().map(|n| n.at.max(0) as u64);
        let events = match (step, start) {
            (Some(step), _) => usize::try_from(step).unwrap_or(usize::MAX),
            // The last event at or before the first narration step's time.
            (None, Some(at)) => bus.timeline().partition_point(|e| e.time <= at),
            (None, None) => bus.timeline_len(),
        };
        // A run cut short early may have fewer events than servers.
        let events = events.max(servers.max(1)).min(bus.timeline_len());
        if events > 0 {
            let _ = bus.jump_to(events - 1);
        }
        let mut sim = Sim::with(session, bus);
        sim.paused = true;
        sim.notice = stopped;
        sim
    }

    /// The guided scenario `id`, opened at its first narration step; the error is the
    /// sentence the page shows.
    pub fn open_guide(id: &str) -> Result<Sim, String> {
        let mut run = Sim::guide_opening(id)?;
        run.finish();
        Ok(Sim::opened(run))
    }

    /// The guided scenario `id`, ready to be played through, with its link for the address bar.
    pub fn guide_opening(id: &str) -> Result<OpeningRun, String> {
        let scenario = scenario::guided::scenario(id)
            .ok_or_else(|| format!("There is no guided scenario {id:?}."))?;
        let what = match &scenario.title {
            Some(title) => format!("the guided scenario \u{201c}{title}\u{201d}"),
            None => "the guided scenario".to_string(),
        };
        let link = scenario::share_link::encode(&scenario::share_link::SharedRun {
            scenario: scenario.clone(),
            step: None,
        });
        let mut run = OpeningRun::new(scenario, None, what)
            .map_err(|e| format!("The guided scenario {id:?} could not be opened: {e}"))?;
        run.link = Some(link);
        Ok(run)
    }

    /// Starts opening `run` in slices, the first one now (a short run opens at once). A run
    /// still opening is dropped, and an embed waiting for it is told.
    pub fn begin_opening(&mut self, run: OpeningRun) {
        self.cancel_opening("Another run was asked for before this one opened.");
        self.opening = Some(Rc::new(RefCell::new(Some(run))));
        self.open_slice(opening::SLICE_MS);
    }

    /// Plays the run being opened on for about `budget_ms`; once done, it replaces this one.
    fn open_slice(&mut self, budget_ms: f64) {
        let Some(cell) = self.opening.clone() else {
            return;
        };
        let done = cell
            .borrow_mut()
            .as_mut()
            .is_none_or(|run| run.slice(budget_ms));
        if !done {
            return;
        }
        self.opening = None;
        let Some(mut run) = cell.borrow_mut().take() else {
            return;
        };
        let (waiting, link, play) = (run.waiting.take(), run.link.take(), run.play);
        self.replace_with(Sim::opened(run));
        self.opened_link = link;
        self.paused = !play;
        if let Some(w) = waiting {
            w.reply.emit(crate::ui::embed::Outbound::Reply {
                to: w.to,
                error: None,
            });
        }
    }

    /// Opens the run being opened in one go (tests; and what a slice does when there is time).
    pub fn finish_opening(&mut self) {
        self.open_slice(f64::INFINITY);
    }

    /// Drops the run being opened, if any; an embed waiting for it is told `why`.
    fn cancel_opening(&mut self, why: &str) {
        let Some(cell) = self.opening.take() else {
            return;
        };
        let waiting = cell.borrow_mut().take().and_then(|run| run.waiting);
        if let Some(w) = waiting {
            w.reply.emit(crate::ui::embed::Outbound::Reply {
                to: w.to,
                error: Some(why.to_string()),
            });
        }
    }

    /// The progress line while a run opens.
    pub fn opening_view(&self) -> Option<OpeningView> {
        self.opening
            .as_ref()
            .and_then(|cell| cell.borrow().as_ref().map(OpeningRun::view))
    }

    /// The run being opened, if any (to attach an embed's reply, or read its title).
    pub fn opening_run(&self) -> Option<std::cell::RefMut<'_, OpeningRun>> {
        let cell = self.opening.as_ref()?;
        std::cell::RefMut::filter_map(cell.borrow_mut(), Option::as_mut).ok()
    }

    /// Slices run of the opening, for the page to schedule the next (`None`: none under way).
    pub fn opening_slices(&self) -> Option<u64> {
        self.opening
            .as_ref()
            .and_then(|cell| cell.borrow().as_ref().map(|run| run.slices))
    }

    /// The title of what is shown, or of what is opening.
    pub fn title(&self) -> Option<String> {
        match self.opening_run() {
            Some(run) => run.base().title.clone(),
            None => self.session().base().title.clone(),
        }
    }

    fn with(session: Session, bus: Bus) -> Sim {
        Sim {
            bus: Rc::new(RefCell::new(bus)),
            session: Rc::new(RefCell::new(session)),
            speed_pct: timeline::DEFAULT_SPEED,
            paused: false,
            console: ConsoleUi::default(),
            panel: PanelUi::default(),
            topology_notice: None,
            timeline: TimelineUi::default(),
            inspect: InspectUi::default(),
            notice: None,
            share: None,
            opened_link: None,
            read_only: false,
            run: 0,
            opening: None,
        }
    }

    /// The example, with a message saying why what the address asked for was not opened.
    pub fn refused(message: String) -> Sim {
        let mut sim = Sim::new();
        sim.notice = Some(message);
        sim
    }

    /// The share link of the run as it stands: the scenario and the events shown, checked
    /// as opening it would check it; over a limit, why, and the run up to the event shown
    /// when that fits (`scenario::share`).
    pub fn share_link(&self) -> ShareView {
        let shared = |l: scenario::share::ShareLink| SharedLink {
            step: l.run.step.unwrap_or(0),
            link: l.link,
        };
        match scenario::share::share(&self.session(), &self.bus()) {
            Ok(link) => ShareView::Link(shared(link)),
            Err(refusal) => ShareView::Refused {
                sentence: refusal.sentence,
                fits: refusal.fits.map(|l| shared(*l)),
            },
        }
    }

    /// The narration panel's model, when the scenario has a title or narration.
    pub fn narration_view(&self) -> Option<NarrationView> {
        let session = self.session();
        let base = session.base();
        if base.narration.is_empty() && base.title.is_none() {
            return None;
        }
        let steps: Vec<(u64, String)> = base
            .narration
            .iter()
            .map(|n| (n.at.max(0) as u64, n.text.clone()))
            .collect();
        let now = self.bus().elapsed_ms();
        let current = steps.iter().rposition(|(at, _)| *at <= now);
        Some(NarrationView {
            title: base.title.clone(),
            description: base.description.clone(),
            steps,
            current,
        })
    }

    /// Replaces the whole run, keeping the page's own settings.
    fn replace_with(&mut self, mut next: Sim) {
        next.opening = self.opening.take();
        next.timeline.theme = self.timeline.theme;
        next.speed_pct = self.speed_pct;
        next.read_only = self.read_only;
        next.run = self.run + 1;
        *self = next;
    }

    pub fn session(&self) -> Ref<'_, Session> {
        self.session.borrow()
    }

    /// The run as a scenario: what was opened plus what the person did.
    pub fn to_scenario(&self) -> Scenario {
        self.session.borrow().to_scenario(&self.bus.borrow())
    }

    /// Does something on the bus for the person, now, and records it (see [`Session::act`]).
    pub(crate) fn act(&self, action: scenario::Action) -> Result<(), String> {
        self.session
            .borrow_mut()
            .act(&mut self.bus.borrow_mut(), action)
    }

    /// A line typed into a server's console.
    pub(crate) fn act_command(&self, server: ServerId, line: &str) -> Result<(), String> {
        let name = self
            .bus()
            .servers()
            .get(server)
            .map(|s| s.name.clone())
            .ok_or_else(|| format!("no server s{server}"))?;
        self.act(scenario::Action::Command {
            at: 0,
            server: name,
            line: line.to_string(),
        })
    }

    pub(crate) fn start_generator(
        &self,
        server: ServerId,
        spec: GenerateSpec,
    ) -> Result<(), String> {
        self.session.borrow_mut().stop_generator(&self.bus.borrow());
        self.session
            .borrow_mut()
            .start_generator(&mut self.bus.borrow_mut(), server, spec)
    }

    pub(crate) fn stop_generator(&self) {
        self.session.borrow_mut().stop_generator(&self.bus.borrow());
    }

    pub fn bus(&self) -> Ref<'_, Bus> {
        self.bus.borrow()
    }

    pub fn apply(&mut self, action: Action) {
        if self.read_only && crate::ui::embed::refused_when_read_only(&action) {
            return;
        }
        match action {
            Action::SubmitCommand { server, line } => self.submit(server, line),
            Action::EditDraft(text) => {
                self.console.draft = text;
                self.console.cursor = None;
            }
            Action::SelectConsole(id) => {
                if id < self.bus().servers().len() && !self.bus().is_removed(id) {
                    self.console.selected = id;
                    self.console.notice = None;
                }
            }
            Action::HistoryPrev => self.history_walk(-1),
            Action::HistoryNext => self.history_walk(1),
            Action::Cut(a, b) => {
                self.topology_notice =
                    topology::apply(self, TopologyAction::Fault(Fault::Cut { a, b })).err()
            }
            Action::Heal(a, b) => {
                self.topology_notice =
                    topology::apply(self, TopologyAction::Fault(Fault::Heal { a, b })).err()
            }
            Action::Tick(wall_ms) => {
                if !self.paused {
                    let ms = timeline::scale(
                        wall_ms.min(MAX_TICK_MS),
                        self.speed_pct,
                        &mut self.timeline.speed_carry,
                    );
                    self.advance_by(ms);
                }
            }
            Action::Step(ms) => self.advance_by(ms),
            Action::StepEvent => {
                self.paused = true;
                if self.bus().in_recorded_past() {
                    self.bus.borrow_mut().step_forward();
                } else {
                    self.session
                        .borrow_mut()
                        .step_event(&mut self.bus.borrow_mut());
                }
            }
            Action::StepBackEvent => {
                self.paused = true;
                self.bus.borrow_mut().step_back();
            }
            Action::SetSpeed(speed) => {
                if SPEEDS.contains(&speed) {
                    self.speed_pct = speed;
                }
            }
            Action::SetPaused(paused) => self.paused = paused,
            Action::JumpTo(index) => {
                self.paused = true;
                // An index past the timeline is refused by the bus; the slider never sends one.
                let _ = timeline::jump(&mut self.bus.borrow_mut(), index);
            }
            Action::JumpToEnd => {
                self.paused = true;
                self.bus.borrow_mut().jump_to_end();
            }
            Action::SelectEvent(index) => {
                timeline::select(&self.bus.borrow(), &mut self.timeline, index)
            }
            Action::SetLogFilter(filter) => {
                timeline::set_filter(&self.bus.borrow(), &mut self.timeline, filter)
            }
            Action::ScrollLog(first) => self.timeline.log_scroll = first,
            Action::ScrollDiagram(dir) => {
                timeline::scroll_diagram(&self.bus.borrow(), &mut self.timeline, dir)
            }
            Action::SetTheme(theme) => self.timeline.theme = theme,
            Action::ShowHelp(open) => self.timeline.help_open = open,
            Action::Panel(action) => PanelUi::apply(self, action),
            Action::Inspect(a) => self.inspect.apply(a),
            Action::Topology(action) => {
                let result = topology::apply(self, action);
                self.topology_notice = result.err();
            }
            Action::Share => self.share = Some(self.share_link()),
            Action::CloseShare => self.share = None,
            Action::OpenGuide(id) => match Sim::guide_opening(&id) {
                Ok(run) => self.begin_opening(run),
                Err(message) => self.notice = Some(message),
            },
            Action::Open { scenario, step } => {
                match OpeningRun::new(*scenario, step, "the shared run".to_string()) {
                    Ok(run) => self.begin_opening(run),
                    Err(e) => self.notice = Some(format!("This scenario could not be opened: {e}")),
                }
            }
            Action::OpenSlice => self.open_slice(opening::SLICE_MS),
            Action::CancelOpening => {
                self.cancel_opening("The person watching cancelled it before it opened.")
            }
            Action::NarrationGo(n) => {
                let at = self
                    .session()
                    .base()
                    .narration
                    .get(n)
                    .map(|s| s.at.max(0) as u64);
                if let Some(at) = at {
                    self.paused = true;
                    let mut bus = self.bus.borrow_mut();
                    // The last recorded event at or before the step's moment (guided
                    // scenarios put an event exactly there).
                    let events = bus.timeline().partition_point(|e| e.time <= at);
                    if events > 0 {
                        let _ = bus.jump_to(events - 1);
                    }
                    drop(bus);
                    // Past the recorded timeline: live time runs to the step.
                    let now = self.bus().elapsed_ms();
                    if now < at && !self.bus().in_recorded_past() {
                        self.advance_by(at - now);
                    }
                }
            }
            Action::DismissNotice => self.notice = None,
            Action::Api(call) => crate::ui::embed::apply(self, *call),
        }
        // Stepping back before a server was added, or removing it, must not leave the
        // console on a server that is not there.
        let selected = topology::shown_selection(&self.bus(), self.console.selected);
        if selected != self.console.selected {
            self.console.selected = selected;
            self.console.notice = None;
        }
    }

    /// Virtual time moves on by `ms`: along the recorded future first (after a jump back),
    /// then live, where the load generator sends the writes that fall due.
    fn advance_by(&mut self, ms: u64) {
        let live = timeline::replay(&mut self.bus.borrow_mut(), &mut self.timeline, ms);
        if live > 0 {
            let until = self.bus().now() + live;
            self.session
                .borrow_mut()
                .advance(&mut self.bus.borrow_mut(), until);
        }
    }

    fn submit(&mut self, server: ServerId, line: String) {
        let result = self.act_command(server, &line);
        let c = &mut self.console;
        // redis-cli remembers every non-empty line, the refused ones too.
        if !line.trim().is_empty() && c.history.last() != Some(&line) {
            c.history.push(line.clone());
            if c.history.len() > HISTORY_LEN {
                c.history.remove(0);
            }
        }
        c.cursor = None;
        c.stash.clear();
        match result {
            Ok(()) => {
                c.draft.clear();
                c.notice = None;
            }
            Err(message) => {
                // Keep what was typed so it can be fixed rather than retyped.
                c.draft = line;
                c.notice = Some(message);
            }
        }
    }

    fn history_walk(&mut self, dir: i32) {
        let c = &mut self.console;
        if c.history.is_empty() {
            return;
        }
        let next = match (c.cursor, dir) {
            (None, d) if d < 0 => {
                c.stash = c.draft.clone();
                Some(c.history.len() - 1)
            }
            (None, _) => return,
            (Some(i), d) if d < 0 => Some(i.saturating_sub(1)),
            (Some(i), _) if i + 1 < c.history.len() => Some(i + 1),
            (Some(_), _) => None,
        };
        c.cursor = next;
        c.draft = match next {
            Some(i) => c.history[i].clone(),
            None => std::mem::take(&mut c.stash),
        };
    }

    /// Virtual milliseconds since the run started.
    pub fn elapsed_ms(&self) -> u64 {
        self.bus().elapsed_ms()
    }

    pub fn server_views(&self) -> Vec<ServerView> {
        let bus = self.bus();
        (0..bus.servers().len())
            .filter(|&id| !bus.is_removed(id))
            .map(|id| server_view(&bus, id))
            .collect()
    }

    /// The console's server choices: `(id, "name (port)")`.
    pub fn console_targets(&self) -> Vec<(ServerId, String)> {
        let bus = self.bus();
        bus.servers()
            .iter()
            .enumerate()
            .filter(|&(id, _)| !bus.is_removed(id))
            .map(|(id, s)| (id, format!("{} ({})", s.name, s.port)))
            .collect()
    }

    /// redis-cli's prompt for the selected server, with the database once it is not 0.
    pub fn prompt(&self) -> String {
        let bus = self.bus();
        let s = bus.server(self.console.selected);
        let db = console_db(&bus, self.console.selected);
        prompt(&s.host, s.port, db)
    }

    pub fn transcript(&self) -> Vec<TranscriptLine> {
        let bus = self.bus();
        let s = bus.server(self.console.selected);
        let entries = bus.console(self.console.selected).entries();
        let mut db = 0;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let args = split_args(e.input.as_bytes()).unwrap_or_default();
            let line = TranscriptLine {
                input: (!e.input.is_empty())
                    .then(|| format!("{} {}", prompt(&s.host, s.port, db), e.input)),
                output: e
                    .reply
                    .as_ref()
                    .map(|r| format_output(r, redis_cli_raw(&args))),
                error: matches!(e.reply, Some(Reply::Error(_))),
            };
            db = selected_db(&args, e.reply.as_ref()).unwrap_or(db);
            out.push(line);
        }
        let skip = out.len().saturating_sub(TRANSCRIPT_LEN);
        out.split_off(skip)
    }
}

fn prompt(host: &str, port: u16, db: usize) -> String {
    if db == 0 {
        format!("{host}:{port}>")
    } else {
        format!("{host}:{port}[{db}]>")
    }
}

/// The database the console's connection uses: redis-cli follows successful SELECTs.
fn console_db(bus: &Bus, server: ServerId) -> usize {
    bus.console(server).entries().iter().fold(0, |db, e| {
        let args = split_args(e.input.as_bytes()).unwrap_or_default();
        selected_db(&args, e.reply.as_ref()).unwrap_or(db)
    })
}

fn selected_db(args: &[Vec<u8>], reply: Option<&Reply>) -> Option<usize> {
    let ok = matches!(reply, Some(Reply::Simple(s)) if s == "OK");
    if ok && args.len() == 2 && args[0].eq_ignore_ascii_case(b"select") {
        std::str::from_utf8(&args[1]).ok()?.parse().ok()
    } else {
        None
    }
}

/// Commands whose bulk replies redis-cli prints as they are (`cliSendCommand`'s list).
pub fn redis_cli_raw(args: &[Vec<u8>]) -> bool {
    let is = |i: usize, w: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    let argc = args.len();
    is(0, "info")
        || is(0, "lolwut")
        || (argc >= 2
            && is(0, "debug")
            && (is(1, "htstats") || is(1, "htstats-key") || is(1, "client-eviction")))
        || (argc >= 2 && is(0, "memory") && (is(1, "malloc-stats") || is(1, "doctor")))
        || (argc == 2 && is(0, "cluster") && (is(1, "nodes") || is(1, "info")))
        || (argc >= 2 && is(0, "client") && (is(1, "list") || is(1, "info")))
        || (argc == 3 && is(0, "latency") && is(1, "graph"))
        || (argc == 2 && is(0, "latency") && is(1, "doctor"))
        || (argc >= 2 && is(0, "proxy") && is(1, "info"))
}

fn format_output(reply: &Reply, raw: bool) -> String {
    let text = format_reply(reply, raw);
    if raw {
        // INFO's lines end in CRLF; a terminal shows them as plain lines.
        text.replace("\r\n", "\n")
            .trim_end_matches('\n')
            .to_string()
    } else {
        text
    }
}

/// The bus server a replica's `host:port` reaches, the way the bus routes connections.
fn bus_target(bus: &Bus, host: &str, port: u16) -> Option<ServerId> {
    bus.route(host, port)
}

/// The state of a replica's link, in the words the cards and the links table use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkWord {
    Connecting,
    Handshake,
    Syncing,
    Up,
    Down,
}

impl LinkWord {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkWord::Connecting => "connecting",
            LinkWord::Handshake => "handshake",
            LinkWord::Syncing => "syncing",
            LinkWord::Up => "up",
            LinkWord::Down => "down",
        }
    }

    /// A shape next to the word, so the state never rests on colour alone.
    pub fn symbol(self) -> &'static str {
        match self {
            LinkWord::Connecting => "…",
            LinkWord::Handshake => "⇄",
            LinkWord::Syncing => "⇣",
            LinkWord::Up => "✔",
            LinkWord::Down => "✖",
        }
    }

    fn of(state: LinkStateName) -> LinkWord {
        match state {
            // Waiting for the once-a-second cron to try again.
            LinkStateName::Connect => LinkWord::Down,
            LinkStateName::Connecting => LinkWord::Connecting,
            LinkStateName::Transfer => LinkWord::Syncing,
            LinkStateName::Connected => LinkWord::Up,
            _ => LinkWord::Handshake,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct LinkView {
    pub master_port: u16,
    pub word: LinkWord,
    /// What exactly is going on, in a few words.
    pub detail: String,
    pub cut: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeyView {
    /// Key and value as redis-cli prints them: quoted, non-printable bytes escaped.
    pub key: String,
    pub value: String,
    /// The whole escaped value when `value` had to be cut.
    pub full_value: Option<String>,
    pub bytes: usize,
    pub ttl: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServerView {
    pub id: ServerId,
    pub name: String,
    pub host: String,
    pub port: u16,
    pub role: Role,
    /// The first 8 characters of the replication id.
    pub replid: String,
    /// `master_repl_offset` on a master, `slave_repl_offset` on a replica.
    pub offset_name: &'static str,
    pub offset: String,
    pub link: Option<LinkView>,
    /// A master's view of its replicas: `port state offset`.
    pub replicas: Vec<String>,
    pub keys: Vec<KeyView>,
    pub key_count: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TranscriptLine {
    /// Prompt and typed line; `None` for a reply nobody asked for.
    pub input: Option<String>,
    /// `None` while the reply has not arrived.
    pub output: Option<String>,
    pub error: bool,
}

/// `field:value` lines of an INFO section.
fn info_field<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
}

fn server_view(bus: &Bus, id: ServerId) -> ServerView {
    let s = bus.server(id);
    let node = &s.node;
    // Offsets come from INFO itself, so the cards never disagree with what INFO prints.
    let info = node.info_replication();
    let role = node.role();
    let (offset_name, offset) = match role {
        Role::Master => (
            "master_repl_offset",
            info_field(&info, "master_repl_offset"),
        ),
        Role::Replica => ("slave_repl_offset", info_field(&info, "slave_repl_offset")),
    };
    let link = node.master_link().map(|l| {
        let state = l.state_name();
        let cut = bus_target(bus, &l.host, l.port).is_some_and(|m| bus.is_cut(id, m));
        let detail = match state {
            LinkStateName::Connect => "retrying every second".to_string(),
            LinkStateName::Connecting => format!("connecting to {}:{}", l.host, l.port),
            LinkStateName::ReceivePingReply => "PING sent, waiting for PONG".to_string(),
            LinkStateName::ReceiveAuthReply => "AUTH sent".to_string(),
            LinkStateName::ReceivePortReply
            | LinkStateName::ReceiveIpReply
            | LinkStateName::ReceiveCapaReply => "REPLCONF sent".to_string(),
            LinkStateName::ReceivePsyncReply => {
                "PSYNC sent; a full sync waits repl-diskless-sync-delay".to_string()
            }
            LinkStateName::Transfer => match l.transfer_progress() {
                Some((total, read)) if total > 0 => format!("snapshot {read} of {total} bytes"),
                Some((_, read)) => format!("snapshot {read} bytes"),
                None => "snapshot".to_string(),
            },
            LinkStateName::Connected => "streaming".to_string(),
        };
        LinkView {
            master_port: l.port,
            word: LinkWord::of(state),
            detail,
            cut,
        }
    });
    let replicas = info
        .lines()
        .filter(|l| l.starts_with("slave") && l.contains(":ip="))
        .filter_map(|l| {
            let fields = l.split_once(':')?.1;
            let get = |k: &str| {
                fields
                    .split(',')
                    .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
            };
            Some(format!(
                "{} {} offset={}",
                get("port")?,
                get("state")?,
                get("offset")?
            ))
        })
        .collect();
    let now = bus.now();
    let live: Vec<_> = node.keyspace().dbs[0]
        .entries
        .iter()
        .filter(|(_, e)| !is_expired(e, now))
        .collect();
    let keys = live
        .iter()
        .take(KEYS_SHOWN)
        .map(|(k, e)| {
            let summary;
            let v: &[u8] = match &e.value {
                Value::String(v) => v,
                other => {
                    summary = format!("({} of {})", other.type_name(), other.len());
                    summary.as_bytes()
                }
            };
            let escaped = if matches!(e.value, Value::String(_)) {
                quote(v)
            } else {
                String::from_utf8_lossy(v).into_owned()
            };
            let cut = escaped.chars().count() > VALUE_CHARS;
            KeyView {
                key: quote(k),
                value: if cut {
                    format!("{}…", escaped.chars().take(VALUE_CHARS).collect::<String>())
                } else {
                    escaped.clone()
                },
                full_value: cut.then_some(escaped),
                bytes: v.len(),
                ttl: e
                    .expires_at
                    .map(|at| format!("{} s", at.saturating_sub(now).div_ceil(1000))),
            }
        })
        .collect();
    ServerView {
        id,
        name: s.name.clone(),
        host: s.host.clone(),
        port: s.port,
        role,
        replid: node.replication().replid.chars().take(8).collect(),
        offset_name,
        offset: offset.unwrap_or("?").to_string(),
        link,
        replicas,
        keys,
        key_count: live.len(),
    }
}

/// `mm:ss.t` of virtual time.
pub fn format_clock(ms: u64) -> String {
    format!("{:02}:{:02}.{}", ms / 60_000, ms / 1000 % 60, ms / 100 % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::model::topology::EdgeWord;

    fn replica_words(sim: &Sim) -> Vec<Option<LinkWord>> {
        sim.server_views()
            .iter()
            .skip(1)
            .map(|v| v.link.as_ref().map(|l| l.word))
            .collect()
    }

    #[test]
    fn replicas_show_progress_then_come_up() {
        let mut sim = Sim::new();
        let mut seen = Vec::new();
        for _ in 0..40 {
            let words = replica_words(&sim);
            assert!(
                words.iter().all(Option::is_some),
                "a replica card lost its link state"
            );
            for w in words.into_iter().flatten() {
                if seen.last() != Some(&w) {
                    seen.push(w);
                }
            }
            sim.apply(Action::Tick(250));
        }
        // The ~5 s of repl-diskless-sync-delay read as a handshake, never as nothing.
        assert_eq!(seen.first(), Some(&LinkWord::Connecting), "{seen:?}");
        assert!(seen.contains(&LinkWord::Handshake), "{seen:?}");
        assert_eq!(seen.last(), Some(&LinkWord::Up), "{seen:?}");
        assert_eq!(replica_words(&sim), vec![Some(LinkWord::Up); 2]);
        let edges = sim.topology_view().edges;
        assert_eq!(
            edges.iter().map(|e| e.label.as_str()).collect::<Vec<_>>(),
            ["6380 → 6381", "6380 → 6382"]
        );
        assert!(edges.iter().all(|e| e.word == EdgeWord::Online && !e.cut));
    }

    #[test]
    fn a_set_on_the_master_reaches_the_replica_cards() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::EditDraft("SET k v".into()));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        assert_eq!(sim.console.draft, "");
        sim.apply(Action::Step(100));
        let views = sim.server_views();
        for v in &views {
            assert_eq!(v.keys.len(), 1, "{}", v.name);
            assert_eq!(
                (v.keys[0].key.as_str(), v.keys[0].value.as_str()),
                ("\"k\"", "\"v\"")
            );
        }
        assert_eq!(views[1].offset, views[0].offset);
        assert_eq!(views[0].offset_name, "master_repl_offset");
        assert_eq!(views[1].offset_name, "slave_repl_offset");
        let t = sim.transcript();
        let last = t.last().unwrap();
        assert_eq!(last.input.as_deref(), Some("127.0.0.1:6380> SET k v"));
        assert_eq!(last.output.as_deref(), Some("OK"));
    }

    #[test]
    fn a_replica_refuses_writes_in_its_transcript() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SelectConsole(1));
        assert_eq!(sim.prompt(), "127.0.0.1:6381>");
        sim.apply(Action::SubmitCommand {
            server: 1,
            line: "SET x y".into(),
        });
        let t = sim.transcript();
        assert_eq!(
            t[0].input.as_deref(),
            Some("127.0.0.1:6381> REPLICAOF 127.0.0.1 6380")
        );
        let last = t.last().unwrap();
        assert!(last.error);
        assert_eq!(
            last.output.as_deref(),
            Some("(error) READONLY You can't write against a read only replica.")
        );
    }

    #[test]
    fn a_refused_line_stays_typed_and_history_walks_back_and_forth() {
        let mut sim = Sim::new();
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET a 1".into(),
        });
        sim.apply(Action::EditDraft("SET \"b 2".into()));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET \"b 2".into(),
        });
        assert_eq!(sim.console.draft, "SET \"b 2");
        assert_eq!(sim.console.notice.as_deref(), Some("Invalid argument(s)"));
        assert_eq!(sim.transcript().len(), 1, "a refused line is never sent");

        sim.apply(Action::EditDraft("GET".into()));
        sim.apply(Action::HistoryPrev);
        assert_eq!(sim.console.draft, "SET \"b 2");
        sim.apply(Action::HistoryPrev);
        assert_eq!(sim.console.draft, "SET a 1");
        sim.apply(Action::HistoryPrev);
        assert_eq!(sim.console.draft, "SET a 1");
        sim.apply(Action::HistoryNext);
        sim.apply(Action::HistoryNext);
        assert_eq!(
            sim.console.draft, "GET",
            "walking past the newest line restores the typed one"
        );

        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "GET a".into(),
        });
        assert_eq!(sim.console.notice, None);
        assert_eq!(
            sim.transcript().last().unwrap().output.as_deref(),
            Some("\"1\"")
        );
    }

    #[test]
    fn pause_and_speed_scale_virtual_time() {
        let mut sim = Sim::new();
        sim.apply(Action::Tick(50));
        assert_eq!(sim.elapsed_ms(), 50);
        sim.apply(Action::SetSpeed(1_000));
        sim.apply(Action::Tick(50));
        assert_eq!(sim.elapsed_ms(), 550);
        sim.apply(Action::SetSpeed(700));
        assert_eq!(sim.speed_pct, 1_000, "only the offered speeds");
        sim.apply(Action::Tick(60_000));
        assert_eq!(sim.elapsed_ms(), 550 + MAX_TICK_MS * 10);
        sim.apply(Action::SetSpeed(10));
        sim.apply(Action::Tick(45));
        sim.apply(Action::Tick(45));
        assert_eq!(
            sim.elapsed_ms(),
            10_559,
            "0.1× of 90 ms: 9 ms, no fraction lost between ticks"
        );
        sim.apply(Action::SetPaused(true));
        sim.apply(Action::Tick(50));
        assert_eq!(sim.elapsed_ms(), 10_559);
        let shared = Rc::new(sim.clone());
        assert!(
            Rc::ptr_eq(&shared, &shared.clone().reduce(Action::Tick(50))),
            "a paused tick must not redraw"
        );
        sim.apply(Action::Step(1_000));
        assert_eq!(sim.elapsed_ms(), 11_559);
        assert_eq!(format_clock(sim.elapsed_ms()), "00:11.5");
        assert_eq!(format_clock(61_250), "01:01.2");
    }

    #[test]
    fn stepping_back_and_forth_by_event_shows_the_same_cluster() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        let (hash, views) = (sim.bus().log_hash(), sim.server_views());
        let events = sim.bus().log().len();
        sim.apply(Action::StepBackEvent);
        assert!(sim.paused, "stepping pauses the clock");
        assert!(
            sim.bus().log().len() < events,
            "one event back shortens the visible log"
        );
        for _ in 0..5 {
            sim.apply(Action::StepBackEvent);
        }
        assert!(
            sim.server_views()[0].keys.is_empty(),
            "before the SET the master has no key"
        );
        while sim.bus().log().len() < events {
            sim.apply(Action::StepEvent);
        }
        assert_eq!(
            sim.bus().log_hash(),
            hash,
            "forward again along the same timeline"
        );
        assert_eq!(sim.server_views(), views);
    }

    #[test]
    fn a_cut_link_reads_down_and_heals() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::Cut(0, 1));
        sim.apply(Action::Step(100));
        let edge = &sim.topology_view().edges[0];
        assert!(edge.cut);
        assert_eq!(edge.word, EdgeWord::Down);
        assert!(sim.server_views()[1].link.as_ref().unwrap().cut);
        sim.apply(Action::Heal(0, 1));
        sim.apply(Action::Step(3_000));
        let edge = &sim.topology_view().edges[0];
        assert!(!edge.cut);
        assert_eq!(edge.word, EdgeWord::Online);
    }

    #[test]
    fn long_and_binary_values_are_escaped_and_cut() {
        let mut sim = Sim::new();
        let long = "x".repeat(100);
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: format!("SET long {long}"),
        });
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET \"<b>\" \"a\\x00\\n\" EX 10".into(),
        });
        let keys = &sim.server_views()[0].keys;
        assert_eq!(keys[0].key, "\"<b>\"");
        assert_eq!(keys[0].value, "\"a\\x00\\n\"");
        assert_eq!(keys[0].ttl.as_deref(), Some("10 s"));
        assert_eq!(keys[1].value.chars().count(), VALUE_CHARS + 1);
        assert!(keys[1].value.ends_with('…'));
        assert_eq!(
            keys[1].full_value.as_deref(),
            Some(format!("\"{long}\"").as_str())
        );
        assert_eq!(keys[1].bytes, 100);
    }

    #[test]
    fn info_is_printed_raw_and_select_shows_in_the_prompt() {
        let mut sim = Sim::new();
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "INFO replication".into(),
        });
        let out = sim.transcript().last().unwrap().output.clone().unwrap();
        assert!(out.starts_with("# Replication\nrole:master\n"), "{out}");
        assert!(!out.contains('\r'));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SELECT 3".into(),
        });
        assert_eq!(sim.prompt(), "127.0.0.1:6380[3]>");
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "GET k".into(),
        });
        assert_eq!(
            sim.transcript().last().unwrap().input.as_deref(),
            Some("127.0.0.1:6380[3]> GET k")
        );
        assert!(redis_cli_raw(&[b"client".to_vec(), b"LIST".to_vec()]));
        assert!(!redis_cli_raw(&[b"get".to_vec(), b"info".to_vec()]));
    }

    /// A scenario that takes many slices to open: a load for a virtual minute.
    fn long_run() -> Scenario {
        let mut s = Sim::example();
        s.actions.push(
            serde_json::from_str(r#"{"do": "load", "at": 6000, "server": "master", "rate": 200, "duration_ms": 60000, "type": "string", "keys": 500, "value_bytes": 64}"#)
                .unwrap(),
        );
        s.validate().unwrap();
        s
    }

    #[test]
    fn a_run_opens_in_slices_with_progress_and_is_the_run_opened_in_one_go() {
        let whole = Sim::open(long_run(), Some(5_000)).unwrap();
        let mut sim = Sim::new();
        sim.apply(Action::Open {
            scenario: Box::new(long_run()),
            step: Some(5_000),
        });
        let mut seen = Vec::new();
        while let Some(view) = sim.opening_view() {
            seen.push(view.percent);
            assert!(
                view.text().starts_with("Opening the shared run… "),
                "{}",
                view.text()
            );
            let started = std::time::Instant::now();
            sim.apply(Action::OpenSlice);
            // The slice's own budget, with room for a slow machine.
            assert!(
                started.elapsed() < std::time::Duration::from_millis(250),
                "{:?}",
                started.elapsed()
            );
            let ticked = Rc::new(sim.clone());
            assert!(
                Rc::ptr_eq(&ticked, &ticked.clone().reduce(Action::Tick(50)))
                    || sim.opening.is_none(),
                "ticks wait for the opening"
            );
        }
        assert!(
            seen.len() > 3,
            "a minute of load takes several slices: {seen:?}"
        );
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert_eq!(
            sim.bus()
                .timeline()
                .iter()
                .map(|e| e.line())
                .collect::<Vec<_>>(),
            whole
                .bus()
                .timeline()
                .iter()
                .map(|e| e.line())
                .collect::<Vec<_>>()
        );
        assert_eq!(
            sim.bus().log().len(),
            whole.bus().log().len(),
            "opens where the link says"
        );
        assert!(sim.paused && sim.notice.is_none() && sim.run == 1);

        // Cancelled: the run shown stays.
        let mut sim = Sim::new();
        sim.apply(Action::Open {
            scenario: Box::new(long_run()),
            step: None,
        });
        assert!(sim.opening_view().is_some());
        sim.apply(Action::CancelOpening);
        assert!(sim.opening_view().is_none());
        assert_eq!((sim.run, sim.session().base().actions.len()), (0, 0));
    }

    #[test]
    fn share_writes_no_link_the_page_would_refuse() {
        let mut sim = Sim::new();
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET small 1".into(),
        });
        sim.apply(Action::Share);
        let Some(ShareView::Link(shared)) = &sim.share else {
            panic!("{:?}", sim.share)
        };
        assert!(scenario::share_link::decode(&shared.link).is_ok());
        // A typed line over the scenario format's limit: the console takes it, a link cannot.
        let line = format!("SET big {}", "x".repeat(scenario::limits::MAX_LINE_BYTES));
        sim.apply(Action::SubmitCommand { server: 0, line });
        sim.apply(Action::Share);
        let Some(ShareView::Refused {
            sentence,
            fits: None,
        }) = &sim.share
        else {
            panic!("{:?}", sim.share)
        };
        assert!(
            sentence.starts_with("This run cannot be shared as a link: "),
            "{sentence}"
        );
        assert!(sentence.contains("65536"), "names the limit: {sentence}");
    }
}
