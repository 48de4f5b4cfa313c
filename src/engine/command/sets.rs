//! Set commands (Redis 7.0's t_set.c): SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD
//! SPOP SRANDMEMBER SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
//! SDIFFSTORE.
//!
//! Encodings matter because they show: a set whose members are all canonical integers
//! (`string2ll`) and that never grew past `set-max-intset-entries` (512) is an intset,
//! iterated in numeric order; anything else is a hash table, whose order Redis leaves
//! undefined (ours is insertion order). The conversion is one-way, except that SPOP's
//! "build a new set of the survivors" path starts a fresh set, as Redis's does.
//!
//! Random choices come from the node's seeded id source. SPOP is never propagated as
//! itself: one member goes out as `SREM key member`, a count as one SREM per member
//! (wrapped in MULTI/EXEC when there are several), and popping the whole set as
//! `DEL key`, exactly as 7.0's spopCommand / spopWithCountCommand do.

use super::collection::{bulk_array, delete_if_empty};
use super::collection::{
    empty_array, get_long, get_positive_long, live_value, syntax_error, wrongtype,
};
use crate::engine::keyspace::{OrderedSet, SetValue, Value};
use crate::engine::resp::{parse_i64, push_header, reply};
use crate::engine::{Client, IdSource, Node};

/// Redis's `set-max-intset-entries` default.
pub const SET_MAX_INTSET_ENTRIES: usize = 512;

/// `setTypeCreate`: an intset if the first member is an integer, else a hash table.
fn new_set_for(first: &[u8]) -> SetValue {
    if parse_i64(first).is_some() {
        SetValue::Ints(Default::default())
    } else {
        SetValue::Members(OrderedSet::default())
    }
}

/// intset -> hash table, keeping the numeric order as the starting insertion order.
fn convert_to_members(s: &mut SetValue) {
    if let SetValue::Ints(ints) = s {
        let members: OrderedSet = ints.iter().map(|i| i.to_string().into_bytes()).collect();
        *s = SetValue::Members(members);
    }
}

/// `setTypeAdd`: true if the member was new.
fn set_add(s: &mut SetValue, member: &[u8]) -> bool {
    if let SetValue::Ints(ints) = s {
        match parse_i64(member) {
            Some(v) => {
                let added = ints.insert(v);
                if ints.len() > SET_MAX_INTSET_ENTRIES {
                    convert_to_members(s);
                }
                return added;
            }
            None => convert_to_members(s),
        }
    }
    match s {
        SetValue::Members(m) => m.insert(member.to_vec()),
        SetValue::Ints(_) => unreachable!("converted above"),
    }
}

/// `setTypeRemove`: true if the member was there.
fn set_remove(s: &mut SetValue, member: &[u8]) -> bool {
    match s {
        SetValue::Ints(ints) => parse_i64(member).is_some_and(|v| ints.remove(&v)),
        // Shift, not swap: the remaining members keep their order.
        SetValue::Members(m) => m.shift_remove(member),
    }
}

fn set_contains(s: &SetValue, member: &[u8]) -> bool {
    match s {
        SetValue::Ints(ints) => parse_i64(member).is_some_and(|v| ints.contains(&v)),
        SetValue::Members(m) => m.contains(member),
    }
}

/// A uniformly chosen member (the set is not empty).
fn random_member(s: &SetValue, ids: &mut IdSource) -> Vec<u8> {
    let i = ids.below(s.len() as u64) as usize;
    match s {
        SetValue::Ints(ints) => ints
            .iter()
            .nth(i)
            .map(|v| v.to_string().into_bytes())
            .unwrap_or_default(),
        SetValue::Members(m) => m.get_index(i).cloned().unwrap_or_default(),
    }
}

/// SRANDMEMBER's picks with repetition: the reply grows with |count|, not with the set
/// (`SRANDMEMBER s -1000000` of a 1 MB member would be a terabyte), so it is built straight
/// into the reply and stops once it is past `room`, the bytes the client's output buffer
/// may still take. The client is then dropped for overcoming its output buffer limit (see
/// `client_limits`) and the truncated reply is never sent. The picks are drawn in the same
/// order as before, so an untruncated reply is the same.
fn repeated_picks(s: &SetValue, ids: &mut IdSource, n: u64, room: usize) -> Vec<u8> {
    // An intset's members as text once (at most 512), not once per pick.
    let ints: Vec<Vec<u8>> = match s {
        SetValue::Ints(v) => v.iter().map(|i| i.to_string().into_bytes()).collect(),
        SetValue::Members(_) => Vec::new(),
    };
    let mut out = reply::array_header(n.min(usize::MAX as u64) as usize);
    let mut left = n;
    while left > 0 && out.len() <= room {
        let i = ids.below(s.len() as u64) as usize;
        let member: &[u8] = match s {
            SetValue::Ints(_) => &ints[i],
            SetValue::Members(m) => m.get_index(i).map_or(&[][..], |v| v.as_slice()),
        };
        push_header(&mut out, b'$', member.len());
        out.extend_from_slice(member);
        out.extend_from_slice(b"\r\n");
        left -= 1;
    }
    out
}

fn set_mut<'a>(
    node: &'a mut Node,
    client: &Client,
    key: &[u8],
) -> Result<Option<&'a mut SetValue>, Vec<u8>> {
    match live_value(node, client, key) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(wrongtype()),
    }
}

fn members_reply(members: &[Vec<u8>]) -> Vec<u8> {
    bulk_array(members.iter().map(|m| m.as_slice()))
}

pub fn sadd(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    let added = match set_mut(node, client, key) {
        Err(e) => return e,
        Ok(Some(s)) => argv[2..].iter().filter(|m| set_add(s, m)).count(),
        Ok(None) => {
            let mut s = new_set_for(&argv[2]);
            let added = argv[2..].iter().filter(|m| set_add(&mut s, m)).count();
            node.keyspace
                .set(client.db, key.clone(), Value::Set(s), None);
            added
        }
    };
    if added > 0 {
        node.propagate_args(client.db, argv);
    }
    reply::integer(added as i64)
}

pub fn srem(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    let s = match set_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return reply::integer(0),
        Ok(Some(s)) => s,
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if set_remove(s, m) {
            deleted += 1;
            if s.is_empty() {
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

/// SMEMBERS (Redis runs it as a one-key SINTER): intsets in numeric order.
pub fn smembers(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match set_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => empty_array(),
        Ok(Some(s)) => members_reply(&s.members()),
    }
}

pub fn sismember(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match set_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => reply::integer(0),
        Ok(Some(s)) => reply::integer(set_contains(s, &argv[2]) as i64),
    }
}

pub fn smismember(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let s = match set_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(s) => s,
    };
    let mut out = reply::array_header(argv.len() - 2);
    for m in &argv[2..] {
        out.extend(reply::integer(
            s.as_ref().is_some_and(|s| set_contains(s, m)) as i64,
        ));
    }
    out
}

pub fn scard(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match set_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => reply::integer(0),
        Ok(Some(s)) => reply::integer(s.len() as i64),
    }
}

/// SPOP key [count]
pub fn spop(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.len() == 3 {
        return spop_with_count(node, client, argv);
    }
    if argv.len() > 3 {
        return syntax_error();
    }
    let key = &argv[1];
    let db = client.db;
    if !node.key_exists_after_expiry(client, key) {
        return reply::nil();
    }
    let Some(Value::Set(s)) = node.keyspace.dbs[db]
        .entries
        .get_mut(key.as_slice())
        .map(|e| &mut e.value)
    else {
        return wrongtype();
    };
    let member = random_member(s, &mut node.ids);
    set_remove(s, &member);
    delete_if_empty(node, db, key);
    node.propagate(db, vec![b"SREM".to_vec(), key.clone(), member.clone()]);
    reply::bulk(&member)
}

/// How much bigger than the survivors the popped part must be before SPOP builds a new
/// set of the survivors instead of picking the popped ones (SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;

fn spop_with_count(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let count = match get_positive_long(&argv[2]) {
        Ok(c) => c as u64,
        Err(e) => return e,
    };
    let key = &argv[1];
    let db = client.db;
    if !node.key_exists_after_expiry(client, key) {
        return empty_array();
    }
    let Some(entry) = node.keyspace.dbs[db].entries.get_mut(key.as_slice()) else {
        return empty_array();
    };
    let Value::Set(s) = &mut entry.value else {
        return wrongtype();
    };
    if count == 0 {
        return empty_array();
    }
    let size = s.len() as u64;
    if count >= size {
        // The whole set, as a one-key SUNION builds it (a fresh intset that converts as
        // members arrive); the key goes, and the replicas get a DEL.
        let mut union = SetValue::Ints(Default::default());
        for m in s.members() {
            set_add(&mut union, &m);
        }
        let out = members_reply(&union.members());
        node.keyspace.remove(db, key);
        node.propagate(db, vec![b"DEL".to_vec(), key.clone()]);
        return out;
    }
    let remaining = size - count;
    let mut popped = Vec::with_capacity(count as usize);
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Few to pop: pick them one by one.
        for _ in 0..count {
            let m = random_member(s, &mut node.ids);
            set_remove(s, &m);
            popped.push(m);
        }
    } else {
        // Most of the set goes: pick the survivors into a new set instead, and pop what
        // is left of the old one, in its own order.
        let mut survivors: Option<SetValue> = None;
        for _ in 0..remaining {
            let m = random_member(s, &mut node.ids);
            let new = survivors.get_or_insert_with(|| new_set_for(&m));
            set_add(new, &m);
            set_remove(s, &m);
        }
        popped = s.members();
        if let Some(new) = survivors {
            *s = new;
        }
    }
    for m in &popped {
        node.propagate(db, vec![b"SREM".to_vec(), key.clone(), m.clone()]);
    }
    members_reply(&popped)
}

/// SRANDMEMBER key [count]: a negative count may repeat members.
pub fn srandmember(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if argv.len() > 3 {
        return syntax_error();
    }
    let key = &argv[1];
    let db = client.db;
    let count = match argv.get(2) {
        None => None,
        Some(a) => match get_long(a) {
            Ok(i64::MIN) => {
                return reply::error(
                    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
                )
            }
            Ok(n) => Some(n),
            Err(e) => return e,
        },
    };
    if !node.key_exists_after_expiry(client, key) {
        return if count.is_some() {
            empty_array()
        } else {
            reply::nil()
        };
    }
    // Read before the set is borrowed: the room the client's output buffer has left.
    let room = node.reply_room(client);
    let Some(Value::Set(s)) = node.keyspace.dbs[db]
        .entries
        .get(key.as_slice())
        .map(|e| &e.value)
    else {
        return wrongtype();
    };
    let ids = &mut node.ids;
    let Some(count) = count else {
        return reply::bulk(&random_member(s, ids));
    };
    if count == 0 {
        return empty_array();
    }
    let n = count.unsigned_abs();
    if count < 0 || n == 1 {
        return repeated_picks(s, ids, n, room);
    }
    let size = s.len() as u64;
    if n >= size {
        return members_reply(&s.members());
    }
    // n distinct members, each subset equally likely (a partial Fisher-Yates shuffle).
    // Redis returns them in its dictionary's order, which is undefined.
    let mut all = s.members();
    for i in 0..n as usize {
        let j = i + ids.below((all.len() - i) as u64) as usize;
        all.swap(i, j);
    }
    all.truncate(n as usize);
    members_reply(&all)
}

/// SMOVE source destination member: 0 when the source is missing (whatever the
/// destination holds), WRONGTYPE for either, and a no-op when both are the same key.
pub fn smove(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (src, dst, member) = (&argv[1], &argv[2], &argv[3]);
    let db = client.db;
    let src_exists = node.key_exists_after_expiry(client, src);
    let dst_exists = node.key_exists_after_expiry(client, dst);
    if !src_exists {
        return reply::integer(0);
    }
    let type_of = |node: &Node, k: &[u8]| {
        node.keyspace.dbs[db]
            .entries
            .get(k)
            .map(|e| e.value.type_name())
    };
    if type_of(node, src) != Some("set") || (dst_exists && type_of(node, dst) != Some("set")) {
        return wrongtype();
    }
    let Some(Value::Set(s)) = node.keyspace.dbs[db]
        .entries
        .get_mut(src.as_slice())
        .map(|e| &mut e.value)
    else {
        return reply::integer(0);
    };
    if src == dst {
        return reply::integer(set_contains(s, member) as i64);
    }
    if !set_remove(s, member) {
        return reply::integer(0);
    }
    delete_if_empty(node, db, src);
    if !dst_exists {
        node.keyspace
            .set(db, dst.clone(), Value::Set(new_set_for(member)), None);
    }
    if let Some(Value::Set(d)) = node.keyspace.dbs[db]
        .entries
        .get_mut(dst.as_slice())
        .map(|e| &mut e.value)
    {
        set_add(d, member);
    }
    node.propagate_args(db, argv);
    reply::integer(1)
}

/// The sets named by `keys`, looked up in order (a missing key is `None`); WRONGTYPE
/// at the first key of another type, as Redis checks every key before computing.
fn source_sets(
    node: &mut Node,
    client: &Client,
    keys: &[Vec<u8>],
) -> Result<Vec<Option<SetValue>>, Vec<u8>> {
    let mut sets = Vec::with_capacity(keys.len());
    for k in keys {
        match set_mut(node, client, k) {
            Err(e) => return Err(e),
            Ok(s) => sets.push(s.cloned()),
        }
    }
    Ok(sets)
}

/// The members of `s` in its iteration order.
fn iter_members(s: &SetValue) -> Vec<Vec<u8>> {
    s.members()
}

/// SINTER's result in Redis's order: the smallest set (the first of equal ones) is
/// walked in its own order, keeping what every other set has.
fn intersection(sets: &[Option<SetValue>], limit: usize) -> Option<Vec<Vec<u8>>> {
    if sets.iter().any(Option::is_none) {
        return None;
    }
    let mut sets: Vec<&SetValue> = sets.iter().flatten().collect();
    crate::engine::sort::sort_by_key(&mut sets, |s| s.len());
    let mut out = Vec::new();
    for m in iter_members(sets[0]) {
        if sets[1..].iter().all(|o| set_contains(o, &m)) {
            out.push(m);
            if limit != 0 && out.len() >= limit {
                break;
            }
        }
    }
    Some(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// SUNION / SDIFF as Redis computes them: into a fresh set (an intset until a member
/// says otherwise), choosing SDIFF's algorithm by the same estimate, since that decides
/// whether the result passes through a hash table.
fn union_diff(sets: &[Option<SetValue>], keys: &[Vec<u8>], op: SetOp) -> SetValue {
    let mut dst = SetValue::Ints(Default::default());
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in iter_members(s) {
                    set_add(&mut dst, &m);
                }
            }
        }
        SetOp::Diff => {
            let Some(first) = &sets[0] else { return dst };
            if keys[1..]
                .iter()
                .zip(&sets[1..])
                .any(|(k, s)| s.is_some() && *k == keys[0])
            {
                return dst;
            }
            let present = sets.iter().flatten().count() as u64;
            let one = first.len() as u64 * present / 2;
            let two: u64 = sets.iter().flatten().map(|s| s.len() as u64).sum();
            if one <= two {
                for m in iter_members(first) {
                    if !sets[1..].iter().flatten().any(|o| set_contains(o, &m)) {
                        set_add(&mut dst, &m);
                    }
                }
            } else {
                let mut card = 0i64;
                for (j, s) in sets.iter().enumerate() {
                    let Some(s) = s else { continue };
                    for m in iter_members(s) {
                        if j == 0 {
                            card += set_add(&mut dst, &m) as i64;
                        } else {
                            card -= set_remove(&mut dst, &m) as i64;
                        }
                    }
                    if card == 0 {
                        break;
                    }
                }
            }
        }
    }
    dst
}

/// Stores a computed set the way SINTERSTORE / SUNIONSTORE / SDIFFSTORE do: a non-empty
/// result replaces the destination (dropping its TTL); an empty one deletes it. The
/// command is propagated when something changed.
fn store(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], result: SetValue) -> Vec<u8> {
    let db = client.db;
    let dst = &argv[1];
    let n = result.len();
    if n > 0 {
        // setKey looks the key up for writing first: an expired one is deleted (and
        // that DEL propagated) before the new value goes in.
        node.key_exists_after_expiry(client, dst);
        node.keyspace.set(db, dst.clone(), Value::Set(result), None);
        node.propagate_args(db, argv);
    } else if node.keyspace.remove(db, dst).is_some() {
        node.propagate_args(db, argv);
    }
    reply::integer(n as i64)
}

pub fn sinter(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match source_sets(node, client, &argv[1..]) {
        Err(e) => e,
        Ok(sets) => members_reply(&intersection(&sets, 0).unwrap_or_default()),
    }
}

pub fn sinterstore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let sets = match source_sets(node, client, &argv[2..]) {
        Err(e) => return e,
        Ok(s) => s,
    };
    let mut result = SetValue::Ints(Default::default());
    for m in intersection(&sets, 0).unwrap_or_default() {
        set_add(&mut result, &m);
    }
    store(node, client, argv, result)
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let numkeys = match parse_i64(&argv[1]) {
        Some(n) if n >= 1 => n as u64,
        _ => return reply::error("ERR numkeys should be greater than 0"),
    };
    if numkeys > (argv.len() - 2) as u64 {
        return reply::error("ERR Number of keys can't be greater than number of args");
    }
    let numkeys = numkeys as usize;
    let mut limit = 0usize;
    let mut j = 2 + numkeys;
    while j < argv.len() {
        if argv[j].eq_ignore_ascii_case(b"limit") && j + 1 < argv.len() {
            j += 1;
            match parse_i64(&argv[j]) {
                Some(l) if l >= 0 => limit = usize::try_from(l).unwrap_or(usize::MAX),
                _ => return reply::error("ERR LIMIT can't be negative"),
            }
        } else {
            return syntax_error();
        }
        j += 1;
    }
    match source_sets(node, client, &argv[2..2 + numkeys]) {
        Err(e) => e,
        Ok(sets) => reply::integer(intersection(&sets, limit).map_or(0, |v| v.len()) as i64),
    }
}

pub fn sunion(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match source_sets(node, client, &argv[1..]) {
        Err(e) => e,
        Ok(sets) => members_reply(&union_diff(&sets, &argv[1..], SetOp::Union).members()),
    }
}

pub fn sdiff(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match source_sets(node, client, &argv[1..]) {
        Err(e) => e,
        Ok(sets) => members_reply(&union_diff(&sets, &argv[1..], SetOp::Diff).members()),
    }
}

pub fn sunionstore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match source_sets(node, client, &argv[2..]) {
        Err(e) => e,
        Ok(sets) => {
            let result = union_diff(&sets, &argv[2..], SetOp::Union);
            store(node, client, argv, result)
        }
    }
}

pub fn sdiffstore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match source_sets(node, client, &argv[2..]) {
        Err(e) => e,
        Ok(sets) => {
            let result = union_diff(&sets, &argv[2..], SetOp::Diff);
            store(node, client, argv, result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intset_converts_like_redis() {
        let mut s = new_set_for(b"1");
        assert!(matches!(s, SetValue::Ints(_)));
        for i in 0..SET_MAX_INTSET_ENTRIES as i64 {
            set_add(&mut s, i.to_string().as_bytes());
        }
        assert!(
            matches!(s, SetValue::Ints(_)),
            "512 integers are still an intset"
        );
        set_add(&mut s, b"512");
        assert!(matches!(s, SetValue::Members(_)), "the 513th converts it");
        let mut s = new_set_for(b"1");
        set_add(&mut s, b"1");
        set_add(&mut s, b"01");
        assert!(
            matches!(s, SetValue::Members(_)),
            "01 is not a canonical integer"
        );
        assert!(set_contains(&s, b"1") && set_contains(&s, b"01") && !set_contains(&s, b"001"));
        let mut s = new_set_for(b"-0");
        assert!(matches!(s, SetValue::Members(_)));
        assert!(set_add(&mut s, b"-0"));
    }
}
