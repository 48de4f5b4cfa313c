//! The teaching modes of `replscope-sync-protocol`: `psync1` (Redis 2.8–3.2, histories
//! named by run id, no replid2) and `sync` (before 2.8, every connection a full resync),
//! against the default `psync2`.
//!
//! First on the in-page bus (deterministic, virtual time): a failover that PSYNC2
//! continues partially and PSYNC1 cannot, and a SYNC-only replica through cuts. Then over
//! TCP against a real redis-server 7.0, which must accept a replscope replica speaking
//! SYNC or PSYNC1, and replicate from a replscope master speaking PSYNC1.

use crate::common;

use replscope::bus::{Bus, LogKind, ServerId};
use replscope::engine::config::SyncProtocol;
use replscope::engine::replication::SyncDecision;
use replscope::engine::resp::Reply;
use replscope::engine::{Config, Event};

// ------------------------------------------------------------------------- the bus

fn config(port: u16, protocol: SyncProtocol) -> Config {
    Config {
        port,
        sync_protocol: protocol,
        ..Config::default()
    }
}

/// A master on 6380 and replicas A (6381) and B (6382), all speaking `protocol`, synced,
/// with a few writes streamed.
fn three_servers(seed: u64, protocol: SyncProtocol) -> (Bus, [ServerId; 3]) {
    let mut bus = Bus::new(seed);
    let m = bus.add_server("master", config(6380, protocol));
    let a = bus.add_server("replica-a", config(6381, protocol));
    let b = bus.add_server("replica-b", config(6382, protocol));
    bus.submit_command(a, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.submit_command(b, "REPLICAOF 127.0.0.1 6380").unwrap();
    // repl-diskless-sync-delay is 5 s by default: the snapshot starts within ~6 s.
    bus.advance(8_000);
    for r in [a, b] {
        assert_eq!(info_field(&bus, r, "master_link_status"), "up");
    }
    bus.submit_command(m, "SET before failover").unwrap();
    bus.submit_command(m, "INCR counter").unwrap();
    bus.advance(100);
    (bus, [m, a, b])
}

fn info_field(bus: &Bus, id: ServerId, field: &str) -> String {
    let info = bus.server(id).node.info_replication();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in {info}"))
        .to_string()
}

/// Every sync decision server `id` made, in order.
fn decisions(bus: &Bus, id: ServerId) -> Vec<SyncDecision> {
    bus.log()
        .iter()
        .filter(|e| e.server == Some(id))
        .filter_map(|e| match &e.kind {
            LogKind::Engine(Event::SyncDecision(d)) => Some(d.clone()),
            _ => None,
        })
        .collect()
}

/// Every chunk server `to` received from server `from`, concatenated.
fn received(bus: &Bus, to: ServerId, from: ServerId) -> Vec<u8> {
    bus.log()
        .iter()
        .filter(|e| e.server == Some(to))
        .filter_map(|e| match &e.kind {
            LogKind::Deliver {
                from: Some(f),
                data,
                ..
            } if *f == from => Some(data.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn last_reply(bus: &Bus, id: ServerId) -> Reply {
    bus.console(id)
        .entries()
        .last()
        .and_then(|e| e.reply.clone())
        .expect("a reply")
}

fn value(bus: &Bus, id: ServerId, key: &str) -> Option<Vec<u8>> {
    match bus
        .server(id)
        .node
        .keyspace()
        .get(0, key.as_bytes(), bus.now())?
        .value
        .clone()
    {
        replscope::engine::keyspace::Value::String(v) => Some(v),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

/// A promotes itself, B follows it: returns A's decision about B.
fn fail_over_to_a(bus: &mut Bus, [m, a, b]: [ServerId; 3]) -> SyncDecision {
    bus.cut(m, a);
    bus.cut(m, b);
    bus.submit_command(a, "REPLICAOF NO ONE").unwrap();
    bus.submit_command(b, "REPLICAOF 127.0.0.1 6381").unwrap();
    bus.advance(8_000);
    assert_eq!(info_field(bus, b, "master_link_status"), "up");
    let ds = decisions(bus, a);
    assert_eq!(ds.len(), 1, "A decided once, about B: {ds:#?}");
    ds[0].clone()
}

#[test]
fn psync2_failover_continues_the_former_siblings_partially_via_replid2() {
    let (mut bus, [m, a, b]) = three_servers(1, SyncProtocol::Psync2);
    let m_replid = info_field(&bus, m, "master_replid");
    let d = fail_over_to_a(&mut bus, [m, a, b]);
    assert!(d.partial, "{d:#?}");
    assert_eq!(d.protocol, SyncProtocol::Psync2);
    assert_eq!(
        d.requested_replid, m_replid,
        "B offers the history it followed"
    );
    assert_eq!(d.my_replid2, m_replid, "A kept it as replid2");
    assert!(
        d.reason.contains("replid2") && d.reason.contains("PSYNC1 would have refused"),
        "{}",
        d.reason
    );
    let stats = bus.server(a).node.stats().clone();
    assert_eq!(
        (
            stats.sync_full,
            stats.sync_partial_ok,
            stats.sync_partial_err
        ),
        (0, 1, 0)
    );
    // B's +CONTINUE carries A's new id (B declared capa psync2).
    let a_replid = info_field(&bus, a, "master_replid");
    assert!(contains(
        &received(&bus, b, a),
        format!("+CONTINUE {a_replid}\r\n").as_bytes()
    ));
    bus.submit_command(a, "SET after failover").unwrap();
    bus.advance(100);
    assert_eq!(value(&bus, b, "after").as_deref(), Some(&b"failover"[..]));
    assert_eq!(info_field(&bus, b, "master_replid"), a_replid);
}

#[test]
fn psync1_failover_needs_a_full_resync_and_says_why() {
    let (mut bus, [m, a, b]) = three_servers(1, SyncProtocol::Psync1);
    let m_run_id = bus.server(m).node.run_id().to_string();
    let a_run_id = bus.server(a).node.run_id().to_string();
    // A PSYNC1 master names its history by its run id, and says so in +FULLRESYNC.
    assert_eq!(info_field(&bus, m, "master_replid"), m_run_id);
    assert!(contains(
        &received(&bus, a, m),
        format!("+FULLRESYNC {m_run_id} ").as_bytes()
    ));
    // The replicas say only `capa eof`.
    let handshake = received(&bus, m, a);
    assert!(contains(&handshake, b"capa\r\n$3\r\neof\r\n") && !contains(&handshake, b"psync2"));

    let d = fail_over_to_a(&mut bus, [m, a, b]);
    assert!(!d.partial, "{d:#?}");
    assert_eq!(d.protocol, SyncProtocol::Psync1);
    assert_eq!(
        d.requested_replid, m_run_id,
        "B asks for its former master's run id"
    );
    assert_eq!(d.my_replid, a_run_id);
    assert!(
        d.reason.starts_with("PSYNC1: the replica asked for run ID"),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains(&m_run_id) && d.reason.contains(&a_run_id),
        "{}",
        d.reason
    );
    assert!(
        d.reason
            .contains("PSYNC2 would have continued this replica"),
        "{}",
        d.reason
    );
    let stats = bus.server(a).node.stats().clone();
    assert_eq!(
        (
            stats.sync_full,
            stats.sync_partial_ok,
            stats.sync_partial_err
        ),
        (1, 0, 1)
    );
    // No second id after the promotion; the history is A's run id.
    assert_eq!(info_field(&bus, a, "master_replid2"), "0".repeat(40));
    assert_eq!(info_field(&bus, a, "second_repl_offset"), "-1");
    assert_eq!(info_field(&bus, a, "master_replid"), a_run_id);
    assert_eq!(info_field(&bus, b, "master_replid"), a_run_id);
    // The full resync still carries everything.
    assert_eq!(value(&bus, b, "before").as_deref(), Some(&b"failover"[..]));
    bus.submit_command(a, "SET after failover").unwrap();
    bus.advance(100);
    assert_eq!(value(&bus, b, "after").as_deref(), Some(&b"failover"[..]));
    assert_eq!(
        info_field(&bus, b, "slave_repl_offset"),
        info_field(&bus, a, "master_repl_offset")
    );

    // The old master, told to follow A, has no cached master to offer under PSYNC1.
    bus.heal(m, a);
    bus.submit_command(m, "REPLICAOF 127.0.0.1 6381").unwrap();
    bus.advance(8_000);
    let ds = decisions(&bus, a);
    let d = ds.last().unwrap();
    assert!(!d.partial && d.requested_replid == "?", "{d:#?}");
    assert!(
        d.reason
            .contains("only PSYNC2 lets a former master offer its own history"),
        "{}",
        d.reason
    );
    assert_eq!(value(&bus, m, "after").as_deref(), Some(&b"failover"[..]));
}

#[test]
fn psync1_continues_partially_with_the_same_master_and_a_bare_continue() {
    let (mut bus, [m, a, _]) = three_servers(3, SyncProtocol::Psync1);
    bus.cut(m, a);
    bus.submit_command(m, "SET during cut").unwrap();
    bus.advance(2_000);
    bus.heal(m, a);
    bus.advance(3_000);
    assert_eq!(info_field(&bus, a, "master_link_status"), "up");
    let d = decisions(&bus, m).into_iter().last().unwrap();
    assert!(d.partial && d.reason.starts_with("PSYNC1:"), "{d:#?}");
    assert_eq!(d.requested_replid, bus.server(m).node.run_id());
    assert!(
        contains(&received(&bus, a, m), b"+CONTINUE\r\n"),
        "no id after +CONTINUE under PSYNC1"
    );
    assert_eq!(value(&bus, a, "during").as_deref(), Some(&b"cut"[..]));
    assert_eq!(
        info_field(&bus, a, "slave_repl_offset"),
        info_field(&bus, m, "master_repl_offset")
    );
}

#[test]
fn a_psync2_master_explains_a_full_resync_for_lack_of_backlog() {
    let (mut bus, [m, a, _]) = three_servers(4, SyncProtocol::Psync2);
    bus.submit_command(m, "CONFIG SET repl-backlog-size 16kb")
        .unwrap();
    bus.cut(m, a);
    // Redis 7.0 trims its backlog by whole blocks and never below repl-backlog-size, so
    // one 20 kB write would still leave the replica's offset inside it: write 60 kB.
    let big = "x".repeat(20_000);
    for i in 0..3 {
        bus.submit_command(m, &format!("SET big{i} {big}")).unwrap();
    }
    bus.heal(m, a);
    bus.advance(8_000);
    let d = decisions(&bus, m).into_iter().last().unwrap();
    assert!(!d.partial, "{d:#?}");
    assert!(
        d.reason
            .starts_with("PSYNC2: the replica continues my history, but asked for offset"),
        "{}",
        d.reason
    );
    assert!(
        d.reason.contains("my backlog holds offsets"),
        "{}",
        d.reason
    );
}

#[test]
fn a_sync_only_replica_full_syncs_after_every_cut_and_never_acks() {
    let mut bus = Bus::new(5);
    let m = bus.add_server("master", config(6380, SyncProtocol::Psync2));
    let r = bus.add_server("old-replica", config(6381, SyncProtocol::Psync2));
    // Switched from the console, as a playground user would.
    bus.submit_command(r, "CONFIG GET replscope-sync-protocol")
        .unwrap();
    assert_eq!(
        last_reply(&bus, r),
        Reply::Array(Some(vec![
            Reply::Bulk(Some(b"replscope-sync-protocol".to_vec())),
            Reply::Bulk(Some(b"psync2".to_vec()))
        ]))
    );
    bus.submit_command(r, "CONFIG SET replscope-sync-protocol sync")
        .unwrap();
    assert_eq!(last_reply(&bus, r), Reply::Simple("OK".into()));
    bus.submit_command(m, "SET k1 v1").unwrap();
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    // No `capa eof`, so no diskless delay: the disk payload starts at once.
    bus.advance(1_000);
    assert_eq!(info_field(&bus, r, "master_link_status"), "up");
    assert_eq!(value(&bus, r, "k1").as_deref(), Some(&b"v1"[..]));

    // The handshake of Redis 2.6: PING, REPLCONF listening-port, SYNC. Nothing else.
    let sent = received(&bus, m, r);
    assert!(
        sent.starts_with(b"*1\r\n$4\r\nPING\r\n"),
        "{}",
        String::from_utf8_lossy(&sent)
    );
    assert!(contains(&sent, b"listening-port\r\n$4\r\n6381\r\n"));
    assert!(contains(&sent, b"*1\r\n$4\r\nSYNC\r\n"));
    assert!(
        !contains(&sent, b"capa") && !contains(&sent, b"PSYNC"),
        "{}",
        String::from_utf8_lossy(&sent)
    );
    // The master answers with the payload alone: no +FULLRESYNC, a `$<len>` (disk) RDB.
    let got = received(&bus, r, m);
    assert!(!contains(&got, b"FULLRESYNC"));
    // (Replies to PING and REPLCONF first; keepalive newlines may come before the payload.)
    let after_replies = got
        .strip_prefix(b"+PONG\r\n+OK\r\n".as_slice())
        .expect("PONG, OK, then the payload");
    let payload = &after_replies[after_replies.iter().take_while(|&&c| c == b'\n').count()..];
    assert!(
        payload.starts_with(b"$") && !payload.starts_with(b"$EOF:"),
        "{}",
        String::from_utf8_lossy(&payload[..20])
    );
    let d = &decisions(&bus, m)[0];
    assert_eq!((d.command.as_str(), d.partial), ("SYNC", false));
    assert!(
        d.reason
            .starts_with("SYNC, the protocol of Redis before 2.8"),
        "{}",
        d.reason
    );

    // Every cut, however short, costs a full resync.
    for round in 2..=3u64 {
        bus.cut(m, r);
        bus.submit_command(m, &format!("SET during{round} cut"))
            .unwrap();
        bus.advance(500);
        bus.heal(m, r);
        bus.advance(3_000);
        assert_eq!(info_field(&bus, r, "master_link_status"), "up");
        assert_eq!(
            value(&bus, r, &format!("during{round}")).as_deref(),
            Some(&b"cut"[..])
        );
        let stats = bus.server(m).node.stats().clone();
        assert_eq!(
            (
                stats.sync_full,
                stats.sync_partial_ok,
                stats.sync_partial_err
            ),
            (round, 0, 0)
        );
        assert!(decisions(&bus, m)
            .iter()
            .all(|d| d.command == "SYNC" && !d.partial));
    }

    // A minute and more without a single ACK: the master does not time it out (it
    // expects none), and its INFO shows the lag growing since the sync.
    let acks_before = received(&bus, m, r).len();
    bus.advance(75_000);
    assert_eq!(info_field(&bus, r, "master_link_status"), "up");
    assert_eq!(info_field(&bus, m, "connected_slaves"), "1");
    assert!(
        !contains(&received(&bus, m, r), b"ACK"),
        "a SYNC replica sends no REPLCONF ACK"
    );
    assert_eq!(
        received(&bus, m, r).len(),
        acks_before,
        "nothing at all after the handshake"
    );
    let slave0 = info_field(&bus, m, "slave0");
    let lag: u64 = slave0.rsplit("lag=").next().unwrap().parse().unwrap();
    assert!(
        slave0.contains("state=online,offset=0,") && lag >= 70,
        "{slave0}"
    );
    // The stream still flows.
    bus.submit_command(m, "SET late write").unwrap();
    bus.advance(100);
    assert_eq!(value(&bus, r, "late").as_deref(), Some(&b"write"[..]));
}

#[test]
fn a_sync_mode_master_refuses_psync_like_redis_2_6_and_a_new_replica_falls_back() {
    let mut bus = Bus::new(6);
    let m = bus.add_server("old-master", config(6380, SyncProtocol::Sync));
    let r = bus.add_server("replica", config(6381, SyncProtocol::Psync2));
    bus.submit_command(m, "SET k v").unwrap();
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(8_000);
    assert_eq!(info_field(&bus, r, "master_link_status"), "up");
    assert_eq!(value(&bus, r, "k").as_deref(), Some(&b"v"[..]));
    assert!(contains(
        &received(&bus, r, m),
        b"-ERR unknown command 'PSYNC'\r\n"
    ));
    assert!(contains(&received(&bus, m, r), b"SYNC\r\n"));
    let d = &decisions(&bus, m)[0];
    assert_eq!((d.command.as_str(), d.partial), ("SYNC", false));
    // The 2.6 master understood no capability: a `$<len>` payload, not `$EOF:`.
    assert!(!contains(&received(&bus, r, m), b"$EOF:"));
}

#[test]
fn the_option_is_redis_clean() {
    let mut bus = Bus::new(7);
    let s = bus.add_server("s", config(6380, SyncProtocol::Psync2));
    bus.submit_command(s, "CONFIG SET replscope-sync-protocol psync3")
        .unwrap();
    assert_eq!(
        last_reply(&bus, s),
        Reply::Error(
            "ERR CONFIG SET failed (possibly related to argument 'replscope-sync-protocol') - argument(s) must be one of the following: psync2, psync1, sync".into()
        )
    );
    bus.submit_command(s, "CONFIG SET replscope-sync-protocol PSYNC1")
        .unwrap();
    assert_eq!(
        bus.server(s).node.config().sync_protocol,
        SyncProtocol::Psync1
    );
    // Patterns answer what Redis 7.0 answers.
    for pattern in ["*", "repl*", "*sync*"] {
        bus.submit_command(s, &format!("CONFIG GET {pattern}"))
            .unwrap();
        let Reply::Array(Some(items)) = last_reply(&bus, s) else {
            panic!("an array")
        };
        assert!(
            !items
                .iter()
                .any(|i| matches!(i, Reply::Bulk(Some(n)) if n.starts_with(b"replscope"))),
            "{pattern}"
        );
    }
}

#[test]
fn teaching_runs_are_deterministic() {
    let run = |seed| {
        let (mut bus, ids) = three_servers(seed, SyncProtocol::Psync1);
        fail_over_to_a(&mut bus, ids);
        bus.log_hash()
    };
    assert_eq!(run(11), run(11));
}

// ------------------------------------------------------------- real redis-server 7.0

mod real {
    use super::common::{redis_installed, wait_until, Client, ServerProcess};
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    /// A TCP relay between a replica and its master that records every byte each way, so
    /// a test can show what the real server actually said. Each connection the replica
    /// opens is relayed to the master; when either side closes, so does the other.
    struct Recorder {
        port: u16,
        to_master: Arc<Mutex<Vec<u8>>>,
        to_replica: Arc<Mutex<Vec<u8>>>,
    }

    impl Recorder {
        fn start(master_port: u16) -> Recorder {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind the recorder");
            let port = listener.local_addr().expect("addr").port();
            let to_master = Arc::new(Mutex::new(Vec::new()));
            let to_replica = Arc::new(Mutex::new(Vec::new()));
            let (up, down) = (to_master.clone(), to_replica.clone());
            // The relay threads end with their connections; the accept loop with the test
            // process.
            std::thread::spawn(move || {
                for replica in listener.incoming().flatten() {
                    let Ok(master) = TcpStream::connect(("127.0.0.1", master_port)) else {
                        continue;
                    };
                    for (from, to, log) in [
                        (replica.try_clone(), master.try_clone(), up.clone()),
                        (master.try_clone(), replica.try_clone(), down.clone()),
                    ] {
                        let (Ok(mut from), Ok(mut to)) = (from, to) else {
                            continue;
                        };
                        std::thread::spawn(move || {
                            let mut buf = [0u8; 65536];
                            while let Ok(n) = from.read(&mut buf) {
                                if n == 0 || to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                                log.lock()
                                    .expect("recorder log")
                                    .extend_from_slice(&buf[..n]);
                            }
                            let _ = to.shutdown(Shutdown::Both);
                            let _ = from.shutdown(Shutdown::Both);
                        });
                    }
                }
            });
            Recorder {
                port,
                to_master,
                to_replica,
            }
        }

        fn sent_to_master(&self) -> Vec<u8> {
            self.to_master.lock().expect("recorder log").clone()
        }

        fn sent_to_replica(&self) -> Vec<u8> {
            self.to_replica.lock().expect("recorder log").clone()
        }
    }

    /// The text lines of a recorded stream (a payload's binary bytes shown escaped),
    /// for the test's output.
    fn show(bytes: &[u8]) -> String {
        let shown: Vec<u8> = bytes.iter().take(400).copied().collect();
        format!("{:?}", String::from_utf8_lossy(&shown))
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        super::contains(haystack, needle)
    }

    fn field(s: &ServerProcess, section: &str, name: &str) -> String {
        s.info_field(section, name)
            .unwrap_or_else(|| panic!("{} has no INFO field {name}", s.kind.name()))
    }

    /// Waits until the replica's link is up and it has every key the master has.
    fn wait_same_keys(master: &ServerProcess, replica: &ServerProcess, keys: &[&str]) {
        wait_until(
            "the replica's link is up and it has the master's keys",
            || {
                if replica.info_field("replication", "master_link_status")? != "up" {
                    return None;
                }
                let (mut m, mut r) = (master.client(), replica.client());
                if m.cmd(&["DBSIZE"]) != r.cmd(&["DBSIZE"]) {
                    return None;
                }
                keys.iter()
                    .all(|k| m.cmd(&["GET", k]) == r.cmd(&["GET", k]))
                    .then_some(())
            },
        );
    }

    fn log_lines<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
        log.lines().filter(|l| l.contains(needle)).collect()
    }

    /// replscope speaking SYNC to a real Redis 7.0: the real master flags it a pre-PSYNC
    /// replica (a disk payload, no +FULLRESYNC), and after a link loss it syncs in full again.
    #[test]
    fn replscope_sync_mode_replicates_from_real_redis() {
        if !redis_installed() {
            return;
        }
        let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
        let replica = ServerProcess::replscope(&["--replscope-sync-protocol", "sync"]);
        let relay = Recorder::start(master.port);
        let (mut m, mut r) = (master.client(), replica.client());
        assert_eq!(m.cmd(&["SET", "a", "1"]), b"+OK\r\n");
        assert_eq!(m.cmd(&["RPUSH", "l", "x", "y"]), b":2\r\n");
        assert_eq!(
            r.cmd(&["REPLICAOF", "127.0.0.1", &relay.port.to_string()]),
            b"+OK\r\n"
        );
        wait_same_keys(&master, &replica, &["a"]);
        assert_eq!(m.cmd(&["SET", "b", "2"]), b"+OK\r\n");
        wait_same_keys(&master, &replica, &["a", "b"]);
        assert_eq!(
            r.cmd(&["LRANGE", "l", "0", "-1"]),
            b"*2\r\n$1\r\nx\r\n$1\r\ny\r\n"
        );
        assert_eq!(field(&master, "stats", "sync_full"), "1");
        assert_eq!(field(&master, "stats", "sync_partial_err"), "0");
        let log = master.log();
        eprintln!(
            "real master on SYNC:\n{}",
            log_lines(&log, "eplica").join("\n")
        );
        assert!(
            !log_lines(&log, "asks for synchronization").is_empty(),
            "{log}"
        );
        assert!(
            !log_lines(&log, "Starting BGSAVE for SYNC with target: disk").is_empty(),
            "{log}"
        );
        // The replica's own view: the real master's first byte after SYNC is the payload.
        let rlog = replica.log();
        eprintln!(
            "replscope replica:\n{}",
            log_lines(&rlog, "MASTER").join("\n")
        );
        assert!(
            !log_lines(&rlog, "receiving")
                .iter()
                .any(|l| l.contains("EOF")),
            "{rlog}"
        );
        assert!(
            log_lines(&rlog, "Full resync from master").is_empty(),
            "no +FULLRESYNC for SYNC: {rlog}"
        );

        // On the wire: our 2.6-style handshake, and the real master's answers: +PONG, +OK,
        // then the `$<len>` payload with no +FULLRESYNC line before it.
        let (asked, answered) = (relay.sent_to_master(), relay.sent_to_replica());
        eprintln!(
            "replscope sent: {}\nreal Redis replied: {}",
            show(&asked),
            show(&answered)
        );
        assert!(asked
            .starts_with(b"*1\r\n$4\r\nPING\r\n*3\r\n$8\r\nREPLCONF\r\n$14\r\nlistening-port\r\n"));
        assert!(
            contains(&asked, b"*1\r\n$4\r\nSYNC\r\n")
                && !contains(&asked, b"capa")
                && !contains(&asked, b"PSYNC")
        );
        let payload = answered
            .strip_prefix(b"+PONG\r\n+OK\r\n".as_slice())
            .expect("PONG and OK first");
        let payload = &payload[payload.iter().take_while(|&&c| c == b'\n').count()..];
        assert!(
            payload.starts_with(b"$") && !payload.starts_with(b"$EOF:"),
            "{}",
            show(payload)
        );
        assert!(!contains(&answered, b"FULLRESYNC"));

        // A dropped link: SYNC again, a second full sync.
        assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), b":1\r\n");
        assert_eq!(m.cmd(&["SET", "c", "3"]), b"+OK\r\n");
        wait_until("the real master counts a second full sync", || {
            (field(&master, "stats", "sync_full") == "2").then_some(())
        });
        wait_same_keys(&master, &replica, &["a", "b", "c"]);
        assert_eq!(field(&master, "stats", "sync_partial_ok"), "0");
        // The real master sees a replica that sends no ACKs: offset 0 in its INFO.
        let slave0 = field(&master, "replication", "slave0");
        eprintln!("real master INFO slave0: {slave0}");
        assert!(slave0.contains("state=online,offset=0,"), "{slave0}");
    }

    /// Kills the replica's link to its master, writes `b`, and checks the replica came
    /// back to the same keys and offset with one partial resync after the first full one.
    fn continue_after_killing_the_master_link(
        master: &ServerProcess,
        replica: &ServerProcess,
        m: &mut Client,
        r: &mut Client,
    ) {
        assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), b":1\r\n");
        assert_eq!(m.cmd(&["SET", "b", "2"]), b"+OK\r\n");
        wait_same_keys(master, replica, &["a", "b"]);
        wait_until("the offsets agree", || {
            (field(master, "replication", "master_repl_offset")
                == field(replica, "replication", "slave_repl_offset"))
            .then_some(())
        });
        assert_eq!(field(master, "stats", "sync_full"), "1");
        assert_eq!(field(master, "stats", "sync_partial_ok"), "1");
    }

    /// replscope speaking PSYNC1 to a real Redis 7.0: `capa eof` only, so after a link
    /// loss the real master continues it with a bare `+CONTINUE` (no id).
    #[test]
    fn replscope_psync1_mode_replicates_from_real_redis() {
        if !redis_installed() {
            return;
        }
        let master = ServerProcess::redis(&["--repl-diskless-sync-delay", "0"]);
        let replica = ServerProcess::replscope(&["--replscope-sync-protocol", "psync1"]);
        let relay = Recorder::start(master.port);
        let (mut m, mut r) = (master.client(), replica.client());
        assert_eq!(m.cmd(&["SET", "a", "1"]), b"+OK\r\n");
        assert_eq!(
            r.cmd(&["REPLICAOF", "127.0.0.1", &relay.port.to_string()]),
            b"+OK\r\n"
        );
        wait_same_keys(&master, &replica, &["a"]);
        assert_eq!(
            field(&replica, "replication", "master_replid"),
            field(&master, "replication", "master_replid")
        );
        continue_after_killing_the_master_link(&master, &replica, &mut m, &mut r);
        let log = master.log();
        eprintln!(
            "real master on PSYNC1:\n{}",
            log_lines(&log, "esync").join("\n")
        );
        assert!(
            !log_lines(&log, "Partial resynchronization request from").is_empty(),
            "{log}"
        );
        // What the real master answered, as replscope logged it: no new id after +CONTINUE.
        let rlog = replica.log();
        eprintln!(
            "replscope replica:\n{}",
            log_lines(&rlog, "esync").join("\n")
        );
        assert!(
            !log_lines(&rlog, "Successful partial resynchronization with master.").is_empty(),
            "{rlog}"
        );
        assert!(
            log_lines(&rlog, "Master replication ID changed").is_empty(),
            "{rlog}"
        );
        // On the wire: `capa eof` only, PSYNC with the id the master gave, and the real
        // master's bare +CONTINUE (it sends its id only to a replica with capa psync2).
        let (asked, answered) = (relay.sent_to_master(), relay.sent_to_replica());
        eprintln!(
            "replscope sent: {}\nreal Redis replied: {}",
            show(&asked),
            show(&answered)
        );
        assert!(contains(&asked, b"$4\r\ncapa\r\n$3\r\neof\r\n") && !contains(&asked, b"psync2"));
        let replid = field(&master, "replication", "master_replid");
        assert!(contains(
            &asked,
            format!("$5\r\nPSYNC\r\n$40\r\n{replid}\r\n").as_bytes()
        ));
        assert!(contains(&answered, b"+CONTINUE\r\n"), "{}", show(&answered));
        assert!(!contains(&answered, b"+CONTINUE "), "no id after +CONTINUE");

        // The real master's view: online, ACKing (PSYNC1 replicas ACK).
        wait_until("the real master sees every byte acknowledged", || {
            let slave0 = master.info_field("replication", "slave0")?;
            let off = master.info_field("replication", "master_repl_offset")?;
            slave0
                .contains(&format!("state=online,offset={off},"))
                .then_some(())
        });
    }

    /// A real Redis 7.0 replica of a replscope master in PSYNC1 mode: it gets the master's
    /// run id in +FULLRESYNC, and after a link loss a bare +CONTINUE.
    #[test]
    fn real_replica_syncs_from_a_psync1_replscope_master() {
        if !redis_installed() {
            return;
        }
        let master = ServerProcess::replscope(&[
            "--replscope-sync-protocol",
            "psync1",
            "--repl-diskless-sync-delay",
            "0",
        ]);
        let mut m = master.client();
        assert_eq!(m.cmd(&["SET", "a", "1"]), b"+OK\r\n");
        let relay = Recorder::start(master.port);
        let replica = ServerProcess::redis(&["--replicaof", "127.0.0.1", &relay.port.to_string()]);
        wait_same_keys(&master, &replica, &["a"]);
        let run_id = field(&master, "server", "run_id");
        assert_eq!(
            field(&replica, "replication", "master_replid"),
            run_id,
            "the history is named by the run id"
        );
        let mut r = replica.client();
        continue_after_killing_the_master_link(&master, &replica, &mut m, &mut r);
        let rlog = replica.log();
        eprintln!(
            "real replica of a PSYNC1 master:\n{}",
            log_lines(&rlog, "esync").join("\n")
        );
        assert!(
            !log_lines(&rlog, &format!("Full resync from master: {run_id}:")).is_empty(),
            "{rlog}"
        );
        assert!(
            !log_lines(&rlog, "Successful partial resynchronization with master.").is_empty(),
            "{rlog}"
        );
        assert!(
            log_lines(&rlog, "Master replication ID changed").is_empty(),
            "a bare +CONTINUE: {rlog}"
        );
        assert_eq!(field(&replica, "replication", "master_replid"), run_id);
        // On the wire: the real replica declares psync2, and gets a bare +CONTINUE anyway.
        let (asked, answered) = (relay.sent_to_master(), relay.sent_to_replica());
        eprintln!(
            "real Redis sent: {}\nreplscope replied: {}",
            show(&asked),
            show(&answered)
        );
        assert!(contains(&asked, b"psync2"));
        assert!(contains(
            &asked,
            format!("$5\r\nPSYNC\r\n$40\r\n{run_id}\r\n").as_bytes()
        ));
        assert!(contains(
            &answered,
            format!("+FULLRESYNC {run_id} ").as_bytes()
        ));
        assert!(
            contains(&answered, b"+CONTINUE\r\n") && !contains(&answered, b"+CONTINUE "),
            "{}",
            show(&answered)
        );
    }
}
