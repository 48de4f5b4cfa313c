//! The replication commands, as Redis 7.0's replication.c answers them: REPLICAOF (and
//! its old name SLAVEOF), which makes a server a replica or a master again; REPLCONF,
//! PSYNC and SYNC, which a replica sends its master; and WAIT and ROLE, which a client
//! uses on a master or a replica.

use super::lower;
use crate::engine::blocked::WaitBlock;
use crate::engine::replication::ReplicaSyncState;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, ClientRole, Node};

/// REPLICAOF host port | REPLICAOF NO ONE (and its old name SLAVEOF).
pub fn replicaof(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if node.repl.failover.is_some() {
        return reply::error("ERR REPLICAOF not allowed while failing over.");
    }
    if argv[1].eq_ignore_ascii_case(b"no") && argv[2].eq_ignore_ascii_case(b"one") {
        if node.repl.link.is_some() {
            node.unset_master();
            node.log(format!(
                "MASTER MODE enabled (user request from 'id={} addr={}')",
                client.conn, client.peer
            ));
        }
        return reply::ok();
    }
    if matches!(client.role, ClientRole::Replica(_)) {
        return reply::error("ERR Command is not valid when client is a replica.");
    }
    let Some(port) = parse_i64(&argv[2]).filter(|p| (0..=65535).contains(p)) else {
        return reply::error("ERR Invalid master port");
    };
    let host = String::from_utf8_lossy(&argv[1]).into_owned();
    if let Some(link) = &node.repl.link {
        if link.host.eq_ignore_ascii_case(&host) && link.port as i64 == port {
            node.log("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            return reply::simple("OK Already connected to specified master");
        }
    }
    // Redis's replicationSetMaster: clients blocked on a master (in WAIT) are released
    // with an error, since what they wait for cannot happen on a replica.
    node.disconnect_all_blocked_clients();
    node.set_master(host.clone(), port as u16);
    node.log(format!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={} addr={}')",
        client.conn, client.peer
    ));
    reply::ok()
}

/// REPLCONF <option> <value> ...: what a replica tells its master about itself, and ACKs.
pub fn replconf(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.len().is_multiple_of(2) {
        return reply::error("ERR syntax error");
    }
    for pair in argv[1..].chunks(2) {
        let (opt, value) = (lower(&pair[0]), &pair[1]);
        match opt.as_slice() {
            b"listening-port" => {
                let Some(port) = parse_i64(value) else {
                    return reply::error("ERR value is not an integer or out of range");
                };
                client.replica_listening_port = port as u16;
            }
            b"ip-address" => {
                // NET_HOST_STR_LEN: a hostname may be announced, not only an IP.
                if value.len() >= 256 {
                    return reply::error(&format!(
                        "ERR REPLCONF ip-address provided by replica instance is too long: {} bytes",
                        value.len()
                    ));
                }
                client.replica_announced_ip = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"capa" => {
                if value.eq_ignore_ascii_case(b"eof") {
                    client.capa_eof = true;
                } else if value.eq_ignore_ascii_case(b"psync2") {
                    client.capa_psync2 = true;
                }
            }
            b"ack" => {
                // Never answered: a reply would land in the replica's stream.
                if let Some(offset) = parse_i64(value).filter(|o| *o >= 0) {
                    node.replica_ack(client, offset as u64);
                }
                return Vec::new();
            }
            b"getack" => {
                if client.role == ClientRole::Master {
                    node.send_ack();
                }
                return Vec::new();
            }
            _ => {
                return reply::error(&format!(
                    "ERR Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(&pair[0])
                ));
            }
        }
    }
    reply::ok()
}

pub fn psync(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    node.sync_command(client, argv)
}

pub fn sync(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    node.sync_command(client, argv)
}

/// `WAIT numreplicas timeout`: the number of replicas that acknowledged everything this
/// client's commands put in the stream, once at least `numreplicas` did or the timeout
/// (ms, 0 = none) passed. The client blocks in between; the replicas are asked for an ACK
/// (`REPLCONF GETACK *`) before the node sleeps.
pub fn wait(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if node.repl.link.is_some() {
        return reply::error(
            "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
        );
    }
    let Some(numreplicas) = parse_i64(&argv[1]) else {
        return reply::error("ERR value is not an integer or out of range");
    };
    let Some(timeout) = parse_i64(&argv[2]) else {
        return reply::error("ERR timeout is not an integer or out of range");
    };
    if timeout < 0 {
        return reply::error("ERR timeout is negative");
    }
    let offset = client.woff;
    let acked = node.count_acks_by_offset(offset);
    // Inside a transaction nothing may block: the count as it is now.
    if acked as i64 >= numreplicas || client.multi.is_some() {
        return reply::integer(acked as i64);
    }
    let deadline = (timeout > 0).then(|| node.now.saturating_add(timeout as u64));
    node.block_for_replicas(
        client,
        WaitBlock {
            offset,
            numreplicas,
            deadline,
        },
    );
    // Redis's replicationRequestAckFromSlaves: one GETACK for every WAIT of this pass.
    node.get_ack_from_replicas = true;
    Vec::new()
}

/// `ROLE`: `master`, its offset and its online replicas (`[ip, port, acknowledged
/// offset]`, as bulk strings); or `slave`, the master's host and port, the link's state
/// and the offset applied (-1 while there is no master client).
pub fn role(node: &mut Node, _client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    node.role_reply()
}

impl Node {
    /// The reply ROLE would give now, read without running a command: a viewer can show
    /// it without sending anything (sending would add to the event log and the stats).
    pub fn role_reply(&self) -> Vec<u8> {
        role_reply(self)
    }
}

fn role_reply(node: &Node) -> Vec<u8> {
    let Some(link) = &node.repl.link else {
        let mut replicas = Vec::new();
        let mut count = 0;
        for (c, peer) in node.replicas() {
            if peer.state != ReplicaSyncState::Online {
                continue;
            }
            let ip = c.replica_announced_ip.as_deref().unwrap_or(&c.peer.ip);
            replicas.extend(reply::array_header(3));
            replicas.extend(reply::bulk(ip.as_bytes()));
            replicas.extend(reply::bulk(c.replica_listening_port.to_string().as_bytes()));
            replicas.extend(reply::bulk(peer.ack_offset.to_string().as_bytes()));
            count += 1;
        }
        let mut out = reply::array_header(3);
        out.extend(reply::bulk(b"master"));
        out.extend(reply::integer(node.repl.master_repl_offset as i64));
        out.extend(reply::array_header(count));
        out.extend(replicas);
        return out;
    };
    let has_master_client = link
        .conn
        .and_then(|c| node.clients.get(&c))
        .is_some_and(|c| c.role == ClientRole::Master);
    let mut out = reply::array_header(5);
    out.extend(reply::bulk(b"slave"));
    out.extend(reply::bulk(link.host.as_bytes()));
    out.extend(reply::integer(link.port as i64));
    out.extend(reply::bulk(link.state_name().role_word().as_bytes()));
    out.extend(reply::integer(if has_master_client {
        link.reploff as i64
    } else {
        -1
    }));
    out
}
