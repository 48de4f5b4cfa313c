//! What Redis's own test suite needs of a server before its first test, against a real
//! redis-server 7.0: the start-up lines and logo (with the `PID:` the suite waits for),
//! `loglevel`, `logfile`, `pidfile`, the directives of the suite's `default.conf` as
//! CONFIG GET/SET see them, DEBUG (its guard, DIGEST, DIGEST-VALUE, POPULATE, SLEEP, its
//! errors) and RANDOMKEY.
#![cfg(not(target_arch = "wasm32"))]

use std::time::{Duration, Instant};

use crate::common;

use common::normalize::Norm;
use common::pair::Pair;
use common::{redis_installed, show, wait_until, ServerProcess};

/// The directives of Redis 7.0.15's tests/assets/default.conf that are not about where
/// the server listens or keeps its files, as command-line options.
const DEFAULT_CONF: &[&str] = &[
    "--always-show-logo",
    "yes",
    "--notify-keyspace-events",
    "KEA",
    "--timeout",
    "0",
    "--loglevel",
    "verbose",
    "--logfile",
    "",
    "--databases",
    "16",
    "--latency-monitor-threshold",
    "1",
    "--repl-diskless-sync-delay",
    "0",
    "--save",
    "900 1",
    "--rdbcompression",
    "yes",
    "--dbfilename",
    "dump.rdb",
    "--slave-serve-stale-data",
    "yes",
    "--appendfsync",
    "everysec",
    "--no-appendfsync-on-rewrite",
    "no",
    "--activerehashing",
    "yes",
    "--enable-protected-configs",
    "yes",
    "--enable-debug-command",
    "yes",
    "--enable-module-command",
    "yes",
    "--propagation-error-behavior",
    "panic",
];

/// A log's lines with the pid, role-free time and port masked: `R L text` (role, level,
/// text), the logo's lines as they are. Machine-specific warnings Redis adds about the
/// kernel (`WARNING ...` from linuxMemoryWarnings and checkTcpBacklogSettings) are not
/// the server's behaviour and are left out.
fn log_shape(log: &str, pid: u32, port: u16) -> Vec<String> {
    let pid = pid.to_string();
    log.lines()
        .map(|l| {
            l.replace(&pid, "<pid>")
                .replace(&port.to_string(), "<port>")
        })
        .filter_map(|l| {
            // `<pid>:R dd Mon yyyy hh:mm:ss.mmm L text`
            let Some(rest) = l.strip_prefix("<pid>:") else {
                return Some(l);
            };
            let role = &rest[..1];
            let after_time = rest.splitn(6, ' ').nth(5)?;
            (!after_time[2..].starts_with("WARNING ")).then(|| format!("{role} {after_time}"))
        })
        .collect()
}

/// The start-up of both servers, up to "Ready to accept connections", line by line.
fn startup(extra: &[&str]) -> (Vec<String>, Vec<String>) {
    let redis = ServerProcess::redis(extra);
    let scope = ServerProcess::replscope(extra);
    let shape = |s: &ServerProcess| {
        let mut lines = log_shape(&s.log(), s.pid(), s.port);
        if let Some(i) = lines
            .iter()
            .position(|l| l.ends_with("Ready to accept connections"))
        {
            lines.truncate(i + 1);
        }
        lines
    };
    (shape(&redis), shape(&scope))
}

#[test]
fn startup_lines_and_logo_are_redis_own() {
    if !redis_installed() {
        return;
    }
    let (want, got) = startup(&["--always-show-logo", "yes", "--loglevel", "verbose"]);
    assert!(
        want.iter().any(|l| l.contains("PID: <pid>")),
        "the logo carries the PID: {want:#?}"
    );
    assert_eq!(got, want);
    // Without a terminal or always-show-logo: one line instead of the logo.
    let (want, got) = startup(&[]);
    assert!(want
        .iter()
        .any(|l| l.ends_with("Running mode=standalone, port=<port>.")));
    assert_eq!(got, want);
    // A replica from the start says so in its role letter. (Up to `Server initialized`:
    // the engine then logs its first connection to the master at once, where Redis
    // waits for its first replication cron, after `Ready to accept connections`.)
    let (mut want, mut got) = startup(&["--replicaof", "127.0.0.1", "9"]);
    for lines in [&mut want, &mut got] {
        if let Some(i) = lines.iter().position(|l| l.ends_with("Server initialized")) {
            lines.truncate(i + 1);
        }
    }
    assert!(want.iter().any(|l| l.starts_with("S ")), "{want:#?}");
    assert_eq!(got, want);
    // At `warning`, only the warnings.
    let (want, got) = startup(&["--loglevel", "warning"]);
    assert!(!want.iter().any(|l| l.contains(" * ")), "{want:#?}");
    assert_eq!(got, want);
}

#[test]
fn verbose_lines_only_at_verbose() {
    if !redis_installed() {
        return;
    }
    for (level, shown) in [("verbose", true), ("notice", false)] {
        for s in [
            ServerProcess::redis(&["--loglevel", level]),
            ServerProcess::replscope(&["--loglevel", level]),
        ] {
            let _client = s.client();
            let accepted = || s.log().contains(" - Accepted 127.0.0.1:");
            if shown {
                wait_until("the verbose Accepted line", || accepted().then_some(()));
            } else {
                std::thread::sleep(Duration::from_millis(200));
                assert!(!accepted(), "{}", s.log());
            }
        }
    }
}

#[test]
fn logfile_and_pidfile_like_redis() {
    if !redis_installed() {
        return;
    }
    for kind in [common::Kind::Redis, common::Kind::Replscope] {
        let files = std::env::temp_dir().join(format!(
            "replscope-boot-{}-{}",
            kind.name(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&files);
        std::fs::create_dir_all(&files).expect("temp dir");
        let log = files.join("server.log");
        let pid = files.join("server.pid");
        std::fs::write(&log, "an earlier line\n").expect("seed the log");
        let mut s = ServerProcess::start(
            kind,
            &[
                "--logfile",
                log.to_str().expect("utf-8"),
                "--pidfile",
                pid.to_str().expect("utf-8"),
            ],
        );
        let text = std::fs::read_to_string(&pid).expect("pid file written at start");
        assert_eq!(text, format!("{}\n", s.pid()), "{}", kind.name());
        assert!(s.log().is_empty(), "nothing on stdout: {}", s.log());
        let logged = std::fs::read_to_string(&log).expect("log file");
        assert!(
            logged.starts_with("an earlier line\n"),
            "appended: {logged}"
        );
        assert!(logged.contains("Ready to accept connections"), "{logged}");
        s.client().send(b"SHUTDOWN NOSAVE\r\n");
        wait_until("exit", || s.try_wait());
        assert!(
            !pid.exists(),
            "{}: the pid file is removed at exit",
            kind.name()
        );
        let logged = std::fs::read_to_string(&log).expect("log file");
        let tail: Vec<&str> = logged
            .lines()
            .rev()
            .take(2)
            .map(|l| {
                l.rsplit_once(" * ")
                    .or(l.rsplit_once(" # "))
                    .map_or(l, |(_, t)| t)
            })
            .collect();
        assert_eq!(
            tail,
            [
                "Redis is now ready to exit, bye bye...",
                "Removing the pid file."
            ],
            "{}: {logged}",
            kind.name()
        );
        let _ = std::fs::remove_dir_all(&files);
    }
    // A log file that cannot be opened stops start-up.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_replscope-server"))
        .args(["--port", "0", "--logfile", "/no/such/dir/x.log"])
        .output()
        .expect("run replscope-server");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Can't open the log file: No such file or directory"),
        "{err}"
    );
}

#[test]
fn default_conf_directives_as_config_sees_them() {
    let Some(mut p) = Pair::new(DEFAULT_CONF, Norm::Exact) else {
        return;
    };
    for name in [
        "always-show-logo",
        "notify-keyspace-events",
        "daemonize",
        "timeout",
        "loglevel",
        "logfile",
        "databases",
        "latency-monitor-threshold",
        "repl-diskless-sync-delay",
        "save",
        "rdbcompression",
        "dbfilename",
        "slave-serve-stale-data",
        "appendonly",
        "appendfsync",
        "no-appendfsync-on-rewrite",
        "activerehashing",
        "enable-protected-configs",
        "enable-debug-command",
        "enable-module-command",
        "propagation-error-behavior",
        "pidfile",
    ] {
        p.cmd(&["CONFIG", "GET", name]);
    }
    // Each was started in its own temp dir, which is where each says it is.
    let (r, s) = p.both(&[b"CONFIG", b"GET", b"dir"]);
    for (reply, server) in [(r, &p.redis), (s, &p.scope)] {
        let dir = server.dir.to_str().expect("utf-8");
        assert!(
            show(&reply).ends_with(&format!("{dir}\\r\\n")),
            "{}",
            show(&reply)
        );
    }
    p.all(&[
        // Immutable ones.
        &["CONFIG", "SET", "always-show-logo", "no"],
        &["CONFIG", "SET", "logfile", "x"],
        &["CONFIG", "SET", "pidfile", "x"],
        &["CONFIG", "SET", "enable-debug-command", "no"],
        &["CONFIG", "SET", "daemonize", "no"],
        // Modifiable ones, with Redis's checks and spellings.
        &["CONFIG", "SET", "notify-keyspace-events", "Exg$"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "KZ"],
        &["CONFIG", "SET", "notify-keyspace-events", "g$lshzxetdKEmn"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "save", "100 10 20 2"],
        &["CONFIG", "GET", "save"],
        &["CONFIG", "SET", "save", "100"],
        &["CONFIG", "SET", "save", "0 5"],
        &["CONFIG", "SET", "save", "10 -1"],
        &["CONFIG", "SET", "save", "10 x"],
        &["CONFIG", "SET", "save", ""],
        &["CONFIG", "GET", "save"],
        &["CONFIG", "SET", "loglevel", "debug"],
        &["CONFIG", "GET", "loglevel"],
        &["CONFIG", "SET", "loglevel", "chatty"],
        &["CONFIG", "SET", "dbfilename", "other.rdb"],
        &["CONFIG", "GET", "dbfilename"],
        &["CONFIG", "SET", "dbfilename", "../x.rdb"],
        &["CONFIG", "SET", "timeout", "-1"],
        &["CONFIG", "SET", "latency-monitor-threshold", "x"],
        &["CONFIG", "SET", "appendfsync", "sometimes"],
        &[
            "CONFIG",
            "SET",
            "propagation-error-behavior",
            "panic-on-replicas",
        ],
        &["CONFIG", "GET", "propagation-error-behavior"],
        &["CONFIG", "SET", "activerehashing", "maybe"],
    ]);
    // Every server here starts with `--save ""`: save lines after it add points.
    let Some(mut p) = Pair::new(&["--save", "900 1", "--save", "60", "5"], Norm::Exact) else {
        return;
    };
    p.expect(
        &["CONFIG", "GET", "save"],
        b"*2\r\n$4\r\nsave\r\n$10\r\n900 1 60 5\r\n",
    );
    // Protected configs are refused by default.
    p.cmd(&["CONFIG", "SET", "dbfilename", "x.rdb"]);
    p.cmd(&["CONFIG", "SET", "dir", "/tmp"]);
}

#[test]
fn debug_is_guarded_like_redis() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.all(&[
        &["DEBUG", "DIGEST"],
        &["DEBUG", "no-such-thing"],
        &["DEBUG"],
    ]);
    let Some(mut p) = Pair::new(&["--enable-debug-command", "local"], Norm::Exact) else {
        return;
    };
    p.expect(
        &["DEBUG", "DIGEST"],
        b"+0000000000000000000000000000000000000000\r\n",
    );
}

#[test]
fn debug_digest_equals_redis_for_the_same_data() {
    let Some(mut p) = Pair::new(&["--enable-debug-command", "yes"], Norm::Exact) else {
        return;
    };
    let big: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    let mut zbig = vec!["ZADD".to_string(), "zbig".to_string()];
    for (i, m) in big.iter().enumerate() {
        zbig.push(format!("{}.5", i));
        zbig.push(m.clone());
    }
    let zbig: Vec<&str> = zbig.iter().map(|s| s.as_str()).collect();
    p.run(&[
        &["SET", "s", "hello"],
        &["SET", "n", "12345"],
        &["RPUSH", "l", "a", "b", "c", "1"],
        &["SADD", "ints", "1", "2", "300"],
        &["SADD", "words", "x", "y", "z", "7"],
        &["ZADD", "z", "1", "a", "2.5", "b", "-3", "c", "1e300", "d"],
        &["HSET", "h", "f1", "v1", "f2", "v2"],
        &["SET", "e", "v", "EX", "1000"],
        &["SELECT", "3"],
        &["SET", "s", "hello"],
        &["SELECT", "0"],
    ]);
    p.cmd(&zbig);
    p.cmd(&["DEBUG", "DIGEST"]);
    p.cmd(&[
        "DEBUG",
        "DIGEST-VALUE",
        "s",
        "l",
        "ints",
        "words",
        "z",
        "zbig",
        "h",
        "e",
        "nokey",
    ]);
    p.cmd(&["DEBUG", "DIGEST-VALUE"]);
    // A key moved to another db changes the digest; the same data in any order does not.
    p.run(&[
        &["DEL", "s"],
        &["SELECT", "5"],
        &["SET", "s", "hello"],
        &["SELECT", "0"],
    ]);
    p.cmd(&["DEBUG", "DIGEST"]);
    p.run(&[&["DEL", "words"], &["SADD", "words", "7", "z", "y", "x"]]);
    p.cmd(&["DEBUG", "DIGEST"]);
    p.cmd(&["FLUSHALL"]);
    p.cmd(&["DEBUG", "DIGEST"]);
}

#[test]
fn debug_populate_change_repl_id_and_errors() {
    let Some(mut p) = Pair::new(&["--enable-debug-command", "yes"], Norm::Exact) else {
        return;
    };
    p.all(&[
        &["SET", "key:3", "mine"],
        &["DEBUG", "POPULATE", "10"],
        &["DBSIZE"],
        &["GET", "key:3"],
        &["GET", "key:9"],
        &["DEBUG", "POPULATE", "5", "p", "3"],
        &["GET", "p:4"],
        &["DEBUG", "POPULATE", "3", "q", "12"],
        &["GET", "q:2"],
        &["DEBUG", "DIGEST"],
        &["DEBUG", "POPULATE", "-1"],
        &["DEBUG", "POPULATE", "x"],
        &["DEBUG", "POPULATE", "1", "a", "-5"],
        &["DEBUG", "POPULATE", "1", "a", "1", "extra"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "0"],
        &["DEBUG", "SET-ACTIVE-EXPIRE", "1"],
        &["DEBUG", "SET-ACTIVE-EXPIRE"],
        &["DEBUG", "LOG", "hello"],
        &["DEBUG", "CHANGE-REPL-ID"],
        &["RANDOMKEY", "x"],
    ]);
    let (r, s) = p.both(&[b"INFO", b"replication"]);
    for info in [r, s] {
        let text = String::from_utf8_lossy(&info).into_owned();
        assert!(
            text.contains("master_replid2:0000000000000000000000000000000000000000"),
            "{text}"
        );
    }
    assert!(
        p.scope.log().contains(" # DEBUG LOG: hello"),
        "{}",
        p.scope.log()
    );
    assert!(p
        .scope
        .log()
        .contains(" # Changing replication IDs after receiving DEBUG change-repl-id"));
}

#[test]
fn randomkey_like_redis() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    p.expect(&["RANDOMKEY"], b"$-1\r\n");
    p.cmd(&["SET", "only", "1"]);
    p.expect(&["RANDOMKEY"], b"$4\r\nonly\r\n");
    // An expired key is deleted, not returned: the db is empty again.
    p.cmd(&["SET", "gone", "1", "PX", "1"]);
    p.cmd(&["DEL", "only"]);
    std::thread::sleep(Duration::from_millis(20));
    p.expect(&["RANDOMKEY"], b"$-1\r\n");
    p.cmd(&["DBSIZE"]);
    for k in ["a", "b", "c"] {
        p.cmd(&["SET", k, "1"]);
    }
    for _ in 0..20 {
        let (r, s) = p.both(&[b"RANDOMKEY"]);
        for reply in [r, s] {
            assert!(
                [&b"$1\r\na\r\n"[..], b"$1\r\nb\r\n", b"$1\r\nc\r\n"].contains(&reply.as_slice()),
                "{}",
                show(&reply)
            );
        }
    }
}

#[test]
fn debug_sleep_blocks_the_whole_server() {
    if !redis_installed() {
        return;
    }
    for s in [
        ServerProcess::redis(&["--enable-debug-command", "yes"]),
        ServerProcess::replscope(&["--enable-debug-command", "yes"]),
    ] {
        let (mut sleeper, mut other) = (s.client(), s.client());
        let start = Instant::now();
        // The sleeper's own pipelined PING waits too, and its replies keep their order.
        sleeper.send(b"PING a\r\nDEBUG SLEEP 0.4\r\nPING b\r\n");
        std::thread::sleep(Duration::from_millis(50));
        other.send(b"PING c\r\n");
        assert_eq!(show(&other.read_replies(1)), "$1\\r\\nc\\r\\n");
        let waited = start.elapsed();
        assert_eq!(
            show(&sleeper.read_replies(3)),
            "$1\\r\\na\\r\\n+OK\\r\\n$1\\r\\nb\\r\\n"
        );
        assert!(
            waited >= Duration::from_millis(380),
            "{}: the other client was answered after {waited:?}",
            s.kind.name()
        );
        sleeper.send(b"DEBUG SLEEP 0\r\nDEBUG SLEEP x\r\n");
        assert_eq!(show(&sleeper.read_replies(2)), "+OK\\r\\n+OK\\r\\n");
    }
}

#[test]
fn zunionstore_zinterstore_like_redis() {
    let Some(mut p) = Pair::new(&[], Norm::Exact) else {
        return;
    };
    let big: Vec<String> = (0..150).map(|i| format!("b{i}")).collect();
    let mut zbig = vec!["ZADD".to_string(), "zbig".to_string()];
    for (i, m) in big.iter().enumerate() {
        zbig.push(format!("{}", i as f64 / 3.0));
        zbig.push(m.clone());
    }
    let zbig: Vec<&str> = zbig.iter().map(|s| s.as_str()).collect();
    p.cmd(&zbig);
    p.all(&[
        &["ZADD", "z1", "1", "a", "2", "b", "3", "c", "0.1", "d"],
        &["ZADD", "z2", "10", "b", "20", "c", "30", "e", "0.2", "d"],
        &["ZADD", "zinf", "inf", "a", "-inf", "b"],
        &["SADD", "s1", "a", "e", "x"],
        &["SADD", "ints", "1", "2", "3"],
        &["SET", "str", "x"],
        &["ZUNIONSTORE", "u", "2", "z1", "z2"],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &["ZINTERSTORE", "i", "2", "z1", "z2"],
        &["ZRANGE", "i", "0", "-1", "WITHSCORES"],
        &[
            "ZUNIONSTORE",
            "u",
            "3",
            "z1",
            "z2",
            "s1",
            "WEIGHTS",
            "2",
            "0.5",
            "7",
        ],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &["ZINTERSTORE", "i", "2", "z1", "s1", "AGGREGATE", "MAX"],
        &["ZRANGE", "i", "0", "-1", "WITHSCORES"],
        &[
            "ZUNIONSTORE",
            "u",
            "2",
            "z1",
            "z2",
            "AGGREGATE",
            "min",
            "WEIGHTS",
            "1",
            "-1",
        ],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &[
            "ZUNIONSTORE",
            "u",
            "2",
            "zinf",
            "zinf",
            "WEIGHTS",
            "1",
            "-1",
        ],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &["ZUNIONSTORE", "u", "1", "zinf", "WEIGHTS", "0"],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &["ZUNIONSTORE", "u", "2", "z1", "z1", "WEIGHTS", "1", "-1"],
        &["ZRANGE", "u", "0", "-1", "WITHSCORES"],
        &["ZUNIONSTORE", "u", "3", "zbig", "z1", "ints"],
        &["ZRANGE", "u", "0", "5", "WITHSCORES"],
        &["ZCARD", "u"],
        &["ZINTERSTORE", "i", "2", "ints", "s1"],
        &["EXISTS", "i"],
        &["ZINTERSTORE", "u", "2", "z1", "nokey"],
        &["EXISTS", "u"],
        &["ZINTERSTORE", "i", "0", "z1"],
        &["ZUNIONSTORE", "i", "-1", "z1"],
        &["ZUNIONSTORE", "i", "x", "z1"],
        &["ZUNIONSTORE", "i", "3", "z1", "z2"],
        &["ZUNIONSTORE", "i", "2", "z1", "str"],
        &["ZUNIONSTORE", "i", "1", "z1", "WEIGHTS", "x"],
        &["ZUNIONSTORE", "i", "1", "z1", "WEIGHTS"],
        &["ZUNIONSTORE", "i", "1", "z1", "AGGREGATE", "avg"],
        &["ZUNIONSTORE", "i", "1", "z1", "WITHSCORES"],
        &["ZUNIONSTORE", "i", "1", "z1", "junk"],
        &["ZINTERSTORE", "i"],
    ]);
}
