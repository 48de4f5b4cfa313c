//! The stream inspector: the raw bytes delivered on one direction of a link between two
//! servers, decoded the way the protocol reference writes them (escaped RESP, one command
//! per line) or as hex, with the replication offsets each chunk and command covers.
//!
//! The bytes come from the bus's event log (`LogKind::Deliver`), not from the nodes:
//! what is shown is what travelled, chunk by chunk, as the receiver got it. Every
//! connection is decoded from its first byte, because the meaning of a byte depends on
//! what came before it (inside a snapshot payload, or the middle of a command cut across
//! two chunks); only the text of the chunks that are shown is built.

use std::cell::RefCell;
use std::rc::Rc;

use super::timeline::format_clock;
use crate::bus::{Bus, LogEntry, LogKind, ServerId};
use crate::engine::resp::{command_args, scan_command, Scan};
use crate::engine::ConnId;

/// Raw bytes shown before "show more" (newest chunks first back to this many).
pub const STREAM_SHOWN_BYTES: usize = 4096;
/// Characters of one decoded command before it is cut.
const LINE_CHARS: usize = 240;
const HEX_ROW: usize = 16;
/// The RDB format's magic: "REDIS" and a 4-digit version.
const RDB_HEADER_LEN: usize = 9;
/// Length of the random mark that ends a diskless (EOF-marked) payload.
const EOF_MARK_LEN: usize = 40;

/// Bytes as the protocol reference prints them: printable ASCII as is, `\r`, `\n`, `\t`,
/// `\\` and `\xNN` for the rest. No quotes around it.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 8);
    for &c in bytes {
        match c {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            c if c.is_ascii_graphic() || c == b' ' => s.push(c as char),
            c => s.push_str(&format!("\\x{c:02x}")),
        }
    }
    s
}

/// [`escape`] cut to `max` characters, saying how many bytes there were.
pub fn escape_cut(bytes: &[u8], max: usize) -> String {
    let s = escape(bytes);
    if s.chars().count() <= max {
        s
    } else {
        format!(
            "{}… ({} bytes)",
            s.chars().take(max).collect::<String>(),
            bytes.len()
        )
    }
}

/// The command's name in capitals, and for REPLCONF its subcommand (`REPLCONF GETACK`).
pub(crate) fn command_name(command: &[u8]) -> String {
    let mut args = command_args(command);
    let mut word = || {
        args.next()
            .map(|w| String::from_utf8_lossy(w).to_ascii_uppercase())
    };
    let name = word().unwrap_or_default();
    match word() {
        Some(sub) if name == "REPLCONF" => format!("REPLCONF {sub}"),
        _ => name,
    }
}

// ------------------------------------------------------------------ the view model

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkChoice {
    pub from: ServerId,
    pub to: ServerId,
    /// `master → replica-1 (6380 → 6381)`
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// A RESP command (the stream, or a replica's handshake and ACKs).
    Command,
    /// A reply line (`+PONG`, `+FULLRESYNC ...`, `+CONTINUE ...`) or a payload header.
    Reply,
    /// A snapshot payload, summarised.
    Rdb,
    /// The lone newline a master sends to keep a waiting replica's link alive.
    Newline,
    /// Bytes that are not RESP.
    Raw,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Command => "command",
            LineKind::Reply => "reply",
            LineKind::Rdb => "rdb",
            LineKind::Newline => "newline",
            LineKind::Raw => "raw",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamLine {
    pub kind: LineKind,
    /// Escaped bytes (cut when long), or for a payload its summary.
    pub text: String,
    /// A word for the line: `SET`, `+CONTINUE`, `RDB` ...
    pub label: String,
    /// Replication offsets of the line's first and last byte, on a master→replica stream.
    pub offsets: Option<(u64, u64)>,
    /// The payload escaped in full (up to the shown-bytes cap), when asked for.
    pub full: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkView {
    /// Log index of the delivery.
    pub index: u64,
    pub time: String,
    pub conn: ConnId,
    pub bytes: usize,
    /// Replication offsets the chunk moved the replica through (first, last byte applied).
    pub offsets: Option<(u64, u64)>,
    pub lines: Vec<StreamLine>,
    /// Hex dump rows, when the hex view is on.
    pub hex: Vec<String>,
    /// A new connection starts with this chunk.
    pub new_conn: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamView {
    pub links: Vec<LinkChoice>,
    pub chosen: Option<(ServerId, ServerId)>,
    pub hex: bool,
    pub show_rdb: bool,
    pub total_bytes: usize,
    pub total_chunks: usize,
    /// Older chunks left out for the byte cap.
    pub hidden_chunks: usize,
    pub hidden_bytes: usize,
    pub chunks: Vec<ChunkView>,
}

/// Every direction that carried bytes between two servers, plus the current master links
/// (which may have carried nothing yet), in order of first appearance.
fn link_choices(bus: &Bus) -> Vec<LinkChoice> {
    let mut pairs: Vec<(ServerId, ServerId)> = Vec::new();
    let add = |a: ServerId, b: ServerId, pairs: &mut Vec<(ServerId, ServerId)>| {
        if !pairs
            .iter()
            .any(|&(x, y)| (x, y) == (a, b) || (x, y) == (b, a))
        {
            pairs.push((a, b));
        }
    };
    for (id, s) in bus.servers().iter().enumerate() {
        if let Some(m) = s
            .node
            .master_link()
            .and_then(|l| bus.server_by_port(l.port))
        {
            add(m, id, &mut pairs);
        }
    }
    for e in bus.log() {
        if let (
            Some(to),
            LogKind::Deliver {
                from: Some(from), ..
            },
        ) = (e.server, &e.kind)
        {
            // The side that receives offsets is the replica: name the master first.
            if e.repl_offsets.is_some() {
                add(*from, to, &mut pairs);
            } else {
                add(to, *from, &mut pairs);
            }
        }
    }
    let name = |id: ServerId| bus.server(id).name.clone();
    let port = |id: ServerId| bus.server(id).port;
    pairs
        .into_iter()
        .flat_map(|(a, b)| [(a, b), (b, a)])
        .map(|(from, to)| LinkChoice {
            from,
            to,
            label: format!(
                "{} → {} ({} → {})",
                name(from),
                name(to),
                port(from),
                port(to)
            ),
        })
        .collect()
}

/// Where a connection's decoder stands between chunks.
#[derive(Clone, Default)]
enum Mode {
    #[default]
    Lines,
    /// A `$<len>` payload with this many bytes still to come.
    RdbLen { left: usize },
    /// A diskless payload that ends with `mark`. `tail` holds the last bytes read that
    /// could be the start of the mark.
    RdbEof { mark: Vec<u8>, tail: Vec<u8> },
}

/// A payload being read: where its summary line is, and what it held so far.
#[derive(Clone)]
struct Payload {
    at: (usize, usize),
    eof_marked: bool,
    len: usize,
    header: Vec<u8>,
    kept: Vec<u8>,
}

/// The lines of the chunks being shown, numbered from `first` (the chunk's place in the
/// link's history). Chunks before it are decoded only to know where the stream stands.
#[derive(Default)]
struct Out {
    first: usize,
    lines: Vec<Vec<StreamLine>>,
}

impl Out {
    fn at(&mut self, chunk: usize) -> Option<&mut Vec<StreamLine>> {
        chunk
            .checked_sub(self.first)
            .and_then(|i| self.lines.get_mut(i))
    }
}

/// Decodes the chunks of one connection in order.
#[derive(Clone, Default)]
struct Decoder {
    mode: Mode,
    carry: Vec<u8>,
    /// Offset of the next stream byte, once the stream started and its offset is known.
    next_offset: Option<u64>,
    payload: Option<Payload>,
    /// Bytes of payload to keep for "show the RDB" (0: summarise only).
    keep_rdb: usize,
}

impl Decoder {
    /// Decodes one chunk; pushes lines to `out[chunk]` when `render`. `before` is the
    /// replica's applied offset before the chunk, when it arrived on a master link.
    fn chunk(
        &mut self,
        data: &[u8],
        before: Option<u64>,
        chunk: usize,
        out: &mut Out,
        render: bool,
    ) {
        let mut buf = std::mem::take(&mut self.carry);
        buf.extend_from_slice(data);
        let mut pos = 0;
        let push = |out: &mut Out, line: StreamLine| -> usize {
            match out.at(chunk) {
                Some(lines) => {
                    lines.push(line);
                    lines.len() - 1
                }
                None => 0,
            }
        };
        while pos < buf.len() {
            match &mut self.mode {
                Mode::RdbLen { left } => {
                    let left = *left;
                    let take = left.min(buf.len() - pos);
                    self.payload_bytes(&buf[pos..pos + take]);
                    pos += take;
                    if left == take {
                        self.finish_payload(out, chunk, render);
                    } else {
                        self.mode = Mode::RdbLen { left: left - take };
                        if render {
                            self.continued_payload(out, chunk, take);
                        }
                    }
                }
                Mode::RdbEof { mark, tail } => {
                    // `tail`: bytes read but not counted yet, since they could begin the mark.
                    let mark = mark.clone();
                    let mut window = std::mem::take(tail);
                    let tail_len = window.len();
                    window.extend_from_slice(&buf[pos..]);
                    match window
                        .windows(EOF_MARK_LEN)
                        .position(|w| w == mark.as_slice())
                    {
                        Some(i) => {
                            self.payload_bytes(&window[..i]);
                            pos += i + EOF_MARK_LEN - tail_len;
                            self.finish_payload(out, chunk, render);
                        }
                        None => {
                            let sure = window.len() - window.len().min(EOF_MARK_LEN - 1);
                            self.payload_bytes(&window[..sure]);
                            if render {
                                self.continued_payload(out, chunk, buf.len() - pos);
                            }
                            pos = buf.len();
                            self.mode = Mode::RdbEof {
                                mark,
                                tail: window[sure..].to_vec(),
                            };
                        }
                    }
                }
                Mode::Lines => match buf[pos] {
                    b'\n' => {
                        if render {
                            push(out, line(LineKind::Newline, "\\n".into(), "newline", None));
                        }
                        pos += 1;
                    }
                    b'*' => match scan_command(&buf[pos..]) {
                        Scan::Command { len, .. } => {
                            let bytes = &buf[pos..pos + len];
                            let offsets = self.next_offset.map(|o| {
                                self.next_offset = Some(o + len as u64);
                                (o, o + len as u64 - 1)
                            });
                            if render {
                                let name = command_name(bytes);
                                push(
                                    out,
                                    line(
                                        LineKind::Command,
                                        escape_cut(bytes, LINE_CHARS),
                                        &name,
                                        offsets,
                                    ),
                                );
                            }
                            pos += len;
                        }
                        Scan::Incomplete => break,
                        Scan::Invalid => {
                            if render {
                                push(
                                    out,
                                    line(
                                        LineKind::Raw,
                                        escape_cut(&buf[pos..], LINE_CHARS),
                                        "not RESP",
                                        None,
                                    ),
                                );
                            }
                            pos = buf.len();
                        }
                    },
                    first @ (b'+' | b'-' | b':' | b'$') => {
                        let Some(end) = buf[pos..].windows(2).position(|w| w == b"\r\n") else {
                            break;
                        };
                        let text = &buf[pos..pos + end];
                        let label = String::from_utf8_lossy(
                            text.split(|&b| b == b' ').next().unwrap_or_default(),
                        )
                        .into_owned();
                        let shown = escape_cut(&buf[pos..pos + end + 2], LINE_CHARS);
                        pos += end + 2;
                        if first == b'$' {
                            // A payload: on a master link a `$` at the top level is only ever
                            // the snapshot (the handshake's replies are simple strings).
                            let at = if render {
                                push(out, line(LineKind::Reply, shown, "payload header", None));
                                push(out, line(LineKind::Rdb, String::new(), "RDB", None))
                            } else {
                                0
                            };
                            if let Some(mark) = text.strip_prefix(b"$EOF:") {
                                self.mode = Mode::RdbEof {
                                    mark: mark.to_vec(),
                                    tail: Vec::new(),
                                };
                                self.start_payload((chunk, at), true);
                            } else {
                                let len = crate::engine::resp::parse_i64(&text[1..])
                                    .unwrap_or(0)
                                    .max(0) as usize;
                                self.mode = Mode::RdbLen { left: len };
                                self.start_payload((chunk, at), false);
                                if len == 0 {
                                    self.finish_payload(out, chunk, render);
                                }
                            }
                            continue;
                        }
                        if let Some(rest) = text.strip_prefix(b"+FULLRESYNC ") {
                            // The stream continues from the snapshot's offset.
                            let off = rest
                                .split(|&b| b == b' ')
                                .nth(1)
                                .and_then(crate::engine::resp::parse_i64);
                            self.next_offset = off.map(|o| o as u64 + 1);
                        } else if text.starts_with(b"+CONTINUE") {
                            // The backlog's bytes follow from the replica's own offset on.
                            self.next_offset = before.map(|b| b + 1);
                        }
                        if render {
                            push(out, line(LineKind::Reply, shown, &label, None));
                        }
                    }
                    _ => {
                        // An inline command or garbage: up to the end of the line.
                        let end = buf[pos..]
                            .iter()
                            .position(|&b| b == b'\n')
                            .map_or(buf.len(), |e| pos + e + 1);
                        if render {
                            push(
                                out,
                                line(
                                    LineKind::Raw,
                                    escape_cut(&buf[pos..end], LINE_CHARS),
                                    "inline",
                                    None,
                                ),
                            );
                        }
                        pos = end;
                    }
                },
            }
        }
        if pos < buf.len() {
            self.carry = buf[pos..].to_vec();
        }
    }

    fn start_payload(&mut self, at: (usize, usize), eof_marked: bool) {
        self.payload = Some(Payload {
            at,
            eof_marked,
            len: 0,
            header: Vec::new(),
            kept: Vec::new(),
        });
    }

    fn payload_bytes(&mut self, bytes: &[u8]) {
        let keep = self.keep_rdb;
        if let Some(p) = &mut self.payload {
            p.len += bytes.len();
            let need = RDB_HEADER_LEN.saturating_sub(p.header.len());
            p.header.extend_from_slice(&bytes[..need.min(bytes.len())]);
            let room = keep.saturating_sub(p.kept.len());
            p.kept.extend_from_slice(&bytes[..room.min(bytes.len())]);
        }
    }

    /// A chunk that is all payload gets a line saying so.
    fn continued_payload(&self, out: &mut Out, chunk: usize, bytes: usize) {
        if let (Some(p), Some(lines)) = (&self.payload, out.at(chunk)) {
            if p.at.0 != chunk {
                lines.push(line(
                    LineKind::Rdb,
                    format!("… {bytes} more bytes of the RDB payload"),
                    "RDB",
                    None,
                ));
            }
        }
    }

    fn finish_payload(&mut self, out: &mut Out, chunk: usize, render: bool) {
        self.mode = Mode::Lines;
        let Some(p) = self.payload.take() else { return };
        let header = if p.header.starts_with(b"REDIS") {
            format!("header \"{}\"", escape(&p.header))
        } else {
            format!("no RDB header (starts \"{}\")", escape(&p.header))
        };
        let framing = if p.eof_marked {
            "diskless: ended by the 40-byte EOF mark"
        } else {
            "disk-based: length given up front"
        };
        let summary = format!("RDB payload: {} bytes, {header} ({framing})", p.len);
        if let Some(l) = out
            .at(p.at.0)
            .and_then(|lines| lines.get_mut(p.at.1))
            .filter(|l| l.kind == LineKind::Rdb)
        {
            l.text = summary;
            if self.keep_rdb > 0 {
                let mut full = escape(&p.kept);
                if p.kept.len() < p.len {
                    full.push_str(&format!("… ({} of {} bytes shown)", p.kept.len(), p.len));
                }
                l.full = Some(full);
            }
        }
        if let Some(lines) = out.at(chunk).filter(|_| render && p.at.0 != chunk) {
            lines.push(line(
                LineKind::Rdb,
                format!("end of the RDB payload ({} bytes in all)", p.len),
                "RDB",
                None,
            ));
        }
        // After a snapshot the stream starts (its offset came with +FULLRESYNC).
    }
}

fn line(kind: LineKind, text: String, label: &str, offsets: Option<(u64, u64)>) -> StreamLine {
    StreamLine {
        kind,
        text,
        label: label.to_string(),
        offsets,
        full: None,
    }
}

/// Hex dump rows: `0000  2a 31 0d 0a …  *1..`.
pub fn hex_rows(data: &[u8]) -> Vec<String> {
    data.chunks(HEX_ROW)
        .enumerate()
        .map(|(i, row)| {
            let hex: Vec<String> = row.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = row
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!(
                "{:04x}  {:<w$}  {ascii}",
                i * HEX_ROW,
                hex.join(" "),
                w = HEX_ROW * 3 - 1
            )
        })
        .collect()
}

/// The stream inspector's part of the inspection panels' state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamUi {
    /// The direction `(from, to)` shown.
    pub link: Option<(ServerId, ServerId)>,
    pub hex: bool,
    /// Raw bytes shown, newest first back to this many.
    pub limit: usize,
    /// Dump snapshot payloads instead of summarising them.
    pub show_rdb: bool,
    /// The decoders as the last redraw left them.
    pub cache: StreamCache,
}

impl Default for StreamUi {
    fn default() -> Self {
        StreamUi {
            link: None,
            hex: false,
            limit: STREAM_SHOWN_BYTES,
            show_rdb: false,
            cache: StreamCache::default(),
        }
    }
}

/// The stream inspector for the chosen direction (or a sensible default: the selected
/// server's master link, master → replica).
pub fn stream_view(bus: &Bus, selected: ServerId, ui: &StreamUi) -> StreamView {
    let links = link_choices(bus);
    let chosen = ui
        .link
        .filter(|c| links.iter().any(|l| (l.from, l.to) == *c))
        .or_else(|| {
            // The selected server's own master link, else a link of it as master.
            let by_to = links
                .iter()
                .find(|l| l.to == selected && bus.server(selected).node.master_link().is_some());
            by_to
                .or_else(|| links.iter().find(|l| l.from == selected))
                .or(links.first())
                .map(|l| (l.from, l.to))
        });
    let mut view = StreamView {
        links,
        chosen,
        hex: ui.hex,
        show_rdb: ui.show_rdb,
        total_bytes: 0,
        total_chunks: 0,
        hidden_chunks: 0,
        hidden_bytes: 0,
        chunks: Vec::new(),
    };
    let Some((from, to)) = chosen else {
        return view;
    };
    let log = bus.log();
    let keep_rdb = if ui.show_rdb { ui.limit } else { 0 };
    let mut kept = ui.cache.0.borrow_mut();
    kept.catch_up(bus, (from, to), keep_rdb);
    view.total_chunks = kept.folded_chunks + kept.pending.len();
    view.total_bytes = kept.folded_bytes + kept.pending.iter().map(|c| c.len).sum::<usize>();
    // Newest chunks back to the cap (always at least the newest one).
    let mut shown_from = kept.pending.len();
    let mut budget = ui.limit;
    while shown_from > 0
        && (shown_from == kept.pending.len() || kept.pending[shown_from - 1].len <= budget)
    {
        shown_from -= 1;
        budget = budget.saturating_sub(kept.pending[shown_from].len);
    }
    if shown_from == 0 && kept.folded_chunks > 0 && kept.last_folded_len <= budget {
        // "Show more" reaches back past what was folded away: decode the link afresh.
        kept.reset((from, to), keep_rdb);
        drop(kept);
        return stream_view(bus, selected, ui);
    }
    // Chunks that left the shown window are decoded once more, without lines, and folded
    // into the decoders' state: the next redraw starts from there.
    let leaving: Vec<PendingChunk> = kept.pending.drain(..shown_from).collect();
    for c in &leaving {
        let data = delivered(&log[c.position]);
        let mut nothing = Out::default();
        let chunk = kept.folded_chunks;
        kept.decoder(c.conn).chunk(
            data,
            log[c.position].repl_offsets.map(|(b, _)| b),
            chunk,
            &mut nothing,
            false,
        );
        kept.folded_chunks += 1;
        kept.folded_bytes += data.len();
        kept.last_folded_len = data.len();
        kept.last_conn = Some(c.conn);
    }
    view.hidden_chunks = kept.folded_chunks;
    view.hidden_bytes = kept.folded_bytes;

    let first = kept.folded_chunks;
    let mut out = Out {
        first,
        lines: vec![Vec::new(); kept.pending.len()],
    };
    let mut decoders = kept.decoders.clone();
    let mut hex_budget = ui.limit;
    let mut last_conn = kept.last_conn;
    for (i, c) in kept.pending.iter().enumerate() {
        let e = &log[c.position];
        let data = delivered(e);
        let d = match decoders.iter().position(|(conn, _)| *conn == c.conn) {
            Some(k) => &mut decoders[k].1,
            None => {
                decoders.push((
                    c.conn,
                    Decoder {
                        keep_rdb,
                        ..Decoder::default()
                    },
                ));
                &mut decoders.last_mut().expect("just pushed").1
            }
        };
        d.chunk(
            data,
            e.repl_offsets.map(|(b, _)| b),
            first + i,
            &mut out,
            true,
        );
        let new_conn = last_conn != Some(c.conn);
        last_conn = Some(c.conn);
        let hex = if ui.hex {
            let n = data.len().min(hex_budget.max(HEX_ROW));
            hex_budget = hex_budget.saturating_sub(n);
            let mut rows = hex_rows(&data[..n]);
            if n < data.len() {
                rows.push(format!("… {} more bytes (show more)", data.len() - n));
            }
            rows
        } else {
            Vec::new()
        };
        view.chunks.push(ChunkView {
            index: e.index,
            time: format_clock(e.time),
            conn: c.conn,
            bytes: data.len(),
            offsets: e
                .repl_offsets
                .filter(|(b, a)| a > b)
                .map(|(b, a)| (b + 1, a)),
            lines: Vec::new(),
            hex,
            new_conn,
        });
    }
    for (chunk, l) in view.chunks.iter_mut().zip(out.lines) {
        chunk.lines = l;
    }
    view
}

fn delivered(e: &LogEntry) -> &[u8] {
    match &e.kind {
        LogKind::Deliver { data, .. } => data,
        _ => &[],
    }
}

/// A chunk of the chosen link not yet folded into the decoders: where it is in the log.
#[derive(Clone, Copy)]
struct PendingChunk {
    position: usize,
    conn: ConnId,
    len: usize,
}

/// What the stream inspector decoded on earlier redraws. A byte's meaning depends on
/// everything before it on its connection, so the decoders' state after the chunks that
/// left the window is kept, and a redraw decodes only the chunks still shown: its cost
/// follows the cap, not the length of the run.
///
/// The log it read stays valid while the bus discards no recorded future
/// ([`Bus::timeline_rewrites`]) and the visible log does not shrink (a jump back); else
/// it starts over. A cache, not state: shared by the clones of the page state and never
/// makes two states differ.
#[derive(Clone, Default)]
pub struct StreamCache(Rc<RefCell<DecodedStream>>);

impl PartialEq for StreamCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for StreamCache {}

impl std::fmt::Debug for StreamCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0.borrow();
        write!(
            f,
            "StreamCache({:?}, {} folded, {} pending)",
            d.link,
            d.folded_chunks,
            d.pending.len()
        )
    }
}

#[derive(Default)]
struct DecodedStream {
    link: Option<(ServerId, ServerId)>,
    keep_rdb: usize,
    rewrites: u64,
    /// Log entries read so far.
    scanned: usize,
    decoders: Vec<(ConnId, Decoder)>,
    folded_chunks: usize,
    folded_bytes: usize,
    last_folded_len: usize,
    /// The connection of the last folded chunk (a new connection gets a separator).
    last_conn: Option<ConnId>,
    pending: Vec<PendingChunk>,
}

impl DecodedStream {
    fn reset(&mut self, link: (ServerId, ServerId), keep_rdb: usize) {
        *self = DecodedStream {
            link: Some(link),
            keep_rdb,
            ..DecodedStream::default()
        };
    }

    /// Reads the log entries that arrived since the last redraw.
    fn catch_up(&mut self, bus: &Bus, link: (ServerId, ServerId), keep_rdb: usize) {
        let log = bus.log();
        if self.link != Some(link)
            || self.keep_rdb != keep_rdb
            || self.rewrites != bus.timeline_rewrites()
            || log.len() < self.scanned
        {
            self.reset(link, keep_rdb);
            self.rewrites = bus.timeline_rewrites();
        }
        let (from, to) = link;
        for (position, e) in (self.scanned..).zip(log.range(self.scanned..)) {
            if let LogKind::Deliver {
                conn,
                from: Some(f),
                data,
            } = &e.kind
            {
                if *f == from && e.server == Some(to) {
                    self.pending.push(PendingChunk {
                        position,
                        conn: *conn,
                        len: data.len(),
                    });
                }
            }
        }
        self.scanned = log.len();
    }

    fn decoder(&mut self, conn: ConnId) -> &mut Decoder {
        let k = match self.decoders.iter().position(|(c, _)| *c == conn) {
            Some(k) => k,
            None => {
                self.decoders.push((
                    conn,
                    Decoder {
                        keep_rdb: self.keep_rdb,
                        ..Decoder::default()
                    },
                ));
                self.decoders.len() - 1
            }
        };
        &mut self.decoders[k].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::test_bed::TestBed;

    fn synced() -> Bus {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        bus.submit_command(m, "SET k v").unwrap();
        bus.advance(4_000);
        bus
    }

    fn all_lines(v: &StreamView) -> Vec<&StreamLine> {
        v.chunks.iter().flat_map(|c| c.lines.iter()).collect()
    }

    #[test]
    fn escapes_like_the_protocol_reference() {
        assert_eq!(
            escape(b"*1\r\n$4\r\nPING\r\n"),
            "*1\\r\\n$4\\r\\nPING\\r\\n"
        );
        assert_eq!(escape(b"a\x00\\"), "a\\x00\\\\");
    }

    #[test]
    fn master_to_replica_shows_handshake_replies_rdb_and_the_stream_with_offsets() {
        let bus = synced();
        let v = stream_view(
            &bus,
            1,
            &StreamUi {
                limit: 1 << 20,
                ..StreamUi::default()
            },
        );
        assert_eq!(
            v.chosen,
            Some((0, 1)),
            "a replica's own master link, master first"
        );
        assert_eq!(
            v.links.iter().map(|l| l.label.as_str()).collect::<Vec<_>>(),
            [
                "master → replica-0 (6380 → 6381)",
                "replica-0 → master (6381 → 6380)"
            ]
        );
        let lines = all_lines(&v);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(texts[0], "+PONG\\r\\n");
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("+FULLRESYNC ") && t.ends_with(" 0\\r\\n")),
            "{texts:?}"
        );
        let rdb = lines.iter().find(|l| l.kind == LineKind::Rdb).unwrap();
        assert!(rdb.text.starts_with("RDB payload: "), "{}", rdb.text);
        assert!(rdb.text.contains("header \"REDIS0010\""), "{}", rdb.text);
        assert!(rdb.text.contains("diskless"), "{}", rdb.text);
        assert_eq!(rdb.full, None, "summarised unless asked");
        assert!(
            lines.iter().filter(|l| l.kind == LineKind::Newline).count() >= 4,
            "keepalive newlines while waiting"
        );
        // After the snapshot at offset 0: SELECT and SET, then the master's PING.
        #[allow(clippy::type_complexity)]
        let cmds: Vec<(&str, &str, Option<(u64, u64)>)> = lines
            .iter()
            .filter(|l| l.kind == LineKind::Command)
            .map(|l| (l.label.as_str(), l.text.as_str(), l.offsets))
            .collect();
        assert_eq!(
            cmds[0],
            (
                "SELECT",
                "*2\\r\\n$6\\r\\nSELECT\\r\\n$1\\r\\n0\\r\\n",
                Some((1, 23))
            )
        );
        assert_eq!(
            cmds[1],
            (
                "SET",
                "*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n",
                Some((24, 50))
            )
        );
        assert_eq!(
            cmds[2],
            ("PING", "*1\\r\\n$4\\r\\nping\\r\\n", Some((51, 64)))
        );
        let set_chunk = v
            .chunks
            .iter()
            .find(|c| c.lines.iter().any(|l| l.label == "SET"))
            .unwrap();
        assert_eq!(set_chunk.offsets, Some((1, 50)));
    }

    #[test]
    fn replica_to_master_shows_ping_replconf_psync_and_acks() {
        let bus = synced();
        let ui = StreamUi {
            link: Some((1, 0)),
            limit: 1 << 20,
            ..StreamUi::default()
        };
        let v = stream_view(&bus, 0, &ui);
        let lines = all_lines(&v);
        assert_eq!(lines[0].text, "*1\\r\\n$4\\r\\nPING\\r\\n");
        let labels: Vec<&str> = lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(
            &labels[..4],
            ["PING", "REPLCONF LISTENING-PORT", "REPLCONF CAPA", "PSYNC"]
        );
        assert!(labels.contains(&"REPLCONF ACK"));
        assert!(
            lines.iter().all(|l| l.offsets.is_none()),
            "the replica's own commands are not stream bytes"
        );
    }

    #[test]
    fn the_cap_shows_the_newest_chunks_and_hex_and_rdb_on_request() {
        let bus = synced();
        let small = StreamUi {
            limit: 64,
            link: Some((0, 1)),
            ..StreamUi::default()
        };
        let v = stream_view(&bus, 0, &small);
        assert!(v.hidden_chunks > 0 && v.hidden_bytes > 0);
        assert!(v.chunks.iter().map(|c| c.bytes).sum::<usize>() <= 64);
        assert_eq!(v.chunks.last().unwrap().lines[0].label, "PING");
        let mut inspect = super::super::inspect::InspectUi {
            stream: small.clone(),
            ..Default::default()
        };
        inspect.apply(super::super::inspect::InspectAction::ShowMore);
        assert_eq!(inspect.stream.limit, 128);
        let mut ui = small.clone();
        ui.limit = 1 << 20;
        ui.hex = true;
        ui.show_rdb = true;
        let v = stream_view(&bus, 0, &ui);
        assert_eq!(v.hidden_chunks, 0);
        assert_eq!(
            v.chunks[0].hex,
            vec![format!("0000  {:<47}  +PONG..", "2b 50 4f 4e 47 0d 0a")]
        );
        let rdb = v
            .chunks
            .iter()
            .flat_map(|c| &c.lines)
            .find(|l| l.kind == LineKind::Rdb)
            .unwrap();
        assert!(
            rdb.full.as_deref().unwrap().starts_with("REDIS0010"),
            "{:?}",
            rdb.full
        );
    }

    #[test]
    fn continue_carries_the_backlog_bytes_with_their_offsets() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        bus.submit_command(m, "SET k v").unwrap();
        bus.advance(100);
        bus.cut(0, 1);
        bus.submit_command(m, "SET k2 v2").unwrap();
        bus.advance(100);
        bus.heal(0, 1);
        bus.advance(1_500);
        let v = stream_view(
            &bus,
            1,
            &StreamUi {
                limit: 1 << 20,
                ..StreamUi::default()
            },
        );
        let c = v
            .chunks
            .iter()
            .find(|c| c.lines.iter().any(|l| l.label == "+CONTINUE"))
            .unwrap();
        assert!(c.new_conn || v.chunks.iter().any(|c| c.new_conn));
        assert_eq!(c.offsets, Some((51, 79)));
        let set = c.lines.iter().find(|l| l.label == "SET").unwrap();
        assert_eq!(set.offsets, Some((51, 79)));
        assert_eq!(
            set.text,
            "*3\\r\\n$3\\r\\nSET\\r\\n$2\\r\\nk2\\r\\n$2\\r\\nv2\\r\\n"
        );
    }

    #[test]
    fn a_command_cut_across_chunks_and_a_cut_payload_decode_whole() {
        let mut d = Decoder::default();
        let mut out = Out {
            first: 0,
            lines: vec![Vec::new(); 4],
        };
        let mark = "m".repeat(40);
        let payload =
            format!("+FULLRESYNC abc 7\r\n$EOF:{mark}\r\nREDIS0010xyz{mark}*1\r\n$4\r\nPI");
        let (a, b) = payload.as_bytes().split_at(40);
        d.chunk(a, None, 0, &mut out, true);
        d.chunk(b, None, 1, &mut out, true);
        d.chunk(b"NG\r\n", None, 2, &mut out, true);
        assert_eq!(
            out.lines[0].len(),
            1,
            "the payload header is cut: it waits for the next chunk"
        );
        let rdb = out.lines[1]
            .iter()
            .find(|l| l.kind == LineKind::Rdb)
            .unwrap();
        assert_eq!(
            rdb.text,
            "RDB payload: 12 bytes, header \"REDIS0010\" (diskless: ended by the 40-byte EOF mark)"
        );
        assert_eq!(out.lines[2][0].label, "PING");
        assert_eq!(out.lines[2][0].offsets, Some((8, 21)));
        // A disk-based payload split in three.
        let mut d = Decoder::default();
        let mut out = Out {
            first: 0,
            lines: vec![Vec::new(); 3],
        };
        d.chunk(
            b"+FULLRESYNC abc 0\r\n$12\r\nREDIS0",
            None,
            0,
            &mut out,
            true,
        );
        d.chunk(b"010", None, 1, &mut out, true);
        d.chunk(b"xyz*1\r\n$4\r\nPING\r\n", None, 2, &mut out, true);
        assert!(
            out.lines[0][2]
                .text
                .starts_with("RDB payload: 12 bytes, header \"REDIS0010\" (disk-based"),
            "{:?}",
            out.lines[0]
        );
        assert_eq!(out.lines[1][0].text, "… 3 more bytes of the RDB payload");
        assert_eq!(out.lines[2].last().unwrap().offsets, Some((1, 14)));
    }

    #[test]
    fn kept_decoding_equals_decoding_afresh_through_writes_jumps_rewrites_and_show_more() {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 1);
        let kept = StreamUi {
            limit: 300,
            ..StreamUi::default()
        };
        let same = |bus: &Bus, ui: &StreamUi| {
            let fresh = StreamUi {
                cache: StreamCache::default(),
                ..ui.clone()
            };
            assert_eq!(stream_view(bus, 1, ui), stream_view(bus, 1, &fresh));
        };
        for i in 0..40 {
            bus.submit_command(m, &format!("SET key:{i} {}", "v".repeat(i * 7)))
                .unwrap();
            bus.advance(30);
            same(&bus, &kept);
        }
        let v = stream_view(&bus, 1, &kept);
        assert!(
            v.hidden_chunks > 0 && !v.chunks.is_empty(),
            "the cap hides the older chunks"
        );
        // Back in time, forward again, and a different future written after a jump back.
        let end = bus.log().len();
        bus.jump_to(end / 2).unwrap();
        same(&bus, &kept);
        bus.jump_to_end();
        same(&bus, &kept);
        bus.jump_to(end / 2).unwrap();
        bus.submit_command(m, "SET another future").unwrap();
        bus.advance(50);
        same(&bus, &kept);
        // "Show more" reaches back past what the cache folded away.
        let more = StreamUi {
            limit: 1 << 20,
            ..kept.clone()
        };
        same(&bus, &more);
        assert_eq!(stream_view(&bus, 1, &more).hidden_chunks, 0);
    }
}
