//! Sorted-set commands (Redis 7.0's t_zset.c): ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
//! ZRANK ZREVRANK ZCOUNT ZLEXCOUNT ZPOPMIN ZPOPMAX ZREMRANGEBYRANK ZREMRANGEBYSCORE
//! ZREMRANGEBYLEX and the ZRANGE family (ZRANGE with BYSCORE / BYLEX / REV / LIMIT /
//! WITHSCORES, ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
//! ZREVRANGEBYLEX); natively also ZUNIONSTORE and ZINTERSTORE.
//!
//! Scores are parsed like glibc's `strtod` and printed like `printf("%.17g")` (see
//! `cfloat`). One encoding detail shows in replies: while a set is a listpack, an
//! integral score is stored as an integer, so a score of -0 reads back as 0; a skiplist
//! keeps -0.

use super::collection::{
    delete_if_empty, empty_array, get_long, get_positive_long, live_value, syntax_error, wrongtype,
};
use crate::engine::cfloat::{self, fmt_g17, F64};
use crate::engine::keyspace::{Value, ZSet};
use crate::engine::resp::reply;
use crate::engine::{Client, Node};

fn zset_mut<'a>(
    node: &'a mut Node,
    client: &Client,
    key: &[u8],
) -> Result<Option<&'a mut ZSet>, Vec<u8>> {
    match live_value(node, client, key) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(wrongtype()),
    }
}

/// `addReplyDouble` in RESP2: a bulk string of `%.17g`, `inf` / `-inf`.
fn double_reply(score: f64) -> Vec<u8> {
    reply::bulk(fmt_g17(score).as_bytes())
}

#[derive(Default, Clone, Copy)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    incr: bool,
}

/// What `zsetAdd` did to one member.
enum AddOutcome {
    Added(f64),
    Updated(f64),
    /// Nothing to do (NX on an existing member, XX on a missing one, GT/LT refused) —
    /// or an unchanged score, which still counts as processed.
    Unchanged(f64),
    Skipped,
    Nan,
}

/// Redis's `zsetAdd` for one member.
fn zset_add(z: &mut ZSet, member: &[u8], mut score: f64, f: AddFlags) -> AddOutcome {
    if score.is_nan() {
        return AddOutcome::Nan;
    }
    match z.score(member) {
        Some(cur) => {
            if f.nx {
                return AddOutcome::Skipped;
            }
            if f.incr {
                score += cur;
                if score.is_nan() {
                    return AddOutcome::Nan;
                }
            }
            if (f.lt && score >= cur) || (f.gt && score <= cur) {
                return AddOutcome::Skipped;
            }
            if score == cur {
                // -0 and 0 are equal here: the stored score stays as it was.
                return AddOutcome::Unchanged(score);
            }
            z.insert(member.to_vec(), stored_score(z, member, score, false));
            AddOutcome::Updated(score)
        }
        None if f.xx => AddOutcome::Skipped,
        None => {
            z.insert(member.to_vec(), stored_score(z, member, score, true));
            AddOutcome::Added(score)
        }
    }
}

/// The score as the set will hold it: a listpack keeps integral scores as integers, so
/// -0 becomes 0. A new member converts the set to a skiplist first when it would make
/// the listpack too long or is itself too long.
fn stored_score(z: &ZSet, member: &[u8], score: f64, new: bool) -> f64 {
    let converts = new
        && (z.len() + 1 > ZSet::MAX_LISTPACK_ENTRIES || member.len() > ZSet::MAX_LISTPACK_VALUE);
    if !z.is_skiplist() && !converts && score == 0.0 {
        0.0
    } else {
        score
    }
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]; ZINCRBY is the
/// same code with INCR set, as in Redis (so `ZINCRBY k nx m` is a syntax error there too).
fn zadd_generic(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    mut flags: AddFlags,
) -> Vec<u8> {
    let mut ch = false;
    let mut idx = 2;
    while idx < argv.len() {
        let o = &argv[idx];
        if o.eq_ignore_ascii_case(b"nx") {
            flags.nx = true;
        } else if o.eq_ignore_ascii_case(b"xx") {
            flags.xx = true;
        } else if o.eq_ignore_ascii_case(b"ch") {
            ch = true;
        } else if o.eq_ignore_ascii_case(b"incr") {
            flags.incr = true;
        } else if o.eq_ignore_ascii_case(b"gt") {
            flags.gt = true;
        } else if o.eq_ignore_ascii_case(b"lt") {
            flags.lt = true;
        } else {
            break;
        }
        idx += 1;
    }
    let elements = argv.len() - idx;
    if elements % 2 == 1 || elements == 0 {
        return syntax_error();
    }
    let elements = elements / 2;
    if flags.nx && flags.xx {
        return reply::error("ERR XX and NX options at the same time are not compatible");
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return reply::error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if flags.incr && elements > 1 {
        return reply::error("ERR INCR option supports a single increment-element pair");
    }
    // Every score is parsed before anything changes: all or nothing.
    let mut scores = Vec::with_capacity(elements);
    for j in 0..elements {
        match cfloat::string2d(&argv[idx + j * 2]) {
            Some(s) => scores.push(s),
            None => return reply::error("ERR value is not a valid float"),
        }
    }
    let key = &argv[1];
    let nothing = || {
        if flags.incr {
            reply::nil()
        } else {
            reply::integer(0)
        }
    };
    let z = match zset_mut(node, client, key) {
        Err(e) => return e,
        Ok(Some(z)) => z,
        Ok(None) if flags.xx => return nothing(),
        Ok(None) => {
            node.keyspace
                .set(client.db, key.clone(), Value::ZSet(ZSet::default()), None);
            match node.keyspace.dbs[client.db]
                .entries
                .get_mut(key.as_slice())
                .map(|e| &mut e.value)
            {
                Some(Value::ZSet(z)) => z,
                _ => return nothing(),
            }
        }
    };
    let (mut added, mut updated, mut processed) = (0, 0, 0);
    let mut last = 0.0;
    let mut nan = false;
    for (j, &score) in scores.iter().enumerate() {
        match zset_add(z, &argv[idx + 1 + j * 2], score, flags) {
            AddOutcome::Added(s) => {
                added += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                processed += 1;
                last = s;
            }
            AddOutcome::Unchanged(s) => {
                processed += 1;
                last = s;
            }
            AddOutcome::Skipped => {}
            AddOutcome::Nan => {
                nan = true;
                break;
            }
        }
    }
    if nan {
        // Redis leaves before counting the changes, so nothing is propagated.
        return reply::error("ERR resulting score is not a number (NaN)");
    }
    if added + updated > 0 {
        node.propagate_args(client.db, argv);
    }
    if flags.incr {
        if processed > 0 {
            double_reply(last)
        } else {
            reply::nil()
        }
    } else {
        reply::integer(if ch { added + updated } else { added })
    }
}

pub fn zadd(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zadd_generic(node, client, argv, AddFlags::default())
}

pub fn zincrby(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zadd_generic(
        node,
        client,
        argv,
        AddFlags {
            incr: true,
            ..AddFlags::default()
        },
    )
}

pub fn zrem(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let key = &argv[1];
    let z = match zset_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return reply::integer(0),
        Ok(Some(z)) => z,
    };
    let mut deleted = 0;
    for m in &argv[2..] {
        if z.remove(m).is_some() {
            deleted += 1;
        }
        if z.is_empty() {
            break;
        }
    }
    if deleted > 0 {
        delete_if_empty(node, client.db, key);
        node.propagate_args(client.db, argv);
    }
    reply::integer(deleted)
}

pub fn zcard(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match zset_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(z) => reply::integer(z.map_or(0, |z| z.len()) as i64),
    }
}

pub fn zscore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    match zset_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(z) => match z.and_then(|z| z.score(&argv[2])) {
            Some(s) => double_reply(s),
            None => reply::nil(),
        },
    }
}

pub fn zmscore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // A one-byte member named many times answers with a score of up to 24 bytes each: the
    // reply stops once past what the client's output buffer may take (it is dropped).
    let room = node.reply_room(client);
    let z = match zset_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(z) => z,
    };
    let mut out = reply::array_header(argv.len() - 2);
    for m in &argv[2..] {
        if out.len() > room {
            break;
        }
        out.extend(match z.as_ref().and_then(|z| z.score(m)) {
            Some(s) => double_reply(s),
            None => reply::nil(),
        });
    }
    out
}

fn zrank_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], reverse: bool) -> Vec<u8> {
    let z = match zset_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return reply::nil(),
        Ok(Some(z)) => z,
    };
    if z.score(&argv[2]).is_none() {
        return reply::nil();
    }
    let below = z
        .iter()
        .position(|(m, _)| m == argv[2].as_slice())
        .unwrap_or(0);
    let rank = if reverse { z.len() - 1 - below } else { below };
    reply::integer(rank as i64)
}

pub fn zrank(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrank_generic(node, client, argv, false)
}

pub fn zrevrank(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrank_generic(node, client, argv, true)
}

/// A score interval as `zslParseRange` reads it: `(` makes a bound exclusive; the rest
/// goes to plain `strtod`, which skips leading spaces and takes an empty string as 0;
/// only NaN and trailing junk are refused.
#[derive(Clone, Copy, Debug)]
struct ScoreRange {
    min: f64,
    max: f64,
    minex: bool,
    maxex: bool,
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        fn bound(arg: &[u8]) -> Option<(f64, bool)> {
            let (text, ex) = match arg.first() {
                Some(b'(') => (&arg[1..], true),
                _ => (arg, false),
            };
            let r = cfloat::strto(text, F64);
            // strtod stops at a NUL like any C string function; Redis then checks that it
            // stopped at the end of the C string, i.e. at the end or at a NUL byte.
            if r.consumed < text.len() && text[r.consumed] != 0 {
                return None;
            }
            Some((r.value?.to_f64(), ex))
        }
        let (min, minex) = bound(min)?;
        let (max, maxex) = bound(max)?;
        Some(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }

    fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }
}

/// A lexicographic bound: `-`, `+`, `[inclusive` or `(exclusive`.
#[derive(Clone, Debug)]
enum LexBound {
    Min,
    Max,
    Incl(Vec<u8>),
    Excl(Vec<u8>),
}

impl LexBound {
    fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg.first() {
            Some(b'+') if arg.len() == 1 => Some(LexBound::Max),
            Some(b'-') if arg.len() == 1 => Some(LexBound::Min),
            Some(b'(') => Some(LexBound::Excl(arg[1..].to_vec())),
            Some(b'[') => Some(LexBound::Incl(arg[1..].to_vec())),
            _ => None,
        }
    }

    /// `sdscmplex(value, bound)` as an ordering of the value against the bound.
    fn cmp_value(&self, v: &[u8]) -> std::cmp::Ordering {
        use std::cmp::Ordering::*;
        match self {
            LexBound::Min => Greater,
            LexBound::Max => Less,
            LexBound::Incl(b) | LexBound::Excl(b) => v.cmp(b.as_slice()),
        }
    }

    fn exclusive(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }

    fn value_gte_min(&self, v: &[u8]) -> bool {
        let c = self.cmp_value(v);
        if self.exclusive() {
            c.is_gt()
        } else {
            c.is_ge()
        }
    }

    fn value_lte_max(&self, v: &[u8]) -> bool {
        let c = self.cmp_value(v);
        if self.exclusive() {
            c.is_lt()
        } else {
            c.is_le()
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// RESP2 reply of a range: members, each followed by its score when asked.
fn range_reply(items: &[(&[u8], f64)], withscores: bool) -> Vec<u8> {
    let mut out = reply::array_header(items.len() * if withscores { 2 } else { 1 });
    for (m, s) in items {
        out.extend(reply::bulk(m));
        if withscores {
            out.extend(double_reply(*s));
        }
    }
    out
}

/// Redis's `zrangeGenericCommand`: `<key> <min> <max> [BYSCORE|BYLEX] [REV] [WITHSCORES]
/// [LIMIT offset count]`, with the range type and direction fixed by the older commands.
fn zrange_generic(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    mut rangetype: RangeType,
    mut reverse: Option<bool>,
) -> Vec<u8> {
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut j = 4;
    while j < argv.len() {
        let left = argv.len() - j - 1;
        let a = &argv[j];
        if a.eq_ignore_ascii_case(b"withscores") {
            withscores = true;
        } else if a.eq_ignore_ascii_case(b"limit") && left >= 2 {
            match (get_long(&argv[j + 1]), get_long(&argv[j + 2])) {
                (Ok(o), Ok(c)) => limit = Some((o, c)),
                (Err(e), _) | (_, Err(e)) => return e,
            }
            j += 2;
        } else if reverse.is_none() && a.eq_ignore_ascii_case(b"rev") {
            reverse = Some(true);
        } else if rangetype == RangeType::Auto && a.eq_ignore_ascii_case(b"bylex") {
            rangetype = RangeType::Lex;
        } else if rangetype == RangeType::Auto && a.eq_ignore_ascii_case(b"byscore") {
            rangetype = RangeType::Score;
        } else {
            return syntax_error();
        }
        j += 1;
    }
    let reverse = reverse.unwrap_or(false);
    if rangetype == RangeType::Auto {
        rangetype = RangeType::Rank;
    }
    // Redis keeps "no LIMIT" as a count of -1, so `LIMIT <offset> -1` counts as no LIMIT.
    if limit.is_some_and(|(_, count)| count != -1) && rangetype == RangeType::Rank {
        return reply::error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
    }
    if withscores && rangetype == RangeType::Lex {
        return reply::error(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        );
    }
    // Reversed score and lex ranges are written max first.
    let (min_arg, max_arg) = if reverse && rangetype != RangeType::Rank {
        (&argv[3], &argv[2])
    } else {
        (&argv[2], &argv[3])
    };
    enum Parsed {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexBound, LexBound),
    }
    let parsed = match rangetype {
        RangeType::Score => match ScoreRange::parse(min_arg, max_arg) {
            Some(r) => Parsed::Score(r),
            None => return reply::error("ERR min or max is not a float"),
        },
        RangeType::Lex => match (LexBound::parse(min_arg), LexBound::parse(max_arg)) {
            (Some(a), Some(b)) => Parsed::Lex(a, b),
            _ => return reply::error("ERR min or max not valid string range item"),
        },
        _ => match (get_long(min_arg), get_long(max_arg)) {
            (Ok(s), Ok(e)) => Parsed::Rank(s, e),
            (Err(e), _) | (_, Err(e)) => return e,
        },
    };
    let z = match zset_mut(node, client, &argv[1]) {
        Err(e) => return e,
        Ok(None) => return empty_array(),
        Ok(Some(z)) => z,
    };
    let len = z.len() as i64;
    let ordered: Box<dyn Iterator<Item = (&[u8], f64)>> = if reverse {
        Box::new(z.iter().rev())
    } else {
        Box::new(z.iter())
    };
    let items: Vec<(&[u8], f64)> = match parsed {
        Parsed::Rank(start, end) => {
            let mut start = if start < 0 { len + start } else { start };
            let end = if end < 0 { len + end } else { end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return empty_array();
            }
            let end = end.min(len - 1);
            ordered
                .skip(start as usize)
                .take((end - start + 1) as usize)
                .collect()
        }
        Parsed::Score(r) => {
            let (offset, count) = limit.unwrap_or((0, -1));
            if offset > 0 && offset >= len {
                return empty_array();
            }
            // A negative offset walks off the end; a negative count means no limit.
            let skip = if offset < 0 {
                usize::MAX
            } else {
                offset as usize
            };
            let take = if count < 0 {
                usize::MAX
            } else {
                count as usize
            };
            if reverse {
                ordered
                    .skip_while(|(_, s)| !r.lte_max(*s))
                    .skip(skip)
                    .take(take)
                    .take_while(|(_, s)| r.gte_min(*s))
                    .collect()
            } else {
                ordered
                    .skip_while(|(_, s)| !r.gte_min(*s))
                    .skip(skip)
                    .take(take)
                    .take_while(|(_, s)| r.lte_max(*s))
                    .collect()
            }
        }
        Parsed::Lex(min, max) => {
            let (offset, count) = limit.unwrap_or((0, -1));
            let skip = if offset < 0 {
                usize::MAX
            } else {
                offset as usize
            };
            let take = if count < 0 {
                usize::MAX
            } else {
                count as usize
            };
            if reverse {
                ordered
                    .skip_while(|(m, _)| !max.value_lte_max(m))
                    .skip(skip)
                    .take(take)
                    .take_while(|(m, _)| min.value_gte_min(m))
                    .collect()
            } else {
                ordered
                    .skip_while(|(m, _)| !min.value_gte_min(m))
                    .skip(skip)
                    .take(take)
                    .take_while(|(m, _)| max.value_lte_max(m))
                    .collect()
            }
        }
    };
    range_reply(&items, withscores)
}

pub fn zrange(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrange_generic(node, client, argv, RangeType::Auto, None)
}

pub fn zrevrange(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrange_generic(node, client, argv, RangeType::Rank, Some(true))
}

pub fn zrangebyscore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrange_generic(node, client, argv, RangeType::Score, Some(false))
}

pub fn zrevrangebyscore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrange_generic(node, client, argv, RangeType::Score, Some(true))
}

pub fn zrangebylex(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrange_generic(node, client, argv, RangeType::Lex, Some(false))
}

pub fn zrevrangebylex(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zrange_generic(node, client, argv, RangeType::Lex, Some(true))
}

pub fn zcount(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let Some(r) = ScoreRange::parse(&argv[2], &argv[3]) else {
        return reply::error("ERR min or max is not a float");
    };
    match zset_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => reply::integer(0),
        Ok(Some(z)) => reply::integer(
            z.iter()
                .filter(|(_, s)| r.gte_min(*s) && r.lte_max(*s))
                .count() as i64,
        ),
    }
}

/// The members with a score in `r`, lowest first (the contiguous run Redis walks from
/// the first member in range).
fn score_run(z: &ZSet, r: &ScoreRange) -> Vec<Vec<u8>> {
    z.iter()
        .skip_while(|(_, s)| !r.gte_min(*s))
        .take_while(|(_, s)| r.lte_max(*s))
        .map(|(m, _)| m.to_vec())
        .collect()
}

fn lex_run(z: &ZSet, min: &LexBound, max: &LexBound) -> Vec<Vec<u8>> {
    z.iter()
        .skip_while(|(m, _)| !min.value_gte_min(m))
        .take_while(|(m, _)| max.value_lte_max(m))
        .map(|(m, _)| m.to_vec())
        .collect()
}

pub fn zlexcount(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let (Some(min), Some(max)) = (LexBound::parse(&argv[2]), LexBound::parse(&argv[3])) else {
        return reply::error("ERR min or max not valid string range item");
    };
    match zset_mut(node, client, &argv[1]) {
        Err(e) => e,
        Ok(None) => reply::integer(0),
        Ok(Some(z)) => reply::integer(lex_run(z, &min, &max).len() as i64),
    }
}

/// ZPOPMIN / ZPOPMAX key [count]: a flat array of member, score pairs (RESP2); an empty
/// array for a missing key or a count of 0. Propagated unchanged.
fn zpop(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], max: bool) -> Vec<u8> {
    if argv.len() > 3 {
        return syntax_error();
    }
    let count = match argv.get(2) {
        None => 1,
        Some(a) => match get_positive_long(a) {
            Ok(c) => c,
            Err(e) => return e,
        },
    };
    let key = &argv[1];
    let z = match zset_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return empty_array(),
        Ok(Some(z)) => z,
    };
    if count == 0 {
        return empty_array();
    }
    let n = (count as u64).min(z.len() as u64) as usize;
    let picked: Vec<(Vec<u8>, f64)> = if max {
        z.iter()
            .rev()
            .take(n)
            .map(|(m, s)| (m.to_vec(), s))
            .collect()
    } else {
        z.iter().take(n).map(|(m, s)| (m.to_vec(), s)).collect()
    };
    for (m, _) in &picked {
        z.remove(m);
    }
    delete_if_empty(node, client.db, key);
    node.propagate_args(client.db, argv);
    let items: Vec<(&[u8], f64)> = picked.iter().map(|(m, s)| (m.as_slice(), *s)).collect();
    range_reply(&items, true)
}

pub fn zpopmin(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zpop(node, client, argv, false)
}

pub fn zpopmax(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zpop(node, client, argv, true)
}

enum RemRange {
    Rank(i64, i64),
    Score(ScoreRange),
    Lex(LexBound, LexBound),
}

/// ZREMRANGEBYRANK / BYSCORE / BYLEX: the range is parsed before the key is looked up.
fn zremrange(
    node: &mut Node,
    client: &mut Client,
    argv: &[Vec<u8>],
    range: Result<RemRange, Vec<u8>>,
) -> Vec<u8> {
    let range = match range {
        Ok(r) => r,
        Err(e) => return e,
    };
    let key = &argv[1];
    let z = match zset_mut(node, client, key) {
        Err(e) => return e,
        Ok(None) => return reply::integer(0),
        Ok(Some(z)) => z,
    };
    let doomed: Vec<Vec<u8>> = match range {
        RemRange::Rank(start, end) => {
            let len = z.len() as i64;
            let mut start = if start < 0 { len + start } else { start };
            let end = if end < 0 { len + end } else { end };
            if start < 0 {
                start = 0;
            }
            if start > end || start >= len {
                return reply::integer(0);
            }
            let end = end.min(len - 1);
            z.iter()
                .skip(start as usize)
                .take((end - start + 1) as usize)
                .map(|(m, _)| m.to_vec())
                .collect()
        }
        RemRange::Score(r) => score_run(z, &r),
        RemRange::Lex(min, max) => lex_run(z, &min, &max),
    };
    for m in &doomed {
        z.remove(m);
    }
    if !doomed.is_empty() {
        delete_if_empty(node, client.db, key);
        node.propagate_args(client.db, argv);
    }
    reply::integer(doomed.len() as i64)
}

pub fn zremrangebyrank(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let range = match (get_long(&argv[2]), get_long(&argv[3])) {
        (Ok(s), Ok(e)) => Ok(RemRange::Rank(s, e)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    zremrange(node, client, argv, range)
}

pub fn zremrangebyscore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let range = ScoreRange::parse(&argv[2], &argv[3])
        .map(RemRange::Score)
        .ok_or_else(|| reply::error("ERR min or max is not a float"));
    zremrange(node, client, argv, range)
}

pub fn zremrangebylex(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let range = match (LexBound::parse(&argv[2]), LexBound::parse(&argv[3])) {
        (Some(a), Some(b)) => Ok(RemRange::Lex(a, b)),
        _ => Err(reply::error("ERR min or max not valid string range item")),
    };
    zremrange(node, client, argv, range)
}

/// One input of ZUNIONSTORE / ZINTERSTORE: a sorted set, or a set whose members all
/// score 1 (t_zset.c's `zsetopsrc`); a missing key is an empty input.
#[cfg(not(target_arch = "wasm32"))]
enum OpSource {
    Empty,
    ZSet(ZSet),
    /// A set's members in its own order, and the same for lookups.
    Set(Vec<Vec<u8>>, std::collections::BTreeSet<Vec<u8>>),
}

#[cfg(not(target_arch = "wasm32"))]
impl OpSource {
    fn len(&self) -> usize {
        match self {
            OpSource::Empty => 0,
            OpSource::ZSet(z) => z.len(),
            OpSource::Set(m, _) => m.len(),
        }
    }

    /// Members with scores in the order Redis walks them.
    fn items(&self) -> Vec<(Vec<u8>, f64)> {
        match self {
            OpSource::Empty => Vec::new(),
            OpSource::ZSet(z) => z.iter().map(|(m, s)| (m.to_vec(), s)).collect(),
            OpSource::Set(m, _) => m.iter().map(|m| (m.clone(), 1.0)).collect(),
        }
    }

    fn find(&self, member: &[u8]) -> Option<f64> {
        match self {
            OpSource::Empty => None,
            OpSource::ZSet(z) => z.score(member),
            OpSource::Set(_, lookup) => lookup.contains(member).then_some(1.0),
        }
    }
}

/// `zunionInterAggregate`: SUM turns inf + -inf (NaN) into 0.
#[cfg(not(target_arch = "wasm32"))]
fn aggregate(target: &mut f64, value: f64, how: u8) {
    match how {
        b's' => {
            *target += value;
            if target.is_nan() {
                *target = 0.0;
            }
        }
        b'm' => *target = target.min(value),
        _ => *target = target.max(value),
    }
}

/// ZUNIONSTORE / ZINTERSTORE destination numkeys key [key ...] [WEIGHTS weight ...]
/// [AGGREGATE SUM|MIN|MAX], as t_zset.c's `zunionInterDiffGenericCommand`: the inputs
/// are taken smallest first, so a sum adds in the same order as Redis's. Native only
/// for now (the page's size): the page answers them as unknown commands.
#[cfg(not(target_arch = "wasm32"))]
fn zsetop_store(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], inter: bool) -> Vec<u8> {
    let numkeys = match get_long(&argv[2]) {
        Ok(n) => n,
        Err(e) => return e,
    };
    if numkeys < 1 {
        let name = if inter { "zinterstore" } else { "zunionstore" };
        return reply::error(&format!(
            "ERR at least 1 input key is needed for '{name}' command"
        ));
    }
    if numkeys > (argv.len() - 3) as i64 {
        return syntax_error();
    }
    let n = numkeys as usize;
    let mut sources = Vec::with_capacity(n);
    for key in &argv[3..3 + n] {
        sources.push(match live_value(node, client, key) {
            None => OpSource::Empty,
            Some(Value::ZSet(z)) => OpSource::ZSet(z.clone()),
            Some(Value::Set(s)) => {
                let members = s.members();
                let lookup = members.iter().cloned().collect();
                OpSource::Set(members, lookup)
            }
            Some(_) => return wrongtype(),
        });
    }
    let mut weights = vec![1.0; n];
    let mut how = b's';
    let mut j = 3 + n;
    while j < argv.len() {
        let remaining = argv.len() - j;
        if remaining > n && argv[j].eq_ignore_ascii_case(b"weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                match cfloat::string2d(&argv[j + 1 + i]) {
                    Some(v) => *w = v,
                    None => return reply::error("ERR weight value is not a float"),
                }
            }
            j += 1 + n;
        } else if remaining >= 2 && argv[j].eq_ignore_ascii_case(b"aggregate") {
            how = match super::lower(&argv[j + 1]).as_slice() {
                b"sum" => b's',
                b"min" => b'm',
                b"max" => b'M',
                _ => return syntax_error(),
            };
            j += 2;
        } else {
            return syntax_error();
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    crate::engine::sort::sort_by_key(&mut order, |&i| sources[i].len());
    // NaN (0 * inf) becomes 0, as Redis does with a weighted score.
    let weighted = |score: f64, w: f64| {
        let v = score * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut result = ZSet::default();
    if inter {
        let (first, rest) = order.split_first().expect("numkeys >= 1");
        'members: for (member, score) in sources[*first].items() {
            let mut acc = weighted(score, weights[*first]);
            for &i in rest {
                match sources[i].find(&member) {
                    Some(s) => aggregate(&mut acc, s * weights[i], how),
                    None => continue 'members,
                }
            }
            result.insert(member, acc);
        }
    } else {
        let mut acc: Vec<(Vec<u8>, f64)> = Vec::new();
        let mut at: std::collections::BTreeMap<Vec<u8>, usize> = Default::default();
        for &i in &order {
            for (member, score) in sources[i].items() {
                let v = weighted(score, weights[i]);
                match at.get(&member) {
                    Some(&k) => aggregate(&mut acc[k].1, v, how),
                    None => {
                        at.insert(member.clone(), acc.len());
                        acc.push((member, v));
                    }
                }
            }
        }
        for (member, score) in acc {
            result.insert(member, score);
        }
    }
    if !result.is_skiplist() {
        // Redis builds a skiplist and then converts a small result to a listpack,
        // which keeps an integral score as an integer: -0 becomes 0.
        let zeros: Vec<Vec<u8>> = result
            .iter()
            .filter(|(_, s)| *s == 0.0 && s.is_sign_negative())
            .map(|(m, _)| m.to_vec())
            .collect();
        for m in zeros {
            result.insert(m, 0.0);
        }
    }
    let (db, dst) = (client.db, &argv[1]);
    let len = result.len();
    if len > 0 {
        // setKey looks the destination up for writing first (an expired one is
        // deleted, and that DEL propagated, before the new value goes in).
        node.key_exists_after_expiry(client, dst);
        node.keyspace
            .set(db, dst.clone(), Value::ZSet(result), None);
        node.propagate_args(db, argv);
    } else if node.keyspace.remove(db, dst).is_some() {
        node.propagate_args(db, argv);
    }
    reply::integer(len as i64)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn zinterstore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zsetop_store(node, client, argv, true)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn zunionstore(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    zsetop_store(node, client, argv, false)
}
