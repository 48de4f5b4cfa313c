//! FAILOVER against a real redis-server 7.0: its argument errors, a failover to a named
//! replica (roles swapped on both, `master_failover_state`, the log lines in order), a
//! TIMEOUT that runs out, and ABORT, each run on a real master and replica and then on
//! two replscope-servers.
#![cfg(not(target_arch = "wasm32"))]

use std::time::Duration;

use crate::common;

use common::{redis_installed, show, wait_until, Kind, ServerProcess};

/// A master whose stream carries only what the test writes (no PING every 10 s), and
/// its replica, online with every byte acknowledged.
fn duo(kind: Kind) -> (ServerProcess, ServerProcess) {
    let master = ServerProcess::start(
        kind,
        &[
            "--repl-diskless-sync-delay",
            "0",
            "--repl-ping-replica-period",
            "100000",
        ],
    );
    let port = master.port.to_string();
    let replica = ServerProcess::start(kind, &["--replicaof", "127.0.0.1", &port]);
    wait_synced(&master);
    (master, replica)
}

fn wait_synced(master: &ServerProcess) {
    wait_until("the replica is online with every byte acknowledged", || {
        let mut c = master.client();
        let offset = c.info_field("replication", "master_repl_offset")?;
        let replica = c.info_field("replication", "slave0")?;
        (replica.contains("state=online") && replica.contains(&format!(",offset={offset},")))
            .then_some(())
    });
}

fn failover_state(s: &ServerProcess) -> String {
    s.client()
        .info_field("replication", "master_failover_state")
        .unwrap()
}

/// The log lines about a failover, without their time stamps, ports and ids named.
fn failover_lines(s: &ServerProcess, ports: &[(u16, &str)]) -> Vec<String> {
    s.log()
        .lines()
        .filter(|l| l.contains("FAILOVER") || l.contains("ailover") || l.contains("MASTER MODE"))
        .map(|l| {
            // Redis: "pid:X dd Mon yyyy hh:mm:ss.mmm * text": the text follows the level.
            let text = l.find(['*', '#']).map_or(l, |i| l[i + 1..].trim_start());
            let mut t = text.to_string();
            for (port, name) in ports {
                t = t.replace(&port.to_string(), name);
            }
            // Ids and client descriptions differ run to run.
            if let Some(i) = t.find("replid ") {
                t.truncate(i + 6);
            }
            if let Some(i) = t.find("from '") {
                t.truncate(i + 5);
            }
            t
        })
        .collect()
}

fn signal(sig: &str, pid: u32) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid} failed");
}

#[test]
fn failover_errors_like_redis() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for kind in [Kind::Redis, Kind::Replscope] {
        let (master, replica) = duo(kind);
        let lone = ServerProcess::start(kind, &[]);
        let mut log = Vec::new();
        let mut c = lone.client();
        for args in [
            &["FAILOVER"][..],
            &["FAILOVER", "ABORT"],
            &["FAILOVER", "ABORT", "x"],
            &["FAILOVER", "TIMEOUT", "x"],
            &["FAILOVER", "TIMEOUT", "0"],
            &["FAILOVER", "TIMEOUT", "-5"],
            &["FAILOVER", "TIMEOUT"],
            &["FAILOVER", "TIMEOUT", "10", "TIMEOUT", "10"],
            &["FAILOVER", "TO", "h"],
            &["FAILOVER", "TO", "h", "x"],
            &["FAILOVER", "TO", "h", "1", "TO", "h", "2"],
            &["FAILOVER", "FORCE", "FORCE"],
            &["FAILOVER", "bogus"],
            &["FAILOVER", "TIMEOUT", "10", "FORCE"],
            &[
                "PSYNC",
                "0123456789012345678901234567890123456789",
                "1",
                "FAILOVER",
            ],
        ] {
            log.push(format!("lone {args:?} -> {}", show(&c.cmd(args))));
        }
        let mut c = master.client();
        let rport = replica.port.to_string();
        for args in [
            &["FAILOVER", "FORCE"][..],
            &["FAILOVER", "TIMEOUT", "100", "FORCE"],
            &["FAILOVER", "TO", "127.0.0.1", "1"],
            &["FAILOVER", "TO", "127.0.0.2", &rport],
            &["FAILOVER", "ABORT"],
        ] {
            let reply = show(&c.cmd(args));
            log.push(format!("master {args:?} -> {reply}").replace(&rport, "<r>"));
        }
        let mut c = replica.client();
        for args in [
            &["FAILOVER"][..],
            &[
                "PSYNC",
                "0123456789012345678901234567890123456789",
                "1",
                "FAILOVER",
            ],
        ] {
            log.push(format!("replica {args:?} -> {}", show(&c.cmd(args))));
        }
        log.push(failover_state(&master));
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn failover_to_a_replica_swaps_roles_like_redis() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for kind in [Kind::Redis, Kind::Replscope] {
        let (master, replica) = duo(kind);
        let mut m = master.client();
        m.cmd(&["SET", "k", "1"]);
        wait_synced(&master);
        let rport = replica.port.to_string();
        // A client blocked in WAIT is let go when the master turns replica.
        let mut waiter = master.client();
        waiter.send(b"WAIT 5 0\r\n");
        std::thread::sleep(Duration::from_millis(100));
        let mut log = vec![show(&m.cmd(&["FAILOVER", "TO", "127.0.0.1", &rport]))];
        let (bytes, closed) = waiter.read_until_closed();
        log.push(format!("{} closed={closed}", show(&bytes)));
        wait_until("the old master follows its replica", || {
            (failover_state(&master) == "no-failover"
                && master.client().info_field("replication", "role")? == "slave"
                && master
                    .client()
                    .info_field("replication", "master_link_status")?
                    == "up")
                .then_some(())
        });
        log.push(
            show(&replica.client().cmd(&["ROLE"]))
                .split("\\r\\n")
                .take(3)
                .collect::<Vec<_>>()
                .join("|"),
        );
        log.push(replica.client().info_field("replication", "role").unwrap());
        log.push(failover_state(&replica));
        // Writes go to the new master, and reach the old one.
        log.push(show(&replica.client().cmd(&["SET", "k", "2"])));
        wait_until("the old master has the new write", || {
            (show(&master.client().cmd(&["GET", "k"])) == "$1\\r\\n2\\r\\n").then_some(())
        });
        let ports = [(master.port, "<m>"), (replica.port, "<r>")];
        log.extend(failover_lines(&master, &ports));
        log.push("--".into());
        log.extend(failover_lines(&replica, &ports));
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
}

/// The replica is stopped (SIGSTOP) and a write leaves it behind: FAILOVER waits for it,
/// with writes paused, until the TIMEOUT gives up.
#[test]
fn failover_timeout_and_abort_like_redis() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for kind in [Kind::Redis, Kind::Replscope] {
        let (master, replica) = duo(kind);
        let mut m = master.client();
        signal("-STOP", replica.pid());
        m.cmd(&["SET", "k", "1"]);
        let mut log = vec![show(&m.cmd(&["FAILOVER", "TIMEOUT", "500"]))];
        log.push(failover_state(&master));
        let mut writer = master.client();
        writer.send(b"SET k 2\r\n");
        std::thread::sleep(Duration::from_millis(100));
        log.push(
            master
                .client()
                .info_field("clients", "blocked_clients")
                .unwrap(),
        );
        log.push(show(&m.cmd(&["FAILOVER"])));
        log.push(show(&m.cmd(&["REPLICAOF", "127.0.0.1", "1"])));
        // Given up after the timeout: the write goes through.
        log.push(show(&writer.read_replies(1)));
        log.push(failover_state(&master));
        // Again, aborted by hand this time.
        log.push(show(&m.cmd(&["FAILOVER"])));
        log.push(failover_state(&master));
        log.push(show(&m.cmd(&["FAILOVER", "ABORT"])));
        log.push(failover_state(&master));
        log.push(show(&m.cmd(&["SET", "k", "3"])));
        signal("-CONT", replica.pid());
        log.extend(failover_lines(&master, &[(replica.port, "<r>")]));
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
}

/// FORCE: the stopped replica never catches up, so at the timeout the master fails over
/// to it anyway, and stays failover-in-progress until the replica answers its PSYNC.
#[test]
fn failover_force_after_timeout_like_redis() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for kind in [Kind::Redis, Kind::Replscope] {
        let (master, replica) = duo(kind);
        let mut m = master.client();
        signal("-STOP", replica.pid());
        m.cmd(&["SET", "k", "1"]);
        let rport = replica.port.to_string();
        let mut log = vec![show(&m.cmd(&[
            "FAILOVER",
            "TO",
            "127.0.0.1",
            &rport,
            "TIMEOUT",
            "300",
            "FORCE",
        ]))];
        wait_until("the master gives up waiting", || {
            (failover_state(&master) == "failover-in-progress").then_some(())
        });
        log.push(master.client().info_field("replication", "role").unwrap());
        signal("-CONT", replica.pid());
        wait_until("the old master follows its replica", || {
            (failover_state(&master) == "no-failover"
                && master
                    .client()
                    .info_field("replication", "master_link_status")?
                    == "up")
                .then_some(())
        });
        log.push(replica.client().info_field("replication", "role").unwrap());
        let ports = [(master.port, "<m>"), (replica.port, "<r>")];
        log.extend(failover_lines(&master, &ports));
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1][1], "slave");
}
