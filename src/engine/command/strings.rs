//! String commands: GET, SET.

use super::lower;
use crate::engine::keyspace::Value;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, Node};

pub(crate) const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

pub fn get(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    get_reply(node, client, &argv[1])
}

fn get_reply(node: &mut Node, client: &mut Client, key: &[u8]) -> Vec<u8> {
    if !node.key_exists_after_expiry(client, key) {
        return reply::nil();
    }
    match node.keyspace.dbs[client.db].entries.get(key).map(|e| &e.value) {
        Some(Value::String(s)) => reply::bulk(s),
        Some(_) => reply::error(WRONGTYPE),
        None => reply::nil(),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

/// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]
///
/// Options are accepted in any order and with the same conflicts Redis checks. A relative
/// or second-based expiry is propagated as `SET key value PXAT <absolute ms>`, so replicas
/// expire the key at the same instant whatever the replication delay.
pub fn set(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let syntax = || reply::error("ERR syntax error");
    let (mut nx, mut xx, mut want_get, mut keepttl) = (false, false, false, false);
    let mut expire: Option<(ExpireUnit, &[u8])> = None;
    let mut j = 3;
    while j < argv.len() {
        let opt = lower(&argv[j]);
        let next = argv.get(j + 1);
        let has = |u: ExpireUnit| expire.is_some_and(|(x, _)| x == u);
        match opt.as_slice() {
            b"nx" if !xx => nx = true,
            b"xx" if !nx => xx = true,
            b"get" => want_get = true,
            b"keepttl" if expire.is_none() => keepttl = true,
            b"ex" if !keepttl && !has(ExpireUnit::ExAt) && !has(ExpireUnit::Px) && !has(ExpireUnit::PxAt) && next.is_some() => {
                expire = Some((ExpireUnit::Ex, next.map(|v| v.as_slice()).unwrap_or_default()));
                j += 1;
            }
            b"px" if !keepttl && !has(ExpireUnit::Ex) && !has(ExpireUnit::ExAt) && !has(ExpireUnit::PxAt) && next.is_some() => {
                expire = Some((ExpireUnit::Px, next.map(|v| v.as_slice()).unwrap_or_default()));
                j += 1;
            }
            b"exat" if !keepttl && !has(ExpireUnit::Ex) && !has(ExpireUnit::Px) && !has(ExpireUnit::PxAt) && next.is_some() => {
                expire = Some((ExpireUnit::ExAt, next.map(|v| v.as_slice()).unwrap_or_default()));
                j += 1;
            }
            b"pxat" if !keepttl && !has(ExpireUnit::Ex) && !has(ExpireUnit::ExAt) && !has(ExpireUnit::Px) && next.is_some() => {
                expire = Some((ExpireUnit::PxAt, next.map(|v| v.as_slice()).unwrap_or_default()));
                j += 1;
            }
            _ => return syntax(),
        }
        j += 1;
    }

    let expires_at = match expire {
        None => None,
        Some((unit, text)) => {
            let Some(mut ms) = parse_i64(text) else {
                return reply::error("ERR value is not an integer or out of range");
            };
            let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
            if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
                return reply::error("ERR invalid expire time in 'set' command");
            }
            if seconds {
                ms *= 1000;
            }
            if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
                // Redis adds the current time in a signed 64-bit integer: a sum that
                // overflows comes out negative and is refused, not clamped.
                match ms.checked_add(node.now as i64) {
                    Some(at) => ms = at,
                    None => return reply::error("ERR invalid expire time in 'set' command"),
                }
            }
            Some(ms as u64)
        }
    };

    let key = &argv[1];
    let mut out = Vec::new();
    if want_get {
        let exists = node.key_exists_after_expiry(client, key);
        match node.keyspace.dbs[client.db].entries.get(key.as_slice()) {
            Some(e) if exists => match &e.value {
                Value::String(s) => out = reply::bulk(s),
                _ => return reply::error(WRONGTYPE),
            },
            _ => out = reply::nil(),
        }
    }
    let found = node.key_exists_after_expiry(client, key);
    if (nx && found) || (xx && !found) {
        return if want_get { out } else { reply::nil() };
    }
    let kept = if keepttl && found {
        node.keyspace.dbs[client.db].entries.get(key.as_slice()).and_then(|e| e.expires_at)
    } else {
        None
    };
    node.keyspace.set(client.db, key.clone(), Value::String(argv[2].clone()), expires_at.or(kept));

    let propagated = match expires_at {
        // Any expiry, PXAT included, goes out as exactly `SET key value PXAT <ms>`: NX, XX
        // and GET are dropped and the spelling normalised, since Redis rewrites the whole
        // command vector (and the stream's byte count depends on it).
        Some(at) => vec![b"SET".to_vec(), key.clone(), argv[2].clone(), b"PXAT".to_vec(), at.to_string().into_bytes()],
        None if want_get => argv.iter().enumerate().filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get")).map(|(_, a)| a.clone()).collect(),
        None => argv.to_vec(),
    };
    node.propagate(client.db, propagated);
    if want_get {
        out
    } else {
        reply::ok()
    }
}
