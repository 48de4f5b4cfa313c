//! What each [`Fault`] does to the world, injected now or at its scheduled time: cuts and
//! heals, severed connections, held and released directions, link changes, and a
//! server's crash, restart, pause, resume and save. The type itself is the bus's
//! vocabulary, with [`ServerId`] and [`super::LinkConfig`], in `mod.rs`.

use std::cmp::Reverse;

use super::log::LogKind;
use super::world::{Endpoint, Pending, ProcState, World};
use super::{Fault, ServerId};
use crate::engine::splitmix::mix_seed;
use crate::engine::{ConnId, Input, Node};

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

#[cfg(test)]
mod tests {
    use crate::bus::{Bus, Fault};
    use crate::engine::Config;

    /// A cut of servers already cut apart, or a heal with nothing to heal, is no move: the
    /// schedule injects them as any other fault, and the page's timeline stays as it was
    /// when they went through `Bus::cut` and `Bus::heal`.
    #[test]
    fn a_cut_or_heal_that_changes_nothing_is_not_a_move() {
        let mut bus = Bus::new(1);
        for port in [6380, 6381] {
            bus.add_server(
                &format!("s{port}"),
                Config {
                    port,
                    ..Config::default()
                },
            );
        }
        let moves = bus.moves_recorded();
        bus.inject(Fault::Heal { a: 0, b: 1 }).unwrap();
        assert_eq!(bus.moves_recorded(), moves, "nothing to heal");
        bus.inject(Fault::Cut { a: 0, b: 1 }).unwrap();
        bus.inject(Fault::Cut { a: 1, b: 0 }).unwrap();
        assert_eq!(bus.moves_recorded(), moves + 1, "one cut");
        assert!(bus.is_cut(0, 1));
        bus.inject(Fault::Heal { a: 1, b: 0 }).unwrap();
        bus.inject(Fault::Heal { a: 0, b: 1 }).unwrap();
        assert_eq!(bus.moves_recorded(), moves + 2, "one heal");
        assert!(!bus.is_cut(0, 1));
        assert!(
            bus.inject(Fault::Cut { a: 0, b: 2 }).is_err(),
            "no server s2"
        );
    }
}
