//! A redis-cli-like console attached to one server: what was typed, what came back.

use crate::engine::resp::{parse_reply, Reply};
use crate::engine::ConnId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleEntry {
    pub input: String,
    /// The reply, once it arrived.
    pub reply: Option<Reply>,
}

#[derive(Debug, Clone, Default)]
pub struct Console {
    pub(crate) conn: Option<ConnId>,
    entries: Vec<ConsoleEntry>,
    inbox: Vec<u8>,
    /// Replies still due for commands sent with `--pipe`: counted, not kept.
    piped_due: u64,
    piped_replies: u64,
    piped_errors: u64,
}

impl Console {
    pub fn entries(&self) -> &[ConsoleEntry] {
        &self.entries
    }

    pub(crate) fn push_input(&mut self, line: String) {
        self.entries.push(ConsoleEntry { input: line, reply: None });
    }

    /// Replies to `--pipe` commands so far, and how many of them were errors.
    pub fn piped(&self) -> (u64, u64) {
        (self.piped_replies, self.piped_errors)
    }

    pub(crate) fn expect_piped(&mut self, commands: u64) {
        self.piped_due += commands;
    }

    /// Reply bytes from the server: each complete reply answers the oldest open entry
    /// (or, once typed commands are answered, the next piped command).
    pub(crate) fn receive(&mut self, data: &[u8]) {
        self.inbox.extend_from_slice(data);
        // Parse every complete reply, then drop them from the inbox at once: a pipe's
        // thousands of replies must not shift the buffer thousands of times.
        let mut used_total = 0;
        // The oldest entry still waiting for its reply.
        let mut open = self.entries.iter().position(|e| e.reply.is_none());
        loop {
            let rest = &self.inbox[used_total..];
            if open.is_none() && self.piped_due > 0 && rest.first() == Some(&b'+') {
                // A status reply to a piped command (a pipe of SETs: thousands of +OK) is
                // only counted: no need to build it.
                let Some(end) = rest.windows(2).position(|w| w == b"\r\n") else { break };
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
                        open = self.entries[i + 1..].iter().position(|e| e.reply.is_none()).map(|j| i + 1 + j);
                    } else if self.piped_due > 0 {
                        self.piped_due -= 1;
                        self.piped_replies += 1;
                        self.piped_errors += u64::from(matches!(reply, Reply::Error(_)));
                    } else {
                        self.entries.push(ConsoleEntry { input: String::new(), reply: Some(reply) });
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    self.inbox.clear();
                    used_total = 0;
                    self.entries.push(ConsoleEntry { input: String::new(), reply: Some(Reply::Error(format!("protocol error: {e}"))) });
                    break;
                }
            }
        }
        self.inbox.drain(..used_total);
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

/// redis-cli's `sdscatrepr`: double quotes, C escapes, \xHH for other non-printables.
pub fn quote(b: &[u8]) -> String {
    let mut s = String::from("\"");
    for &c in b {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            0x07 => s.push_str("\\a"),
            0x08 => s.push_str("\\b"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_redis_cli() {
        assert_eq!(format_reply(&Reply::Simple("OK".into()), false), "OK");
        assert_eq!(format_reply(&Reply::Bulk(Some(b"a\"b\n".to_vec())), false), "\"a\\\"b\\n\"");
        assert_eq!(format_reply(&Reply::Bulk(None), false), "(nil)");
        assert_eq!(format_reply(&Reply::Integer(3), false), "(integer) 3");
        assert_eq!(format_reply(&Reply::Error("ERR x".into()), false), "(error) ERR x");
        let arr = Reply::Array(Some(vec![Reply::Bulk(Some(b"k".to_vec())), Reply::Integer(1)]));
        assert_eq!(format_reply(&arr, false), "1) \"k\"\n2) (integer) 1");
        assert_eq!(format_reply(&Reply::Array(Some(vec![])), false), "(empty array)");
    }
}
