//! The server panel: everything about the selected server (`sim.console.selected`) in
//! five tabs — its redis-cli console, its live `INFO replication` and `ROLE`, a keyspace
//! browser, an editor for the replication options, and a load generator.
//!
//! Two rules shape this file. What the panel *shows* is read from the engine directly
//! (`Node::info_replication`, `Node::role_reply`, the keyspace, the config), because
//! sending INFO or ROLE over the bus would add events to the log a user is studying.
//! What the panel *does* goes through the server's console like typed commands: a config
//! change is a `CONFIG SET` line (so it is in the transcript and the timeline), and the
//! load generator submits pipes of commands at fixed instants of virtual time, so that
//! time travel, which replays the bus's recorded moves, reproduces it exactly.

use super::console::{prompt_of, transcript, ConsoleUi, TranscriptLine};
use crate::bus::{format_reply, quote, Bus, ServerId};
use crate::engine::cfloat::fmt_g17;
use crate::engine::command::{stringmatch, subcommands, COMMANDS};
use crate::engine::config::lookup_option;
use crate::engine::keyspace::{is_expired, Entry, SetValue, Value};
use crate::engine::resp::{parse_reply, Reply};

/// Keys listed per page of the browser.
pub const KEYS_PER_PAGE: usize = 20;
/// Elements of an opened collection shown per page.
pub const ELEMENTS_PER_PAGE: usize = 20;
/// Escaped characters of a value shown in the key list.
pub const ROW_CHARS: usize = 60;
/// Escaped characters of a value (or element) shown in an opened key before "show all".
pub const DETAIL_CHARS: usize = 1_000;
/// Virtual milliseconds between two batches of the load generator.
/// The load generator's kinds of write (the scenario format's `generate` action).
pub use crate::scenario::generator::GenerateWrite as LoadKind;
use crate::scenario::generator::{GenerateSpec, Generator};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Tab {
    #[default]
    Console,
    Info,
    Keys,
    Config,
    Load,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Console, Tab::Info, Tab::Keys, Tab::Config, Tab::Load];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Console => "Console",
            Tab::Info => "INFO",
            Tab::Keys => "Keys",
            Tab::Config => "Config",
            Tab::Load => "Load",
        }
    }

    /// For ids and test selectors.
    pub fn slug(self) -> &'static str {
        match self {
            Tab::Console => "console",
            Tab::Info => "info",
            Tab::Keys => "keys",
            Tab::Config => "config",
            Tab::Load => "load",
        }
    }
}

/// What the user did in the panel (carried by `Action::Panel`).
#[derive(Clone, Debug, PartialEq)]
pub enum PanelAction {
    SelectTab(Tab),
    /// Tab (or Shift+Tab with `back`) in the console input.
    Complete {
        back: bool,
    },
    /// Escape during completion: the line as it was typed.
    CancelCompletion,
    KeysDb(usize),
    KeysPattern(String),
    KeysPage(usize),
    /// Opens a key (raw bytes) in the detail view, or closes it.
    OpenKey(Option<Vec<u8>>),
    ElementsPage(usize),
    /// Shows the opened key's values whole instead of cut.
    ShowAll(bool),
    ConfigEdit {
        name: &'static str,
        value: String,
    },
    ConfigApply {
        name: &'static str,
    },
    LoadForm(LoadForm),
    LoadStart,
    LoadStop,
}

/// The panel's own state, kept in the page state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PanelUi {
    pub tab: Tab,
    completion: Option<Completion>,
    keys: KeysUi,
    /// Values typed into the config editor, per server and option, until applied.
    config: Drafts,
    load: LoadUi,
}

/// Config drafts by (server, option): a vector kept sorted by key, a handful of entries,
/// rather than an ordered map whose B-tree code would be one more copy in the bundle.
#[derive(Clone, Debug, Default, PartialEq)]
struct Drafts(Vec<((ServerId, &'static str), ConfigDraft)>);

impl Drafts {
    fn get(&self, key: &(ServerId, &'static str)) -> Option<&ConfigDraft> {
        self.0
            .binary_search_by(|(k, _)| k.cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }

    fn insert(&mut self, key: (ServerId, &'static str), draft: ConfigDraft) {
        match self.0.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => self.0[i].1 = draft,
            Err(i) => self.0.insert(i, (key, draft)),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Completion {
    /// The line as typed before the first Tab.
    original: String,
    matches: Vec<String>,
    /// Index into `matches`; `matches.len()` shows the original line (linenoise does that
    /// after the last candidate, then starts over).
    index: usize,
    /// What the input holds now: any other edit ends the completion.
    shown: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct KeysUi {
    db: usize,
    pattern: String,
    page: usize,
    open: Option<Vec<u8>>,
    element_page: usize,
    show_all: bool,
}

#[derive(Clone, Debug, PartialEq)]
struct ConfigDraft {
    value: String,
    /// The console entry of the `CONFIG SET` sent for it: its index and its line.
    sent: Option<(usize, String)>,
    /// redis-cli's own complaint when the line could not be sent at all.
    refused: Option<String>,
}

// ------------------------------------------------------------------ reducer

/// What a panel action asks of the run: the page state carries it out and reports back.
#[derive(Clone, Debug, PartialEq)]
pub enum PanelEffect {
    /// Type `line` (a `CONFIG SET` of `name` to `value`) into `server`'s console, then
    /// tell [`PanelUi::config_sent`].
    ConfigSet {
        server: ServerId,
        name: &'static str,
        value: String,
        line: String,
    },
    /// Start the load generator on `server`, then tell [`PanelUi::load_started`].
    StartLoad {
        server: ServerId,
        spec: GenerateSpec,
    },
    StopLoad,
}

impl PanelUi {
    /// Applies what the user did in the panel to its own state and the console's, and
    /// returns what it asks of the run.
    pub fn apply(
        &mut self,
        console: &mut ConsoleUi,
        bus: &Bus,
        action: PanelAction,
    ) -> Option<PanelEffect> {
        match action {
            PanelAction::SelectTab(tab) => self.tab = tab,
            PanelAction::Complete { back } => self.complete(console, back),
            PanelAction::CancelCompletion => {
                if let Some(c) = self.completion.take() {
                    if console.draft == c.shown {
                        console.draft = c.original;
                    }
                }
            }
            PanelAction::KeysDb(db) => {
                let k = &mut self.keys;
                if db < 16 && k.db != db {
                    k.db = db;
                    k.page = 0;
                    k.open = None;
                }
            }
            PanelAction::KeysPattern(pattern) => {
                let k = &mut self.keys;
                k.pattern = pattern;
                k.page = 0;
            }
            PanelAction::KeysPage(page) => self.keys.page = page,
            PanelAction::OpenKey(key) => {
                let k = &mut self.keys;
                k.open = key;
                k.element_page = 0;
                k.show_all = false;
            }
            PanelAction::ElementsPage(page) => self.keys.element_page = page,
            PanelAction::ShowAll(all) => self.keys.show_all = all,
            PanelAction::ConfigEdit { name, value } => {
                self.config.insert(
                    (console.selected, name),
                    ConfigDraft {
                        value,
                        sent: None,
                        refused: None,
                    },
                );
            }
            PanelAction::ConfigApply { name } => {
                let server = console.selected;
                if !CONFIG_OPTIONS.iter().any(|o| o.name == name) {
                    return None;
                }
                let value = match self.config.get(&(server, name)) {
                    Some(d) => d.value.clone(),
                    None => current_value(bus, server, name),
                };
                let line = config_set_line(name, &value);
                return Some(PanelEffect::ConfigSet {
                    server,
                    name,
                    value,
                    line,
                });
            }
            PanelAction::LoadForm(form) => self.load.form = form,
            PanelAction::LoadStart => match self.load.form.parse() {
                Ok(spec) => {
                    return Some(PanelEffect::StartLoad {
                        server: console.selected,
                        spec,
                    })
                }
                Err(e) => self.load.error = Some(e),
            },
            PanelAction::LoadStop => return Some(PanelEffect::StopLoad),
        }
        None
    }

    /// A `CONFIG SET` line of [`PanelEffect::ConfigSet`] was typed as console entry
    /// `index`, or refused with redis-cli's complaint.
    pub fn config_sent(
        &mut self,
        server: ServerId,
        name: &'static str,
        value: String,
        sent: Result<(usize, String), String>,
    ) {
        let (sent, refused) = match sent {
            Ok(sent) => (Some(sent), None),
            Err(e) => (None, Some(e)),
        };
        self.config.insert(
            (server, name),
            ConfigDraft {
                value,
                sent,
                refused,
            },
        );
    }

    /// The load generator of [`PanelEffect::StartLoad`] started, or why not.
    pub fn load_started(&mut self, result: Result<(), String>) {
        self.load.error = result.err();
    }
}

// ------------------------------------------------------------------ console: completion

/// Every name redis-cli 7.0 would complete: the server's commands and, for the container
/// commands, `CONFIG SET`-style two-word names (redis-cli builds its list from the
/// server's COMMAND DOCS, subcommands included), upper-case and sorted with `strcmp` as
/// redis-cli sorts its help entries.
fn command_names() -> Vec<String> {
    let mut names = Vec::new();
    for c in COMMANDS {
        names.push(c.name.to_ascii_uppercase());
        for sub in subcommands(c.name).unwrap_or_default() {
            names.push(sub.name.replace('|', " ").to_ascii_uppercase());
        }
    }
    // An insertion sort (stable, as `sort` is): a few hundred names in nearly sorted
    // order, and no sort routine of its own in the page's bundle.
    for i in 1..names.len() {
        let mut j = i;
        while j > 0 && names[j - 1] > names[j] {
            names.swap(j - 1, j);
            j -= 1;
        }
    }
    names
}

/// The completions of a line, as redis-cli's `completionCallback` finds them: every
/// command whose name starts with the whole line, ignoring case (so `config s` finds
/// `CONFIG SET`, and a line with arguments finds nothing); after `help ` the command
/// named after it. The case follows what was typed: a lower-case word completes in lower
/// case, anything else in redis-cli's upper case.
pub fn completions(line: &str) -> Vec<String> {
    let (prefix, word) = match line.get(..5) {
        Some(h) if h.eq_ignore_ascii_case("help ") => {
            let rest = &line[5..];
            let start = line.len() - rest.trim_start().len();
            (&line[..start], &line[start..])
        }
        _ => ("", line),
    };
    let lower = word.bytes().any(|b| b.is_ascii_lowercase())
        && !word.bytes().any(|b| b.is_ascii_uppercase());
    command_names()
        .into_iter()
        .filter(|name| {
            name.len() >= word.len()
                && name.as_bytes()[..word.len()].eq_ignore_ascii_case(word.as_bytes())
        })
        .map(|name| {
            format!(
                "{prefix}{}",
                if lower {
                    name.to_ascii_lowercase()
                } else {
                    name
                }
            )
        })
        .collect()
}

impl PanelUi {
    fn complete(&mut self, console: &mut ConsoleUi, back: bool) {
        let draft = console.draft.clone();
        let c = match self.completion.take() {
            // Tab again on a line we completed: the next candidate.
            Some(mut c) if c.shown == draft => {
                let n = c.matches.len() + 1;
                c.index = if back {
                    (c.index + n - 1) % n
                } else {
                    (c.index + 1) % n
                };
                c
            }
            _ => {
                let matches = completions(&draft);
                if matches.is_empty() {
                    return;
                }
                let index = if back { matches.len() - 1 } else { 0 };
                Completion {
                    original: draft,
                    matches,
                    index,
                    shown: String::new(),
                }
            }
        };
        let shown = c
            .matches
            .get(c.index)
            .cloned()
            .unwrap_or_else(|| c.original.clone());
        console.draft = shown.clone();
        self.completion = Some(Completion { shown, ..c });
    }
}

// ------------------------------------------------------------------ config editor

/// An option of the editor: its name, the input it takes, and what it does.
pub struct ConfigOption {
    pub name: &'static str,
    pub input: ConfigInput,
    pub help: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigInput {
    YesNo,
    Choice(&'static [&'static str]),
    Text,
}

/// The replication options, in the order a reader meets them in replication.c.
pub static CONFIG_OPTIONS: &[ConfigOption] = &[
    ConfigOption {
        name: "repl-backlog-size",
        input: ConfigInput::Text,
        help: "bytes of stream kept for partial resyncs (1mb, 16kb minimum)",
    },
    ConfigOption {
        name: "repl-backlog-ttl",
        input: ConfigInput::Text,
        help: "seconds without replicas before the backlog is freed (0 = never)",
    },
    ConfigOption {
        name: "repl-diskless-sync",
        input: ConfigInput::YesNo,
        help: "stream the snapshot to replicas instead of writing it to disk",
    },
    ConfigOption {
        name: "repl-diskless-sync-delay",
        input: ConfigInput::Text,
        help: "seconds to wait for more replicas before a diskless sync starts",
    },
    ConfigOption {
        name: "repl-diskless-sync-max-replicas",
        input: ConfigInput::Text,
        help: "start at once when this many replicas wait (0 = no limit)",
    },
    ConfigOption {
        name: "repl-diskless-load",
        input: ConfigInput::Choice(&["disabled", "on-empty-db", "swapdb"]),
        help: "how a replica loads the snapshot it receives",
    },
    ConfigOption {
        name: "repl-timeout",
        input: ConfigInput::Text,
        help: "seconds of silence before a link is declared dead",
    },
    ConfigOption {
        name: "repl-ping-replica-period",
        input: ConfigInput::Text,
        help: "seconds between the master's PINGs into the stream",
    },
    ConfigOption {
        name: "min-replicas-to-write",
        input: ConfigInput::Text,
        help: "refuse writes with fewer good replicas than this (0 = off)",
    },
    ConfigOption {
        name: "min-replicas-max-lag",
        input: ConfigInput::Text,
        help: "seconds since its last ACK for a replica to count as good",
    },
    ConfigOption {
        name: "replica-read-only",
        input: ConfigInput::YesNo,
        help: "a replica refuses writes from clients",
    },
    ConfigOption {
        name: "replica-serve-stale-data",
        input: ConfigInput::YesNo,
        help: "a replica answers reads while its link is down",
    },
    ConfigOption {
        name: "client-output-buffer-limit",
        input: ConfigInput::Text,
        help: "replica class: hard limit, soft limit, soft seconds",
    },
    ConfigOption {
        name: "replscope-sync-protocol",
        input: ConfigInput::Choice(&["psync2", "psync1", "sync"]),
        help: "replscope's own: speak the protocol of an older Redis",
    },
];

/// `client-output-buffer-limit` is edited for the replica class only.
const COBL: &str = "client-output-buffer-limit";

/// The value the editor shows for an option: `CONFIG GET`'s, and for the output buffer
/// limits only the replica class's three numbers.
fn current_value(bus: &Bus, server: ServerId, name: &str) -> String {
    let Some(spec) = lookup_option(name) else {
        return String::new();
    };
    let value =
        String::from_utf8_lossy(&bus.server(server).node.config().get_option(spec)).into_owned();
    if name == COBL {
        let words: Vec<&str> = value.split(' ').collect();
        return words
            .chunks(4)
            .find(|c| c[0] == "slave")
            .map(|c| c[1..].join(" "))
            .unwrap_or_default();
    }
    value
}

/// The `CONFIG SET` line for a value, quoted the way redis-cli would need it typed.
pub fn config_set_line(name: &str, value: &str) -> String {
    let value = if name == COBL {
        format!("replica {value}")
    } else {
        value.to_string()
    };
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'' && b != b'\\');
    if plain {
        format!("CONFIG SET {name} {value}")
    } else {
        format!("CONFIG SET {name} {}", quote(value.as_bytes()))
    }
}

// ------------------------------------------------------------------ load generator

/// The load form as typed (kept as text so a bad number is reported, never lost).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadForm {
    pub kind: LoadKind,
    pub rate: String,
    pub keys: String,
    pub value_size: String,
    pub ttl: String,
}

impl Default for LoadForm {
    fn default() -> Self {
        LoadForm {
            kind: LoadKind::Set,
            rate: "100".into(),
            keys: "1000".into(),
            value_size: "16".into(),
            ttl: "10".into(),
        }
    }
}

impl LoadForm {
    pub fn parse(&self) -> Result<GenerateSpec, String> {
        // Text that is not a whole number reads as 0, which every field refuses with the
        // bounds it takes, as GenerateSpec::check words them.
        let number = |text: &str| text.trim().parse::<u64>().unwrap_or(0);
        let spec = GenerateSpec {
            write: self.kind,
            rate: number(&self.rate),
            keys: number(&self.keys),
            value_size: number(&self.value_size),
            ttl_s: number(&self.ttl),
        };
        spec.check()?;
        Ok(spec)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
struct LoadUi {
    form: LoadForm,
    error: Option<String>,
}

// ------------------------------------------------------------------ views

#[derive(Clone, Debug, PartialEq)]
pub struct PanelView {
    pub server: ServerId,
    /// `master · 127.0.0.1:6380 · master`
    pub title: String,
    pub tab: Tab,
    pub body: TabView,
}

/// Only the open tab is built: the others cost nothing while time runs.
#[derive(Clone, Debug, PartialEq)]
pub enum TabView {
    Console(ConsoleView),
    Info(InfoView),
    Keys(KeysView),
    Config(ConfigView),
    Load(LoadView),
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleView {
    pub prompt: String,
    pub transcript: Vec<TranscriptLine>,
    pub draft: String,
    pub notice: Option<String>,
    /// Whether Tab completes the line (otherwise it moves the focus, as Tab should).
    pub completable: bool,
    /// The candidates while cycling, and which one is shown (`None`: the typed line).
    pub candidates: Vec<String>,
    pub candidate: Option<usize>,
    /// The console typed SYNC or PSYNC and prints the replication stream.
    pub replica_output: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InfoView {
    /// `INFO replication` as redis-cli prints it (lines, no CR).
    pub info: String,
    /// `ROLE` as redis-cli prints it.
    pub role: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeysView {
    /// Non-empty databases and their live keys.
    pub dbs: Vec<(usize, usize)>,
    pub db: usize,
    pub pattern: String,
    /// Keys in the database matching the pattern.
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
    pub rows: Vec<KeyRow>,
    pub open: Option<KeyDetail>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeyRow {
    pub raw: Vec<u8>,
    /// Quoted and escaped as redis-cli prints keys.
    pub key: String,
    pub kind: &'static str,
    /// A string's value (escaped, cut at ROW_CHARS) or a collection's size.
    pub summary: String,
    pub ttl: Option<String>,
    pub open: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KeyDetail {
    pub raw: Vec<u8>,
    pub key: String,
    pub kind: &'static str,
    pub ttl: Option<String>,
    /// `12 bytes` or `3 elements`.
    pub size: String,
    /// A string's value, or the elements of this page.
    pub elements: Vec<Element>,
    pub page: usize,
    pub pages: usize,
    pub show_all: bool,
    /// Some value on this page was cut.
    pub cut: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    /// `1)` for a list, the field of a hash, the score of a sorted set; empty otherwise.
    pub label: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigView {
    pub fields: Vec<ConfigField>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConfigField {
    pub name: &'static str,
    pub input: ConfigInput,
    pub help: &'static str,
    /// The engine's value now.
    pub current: String,
    /// What the input holds: the typed value until it is applied successfully.
    pub value: String,
    pub status: FieldStatus,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FieldStatus {
    Unchanged,
    /// Typed, not applied yet.
    Edited,
    /// Sent; the reply has not arrived (a paused server).
    Pending,
    Applied,
    /// The error as redis-cli shows it (`(error) ERR CONFIG SET failed ...`), or its
    /// refusal to send.
    Error(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoadView {
    pub form: LoadForm,
    pub running: bool,
    /// `master (6380)` while a run exists.
    pub target: Option<String>,
    pub command: Option<String>,
    pub sent: u64,
    /// `--pipe` replies counted by the target's console, and how many were errors.
    pub replies: u64,
    pub errors: u64,
    pub error: Option<String>,
}

/// The panel of the console's server, with only its open tab built.
pub fn panel_view(
    bus: &Bus,
    console: &ConsoleUi,
    panel: &PanelUi,
    generator: Option<&Generator>,
) -> PanelView {
    let server = console.selected;
    let s = bus.server(server);
    let role = match s.node.role() {
        crate::engine::Role::Master => "master",
        crate::engine::Role::Replica => "replica",
    };
    let title = format!("{} · {}:{} · {role}", s.name, s.host, s.port);
    let tab = panel.tab;
    let body = match tab {
        Tab::Console => TabView::Console(console_view(bus, console, panel)),
        Tab::Info => TabView::Info(info_view(bus, server)),
        Tab::Keys => TabView::Keys(keys_view(bus, server, &panel.keys)),
        Tab::Config => TabView::Config(config_view(bus, server, &panel.config)),
        Tab::Load => TabView::Load(load_view(bus, &panel.load, generator)),
    };
    PanelView {
        server,
        title,
        tab,
        body,
    }
}

fn console_view(bus: &Bus, console: &ConsoleUi, panel: &PanelUi) -> ConsoleView {
    let draft = console.draft.clone();
    let cycling = panel.completion.as_ref().filter(|c| c.shown == draft);
    let completable = cycling.is_some() || (!draft.is_empty() && !completions(&draft).is_empty());
    ConsoleView {
        prompt: prompt_of(bus, console),
        transcript: transcript(bus, console),
        notice: console.notice.clone(),
        completable,
        candidates: cycling.map(|c| c.matches.clone()).unwrap_or_default(),
        candidate: cycling.and_then(|c| (c.index < c.matches.len()).then_some(c.index)),
        draft,
        replica_output: bus.console(console.selected).in_replica_output(),
    }
}

pub fn info_view(bus: &Bus, server: ServerId) -> InfoView {
    let node = &bus.server(server).node;
    let info = node
        .info_replication()
        .replace("\r\n", "\n")
        .trim_end()
        .to_string();
    let role = match parse_reply(&node.role_reply()) {
        Ok(Some((reply, _))) => format_reply(&reply, false),
        _ => "(unreadable ROLE reply)".to_string(),
    };
    InfoView { info, role }
}

/// Time left before a key expires, as the browser shows it.
pub fn format_ttl(ms: u64) -> String {
    if ms < 10_000 {
        format!("{}.{} s", ms / 1000, ms / 100 % 10)
    } else {
        format!("{} s", ms / 1000)
    }
}

fn cut(text: String, chars: usize) -> (String, bool) {
    match text.char_indices().nth(chars) {
        Some((at, _)) => (format!("{}…", &text[..at]), true),
        None => (text, false),
    }
}

fn live_count(bus: &Bus, server: ServerId, db: usize) -> usize {
    let now = bus.now();
    bus.server(server).node.keyspace().dbs[db]
        .entries
        .count_where(|e| !is_expired(e, now))
}

fn keys_view(bus: &Bus, server: ServerId, ui: &KeysUi) -> KeysView {
    let now = bus.now();
    let keyspace = bus.server(server).node.keyspace();
    let dbs: Vec<(usize, usize)> = (0..keyspace.dbs.len())
        .map(|db| (db, live_count(bus, server, db)))
        .filter(|&(_, n)| n > 0)
        .collect();
    // An emptied database leaves the picker; the browser falls back to the first one left.
    let db = if dbs.iter().any(|&(d, _)| d == ui.db) {
        ui.db
    } else {
        dbs.first().map_or(0, |&(d, _)| d)
    };
    let pattern = ui.pattern.as_bytes();
    // KEYS treats a lone `*` as "everything" without matching (an empty key included).
    let all = pattern.is_empty() || pattern == b"*";
    let matching: Vec<(&Vec<u8>, &Entry)> = keyspace.dbs[db]
        .entries
        .iter()
        .filter(|(k, e)| !is_expired(e, now) && (all || stringmatch(pattern, k, false)))
        .collect();
    let pages = matching.len().div_ceil(KEYS_PER_PAGE).max(1);
    let page = ui.page.min(pages - 1);
    let ttl = |e: &Entry| e.expires_at.map(|at| format_ttl(at.saturating_sub(now)));
    let rows = matching
        .iter()
        .skip(page * KEYS_PER_PAGE)
        .take(KEYS_PER_PAGE)
        .map(|(k, e)| KeyRow {
            raw: k.to_vec(),
            key: quote(k),
            kind: e.value.type_name(),
            summary: match &e.value {
                Value::String(v) => cut(quote(v), ROW_CHARS).0,
                other => plural(other.len(), "element"),
            },
            ttl: ttl(e),
            open: ui.open.as_deref() == Some(k.as_slice()),
        })
        .collect();
    let open = ui.open.as_ref().and_then(|k| {
        let e = keyspace.get(db, k, now)?;
        Some(key_detail(k, e, ttl(e), ui))
    });
    KeysView {
        dbs,
        db,
        pattern: ui.pattern.clone(),
        matching: matching.len(),
        page,
        pages,
        rows,
        open,
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn key_detail(raw: &[u8], e: &Entry, ttl: Option<String>, ui: &KeysUi) -> KeyDetail {
    let limit = if ui.show_all {
        usize::MAX
    } else {
        DETAIL_CHARS
    };
    let mut any_cut = false;
    let mut shown = |bytes: &[u8]| {
        let (text, was_cut) = cut(quote(bytes), limit);
        any_cut |= was_cut;
        text
    };
    let total = e.value.len();
    let pages = total.div_ceil(ELEMENTS_PER_PAGE).max(1);
    let page = ui.element_page.min(pages - 1);
    let range = page * ELEMENTS_PER_PAGE..((page + 1) * ELEMENTS_PER_PAGE).min(total);
    let el = |label: String, value: String| Element { label, value };
    let (size, elements) = match &e.value {
        Value::String(v) => (plural(v.len(), "byte"), vec![el(String::new(), shown(v))]),
        Value::List(l) => (
            plural(total, "element"),
            l.range(range.clone())
                .enumerate()
                .map(|(i, v)| el(format!("{})", range.start + i + 1), shown(v)))
                .collect(),
        ),
        Value::Hash(h) => (
            plural(total, "field"),
            h.iter()
                .skip(range.start)
                .take(range.len())
                .map(|(f, v)| el(shown(f), shown(v)))
                .collect(),
        ),
        Value::Set(s) => {
            let members = match s {
                SetValue::Ints(i) => i
                    .iter()
                    .skip(range.start)
                    .take(range.len())
                    .map(|n| n.to_string().into_bytes())
                    .collect(),
                SetValue::Members(m) => m
                    .iter()
                    .skip(range.start)
                    .take(range.len())
                    .cloned()
                    .collect::<Vec<_>>(),
            };
            (
                plural(total, "member"),
                members
                    .iter()
                    .map(|m| el(String::new(), shown(m)))
                    .collect(),
            )
        }
        Value::ZSet(z) => (
            plural(total, "member"),
            z.iter()
                .skip(range.start)
                .take(range.len())
                .map(|(m, score)| el(fmt_g17(score), shown(m)))
                .collect(),
        ),
    };
    KeyDetail {
        raw: raw.to_vec(),
        key: quote(raw),
        kind: e.value.type_name(),
        ttl,
        size,
        elements,
        page,
        pages: if matches!(e.value, Value::String(_)) {
            1
        } else {
            pages
        },
        show_all: ui.show_all,
        cut: any_cut,
    }
}

fn config_view(bus: &Bus, server: ServerId, drafts: &Drafts) -> ConfigView {
    let entries = bus.console(server).entries();
    let fields = CONFIG_OPTIONS
        .iter()
        .map(|o| {
            let current = current_value(bus, server, o.name);
            let (value, status) = match drafts.get(&(server, o.name)) {
                None => (current.clone(), FieldStatus::Unchanged),
                Some(d) => {
                    let status = match (&d.refused, &d.sent) {
                        (Some(why), _) => FieldStatus::Error(why.clone()),
                        (None, None) => FieldStatus::Edited,
                        // After stepping back past the line, or onto another timeline, the
                        // entry is gone or another one: the value is just typed again.
                        (None, Some((i, line))) => {
                            match entries.get(*i).filter(|e| &e.input == line) {
                                None => FieldStatus::Edited,
                                Some(e) => match &e.reply {
                                    None => FieldStatus::Pending,
                                    Some(r @ Reply::Error(_)) => {
                                        FieldStatus::Error(format_reply(r, false))
                                    }
                                    Some(_) => FieldStatus::Applied,
                                },
                            }
                        }
                    };
                    // Applied: the engine's value is the truth (it may round, e.g. 1kb).
                    let value = if status == FieldStatus::Applied {
                        current.clone()
                    } else {
                        d.value.clone()
                    };
                    (value, status)
                }
            };
            ConfigField {
                name: o.name,
                input: o.input,
                help: o.help,
                current,
                value,
                status,
            }
        })
        .collect();
    ConfigView { fields }
}

fn load_view(bus: &Bus, load: &LoadUi, run: Option<&Generator>) -> LoadView {
    let now = bus.now();
    let (replies, errors) = run.map_or((0, 0), |r| bus.console(r.server).piped());
    LoadView {
        form: load.form.clone(),
        running: run.is_some_and(|r| r.stop.is_none_or(|s| now < s) && now >= r.start),
        target: run.map(|r| {
            let s = bus.server(r.server);
            format!("{} ({})", s.name, s.port)
        }),
        command: run.map(|r| r.command(r.due(now))),
        sent: run.map_or(0, |r| r.due(now)),
        replies,
        errors,
        error: load.error.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::state::{Action, Sim};

    fn panel(sim: &mut Sim, a: PanelAction) {
        sim.apply(Action::Panel(a));
    }

    fn synced() -> Sim {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim
    }

    fn type_and_tab(sim: &mut Sim, text: &str, back: bool) -> String {
        sim.apply(Action::EditDraft(text.into()));
        panel(sim, PanelAction::Complete { back });
        sim.console.draft.clone()
    }

    #[test]
    fn tab_completes_command_names_and_cycles_like_linenoise() {
        let mut sim = Sim::new();
        assert_eq!(type_and_tab(&mut sim, "se", false), "select");
        let mut seen = vec![sim.console.draft.clone()];
        for _ in 0..5 {
            panel(&mut sim, PanelAction::Complete { back: false });
            seen.push(sim.console.draft.clone());
        }
        // After the last candidate linenoise shows the typed line, then starts over.
        assert_eq!(seen, ["select", "set", "setex", "setnx", "se", "select"]);
        panel(&mut sim, PanelAction::Complete { back: true });
        assert_eq!(sim.console.draft, "se", "Shift+Tab goes back");
        panel(&mut sim, PanelAction::Complete { back: true });
        assert_eq!(sim.console.draft, "setnx");

        // Upper case stays upper case; Escape restores the typed line.
        assert_eq!(type_and_tab(&mut sim, "SE", false), "SELECT");
        panel(&mut sim, PanelAction::CancelCompletion);
        assert_eq!(sim.console.draft, "SE");

        // Typing after a completion starts a new one from the new line.
        assert_eq!(
            type_and_tab(&mut sim, "selectx", false),
            "selectx",
            "no candidate: nothing changes"
        );
        assert_eq!(type_and_tab(&mut sim, "config s", false), "config set");
        assert_eq!(
            type_and_tab(&mut sim, "help ZREVRANGEB", false),
            "help ZREVRANGEBYLEX"
        );
        assert_eq!(
            type_and_tab(&mut sim, "get k", false),
            "get k",
            "arguments are not completed"
        );

        let view = match sim.panel_view().body {
            TabView::Console(c) => c,
            other => panic!("{other:?}"),
        };
        assert!(
            !view.completable,
            "Tab leaves the input when there is nothing to complete"
        );
        sim.apply(Action::EditDraft("inc".into()));
        let TabView::Console(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert!(view.completable);
        panel(&mut sim, PanelAction::Complete { back: false });
        let TabView::Console(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert_eq!(view.candidates, ["incr", "incrby", "incrbyfloat"]);
        assert_eq!(view.candidate, Some(0));
        assert_eq!(
            completions("").len(),
            command_names().len(),
            "an empty line lists everything"
        );
    }

    #[test]
    fn info_tab_is_the_engines_info_and_matches_a_typed_info() {
        let mut sim = synced();
        panel(&mut sim, PanelAction::SelectTab(Tab::Info));
        let before = sim.bus().log_hash();
        let TabView::Info(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert_eq!(sim.bus().log_hash(), before, "reading INFO sends nothing");
        let engine = sim.bus().server(0).node.info_replication();
        assert_eq!(view.info, engine.replace("\r\n", "\n").trim_end());
        assert!(view.info.contains("connected_slaves:2"), "{}", view.info);
        assert!(
            view.role.starts_with("1) \"master\"\n2) (integer) "),
            "{}",
            view.role
        );

        // The same text redis-cli prints for INFO replication / ROLE typed at this instant.
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "INFO replication".into(),
        });
        let TabView::Info(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert_eq!(
            sim.transcript().last().unwrap().output.as_deref(),
            Some(view.info.as_str())
        );
        sim.apply(Action::SelectConsole(1));
        sim.apply(Action::SubmitCommand {
            server: 1,
            line: "ROLE".into(),
        });
        let TabView::Info(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert_eq!(
            sim.transcript().last().unwrap().output.as_deref(),
            Some(view.role.as_str())
        );
        assert!(view.role.contains("\"connected\""), "{}", view.role);
    }

    #[test]
    fn keys_are_paged_escaped_filtered_and_their_ttl_counts_down() {
        let mut sim = Sim::new();
        for i in 0..25 {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: format!("SET user:{i:02} v{i}"),
            });
        }
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET \"<b>\\n\" \"a\\x00\" EX 10".into(),
        });
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: format!("SET big {}", "y".repeat(5_000)),
        });
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "RPUSH list a b c".into(),
        });
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SELECT 5".into(),
        });
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "ZADD z 1.5 m".into(),
        });
        panel(&mut sim, PanelAction::SelectTab(Tab::Keys));
        let keys = |sim: &Sim| match sim.panel_view().body {
            TabView::Keys(k) => k,
            other => panic!("{other:?}"),
        };
        let k = keys(&sim);
        assert_eq!(k.dbs, [(0, 28), (5, 1)], "only databases with keys");
        assert_eq!((k.matching, k.pages, k.rows.len()), (28, 2, KEYS_PER_PAGE));
        assert_eq!(k.rows[0].key, "\"<b>\\n\"");
        assert_eq!(k.rows[0].summary, "\"a\\x00\"");
        assert_eq!(k.rows[0].ttl.as_deref(), Some("10 s"));
        assert_eq!(k.rows[1].key, "\"big\"");
        assert_eq!(k.rows[1].summary.chars().count(), ROW_CHARS + 1);
        assert_eq!(k.rows[2].summary, "3 elements");

        sim.apply(Action::Step(2_500));
        assert_eq!(
            keys(&sim).rows[0].ttl.as_deref(),
            Some("7.5 s"),
            "TTL follows virtual time"
        );

        panel(&mut sim, PanelAction::KeysPage(1));
        let k = keys(&sim);
        assert_eq!(k.rows.len(), 8);
        assert_eq!(k.rows.last().unwrap().key, "\"user:24\"");

        panel(&mut sim, PanelAction::KeysPattern("user:1?".into()));
        let k = keys(&sim);
        assert_eq!((k.matching, k.page), (10, 0));

        // A huge value is cut until "show all".
        panel(&mut sim, PanelAction::KeysPattern("*".into()));
        panel(&mut sim, PanelAction::OpenKey(Some(b"big".to_vec())));
        let d = keys(&sim).open.unwrap();
        assert_eq!((d.size.as_str(), d.cut), ("5000 bytes", true));
        assert_eq!(d.elements[0].value.chars().count(), DETAIL_CHARS + 1);
        panel(&mut sim, PanelAction::ShowAll(true));
        let d = keys(&sim).open.unwrap();
        assert_eq!(d.elements[0].value, format!("\"{}\"", "y".repeat(5_000)));

        panel(&mut sim, PanelAction::OpenKey(Some(b"list".to_vec())));
        let d = keys(&sim).open.unwrap();
        let els: Vec<_> = d
            .elements
            .iter()
            .map(|e| (e.label.as_str(), e.value.as_str()))
            .collect();
        assert_eq!(els, [("1)", "\"a\""), ("2)", "\"b\""), ("3)", "\"c\"")]);

        panel(&mut sim, PanelAction::KeysDb(5));
        let k = keys(&sim);
        assert_eq!(k.db, 5);
        assert!(k.open.is_none());
        panel(&mut sim, PanelAction::OpenKey(Some(b"z".to_vec())));
        let d = keys(&sim).open.unwrap();
        assert_eq!(
            (d.elements[0].label.as_str(), d.elements[0].value.as_str()),
            ("1.5", "\"m\"")
        );

        // Expired keys disappear from the browser even before anything deletes them.
        panel(&mut sim, PanelAction::KeysDb(0));
        sim.apply(Action::Step(8_000));
        assert_eq!(keys(&sim).matching, 27);
    }

    #[test]
    fn config_apply_goes_through_the_console_and_keeps_a_bad_value_with_redis_error() {
        let mut sim = synced();
        panel(&mut sim, PanelAction::SelectTab(Tab::Config));
        let field = |sim: &Sim, name: &str| match sim.panel_view().body {
            TabView::Config(c) => c.fields.into_iter().find(|f| f.name == name).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&sim, "repl-backlog-size").value, "1048576");
        assert_eq!(
            field(&sim, "client-output-buffer-limit").value,
            "268435456 67108864 60"
        );

        panel(
            &mut sim,
            PanelAction::ConfigEdit {
                name: "repl-backlog-size",
                value: "12x".into(),
            },
        );
        assert_eq!(field(&sim, "repl-backlog-size").status, FieldStatus::Edited);
        panel(
            &mut sim,
            PanelAction::ConfigApply {
                name: "repl-backlog-size",
            },
        );
        let f = field(&sim, "repl-backlog-size");
        assert_eq!(f.value, "12x", "the typed value stays");
        assert_eq!(
            f.status,
            FieldStatus::Error(
                "(error) ERR CONFIG SET failed (possibly related to argument 'repl-backlog-size') - argument must be a memory value"
                    .into()
            )
        );
        assert_eq!(f.current, "1048576");
        let last = sim.transcript().last().unwrap().clone();
        assert_eq!(
            last.input.as_deref(),
            Some("127.0.0.1:6380> CONFIG SET repl-backlog-size 12x")
        );

        panel(
            &mut sim,
            PanelAction::ConfigEdit {
                name: "repl-backlog-size",
                value: "32kb".into(),
            },
        );
        panel(
            &mut sim,
            PanelAction::ConfigApply {
                name: "repl-backlog-size",
            },
        );
        let f = field(&sim, "repl-backlog-size");
        assert_eq!(
            (f.value.as_str(), f.status),
            ("32768", FieldStatus::Applied)
        );
        let info = info_view(&sim.bus(), 0).info;
        assert!(info.contains("repl_backlog_size:32768"), "{info}");

        // A multi-word value is quoted as one argument.
        panel(
            &mut sim,
            PanelAction::ConfigEdit {
                name: "client-output-buffer-limit",
                value: "1mb 512kb 10".into(),
            },
        );
        panel(
            &mut sim,
            PanelAction::ConfigApply {
                name: "client-output-buffer-limit",
            },
        );
        assert_eq!(
            sim.transcript().last().unwrap().input.as_deref(),
            Some("127.0.0.1:6380> CONFIG SET client-output-buffer-limit \"replica 1mb 512kb 10\"")
        );
        assert_eq!(
            field(&sim, "client-output-buffer-limit").value,
            "1048576 524288 10"
        );

        panel(
            &mut sim,
            PanelAction::ConfigEdit {
                name: "repl-diskless-load",
                value: "swapdb".into(),
            },
        );
        panel(
            &mut sim,
            PanelAction::ConfigApply {
                name: "repl-diskless-load",
            },
        );
        assert!(
            matches!(field(&sim, "repl-diskless-load").status, FieldStatus::Error(e) if e.starts_with("(error) ERR CONFIG SET failed"))
        );

        // Drafts belong to their server.
        sim.apply(Action::SelectConsole(1));
        assert_eq!(
            field(&sim, "repl-diskless-load").status,
            FieldStatus::Unchanged
        );
        assert_eq!(field(&sim, "repl-backlog-size").value, "1048576");
    }

    fn run_load(ticks: &[u64]) -> (String, u64, Sim) {
        let mut sim = synced();
        panel(&mut sim, PanelAction::SelectTab(Tab::Load));
        panel(
            &mut sim,
            PanelAction::LoadForm(LoadForm {
                kind: LoadKind::Set,
                rate: "250".into(),
                keys: "50".into(),
                value_size: "8".into(),
                ttl: "10".into(),
            }),
        );
        panel(&mut sim, PanelAction::LoadStart);
        for &t in ticks {
            sim.apply(Action::Tick(t));
        }
        panel(&mut sim, PanelAction::LoadStop);
        sim.apply(Action::Step(1_000));
        let TabView::Load(view) = sim.panel_view().body else {
            unreachable!()
        };
        let hash = sim.bus().log_hash();
        (hash, view.sent, sim)
    }

    #[test]
    fn load_sends_rate_times_seconds_the_same_way_every_run() {
        // 4 s of virtual time in ticks of different sizes: the batches fall on the same
        // virtual instants, so the runs are the same run.
        let (hash_a, sent_a, sim) = run_load(&[50; 80]);
        let (hash_b, sent_b, _) = run_load(&[1_000, 1_000, 1_000, 1_000]);
        let (hash_c, _, _) = run_load(&[37, 963, 999, 1, 500, 500, 1_000]);
        assert_eq!(sent_a, 250 * 4);
        assert_eq!(sent_b, 1_000);
        assert_eq!(hash_a, hash_b);
        assert_eq!(hash_a, hash_c);
        assert_eq!(sim.bus().console(0).piped(), (1_000, 0));
        // Every write reached the replicas: 50 keys, the last value written to each.
        let bus = sim.bus();
        for id in 0..3 {
            let db = &bus.server(id).node.keyspace().dbs[0];
            assert_eq!(db.entries.len(), 50);
            assert_eq!(
                db.entries[&b"load:str:49".to_vec()].value,
                Value::String(b"999:xxxx".to_vec())
            );
        }
    }

    #[test]
    fn load_is_replayed_by_time_travel_and_bad_numbers_are_reported() {
        let mut sim = synced();
        panel(
            &mut sim,
            PanelAction::LoadForm(LoadForm {
                rate: "ten".into(),
                ..LoadForm::default()
            }),
        );
        panel(&mut sim, PanelAction::LoadStart);
        panel(&mut sim, PanelAction::SelectTab(Tab::Load));
        let TabView::Load(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert_eq!(
            view.error.as_deref(),
            Some("writes/s must be a whole number from 1 to 10000")
        );
        assert_eq!(view.form.rate, "ten", "the typed text stays");
        assert!(!view.running);

        panel(
            &mut sim,
            PanelAction::LoadForm(LoadForm {
                kind: LoadKind::Hset,
                rate: "30".into(),
                ..LoadForm::default()
            }),
        );
        panel(&mut sim, PanelAction::LoadStart);
        sim.apply(Action::Step(2_000));
        let (hash, digest) = (sim.bus().log_hash(), sim.bus().state_digest());
        let TabView::Load(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert!(view.running);
        assert_eq!(view.sent, 60);
        assert_eq!(
            view.command.as_deref(),
            Some("HSET load:hash:60 f60 60:xxxxxxxxxxxxx")
        );
        let events = sim.bus().log().len();
        for _ in 0..30 {
            sim.apply(Action::StepBackEvent);
        }
        let TabView::Load(view) = sim.panel_view().body else {
            unreachable!()
        };
        assert!(view.sent < 60);
        while sim.bus().log().len() < events {
            sim.apply(Action::StepEvent);
        }
        assert_eq!(sim.bus().log_hash(), hash);
        assert_eq!(sim.bus().state_digest(), digest);

        // Stepping event by event at the end of the timeline sends the batches too.
        let mut by_events = sim.clone();
        let target = by_events.bus().now() + 1_000;
        while by_events.bus().now() < target {
            by_events.apply(Action::StepEvent);
        }
        let TabView::Load(view) = by_events.panel_view().body else {
            unreachable!()
        };
        assert!(view.sent >= 84, "{}", view.sent);
    }
}
