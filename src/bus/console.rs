//! A redis-cli-like console attached to one server: what was typed, what came back.

use crate::engine::resp::{parse_reply, split_args, Reply};
use crate::engine::shared_vec::SharedVec;
use crate::engine::ConnId;

/// Most replication-stream lines the console keeps for one SYNC: a master under a write
/// load sends thousands a second, and the console is part of every time-travel
/// checkpoint. Older lines give way to a line counting them.
pub const REPLICA_OUTPUT_LINES: usize = 100;

/// The EOF mark of a diskless snapshot (`$EOF:<40 bytes>`), as redis-cli reads it.
const RDB_EOF_MARK_SIZE: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleEntry {
    pub input: String,
    /// The reply, once it arrived. After SYNC or PSYNC, what redis-cli prints in replica
    /// output mode, lines in one status reply.
    pub reply: Option<Reply>,
}

#[derive(Debug, Clone, Default)]
pub struct Console {
    pub(crate) conn: Option<ConnId>,
    /// Shared page by page with the checkpoints' copies: a transcript of thousands of
    /// typed commands costs a checkpoint only the pages that changed since the last one.
    entries: SharedVec<ConsoleEntry>,
    inbox: Vec<u8>,
    /// Replies still due for commands sent with `--pipe`: counted, not kept.
    piped_due: u64,
    piped_replies: u64,
    piped_errors: u64,
    /// After SYNC or PSYNC: redis-cli's replica output mode.
    replica_output: Option<ReplicaOutput>,
    /// Entries before this one were sent on a connection that is gone (the server dropped
    /// it, or crashed): no reply will come for them, so none may be given to them either.
    /// Without it, the first reply on the next connection would answer the oldest of them.
    answerable_from: usize,
    /// Every entry below this one has its reply: replies only ever fill entries in order,
    /// so the search for the oldest open entry starts here rather than at the first entry.
    /// Without it, each reply rescanned the whole transcript: a load typing thousands of
    /// commands spent most of its time there, quadratically.
    replied_below: usize,
}

/// redis-cli after SYNC or PSYNC (`slaveMode` in redis-cli.c): it stops reading replies,
/// skips the snapshot, then prints each command of the replication stream as a CSV line
/// (`"set","k","v"`) until Ctrl-C ends the program. Here the next command typed or piped
/// ends it instead: the console closes this connection and opens a new one, as running
/// redis-cli again would.
#[derive(Debug, Clone)]
struct ReplicaOutput {
    /// The SYNC entry: its output is everything printed since.
    entry: usize,
    phase: Phase,
    /// The lines before the stream's: entering the mode, the snapshot skipped.
    head: Vec<String>,
    /// The newest stream lines, at most [`REPLICA_OUTPUT_LINES`].
    lines: std::collections::VecDeque<String>,
    /// Stream lines that gave way to newer ones.
    dropped: u64,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Reading the first line (`$<size>`, `$EOF:<mark>`, or an error); newlines the
    /// master sends while it prepares the snapshot are skipped, as redis-cli skips them.
    Header(Vec<u8>),
    /// Skipping a snapshot of known size: bytes left.
    Discard(u64),
    /// Skipping until the last 40 bytes read are the EOF mark.
    UntilMark {
        mark: Vec<u8>,
        last: Vec<u8>,
        read: u64,
    },
    /// Printing the replication stream.
    Stream,
}

impl Console {
    pub fn entries(&self) -> &SharedVec<ConsoleEntry> {
        &self.entries
    }

    pub(crate) fn push_input(&mut self, line: String) {
        self.entries.push(ConsoleEntry {
            input: line,
            reply: None,
        });
    }

    /// Replies to `--pipe` commands so far, and how many of them were errors.
    pub fn piped(&self) -> (u64, u64) {
        (self.piped_replies, self.piped_errors)
    }

    pub(crate) fn expect_piped(&mut self, commands: u64) {
        self.piped_due += commands;
    }

    /// Whether the console is printing a replication stream (after SYNC or PSYNC).
    pub fn in_replica_output(&self) -> bool {
        self.replica_output.is_some()
    }

    /// The console's connection is gone (closed by either end, or its server crashed):
    /// the next command opens a new one, and replica output mode, which belongs to the
    /// connection, ends with it. Returns the connection it had.
    pub(crate) fn disconnect(&mut self) -> Option<ConnId> {
        self.replica_output = None;
        // What was still due on that connection never comes: a reply cut short, piped
        // commands not yet answered, typed commands left without a reply.
        self.inbox.clear();
        self.piped_due = 0;
        self.answerable_from = self.entries.len();
        self.conn.take()
    }

    /// The oldest entry at or after `from` still waiting for its reply on this connection.
    fn open_entry(&mut self, from: usize) -> Option<usize> {
        while self
            .entries
            .get(self.replied_below)
            .is_some_and(|e| e.reply.is_some())
        {
            self.replied_below += 1;
        }
        let from = from.max(self.answerable_from).max(self.replied_below);
        (from..self.entries.len()).find(|&i| self.entries[i].reply.is_none())
    }

    /// Reads the front of `rest` in replica output mode: returns how many bytes it took
    /// (all of them while the mode lasts; fewer when it ends, and replies follow).
    fn replica_output_take(&mut self, rest: &[u8]) -> usize {
        let Some(mode) = self.replica_output.as_mut() else {
            return 0;
        };
        let mut used = 0;
        // redis-cli has stopped reading: a refused SYNC, or a reply it cannot read.
        let mut ended = false;
        while used < rest.len() && !ended {
            match &mut mode.phase {
                Phase::Header(line) => {
                    let b = rest[used];
                    used += 1;
                    if b != b'\n' {
                        line.push(b);
                        continue;
                    }
                    if line.is_empty() {
                        continue; // a keepalive newline
                    }
                    if line[0] == b'-' {
                        // redis-cli keeps the line's CR; it prints nothing visible.
                        let text =
                            String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line))
                                .into_owned();
                        mode.head.push(format!("SYNC with master failed: {text}"));
                        ended = true;
                        continue;
                    }
                    let after = &line[1..];
                    // strtoull: the leading digits, 0 when there are none.
                    let size = after
                        .iter()
                        .take_while(|c| c.is_ascii_digit())
                        .fold(0u64, |n, &c| {
                            n.saturating_mul(10).saturating_add(u64::from(c - b'0'))
                        });
                    if size == 0 {
                        // An EOF-marked snapshot: the mark follows `$EOF:`. A line without
                        // one (a PSYNC's +FULLRESYNC) leaves the mark all zeros, which never
                        // comes, and redis-cli waits on, as real redis-cli does.
                        let mark = match after.strip_prefix(b"EOF:") {
                            Some(m) if m.len() >= RDB_EOF_MARK_SIZE => {
                                m[..RDB_EOF_MARK_SIZE].to_vec()
                            }
                            _ => vec![0; RDB_EOF_MARK_SIZE],
                        };
                        mode.head.push("SYNC with master, discarding bytes of bulk transfer until EOF marker...".into());
                        mode.phase = Phase::UntilMark {
                            mark,
                            last: Vec::new(),
                            read: 0,
                        };
                    } else {
                        mode.head.push(format!(
                            "SYNC with master, discarding {size} bytes of bulk transfer..."
                        ));
                        mode.phase = Phase::Discard(size);
                    }
                }
                Phase::Discard(left) => {
                    let n = (*left).min((rest.len() - used) as u64);
                    used += n as usize;
                    *left -= n;
                    if *left == 0 {
                        mode.head
                            .push("SYNC done. Logging commands from master.".into());
                        mode.phase = Phase::Stream;
                    }
                }
                Phase::UntilMark { mark, last, read } => {
                    let b = rest[used];
                    used += 1;
                    *read += 1;
                    last.push(b);
                    if last.len() > RDB_EOF_MARK_SIZE {
                        last.remove(0);
                    }
                    if last == mark {
                        // redis-cli then sends REPLCONF ACK 0 a second later; this console
                        // does not.
                        mode.head.push(format!(
                            "SYNC done after {read} bytes. Logging commands from master."
                        ));
                        mode.phase = Phase::Stream;
                    }
                }
                Phase::Stream => match parse_reply(&rest[used..]) {
                    Ok(Some((reply, n))) => {
                        used += n;
                        if mode.lines.len() == REPLICA_OUTPUT_LINES {
                            mode.lines.pop_front();
                            mode.dropped += 1;
                        }
                        mode.lines.push_back(csv(&reply));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        // redis-cli's loop ends at a reply it cannot read, and so does
                        // the rest of what arrived.
                        mode.head.push(format!("protocol error: {e}"));
                        used = rest.len();
                        ended = true;
                    }
                },
            }
        }
        self.entries[mode.entry].reply = Some(Reply::Simple(mode.text()));
        if ended {
            self.replica_output = None;
        }
        used
    }

    /// Reply bytes from the server: each complete reply answers the oldest open entry
    /// (or, once typed commands are answered, the next piped command).
    pub(crate) fn receive(&mut self, data: &[u8]) {
        let mut inbox = std::mem::take(&mut self.inbox);
        inbox.extend_from_slice(data);
        // Parse every complete reply, then drop them from the inbox at once: a pipe's
        // thousands of replies must not shift the buffer thousands of times.
        let mut used_total = 0;
        // The oldest entry still waiting for its reply.
        let mut open = self.open_entry(0);
        while used_total < inbox.len() {
            if self.replica_output.is_some() {
                used_total += self.replica_output_take(&inbox[used_total..]);
                // Still on: it took all it could. Ended: what follows is replies again.
                open = self.open_entry(0);
                continue;
            }
            if let Some(i) = open.filter(|&i| is_sync(&self.entries[i].input)) {
                self.replica_output = Some(ReplicaOutput {
                    entry: i,
                    phase: Phase::Header(Vec::new()),
                    head: vec!["Entering replica output mode...  (press Ctrl-C to quit)".into()],
                    lines: Default::default(),
                    dropped: 0,
                });
                continue;
            }
            let rest = &inbox[used_total..];
            if open.is_none() && self.piped_due > 0 && rest.first() == Some(&b'+') {
                // A status reply to a piped command (a pipe of SETs: thousands of +OK) is
                // only counted: no need to build it.
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    break;
                };
                used_total += end + 2;
                self.piped_due -= 1;
                self.piped_replies += 1;
                continue;
            }
            match parse_reply(rest) {
                Ok(Some((reply, used))) => {
                    used_total += used;
                    if let Some(i) = open {
                        self.entries[i].reply = Some(reply);
                        open = self.open_entry(i + 1);
                    } else if self.piped_due > 0 {
                        self.piped_due -= 1;
                        self.piped_replies += 1;
                        self.piped_errors += u64::from(matches!(reply, Reply::Error(_)));
                    } else {
                        self.entries.push(ConsoleEntry {
                            input: String::new(),
                            reply: Some(reply),
                        });
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    used_total = inbox.len();
                    self.entries.push(ConsoleEntry {
                        input: String::new(),
                        reply: Some(Reply::Error(format!("protocol error: {e}"))),
                    });
                    break;
                }
            }
        }
        inbox.drain(..used_total);
        self.inbox = inbox;
    }
}

impl ReplicaOutput {
    fn text(&self) -> String {
        let mut out = self.head.join("\n");
        if self.dropped > 0 {
            out.push_str(&format!(
                "\n(… {} earlier commands not kept here)",
                self.dropped
            ));
        }
        for line in &self.lines {
            out.push('\n');
            out.push_str(line);
        }
        out
    }
}

/// SYNC and PSYNC put redis-cli in replica output mode, whatever their arguments.
fn is_sync(input: &str) -> bool {
    split_args(input.as_bytes())
        .and_then(|a| a.into_iter().next())
        .is_some_and(|c| c.eq_ignore_ascii_case(b"sync") || c.eq_ignore_ascii_case(b"psync"))
}

/// A reply as redis-cli's `--csv` output prints it (`cliFormatReplyCSV`): replica output
/// mode prints the replication stream's commands this way.
pub fn csv(reply: &Reply) -> String {
    match reply {
        Reply::Error(e) => format!("ERROR,{}", quote(e.as_bytes())),
        Reply::Simple(s) => quote(s.as_bytes()),
        Reply::Integer(n) => n.to_string(),
        Reply::Bulk(Some(b)) => quote(b),
        Reply::Bulk(None) | Reply::Array(None) => "NULL".into(),
        Reply::Array(Some(items)) => items.iter().map(csv).collect::<Vec<_>>().join(","),
    }
}

/// Formats a reply the way redis-cli prints it in a terminal. `raw` prints bulk strings
/// as they are (redis-cli does that for INFO and a few other commands).
pub fn format_reply(reply: &Reply, raw: bool) -> String {
    let mut out = String::new();
    write_reply(&mut out, reply, raw, "");
    out
}

fn write_reply(out: &mut String, reply: &Reply, raw: bool, indent: &str) {
    match reply {
        Reply::Simple(s) => out.push_str(s),
        Reply::Error(e) => {
            out.push_str("(error) ");
            out.push_str(e);
        }
        Reply::Integer(n) => out.push_str(&format!("(integer) {n}")),
        Reply::Bulk(None) | Reply::Array(None) => out.push_str("(nil)"),
        Reply::Bulk(Some(b)) if raw => out.push_str(&String::from_utf8_lossy(b)),
        Reply::Bulk(Some(b)) => out.push_str(&quote(b)),
        Reply::Array(Some(items)) if items.is_empty() => out.push_str("(empty array)"),
        Reply::Array(Some(items)) => {
            let width = items.len().to_string().len();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                    out.push_str(indent);
                }
                let label = format!("{:>width$}) ", i + 1);
                out.push_str(&label);
                let inner = format!("{indent}{}", " ".repeat(label.len()));
                write_reply(out, item, raw, &inner);
            }
        }
    }
}

/// redis-cli quotes what it prints as Redis's `sdscatrepr` does: the engine's one copy.
pub use crate::engine::resp::quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_redis_cli() {
        assert_eq!(format_reply(&Reply::Simple("OK".into()), false), "OK");
        assert_eq!(
            format_reply(&Reply::Bulk(Some(b"a\"b\n".to_vec())), false),
            "\"a\\\"b\\n\""
        );
        assert_eq!(format_reply(&Reply::Bulk(None), false), "(nil)");
        assert_eq!(format_reply(&Reply::Integer(3), false), "(integer) 3");
        assert_eq!(
            format_reply(&Reply::Error("ERR x".into()), false),
            "(error) ERR x"
        );
        let arr = Reply::Array(Some(vec![
            Reply::Bulk(Some(b"k".to_vec())),
            Reply::Integer(1),
        ]));
        assert_eq!(format_reply(&arr, false), "1) \"k\"\n2) (integer) 1");
        assert_eq!(
            format_reply(&Reply::Array(Some(vec![])), false),
            "(empty array)"
        );
    }
}
