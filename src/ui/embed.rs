//! The playground inside another page's `<iframe>` (`?embed=1`): the panels and settings
//! the host page picks from a whitelist, and a versioned `postMessage` API through which
//! the host loads scenarios, runs commands, moves time and hears the events.
//!
//! The whitelist and every limit are the constants and [`EmbedOptions::from_query`] below;
//! docs/embedding.md is the host page author's manual for both. Options and messages are
//! parsed as plain strings and JSON, so the native tests cover them; only [`Host`] and
//! [`use_host`] touch the browser.

use std::ops::RangeInclusive;

use js_sys::Object;
use serde_json::Value;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;
use yew::prelude::*;

use crate::bus::LogEntry;
use crate::scenario::{guided, share_link as link};
use crate::ui::model::server_panel::PanelAction;
use crate::ui::model::timeline::{format_speed, SPEEDS};
use crate::ui::opening::Waiting;
use crate::ui::state::{Action, Sim};

/// The `postMessage` API version this build speaks; every message carries it as `replscope`.
pub const API_VERSION: u64 = 1;
/// `height=`, in CSS pixels.
pub const HEIGHT_PX: RangeInclusive<u32> = 200..=2000;
/// Events per `events` message. When more became visible since the last redraw (a jump, a
/// fast speed), the newest are sent and the rest counted in `dropped`.
pub const MAX_EVENTS_PER_MESSAGE: usize = 200;
/// Events one `step` message moves at most, either way (each is a move of the simulation).
pub const MAX_STEP_EVENTS: u64 = 10_000;
/// Longest message read, as JSON: a `load` link may have [`link::MAX_LINK_CHARS`], and
/// nothing else needs much.
pub const MAX_MESSAGE_CHARS: usize = link::MAX_LINK_CHARS + 4_096;
/// Why a read-only embed refuses a command: the reply to a host's `command`, and what
/// its console shows where the input line would be.
pub const READ_ONLY: &str = "This embed is read-only: it takes no commands.";
/// The message types a host may send.
pub const REQUEST_TYPES: [&str; 8] = [
    "load", "guide", "command", "step", "jump", "play", "pause", "speed",
];
/// Query keys the page itself reads: neither embed options nor unknown.
const PAGE_KEYS: [&str; 2] = ["embed", "guide"];
/// Characters of an ignored option's value quoted in the notice.
const QUOTED_CHARS: usize = 40;

/// A part of the page an embed can show (`panels=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Topology,
    Narration,
    Timeline,
    /// The server panel: console, INFO, keys (and config and load unless read-only).
    Console,
    Inspect,
}

impl Panel {
    pub const ALL: [Panel; 5] = [
        Panel::Topology,
        Panel::Narration,
        Panel::Timeline,
        Panel::Console,
        Panel::Inspect,
    ];
    /// Shown when `panels=` is absent or names none of [`Panel::ALL`].
    pub const DEFAULT: [Panel; 3] = [Panel::Topology, Panel::Narration, Panel::Timeline];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Topology => "topology",
            Panel::Narration => "narration",
            Panel::Timeline => "timeline",
            Panel::Console => "console",
            Panel::Inspect => "inspect",
        }
    }
}

/// What `?embed=1&…` asked for. Anything not on the whitelist, or out of its range, is
/// left at its default and listed in [`EmbedOptions::ignored`], which the embed shows.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbedOptions {
    pub panels: Vec<Panel>,
    /// Whether the scenario plays as soon as it is open (guided scenarios open paused at
    /// their first step otherwise; the example is paused at 0).
    pub autoplay: bool,
    /// Hundredths of real time, one of [`SPEEDS`].
    pub speed: Option<u32>,
    /// The embed's own height in CSS pixels (it scrolls inside); `None`: as tall as its panels.
    pub height: Option<u32>,
    /// No console input, no topology menus or dragging, no config or load: the reducer
    /// refuses every change to the run ([`refused_when_read_only`]); time still moves.
    pub read_only: bool,
    /// The host page's origin, as `scheme://host[:port]`; `None`: the embed's own origin.
    pub origin: Option<String>,
    /// `name=value (why)` for every option ignored.
    pub ignored: Vec<String>,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            panels: Panel::DEFAULT.to_vec(),
            autoplay: true,
            speed: None,
            height: None,
            read_only: false,
            origin: None,
            ignored: Vec::new(),
        }
    }
}

impl EmbedOptions {
    /// The options in a query string (`?embed=1&panels=topology,console`); `None` unless
    /// it has `embed=1`. Names and values are percent-decoded; a repeated option counts
    /// as its last value.
    pub fn from_query(query: &str) -> Option<EmbedOptions> {
        let pairs = crate::ui::page::query_pairs(query);
        if !pairs.iter().any(|(k, v)| k == "embed" && v == "1") {
            return None;
        }
        let mut o = EmbedOptions::default();
        for (key, value) in &pairs {
            let why = match key.as_str() {
                k if PAGE_KEYS.contains(&k) => None,
                "panels" => o.set_panels(value),
                "autoplay" => flag(value).map(|on| o.autoplay = on).err(),
                "readonly" => flag(value).map(|on| o.read_only = on).err(),
                "speed" => match speed_from_text(value) {
                    Some(speed) => {
                        o.speed = Some(speed);
                        None
                    }
                    None => Some(format!("the speeds are {}", speeds_list())),
                },
                "height" => match value.parse().ok().filter(|h| HEIGHT_PX.contains(h)) {
                    Some(h) => {
                        o.height = Some(h);
                        None
                    }
                    None => Some(format!(
                        "a whole number of pixels from {} to {}",
                        HEIGHT_PX.start(),
                        HEIGHT_PX.end()
                    )),
                },
                "origin" => match normalize_origin(value) {
                    Some(origin) => {
                        o.origin = Some(origin);
                        None
                    }
                    None => Some(
                        "an origin as the browser writes it: http(s)://host[:port], no path"
                            .to_string(),
                    ),
                },
                _ => Some("not an embed option".to_string()),
            };
            if let Some(why) = why {
                let shown: String = value.chars().take(QUOTED_CHARS).collect();
                let cut = if shown.len() < value.len() { "…" } else { "" };
                o.ignored.push(format!("{key}={shown}{cut} ({why})"));
            }
        }
        Some(o)
    }

    pub fn shows(&self, panel: Panel) -> bool {
        self.panels.contains(&panel)
    }

    /// The settings a freshly opened run takes from the options.
    pub fn apply_to(&self, sim: &mut Sim) {
        sim.read_only = self.read_only;
        sim.paused = !self.autoplay;
        if let Some(mut run) = sim.opening_run() {
            run.play = self.autoplay;
        }
        if let Some(speed) = self.speed {
            sim.speed_pct = speed;
        }
    }

    fn set_panels(&mut self, value: &str) -> Option<String> {
        let mut panels = Vec::new();
        let mut unknown = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Panel::ALL.into_iter().find(|p| p.name() == name) {
                Some(p) if !panels.contains(&p) => panels.push(p),
                Some(_) => {}
                None => unknown.push(name),
            }
        }
        let known = Panel::ALL.map(Panel::name).join(", ");
        if panels.is_empty() {
            return Some(format!(
                "no panel this build knows: the panels are {known}; the default ones are shown"
            ));
        }
        self.panels = panels;
        (!unknown.is_empty()).then(|| {
            format!(
                "no panel named {}: the panels are {known}",
                unknown.join(", ")
            )
        })
    }
}

fn flag(value: &str) -> Result<bool, String> {
    match value {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err("0 or 1".to_string()),
    }
}

/// A speed written as a multiplier of real time (`0.5`, `2`) in the hundredths the page
/// counts in, if it is one of the offered [`SPEEDS`].
pub fn speed_from_multiplier(multiplier: f64) -> Option<u32> {
    let hundredths = multiplier * 100.0;
    let whole = hundredths.round();
    // Only exact ones: 0.333 is no speed the page offers, not 0.33.
    let exact = hundredths.is_finite() && (hundredths - whole).abs() < 1e-6;
    exact.then_some(whole as u32).filter(|s| SPEEDS.contains(s))
}

/// A speed written as a decimal multiplier (`0.25`, `2`), read digit by digit: the
/// standard library's float parser would bring its tables into the page for this alone.
fn speed_from_text(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 2
        || whole.len() > 6
    {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let hundredths = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u32>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    Some(whole * 100 + hundredths).filter(|s| SPEEDS.contains(s))
}

fn speeds_list() -> String {
    SPEEDS.map(format_speed).join(", ")
}

/// `scheme://host[:port]` as a browser writes an origin (lowercase, no default port), or
/// `None` for anything else: a path, a trailing slash, another scheme, `null`.
fn normalize_origin(text: &str) -> Option<String> {
    let text = text.to_ascii_lowercase();
    let (scheme, rest) = text.split_once("://")?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let (host, after) = match rest.strip_prefix('[') {
        // An IPv6 address.
        Some(v6) => {
            let (inner, after) = v6.split_once(']')?;
            let ok = !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
            (ok.then(|| format!("[{inner}]"))?, after)
        }
        None => {
            let end = rest.find(':').unwrap_or(rest.len());
            let host = &rest[..end];
            let ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            (ok.then(|| host.to_string())?, &rest[end..])
        }
    };
    let port = match after {
        "" => None,
        _ => {
            let digits = after.strip_prefix(':')?;
            let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            Some(
                digits
                    .parse::<u16>()
                    .ok()
                    .filter(|&p| all_digits && p > 0)?,
            )
        }
    };
    Some(match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// What a host page asks of the embed (API v1).
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// A share link (`v1.…`) or a whole address with one after `#`.
    Load(String),
    /// A guided scenario by id.
    Guide(String),
    /// A line typed into the console of the server with this name.
    Command {
        server: String,
        line: String,
    },
    /// Events forward (positive) or back (negative).
    Step(i64),
    /// Time travel to just after the event with this index.
    Jump(usize),
    Play,
    Pause,
    /// Hundredths of real time, one of [`SPEEDS`].
    Speed(u32),
}

impl Request {
    fn kind(&self) -> &'static str {
        match self {
            Request::Load(_) => "load",
            Request::Guide(_) => "guide",
            Request::Command { .. } => "command",
            Request::Step(_) => "step",
            Request::Jump(_) => "jump",
            Request::Play => "play",
            Request::Pause => "pause",
            Request::Speed(_) => "speed",
        }
    }
}

/// One event as the host hears it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    /// Its place in the timeline (what `jump` takes).
    pub index: u64,
    /// Virtual milliseconds since the run started.
    pub time: u64,
    /// The event log's line for it.
    pub line: String,
}

/// What the embed tells the host page (API v1).
#[derive(Clone, Debug, PartialEq)]
pub enum Outbound {
    /// Listening: sent once, when the embed has started.
    Ready { title: Option<String> },
    /// The visible timeline changed: every event from index `from` on is now `lines`
    /// (after `dropped` not sent); `from` below what the host has means time went back or
    /// a new run started.
    Events {
        from: usize,
        lines: Vec<EventLine>,
        dropped: usize,
    },
    /// How a request went: `None` done, `Some(why)` refused.
    Reply { to: String, error: Option<String> },
    /// A message that could not be read as a request.
    Error(String),
}

impl Outbound {
    /// The message as the host receives it: a plain object (built field by field, which
    /// costs the page less than going through JSON).
    pub fn to_js(&self) -> JsValue {
        let message = Object::new();
        set(&message, "replscope", API_VERSION as f64);
        match self {
            Outbound::Ready { title } => {
                set(&message, "type", "ready");
                set(&message, "version", API_VERSION as f64);
                set(
                    &message,
                    "title",
                    title.as_deref().map_or(JsValue::NULL, JsValue::from_str),
                );
            }
            Outbound::Events {
                from,
                lines,
                dropped,
            } => {
                set(&message, "type", "events");
                set(&message, "from", *from as f64);
                set(&message, "dropped", *dropped as f64);
                let list = js_sys::Array::new();
                for l in lines {
                    let line = Object::new();
                    set(&line, "index", l.index as f64);
                    set(&line, "time", l.time as f64);
                    set(&line, "line", l.line.as_str());
                    list.push(&line);
                }
                set(&message, "lines", list);
            }
            Outbound::Reply { to, error } => {
                set(&message, "type", "reply");
                set(&message, "to", to.as_str());
                set(&message, "ok", error.is_none());
                if let Some(error) = error {
                    set(&message, "error", error.as_str());
                }
            }
            Outbound::Error(text) => {
                set(&message, "type", "error");
                set(&message, "message", text.as_str());
            }
        }
        message.into()
    }
}

fn set(object: &Object, field: &str, value: impl Into<JsValue>) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(field), &value.into());
}

/// Reads a message from the host page (its data as JSON text). `Ok(None)`: not meant for
/// replscope (not an object with a `replscope` field), to be ignored; `Err`: the answer.
pub fn parse_message(text: &str) -> Result<Option<Request>, Outbound> {
    if text.len() > MAX_MESSAGE_CHARS {
        return Err(Outbound::Error(format!(
            "The message is longer than {MAX_MESSAGE_CHARS} characters as JSON."
        )));
    }
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let Some(version) = m.get("replscope") else {
        return Ok(None);
    };
    if version.as_u64() != Some(API_VERSION) {
        // Described rather than printed as JSON: number formatting would cost the page more
        // than this sentence is worth.
        let said = match version {
            Value::Number(n) => n
                .as_u64()
                .map_or("another number".to_string(), |n| n.to_string()),
            Value::String(_) => "a string".to_string(),
            _ => "not a number".to_string(),
        };
        return Err(Outbound::Error(format!(
            "This build speaks replscope API version {API_VERSION} only (\"replscope\": {API_VERSION}); the message's \"replscope\" is {said}."
        )));
    }
    let types = REQUEST_TYPES.join(", ");
    let Some(kind) = m.get("type").and_then(Value::as_str) else {
        return Err(Outbound::Error(format!(
            "A replscope message needs a \"type\", one of {types}."
        )));
    };
    let refuse = |why: String| Outbound::Reply {
        to: kind.to_string(),
        error: Some(why),
    };
    let text = |field: &str| match m.get(field).and_then(Value::as_str) {
        Some(s) => Ok(s.to_string()),
        None => Err(refuse(format!("\"{kind}\" needs \"{field}\", a string."))),
    };
    Ok(Some(match kind {
        "load" => Request::Load(text("link")?),
        "guide" => Request::Guide(text("id")?),
        "command" => Request::Command { server: text("server")?, line: text("line")? },
        "step" => match m.get("events").and_then(Value::as_i64).filter(|n| n.unsigned_abs() <= MAX_STEP_EVENTS) {
            Some(n) => Request::Step(n),
            None => return Err(refuse(format!("\"step\" needs \"events\", a whole number from -{MAX_STEP_EVENTS} to {MAX_STEP_EVENTS}."))),
        },
        "jump" => match m.get("event").and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok()) {
            Some(i) => Request::Jump(i),
            None => return Err(refuse("\"jump\" needs \"event\", an event's index (0 or more).".to_string())),
        },
        "play" => Request::Play,
        "pause" => Request::Pause,
        "speed" => match m.get("value").and_then(Value::as_f64).and_then(speed_from_multiplier) {
            Some(s) => Request::Speed(s),
            None => return Err(refuse(format!("\"speed\" needs \"value\", a number: one of {}.", speeds_list()))),
        },
        other => return Err(refuse(format!("There is no message type {other:?}; version {API_VERSION} has {types}."))),
    }))
}

/// A host's request on its way through the reducer, and where its reply goes.
pub struct Call {
    pub request: Request,
    /// Whether a scenario opened by the request plays at once (the `autoplay` option).
    pub autoplay: bool,
    pub reply: Callback<Outbound>,
}

/// Carries out a host's request on the run, through the same actions as the page's own
/// controls, and replies how it went: at once, or for a `load` or `guide` whose run opens
/// in slices, when it has opened.
pub fn apply(sim: &mut Sim, call: Call) {
    let Call {
        request,
        autoplay,
        reply,
    } = call;
    let to = request.kind().to_string();
    match carry_out(sim, request, autoplay) {
        Ok(Reply::Now) => reply.emit(Outbound::Reply { to, error: None }),
        Ok(Reply::WhenOpen) => match sim.opening_run() {
            Some(mut run) => run.waiting = Some(Waiting { reply, to }),
            None => reply.emit(Outbound::Reply { to, error: None }),
        },
        Err(why) => reply.emit(Outbound::Reply {
            to,
            error: Some(why),
        }),
    }
}

/// When a request that went through is answered.
enum Reply {
    Now,
    /// When the run it asked for has opened.
    WhenOpen,
}

/// Why requests on the run are refused while another run opens: they would act on the
/// run about to be replaced.
pub const STILL_OPENING: &str = "The run asked for is still opening: send this after its reply.";

fn carry_out(sim: &mut Sim, request: Request, autoplay: bool) -> Result<Reply, String> {
    let opening = sim.opening_run().is_some();
    match request {
        Request::Load(text) => {
            let run = link::decode(&text).map_err(|e| e.to_string())?;
            return open(
                sim,
                Action::Open {
                    scenario: Box::new(run.scenario),
                    step: run.step,
                },
                autoplay,
            );
        }
        Request::Guide(id) => {
            if !guided::exists(&id) {
                let ids = guided::ALL
                    .iter()
                    .map(|g| g.id)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(format!(
                    "There is no guided scenario {id:?}; the ids are {ids}."
                ));
            }
            return open(sim, Action::OpenGuide(id), autoplay);
        }
        Request::Command { .. } | Request::Step(_) | Request::Jump(_) if opening => {
            return Err(STILL_OPENING.to_string())
        }
        Request::Command { server, line } => {
            if sim.read_only {
                return Err(READ_ONLY.to_string());
            }
            let (found, names) = {
                let bus = sim.bus();
                let shown = crate::ui::model::topology::shown(&bus);
                let found = shown
                    .iter()
                    .copied()
                    .find(|&i| bus.server(i).name == server);
                (
                    found,
                    shown
                        .iter()
                        .map(|&i| bus.server(i).name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            };
            let id = found.ok_or_else(|| {
                format!("There is no server named {server:?}; the servers are {names}.")
            })?;
            sim.act_command(id, &line)?;
        }
        Request::Step(n) => step(sim, n),
        Request::Jump(index) => {
            let total = sim.bus().timeline_len();
            if index >= total {
                return Err(format!(
                    "There is no event #{index}: the timeline has {total} events."
                ));
            }
            sim.apply(Action::JumpTo(index));
        }
        Request::Play => sim.apply(Action::SetPaused(false)),
        Request::Pause => sim.apply(Action::SetPaused(true)),
        Request::Speed(speed) => sim.apply(Action::SetSpeed(speed)),
    }
    Ok(Reply::Now)
}

/// Moves of the simulation one `step` forward past the recorded timeline may make at most:
/// each is a bus event, and many record nothing (a cron tick), so a count of events alone
/// would not bound the work.
pub const MAX_STEP_MOVES: usize = 100_000;

/// `n` events forward or back, paused. Along the recorded timeline it is one jump (one
/// restore of a checkpoint, two when the target falls inside a move that recorded several
/// events), never one per event: back, to the latest point at which at most `n` fewer
/// events are visible; forward, to the end of the move that shows at least `n` more.
/// Past the recorded timeline the simulation steps on live, within [`MAX_STEP_MOVES`].
fn step(sim: &mut Sim, n: i64) {
    sim.apply(Action::SetPaused(true));
    let visible = sim.bus().log().len();
    let count = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
    if n < 0 {
        let target = visible.saturating_sub(count);
        if target == 0 {
            sim.apply(Action::JumpTo(0));
            return;
        }
        sim.apply(Action::JumpTo(target - 1));
        // Entry `target - 1` was recorded by a move that recorded more after it: the latest
        // point with at most `target` events is the end of the move before that one.
        if sim.bus().log().len() > target {
            sim.apply(Action::StepBackEvent);
        }
        return;
    }
    let target = visible.saturating_add(count);
    let total = sim.bus().timeline_len();
    if target <= total {
        if count > 0 {
            sim.apply(Action::JumpTo(target - 1));
        }
        return;
    }
    if visible < total {
        sim.apply(Action::JumpToEnd);
    }
    let mut moves = 0;
    while sim.bus().log().len() < target && moves < MAX_STEP_MOVES {
        let before = sim.bus().position();
        sim.apply(Action::StepEvent);
        if sim.bus().position() == before {
            break;
        }
        moves += 1;
    }
}

/// Opens another run; if it cannot be opened the run stays, and why is the error (not
/// the page's notice: the host asked, the host is told). A run that takes longer than a
/// slice to open is answered once open.
fn open(sim: &mut Sim, action: Action, autoplay: bool) -> Result<Reply, String> {
    let (run, notice) = (sim.run, sim.notice.clone());
    let opening = |sim: &Sim| sim.opening.as_ref().map(std::rc::Rc::as_ptr);
    let before = opening(sim);
    sim.apply(action);
    if sim.run != run {
        sim.paused = !autoplay;
        return Ok(Reply::Now);
    }
    if opening(sim).is_some() && opening(sim) != before {
        if let Some(mut run) = sim.opening_run() {
            run.play = autoplay;
            return Ok(Reply::WhenOpen);
        }
    }
    let why = std::mem::replace(&mut sim.notice, notice);
    Err(why.unwrap_or_else(|| "The scenario could not be opened.".to_string()))
}

/// What a read-only embed refuses: everything that changes what happens in the run, and
/// the console editing and Share that lead there. Watching (time, selection, panels) stays.
/// Every action is named, so a new one has to be decided here.
pub fn refused_when_read_only(action: &Action) -> bool {
    match action {
        Action::SubmitCommand { .. }
        | Action::EditDraft(_)
        | Action::HistoryPrev
        | Action::HistoryNext
        | Action::Cut(..)
        | Action::Heal(..)
        | Action::Topology(_)
        | Action::Share => true,
        Action::Panel(p) => match p {
            PanelAction::Complete { .. }
            | PanelAction::CancelCompletion
            | PanelAction::ConfigEdit { .. }
            | PanelAction::ConfigApply { .. }
            | PanelAction::LoadForm(_)
            | PanelAction::LoadStart
            | PanelAction::LoadStop => true,
            PanelAction::SelectTab(_)
            | PanelAction::KeysDb(_)
            | PanelAction::KeysPattern(_)
            | PanelAction::KeysPage(_)
            | PanelAction::OpenKey(_)
            | PanelAction::ElementsPage(_)
            | PanelAction::ShowAll(_) => false,
        },
        Action::SelectConsole(_)
        | Action::Tick(_)
        | Action::Step(_)
        | Action::StepEvent
        | Action::StepBackEvent
        | Action::SetSpeed(_)
        | Action::SetPaused(_)
        | Action::JumpTo(_)
        | Action::JumpToEnd
        | Action::SelectEvent(_)
        | Action::SetLogFilter(_)
        | Action::ScrollLog(_)
        | Action::ScrollDiagram(_)
        | Action::SetTheme(_)
        | Action::ShowHelp(_)
        | Action::Inspect(_)
        | Action::CloseShare
        // Opening another run replaces it rather than changing it: only the host can (the
        // embed has no picker), and what it opens is read-only too.
        | Action::OpenGuide(_)
        | Action::Open { .. }
        | Action::NarrationGo(_)
        | Action::DismissNotice
        | Action::OpenSlice
        | Action::CancelOpening
        // Checked request by request (a refused command is answered).
        | Action::Api(_) => false,
    }
}

/// What the host has been told: which run, and how many of its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Told {
    run: u64,
    events: usize,
}

/// The `events` message a redraw owes the host (none if the visible log is what it was
/// told), and what the host has been told once it is sent. `told` is `None` at first.
pub fn events_since(told: Option<Told>, run: u64, log: &[LogEntry]) -> (Option<Outbound>, Told) {
    let now = Told {
        run,
        events: log.len(),
    };
    let from = match told {
        Some(t) if t.run == run && t.events == log.len() => return (None, now),
        // The log only grows or is cut at its end while the run is the same, so what the
        // host has below both lengths is still true.
        Some(t) if t.run == run => t.events.min(log.len()),
        _ => 0,
    };
    let first = from.max(log.len().saturating_sub(MAX_EVENTS_PER_MESSAGE));
    let lines = log[first..]
        .iter()
        .map(|e| EventLine {
            index: e.index,
            time: e.time,
            line: e.line(),
        })
        .collect();
    (
        Some(Outbound::Events {
            from,
            lines,
            dropped: first - from,
        }),
        now,
    )
}

/// The page holding this embed in an iframe: whom messages are taken from and sent to.
#[derive(Clone)]
pub struct Host {
    window: web_sys::Window,
    origin: String,
}

impl Host {
    /// `None` when the page is not in a frame (there is nobody to talk to) or its origin
    /// is opaque (`null`: a file or a sandbox, which any other opaque page shares).
    pub fn find(options: &EmbedOptions) -> Option<Host> {
        let own = web_sys::window()?;
        let parent = own.parent().ok().flatten()?;
        if js_sys::Object::is(&parent, &own) {
            return None;
        }
        let origin = match &options.origin {
            Some(origin) => origin.clone(),
            None => own.location().origin().ok()?,
        };
        (origin != "null").then_some(Host {
            window: parent,
            origin,
        })
    }

    /// Posts to the host's window, for its origin only (never `*`: if another site has
    /// taken the host's place, the browser drops the message).
    pub fn post(&self, message: &Outbound) {
        let _ = self.window.post_message(&message.to_js(), &self.origin);
    }

    /// Whether a `message` event came from the host: its window, at its origin.
    fn sent(&self, e: &MessageEvent) -> bool {
        e.origin() == self.origin
            && e.source()
                .is_some_and(|source| js_sys::Object::is(&source, &self.window))
    }

    /// The request in a message from the host, or the answer to send back; `None` for
    /// anything not meant for replscope.
    fn read(&self, e: &MessageEvent) -> Option<Result<Request, Outbound>> {
        let data = e.data();
        // The host page may carry other frameworks' messages: only objects that name
        // replscope are ours.
        if !data.is_object()
            || !js_sys::Reflect::has(&data, &JsValue::from_str("replscope")).unwrap_or(false)
        {
            return None;
        }
        let Some(text) = js_sys::JSON::stringify(&data)
            .ok()
            .and_then(|s| s.as_string())
        else {
            return Some(Err(Outbound::Error(
                "The message could not be read as JSON.".to_string(),
            )));
        };
        parse_message(&text).transpose()
    }
}

/// The embed's side of the API while it is on the page: `ready`, then each message from the
/// host as an [`Action::Api`] (replied from the reducer), and after each redraw an
/// `events` message for what became visible. Does nothing outside an embed or a frame.
#[hook]
pub fn use_host(options: Option<EmbedOptions>, sim: &Sim, dispatch: Callback<Action>) {
    let host = use_memo((), |_| options.as_ref().and_then(Host::find));
    {
        let host = (*host).clone();
        let autoplay = options.as_ref().is_none_or(|o| o.autoplay);
        let title = sim.title();
        use_effect_with((), move |_| {
            let listener = host.map(|host| {
                host.post(&Outbound::Ready { title });
                let reply = {
                    let host = host.clone();
                    Callback::from(move |m: Outbound| host.post(&m))
                };
                let listener = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                    if !host.sent(&e) {
                        return;
                    }
                    match host.read(&e) {
                        Some(Ok(request)) => dispatch.emit(Action::Api(Box::new(Call {
                            request,
                            autoplay,
                            reply: reply.clone(),
                        }))),
                        Some(Err(answer)) => host.post(&answer),
                        None => {}
                    }
                });
                if let Some(w) = web_sys::window() {
                    let _ = w.add_event_listener_with_callback(
                        "message",
                        listener.as_ref().unchecked_ref(),
                    );
                }
                listener
            });
            move || {
                if let (Some(listener), Some(w)) = (listener, web_sys::window()) {
                    let _ = w.remove_event_listener_with_callback(
                        "message",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    let told = use_mut_ref(|| None::<Told>);
    let batch = host.is_some().then(|| {
        let (batch, now) = events_since(*told.borrow(), sim.run, sim.bus().log());
        *told.borrow_mut() = Some(now);
        batch
    });
    use_effect(move || {
        if let (Some(host), Some(Some(batch))) = (&*host, batch) {
            host.post(&batch);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Fault;
    use crate::ui::model::topology::TopologyAction;

    fn options(query: &str) -> EmbedOptions {
        EmbedOptions::from_query(query).unwrap_or_else(|| panic!("{query} is not an embed"))
    }

    #[test]
    fn embed_1_turns_it_on_and_the_defaults_hold() {
        assert_eq!(EmbedOptions::from_query(""), None);
        assert_eq!(EmbedOptions::from_query("?guide=first-sync"), None);
        assert_eq!(EmbedOptions::from_query("?embed=0&panels=console"), None);
        assert_eq!(EmbedOptions::from_query("?embed=yes"), None);
        let o = options("?embed=1&guide=first-sync");
        assert_eq!(o, EmbedOptions::default());
        assert_eq!(
            o.panels,
            [Panel::Topology, Panel::Narration, Panel::Timeline]
        );
        assert!(o.autoplay && !o.read_only && o.ignored.is_empty());
        assert_eq!((o.speed, o.height, o.origin), (None, None, None));
    }

    #[test]
    fn whitelisted_options_are_read() {
        let o = options("embed=1&panels=console,topology,console&autoplay=0&speed=0.25&height=480&readonly=1&origin=https://docs.example.org:8443");
        assert_eq!(o.panels, [Panel::Console, Panel::Topology]);
        assert!(o.shows(Panel::Console) && !o.shows(Panel::Timeline));
        assert!(!o.autoplay && o.read_only);
        assert_eq!(o.speed, Some(25));
        assert_eq!(o.height, Some(480));
        assert_eq!(o.origin.as_deref(), Some("https://docs.example.org:8443"));
        assert!(o.ignored.is_empty(), "{:?}", o.ignored);
        // As URLSearchParams writes them.
        let o = options(
            "embed=1&panels=narration%2Cinspect&origin=http%3A%2F%2Flocalhost%3A3000&speed=10",
        );
        assert_eq!(o.panels, [Panel::Narration, Panel::Inspect]);
        assert_eq!(o.origin.as_deref(), Some("http://localhost:3000"));
        assert_eq!(o.speed, Some(1_000));
        for (text, hundredths) in [
            ("0.1", 10),
            (".5", 50),
            ("0.50", 50),
            ("1", 100),
            ("2.0", 200),
            ("100", 10_000),
        ] {
            assert_eq!(
                options(&format!("embed=1&speed={text}")).speed,
                Some(hundredths),
                "{text}"
            );
        }
        assert_eq!(options("embed=1&height=200").height, Some(200));
        assert_eq!(options("embed=1&height=2000").height, Some(2000));
    }

    #[test]
    fn unknown_and_out_of_range_options_are_ignored_and_listed() {
        let o = options("embed=1&speed=3&height=199&height=abc&autoplay=yes&readonly=true&colour=red&panels=topology,chat");
        assert_eq!(
            (o.speed, o.height, o.autoplay, o.read_only),
            (None, None, true, false)
        );
        assert_eq!(o.panels, [Panel::Topology]);
        let all = o.ignored.join("\n");
        assert_eq!(o.ignored.len(), 7, "{all}");
        assert!(
            all.contains(
                "speed=3 (the speeds are 0.1×, 0.25×, 0.5×, 1×, 2×, 5×, 10×, 25×, 50×, 100×)"
            ),
            "{all}"
        );
        assert!(
            all.contains("height=199 (a whole number of pixels from 200 to 2000)"),
            "{all}"
        );
        assert!(
            all.contains("autoplay=yes (0 or 1)") && all.contains("readonly=true (0 or 1)"),
            "{all}"
        );
        assert!(all.contains("colour=red (not an embed option)"), "{all}");
        assert!(all.contains("panels=topology,chat (no panel named chat: the panels are topology, narration, timeline, console, inspect)"), "{all}");
        let o = options("embed=1&panels=,,chat");
        assert_eq!(o.panels, Panel::DEFAULT);
        assert!(
            o.ignored[0].contains("the default ones are shown"),
            "{:?}",
            o.ignored
        );
        for bad in [
            "0.333",
            "0.125",
            "0",
            "-1",
            "+1",
            "NaN",
            "inf",
            "1e1",
            "2x",
            "",
            ".",
            "1.2.3",
            "99999999999",
        ] {
            assert_eq!(
                options(&format!("embed=1&speed={bad}")).speed,
                None,
                "{bad}"
            );
        }
        // A long value is quoted cut, and percent signs that escape nothing are kept.
        let o = options(&format!("embed=1&x={}", "%zz".repeat(30)));
        assert_eq!(
            o.ignored[0],
            format!("x={}… (not an embed option)", "%zz".repeat(13) + "%")
        );
    }

    #[test]
    fn origins_are_taken_only_in_the_form_browsers_write() {
        let origin = |text: &str| options(&format!("embed=1&origin={text}")).origin;
        assert_eq!(
            origin("https://Docs.Example.org"),
            Some("https://docs.example.org".into())
        );
        assert_eq!(
            origin("https://example.org:443"),
            Some("https://example.org".into())
        );
        assert_eq!(
            origin("http://example.org:80"),
            Some("http://example.org".into())
        );
        assert_eq!(
            origin("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            origin("http://[::1]:3000"),
            Some("http://[::1]:3000".into())
        );
        for bad in [
            "https://example.org/",
            "https://example.org/docs",
            "example.org",
            "ftp://example.org",
            "null",
            "*",
            "https://",
            "https://exa mple.org",
            "https://example.org:",
            "https://example.org:0",
            "https://example.org:65536",
            "https://example.org:+80",
            "https://user@example.org",
            "http://[::1",
        ] {
            let o = options(&format!("embed=1&origin={bad}"));
            assert_eq!(o.origin, None, "{bad}");
            assert!(
                o.ignored[0].starts_with("origin="),
                "{bad}: {:?}",
                o.ignored
            );
        }
    }

    #[test]
    fn requests_are_read_and_bad_ones_answered() {
        let ok = |text: &str| {
            parse_message(text)
                .unwrap_or_else(|e| panic!("{text}: {e:?}"))
                .unwrap()
        };
        assert_eq!(
            ok(r#"{"replscope":1,"type":"load","link":"v1.abc"}"#),
            Request::Load("v1.abc".into())
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"guide","id":"first-sync"}"#),
            Request::Guide("first-sync".into())
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"command","server":"master","line":"SET k v"}"#),
            Request::Command {
                server: "master".into(),
                line: "SET k v".into()
            }
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"step","events":-5}"#),
            Request::Step(-5)
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"jump","event":12}"#),
            Request::Jump(12)
        );
        assert_eq!(ok(r#"{"replscope":1,"type":"play"}"#), Request::Play);
        assert_eq!(
            ok(r#"{"replscope":1,"type":"pause","extra":true}"#),
            Request::Pause
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"speed","value":0.5}"#),
            Request::Speed(50)
        );

        // Not for us: ignored without a word.
        for text in [
            "\"hello\"",
            "[1]",
            "{}",
            r#"{"type":"load"}"#,
            "not json",
            "null",
        ] {
            assert_eq!(parse_message(text), Ok(None), "{text}");
        }
        let error = |text: &str| match parse_message(text) {
            Err(Outbound::Error(m)) => m,
            other => panic!("{text}: {other:?}"),
        };
        assert!(error(r#"{"replscope":2,"type":"play"}"#).contains("version 1 only"));
        assert!(error(r#"{"replscope":2,"type":"play"}"#)
            .ends_with("the message's \"replscope\" is 2."));
        assert!(error(r#"{"replscope":"1","type":"play"}"#)
            .ends_with("the message's \"replscope\" is a string."));
        assert!(error(r#"{"replscope":1.5,"type":"play"}"#).ends_with("is another number."));
        assert!(
            error(r#"{"replscope":1}"#).contains("needs a \"type\", one of load, guide, command")
        );
        let long = format!(
            r#"{{"replscope":1,"type":"load","link":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_CHARS)
        );
        assert!(error(&long).contains("longer than"));

        let refused = |text: &str| match parse_message(text) {
            Err(Outbound::Reply {
                to,
                error: Some(why),
            }) => format!("{to}: {why}"),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            refused(r#"{"replscope":1,"type":"load"}"#),
            "load: \"load\" needs \"link\", a string."
        );
        assert_eq!(
            refused(r#"{"replscope":1,"type":"command","server":"m","line":7}"#),
            "command: \"command\" needs \"line\", a string."
        );
        assert!(refused(r#"{"replscope":1,"type":"step","events":1.5}"#)
            .contains("a whole number from -10000 to 10000"));
        assert!(refused(r#"{"replscope":1,"type":"step","events":10001}"#).contains("from -10000"));
        assert!(refused(r#"{"replscope":1,"type":"jump","event":-1}"#).contains("an event's index"));
        assert!(refused(r#"{"replscope":1,"type":"speed","value":3}"#).contains("one of 0.1×"));
        assert!(refused(r#"{"replscope":1,"type":"speed","value":"2"}"#).contains("a number"));
        assert!(refused(r#"{"replscope":1,"type":"reset"}"#)
            .starts_with("reset: There is no message type \"reset\""));
    }

    /// Runs a request through the reducer as the embed does, returning the reply.
    fn call(sim: &mut Sim, request: Request) -> Outbound {
        let replies = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let reply = {
            let replies = replies.clone();
            Callback::from(move |m| replies.borrow_mut().push(m))
        };
        sim.apply(Action::Api(Box::new(Call {
            request,
            autoplay: false,
            reply,
        })));
        // A run that takes more than a slice to open is answered once open.
        sim.finish_opening();
        let mut replies = replies.take();
        assert_eq!(replies.len(), 1, "{replies:?}");
        replies.pop().unwrap()
    }

    fn error(reply: Outbound) -> Option<String> {
        match reply {
            Outbound::Reply { error, .. } => error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn requests_drive_the_run_and_refusals_leave_it_as_it_was() {
        let mut sim = Sim::new();
        assert_eq!(
            error(call(&mut sim, Request::Guide("first-sync".into()))),
            None
        );
        assert_eq!(
            sim.session().base().title.as_deref(),
            Some("First sync: a replica attaches")
        );
        assert!(
            sim.paused,
            "autoplay off: the scenario waits at its first step"
        );
        let run = sim.run;

        // `step` counts events of the log, as the slider does, in one jump.
        let visible = |s: &Sim| s.bus().log().len();
        let at = visible(&sim);
        assert_eq!(error(call(&mut sim, Request::Step(5))), None);
        let stepped = visible(&sim);
        assert!(stepped >= at + 5);
        sim.apply(Action::JumpTo(at + 4));
        assert_eq!(
            visible(&sim),
            stepped,
            "forward: to the end of the move that shows event {}",
            at + 4
        );
        assert_eq!(error(call(&mut sim, Request::Step(-2))), None);
        assert!(
            visible(&sim) <= stepped - 2,
            "back: at most two fewer events: {} of {stepped}",
            visible(&sim)
        );
        sim.apply(Action::StepEvent);
        assert!(
            visible(&sim) > stepped - 2,
            "and the latest such point: one press forward passes it"
        );
        assert_eq!(error(call(&mut sim, Request::Step(0))), None);
        assert!(sim.paused);
        // Like the slider: to the end of the move that made event 4.
        assert_eq!(error(call(&mut sim, Request::Jump(4))), None);
        assert!(
            (5..10).contains(&sim.bus().log().len()),
            "{}",
            sim.bus().log().len()
        );
        let total = sim.bus().timeline_len();
        let why = error(call(&mut sim, Request::Jump(total))).unwrap();
        assert_eq!(
            why,
            format!("There is no event #{total}: the timeline has {total} events.")
        );

        assert_eq!(error(call(&mut sim, Request::Play)), None);
        assert!(!sim.paused);
        assert_eq!(error(call(&mut sim, Request::Speed(200))), None);
        assert_eq!(sim.speed_pct, 200);
        assert_eq!(error(call(&mut sim, Request::Pause)), None);
        assert!(sim.paused);

        assert_eq!(
            error(call(
                &mut sim,
                Request::Command {
                    server: "master".into(),
                    line: "SET k v".into()
                }
            )),
            None
        );
        sim.apply(Action::Step(100));
        assert!(sim
            .bus()
            .log()
            .iter()
            .any(|e| e.line().ends_with("console> SET k v")));
        // The console's own refusal, word for word.
        let why = error(call(
            &mut sim,
            Request::Command {
                server: "master".into(),
                line: "SET \"k".into(),
            },
        ));
        assert_eq!(why.as_deref(), Some("Invalid argument(s)"));
        let why = error(call(
            &mut sim,
            Request::Command {
                server: "nobody".into(),
                line: "PING".into(),
            },
        ))
        .unwrap();
        assert_eq!(
            why,
            "There is no server named \"nobody\"; the servers are master, replica."
        );

        let scenario = sim.to_scenario();
        let why = error(call(&mut sim, Request::Load("v1.AAAA".into()))).unwrap();
        assert!(
            why.starts_with("this link is truncated or corrupt"),
            "{why}"
        );
        let why = error(call(&mut sim, Request::Guide("nope".into()))).unwrap();
        assert!(
            why.starts_with("There is no guided scenario \"nope\"; the ids are first-sync, "),
            "{why}"
        );
        assert_eq!(
            (sim.run, sim.to_scenario()),
            (run, scenario),
            "a refused load leaves the run"
        );
        assert_eq!(sim.notice, None, "the host is told, not the reader");

        let shared = link::encode(&link::SharedRun {
            scenario: Sim::example(),
            step: Some(3),
        });
        assert_eq!(
            error(call(
                &mut sim,
                Request::Load(format!("https://example.org/replscope/#{shared}"))
            )),
            None
        );
        assert_eq!(sim.run, run + 1);
        assert!(
            (3..6).contains(&sim.bus().log().len()),
            "opens at its step: {}",
            sim.bus().log().len()
        );
        assert_eq!(sim.speed_pct, 200, "a new run keeps the embed's speed");
    }

    #[test]
    fn a_long_step_is_one_jump_and_a_load_waits_for_its_run() {
        // Two virtual minutes of writes: over ten thousand events, several checkpoints.
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        for i in 0..3_000 {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: format!("SET k{i} {}", "v".repeat(200)),
            });
            sim.apply(Action::Step(40));
        }
        let total = sim.bus().timeline_len();
        assert!(
            total > 3 * crate::bus::DEFAULT_CHECKPOINT_EVERY as usize,
            "{total}"
        );
        let started = std::time::Instant::now();
        assert_eq!(
            error(call(&mut sim, Request::Step(-(MAX_STEP_EVENTS as i64)))),
            None
        );
        assert_eq!(
            error(call(&mut sim, Request::Step(MAX_STEP_EVENTS as i64))),
            None
        );
        assert_eq!(
            error(call(&mut sim, Request::Step(-(MAX_STEP_EVENTS as i64)))),
            None
        );
        // One restore each (a checkpoint clone and up to a few thousand moves replayed), where
        // one per event was 10,000 of them.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(sim.bus().log().len() <= total - MAX_STEP_EVENTS as usize);

        // A `load` is answered when its run has opened, and requests on the run wait for it.
        let replies = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let reply = {
            let replies = replies.clone();
            Callback::from(move |m| replies.borrow_mut().push(m))
        };
        let text = link::encode(&link::SharedRun {
            scenario: sim.to_scenario(),
            step: None,
        });
        sim.apply(Action::Api(Box::new(Call {
            request: Request::Load(text),
            autoplay: true,
            reply: reply.clone(),
        })));
        let run = sim.run;
        if sim.opening_view().is_some() {
            assert!(
                replies.borrow().is_empty(),
                "answered before it opened: {:?}",
                replies.borrow()
            );
            sim.apply(Action::Api(Box::new(Call {
                request: Request::Step(-1),
                autoplay: true,
                reply: reply.clone(),
            })));
            assert_eq!(
                replies.borrow_mut().pop(),
                Some(Outbound::Reply {
                    to: "step".into(),
                    error: Some(STILL_OPENING.into())
                })
            );
            while sim.opening_view().is_some() {
                sim.apply(Action::OpenSlice);
            }
            assert_eq!(sim.run, run + 1);
        }
        assert_eq!(
            replies.take(),
            vec![Outbound::Reply {
                to: "load".into(),
                error: None
            }]
        );
        assert!(!sim.paused, "autoplay: it plays once open");
    }

    #[test]
    fn read_only_refuses_every_change_and_keeps_time_moving() {
        let mut sim = Sim::new();
        options("embed=1&readonly=1").apply_to(&mut sim);
        sim.apply(Action::Step(8_000));
        let (scenario, log) = (sim.to_scenario(), sim.bus().log_hash());
        sim.apply(Action::EditDraft("SET k v".into()));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        sim.apply(Action::Cut(0, 1));
        sim.apply(Action::Topology(TopologyAction::AddServer));
        sim.apply(Action::Topology(TopologyAction::Fault(Fault::Crash {
            server: 1,
        })));
        sim.apply(Action::Panel(PanelAction::LoadStart));
        sim.apply(Action::Share);
        let why = error(call(
            &mut sim,
            Request::Command {
                server: "master".into(),
                line: "SET k v".into(),
            },
        ));
        assert_eq!(why.as_deref(), Some(READ_ONLY));
        assert_eq!(sim.console.draft, "");
        assert_eq!(sim.share, None);
        assert_eq!(sim.to_scenario(), scenario);
        assert_eq!(sim.bus().log_hash(), log, "nothing happened in the run");

        // Watching still works, and so does opening another run (which stays read-only).
        sim.apply(Action::StepBackEvent);
        assert!(sim.bus().log().len() < sim.bus().timeline_len());
        assert_eq!(
            error(call(&mut sim, Request::Guide("first-sync".into()))),
            None
        );
        assert!(sim.read_only);
        sim.apply(Action::Topology(TopologyAction::AddServer));
        assert_eq!(sim.bus().servers().len(), 2);
    }

    #[test]
    fn the_host_hears_each_event_once_and_when_time_goes_back() {
        let mut sim = Sim::new();
        let lines = |m: &Option<Outbound>| match m {
            Some(Outbound::Events {
                from,
                lines,
                dropped,
            }) => (
                *from,
                lines.iter().map(|l| l.index).collect::<Vec<_>>(),
                *dropped,
            ),
            other => panic!("{other:?}"),
        };
        let (first, told) = events_since(None, sim.run, sim.bus().log());
        let (from, indexes, dropped) = lines(&first);
        assert_eq!((from, dropped), (0, 0));
        assert_eq!(
            indexes,
            (0..sim.bus().log().len() as u64).collect::<Vec<_>>()
        );
        assert_eq!(
            events_since(Some(told), sim.run, sim.bus().log()).0,
            None,
            "nothing new, nothing sent"
        );

        sim.apply(Action::Step(120_000));
        let (batch, told) = events_since(Some(told), sim.run, sim.bus().log());
        let (from, indexes, dropped) = lines(&batch);
        let len = sim.bus().log().len();
        assert!(
            len - from > MAX_EVENTS_PER_MESSAGE,
            "two minutes make more events than one message: {from}..{len}"
        );
        assert_eq!(indexes.len(), MAX_EVENTS_PER_MESSAGE);
        assert_eq!(from + dropped, indexes[0] as usize);
        assert_eq!(*indexes.last().unwrap() as usize, len - 1);
        let Some(Outbound::Events { lines: sent, .. }) = &batch else {
            unreachable!()
        };
        assert_eq!(sent[0].line, sim.bus().log()[indexes[0] as usize].line());

        for _ in 0..3 {
            sim.apply(Action::StepBackEvent);
        }
        let (back, told) = events_since(Some(told), sim.run, sim.bus().log());
        assert_eq!(
            lines(&back),
            (len - 3, vec![], 0),
            "time went back: the host drops what is past `from`"
        );
        sim.apply(Action::StepEvent);
        let (again, told) = events_since(Some(told), sim.run, sim.bus().log());
        assert_eq!(lines(&again), (len - 3, vec![len as u64 - 3], 0));

        sim.apply(Action::OpenGuide("first-sync".into()));
        sim.finish_opening();
        let (fresh, _) = events_since(Some(told), sim.run, sim.bus().log());
        assert_eq!(lines(&fresh).0, 0, "a new run starts the host's list over");
    }
}
