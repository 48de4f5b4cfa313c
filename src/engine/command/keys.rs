//! Keyspace commands: DEL, UNLINK, EXISTS, TYPE, KEYS, RENAME, RENAMENX, DBSIZE,
//! SELECT, FLUSHDB, FLUSHALL; and the key lookups every command goes through.

use super::lower;
use crate::engine::keyspace::is_expired;
use crate::engine::resp::{parse_i64, reply};
use crate::engine::{Client, ClientRole, Node};

impl Node {
    /// Looks a key up for a command about to read it, applying lazy expiry the way
    /// Redis's `lookupKeyRead` / `expireIfNeeded` do: a master deletes an expired key and
    /// propagates a DEL; a replica only hides it (its master will send the DEL), except
    /// from the master's own stream, which must see keys exactly as the master did.
    pub(crate) fn key_exists_after_expiry(&mut self, client: &Client, key: &[u8]) -> bool {
        self.expire_if_needed(client, key, false)
    }

    /// Like [`Node::key_exists_after_expiry`], for a command about to write the key
    /// (`lookupKeyWrite`): a *writable* replica deletes the expired key itself, so its
    /// own writes behave consistently (Redis 7.0 `EXPIRE_FORCE_DELETE_EXPIRED`). A
    /// replica never propagates anything of its own, so that deletion stays local.
    pub(crate) fn key_exists_for_write(&mut self, client: &Client, key: &[u8]) -> bool {
        let force = !self.config.replica_read_only;
        self.expire_if_needed(client, key, force)
    }

    fn expire_if_needed(&mut self, client: &Client, key: &[u8], force_delete: bool) -> bool {
        let db = client.db;
        let Some(entry) = self.keyspace.dbs[db].entries.get(key) else {
            return false;
        };
        if !is_expired(entry, self.now) {
            return true;
        }
        if self.repl.link.is_some() {
            if client.role == ClientRole::Master {
                return true;
            }
            if !force_delete {
                return false;
            }
        }
        // During a client pause the dataset stays as it is (the key is only hidden): at
        // its end the key expires properly, or a new master sends the DEL.
        if self.clients_paused() {
            return false;
        }
        self.keyspace.remove(db, key);
        self.stats.expired_keys += 1;
        // Queued with the command's own propagation: a command that also writes is
        // then wrapped in MULTI/EXEC with this DEL first, as 7.0's call() does.
        self.propagate(db, vec![b"DEL".to_vec(), key.to_vec()]);
        false
    }
}

/// DEL and UNLINK (the same to this engine: there is no background freeing to do).
/// Propagated as the client sent it, whenever at least one key was deleted.
pub fn del(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut deleted = 0;
    for key in &argv[1..] {
        // Redis calls expireIfNeeded first: on a master an expired key goes out as its
        // own DEL and does not count as deleted by this command. On a (writable)
        // replica it is only hidden, so the delete that follows finds and counts it.
        node.key_exists_after_expiry(client, key);
        if node.keyspace.remove(client.db, key).is_some() {
            deleted += 1;
        }
    }
    if deleted > 0 {
        node.propagate_args(client.db, argv);
    }
    reply::integer(deleted)
}

/// RANDOMKEY (db.c `dbRandomKey`): a key picked at random, skipping the expired ones a
/// lookup would delete (master) or hide (replica). A replica whose keys all expire may
/// find only expired ones: after 100 tries it returns one of them rather than loop.
pub fn randomkey(node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    let mut tries = 100;
    loop {
        let d = &node.keyspace.dbs[client.db];
        let n = d.entries.len();
        let all_volatile = n == d.expiring.len();
        if n == 0 {
            return reply::nil();
        }
        let i = node.ids.below(n as u64) as usize;
        let Some((key, entry)) = d.entries.get_index(i) else {
            return reply::nil();
        };
        let (key, volatile) = (key.clone(), entry.expires_at.is_some());
        if volatile {
            tries -= 1;
            if all_volatile && node.repl.link.is_some() && tries == 0 {
                return reply::bulk(&key);
            }
            if !node.key_exists_after_expiry(client, &key) {
                continue;
            }
        }
        return reply::bulk(&key);
    }
}

/// EXISTS key [key ...]: a key named twice counts twice.
pub fn exists(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut count = 0;
    for key in &argv[1..] {
        if node.key_exists_after_expiry(client, key) {
            count += 1;
        }
    }
    reply::integer(count)
}

pub fn type_(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if !node.key_exists_after_expiry(client, &argv[1]) {
        return reply::simple("none");
    }
    match node.keyspace.dbs[client.db].entries.get(argv[1].as_slice()) {
        Some(e) => reply::simple(e.value.type_name()),
        None => reply::simple("none"),
    }
}

/// KEYS pattern. Logically expired keys are skipped but not deleted (Redis checks them
/// with `keyIsExpired`, which has no side effect). Our order is the keyspace's sorted
/// order; Redis's is its hash table's, which nobody can rely on.
pub fn keys(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let pattern = &argv[1];
    let all = pattern.as_slice() == b"*";
    let now = node.now;
    let mut count = 0;
    let mut body = Vec::new();
    for (key, entry) in &node.keyspace.dbs[client.db].entries {
        if (all || stringmatch(pattern, key, false)) && !is_expired(entry, now) {
            body.extend(reply::bulk(key));
            count += 1;
        }
    }
    let mut out = reply::array_header(count);
    out.extend(body);
    out
}

/// RENAME key newkey: the value moves with its TTL. Propagated as sent.
pub fn rename(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    rename_generic(node, client, argv, false)
}

/// RENAMENX key newkey: 0 (and nothing moves) when newkey exists.
pub fn renamenx(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    rename_generic(node, client, argv, true)
}

fn rename_generic(node: &mut Node, client: &mut Client, argv: &[Vec<u8>], nx: bool) -> Vec<u8> {
    let (src, dst) = (&argv[1], &argv[2]);
    if !node.key_exists_for_write(client, src) {
        return reply::error("ERR no such key");
    }
    if src == dst {
        // Same name: nothing to do, but the key had to exist.
        return if nx { reply::integer(0) } else { reply::ok() };
    }
    if node.key_exists_for_write(client, dst) {
        if nx {
            return reply::integer(0);
        }
        node.keyspace.remove(client.db, dst);
    }
    let Some(entry) = node.keyspace.remove(client.db, src) else {
        return reply::error("ERR no such key");
    };
    node.keyspace
        .set(client.db, dst.clone(), entry.value, entry.expires_at);
    node.propagate_args(client.db, argv);
    if nx {
        reply::integer(1)
    } else {
        reply::ok()
    }
}

/// DBSIZE counts every key in the db, logically expired ones included (as Redis does).
pub fn dbsize(node: &mut Node, client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    reply::integer(node.keyspace.dbs[client.db].entries.len() as i64)
}

pub fn select(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    // Redis 7.0 reads the index with `getIntFromObjectOrReply` and no custom message.
    let Some(id) = parse_i64(&argv[1]) else {
        return reply::error("ERR value is not an integer or out of range");
    };
    if i32::try_from(id).is_err() {
        return reply::error(
            "ERR value is out of range, value must between -2147483648 and 2147483647",
        );
    }
    if id < 0 || id as usize >= node.keyspace.dbs.len() {
        return reply::error("ERR DB index is out of range");
    }
    client.db = id as usize;
    reply::ok()
}

/// `getFlushCommandFlags`: no argument, or exactly one of SYNC / ASYNC.
fn flush_args_ok(argv: &[Vec<u8>]) -> bool {
    match argv.len() {
        1 => true,
        2 => matches!(lower(&argv[1]).as_slice(), b"sync" | b"async"),
        _ => false,
    }
}

/// FLUSHDB [ASYNC|SYNC]: always propagated as sent, even when the db was empty (Redis
/// forces it: a replica might hold keys its master does not).
pub fn flushdb(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if !flush_args_ok(argv) {
        return reply::error("ERR syntax error");
    }
    node.keyspace.flush_db(client.db);
    node.propagate_args(client.db, argv);
    reply::ok()
}

/// FLUSHALL [ASYNC|SYNC]: every db; always propagated as sent.
pub fn flushall(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if !flush_args_ok(argv) {
        return reply::error("ERR syntax error");
    }
    node.keyspace.flush_all();
    node.propagate_args(client.db, argv);
    reply::ok()
}

/// Redis's glob matching (`stringmatchlen` in util.c): `*`, `?`, `[abc]`, `[^a-z]`,
/// and `\x` for a literal x, with Redis's exact handling of malformed patterns (an
/// unterminated `[` class, a trailing `\`, a reversed `[z-a]` range).
///
/// Redis recurses once per `*`; this walks the string with a single backtrack point
/// (the last `*`), which gives the same answers because every other token matches
/// exactly one byte. One quirk is kept on purpose: an empty string matches only an
/// empty pattern (Redis's loop never starts, so even `*` does not match it).
pub fn stringmatch(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    if string.is_empty() {
        return pattern.is_empty();
    }
    let mut p = 0;
    let mut s = 0;
    // After a '*': where the rest of the pattern starts, and the next string position
    // the star would swallow up to if the current attempt fails.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if s == string.len() {
            // String consumed: only stars may remain.
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
        } else if p < pattern.len() && pattern[p] == b'*' {
            while p < pattern.len() && pattern[p] == b'*' {
                p += 1;
            }
            if p == pattern.len() {
                return true;
            }
            star = Some((p, s));
            continue;
        } else if p < pattern.len() {
            let (matched, next) = match_one(pattern, p, string[s], nocase);
            if matched {
                p = next;
                s += 1;
                continue;
            }
        }
        // Mismatch (or pattern exhausted, or string exhausted with pattern left):
        // let the last star swallow one more byte and retry the rest after it.
        match star {
            Some((sp, ss)) if ss + 1 < string.len() => {
                star = Some((sp, ss + 1));
                p = sp;
                s = ss + 1;
            }
            _ => return false,
        }
    }
}

/// Byte at `i` of a pattern, or the NUL that terminates a C string past its end: Redis
/// reads one byte beyond the pattern in a few places and finds the sds terminator.
fn at(pattern: &[u8], i: usize) -> u8 {
    pattern.get(i).copied().unwrap_or(0)
}

/// Matches the single (non-`*`) token at `pattern[p..]` against byte `c`; returns
/// whether it matched and where the next token starts.
fn match_one(pattern: &[u8], p: usize, c: u8, nocase: bool) -> (bool, usize) {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let len = pattern.len();
    match pattern[p] {
        b'?' => (true, p + 1),
        b'[' => {
            let mut i = p + 1;
            let not = at(pattern, i) == b'^';
            if not {
                i += 1;
            }
            let mut matched = false;
            loop {
                let left = len.saturating_sub(i);
                if at(pattern, i) == b'\\' && left >= 2 {
                    i += 1;
                    if pattern[i] == c {
                        matched = true;
                    }
                } else if at(pattern, i) == b']' && left >= 1 {
                    break;
                } else if left == 0 {
                    // Unterminated class: Redis steps back onto the last byte, so the
                    // token ends with the pattern.
                    i -= 1;
                    break;
                } else if left >= 3 && pattern[i + 1] == b'-' {
                    let (mut start, mut end) = (pattern[i], pattern[i + 2]);
                    if start > end {
                        std::mem::swap(&mut start, &mut end);
                    }
                    let (start, end, ch) = (fold(start), fold(end), fold(c));
                    if ch >= start && ch <= end {
                        matched = true;
                    }
                    i += 2;
                } else if fold(pattern[i]) == fold(c) {
                    matched = true;
                }
                i += 1;
            }
            (matched != not, i + 1)
        }
        b'\\' if len - p >= 2 => (fold(pattern[p + 1]) == fold(c), p + 2),
        other => (fold(other) == fold(c), p + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line-by-line port of Redis's recursive `stringmatchlen_impl`, the reference
    /// the iterative matcher is checked against.
    fn reference(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
        fn imp(
            pat: &[u8],
            mut p: usize,
            st: &[u8],
            mut s: usize,
            nocase: bool,
            skip: &mut bool,
        ) -> bool {
            let at = |v: &[u8], i: usize| v.get(i).copied().unwrap_or(0);
            let low = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
            let mut plen = pat.len() as isize - p as isize;
            let mut slen = st.len() - s;
            while plen > 0 && slen > 0 {
                match pat[p] {
                    b'*' => {
                        while plen > 0 && at(pat, p + 1) == b'*' {
                            p += 1;
                            plen -= 1;
                        }
                        if plen == 1 {
                            return true;
                        }
                        while slen > 0 {
                            if imp(pat, p + 1, st, s, nocase, skip) {
                                return true;
                            }
                            if *skip {
                                return false;
                            }
                            s += 1;
                            slen -= 1;
                        }
                        *skip = true;
                        return false;
                    }
                    b'?' => {
                        s += 1;
                        slen -= 1;
                    }
                    b'[' => {
                        p += 1;
                        plen -= 1;
                        let not = at(pat, p) == b'^';
                        if not {
                            p += 1;
                            plen -= 1;
                        }
                        let mut m = false;
                        loop {
                            if at(pat, p) == b'\\' && plen >= 2 {
                                p += 1;
                                plen -= 1;
                                if at(pat, p) == st[s] {
                                    m = true;
                                }
                            } else if at(pat, p) == b']' {
                                break;
                            } else if plen == 0 {
                                p -= 1;
                                plen += 1;
                                break;
                            } else if plen >= 3 && at(pat, p + 1) == b'-' {
                                let (mut a, mut b) = (at(pat, p), at(pat, p + 2));
                                if a > b {
                                    std::mem::swap(&mut a, &mut b);
                                }
                                let c = low(st[s]);
                                if c >= low(a) && c <= low(b) {
                                    m = true;
                                }
                                p += 2;
                                plen -= 2;
                            } else if low(at(pat, p)) == low(st[s]) {
                                m = true;
                            }
                            p += 1;
                            plen -= 1;
                        }
                        if not {
                            m = !m;
                        }
                        if !m {
                            return false;
                        }
                        s += 1;
                        slen -= 1;
                    }
                    c => {
                        let mut c = c;
                        if c == b'\\' && plen >= 2 {
                            p += 1;
                            plen -= 1;
                            c = pat[p];
                        }
                        if low(c) != low(st[s]) {
                            return false;
                        }
                        s += 1;
                        slen -= 1;
                    }
                }
                p += 1;
                plen -= 1;
                if slen == 0 {
                    while at(pat, p) == b'*' {
                        p += 1;
                        plen -= 1;
                    }
                    break;
                }
            }
            plen == 0 && slen == 0
        }
        let mut skip = false;
        imp(pattern, 0, string, 0, nocase, &mut skip)
    }

    #[test]
    fn glob_examples() {
        assert!(stringmatch(b"h?llo", b"hello", false));
        assert!(stringmatch(b"h*llo", b"heeeello", false));
        assert!(stringmatch(b"h[ae]llo", b"hallo", false));
        assert!(!stringmatch(b"h[^e]llo", b"hello", false));
        assert!(stringmatch(b"h[a-b]llo", b"hbllo", false));
        assert!(stringmatch(b"h[b-a]llo", b"hallo", false));
        assert!(stringmatch(b"a\\*b", b"a*b", false));
        assert!(!stringmatch(b"a\\*b", b"axb", false));
        assert!(!stringmatch(b"*", b"", false));
        assert!(stringmatch(b"", b"", false));
        assert!(stringmatch(b"[^", b"x", false));
        assert!(!stringmatch(b"[", b"x", false));
        assert!(stringmatch(b"a[bc", b"ac", false));
    }

    #[test]
    fn glob_agrees_with_redis_recursive_algorithm() {
        // Deterministic pseudo-random patterns over the bytes that mean something.
        let alphabet = b"ab*?[]^-\\";
        let strings = b"ab-^\\[]*?";
        let mut state = 0x1234_5678_9abc_def0u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..200_000 {
            let pat: Vec<u8> = (0..next(8))
                .map(|_| alphabet[next(alphabet.len())])
                .collect();
            let st: Vec<u8> = (0..next(7)).map(|_| strings[next(strings.len())]).collect();
            for nocase in [false, true] {
                assert_eq!(
                    stringmatch(&pat, &st, nocase),
                    reference(&pat, &st, nocase),
                    "pattern {:?} string {:?}",
                    String::from_utf8_lossy(&pat),
                    String::from_utf8_lossy(&st)
                );
            }
        }
    }

    #[test]
    fn glob_survives_huge_patterns() {
        // No recursion: a pattern with many stars cannot exhaust the (wasm) stack.
        assert!(!stringmatch(
            &b"a*".repeat(10_000),
            &b"a".repeat(100),
            false
        ));
        assert!(stringmatch(&b"a*".repeat(100), &b"a".repeat(10_000), false));
        assert!(stringmatch(&b"*".repeat(100_000), b"x", false));
    }
}
