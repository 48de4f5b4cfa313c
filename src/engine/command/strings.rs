//! String commands: GET, SET, SETNX, SETEX, PSETEX, GETSET, GETDEL, MSET, MSETNX, MGET,
//! APPEND, STRLEN, INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT.

use super::lower;
use crate::engine::cfloat::{self, Float, F80};
use crate::engine::keyspace::Value;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, ClientRole, Node};

pub(crate) const WRONGTYPE: &str =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

pub fn get(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    get_reply(node, client, &argv[1])
}

fn get_reply(node: &mut Node, client: &mut Client, key: &[u8]) -> Vec<u8> {
    if !node.key_exists_after_expiry(client, key) {
        return reply::nil();
    }
    match node.keyspace.dbs[client.db]
        .entries
        .get(key)
        .map(|e| &e.value)
    {
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
            b"ex"
                if !keepttl
                    && !has(ExpireUnit::ExAt)
                    && !has(ExpireUnit::Px)
                    && !has(ExpireUnit::PxAt)
                    && next.is_some() =>
            {
                expire = Some((
                    ExpireUnit::Ex,
                    next.map(|v| v.as_slice()).unwrap_or_default(),
                ));
                j += 1;
            }
            b"px"
                if !keepttl
                    && !has(ExpireUnit::Ex)
                    && !has(ExpireUnit::ExAt)
                    && !has(ExpireUnit::PxAt)
                    && next.is_some() =>
            {
                expire = Some((
                    ExpireUnit::Px,
                    next.map(|v| v.as_slice()).unwrap_or_default(),
                ));
                j += 1;
            }
            b"exat"
                if !keepttl
                    && !has(ExpireUnit::Ex)
                    && !has(ExpireUnit::Px)
                    && !has(ExpireUnit::PxAt)
                    && next.is_some() =>
            {
                expire = Some((
                    ExpireUnit::ExAt,
                    next.map(|v| v.as_slice()).unwrap_or_default(),
                ));
                j += 1;
            }
            b"pxat"
                if !keepttl
                    && !has(ExpireUnit::Ex)
                    && !has(ExpireUnit::ExAt)
                    && !has(ExpireUnit::Px)
                    && next.is_some() =>
            {
                expire = Some((
                    ExpireUnit::PxAt,
                    next.map(|v| v.as_slice()).unwrap_or_default(),
                ));
                j += 1;
            }
            _ => return syntax(),
        }
        j += 1;
    }

    let expires_at = match expire {
        None => None,
        Some((unit, text)) => match expire_millis(node, text, unit, "set") {
            Ok(at) => Some(at),
            Err(e) => return e,
        },
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
    // Only NX, XX and KEEPTTL ask whether the key exists. Otherwise the lookup matters
    // only for a key that has expired (it is deleted first, and the DEL propagated), and
    // a database with no key that has an expiry has none: a plain SET skips a walk of
    // the keyspace.
    let needs_lookup = nx || xx || keepttl || !node.keyspace.dbs[client.db].expiring.is_empty();
    let found = needs_lookup && node.key_exists_for_write(client, key);
    if (nx && found) || (xx && !found) {
        return if want_get { out } else { reply::nil() };
    }
    let kept = if keepttl && found {
        node.keyspace.dbs[client.db]
            .entries
            .get(key.as_slice())
            .and_then(|e| e.expires_at)
    } else {
        None
    };
    node.keyspace.set(
        client.db,
        key.clone(),
        Value::String(argv[2].clone()),
        expires_at.or(kept),
    );

    // A replica's SET, like a master's with no replica yet, propagates nothing: the
    // argument copies are skipped (a replica applies every write of its master).
    if node.propagation_discarded() {
        // A master reads no reply (its commands' replies are dropped): none is built.
        if matches!(client.role, ClientRole::Master) && !want_get {
            return Vec::new();
        }
        return if want_get { out } else { reply::ok() };
    }
    match expires_at {
        // Any expiry, PXAT included, goes out as exactly `SET key value PXAT <ms>`: NX, XX
        // and GET are dropped and the spelling normalised, since Redis rewrites the whole
        // command vector (and the stream's byte count depends on it).
        Some(at) => {
            let at = at.to_string();
            node.propagate_args(
                client.db,
                &[b"SET", key.as_slice(), &argv[2], b"PXAT", at.as_bytes()],
            );
        }
        None if want_get => {
            let kept: Vec<&[u8]> = argv
                .iter()
                .enumerate()
                .filter(|(i, a)| *i < 3 || !a.eq_ignore_ascii_case(b"get"))
                .map(|(_, a)| a.as_slice())
                .collect();
            node.propagate_args(client.db, &kept);
        }
        None => node.propagate_args(client.db, argv),
    }
    if want_get {
        out
    } else {
        reply::ok()
    }
}

/// `getExpireMillisecondsOrReply`: the absolute expiry (unix ms) an EX/PX/EXAT/PXAT
/// argument means, or the error reply. `cmd` names the command in the error, as
/// Redis's `addReplyErrorExpireTime` does with the command's full name.
fn expire_millis(node: &Node, text: &[u8], unit: ExpireUnit, cmd: &str) -> Result<u64, Vec<u8>> {
    let invalid = || reply::error(&format!("ERR invalid expire time in '{cmd}' command"));
    let Some(mut ms) = parse_i64(text) else {
        return Err(reply::error("ERR value is not an integer or out of range"));
    };
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if ms <= 0 || (seconds && ms > i64::MAX / 1000) {
        return Err(invalid());
    }
    if seconds {
        ms *= 1000;
    }
    if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
        // Redis adds the current time in a signed 64-bit integer: a sum that
        // overflows comes out negative and is refused, not clamped.
        match ms.checked_add(node.now as i64) {
            Some(at) => ms = at,
            None => return Err(invalid()),
        }
    }
    Ok(ms as u64)
}

/// The string at `key` after lazy expiry: `Ok(None)` when there is no such key,
/// `Err(reply)` with WRONGTYPE when it holds another type. `write` picks
/// `lookupKeyWrite` over `lookupKeyRead` (they differ only on writable replicas).
fn lookup_string(
    node: &mut Node,
    client: &Client,
    key: &[u8],
    write: bool,
) -> Result<Option<Vec<u8>>, Vec<u8>> {
    let exists = if write {
        node.key_exists_for_write(client, key)
    } else {
        node.key_exists_after_expiry(client, key)
    };
    if !exists {
        return Ok(None);
    }
    match node.keyspace.dbs[client.db]
        .entries
        .get(key)
        .map(|e| &e.value)
    {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(reply::error(WRONGTYPE)),
        None => Ok(None),
    }
}

/// Replaces the string value of an existing key, keeping its TTL (Redis's
/// `dbOverwrite`, used by INCR, INCRBYFLOAT, APPEND).
fn overwrite_keep_ttl(node: &mut Node, db: usize, key: &[u8], value: Vec<u8>) {
    let ttl = node.keyspace.dbs[db]
        .entries
        .get(key)
        .and_then(|e| e.expires_at);
    node.keyspace
        .set(db, key.to_vec(), Value::String(value), ttl);
}

/// SETNX key value: 1 if set, 0 if the key existed. Propagated as sent.
pub fn setnx(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if node.key_exists_for_write(client, &argv[1]) {
        return reply::integer(0);
    }
    node.keyspace.set(
        client.db,
        argv[1].clone(),
        Value::String(argv[2].clone()),
        None,
    );
    node.propagate_args(client.db, argv);
    reply::integer(1)
}

/// SETEX key seconds value.
pub fn setex(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    set_with_expire(node, client, argv, ExpireUnit::Ex, "setex")
}

/// PSETEX key milliseconds value.
pub fn psetex(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    set_with_expire(node, client, argv, ExpireUnit::Px, "psetex")
}

/// SETEX / PSETEX: propagated as `SET key value PXAT <absolute ms>`, like SET EX.
fn set_with_expire(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    unit: ExpireUnit,
    cmd: &str,
) -> Vec<u8> {
    let at = match expire_millis(node, &argv[2], unit, cmd) {
        Ok(at) => at,
        Err(e) => return e,
    };
    let (key, value) = (&argv[1], &argv[3]);
    node.key_exists_for_write(client, key);
    node.keyspace.set(
        client.db,
        key.clone(),
        Value::String(value.clone()),
        Some(at),
    );
    node.propagate(
        client.db,
        vec![
            b"SET".to_vec(),
            key.clone(),
            value.clone(),
            b"PXAT".to_vec(),
            at.to_string().into_bytes(),
        ],
    );
    reply::ok()
}

/// GETSET key value: the old value (or nil), and the key now holds `value` with no TTL.
/// Propagated as `SET key value`.
pub fn getset(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let old = match lookup_string(node, client, &argv[1], false) {
        Ok(v) => v,
        Err(e) => return e,
    };
    node.key_exists_for_write(client, &argv[1]);
    node.keyspace.set(
        client.db,
        argv[1].clone(),
        Value::String(argv[2].clone()),
        None,
    );
    node.propagate(
        client.db,
        vec![b"SET".to_vec(), argv[1].clone(), argv[2].clone()],
    );
    old.map_or_else(reply::nil, |v| reply::bulk(&v))
}

/// GETDEL key: the value, and the key is gone. Propagated as `DEL key`.
pub fn getdel(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match lookup_string(node, client, &argv[1], false) {
        Err(e) => e,
        Ok(None) => {
            // A replica hides an expired key from the lookup, but the delete that
            // follows in Redis still removes it (and a replica propagates nothing).
            node.keyspace.remove(client.db, &argv[1]);
            reply::nil()
        }
        Ok(Some(v)) => {
            node.keyspace.remove(client.db, &argv[1]);
            node.propagate(client.db, vec![b"DEL".to_vec(), argv[1].clone()]);
            reply::bulk(&v)
        }
    }
}

/// MSET key value [key value ...]: every key set, TTLs dropped. Propagated as sent.
pub fn mset(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    mset_generic(node, client, argv, false)
}

/// MSETNX key value [key value ...]: all or nothing: 0 if any key exists.
pub fn msetnx(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    mset_generic(node, client, argv, true)
}

fn mset_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], nx: bool) -> Vec<u8> {
    if argv.len().is_multiple_of(2) {
        let name = if nx { "msetnx" } else { "mset" };
        return reply::error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
    }
    if nx {
        // Redis stops at the first existing key (later ones are not even looked up).
        for pair in argv[1..].chunks(2) {
            if node.key_exists_for_write(client, &pair[0]) {
                return reply::integer(0);
            }
        }
    }
    for pair in argv[1..].chunks(2) {
        // setKey looks the key up (expiring it first if needed), then drops any TTL.
        node.key_exists_for_write(client, &pair[0]);
        node.keyspace.set(
            client.db,
            pair[0].clone(),
            Value::String(pair[1].clone()),
            None,
        );
    }
    node.propagate_args(client.db, argv);
    if nx {
        reply::integer(1)
    } else {
        reply::ok()
    }
}

/// MGET key [key ...]: nil for missing keys and for keys of another type.
pub fn mget(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // One key named a million times is a million copies of its value: the reply stops
    // once the client's output buffer could not take it (the client is then dropped, see
    // `client_limits`), instead of being built whole first.
    let room = node.reply_room(client);
    let mut out = reply::array_header(argv.len() - 1);
    for key in &argv[1..] {
        if out.len() > room {
            break;
        }
        match lookup_string(node, client, key, false) {
            Ok(Some(v)) => out.extend(reply::bulk(&v)),
            _ => out.extend(reply::nil()),
        }
    }
    out
}

/// APPEND key value: the new length. Keeps the TTL. Propagated as sent (always, even
/// appending nothing: Redis counts it as a change).
pub fn append(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (key, tail) = (&argv[1], &argv[2]);
    let total = match lookup_string(node, client, key, true) {
        Err(e) => return e,
        Ok(None) => {
            node.keyspace
                .set(client.db, key.clone(), Value::String(tail.clone()), None);
            tail.len()
        }
        Ok(Some(_)) => {
            let db = &mut node.keyspace.dbs[client.db];
            let Some(Value::String(s)) = db.entries.get_mut(key.as_slice()).map(|e| &mut e.value)
            else {
                return reply::error(WRONGTYPE);
            };
            // checkStringLength: refused above proto-max-bulk-len, except from our master.
            let limit = node.config.proto_max_bulk_len;
            if client.role != ClientRole::Master
                && (s.len() as u64).saturating_add(tail.len() as u64) > limit
            {
                return reply::error(
                    "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
                );
            }
            s.extend_from_slice(tail);
            s.len()
        }
    };
    node.propagate_args(client.db, argv);
    reply::integer(total as i64)
}

/// STRLEN key: 0 for a missing key.
pub fn strlen(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match lookup_string(node, client, &argv[1], false) {
        Err(e) => e,
        Ok(v) => reply::integer(v.map_or(0, |v| v.len() as i64)),
    }
}

pub fn incr(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    incr_decr(node, client, argv, 1)
}

pub fn decr(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    incr_decr(node, client, argv, -1)
}

pub fn incrby(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match parse_i64(&argv[2]) {
        Some(by) => incr_decr(node, client, argv, by),
        None => reply::error("ERR value is not an integer or out of range"),
    }
}

pub fn decrby(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match parse_i64(&argv[2]) {
        // -i64::MIN does not exist.
        Some(i64::MIN) => reply::error("ERR decrement would overflow"),
        Some(by) => incr_decr(node, client, argv, -by),
        None => reply::error("ERR value is not an integer or out of range"),
    }
}

/// INCR/DECR/INCRBY/DECRBY: the stored string must be a strict 64-bit integer
/// (`string2ll`); the result must not overflow. Keeps the TTL; propagated as sent.
fn incr_decr(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], by: i64) -> Vec<u8> {
    let key = &argv[1];
    let current = match lookup_string(node, client, key, true) {
        Err(e) => return e,
        Ok(None) => 0,
        Ok(Some(v)) => match parse_i64(&v) {
            Some(n) => n,
            None => return reply::error("ERR value is not an integer or out of range"),
        },
    };
    let Some(value) = current.checked_add(by) else {
        return reply::error("ERR increment or decrement would overflow");
    };
    overwrite_keep_ttl(node, client.db, key, value.to_string().into_bytes());
    node.propagate_args(client.db, argv);
    reply::integer(value)
}

/// INCRBYFLOAT key increment, in x87 `long double` like Redis (see `cfloat`). The
/// reply and the stored value are `%.17Lf` trimmed; propagated as
/// `SET key <new value> KEEPTTL`, so replicas never redo the float arithmetic.
pub fn incrbyfloat(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    let not_float = || reply::error("ERR value is not a valid float");
    let current = match lookup_string(node, client, key, true) {
        Err(e) => return e,
        Ok(None) => Float::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        },
        Ok(Some(v)) => match cfloat::string2ld(&v) {
            Some(x) => x,
            None => return not_float(),
        },
    };
    let Some(by) = cfloat::string2ld(&argv[2]) else {
        return not_float();
    };
    let sum = cfloat::add(current, by, F80);
    if sum.is_inf() {
        return reply::error("ERR increment would produce NaN or Infinity");
    }
    let text = cfloat::fmt_ld_human(sum).into_bytes();
    overwrite_keep_ttl(node, client.db, key, text.clone());
    node.propagate(
        client.db,
        vec![
            b"SET".to_vec(),
            key.clone(),
            text.clone(),
            b"KEEPTTL".to_vec(),
        ],
    );
    reply::bulk(&text)
}

#[cfg(test)]
mod tests {
    use crate::engine::keyspace::Value;
    use crate::engine::{Client, Config, Node, PeerAddr};
    use std::collections::VecDeque;

    fn run(node: &mut Node, client: &mut Client, args: &[&str]) -> Vec<u8> {
        node.execute(client, args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn every_string_command_refuses_other_types() {
        let mut node = Node::new(Config::default(), 1_700_000_000_000, 1);
        let mut c = Client::new(
            1,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 1,
            },
            node.now,
            true,
        );
        let list = Value::List(VecDeque::from(vec![b"x".to_vec()]));
        let wrong =
            b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n".to_vec();
        for args in [
            &["GET", "l"][..],
            &["GETSET", "l", "v"],
            &["GETDEL", "l"],
            &["APPEND", "l", "v"],
            &["STRLEN", "l"],
            &["INCR", "l"],
            &["DECR", "l"],
            &["INCRBY", "l", "1"],
            &["DECRBY", "l", "1"],
            &["INCRBYFLOAT", "l", "1"],
            &["SET", "l", "v", "GET"],
        ] {
            node.keyspace.set(0, b"l".to_vec(), list.clone(), None);
            assert_eq!(run(&mut node, &mut c, args), wrong, "{args:?}");
            assert_eq!(
                node.keyspace.dbs[0].entries[&b"l".to_vec()].value,
                list,
                "{args:?} must not write"
            );
        }
        // MGET answers nil for it; SETNX sees it exists; SET / MSET / SETEX overwrite it.
        assert_eq!(
            run(&mut node, &mut c, &["MGET", "l", "nope"]),
            b"*2\r\n$-1\r\n$-1\r\n"
        );
        assert_eq!(run(&mut node, &mut c, &["SETNX", "l", "v"]), b":0\r\n");
        assert_eq!(run(&mut node, &mut c, &["TYPE", "l"]), b"+list\r\n");
        assert_eq!(
            run(&mut node, &mut c, &["SETEX", "l", "10", "v"]),
            b"+OK\r\n"
        );
        assert_eq!(run(&mut node, &mut c, &["TYPE", "l"]), b"+string\r\n");
    }

    #[test]
    fn append_obeys_proto_max_bulk_len_except_from_the_master() {
        let config = Config {
            proto_max_bulk_len: 10,
            ..Config::default()
        };
        let mut node = Node::new(config, 1_700_000_000_000, 1);
        let mut c = Client::new(
            1,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 1,
            },
            node.now,
            true,
        );
        assert_eq!(
            run(&mut node, &mut c, &["APPEND", "k", "0123456789"]),
            b":10\r\n"
        );
        assert_eq!(
            run(&mut node, &mut c, &["APPEND", "k", "x"]),
            b"-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
        );
        c.role = crate::engine::ClientRole::Master;
        assert_eq!(run(&mut node, &mut c, &["APPEND", "k", "x"]), b":11\r\n");
    }
}
