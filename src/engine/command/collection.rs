//! What the list, set, hash and sorted-set commands share: finding a key the way
//! Redis's `lookupKey*` does, the replies of Redis's `shared` objects, and its integer
//! argument parsers with their exact error texts.

use crate::engine::keyspace::Value;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, Node};

pub(crate) use super::strings::WRONGTYPE;

/// The value of `key`, after lazy expiry (a master deletes an expired key and propagates
/// a DEL; a replica only hides it). A missing or expired key is `None`.
pub(crate) fn live_value<'a>(
    node: &'a mut Node,
    client: &Client,
    key: &[u8],
) -> Option<&'a mut Value> {
    if !node.key_exists_after_expiry(client, key) {
        return None;
    }
    node.keyspace.dbs[client.db]
        .entries
        .get_mut(key)
        .map(|e| &mut e.value)
}

/// Deletes `key` if it holds an emptied collection, as every Redis command that removes
/// elements does.
pub(crate) fn delete_if_empty(node: &mut Node, db: usize, key: &[u8]) -> bool {
    let empty = node.keyspace.dbs[db]
        .entries
        .get(key)
        .is_some_and(|e| e.value.is_empty_collection());
    if empty {
        node.keyspace.remove(db, key);
    }
    empty
}

pub(crate) fn wrongtype() -> Vec<u8> {
    reply::error(WRONGTYPE)
}

/// `shared.emptyarray` (and RESP2's `shared.emptyset`).
pub(crate) fn empty_array() -> Vec<u8> {
    b"*0\r\n".to_vec()
}

/// `shared.nullarray` in RESP2.
pub(crate) fn null_array() -> Vec<u8> {
    b"*-1\r\n".to_vec()
}

pub(crate) fn syntax_error() -> Vec<u8> {
    reply::error("ERR syntax error")
}

/// `addReplyErrorArity`: the command's own checks for argument counts its arity allows.
pub(crate) fn arity_error(name: &str) -> Vec<u8> {
    reply::error(&format!(
        "ERR wrong number of arguments for '{name}' command"
    ))
}

/// `getLongFromObjectOrReply` (a `long` is 64 bits here, so no range error is possible).
pub(crate) fn get_long(arg: &[u8]) -> Result<i64, Vec<u8>> {
    parse_i64(arg).ok_or_else(|| reply::error("ERR value is not an integer or out of range"))
}

/// `getPositiveLongFromObjectOrReply` with no message of its own: Redis passes its range
/// message down, so even a non-number gets "must be positive".
pub(crate) fn get_positive_long(arg: &[u8]) -> Result<i64, Vec<u8>> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(reply::error("ERR value is out of range, must be positive")),
    }
}

/// An array of bulk strings.
pub(crate) fn bulk_array<'a>(items: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = reply::array_header(items.len());
    for i in items {
        out.extend(reply::bulk(i));
    }
    out
}
