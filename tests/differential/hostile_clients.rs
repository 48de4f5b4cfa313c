//! replscope-server against clients it must not trust, as redis-server 7.0 holds up
//! against them: readers that never read (before and after AUTH), a slow reader, more
//! connections than `maxclients`, huge bulk headers, a query buffer past its limit, a
//! connection from another address in protected mode, and a command whose reply would be a
//! terabyte. Each case is bounded in wall time (the deadlines of `common`) and in the
//! server's memory (its peak RSS, `VmHWM` in /proc), and checks Redis's exact texts; where a
//! real redis-server 7.0.15 behaves the same, it gets the same bytes and is compared.

use crate::common;

use common::{encode, redis_installed, show, wait_until, Client, ServerProcess};
use replscope::bus::Bus;
use replscope::engine::resp::Reply;
use replscope::engine::Config;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const MB: u64 = 1 << 20;

/// A field of /proc/<pid>/status in bytes (`VmRSS`, `VmHWM`).
fn proc_status_bytes(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field}"));
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("a number of kB");
    kb * 1024
}

/// Writes `chunk` again and again, never reading, until the server drops the connection or
/// `max_bytes` have been written. Returns (bytes written, whether the server dropped it).
fn write_without_reading(stream: &mut TcpStream, chunk: &[u8], max_bytes: u64) -> (u64, bool) {
    stream
        .set_write_timeout(Some(Duration::from_millis(200)))
        .expect("write timeout");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut written = 0u64;
    while written < max_bytes && Instant::now() < deadline {
        match stream.write(chunk) {
            Ok(0) => return (written, true),
            Ok(n) => written += n as u64,
            // Our send buffer is full: the server stopped reading us (it may be about to
            // drop us, or it holds our replies). Keep trying until the deadline.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                if server_closed(stream) {
                    return (written, true);
                }
            }
            Err(_) => return (written, true),
        }
    }
    (written, server_closed(stream))
}

/// Whether the server has closed (or reset) the connection. Reads what is waiting to find
/// out, so only for connections whose replies no longer matter.
fn server_closed(stream: &mut TcpStream) -> bool {
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    let mut buf = vec![0u8; 1 << 20];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
    false
}

fn wait_for_log(server: &ServerProcess, needle: &str) -> String {
    wait_until(&format!("{} logs {needle:?}", server.kind.name()), || {
        server
            .log()
            .lines()
            .find(|l| l.contains(needle))
            .map(str::to_string)
    })
}

/// Sets `requirepass` once the server runs (the start-up check PINGs without AUTH).
fn with_password(server: ServerProcess, password: &str) -> ServerProcess {
    assert_eq!(
        server
            .client()
            .cmd(&["CONFIG", "SET", "requirepass", password]),
        b"+OK\r\n"
    );
    server
}

const DROPPED: &str = "scheduled to be closed ASAP for overcoming of output buffer limits.";

#[test]
fn a_never_reader_before_auth_is_dropped_past_1024_bytes_of_output() {
    // The fix for CVE-2025-21605 (Redis 7.2.8+); 7.0.15 itself would buffer for ever, so
    // there is no real server to compare with here.
    let server = with_password(ServerProcess::replscope(&[]), "secret");
    let before = proc_status_bytes(server.pid(), "VmRSS");
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let pings = encode(&[b"PING"]).repeat(4096);
    let started = Instant::now();
    let (written, dropped) = write_without_reading(&mut stream, &pings, 2 << 30);
    assert!(dropped, "still connected after {written} bytes");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let line = wait_for_log(&server, DROPPED);
    assert!(
        line.contains(" user=default ") && line.contains(" cmd=ping "),
        "{line}"
    );
    let peak = proc_status_bytes(server.pid(), "VmHWM");
    assert!(peak < before + 32 * MB, "peak RSS {peak} from {before}");
    // The server still serves everyone else.
    let mut c = server.client();
    assert_eq!(c.cmd(&["AUTH", "secret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn a_never_reader_after_auth_meets_the_normal_class_limit_as_in_redis() {
    if !redis_installed() {
        return;
    }
    // One argument holding the whole class, as redis-server accepts it on its command line.
    let limit = ["--client-output-buffer-limit", "normal 4mb 2mb 10"];
    for server in [
        ServerProcess::replscope(&limit),
        ServerProcess::redis(&limit),
    ] {
        let server = with_password(server, "secret");
        let name = server.kind.name();
        let mut c = server.client();
        assert_eq!(c.cmd(&["AUTH", "secret"]), b"+OK\r\n");
        let config =
            String::from_utf8_lossy(&c.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]))
                .into_owned();
        assert!(
            config.contains("normal 4194304 2097152 10 "),
            "{name}: {config}"
        );
        assert_eq!(c.cmd(&["SET", "k", &"v".repeat(100_000)]), b"+OK\r\n");
        let before = proc_status_bytes(server.pid(), "VmRSS");
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        stream
            .write_all(&encode(&[b"AUTH", b"secret"]))
            .expect("auth");
        let gets = encode(&[b"GET", b"k"]).repeat(1000);
        let (written, dropped) = write_without_reading(&mut stream, &gets, 1 << 30);
        assert!(dropped, "{name}: still connected after {written} bytes");
        let line = wait_for_log(&server, DROPPED);
        // A warning, in Redis's log format: `pid:M dd Mon yyyy hh:mm:ss.mmm # Client id=...`.
        assert!(
            line.contains(" cmd=get ") && line.contains(" # Client id="),
            "{name}: {line}"
        );
        let peak = proc_status_bytes(server.pid(), "VmHWM");
        assert!(
            peak < before + 64 * MB,
            "{name}: peak RSS {peak} from {before}"
        );
    }
}

#[test]
fn a_never_reader_with_the_default_limits_meets_the_engine_cap() {
    let server = ServerProcess::replscope(&[]);
    let mut c = server.client();
    assert_eq!(c.cmd(&["SET", "k", &"v".repeat(1 << 20)]), b"+OK\r\n");
    let before = proc_status_bytes(server.pid(), "VmRSS");
    let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
    let gets = encode(&[b"GET", b"k"]).repeat(100);
    let (written, dropped) = write_without_reading(&mut stream, &gets, 1 << 30);
    assert!(dropped, "still connected after {written} bytes");
    wait_for_log(&server, DROPPED);
    // 64 MiB of replies at most, plus the socket buffers and the reply being built.
    let peak = proc_status_bytes(server.pid(), "VmHWM");
    assert!(peak < before + 200 * MB, "peak RSS {peak} from {before}");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

#[test]
fn a_slow_reader_under_its_limit_gets_every_reply() {
    let server = ServerProcess::replscope(&["--client-output-buffer-limit", "normal 4mb 2mb 10"]);
    let mut c = server.client();
    let value = "v".repeat(100_000);
    assert_eq!(c.cmd(&["SET", "k", &value]), b"+OK\r\n");
    let mut reader = server.client();
    // 3 MB of replies asked at once, read 64 KB at a time with pauses: over the soft limit
    // for a moment (under 10 s), never over the hard one.
    reader.send(&encode(&[b"GET", b"k"]).repeat(30));
    let mut got = 0usize;
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    let want = 30 * (value.len() + 11);
    while got < want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        match reader.stream.read(&mut buf) {
            Ok(0) => panic!("the server dropped a slow reader after {got} bytes"),
            Ok(n) => got += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, want);
    assert_eq!(reader.cmd(&["PING"]), b"+PONG\r\n");
    assert!(
        !server.log().contains("output buffer limits"),
        "{}",
        server.log()
    );
}

#[test]
fn more_connections_than_maxclients_are_refused_as_redis_refuses_them() {
    if !redis_installed() {
        return;
    }
    let mut seen = Vec::new();
    for server in [
        ServerProcess::replscope(&["--maxclients", "3"]),
        ServerProcess::redis(&["--maxclients", "3"]),
    ] {
        let mut first = server.client();
        // The start-up check's connection has gone: only this one is counted.
        wait_until("one client left", || {
            (first.info_field("clients", "connected_clients").as_deref() == Some("1")).then_some(())
        });
        let mut others: Vec<Client> = (0..2).map(|_| server.client()).collect();
        for c in &mut others {
            assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
        }
        let (refused, closed) = server.client().read_until_closed();
        assert!(closed);
        assert_eq!(
            first.info_field("stats", "rejected_connections").as_deref(),
            Some("1")
        );
        assert_eq!(
            first.info_field("clients", "maxclients").as_deref(),
            Some("3")
        );
        // One leaves, and the next is served.
        drop(others.pop());
        wait_until("a slot is free", || {
            (first.info_field("clients", "connected_clients").as_deref() == Some("2")).then_some(())
        });
        assert_eq!(server.client().cmd(&["PING"]), b"+PONG\r\n");
        seen.push(refused);
    }
    assert_eq!(seen[0], b"-ERR max number of clients reached\r\n");
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn huge_bulk_headers_allocate_nothing_and_fail_as_in_redis() {
    if !redis_installed() {
        return;
    }
    let cases: [&[u8]; 4] = [
        b"*1\r\n$2147483648\r\n",
        b"*1\r\n$-5\r\n",
        b"*3000000000\r\n",
        b"*1\r\n$99999999999999999999999\r\n",
    ];
    for server in [ServerProcess::replscope(&[]), ServerProcess::redis(&[])] {
        let name = server.kind.name();
        for case in cases {
            let mut c = server.client();
            c.send(case);
            let (reply, closed) = c.read_until_closed();
            assert!(closed, "{name} {}", show(case));
            assert!(
                reply.starts_with(b"-ERR Protocol error: invalid "),
                "{name} {}: {}",
                show(case),
                show(&reply)
            );
        }
        // Declared at the maximum, sent a few bytes at a time: held as what arrived.
        let before = proc_status_bytes(server.pid(), "VmRSS");
        let mut open = Vec::new();
        for _ in 0..20 {
            let mut c = server.client();
            c.send(b"*2147483647\r\n$536870912\r\nabc");
            open.push(c);
        }
        std::thread::sleep(Duration::from_millis(300));
        let mut check = server.client();
        assert_eq!(check.cmd(&["PING"]), b"+PONG\r\n");
        let rss = proc_status_bytes(server.pid(), "VmRSS");
        assert!(
            rss < before + 64 * MB,
            "{name}: RSS {rss} from {before} for 20 declared 512 MB bulks"
        );
    }
}

#[test]
fn a_query_buffer_past_its_limit_closes_the_client_as_in_redis() {
    if !redis_installed() {
        return;
    }
    for server in [
        ServerProcess::replscope(&["--client-query-buffer-limit", "1mb"]),
        ServerProcess::redis(&["--client-query-buffer-limit", "1mb"]),
    ] {
        let name = server.kind.name();
        let mut c = server.client();
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "client-query-buffer-limit"]),
            b"*2\r\n$25\r\nclient-query-buffer-limit\r\n$7\r\n1048576\r\n"
        );
        let mut stream = TcpStream::connect(("127.0.0.1", server.port)).expect("connect");
        let mut request = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5000000\r\n".to_vec();
        request.extend(vec![b'x'; 3 << 20]);
        let (_, dropped) = write_without_reading(&mut stream, &request, request.len() as u64);
        assert!(dropped || server_closed(&mut stream), "{name}");
        let line = wait_for_log(
            &server,
            "Closing client that reached max query buffer length: id=",
        );
        // Redis shows the big argument it reads on its own; replscope the request's start.
        assert!(
            line.contains(r#"(qbuf initial bytes: ""#) && line.ends_with(r#"xxxx")"#),
            "{name}: {line}"
        );
        assert_eq!(c.cmd(&["EXISTS", "k"]), b":0\r\n");
    }
}

#[test]
fn protected_mode_denies_a_client_from_another_address() {
    if !redis_installed() {
        return;
    }
    // A client socket bound to 127.0.0.2 is not "127.0.0.1" to Redis. std cannot bind a
    // client socket before connecting; python3's socket module can. The refusal comes
    // unasked, and is read to the end (sending first could turn the close into a reset).
    let connect_from = |port: u16| -> Vec<u8> {
        let script = format!(
            "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.2',0))\ns.connect(('127.0.0.1',{port}))\n\
             d=b''\nwhile True:\n  b=s.recv(65536)\n  if not b: break\n  d+=b\nsys.stdout.buffer.write(d)\n"
        );
        let out = std::process::Command::new("timeout")
            .args(["20", "python3", "-c", &script])
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let mut seen = Vec::new();
    for server in [ServerProcess::replscope(&[]), ServerProcess::redis(&[])] {
        let denied = connect_from(server.port);
        assert!(
            denied.starts_with(b"-DENIED Redis is running in protected mode"),
            "{}",
            show(&denied)
        );
        assert_eq!(
            server
                .info_field("stats", "rejected_connections")
                .as_deref(),
            Some("1")
        );
        // Off, or with a password, the same address is served.
        let mut c = server.client();
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "protected-mode", "no"]),
            b"+OK\r\n"
        );
        let served = connect_from_and_keep(server.port);
        assert_eq!(served, b"+PONG\r\n");
        seen.push(denied);
    }
    assert_eq!(seen[0], seen[1]);

    /// PING from 127.0.0.2, reading the one reply and closing.
    fn connect_from_and_keep(port: u16) -> Vec<u8> {
        let script = format!(
            "import socket,sys\ns=socket.socket()\ns.bind(('127.0.0.2',0))\ns.connect(('127.0.0.1',{port}))\ns.sendall(b'PING\\r\\n')\n\
             sys.stdout.buffer.write(s.recv(100))\n"
        );
        let out = std::process::Command::new("timeout")
            .args(["20", "python3", "-c", &script])
            .output()
            .expect("run python3");
        out.stdout
    }
}

#[test]
fn srandmember_with_a_huge_negative_count_stops_at_the_output_cap() {
    let server = ServerProcess::replscope(&[]);
    let mut c = server.client();
    let member = "m".repeat(1 << 20);
    assert_eq!(c.cmd(&["SADD", "s", &member]), b":1\r\n");
    let before = proc_status_bytes(server.pid(), "VmRSS");
    let started = Instant::now();
    let mut victim = server.client();
    victim.send(&encode(&[b"SRANDMEMBER", b"s", b"-1000000"]));
    let (reply, closed) = victim.read_until_closed();
    assert!(closed && reply.is_empty(), "{} bytes", reply.len());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let line = wait_for_log(&server, DROPPED);
    assert!(line.contains(" cmd=srandmember "), "{line}");
    let peak = proc_status_bytes(server.pid(), "VmHWM");
    assert!(peak < before + 300 * MB, "peak RSS {peak} from {before}");
    // Under the cap, the reply is whole.
    assert_eq!(
        c.cmd(&["SRANDMEMBER", "s", "-3"]).len(),
        3 * (member.len() + 12) + 4
    );
}

#[test]
fn auth_still_checks_the_password() {
    let server = with_password(ServerProcess::replscope(&[]), "s3cret");
    let mut c = server.client();
    assert_eq!(c.cmd(&["PING"]), b"-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd(&["AUTH", "s3cre"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "s3cret!"]),
        b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["AUTH", "default", "s3cret"]), b"+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n");
}

/// The page's servers are the same engine: a console (a normal client) asking for a
/// million copies of a 60 KB member is dropped at the engine's 64 MiB cap instead of the
/// tab building 60 GB, and the server answers the next command.
#[test]
fn the_pages_console_survives_srandmember_of_a_60kb_member() {
    let mut bus = Bus::new(1);
    let s = bus.add_server("s", Config::default());
    bus.submit_command(s, &format!("SADD s {}", "m".repeat(60_000)))
        .expect("SADD");
    bus.advance(100);
    let started = Instant::now();
    bus.submit_command(s, "SRANDMEMBER s -1000000")
        .expect("SRANDMEMBER");
    bus.advance(1_000);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let dropped = bus
        .log()
        .iter()
        .map(|e| e.line())
        .filter(|l| l.contains(DROPPED))
        .count();
    assert_eq!(dropped, 1);
    let peak = proc_status_bytes(std::process::id(), "VmHWM");
    assert!(peak < 1024 * MB, "this test process peaked at {peak} bytes");
    // The server still answers, on the console's new connection, and the answer is the
    // new command's: the dropped command never gets one.
    bus.submit_command(s, "SCARD s").expect("SCARD");
    bus.advance(1_000);
    let lines: Vec<String> = bus.log().iter().map(|e| e.line()).collect();
    let scard = lines
        .iter()
        .position(|l| l.ends_with("console> SCARD s"))
        .expect("SCARD sent");
    assert!(
        lines[scard..]
            .iter()
            .any(|l| l.ends_with(r#"reply ":1\r\n""#)),
        "{:?}",
        &lines[scard..]
    );
    let entries = bus.console(s).entries();
    let (dropped, scard) = (&entries[entries.len() - 2], &entries[entries.len() - 1]);
    assert_eq!(
        (dropped.input.as_str(), &dropped.reply),
        ("SRANDMEMBER s -1000000", &None)
    );
    assert_eq!(
        (scard.input.as_str(), &scard.reply),
        ("SCARD s", &Some(Reply::Integer(1)))
    );
}
