//! A replica told REPLICAOF a fake master, the fuzzer's bytes delivered as everything that
//! master sends: the handshake replies, the PSYNC reply, the payload and the stream.
//! Nothing may panic, the run is deterministic, and the memory allocated during it stays
//! within a bound set by the input's size (a hostile master cannot make the replica hold
//! more than a constant times what it sent).
//!
//! Input: byte 0 flags (bit 0 masterauth, bit 1 replica-announce-ip, bit 2 a first good
//! sync and reconnection so that PSYNC offers a cached master (`+CONTINUE` can follow),
//! bits 3-4 the sync protocol: psync2, psync1, sync; bit 5 a cron tick between chunks),
//! byte 1 the chunk size (0: all at once), byte 2 the clock step per chunk (100 ms units),
//! the rest the master's bytes. When the replica gives up and reconnects, the rest goes
//! to its new connection.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use libfuzzer_sys::fuzz_target;
use replscope::engine::config::SyncProtocol;
use replscope::engine::keyspace::{Keyspace, Value};
use replscope::engine::rdb::{self, SnapshotMeta};
use replscope::engine::{Config, ConnId, Input, Node, Output};

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn account(delta: isize) {
    let now = LIVE.fetch_add(delta, Ordering::Relaxed) + delta;
    PEAK.fetch_max(now, Ordering::Relaxed);
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

const T: u64 = 1_700_000_000_000;

/// Memory a run may use beyond what its input accounts for: a node, its first sync, the
/// outputs collected.
const FIXED_BYTES: isize = 4 << 20;
/// What each byte the master sent may cost at most: an LZF string expands up to 88 times
/// its compressed bytes, and a small element costs a few dozen bytes of structure.
const PER_INPUT_BYTE: isize = 256;

fn good_sync() -> Vec<u8> {
    let mut ks = Keyspace::default();
    ks.set(0, b"k".to_vec(), Value::String(b"v".to_vec()), None);
    let payload = rdb::write(&ks, &SnapshotMeta { redis_ver: "7.0.15", ctime_secs: T / 1000, used_mem: 0, repl: None }, T);
    let mut out = format!("+PONG\r\n+OK\r\n+OK\r\n+FULLRESYNC {} 0\r\n${}\r\n", "a".repeat(40), payload.len()).into_bytes();
    out.extend(payload);
    out
}

/// Collects the node's outputs; a new connection to the master becomes the one fed.
fn drain(node: &mut Node, conn: &mut Option<ConnId>, outputs: &mut Vec<Output>) {
    while let Some(o) = node.poll_output() {
        if let Output::Connect { conn: c, .. } = o {
            *conn = Some(c);
        }
        outputs.push(o);
    }
}

/// Runs the case; returns every output, for the determinism check.
fn run(flags: u8, chunk: usize, step: u64, master: &[u8]) -> Vec<Output> {
    let protocol = match (flags >> 3) & 3 {
        1 => SyncProtocol::Psync1,
        2 => SyncProtocol::Sync,
        _ => SyncProtocol::Psync2,
    };
    let config = Config {
        replicaof: Some(("master".into(), 6379)),
        masterauth: (flags & 1 != 0).then(|| b"pw".to_vec()),
        replica_announce_ip: (flags & 2 != 0).then(|| "10.0.0.9".into()),
        sync_protocol: protocol,
        ..Config::default()
    };
    let mut now = T;
    let mut node = Node::new(config, now, 7);
    let mut outputs = Vec::new();
    let mut conn: Option<ConnId> = None;
    drain(&mut node, &mut conn, &mut outputs);
    let plain = flags & 3 == 0 && protocol == SyncProtocol::Psync2;
    if flags & 4 != 0 && plain {
        // A first sync that succeeds, then the link breaks: the next PSYNC offers it.
        let c = conn.expect("connects");
        node.handle(now, Input::Connected { conn: c });
        node.handle_bytes(now, c, &good_sync());
        node.handle(now, Input::Closed { conn: c });
        now += 1000;
        node.tick(now);
        drain(&mut node, &mut conn, &mut outputs);
    }
    let mut connected = None;
    for piece in master.chunks(if chunk == 0 { master.len().max(1) } else { chunk }) {
        if node.is_shut_down() {
            break;
        }
        let Some(c) = conn else { break };
        if connected != Some(c) {
            node.handle(now, Input::Connected { conn: c });
            connected = Some(c);
        }
        node.handle_bytes(now, c, piece);
        now += step;
        if flags & 32 != 0 {
            node.tick(now);
        }
        drain(&mut node, &mut conn, &mut outputs);
    }
    // The repl-timeout passes: whatever the master left unfinished is timed out.
    now += 61_000;
    node.tick(now);
    drain(&mut node, &mut conn, &mut outputs);
    outputs
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (flags, chunk, step) = (data[0], data[1] as usize * 8, data[2] as u64 * 100);
    let master = &data[3..];
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let outputs = run(flags, chunk, step, master);
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let bound = FIXED_BYTES + PER_INPUT_BYTE * master.len() as isize;
    assert!(peak <= bound, "{peak} bytes allocated at the peak for {} bytes from the master (bound {bound})", master.len());
    let again = run(flags, chunk, step, master);
    assert!(again == outputs, "not deterministic");
});
