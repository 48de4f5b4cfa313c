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

use crate::bus::{Bus, ServerId};
use crate::engine::Role;

use super::stream::{command_name, escape_cut, scan_command, Scan};

/// Width of the strip in SVG units (the component scales it to the page).
pub const STRIP_WIDTH: f64 = 1000.0;
/// More commands than this are merged into groups so drawing stays fast.
pub const MAX_SEGMENTS: usize = 240;
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

fn info_field<T: std::str::FromStr>(info: &str, field: &str) -> Option<T> {
    info.lines().find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().parse().ok())
}

/// One parsed command of the backlog: its byte range (relative) and name.
struct Parsed {
    start: usize,
    len: usize,
    class: CmdClass,
    name: String,
}

/// Splits the backlog's bytes into commands. The first block may start inside a command
/// (its start was in a block that was trimmed): those bytes are one `Partial` span, up to
/// the first position from which commands parse cleanly.
fn parse_commands(data: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    let mut pos = first_whole_command(data);
    if pos > 0 {
        out.push(Parsed { start: 0, len: pos, class: CmdClass::Partial, name: "cut command".into() });
    }
    while pos < data.len() {
        match scan_command(&data[pos..]) {
            Scan::Command { len, args, .. } => {
                let name = command_name(&data[pos..pos + len], &args);
                out.push(Parsed { start: pos, len, class: CmdClass::of(&name), name });
                pos += len;
            }
            Scan::Incomplete | Scan::Invalid => {
                out.push(Parsed { start: pos, len: data.len() - pos, class: CmdClass::Partial, name: "not a whole command".into() });
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
            if next == data.len() || matches!(scan_command(&data[next..]), Scan::Command { .. } | Scan::Incomplete) {
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

/// Position of the boundary before offset `o` on the strip (`o` one past the end: the end).
pub fn x_of(segments: &[Segment], o: u64) -> f64 {
    let Some(first) = segments.first() else { return 0.0 };
    if o <= first.start {
        return first.x;
    }
    let i = segments.partition_point(|s| s.end < o);
    match segments.get(i) {
        Some(s) => s.x + s.width * (o - s.start) as f64 / (s.end - s.start + 1) as f64,
        None => STRIP_WIDTH,
    }
}

pub fn backlog_view(bus: &Bus, id: ServerId) -> BacklogView {
    let server = bus.server(id);
    let node = &server.node;
    let info = node.info_replication();
    let role = node.role();
    let size: u64 = info_field(&info, "repl_backlog_size").unwrap_or(0);
    let histlen: u64 = info_field(&info, "repl_backlog_histlen").unwrap_or(0);
    let first: u64 = info_field(&info, "repl_backlog_first_byte_offset").unwrap_or(0);
    let master_offset: u64 = info_field(&info, "master_repl_offset").unwrap_or(0);
    let active = info_field::<u8>(&info, "repl_backlog_active") == Some(1);
    let note = match (role, active) {
        (Role::Master, true) => "The master's backlog: the stream it keeps so a replica that lost its link can continue with PSYNC.".to_string(),
        (Role::Master, false) => "No backlog: this server has never had a replica (Redis creates the backlog with the first one).".to_string(),
        (Role::Replica, true) => "This replica's own backlog. Under PSYNC2 a replica keeps the stream it applied too, so its own \
            replicas, or its former siblings after it is promoted, can continue from it."
            .to_string(),
        (Role::Replica, false) => "This replica has no backlog yet.".to_string(),
    };

    let mut data = Vec::with_capacity(histlen as usize);
    if let Some(b) = node.replication().backlog.as_ref() {
        for block in b.blocks() {
            data.extend_from_slice(block.data);
        }
    }
    // INFO's histlen is the number of bytes held; keep exactly those.
    let skip = data.len().saturating_sub(histlen as usize);
    let data = &data[skip..];
    let parsed = parse_commands(data);
    let commands = parsed.iter().filter(|p| p.class != CmdClass::Partial).count();

    let mut legend: Vec<LegendItem> = Vec::new();
    for p in &parsed {
        match legend.iter_mut().find(|l| l.class == p.class) {
            Some(l) => {
                l.commands += 1;
                l.bytes += p.len as u64;
            }
            None => legend.push(LegendItem { class: p.class, commands: 1, bytes: p.len as u64 }),
        }
    }
    legend.sort_by_key(|l| l.class);

    // Merge runs of commands into groups when there are too many to draw one by one.
    let group = parsed.len().div_ceil(MAX_SEGMENTS).max(1);
    let mut segments: Vec<Segment> = parsed
        .chunks(group)
        .map(|g| {
            let start = first + g[0].start as u64;
            let last = &g[g.len() - 1];
            let end = first + (last.start + last.len) as u64 - 1;
            if g.len() == 1 {
                let p = &g[0];
                let bytes = &data[p.start..p.start + p.len];
                let detail = if p.class == CmdClass::Partial {
                    format!("{} bytes: the end of a command whose start was in a block already freed", p.len)
                } else {
                    escape_cut(bytes, COMMAND_CHARS)
                };
                Segment { start, end, class: p.class, label: p.name.clone(), detail, x: 0.0, width: 0.0 }
            } else {
                let mut counts: Vec<(String, usize)> = Vec::new();
                for p in g {
                    match counts.iter_mut().find(|(n, _)| *n == p.name) {
                        Some((_, c)) => *c += 1,
                        None => counts.push((p.name.clone(), 1)),
                    }
                }
                counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                let detail = counts.iter().map(|(n, c)| format!("{n} ×{c}")).collect::<Vec<_>>().join(", ");
                let class = if counts.len() == 1 { g[0].class } else { CmdClass::Mixed };
                Segment { start, end, class, label: format!("{} commands", g.len()), detail, x: 0.0, width: 0.0 }
            }
        })
        .collect();
    let merged = (group > 1).then(|| {
        format!("{commands} commands: drawn as {} segments of up to {group} commands each", segments.len())
    });

    // Widths by bytes, each at least `min` so it can be pointed at.
    let n = segments.len() as f64;
    let min = (STRIP_WIDTH / n.max(1.0) * 0.3).min(3.0);
    let total: u64 = segments.iter().map(|s| s.end - s.start + 1).sum();
    let mut x = 0.0;
    for s in &mut segments {
        s.x = x;
        s.width = min + (STRIP_WIDTH - min * n) * (s.end - s.start + 1) as f64 / total.max(1) as f64;
        x += s.width;
    }

    let window = (first, master_offset + 1);
    let in_window = |o: u64| active && o + 1 >= window.0 && o < window.1;
    let mut markers: Vec<Marker> = Vec::new();
    for (client, peer) in node.replicas() {
        let port = client.replica_listening_port;
        let name = bus.server_by_port(port).map_or_else(|| format!("replica :{port}"), |r| bus.server(r).name.clone());
        let offset = peer.ack_offset;
        let ok = in_window(offset);
        let note = if ok {
            format!("acked offset {offset}: its next PSYNC (offset {}) can continue from the backlog", offset + 1)
        } else {
            format!("acked offset {offset} is before the backlog's first byte {first}: next PSYNC will need a full resync")
        };
        markers.push(Marker { name, port, offset, x: 0.0, in_window: ok, connected: true, note });
    }
    // Replicas that follow this server but are not connected now (a cut link): where
    // their next PSYNC would land is the interesting part.
    for (rid, r) in bus.servers().iter().enumerate() {
        let follows = r.node.master_link().is_some_and(|l| bus.server_by_port(l.port) == Some(id));
        if rid == id || !follows || markers.iter().any(|m| m.port == r.port) {
            continue;
        }
        let rinfo = r.node.info_replication();
        let offset: u64 = info_field(&rinfo, "slave_repl_offset").unwrap_or(0);
        let same_history = r.node.replication().cached_master.as_ref().map(|c| c.replid.as_str())
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
        markers.push(Marker { name: r.name.clone(), port: r.port, offset, x: 0.0, in_window: ok, connected: false, note });
    }
    for m in &mut markers {
        m.x = if m.in_window { x_of(&segments, m.offset + 1) } else { 0.0 };
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
        let labels: Vec<(&str, u64, u64)> = v.segments.iter().map(|s| (s.label.as_str(), s.start, s.end)).collect();
        assert_eq!(labels[..2], [("SELECT", 1, 23), ("SET", 24, 50)]);
        let set = &v.segments[1];
        assert_eq!(set.class, CmdClass::Set);
        assert_eq!(set.detail, "*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n");
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
        bus.submit_command(m, "CONFIG SET repl-backlog-size 16kb").unwrap();
        bus.advance(10);
        bus.cut(0, 1);
        let lines: Vec<String> = (0..3000).map(|i| format!("SET key:{i} v")).collect();
        bus.submit_pipe(m, &lines.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        bus.advance(10);
        let v = backlog_view(&bus, m);
        assert_eq!(v.size, 16 * 1024);
        assert!(v.first_byte_offset > 1, "the start of the history was trimmed");
        assert!(v.segments.len() <= MAX_SEGMENTS + 1, "{}", v.segments.len());
        assert!(v.merged.as_deref().unwrap().contains("commands: drawn as"), "{:?}", v.merged);
        assert!(v.segments.iter().any(|s| s.label.ends_with(" commands") && s.detail.contains("SET ×")));
        // The trimmed front may begin in the middle of a command.
        if v.segments[0].class == CmdClass::Partial {
            assert!(v.segments[0].start == v.first_byte_offset);
        }
        let mk = &v.markers[0];
        assert!(!mk.connected && !mk.in_window, "{mk:?}");
        assert!(mk.note.contains("next PSYNC will need a full resync"), "{}", mk.note);
        assert_eq!(v.legend.iter().find(|l| l.class == CmdClass::Set).map(|l| l.commands > 100), Some(true));
    }

    #[test]
    fn a_master_without_replicas_has_no_backlog() {
        let bus = {
            let mut b = Bus::new(1);
            b.add_server("alone", crate::engine::Config { port: 6390, ..Default::default() });
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
        assert_eq!(p.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["cut command", "SELECT", "PING"]);
    }
}
