//! The playground's state: one bus on a virtual clock, changed only through [`Action`]s.
//!
//! Components never touch the bus. They render view models, which the models in
//! `ui/model/` build from the bus and their own part of this state and which compare by
//! value so Yew skips the parts of the page that did not change, and they send
//! [`Action`]s to the reducer. The reducer is the one place that changes anything: it
//! applies each action to the models' state and carries out what they ask of the run (a
//! topology plan, a panel's effect, an embed's request in [`api`]). Everything here is
//! plain Rust, so the native test suite covers it without a browser.

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use yew::Reducible;

pub mod api;

use super::model::topology::{self, TopologyAction};
use crate::bus::{Bus, ServerId};
use crate::scenario::generator::GenerateSpec;
use crate::scenario::session::Session;
use crate::scenario::{self, Scenario};
use crate::ui::embed::options::EmbedOptions;
use crate::ui::embed::protocol::Outbound;
use crate::ui::model::console::ConsoleUi;
use crate::ui::model::inspect::{InspectAction, InspectUi};
use crate::ui::model::server_panel::{panel_view, PanelAction, PanelEffect, PanelUi, PanelView};
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
    /// The file of the guided scenario being opened, fetched by the page, or why it could
    /// not be ("the server answered 404").
    GuideFetched {
        id: String,
        file: Result<String, String>,
    },
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
    Api(Box<api::Call>),
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
            topology: (1..=replicas.len())
                .map(|replica| scenario::Link { replica, master: 0 })
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
        let (session, bus, stopped) = run.into_parts();
        let mut sim = Sim::with(session, bus);
        sim.paused = true;
        sim.notice = stopped;
        sim
    }

    /// The guided scenario `id`, ready to be played through, with its link for the address
    /// bar. In the page its file is still to be fetched ([`Action::GuideFetched`]).
    pub fn guide_opening(id: &str) -> Result<OpeningRun, String> {
        let guide = scenario::guided::get(id)
            .ok_or_else(|| format!("There is no guided scenario {id:?}."))?;
        let run = OpeningRun::guide(guide);
        // Natively the files are compiled in.
        #[cfg(not(target_arch = "wasm32"))]
        let run = {
            let mut run = run;
            run.fetched(Ok(guide.json))?;
            run
        };
        Ok(run)
    }

    /// The guided scenario file the run being opened waits for (for the page to fetch).
    pub fn guide_to_fetch(&self) -> Option<&'static str> {
        self.opening_run()?.fetching()
    }

    /// The file of guided scenario `id` arrived, or why it did not: the run waiting for it
    /// plays on, or is dropped with the sentence saying why (a file for a run no longer
    /// opening is dropped).
    fn guide_fetched(&mut self, id: &str, file: Result<String, String>) {
        let arrived = match self.opening_run() {
            Some(mut run) if run.fetching() == Some(id) => {
                run.fetched(file.as_deref().map_err(String::as_str))
            }
            _ => return,
        };
        match arrived {
            Ok(()) => self.open_slice(opening::SLICE_MS),
            Err(why) => {
                self.cancel_opening(&why);
                self.notice = Some(why);
            }
        }
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
            w.reply.emit(Outbound::Reply {
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
            w.reply.emit(Outbound::Reply {
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
            Some(run) => run.title(),
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

    /// The settings a freshly opened run takes from an embed's options.
    pub fn take_options(&mut self, options: &EmbedOptions) {
        self.read_only = options.read_only;
        self.paused = !options.autoplay;
        if let Some(mut run) = self.opening_run() {
            run.play = options.autoplay;
        }
        if let Some(speed) = options.speed {
            self.speed_pct = speed;
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
        self.act(scenario::Action::Command {
            at: 0,
            server,
            line: line.to_string(),
        })
    }

    /// Carries out what a panel action asked of the run, and tells the panel how it went.
    fn panel_effect(&mut self, effect: Option<PanelEffect>) {
        match effect {
            Some(PanelEffect::ConfigSet {
                server,
                name,
                value,
                line,
            }) => {
                let index = self.bus().console(server).entries().len();
                let sent = self.act_command(server, &line).map(|()| (index, line));
                self.panel.config_sent(server, name, value, sent);
            }
            Some(PanelEffect::StartLoad { server, spec }) => {
                let started = self.start_generator(server, spec);
                self.panel.load_started(started);
            }
            Some(PanelEffect::StopLoad) => self.stop_generator(),
            None => {}
        }
    }

    pub fn timeline_view(&self) -> timeline::TimelineView {
        timeline::timeline_view(&self.bus(), &self.timeline, self.speed_pct, self.paused)
    }

    pub fn event_log_view(&self) -> timeline::EventLogView {
        timeline::event_log_view(&self.bus(), &self.timeline)
    }

    pub fn diagram_view(&self) -> timeline::DiagramView {
        timeline::diagram_view(&self.bus(), &self.timeline)
    }

    /// The server panel, as the page shows it.
    pub fn panel_view(&self) -> PanelView {
        panel_view(
            &self.bus(),
            &self.console,
            &self.panel,
            self.session().last_generator(),
        )
    }

    /// Carries out what the topology view asked for (recorded, so a share link replays
    /// it); `Err` says, in a sentence, why it could not be done.
    fn act_topology(&self, action: TopologyAction) -> Result<(), String> {
        let actions = topology::plan(&self.bus(), action)?;
        for action in actions {
            self.act(action)?;
        }
        Ok(())
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
        if self.read_only && api::refused_when_read_only(&action) {
            return;
        }
        match action {
            Action::SubmitCommand { server, line } => self.submit(server, line),
            Action::EditDraft(text) => self.console.edit(text),
            Action::SelectConsole(id) => {
                if id < self.bus().servers().len() && !self.bus().is_removed(id) {
                    self.console.select(id);
                }
            }
            Action::HistoryPrev => self.console.history_walk(-1),
            Action::HistoryNext => self.console.history_walk(1),
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
            Action::Panel(action) => {
                let effect = self
                    .panel
                    .apply(&mut self.console, &self.bus.borrow(), action);
                self.panel_effect(effect);
            }
            Action::Inspect(a) => self.inspect.apply(a),
            Action::Topology(action) => self.topology_notice = self.act_topology(action).err(),
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
            Action::GuideFetched { id, file } => self.guide_fetched(&id, file),
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
            Action::Api(call) => api::apply(self, *call),
        }
        // Stepping back before a server was added, or removing it, must not leave the
        // console on a server that is not there.
        let selected = topology::shown_selection(&self.bus(), self.console.selected);
        if selected != self.console.selected {
            self.console.select(selected);
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
        self.console.submitted(line, result);
    }

    /// Virtual milliseconds since the run started.
    pub fn elapsed_ms(&self) -> u64 {
        self.bus().elapsed_ms()
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

    pub fn topology_view(&self) -> topology::TopologyView {
        topology::build(
            &self.bus(),
            self.console.selected,
            self.topology_notice.clone(),
        )
    }

    /// redis-cli's prompt for the selected server, with the database once it is not 0.
    #[cfg(test)]
    pub fn prompt(&self) -> String {
        crate::ui::model::console::prompt_of(&self.bus(), &self.console)
    }

    /// The newest lines of the selected server's transcript.
    #[cfg(test)]
    pub fn transcript(&self) -> Vec<crate::ui::model::console::TranscriptLine> {
        crate::ui::model::console::transcript(&self.bus(), &self.console)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::model::console;
    use crate::ui::model::server_panel::{Tab, TabView};
    use crate::ui::model::topology::EdgeWord;

    fn edge_words(sim: &Sim) -> Vec<EdgeWord> {
        sim.topology_view().edges.iter().map(|e| e.word).collect()
    }

    /// The Keys tab of `server`, as `(key, value)` rows, through the clicks that show it.
    fn keys(sim: &mut Sim, server: ServerId) -> Vec<(String, String)> {
        sim.apply(Action::SelectConsole(server));
        sim.apply(Action::Panel(PanelAction::SelectTab(Tab::Keys)));
        let TabView::Keys(keys) = sim.panel_view().body else {
            panic!("the Keys tab is not shown")
        };
        sim.apply(Action::Panel(PanelAction::SelectTab(Tab::Console)));
        sim.apply(Action::SelectConsole(0));
        keys.rows.into_iter().map(|r| (r.key, r.summary)).collect()
    }

    #[test]
    fn replicas_show_progress_then_come_up() {
        let mut sim = Sim::new();
        let mut seen = Vec::new();
        for _ in 0..40 {
            let words = edge_words(&sim);
            assert_eq!(words.len(), 2, "a replica lost its link");
            if seen.last() != Some(&words[0]) {
                seen.push(words[0]);
            }
            sim.apply(Action::Tick(250));
        }
        // The ~5 s of repl-diskless-sync-delay read as a handshake, never as nothing.
        assert_eq!(seen.first(), Some(&EdgeWord::Connecting), "{seen:?}");
        assert!(seen.contains(&EdgeWord::Handshake), "{seen:?}");
        assert_eq!(seen.last(), Some(&EdgeWord::Online), "{seen:?}");
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
        for server in 0..3 {
            assert_eq!(
                keys(&mut sim, server),
                [("\"k\"".to_string(), "\"v\"".to_string())],
                "s{server}"
            );
        }
        let nodes = sim.topology_view().nodes;
        assert_eq!(nodes[1].offset, nodes[0].offset);
        assert_eq!(nodes[0].offset_name, "master_repl_offset");
        assert_eq!(nodes[1].offset_name, "slave_repl_offset");
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
        assert_eq!(timeline::format_clock(sim.elapsed_ms()), "00:11.5");
        assert_eq!(timeline::format_clock(61_250), "01:01.2");
    }

    #[test]
    fn stepping_back_and_forth_by_event_shows_the_same_cluster() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        let (hash, view) = (sim.bus().log_hash(), sim.topology_view());
        let master_keys = keys(&mut sim, 0);
        assert_eq!(master_keys.len(), 1);
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
            keys(&mut sim, 0).is_empty(),
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
        assert_eq!(sim.topology_view(), view);
        assert_eq!(keys(&mut sim, 0), master_keys);
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
        assert!(console::redis_cli_raw(&[
            b"client".to_vec(),
            b"LIST".to_vec()
        ]));
        assert!(!console::redis_cli_raw(&[
            b"get".to_vec(),
            b"info".to_vec()
        ]));
    }

    /// A scenario that takes many slices to open: a load for a virtual minute.
    fn long_run() -> Scenario {
        let mut s = Sim::example();
        s.actions.push(scenario::Action::Load {
            at: 6000,
            server: 0,
            rate: 200,
            duration_ms: 60000,
            kind: scenario::WriteKind::String,
            keys: 500,
            value_bytes: 64,
            ttl_ms: None,
            multi: false,
        });
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
            // How long a slice takes is the end-to-end test's to measure (budgets.mjs, in
            // the browser); here, that the run opens a slice at a time.
            sim.apply(Action::OpenSlice);
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

    /// What the page does (natively the files are compiled in, so `Sim::guide_opening`
    /// never waits): a guided scenario's run shows as opening until its file arrives.
    #[test]
    fn a_guided_scenario_waits_for_its_file_then_opens_or_says_why_not() {
        let guide = scenario::guided::get("first-sync").unwrap();
        let mut sim = Sim::new();
        sim.begin_opening(OpeningRun::guide(guide));
        assert_eq!(sim.guide_to_fetch(), Some("first-sync"));
        let view = sim.opening_view().unwrap();
        assert!(view.fetching, "{view:?}");
        assert_eq!(sim.title().as_deref(), Some(guide.title));
        sim.apply(Action::OpenSlice);
        assert_eq!(
            sim.opening_slices(),
            Some(0),
            "no slice runs before the file"
        );
        // Another guide's file (a fetch that outlived its run) changes nothing.
        sim.apply(Action::GuideFetched {
            id: "full-sync-loop".into(),
            file: Ok(scenario::guided::get("full-sync-loop").unwrap().json.into()),
        });
        assert_eq!(sim.guide_to_fetch(), Some("first-sync"));
        sim.apply(Action::GuideFetched {
            id: "first-sync".into(),
            file: Ok(guide.json.into()),
        });
        assert_eq!(sim.guide_to_fetch(), None);
        while sim.opening_view().is_some() {
            sim.apply(Action::OpenSlice);
        }
        assert_eq!(
            Some(sim.session().base().clone()),
            scenario::guided::scenario("first-sync")
        );
        assert!(sim.opened_link.is_some() && sim.notice.is_none() && sim.run == 1);

        let mut sim = Sim::new();
        sim.begin_opening(OpeningRun::guide(guide));
        sim.apply(Action::GuideFetched {
            id: "first-sync".into(),
            file: Err("the server answered 404".into()),
        });
        assert!(sim.opening.is_none());
        assert_eq!(
            sim.notice.as_deref(),
            Some("The guided scenario \u{201c}First sync: a replica attaches\u{201d} could not be fetched: the server answered 404.")
        );
        sim.begin_opening(OpeningRun::guide(guide));
        sim.apply(Action::GuideFetched {
            id: "first-sync".into(),
            file: Ok("<!doctype html>".into()),
        });
        assert!(sim.opening.is_none());
        assert!(
            sim.notice.as_deref().is_some_and(|n| n.starts_with(
                "The guided scenario \u{201c}First sync: a replica attaches\u{201d} could not be opened: "
            )),
            "{:?}",
            sim.notice
        );
        assert_eq!(sim.run, 0, "the example stays");
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
