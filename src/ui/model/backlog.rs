//! The backlog view: a server's replication backlog drawn as a strip of the commands it
//! holds, with the window a PSYNC could still continue from and where each replica stands.
//!
//! The numbers (`repl-backlog-size`, histlen, first byte offset, `master_repl_offset`)
//! are read from the server's own `INFO replication`, so the panel never disagrees with
//! what INFO prints. The bytes come from the engine's block list (Redis 7.0 keeps the
//! backlog as a list of shared blocks, not a fixed ring): they are parsed back into RESP
//! commands so each span of the strip can say which command it belongs to.
//!
//! The strip is scaled to the history held, not to the capacity: a 50-byte history in a
//! 1 MB backlog would otherwise be invisible. Capacity is shown as a separate gauge.
//! Every segment gets a minimum width so it can be pointed at; offsets map to positions
//! through the segments, so markers and segments always agree.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bus::{Bus, ServerId};
use crate::engine::{sort, Role};

use super::stream::{command_name, escape_cut};
use crate::engine::resp::{scan_command, Scan};

/// Width of the strip in SVG units (the component scales it to the page).
pub const STRIP_WIDTH: f64 = 1000.0;
/// More commands than this are merged into groups so drawing stays fast.
pub const MAX_SEGMENTS: usize = 80;
/// Characters of a command shown when pointing at it.
const COMMAND_CHARS: usize = 120;
/// A trimmed backlog may begin inside a command; how far to look for the first whole one.
const RESYNC_SEARCH_BYTES: usize = 64 * 1024;

/// What a span of the backlog holds (the colour, and the word next to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CmdClass {
    Select,
    Set,
    Ping,
    Replconf,
    Transaction,
    /// Any other write (DEL, EXPIRE, PEXPIREAT, LPUSH, ...).
    Write,
    /// The end of a command whose start was trimmed away with an older block.
    Partial,
    /// Several commands merged into one drawn segment.
    Mixed,
}

impl CmdClass {
    pub fn of(name: &str) -> CmdClass {
        match name {
            "SELECT" => CmdClass::Select,
            "SET" | "SETEX" | "PSETEX" | "SETNX" | "MSET" => CmdClass::Set,
            "PING" => CmdClass::Ping,
            n if n.starts_with("REPLCONF") => CmdClass::Replconf,
            "MULTI" | "EXEC" => CmdClass::Transaction,
            _ => CmdClass::Write,
        }
    }

    /// CSS class suffix.
    pub fn key(self) -> &'static str {
        match self {
            CmdClass::Select => "select",
            CmdClass::Set => "set",
            CmdClass::Ping => "ping",
            CmdClass::Replconf => "replconf",
            CmdClass::Transaction => "multi",
            CmdClass::Write => "write",
            CmdClass::Partial => "partial",
            CmdClass::Mixed => "mixed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CmdClass::Select => "SELECT",
            CmdClass::Set => "SET",
            CmdClass::Ping => "PING",
            CmdClass::Replconf => "REPLCONF GETACK",
            CmdClass::Transaction => "MULTI / EXEC",
            CmdClass::Write => "other writes",
            CmdClass::Partial => "cut command",
            CmdClass::Mixed => "merged",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    /// Offsets of the first and last byte.
    pub start: u64,
    pub end: u64,
    pub class: CmdClass,
    /// `SET`, `REPLCONF GETACK`, or for a merged group `12 commands`.
    pub label: String,
    /// The command escaped (and cut), or the group's contents.
    pub detail: String,
    pub x: f64,
    pub width: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub name: String,
    pub port: u16,
    /// The last byte the replica has (its acked offset, or its own offset when its link
    /// is down).
    pub offset: u64,
    pub x: f64,
    /// Whether its next PSYNC (`offset + 1`) is inside the backlog.
    pub in_window: bool,
    pub connected: bool,
    /// What that means, in words.
    pub note: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LegendItem {
    pub class: CmdClass,
    pub commands: usize,
    pub bytes: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BacklogView {
    pub server: ServerId,
    pub name: String,
    pub port: u16,
    pub role: Role,
    /// A sentence about whose backlog this is (a replica keeps one too).
    pub note: String,
    pub active: bool,
    /// `repl-backlog-size` (capacity).
    pub size: u64,
    pub histlen: u64,
    pub first_byte_offset: u64,
    pub master_repl_offset: u64,
    /// PSYNC offsets the master would still continue from: `[first, master_repl_offset + 1]`.
    pub window: (u64, u64),
    pub segments: Vec<Segment>,
    /// When commands were merged: how many commands in how many segments.
    pub merged: Option<String>,
    pub commands: usize,
    pub markers: Vec<Marker>,
    pub legend: Vec<LegendItem>,
}

/// One parsed command of the backlog: its byte range (relative) and name.
#[cfg(test)]
struct Parsed {
    start: usize,
    len: usize,
    class: CmdClass,
    name: String,
}

/// Splits the backlog's bytes into commands. The first block may start inside a command
/// (its start was in a block that was trimmed): those bytes are one `Partial` span, up to
/// the first position from which commands parse cleanly.
///
/// The whole backlog in one go: the reference [`BacklogCache`]'s parse is held to.
#[cfg(test)]
fn parse_commands(data: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    let mut pos = first_whole_command(data);
    if pos > 0 {
        out.push(Parsed {
            start: 0,
            len: pos,
            class: CmdClass::Partial,
            name: "cut command".into(),
        });
    }
    while pos < data.len() {
        match scan_command(&data[pos..]) {
            Scan::Command { len, .. } => {
                let name = command_name(&data[pos..pos + len]);
                out.push(Parsed {
                    start: pos,
                    len,
                    class: CmdClass::of(&name),
                    name,
                });
                pos += len;
            }
            Scan::Incomplete | Scan::Invalid => {
                out.push(Parsed {
                    start: pos,
                    len: data.len() - pos,
                    class: CmdClass::Partial,
                    name: "not a whole command".into(),
                });
                break;
            }
        }
    }
    out
}

/// The first position from which two commands in a row parse (or one that ends the data):
/// a value that happens to contain `*1\r\n$...` is unlikely to be followed by another.
fn first_whole_command(data: &[u8]) -> usize {
    let limit = data.len().min(RESYNC_SEARCH_BYTES);
    for start in 0..limit {
        if data[start] != b'*' {
            continue;
        }
        if let Scan::Command { len, .. } = scan_command(&data[start..]) {
            let next = start + len;
            if next == data.len()
                || matches!(
                    scan_command(&data[next..]),
                    Scan::Command { .. } | Scan::Incomplete
                )
            {
                return start;
            }
        }
    }
    if limit == data.len() {
        data.len()
    } else {
        0
    }
}

/// A span of the backlog at absolute offsets: a whole command, or bytes that are not one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    start: u64,
    len: u64,
    class: CmdClass,
    /// Index into [`ParsedBacklog::names`].
    name: usize,
}

/// One server's backlog as parsed at the last redraw: a copy of its bytes and the whole
/// commands found in them.
#[derive(Debug, Default)]
struct ParsedBacklog {
    server: ServerId,
    replid: String,
    /// The bytes held: `bytes[0]` is at offset `base`.
    base: u64,
    bytes: Vec<u8>,
    /// Whole commands back to back, the first at the resync point (see
    /// [`first_whole_command`]); bytes after the last one did not parse (yet).
    commands: Vec<Span>,
    /// Command names, so a span carries an index rather than a string.
    names: Vec<String>,
}

/// The parsed backlog of the selected server, kept between redraws: a busy master's
/// backlog holds up to `repl-backlog-size` (1 MB) of commands, and parsing all of them
/// twenty times a second would cost more than the rest of the page. Each redraw checks
/// that the bytes it kept are still the backlog's (any difference: another server, a new
/// replication id, a jump back in time, a full resync; it starts over), drops what was
/// trimmed from the front and parses only the bytes added since. The result is exactly
/// that of parsing the whole backlog afresh (a test holds it to that).
///
/// A cache, not state: shared by the clones of the page state (each action clones it),
/// and never makes two states differ.
#[derive(Clone, Default)]
pub struct BacklogCache(Rc<RefCell<ParsedBacklog>>);

impl PartialEq for BacklogCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for BacklogCache {}

impl std::fmt::Debug for BacklogCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.0.borrow();
        write!(
            f,
            "BacklogCache(s{} {} bytes, {} commands)",
            p.server,
            p.bytes.len(),
            p.commands.len()
        )
    }
}

impl ParsedBacklog {
    fn reset(&mut self, server: ServerId, replid: &str, base: u64) {
        self.server = server;
        self.replid = replid.to_string();
        self.base = base;
        self.bytes.clear();
        self.commands.clear();
    }

    fn name_id(&mut self, name: String) -> usize {
        match self.names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                self.names.push(name);
                self.names.len() - 1
            }
        }
    }

    /// Brings the copy up to date with `chunks`, the backlog's bytes in order, the first
    /// at offset `first`.
    fn sync_bytes(&mut self, server: ServerId, replid: &str, first: u64, chunks: &[&[u8]]) {
        let held: u64 = chunks.iter().map(|c| c.len() as u64).sum();
        let kept_end = self.base + self.bytes.len() as u64;
        let consistent = self.server == server
            && self.replid == replid
            && first >= self.base
            && first <= kept_end
            && first + held >= kept_end
            && {
                // The kept bytes from `first` on must be the backlog's, byte for byte.
                let mut at = first;
                chunks.iter().all(|c| {
                    let start = at;
                    at += c.len() as u64;
                    let upto = at.min(kept_end);
                    start >= upto
                        || c[..(upto - start) as usize]
                            == self.bytes[(start - self.base) as usize..(upto - self.base) as usize]
                })
            };
        if !consistent {
            self.reset(server, replid, first);
        } else if first > self.base {
            // Trimmed: whole blocks left the front.
            self.bytes.drain(..(first - self.base) as usize);
            self.base = first;
        }
        // Append what is past the kept bytes.
        let kept_end = self.base + self.bytes.len() as u64;
        let mut at = first;
        for c in chunks {
            let start = at;
            at += c.len() as u64;
            if at > kept_end {
                self.bytes
                    .extend_from_slice(&c[(kept_end.max(start) - start) as usize..]);
            }
        }
    }

    /// Brings the commands up to date with the bytes; returns the resync point (relative).
    fn sync_commands(&mut self) -> usize {
        let resync = first_whole_command(&self.bytes);
        let head = self.base + resync as u64;
        let drop = self.commands.partition_point(|c| c.start < head);
        self.commands.drain(..drop);
        if self.commands.first().is_some_and(|c| c.start != head) {
            // The new resync point is not where a kept command begins: parse again.
            self.commands.clear();
        }
        let mut pos = self.commands.last().map_or(head, |c| c.start + c.len);
        while let Scan::Command { len, .. } =
            scan_command(&self.bytes[(pos - self.base) as usize..])
        {
            let at = (pos - self.base) as usize;
            let name = command_name(&self.bytes[at..at + len]);
            let class = CmdClass::of(&name);
            let name = self.name_id(name);
            self.commands.push(Span {
                start: pos,
                len: len as u64,
                class,
                name,
            });
            pos += len as u64;
        }
        resync
    }

    /// Every span, as [`parse_commands`] gives them: the bytes before the resync point,
    /// the whole commands, and whatever follows them.
    fn spans(&mut self, resync: usize) -> Vec<Span> {
        let mut out = Vec::with_capacity(self.commands.len() + 2);
        if resync > 0 {
            let name = self.name_id("cut command".into());
            out.push(Span {
                start: self.base,
                len: resync as u64,
                class: CmdClass::Partial,
                name,
            });
        }
        out.extend_from_slice(&self.commands);
        let end = self.base + self.bytes.len() as u64;
        let parsed_end = self
            .commands
            .last()
            .map_or(self.base + resync as u64, |c| c.start + c.len);
        if parsed_end < end {
            let name = self.name_id("not a whole command".into());
            out.push(Span {
                start: parsed_end,
                len: end - parsed_end,
                class: CmdClass::Partial,
                name,
            });
        }
        out
    }
}

/// Position of the boundary before offset `o` on the strip (`o` one past the end: the end).
pub fn x_of(segments: &[Segment], o: u64) -> f64 {
    let Some(first) = segments.first() else {
        return 0.0;
    };
    if o <= first.start {
        return first.x;
    }
    let i = segments.partition_point(|s| s.end < o);
    match segments.get(i) {
        Some(s) => s.x + s.width * (o - s.start) as f64 / (s.end - s.start + 1) as f64,
        None => STRIP_WIDTH,
    }
}

/// The backlog view built afresh (see [`backlog_view_cached`]).
pub fn backlog_view(bus: &Bus, id: ServerId) -> BacklogView {
    backlog_view_cached(bus, id, &BacklogCache::default())
}

/// The backlog view, parsing only what changed since the last view built with `cache`.
pub fn backlog_view_cached(bus: &Bus, id: ServerId, cache: &BacklogCache) -> BacklogView {
    let server = bus.server(id);
    let node = &server.node;
    let info = node.replication_info();
    let role = node.role();
    let size = info.backlog_size;
    let histlen = info.backlog_histlen as u64;
    let first = info.backlog_first_byte_offset;
    let master_offset = info.master_repl_offset;
    let active = info.backlog_active;
    let note = match (role, active) {
        (Role::Master, true) => "The master's backlog: the stream it keeps so a replica that lost its link can continue with PSYNC.".to_string(),
        (Role::Master, false) => "No backlog: this server has never had a replica (Redis creates the backlog with the first one).".to_string(),
        (Role::Replica, true) => "This replica's own backlog. Under PSYNC2 a replica keeps the stream it applied too, so its own \
            replicas, or its former siblings after it is promoted, can continue from it."
            .to_string(),
        (Role::Replica, false) => "This replica has no backlog yet.".to_string(),
    };

    let mut guard = cache.0.borrow_mut();
    let cached = &mut *guard;
    {
        let backlog = node.replication().backlog.as_ref();
        let total: usize = backlog.map_or(0, |b| b.blocks().map(|block| block.data.len()).sum());
        // INFO's histlen is the number of bytes held; keep exactly those.
        let mut skip = total.saturating_sub(histlen as usize);
        let chunks: Vec<&[u8]> = backlog
            .into_iter()
            .flat_map(|b| b.blocks())
            .filter_map(|block| {
                let cut = skip.min(block.data.len());
                skip -= cut;
                (cut < block.data.len()).then(|| &block.data[cut..])
            })
            .collect();
        cached.sync_bytes(id, &node.replication().replid, first, &chunks);
    }
    let resync = cached.sync_commands();
    let parsed = cached.spans(resync);
    let (data, names, base) = (&cached.bytes, &cached.names, cached.base);
    let commands = parsed
        .iter()
        .filter(|p| p.class != CmdClass::Partial)
        .count();

    let mut legend: Vec<LegendItem> = Vec::new();
    for p in &parsed {
        match legend.iter_mut().find(|l| l.class == p.class) {
            Some(l) => {
                l.commands += 1;
                l.bytes += p.len;
            }
            None => legend.push(LegendItem {
                class: p.class,
                commands: 1,
                bytes: p.len,
            }),
        }
    }
    sort::sort_by_key(&mut legend, |l| l.class);

    // Merge runs of commands into groups when there are too many to draw one by one.
    let group = parsed.len().div_ceil(MAX_SEGMENTS).max(1);
    let mut counts = vec![0usize; names.len()];
    let mut segments: Vec<Segment> = parsed
        .chunks(group)
        .map(|g| {
            let start = g[0].start;
            let last = &g[g.len() - 1];
            let end = last.start + last.len - 1;
            if g.len() == 1 {
                let p = &g[0];
                let at = (p.start - base) as usize;
                let bytes = &data[at..at + p.len as usize];
                let detail = if p.class == CmdClass::Partial {
                    format!(
                        "{} bytes: the end of a command whose start was in a block already freed",
                        p.len
                    )
                } else {
                    escape_cut(bytes, COMMAND_CHARS)
                };
                Segment {
                    start,
                    end,
                    class: p.class,
                    label: names[p.name].clone(),
                    detail,
                    x: 0.0,
                    width: 0.0,
                }
            } else {
                // Names in order of first appearance, then by count (as before: stable).
                let mut order: Vec<usize> = Vec::new();
                for p in g {
                    if counts[p.name] == 0 {
                        order.push(p.name);
                    }
                    counts[p.name] += 1;
                }
                let mut tally: Vec<(&str, usize)> = order
                    .iter()
                    .map(|&n| (names[n].as_str(), counts[n]))
                    .collect();
                for &n in &order {
                    counts[n] = 0;
                }
                sort::sort_by(&mut tally, |a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                let detail = tally
                    .iter()
                    .map(|(n, c)| format!("{n} ×{c}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let class = if tally.len() == 1 {
                    g[0].class
                } else {
                    CmdClass::Mixed
                };
                Segment {
                    start,
                    end,
                    class,
                    label: format!("{} commands", g.len()),
                    detail,
                    x: 0.0,
                    width: 0.0,
                }
            }
        })
        .collect();
    let merged = (group > 1).then(|| {
        format!(
            "{commands} commands: drawn as {} segments of up to {group} commands each",
            segments.len()
        )
    });

    // Widths by bytes, each at least `min` so it can be pointed at.
    let n = segments.len() as f64;
    let min = (STRIP_WIDTH / n.max(1.0) * 0.3).min(3.0);
    let total: u64 = segments.iter().map(|s| s.end - s.start + 1).sum();
    let mut x = 0.0;
    for s in &mut segments {
        s.x = x;
        s.width =
            min + (STRIP_WIDTH - min * n) * (s.end - s.start + 1) as f64 / total.max(1) as f64;
        x += s.width;
    }

    let window = (first, master_offset + 1);
    let in_window = |o: u64| active && o + 1 >= window.0 && o < window.1;
    let mut markers: Vec<Marker> = Vec::new();
    for (client, peer) in node.replicas() {
        let port = client.replica_listening_port;
        let name = bus.server_by_port(port).map_or_else(
            || format!("replica :{port}"),
            |r| bus.server(r).name.clone(),
        );
        let offset = peer.ack_offset;
        let ok = in_window(offset);
        let note = if ok {
            format!(
                "acked offset {offset}: its next PSYNC (offset {}) can continue from the backlog",
                offset + 1
            )
        } else {
            format!("acked offset {offset} is before the backlog's first byte {first}: next PSYNC will need a full resync")
        };
        markers.push(Marker {
            name,
            port,
            offset,
            x: 0.0,
            in_window: ok,
            connected: true,
            note,
        });
    }
    // Replicas that follow this server but are not connected now (a cut link): where
    // their next PSYNC would land is the interesting part.
    for (rid, r) in bus.servers().iter().enumerate() {
        let follows = r
            .node
            .master_link()
            .is_some_and(|l| bus.server_by_port(l.port) == Some(id));
        if rid == id || !follows || markers.iter().any(|m| m.port == r.port) {
            continue;
        }
        let offset = r
            .node
            .replication_info()
            .master
            .map_or(0, |m| m.repl_offset.max(0) as u64);
        let same_history = r
            .node
            .replication()
            .cached_master
            .as_ref()
            .map(|c| c.replid.as_str())
            .or(Some(r.node.replication().replid.as_str()))
            .is_some_and(|h| h == node.replication().replid || h == node.replication().replid2);
        let ok = same_history && in_window(offset);
        let note = if !same_history {
            format!("link down at offset {offset}, on another history: next PSYNC will need a full resync")
        } else if ok {
            format!("link down at offset {offset}: when it is back, PSYNC {} can continue from the backlog", offset + 1)
        } else {
            format!("link down at offset {offset}, before the backlog's first byte {first}: next PSYNC will need a full resync")
        };
        markers.push(Marker {
            name: r.name.clone(),
            port: r.port,
            offset,
            x: 0.0,
            in_window: ok,
            connected: false,
            note,
        });
    }
    for m in &mut markers {
        m.x = if m.in_window {
            x_of(&segments, m.offset + 1)
        } else {
            0.0
        };
    }

    BacklogView {
        server: id,
        name: server.name.clone(),
        port: server.port,
        role,
        note,
        active,
        size,
        histlen,
        first_byte_offset: first,
        master_repl_offset: master_offset,
        window,
        segments,
        merged,
        commands,
        markers,
        legend,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::test_bed::TestBed;

    fn after_set() -> (Bus, ServerId) {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 2);
        bus.submit_command(m, "SET k v").unwrap();
        bus.advance(1_500);
        (bus, m)
    }

    #[test]
    fn a_set_has_its_own_segment_at_the_right_offsets() {
        let (bus, m) = after_set();
        let v = backlog_view(&bus, m);
        let info = bus.server(m).node.info_replication();
        assert!(info.contains(&format!("master_repl_offset:{}\r\n", v.master_repl_offset)));
        assert!(info.contains(&format!("repl_backlog_histlen:{}\r\n", v.histlen)));
        assert_eq!((v.size, v.first_byte_offset, v.active), (1 << 20, 1, true));
        let labels: Vec<(&str, u64, u64)> = v
            .segments
            .iter()
            .map(|s| (s.label.as_str(), s.start, s.end))
            .collect();
        assert_eq!(labels[..2], [("SELECT", 1, 23), ("SET", 24, 50)]);
        let set = &v.segments[1];
        assert_eq!(set.class, CmdClass::Set);
        assert_eq!(
            set.detail,
            "*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n"
        );
        assert_eq!(v.segments.last().unwrap().end, v.master_repl_offset);
        assert_eq!(v.window, (1, v.master_repl_offset + 1));
        let w: f64 = v.segments.iter().map(|s| s.width).sum();
        assert!((w - STRIP_WIDTH).abs() < 1e-6);
        // Both replicas acked everything: markers at the strip's end, in the window.
        assert_eq!(v.markers.len(), 2);
        for mk in &v.markers {
            assert!(mk.connected && mk.in_window, "{mk:?}");
            assert_eq!(mk.offset, v.master_repl_offset);
            assert!((mk.x - STRIP_WIDTH).abs() < 1e-6);
        }
        assert_eq!(v.markers[0].name, "replica-0");
    }

    #[test]
    fn a_replica_shows_its_own_backlog_and_says_so() {
        let (bus, _) = after_set();
        let v = backlog_view(&bus, 1);
        assert_eq!(v.role, Role::Replica);
        assert!(v.note.contains("replica keeps"), "{}", v.note);
        assert!(v.segments.iter().any(|s| s.label == "SET"));
    }

    #[test]
    fn many_commands_are_merged_and_a_lagging_replica_falls_out_of_the_window() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        bus.submit_command(m, "CONFIG SET repl-backlog-size 16kb")
            .unwrap();
        bus.advance(10);
        bus.cut(0, 1);
        let lines: Vec<String> = (0..3000).map(|i| format!("SET key:{i} v")).collect();
        bus.submit_pipe(m, &lines.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap();
        bus.advance(10);
        let v = backlog_view(&bus, m);
        assert_eq!(v.size, 16 * 1024);
        assert!(
            v.first_byte_offset > 1,
            "the start of the history was trimmed"
        );
        assert!(v.segments.len() <= MAX_SEGMENTS + 1, "{}", v.segments.len());
        assert!(
            v.merged.as_deref().unwrap().contains("commands: drawn as"),
            "{:?}",
            v.merged
        );
        assert!(v
            .segments
            .iter()
            .any(|s| s.label.ends_with(" commands") && s.detail.contains("SET ×")));
        // The trimmed front may begin in the middle of a command.
        if v.segments[0].class == CmdClass::Partial {
            assert!(v.segments[0].start == v.first_byte_offset);
        }
        let mk = &v.markers[0];
        assert!(!mk.connected && !mk.in_window, "{mk:?}");
        assert!(
            mk.note.contains("next PSYNC will need a full resync"),
            "{}",
            mk.note
        );
        assert_eq!(
            v.legend
                .iter()
                .find(|l| l.class == CmdClass::Set)
                .map(|l| l.commands > 100),
            Some(true)
        );
    }

    /// The backlog's bytes afresh, as the view held them before it kept a cache.
    fn fresh_bytes(bus: &Bus, id: ServerId) -> Vec<u8> {
        let node = &bus.server(id).node;
        let mut data = Vec::new();
        if let Some(b) = node.replication().backlog.as_ref() {
            for block in b.blocks() {
                data.extend_from_slice(block.data);
            }
        }
        let histlen = node
            .replication()
            .backlog
            .as_ref()
            .map_or(0, |b| b.histlen());
        data.split_off(data.len() - histlen)
    }

    /// The view built with `cache` equals the one built afresh, and the cache's spans are
    /// exactly those of parsing the whole backlog in one go.
    fn check(bus: &Bus, id: ServerId, cache: &BacklogCache) {
        let cached = backlog_view_cached(bus, id, cache);
        assert_eq!(
            cached,
            backlog_view(bus, id),
            "s{id} at log length {}",
            bus.log().len()
        );
        let data = fresh_bytes(bus, id);
        let mut c = cache.0.borrow_mut();
        assert_eq!(c.bytes, data);
        let resync = first_whole_command(&c.bytes);
        let spans: Vec<(u64, u64, CmdClass, String)> = c
            .spans(resync)
            .into_iter()
            .map(|p| (p.start - c.base, p.len, p.class, c.names[p.name].clone()))
            .collect();
        let reference: Vec<(u64, u64, CmdClass, String)> = parse_commands(&data)
            .into_iter()
            .map(|p| (p.start as u64, p.len as u64, p.class, p.name))
            .collect();
        assert_eq!(spans, reference);
    }

    #[test]
    fn the_cached_view_equals_a_fresh_one_through_writes_trimming_and_time_travel() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 2);
        bus.submit_command(m, "CONFIG SET repl-backlog-size 16kb")
            .unwrap();
        bus.advance(10);
        let cache = BacklogCache::default();
        check(&bus, m, &cache);
        let mut points = Vec::new();
        for round in 0..40 {
            // Values that hold a command, so a trimmed front has to search for its first
            // whole command. (Two in a row would fool that search, afresh or not.)
            let lines: Vec<String> = (0..30)
                .map(|i| match i % 7 {
                    0 => format!("SET fake:{round}:{i} \"*1\\r\\n$4\\r\\nPING\\r\\nx\""),
                    3 => format!("RPUSH list:{round} {}", "x".repeat(i * round % 90)),
                    _ => format!("SET key:{round}:{i} {}", "v".repeat((round * 7 + i) % 50)),
                })
                .collect();
            bus.submit_pipe(m, &lines.iter().map(String::as_str).collect::<Vec<_>>())
                .unwrap();
            bus.advance(1 + round as u64 % 3);
            check(&bus, m, &cache);
            points.push(bus.log().len() - 1);
        }
        let v = backlog_view(&bus, m);
        assert!(
            v.first_byte_offset > 16 * 1024,
            "the front was trimmed: {}",
            v.first_byte_offset
        );
        assert!(v.commands > 100, "{:?}", v.legend);
        // Another server, and back.
        check(&bus, 1, &cache);
        check(&bus, m, &cache);
        // Back in time, viewed there, then a different future.
        bus.jump_to(points[20]).unwrap();
        check(&bus, m, &cache);
        bus.submit_command(m, "SET other x").unwrap();
        bus.advance(5);
        check(&bus, m, &cache);
        // The view was last built at the newest point; jump back, write a different
        // future past where it was, and only then build it again (no redraw in between).
        let newest = bus.log().len() - 1;
        let before = backlog_view_cached(&bus, m, &cache).master_repl_offset;
        bus.jump_to(points[10]).unwrap();
        for round in 0..20 {
            let lines: Vec<String> = (0..30)
                .map(|i| format!("SET diverged:{round}:{i} {}", "w".repeat(i)))
                .collect();
            bus.submit_pipe(m, &lines.iter().map(String::as_str).collect::<Vec<_>>())
                .unwrap();
            bus.advance(1);
        }
        assert!(bus.log().len() - 1 != newest);
        assert!(
            backlog_view(&bus, m).master_repl_offset > before,
            "the new future is longer"
        );
        check(&bus, m, &cache);
        // A replica's own backlog under the same load.
        check(&bus, 2, &cache);
    }

    #[test]
    fn a_master_without_replicas_has_no_backlog() {
        let bus = {
            let mut b = Bus::new(1);
            b.add_server(
                "alone",
                crate::engine::Config {
                    port: 6390,
                    ..Default::default()
                },
            );
            b
        };
        let v = backlog_view(&bus, 0);
        assert!(!v.active && v.segments.is_empty() && v.markers.is_empty());
        assert!(v.note.starts_with("No backlog"));
    }

    #[test]
    fn a_backlog_that_begins_inside_a_command_marks_those_bytes() {
        let data = b"\r\n$1\r\nv\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n";
        let p = parse_commands(data);
        assert_eq!(p[0].class, CmdClass::Partial);
        assert_eq!((p[0].start, p[0].len), (0, 9));
        assert_eq!(
            p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            ["cut command", "SELECT", "PING"]
        );
    }
}
