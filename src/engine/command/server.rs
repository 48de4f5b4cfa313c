//! PING, ECHO and INFO.

use super::lower;
use crate::engine::resp::reply;
use crate::engine::{Client, Node};

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
