//! WAIT, ROLE, min-replicas-to-write and INFO replication, against the real thing.
//!
//! Each scenario is one script, run twice: on a real redis-server master and replica, then
//! on a replscope-server master and replica (or replica and scripted master). Every reply
//! is recorded with a label; the two transcripts must be equal once the ports are named
//! (`normalize::mask_ports`) and the random ids masked, and INFO is compared field by
//! field (`normalize::compare_info`). The scripts wait for the states they compare (the
//! replica acknowledged everything, a blocked client is gone, ...), never for a time.
//!
//! At the end, the same machinery in virtual time on the in-page bus and on a bare node:
//! WAIT's timeout fires exactly when the clock says, without any real waiting.
#![cfg(not(target_arch = "wasm32"))]

use crate::common;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::normalize::{self, Norm};
use common::{encode, redis_installed, show, wait_until, Client, Kind, ServerProcess, DEADLINE};

/// A master whose stream carries only what the script writes: no PING every 10 s (so both
/// servers' offsets stay equal), and the snapshot sent at once.
const MASTER_OPTS: [&str; 4] = [
    "--repl-diskless-sync-delay",
    "0",
    "--repl-ping-replica-period",
    "100000",
];

// ------------------------------------------------------------------ harness

/// A master and its replica, both of one kind.
struct Duo {
    master: ServerProcess,
    replica: ServerProcess,
}

impl Duo {
    fn start(kind: Kind, master_opts: &[&str]) -> Duo {
        let mut opts = MASTER_OPTS.to_vec();
        opts.extend_from_slice(master_opts);
        let master = ServerProcess::start(kind, &opts);
        let port = master.port.to_string();
        let replica = ServerProcess::start(kind, &["--replicaof", "127.0.0.1", &port]);
        let duo = Duo { master, replica };
        duo.wait_acked();
        duo
    }

    fn ports(&self) -> Vec<(u16, &'static str)> {
        vec![
            (self.master.port, "<master-port>"),
            (self.replica.port, "<replica-port>"),
        ]
    }

    /// Waits until the replica is online and has acknowledged every byte of the stream.
    fn wait_acked(&self) {
        wait_until(
            "the master sees its replica online with every byte acknowledged",
            || {
                let info = self.master.client().info("replication");
                let offset = info_value(&info, "master_repl_offset")?;
                let replica = info_value(&info, "slave0")?;
                (replica.contains("state=online")
                    && replica.contains(&format!(",offset={offset},")))
                .then_some(())
            },
        );
    }
}

/// One field of an INFO text.
fn info_value(info: &str, field: &str) -> Option<String> {
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(str::to_string)
}

/// A SIGSTOPped server, continued (SIGCONT) when this is dropped, also when a failing
/// test unwinds, so the harness can then stop it normally.
struct Stopped<'a>(&'a ServerProcess);

fn signal(server: &ServerProcess, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &server.pid().to_string()])
        .status()
        .expect("run kill")
        .success();
    assert!(ok, "kill {sig} {}", server.pid());
}

fn stop(server: &ServerProcess) -> Stopped<'_> {
    signal(server, "-STOP");
    Stopped(server)
}

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

fn args_bytes<'a>(args: &[&'a str]) -> Vec<&'a [u8]> {
    args.iter().map(|a| a.as_bytes()).collect()
}

/// Several commands in one write (so the server reads them in one go).
fn pipelined(commands: &[&[&str]]) -> Vec<u8> {
    commands
        .iter()
        .flat_map(|c| encode(&args_bytes(c)))
        .collect()
}

/// Sends `commands` in one write and returns all their replies.
fn pipeline(c: &mut Client, commands: &[&[&str]]) -> Vec<u8> {
    c.send(&pipelined(commands));
    c.read_replies(commands.len())
}

/// Asserts that nothing arrives on `c` for a while: its replies are held back.
fn assert_nothing_arrives(c: &mut Client, what: &str) {
    c.stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("read timeout");
    let mut byte = [0u8; 1];
    match c.stream.peek(&mut byte) {
        Ok(0) => panic!("{what}: the connection closed"),
        Ok(_) => panic!("{what}: a reply arrived"),
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{what}: {e}"
        ),
    }
    c.stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
}

/// What one run of a script saw, in order.
struct Transcript {
    kind: Kind,
    /// Ports to name in every reply (see `normalize::mask_ports`).
    ports: Vec<(u16, &'static str)>,
    entries: Vec<(String, Recorded)>,
}

enum Recorded {
    /// Compared byte for byte (ports named, ids masked).
    Reply(Vec<u8>),
    /// An INFO reply (ports named), compared with `normalize::compare_info`.
    Info(Vec<u8>),
}

impl Transcript {
    fn reply(&mut self, label: impl Into<String>, raw: Vec<u8>) {
        let masked = normalize::reply(&normalize::mask_ports(&raw, &self.ports), Norm::Ids);
        self.entries.push((label.into(), Recorded::Reply(masked)));
    }

    fn info(&mut self, label: impl Into<String>, raw: Vec<u8>) {
        self.entries.push((
            label.into(),
            Recorded::Info(normalize::mask_ports(&raw, &self.ports)),
        ));
    }

    /// A fact the script checked on this server alone, recorded so that both runs must
    /// have reached it.
    fn fact(&mut self, label: &str) {
        self.entries
            .push((label.to_string(), Recorded::Reply(Vec::new())));
    }
}

/// Runs `script` on real Redis, then on replscope, and compares what each saw.
fn on_both(script: impl Fn(Kind, &mut Transcript)) {
    if !redis_installed() {
        return;
    }
    let mut runs = [Kind::Redis, Kind::Replscope].map(|kind| {
        let mut t = Transcript {
            kind,
            ports: Vec::new(),
            entries: Vec::new(),
        };
        script(kind, &mut t);
        t
    });
    let [want, got] = &mut runs;
    assert_eq!(want.kind, Kind::Redis);
    let labels = |t: &Transcript| t.entries.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>();
    assert_eq!(
        labels(got),
        labels(want),
        "the two runs took different paths"
    );
    for ((label, g), (_, w)) in got.entries.iter().zip(&want.entries) {
        match (g, w) {
            (Recorded::Reply(g), Recorded::Reply(w)) => {
                assert_eq!(
                    show(g),
                    show(w),
                    "{label}: replscope (left) and Redis (right) differ"
                )
            }
            (Recorded::Info(g), Recorded::Info(w)) => normalize::compare_info(g, w, label),
            _ => panic!("{label}: recorded differently"),
        }
    }
}

/// The line of CLIENT LIST that describes the connection running `cmd`, reduced to the
/// fields that say what state it is in.
fn client_state(list: &[u8], cmd: &str) -> Vec<u8> {
    let text = normalize::bulk_text(list).expect("CLIENT LIST is a bulk string");
    let line = text
        .lines()
        .find(|l| l.contains(&format!(" cmd={cmd} ")))
        .unwrap_or_else(|| panic!("no cmd={cmd} in {text}"));
    let keep: Vec<&str> = line
        .split(' ')
        .filter(|f| {
            ["flags=", "db=", "multi=", "cmd="]
                .iter()
                .any(|k| f.starts_with(k))
        })
        .collect();
    normalize::bulk(keep.join(" ").as_bytes())
}

/// `cmdstat_<name>` of INFO commandstats without its timings.
fn command_counts(c: &mut Client, name: &str) -> Vec<u8> {
    let line = c
        .info_field("commandstats", &format!("cmdstat_{name}"))
        .unwrap_or_default();
    let kept: Vec<&str> = line.split(',').filter(|p| !p.starts_with("usec")).collect();
    normalize::bulk(kept.join(",").as_bytes())
}

// ------------------------------------------------------------------ WAIT

#[test]
fn wait_replies_errors_blocking_and_timeouts_match_real_redis() {
    on_both(|kind, t| {
        let duo = Duo::start(kind, &[]);
        t.ports = duo.ports();
        let mut c = duo.master.client();
        // Errors, in the order Redis checks: arity, then the arguments in turn.
        for args in [
            &["WAIT"][..],
            &["WAIT", "1"],
            &["WAIT", "1", "2", "3"],
            &["WAIT", "a", "0"],
            &["WAIT", "a", "-1"],
            &["WAIT", "1", "a"],
            &["WAIT", "1", "1.5"],
            &["WAIT", "1", "-1"],
            &["WAIT", "99999999999999999999", "0"],
            &["WAIT", "1", "99999999999999999999"],
        ] {
            t.reply(format!("{args:?}"), c.cmd(args));
        }
        // On a replica, before looking at the arguments.
        let mut r = duo.replica.client();
        for args in [&["WAIT", "1", "0"][..], &["WAIT", "a", "-1"]] {
            t.reply(format!("on the replica: {args:?}"), r.cmd(args));
        }
        // Nothing written on this connection yet: every online replica has it all, at once.
        t.reply("WAIT 1 0 before any write", c.cmd(&["WAIT", "1", "0"]));
        t.reply("WAIT 0 0", c.cmd(&["WAIT", "0", "0"]));
        t.reply("WAIT -1 0", c.cmd(&["WAIT", "-1", "0"]));
        // More replicas than there are: it blocks, asks for ACKs, and at the timeout
        // answers with the one replica it has.
        t.reply("WAIT 2 100", c.cmd(&["WAIT", "2", "100"]));
        // A write, then WAIT: blocks until the replica's answer to GETACK arrives.
        t.reply(
            "SET, WAIT 1 0",
            pipeline(&mut c, &[&["SET", "k", "v"], &["WAIT", "1", "0"]]),
        );
        // WAIT 0 0 right after a write the replica cannot have acknowledged yet: 0, at once.
        t.reply(
            "SET, WAIT 0 0",
            pipeline(&mut c, &[&["SET", "k", "w"], &["WAIT", "0", "0"]]),
        );
        // Commands pipelined behind a blocked WAIT are answered after it, in order.
        let replies = pipeline(
            &mut c,
            &[
                &["SET", "k", "x"],
                &["WAIT", "1", "0"],
                &["GET", "k"],
                &["PING"],
            ],
        );
        t.reply("SET, WAIT 1 0, GET, PING", replies);
        // Inside MULTI, WAIT never blocks: EXEC answers with the count as it is.
        duo.wait_acked();
        let replies = pipeline(
            &mut c,
            &[
                &["MULTI"],
                &["SET", "k", "y"],
                &["WAIT", "1", "0"],
                &["WAIT", "5", "0"],
                &["EXEC"],
            ],
        );
        t.reply("MULTI, SET, WAIT 1 0, WAIT 5 0, EXEC", replies);
        duo.wait_acked();
        t.info("master INFO replication", c.cmd(&["INFO", "replication"]));

        {
            let _stopped = stop(&duo.replica);
            // The replica sleeps: the WAIT times out with the count it has.
            let replies = pipeline(
                &mut c,
                &[&["SET", "k", "z"], &["WAIT", "1", "200"], &["PING"]],
            );
            t.reply("replica stopped: SET, WAIT 1 200, PING", replies);
            // Every command, not only a write, moves what the client's next WAIT waits
            // for: a client that only said PING waits for the whole stream so far.
            let mut reader = duo.master.client();
            t.reply(
                "replica stopped: another client's PING, WAIT 1 100",
                pipeline(&mut reader, &[&["PING"], &["WAIT", "1", "100"]]),
            );
            t.reply(
                "and without the PING, WAIT 1 100",
                duo.master.client().cmd(&["WAIT", "1", "100"]),
            );
            // WAIT 1 0 waits for ever. What the client sends meanwhile waits behind it.
            c.send(&pipelined(&[&["SET", "k", "zz"], &["WAIT", "1", "0"]]));
            t.reply("replica stopped: SET before WAIT 1 0", c.read_replies(1));
            let mut other = duo.master.client();
            t.reply(
                "the blocked client in CLIENT LIST",
                client_state(&other.cmd(&["CLIENT", "LIST"]), "wait"),
            );
            t.info(
                "INFO clients with a client blocked",
                other.cmd(&["INFO", "clients"]),
            );
            c.send(&encode(&[b"PING"]));
            assert_nothing_arrives(&mut c, "WAIT with the replica stopped");
            t.fact("no reply while the replica is stopped");
            // A blocked client that goes away is forgotten, with its timeout.
            let mut doomed = duo.master.client();
            t.reply("second client: SET before WAIT 1 600000", {
                doomed.send(&pipelined(&[&["SET", "j", "1"], &["WAIT", "1", "600000"]]));
                doomed.read_replies(1)
            });
            wait_until("both clients are blocked", || {
                (other.info_field("clients", "blocked_clients")? == "2").then_some(())
            });
            t.info(
                "INFO clients with two clients blocked, one with a timeout",
                other.cmd(&["INFO", "clients"]),
            );
            drop(doomed);
            wait_until("the closed client is no longer blocked", || {
                (other.info_field("clients", "blocked_clients")? == "1").then_some(())
            });
            t.fact("a blocked client that disconnects is forgotten");
        }
        // The replica continues: its ACK releases the WAIT, then the PING is answered.
        t.reply("replica continued: WAIT 1 0, PING", c.read_replies(2));
        duo.wait_acked();
        t.info(
            "master INFO replication at the end",
            c.cmd(&["INFO", "replication"]),
        );
        t.info(
            "replica INFO replication at the end",
            r.cmd(&["INFO", "replication"]),
        );
        t.info(
            "master INFO clients at the end",
            c.cmd(&["INFO", "clients"]),
        );
        t.info("master INFO errorstats", c.cmd(&["INFO", "errorstats"]));
        t.reply("cmdstat_wait", command_counts(&mut c, "wait"));
    });
}

/// A master that becomes a replica releases the clients blocked in WAIT with an error and
/// closes their connections.
#[test]
fn replicaof_releases_blocked_clients_like_real_redis() {
    on_both(|kind, t| {
        let duo = Duo::start(kind, &[]);
        t.ports = duo.ports();
        let mut c = duo.master.client();
        let _stopped = stop(&duo.replica);
        c.send(&pipelined(&[
            &["SET", "k", "v"],
            &["WAIT", "1", "0"],
            &["PING"],
        ]));
        t.reply("SET before WAIT", c.read_replies(1));
        let mut other = duo.master.client();
        wait_until("the client is blocked", || {
            (other.info_field("clients", "blocked_clients")? == "1").then_some(())
        });
        let dead = common::free_port().to_string();
        t.ports.push((dead.parse().unwrap(), "<dead-port>"));
        t.reply("REPLICAOF", other.cmd(&["REPLICAOF", "127.0.0.1", &dead]));
        let (rest, closed) = c.read_until_closed();
        t.reply("what the blocked client gets", rest);
        assert!(
            closed,
            "{:?}: the blocked client's connection stays open",
            kind
        );
        t.info("INFO clients after", other.cmd(&["INFO", "clients"]));
        t.info("INFO errorstats after", other.cmd(&["INFO", "errorstats"]));
    });
}

// ------------------------------------------------------------------ ROLE

#[test]
fn role_on_master_replica_and_after_promotion_matches_real_redis() {
    on_both(|kind, t| {
        let duo = Duo::start(kind, &[]);
        t.ports = duo.ports();
        let (mut m, mut r) = (duo.master.client(), duo.replica.client());
        t.reply(
            "SET, WAIT",
            pipeline(&mut m, &[&["SET", "a", "1"], &["WAIT", "1", "0"]]),
        );
        duo.wait_acked();
        t.reply("ROLE on the master", m.cmd(&["ROLE"]));
        t.reply("ROLE on the replica", r.cmd(&["ROLE"]));
        t.reply("ROLE x", m.cmd(&["ROLE", "x"]));
        t.info("master INFO replication", m.cmd(&["INFO", "replication"]));
        t.info("replica INFO replication", r.cmd(&["INFO", "replication"]));

        // Promotion: the replica keeps its history as replid2.
        t.reply("REPLICAOF NO ONE", r.cmd(&["REPLICAOF", "NO", "ONE"]));
        t.reply("ROLE after REPLICAOF NO ONE", r.cmd(&["ROLE"]));
        t.info(
            "INFO replication after REPLICAOF NO ONE",
            r.cmd(&["INFO", "replication"]),
        );
        t.reply("a write on the promoted replica", r.cmd(&["SET", "b", "2"]));
        t.info(
            "INFO replication after a write",
            r.cmd(&["INFO", "replication"]),
        );
        wait_until("the old master sees its replica gone", || {
            (duo.master.info_field("replication", "connected_slaves")? == "0").then_some(())
        });
        t.reply("ROLE on the master without replicas", m.cmd(&["ROLE"]));
        t.info(
            "master INFO replication without replicas",
            m.cmd(&["INFO", "replication"]),
        );

        // A replica of a master that is not there.
        let dead = common::free_port();
        t.ports.push((dead, "<dead-port>"));
        t.reply(
            "REPLICAOF a dead port",
            r.cmd(&["REPLICAOF", "127.0.0.1", &dead.to_string()]),
        );
        let role = wait_until("the connection attempt failed", || {
            let role = r.cmd(&["ROLE"]);
            String::from_utf8_lossy(&role)
                .contains("connect\r\n")
                .then_some(role)
        });
        t.reply("ROLE while the master is unreachable", role);
        let info = r.cmd(&["INFO", "replication"]);
        let text = normalize::bulk_text(&info).unwrap();
        // Never connected: the link is not "down since" anything.
        assert_eq!(
            info_value(&text, "master_link_down_since_seconds").as_deref(),
            Some("-1"),
            "{kind:?}: {text}"
        );
        t.fact("master_link_down_since_seconds:-1 before the first connection");
        t.info("INFO replication while the master is unreachable", info);
        t.reply("a write there is refused", r.cmd(&["SET", "c", "3"]));
    });
}

// ------------------------------------------------------------------ a scripted master

/// Bytes from `link` until `buf` holds `needle`; returns everything read.
fn read_until(link: &mut TcpStream, buf: &mut Vec<u8>, needle: &[u8]) -> Vec<u8> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(p) = buf.windows(needle.len()).position(|w| w == needle) {
            return buf.drain(..p + needle.len()).collect();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {:?}; have {:?}",
            show(needle),
            show(buf)
        );
        let mut chunk = [0u8; 4096];
        match link.read(&mut chunk) {
            Ok(0) => panic!("the replica closed the link; have {:?}", show(buf)),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("reading from the replica: {e}"),
        }
    }
}

/// One complete command from `link`.
fn read_command(link: &mut TcpStream, buf: &mut Vec<u8>) -> Vec<u8> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(len) = (!buf.is_empty()).then(|| common::reply_len(buf)).flatten() {
            return buf.drain(..len).collect();
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for a command; have {:?}",
            show(buf)
        );
        let mut chunk = [0u8; 4096];
        match link.read(&mut chunk) {
            Ok(0) => panic!("the replica closed the link"),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("reading from the replica: {e}"),
        }
    }
}

/// An RDB with no keys, as a 7.0 master sends it.
fn empty_rdb() -> Vec<u8> {
    use replscope::engine::keyspace::Keyspace;
    use replscope::engine::rdb::{self, SnapshotMeta};
    let meta = SnapshotMeta {
        redis_ver: "7.0.15",
        ctime_secs: 1_700_000_000,
        used_mem: 1_000_000,
        repl: None,
    };
    rdb::write(&Keyspace::default(), &meta, 1_700_000_000_000)
}

/// Polls ROLE until its state is `state`; returns the reply.
fn role_when(c: &mut Client, state: &str) -> Vec<u8> {
    let want = format!("\r\n{state}\r\n");
    wait_until(&format!("ROLE says {state}"), || {
        let role = c.cmd(&["ROLE"]);
        String::from_utf8_lossy(&role)
            .contains(&want)
            .then_some(role)
    })
}

/// ROLE and INFO replication of a replica at each step of its handshake and sync with a
/// master scripted here: handshake, sync (with the transfer's progress fields), connected,
/// the ACK it sends for a GETACK, and the link lost. The payload comes with its length.
#[test]
fn role_and_info_at_each_step_of_the_sync_match_real_redis() {
    on_both(|kind, t| sync_steps(kind, t, false));
}

/// The same with a diskless payload (`$EOF:<mark>`): its size is unknown (0) while it
/// arrives, and the replica ACKs as soon as it is loaded.
#[test]
fn role_and_info_at_each_step_of_a_diskless_sync_match_real_redis() {
    on_both(|kind, t| sync_steps(kind, t, true));
}

fn sync_steps(kind: Kind, t: &mut Transcript, diskless: bool) {
    let replica = ServerProcess::start(kind, &[]);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the scripted master");
    let master_port = listener.local_addr().unwrap().port();
    t.ports = vec![
        (master_port, "<master-port>"),
        (replica.port, "<replica-port>"),
    ];
    let mut c = replica.client();
    t.reply(
        "REPLICAOF",
        c.cmd(&["REPLICAOF", "127.0.0.1", &master_port.to_string()]),
    );
    listener.set_nonblocking(true).unwrap();
    let mut link = wait_until("the replica connects", || {
        listener.accept().ok().map(|(s, _)| s)
    });
    link.set_nonblocking(false).unwrap();
    link.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut inbox = Vec::new();

    t.reply("PING", read_command(&mut link, &mut inbox));
    t.reply("ROLE waiting for the PING reply", c.cmd(&["ROLE"]));
    t.info(
        "INFO waiting for the PING reply",
        c.cmd(&["INFO", "replication"]),
    );
    link.write_all(b"+PONG\r\n").unwrap();
    let port = replica.port.to_string();
    let burst = read_until(&mut link, &mut inbox, b"psync2\r\n");
    let burst = String::from_utf8_lossy(&burst)
        .replace(&format!("${}\r\n{port}\r\n", port.len()), "$<replica-port>");
    t.reply("REPLCONF burst", normalize::bulk(burst.as_bytes()));
    t.reply("ROLE waiting for the REPLCONF replies", c.cmd(&["ROLE"]));
    t.info(
        "INFO waiting for the REPLCONF replies",
        c.cmd(&["INFO", "replication"]),
    );
    link.write_all(b"+OK\r\n+OK\r\n").unwrap();
    let psync = read_command(&mut link, &mut inbox);
    // PSYNC <its own replid> <its offset + 1>: the id is random.
    let parts = normalize::bulk_strings(&psync).expect("PSYNC is an array of bulks");
    assert_eq!(parts.len(), 3);
    t.reply(
        "PSYNC",
        normalize::array_of([normalize::bulk(&parts[0]), normalize::bulk(&parts[2])]),
    );
    t.reply("ROLE waiting for the PSYNC reply", c.cmd(&["ROLE"]));
    t.info(
        "INFO waiting for the PSYNC reply",
        c.cmd(&["INFO", "replication"]),
    );

    link.write_all(format!("+FULLRESYNC {} 0\r\n", "a".repeat(40)).as_bytes())
        .unwrap();
    t.reply(
        "ROLE in sync, before the payload header",
        role_when(&mut c, "sync"),
    );
    t.info(
        "INFO in sync, before the payload header",
        c.cmd(&["INFO", "replication"]),
    );
    let mark = "0123456789".repeat(4);
    let mut rdb = empty_rdb();
    let mut head = if diskless {
        format!("$EOF:{mark}\r\n")
    } else {
        format!("${}\r\n", rdb.len())
    }
    .into_bytes();
    if diskless {
        rdb.extend_from_slice(mark.as_bytes());
    }
    head.extend_from_slice(&rdb[..10]);
    link.write_all(&head).unwrap();
    let info = wait_until("10 bytes of the payload read", || {
        let info = c.cmd(&["INFO", "replication"]);
        String::from_utf8_lossy(&info)
            .contains("master_sync_read_bytes:10\r\n")
            .then_some(info)
    });
    t.info("INFO with 10 bytes of the payload read", info);
    link.write_all(&rdb[10..]).unwrap();
    t.reply("ROLE connected", role_when(&mut c, "connected"));
    t.info("INFO connected", c.cmd(&["INFO", "replication"]));
    if diskless {
        // The master waits for this before it streams (repl_start_cmd_stream_on_ack).
        read_until(&mut link, &mut inbox, &encode(&[b"REPLCONF", b"ACK", b"0"]));
        t.fact("REPLCONF ACK 0 once the diskless payload is loaded");
    }

    // The stream, then GETACK: the ACK names the offset before the GETACK.
    let stream = [encode(&[b"SELECT", b"0"]), encode(&[b"SET", b"k", b"v"])].concat();
    let getack = encode(&[b"REPLCONF", b"GETACK", b"*"]);
    assert_eq!((stream.len(), getack.len()), (50, 37));
    link.write_all(&stream).unwrap();
    link.write_all(&getack).unwrap();
    read_until(
        &mut link,
        &mut inbox,
        &encode(&[b"REPLCONF", b"ACK", b"50"]),
    );
    t.fact("REPLCONF ACK 50 for the GETACK after 50 bytes");
    let role = wait_until("the replica applied the GETACK", || {
        let role = c.cmd(&["ROLE"]);
        role.ends_with(b":87\r\n").then_some(role)
    });
    t.reply("ROLE after the stream", role);
    t.reply("GET k", c.cmd(&["GET", "k"]));
    t.info("INFO after the stream", c.cmd(&["INFO", "replication"]));

    // The master goes away for good.
    drop(listener);
    drop(link);
    t.reply("ROLE with the link lost", role_when(&mut c, "connect"));
    let info = c.cmd(&["INFO", "replication"]);
    let down = info_value(
        &normalize::bulk_text(&info).unwrap(),
        "master_link_down_since_seconds",
    )
    .unwrap();
    assert!(
        down.parse::<u64>().is_ok(),
        "{kind:?}: master_link_down_since_seconds:{down} once a connected link is lost"
    );
    t.fact("master_link_down_since_seconds counts from the lost link");
    t.info("INFO with the link lost", info);
}

// ------------------------------------------------------------------ min-replicas-to-write

#[test]
fn min_replicas_to_write_with_a_stopped_replica_matches_real_redis() {
    on_both(|kind, t| {
        let duo = Duo::start(
            kind,
            &[
                "--min-replicas-to-write",
                "1",
                "--min-replicas-max-lag",
                "2",
            ],
        );
        t.ports = duo.ports();
        let mut m = duo.master.client();
        let mut o = duo.master.client();
        let good = |o: &mut Client, n: &str| {
            wait_until(&format!("min_slaves_good_slaves:{n}"), || {
                (o.info_field("replication", "min_slaves_good_slaves")? == n).then_some(())
            })
        };
        good(&mut o, "1");
        t.reply("SET with a good replica", m.cmd(&["SET", "a", "1"]));
        duo.wait_acked();
        t.info(
            "INFO replication with a good replica",
            o.cmd(&["INFO", "replication"]),
        );
        // Queued while the replica is good; EXEC comes after it stopped acknowledging.
        t.reply("MULTI", m.cmd(&["MULTI"]));
        t.reply("SET queued", m.cmd(&["SET", "b", "2"]));
        {
            let _stopped = stop(&duo.replica);
            good(&mut o, "0");
            t.reply("EXEC of a queued write", m.cmd(&["EXEC"]));
            t.reply("SET", m.cmd(&["SET", "c", "3"]));
            t.reply("GET", m.cmd(&["GET", "a"]));
            for args in [
                &["MULTI"][..],
                &["SET", "d", "4"],
                &["GET", "a"],
                &["EXEC"],
                &["MULTI"],
                &["GET", "a"],
                &["EXEC"],
            ] {
                t.reply(format!("{args:?}"), m.cmd(args));
            }
            let info = o.cmd(&["INFO", "replication"]);
            let replica = info_value(&normalize::bulk_text(&info).unwrap(), "slave0").unwrap();
            let lag: u64 = replica
                .rsplit_once("lag=")
                .and_then(|(_, l)| l.parse().ok())
                .unwrap();
            assert!(
                lag > 2,
                "{kind:?}: lag {lag} while the replica is not good: {replica}"
            );
            t.fact("slave0 lag is above min-replicas-max-lag");
            t.info("INFO replication with the replica stopped", info);
            // min-replicas-max-lag 0 turns the check off.
            t.reply(
                "CONFIG SET min-replicas-max-lag 0",
                m.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "0"]),
            );
            t.reply("SET with the check off", m.cmd(&["SET", "e", "5"]));
            t.info(
                "INFO replication with the check off",
                o.cmd(&["INFO", "replication"]),
            );
            t.reply(
                "CONFIG SET min-replicas-max-lag 2",
                m.cmd(&["CONFIG", "SET", "min-replicas-max-lag", "2"]),
            );
            t.reply("SET with the check on again", m.cmd(&["SET", "f", "6"]));
        }
        good(&mut o, "1");
        t.reply(
            "SET once the replica is good again",
            m.cmd(&["SET", "g", "7"]),
        );
        // Asking for two: the count is refreshed by CONFIG SET, and one is not enough.
        t.reply(
            "CONFIG SET min-replicas-to-write 2",
            m.cmd(&["CONFIG", "SET", "min-replicas-to-write", "2"]),
        );
        t.reply("SET with too few replicas", m.cmd(&["SET", "h", "8"]));
        duo.wait_acked();
        t.info(
            "INFO replication at the end",
            o.cmd(&["INFO", "replication"]),
        );
        t.info("INFO errorstats at the end", o.cmd(&["INFO", "errorstats"]));
        t.reply("cmdstat_set", command_counts(&mut o, "set"));
        t.reply("cmdstat_exec", command_counts(&mut o, "exec"));
    });
}

// ------------------------------------------------------------------ virtual time

mod virtual_time {
    use replscope::bus::{Bus, ServerId};
    use replscope::engine::resp::Reply;
    use replscope::engine::Config;

    fn config(port: u16) -> Config {
        Config {
            port,
            repl_diskless_sync_delay: 0,
            ..Config::default()
        }
    }

    /// A master (6380) and its replica (6381), synced, and nothing in flight.
    fn pair() -> (Bus, ServerId, ServerId) {
        let mut bus = Bus::new(3);
        let m = bus.add_server("master", config(6380));
        let r = bus.add_server("replica", config(6381));
        bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
        bus.advance(3_000);
        assert!(bus
            .server(r)
            .node
            .master_link()
            .is_some_and(|l| l.is_connected()));
        (bus, m, r)
    }

    fn replies(bus: &Bus, s: ServerId) -> Vec<Option<Reply>> {
        bus.console(s)
            .entries()
            .iter()
            .map(|e| e.reply.clone())
            .collect()
    }

    fn last_reply(bus: &Bus, s: ServerId) -> Option<Reply> {
        bus.console(s)
            .entries()
            .last()
            .and_then(|e| e.reply.clone())
    }

    fn offset(bus: &Bus, s: ServerId) -> u64 {
        bus.server(s).node.replication().master_repl_offset
    }

    /// WAIT 1 0 after a write: the GETACK goes out in the same pass, the replica answers
    /// it at once, and the reply comes one round trip later, not at the next second's ACK.
    #[test]
    fn wait_is_answered_after_one_round_trip() {
        let (mut bus, m, _) = pair();
        bus.submit_command(m, "SET k v").unwrap();
        let before = offset(&bus, m);
        bus.submit_command(m, "WAIT 1 0").unwrap();
        assert_eq!(last_reply(&bus, m), None, "blocked");
        // REPLCONF GETACK * in the current db: 37 bytes, no SELECT.
        assert_eq!(offset(&bus, m), before + 37);
        bus.submit_command(m, "PING").unwrap();
        bus.advance(2);
        let n = replies(&bus, m).len();
        assert_eq!(
            replies(&bus, m)[n - 2..],
            [Some(Reply::Integer(1)), Some(Reply::Simple("PONG".into()))]
        );
    }

    /// WAIT 2 500 with one replica: its ACK is not enough, so the reply comes when the
    /// timeout has passed, to the millisecond of virtual time (Redis: `timeout < now`).
    #[test]
    fn wait_times_out_exactly_in_virtual_time() {
        let (mut bus, m, _) = pair();
        bus.submit_command(m, "SET k v").unwrap();
        let start = bus.now();
        bus.submit_command(m, "WAIT 2 500").unwrap();
        bus.run_until(start + 500);
        assert_eq!(
            last_reply(&bus, m),
            None,
            "still blocked at the deadline itself"
        );
        assert!(bus
            .server(m)
            .node
            .info_text(&["clients".into()])
            .contains("blocked_clients:1\r\n"));
        bus.run_until(start + 501);
        assert_eq!(last_reply(&bus, m), Some(Reply::Integer(1)));
        assert!(bus
            .server(m)
            .node
            .info_text(&["clients".into()])
            .contains("blocked_clients:0\r\n"));
    }

    /// With the link cut, WAIT 1 300 answers 0 at its timeout; WAIT 1 0 would wait for
    /// ever, and is answered once the healed replica acknowledges.
    #[test]
    fn wait_across_a_cut_link() {
        let (mut bus, m, r) = pair();
        bus.cut(m, r);
        bus.submit_command(m, "SET k v").unwrap();
        let start = bus.now();
        bus.submit_command(m, "WAIT 1 300").unwrap();
        bus.run_until(start + 301);
        assert_eq!(last_reply(&bus, m), Some(Reply::Integer(0)));
        bus.submit_command(m, "WAIT 1 0").unwrap();
        bus.advance(5_000);
        assert_eq!(last_reply(&bus, m), None, "no replica, no ACK");
        bus.heal(m, r);
        bus.advance(5_000);
        assert_eq!(last_reply(&bus, m), Some(Reply::Integer(1)));
    }

    /// ROLE on a replica follows the link: connecting while the TCP connection is in
    /// flight, then connected.
    #[test]
    fn role_follows_the_link() {
        let mut bus = Bus::new(4);
        let m = bus.add_server("master", config(6380));
        let r = bus.add_server("replica", config(6381));
        bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
        bus.submit_command(r, "ROLE").unwrap();
        let role = |state: &str, offset: i64| {
            Some(Reply::Array(Some(vec![
                Reply::Bulk(Some(b"slave".to_vec())),
                Reply::Bulk(Some(b"127.0.0.1".to_vec())),
                Reply::Integer(6380),
                Reply::Bulk(Some(state.as_bytes().to_vec())),
                Reply::Integer(offset),
            ])))
        };
        assert_eq!(last_reply(&bus, r), role("connecting", -1));
        bus.advance(3_000);
        bus.submit_command(r, "ROLE").unwrap();
        assert_eq!(last_reply(&bus, r), role("connected", 0));
        bus.submit_command(m, "ROLE").unwrap();
        let Some(Reply::Array(Some(parts))) = last_reply(&bus, m) else {
            panic!("ROLE is an array")
        };
        assert_eq!(parts[0], Reply::Bulk(Some(b"master".to_vec())));
        assert_eq!(
            parts[2],
            Reply::Array(Some(vec![Reply::Array(Some(vec![
                Reply::Bulk(Some(b"127.0.0.1".to_vec())),
                Reply::Bulk(Some(b"6381".to_vec())),
                Reply::Bulk(Some(b"0".to_vec())),
            ]))]))
        );
    }
}
