//! Connection, server and replication commands.

use super::lower;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, ClientRole, Node};

pub fn ping(_node: &mut Node, _client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match argv.len() {
        1 => reply::simple("PONG"),
        2 => reply::bulk(&argv[1]),
        _ => reply::error("ERR wrong number of arguments for 'ping' command"),
    }
}

pub fn echo(_node: &mut Node, _client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    reply::bulk(&argv[1])
}

pub fn info(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let sections: Vec<String> = argv[1..]
        .iter()
        .map(|a| String::from_utf8_lossy(&lower(a)).into_owned())
        .collect();
    reply::bulk(node.info_for(&sections, Some(client)).as_bytes())
}

/// REPLICAOF host port | REPLICAOF NO ONE (and its old name SLAVEOF).
pub fn replicaof(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
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
