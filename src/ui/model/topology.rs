//! The topology view's model: every server as a node, every replication link as an edge,
//! every chunk of bytes on its way as a dot along the line between its two servers, and the
//! actions the view offers (servers, links, faults, REPLICAOF).
//!
//! Positions are computed here, in plain integers, so the same cluster always draws the
//! same picture and native tests can check it. Masters sit above their replicas: a
//! server's row is how many master links lead from it to a server that replicates from
//! nobody (a replica of a replica goes one row further down).

use crate::bus::{Bus, Fault, InFlight, LinkConfig, ServerId, DEFAULT_LATENCY_MS};
use crate::engine::replication::LinkStateName;
use crate::engine::{sort, Role};
use crate::scenario::Action;

/// The most servers the playground runs at once.
pub const MAX_SERVERS: usize = 8;
/// Added servers take the first free port from here on.
pub const FIRST_PORT: u16 = 6380;
/// Latencies the view offers for a link (one way, both directions), in milliseconds.
pub const LATENCIES_MS: [u64; 5] = [DEFAULT_LATENCY_MS, 20, 100, 500, 2_000];

/// Drawing units (the SVG's viewBox).
pub const NODE_W: i32 = 176;
pub const NODE_H: i32 = 104;
const COL_PITCH: i32 = 200;
const ROW_PITCH: i32 = 176;
const MARGIN: i32 = 16;
/// Servers per drawn row: a master with seven replicas wraps onto two rows.
const COLUMNS: usize = 4;
/// The drawing is as wide as its widest row, but never narrower than three servers.
const MIN_COLUMNS: usize = 3;
/// Dots drawn at most; the rest is counted.
const MESSAGES_DRAWN: usize = 64;

/// What the topology view asks the bus to do.
#[derive(Clone, Debug, PartialEq)]
pub enum TopologyAction {
    /// A new, empty master on the next free port.
    AddServer,
    /// Down for good (as in a crash), hidden from the views; its id stays taken.
    RemoveServer(ServerId),
    /// `REPLICAOF 127.0.0.1 <port of master>` (or `REPLICAOF NO ONE`) typed into the
    /// server's console, so its transcript shows it.
    ReplicaOf {
        server: ServerId,
        master: Option<ServerId>,
    },
    /// One-way latency of both directions between the two.
    SetLatency { a: ServerId, b: ServerId, ms: u64 },
    /// A fault on a link or a server, as the bus injects it.
    Fault(Fault),
}

/// What `action` means as scenario actions (none when there is nothing to do), or why
/// it cannot be done.
pub fn plan(bus: &Bus, action: TopologyAction) -> Result<Vec<Action>, String> {
    let name = |id: ServerId| &bus.server(id).name;
    let one = |a: Action| Ok(vec![a]);
    match action {
        TopologyAction::AddServer => {
            if shown(bus).len() >= MAX_SERVERS {
                return Err(format!(
                    "The playground runs at most {MAX_SERVERS} servers: remove one first."
                ));
            }
            let port = next_port(bus).ok_or("No free port left.")?;
            one(Action::AddServer {
                at: 0,
                name: format!("redis-{port}"),
                port: port.into(),
                config: Default::default(),
            })
        }
        TopologyAction::RemoveServer(id) => {
            if shown(bus).len() <= 1 {
                return Err("The playground keeps at least one server.".into());
            }
            check_shown(bus, id)?;
            one(Action::Remove { at: 0, server: id })
        }
        TopologyAction::ReplicaOf { server, master } => {
            check_shown(bus, server)?;
            let line = match master {
                None => "REPLICAOF NO ONE".to_string(),
                Some(m) => {
                    check_shown(bus, m)?;
                    if m == server {
                        return Err("A server cannot replicate from itself.".into());
                    }
                    format!("REPLICAOF 127.0.0.1 {}", bus.server(m).port)
                }
            };
            // Typed, so the server's transcript shows it.
            one(Action::Command {
                at: 0,
                server,
                line,
            })
        }
        TopologyAction::SetLatency { a, b, ms } => {
            check_pair(bus, a, b)?;
            let mut out = Vec::new();
            for (from, to) in [(a, b), (b, a)] {
                let now = bus.link(from, to);
                if now.latency_ms != ms {
                    let config = LinkConfig {
                        latency_ms: ms,
                        ..now
                    };
                    out.push(Action::fault(Fault::SetLink { from, to, config }));
                }
            }
            Ok(out)
        }
        TopologyAction::Fault(fault) => {
            match fault.servers()[..] {
                [a, b] => check_pair(bus, a, b)?,
                [id] => check_shown(bus, id)?,
                _ => {}
            }
            let down = |id: ServerId| !bus.is_up(id);
            match fault {
                Fault::Hold { from, to } if bus.is_held(from, to) => return Ok(vec![]),
                Fault::Release { from, to } if !bus.is_held(from, to) => return Ok(vec![]),
                Fault::Crash { server } if down(server) => {
                    return Err(format!("{} is already down.", name(server)));
                }
                Fault::Pause { server } if down(server) || bus.is_paused(server) => {
                    return Err(format!(
                        "{} is not running, so it cannot be paused.",
                        name(server)
                    ));
                }
                Fault::Resume { server } if !bus.is_paused(server) => {
                    return Err(format!("{} is not paused.", name(server)));
                }
                Fault::Save { server } if down(server) => {
                    return Err(format!("{} is down: nothing to save.", name(server)));
                }
                _ => {}
            }
            one(Action::fault(fault))
        }
    }
}

/// The first port from [`FIRST_PORT`] no server has (removed servers keep theirs, so old
/// log lines never name a port that now means another server).
pub fn next_port(bus: &Bus) -> Option<u16> {
    (FIRST_PORT..=u16::MAX).find(|&p| bus.server_by_port(p).is_none())
}

/// Servers the views show: all but the removed ones.
pub fn shown(bus: &Bus) -> Vec<ServerId> {
    (0..bus.servers().len())
        .filter(|&id| !bus.is_removed(id))
        .collect()
}

/// `selected` if it is shown, otherwise the first shown server.
pub fn shown_selection(bus: &Bus, selected: ServerId) -> ServerId {
    if selected < bus.servers().len() && !bus.is_removed(selected) {
        selected
    } else {
        shown(bus).first().copied().unwrap_or(0)
    }
}

fn check_shown(bus: &Bus, id: ServerId) -> Result<(), String> {
    if id < bus.servers().len() && !bus.is_removed(id) {
        Ok(())
    } else {
        Err(format!("There is no server #{id}."))
    }
}

fn check_pair(bus: &Bus, a: ServerId, b: ServerId) -> Result<(), String> {
    check_shown(bus, a)?;
    check_shown(bus, b)?;
    if a == b {
        return Err("A link joins two different servers.".into());
    }
    Ok(())
}

/// The server a replica's master link reaches, the way the bus routes connections.
fn master_of(bus: &Bus, id: ServerId) -> Option<ServerId> {
    let link = bus.server(id).node.master_link()?;
    bus.route(&link.host, link.port)
        .filter(|&m| !bus.is_removed(m))
}

// ------------------------------------------------------------------ the view model

/// Whether the server's process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessWord {
    Up,
    Paused,
    Down,
}

impl ProcessWord {
    pub fn as_str(self) -> &'static str {
        match self {
            ProcessWord::Up => "up",
            ProcessWord::Paused => "paused",
            ProcessWord::Down => "down",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            ProcessWord::Up => "▶",
            ProcessWord::Paused => "❚❚",
            ProcessWord::Down => "✖",
        }
    }
}

/// The state of a replication link, as the edge says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeWord {
    Connecting,
    Handshake,
    Syncing,
    Online,
    Down,
    /// No replication link: the edge is only there because the network between the two
    /// is faulted (so it stays healable).
    NoLink,
}

impl EdgeWord {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeWord::Connecting => "connecting",
            EdgeWord::Handshake => "handshake",
            EdgeWord::Syncing => "syncing",
            EdgeWord::Online => "online",
            EdgeWord::Down => "down",
            EdgeWord::NoLink => "no link",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            EdgeWord::Connecting => "…",
            EdgeWord::Handshake => "⇄",
            EdgeWord::Syncing => "⇣",
            EdgeWord::Online => "✔",
            EdgeWord::Down => "✖",
            EdgeWord::NoLink => "·",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct NodeView {
    pub id: ServerId,
    pub name: String,
    pub port: u16,
    /// Top-left corner in drawing units.
    pub x: i32,
    pub y: i32,
    pub role: Role,
    /// The first 8 characters of the replication id ("—" while down).
    pub replid: String,
    /// `master_repl_offset` on a master, `slave_repl_offset` on a replica.
    pub offset_name: &'static str,
    pub offset: String,
    pub process: ProcessWord,
    /// The port it was told to replicate from.
    pub master_port: Option<u16>,
    /// The shown server that port reaches.
    pub master: Option<ServerId>,
    /// Bytes of the RDB on its disk (what a restart "with RDB" loads).
    pub disk_rdb: Option<usize>,
    pub selected: bool,
}

impl NodeView {
    pub fn role_word(&self) -> &'static str {
        match self.role {
            Role::Master => "master",
            Role::Replica => "replica",
        }
    }

    pub fn center(&self) -> (i32, i32) {
        (self.x + NODE_W / 2, self.y + NODE_H / 2)
    }
}

/// The network state of one direction of a link.
#[derive(Clone, Debug, PartialEq)]
pub struct Direction {
    pub held: bool,
    pub latency_ms: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct EdgeView {
    /// The server replicated from (for a fault-only edge, the lower id).
    pub master: ServerId,
    pub replica: ServerId,
    /// `6380 → 6381`
    pub label: String,
    pub word: EdgeWord,
    /// The handshake step or sync progress, in a few words.
    pub detail: String,
    pub cut: bool,
    /// master → replica and replica → master.
    pub down_dir: Direction,
    pub up_dir: Direction,
    /// From the master's box edge to the replica's, in drawing units.
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
    /// Where the label sits (near the replica, so stacked rows do not hide it).
    pub label_x: i32,
    pub label_y: i32,
    pub selected: bool,
}

impl EdgeView {
    /// The network's state in words: "cut", "held 6380→6381", "partitioned", "" when fine.
    pub fn network_words(&self, master_port: u16, replica_port: u16) -> String {
        let mut words = Vec::new();
        if self.cut {
            words.push("✂ cut".to_string());
        }
        match (self.down_dir.held, self.up_dir.held) {
            (true, true) => words.push("❚❚ held both ways".into()),
            (true, false) => words.push(format!("❚❚ held {master_port}→{replica_port}")),
            (false, true) => words.push(format!("❚❚ held {replica_port}→{master_port}")),
            (false, false) => {}
        }
        let (d, u) = (self.down_dir.latency_ms, self.up_dir.latency_ms);
        if d != DEFAULT_LATENCY_MS || u != DEFAULT_LATENCY_MS {
            words.push(if d == u {
                format!("{d} ms")
            } else {
                format!("{d}/{u} ms")
            });
        }
        words.join(" · ")
    }
}

/// The network between the selected server and one other, for the link menu.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerView {
    pub id: ServerId,
    pub name: String,
    pub port: u16,
    pub cut: bool,
    /// Selected → peer, and peer → selected.
    pub out_dir: Direction,
    pub in_dir: Direction,
}

/// A chunk of bytes drawn on its way.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageView {
    /// Stable while it travels (the DOM node is reused, so it can glide).
    pub key: String,
    pub from: ServerId,
    pub to: ServerId,
    pub bytes: usize,
    /// Centre, in drawing units.
    pub x: i32,
    pub y: i32,
    /// Radius grows with the logarithm of the size: 1 byte to a 16 KB segment stay legible.
    pub r: i32,
    /// Per mille of the way done.
    pub progress: u32,
    pub held: bool,
    pub title: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TopologyView {
    pub width: i32,
    pub height: i32,
    pub nodes: Vec<NodeView>,
    pub edges: Vec<EdgeView>,
    pub messages: Vec<MessageView>,
    /// Chunks in flight beyond those drawn.
    pub messages_hidden: usize,
    pub selected: ServerId,
    /// Every other shown server, with the network between it and the selected one.
    pub peers: Vec<PeerView>,
    /// The port the next added server gets; `None` when the playground is full.
    pub next_port: Option<u16>,
    /// Why the last action was refused.
    pub notice: Option<String>,
}

impl TopologyView {
    pub fn node(&self, id: ServerId) -> Option<&NodeView> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// The whole picture, from the bus as it is now.
pub fn build(bus: &Bus, selected: ServerId, notice: Option<String>) -> TopologyView {
    let ids = shown(bus);
    let selected = shown_selection(bus, selected);
    let (width, places) = layout(bus, &ids);
    let nodes: Vec<NodeView> = ids
        .iter()
        .zip(&places)
        .map(|(&id, &(x, y))| node_view(bus, id, x, y, id == selected))
        .collect();
    let height = nodes
        .iter()
        .map(|n| n.y + NODE_H + MARGIN)
        .max()
        .unwrap_or(2 * MARGIN);
    let edges = edges(bus, &nodes, selected);
    let (messages, messages_hidden) = messages(bus, &nodes);
    let peers = nodes
        .iter()
        .filter(|n| n.id != selected)
        .map(|n| PeerView {
            id: n.id,
            name: n.name.clone(),
            port: n.port,
            cut: bus.is_cut(selected, n.id),
            out_dir: direction(bus, selected, n.id),
            in_dir: direction(bus, n.id, selected),
        })
        .collect();
    TopologyView {
        peers,
        width,
        height,
        nodes,
        edges,
        messages,
        messages_hidden,
        selected,
        next_port: (ids.len() < MAX_SERVERS).then(|| next_port(bus)).flatten(),
        notice,
    }
}

/// The drawing's width, and the top-left corners of the shown servers in the order of `ids`.
fn layout(bus: &Bus, ids: &[ServerId]) -> (i32, Vec<(i32, i32)>) {
    let depth = |id: ServerId| {
        let mut seen = vec![id];
        let mut at = id;
        while let Some(m) = master_of(bus, at) {
            if seen.contains(&m) {
                break; // a replication loop: draw it where it got to
            }
            seen.push(m);
            at = m;
        }
        seen.len() - 1
    };
    let depths: Vec<usize> = ids.iter().map(|&id| depth(id)).collect();
    let mut levels: Vec<usize> = depths.clone();
    sort::sort(&mut levels);
    levels.dedup();
    let rows: Vec<Vec<usize>> = levels
        .iter()
        .flat_map(|&level| {
            let members: Vec<usize> = (0..ids.len()).filter(|&i| depths[i] == level).collect();
            members
                .chunks(COLUMNS)
                .map(<[usize]>::to_vec)
                .collect::<Vec<_>>()
        })
        .collect();
    let columns = rows
        .iter()
        .map(Vec::len)
        .max()
        .unwrap_or(0)
        .max(MIN_COLUMNS);
    let width = COL_PITCH * columns as i32;
    let mut places = vec![(0, 0); ids.len()];
    for (row, chunk) in rows.iter().enumerate() {
        let left = (width - chunk.len() as i32 * COL_PITCH) / 2 + (COL_PITCH - NODE_W) / 2;
        for (col, &i) in chunk.iter().enumerate() {
            places[i] = (
                left + col as i32 * COL_PITCH,
                MARGIN + row as i32 * ROW_PITCH,
            );
        }
    }
    (width, places)
}

fn node_view(bus: &Bus, id: ServerId, x: i32, y: i32, selected: bool) -> NodeView {
    let s = bus.server(id);
    let node = &s.node;
    let process = if !bus.is_up(id) || node.is_shut_down() {
        ProcessWord::Down
    } else if bus.is_paused(id) {
        ProcessWord::Paused
    } else {
        ProcessWord::Up
    };
    let role = node.role();
    let info = node.replication_info();
    let (offset_name, offset) = info.offset();
    // A dead process answers nothing: what it last said would be a guess.
    let (replid, offset) = if process == ProcessWord::Down {
        ("—".to_string(), "—".to_string())
    } else {
        (info.replid.chars().take(8).collect(), offset.to_string())
    };
    NodeView {
        id,
        name: s.name.clone(),
        port: s.port,
        x,
        y,
        role,
        replid,
        offset_name,
        offset,
        process,
        master_port: node.master_link().map(|l| l.port),
        master: master_of(bus, id),
        disk_rdb: bus.disk_rdb(id).map(<[u8]>::len),
        selected,
    }
}

/// Where the segment from the centre of `a` towards the centre of `b` leaves `a`'s box.
fn box_exit(from: (i32, i32), towards: (i32, i32)) -> (i32, i32) {
    let (dx, dy) = ((towards.0 - from.0) as f64, (towards.1 - from.1) as f64);
    if dx == 0.0 && dy == 0.0 {
        return from;
    }
    let tx = if dx == 0.0 {
        f64::INFINITY
    } else {
        (NODE_W as f64 / 2.0) / dx.abs()
    };
    let ty = if dy == 0.0 {
        f64::INFINITY
    } else {
        (NODE_H as f64 / 2.0) / dy.abs()
    };
    let t = tx.min(ty);
    (
        from.0 + (dx * t).round() as i32,
        from.1 + (dy * t).round() as i32,
    )
}

/// The drawn segment between two nodes' boxes.
fn segment(a: &NodeView, b: &NodeView) -> ((i32, i32), (i32, i32)) {
    (
        box_exit(a.center(), b.center()),
        box_exit(b.center(), a.center()),
    )
}

fn direction(bus: &Bus, from: ServerId, to: ServerId) -> Direction {
    Direction {
        held: bus.is_held(from, to),
        latency_ms: bus.link(from, to).latency_ms,
    }
}

fn edges(bus: &Bus, nodes: &[NodeView], selected: ServerId) -> Vec<EdgeView> {
    let node = |id: ServerId| nodes.iter().find(|n| n.id == id);
    let mut pairs: Vec<(ServerId, ServerId)> = Vec::new();
    for n in nodes {
        if let Some(m) = master_of(bus, n.id) {
            pairs.push((m, n.id));
        }
    }
    // A faulted pair keeps an edge after REPLICAOF NO ONE, so it stays healable.
    for a in nodes {
        for b in nodes.iter().filter(|b| b.id > a.id) {
            let faulted =
                bus.is_cut(a.id, b.id) || bus.is_held(a.id, b.id) || bus.is_held(b.id, a.id);
            let slow = bus.link(a.id, b.id).latency_ms != DEFAULT_LATENCY_MS
                || bus.link(b.id, a.id).latency_ms != DEFAULT_LATENCY_MS;
            if (faulted || slow)
                && !pairs
                    .iter()
                    .any(|&(m, r)| (m.min(r), m.max(r)) == (a.id, b.id))
            {
                pairs.push((a.id, b.id));
            }
        }
    }
    pairs
        .into_iter()
        .filter_map(|(m, r)| {
            let (mn, rn) = (node(m)?, node(r)?);
            let link = bus
                .server(r)
                .node
                .master_link()
                .filter(|_| master_of(bus, r) == Some(m));
            let (word, detail) = match link {
                None => (EdgeWord::NoLink, "not replicating".to_string()),
                Some(l) => link_words(l.state_name(), l.transfer_progress()),
            };
            // While the master's child writes the snapshot the replica's link only waits:
            // say what the master does meanwhile, and what it keeps for the replica.
            let (word, detail) = match link.map(|_| super::sync_path::window(bus, m, rn.port)) {
                Some(Some(w)) if w.end.is_none() => (
                    EdgeWord::Syncing,
                    format!("BGSAVE, {} B kept", w.buffered_bytes),
                ),
                _ => (word, detail),
            };
            // A crashed replica's link is gone with its process, whatever it last said.
            let (word, detail) = if link.is_some() && rn.process == ProcessWord::Down {
                (EdgeWord::Down, "replica down".to_string())
            } else {
                (word, detail)
            };
            let ((x1, y1), (x2, y2)) = segment(mn, rn);
            let len = (((x2 - x1) as f64).powi(2) + ((y2 - y1) as f64).powi(2))
                .sqrt()
                .max(1.0);
            // Near the replica's end, but never past the middle of a short edge.
            let back = 34.0_f64.min(len / 2.0);
            let label_x = x2 - ((x2 - x1) as f64 * back / len).round() as i32;
            let label_y = y2 - ((y2 - y1) as f64 * back / len).round() as i32;
            Some(EdgeView {
                master: m,
                replica: r,
                label: format!("{} → {}", mn.port, rn.port),
                word,
                detail,
                cut: bus.is_cut(m, r),
                down_dir: direction(bus, m, r),
                up_dir: direction(bus, r, m),
                x1,
                y1,
                x2,
                y2,
                label_x,
                label_y,
                selected: r == selected || m == selected,
            })
        })
        .collect()
}

/// The edge's word and the step it is at.
pub fn link_words(state: LinkStateName, progress: Option<(i64, usize)>) -> (EdgeWord, String) {
    match state {
        // Waiting for the once-a-second cron to try again.
        LinkStateName::Connect => (EdgeWord::Down, "retrying every second".into()),
        LinkStateName::Connecting => (EdgeWord::Connecting, "TCP connect".into()),
        LinkStateName::ReceivePingReply => (EdgeWord::Handshake, "PING".into()),
        LinkStateName::ReceiveAuthReply => (EdgeWord::Handshake, "AUTH".into()),
        LinkStateName::ReceivePortReply => (EdgeWord::Handshake, "REPLCONF listening-port".into()),
        LinkStateName::ReceiveIpReply => (EdgeWord::Handshake, "REPLCONF ip-address".into()),
        LinkStateName::ReceiveCapaReply => (EdgeWord::Handshake, "REPLCONF capa".into()),
        LinkStateName::ReceivePsyncReply => (EdgeWord::Handshake, "PSYNC".into()),
        LinkStateName::Transfer => (
            EdgeWord::Syncing,
            match progress {
                Some((total, read)) if total > 0 => format!("RDB {read}/{total} B"),
                Some((_, read)) => format!("RDB {read} B"),
                None => "RDB".into(),
            },
        ),
        LinkStateName::Connected => (EdgeWord::Online, "streaming".into()),
    }
}

/// Radius of a dot for a chunk of `bytes`.
pub fn message_radius(bytes: usize) -> i32 {
    let log2 = usize::BITS - bytes.max(1).leading_zeros(); // 1 B → 1, 16 KB → 15
    (3 + log2 as i32 * 2 / 3).min(13)
}

fn messages(bus: &Bus, nodes: &[NodeView]) -> (Vec<MessageView>, usize) {
    let node = |id: ServerId| nodes.iter().find(|n| n.id == id);
    let now = bus.now();
    let all: Vec<InFlight> = bus
        .in_flight()
        .into_iter()
        .filter(|m| node(m.from).is_some() && node(m.to).is_some())
        .collect();
    let hidden = all.len().saturating_sub(MESSAGES_DRAWN);
    let mut held_index = 0;
    let views = all
        .into_iter()
        .take(MESSAGES_DRAWN)
        .filter_map(|m| {
            let (a, b) = (node(m.from)?, node(m.to)?);
            let ((x1, y1), (x2, y2)) = segment(a, b);
            let progress = match m.arrives_at {
                // Held: it waits where it left.
                None => 0,
                Some(at) if at <= m.sent_at => 1000,
                Some(at) => {
                    ((now.saturating_sub(m.sent_at)) * 1000 / (at - m.sent_at)).min(1000) as u32
                }
            };
            // The two directions of a link travel side by side, not on top of each other.
            let len = (((x2 - x1) as f64).powi(2) + ((y2 - y1) as f64).powi(2))
                .sqrt()
                .max(1.0);
            let side = if m.from < m.to { 5.0 } else { -5.0 };
            let (nx, ny) = (
                -(y2 - y1) as f64 / len * side,
                (x2 - x1) as f64 / len * side,
            );
            let f = progress as f64 / 1000.0;
            let x = (x1 as f64 + (x2 - x1) as f64 * f + nx).round() as i32;
            let y = (y1 as f64 + (y2 - y1) as f64 * f + ny).round() as i32;
            let key = match m.seq {
                Some(seq) => format!("q{seq}"),
                None => {
                    held_index += 1;
                    format!("h{}-{}-{held_index}", m.from, m.to)
                }
            };
            let when = match m.arrives_at {
                None => "held on the link".to_string(),
                Some(at) => format!("arrives in {} ms", at.saturating_sub(now)),
            };
            Some(MessageView {
                key,
                from: m.from,
                to: m.to,
                bytes: m.bytes,
                x,
                y,
                r: message_radius(m.bytes),
                progress,
                held: m.arrives_at.is_none(),
                title: format!("{} B {} → {}, {when}", m.bytes, a.port, b.port),
            })
        })
        .collect();
    (views, hidden)
}

/// What a drag from one node onto another means: the dragged server replicates from the
/// one it was dropped on. `None` for a drop on itself or on nothing.
pub fn drop_action(dragged: ServerId, target: Option<ServerId>) -> Option<TopologyAction> {
    let master = target.filter(|&t| t != dragged)?;
    Some(TopologyAction::ReplicaOf {
        server: dragged,
        master: Some(master),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::state::{Action, Sim};

    fn act(sim: &mut Sim, a: TopologyAction) {
        sim.apply(Action::Topology(a));
    }

    fn edge<'a>(view: &'a TopologyView, label: &str) -> &'a EdgeView {
        view.edges
            .iter()
            .find(|e| e.label == label)
            .unwrap_or_else(|| panic!("no edge {label}: {:?}", view.edges))
    }

    #[test]
    fn positions_are_deterministic_and_masters_sit_above_replicas() {
        let mut a = Sim::new();
        let mut b = Sim::new();
        a.apply(Action::Step(8_000));
        b.apply(Action::Step(8_000));
        let (va, vb) = (a.topology_view(), b.topology_view());
        assert_eq!(va, vb);
        let pos: Vec<(i32, i32)> = va.nodes.iter().map(|n| (n.x, n.y)).collect();
        assert_eq!(va.width, 600);
        assert_eq!(pos, [(212, 16), (112, 192), (312, 192)]);
        assert_eq!(va.nodes[0].role_word(), "master");
        assert_eq!(va.nodes[1].role_word(), "replica");
        assert_eq!(va.nodes[0].offset_name, "master_repl_offset");
        assert_eq!(va.nodes[1].offset_name, "slave_repl_offset");
        assert_eq!(va.nodes[0].replid.len(), 8);
        assert_eq!(
            va.nodes[1].replid, va.nodes[0].replid,
            "a synced replica takes its master's replid"
        );
        assert!(va.nodes.iter().all(|n| n.process == ProcessWord::Up));
        assert_eq!(edge(&va, "6380 → 6381").word, EdgeWord::Online);
        // Edges run from the master's bottom to the replica's top.
        let e = edge(&va, "6380 → 6382");
        assert_eq!((e.y1, e.y2), (16 + NODE_H, 192));
        // No stray floats: the picture is the same on every platform.
        assert!(va.height > 192 + NODE_H);
    }

    #[test]
    fn the_handshake_shows_its_step_before_the_link_is_online() {
        let mut sim = Sim::new();
        let mut words = Vec::new();
        for _ in 0..40 {
            let v = sim.topology_view();
            let e = edge(&v, "6380 → 6381");
            if words.last() != Some(&(e.word, e.detail.clone())) {
                words.push((e.word, e.detail.clone()));
            }
            sim.apply(Action::Step(250));
        }
        assert!(
            words
                .iter()
                .any(|(w, d)| *w == EdgeWord::Handshake && d == "PSYNC"),
            "{words:?}"
        );
        assert_eq!(words.last().unwrap().0, EdgeWord::Online, "{words:?}");
    }

    #[test]
    fn the_edge_says_what_the_master_keeps_during_its_bgsave() {
        let (mut bus, m, _) = crate::ui::model::test_setup::master_in_bgsave_with_replica();
        bus.submit_command(m, "SET during the-window").unwrap();
        bus.advance(100);
        let v = build(&bus, m, None);
        let e = edge(&v, "6380 → 6381");
        let n = &bus.server(m).node;
        let kept = n.replication().master_repl_offset - n.child().unwrap().offset;
        assert_eq!(
            (e.word, e.detail.clone()),
            (EdgeWord::Syncing, format!("BGSAVE, {kept} B kept"))
        );
        bus.advance(5_000);
        let v = build(&bus, m, None);
        assert_eq!(edge(&v, "6380 → 6381").word, EdgeWord::Online);
    }

    #[test]
    fn a_set_puts_bytes_in_flight_until_they_are_delivered() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        act(
            &mut sim,
            TopologyAction::SetLatency {
                a: 0,
                b: 1,
                ms: 100,
            },
        );
        sim.apply(Action::Step(2_000));
        assert!(sim
            .topology_view()
            .messages
            .iter()
            .all(|m| m.from != 0 || m.to != 1 || m.bytes < 20));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        let v = sim.topology_view();
        let set: Vec<_> = v
            .messages
            .iter()
            .filter(|m| m.from == 0 && m.to == 1 && m.bytes >= 27)
            .collect();
        assert_eq!(set.len(), 1, "{:?}", v.messages);
        let m = set[0].clone();
        assert_eq!(m.progress, 0);
        assert!(m.title.contains("arrives in 100 ms"), "{}", m.title);
        assert_eq!(m.r, message_radius(m.bytes));
        let (mn, rn) = (v.node(0).unwrap().clone(), v.node(1).unwrap().clone());
        sim.apply(Action::Step(50));
        let half = sim
            .topology_view()
            .messages
            .into_iter()
            .find(|x| x.key == m.key)
            .expect("still travelling");
        assert_eq!(half.progress, 500);
        assert!(
            half.y > m.y && half.y < rn.y && m.y >= mn.y + NODE_H - 10,
            "moves down towards the replica"
        );
        sim.apply(Action::Step(60));
        assert!(
            sim.topology_view().messages.iter().all(|x| x.key != m.key),
            "delivered, so gone"
        );
        assert_eq!(
            edge(&sim.topology_view(), "6380 → 6381").word,
            EdgeWord::Online
        );
        assert!(edge(&sim.topology_view(), "6380 → 6381")
            .network_words(6380, 6381)
            .contains("100 ms"));
    }

    #[test]
    fn bigger_chunks_draw_bigger_dots() {
        assert!(message_radius(1) < message_radius(40));
        assert!(message_radius(40) < message_radius(4_000));
        assert_eq!(
            message_radius(16 * 1024),
            message_radius(10_000_000),
            "capped"
        );
    }

    #[test]
    fn a_cut_link_reads_down_with_the_cut_and_heals() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        act(&mut sim, TopologyAction::Fault(Fault::Cut { a: 0, b: 1 }));
        sim.apply(Action::Step(100));
        let v = sim.topology_view();
        let e = edge(&v, "6380 → 6381");
        assert!(e.cut);
        assert_eq!(e.word, EdgeWord::Down);
        assert_eq!(e.network_words(6380, 6381), "✂ cut");
        act(&mut sim, TopologyAction::Fault(Fault::Heal { a: 0, b: 1 }));
        sim.apply(Action::Step(3_000));
        let v = sim.topology_view();
        assert!(!edge(&v, "6380 → 6381").cut);
        assert_eq!(edge(&v, "6380 → 6381").word, EdgeWord::Online);
    }

    #[test]
    fn a_one_way_hold_shows_as_such_and_keeps_its_bytes() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        act(
            &mut sim,
            TopologyAction::Fault(Fault::Hold { from: 0, to: 2 }),
        );
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        sim.apply(Action::Step(500));
        let v = sim.topology_view();
        let e = edge(&v, "6380 → 6382");
        assert!(e.down_dir.held && !e.up_dir.held && !e.cut);
        assert_eq!(e.network_words(6380, 6382), "❚❚ held 6380→6382");
        // Nobody is told: the replica still thinks it is online.
        assert_eq!(e.word, EdgeWord::Online);
        let held: Vec<_> = v.messages.iter().filter(|m| m.held).collect();
        assert!(
            held.iter()
                .any(|m| m.from == 0 && m.to == 2 && m.bytes >= 27),
            "{:?}",
            v.messages
        );
        assert!(held
            .iter()
            .all(|m| m.progress == 0 && m.title.contains("held")));
        let offset = |v: &TopologyView, id| v.node(id).unwrap().offset.parse::<u64>().unwrap();
        assert!(
            offset(&v, 2) < offset(&v, 0),
            "the held SET has not reached 6382"
        );
        act(
            &mut sim,
            TopologyAction::Fault(Fault::Release { from: 0, to: 2 }),
        );
        sim.apply(Action::Step(100));
        let v = sim.topology_view();
        assert!(v.messages.iter().all(|m| !m.held));
        assert_eq!(offset(&v, 2), offset(&v, 0));
    }

    #[test]
    fn add_servers_up_to_eight_then_a_clear_refusal() {
        let mut sim = Sim::new();
        for port in 6383..=6387 {
            assert_eq!(sim.topology_view().next_port, Some(port));
            act(&mut sim, TopologyAction::AddServer);
            assert_eq!(sim.topology_notice, None);
        }
        let v = sim.topology_view();
        assert_eq!(v.nodes.len(), MAX_SERVERS);
        assert_eq!(v.next_port, None);
        assert_eq!(v.nodes[7].name, "redis-6387");
        act(&mut sim, TopologyAction::AddServer);
        assert_eq!(
            sim.topology_notice.as_deref(),
            Some("The playground runs at most 8 servers: remove one first.")
        );
        assert_eq!(sim.topology_view().nodes.len(), 8);
        // Every box sits apart from every other.
        for a in &v.nodes {
            for b in v.nodes.iter().filter(|b| b.id != a.id) {
                assert!(
                    (a.x - b.x).abs() >= NODE_W || (a.y - b.y).abs() >= NODE_H,
                    "{} overlaps {}",
                    a.name,
                    b.name
                );
            }
            assert!(a.x >= 0 && a.x + NODE_W <= v.width && a.y + NODE_H <= v.height);
        }
        // Removing one makes room again; the removed port is not reused.
        act(&mut sim, TopologyAction::RemoveServer(7));
        assert_eq!(sim.topology_view().nodes.len(), 7);
        act(&mut sim, TopologyAction::AddServer);
        assert_eq!(sim.topology_view().nodes.last().unwrap().port, 6388);
    }

    #[test]
    fn a_new_server_made_a_replica_by_menu_reaches_online() {
        let mut sim = Sim::new();
        act(&mut sim, TopologyAction::AddServer);
        act(
            &mut sim,
            TopologyAction::ReplicaOf {
                server: 3,
                master: Some(0),
            },
        );
        assert_eq!(sim.topology_notice, None);
        sim.apply(Action::SelectConsole(3));
        assert_eq!(
            sim.transcript()[0].input.as_deref(),
            Some("127.0.0.1:6383> REPLICAOF 127.0.0.1 6380")
        );
        sim.apply(Action::Step(8_000));
        let v = sim.topology_view();
        assert_eq!(edge(&v, "6380 → 6383").word, EdgeWord::Online);
        assert_eq!(
            v.node(3).unwrap().y,
            v.node(1).unwrap().y,
            "in the replicas' row"
        );
        act(
            &mut sim,
            TopologyAction::ReplicaOf {
                server: 3,
                master: None,
            },
        );
        assert!(sim
            .topology_view()
            .edges
            .iter()
            .all(|e| e.label != "6380 → 6383"));
        act(
            &mut sim,
            TopologyAction::ReplicaOf {
                server: 3,
                master: Some(3),
            },
        );
        assert_eq!(
            sim.topology_notice.as_deref(),
            Some("A server cannot replicate from itself.")
        );
        assert_eq!(
            drop_action(1, Some(3)),
            Some(TopologyAction::ReplicaOf {
                server: 1,
                master: Some(3)
            })
        );
        assert_eq!(drop_action(1, Some(1)), None);
        assert_eq!(drop_action(1, None), None);
    }

    #[test]
    fn crash_shows_down_and_restart_brings_it_back() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        act(&mut sim, TopologyAction::Fault(Fault::Crash { server: 1 }));
        let v = sim.topology_view();
        assert_eq!(v.node(1).unwrap().process, ProcessWord::Down);
        assert_eq!(v.node(1).unwrap().offset, "—");
        assert_eq!(edge(&v, "6380 → 6381").word, EdgeWord::Down);
        act(&mut sim, TopologyAction::Fault(Fault::Crash { server: 1 }));
        assert_eq!(
            sim.topology_notice.as_deref(),
            Some("replica-1 is already down.")
        );
        act(
            &mut sim,
            TopologyAction::Fault(Fault::Restart {
                server: 1,
                from_disk: false,
            }),
        );
        sim.apply(Action::Step(8_000));
        let v = sim.topology_view();
        assert_eq!(v.node(1).unwrap().process, ProcessWord::Up);
        assert_eq!(
            edge(&v, "6380 → 6381").word,
            EdgeWord::Online,
            "it still replicates from 6380"
        );

        act(&mut sim, TopologyAction::Fault(Fault::Pause { server: 2 }));
        assert_eq!(
            sim.topology_view().node(2).unwrap().process,
            ProcessWord::Paused
        );
        act(&mut sim, TopologyAction::Fault(Fault::Resume { server: 2 }));
        assert_eq!(
            sim.topology_view().node(2).unwrap().process,
            ProcessWord::Up
        );
        act(&mut sim, TopologyAction::Fault(Fault::Save { server: 0 }));
        assert!(sim.topology_view().node(0).unwrap().disk_rdb.is_some());
    }

    #[test]
    fn removing_a_server_hides_it_and_time_travel_brings_it_back() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SelectConsole(2));
        act(&mut sim, TopologyAction::RemoveServer(2));
        let v = sim.topology_view();
        assert_eq!(
            v.nodes.iter().map(|n| n.port).collect::<Vec<_>>(),
            [6380, 6381]
        );
        assert_eq!(
            sim.console.selected, 0,
            "the console leaves a removed server"
        );
        assert!(sim.console_targets().iter().all(|(id, _)| *id != 2));
        assert!(sim.topology_view().nodes.iter().all(|n| n.id != 2));
        assert!(sim
            .bus()
            .log()
            .last()
            .unwrap()
            .line()
            .ends_with("s2 removed (down for good)"));
        act(
            &mut sim,
            TopologyAction::Fault(Fault::Restart {
                server: 2,
                from_disk: false,
            }),
        );
        assert_eq!(
            sim.topology_notice.as_deref(),
            Some("There is no server #2.")
        );
        // The removal is a move on the timeline like any other.
        sim.apply(Action::StepBackEvent);
        assert_eq!(sim.topology_view().nodes.len(), 3);
        sim.apply(Action::StepEvent);
        assert_eq!(sim.topology_view().nodes.len(), 2);
        act(&mut sim, TopologyAction::RemoveServer(1));
        act(&mut sim, TopologyAction::RemoveServer(0));
        assert_eq!(
            sim.topology_notice.as_deref(),
            Some("The playground keeps at least one server.")
        );
    }

    #[test]
    fn stepping_back_before_an_added_server_moves_the_selection() {
        let mut sim = Sim::new();
        sim.apply(Action::Step(1_000));
        act(&mut sim, TopologyAction::AddServer);
        sim.apply(Action::SelectConsole(3));
        assert_eq!(sim.topology_view().selected, 3);
        while sim.bus().servers().len() > 3 {
            sim.apply(Action::StepBackEvent);
        }
        assert_eq!(sim.console.selected, 0);
        assert_eq!(sim.prompt(), "127.0.0.1:6380>");
    }
}
