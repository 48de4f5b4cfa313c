//! THE one place where the differential tests let real redis-server 7.0 and
//! replscope-server differ. Every suite compares replies and replication streams byte for
//! byte, except for the differences listed here. Each one is legitimate for the reason
//! given, and is taken care of by the function named, which changes nothing else; a
//! difference that is not in this list is a bug (in replscope, or in a test).
//!
//! # Every legitimate difference
//!
//! 1. **Random ids each process picks for itself.** `run_id`, `master_replid` and a
//!    non-null `master_replid2` (40 hex characters each) are random at every start:
//!    [`mask_ids`] ([`Norm::Ids`]) turns them into 40 `x`. INFO compared field by field
//!    ([`compare_info`]) compares only their presence.
//! 2. **Order Redis leaves undefined.** Redis walks a hash table, in an order that depends
//!    on its history and, for some tables, on a seed picked at random at every start:
//!    - KEYS;
//!    - SMEMBERS / SINTER / SUNION / SDIFF, and SPOP with a count that takes the whole
//!      set, of a set that is (or, in 7.0, ever was) a hash table;
//!    - HGETALL / HKEYS / HVALS of a hash past its listpack limits;
//!    - CONFIG GET with several matches (its dict is seeded at random);
//!    - the `# Commandstats` and `# Latencystats` sections of INFO.
//!
//!    These are compared with their elements, or field/value pairs, sorted, all by the one
//!    sort [`sort_array`]: through [`Norm::Unordered`], [`Norm::ConfigPairs`],
//!    [`replies_by_command`]; INFO's sections by [`compare_info`]. An intset's numeric
//!    order, a listpack's insertion order and sorted sets are compared exactly, and each
//!    call site says which of its replies is unordered.
//! 3. **Random picks.** SPOP and SRANDMEMBER pick members at random, so two servers pick
//!    differently. [`assert_random_picks`] / [`assert_one_random_pick`] check on each
//!    server what must hold (how many, from the set, distinct when they must be); in a
//!    replication stream, [`mask_spop_members`] masks the members SPOP's SREMs name,
//!    after the suite checked each server's stream against that server's own replies.
//! 4. **Wall-clock time.** Two servers run the same command some milliseconds apart:
//!    - a relative expiry (SET EX/PX, SETEX, PSETEX, EXPIRE, PEXPIRE, GETEX ...) is
//!      propagated as an absolute time in ms: [`mask_relative_expiries`] (`SET ... PXAT`),
//!      [`mask_stream_expiries`] (those, and `PEXPIREAT` within 30 days of now),
//!      [`mask_now_times`] (any 13-digit bulk within a day of now). Absolute times a test
//!      wrote itself (2100-01-01, 1970) are kept;
//!    - TTL / PTTL of a relative expiry: [`assert_ttls_within`] checks that each server's
//!      is an integer in the range the test allows; [`replies_by_command`] turns a
//!      positive one into `:<ttl>`;
//!    - EXPIRETIME / PEXPIRETIME of a relative expiry: `:<time>` ([`replies_by_command`]);
//!    - INFO keyspace `avg_ttl`, an estimate Redis samples in its expire cron: `0`
//!      ([`replies_by_command`]);
//!    - TIME: [`assert_times_close`] (within 2 s, microseconds below 1000000);
//!    - CLIENT LIST `age` / `idle` ([`Norm::ClientList`]); INFO `uptime_*`,
//!      `server_time_usec`, `lru_clock`, `rdb_last_save_time`, ... ([`INFO_VOLATILE`]).
//! 5. **Facts of the process, not of the commands sent.** Memory (allocator-dependent
//!    sizes), CPU, file descriptors, pids, ports, the executable, OS and compiler:
//!    CLIENT LIST `fd`, `addr`, `laddr`, `qbuf-free`, `rbs`, `rbp`, `tot-mem`
//!    ([`CLIENT_VOLATILE`]); INFO's `# Memory` and `# CPU` sections (field names only),
//!    `process_id`, `tcp_port`, `executable`, `os`, ... ([`INFO_VOLATILE`]).
//! 6. **Connections and traffic of the harness.** The readiness probes and extra
//!    connections the harness opens differ per server: CLIENT LIST `id`
//!    ([`CLIENT_VOLATILE`]); INFO `total_connections_received`, command and byte
//!    counters, per-command `usec` / `usec_per_call` timings ([`compare_info`]).
//! 7. **INFO fields the engine cannot know or does not count yet:** `keyspace_hits`,
//!    `keyspace_misses`, `rdb_changes_since_last_save`, `client_recent_max_input_buffer`,
//!    fork and copy-on-write figures ([`INFO_VOLATILE`]).
//! 8. **COMMAND COUNT.** Real Redis has 240 commands, replscope its own table. Not
//!    normalised: diff_server asserts each server's own exact count.
//! 9. **Ports of a replication pair, and seconds since the last packet.** A real master
//!    and replica and a replscope master and replica listen on different free ports, which
//!    ROLE and INFO replication show: [`mask_ports`] names each port the test knows
//!    (`<master-port>`, ...) wherever it is a whole bulk string, a whole integer reply, or
//!    INFO's `master_port:` / a `slaveN:` line's `port=`. How many seconds ago a replica
//!    last heard from its master, or a master from a replica, ticks on each machine's
//!    clock: INFO `master_last_io_seconds_ago`, `master_sync_last_io_seconds_ago`,
//!    `master_link_down_since_seconds` ([`INFO_VOLATILE`]) and a `slaveN:` line's `lag=`
//!    ([`compare_info`]); tests that care check each server's value on its own.
//!
//! Nothing else is relaxed. Each function is narrow: a reply it does not recognise is
//! returned unchanged (or it panics, where the suite requires a shape), masks keep every
//! length, and the unit tests at the bottom pin that down.
#![allow(dead_code)]

use std::ops::Range;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{reply_len, show};

// ================================================================== RESP pieces (no normalisation)

/// The byte ranges of the elements of `reply`, when `reply` is exactly one complete RESP2
/// array; `None` for anything else (a nil array, other replies, trailing bytes).
pub fn array_spans(reply: &[u8]) -> Option<Vec<Range<usize>>> {
    if reply.first() != Some(&b'*') {
        return None;
    }
    let eol = reply.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&reply[1..eol]).ok()?.parse().ok()?;
    let mut at = eol + 2;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let len = reply_len(reply.get(at..)?)?;
        out.push(at..at + len);
        at += len;
    }
    (at == reply.len()).then_some(out)
}

/// The elements of an array reply, raw bytes each (see [`array_spans`]).
pub fn array_elements(reply: &[u8]) -> Option<Vec<Vec<u8>>> {
    Some(
        array_spans(reply)?
            .into_iter()
            .map(|s| reply[s].to_vec())
            .collect(),
    )
}

/// An array reply of these raw elements.
pub fn array_of(elements: impl IntoIterator<Item = Vec<u8>>) -> Vec<u8> {
    let elements: Vec<Vec<u8>> = elements.into_iter().collect();
    let mut out = format!("*{}\r\n", elements.len()).into_bytes();
    for e in elements {
        out.extend(e);
    }
    out
}

/// Where the body of the element at `span` is, if that element is a non-nil bulk string.
fn bulk_body_span(data: &[u8], span: Range<usize>) -> Option<Range<usize>> {
    let element = &data[span.clone()];
    if element.first() != Some(&b'$') {
        return None;
    }
    let eol = element.windows(2).position(|w| w == b"\r\n")?;
    let n: usize = std::str::from_utf8(&element[1..eol]).ok()?.parse().ok()?;
    let start = span.start + eol + 2;
    (start + n + 2 == span.end).then_some(start..start + n)
}

/// The bodies of a flat array of bulk strings; `None` for any other reply (a nil element
/// included).
pub fn bulk_strings(reply: &[u8]) -> Option<Vec<Vec<u8>>> {
    array_spans(reply)?
        .into_iter()
        .map(|s| bulk_body_span(reply, s).map(|b| reply[b].to_vec()))
        .collect()
}

/// A bulk string reply.
pub fn bulk(body: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out.extend_from_slice(b"\r\n");
    out
}

/// The text (lossy UTF-8) of a reply that is exactly one non-nil bulk string.
pub fn bulk_text(reply: &[u8]) -> Option<String> {
    let body = bulk_body_span(reply, 0..reply.len())?;
    Some(String::from_utf8_lossy(&reply[body]).into_owned())
}

/// The value of an integer reply; panics on anything else.
pub fn integer_of(reply: &[u8]) -> i64 {
    let text = std::str::from_utf8(reply).expect("utf-8 reply");
    text.strip_prefix(':')
        .and_then(|t| t.strip_suffix("\r\n"))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("not an integer reply: {text:?}"))
}

// ================================================================== the masking primitive

/// What a masked byte becomes.
pub const MASK: u8 = b'x';

/// THE masking primitive, under every mask below: `span` becomes [`MASK`]s if `volatile`
/// says its bytes are volatile. A mask never changes a length, so RESP headers stay right
/// and every other byte stays compared.
fn mask_if(span: &mut [u8], volatile: impl Fn(&[u8]) -> bool) {
    if volatile(span) {
        span.fill(MASK);
    }
}

/// Each `width` bytes right after an occurrence of `after` go through [`mask_if`]. A
/// window cut short by the end of `data` is left alone; the search resumes after each
/// window.
fn mask_after(
    data: &[u8],
    after: &[u8],
    width: usize,
    volatile: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let mut out = data.to_vec();
    let mut from = 0;
    while let Some(p) = out[from..].windows(after.len()).position(|w| w == after) {
        let start = from + p + after.len();
        let end = start + width;
        if end > out.len() {
            break;
        }
        mask_if(&mut out[start..end], &volatile);
        from = end;
    }
    out
}

/// In a replication stream, the bodies of the arguments that `which` names (given one
/// command's arguments) go through [`mask_if`]. A command that is not an array of bulk
/// strings is left alone; an incomplete one ends the walk.
fn mask_command_args(stream: &[u8], which: impl Fn(&[Vec<u8>]) -> Vec<usize>) -> Vec<u8> {
    let mut out = stream.to_vec();
    let mut at = 0;
    while let Some(len) = out.get(at..).and_then(reply_len) {
        let command = at..at + len;
        if let (Some(spans), Some(args)) = (
            array_spans(&out[command.clone()]),
            bulk_strings(&out[command.clone()]),
        ) {
            for i in which(&args) {
                let span = spans[i].start + at..spans[i].end + at;
                let body = bulk_body_span(&out, span).expect("a bulk string argument");
                mask_if(&mut out[body], |_| true);
            }
        }
        at = command.end;
    }
    out
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Whether `digits` is an absolute time within `window_ms` of now: in ms, or (when
/// `or_seconds`) in seconds. The absolute times tests write themselves are in 2100 or 1970.
fn is_recent(digits: &[u8], window_ms: i64, or_seconds: bool) -> bool {
    let Some(v) = std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    else {
        return false;
    };
    let now = now_ms();
    v.abs_diff(now) < window_ms as u64
        || (or_seconds && v.abs_diff(now / 1000) < (window_ms / 1000) as u64)
}

// ================================================================== 1. random ids

/// `run_id`, `master_replid` and a non-null `master_replid2` (40 hex characters each, so
/// lengths and bulk headers are unchanged) become 40 `x`. An all-zero id is kept.
pub fn mask_ids(reply: &[u8]) -> Vec<u8> {
    let mut out = reply.to_vec();
    for field in [&b"\nrun_id:"[..], b"\nmaster_replid:", b"\nmaster_replid2:"] {
        out = mask_after(&out, field, 40, |id| {
            id.iter().all(u8::is_ascii_hexdigit) && id.iter().any(|&b| b != b'0')
        });
    }
    out
}

// ================================================================== 2. undefined order

/// THE sort of unordered replies: a flat array of bulk strings whose elements, taken in
/// groups of `group` (1 for members, 2 for field/value pairs), are sorted; each element's
/// bytes are kept as they came. `None` for any other reply, or when the elements do not
/// make whole groups.
pub fn sort_array(reply: &[u8], group: usize) -> Option<Vec<u8>> {
    assert!(group > 0, "groups of at least one element");
    let spans = array_spans(reply)?;
    if spans.len() % group != 0 {
        return None;
    }
    let mut elements = Vec::with_capacity(spans.len());
    for span in spans {
        let body = bulk_body_span(reply, span.clone())?;
        elements.push((reply[body].to_vec(), reply[span].to_vec()));
    }
    let mut groups: Vec<Vec<(Vec<u8>, Vec<u8>)>> =
        elements.chunks(group).map(|g| g.to_vec()).collect();
    groups.sort();
    Some(array_of(groups.into_iter().flatten().map(|(_, raw)| raw)))
}

/// How one reply is compared; the call site names it, reply by reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// Byte for byte.
    Exact,
    /// Only the random ids each process picks: [`mask_ids`].
    Ids,
    /// Redis leaves the order undefined (a hash table): a flat array of bulk strings is
    /// compared with its elements sorted (field/value pairs kept together when `pairs`);
    /// any other reply byte for byte.
    Unordered { pairs: bool },
    /// CONFIG GET with several matches: Redis lists them in the order of a dict seeded at
    /// random at every start, so the name/value pairs are sorted. The reply must be such
    /// an array.
    ConfigPairs,
    /// CLIENT LIST / CLIENT INFO: the [`CLIENT_VOLATILE`] fields become `x`. The reply must
    /// be a bulk string; its header is rebuilt for the masked text.
    ClientList,
}

/// The one entry point for single replies: `reply` normalised as `how` says.
pub fn reply(reply: &[u8], how: Norm) -> Vec<u8> {
    match how {
        Norm::Exact => reply.to_vec(),
        Norm::Ids => mask_ids(reply),
        Norm::Unordered { pairs } => {
            sort_array(reply, if pairs { 2 } else { 1 }).unwrap_or_else(|| reply.to_vec())
        }
        Norm::ConfigPairs => sort_array(reply, 2)
            .unwrap_or_else(|| panic!("CONFIG GET replies with name/value pairs: {}", show(reply))),
        Norm::ClientList => mask_client_list(reply),
    }
}

/// Replies to a sequence of commands (diff_random), normalised by command name (any letter
/// case); everything not named here is compared byte for byte:
///
/// 1. Order Redis leaves undefined is sorted away ([`sort_array`]): SMEMBERS / SINTER /
///    SUNION / SDIFF (a set that was ever a hash table, even one that holds only integers
///    again, has dict order in 7.0) and KEYS (dict order). HGETALL/HKEYS/HVALS are NOT
///    sorted: diff_random's generators keep hashes small (<= 128 fields of <= 64 bytes), so
///    Redis keeps them listpack-encoded, in insertion order, and that order is compared.
/// 2. Time that passes differently on two servers: a positive TTL/PTTL becomes `:<ttl>`;
///    an EXPIRETIME/PEXPIRETIME that a relative expiry produced becomes `:<time>`; INFO's
///    `avg_ttl` (a sampled estimate Redis updates from its expire cron) becomes 0.
/// 3. Commands queued in MULTI are normalised inside EXEC's reply as if run alone.
pub fn replies_by_command<N: AsRef<[u8]>>(names: &[N], replies: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    fn one(name: &str, reply: Vec<u8>) -> Vec<u8> {
        match name {
            "smembers" | "sinter" | "sunion" | "sdiff" | "keys" => {
                sort_array(&reply, 1).unwrap_or(reply)
            }
            "ttl" | "pttl"
                if reply.starts_with(b":") && !reply.starts_with(b":-") && reply != b":0\r\n" =>
            {
                b":<ttl>\r\n".to_vec()
            }
            "expiretime" | "pexpiretime"
                if reply.starts_with(b":")
                    && is_recent(&reply[1..reply.len() - 2], 30 * DAY_MS, true) =>
            {
                b":<time>\r\n".to_vec()
            }
            "info" => {
                let Some(text) = bulk_text(&reply) else {
                    return reply;
                };
                let masked: Vec<String> = text
                    .split("\r\n")
                    .map(|line| match line.find(",avg_ttl=") {
                        Some(p) if line.starts_with("db") => format!("{},avg_ttl=0", &line[..p]),
                        _ => line.to_string(),
                    })
                    .collect();
                bulk(masked.join("\r\n").as_bytes())
            }
            _ => reply,
        }
    }
    assert_eq!(names.len(), replies.len(), "one reply per command");
    let names: Vec<String> = names
        .iter()
        .map(|n| String::from_utf8_lossy(n.as_ref()).to_ascii_lowercase())
        .collect();
    let mut queued: Option<Vec<&str>> = None;
    let mut out = Vec::with_capacity(replies.len());
    for (name, reply) in names.iter().zip(replies) {
        let normalized = match (queued.as_mut(), name.as_str()) {
            (None, "multi") => {
                if reply == b"+OK\r\n" {
                    queued = Some(Vec::new());
                }
                reply
            }
            (None, _) => one(name, reply),
            (Some(_), "exec") => {
                let q = queued.take().expect("in MULTI");
                match array_elements(&reply) {
                    Some(elements) if elements.len() == q.len() => {
                        array_of(q.iter().zip(elements).map(|(n, r)| one(n, r)))
                    }
                    _ => reply,
                }
            }
            (Some(_), "discard") => {
                queued = None;
                reply
            }
            (Some(q), _) => {
                if reply == b"+QUEUED\r\n" {
                    q.push(name.as_str());
                }
                reply
            }
        };
        out.push(normalized);
    }
    out
}

// ================================================================== 3. random picks

/// An array of `n` random picks from `universe` (distinct ones when `distinct`), checked on
/// one server: `who` and `args` name it in the failure.
pub fn assert_random_picks(
    who: &str,
    args: &[&str],
    reply: &[u8],
    n: usize,
    universe: &[Vec<u8>],
    distinct: bool,
) {
    let items = bulk_strings(reply).unwrap_or_else(|| panic!("{who}: {args:?} -> {}", show(reply)));
    assert_eq!(items.len(), n, "{who}: {args:?}");
    assert!(
        items.iter().all(|i| universe.contains(i)),
        "{who}: {args:?} picked outside the set"
    );
    if distinct {
        let mut d = items.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), n, "{who}: {args:?} repeated a member");
    }
}

/// SPOP / SRANDMEMBER without a count on a non-empty set: one member, as a bulk string.
pub fn assert_one_random_pick(what: &str, reply: &[u8]) {
    assert!(reply.starts_with(b"$"), "{what}: {}", show(reply));
}

/// In a replication stream, the member of each `SREM <key> <member>` on one of `keys` (the
/// sets SPOP popped from) is masked. Call it only after checking the stream's SREMs
/// against the server's own SPOP replies.
pub fn mask_spop_members(stream: &[u8], keys: &[&[u8]]) -> Vec<u8> {
    mask_command_args(stream, |args| {
        if args.len() >= 3 && args[0] == b"SREM" && keys.contains(&args[1].as_slice()) {
            vec![2]
        } else {
            Vec::new()
        }
    })
}

// ================================================================== 4. wall-clock time

/// `PXAT\r\n$13\r\n<13 digits>` -> thirteen `x`: the instant a relative expiry becomes
/// (SET EX/PX, SETEX..., all propagated as PXAT). Far-future absolute times that a test
/// wrote itself (4102444800... = 2100-01-01) are kept.
pub fn mask_relative_expiries(stream: &[u8]) -> Vec<u8> {
    mask_after(stream, b"PXAT\r\n$13\r\n", 13, |t| {
        !t.starts_with(b"4102444800")
    })
}

/// `$13\r\n<13 digits>` within a day of now -> thirteen `x`: the absolute times that
/// relative expiries become (SET ... PXAT, PEXPIREAT ...). Far-future times a test
/// wrote itself, and small ones like 1, are kept.
pub fn mask_now_times(stream: &[u8]) -> Vec<u8> {
    mask_after(stream, b"$13\r\n", 13, |t| is_recent(t, DAY_MS, false))
}

/// The absolute time a relative expiry became, in a replication stream: `SET ... PXAT
/// <ms>` ([`mask_relative_expiries`]) and `PEXPIREAT key <ms>` from EXPIRE / PEXPIRE /
/// GETEX when within 30 days of now (in ms or s), masked with `x`s of the same length.
pub fn mask_stream_expiries(stream: &[u8]) -> Vec<u8> {
    let out = mask_relative_expiries(stream);
    mask_command_args(&out, |args| {
        if args.len() >= 3
            && args[0].eq_ignore_ascii_case(b"PEXPIREAT")
            && is_recent(&args[2], 30 * DAY_MS, true)
        {
            vec![2]
        } else {
            Vec::new()
        }
    })
}

/// A time-dependent integer reply (TTL, PTTL of a relative expiry): the two are not
/// compared with each other; each must be an integer in `lo..=hi`.
pub fn assert_ttls_within(args: &[&str], want: &[u8], got: &[u8], lo: i64, hi: i64) {
    let (want, got) = (integer_of(want), integer_of(got));
    assert!(
        (lo..=hi).contains(&want),
        "Redis answered {want} to {args:?}, the test allows {lo}..={hi}"
    );
    assert!(
        (lo..=hi).contains(&got),
        "replscope answered {got} to {args:?} (Redis {want}), allowed {lo}..={hi}"
    );
}

/// TIME: two bulks each, seconds and microseconds (< 1000000), the seconds within 2 of
/// each other.
pub fn assert_times_close(want: &[u8], got: &[u8]) {
    let parts = |r: &[u8]| {
        bulk_strings(r)
            .unwrap_or_else(|| panic!("TIME replies with an array: {}", show(r)))
            .iter()
            .map(|b| String::from_utf8_lossy(b).parse::<u64>().unwrap())
            .collect::<Vec<_>>()
    };
    let (w, g) = (parts(want), parts(got));
    assert_eq!((w.len(), g.len()), (2, 2));
    assert!(g[1] < 1_000_000 && w[1] < 1_000_000);
    assert!(g[0].abs_diff(w[0]) <= 2, "{} vs {}", g[0], w[0]);
}

// ================================================================== 5.-7. process, connections, INFO

/// The CLIENT LIST / CLIENT INFO fields that depend on the process rather than on the
/// commands sent: `id` (connection counts differ, e.g. the harness's readiness probes),
/// `addr`/`laddr` (ports), `fd`, `age`/`idle` (seconds may tick between the two servers),
/// and the allocator-dependent sizes `qbuf-free`, `rbs`, `rbp`, `tot-mem`. Everything else
/// (name, flags, db, multi, qbuf, argv-mem, multi-mem, obl, oll, omem, events, cmd, user,
/// redir, resp) is compared.
pub const CLIENT_VOLATILE: &[&str] = &[
    "id",
    "addr",
    "laddr",
    "fd",
    "age",
    "idle",
    "qbuf-free",
    "rbs",
    "rbp",
    "tot-mem",
];

/// [`Norm::ClientList`]: each [`CLIENT_VOLATILE`] field's value becomes `x`.
fn mask_client_list(reply: &[u8]) -> Vec<u8> {
    let text = bulk_text(reply)
        .unwrap_or_else(|| panic!("CLIENT LIST/INFO replies with a bulk: {}", show(reply)));
    let masked: String = text
        .split_inclusive('\n')
        .map(|line| {
            let (body, nl) = line.strip_suffix('\n').map_or((line, ""), |b| (b, "\n"));
            let fields: Vec<String> = body
                .split(' ')
                .map(|f| match f.split_once('=') {
                    Some((k, _)) if CLIENT_VOLATILE.contains(&k) => format!("{k}=x"),
                    _ => f.to_string(),
                })
                .collect();
            format!("{}{nl}", fields.join(" "))
        })
        .collect();
    bulk(masked.as_bytes())
}

/// The INFO fields whose values are not compared, only their presence and place: times,
/// process facts, the harness's own connections and traffic, the random ids, and fields
/// the engine does not count yet.
pub const INFO_VOLATILE: &[&str] = &[
    // The process and the machine.
    "redis_build_id",
    "os",
    "gcc_version",
    "process_id",
    "tcp_port",
    "executable",
    // The random ids.
    "run_id",
    "master_replid",
    "master_replid2",
    // Wall-clock time.
    "server_time_usec",
    "uptime_in_seconds",
    "uptime_in_days",
    "lru_clock",
    // The harness's connections and traffic.
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "total_net_input_bytes",
    "total_net_output_bytes",
    "total_net_repl_input_bytes",
    "total_net_repl_output_bytes",
    "instantaneous_input_kbps",
    "instantaneous_output_kbps",
    "instantaneous_input_repl_kbps",
    "instantaneous_output_repl_kbps",
    "total_reads_processed",
    "total_writes_processed",
    "reply_buffer_shrinks",
    "reply_buffer_expands",
    "client_recent_max_input_buffer",
    "client_recent_max_output_buffer",
    // CPU, and what the engine does not count (yet).
    "expire_cycle_cpu_milliseconds",
    "keyspace_hits",
    "keyspace_misses",
    // Persistence and forks.
    "rdb_changes_since_last_save",
    "rdb_last_save_time",
    "rdb_last_bgsave_time_sec",
    "rdb_saves",
    "rdb_last_cow_size",
    "current_cow_size_age",
    "latest_fork_usec",
    "total_forks",
    // Seconds since a replication link last carried something.
    "master_last_io_seconds_ago",
    "master_sync_last_io_seconds_ago",
    "master_link_down_since_seconds",
];

/// The seconds since a replica's last ACK in an INFO `slaveN:` line (`...,lag=3`) become
/// `x`; anything else is returned unchanged.
fn mask_replica_lag(field: &str, value: &str) -> String {
    let is_replica_line = field
        .strip_prefix("slave")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if !is_replica_line {
        return value.to_string();
    }
    value
        .split(',')
        .map(|part| {
            if part.starts_with("lag=") {
                "lag=x".to_string()
            } else {
                part.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Each port in `ports` becomes its name (`<master-port>`) where a reply shows it: a bulk
/// string or an integer reply that is exactly the port (ROLE), and in INFO text the value
/// of `master_port:` and the `port=` of a `slaveN:` line. Arrays are walked element by
/// element; a bulk string whose text changed gets its header rebuilt. In INFO text
/// nothing else changes (an offset equal to a port stays); in ROLE any whole element equal
/// to a port is named, which is why the tests' offsets stay far below the ports.
pub fn mask_ports(reply: &[u8], ports: &[(u16, &str)]) -> Vec<u8> {
    let name_of = |text: &[u8]| -> Option<&str> {
        let text = std::str::from_utf8(text).ok()?;
        ports
            .iter()
            .find(|(p, _)| p.to_string() == text)
            .map(|(_, n)| *n)
    };
    let Some(len) = reply_len(reply) else {
        return reply.to_vec();
    };
    if len != reply.len() {
        // Several replies: each on its own.
        let mut out = mask_ports(&reply[..len], ports);
        out.extend(mask_ports(&reply[len..], ports));
        return out;
    }
    match reply.first() {
        Some(b'*') => match array_elements(reply) {
            Some(elements) => array_of(elements.iter().map(|e| mask_ports(e, ports))),
            None => reply.to_vec(),
        },
        Some(b':') => match name_of(&reply[1..reply.len() - 2]) {
            Some(name) => format!(":{name}\r\n").into_bytes(),
            None => reply.to_vec(),
        },
        Some(b'$') => {
            let Some(text) = bulk_text(reply) else {
                return reply.to_vec();
            };
            if let Some(name) = name_of(text.as_bytes()) {
                return bulk(name.as_bytes());
            }
            if !text.contains("\r\n") {
                return reply.to_vec();
            }
            let lines: Vec<String> = text
                .split("\r\n")
                .map(|line| {
                    if let Some(port) = line.strip_prefix("master_port:") {
                        if let Some(name) = name_of(port.as_bytes()) {
                            return format!("master_port:{name}");
                        }
                    }
                    match line.split_once(':') {
                        Some((field, value))
                            if field.starts_with("slave") && value.contains(",port=") =>
                        {
                            let parts: Vec<String> = value
                                .split(',')
                                .map(|part| {
                                    match part
                                        .strip_prefix("port=")
                                        .and_then(|p| name_of(p.as_bytes()))
                                    {
                                        Some(name) => format!("port={name}"),
                                        None => part.to_string(),
                                    }
                                })
                                .collect();
                            format!("{field}:{}", parts.join(","))
                        }
                        _ => line.to_string(),
                    }
                })
                .collect();
            bulk(lines.join("\r\n").as_bytes())
        }
        _ => reply.to_vec(),
    }
}

/// INFO compared field by field: per section, the same field names in the same order; and
/// the same value for every field that depends only on what the test did. The
/// [`INFO_VOLATILE`] fields, and everything in `# Memory`, `# CPU` and `# Latencystats`,
/// are compared by name only; `# Commandstats` and `# Latencystats` come in hash order in
/// Redis and are compared sorted; per-command `usec` / `usec_per_call` are timings.
pub fn compare_info(got: &[u8], want: &[u8], what: &str) {
    let parse = |raw: &[u8]| -> Vec<(String, Vec<(String, String)>)> {
        let text = bulk_text(raw)
            .unwrap_or_else(|| panic!("{what}: INFO replies with a bulk: {}", show(raw)));
        let mut sections: Vec<(String, Vec<(String, String)>)> = Vec::new();
        for line in text.split("\r\n") {
            if let Some(name) = line.strip_prefix("# ") {
                sections.push((name.to_string(), Vec::new()));
            } else if let Some((k, v)) = line.split_once(':') {
                sections
                    .last_mut()
                    .expect("a field before any section")
                    .1
                    .push((k.to_string(), v.to_string()));
            } else {
                assert!(line.is_empty(), "INFO line {line:?}");
            }
        }
        sections
    };
    let (g, w) = (parse(got), parse(want));
    let names = |s: &[(String, Vec<(String, String)>)]| {
        s.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()
    };
    assert_eq!(names(&g), names(&w), "{what}: sections");
    for ((section, gf), (_, wf)) in g.iter().zip(&w) {
        // Memory, CPU and per-command timings are the process's: names only. Command
        // and latency stats come in hash order in Redis: compared sorted.
        let mut gf = gf.clone();
        let mut wf = wf.clone();
        if section == "Commandstats" || section == "Latencystats" {
            gf.sort();
            wf.sort();
        }
        let gk: Vec<&String> = gf.iter().map(|(k, _)| k).collect();
        let wk: Vec<&String> = wf.iter().map(|(k, _)| k).collect();
        assert_eq!(gk, wk, "{what}: the fields of # {section}");
        if matches!(section.as_str(), "Memory" | "CPU" | "Latencystats") {
            continue;
        }
        for ((k, gv), (_, wv)) in gf.iter().zip(&wf) {
            if INFO_VOLATILE.contains(&k.as_str()) {
                continue;
            }
            let (gv, wv) = if section == "Commandstats" {
                // usec and usec_per_call are timings.
                let keep = |v: &str| {
                    v.split(',')
                        .filter(|p| !p.starts_with("usec"))
                        .collect::<Vec<_>>()
                        .join(",")
                };
                (keep(gv), keep(wv))
            } else {
                (mask_replica_lag(k, gv), mask_replica_lag(k, wv))
            };
            assert_eq!(gv, wv, "{what}: # {section} {k}");
        }
    }
}

// ================================================================== self-checks

#[cfg(test)]
mod tests {
    use super::super::encode;
    use super::*;

    #[test]
    fn normalizer_sorts_only_what_it_is_asked_to() {
        let r = b"*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n";
        assert_eq!(reply(r, Norm::Exact), r.to_vec());
        assert_eq!(reply(r, Norm::Ids), r.to_vec());
        assert_eq!(
            reply(r, Norm::Unordered { pairs: false }),
            b"*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n".to_vec()
        );
        let h = b"*4\r\n$1\r\nz\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n";
        assert_eq!(
            reply(h, Norm::Unordered { pairs: true }),
            b"*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nz\r\n$1\r\n1\r\n".to_vec()
        );
        assert_eq!(
            reply(h, Norm::ConfigPairs),
            reply(h, Norm::Unordered { pairs: true })
        );
        assert_eq!(
            reply(b":1\r\n", Norm::Unordered { pairs: false }),
            b":1\r\n".to_vec()
        );
        // Only flat arrays of bulk strings, in whole groups, are sorted.
        for other in [
            &b"*2\r\n:2\r\n:1\r\n"[..],
            b"*2\r\n$1\r\nb\r\n$-1\r\n",
            b"*3\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n",
            b"*-1\r\n",
        ] {
            assert_eq!(
                reply(
                    other,
                    Norm::Unordered {
                        pairs: other.starts_with(b"*3")
                    }
                ),
                other.to_vec()
            );
        }
    }

    /// The normalisation sorts only what it says it sorts, and the masking keeps lengths.
    #[test]
    fn normalisation_is_narrow() {
        let arr = b"*2\r\n$1\r\nb\r\n$1\r\na\r\n".to_vec();
        let sorted = b"*2\r\n$1\r\na\r\n$1\r\nb\r\n".to_vec();
        assert_eq!(
            replies_by_command(&[b"SMEMBERS"], vec![arr.clone()]),
            vec![sorted.clone()]
        );
        assert_eq!(
            replies_by_command(&[b"LRANGE"], vec![arr.clone()]),
            vec![arr.clone()]
        );
        assert_eq!(
            replies_by_command(&[b"HGETALL"], vec![arr.clone()]),
            vec![arr.clone()]
        );
        // Inside MULTI: queued SMEMBERS is sorted inside EXEC's reply, the LRANGE is not.
        let names: [&[u8]; 4] = [b"MULTI", b"SMEMBERS", b"LRANGE", b"EXEC"];
        let mut exec = b"*2\r\n".to_vec();
        exec.extend(&arr);
        exec.extend(&arr);
        let mut want = b"*2\r\n".to_vec();
        want.extend(&sorted);
        want.extend(&arr);
        let out = replies_by_command(
            &names,
            vec![
                b"+OK\r\n".to_vec(),
                b"+QUEUED\r\n".to_vec(),
                b"+QUEUED\r\n".to_vec(),
                exec,
            ],
        );
        assert_eq!(out[3], want);
        assert_eq!(
            replies_by_command(&[b"TTL"], vec![b":99\r\n".to_vec()]),
            vec![b":<ttl>\r\n".to_vec()]
        );
        assert_eq!(
            replies_by_command(&[b"TTL"], vec![b":-2\r\n".to_vec()]),
            vec![b":-2\r\n".to_vec()]
        );
        let info = bulk(
            b"# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=97\r\ndb2:keys=3,expires=0,avg_ttl=0\r\n",
        );
        let masked = replies_by_command(&[b"INFO"], vec![info]);
        assert_eq!(show(&masked[0]), show(&bulk(b"# Keyspace\r\ndb0:keys=1,expires=1,avg_ttl=0\r\ndb2:keys=3,expires=0,avg_ttl=0\r\n")));
        let at = (now_ms() + 100_000).to_string();
        let stream = encode(&[b"PEXPIREAT", b"k", at.as_bytes()]);
        let far = encode(&[b"PEXPIREAT", b"k", b"4102444800000"]);
        assert_eq!(
            mask_stream_expiries(&stream),
            encode(&[b"PEXPIREAT", b"k", b"xxxxxxxxxxxxx"])
        );
        assert_eq!(mask_stream_expiries(&far), far);
    }

    /// Ids and times are masked in place, and only the volatile ones.
    #[test]
    fn masks_keep_lengths_and_spare_the_rest() {
        let id = "0123456789abcdef0123456789abcdef01234567";
        let zeros = "0".repeat(40);
        let info = bulk(
            format!(
                "a:1\r\nrun_id:{id}\r\nmaster_replid:{id}\r\nmaster_replid2:{zeros}\r\nb:{id}\r\n"
            )
            .as_bytes(),
        );
        let x = "x".repeat(40);
        let want = bulk(
            format!(
                "a:1\r\nrun_id:{x}\r\nmaster_replid:{x}\r\nmaster_replid2:{zeros}\r\nb:{id}\r\n"
            )
            .as_bytes(),
        );
        assert_eq!(show(&mask_ids(&info)), show(&want));
        let soon = (now_ms() + 5_000).to_string();
        let set = |at: &str| encode(&[b"SET", b"k", b"v", b"PXAT", at.as_bytes()]);
        assert_eq!(mask_relative_expiries(&set(&soon)), set("xxxxxxxxxxxxx"));
        assert_eq!(
            mask_relative_expiries(&set("4102444800000")),
            set("4102444800000")
        );
        assert_eq!(mask_now_times(&set(&soon)), set("xxxxxxxxxxxxx"));
        assert_eq!(mask_now_times(&set("4102444800000")), set("4102444800000"));
        let mut stream = encode(&[b"SREM", b"ht", b"c"]);
        stream.extend(encode(&[b"SREM", b"other", b"c"]));
        let mut want = encode(&[b"SREM", b"ht", b"x"]);
        want.extend(encode(&[b"SREM", b"other", b"c"]));
        assert_eq!(mask_spop_members(&stream, &[b"ht"]), want);
        let list = bulk(b"id=3 addr=127.0.0.1:5 laddr=127.0.0.1:6 fd=8 name=n age=1 idle=0 flags=N db=0 qbuf=0 qbuf-free=20474 tot-mem=22298 cmd=client|list\n");
        let masked = bulk(b"id=x addr=x laddr=x fd=x name=n age=x idle=x flags=N db=0 qbuf=0 qbuf-free=x tot-mem=x cmd=client|list\n");
        assert_eq!(show(&reply(&list, Norm::ClientList)), show(&masked));
    }

    /// Ports are named only where ROLE and INFO replication show them.
    #[test]
    fn ports_are_named_only_where_replication_shows_them() {
        let ports = [(7000, "<m>"), (7001, "<r>")];
        let role = b"*3\r\n$6\r\nmaster\r\n:7000\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n7001\r\n$4\r\n7000\r\n";
        let want = b"*3\r\n$6\r\nmaster\r\n:<m>\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$3\r\n<r>\r\n$3\r\n<m>\r\n";
        assert_eq!(show(&mask_ports(role, &ports)), show(want));
        let info = bulk(b"role:slave\r\nmaster_port:7000\r\nslave_repl_offset:7000\r\nslave0:ip=127.0.0.1,port=7001,state=online,offset=7001,lag=0\r\n");
        let want = bulk(b"role:slave\r\nmaster_port:<m>\r\nslave_repl_offset:7000\r\nslave0:ip=127.0.0.1,port=<r>,state=online,offset=7001,lag=0\r\n");
        assert_eq!(show(&mask_ports(&info, &ports)), show(&want));
        assert_eq!(mask_ports(b":7002\r\n", &ports), b":7002\r\n");
        assert_eq!(
            mask_replica_lag("slave0", "ip=a,port=1,lag=12"),
            "ip=a,port=1,lag=x"
        );
        assert_eq!(mask_replica_lag("slave_read_only", "1,lag=2"), "1,lag=2");
    }
}
