//! Blocked clients, as Redis 7.0's `blocked.c` and the part of `beforeSleep` that serves
//! them. The one blocking command here is WAIT.
//!
//! A blocked client keeps reading, but what it sends waits in its query buffer: its reply
//! to the blocking command must come first. It is unblocked by the event it waits for
//! (enough replicas acknowledged its writes), by its timeout, or by a change of role; then
//! it gets its reply and the commands it pipelined meanwhile run.
//!
//! Each call the host makes into the node (bytes arrived, a connection closed, the timer
//! fired) is one pass of Redis's event loop, and ends the way Redis ends a pass before it
//! sleeps: [`Node::before_sleep`].

use super::{ConnId, Node};
use crate::engine::resp::reply;

/// A client blocked in `WAIT numreplicas timeout` (Redis's `bpop` fields for
/// `BLOCKED_WAIT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitBlock {
    /// The replication offset the replicas must have acknowledged (the client's `woff`).
    pub offset: u64,
    pub numreplicas: i64,
    /// Unix ms after which the WAIT answers with the count it has; `None`: never.
    pub deadline: Option<u64>,
}

impl Node {
    /// The blocked-client part of every event-loop pass, in the order of Redis 7.0's
    /// `beforeSleep`: timeouts of blocked clients, WAITs the ACKs of this pass satisfied, the commands
    /// that unblocked clients had pipelined, and last one `REPLCONF GETACK *` for all the
    /// WAITs that blocked during the pass (after the pipelined commands, so that a
    /// pipelined WAIT that blocks again does not wait a whole cron for its GETACK).
    pub(crate) fn serve_blocked_clients(&mut self) {
        self.handle_blocked_clients_timeout();
        if !self.clients_waiting_acks.is_empty() {
            self.process_clients_waiting_replicas();
        }
        self.process_unblocked_clients();
        // Not while clients are paused: the GETACK would grow the backlog (it goes out
        // after the pause, if this is still a master).
        if self.get_ack_from_replicas && !self.clients_paused() {
            self.send_getack_to_replicas();
            self.get_ack_from_replicas = false;
        }
    }

    /// Blocks `client` (being served, so out of the client map) in WAIT.
    pub(crate) fn block_for_replicas(&mut self, client: &mut super::Client, block: WaitBlock) {
        client.blocked = Some(block);
        // listAddNodeHead: the newest waiter is looked at first.
        self.clients_waiting_acks.insert(0, client.conn);
    }

    /// Redis's `unblockClient` for WAIT: off the waiting list, and queued so that what
    /// it pipelined runs before the node sleeps.
    pub(crate) fn unblock_client(&mut self, conn: ConnId) {
        self.clients_waiting_acks.retain(|&c| c != conn);
        if let Some(client) = self.clients.get_mut(&conn) {
            client.blocked = None;
            if !self.unblocked_clients.contains(&conn) {
                self.unblocked_clients.push(conn);
            }
        }
    }

    /// The first moment a blocked client's timeout has passed (Redis times a client out
    /// once `deadline < now`).
    pub(crate) fn next_wait_timeout(&self) -> Option<u64> {
        self.clients_waiting_acks
            .iter()
            .filter_map(|c| self.clients.get(c)?.blocked.as_ref()?.deadline)
            .min()
            .map(|d| d.saturating_add(1))
    }

    /// Redis's `handleBlockedClientsTimeout`: every client whose timeout has passed, in
    /// order of timeout, gets what WAIT has now (the replicas that acknowledged so far).
    fn handle_blocked_clients_timeout(&mut self) {
        let mut due: Vec<(u64, ConnId)> = self
            .clients_waiting_acks
            .iter()
            .filter_map(|&c| {
                let deadline = self.clients.get(&c)?.blocked.as_ref()?.deadline?;
                (deadline < self.now).then_some((deadline, c))
            })
            .collect();
        super::sort::sort(&mut due);
        for (_, conn) in due {
            let Some(offset) = self
                .clients
                .get(&conn)
                .and_then(|c| c.blocked.as_ref())
                .map(|b| b.offset)
            else {
                continue;
            };
            let acked = self.count_acks_by_offset(offset);
            self.send(conn, reply::integer(acked as i64));
            self.unblock_client(conn);
        }
    }

    /// Redis's `processUnblockedClients`: the commands each unblocked client pipelined
    /// behind its blocking command run now, unless it blocked again.
    fn process_unblocked_clients(&mut self) {
        while !self.unblocked_clients.is_empty() {
            let conn = self.unblocked_clients.remove(0);
            if self.clients.get(&conn).is_some_and(|c| c.blocked.is_none()) {
                self.process_input(conn);
            }
        }
    }

    /// Redis's `disconnectAllBlockedClients`, when a master becomes a replica: what its
    /// blocked clients wait for will never happen, so they get an error and are closed.
    pub(crate) fn disconnect_all_blocked_clients(&mut self) {
        let blocked: Vec<ConnId> = self
            .clients
            .values()
            .filter(|c| c.blocked.is_some())
            .map(|c| c.conn)
            .collect();
        for conn in blocked {
            let error =
                reply::error("UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)");
            self.counters.error_reply(&error);
            self.send(conn, error);
            self.unblock_client(conn);
            // CLIENT_CLOSE_AFTER_REPLY: nothing it pipelined runs.
            self.unblocked_clients.retain(|&c| c != conn);
            self.close_conn(conn);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::resp::encode_command;
    use crate::engine::{Config, ConnId, Input, Node, Output, PeerAddr};

    const T0: u64 = 1_000_000;

    fn cmd(args: &[&str]) -> Vec<u8> {
        encode_command(&args.iter().map(|a| a.as_bytes()).collect::<Vec<_>>())
    }

    /// Everything the node sent to `conn` since the last call, and whether it closed it.
    fn sent_to(n: &mut Node, conn: ConnId) -> (Vec<u8>, bool) {
        let mut data = Vec::new();
        let mut closed = false;
        let outputs: Vec<Output> = std::iter::from_fn(|| n.poll_output()).collect();
        for o in outputs {
            match o {
                Output::Send { conn: c, data: d } if c == conn => data.extend(d),
                Output::Close { conn: c } if c == conn => closed = true,
                _ => {}
            }
        }
        (data, closed)
    }

    /// A master (one cron a second) with an online replica on a disk payload, and a
    /// client; nothing pending.
    fn master_with_replica() -> (Node, ConnId, ConnId) {
        let config = Config {
            repl_diskless_sync: false,
            hz: 1,
            ..Config::default()
        };
        // A second early, so that the snapshot's child is done by the cron at T0.
        let mut n = Node::new(config, T0 - 1000, 1);
        n.tick(T0 - 1000);
        let replica = n.accept(
            T0 - 1000,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 5000,
            },
        );
        n.handle(
            T0 - 1000,
            Input::Bytes {
                conn: replica,
                data: cmd(&["REPLCONF", "listening-port", "6381"]),
            },
        );
        n.handle(
            T0 - 1000,
            Input::Bytes {
                conn: replica,
                data: cmd(&["PSYNC", "?", "-1"]),
            },
        );
        // The child is reaped, the file sent and written: the replica is online.
        n.tick(T0);
        while let Some(o) = n.poll_output() {
            if let Output::Send { conn, data } = o {
                n.handle(
                    T0,
                    Input::Written {
                        conn,
                        bytes: data.len() as u64,
                    },
                );
            }
        }
        let client = n.accept(
            T0,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 5001,
            },
        );
        while n.poll_output().is_some() {}
        (n, replica, client)
    }

    #[test]
    fn wait_asks_for_an_ack_and_times_out_at_its_deadline_and_not_before() {
        let (mut n, replica, client) = master_with_replica();
        n.handle(
            T0 + 10,
            Input::Bytes {
                conn: client,
                data: [cmd(&["SET", "k", "v"]), cmd(&["WAIT", "1", "250"])].concat(),
            },
        );
        let outputs: Vec<Output> = std::iter::from_fn(|| n.poll_output()).collect();
        let to = |conn| -> Vec<u8> {
            outputs
                .iter()
                .filter_map(|o| match o {
                    Output::Send { conn: c, data } if *c == conn => Some(data.clone()),
                    _ => None,
                })
                .flatten()
                .collect()
        };
        assert_eq!(to(client), b"+OK\r\n", "the WAIT is not answered yet");
        // The write, then one GETACK in the same db: no SELECT in between.
        let stream = [
            cmd(&["SELECT", "0"]),
            cmd(&["SET", "k", "v"]),
            cmd(&["REPLCONF", "GETACK", "*"]),
        ]
        .concat();
        assert_eq!(to(replica), stream);
        assert_eq!(n.replication().master_repl_offset, 50 + 37);
        assert_eq!(
            n.next_timer(),
            T0 + 10 + 251,
            "the timeout comes before the next cron"
        );
        n.tick(T0 + 10 + 250);
        assert_eq!(
            sent_to(&mut n, client).0,
            b"",
            "Redis times out once the deadline is behind"
        );
        n.tick(T0 + 10 + 251);
        assert_eq!(sent_to(&mut n, client).0, b":0\r\n");
        assert_eq!(n.next_timer(), T0 + 1000);
        assert!(n
            .info_text(&["clients".into()])
            .contains("blocked_clients:0\r\n"));
    }

    #[test]
    fn an_ack_releases_wait_and_then_the_pipelined_commands_run() {
        let (mut n, replica, client) = master_with_replica();
        let batch = [
            cmd(&["SET", "k", "v"]),
            cmd(&["WAIT", "1", "0"]),
            cmd(&["GET", "k"]),
        ]
        .concat();
        n.handle(
            T0,
            Input::Bytes {
                conn: client,
                data: batch,
            },
        );
        assert_eq!(sent_to(&mut n, client).0, b"+OK\r\n");
        n.handle(
            T0 + 1,
            Input::Bytes {
                conn: client,
                data: cmd(&["PING"]),
            },
        );
        assert_eq!(
            sent_to(&mut n, client).0,
            b"",
            "a blocked client runs nothing"
        );
        // An ACK short of the write does not release it.
        n.handle(
            T0 + 2,
            Input::Bytes {
                conn: replica,
                data: cmd(&["REPLCONF", "ACK", "49"]),
            },
        );
        assert_eq!(sent_to(&mut n, client).0, b"");
        n.handle(
            T0 + 3,
            Input::Bytes {
                conn: replica,
                data: cmd(&["REPLCONF", "ACK", "50"]),
            },
        );
        assert_eq!(sent_to(&mut n, client).0, b":1\r\n$1\r\nv\r\n+PONG\r\n");
        assert!(n.clients_waiting_acks.is_empty());
    }

    #[test]
    fn a_client_that_leaves_while_blocked_is_forgotten() {
        let (mut n, _, client) = master_with_replica();
        n.handle(
            T0,
            Input::Bytes {
                conn: client,
                data: [cmd(&["SET", "k", "v"]), cmd(&["WAIT", "1", "500"])].concat(),
            },
        );
        assert_eq!(n.next_timer(), T0 + 501);
        n.handle(T0 + 1, Input::Closed { conn: client });
        assert!(n.clients_waiting_acks.is_empty());
        assert_eq!(n.next_timer(), T0 + 1000);
        n.tick(T0 + 1000);
        assert!(n
            .info_text(&["clients".into()])
            .contains("blocked_clients:0\r\n"));
    }

    #[test]
    fn becoming_a_replica_releases_blocked_clients_with_an_error() {
        let (mut n, _, client) = master_with_replica();
        n.handle(
            T0,
            Input::Bytes {
                conn: client,
                data: [
                    cmd(&["SET", "k", "v"]),
                    cmd(&["WAIT", "1", "0"]),
                    cmd(&["PING"]),
                ]
                .concat(),
            },
        );
        while n.poll_output().is_some() {}
        let admin = n.accept(
            T0,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 5002,
            },
        );
        n.handle(
            T0 + 1,
            Input::Bytes {
                conn: admin,
                data: cmd(&["REPLICAOF", "10.0.0.1", "6379"]),
            },
        );
        let (data, closed) = sent_to(&mut n, client);
        assert_eq!(data, b"-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n");
        assert!(closed, "and its pipelined PING never runs");
        assert!(n.clients_waiting_acks.is_empty());
    }

    #[test]
    fn wait_inside_multi_answers_at_once() {
        let (mut n, _, client) = master_with_replica();
        n.handle(
            T0,
            Input::Bytes {
                conn: client,
                data: cmd(&["SET", "k", "v"]),
            },
        );
        let batch = [cmd(&["MULTI"]), cmd(&["WAIT", "1", "0"]), cmd(&["EXEC"])].concat();
        n.handle(
            T0,
            Input::Bytes {
                conn: client,
                data: batch,
            },
        );
        assert_eq!(
            sent_to(&mut n, client).0,
            b"+OK\r\n+OK\r\n+QUEUED\r\n*1\r\n:0\r\n"
        );
        assert!(n.clients_waiting_acks.is_empty());
        assert!(!n.get_ack_from_replicas);
    }
}
