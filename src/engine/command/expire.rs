//! Expiry commands: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (with NX | XX | GT | LT),
//! TTL, PTTL, EXPIRETIME, PEXPIRETIME, PERSIST — Redis 7.0's expire.c.

use super::lower;
use crate::engine::c_string::c_str;
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
fn expire_generic(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    basetime: i64,
    seconds: bool,
    name: &str,
) -> Vec<u8> {
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &argv[3..] {
        match lower(opt).as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"gt" => gt = true,
            b"lt" => lt = true,
            _ => {
                // `%s` of the C string: the option up to its first NUL byte.
                let shown = c_str(opt);
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
        if !(i64::MIN / 1000..=i64::MAX / 1000).contains(&when) {
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
        let current = node.keyspace.dbs[client.db]
            .entries
            .get(key.as_slice())
            .and_then(|e| e.expires_at);
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
    node.keyspace
        .set_expiry(client.db, key, Some(when.max(0) as u64));
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
fn ttl_generic(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    ms: bool,
    absolute: bool,
) -> Vec<u8> {
    if !node.key_exists_after_expiry(client, &argv[1]) {
        return reply::integer(-2);
    }
    let at = node.keyspace.dbs[client.db]
        .entries
        .get(argv[1].as_slice())
        .and_then(|e| e.expires_at);
    let Some(at) = at else {
        return reply::integer(-1);
    };
    // (An RDB may carry any 64-bit time: saturate rather than overflow.)
    let at = i64::try_from(at).unwrap_or(i64::MAX);
    let left = if absolute {
        at
    } else {
        at.saturating_sub(node.now as i64).max(0)
    };
    // Rounded in wider arithmetic: for the largest times Redis's compiled `(ttl+500)/1000`
    // gives the mathematically rounded value (EXPIRETIME of PXAT i64::MAX is 9223372036854776).
    reply::integer(if ms {
        left
    } else {
        ((left as i128 + 500) / 1000) as i64
    })
}

/// PERSIST key: 1 if an expiry was removed. Propagated as sent only then.
pub fn persist(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    if !node.key_exists_for_write(client, key) {
        return reply::integer(0);
    }
    let has = node.keyspace.dbs[client.db]
        .entries
        .get(key.as_slice())
        .is_some_and(|e| e.expires_at.is_some());
    if !has {
        return reply::integer(0);
    }
    node.keyspace.set_expiry(client.db, key, None);
    node.propagate_args(client.db, argv);
    reply::integer(1)
}

#[cfg(test)]
mod tests {
    use crate::engine::keyspace::Value;
    use crate::engine::{Client, ClientRole, Config, Node, PeerAddr};

    const NOW: u64 = 1_700_000_000_000;

    fn run(node: &mut Node, client: &mut Client, args: &[&str]) -> Vec<u8> {
        node.execute(client, args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    fn replica(read_only: bool) -> (Node, Client, Client) {
        let config = Config {
            replicaof: Some(("127.0.0.1".into(), 6379)),
            replica_read_only: read_only,
            ..Config::default()
        };
        let node = Node::new(config, NOW, 1);
        let peer = PeerAddr {
            ip: "127.0.0.1".into(),
            port: 1,
        };
        let mut master = Client::new(100, peer.clone(), NOW, true);
        master.role = ClientRole::Master;
        let user = Client::new(101, peer, NOW, true);
        (node, master, user)
    }

    fn expires_at(node: &Node, key: &str) -> Option<Option<u64>> {
        node.keyspace.dbs[0]
            .entries
            .get(key.as_bytes())
            .map(|e| e.expires_at)
    }

    #[test]
    fn a_replica_stores_past_expiries_from_its_master_and_only_hides_them() {
        let (mut node, mut master, mut user) = replica(true);
        node.keyspace
            .set(0, b"k".to_vec(), Value::String(b"v".to_vec()), None);
        // checkAlreadyExpired is false on a replica: the time is stored, not a DEL.
        assert_eq!(
            run(&mut node, &mut master, &["PEXPIREAT", "k", "1"]),
            b":1\r\n"
        );
        assert_eq!(expires_at(&node, "k"), Some(Some(1)));
        // Its users do not see the key; it stays until the master's DEL.
        assert_eq!(run(&mut node, &mut user, &["GET", "k"]), b"$-1\r\n");
        assert_eq!(run(&mut node, &mut user, &["EXISTS", "k"]), b":0\r\n");
        assert_eq!(run(&mut node, &mut user, &["TTL", "k"]), b":-2\r\n");
        assert_eq!(run(&mut node, &mut user, &["KEYS", "*"]), b"*0\r\n");
        assert_eq!(run(&mut node, &mut user, &["DBSIZE"]), b":1\r\n");
        assert_eq!(expires_at(&node, "k"), Some(Some(1)));
        // The master's stream still sees the key, as the master did.
        assert_eq!(
            run(&mut node, &mut master, &["APPEND", "k", "w"]),
            b":2\r\n"
        );
        assert_eq!(
            run(&mut node, &mut master, &["EXPIRE", "k", "-10"]),
            b":1\r\n"
        );
        assert_eq!(expires_at(&node, "k"), Some(Some(NOW - 10_000)));
        assert_eq!(run(&mut node, &mut master, &["DEL", "k"]), b":1\r\n");
        assert_eq!(expires_at(&node, "k"), None);
        // The active cycle never runs on a replica.
        node.keyspace
            .set(0, b"j".to_vec(), Value::String(b"v".to_vec()), Some(1));
        node.tick(NOW + 5_000);
        assert_eq!(expires_at(&node, "j"), Some(Some(1)));
    }

    #[test]
    fn a_writable_replica_deletes_expired_keys_it_writes_but_never_expires_on_its_own() {
        let (mut node, _master, mut user) = replica(false);
        node.keyspace
            .set(0, b"k".to_vec(), Value::String(b"v".to_vec()), Some(1));
        // A read hides the key but leaves it.
        assert_eq!(run(&mut node, &mut user, &["GET", "k"]), b"$-1\r\n");
        assert_eq!(expires_at(&node, "k"), Some(Some(1)));
        // A write looks it up for writing: deleted first, then written fresh.
        assert_eq!(run(&mut node, &mut user, &["INCR", "k"]), b":1\r\n");
        assert_eq!(expires_at(&node, "k"), Some(None));
        // A past time from a user is stored too (masterhost is set), not a DEL.
        assert_eq!(run(&mut node, &mut user, &["EXPIRE", "k", "-1"]), b":1\r\n");
        assert_eq!(expires_at(&node, "k"), Some(Some(NOW - 1000)));
        // DEL's expireIfNeeded only hides it here; the delete then finds and counts it.
        assert_eq!(run(&mut node, &mut user, &["DEL", "k"]), b":1\r\n");
        assert_eq!(expires_at(&node, "k"), None);
        node.keyspace
            .set(0, b"g".to_vec(), Value::String(b"v".to_vec()), Some(1));
        assert_eq!(run(&mut node, &mut user, &["GETDEL", "g"]), b"$-1\r\n");
        assert_eq!(expires_at(&node, "g"), None);
    }

    #[test]
    fn a_master_deletes_on_a_past_time_and_lazily() {
        let mut node = Node::new(Config::default(), NOW, 1);
        let mut c = Client::new(
            1,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 1,
            },
            NOW,
            true,
        );
        assert_eq!(run(&mut node, &mut c, &["SET", "k", "v"]), b"+OK\r\n");
        assert_eq!(run(&mut node, &mut c, &["EXPIREAT", "k", "1"]), b":1\r\n");
        assert_eq!(expires_at(&node, "k"), None);
        assert_eq!(
            node.stats.expired_keys, 0,
            "an explicit past time is a DEL, not an expiry"
        );
        assert_eq!(
            run(&mut node, &mut c, &["SET", "k", "v", "PXAT", "1"]),
            b"+OK\r\n"
        );
        assert_eq!(run(&mut node, &mut c, &["TYPE", "k"]), b"+none\r\n");
        assert_eq!(expires_at(&node, "k"), None);
        assert_eq!(node.stats.expired_keys, 1);
        assert!(node.keyspace.dbs[0].expiring.is_empty());
    }

    #[test]
    fn ttl_rounds_to_the_nearest_second() {
        let mut node = Node::new(Config::default(), NOW, 1);
        let mut c = Client::new(
            1,
            PeerAddr {
                ip: "127.0.0.1".into(),
                port: 1,
            },
            NOW,
            true,
        );
        run(&mut node, &mut c, &["SET", "k", "v", "PX", "1499"]);
        assert_eq!(run(&mut node, &mut c, &["TTL", "k"]), b":1\r\n");
        run(&mut node, &mut c, &["SET", "k", "v", "PX", "1500"]);
        assert_eq!(run(&mut node, &mut c, &["TTL", "k"]), b":2\r\n");
        assert_eq!(run(&mut node, &mut c, &["PTTL", "k"]), b":1500\r\n");
        node.now += 1500;
        assert_eq!(run(&mut node, &mut c, &["PTTL", "k"]), b":0\r\n");
        assert_eq!(run(&mut node, &mut c, &["TTL", "k"]), b":0\r\n");
        node.now += 1;
        assert_eq!(run(&mut node, &mut c, &["PTTL", "k"]), b":-2\r\n");
    }
}
