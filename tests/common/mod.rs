//! Real servers for the integration tests: a real `redis-server` and our
//! `replscope-server`, each on a free 127.0.0.1 port with its own temp dir, and a raw RESP
//! client that returns reply *bytes* (the tests compare bytes, not parsed values).
//!
//! Every server is stopped by PID (kill + wait) when its [`ServerProcess`] is dropped,
//! which also happens while a failing test unwinds; its log is printed then, since a
//! failure is usually explained by what the server said.
//!
//! Without redis-server the tests skip loudly, unless `REPLSCOPE_REQUIRE_REDIS` is set
//! (CI sets it): then a missing redis-server is a failure, so CI cannot go green by
//! testing nothing.
#![allow(dead_code)]

/// Every legitimate difference between real Redis and replscope, and the one place each is
/// normalised: see the module's documentation.
pub mod normalize;
/// [`pair::Pair`]: one connection to a real Redis and one to replscope, the same bytes to
/// both, the replies compared.
pub mod pair;

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long anything may take before a test gives up. Generous: CI machines are slow and
/// busy, and these are deadlines for wait-until loops, never measurements.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Whether the real Redis binaries are here. Call first in every test; `false` means
/// "skip" (and has already said so loudly).
pub fn redis_installed() -> bool {
    let works = |bin: &str| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works("redis-server") && works("redis-cli") {
        return true;
    }
    if std::env::var_os("REPLSCOPE_REQUIRE_REDIS").is_some() {
        panic!("redis-server / redis-cli not found on PATH, and REPLSCOPE_REQUIRE_REDIS is set: install redis-server and redis-tools");
    }
    // Straight to the process's stderr: libtest captures `eprintln!` of passing tests,
    // and a skip nobody sees is a skip nobody fixes. Once per test binary is enough.
    static LOUD: std::sync::Once = std::sync::Once::new();
    LOUD.call_once(|| {
        let bang = "!".repeat(78);
        let _ = writeln!(
            std::io::stderr(),
            "\n{bang}\n!!! SKIPPED: redis-server / redis-cli are not installed, so the tests that need\n\
             !!! them compared NOTHING against real Redis. Install them (apt-get install\n\
             !!! redis-server redis-tools) or set REPLSCOPE_REQUIRE_REDIS=1 to make this a failure.\n{bang}\n"
        );
    });
    false
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Redis,
    Replscope,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Redis => "redis-server",
            Kind::Replscope => "replscope-server",
        }
    }
}

/// A running server process, killed and reaped on drop.
pub struct ServerProcess {
    pub kind: Kind,
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

/// A port nobody listens on right now. Another process may take it before the server
/// binds it; `start` then retries with a new one.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

fn temp_dir(kind: Kind) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join("replscope-tests").join(format!(
        "{}-{}-{}",
        kind.name(),
        std::process::id(),
        n
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the server's temp dir");
    dir
}

impl ServerProcess {
    /// A real redis-server: no persistence, in its own dir, 127.0.0.1 only.
    pub fn redis(extra: &[&str]) -> ServerProcess {
        Self::start(Kind::Redis, extra)
    }

    /// Our replscope-server, started the same way (it takes redis-server's options).
    pub fn replscope(extra: &[&str]) -> ServerProcess {
        Self::start(Kind::Replscope, extra)
    }

    pub fn start(kind: Kind, extra: &[&str]) -> ServerProcess {
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let dir = temp_dir(kind);
            let port_s = port.to_string();
            // The same command line for both: replscope-server takes redis-server's options
            // (and accepts these persistence ones with exactly these values).
            let mut cmd = Command::new(match kind {
                Kind::Redis => "redis-server",
                Kind::Replscope => env!("CARGO_BIN_EXE_replscope-server"),
            });
            let d = dir.to_str().expect("utf-8 temp dir");
            cmd.args([
                "--port",
                &port_s,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]);
            cmd.args(["--dir", d, "--daemonize", "no"]);
            cmd.args(extra).current_dir(&dir).stdin(Stdio::null());
            let log = std::fs::File::create(dir.join("server.log")).expect("create the server log");
            cmd.stdout(log.try_clone().expect("dup log")).stderr(log);
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", kind.name()));
            let mut server = ServerProcess {
                kind,
                port,
                dir,
                child,
            };
            match server.wait_ready() {
                Ok(()) => return server,
                Err(log) => last_log = log, // most likely the port was taken: try another
            }
        }
        panic!(
            "{} did not start after 5 attempts; last log:\n{last_log}",
            kind.name()
        );
    }

    /// Waits until the server answers PING; `Err(log)` if the process died first.
    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited with {status}:\n{}", self.log()));
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = [0u8; 7];
                if s.write_all(b"PING\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && &buf == b"+PONG\r\n"
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{} on port {} never answered PING; log:\n{}",
            self.kind.name(),
            self.port,
            self.log()
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }

    pub fn client(&self) -> Client {
        Client::connect(self.port)
    }

    /// One field of `INFO <section>`, read on a fresh connection.
    pub fn info_field(&self, section: &str, field: &str) -> Option<String> {
        self.client().info_field(section, field)
    }

    /// Kills the process (SIGKILL) and reaps it. Idempotent.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The exit status if the process has exited (reaping it), without waiting.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!(
                "----- {} (port {}) log -----\n{}----- end of log -----",
                self.kind.name(),
                self.port,
                self.log()
            );
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls `f` until it returns `Some`, or panics with `what` at the deadline.
pub fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// RESP multibulk encoding of a command.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend(format!("${}\r\n", a.len()).into_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Length of the first complete RESP2 reply in `data`, `None` if incomplete. Written
/// here, independently of the engine's parser, so a bug there cannot hide in the tests.
pub fn reply_len(data: &[u8]) -> Option<usize> {
    let line_end = data.windows(2).position(|w| w == b"\r\n")?;
    let head = data.first()?;
    let after = line_end + 2;
    let number = || -> i64 {
        std::str::from_utf8(&data[1..line_end])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("malformed reply header {:?}", show(&data[..line_end])))
    };
    match head {
        b'+' | b'-' | b':' => Some(after),
        b'$' => {
            let n = number();
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (data.len() >= end).then_some(end)
        }
        b'*' => {
            let n = number();
            let mut at = after;
            for _ in 0..n.max(0) {
                at += reply_len(&data[at..])?;
            }
            Some(at)
        }
        other => panic!(
            "not a RESP2 reply (first byte {other:#04x}): {:?}",
            show(data)
        ),
    }
}

/// Bytes as readable text for assertion messages (CR/LF and binary escaped).
pub fn show(data: &[u8]) -> String {
    data.escape_ascii().to_string()
}

/// A raw client: writes bytes, reads whole replies as bytes.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("connect to {port}: {e}"));
        // Small writes must leave as they are written (the split-command tests rely on it).
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("read timeout");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send(&mut self, data: &[u8]) {
        self.stream.write_all(data).expect("write to server");
    }

    /// One read; `Ok(false)` on timeout, `Err(())` when the server closed the connection.
    fn fill(&mut self) -> Result<bool, ()> {
        let mut chunk = [0u8; 16 * 1024];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(()),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(true)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) =>
            {
                Ok(false)
            }
            Err(_) => Err(()),
        }
    }

    /// The raw bytes of exactly `n` complete replies.
    pub fn read_replies(&mut self, n: usize) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let mut at = 0;
            let mut complete = 0;
            while complete < n {
                match reply_len(&self.buf[at..]) {
                    Some(len) => {
                        at += len;
                        complete += 1;
                    }
                    None => break,
                }
            }
            if complete == n {
                return self.buf.drain(..at).collect();
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out waiting for {n} replies; have {:?}",
                    show(&self.buf)
                );
            }
            if self.fill().is_err() {
                panic!(
                    "connection closed while waiting for {n} replies; have {:?}",
                    show(&self.buf)
                );
            }
        }
    }

    /// Exactly `n` bytes, whatever they are (a snapshot payload, a stream).
    pub fn read_exact_bytes(&mut self, n: usize) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        while self.buf.len() < n {
            if Instant::now() >= deadline {
                panic!("timed out waiting for {n} bytes; have {}", self.buf.len());
            }
            if self.fill().is_err() {
                panic!(
                    "connection closed while waiting for {n} bytes; have {:?}",
                    show(&self.buf)
                );
            }
        }
        self.buf.drain(..n).collect()
    }

    /// Everything received up to and including the first occurrence of `suffix`.
    pub fn read_until_suffix(&mut self, suffix: &[u8]) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(p) = self.buf.windows(suffix.len()).position(|w| w == suffix) {
                return self.buf.drain(..p + suffix.len()).collect();
            }
            if Instant::now() >= deadline {
                panic!(
                    "timed out waiting for {:?}; have {:?}",
                    show(suffix),
                    show(&self.buf)
                );
            }
            if self.fill().is_err() {
                panic!(
                    "connection closed while waiting for {:?}; have {:?}",
                    show(suffix),
                    show(&self.buf)
                );
            }
        }
    }

    /// Sends a command, returns its raw reply.
    pub fn cmd(&mut self, args: &[&str]) -> Vec<u8> {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send(&encode(&args));
        self.read_replies(1)
    }

    /// Everything the server sends until it closes the connection: (bytes, closed). A
    /// server that keeps the connection open past the deadline returns `closed == false`.
    pub fn read_until_closed(&mut self) -> (Vec<u8>, bool) {
        let deadline = Instant::now() + DEADLINE;
        while Instant::now() < deadline {
            if self.fill().is_err() {
                return (std::mem::take(&mut self.buf), true);
            }
        }
        (std::mem::take(&mut self.buf), false)
    }

    /// The text of `INFO <section>`.
    pub fn info(&mut self, section: &str) -> String {
        let raw = self.cmd(&["INFO", section]);
        let start = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("bulk header")
            + 2;
        String::from_utf8_lossy(&raw[start..raw.len() - 2]).into_owned()
    }

    pub fn info_field(&mut self, section: &str, field: &str) -> Option<String> {
        let text = self.info(section);
        let prefix = format!("{field}:");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .map(str::to_string)
    }
}

/// Runs `redis-cli` with these arguments; returns (stdout, exit success).
pub fn redis_cli(args: &[&str]) -> (String, bool) {
    let out = Command::new("redis-cli")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run redis-cli");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        out.status.success(),
    )
}

/// Poses as a replica (PSYNC on a raw connection), skips the snapshot, and returns the
/// connection positioned at the first byte of the stream.
pub fn attach_raw_replica(master: &ServerProcess) -> Client {
    let mut c = master.client();
    assert_eq!(c.cmd(&["REPLCONF", "listening-port", "1"]), b"+OK\r\n");
    c.send(&encode(&[b"PSYNC", b"?", b"-1"]));
    let mut buf = Vec::new();
    let byte = |c: &mut Client| -> u8 {
        let b = c.read_exact_bytes(1);
        b[0]
    };
    // Keepalive newlines may precede the +FULLRESYNC line and the payload header.
    let mut line = |c: &mut Client| -> String {
        loop {
            buf.clear();
            loop {
                let b = byte(c);
                if b == b'\n' {
                    break;
                }
                buf.push(b);
            }
            if !buf.is_empty() {
                return String::from_utf8_lossy(&buf)
                    .trim_end_matches('\r')
                    .to_string();
            }
        }
    };
    let full = line(&mut c);
    assert!(full.starts_with("+FULLRESYNC "), "{full}");
    let header = line(&mut c);
    let len: usize = header
        .strip_prefix('$')
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("payload header {header}"));
    let rdb = c.read_exact_bytes(len);
    assert!(rdb.starts_with(b"REDIS0010"), "the payload is an RDB v10");
    c
}

/// The options both servers of a replication-stream comparison run with: disk payloads
/// (`$<len>`) need no ACK before streaming, and no PINGs interleave with the writes.
pub const STREAM_OPTS: [&str; 6] = [
    "--repl-diskless-sync",
    "no",
    "--repl-diskless-sync-delay",
    "0",
    "--repl-ping-replica-period",
    "100000",
];

/// The replication streams of the same writes on a real Redis and on replscope: starts
/// both with [`STREAM_OPTS`], attaches a raw replica ([`attach_raw_replica`]) to each, runs
/// `writes` on a fresh client of each (Redis first), and reads each stream up to and
/// including `end`. Returns, Redis first, each server's raw stream and what `writes`
/// returned there; masking and comparing are the caller's. `None` without redis-server.
pub fn streams_from_both<T>(
    mut writes: impl FnMut(&mut Client) -> T,
    end: &[u8],
) -> Option<[(Vec<u8>, T); 2]> {
    if !redis_installed() {
        return None;
    }
    let redis = ServerProcess::redis(&STREAM_OPTS);
    let scope = ServerProcess::replscope(&STREAM_OPTS);
    let mut one = |server: &ServerProcess| {
        let mut replica = attach_raw_replica(server);
        let mut writer = server.client();
        let out = writes(&mut writer);
        (replica.read_until_suffix(end), out)
    };
    let from_redis = one(&redis);
    let from_scope = one(&scope);
    Some([from_redis, from_scope])
}
