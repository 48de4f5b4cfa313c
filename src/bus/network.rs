//! The network between the servers: how a connection is made, refused, closed or
//! aborted, and how bytes, SYNs and FINs are put on a directed link (held, serialized at
//! its bandwidth, delayed by its latency and jitter) and taken off it. In-order delivery
//! per stream lives here: jitter or a slower link never lets a chunk overtake the one
//! before it. The world's tables of connection ends and links are in `world.rs`.

use std::cmp::Reverse;

use rand_core::RngCore;

use super::log::LogKind;
use super::world::{Endpoint, Link, Pending, ProcState, World};
use super::{LinkConfig, ServerId};
use crate::engine::{ConnId, Input, PeerAddr};

/// Largest piece a bandwidth-limited link carries as one delivery: a big payload (a full
/// sync's RDB) arrives piece by piece, as the receiver would read it from a real socket.
pub const SEGMENT_BYTES: usize = 16 * 1024;

impl World {
    /// The server a connection to `host:port` reaches: every server listens on 127.0.0.1,
    /// which `localhost` names too; any other host is nobody on the bus.
    pub fn route(&self, host: &str, port: u16) -> Option<ServerId> {
        (host == "127.0.0.1" || host.eq_ignore_ascii_case("localhost"))
            .then(|| self.server_by_port(port))
            .flatten()
    }

    pub fn is_cut(&self, a: ServerId, b: ServerId) -> bool {
        self.cuts.contains_key(&(a.min(b), a.max(b)))
    }

    pub fn link_config(&self, from: ServerId, to: ServerId) -> LinkConfig {
        self.links
            .get(&(from, to))
            .and_then(|l| l.config)
            .unwrap_or_default()
    }

    pub(super) fn link_mut(&mut self, from: ServerId, to: ServerId) -> &mut Link {
        self.links.entry((from, to)).or_insert_with(|| Link {
            config: None,
            held: false,
            parked: Vec::new(),
            wire_free_us: 0,
        })
    }

    pub fn is_held(&self, from: ServerId, to: ServerId) -> bool {
        self.links.get(&(from, to)).is_some_and(|l| l.held)
    }

    /// The console's connection to its server (a local client, no network in between).
    pub(super) fn console_conn(&mut self, server: ServerId) -> ConnId {
        if let Some(conn) = self.consoles[server].conn {
            if self.peers.contains_key(&(server, conn)) {
                return conn;
            }
        }
        let peer = PeerAddr {
            ip: "127.0.0.1".into(),
            port: self.ephemeral_port(),
        };
        let now = self.now;
        let conn = self.servers[server].node.accept(now, peer);
        self.peers.insert((server, conn), Endpoint::Console(server));
        self.consoles[server].conn = Some(conn);
        conn
    }

    pub(super) fn ephemeral_port(&mut self) -> u16 {
        let p = self.next_ephemeral_port;
        self.next_ephemeral_port = if p == u16::MAX { 40000 } else { p + 1 };
        p
    }

    /// Connections between `a` and `b`, both ends.
    pub(super) fn connections_between(&self, a: ServerId, b: ServerId) -> Vec<(ServerId, ConnId)> {
        self.peers
            .iter()
            .filter(|((s, _), e)| matches!(e, Endpoint::Server(t, _) if (*s == a && *t == b) || (*s == b && *t == a)))
            .map(|(k, _)| *k)
            .collect()
    }

    /// Puts `p` on the directed link `from -> to`: held if the link is, otherwise
    /// serialized at the link's bandwidth and delivered after its latency, never before
    /// anything sent earlier on the same stream.
    pub(super) fn transmit(&mut self, from: ServerId, to: ServerId, mut p: Pending) {
        let now = self.now;
        let link = self.link_mut(from, to);
        if link.held {
            link.parked.push(p);
            return;
        }
        let config = link.config.unwrap_or_default();
        let start_us = (now * 1000).max(link.wire_free_us);
        let wire_us = match config.bandwidth {
            Some(bytes_per_ms) if bytes_per_ms > 0 => {
                (p.bytes() as u64 * 1000).div_ceil(bytes_per_ms)
            }
            _ => 0,
        };
        let done_us = start_us + wire_us;
        link.wire_free_us = done_us;
        let on_wire = done_us / 1000;
        let jitter = if config.jitter_ms > 0 {
            self.random_below(config.jitter_ms + 1)
        } else {
            0
        };
        let mut at = on_wire + config.latency_ms + config.extra_delay_ms + jitter;
        if let Some(stream) = p.stream() {
            // Jitter and delay changes never reorder a stream: TCP delivers in order.
            let tail = self.stream_tail.entry(stream).or_insert(0);
            at = at.max(*tail);
            *tail = at;
        }
        if let Pending::Deliver { leaves_us, .. } = &mut p {
            *leaves_us = done_us;
        }
        if let Pending::Deliver {
            from: Endpoint::Server(s, c),
            data,
            ..
        } = &p
        {
            if on_wire > now {
                let (s, c, bytes) = (*s, *c, data.len());
                self.schedule(
                    on_wire,
                    Pending::Drained {
                        server: s,
                        conn: c,
                        bytes,
                    },
                );
            } else {
                self.on_drained(*s, *c, data.len());
            }
        }
        self.schedule(at, p);
    }

    /// `bytes` of `conn` left `server`'s send buffer: the engine counts them as written
    /// (what its replica output-buffer accounting and the replication buffer's block
    /// references follow). Called while the sender's outputs are being drained, or from
    /// a `Drained` event, whose handler drains afterwards.
    pub(super) fn on_drained(&mut self, server: ServerId, conn: ConnId, bytes: usize) {
        match self.procs[server].state {
            ProcState::Up => {
                let now = self.now;
                self.servers[server].node.handle(
                    now,
                    Input::Written {
                        conn,
                        bytes: bytes as u64,
                    },
                );
            }
            // The kernel took the bytes; the stopped process learns it when it resumes.
            ProcState::Paused => self.procs[server].stash.push(Pending::Drained {
                server,
                conn,
                bytes,
            }),
            ProcState::Down => {}
        }
    }

    pub(super) fn random_below(&mut self, n: u64) -> u64 {
        // Rejection sampling: no value favoured, and the same draws on every platform.
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.rng.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// The connection attempt `from`/`conn` fails; the answer takes one latency back.
    pub(super) fn refuse(&mut self, from: ServerId, conn: ConnId, to: ServerId, reason: String) {
        let at = self.now + self.link_config(to, from).latency_ms;
        self.schedule(
            at,
            Pending::ConnectFailed {
                server: from,
                conn,
                reason,
            },
        );
    }

    pub(super) fn on_close(&mut self, server: ServerId, conn: ConnId, reason: String) {
        self.connecting.remove(&(server, conn));
        if self.severed.remove(&(server, conn)).is_some() {
            self.record(Some(server), LogKind::Closed { conn, reason });
            return;
        }
        let Some(peer) = self.peers.remove(&(server, conn)) else {
            return;
        };
        self.stream_tail.remove(&(server, conn));
        self.record(Some(server), LogKind::Closed { conn, reason });
        match peer {
            // The FIN travels behind any bytes already in flight.
            Endpoint::Server(to, their) => self.transmit(
                server,
                to,
                Pending::Closed {
                    server: to,
                    conn: their,
                },
            ),
            Endpoint::Console(s) => {
                self.consoles[s].disconnect();
            }
        }
    }

    /// Throws away what `server` still had to send on `conn`, for an abort: returns how
    /// many bytes.
    ///
    /// Redis frees a client over its output-buffer limit (`freeClientAsync`, then
    /// `freeClient`) without writing the rest of its output: the socket is closed and the
    /// reply list and the replica's share of the replication buffer are released
    /// (networking.c `freeClient`). A diskless snapshot is written to a replica only as
    /// fast as its socket takes it, so the rest of it is never sent either (and the fork
    /// child is killed if no replica is left to feed, replication.c `rdbPipeReadHandler`).
    /// Only what the kernel had already taken from the socket can still reach the peer,
    /// before the FIN.
    ///
    /// On the bus, bytes handed over by a sender wait in its send buffer until the link has
    /// serialized them (a `Drained` event); only then does the engine count them written,
    /// so until then they are part of the replica's `omem`. An abort therefore drops exactly
    /// those: chunks still waiting to leave, and chunks parked on a held link, which never
    /// left. Chunks already on the wire arrive, then the FIN. The kernel's socket buffer is
    /// not modelled apart from the output buffer: it holds a few MB at most
    /// (`net.ipv4.tcp_wmem`), little beside what a replica's limit is set for (256 MB hard
    /// by default), so what it would still have sent is left out.
    pub(super) fn discard_unsent(&mut self, server: ServerId, conn: ConnId) -> usize {
        let Some(Endpoint::Server(to, their)) = self.peers.get(&(server, conn)).copied() else {
            return 0;
        };
        let from = Endpoint::Server(server, conn);
        let now = self.now;
        let mut dropped_queued = 0;
        self.queue.retain(|Reverse(q)| match &q.event {
            Pending::Deliver {
                from: f,
                data,
                leaves_us,
                ..
            } if *f == from && leaves_us / 1000 > now => {
                dropped_queued += data.len();
                false
            }
            // The engine is never told that dropped bytes left.
            Pending::Drained {
                server: s, conn: c, ..
            } => !((*s, *c) == (server, conn) && q.at > now),
            _ => true,
        });
        let mut dropped_parked = 0;
        if let Some(link) = self.links.get_mut(&(server, to)) {
            link.parked.retain(|p| match p {
                Pending::Deliver { from: f, data, .. } if *f == from => {
                    dropped_parked += data.len();
                    false
                }
                _ => true,
            });
        }
        if dropped_queued > 0 {
            // The FIN follows the last chunk still on its way, not the dropped ones; and the
            // link is free once what remains on it (other connections' chunks) has left.
            let tail = self
                .queue
                .iter()
                .filter(|Reverse(q)| q.event.stream() == Some((to, their)))
                .map(|Reverse(q)| q.at)
                .max();
            match tail {
                Some(at) => self.stream_tail.insert((to, their), at),
                None => self.stream_tail.remove(&(to, their)),
            };
            let busy_until = self
                .queue
                .iter()
                .filter_map(|Reverse(q)| match &q.event {
                    Pending::Deliver {
                        to: t,
                        from: Endpoint::Server(s, _),
                        leaves_us,
                        ..
                    } if (*s, *t) == (server, to) => Some(*leaves_us),
                    _ => None,
                })
                .max()
                .unwrap_or(0)
                .max(now * 1000);
            let link = self.link_mut(server, to);
            link.wire_free_us = link.wire_free_us.min(busy_until);
        }
        dropped_queued + dropped_parked
    }

    pub(super) fn on_send(&mut self, server: ServerId, conn: ConnId, data: Vec<u8>) {
        self.traffic += data.len() as u64;
        match self.peers.get(&(server, conn)).copied() {
            Some(Endpoint::Console(s)) => {
                let len = data.len();
                self.consoles[s].receive(&data);
                let logged = if self.recording { data } else { Vec::new() };
                self.record(Some(server), LogKind::Reply { data: logged });
                // The console reads its replies at once.
                self.on_drained(server, conn, len);
            }
            Some(Endpoint::Server(to, their)) => {
                let segmented =
                    self.link_config(server, to).bandwidth.is_some() && data.len() > SEGMENT_BYTES;
                let from = Endpoint::Server(server, conn);
                let sent = self.sent_now();
                if segmented {
                    for piece in data.chunks(SEGMENT_BYTES) {
                        self.transmit(
                            server,
                            to,
                            Pending::Deliver {
                                to,
                                conn: their,
                                from,
                                data: piece.to_vec(),
                                sent,
                                leaves_us: 0,
                            },
                        );
                    }
                } else {
                    self.transmit(
                        server,
                        to,
                        Pending::Deliver {
                            to,
                            conn: their,
                            from,
                            data,
                            sent,
                            leaves_us: 0,
                        },
                    );
                }
            }
            None => {} // the connection is already gone
        }
    }
}
