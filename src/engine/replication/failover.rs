//! FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], as Redis 7.0's replication.c has
//! it: the master pauses writes, waits until a replica (the one named, or any) has
//! acknowledged its whole stream, then becomes that replica's replica and asks it, with
//! `PSYNC <replid> <offset> FAILOVER`, to become the master.

use crate::engine::pause::{PausePurpose, PauseType};
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{replica_name, Client, Node};

/// Where a failover stands (Redis's `failover_state`; no failover is `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailoverState {
    /// Writes are paused; waiting for the target to acknowledge the whole stream.
    WaitForSync,
    /// We replicate from the target and ask it to take over.
    InProgress,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failover {
    pub state: FailoverState,
    /// The replica failed over to (`None`: the first one to catch up).
    pub target: Option<(String, u16)>,
    /// Unix ms at which the wait is over (`None`: no TIMEOUT).
    pub end: Option<u64>,
    pub force: bool,
}

/// INFO's `master_failover_state`.
pub fn state_name(f: Option<&Failover>) -> &'static str {
    match f.map(|f| f.state) {
        None => "no-failover",
        Some(FailoverState::WaitForSync) => "waiting-for-sync",
        Some(FailoverState::InProgress) => "failover-in-progress",
    }
}

/// The FAILOVER command.
pub fn failover(node: &mut Node, _client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.len() == 2 && argv[1].eq_ignore_ascii_case(b"abort") {
        if node.repl.failover.is_none() {
            return reply::error("ERR No failover in progress.");
        }
        node.abort_failover("Failover manually aborted");
        return reply::ok();
    }
    let (mut timeout, mut force, mut target) = (0i64, false, None::<(String, i64)>);
    let mut j = 1;
    while j < argv.len() {
        let a = &argv[j];
        if a.eq_ignore_ascii_case(b"timeout") && j + 1 < argv.len() && timeout == 0 {
            let Some(t) = parse_i64(&argv[j + 1]) else {
                return reply::error("ERR value is not an integer or out of range");
            };
            if t <= 0 {
                return reply::error("ERR FAILOVER timeout must be greater than 0");
            }
            timeout = t;
            j += 1;
        } else if a.eq_ignore_ascii_case(b"to") && j + 2 < argv.len() && target.is_none() {
            let Some(port) = parse_i64(&argv[j + 2]) else {
                return reply::error("ERR value is not an integer or out of range");
            };
            target = Some((String::from_utf8_lossy(&argv[j + 1]).into_owned(), port));
            j += 2;
        } else if a.eq_ignore_ascii_case(b"force") && !force {
            force = true;
        } else {
            return reply::error("ERR syntax error");
        }
        j += 1;
    }
    if node.repl.failover.is_some() {
        return reply::error("ERR FAILOVER already in progress.");
    }
    if node.repl.link.is_some() {
        return reply::error("ERR FAILOVER is not valid when server is a replica.");
    }
    if !node.has_replicas() {
        return reply::error("ERR FAILOVER requires connected replicas.");
    }
    if force && (timeout == 0 || target.is_none()) {
        return reply::error(
            "ERR FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
    }
    let target = match target {
        Some((host, port)) => {
            let Some(online) = node.find_replica(&host, port).map(|(_, online, _)| online) else {
                return reply::error("ERR FAILOVER target HOST and PORT is not a replica.");
            };
            if !online {
                return reply::error("ERR FAILOVER target replica is not online.");
            }
            node.log(format!("FAILOVER requested to {host}:{port}."));
            // A port found among the replicas' listening ports fits in a u16.
            Some((host, port as u16))
        }
        None => {
            node.log("FAILOVER requested to any replica.");
            None
        }
    };
    node.repl.failover = Some(Failover {
        state: FailoverState::WaitForSync,
        target,
        end: (timeout > 0).then(|| node.now.saturating_add(timeout as u64)),
        force,
    });
    node.pause_clients(PausePurpose::Failover, u64::MAX, PauseType::Write);
    reply::ok()
}

impl Node {
    /// Redis's `findReplica`: the replica whose address (announced ip, else peer ip) and
    /// listening port are these; with whether it is online and its acknowledged offset.
    fn find_replica(&self, host: &str, port: i64) -> Option<(String, bool, u64)> {
        self.replicas().find_map(|(c, p)| {
            let ip = c.replica_announced_ip.as_deref().unwrap_or(&c.peer.ip);
            (ip.eq_ignore_ascii_case(host) && i64::from(c.replica_listening_port) == port).then(
                || {
                    let online = p.state == super::ReplicaSyncState::Online;
                    (replica_name(c), online, p.ack_offset)
                },
            )
        })
    }

    /// Redis's `updateFailoverStatus`, before every sleep: the wait times out (failing
    /// over anyway with FORCE), or the target has caught up and we follow it.
    pub(crate) fn update_failover_status(&mut self) {
        let Some(f) = self.repl.failover.clone() else {
            return;
        };
        if f.state != FailoverState::WaitForSync {
            return;
        }
        if f.end.is_some_and(|end| end <= self.now) {
            match f.target.filter(|_| f.force) {
                Some((host, port)) => {
                    self.log(format!(
                        "FAILOVER to {host}:{port} time out exceeded, failing over."
                    ));
                    self.fail_over_to(host, port);
                }
                None => self.abort_failover("Replica never caught up before timeout"),
            }
            return;
        }
        let offset = self.repl.master_repl_offset;
        let caught_up = match &f.target {
            Some((host, port)) => self
                .find_replica(host, i64::from(*port))
                .filter(|r| r.2 == offset)
                .map(|_| (host.clone(), *port)),
            None => self.replicas().find_map(|(c, p)| {
                (p.ack_offset == offset).then(|| {
                    let ip = c.replica_announced_ip.clone();
                    (
                        ip.unwrap_or_else(|| c.peer.ip.clone()),
                        c.replica_listening_port,
                    )
                })
            }),
        };
        if let Some((host, port)) = caught_up {
            self.log(format!(
                "Failover target {host}:{port} is synced, failing over."
            ));
            self.fail_over_to(host, port);
        }
    }

    fn fail_over_to(&mut self, host: String, port: u16) {
        if let Some(f) = self.repl.failover.as_mut() {
            f.state = FailoverState::InProgress;
            f.target = Some((host.clone(), port));
        }
        // As REPLICAOF does: what WAIT waits for cannot happen on a replica. (Postponed
        // writes stay; they run, or are refused, when the pause ends.)
        self.disconnect_all_blocked_clients();
        self.set_master(host, port);
    }

    /// Whether our PSYNC must carry FAILOVER.
    pub(crate) fn failover_in_progress(&self) -> bool {
        self.repl
            .failover
            .as_ref()
            .is_some_and(|f| f.state == FailoverState::InProgress)
    }

    /// The target answered our PSYNC FAILOVER with a sync (partial, or even full): the
    /// failover is done.
    pub(crate) fn failover_psync_accepted(&mut self) {
        if self.failover_in_progress() {
            self.clear_failover_state();
        }
    }

    /// Any other answer to PSYNC FAILOVER: we are a master again. Whether it was one.
    pub(crate) fn failover_psync_rejected(&mut self) -> bool {
        let in_progress = self.failover_in_progress();
        if in_progress {
            self.abort_failover("Failover target rejected psync request");
        }
        in_progress
    }

    /// Redis's `clearFailoverState`: done (or given up), writes resume.
    pub(crate) fn clear_failover_state(&mut self) {
        self.repl.failover = None;
        self.unpause_clients(PausePurpose::Failover);
    }

    /// Redis's `abortFailover`: a failover under way when it fails leaves us a master.
    pub(crate) fn abort_failover(&mut self, why: &str) {
        let Some(f) = self.repl.failover.clone() else {
            return;
        };
        match &f.target {
            Some((host, port)) => self.log(format!("FAILOVER to {host}:{port} aborted: {why}")),
            None => self.log(format!("FAILOVER to any replica aborted: {why}")),
        }
        if f.state == FailoverState::InProgress {
            self.unset_master();
        }
        self.clear_failover_state();
    }

    /// The target's side of `PSYNC <replid> <offset> FAILOVER` (Redis's `syncCommand`):
    /// a replica whose master's id is `replid` becomes a master, and the PSYNC then goes
    /// on as any other. `Err` is the refusal to reply.
    pub(crate) fn accept_failover_request(
        &mut self,
        client: &Client,
        argv: &[Vec<u8>],
    ) -> Result<(), Vec<u8>> {
        if !(argv.len() > 3 && argv[3].eq_ignore_ascii_case(b"failover")) {
            return Ok(());
        }
        self.log(format!(
            "Failover request received for replid {}.",
            String::from_utf8_lossy(&argv[1])
        ));
        if self.repl.link.is_none() {
            return Err(reply::error(
                "ERR PSYNC FAILOVER can't be sent to a master.",
            ));
        }
        if !argv[1].eq_ignore_ascii_case(self.repl.replid.as_bytes()) {
            return Err(reply::error(
                "ERR PSYNC FAILOVER replid must match my replid.",
            ));
        }
        self.unset_master();
        self.log(format!(
            "MASTER MODE enabled (failover request from 'id={} addr={}')",
            client.conn, client.peer
        ));
        Ok(())
    }
}
