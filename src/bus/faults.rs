//! Faults: what goes wrong (or right again) on a link or a server, injected now or at a
//! virtual time, and what each one does to the world.

use std::cmp::Reverse;
use std::fmt;

use super::log::LogKind;
use super::network::{Endpoint, LinkConfig};
use super::world::{Pending, ProcState, World};
use super::ServerId;
use crate::engine::splitmix::mix_seed;
use crate::engine::{ConnId, Input, Node};

/// Something that goes wrong (or right again), to a link or to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Both directions: connections reset at once, new ones fail ("No route to host").
    Cut { a: ServerId, b: ServerId },
    /// Ends a cut and releases any hold between the two servers.
    Heal { a: ServerId, b: ServerId },
    /// The connections between `a` and `b` die now (bytes in flight are lost); each end
    /// notices `detect_ms` later. New connections may be made at once.
    Sever {
        a: ServerId,
        b: ServerId,
        detect_ms: u64,
    },
    /// Traffic from `from` to `to` is held: nothing arrives, nobody is told, connections
    /// stay open. Both directions held is a silent partition; one is a one-way partition.
    Hold { from: ServerId, to: ServerId },
    /// Lets held traffic through, in order, as if it had been retransmitted.
    Release { from: ServerId, to: ServerId },
    /// Changes one direction's latency, bandwidth, delay or jitter.
    SetLink {
        from: ServerId,
        to: ServerId,
        config: LinkConfig,
    },
    /// The process dies: its memory is lost, its peers see their connections reset.
    Crash { server: ServerId },
    /// The process starts again (crashing it first if running), loading its last saved
    /// RDB if `from_disk` and there is one, otherwise empty.
    Restart { server: ServerId, from_disk: bool },
    /// SIGSTOP: the process handles nothing; bytes queue up, timers fire late.
    Pause { server: ServerId },
    /// SIGCONT.
    Resume { server: ServerId },
    /// The server writes its RDB to disk (SAVE).
    Save { server: ServerId },
}

impl Fault {
    /// The servers it acts on.
    pub fn servers(&self) -> Vec<ServerId> {
        match *self {
            Fault::Cut { a, b } | Fault::Heal { a, b } | Fault::Sever { a, b, .. } => vec![a, b],
            Fault::Hold { from, to }
            | Fault::Release { from, to }
            | Fault::SetLink { from, to, .. } => vec![from, to],
            Fault::Crash { server }
            | Fault::Restart { server, .. }
            | Fault::Pause { server }
            | Fault::Resume { server }
            | Fault::Save { server } => vec![server],
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Cut { a, b } => write!(f, "cut s{a} <-> s{b}"),
            Fault::Heal { a, b } => write!(f, "heal s{a} <-> s{b}"),
            Fault::Sever { a, b, detect_ms } => write!(
                f,
                "sever s{a} <-> s{b} (the ends notice after {detect_ms}ms)"
            ),
            Fault::Hold { from, to } => {
                write!(f, "hold s{from} -> s{to} (bytes held, nobody told)")
            }
            Fault::Release { from, to } => write!(f, "release s{from} -> s{to}"),
            Fault::SetLink { from, to, config } => {
                let bw = config
                    .bandwidth
                    .map_or("unlimited".to_string(), |b| format!("{b}B/ms"));
                write!(
                    f,
                    "link s{from} -> s{to}: latency {}ms, bandwidth {bw}, extra delay {}ms, jitter {}ms",
                    config.latency_ms, config.extra_delay_ms, config.jitter_ms
                )
            }
            Fault::Crash { server } => write!(f, "crash s{server}"),
            Fault::Restart {
                server,
                from_disk: true,
            } => write!(f, "restart s{server} (loading its RDB from disk)"),
            Fault::Restart {
                server,
                from_disk: false,
            } => write!(f, "restart s{server} (without an RDB)"),
            Fault::Pause { server } => write!(f, "pause s{server} (SIGSTOP)"),
            Fault::Resume { server } => write!(f, "resume s{server} (SIGCONT)"),
            Fault::Save { server } => write!(f, "save s{server}"),
        }
    }
}

impl World {
    pub fn apply_fault(&mut self, fault: Fault) {
        // A fault scheduled before its server was removed finds nobody to act on.
        if fault.servers().iter().any(|&s| self.procs[s].removed) {
            return;
        }
        match fault {
            Fault::Cut { a, b } => self.cut(a, b),
            Fault::Heal { a, b } => self.heal(a, b),
            Fault::Sever { a, b, detect_ms } => {
                self.record(None, LogKind::Fault(fault));
                for (server, conn) in self.connections_between(a, b) {
                    self.kill_conn(server, conn, detect_ms, "connection reset (link severed)");
                }
            }
            Fault::Hold { from, to } => {
                if !self.is_held(from, to) {
                    self.record(None, LogKind::Fault(fault));
                    self.link_mut(from, to).held = true;
                }
            }
            Fault::Release { from, to } => self.release(from, to),
            Fault::SetLink { from, to, config } => {
                self.record(None, LogKind::Fault(fault));
                self.link_mut(from, to).config = Some(config);
            }
            Fault::Crash { server } => self.crash(server),
            Fault::Restart { server, from_disk } => self.restart(server, from_disk),
            Fault::Pause { server } => {
                if self.procs[server].state == ProcState::Up {
                    self.record(Some(server), LogKind::Fault(fault));
                    self.procs[server].state = ProcState::Paused;
                }
            }
            Fault::Resume { server } => self.resume(server),
            Fault::Save { server } => {
                if self.procs[server].state != ProcState::Down {
                    let rdb = self.servers[server].node.save_rdb();
                    self.record(Some(server), LogKind::Saved { bytes: rdb.len() });
                    self.traffic += rdb.len() as u64;
                    self.procs[server].disk = Some(rdb.into());
                }
            }
        }
    }

    /// Cuts the network between two servers: their connections reset, new ones fail.
    pub(super) fn cut(&mut self, a: ServerId, b: ServerId) {
        if self.cuts.insert((a.min(b), a.max(b)), ()).is_some() {
            return;
        }
        self.record(None, LogKind::Cut { a, b });
        for (server, conn) in self.connections_between(a, b) {
            self.peers.remove(&(server, conn));
            self.stream_tail.remove(&(server, conn));
            self.record(
                Some(server),
                LogKind::Closed {
                    conn,
                    reason: "connection reset (link cut)".into(),
                },
            );
            if self.procs[server].state == ProcState::Up {
                let now = self.now;
                self.servers[server]
                    .node
                    .handle(now, Input::Closed { conn });
                self.drain(server);
            } else {
                self.procs[server]
                    .stash
                    .push(Pending::Closed { server, conn });
            }
        }
    }

    /// Ends a cut and any silent partition between `a` and `b`.
    pub(super) fn heal(&mut self, a: ServerId, b: ServerId) {
        if self.cuts.remove(&(a.min(b), a.max(b))).is_some() {
            self.record(None, LogKind::Heal { a, b });
        }
        self.release(a, b);
        self.release(b, a);
    }

    /// A connection end dies now; its owner learns it `detect_ms` later. Bytes in flight
    /// to either end are lost with the connection.
    pub(super) fn kill_conn(
        &mut self,
        server: ServerId,
        conn: ConnId,
        detect_ms: u64,
        reason: &str,
    ) {
        if self.peers.remove(&(server, conn)).is_none() {
            return;
        }
        self.stream_tail.remove(&(server, conn));
        self.severed.insert((server, conn), ());
        let at = self.now + detect_ms;
        self.schedule(
            at,
            Pending::Reset {
                server,
                conn,
                reason: reason.to_string(),
            },
        );
    }

    /// Lets the traffic held on `from -> to` through, in the order it was sent.
    pub(super) fn release(&mut self, from: ServerId, to: ServerId) {
        let Some(link) = self.links.get_mut(&(from, to)) else {
            return;
        };
        if !link.held {
            return;
        }
        link.held = false;
        let parked = std::mem::take(&mut link.parked);
        self.record(
            None,
            LogKind::Released {
                from,
                to,
                items: parked.len(),
            },
        );
        for p in parked {
            self.transmit(from, to, p);
        }
    }

    pub(super) fn crash(&mut self, server: ServerId) {
        if self.procs[server].state == ProcState::Down {
            return;
        }
        self.record(Some(server), LogKind::Fault(Fault::Crash { server }));
        self.procs[server].state = ProcState::Down;
        self.procs[server].stash.clear();
        self.scheduled_tick[server] = None;
        self.consoles[server].disconnect();
        // Everything due at the dead process is gone; so is what it was about to send.
        self.queue.retain(|Reverse(q)| {
            q.event.target() != Some(server)
                && !matches!(q.event, Pending::ConnectArrive { from, .. } if from == server)
        });
        for (_, link) in self.links.iter_mut() {
            link.parked.retain(|p| p.target() != Some(server));
        }
        self.connecting.retain(|(s, _), ()| *s != server);
        self.severed.retain(|(s, _), ()| *s != server);
        self.stream_tail.retain(|(s, _), _| *s != server);
        // The kernel resets the dead process's connections: each peer gets an RST one
        // latency later.
        let ends: Vec<((ServerId, ConnId), Endpoint)> = self
            .peers
            .iter()
            .filter(|((s, _), _)| *s == server)
            .map(|(k, e)| (*k, *e))
            .collect();
        // Ends whose connection the process had already closed (its FIN still on the way):
        // they are reset too. Left open, a restarted process, whose connection ids start
        // again, would take their bytes on a new connection with the same id.
        let half_closed: Vec<(ServerId, ConnId)> = self
            .peers
            .iter()
            .filter(|(_, e)| matches!(e, Endpoint::Server(s, _) if *s == server))
            .map(|(k, _)| *k)
            .collect();
        for (peer, conn) in half_closed {
            if !ends.iter().any(|(_, e)| *e == Endpoint::Server(peer, conn)) {
                let latency = self.link_config(server, peer).latency_ms;
                self.kill_conn(
                    peer,
                    conn,
                    latency,
                    "connection reset by peer (server crashed)",
                );
            }
        }
        for (key, end) in ends {
            self.peers.remove(&key);
            if let Endpoint::Server(peer, their) = end {
                let latency = self.link_config(server, peer).latency_ms;
                self.kill_conn(
                    peer,
                    their,
                    latency,
                    "connection reset by peer (server crashed)",
                );
            }
        }
        self.record(Some(server), LogKind::Crashed);
    }

    /// Takes a server out for good: its process dies as in a crash (peers see their
    /// connections reset, nobody listens on its port again) and it can never be restarted.
    /// Its id and port stay taken, so the log and the timeline keep meaning what they said.
    pub fn remove_server(&mut self, server: ServerId) {
        if self.procs[server].removed {
            return;
        }
        self.crash(server);
        self.procs[server].removed = true;
        self.record(Some(server), LogKind::Removed);
    }

    pub(super) fn restart(&mut self, server: ServerId, from_disk: bool) {
        self.crash(server);
        self.record(
            Some(server),
            LogKind::Fault(Fault::Restart { server, from_disk }),
        );
        // The restarted process reads the same configuration, including where it
        // replicates from, as if the running config had been rewritten to disk.
        let old = &self.servers[server].node;
        let mut config = old.config().clone();
        config.replicaof = old.master_link().map(|l| (l.host.clone(), l.port));
        self.procs[server].incarnation += 1;
        let seed = mix_seed(
            mix_seed(self.seed, server as u64),
            self.procs[server].incarnation,
        );
        let disk = if from_disk {
            self.procs[server].disk.clone()
        } else {
            None
        };
        let loaded = disk.is_some();
        let (node, keys, repl) = match disk {
            Some(rdb) => match Node::restart_from_rdb(config, self.now, seed, &rdb) {
                Ok((node, restored)) => (node, restored.keys, restored.repl),
                Err(e) => {
                    self.record(
                        Some(server),
                        LogKind::RestartFailed {
                            reason: format!("Fatal error loading the DB: {e}. Exiting."),
                        },
                    );
                    return;
                }
            },
            None => (Node::new(config, self.now, seed), 0, None),
        };
        self.servers[server].node = node;
        self.procs[server].state = ProcState::Up;
        self.record(
            Some(server),
            LogKind::Restarted {
                from_disk: loaded,
                keys,
                repl,
            },
        );
        self.drain(server);
    }

    pub(super) fn resume(&mut self, server: ServerId) {
        if self.procs[server].state != ProcState::Paused {
            return;
        }
        self.procs[server].state = ProcState::Up;
        let stash = std::mem::take(&mut self.procs[server].stash);
        self.record(
            Some(server),
            LogKind::Resumed {
                queued: stash.len(),
            },
        );
        // What waited is read now, in the order it arrived; overdue timers fire right
        // after, as Redis's event loop handles file events before time events.
        let now = self.now;
        let (ticks, io): (Vec<Pending>, Vec<Pending>) = stash
            .into_iter()
            .partition(|p| matches!(p, Pending::Tick { .. }));
        for p in io.into_iter().chain(ticks) {
            self.schedule(now, p);
        }
        self.drain(server);
    }
}
