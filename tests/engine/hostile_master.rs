//! A hostile master cannot hurt a replica. Anyone who can send `REPLICAOF attacker port`
//! makes a node the replica of a server they write; whatever that server sends (endless
//! lines, bad replication ids, absurd payload lengths, RDB length bombs), the replica does
//! what Redis 7.0.15's replica side does with it, in bounded time and bounded memory.
//!
//! Every case runs on its own thread and measures the bytes that thread allocates with a
//! counting global allocator: the peak over the case, above what was live when it started.
//! The last test compares the replica's log with a real redis-server replica fed the very
//! same bytes by a fake master on 127.0.0.1.

use crate::common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use replscope::engine::keyspace::{Keyspace, Value};
use replscope::engine::rdb::{self, SnapshotMeta};
use replscope::engine::replication::LinkStateName;
use replscope::engine::{Config, ConnId, Event, Input, Node, Output};

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn account(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            account(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        account(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            account(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// Runs `case` and checks it stayed within `max_bytes` allocated at once (above what was
/// live before) and within `max_time` of wall time (debug build, shared machine: generous).
fn bounded<T>(what: &str, max_bytes: usize, max_time: Duration, case: impl FnOnce() -> T) -> T {
    let base = LIVE.with(|l| l.get());
    PEAK.with(|p| p.set(base));
    let start = Instant::now();
    let out = case();
    let took = start.elapsed();
    let peak = (PEAK.with(|p| p.get()) - base).max(0) as usize;
    eprintln!("{what}: peak {peak} bytes, {took:?}");
    assert!(
        peak <= max_bytes,
        "{what}: {peak} bytes allocated at the peak, more than {max_bytes}"
    );
    assert!(
        took <= max_time,
        "{what}: took {took:?}, more than {max_time:?}"
    );
    out
}

const T: u64 = 1_700_000_000_000;

/// A replica node and what it did on the connection to its (scripted) master.
struct Replica {
    node: Node,
    now: u64,
    conn: ConnId,
    /// Log lines since the last [`Replica::take_log`].
    log: Vec<String>,
    /// Bytes the replica sent its master on `conn`.
    sent: Vec<u8>,
    /// The replica closed `conn`.
    closed: bool,
    /// A connection the replica opened after giving up on `conn`.
    next: Option<ConnId>,
}

impl Replica {
    fn new(config: Config) -> Replica {
        let config = Config {
            replicaof: Some(("master".into(), 6379)),
            ..config
        };
        let node = Node::new(config, T, 7);
        let mut r = Replica {
            node,
            now: T,
            conn: 0,
            log: Vec::new(),
            sent: Vec::new(),
            closed: false,
            next: None,
        };
        r.drain();
        r.conn = r.next.take().expect("the replica connects to its master");
        r.node.handle(T, Input::Connected { conn: r.conn });
        r.drain();
        r
    }

    fn drain(&mut self) {
        while let Some(o) = self.node.poll_output() {
            match o {
                Output::Event(Event::Log(line)) => self.log.push(line),
                Output::Connect { conn, .. } => self.next = Some(conn),
                Output::Send { conn, data } if conn == self.conn => self.sent.extend(data),
                Output::Close { conn } | Output::Abort { conn } if conn == self.conn => {
                    self.closed = true
                }
                _ => {}
            }
        }
    }

    /// The master sends `data`.
    fn feed(&mut self, data: &[u8]) {
        self.node.handle_bytes(self.now, self.conn, data);
        self.drain();
    }

    fn tick(&mut self, ms: u64) {
        self.now += ms;
        self.node.tick(self.now);
        self.drain();
    }

    fn take_log(&mut self) -> Vec<String> {
        std::mem::take(&mut self.log)
    }

    fn state(&self) -> LinkStateName {
        self.node.master_link().expect("a replica").state_name()
    }

    fn has(&self, line: &str) -> bool {
        self.log.iter().any(|l| l == line)
    }
}

/// The replies of a plain handshake up to the PSYNC: `+PONG`, then one `+OK` for each of
/// AUTH (with masterauth), REPLCONF listening-port, ip-address (with an announced ip), capa.
fn at_psync(config: Config) -> Replica {
    let extra =
        config.masterauth.is_some() as usize + config.replica_announce_ip.is_some() as usize;
    let mut r = Replica::new(config);
    r.feed(b"+PONG\r\n");
    r.feed(&b"+OK\r\n".repeat(2 + extra));
    assert_eq!(r.state(), LinkStateName::ReceivePsyncReply, "{:?}", r.log);
    r
}

fn at_bulk_header() -> Replica {
    let mut r = at_psync(Config::default());
    r.feed(format!("+FULLRESYNC {} 0\r\n", "a".repeat(40)).as_bytes());
    assert_eq!(r.state(), LinkStateName::Transfer);
    r
}

fn snapshot() -> Vec<u8> {
    let mut ks = Keyspace::default();
    ks.set(0, b"k".to_vec(), Value::String(b"v".to_vec()), None);
    rdb::write(
        &ks,
        &SnapshotMeta {
            redis_ver: "7.0.15",
            ctime_secs: T / 1000,
            used_mem: 0,
            repl: None,
        },
        T,
    )
}

fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("${}\r\n", payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// `total` bytes of `fill` with no newline, delivered in 64 KiB pieces.
fn endless_line(r: &mut Replica, fill: u8, total: usize) {
    let piece = vec![fill; 64 * KIB];
    for _ in 0..total / piece.len() {
        r.feed(&piece);
    }
}

const SMALL: usize = 2 * MIB;
const QUICK: Duration = Duration::from_secs(5);

/// What Redis does with a line that never ends, state by state: `connSyncReadLine` reads
/// 255 bytes of it as one reply (1023 for the payload's `$` line) and the rest as the next
/// replies. A PING answered so is an error; AUTH and REPLCONF take any reply not starting
/// with `-`; a PSYNC answered so makes the replica fall back to SYNC, whose `$` line is
/// then no `$` line: the attempt ends and the replica reconnects at once. The 32 MiB
/// after that go to a connection the replica closed.
#[test]
fn an_endless_line_in_every_handshake_state_is_read_in_bounded_pieces() {
    let x255 = "x".repeat(255);
    let bad_protocol = format!(
        "Bad protocol from MASTER, the first byte is not '$' (we received '{}",
        "x".repeat(1023)
    );
    let bad_protocol = &bad_protocol[..1023]; // Redis's LOG_MAX_LEN cuts the message there
    let full = Config {
        masterauth: Some(b"pw".to_vec()),
        replica_announce_ip: Some("10.0.0.9".into()),
        ..Config::default()
    };
    // The replies that come before the endless line, for each state it starts in.
    let states: [(&str, &[&[u8]]); 6] = [
        ("PING", &[]),
        ("AUTH", &[b"+PONG\r\n"]),
        ("listening-port", &[b"+PONG\r\n", b"+OK\r\n"]),
        ("ip-address", &[b"+PONG\r\n", b"+OK\r\n+OK\r\n"]),
        ("capa", &[b"+PONG\r\n", b"+OK\r\n+OK\r\n+OK\r\n"]),
        ("PSYNC", &[b"+PONG\r\n", b"+OK\r\n+OK\r\n+OK\r\n+OK\r\n"]),
    ];
    for (state, before) in states {
        bounded(&format!("endless line for {state}"), SMALL, QUICK, || {
            let mut r = Replica::new(full.clone());
            for reply in before {
                r.feed(reply);
            }
            r.take_log();
            endless_line(&mut r, b'x', 32 * MIB);
            let log = r.take_log();
            if state == "PING" {
                assert_eq!(
                    log,
                    [format!("Error reply to PING from master: '{x255}'")],
                    "{state}"
                );
            } else {
                let want = [
                    format!("Unexpected reply to PSYNC from master: {x255}"),
                    "Retrying with SYNC...".to_string(),
                    bad_protocol.to_string(),
                    "Reconnecting to MASTER master:6379 after failure".to_string(),
                ];
                let at = log
                    .iter()
                    .position(|l| l == &want[0])
                    .unwrap_or_else(|| panic!("{state}: {log:?}"));
                assert_eq!(log[at..at + 4], want, "{state}");
            }
            assert!(r.closed, "{state}: the attempt ends");
        });
    }
}

/// The same for the payload's `$` line: 1023 bytes of an endless `$999…` are its length
/// (strtol saturates), the rest is payload, kept as Redis writes it to disk.
#[test]
fn an_endless_bulk_length_line_saturates_and_the_rest_is_payload() {
    bounded("endless $ line", 3 * MIB, QUICK, || {
        let mut r = at_bulk_header();
        r.feed(b"$");
        endless_line(&mut r, b'9', MIB);
        assert!(
            r.has(
                "MASTER <-> REPLICA sync: receiving 9223372036854775807 bytes from master to disk"
            ),
            "{:?}",
            r.log
        );
        let (total, read) = r.node.master_link().unwrap().transfer_progress().unwrap();
        assert_eq!((total, read), (i64::MAX, MIB - 1022));
    });
}

/// Keepalive newlines are single lines: a flood of them in one delivery is read in one
/// pass (each line used to shift the rest of the buffer: quadratic).
#[test]
fn a_flood_of_keepalive_newlines_costs_linear_time() {
    for at_header in [false, true] {
        bounded("newline flood", 20 * MIB, Duration::from_secs(20), || {
            let mut r = if at_header {
                at_bulk_header()
            } else {
                at_psync(Config::default())
            };
            r.feed(&vec![b'\n'; 4 * MIB]);
            if !at_header {
                r.feed(format!("+FULLRESYNC {} 0\r\n", "a".repeat(40)).as_bytes());
            }
            r.feed(&framed(&snapshot()));
            assert!(
                r.has("MASTER <-> REPLICA sync: Finished with success"),
                "{:?}",
                r.log
            );
            assert_eq!(r.state(), LinkStateName::Connected);
        });
    }
}

/// `+FULLRESYNC <replid> <offset>`: the id is what lies between the first two spaces and
/// must be CONFIG_RUN_ID_SIZE (40) long. Otherwise Redis logs the syntax error, blanks the
/// master's id ("to make sure next PSYNCs will fail") and still loads the payload. It does
/// not look at what the 40 characters are.
#[test]
fn fullresync_takes_a_replid_of_exactly_40_characters() {
    let cases: [(Vec<u8>, Option<&str>); 6] = [
        (
            format!("+FULLRESYNC {} 7", "b".repeat(39)).into_bytes(),
            None,
        ),
        (
            format!("+FULLRESYNC {} 7", "b".repeat(41)).into_bytes(),
            None,
        ),
        (format!("+FULLRESYNC {}", "b".repeat(40)).into_bytes(), None),
        (b"+FULLRESYNC".to_vec(), None),
        (
            format!("+FULLRESYNC {} 7", "z".repeat(40)).into_bytes(),
            Some("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
        ),
        (
            [b"+FULLRESYNC ".as_slice(), &[0xFF; 40], b" 7"].concat(),
            Some("????????????????????????????????????????"),
        ),
    ];
    for (line, id) in cases {
        bounded("fullresync replid", SMALL, QUICK, || {
            let mut r = at_psync(Config::default());
            r.feed(&[line.as_slice(), b"\r\n"].concat());
            r.feed(&framed(&snapshot()));
            let shown = String::from_utf8_lossy(&line).into_owned();
            match id {
                None => assert!(
                    r.has("Master replied with wrong +FULLRESYNC syntax."),
                    "{shown}: {:?}",
                    r.log
                ),
                Some(id) => assert!(
                    r.has(&format!("Full resync from master: {id}:7")),
                    "{shown}: {:?}",
                    r.log
                ),
            }
            assert!(
                r.has("MASTER <-> REPLICA sync: Finished with success"),
                "{shown}: {:?}",
                r.log
            );
            assert_eq!(r.node.replication().replid, id.unwrap_or(""), "{shown}");
            assert_eq!(
                r.node.replication().master_repl_offset,
                if id.is_some() { 7 } else { 0 },
                "{shown}"
            );
        });
    }
}

/// `+CONTINUE <replid>`: a new id is taken only when exactly 40 characters follow the
/// space; any other tail is ignored and the replica continues under the id it had.
#[test]
fn continue_takes_a_new_replid_of_exactly_40_characters() {
    for (n, changes) in [(39, false), (41, false), (40, true), (0, false)] {
        bounded("continue replid", SMALL, QUICK, || {
            let mut r = at_psync(Config::default());
            r.feed(format!("+FULLRESYNC {} 0\r\n", "a".repeat(40)).as_bytes());
            r.feed(&framed(&snapshot()));
            r.node.handle(r.now, Input::Closed { conn: r.conn });
            r.drain();
            r.tick(1000);
            r.conn = r.next.take().expect("reconnects");
            r.node.handle(r.now, Input::Connected { conn: r.conn });
            r.feed(b"+PONG\r\n+OK\r\n+OK\r\n");
            r.take_log();
            let tail = if n == 0 {
                String::new()
            } else {
                format!(" {}", "c".repeat(n))
            };
            r.feed(format!("+CONTINUE{tail}\r\n").as_bytes());
            assert!(
                r.has("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."),
                "{n}: {:?}",
                r.log
            );
            let want = if changes {
                "c".repeat(40)
            } else {
                "a".repeat(40)
            };
            assert_eq!(r.node.replication().replid, want, "{n}");
            assert_eq!(
                r.has(&format!(
                    "Master replication ID changed to {}",
                    "c".repeat(40)
                )),
                changes,
                "{n}"
            );
        });
    }
}

/// The `$` line: strtol of what follows. No digits is 0 and a short `$EOF:` mark is no
/// mark: a transfer of 0 bytes never completes (the bytes are not kept) and ends at
/// repl-timeout. A negative length fails Redis's read with EFAULT.
#[test]
fn absurd_payload_lengths_allocate_nothing_and_end_like_redis() {
    for header in ["$0", "$abc", &format!("$EOF:{}", "m".repeat(39))] {
        bounded(header, SMALL, QUICK, || {
            let mut r = at_bulk_header();
            r.feed(format!("{header}\r\n").as_bytes());
            assert!(
                r.has("MASTER <-> REPLICA sync: receiving 0 bytes from master to disk"),
                "{header}: {:?}",
                r.log
            );
            endless_line(&mut r, b'p', 16 * MIB);
            assert_eq!(
                r.node.master_link().unwrap().transfer_progress(),
                Some((0, 0)),
                "{header}"
            );
            r.take_log();
            r.tick(61_000);
            assert!(
                r.log[0].starts_with("Timeout receiving bulk data from MASTER..."),
                "{header}: {:?}",
                r.log
            );
        });
    }
    bounded("$-5", SMALL, QUICK, || {
        let mut r = at_bulk_header();
        r.feed(b"$-5\r\n");
        assert!(
            r.has("MASTER <-> REPLICA sync: receiving -5 bytes from master to disk"),
            "{:?}",
            r.log
        );
        r.take_log();
        r.feed(&snapshot());
        assert_eq!(
            r.log[..2],
            [
                "I/O error trying to sync with MASTER: Bad address",
                "Reconnecting to MASTER master:6379 after failure"
            ]
        );
    });
    bounded("$ huge", 24 * MIB, QUICK, || {
        let mut r = at_bulk_header();
        r.feed(b"$99999999999999999999999999\r\n");
        assert!(
            r.has(
                "MASTER <-> REPLICA sync: receiving 9223372036854775807 bytes from master to disk"
            ),
            "{:?}",
            r.log
        );
        endless_line(&mut r, b'p', 8 * MIB);
        assert_eq!(
            r.node.master_link().unwrap().transfer_progress(),
            Some((i64::MAX, 8 * MIB))
        );
        r.take_log();
        r.tick(61_000);
        assert!(
            r.log[0].starts_with("Timeout receiving bulk data from MASTER..."),
            "{:?}",
            r.log
        );
    });
}

/// A diskless payload whose mark never comes is kept as it arrives (Redis writes it to
/// disk) until repl-timeout; past the disk this replica has (`SYNC_PAYLOAD_MAX_BYTES`)
/// the write fails as a full disk does and the attempt starts over at once.
#[test]
fn a_payload_without_its_end_is_bounded_by_the_disk() {
    use replscope::engine::replication::SYNC_PAYLOAD_MAX_BYTES;
    bounded("wrong EOF mark", 24 * MIB, QUICK, || {
        let mut r = at_bulk_header();
        r.feed(format!("$EOF:{}\r\n", "m".repeat(40)).as_bytes());
        r.feed(&snapshot());
        r.feed(&"n".repeat(40).into_bytes());
        endless_line(&mut r, b'p', 8 * MIB);
        assert_eq!(r.state(), LinkStateName::Transfer);
        r.take_log();
        r.tick(61_000);
        assert!(
            r.log[0].starts_with("Timeout receiving bulk data from MASTER..."),
            "{:?}",
            r.log
        );
    });
    let cap = SYNC_PAYLOAD_MAX_BYTES;
    bounded(
        "payload past the disk",
        2 * cap + 16 * MIB,
        Duration::from_secs(60),
        || {
            let mut r = at_bulk_header();
            r.feed(format!("${}\r\n", cap + 10 * MIB).as_bytes());
            let piece = vec![b'p'; 4 * MIB];
            for _ in 0..cap / piece.len() + 1 {
                r.feed(&piece);
            }
            let want = "Write error or short write writing to the DB dump file needed for MASTER <-> REPLICA synchronization: No space left on device";
            let at = r
                .log
                .iter()
                .position(|l| l == want)
                .unwrap_or_else(|| panic!("{:?}", &r.log[r.log.len().saturating_sub(5)..]));
            assert_eq!(
                r.log[at + 1],
                "Reconnecting to MASTER master:6379 after failure"
            );
            assert!(r.closed);
            assert_ne!(r.state(), LinkStateName::Transfer);
        },
    );
}

fn rdb_len(n: u64) -> Vec<u8> {
    [&[0x81u8][..], &n.to_be_bytes()].concat()
}

fn short_string(s: &[u8]) -> Vec<u8> {
    [&[s.len() as u8][..], s].concat()
}

/// An RDB whose first key is `k` of `type_byte` with `value`, and nothing after it.
fn rdb_with(type_byte: u8, value: &[u8]) -> Vec<u8> {
    [
        b"REDIS0010".as_slice(),
        &[0xFE, 0x00, type_byte],
        &short_string(b"k"),
        value,
    ]
    .concat()
}

/// RDB length bombs: a count or length the payload does not hold fails the load with
/// Redis's report (and the replica stops, as Redis exits after it), allocating no more
/// than the payload's own size.
#[test]
fn rdb_length_bombs_fail_the_load_without_allocating_for_them() {
    let eof = ["Short read or OOM loading DB. Unrecoverable error, aborting now.", "Internal error in RDB reading offset 0, function at rdb.c:3240 -> Unexpected EOF reading RDB file"];
    let huge = 1u64 << 62;
    // An LZF string: `clen` and `len`, then the compressed bytes.
    let lzf = |clen: u64, len: u64, data: &[u8]| {
        [&[0xC3u8][..], &rdb_len(clen), &rdb_len(len), data].concat()
    };
    let ziplist_bomb = {
        // zlbytes, zltail, zllen, then one entry whose 0x80 encoding declares 2^32-1 bytes.
        let mut z = vec![0u8; 10];
        z.extend([0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, b'a', 0xFF]);
        let n = z.len() as u32;
        z[0..4].copy_from_slice(&n.to_le_bytes());
        z[4..8].copy_from_slice(&10u32.to_le_bytes());
        z[8..10].copy_from_slice(&1u16.to_le_bytes());
        z
    };
    let listpack_bomb = {
        // total bytes, count, then a string entry whose 0xF0 encoding declares 2^32-1 bytes.
        let mut l = vec![0u8; 6];
        l.extend([0xF0, 0xFF, 0xFF, 0xFF, 0xFF, b'a', 0xFF]);
        let n = l.len() as u32;
        l[0..4].copy_from_slice(&n.to_le_bytes());
        l[4..6].copy_from_slice(&2u16.to_le_bytes());
        l
    };
    let intset_bomb = [
        &2u32.to_le_bytes()[..],
        &u32::MAX.to_le_bytes(),
        &[1, 0, 2, 0],
    ]
    .concat();
    let zipmap_bomb = [&[1u8, 0xFE][..], &u32::MAX.to_le_bytes(), b"f", &[0xFF]].concat();
    let with_blob = |blob: &[u8]| [&rdb_len(blob.len() as u64)[..], blob].concat();
    let cases: Vec<(&str, Vec<u8>, Vec<String>)> = vec![
        ("string length", rdb_with(0, &[rdb_len(huge), b"abc".to_vec()].concat()), eof.map(String::from).to_vec()),
        ("list count", rdb_with(1, &[rdb_len(huge), short_string(b"a")].concat()), eof.map(String::from).to_vec()),
        ("set count", rdb_with(2, &[rdb_len(huge), short_string(b"a")].concat()), eof.map(String::from).to_vec()),
        ("zset count", rdb_with(5, &[rdb_len(huge), short_string(b"a"), 1f64.to_le_bytes().to_vec()].concat()), eof.map(String::from).to_vec()),
        ("hash count", rdb_with(4, &[rdb_len(huge), short_string(b"f"), short_string(b"v")].concat()), eof.map(String::from).to_vec()),
        ("quicklist node count", rdb_with(18, &[rdb_len(huge)].concat()), eof.map(String::from).to_vec()),
        ("LZF compressed length", rdb_with(0, &lzf(huge, huge, b"abc")), eof.map(String::from).to_vec()),
        ("LZF expanded length beyond the address space", rdb_with(0, &lzf(4, huge, b"\x03abc")), eof.map(String::from).to_vec()),
        (
            "LZF expanded length",
            rdb_with(0, &lzf(4, 1 << 40, b"\x03abc")),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:413 -> Invalid LZF compressed string".into()],
        ),
        (
            "LZF length one byte more than it expands to",
            rdb_with(0, &lzf(5, 5, &[3, b'a', b'b', b'c', b'd'])),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:413 -> Invalid LZF compressed string".into()],
        ),
        (
            "ziplist entry length",
            rdb_with(10, &with_blob(&ziplist_bomb)),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:2187 -> List ziplist integrity check failed.".into()],
        ),
        (
            "listpack entry length in a quicklist node",
            rdb_with(18, &[&rdb_len(1)[..], &[2], &with_blob(&listpack_bomb)].concat()),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:2070 -> Listpack integrity check failed.".into()],
        ),
        (
            "listpack hash entry length",
            rdb_with(16, &with_blob(&listpack_bomb)),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:2299 -> Hash listpack integrity check failed.".into()],
        ),
        (
            "intset count",
            rdb_with(11, &with_blob(&intset_bomb)),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:2212 -> Intset integrity check failed.".into()],
        ),
        (
            "zipmap value length",
            rdb_with(9, &with_blob(&zipmap_bomb)),
            vec!["Internal error in RDB reading offset 0, function at rdb.c:2129 -> Zipmap integrity check failed.".into()],
        ),
    ];
    for (what, payload, want) in cases {
        for diskless in [false, true] {
            bounded(what, SMALL, QUICK, || {
                let mut r = at_bulk_header();
                let mark = "m".repeat(40);
                if diskless {
                    r.feed(
                        &[
                            format!("$EOF:{mark}\r\n").as_bytes(),
                            &payload,
                            mark.as_bytes(),
                        ]
                        .concat(),
                    );
                } else {
                    r.feed(&framed(&payload));
                }
                assert!(r.log.ends_with(&want), "{what}: {:?}", r.log);
                assert!(
                    r.node.is_shut_down(),
                    "{what}: Redis exits after reporting a corrupt RDB"
                );
            });
        }
    }
}

/// A count the payload does not hold, before many bytes that are no elements: what is
/// reserved for the elements is bounded, not the count times a slot's size (which for a
/// list or set of strings is 24 times the bytes left).
#[test]
fn a_huge_count_before_a_large_payload_reserves_little() {
    for type_byte in [1u8, 2] {
        let filler = vec![b'f'; 8 * MIB];
        // One element that declares more than is left, so the load ends at it.
        let element = rdb_len(filler.len() as u64 + 1);
        let payload = rdb_with(type_byte, &[rdb_len(1 << 62), element, filler].concat());
        let framed = framed(&payload);
        drop(payload);
        bounded("huge count", 3 * framed.len() + 4 * MIB, QUICK, || {
            let mut r = at_bulk_header();
            r.feed(&framed);
            assert!(r.log.ends_with(&["Short read or OOM loading DB. Unrecoverable error, aborting now.".to_string(), "Internal error in RDB reading offset 0, function at rdb.c:3240 -> Unexpected EOF reading RDB file".to_string()]), "{:?}", r.log);
        });
    }
}

/// What a real redis-server 7.0.15 replica logs when a fake master sends `script`'s
/// replies, against what our replica logs for the same bytes: the lines of the first
/// attempt that quote or judge what the master sent.
#[test]
fn the_replica_logs_what_redis_logs_for_a_hostile_master() {
    if !common::redis_installed() {
        return;
    }
    let rdb = snapshot();
    let full = |id: &str| {
        [
            format!("+FULLRESYNC {id} 7\r\n${}\r\n", rdb.len()).into_bytes(),
            rdb.clone(),
        ]
        .concat()
    };
    // The reply to each command, by name; every other command gets `+OK`.
    type Script = Vec<(&'static str, Vec<u8>)>;
    let cases: Vec<(&str, Script)> = vec![
        (
            "bad +FULLRESYNC replid (39)",
            vec![("PSYNC", full(&"b".repeat(39)))],
        ),
        (
            "bad +FULLRESYNC replid (41)",
            vec![("PSYNC", full(&"b".repeat(41)))],
        ),
        ("non-hex replid", vec![("PSYNC", full(&"z".repeat(40)))]),
        ("endless PING reply", vec![("PING", vec![b'x'; 100_000])]),
        ("empty PING reply", vec![("PING", b"\r\n".to_vec())]),
        (
            "error to REPLCONF listening-port",
            vec![
                ("REPLCONF", b"-ERR nope\r\n".to_vec()),
                ("PSYNC", full(&"b".repeat(40))),
            ],
        ),
        (
            "endless + line",
            vec![
                ("PING", [b"+".as_slice(), &[b'x'; 3000]].concat()),
                ("REPLCONF", Vec::new()),
                ("PSYNC", Vec::new()),
            ],
        ),
        (
            "endless +FULLRESYNC line",
            vec![(
                "PSYNC",
                [b"+FULLRESYNC ".as_slice(), &[b'b'; 3000]].concat(),
            )],
        ),
        (
            "negative payload length",
            vec![(
                "PSYNC",
                [
                    format!("+FULLRESYNC {} 7\r\n$-5\r\n", "b".repeat(40)).into_bytes(),
                    rdb.clone(),
                ]
                .concat(),
            )],
        ),
        (
            "absurd payload length",
            vec![(
                "PSYNC",
                [
                    format!(
                        "+FULLRESYNC {} 7\r\n$99999999999999999999\r\n",
                        "b".repeat(40)
                    )
                    .into_bytes(),
                    rdb.clone(),
                ]
                .concat(),
            )],
        ),
        (
            "short EOF mark",
            vec![(
                "PSYNC",
                [
                    format!(
                        "+FULLRESYNC {} 7\r\n$EOF:{}\r\n",
                        "b".repeat(40),
                        "m".repeat(39)
                    )
                    .into_bytes(),
                    rdb.clone(),
                ]
                .concat(),
            )],
        ),
        (
            "wrong EOF mark",
            vec![(
                "PSYNC",
                [
                    format!(
                        "+FULLRESYNC {} 7\r\n$EOF:{}\r\n",
                        "b".repeat(40),
                        "m".repeat(40)
                    )
                    .into_bytes(),
                    rdb.clone(),
                    vec![b'n'; 40],
                ]
                .concat(),
            )],
        ),
    ];
    let judged = [
        "Master replied",
        "Error reply to PING",
        "(Non critical)",
        "Full resync from master",
        "MASTER <-> REPLICA sync: receiving",
        "MASTER <-> REPLICA sync: Finished",
        "Unexpected reply to PSYNC",
        "Retrying with SYNC",
        "Bad protocol from MASTER",
        "I/O error",
        "MASTER aborted",
    ];
    let keep = |lines: Vec<String>| -> Vec<String> {
        let end = lines
            .iter()
            .position(|l| {
                l.starts_with("Reconnecting to MASTER")
                    || l.starts_with("Connection with master lost")
            })
            .unwrap_or(lines.len());
        lines[..end]
            .iter()
            .filter(|l| judged.iter().any(|j| l.starts_with(j)))
            .cloned()
            .collect()
    };
    for (what, script) in cases {
        let reply_to = |name: &[u8]| -> Vec<u8> {
            let name = String::from_utf8_lossy(name).to_uppercase();
            script
                .iter()
                .find(|(n, _)| *n == name)
                .map_or_else(|| b"+OK\r\n".to_vec(), |(_, r)| r.clone())
        };
        // Ours.
        let mut r = Replica::new(Config::default());
        let mut answered = 0;
        loop {
            let commands = parse_commands(&r.sent);
            if commands.len() == answered || r.closed {
                break;
            }
            for c in &commands[answered..] {
                r.feed(&reply_to(&c[0]));
            }
            answered = commands.len();
        }
        // The fake master hangs up once it has nothing more to say.
        if !r.closed {
            r.node.handle(r.now, Input::Closed { conn: r.conn });
            r.drain();
        }
        let ours = keep(r.take_log());
        // Real Redis, fed by a fake master on 127.0.0.1.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake master");
        let port = listener.local_addr().unwrap().port();
        let replica = std::thread::scope(|s| {
            let fake = s.spawn(|| {
                let (mut sock, _) = listener.accept().expect("the replica connects");
                sock.set_read_timeout(Some(Duration::from_millis(1500)))
                    .unwrap();
                let (mut got, mut answered, mut buf) = (Vec::new(), 0, [0u8; 4096]);
                while let Ok(n) = sock.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let commands = parse_commands(&got);
                    for c in &commands[answered..] {
                        if sock.write_all(&reply_to(&c[0])).is_err() {
                            return;
                        }
                    }
                    answered = commands.len();
                }
            });
            let redis = common::ServerProcess::redis(&["--repl-timeout", "60"]);
            redis
                .client()
                .cmd(&["REPLICAOF", "127.0.0.1", &port.to_string()]);
            fake.join().expect("the fake master");
            redis
        });
        // The fake master has hung up; the replica logs the end of its first attempt when
        // it sees that (every case ends with one of these lines).
        let ends = [
            "Connection with master lost.",
            "Error reply to PING",
            "Reconnecting to MASTER",
            "I/O error trying to sync",
        ];
        common::wait_until("the end of the replica's first attempt", || {
            let log = replica.log();
            let after = &log[log.find("Non blocking connect for SYNC fired the event.")?..];
            ends.iter().any(|e| after.contains(e)).then_some(())
        });
        if what.starts_with("bad +FULLRESYNC") {
            // The blanked id is the replica's id once the snapshot loaded.
            assert_eq!(
                replica
                    .info_field("replication", "master_replid")
                    .as_deref(),
                Some(""),
                "{what}"
            );
            assert_eq!(r.node.replication().replid, "", "{what}");
        }
        let theirs: Vec<String> = replica
            .log()
            .lines()
            .filter_map(|l| {
                l.split_once(" * ")
                    .or_else(|| l.split_once(" # "))
                    .or_else(|| l.split_once(" - "))
                    .map(|(_, m)| m.to_string())
            })
            .collect();
        let start = theirs
            .iter()
            .position(|l| l == "Non blocking connect for SYNC fired the event.")
            .expect("the replica connected");
        let theirs = keep(theirs[start..].to_vec());
        eprintln!("{what}: {ours:?}");
        assert_eq!(ours, theirs, "{what}");
        assert!(!ours.is_empty(), "{what}");
    }
}

/// The commands in what a replica sent: RESP arrays of bulk strings, and inline `SYNC`.
fn parse_commands(mut data: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let line = |d: &[u8]| d.windows(2).position(|w| w == b"\r\n");
    while !data.is_empty() {
        if data.starts_with(b"*") {
            let Some(end) = line(data) else { break };
            let n: usize = std::str::from_utf8(&data[1..end]).unwrap().parse().unwrap();
            let mut rest = &data[end + 2..];
            let mut args = Vec::new();
            for _ in 0..n {
                let Some(end) = line(rest) else { return out };
                let len: usize = std::str::from_utf8(&rest[1..end]).unwrap().parse().unwrap();
                if rest.len() < end + 2 + len + 2 {
                    return out;
                }
                args.push(rest[end + 2..end + 2 + len].to_vec());
                rest = &rest[end + 2 + len + 2..];
            }
            out.push(args);
            data = rest;
        } else {
            let Some(end) = line(data) else { break };
            let words = data[..end]
                .split(|&b| b == b' ')
                .filter(|w| !w.is_empty())
                .map(<[u8]>::to_vec)
                .collect::<Vec<_>>();
            if !words.is_empty() {
                out.push(words);
            }
            data = &data[end + 2..];
        }
    }
    out
}

/// A seed of the `replica_handshake` fuzz target run as the target runs it (flags, chunk
/// size, clock step, the master's bytes; a replica that reconnects gets the rest on its
/// new connection): the log.
fn replay_seed(head: [u8; 3], master: &[u8]) -> Vec<String> {
    use replscope::engine::config::SyncProtocol;
    let flags = head[0];
    let protocol = match (flags >> 3) & 3 {
        1 => SyncProtocol::Psync1,
        2 => SyncProtocol::Sync,
        _ => SyncProtocol::Psync2,
    };
    let config = Config {
        masterauth: (flags & 1 != 0).then(|| b"pw".to_vec()),
        replica_announce_ip: (flags & 2 != 0).then(|| "10.0.0.9".into()),
        sync_protocol: protocol,
        ..Config::default()
    };
    let mut r = Replica::new(config);
    if flags & 4 != 0 {
        r.feed(
            &[
                format!(
                    "+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC {} 0\r\n",
                    "a".repeat(40)
                )
                .into_bytes(),
                framed(&snapshot()),
            ]
            .concat(),
        );
        r.node.handle(r.now, Input::Closed { conn: r.conn });
        r.tick(1000);
        r.conn = r.next.take().expect("reconnects");
        r.node.handle(r.now, Input::Connected { conn: r.conn });
    }
    let chunk = head[1] as usize * 8;
    for piece in master.chunks(if chunk == 0 {
        master.len().max(1)
    } else {
        chunk
    }) {
        if let Some(next) = r.next.take() {
            r.conn = next;
            r.node.handle(r.now, Input::Connected { conn: next });
        }
        r.feed(piece);
        r.now += head[2] as u64 * 100;
        if flags & 32 != 0 {
            r.tick(0);
        }
    }
    r.take_log()
}

/// The seeds of the `replica_handshake` fuzz target (byte 0 flags, byte 1 chunk size / 8,
/// byte 2 clock step / 100 ms, then the master's bytes: see the target) each reach what
/// they are for. Writes them when `REPLSCOPE_FUZZ_SEEDS` names the seeds directory:
/// `REPLSCOPE_FUZZ_SEEDS=$PWD/fuzz/seeds cargo test --no-default-features --test engine hostile_master::write_replica_handshake_seeds`.
#[test]
fn write_replica_handshake_seeds() {
    let payload = snapshot();
    let compact = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/rdb_read/redis-7.0-compact-encodings.rdb"
    ))
    .expect("a real Redis dump");
    let (a, m) = ("a".repeat(40), "m".repeat(40));
    let stream = b"*1\r\n$4\r\nPING\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    let seeds: Vec<(&str, [u8; 3], Vec<u8>)> = vec![
        (
            "disk",
            [0, 0, 0],
            [
                format!("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC {a} 0\r\n").into_bytes(),
                framed(&payload),
                stream.to_vec(),
            ]
            .concat(),
        ),
        // A master streams nothing after a diskless payload until the replica's first ACK:
        // the mark ends what it sent (the replica looks for it at the end of each read).
        (
            "diskless-in-pieces",
            [32, 1, 5],
            [
                format!("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC {a} 0\r\n\n$EOF:{m}\r\n").into_bytes(),
                payload.clone(),
                m.clone().into_bytes(),
            ]
            .concat(),
        ),
        (
            "continue",
            [4, 0, 0],
            [
                format!("+PONG\r\n+OK\r\n+OK\r\n+CONTINUE {}\r\n", "c".repeat(40)).into_bytes(),
                stream.to_vec(),
            ]
            .concat(),
        ),
        (
            "auth-ip-compact-rdb",
            [3, 16, 1],
            [
                format!("+PONG\r\n+OK\r\n+OK\r\n+OK\r\n+OK\r\n+FULLRESYNC {a} 7\r\n").into_bytes(),
                framed(&compact),
                stream.to_vec(),
            ]
            .concat(),
        ),
        (
            "sync-protocol",
            [16, 0, 0],
            [
                b"+PONG\r\n+OK\r\n".to_vec(),
                framed(&payload),
                stream.to_vec(),
            ]
            .concat(),
        ),
        (
            "errors-then-sync-fallback",
            [32, 2, 10],
            [
                b"-NOAUTH x\r\n+OK\r\n-ERR no\r\n-ERR unknown command 'PSYNC'\r\n".to_vec(),
                framed(&payload),
            ]
            .concat(),
        ),
    ];
    for (name, head, body) in &seeds {
        let log = replay_seed(*head, body);
        let want = if *name == "continue" {
            "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization."
        } else {
            "MASTER <-> REPLICA sync: Finished with success"
        };
        assert!(log.iter().any(|l| l == want), "{name}: {log:?}");
        if *name == "errors-then-sync-fallback" {
            assert!(
                log.iter().any(|l| l == "Retrying with SYNC..."),
                "{name}: {log:?}"
            );
        }
    }
    let Some(dir) = std::env::var_os("REPLSCOPE_FUZZ_SEEDS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir).join("replica_handshake");
    std::fs::create_dir_all(&dir).expect("seed dir");
    for (name, head, body) in seeds {
        std::fs::write(dir.join(name), [head.as_slice(), &body].concat()).expect("write seed");
    }
}
