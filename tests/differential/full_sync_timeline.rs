//! A full sync takes time, on both servers alike: a disk-based sync goes `wait_bgsave`
//! (the BGSAVE child writes, slowed by `rdb-key-save-delay`) → `send_bulk` (the file is
//! on its way; the replica here reads nothing until told) → `online`, with Redis's log
//! lines in Redis's order. Writes made meanwhile reach the replica right after the
//! snapshot, and `min-replicas-to-write` refuses writes until the replica is online.
//! States and log lines are compared in order, never times.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use common::{redis_installed, wait_until, Client, Kind, ServerProcess};

/// Keys in the master, and the delay per key its child sleeps: a window of seconds, long
/// enough to be seen even by a debug build encoding 20 MB at the fork.
const KEYS: usize = 100;
const KEY_SAVE_DELAY_US: &str = "50000";
/// Each value is this many pseudo-random bytes, which LZF cannot shrink: the snapshot
/// (20 MB) is far more than the sockets between the servers hold, so the master stays in
/// `send_bulk` while the replica does not read.
const VALUE_BYTES: usize = 200_000;

fn value(i: usize, len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The replica's state as the master's INFO shows it, if it lists one.
fn replica_state(c: &mut Client) -> Option<String> {
    let line = c.info_field("replication", "slave0")?;
    line.split(',')
        .find_map(|f| f.strip_prefix("state="))
        .map(str::to_string)
}

/// Whether `lines` appear in `log` in this order.
fn in_order(log: &str, lines: &[&str]) -> Result<(), String> {
    let mut from = 0;
    for line in lines {
        match log[from..].find(line) {
            Some(at) => from += at + line.len(),
            None => return Err(format!("{line:?} missing (in order) from:\n{log}")),
        }
    }
    Ok(())
}

struct Timeline {
    states: Vec<String>,
    during_write: Vec<u8>,
    refused_write: Vec<u8>,
    stream_start: Vec<u8>,
    after_online: Vec<u8>,
}

fn full_sync_on(kind: Kind) -> (Timeline, String) {
    let master = ServerProcess::start(kind, &["--repl-diskless-sync", "no"]);
    let mut c = master.client();
    for i in 0..KEYS {
        c.send(&common::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            &value(i, VALUE_BYTES),
        ]));
        assert_eq!(c.read_replies(1), b"+OK\r\n");
    }
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", KEY_SAVE_DELAY_US]),
        b"+OK\r\n"
    );
    // A replica that reads only when told to.
    let mut replica = master.client();
    assert_eq!(
        replica.cmd(&["REPLCONF", "listening-port", "7777"]),
        b"+OK\r\n"
    );
    replica.send(&common::encode(&[b"PSYNC", b"?", b"-1"]));
    let fullresync = replica.read_until_suffix(b"\r\n");
    assert!(
        fullresync.trim_ascii_start().starts_with(b"+FULLRESYNC "),
        "{}",
        common::show(&fullresync)
    );
    let mut states = vec![replica_state(&mut c).expect("a replica")];
    // In the window: a write goes through, and with min-replicas-to-write 1 one is
    // refused, for the replica is not online.
    let during_write = c.cmd(&["SET", "during", "the-window"]);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]),
        b"+OK\r\n"
    );
    let refused_write = c.cmd(&["SET", "refused", "x"]);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "0"]),
        b"+OK\r\n"
    );
    // The child ends; the file waits in the sockets.
    wait_until("the master sending the file", || {
        let s = replica_state(&mut c)?;
        if states.last() != Some(&s) {
            states.push(s.clone());
        }
        (s != "wait_bgsave").then_some(())
    });
    // Now read the file: the replica goes online.
    let header = replica.read_until_suffix(b"\r\n");
    let text = String::from_utf8_lossy(&header).trim().to_string();
    let len: usize = text
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("payload header {text:?}"));
    let mut left = len;
    while left > 0 {
        let n = left.min(1 << 20);
        replica.read_exact_bytes(n);
        left -= n;
    }
    wait_until("the replica online", || {
        let s = replica_state(&mut c)?;
        if states.last() != Some(&s) {
            states.push(s.clone());
        }
        (s == "online").then_some(())
    });
    // The write of the window comes first in the stream.
    let stream_start = replica.read_until_suffix(b"the-window\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]),
        b"+OK\r\n"
    );
    let after_online = c.cmd(&["SET", "after", "online"]);
    let log = master.log();
    (
        Timeline {
            states,
            during_write,
            refused_write,
            stream_start,
            after_online,
        },
        log,
    )
}

#[test]
fn a_disk_based_full_sync_goes_wait_bgsave_send_bulk_online_as_in_redis() {
    if !redis_installed() {
        return;
    }
    for kind in [Kind::Redis, Kind::Replscope] {
        let (t, log) = full_sync_on(kind);
        let who = kind.name();
        assert_eq!(t.states, ["wait_bgsave", "send_bulk", "online"], "{who}");
        assert_eq!(t.during_write, b"+OK\r\n", "{who}");
        assert_eq!(
            t.refused_write, b"-NOREPLICAS Not enough good replicas to write.\r\n",
            "{who}"
        );
        // SELECT, then the write of the window: the first bytes after the snapshot.
        let want = common::encode(&[b"SELECT", b"0"])
            .into_iter()
            .chain(common::encode(&[b"SET", b"during", b"the-window"]))
            .collect::<Vec<u8>>();
        assert_eq!(common::show(&t.stream_start), common::show(&want), "{who}");
        assert_eq!(t.after_online, b"+OK\r\n", "{who}");
        in_order(
            &log,
            &[
                "Replica 127.0.0.1:7777 asks for synchronization",
                "Full resync requested by replica 127.0.0.1:7777",
                "Starting BGSAVE for SYNC with target: disk",
                "Background saving started by pid ",
                "DB saved on disk",
                "Background saving terminated with success",
                "Synchronization with replica 127.0.0.1:7777 succeeded",
            ],
        )
        .unwrap_or_else(|e| panic!("{who}: {e}"));
    }
}

/// Diskless: the child streams to the socket; the replica is `wait_bgsave` until the
/// child is done, then `online` (no `send_bulk`), and its stream starts at its ACK. Small
/// values: there is no `send_bulk` to hold, and the mark is searched for in all of it.
fn diskless_sync_on(kind: Kind) -> (Vec<String>, Vec<u8>, String) {
    let master = ServerProcess::start(
        kind,
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "0",
        ],
    );
    let mut c = master.client();
    for i in 0..KEYS {
        c.send(&common::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            &value(i, 1000),
        ]));
        assert_eq!(c.read_replies(1), b"+OK\r\n");
    }
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", KEY_SAVE_DELAY_US]),
        b"+OK\r\n"
    );
    let mut replica = master.client();
    assert_eq!(
        replica.cmd(&["REPLCONF", "listening-port", "7777"]),
        b"+OK\r\n"
    );
    assert_eq!(
        replica.cmd(&["REPLCONF", "capa", "eof", "capa", "psync2"]),
        b"+OK\r\n"
    );
    replica.send(&common::encode(&[b"PSYNC", b"?", b"-1"]));
    let fullresync = replica.read_until_suffix(b"\r\n");
    assert!(fullresync.trim_ascii_start().starts_with(b"+FULLRESYNC "));
    let mut states = vec![replica_state(&mut c).expect("a replica")];
    assert_eq!(c.cmd(&["SET", "during", "the-window"]), b"+OK\r\n");
    let header = replica.read_until_suffix(b"\r\n");
    let text = String::from_utf8_lossy(&header).trim().to_string();
    let mark = text
        .strip_prefix("$EOF:")
        .unwrap_or_else(|| panic!("payload header {text:?}"))
        .to_string();
    replica.read_until_suffix(mark.as_bytes());
    wait_until("the replica online", || {
        let s = replica_state(&mut c)?;
        if states.last() != Some(&s) {
            states.push(s.clone());
        }
        (s == "online").then_some(())
    });
    replica.send(&common::encode(&[b"REPLCONF", b"ACK", b"0"]));
    let stream_start = replica.read_until_suffix(b"the-window\r\n");
    (states, stream_start, master.log())
}

#[test]
fn a_diskless_full_sync_goes_wait_bgsave_online_and_streams_after_the_ack_as_in_redis() {
    if !redis_installed() {
        return;
    }
    for kind in [Kind::Redis, Kind::Replscope] {
        let (states, stream_start, log) = diskless_sync_on(kind);
        let who = kind.name();
        assert_eq!(states, ["wait_bgsave", "online"], "{who}");
        let want = common::encode(&[b"SELECT", b"0"])
            .into_iter()
            .chain(common::encode(&[b"SET", b"during", b"the-window"]))
            .collect::<Vec<u8>>();
        assert_eq!(common::show(&stream_start), common::show(&want), "{who}");
        in_order(
            &log,
            &[
                "Starting BGSAVE for SYNC with target: replicas sockets",
                "Background RDB transfer started by pid ",
                "Diskless rdb transfer, done reading from pipe, 1 replicas still up.",
                "Background RDB transfer terminated with success",
                "Streamed RDB transfer with replica 127.0.0.1:7777 succeeded (socket). Waiting for REPLCONF ACK from slave to enable streaming",
                "Synchronization with replica 127.0.0.1:7777 succeeded",
            ],
        )
        .unwrap_or_else(|e| panic!("{who}: {e}"));
    }
}
