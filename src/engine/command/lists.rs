//! List commands (Redis 7.0's t_list.c): LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE
//! LLEN LINDEX LSET LREM LINSERT LTRIM LPOS LMOVE RPOPLPUSH.
//!
//! Each command parses and checks in the order Redis does (some parse their numbers
//! before looking the key up, some after), so the same bad input gets the same error.
//! A list that loses its last element is deleted. A command is propagated, unchanged,
//! exactly when it changed something (Redis's `server.dirty`).

use std::collections::VecDeque;

use super::collection::{arity_error, bulk_array, syntax_error};
use super::collection::{
    delete_if_empty, empty_array, get_long, get_positive_long, live_value, null_array, wrongtype,
};
use crate::engine::keyspace::Value;
use crate::engine::resp::parse_i64;
use crate::engine::resp::reply;
use crate::engine::{Client, Node};

type List = VecDeque<Vec<u8>>;

/// The list at `key`: `Ok(None)` when there is none, `Err` with WRONGTYPE.
fn list_mut<'a>(
    node: &'a mut Node,
    client: &Client,
    key: &[u8],
) -> Result<Option<&'a mut List>, Vec<u8>> {
    match live_value(node, client, key) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(wrongtype()),
    }
}

/// Redis's index arithmetic for ranges: negative counts from the end, clamped.
/// `None` for an empty range.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut start = if start < 0 { len + start } else { start };
    let end = if end < 0 { len + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= len {
        return None;
    }
    let end = end.min(len - 1);
    Some((start as usize, end as usize))
}

/// An index as LINDEX / LSET take it: negative counts from the tail.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let i = if index < 0 { len as i64 + index } else { index };
    (i >= 0 && i < len as i64).then_some(i as usize)
}

fn push(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    front: bool,
    only_existing: bool,
) -> Vec<u8> {
    let key = &argv[1];
    let add = |l: &mut List| {
        for v in &argv[2..] {
            if front {
                l.push_front(v.clone());
            } else {
                l.push_back(v.clone());
            }
        }
        l.len()
    };
    let len = match list_mut(node, client, key) {
        Err(e) => return e,
        Ok(Some(l)) => add(l),
        Ok(None) if only_existing => return reply::integer(0),
        Ok(None) => {
            let mut l = List::new();
            let len = add(&mut l);
            node.keyspace
                .set(client.db, key.clone(), Value::List(l), None);
            len
        }
    };
    node.propagate_args(client.db, argv);
    reply::integer(len as i64)
}

pub fn lpush(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    push(node, client, argv, true, false)
}

pub fn rpush(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    push(node, client, argv, false, false)
}

pub fn lpushx(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    push(node, client, argv, true, true)
}

pub fn rpushx(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    push(node, client, argv, false, true)
}

/// LPOP/RPOP key [count]. Without a count: a bulk string, nil for no key. With one: an
/// array, a nil *array* for no key, and an empty array for a count of 0 (which changes
/// nothing and so propagates nothing).
fn pop(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], front: bool, name: &str) -> Vec<u8> {
    if argv.len() > 3 {
        return arity_error(name);
    }
    let count = match argv.get(2) {
        None => None,
        Some(a) => match get_positive_long(a) {
            Ok(n) => Some(n),
            Err(e) => return e,
        },
    };
    let key = &argv[1];
    let out = match list_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => {
            return if count.is_some() {
                null_array()
            } else {
                reply::nil()
            }
        }
        Ok(Some(l)) => match count {
            Some(0) => return empty_array(),
            None => {
                let v = if front { l.pop_front() } else { l.pop_back() };
                reply::bulk(&v.unwrap_or_default())
            }
            Some(n) => {
                let n = (n as u64).min(l.len() as u64) as usize;
                let popped: Vec<Vec<u8>> = if front {
                    l.drain(..n).collect()
                } else {
                    l.drain(l.len() - n..).rev().collect()
                };
                bulk_array(popped.iter().map(|v| v.as_slice()))
            }
        },
    };
    delete_if_empty(node, client.db, key);
    node.propagate_args(client.db, argv);
    out
}

pub fn lpop(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    pop(node, client, argv, true, "lpop")
}

pub fn rpop(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    pop(node, client, argv, false, "rpop")
}

pub fn lrange(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // The indexes are read before the key is looked up.
    let (start, end) = match (get_long(&argv[2]), get_long(&argv[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    match list_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => empty_array(),
        Ok(Some(l)) => match clamp_range(start, end, l.len()) {
            None => empty_array(),
            Some((s, e)) => bulk_array(l.range(s..=e).map(|v| v.as_slice())),
        },
    }
}

pub fn llen(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match list_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => reply::integer(0),
        Ok(Some(l)) => reply::integer(l.len() as i64),
    }
}

pub fn lindex(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // The key is looked up before the index is read.
    let l = match list_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return reply::nil(),
        Ok(Some(l)) => l,
    };
    let index = match get_long(&argv[2]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    match resolve_index(index, l.len()) {
        Some(i) => reply::bulk(&l[i]),
        None => reply::nil(),
    }
}

pub fn lset(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let l = match list_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return reply::error("ERR no such key"),
        Ok(Some(l)) => l,
    };
    let index = match get_long(&argv[2]) {
        Ok(i) => i,
        Err(e) => return e,
    };
    match resolve_index(index, l.len()) {
        None => reply::error("ERR index out of range"),
        Some(i) => {
            l[i] = argv[3].clone();
            node.propagate_args(client.db, argv);
            reply::ok()
        }
    }
}

/// LREM key count element: count > 0 from the head, < 0 from the tail, 0 all.
pub fn lrem(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let count = match get_long(&argv[2]) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let key = &argv[1];
    let element = &argv[3];
    let l = match list_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return reply::integer(0),
        Ok(Some(l)) => l,
    };
    // i64::MIN has no positive counterpart; unsigned_abs still says "remove them all".
    let limit = if count == 0 {
        u64::MAX
    } else {
        count.unsigned_abs()
    };
    let mut removed = 0u64;
    if count >= 0 {
        let mut i = 0;
        while i < l.len() && removed < limit {
            if l[i] == *element {
                l.remove(i);
                removed += 1;
            } else {
                i += 1;
            }
        }
    } else {
        let mut i = l.len();
        while i > 0 && removed < limit {
            i -= 1;
            if l[i] == *element {
                l.remove(i);
                removed += 1;
            }
        }
    }
    if removed > 0 {
        delete_if_empty(node, client.db, key);
        node.propagate_args(client.db, argv);
    }
    reply::integer(removed as i64)
}

/// LINSERT key BEFORE|AFTER pivot element: -1 when the pivot is not there, 0 when the key
/// is not. The direction is checked before the key is looked up.
pub fn linsert(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let after = if argv[2].eq_ignore_ascii_case(b"after") {
        true
    } else if argv[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return syntax_error();
    };
    let l = match list_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return reply::integer(0),
        Ok(Some(l)) => l,
    };
    let Some(pos) = l.iter().position(|v| *v == argv[3]) else {
        return reply::integer(-1);
    };
    l.insert(if after { pos + 1 } else { pos }, argv[4].clone());
    let len = l.len();
    node.propagate_args(client.db, argv);
    reply::integer(len as i64)
}

/// LTRIM key start stop: keeps the range (deleting the key if nothing is left). Replies
/// OK even when there is no key; propagates only when something was removed.
pub fn ltrim(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (start, end) = match (get_long(&argv[2]), get_long(&argv[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let key = &argv[1];
    let l = match list_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return reply::ok(),
        Ok(Some(l)) => l,
    };
    let before = l.len();
    match clamp_range(start, end, l.len()) {
        None => l.clear(),
        Some((s, e)) => {
            l.truncate(e + 1);
            l.drain(..s);
        }
    }
    if l.len() != before {
        delete_if_empty(node, client.db, key);
        node.propagate_args(client.db, argv);
    }
    reply::ok()
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]: options are read
/// before the key is looked up.
pub fn lpos(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (mut rank, mut count, mut maxlen) = (1i64, None::<i64>, 0i64);
    let mut j = 3;
    while j < argv.len() {
        let more = j + 1 < argv.len();
        let opt = &argv[j];
        if opt.eq_ignore_ascii_case(b"rank") && more {
            j += 1;
            rank = match get_long(&argv[j]) {
                Ok(r) => r,
                Err(e) => return e,
            };
            if rank == 0 {
                return reply::error(
                    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
                );
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            j += 1;
            match parse_i64(&argv[j]) {
                Some(c) if c >= 0 => count = Some(c),
                _ => return reply::error("ERR COUNT can't be negative"),
            }
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            j += 1;
            match parse_i64(&argv[j]) {
                Some(m) if m >= 0 => maxlen = m,
                _ => return reply::error("ERR MAXLEN can't be negative"),
            }
        } else {
            return syntax_error();
        }
        j += 1;
    }
    // A negative rank searches from the tail. Redis negates it in a C long, so
    // LONG_MIN stays negative and then matches from the first hit on: wrapping
    // arithmetic reproduces that.
    let from_tail = rank < 0;
    if from_tail {
        rank = rank.wrapping_neg();
    }
    let l = match list_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => {
            return if count.is_some() {
                empty_array()
            } else {
                reply::nil()
            }
        }
        Ok(Some(l)) => l,
    };
    let len = l.len();
    let mut found = Vec::new();
    let mut matches = 0i64;
    for index in 0..len {
        if maxlen != 0 && index as i64 >= maxlen {
            break;
        }
        let pos = if from_tail { len - 1 - index } else { index };
        if l[pos] != argv[2] {
            continue;
        }
        matches += 1;
        if matches >= rank {
            found.push(pos as i64);
            match count {
                None => break,
                Some(c) => {
                    if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c {
                        break;
                    }
                }
            }
        }
    }
    match count {
        Some(_) => {
            let mut out = reply::array_header(found.len());
            for f in found {
                out.extend(reply::integer(f));
            }
            out
        }
        None => match found.first() {
            Some(&f) => reply::integer(f),
            None => reply::nil(),
        },
    }
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT, and RPOPLPUSH (RIGHT LEFT). Both
/// keys are checked before anything moves; the same key rotates the list.
fn lmove_generic(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    from_left: bool,
    to_left: bool,
) -> Vec<u8> {
    let (src, dst) = (&argv[1], &argv[2]);
    match list_mut(node, client, src) {
        Err(e) => return e,
        Ok(None) => return reply::nil(),
        Ok(Some(_)) => {}
    }
    let dst_exists = match list_mut(node, client, dst) {
        Err(e) => return e,
        Ok(d) => d.is_some(),
    };
    let db = client.db;
    let Some(Value::List(l)) = node.keyspace.dbs[db]
        .entries
        .get_mut(src.as_slice())
        .map(|e| &mut e.value)
    else {
        return reply::nil();
    };
    let value = if from_left {
        l.pop_front()
    } else {
        l.pop_back()
    }
    .unwrap_or_default();
    if !dst_exists && src != dst {
        node.keyspace
            .set(db, dst.clone(), Value::List(List::new()), None);
    }
    if let Some(Value::List(d)) = node.keyspace.dbs[db]
        .entries
        .get_mut(dst.as_slice())
        .map(|e| &mut e.value)
    {
        if to_left {
            d.push_front(value.clone());
        } else {
            d.push_back(value.clone());
        }
    }
    delete_if_empty(node, db, src);
    node.propagate_args(db, argv);
    reply::bulk(&value)
}

fn list_end(arg: &[u8]) -> Option<bool> {
    if arg.eq_ignore_ascii_case(b"left") {
        Some(true)
    } else if arg.eq_ignore_ascii_case(b"right") {
        Some(false)
    } else {
        None
    }
}

pub fn lmove(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (Some(from), Some(to)) = (list_end(&argv[3]), list_end(&argv[4])) else {
        return syntax_error();
    };
    lmove_generic(node, client, argv, from, to)
}

pub fn rpoplpush(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    lmove_generic(node, client, argv, false, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_redis_arithmetic() {
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(3, 5, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(0, i64::MIN, 3), None);
        assert_eq!(clamp_range(0, 0, 0), None);
        assert_eq!(resolve_index(-1, 3), Some(2));
        assert_eq!(resolve_index(i64::MIN, 3), None);
        assert_eq!(resolve_index(3, 3), None);
    }
}
