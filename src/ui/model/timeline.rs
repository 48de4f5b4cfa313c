//! The timeline: virtual time at a chosen speed, time travel along the bus's recorded
//! run, the event log list and the space-time (Lamport) diagram of every message.
//!
//! Everything here is plain Rust over `&Bus`, so the native tests cover it. The page
//! never draws the whole log: a run of 100k events shows a window of [`LOG_WINDOW`] rows
//! and [`DIAGRAM_MESSAGES`] arrows, and building either costs one pass over the log at
//! most (no text is formatted for rows that are not drawn).

use std::cell::RefCell;
use std::ops::Range;
use std::rc::Rc;

use litemap::LiteMap;

use crate::bus::{quote, Bus, LogEntry, LogKind, LogView, ServerId};
use crate::engine::resp::{command_args, reply_kind, scan_command, CommandArgs, ReplyKind, Scan};
use crate::engine::{sort, Event, Role};

/// The offered speeds, in hundredths of real time (100 = 1×). Hundredths keep 0.25×
/// exact: virtual time is an integer number of milliseconds, and the hundredths of a
/// millisecond left over by one tick are carried into the next, so ten ticks of 10 ms at
/// 0.25× advance exactly 25 ms, on every machine.
pub const SPEEDS: [u32; 10] = [10, 25, 50, 100, 200, 500, 1_000, 2_500, 5_000, 10_000];
pub const DEFAULT_SPEED: u32 = 100;

/// Rows of the event list built and drawn at a time.
pub const LOG_WINDOW: usize = 200;
/// Rows drawn while the list follows the newest event: two to three list heights
/// (the list shows about 16). Under a write load each tick brings more events than a
/// window holds, so every drawn row is a new one on every redraw; drawing 200 made the
/// list most of a redraw's DOM work. Scrolling up leaves the end and draws [`LOG_WINDOW`].
pub const LOG_FOLLOW_WINDOW: usize = 40;
/// Messages drawn at a time in the space-time diagram.
pub const DIAGRAM_MESSAGES: usize = 30;
/// Non-message events marked on the diagram's lifelines at most (sync decisions, faults).
const DIAGRAM_MARKS: usize = 20;
/// Characters of an event's text in the list; the full line is in its tooltip.
const ROW_TEXT_CHARS: usize = 160;
/// Characters of an arrow's label.
const ARROW_LABEL_CHARS: usize = 22;

/// `0.25×`, `1×`, `100×`.
pub fn format_speed(hundredths: u32) -> String {
    let whole = hundredths / 100;
    let frac = hundredths % 100;
    if frac == 0 {
        format!("{whole}×")
    } else if frac.is_multiple_of(10) {
        format!("{whole}.{}×", frac / 10)
    } else {
        format!("{whole}.{frac:02}×")
    }
}

/// The next offered speed up or down from `hundredths` (the same one at either end).
pub fn next_speed(hundredths: u32, faster: bool) -> u32 {
    let i = SPEEDS
        .iter()
        .position(|&s| s >= hundredths)
        .unwrap_or(SPEEDS.len() - 1);
    if faster {
        if SPEEDS[i] > hundredths {
            SPEEDS[i]
        } else {
            SPEEDS[(i + 1).min(SPEEDS.len() - 1)]
        }
    } else {
        SPEEDS[i.saturating_sub(1)]
    }
}

/// Virtual milliseconds for `wall_ms` at `hundredths` speed; `carry` holds the hundredths
/// of a millisecond not yet spent, so no fraction is ever lost or rounded twice.
pub fn scale(wall_ms: u64, hundredths: u32, carry: &mut u64) -> u64 {
    let total = wall_ms * hundredths as u64 + *carry;
    *carry = total % 100;
    total / 100
}

/// `mm:ss.t` of virtual time.
pub fn format_clock(ms: u64) -> String {
    format!("{:02}:{:02}.{}", ms / 60_000, ms / 1000 % 60, ms / 100 % 10)
}

/// `mm:ss.mmm` of virtual time: events a millisecond apart must read apart.
pub fn format_ms(ms: u64) -> String {
    format!("{:02}:{:02}.{:03}", ms / 60_000, ms / 1000 % 60, ms % 1000)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn other(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }
}

/// What an event is about, for the list's filter and its kind column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventClass {
    /// Bytes arriving over a connection (from a server or from a console).
    Message,
    /// What a replica or master decided: handshake steps, sync decisions, roles, logs.
    Sync,
    /// Connections opening and closing, bytes leaving a send buffer.
    Link,
    /// Faults, crashes, restarts, saves.
    Fault,
    /// Lines typed into a console and the replies.
    Console,
    /// A server added to the bus.
    Server,
}

impl EventClass {
    pub const ALL: [EventClass; 6] = [
        EventClass::Message,
        EventClass::Sync,
        EventClass::Link,
        EventClass::Fault,
        EventClass::Console,
        EventClass::Server,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::Message => "message",
            EventClass::Sync => "sync",
            EventClass::Link => "link",
            EventClass::Fault => "fault",
            EventClass::Console => "console",
            EventClass::Server => "server",
        }
    }

    /// A shape for the kind column, so kinds never differ by colour alone.
    pub fn symbol(self) -> &'static str {
        match self {
            EventClass::Message => "→",
            EventClass::Sync => "◆",
            EventClass::Link => "⇄",
            EventClass::Fault => "✖",
            EventClass::Console => ">",
            EventClass::Server => "■",
        }
    }

    pub fn of(kind: &LogKind) -> EventClass {
        match kind {
            LogKind::Deliver { .. } => EventClass::Message,
            LogKind::Engine(_) => EventClass::Sync,
            LogKind::Connect { .. }
            | LogKind::Accepted { .. }
            | LogKind::Connected { .. }
            | LogKind::ConnectFailed { .. }
            | LogKind::Closed { .. }
            | LogKind::Drained { .. } => EventClass::Link,
            LogKind::Cut { .. }
            | LogKind::Heal { .. }
            | LogKind::Fault(_)
            | LogKind::Crashed
            | LogKind::Restarted { .. }
            | LogKind::RestartFailed { .. }
            | LogKind::Saved { .. }
            | LogKind::Resumed { .. }
            | LogKind::Released { .. } => EventClass::Fault,
            LogKind::ConsoleInput { .. } | LogKind::Reply { .. } => EventClass::Console,
            LogKind::ServerStarted { .. } | LogKind::Removed => EventClass::Server,
        }
    }
}

/// Which events the list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only events on this server (a delivery counts for its sender too).
    pub server: Option<ServerId>,
    /// Kinds left out.
    pub hidden: Vec<EventClass>,
}

impl LogFilter {
    pub fn is_empty(&self) -> bool {
        self.server.is_none() && self.hidden.is_empty()
    }

    pub fn accepts(&self, e: &LogEntry) -> bool {
        if !self.hidden.is_empty() && self.hidden.contains(&EventClass::of(&e.kind)) {
            return false;
        }
        match self.server {
            None => true,
            Some(s) => {
                e.server == Some(s)
                    || matches!(e.kind, LogKind::Deliver { from: Some(f), .. } if f == s)
            }
        }
    }

    /// The same filter with `class` shown or hidden.
    pub fn with_class(&self, class: EventClass, shown: bool) -> LogFilter {
        let mut f = self.clone();
        f.hidden.retain(|&c| c != class);
        if !shown {
            f.hidden.push(class);
        }
        f
    }
}

/// The timeline's own part of the page state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TimelineUi {
    /// The event selected in the list and the diagram (an index of the log).
    pub selected: Option<u64>,
    pub filter: LogFilter,
    /// The first filtered row scrolled into view in the list; `None` follows the newest.
    pub log_scroll: Option<usize>,
    /// The newest log index the diagram shows; `None` follows the newest message.
    pub diagram_end: Option<u64>,
    /// `None` follows the system's `prefers-color-scheme`.
    pub theme: Option<Theme>,
    pub help_open: bool,
    /// While playing through the recorded future after a jump back, the world's clock
    /// only moves at recorded events; this is the virtual time shown in between, valid
    /// while the visible log still has the length it is stored with.
    replay_clock: Option<(usize, u64)>,
    /// Hundredths of a virtual millisecond not yet advanced (see [`scale`]).
    pub speed_carry: u64,
    /// The texts of the list's rows and of the diagram's arrows and marks, kept from the
    /// last redraw (see [`TextCache`]).
    pub log_texts: TextCache,
    pub diagram_texts: TextCache,
}

/// What [`describe`] and [`summarize`] made of one log entry.
#[derive(Debug)]
pub struct Described {
    /// The entry described: a cached text is used only for an equal entry, so a log
    /// rewritten after a jump back (the recorded future replaced) is described again.
    entry: LogEntry,
    /// [`describe`], whole.
    pub text: String,
    /// [`summarize`] of a delivered chunk (empty for anything else).
    pub summary: String,
}

impl Described {
    fn of(e: &LogEntry) -> Described {
        let summary = match &e.kind {
            LogKind::Deliver { data, .. } => summarize(data),
            _ => String::new(),
        };
        Described {
            entry: e.clone(),
            text: describe_with(e, &summary),
            summary,
        }
    }
}

/// The texts of the entries a view drew last time. Describing an entry parses its whole
/// chunk (a busy replication link carries hundreds of commands in one), and the windows
/// move by a few entries per redraw: each redraw describes only the entries new in its
/// window, and keeps exactly the entries it used. A cache, not state: it is shared by the
/// clones of the page state (each action clones it) and never makes two states differ.
#[derive(Clone, Default)]
pub struct TextCache(Rc<RefCell<LiteMap<u64, Rc<Described>>>>);

impl PartialEq for TextCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for TextCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TextCache({} entries)", self.0.borrow().len())
    }
}

impl TextCache {
    /// Builds with the texts of the last build at hand; afterwards the cache holds the
    /// entries this build looked up, and only those.
    fn build<R>(&self, f: impl FnOnce(&mut TextLookup) -> R) -> R {
        let mut lookup = TextLookup {
            old: std::mem::take(&mut *self.0.borrow_mut()),
            new: LiteMap::new(),
        };
        let out = f(&mut lookup);
        *self.0.borrow_mut() = lookup.new;
        out
    }
}

struct TextLookup {
    old: LiteMap<u64, Rc<Described>>,
    new: LiteMap<u64, Rc<Described>>,
}

impl TextLookup {
    fn get(&mut self, e: &LogEntry) -> Rc<Described> {
        if let Some(d) = self.new.get(&e.index) {
            if d.entry == *e {
                return d.clone();
            }
        }
        let d = match self.old.remove(&e.index) {
            Some(d) if d.entry == *e => d,
            _ => Rc::new(Described::of(e)),
        };
        self.new.insert(e.index, d.clone());
        d
    }
}

/// The virtual time to show: the replay clock while playing through the recorded future,
/// the world's clock otherwise.
pub fn clock_ms(bus: &Bus, ui: &TimelineUi) -> u64 {
    match ui.replay_clock {
        Some((len, ms)) if len == bus.log().len() && len < bus.timeline_len() => {
            ms.max(bus.elapsed_ms())
        }
        _ => bus.elapsed_ms(),
    }
}

/// Advancing virtual time by `ms` (a tick's `scale`d wall time, or a step), recorded part
/// first. After a jump back this replays the recorded future (the console lines typed in
/// it included) up to the new time, and only past its end does the simulation go on by
/// itself; anything the user does meanwhile replaces the rest of that future, by the bus's
/// own rule.
///
/// Returns the milliseconds still to run live past the recording's end (0 while the
/// recording still reaches beyond the new time). The caller runs those, so things that
/// act on live time (the load generator) get their turn.
pub fn replay(bus: &mut Bus, ui: &mut TimelineUi, ms: u64) -> u64 {
    let target = clock_ms(bus, ui) + ms;
    let visible = bus.log().len();
    ui.replay_clock = None;
    if visible < bus.timeline_len() {
        let timeline = bus.timeline();
        let due = visible
            + timeline
                .range(visible..)
                .partition_point(|e| e.time <= target);
        if due > visible {
            // `due - 1` exists: it is below the timeline's length.
            let _ = bus.jump_to(due - 1);
        }
        if bus.log().len() < bus.timeline_len() {
            ui.replay_clock = Some((bus.log().len(), target));
            return 0;
        }
    }
    target.saturating_sub(bus.elapsed_ms())
}

/// Time travel to just after event `index` (the end of the step that recorded it).
pub fn jump(bus: &mut Bus, index: usize) -> Result<(), String> {
    bus.jump_to(index)
}

/// What the transport bar shows.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineView {
    pub clock_ms: u64,
    /// Events visible now (the log up to the current point of the timeline).
    pub visible: usize,
    /// Events in the whole recorded timeline.
    pub total: usize,
    pub speed: u32,
    pub paused: bool,
    pub selected: Option<u64>,
    pub theme: Option<Theme>,
}

impl TimelineView {
    /// Index of the newest visible event (what the slider points at).
    pub fn position(&self) -> usize {
        self.visible.saturating_sub(1)
    }

    /// Whether there is a recorded future ahead (after a jump back).
    pub fn in_past(&self) -> bool {
        self.visible < self.total
    }
}

pub fn timeline_view(bus: &Bus, ui: &TimelineUi, speed: u32, paused: bool) -> TimelineView {
    TimelineView {
        clock_ms: clock_ms(bus, ui),
        visible: bus.log().len(),
        total: bus.timeline_len(),
        speed,
        paused,
        selected: ui.selected,
        theme: ui.theme,
    }
}

// ------------------------------------------------------------------ event list

#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub index: u64,
    pub time: String,
    pub server: Option<ServerId>,
    pub class: EventClass,
    /// A friendly rendering, cut to [`ROW_TEXT_CHARS`].
    pub text: String,
    /// The tooltip: the whole friendly text, or for the selected row the canonical log
    /// line with its annotation (built for that one row only: it hashes long chunks).
    pub title: String,
    pub selected: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EventLogView {
    pub rows: Vec<EventRow>,
    /// Position of `rows[0]` among the filtered events.
    pub first: usize,
    /// Filtered events in the visible log.
    pub total: usize,
    /// Events in the visible log, filtered or not.
    pub unfiltered: usize,
    /// Whether the list follows the newest event.
    pub following: bool,
    pub selected: Option<u64>,
    /// The selected event's position among the filtered events, if it passes the filter.
    pub selected_row: Option<usize>,
    pub filter: LogFilter,
    /// `(id, "s0 master (6380)")` for the server filter.
    pub servers: Vec<(ServerId, String)>,
}

/// The rows to build for a list of `total` rows scrolled to `first_visible` (`None`: the
/// end, [`LOG_FOLLOW_WINDOW`] rows): [`LOG_WINDOW`] rows, a quarter of them above the
/// first visible one so scrolling up a little needs no new window.
pub fn log_window(total: usize, first_visible: Option<usize>) -> Range<usize> {
    match first_visible {
        None => total.saturating_sub(LOG_FOLLOW_WINDOW)..total,
        Some(first) => {
            let start = first
                .min(total)
                .saturating_sub(LOG_WINDOW / 4)
                .min(total.saturating_sub(LOG_WINDOW));
            start..(start + LOG_WINDOW).min(total)
        }
    }
}

/// Position of event `index` among the events `filter` accepts, if it is one of them.
pub fn filtered_position(log: LogView<'_>, filter: &LogFilter, index: u64) -> Option<usize> {
    let e = log.get(index as usize)?;
    if !filter.accepts(e) {
        return None;
    }
    if filter.is_empty() {
        return Some(index as usize);
    }
    Some(
        log.range(..index as usize)
            .iter()
            .filter(|e| filter.accepts(e))
            .count(),
    )
}

pub fn event_log_view(bus: &Bus, ui: &TimelineUi) -> EventLogView {
    let log = bus.log();
    let filter = &ui.filter;
    // One pass: count the accepted events and keep the indices of those in the window.
    // The window depends on the count only when following the end, so count first then.
    let total = if filter.is_empty() {
        log.len()
    } else {
        log.iter().filter(|e| filter.accepts(e)).count()
    };
    let window = log_window(total, ui.log_scroll);
    let indices: Vec<usize> = if filter.is_empty() {
        window.clone().collect()
    } else {
        log.iter()
            .enumerate()
            .filter(|(_, e)| filter.accepts(e))
            .skip(window.start)
            .take(window.len())
            .map(|(i, _)| i)
            .collect()
    };
    let rows = ui.log_texts.build(|texts| {
        indices
            .into_iter()
            .map(|i| {
                let e = &log[i];
                let selected = ui.selected == Some(e.index);
                let d = texts.get(e);
                EventRow {
                    index: e.index,
                    time: format_ms(e.time),
                    server: e.server,
                    class: EventClass::of(&e.kind),
                    text: cut(&d.text, ROW_TEXT_CHARS),
                    title: if selected {
                        e.annotated_line()
                    } else {
                        d.text.clone()
                    },
                    selected,
                }
            })
            .collect()
    });
    EventLogView {
        rows,
        first: window.start,
        total,
        unfiltered: log.len(),
        following: ui.log_scroll.is_none(),
        selected: ui.selected,
        selected_row: ui.selected.and_then(|i| filtered_position(log, filter, i)),
        filter: filter.clone(),
        servers: bus
            .servers()
            .iter()
            .enumerate()
            .map(|(id, s)| (id, format!("s{id} {} ({})", s.name, s.port)))
            .collect(),
    }
}

fn cut(s: &str, chars: usize) -> String {
    if s.chars().count() > chars {
        format!("{}…", s.chars().take(chars).collect::<String>())
    } else {
        s.to_string()
    }
}

/// An event in a few friendly words: `s0 → s1 c3 42B SET k v [offset 100..142]`.
pub fn describe(e: &LogEntry) -> String {
    match &e.kind {
        LogKind::Deliver { data, .. } => describe_with(e, &summarize(data)),
        _ => describe_with(e, ""),
    }
}

/// [`describe`], given the [`summarize`] of a delivered chunk.
fn describe_with(e: &LogEntry, summary: &str) -> String {
    let on = e.server.map(|s| format!("s{s}")).unwrap_or_default();
    let offsets = e
        .repl_offsets
        .map(|(a, b)| format!(" [offset {a}..{b}]"))
        .unwrap_or_default();
    match &e.kind {
        LogKind::Deliver { conn, from, data } => {
            let from = from.map_or("console".to_string(), |f| format!("s{f}"));
            let what = if summary.is_empty() {
                String::new()
            } else {
                format!(" {summary}")
            };
            format!("{from} → {on} c{conn} {}B{what}{offsets}", data.len())
        }
        LogKind::Reply { data } => format!("{on} → console {}", summarize(data)),
        LogKind::ConsoleInput { line } => format!("{on} console> {line}"),
        LogKind::Engine(Event::SyncDecision(d)) => {
            let how = if d.partial {
                "partial resync (+CONTINUE)"
            } else {
                "full resync (+FULLRESYNC)"
            };
            format!(
                "{on} {} {} {} from {}: {how}; {}",
                d.command,
                short_id(&d.requested_replid),
                d.requested_offset,
                d.replica,
                d.reason
            )
        }
        LogKind::Engine(Event::LinkState { state }) => {
            format!("{on} replica link: {state:?} ({})", state.role_word())
        }
        LogKind::Engine(Event::Role { role }) => {
            format!(
                "{on} is now a {}",
                if *role == Role::Master {
                    "master"
                } else {
                    "replica"
                }
            )
        }
        LogKind::Engine(Event::Log(line)) => format!("{on} log: {line}"),
        LogKind::Engine(Event::Shutdown) => format!("{on} shut down"),
        LogKind::Connect { conn, host, port } => format!("{on} connects c{conn} → {host}:{port}"),
        LogKind::Accepted { conn, from } => format!("{on} accepts c{conn} from s{from}"),
        LogKind::Connected { conn } => format!("{on} connected c{conn}"),
        LogKind::ConnectFailed { conn, reason } => format!("{on} c{conn} connect failed: {reason}"),
        LogKind::Closed { conn, reason } => format!("{on} c{conn} closed ({reason})"),
        LogKind::Drained { conn, bytes } => format!("{on} c{conn} {bytes}B left the send buffer"),
        _ => {
            // The canonical line says the rest well: drop its `#i t=… sN` prefix.
            let line = e.line();
            let prefix = format!("#{} t={}", e.index, e.time);
            let rest = line.strip_prefix(&prefix).unwrap_or(&line).trim_start();
            rest.to_string()
        }
    }
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// What a chunk of RESP says, shortly: the commands it carries (`SET "k" "v"`), a reply's
/// first line (`+FULLRESYNC …`), `bulk 475B` for a bulk reply, `RDB …` for a snapshot's
/// start; empty when the chunk starts mid-message (a later piece of a snapshot).
pub fn summarize(data: &[u8]) -> String {
    const SHOWN: usize = 3;
    match reply_kind(data) {
        ReplyKind::Array => {
            let mut rest = data;
            let mut commands = Vec::new();
            let mut count = 0;
            while let Scan::Command { len, .. } = scan_command(rest) {
                if commands.len() < SHOWN {
                    commands.push(render_command(command_args(rest)));
                }
                count += 1;
                rest = &rest[len..];
            }
            if count > SHOWN {
                commands.push(format!("+{} more", count - SHOWN));
            }
            commands.join("; ")
        }
        ReplyKind::Rdb { len: None } => "RDB (diskless, EOF-marked)".to_string(),
        ReplyKind::Rdb { len: Some(len) } => format!("RDB {len}B"),
        ReplyKind::Bulk { len, .. } => format!("bulk {len}B"),
        ReplyKind::Line => first_line(data),
        ReplyKind::Other if !data.is_empty() && data.iter().all(|&b| b == b'\n') => {
            "newline (keeps the link alive)".to_string()
        }
        ReplyKind::Other => String::new(),
    }
}

fn first_line(data: &[u8]) -> String {
    let end = data
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(data.len());
    String::from_utf8_lossy(&data[..end.min(80)]).into_owned()
}

fn render_command(args: CommandArgs) -> String {
    let mut out = String::new();
    for (i, a) in args.enumerate() {
        if i == 0 {
            out.push_str(&String::from_utf8_lossy(a).to_ascii_uppercase());
        } else {
            out.push(' ');
            let q = quote(a);
            let plain = !q[1..q.len() - 1].contains([' ', '\\', '"']) && !a.is_empty();
            out.push_str(if plain { &q[1..q.len() - 1] } else { &q });
        }
        if out.len() > 60 {
            out.push('…');
            break;
        }
    }
    out
}

// ------------------------------------------------------------------ space-time diagram

#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub server: ServerId,
    pub label: String,
}

/// A message between two servers: from its send to its arrival.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// The delivery's log index.
    pub index: u64,
    pub from: ServerId,
    pub to: ServerId,
    /// Rows of the diagram (Lamport order: the log's order, with each send placed
    /// between the entries recorded before and after it).
    pub send_row: usize,
    pub recv_row: usize,
    pub send_ms: u64,
    pub recv_ms: u64,
    pub bytes: usize,
    pub label: String,
    /// Friendly text, for the tooltip and screen readers.
    pub title: String,
    pub selected: bool,
}

/// A non-message event worth marking on a lifeline: a sync decision, a role change, a
/// fault; or the selected event, whatever it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub index: u64,
    pub server: ServerId,
    pub row: usize,
    pub label: String,
    pub title: String,
    pub selected: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DiagramView {
    pub lanes: Vec<Lane>,
    pub arrows: Vec<Arrow>,
    pub marks: Vec<Mark>,
    pub rows: usize,
    /// Whether older messages exist before the window, and newer ones after it.
    pub older: bool,
    pub newer: bool,
    pub following: bool,
}

/// A delivery between two servers (console input has no lifeline of its own).
fn is_message(e: &LogEntry) -> bool {
    matches!(e.kind, LogKind::Deliver { from: Some(_), .. }) && e.server.is_some()
}

fn mark_label(e: &LogEntry) -> Option<String> {
    Some(match &e.kind {
        LogKind::Engine(Event::SyncDecision(d)) => {
            (if d.partial { "CONTINUE" } else { "FULLRESYNC" }).to_string()
        }
        LogKind::Engine(Event::Role { role: Role::Master }) => "→ master".to_string(),
        LogKind::Engine(Event::Role {
            role: Role::Replica,
        }) => "→ replica".to_string(),
        LogKind::Cut { .. } => "cut".to_string(),
        LogKind::Heal { .. } => "heal".to_string(),
        LogKind::Crashed => "crashed".to_string(),
        LogKind::Restarted { .. } => "restarted".to_string(),
        LogKind::Fault(f) => f
            .to_string()
            .split(' ')
            .next()
            .unwrap_or("fault")
            .to_string(),
        LogKind::ConsoleInput { line } => cut(line, 14),
        _ => return None,
    })
}

/// The messages the diagram shows: the newest [`DIAGRAM_MESSAGES`] up to `ui.diagram_end`.
pub fn diagram_view(bus: &Bus, ui: &TimelineUi) -> DiagramView {
    let log = bus.log();
    let end = match ui.diagram_end {
        Some(e) => (e as usize).min(log.len().saturating_sub(1)),
        None => log.len().saturating_sub(1),
    };
    let lanes: Vec<Lane> = bus
        .servers()
        .iter()
        .enumerate()
        .map(|(id, s)| Lane {
            server: id,
            label: format!("{} {}", s.name, s.port),
        })
        .collect();
    let mut picked: Vec<&LogEntry> = Vec::new();
    let mut i = end + 1;
    while i > 0 && picked.len() < DIAGRAM_MESSAGES && !log.is_empty() {
        i -= 1;
        if is_message(&log[i]) {
            picked.push(&log[i]);
        }
    }
    picked.reverse();
    let older = log.range(..i.min(log.len())).iter().rev().any(is_message);
    let newer = log.range((end + 1).min(log.len())..).iter().any(is_message);
    // Marks between the first arrow's send and the window's end.
    let first_pos = picked
        .iter()
        .map(|e| e.sent.map_or(e.index, |s| s.log_position.min(e.index)))
        .min()
        .unwrap_or(end as u64);
    let mut marked: Vec<&LogEntry> = Vec::new();
    if !log.is_empty() {
        for e in log.range(first_pos as usize..=end).iter().rev() {
            let selected = ui.selected == Some(e.index);
            if e.server.is_some()
                && !is_message(e)
                && (selected || (mark_label(e).is_some() && marked.len() < DIAGRAM_MARKS))
            {
                marked.push(e);
            }
        }
    }
    marked.reverse();
    // Rows: each event at 2×index, each send just before the entry recorded after it.
    let send_key = |e: &LogEntry| {
        e.sent.map_or(2 * e.index, |s| {
            (2 * s.log_position).saturating_sub(1).min(2 * e.index)
        })
    };
    let mut keys: Vec<u64> = picked
        .iter()
        .flat_map(|e| [send_key(e), 2 * e.index])
        .collect();
    keys.extend(marked.iter().map(|e| 2 * e.index));
    sort::sort(&mut keys);
    keys.dedup();
    let row = |k: u64| keys.binary_search(&k).unwrap_or(0);
    let (arrows, marks) = ui.diagram_texts.build(|texts| {
        let arrows: Vec<Arrow> = picked
            .iter()
            .map(|e| {
                let LogKind::Deliver {
                    from: Some(from),
                    data,
                    ..
                } = &e.kind
                else {
                    unreachable!("only messages are picked")
                };
                let d = texts.get(e);
                let label = if d.summary.is_empty() {
                    format!("{}B", data.len())
                } else {
                    cut(&d.summary, ARROW_LABEL_CHARS)
                };
                Arrow {
                    index: e.index,
                    from: *from,
                    to: e.server.unwrap_or(0),
                    send_row: row(send_key(e)),
                    recv_row: row(2 * e.index),
                    send_ms: e.sent.map_or(e.time, |s| s.time),
                    recv_ms: e.time,
                    bytes: data.len(),
                    label,
                    title: format!(
                        "#{} {} (sent {}, arrived {})",
                        e.index,
                        cut(&d.text, 120),
                        format_ms(e.sent.map_or(e.time, |s| s.time)),
                        format_ms(e.time)
                    ),
                    selected: ui.selected == Some(e.index),
                }
            })
            .collect();
        let marks: Vec<Mark> = marked
            .iter()
            .map(|e| Mark {
                index: e.index,
                server: e.server.unwrap_or(0),
                row: row(2 * e.index),
                label: mark_label(e)
                    .unwrap_or_else(|| EventClass::of(&e.kind).as_str().to_string()),
                title: format!("#{} {}", e.index, cut(&texts.get(e).text, 120)),
                selected: ui.selected == Some(e.index),
            })
            .collect();
        (arrows, marks)
    });
    DiagramView {
        lanes,
        arrows,
        marks,
        rows: keys.len(),
        older,
        newer,
        following: ui.diagram_end.is_none(),
    }
}

/// Which way the diagram's window moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagramScroll {
    Older,
    Newer,
    Newest,
}

/// Moves the diagram's window by half its messages (or back to following the newest).
pub fn scroll_diagram(bus: &Bus, ui: &mut TimelineUi, dir: DiagramScroll) {
    let log = bus.log();
    let view = diagram_view(bus, ui);
    ui.diagram_end = match dir {
        DiagramScroll::Newest => None,
        DiagramScroll::Older => match view.arrows.get(view.arrows.len() / 2) {
            Some(a) if view.older || view.arrows.len() > 1 => Some(a.index.saturating_sub(1)),
            _ => ui.diagram_end,
        },
        DiagramScroll::Newer => {
            let from = view.arrows.last().map_or(0, |a| a.index as usize + 1);
            end_after_messages(log, from, DIAGRAM_MESSAGES / 2)
        }
    };
}

/// The log index where `count` more messages from `from` end; `None` if the log ends first.
fn end_after_messages(log: LogView<'_>, from: usize, count: usize) -> Option<u64> {
    let mut seen = 0;
    for e in log.range(from.min(log.len())..) {
        if is_message(e) {
            seen += 1;
            if seen == count {
                return Some(e.index);
            }
        }
    }
    None
}

/// Selects an event (or nothing) and brings it into view in both the list and the
/// diagram, so a click on either one highlights the other.
pub fn select(bus: &Bus, ui: &mut TimelineUi, index: Option<u64>) {
    ui.selected = index.filter(|&i| (i as usize) < bus.log().len());
    let Some(i) = ui.selected else { return };
    let log = bus.log();
    if let Some(pos) = filtered_position(log, &ui.filter, i) {
        let window = log_window(event_log_total(log, &ui.filter), ui.log_scroll);
        if !window.contains(&pos) {
            ui.log_scroll = Some(pos);
        }
    }
    let e = &log[i as usize];
    let view = diagram_view(bus, ui);
    let shown = view.arrows.iter().any(|a| a.index == i) || view.marks.iter().any(|m| m.index == i);
    if !shown && e.server.is_some() {
        // Centre it: half a window of messages after it, if the log has them.
        ui.diagram_end = end_after_messages(log, i as usize + 1, DIAGRAM_MESSAGES / 2)
            .or(Some(log.len() as u64 - 1));
        if ui.diagram_end == Some(log.len() as u64 - 1) {
            ui.diagram_end = None;
        }
    }
}

fn event_log_total(log: LogView<'_>, filter: &LogFilter) -> usize {
    if filter.is_empty() {
        log.len()
    } else {
        log.iter().filter(|e| filter.accepts(e)).count()
    }
}

/// The list's filter changed: keep the selection in view if it still passes.
pub fn set_filter(bus: &Bus, ui: &mut TimelineUi, filter: LogFilter) {
    ui.filter = filter;
    ui.log_scroll = ui
        .selected
        .and_then(|i| filtered_position(bus.log(), &ui.filter, i));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::state::{Action, Sim};

    #[test]
    fn speeds_format_step_and_scale_exactly() {
        assert_eq!(
            SPEEDS.map(format_speed),
            ["0.1×", "0.25×", "0.5×", "1×", "2×", "5×", "10×", "25×", "50×", "100×"]
        );
        assert_eq!(next_speed(100, true), 200);
        assert_eq!(next_speed(100, false), 50);
        assert_eq!(next_speed(10, false), 10, "the slowest stays");
        assert_eq!(next_speed(10_000, true), 10_000, "the fastest stays");
        assert_eq!(
            next_speed(150, true),
            200,
            "an unoffered speed moves to the next offered one"
        );
        // 0.25× of 33 ms ticks: 8.25 ms each; four of them are exactly 33 ms.
        let mut carry = 0;
        let steps: Vec<u64> = (0..4).map(|_| scale(33, 25, &mut carry)).collect();
        assert_eq!(steps, [8, 8, 8, 9]);
        assert_eq!(carry, 0);
        // 0.1× of 1 ms ticks: nothing is lost over a thousand ticks.
        let mut carry = 0;
        let total: u64 = (0..1000).map(|_| scale(1, 10, &mut carry)).sum();
        assert_eq!(total, 100);
        let mut carry = 0;
        assert_eq!(scale(50, 10_000, &mut carry), 5_000);
    }

    #[test]
    fn ticks_at_a_quarter_speed_advance_the_exact_virtual_time() {
        let mut sim = Sim::new();
        sim.apply(Action::SetSpeed(25));
        for _ in 0..40 {
            sim.apply(Action::Tick(33));
        }
        assert_eq!(sim.elapsed_ms(), 330, "40 × 33 ms × 0.25");
        sim.apply(Action::SetSpeed(3));
        assert_eq!(sim.speed_pct, 25, "only the offered speeds");
    }

    /// A run with a SET and its propagation, then time for the acks.
    fn run_with_a_set() -> Sim {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        sim.apply(Action::Step(200));
        sim
    }

    #[test]
    fn scrubbing_to_an_event_gives_the_state_of_a_straight_run_to_it() {
        let sim = run_with_a_set();
        let set_at = sim
            .bus()
            .log()
            .iter()
            .position(|e| matches!(&e.kind, LogKind::ConsoleInput { line } if line == "SET k v"))
            .unwrap();
        let initial = Sim::new().bus().log().len();
        let last = sim.bus().log().len() - 1;
        for target in [
            initial,
            (initial + set_at) / 2,
            set_at - 1,
            set_at + 5,
            last,
        ] {
            let mut scrubbed = sim.clone();
            scrubbed.apply(Action::JumpTo(target));
            let visible = scrubbed.bus().log().len();
            assert!(visible > target, "the event itself is visible");
            // The straight run: the same inputs, stepping event by event to the same point.
            let mut straight = Sim::new();
            if visible > set_at {
                straight.apply(Action::Step(8_000));
                straight.apply(Action::SubmitCommand {
                    server: 0,
                    line: "SET k v".into(),
                });
            }
            while straight.bus().log().len() < visible {
                straight.apply(Action::StepEvent);
            }
            assert_eq!(straight.bus().log().len(), visible);
            assert_eq!(
                scrubbed.bus().state_digest(),
                straight.bus().state_digest(),
                "state at event #{target}"
            );
            assert_eq!(scrubbed.bus().log_hash(), straight.bus().log_hash());
        }
    }

    #[test]
    fn playing_after_a_jump_back_replays_the_recorded_future() {
        // (A cloned Sim shares its bus: each run here is built on its own.)
        let mut replay = run_with_a_set();
        let (hash, total, set_end) = (
            replay.bus().log_hash(),
            replay.bus().timeline_len(),
            replay.elapsed_ms(),
        );
        replay.apply(Action::JumpTo(40));
        assert!(replay.paused, "a jump pauses");
        let before = replay.timeline_view().clock_ms;
        replay.apply(Action::SetPaused(false));
        replay.apply(Action::Tick(10));
        let view = replay.timeline_view();
        assert_eq!(
            view.clock_ms,
            before + 10,
            "the clock moves between recorded events too"
        );
        assert_eq!(view.total, total, "the recorded future is kept");
        for _ in 0..100 {
            replay.apply(Action::Tick(MAX_TICK));
        }
        // The console line typed in the future was replayed: the master has k.
        assert_eq!(
            replay.bus().server(0).node.keyspace().dbs[0].entries.len(),
            1
        );
        assert_eq!(
            crate::bus::hash_entries(replay.bus().log().range(..total)),
            hash,
            "the same run, replayed"
        );
        let mut straight = run_with_a_set();
        straight.apply(Action::Step(replay.elapsed_ms() - set_end));
        assert_eq!(replay.bus().state_digest(), straight.bus().state_digest());
    }

    const MAX_TICK: u64 = crate::ui::state::MAX_TICK_MS;

    #[test]
    fn the_list_window_follows_the_end_or_the_scroll() {
        assert_eq!(log_window(30, None), 0..30);
        assert_eq!(
            log_window(100_000, None),
            99_960..100_000,
            "following the end draws fewer rows"
        );
        assert_eq!(log_window(100_000, Some(0)), 0..200);
        assert_eq!(log_window(100_000, Some(10_000)), 9_950..10_150);
        assert_eq!(
            log_window(100_000, Some(99_990)),
            99_800..100_000,
            "the window never runs past the end"
        );
        assert_eq!(log_window(0, Some(5)), 0..0);
    }

    #[test]
    fn a_long_run_builds_only_a_window_of_rows() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        for i in 0..300 {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: format!("SET k{i} {i}"),
            });
        }
        sim.apply(Action::Step(100));
        let view = sim.event_log_view();
        assert!(view.total > LOG_WINDOW * 4, "{}", view.total);
        assert_eq!(view.rows.len(), LOG_FOLLOW_WINDOW);
        assert_eq!(
            view.first + LOG_FOLLOW_WINDOW,
            view.total,
            "following the newest"
        );
        assert_eq!(view.rows.last().unwrap().index as usize, view.total - 1);

        sim.apply(Action::ScrollLog(Some(500)));
        let view = sim.event_log_view();
        assert_eq!(view.first, 450);
        assert_eq!(view.rows[0].index, 450);
        assert_eq!(view.rows.len(), LOG_WINDOW, "scrolled up: a whole window");

        // Only the master's console lines.
        let hidden = vec![
            EventClass::Message,
            EventClass::Sync,
            EventClass::Link,
            EventClass::Fault,
            EventClass::Server,
        ];
        sim.apply(Action::SetLogFilter(LogFilter {
            server: Some(0),
            hidden,
        }));
        sim.apply(Action::ScrollLog(None));
        let view = sim.event_log_view();
        assert!(view
            .rows
            .iter()
            .all(|r| r.class == EventClass::Console && r.server == Some(0)));
        assert_eq!(
            view.rows
                .iter()
                .filter(|r| r.text.starts_with("s0 console> SET"))
                .count(),
            LOG_FOLLOW_WINDOW / 2
        );
        assert_eq!(view.total, 600, "300 lines and their replies");
    }

    /// The list and the diagram built from the texts kept since the last redraw equal
    /// those built afresh.
    fn assert_same_as_fresh(sim: &Sim) {
        let fresh = TimelineUi {
            log_texts: TextCache::default(),
            diagram_texts: TextCache::default(),
            ..sim.timeline.clone()
        };
        assert_eq!(sim.event_log_view(), event_log_view(&sim.bus(), &fresh));
        assert_eq!(sim.diagram_view(), diagram_view(&sim.bus(), &fresh));
    }

    #[test]
    fn kept_texts_never_outlive_the_entries_they_describe() {
        let mut sim = run_with_a_set();
        assert_same_as_fresh(&sim);
        let mid = sim.bus().log().len() - 1;
        for i in 0..20 {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: format!("SET k{i} first-{i}"),
            });
            sim.apply(Action::Step(3));
            assert_same_as_fresh(&sim);
        }
        // Rows show the friendly text, the selected one the canonical line.
        let view = sim.event_log_view();
        let last = view.rows.last().unwrap().clone();
        assert_eq!(last.title, describe(&sim.bus().log()[last.index as usize]));
        sim.apply(Action::SelectEvent(Some(last.index)));
        let row = sim
            .event_log_view()
            .rows
            .into_iter()
            .find(|r| r.index == last.index)
            .unwrap();
        assert!(row.selected && row.title == sim.bus().log()[last.index as usize].annotated_line());
        // Back in time, then a different future over the same indices: same times, other
        // values; the views are built only once it has grown past where they were.
        sim.apply(Action::JumpTo(mid));
        for i in 0..20 {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: format!("SET k{i} other-{i}"),
            });
            sim.apply(Action::Step(3));
        }
        assert_same_as_fresh(&sim);
        assert!(sim
            .event_log_view()
            .rows
            .iter()
            .any(|r| r.text.contains("other-19")));
        assert!(!sim
            .event_log_view()
            .rows
            .iter()
            .any(|r| r.text.contains("first-")));
    }

    #[test]
    fn the_diagram_shows_a_set_and_its_propagation() {
        let sim = run_with_a_set();
        let view = sim.diagram_view();
        assert_eq!(view.lanes.len(), 3);
        assert_eq!(view.lanes[0].label, "master 6380");
        assert!(view.arrows.len() <= DIAGRAM_MESSAGES);
        let set: Vec<&Arrow> = view
            .arrows
            .iter()
            .filter(|a| a.label.contains("SET k v"))
            .collect();
        assert_eq!(
            set.len(),
            2,
            "one SET to each replica: {:?}",
            view.arrows.iter().map(|a| &a.label).collect::<Vec<_>>()
        );
        for a in &set {
            assert_eq!(a.from, 0);
            assert!(
                a.send_row < a.recv_row,
                "an arrow goes down the page, from send to arrival"
            );
            assert!(a.send_ms < a.recv_ms, "1 ms of latency");
            assert!(a.title.contains("[offset"), "{}", a.title);
        }
        let replicas: Vec<ServerId> = set.iter().map(|a| a.to).collect();
        assert_eq!(replicas, [1, 2]);
        // The acks that follow go the other way.
        assert!(view
            .arrows
            .iter()
            .any(|a| a.from == 1 && a.to == 0 && a.label.starts_with("REPLCONF ACK")));
        // Rows are dense and every arrow's rows are in range.
        assert!(view
            .arrows
            .iter()
            .all(|a| a.recv_row < view.rows && a.send_row < view.rows));
        assert!(view.following && view.older && !view.newer);
        // The event list says it the same way.
        let text = describe(&sim.bus().log()[set[0].index as usize]);
        assert!(text.starts_with("s0 → s1 c"), "{text}");
        assert!(
            text.contains("B SELECT 0; SET k v [offset 0..50]"),
            "the first write carries its SELECT: {text}"
        );
    }

    #[test]
    fn selecting_in_either_view_highlights_both() {
        let mut sim = run_with_a_set();
        // Clicking an arrow selects its row in the list.
        let arrow = sim
            .diagram_view()
            .arrows
            .iter()
            .find(|a| a.label.contains("SET"))
            .unwrap()
            .clone();
        sim.apply(Action::SelectEvent(Some(arrow.index)));
        let list = sim.event_log_view();
        let rows: Vec<u64> = list
            .rows
            .iter()
            .filter(|r| r.selected)
            .map(|r| r.index)
            .collect();
        assert_eq!(rows, [arrow.index]);
        assert!(sim
            .diagram_view()
            .arrows
            .iter()
            .any(|a| a.index == arrow.index && a.selected));

        // Clicking an old row (the first handshake's PING) scrolls the diagram back to it.
        let ping = sim
            .bus()
            .log()
            .iter()
            .find(|e| {
                is_message(e)
                    && summarize(match &e.kind {
                        LogKind::Deliver { data, .. } => data,
                        _ => unreachable!(),
                    }) == "PING"
            })
            .unwrap()
            .index;
        assert!(
            !sim.diagram_view().arrows.iter().any(|a| a.index == ping),
            "the first PING is out of the window"
        );
        sim.apply(Action::SelectEvent(Some(ping)));
        let view = sim.diagram_view();
        assert!(!view.following && view.newer);
        let selected: Vec<u64> = view
            .arrows
            .iter()
            .filter(|a| a.selected)
            .map(|a| a.index)
            .collect();
        assert_eq!(selected, [ping]);
        assert_eq!(sim.event_log_view().selected_row, Some(ping as usize));
        assert!(sim
            .event_log_view()
            .rows
            .iter()
            .any(|r| r.index == ping && r.selected));

        // A selected event that is not a message is marked on its lifeline.
        let decision = sim
            .bus()
            .log()
            .iter()
            .find(|e| matches!(e.kind, LogKind::Engine(Event::SyncDecision(_))))
            .unwrap()
            .index;
        sim.apply(Action::SelectEvent(Some(decision)));
        let view = sim.diagram_view();
        assert!(view
            .marks
            .iter()
            .any(|m| m.index == decision && m.selected && m.label == "FULLRESYNC"));

        // Scrolling the diagram back to the newest, and a selection past the log is none.
        sim.apply(Action::ScrollDiagram(DiagramScroll::Newest));
        assert!(sim.diagram_view().following);
        sim.apply(Action::SelectEvent(Some(u64::MAX)));
        assert_eq!(sim.timeline.selected, None);
    }

    #[test]
    fn the_diagram_pages_back_and_forth() {
        let mut sim = run_with_a_set();
        let newest = sim.diagram_view();
        sim.apply(Action::ScrollDiagram(DiagramScroll::Older));
        let older = sim.diagram_view();
        assert!(older.newer && !older.following);
        assert!(older.arrows.last().unwrap().index < newest.arrows.last().unwrap().index);
        sim.apply(Action::ScrollDiagram(DiagramScroll::Newer));
        sim.apply(Action::ScrollDiagram(DiagramScroll::Newer));
        assert!(
            sim.diagram_view().following,
            "paging past the newest follows it again"
        );
    }

    #[test]
    fn resp_summaries_are_short_and_never_panic() {
        assert_eq!(
            summarize(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"),
            "SET k v"
        );
        assert_eq!(
            summarize(b"*1\r\n$4\r\nping\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"),
            "PING; SELECT 0"
        );
        assert_eq!(
            summarize(b"*3\r\n$3\r\nSET\r\n$3\r\na b\r\n$0\r\n\r\n"),
            "SET \"a b\" \"\""
        );
        assert_eq!(summarize(b"+FULLRESYNC 0123 0\r\n"), "+FULLRESYNC 0123 0");
        assert_eq!(
            summarize(b"$EOF:abc\r\nREDIS0009"),
            "RDB (diskless, EOF-marked)"
        );
        assert_eq!(summarize(b"\n"), "newline (keeps the link alive)");
        assert_eq!(summarize(b"REDIS0009\xfa"), "");
        for bad in [
            &b"*"[..],
            b"*9\r\n",
            b"*1\r\n$99\r\nab\r\n",
            b"*-1\r\n",
            b"$",
            b"+",
            b"",
        ] {
            let _ = summarize(bad);
        }
        let many: Vec<u8> = (0..5)
            .flat_map(|_| b"*1\r\n$4\r\nPING\r\n".to_vec())
            .collect();
        assert_eq!(summarize(&many), "PING; PING; PING; +2 more");
        assert_eq!(format_ms(61_005), "01:01.005");
    }

    #[test]
    fn an_info_reply_is_named_a_bulk_reply_and_a_snapshot_an_rdb() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "INFO replication".into(),
        });
        let bus = sim.bus();
        let info = bus
            .log()
            .iter()
            .rev()
            .find(|e| matches!(e.kind, LogKind::Reply { .. }))
            .unwrap();
        let LogKind::Reply { data } = &info.kind else {
            unreachable!()
        };
        let (header, body) = std::str::from_utf8(data)
            .unwrap()
            .split_once("\r\n")
            .unwrap();
        assert!(body.starts_with("# Replication"), "{body}");
        assert_eq!(
            describe(info),
            format!("s0 → console bulk {}B", &header[1..])
        );
        // The snapshot a replica received after +FULLRESYNC (sent at the fork, the
        // payload once the BGSAVE child has written it) is still called one.
        let payload = bus
            .log()
            .iter()
            .find_map(|e| match &e.kind {
                LogKind::Deliver { data, .. } if data.starts_with(b"$") => {
                    let end = data.windows(2).position(|w| w == b"\r\n").unwrap();
                    data[end + 2..].starts_with(b"REDIS").then(|| data.to_vec())
                }
                _ => None,
            })
            .unwrap();
        assert!(
            summarize(&payload).starts_with("RDB "),
            "{}",
            summarize(&payload)
        );
    }
}
