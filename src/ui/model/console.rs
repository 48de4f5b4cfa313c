//! The console's model: what is being typed, redis-cli's line history, and the transcript
//! as redis-cli prints it, formatted once per entry.

use std::cell::{RefCell, RefMut};
use std::rc::Rc;

use crate::bus::{format_reply, Bus, ServerId};
use crate::engine::resp::{split_args, Reply};

/// redis-cli keeps this many lines of history.
const HISTORY_LEN: usize = 100;
/// Older transcript lines are not drawn (they stay in the bus).
const TRANSCRIPT_LEN: usize = 200;

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
    transcript: TranscriptCache,
}

impl ConsoleUi {
    /// The input changed.
    pub fn edit(&mut self, text: String) {
        self.draft = text;
        self.cursor = None;
    }

    /// Shows another server's console; its old complaint no longer applies.
    pub fn select(&mut self, server: ServerId) {
        self.selected = server;
        self.notice = None;
    }

    /// `line` was submitted, and sent (`Ok`) or refused with redis-cli's complaint.
    pub fn submitted(&mut self, line: String, result: Result<(), String>) {
        // redis-cli remembers every non-empty line, the refused ones too.
        if !line.trim().is_empty() && self.history.last() != Some(&line) {
            self.history.push(line.clone());
            if self.history.len() > HISTORY_LEN {
                self.history.remove(0);
            }
        }
        self.cursor = None;
        self.stash.clear();
        match result {
            Ok(()) => {
                self.draft.clear();
                self.notice = None;
            }
            Err(message) => {
                // Keep what was typed so it can be fixed rather than retyped.
                self.draft = line;
                self.notice = Some(message);
            }
        }
    }

    /// Up (`-1`) or down (`1`) through the history.
    pub fn history_walk(&mut self, dir: i32) {
        if self.history.is_empty() {
            return;
        }
        let next = match (self.cursor, dir) {
            (None, d) if d < 0 => {
                self.stash = self.draft.clone();
                Some(self.history.len() - 1)
            }
            (None, _) => return,
            (Some(i), d) if d < 0 => Some(i.saturating_sub(1)),
            (Some(i), _) if i + 1 < self.history.len() => Some(i + 1),
            (Some(_), _) => None,
        };
        self.cursor = next;
        self.draft = match next {
            Some(i) => self.history[i].clone(),
            None => std::mem::take(&mut self.stash),
        };
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TranscriptLine {
    /// Prompt and typed line; `None` for a reply nobody asked for.
    pub input: Option<String>,
    /// `None` while the reply has not arrived.
    pub output: Option<String>,
    pub error: bool,
}

/// One console entry as it was formatted, with what it was formatted from: an entry is
/// formatted again only when the bus holds something else at its place (a reply arrived,
/// replica output grew, time travel or another server), or its prompt's database changed.
#[derive(Debug)]
struct Formatted {
    input: String,
    reply: Option<Reply>,
    /// The database redis-cli uses before this entry (its prompt's) and after it.
    db_before: usize,
    db: usize,
    line: TranscriptLine,
}

/// The formatted tail of the console shown: its last [`TRANSCRIPT_LEN`] entries, the ones
/// drawn. Older entries are never formatted (a long load types thousands, and formatting
/// them all took most of the opened run's first drawing); only the databases they SELECT
/// are read. Shared by every copy of the page state (it is a cache, so any two compare
/// equal).
#[derive(Clone, Default)]
struct TranscriptCache(Rc<RefCell<Tail>>);

#[derive(Default)]
struct Tail {
    server: ServerId,
    /// The position in the transcript of the first entry of `lines`.
    start: usize,
    lines: Vec<Formatted>,
}

impl PartialEq for TranscriptCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for TranscriptCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TranscriptCache")
    }
}

impl TranscriptCache {
    /// Brings the cache up to the console of `server` on `bus`, and lends it.
    fn read(&self, bus: &Bus, server: ServerId) -> RefMut<'_, Tail> {
        let mut tail = self.0.borrow_mut();
        let entries = bus.console(server).entries();
        let (start, end) = (entries.len().saturating_sub(TRANSCRIPT_LEN), entries.len());
        if tail.server != server || start < tail.start {
            tail.server = server;
            tail.lines.clear();
        }
        // The lines that left the tail at its front.
        let gone = (start - tail.start.min(start)).min(tail.lines.len());
        tail.lines = tail.lines.split_off(gone);
        tail.start = start;
        // The entries before the tail only choose its first prompt's database.
        let mut db = 0;
        for e in entries.iter_range(0, start) {
            db = entry_db(&e.input, e.reply.as_ref()).unwrap_or(db);
        }
        let mut same = 0;
        for (f, e) in tail.lines.iter().zip(entries.iter_range(start, end)) {
            if f.db_before != db || f.input != e.input || f.reply != e.reply {
                break;
            }
            db = f.db;
            same += 1;
        }
        tail.lines.truncate(same);
        let s = bus.server(server);
        for e in entries.iter_range(start + same, end) {
            let f = format_entry(&e.input, e.reply.as_ref(), db, &s.host, s.port);
            db = f.db;
            tail.lines.push(f);
        }
        tail
    }
}

/// An entry as redis-cli prints it, after a prompt for database `db`.
fn format_entry(input: &str, reply: Option<&Reply>, db: usize, host: &str, port: u16) -> Formatted {
    let args = split_args(input.as_bytes()).unwrap_or_default();
    let line = TranscriptLine {
        input: (!input.is_empty()).then(|| {
            let mut line = prompt(host, port, db);
            line.push(' ');
            line.push_str(input);
            line
        }),
        output: reply.map(|r| format_output(r, redis_cli_raw(&args))),
        error: matches!(reply, Some(Reply::Error(_))),
    };
    Formatted {
        input: input.to_string(),
        reply: reply.cloned(),
        db_before: db,
        db: selected_db(&args, reply).unwrap_or(db),
        line,
    }
}

/// The newest lines of the selected server's transcript.
pub fn transcript(bus: &Bus, ui: &ConsoleUi) -> Vec<TranscriptLine> {
    let cache = ui.transcript.read(bus, ui.selected);
    cache.lines.iter().map(|f| f.line.clone()).collect()
}

/// redis-cli's prompt for the selected server, with the database once it is not 0.
pub fn prompt_of(bus: &Bus, ui: &ConsoleUi) -> String {
    let db = ui
        .transcript
        .read(bus, ui.selected)
        .lines
        .last()
        .map_or(0, |f| f.db);
    let s = bus.server(ui.selected);
    prompt(&s.host, s.port, db)
}

fn prompt(host: &str, port: u16, db: usize) -> String {
    if db == 0 {
        format!("{host}:{port}>")
    } else {
        format!("{host}:{port}[{db}]>")
    }
}

/// The database a line of the transcript selects, without splitting every line: only one
/// that spells SELECT, or has quotes (which may spell it), is split.
fn entry_db(input: &str, reply: Option<&Reply>) -> Option<usize> {
    let b = input.as_bytes();
    if !b.windows(6).any(|w| w.eq_ignore_ascii_case(b"select"))
        && !b.contains(&b'"')
        && !b.contains(&b'\'')
    {
        return None;
    }
    selected_db(&split_args(b)?, reply)
}

/// The database redis-cli uses after a line: it follows successful SELECTs.
fn selected_db(args: &[Vec<u8>], reply: Option<&Reply>) -> Option<usize> {
    let ok = matches!(reply, Some(Reply::Simple(s)) if s == "OK");
    if ok && args.len() == 2 && args[0].eq_ignore_ascii_case(b"select") {
        std::str::from_utf8(&args[1]).ok()?.parse().ok()
    } else {
        None
    }
}

/// Commands whose bulk replies redis-cli prints as they are (`cliSendCommand`'s list): the
/// command, its subcommand (empty: any) and the argument counts it holds for.
const RAW_REPLIES: [(&str, &str, usize, usize); 14] = [
    ("info", "", 1, usize::MAX),
    ("lolwut", "", 1, usize::MAX),
    ("debug", "htstats", 2, usize::MAX),
    ("debug", "htstats-key", 2, usize::MAX),
    ("debug", "client-eviction", 2, usize::MAX),
    ("memory", "malloc-stats", 2, usize::MAX),
    ("memory", "doctor", 2, usize::MAX),
    ("cluster", "nodes", 2, 2),
    ("cluster", "info", 2, 2),
    ("client", "list", 2, usize::MAX),
    ("client", "info", 2, usize::MAX),
    ("latency", "graph", 3, 3),
    ("latency", "doctor", 2, 2),
    ("proxy", "info", 2, usize::MAX),
];

/// Whether redis-cli prints the bulk reply to `args` as it is ([`RAW_REPLIES`]).
pub fn redis_cli_raw(args: &[Vec<u8>]) -> bool {
    let is = |i: usize, w: &str| {
        args.get(i)
            .is_some_and(|a| a.eq_ignore_ascii_case(w.as_bytes()))
    };
    RAW_REPLIES.iter().any(|&(command, sub, min, max)| {
        (min..=max).contains(&args.len()) && is(0, command) && (sub.is_empty() || is(1, sub))
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::state::{Action, Sim};

    /// Every entry formatted, oldest first, as redis-cli printed them: what the tail must
    /// show the end of.
    fn formatted_whole(sim: &Sim) -> Vec<TranscriptLine> {
        let bus = sim.bus();
        let s = bus.server(0);
        let mut db = 0;
        bus.console(0)
            .entries()
            .iter()
            .map(|e| {
                let f = format_entry(&e.input, e.reply.as_ref(), db, &s.host, s.port);
                db = f.db;
                f.line
            })
            .collect()
    }

    #[test]
    fn the_tail_is_the_end_of_the_whole_transcript_with_the_databases_selected_before_it() {
        let mut sim = Sim::new();
        let send = |sim: &mut Sim, line: &str| {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: line.into(),
            })
        };
        // Hidden by the time the tail is read: a SELECT, one spelt with quotes, one refused.
        send(&mut sim, "SELECT 3");
        send(&mut sim, "  sel\"ect\" 4");
        send(&mut sim, "SELECT 99");
        for i in 0..TRANSCRIPT_LEN {
            send(&mut sim, &format!("SET k{i} v"));
        }
        let whole = formatted_whole(&sim);
        assert!(whole.len() > TRANSCRIPT_LEN);
        let tail = sim.transcript();
        assert_eq!(tail, whole[whole.len() - TRANSCRIPT_LEN..]);
        assert_eq!(
            tail[0].input.as_deref(),
            Some("127.0.0.1:6380[4]> SET k0 v"),
            "the database selected before the tail"
        );
        // Read again after more lines, one of them a SELECT: what was formatted is kept,
        // and what follows the SELECT gets its database.
        send(&mut sim, "select 7");
        send(&mut sim, "GET k1");
        let whole = formatted_whole(&sim);
        assert_eq!(sim.transcript(), whole[whole.len() - TRANSCRIPT_LEN..]);
        assert_eq!(sim.prompt(), "127.0.0.1:6380[7]>");
        // Another server's console, and back.
        sim.apply(Action::SelectConsole(1));
        assert!(sim.transcript().len() < TRANSCRIPT_LEN);
        sim.apply(Action::SelectConsole(0));
        assert_eq!(sim.transcript(), whole[whole.len() - TRANSCRIPT_LEN..]);
    }

    fn raw(line: &str) -> bool {
        redis_cli_raw(&split_args(line.as_bytes()).unwrap())
    }

    #[test]
    fn raw_replies_follow_redis_clis_list_and_argument_counts() {
        for line in [
            "INFO",
            "info replication",
            "LOLWUT VERSION 5",
            "debug HTSTATS 0",
            "memory doctor",
            "CLUSTER NODES",
            "client list ID 1",
            "latency graph command",
            "latency doctor",
            "proxy info",
        ] {
            assert!(raw(line), "{line}");
        }
        for line in [
            "GET info",
            "DEBUG",
            "cluster nodes extra",
            "latency graph",
            "latency doctor x",
            "memory usage k",
            "client",
        ] {
            assert!(!raw(line), "{line}");
        }
    }
}
