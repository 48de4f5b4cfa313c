//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX | XX | GT | LT),
//! TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST — Redis 7.0's expire.c.

use super::lower;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, Node};

pub fn expire(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let now = node.now as i64;
    expire_generic(node, client, argv, now, true, "expire")
}

pub fn pexpire(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let now = node.now as i64;
    expire_generic(node, client, argv, now, false, "pexpire")
}

pub fn expireat(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    expire_generic(node, client, argv, 0, true, "expireat")
}

pub fn pexpireat(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    expire_generic(node, client, argv, 0, false, "pexpireat")
}

/// `expireGenericCommand`. `basetime` is now (relative forms) or 0 (the AT forms).
///
/// Propagation, as 7.0 rewrites it: the command becomes `PEXPIREAT key <absolute ms>`
/// with any NX/XX/GT/LT options kept as sent (only the name and the time argument are
/// replaced; PEXPIREAT itself goes out untouched). A time that is already past deletes
/// the key and goes out as `DEL key` — but only on a master: a replica (whatever the
/// client, its master included) stores the past time and waits for its master's DEL
/// (`checkAlreadyExpired`).
fn expire_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], basetime: i64, seconds: bool, name: &str) -> Vec<u8> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        match lower(opt).as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                // `%s` of the C string: the option up to its first NUL byte.
                let shown = opt.split(|&b| b == 0).next().unwrap_or_default();
                let mut msg = b"ERR Unsupported option ".to_vec();
                msg.extend_from_slice(shown);
                // addReplyErrorFormat trims CR/LF off the end (then maps the inner ones).
                while msg.last().is_some_and(|&b| b == b'\r' || b == b'\n') {
                    msg.pop();
                }
                return reply::error_bytes(&msg);
            }
        }
    }
    if nx && (xx || gt || lt) {
        return reply::error("ERR NX and XX, GT or LT options at the same time are not compatible");
    }
    if gt && lt {
        return reply::error("ERR GT and LT options at the same time are not compatible");
    }
    let Some(mut when) = parse_i64(&argv[2]) else {
        return reply::error("ERR value is not an integer or out of range");
    };
    let invalid = || reply::error(&format!("ERR invalid expire time in '{name}' command"));
    // EXPIRE accepts negative times; only overflows of the unit conversion or of the
    // addition of the base time are refused.
    if seconds {
        if when > i64::MAX / 1000 || when < i64::MIN / 1000 {
            return invalid();
        }
        when *= 1000;
    }
    if when > i64::MAX - basetime {
        return invalid();
    }
    when += basetime;

    let key = &argv[1];
    if !node.key_exists_for_write(client, key) {
        return reply::integer(0);
    }
    if nx || xx || gt || lt {
        let current = node.keyspace.dbs[client.db].entries.get(key.as_slice()).and_then(|e| e.expires_at);
        // No expiry counts as an infinite TTL: GT never beats it, LT always does.
        let refused = (nx && current.is_some())
            || (xx && current.is_none())
            || (gt && current.is_none_or(|c| when <= c as i64))
            || (lt && current.is_some_and(|c| when >= c as i64));
        if refused {
            return reply::integer(0);
        }
    }
    if when <= node.now as i64 && node.repl.link.is_none() {
        node.keyspace.remove(client.db, key);
        node.propagate(client.db, vec![b"DEL".to_vec(), key.clone()]);
        return reply::integer(1);
    }
    // A negative absolute time (only reachable on a replica) is stored as 0: already
    // past, like Redis's value, though Redis then treats a negative expiry as none.
    node.keyspace.set_expiry(client.db, key, Some(when.max(0) as u64));
    let mut propagated = argv.to_vec();
    if name != "pexpireat" {
        propagated[0] = b"PEXPIREAT".to_vec();
        propagated[2] = when.to_string().into_bytes();
    }
    node.propagate(client.db, propagated);
    reply::integer(1)
}

pub fn ttl(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    ttl_generic(node, client, argv, false, false)
}

pub fn pttl(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    ttl_generic(node, client, argv, true, false)
}

pub fn expiretime(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    ttl_generic(node, client, argv, false, true)
}

pub fn pexpiretime(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    ttl_generic(node, client, argv, true, true)
}

/// -2 for no key, -1 for no expiry; otherwise the time left (or the absolute time),
/// never below 0, in seconds rounded to nearest (`(ms + 500) / 1000`) or milliseconds.
fn ttl_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], ms: bool, absolute: bool) -> Vec<u8> {
    if !node.key_exists_after_expiry(client, &argv[1]) {
        return reply::integer(-2);
    }
    let at = node.keyspace.dbs[client.db].entries.get(argv[1].as_slice()).and_then(|e| e.expires_at);
    let Some(at) = at else { return reply::integer(-1) };
    let left = if absolute { at as i64 } else { (at as i64 - node.now as i64).max(0) };
    reply::integer(if ms { left } else { (left + 500) / 1000 })
}

/// PERSIST key: 1 if an expiry was removed. Propagated as sent only then.
pub fn persist(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    if !node.key_exists_for_write(client, key) {
        return reply::integer(0);
    }
    let has = node.keyspace.dbs[client.db].entries.get(key.as_slice()).is_some_and(|e| e.expires_at.is_some());
    if !has {
        return reply::integer(0);
    }
    node.keyspace.set_expiry(client.db, key, None);
    node.propagate(client.db, argv.to_vec());
    reply::integer(1)
}
