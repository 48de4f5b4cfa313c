//! Hash commands (Redis 7.0's t_hash.c): HSET HMSET HSETNX HGET HMGET HDEL HLEN
//! HSTRLEN HGETALL HKEYS HVALS HEXISTS HINCRBY HINCRBYFLOAT.
//!
//! Fields keep insertion order, which is exactly Redis's order while a hash is a
//! listpack (at most 128 fields, none longer than 64 bytes); deleting a field keeps the
//! others in place, as deleting from a listpack does. Past that Redis uses a hash table
//! whose order is undefined.
//!
//! HINCRBYFLOAT computes in x87 80-bit `long double` like Redis (see `cfloat`) and is
//! propagated as `HSET key field <result>`, so replicas never redo float arithmetic.

use super::collection::{
    arity_error, bulk_array, delete_if_empty, empty_array, get_long, live_value, wrongtype,
};
use crate::engine::cfloat::{self, F80};
use crate::engine::keyspace::{OrderedMap, Value};
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, Node};

fn hash_mut<'a>(
    node: &'a mut Node,
    client: &Client,
    key: &[u8],
) -> Result<Option<&'a mut OrderedMap>, Vec<u8>> {
    match live_value(node, client, key) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(wrongtype()),
    }
}

/// `hashTypeLookupWriteOrCreate`: the hash at `key`, created empty if missing.
fn hash_or_create<'a>(
    node: &'a mut Node,
    client: &Client,
    key: &[u8],
) -> Result<&'a mut OrderedMap, Vec<u8>> {
    let exists = match hash_mut(node, client, key) {
        Err(e) => return Err(e),
        Ok(h) => h.is_some(),
    };
    if !exists {
        node.keyspace.set(
            client.db,
            key.to_vec(),
            Value::Hash(OrderedMap::default()),
            None,
        );
    }
    match node.keyspace.dbs[client.db]
        .entries
        .get_mut(key)
        .map(|e| &mut e.value)
    {
        Some(Value::Hash(h)) => Ok(h),
        _ => Err(wrongtype()),
    }
}

/// HSET key field value [field value ...] (the number of new fields) and HMSET (OK).
/// Both always propagate: Redis counts every pair as a change.
fn hset_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], name: &str) -> Vec<u8> {
    if argv.len() % 2 == 1 {
        return arity_error(name);
    }
    let h = match hash_or_create(node, client, &argv[1]) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let mut created = 0;
    for pair in argv[2..].chunks(2) {
        if h.insert(pair[0].clone(), pair[1].clone()).is_none() {
            created += 1;
        }
    }
    node.propagate_args(client.db, argv);
    if name == "hset" {
        reply::integer(created)
    } else {
        reply::ok()
    }
}

pub fn hset(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    hset_generic(node, client, argv, "hset")
}

pub fn hmset(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    hset_generic(node, client, argv, "hmset")
}

pub fn hsetnx(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let h = match hash_or_create(node, client, &argv[1]) {
        Ok(h) => h,
        Err(e) => return e,
    };
    if h.contains_key(&argv[2]) {
        return reply::integer(0);
    }
    h.insert(argv[2].clone(), argv[3].clone());
    node.propagate_args(client.db, argv);
    reply::integer(1)
}

pub fn hget(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match hash_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(h) => match h.and_then(|h| h.get(&argv[2])) {
            Some(v) => reply::bulk(v),
            None => reply::nil(),
        },
    }
}

pub fn hmget(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // As MGET: one field named many times would copy its value as often, so the reply
    // stops once past what the client's output buffer may take (the client is dropped).
    let room = node.reply_room(client);
    let h = match hash_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(h) => h,
    };
    let mut out = reply::array_header(argv.len() - 2);
    for f in &argv[2..] {
        if out.len() > room {
            break;
        }
        out.extend(match h.as_ref().and_then(|h| h.get(f)) {
            Some(v) => reply::bulk(v),
            None => reply::nil(),
        });
    }
    out
}

pub fn hdel(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    let h = match hash_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return reply::integer(0),
        Ok(Some(h)) => h,
    };
    let mut deleted = 0;
    for f in &argv[2..] {
        // Shift, not swap: the other fields keep their listpack order.
        if h.shift_remove(f).is_some() {
            deleted += 1;
            if h.is_empty() {
                break;
            }
        }
    }
    if deleted > 0 {
        delete_if_empty(node, client.db, key);
        node.propagate_args(client.db, argv);
    }
    reply::integer(deleted)
}

pub fn hlen(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match hash_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(h) => reply::integer(h.map_or(0, |h| h.len()) as i64),
    }
}

pub fn hstrlen(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match hash_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(h) => reply::integer(h.and_then(|h| h.get(&argv[2])).map_or(0, |v| v.len()) as i64),
    }
}

pub fn hexists(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match hash_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(h) => reply::integer(h.is_some_and(|h| h.contains_key(&argv[2])) as i64),
    }
}

#[derive(Clone, Copy)]
enum Part {
    Keys,
    Values,
    Both,
}

fn hgetall_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], part: Part) -> Vec<u8> {
    let h = match hash_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return empty_array(),
        Ok(Some(h)) => h,
    };
    match part {
        Part::Keys => bulk_array(h.keys().map(|k| k.as_slice())),
        Part::Values => bulk_array(h.values().map(|v| v.as_slice())),
        Part::Both => {
            let mut out = reply::array_header(h.len() * 2);
            for (k, v) in h.iter() {
                out.extend(reply::bulk(k));
                out.extend(reply::bulk(v));
            }
            out
        }
    }
}

pub fn hgetall(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    hgetall_generic(node, client, argv, Part::Both)
}

pub fn hkeys(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    hgetall_generic(node, client, argv, Part::Keys)
}

pub fn hvals(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    hgetall_generic(node, client, argv, Part::Values)
}

/// HINCRBY key field increment: the increment is read first, then the hash is looked up
/// (and created), then the field's value must be an integer and the sum must fit.
pub fn hincrby(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let incr = match get_long(&argv[3]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    let h = match hash_or_create(node, client, &argv[1]) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let current = match h.get(&argv[2]) {
        None => 0,
        Some(v) => match parse_i64(v) {
            Some(n) => n,
            None => return reply::error("ERR hash value is not an integer"),
        },
    };
    let Some(value) = current.checked_add(incr) else {
        return reply::error("ERR increment or decrement would overflow");
    };
    h.insert(argv[2].clone(), value.to_string().into_bytes());
    node.propagate_args(client.db, argv);
    reply::integer(value)
}

/// HINCRBYFLOAT key field increment, in 80-bit long double, printed with 17 decimals at
/// most; propagated as HSET with the printed result.
pub fn hincrbyfloat(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let Some(incr) = cfloat::string2ld(&argv[3]) else {
        return reply::error("ERR value is not a valid float");
    };
    if incr.is_inf() {
        return reply::error("ERR value is NaN or Infinity");
    }
    let h = match hash_or_create(node, client, &argv[1]) {
        Ok(h) => h,
        Err(e) => return e,
    };
    let current = match h.get(&argv[2]) {
        None => cfloat::Float::Finite {
            neg: false,
            mant: 0,
            exp: 0,
        },
        Some(v) => match cfloat::string2ld(v) {
            Some(f) => f,
            None => return reply::error("ERR hash value is not a float"),
        },
    };
    let value = cfloat::add(current, incr, F80);
    if value.is_inf() {
        return reply::error("ERR increment would produce NaN or Infinity");
    }
    let text = cfloat::fmt_ld_human(value).into_bytes();
    h.insert(argv[2].clone(), text.clone());
    node.propagate(
        client.db,
        vec![
            b"HSET".to_vec(),
            argv[1].clone(),
            argv[2].clone(),
            text.clone(),
        ],
    );
    reply::bulk(&text)
}
