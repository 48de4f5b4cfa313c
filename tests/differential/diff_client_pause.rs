//! CLIENT PAUSE and CLIENT UNPAUSE against a real redis-server 7.0: their errors, a
//! WRITE pause that holds back writes (and what is pipelined behind them) but not reads,
//! an ALL pause that holds back everything until its timeout, and the held clients
//! counted as blocked.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, Instant};

use crate::common;

use common::{redis_installed, show, ServerProcess};

#[test]
fn client_pause_errors_like_redis() {
    if !redis_installed() {
        return;
    }
    let cases: &[&[&str]] = &[
        &["CLIENT", "PAUSE", "x"],
        &["CLIENT", "PAUSE", "-1"],
        &["CLIENT", "PAUSE", "1.5"],
        &["CLIENT", "PAUSE", "100", "reads"],
        &["CLIENT", "PAUSE", "x", "reads"],
        &["CLIENT", "PAUSE", "100", "write", "extra"],
        &["CLIENT", "PAUSE"],
        &["CLIENT", "UNPAUSE", "x"],
        &["CLIENT", "PAUSE", "0"],
        &["CLIENT", "PAUSE", "0", "WRITE"],
        &["CLIENT", "UNPAUSE"],
        &["SET", "k", "v"],
    ];
    let mut answers = Vec::new();
    for s in [ServerProcess::redis(&[]), ServerProcess::replscope(&[])] {
        let mut c = s.client();
        answers.push(
            cases
                .iter()
                .map(|args| format!("{args:?} -> {}", show(&c.cmd(args))))
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(answers[0], answers[1]);
}

/// A WRITE pause: reads go on, a write and the read pipelined behind it wait (counted
/// in `blocked_clients`, flagged `b`) until CLIENT UNPAUSE; then both answer in order.
#[test]
fn a_write_pause_holds_writes_until_unpause_like_redis() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for s in [ServerProcess::redis(&[]), ServerProcess::replscope(&[])] {
        let (mut admin, mut writer, mut reader) = (s.client(), s.client(), s.client());
        let mut log = vec![show(&admin.cmd(&["CLIENT", "PAUSE", "10000", "WRITE"]))];
        writer.send(b"SET k v\r\nGET k\r\n");
        std::thread::sleep(Duration::from_millis(100));
        log.push(show(&reader.cmd(&["GET", "k"])));
        log.push(admin.info_field("clients", "blocked_clients").unwrap());
        let list = String::from_utf8_lossy(&admin.cmd(&["CLIENT", "LIST"])).into_owned();
        let flags: Vec<&str> = list
            .lines()
            .filter_map(|l| l.split(' ').find(|f| f.starts_with("flags=")))
            .collect();
        log.push(flags.join(","));
        log.push(show(&admin.cmd(&["CLIENT", "UNPAUSE"])));
        log.push(show(&writer.read_replies(2)));
        log.push(admin.info_field("clients", "blocked_clients").unwrap());
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1][1], "$-1\\r\\n");
    assert_eq!(seen[1][2], "1");
    assert_eq!(seen[1][5], "+OK\\r\\n$1\\r\\nv\\r\\n");
}

/// An ALL pause holds even a PING until its timeout; a WRITE pause given meanwhile
/// does not make it any less.
#[test]
fn an_all_pause_ends_at_its_timeout_like_redis() {
    if !redis_installed() {
        return;
    }
    for s in [ServerProcess::redis(&[]), ServerProcess::replscope(&[])] {
        let (mut admin, mut other) = (s.client(), s.client());
        let start = Instant::now();
        admin.send(b"CLIENT PAUSE 400 ALL\r\n");
        assert_eq!(show(&admin.read_replies(1)), "+OK\\r\\n");
        // The pauser's own next command is held too.
        admin.send(b"CLIENT PAUSE 10 WRITE\r\n");
        other.send(b"PING\r\n");
        assert_eq!(show(&other.read_replies(1)), "+PONG\\r\\n");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(380),
            "{}: PING answered after {waited:?}",
            s.kind.name()
        );
        assert_eq!(show(&admin.read_replies(1)), "+OK\\r\\n");
        // The WRITE pause of 10 ms asked while held is over by now.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(show(&other.cmd(&["SET", "a", "1"])), "+OK\\r\\n");
    }
}

/// During a pause an expired key is hidden but kept (neither a read nor the active
/// expiry deletes it); after the pause a read deletes it.
#[test]
fn expired_keys_stay_during_a_pause_like_redis() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for s in [ServerProcess::redis(&[]), ServerProcess::replscope(&[])] {
        let mut c = s.client();
        let mut log = vec![show(&c.cmd(&["SET", "k", "v", "PX", "50"]))];
        log.push(show(&c.cmd(&["CLIENT", "PAUSE", "10000", "WRITE"])));
        // Long enough for several active expiry cycles.
        std::thread::sleep(Duration::from_millis(400));
        log.push(show(&c.cmd(&["GET", "k"])));
        log.push(show(&c.cmd(&["DBSIZE"])));
        log.push(c.info_field("stats", "expired_keys").unwrap());
        log.push(show(&c.cmd(&["CLIENT", "UNPAUSE"])));
        log.push(show(&c.cmd(&["GET", "k"])));
        log.push(show(&c.cmd(&["DBSIZE"])));
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[1][3], ":1\\r\\n");
    assert_eq!(seen[1][7], ":0\\r\\n");
}
