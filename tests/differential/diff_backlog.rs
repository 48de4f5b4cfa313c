//! The replication buffer against real Redis 7.0: a real master with a real replica, and a
//! replscope master with a replscope replica, given the same writes. After every step the
//! backlog INFO fields of both masters and both replicas must be equal:
//! `master_repl_offset`, `repl_backlog_first_byte_offset`, `repl_backlog_histlen`.
//!
//! Those two backlog numbers only agree if the engine cuts the stream into blocks where
//! Redis does (16 KiB minimum, `repl-backlog-size / 16` maximum, rounded up to jemalloc's
//! size class), feeds it in the same pieces, and trims the same blocks at the same time
//! (whole blocks, never below the setting, never one a replica still sends from).
//!
//! The second test stops a replica process (SIGSTOP) under a tight
//! `client-output-buffer-limit replica` and writes ~20 MB: both masters must drop it, with
//! Redis's log line.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use common::{encode, redis_installed, wait_until, Client, Kind, ServerProcess};

/// Master options: disk payloads (the stream follows at once), and no PINGs in the stream.
const MASTER_OPTS: [&str; 6] = [
    "--repl-diskless-sync",
    "no",
    "--repl-diskless-sync-delay",
    "0",
    "--repl-ping-replica-period",
    "100000",
];

/// A master and its replica of one kind, in sync.
struct Setup {
    // Dropped first: the replica before its master.
    replica: ServerProcess,
    master: ServerProcess,
    writer: Client,
}

impl Setup {
    fn start(kind: Kind, extra: &[&str]) -> Setup {
        let mut opts: Vec<&str> = MASTER_OPTS.to_vec();
        opts.extend_from_slice(extra);
        let master = ServerProcess::start(kind, &opts);
        let port = master.port.to_string();
        let replica = ServerProcess::start(kind, &["--replicaof", "127.0.0.1", &port]);
        let writer = master.client();
        let s = Setup {
            replica,
            master,
            writer,
        };
        s.wait_in_sync();
        s
    }

    /// The replica's link is up, it has applied every byte the master produced, and the
    /// master lists it online.
    fn wait_in_sync(&self) {
        let name = self.master.kind.name();
        wait_until(
            &format!("{name}: the replica is online and has the master's offset"),
            || {
                if self
                    .replica
                    .info_field("replication", "master_link_status")?
                    != "up"
                {
                    return None;
                }
                let slave0 = self.master.info_field("replication", "slave0")?;
                let m = self
                    .master
                    .info_field("replication", "master_repl_offset")?;
                let r = self
                    .replica
                    .info_field("replication", "slave_repl_offset")?;
                (slave0.contains("state=online") && m == r).then_some(())
            },
        );
    }

    /// (field, master's value, replica's value) for the fields compared.
    fn backlog_fields(&self) -> Vec<(&'static str, String, String)> {
        let mut m = self.master.client();
        let mut r = self.replica.client();
        [
            "master_repl_offset",
            "repl_backlog_first_byte_offset",
            "repl_backlog_histlen",
        ]
        .into_iter()
        .map(|f| {
            let get = |c: &mut Client| {
                c.info_field("replication", f)
                    .unwrap_or_else(|| panic!("no {f}"))
            };
            (f, get(&mut m), get(&mut r))
        })
        .collect()
    }

    fn run(&mut self, step: &Step) {
        match step {
            Step::Cmd(args) => {
                let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
                self.writer.send(&encode(&refs));
                let reply = self.writer.read_replies(1);
                assert!(
                    !reply.starts_with(b"-"),
                    "{} refused {:?}: {}",
                    self.master.kind.name(),
                    show_args(args),
                    common::show(&reply)
                );
            }
            Step::ReconnectReplica => {
                let before = self
                    .master
                    .info_field("stats", "sync_partial_ok")
                    .unwrap_or_default();
                assert_eq!(
                    self.writer.cmd(&["CLIENT", "KILL", "TYPE", "replica"]),
                    b":1\r\n"
                );
                wait_until("the replica continues partially", || {
                    let now = self.master.info_field("stats", "sync_partial_ok")?;
                    (now != before).then_some(())
                });
            }
        }
        self.wait_in_sync();
    }
}

fn show_args(args: &[Vec<u8>]) -> Vec<String> {
    args.iter()
        .map(|a| {
            if a.len() > 40 {
                format!("<{} bytes>", a.len())
            } else {
                String::from_utf8_lossy(a).into_owned()
            }
        })
        .collect()
}

enum Step {
    /// A command on the master.
    Cmd(Vec<Vec<u8>>),
    /// The master drops its replica's link; the replica comes back with a partial resync.
    ReconnectReplica,
}

fn cmd(args: &[&str]) -> Step {
    Step::Cmd(args.iter().map(|a| a.as_bytes().to_vec()).collect())
}

/// SET key to `len` bytes of a repeated letter.
fn set_sized(key: &str, len: usize) -> Step {
    let letter = b'a' + (len % 26) as u8;
    Step::Cmd(vec![
        b"SET".to_vec(),
        key.as_bytes().to_vec(),
        vec![letter; len],
    ])
}

/// Runs `steps` on a real pair and a replscope pair started with `extra` master options,
/// comparing the backlog fields after each step. Returns the table of real Redis's values.
fn compare(extra: &[&str], steps: &[Step]) -> Vec<String> {
    let mut redis = Setup::start(Kind::Redis, extra);
    let mut scope = Setup::start(Kind::Replscope, extra);
    let mut table = Vec::new();
    let check = |i: usize, what: &str, redis: &Setup, scope: &Setup, table: &mut Vec<String>| {
        let want = redis.backlog_fields();
        let got = scope.backlog_fields();
        assert_eq!(got, want, "step {i} ({what}): replscope (left) and Redis (right) differ in (field, master, replica)");
        let row: Vec<String> = want
            .iter()
            .map(|(_, m, r)| {
                if m == r {
                    m.clone()
                } else {
                    format!("{m}/{r}")
                }
            })
            .collect();
        table.push(format!("{i:>3} {what:<28} {}", row.join(" ")));
    };
    check(0, "replica attached", &redis, &scope, &mut table);
    for (i, step) in steps.iter().enumerate() {
        redis.run(step);
        scope.run(step);
        let what = match step {
            Step::Cmd(args) => show_args(args).join(" ").chars().take(28).collect(),
            Step::ReconnectReplica => "replica reconnects".to_string(),
        };
        check(i + 1, &what, &redis, &scope, &mut table);
    }
    table
}

fn print_table(name: &str, table: &[String]) {
    eprintln!("{name}: step, command, master_repl_offset first_byte_offset histlen (master/replica when they differ)");
    for row in table {
        eprintln!("{row}");
    }
}

/// The smallest backlog (16 KiB): every block is 20440 bytes, and writes bigger than a
/// block are split. Small writes, writes around the block size, and many blocks' worth.
#[test]
fn backlog_offsets_match_redis_with_a_16kb_backlog() {
    if !redis_installed() {
        return;
    }
    let mut steps = vec![
        cmd(&["SET", "k", "v"]),
        cmd(&["INCR", "counter"]),
        cmd(&["SELECT", "3"]),
        cmd(&["SET", "in3", "x"]),
    ];
    for (i, len) in [
        100, 1000, 10_000, 16_000, 16_384, 17_000, 20_000, 20_440, 25_000, 30_000, 50_000, 70_000,
        5, 100_000,
    ]
    .into_iter()
    .enumerate()
    {
        steps.push(set_sized(&format!("v{i}"), len));
    }
    steps.push(cmd(&["MULTI"]));
    steps.push(set_sized("m1", 12_000));
    steps.push(set_sized("m2", 12_000));
    steps.push(cmd(&["EXEC"]));
    for i in 0..20 {
        steps.push(set_sized(&format!("small{i}"), 900 + 37 * i));
    }
    steps.push(cmd(&["DEL", "v1", "v2", "v3"]));
    steps.push(Step::ReconnectReplica);
    steps.push(set_sized("after", 40_000));
    let table = compare(&["--repl-backlog-size", "16kb"], &steps);
    print_table("16kb backlog", &table);
}

/// The default 1 MiB backlog: blocks up to 64 KiB (81880 usable), so a big value is cut
/// into 81880-byte blocks; the history passes 1 MiB and is trimmed; then the backlog is
/// shrunk and grown with CONFIG SET.
#[test]
fn backlog_offsets_match_redis_with_a_1mb_backlog_and_resizes() {
    if !redis_installed() {
        return;
    }
    let mut steps = Vec::new();
    for (i, len) in [
        60_000, 65_536, 65_537, 81_880, 100_000, 200_000, 300_000, 7, 150_000, 250_000, 90_000,
    ]
    .into_iter()
    .enumerate()
    {
        steps.push(set_sized(&format!("big{i}"), len));
    }
    steps.push(cmd(&["CONFIG", "SET", "repl-backlog-size", "200000"]));
    steps.push(set_sized("after-shrink", 30_000));
    steps.push(set_sized("after-shrink-2", 50_000));
    steps.push(cmd(&["CONFIG", "SET", "repl-backlog-size", "2mb"]));
    for i in 0..6 {
        steps.push(set_sized(&format!("grow{i}"), 180_000 + 1000 * i));
    }
    steps.push(Step::ReconnectReplica);
    steps.push(set_sized("last", 500_000));
    let table = compare(&[], &steps);
    print_table("1mb backlog", &table);
}

/// Stops (SIGSTOP) and resumes (SIGCONT) a process; resumes it when dropped, so a failing
/// test never leaves a stopped server behind.
struct Stopped(u32);

impl Stopped {
    fn new(pid: u32) -> Stopped {
        signal("-STOP", pid);
        Stopped(pid)
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        signal("-CONT", self.0);
    }
}

fn signal(sig: &str, pid: u32) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid} failed");
}

/// What happens on one master when its replica stops reading: returns (the master's log
/// line about it, connected_slaves after, histlen after, master_repl_offset after).
fn stalled_replica_is_dropped(kind: Kind) -> (String, String, String, String) {
    let mut s = Setup::start(kind, &[]);
    assert_eq!(
        s.writer.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "replica 1mb 256kb 2"
        ]),
        b"+OK\r\n"
    );
    let stopped = Stopped::new(s.replica.pid());
    // ~20 MB of writes: more than the socket buffers take, so the stream piles up.
    let value = vec![b'z'; 100_000];
    for i in 0..200 {
        s.writer
            .send(&encode(&[b"SET", format!("flood:{i}").as_bytes(), &value]));
        assert_eq!(s.writer.read_replies(1), b"+OK\r\n");
    }
    const LINE: &str = "for overcoming of output buffer limits.";
    let line = wait_until(
        &format!("{} drops the stalled replica", kind.name()),
        || {
            let log = s.master.log();
            let line = log.lines().find(|l| l.contains(LINE))?.to_string();
            (s.master.info_field("replication", "connected_slaves")? == "0").then_some(line)
        },
    );
    let slaves = s
        .master
        .info_field("replication", "connected_slaves")
        .unwrap_or_default();
    let histlen = s
        .master
        .info_field("replication", "repl_backlog_histlen")
        .unwrap_or_default();
    let offset = s
        .master
        .info_field("replication", "master_repl_offset")
        .unwrap_or_default();
    drop(stopped);
    (line, slaves, histlen, offset)
}

/// The client description in a drop line, as Redis's `catClientInfoString` writes it, with
/// the values that depend on the run masked: ids, ports, fds, ages, the last command, the
/// buffer sizes (how far the stream had got into the socket buffers when the limit hit),
/// and the reply buffer's size and peak (`rbs`, `rbp`), which Redis's clients cron shrinks
/// from 16 KiB to 1 KiB within a few hundred milliseconds of the connection.
fn drop_line_shape(line: &str) -> String {
    let start = line.find("Client id=").expect("a client description");
    let text = &line[start..];
    text.split(' ')
        .map(|word| match word.split_once('=') {
            Some((k, _))
                if [
                    "id", "addr", "laddr", "fd", "age", "idle", "rbs", "rbp", "oll", "omem",
                    "tot-mem", "cmd",
                ]
                .contains(&k) =>
            {
                format!("{k}=*")
            }
            _ => word.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A replica that stops reading is dropped once the stream it has not received passes
/// the hard limit, on real Redis and on replscope alike, with the same log line.
#[test]
fn a_stalled_replica_is_dropped_at_its_output_buffer_limit_like_redis() {
    if !redis_installed() {
        return;
    }
    let (want_line, want_slaves, want_hist, want_off) = stalled_replica_is_dropped(Kind::Redis);
    let (got_line, got_slaves, got_hist, got_off) = stalled_replica_is_dropped(Kind::Replscope);
    eprintln!("redis-server:     {want_line}\n  connected_slaves={want_slaves} repl_backlog_histlen={want_hist} master_repl_offset={want_off}");
    eprintln!("replscope-server: {got_line}\n  connected_slaves={got_slaves} repl_backlog_histlen={got_hist} master_repl_offset={got_off}");
    assert_eq!((got_slaves.as_str(), want_slaves.as_str()), ("0", "0"));
    assert!(
        want_line.contains("scheduled to be closed ASAP for overcoming of output buffer limits."),
        "{want_line}"
    );
    assert_eq!(drop_line_shape(&got_line), drop_line_shape(&want_line));
    assert_eq!(got_off, want_off, "both masters produced the same stream");
    // What the replica held is given back: the history is trimmed to its setting again.
    for hist in [&want_hist, &got_hist] {
        let h: u64 = hist.parse().expect("numeric histlen");
        assert!(
            h <= (1 << 20) + 81_880,
            "histlen {h} was not trimmed back after the replica left"
        );
    }
}
