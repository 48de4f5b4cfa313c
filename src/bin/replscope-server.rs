//! `replscope-server`: one engine [`Node`](replscope::engine::Node) served over real TCP.
//!
//! The point is to hold the engine against the real thing: `redis-cli` can talk to it, a
//! real `redis-server` can replicate from it or be its master. The command line is
//! redis-server's: `replscope-server [config-file] [--option value ...]`.
//!
//! All the Redis behaviour lives in the engine; this file only moves bytes and time. It is
//! a single-threaded `mio` poll loop, like Redis's own event loop: non-blocking sockets,
//! a write buffer per connection, and the poll timeout taken from `Node::next_timer`.

#[cfg(target_arch = "wasm32")]
fn main() {
    // The web test build compiles every binary; there are no sockets in a page.
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(native::run(std::env::args().skip(1).collect()));
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::collections::{BTreeSet, HashMap, VecDeque};
    use std::io::{self, ErrorKind, Read, Write};
    use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::OnceLock;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use mio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
    use mio::{Events, Interest, Poll, Token};
    use replscope::engine::config::canonical_name;
    use replscope::engine::resp::split_args;
    use replscope::engine::{
        Config, ConnId, Event, Input, Node, Output, PeerAddr, Role, REDIS_VERSION,
    };
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook_mio::v1_0::Signals;

    const SIGNAL_TOKEN: Token = Token(0);
    const LISTENER_BASE: usize = 1;
    /// Redis accepts at most 16 bind addresses; connection tokens start above them.
    const MAX_BIND: usize = 16;
    /// ... and the `unixsocket` listener after them.
    const CONN_BASE: usize = LISTENER_BASE + MAX_BIND + 1;
    /// Redis reads a client's socket 16 KiB at a time (PROTO_IOBUF_LEN).
    const READ_CHUNK: usize = 16 * 1024;
    /// Reads per connection per loop turn, so one busy client cannot starve the others
    /// (mio is edge-triggered: a connection cut short is revisited with a zero timeout).
    const READS_PER_TURN: usize = 16;

    pub fn run(args: Vec<String>) -> i32 {
        if let Some(first) = args.first() {
            if first == "-v" || first == "--version" {
                println!(
                    "Redis server v={REDIS_VERSION} (replscope engine, crate {})",
                    env!("CARGO_PKG_VERSION")
                );
                return 0;
            }
            if first == "-h" || first == "--help" {
                eprintln!("Usage: replscope-server [/path/to/redis.conf] [options] [-]");
                eprintln!("       replscope-server - (read config from stdin)");
                eprintln!("       replscope-server -v or --version");
                eprintln!("       replscope-server -h or --help");
                eprintln!();
                eprintln!("Examples:");
                eprintln!("       replscope-server --port 7777");
                eprintln!("       replscope-server --port 7777 --replicaof 127.0.0.1 8888");
                eprintln!("       replscope-server /etc/myredis.conf --repl-diskless-sync-delay 0");
                return 0;
            }
        }
        let loaded = match load_config(&args) {
            Ok(c) => c,
            Err(line) => {
                eprintln!("{line}");
                return 1;
            }
        };
        let mut config = loaded.config;
        if let Some(dir) = &loaded.dir {
            // Redis chdirs to `dir` while it reads the config, so relative paths (the log
            // file, the pid file, the snapshot) are taken from there.
            if let Err(e) = std::env::set_current_dir(dir) {
                eprintln!("Can't chdir to '{dir}': {}", os_error_text(&e));
                return 1;
            }
        }
        // CONFIG GET dir shows the working directory, as Redis's getcwd does.
        if let Ok(cwd) = std::env::current_dir() {
            config.dir = cwd.to_string_lossy().into_owned();
        }
        if !config.logfile.is_empty() {
            // Redis tries the file once while loading the config and refuses to start
            // without it.
            match std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&config.logfile)
            {
                Ok(f) => {
                    let _ = LOG_FILE.set(f);
                }
                Err(e) => {
                    eprintln!(
                        "*** FATAL CONFIG FILE ERROR (replscope, Redis {REDIS_VERSION}) *** Can't open the log file: {}",
                        os_error_text(&e)
                    );
                    return 1;
                }
            }
        }
        LOG_LEVEL.store(config.loglevel, Ordering::Relaxed);
        log('#', 'C', "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo");
        log(
            '#',
            'C',
            &format!(
                "Redis version={REDIS_VERSION}, bits=64, commit=00000000, modified=0, pid={}, just started",
                std::process::id()
            ),
        );
        if args.is_empty() {
            log('#', 'C', "Warning: no config file specified, using the default config. In order to specify a config file use replscope-server /path/to/redis.conf");
        } else {
            log('#', 'C', "Configuration loaded");
        }
        match Server::start(config, loaded.binds) {
            Ok(mut server) => match server.serve() {
                Ok(()) => 0,
                Err(e) => {
                    log('#', 'M', &format!("Event loop failed: {e}"));
                    1
                }
            },
            Err(()) => 1,
        }
    }

    // ---------------------------------------------------------------- configuration

    /// Builds the configuration the way redis-server's `main` + `loadServerConfig` do: the
    /// file's lines, then one line per `--name words...` option, parsed as one text. Line
    /// numbers in errors are therefore those Redis would print.
    ///
    /// Returns what was configured, or the one-line error to print.
    fn load_config(args: &[String]) -> Result<Loaded, String> {
        let mut text = String::new();
        let mut j = 0;
        if let Some(first) = args.first() {
            if !first.starts_with('-') {
                text = std::fs::read_to_string(first).map_err(|e| {
                    format!(
                        "Fatal error, can't open config file '{first}': {}",
                        os_error_text(&e)
                    )
                })?;
                j = 1;
            }
        }
        let mut options = String::new();
        // After `--name` alone, the next argument is its value even if it starts with
        // `--` (Redis's `handled_last_config_arg`).
        let mut expecting_value = false;
        while j < args.len() {
            let arg = &args[j];
            if arg == "-" && (j == 0 || j == args.len() - 1) {
                let mut stdin = String::new();
                io::stdin().read_to_string(&mut stdin).map_err(|e| {
                    format!(
                        "Fatal error, can't read config from stdin: {}",
                        os_error_text(&e)
                    )
                })?;
                text.push('\n');
                text.push_str(&stdin);
            } else if !expecting_value && arg.starts_with("--") {
                if !options.is_empty() {
                    options.push('\n');
                }
                options.push_str(&arg[2..]);
                options.push(' ');
                let words = split_args(arg.as_bytes()).map(|w| w.len()).unwrap_or(1);
                expecting_value = words == 1;
                if words == 1 && arg.eq_ignore_ascii_case("--save") {
                    // `--save` with no value (last, or followed by another option) means
                    // `save ""`, as in Redis 7.0.1+.
                    let next_is_option = args.get(j + 1).is_none_or(|n| n.starts_with("--"));
                    if next_is_option {
                        options.push_str("\"\"");
                        expecting_value = false;
                    }
                }
            } else {
                options.push_str(&replscope::engine::resp::quote(arg.as_bytes()));
                options.push(' ');
                expecting_value = false;
            }
            j += 1;
        }
        if !options.is_empty() {
            text.push('\n');
            text.push_str(&options);
        }

        let mut config = Config::default();
        let mut binds = vec![config.bind.clone()];
        let mut dir = None;
        // The first `save` line replaces the default points; later ones add to it.
        let mut save_seen = false;
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fatal = |err: &str| {
                format!(
                    "*** FATAL CONFIG FILE ERROR (replscope, Redis {REDIS_VERSION}) *** at line {} >>> '{line}': {err}",
                    i + 1
                )
            };
            let Some(words) = split_args(line.as_bytes()) else {
                return Err(fatal("Unbalanced quotes in configuration line"));
            };
            let mut words = words
                .into_iter()
                .map(|w| String::from_utf8_lossy(&w).into_owned());
            let Some(name) = words.next() else { continue };
            let values: Vec<String> = words.collect();
            if let Some(outcome) = persistence_option(&name, &values) {
                match outcome {
                    Ok(Some(d)) => dir = Some(d),
                    Ok(None) => {}
                    Err(e) => return Err(fatal(&e)),
                }
                continue;
            }
            let canonical = canonical_name(&name);
            if canonical == "save" && !std::mem::replace(&mut save_seen, true) {
                config.save_params.clear();
            }
            config.apply(&name, &values).map_err(|e| fatal(&e))?;
            if canonical == "bind" {
                if values.len() > MAX_BIND {
                    return Err(fatal(&format!(
                        "Too many bind addresses specified, max {MAX_BIND}"
                    )));
                }
                binds = values;
            }
        }
        Ok(Loaded { config, binds, dir })
    }

    #[derive(Debug)]
    struct Loaded {
        config: Config,
        binds: Vec<String>,
        dir: Option<String>,
    }

    /// `dir`, which Redis applies with chdir(2) while it reads the configuration: a
    /// directory that does not exist stops start-up. `None`: another option;
    /// `Ok(Some(dir))` for `dir`.
    fn persistence_option(name: &str, values: &[String]) -> Option<Result<Option<String>, String>> {
        if canonical_name(name) != "dir" {
            return None;
        }
        Some(match values {
            [d] if std::path::Path::new(d).is_dir() => Ok(Some(d.clone())),
            [_] => Err("No such file or directory".into()),
            _ => Err("wrong number of arguments".into()),
        })
    }

    /// The OS's words for an error, without std's " (os error N)" suffix, as Redis logs
    /// `strerror(errno)`.
    fn os_error_text(e: &io::Error) -> String {
        let text = e.to_string();
        match text.rfind(" (os error ") {
            Some(i) if e.raw_os_error().is_some() => text[..i].to_string(),
            _ => text,
        }
    }

    // ---------------------------------------------------------------- logging

    /// `logfile`, opened for appending; unset: standard output (Redis's `logfile ""`).
    static LOG_FILE: OnceLock<std::fs::File> = OnceLock::new();
    /// `loglevel` as an index into `LEVELS`: the node's current value (CONFIG SET changes it).
    static LOG_LEVEL: AtomicU8 = AtomicU8::new(2);
    /// Redis's level markers, least severe first: debug, verbose, notice, warning.
    const LEVELS: &str = ".-*#";

    /// Writes to the log file or standard output. A closed or full one must not take the
    /// server down.
    fn log_write(bytes: &[u8]) {
        match LOG_FILE.get() {
            Some(mut f) => {
                let _ = f.write_all(bytes);
            }
            None => {
                let _ = io::stdout().lock().write_all(bytes);
            }
        }
    }

    /// Whether a line at `level` (one of `LEVELS`) is printed at the current `loglevel`.
    fn log_shown(level: char) -> bool {
        LEVELS.find(level).unwrap_or(3) >= LOG_LEVEL.load(Ordering::Relaxed) as usize
    }

    /// One log line in Redis's format: `pid:R dd Mon yyyy hh:mm:ss.mmm L text`, where R is
    /// the role (C before the server runs, M master, S replica) and L the level (`.`
    /// debug, `-` verbose, `*` notice, `#` warning). The time is UTC: without a timezone
    /// database we cannot do Redis's local time, and UTC is what the project's machines
    /// and CI run in anyway.
    fn log(level: char, role: char, text: &str) {
        if !log_shown(level) {
            return;
        }
        let ms = now_ms();
        let (secs, milli) = (ms / 1000, ms % 1000);
        let (days, sod) = (secs / 86400, secs % 86400);
        let (y, m, d) = civil_from_days(days as i64);
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let line = format!(
            "{}:{role} {d:02} {} {y} {:02}:{:02}:{:02}.{milli:03} {level} {text}\n",
            std::process::id(),
            MONTHS[(m - 1) as usize],
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        );
        log_write(line.as_bytes());
    }

    /// Redis's start-up banner (`redisAsciiArt`): the logo when asked for
    /// (`always-show-logo`) or when logging to a terminal, a one-line note otherwise. The
    /// logo carries the `PID:` that Redis's test suite waits for.
    fn log_banner(role: char, config: &Config) {
        use std::io::IsTerminal;
        let port = config.port;
        let tty = config.logfile.is_empty() && io::stdout().is_terminal();
        if !(tty || config.always_show_logo) {
            return log('*', role, &format!("Running mode=standalone, port={port}."));
        }
        if !log_shown('*') {
            return;
        }
        let pid = std::process::id();
        let logo = format!(
            r#"                _._                                                  
           _.-``__ ''-._                                             
      _.-``    `.  `_.  ''-._           Redis {REDIS_VERSION} (00000000/0) 64 bit
  .-`` .-```.  ```\/    _.,_ ''-._                                  
 (    '      ,       .-`  | `,    )     Running in standalone mode
 |`-._`-...-` __...-.``-._|'` _.-'|     Port: {port}
 |    `-._   `._    /     _.-'    |     PID: {pid}
  `-._    `-._  `-./  _.-'    _.-'                                   
 |`-._`-._    `-.__.-'    _.-'_.-'|                                  
 |    `-._`-._        _.-'_.-'    |           https://redis.io       
  `-._    `-._`-.__.-'_.-'    _.-'                                   
 |`-._`-._    `-.__.-'    _.-'_.-'|                                  
 |    `-._`-._        _.-'_.-'    |                                  
  `-._    `-._`-.__.-'_.-'    _.-'                                   
      `-._    `-.__.-'    _.-'                                       
          `-._        _.-'                                           
              `-.__.-'                                               

"#
        );
        log_write(logo.as_bytes());
    }

    /// The level Redis logs an engine line at: warning (`#`) for the clients it drops to
    /// protect itself (output and query buffer limits, `LL_WARNING` in networking.c) and
    /// for what DEBUG says (debug.c), notice (`*`) for the rest.
    fn log_level(line: &str) -> char {
        let dropped = line.starts_with("Client ")
            && line.ends_with(" for overcoming of output buffer limits.");
        let warning = [
            "Closing client that reached max query buffer length: ",
            "DEBUG LOG: ",
            "Changing replication IDs after receiving DEBUG",
        ];
        if dropped || warning.iter().any(|w| line.starts_with(w)) {
            '#'
        } else {
            '*'
        }
    }

    /// Days since 1970-01-01 to (year, month 1-12, day 1-31), Howard Hinnant's algorithm.
    fn civil_from_days(z: i64) -> (i64, i64, i64) {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + (m <= 2) as i64, m, d)
    }

    fn now_ms() -> u64 {
        // A clock before 1970 is a broken machine; 0 keeps the engine going regardless.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    }

    /// The engine's random ids (replid, run id, EOF marks) come from this seed: from the
    /// OS's generator, as Redis seeds its own from /dev/urandom.
    fn os_seed() -> u64 {
        let mut bytes = [0u8; 8];
        if std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .is_ok()
        {
            return u64::from_le_bytes(bytes);
        }
        // std's RandomState keys come from the OS too (getrandom), on every platform.
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one((now_ms(), std::process::id()))
    }

    // ---------------------------------------------------------------- the server

    #[derive(Debug, PartialEq, Eq)]
    enum ConnState {
        /// An outgoing connect (`Output::Connect`) in progress.
        Connecting,
        Open,
        /// `Output::Close`: send what is queued, then close. Input is read and dropped so
        /// the close is a FIN, not a reset that could destroy the reply in flight.
        Closing,
    }

    /// A client's socket: TCP, or the `unixsocket` Redis also listens on.
    enum Stream {
        Tcp(TcpStream),
        Unix(UnixStream),
    }

    impl Read for Stream {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self {
                Stream::Tcp(s) => s.read(buf),
                Stream::Unix(s) => s.read(buf),
            }
        }
    }

    impl Write for Stream {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            match self {
                Stream::Tcp(s) => s.write(buf),
                Stream::Unix(s) => s.write(buf),
            }
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl mio::event::Source for Stream {
        fn register(&mut self, r: &mio::Registry, t: Token, i: Interest) -> io::Result<()> {
            match self {
                Stream::Tcp(s) => s.register(r, t, i),
                Stream::Unix(s) => s.register(r, t, i),
            }
        }
        fn reregister(&mut self, r: &mio::Registry, t: Token, i: Interest) -> io::Result<()> {
            match self {
                Stream::Tcp(s) => s.reregister(r, t, i),
                Stream::Unix(s) => s.reregister(r, t, i),
            }
        }
        fn deregister(&mut self, r: &mio::Registry) -> io::Result<()> {
            match self {
                Stream::Tcp(s) => s.deregister(r),
                Stream::Unix(s) => s.deregister(r),
            }
        }
    }

    enum Listener {
        /// A slot with no socket, so the unix socket sits at the token after the TCP ones.
        None,
        Tcp(TcpListener),
        /// The socket's path: what Redis names in its log.
        Unix(UnixListener, String),
    }

    impl Listener {
        /// A new client: its socket, its address and ours as CLIENT LIST shows them
        /// (a unix socket's peer is `/unixsocket:0`, as Redis's anetFdToString names it),
        /// and Redis's verbose log line about it.
        fn accept(&self) -> io::Result<(Stream, PeerAddr, Option<PeerAddr>, String)> {
            let pa = |a: SocketAddr| PeerAddr {
                ip: a.ip().to_string(),
                port: a.port(),
            };
            match self {
                Listener::None => Err(ErrorKind::WouldBlock.into()),
                Listener::Tcp(l) => {
                    let (s, addr) = l.accept()?;
                    // Redis sets TCP_NODELAY on clients: replies are small and latency-bound.
                    let _ = s.set_nodelay(true);
                    let local = s.local_addr().ok().map(pa);
                    Ok((Stream::Tcp(s), pa(addr), local, format!("Accepted {addr}")))
                }
                Listener::Unix(l, path) => {
                    let (s, _) = l.accept()?;
                    let peer = PeerAddr {
                        ip: "/unixsocket".into(),
                        port: 0,
                    };
                    let note = format!("Accepted connection to {path}");
                    Ok((Stream::Unix(s), peer.clone(), Some(peer), note))
                }
            }
        }
    }

    struct Conn {
        stream: Stream,
        state: ConnState,
        out: Vec<u8>,
        /// Bytes of `out` already written.
        out_pos: usize,
        /// Whether WRITABLE is in the registered interest.
        want_write: bool,
    }

    impl Conn {
        fn pending(&self) -> usize {
            self.out.len() - self.out_pos
        }

        /// Writes as much as the socket takes; returns how many bytes it took. `Err` means
        /// the connection is dead.
        fn flush(&mut self) -> io::Result<usize> {
            let before = self.out_pos;
            while self.out_pos < self.out.len() {
                match self.stream.write(&self.out[self.out_pos..]) {
                    Ok(0) => return Err(ErrorKind::WriteZero.into()),
                    Ok(n) => self.out_pos += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
            let written = self.out_pos - before;
            if self.out_pos == self.out.len() {
                self.out.clear();
                self.out_pos = 0;
            } else if self.out_pos > self.out.len() / 2 {
                self.out.drain(..self.out_pos);
                self.out_pos = 0;
            }
            Ok(written)
        }
    }

    struct Server {
        poll: Poll,
        signals: Signals,
        listeners: Vec<Listener>,
        conns: HashMap<ConnId, Conn>,
        node: Node,
        /// Inputs discovered while draining outputs (a connect that failed at once); fed
        /// to the node only after the drain, so outputs are handled in the order queued.
        deferred: VecDeque<Input>,
        /// Connections whose read was cut short by `READS_PER_TURN`.
        more_to_read: BTreeSet<ConnId>,
        /// Connections with queued bytes not yet offered to the socket. Like Redis's
        /// `clients_pending_write`, written once per event-loop turn, just before polling:
        /// a master feeding a replica one propagated command at a time would otherwise
        /// make one write(2) per command, which costs more than executing it.
        pending_writes: BTreeSet<ConnId>,
        read_buf: Vec<u8>,
        shutdown: bool,
        /// The engine ran SHUTDOWN and logged it itself.
        engine_stopped: bool,
    }

    fn token_of(conn: ConnId) -> Token {
        Token(conn as usize + CONN_BASE)
    }

    impl Server {
        /// Binds, creates the node, and prints Redis's start-up lines. Failures are logged
        /// in Redis's words; the caller exits with 1.
        fn start(config: Config, binds: Vec<String>) -> Result<Server, ()> {
            // Redis's role letter: a replica from its configuration on ('S').
            let role = if config.replicaof.is_some() { 'S' } else { 'M' };
            log('*', role, "monotonic clock: POSIX clock_gettime");
            let fail = |what: String| {
                log('#', role, &what);
            };
            let poll = Poll::new().map_err(|e| {
                fail(format!(
                    "Failed creating the event loop. Error message: '{e}'"
                ))
            })?;
            let mut signals = Signals::new([SIGINT, SIGTERM])
                .map_err(|e| fail(format!("Failed to install the signal handlers: {e}")))?;
            poll.registry()
                .register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)
                .map_err(|e| fail(format!("Failed to watch the signal pipe: {e}")))?;

            let port = config.port;
            let mut listeners = Vec::new();
            // Like Redis, port 0 means: do not listen on TCP at all.
            if port != 0 {
                for spec in &binds {
                    let optional = spec.starts_with('-');
                    let host = spec.trim_start_matches('-');
                    let ip: Option<IpAddr> = match host {
                        "*" => Some(IpAddr::from([0u8, 0, 0, 0])),
                        "::*" => Some(IpAddr::from([0u16; 8])),
                        h => h.parse().ok(),
                    };
                    let result = match ip {
                        Some(ip) => TcpListener::bind(SocketAddr::new(ip, port)),
                        None => Err(io::Error::new(ErrorKind::InvalidInput, "Invalid address")),
                    };
                    match result {
                        Ok(mut l) => {
                            let token = Token(LISTENER_BASE + listeners.len());
                            poll.registry()
                                .register(&mut l, token, Interest::READABLE)
                                .map_err(|e| {
                                    fail(format!("Failed to watch the listening socket: {e}"))
                                })?;
                            listeners.push(Listener::Tcp(l));
                        }
                        Err(e) if optional && e.kind() == ErrorKind::AddrNotAvailable => {
                            log(
                                '*',
                                'M',
                                &format!(
                                    "Skipping optional bind address {host}:{port}: {}",
                                    os_error_text(&e)
                                ),
                            );
                        }
                        Err(e) => {
                            fail(format!(
                                "Warning: Could not create server TCP listening socket {host}:{port}: bind: {}",
                                os_error_text(&e)
                            ));
                            fail(format!("Failed listening on port {port} (TCP), aborting."));
                            return Err(());
                        }
                    }
                }
            }
            if !config.pidfile.is_empty() {
                // Best effort, as Redis's createPidFile.
                let _ = std::fs::write(&config.pidfile, format!("{}\n", std::process::id()));
            }
            log_banner(role, &config);
            if !config.unixsocket.is_empty() {
                let path = config.unixsocket.clone();
                // A socket file left by an earlier run would make bind fail.
                let _ = std::fs::remove_file(&path);
                let mut l = UnixListener::bind(&path).map_err(|e| {
                    fail(format!(
                        "Failed opening Unix socket: bind: {}",
                        os_error_text(&e)
                    ))
                })?;
                poll.registry()
                    .register(&mut l, Token(LISTENER_BASE + MAX_BIND), Interest::READABLE)
                    .map_err(|e| fail(format!("Failed to watch the listening socket: {e}")))?;
                while listeners.len() < MAX_BIND {
                    listeners.push(Listener::None);
                }
                listeners.push(Listener::Unix(l, path));
            }
            let node = Node::new(config, now_ms(), os_seed());
            let role = if node.role() == Role::Replica {
                'S'
            } else {
                'M'
            };
            log('#', role, "Server initialized");
            let mut server = Server {
                poll,
                signals,
                listeners,
                conns: HashMap::new(),
                node,
                deferred: VecDeque::new(),
                more_to_read: BTreeSet::new(),
                pending_writes: BTreeSet::new(),
                read_buf: vec![0; READ_CHUNK],
                shutdown: false,
                engine_stopped: false,
            };
            server.pump();
            server.log('*', "Ready to accept connections");
            Ok(server)
        }

        fn log(&self, level: char, text: &str) {
            LOG_LEVEL.store(self.node.config().loglevel, Ordering::Relaxed);
            let role = if self.node.role() == Role::Replica {
                'S'
            } else {
                'M'
            };
            log(level, role, text);
        }

        fn serve(&mut self) -> io::Result<()> {
            let mut events = Events::with_capacity(1024);
            loop {
                let now = now_ms();
                if now >= self.node.next_timer() {
                    self.node.tick(now);
                    self.pump();
                }
                if self.shutdown {
                    self.shut_down();
                    return Ok(());
                }
                self.flush_pending();
                let timeout = if self.more_to_read.is_empty() {
                    Duration::from_millis(self.node.next_timer().saturating_sub(now_ms()))
                } else {
                    Duration::ZERO
                };
                match self.poll.poll(&mut events, Some(timeout)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
                for event in events.iter() {
                    match event.token() {
                        SIGNAL_TOKEN => self.on_signals(),
                        Token(t) if t < CONN_BASE => self.accept_all(t - LISTENER_BASE),
                        Token(t) => {
                            let conn = (t - CONN_BASE) as ConnId;
                            if event.is_writable() || event.is_error() || event.is_write_closed() {
                                self.on_writable(conn);
                            }
                            if event.is_readable() || event.is_read_closed() || event.is_error() {
                                self.more_to_read.insert(conn);
                            }
                        }
                    }
                }
                for conn in std::mem::take(&mut self.more_to_read) {
                    self.read_some(conn);
                }
            }
        }

        fn on_signals(&mut self) {
            for signal in self.signals.pending() {
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                self.log('#', &format!("Received {name} scheduling shutdown..."));
                self.shutdown = true;
            }
        }

        /// Redis's shutdown, minus persistence (there is none): give every connection one
        /// last chance to take its queued bytes, then exit.
        fn shut_down(&mut self) {
            if !self.engine_stopped {
                self.log('#', "User requested shutdown...");
            }
            for conn in self.conns.values_mut() {
                if conn.state != ConnState::Connecting {
                    let _ = conn.flush();
                }
            }
            self.conns.clear();
            if !self.engine_stopped {
                self.remove_pidfile();
                self.log('#', "Redis is now ready to exit, bye bye...");
            }
        }

        /// Redis removes its pid file as the last step of a shutdown, just before its
        /// farewell line.
        fn remove_pidfile(&self) {
            let pidfile = &self.node.config().pidfile;
            if !pidfile.is_empty() {
                self.log('*', "Removing the pid file.");
                let _ = std::fs::remove_file(pidfile);
            }
        }

        fn accept_all(&mut self, index: usize) {
            loop {
                let Some(listener) = self.listeners.get(index) else {
                    return;
                };
                match listener.accept() {
                    Ok((mut stream, peer, local, note)) => {
                        self.log('-', &note);
                        let conn = self.node.accept(now_ms(), peer);
                        if let Some(local) = local {
                            self.node.set_local_addr(conn, local);
                        }
                        if let Err(e) = self.poll.registry().register(
                            &mut stream,
                            token_of(conn),
                            Interest::READABLE,
                        ) {
                            self.log(
                                '#',
                                &format!("Error registering fd event for the new client: {e}"),
                            );
                            self.deferred.push_back(Input::Closed { conn });
                        } else {
                            let c = Conn {
                                stream,
                                state: ConnState::Open,
                                out: Vec::new(),
                                out_pos: 0,
                                want_write: false,
                            };
                            self.conns.insert(conn, c);
                        }
                        self.pump();
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.log(
                            '#',
                            &format!("Accepting client connection: {}", os_error_text(&e)),
                        );
                        return;
                    }
                }
            }
        }

        /// Reads up to `READS_PER_TURN` chunks, feeding each to the node at once.
        fn read_some(&mut self, id: ConnId) {
            for _ in 0..READS_PER_TURN {
                let Some(conn) = self.conns.get_mut(&id) else {
                    return;
                };
                match conn.state {
                    ConnState::Connecting => {
                        self.check_connect(id);
                        return;
                    }
                    ConnState::Open | ConnState::Closing => {}
                }
                let result = conn.stream.read(&mut self.read_buf);
                let closing = conn.state == ConnState::Closing;
                match result {
                    Ok(0) => return self.lost_now(id),
                    Ok(_) if closing => {}
                    Ok(n) => {
                        let data = self.read_buf[..n].to_vec();
                        self.node.handle(now_ms(), Input::Bytes { conn: id, data });
                        self.pump();
                        // The replies to this read go out before the next read, as Redis
                        // writes a client's replies once per event-loop pass: left queued
                        // here while more chunks are read, they would count against the
                        // client's output buffer limit although its peer reads them.
                        self.flush(id);
                        self.pump();
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return self.lost_now(id),
                }
            }
            self.more_to_read.insert(id);
        }

        fn on_writable(&mut self, id: ConnId) {
            let Some(conn) = self.conns.get(&id) else {
                return;
            };
            if conn.state == ConnState::Connecting {
                self.check_connect(id);
            } else {
                self.flush(id);
                self.pump();
            }
        }

        /// The peer closed or the connection broke: the node must know, unless it was the
        /// node that asked for the close. Deferred, because this is also reached from a
        /// failed write while the node's outputs are being drained.
        fn lost(&mut self, id: ConnId) {
            if let Some(mut conn) = self.conns.remove(&id) {
                let _ = self.poll.registry().deregister(&mut conn.stream);
                self.more_to_read.remove(&id);
                if conn.state != ConnState::Closing {
                    self.deferred.push_back(Input::Closed { conn: id });
                }
            }
        }

        fn lost_now(&mut self, id: ConnId) {
            self.lost(id);
            self.pump();
        }

        fn close_now(&mut self, id: ConnId) {
            if let Some(mut conn) = self.conns.remove(&id) {
                let _ = self.poll.registry().deregister(&mut conn.stream);
                self.more_to_read.remove(&id);
            }
        }

        /// Redis's `handleClientsWithPendingWrites`: every connection that got bytes (or a
        /// close) during this turn writes what the socket takes.
        fn flush_pending(&mut self) {
            while !self.pending_writes.is_empty() {
                for conn in std::mem::take(&mut self.pending_writes) {
                    self.flush(conn);
                }
                // A failed write is a lost connection the node must hear about, which may
                // queue more bytes for others.
                self.pump();
            }
        }

        /// Flushes a connection's queue and keeps WRITABLE interest only while bytes wait.
        /// The queue is exactly what the node counts as the client's output buffer, so a
        /// peer that never reads holds no more here than its limits allow: the node drops
        /// it (`Output::Abort`) once over them, and the queue goes with it.
        /// What the socket took is reported to the node (`Input::Written`): until then
        /// those bytes are the client's output buffer, which a replica's
        /// `client-output-buffer-limit` caps. A socket that would block (a peer that stopped
        /// reading) leaves them queued here, as Redis leaves them in its buffers.
        fn flush(&mut self, id: ConnId) {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            if conn.state == ConnState::Connecting {
                return;
            }
            match conn.flush() {
                Err(_) => return self.lost(id),
                Ok(0) => {}
                Ok(written) => self.deferred.push_back(Input::Written {
                    conn: id,
                    bytes: written as u64,
                }),
            }
            if conn.pending() == 0 && conn.state == ConnState::Closing {
                return self.close_now(id);
            }
            let want = conn.pending() > 0;
            if want != conn.want_write {
                conn.want_write = want;
                let interest = if want {
                    Interest::READABLE | Interest::WRITABLE
                } else {
                    Interest::READABLE
                };
                if self
                    .poll
                    .registry()
                    .reregister(&mut conn.stream, token_of(id), interest)
                    .is_err()
                {
                    self.lost(id);
                }
            }
        }

        /// Settles a non-blocking connect: connected, failed, or still in progress.
        fn check_connect(&mut self, id: ConnId) {
            let Some(conn) = self.conns.get_mut(&id) else {
                return;
            };
            // Only outgoing connections (to a master) are ever in progress: always TCP.
            let Stream::Tcp(stream) = &conn.stream else {
                return;
            };
            let failure = match stream.take_error() {
                Ok(Some(e)) | Err(e) => Some(e),
                Ok(None) => match stream.peer_addr() {
                    Ok(_) => None,
                    Err(e) if e.kind() == ErrorKind::NotConnected => return,
                    Err(e) => Some(e),
                },
            };
            match failure {
                Some(e) => {
                    self.close_now(id);
                    self.deferred.push_back(Input::ConnectFailed {
                        conn: id,
                        reason: os_error_text(&e),
                    });
                }
                None => {
                    conn.state = ConnState::Open;
                    if let Stream::Tcp(s) = &conn.stream {
                        let _ = s.set_nodelay(true);
                    }
                    self.deferred.push_back(Input::Connected { conn: id });
                    // Anything the node queued before the connect completed goes now.
                    self.flush(id);
                    // Edge-triggered: bytes may already be waiting.
                    self.more_to_read.insert(id);
                }
            }
            self.pump();
        }

        fn connect(&mut self, id: ConnId, host: &str, port: u16) {
            // Name resolution is synchronous (getaddrinfo), as it is in Redis's own
            // `anetTcpNonBlockConnect`; masters are normally given as addresses.
            let addr = match (host, port).to_socket_addrs().map(|mut a| a.next()) {
                Ok(Some(a)) => a,
                Ok(None) => {
                    let reason = "No address associated with hostname".to_string();
                    return self
                        .deferred
                        .push_back(Input::ConnectFailed { conn: id, reason });
                }
                Err(e) => {
                    return self.deferred.push_back(Input::ConnectFailed {
                        conn: id,
                        reason: os_error_text(&e),
                    })
                }
            };
            let mut stream = match TcpStream::connect(addr) {
                Ok(s) => s,
                Err(e) => {
                    return self.deferred.push_back(Input::ConnectFailed {
                        conn: id,
                        reason: os_error_text(&e),
                    })
                }
            };
            if let Err(e) = self.poll.registry().register(
                &mut stream,
                token_of(id),
                Interest::READABLE | Interest::WRITABLE,
            ) {
                return self.deferred.push_back(Input::ConnectFailed {
                    conn: id,
                    reason: os_error_text(&e),
                });
            }
            let c = Conn {
                stream: Stream::Tcp(stream),
                state: ConnState::Connecting,
                out: Vec::new(),
                out_pos: 0,
                want_write: true,
            };
            self.conns.insert(id, c);
        }

        /// Acts on everything the node queued, then feeds it any inputs that produced,
        /// until both are exhausted.
        fn pump(&mut self) {
            loop {
                while let Some(output) = self.node.poll_output() {
                    match output {
                        Output::Send { conn, data } => {
                            if let Some(c) = self.conns.get_mut(&conn) {
                                if c.state == ConnState::Closing {
                                    continue;
                                }
                                c.out.extend_from_slice(&data);
                                self.pending_writes.insert(conn);
                            }
                        }
                        Output::Connect { conn, host, port } => self.connect(conn, &host, port),
                        // The node dropped the client (its output buffer overflowed): what is
                        // still queued here is thrown away, as Redis frees it.
                        Output::Abort { conn } => self.close_now(conn),
                        Output::Close { conn } => match self.conns.get_mut(&conn) {
                            Some(c) if c.state == ConnState::Connecting => self.close_now(conn),
                            Some(c) => {
                                c.state = ConnState::Closing;
                                self.pending_writes.insert(conn);
                            }
                            None => {}
                        },
                        // The engine's stand-in for Redis's start-up lines, which this
                        // host prints itself.
                        Output::Event(Event::Log(line))
                            if line.ends_with("replscope engine, just started") => {}
                        Output::Event(Event::Log(line)) => {
                            if line == "Redis is now ready to exit, bye bye..." {
                                self.remove_pidfile();
                            }
                            self.log(log_level(&line), &line)
                        }
                        // SHUTDOWN: the node said its last words and closed everything;
                        // the process ends once those closes are flushed.
                        Output::Event(Event::Shutdown) => {
                            self.shutdown = true;
                            self.engine_stopped = true;
                        }
                        // The structured events are for the playground's drawings.
                        Output::Event(_) => {}
                    }
                }
                match self.deferred.pop_front() {
                    Some(input) => self.node.handle(now_ms(), input),
                    None => return,
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn dates_are_civil() {
            assert_eq!(civil_from_days(0), (1970, 1, 1));
            assert_eq!(civil_from_days(19_723), (2024, 1, 1));
            assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        }

        #[test]
        fn client_drops_are_warnings_as_in_redis() {
            assert_eq!(log_level("Client id=3 addr=127.0.0.1:5 cmd=get scheduled to be closed ASAP for overcoming of output buffer limits."), '#');
            assert_eq!(log_level("Client id=3 addr=127.0.0.1:5 cmd=get closed for overcoming of output buffer limits."), '#');
            assert_eq!(log_level("Closing client that reached max query buffer length: id=3 (qbuf initial bytes: \"x\")"), '#');
            assert_eq!(
                log_level("Connection with replica 127.0.0.1:6380 lost."),
                '*'
            );
        }

        #[test]
        fn command_line_becomes_config_lines() {
            let args = |s: &[&str]| s.iter().map(|a| a.to_string()).collect::<Vec<_>>();
            let l = load_config(&args(&[
                "--port",
                "7001",
                "--replicaof",
                "127.0.0.1",
                "7000",
                "--bind",
                "0.0.0.0",
                "::1",
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(l.config.port, 7001);
            assert_eq!(l.config.replicaof, Some(("127.0.0.1".into(), 7000)));
            assert_eq!(l.binds, vec!["0.0.0.0".to_string(), "::1".to_string()]);
            // redis-server's usual persistence and process options.
            let l = load_config(&args(&[
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                "/",
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(l.dir.as_deref(), Some("/"));
            assert!(l.config.save_params.is_empty());
            assert!(
                load_config(&args(&["--save"])).is_ok(),
                "a bare --save means save \"\""
            );
            // The first save line replaces the default points, later ones add to them.
            let l = load_config(&args(&["--save", "900", "1", "--save", "60 10000"]))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(l.config.save_params, vec![(900, 1), (60, 10000)]);
            let err = load_config(&args(&["--save", "0", "1"])).unwrap_err();
            assert!(
                err.ends_with("'save \"0\" \"1\"': Invalid save parameters"),
                "{err}"
            );
            let err = load_config(&args(&["--appendonly", "yes"])).unwrap_err();
            assert!(err.contains("writes no AOF"), "{err}");
            assert!(load_config(&args(&["--dir", "/no/such/dir"])).is_err());
            let err = load_config(&args(&["--port", "70000"])).unwrap_err();
            assert!(err.contains("at line 2 >>> 'port \"70000\"': argument must be between 0 and 65535 inclusive"), "{err}");
            let err = load_config(&args(&["--no-such", "1"])).unwrap_err();
            assert!(
                err.ends_with("Bad directive or wrong number of arguments"),
                "{err}"
            );
            assert!(!err.contains('\n'));
            // A multi-word option as one argument, as redis-server takes it.
            let l = load_config(&args(&[
                "--client-output-buffer-limit",
                "normal 64mb 32mb 10",
                "--maxclients",
                "5",
            ]))
            .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                l.config.client_output_buffer_limit[0],
                (64 << 20, 32 << 20, 10)
            );
            assert_eq!(l.config.maxclients, 5);
            // The value of an option given alone may itself start with `--`.
            let err = load_config(&args(&["--port", "--hz"])).unwrap_err();
            assert!(err.contains("'port \"--hz\"'"), "{err}");
        }
    }
}
