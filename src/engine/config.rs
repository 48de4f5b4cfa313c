//! Server configuration with Redis's option names, defaults and value syntax.
//!
//! One table ([`OPTIONS`]) serves `replscope-server`'s command line / config file and
//! `CONFIG GET/SET`, so an option means the same thing everywhere, is parsed by the same
//! rules as Redis 7.0's `config.c` (bool / integer / memory / string / enum / special),
//! and fails with the same error text.
//!
//! Some options are kept only so that `CONFIG GET` and `CONFIG SET` answer as Redis does
//! (`repl-disable-tcp-nodelay`, `replica-lazy-flush`, the pubsub class of
//! `client-output-buffer-limit`, ...):
//! they describe socket or memory behaviour this engine does not model, and changing them
//! changes nothing else. Options whose other values the engine cannot honour
//! (`repl-diskless-load`, `save`, `appendonly`, `port`, `bind`) accept exactly the value
//! that describes what the engine does and refuse the rest.
//!
//! Options about the host process, its disk or what the engine does not model
//! (`loglevel`, `logfile`, `pidfile`, `unixsocket`, `dir`, `dbfilename`, `timeout`,
//! `notify-keyspace-events`, the AOF's, the `enable-*` ones, ...) are replscope-server's
//! only: the page's CONFIG knows the options it models, and leaves these out of its
//! download.
//!
//! One option is replscope's own, and named so that nobody mistakes it for Redis's:
//! `replscope-sync-protocol` (`psync2`, the default, | `psync1` | `sync`) makes the node
//! speak the replication protocol of an older Redis, to show why PSYNC and then PSYNC2
//! exist (see [`SyncProtocol`]). It is set like any other option (command line, config
//! file, `CONFIG SET`), and `CONFIG GET` shows it when asked by its full name; glob
//! patterns (`CONFIG GET *`, `repl*`) leave it out, so that they answer exactly what
//! Redis 7.0 answers.

use super::c_string::c_str;

/// One Redis server's settings (Redis 7.0 defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bind: String,
    pub port: u16,
    pub requirepass: Option<Vec<u8>>,
    pub masterauth: Option<Vec<u8>>,
    pub masteruser: Option<Vec<u8>>,
    pub replicaof: Option<(String, u16)>,
    pub repl_backlog_size: u64,
    pub repl_backlog_ttl: u64,
    pub repl_diskless_sync: bool,
    pub repl_diskless_sync_delay: u64,
    /// Microseconds a BGSAVE child sleeps per key (a negative value: one every that many
    /// keys), Redis's hidden testing option.
    pub rdb_key_save_delay: i64,
    pub repl_diskless_sync_max_replicas: u64,
    pub repl_disable_tcp_nodelay: bool,
    pub repl_ping_replica_period: u64,
    pub repl_timeout: u64,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    pub replica_announce_ip: Option<String>,
    pub replica_announce_port: u16,
    pub replica_priority: u64,
    pub replica_lazy_flush: bool,
    pub replica_ignore_maxmemory: bool,
    pub replica_announced: bool,
    pub replica_ignore_disk_write_errors: bool,
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag: u64,
    /// `client-output-buffer-limit` for normal, replica and pubsub clients:
    /// (hard bytes, soft bytes, soft seconds). The replica class is enforced by
    /// `replication::output_buffer`, the normal one by `client_limits` (the engine has no
    /// SUBSCRIBE, so no client is ever in the pubsub class).
    pub client_output_buffer_limit: [(u64, u64, u64); 3],
    /// `protected-mode`: without a password, only loopback clients are served.
    pub protected_mode: bool,
    /// `maxclients`: connections beyond it are refused at accept.
    pub maxclients: u64,
    /// `client-query-buffer-limit`: a client whose unprocessed input grows past it is closed.
    pub client_query_buffer_limit: u64,
    pub proto_max_bulk_len: u64,
    pub hz: u32,
    /// `replscope-sync-protocol`: which era's replication protocol this node speaks.
    pub sync_protocol: SyncProtocol,
    /// Compress strings in RDB snapshots with LZF (what the master sends in a full sync).
    pub rdbcompression: bool,
    /// `save`: the (seconds, changes) points after which Redis snapshots in the background,
    /// in the order given.
    pub save_params: Vec<(u64, u64)>,
    /// `notify-keyspace-events` as Redis's flag bits (see [`NOTIFY_CLASSES`]). Kept for
    /// CONFIG GET/SET only: there is no pub/sub to deliver events on yet.
    #[cfg(not(target_arch = "wasm32"))]
    pub notify_keyspace_events: u16,
    /// `loglevel`: an index into [`LOGLEVELS`]; lines below it are not printed.
    #[cfg(not(target_arch = "wasm32"))]
    pub loglevel: u8,
    /// `logfile` (empty: standard output) and `pidfile`: the host process's files.
    #[cfg(not(target_arch = "wasm32"))]
    pub logfile: String,
    #[cfg(not(target_arch = "wasm32"))]
    pub pidfile: String,
    /// `unixsocket`: the path the host also listens on (empty: none).
    #[cfg(not(target_arch = "wasm32"))]
    pub unixsocket: String,
    #[cfg(not(target_arch = "wasm32"))]
    pub always_show_logo: bool,
    #[cfg(not(target_arch = "wasm32"))]
    pub dbfilename: String,
    /// `dir`: where the host keeps its files; CONFIG GET shows it.
    #[cfg(not(target_arch = "wasm32"))]
    pub dir: String,
    /// `enable-protected-configs`, `enable-debug-command`, `enable-module-command`: an
    /// index into [`PROTECTED_ACTION`].
    #[cfg(not(target_arch = "wasm32"))]
    pub enable_protected_configs: u8,
    #[cfg(not(target_arch = "wasm32"))]
    pub enable_debug_command: u8,
    #[cfg(not(target_arch = "wasm32"))]
    pub enable_module_command: u8,
    /// Options with no effect here, kept so CONFIG GET/SET answer as Redis does:
    /// `timeout`, `latency-monitor-threshold`, `activerehashing`, the AOF's `appendfsync`
    /// (index into [`APPENDFSYNC`]) and `no-appendfsync-on-rewrite`, and
    /// `propagation-error-behavior` (index into [`PROPAGATION_ERROR_BEHAVIOR`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub timeout: u64,
    #[cfg(not(target_arch = "wasm32"))]
    pub latency_monitor_threshold: u64,
    #[cfg(not(target_arch = "wasm32"))]
    pub activerehashing: bool,
    #[cfg(not(target_arch = "wasm32"))]
    pub appendfsync: u8,
    #[cfg(not(target_arch = "wasm32"))]
    pub no_appendfsync_on_rewrite: bool,
    #[cfg(not(target_arch = "wasm32"))]
    pub propagation_error_behavior: u8,
}

#[cfg(not(target_arch = "wasm32"))]
/// `loglevel`'s values, least severe first.
pub const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];
#[cfg(not(target_arch = "wasm32"))]
pub const APPENDFSYNC: &[&str] = &["everysec", "always", "no"];
#[cfg(not(target_arch = "wasm32"))]
/// `enable-*-command` / `enable-protected-configs`: never, always, from loopback only.
pub const PROTECTED_ACTION: &[&str] = &["no", "yes", "local"];
#[cfg(not(target_arch = "wasm32"))]
pub const PROPAGATION_ERROR_BEHAVIOR: &[&str] = &["ignore", "panic", "panic-on-replicas"];
#[cfg(not(target_arch = "wasm32"))]
/// `notify-keyspace-events` class characters by flag bit, as Redis's `NOTIFY_*` numbers
/// them (bit 12, module-only "loaded", has no character).
pub const NOTIFY_CLASSES: &[u8; 15] = b"KEg$lshzxetm dn";
#[cfg(not(target_arch = "wasm32"))]
/// Redis's `NOTIFY_ALL` (`A`): every class but K, E, m (key miss) and n (new).
const NOTIFY_ALL: u16 = 0x27fc;

#[cfg(not(target_arch = "wasm32"))]
/// Whether a protected action set to `setting` ([`PROTECTED_ACTION`]) is allowed to a
/// client, local meaning a loopback or unix-socket peer (Redis's `allowProtectedAction`).
pub fn allows_protected(setting: u8, peer_ip: &str) -> bool {
    setting == 1 || (setting == 2 && matches!(peer_ip, "127.0.0.1" | "::1" | "/unixsocket"))
}

#[cfg(not(target_arch = "wasm32"))]
/// `notify-keyspace-events` text to flags (`keyspaceEventsStringToFlags`); `None` for a
/// character that names no class.
pub fn notify_flags(classes: &[u8]) -> Option<u16> {
    classes.iter().try_fold(0u16, |flags, &c| {
        let bit = match c {
            b'A' => NOTIFY_ALL,
            b' ' => return None,
            _ => 1 << NOTIFY_CLASSES.iter().position(|&n| n == c)?,
        };
        Some(flags | bit)
    })
}

#[cfg(not(target_arch = "wasm32"))]
/// The flags back to text, in Redis's order (`keyspaceEventsFlagsToString`).
pub fn notify_text(flags: u16) -> String {
    let mut bits: Vec<usize> = if flags & NOTIFY_ALL == NOTIFY_ALL {
        Vec::new()
    } else {
        (2..=10).chain([13, 14]).collect()
    };
    bits.extend([0, 1, 11]);
    let mut out = String::new();
    if bits.len() == 3 {
        out.push('A');
    }
    for b in bits {
        if flags & 1 << b != 0 {
            out.push(NOTIFY_CLASSES[b] as char);
        }
    }
    out
}

/// The replication protocol a node speaks, both as a replica (its handshake) and as a
/// master (how it answers PSYNC/SYNC). Anything but the default is a teaching mode: it
/// reproduces what Redis did before 4.0, so the playground can show the problem each
/// newer protocol solved. A change takes effect at the next handshake or sync request;
/// links that are up stay as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SyncProtocol {
    /// Redis 4.0+ (here 7.0): `PSYNC <replid> <offset>`. A history is named by a
    /// replication id, and a promoted replica keeps its former master's id as `replid2`,
    /// so its former siblings continue partially.
    #[default]
    Psync2,
    /// Redis 2.8–3.2: `PSYNC <run id> <offset>`. A history is named by the run id of the
    /// server that started it, so only that very process can continue it: a promoted
    /// replica (another run id) or a restarted master (a new run id) makes every replica
    /// download a full snapshot. No `replid2`, and `+CONTINUE` never carries an id.
    Psync1,
    /// Redis before 2.8: `SYNC`. No id, no offset: every connection, even after the
    /// shortest network blip, is a full resynchronization; the replica never ACKs. As a
    /// master the node answers PSYNC as a 2.6 server did (unknown command), and newer
    /// replicas fall back to SYNC.
    Sync,
}

impl SyncProtocol {
    pub const NAMES: &'static [&'static str] = &["psync2", "psync1", "sync"];

    /// The value `CONFIG GET replscope-sync-protocol` shows.
    pub fn name(self) -> &'static str {
        match self {
            SyncProtocol::Psync2 => "psync2",
            SyncProtocol::Psync1 => "psync1",
            SyncProtocol::Sync => "sync",
        }
    }

    /// A value as given to CONFIG SET or on the command line (any case).
    pub fn parse(s: &str) -> Option<SyncProtocol> {
        [
            SyncProtocol::Psync2,
            SyncProtocol::Psync1,
            SyncProtocol::Sync,
        ]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(s))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1".into(),
            port: 6379,
            requirepass: None,
            masterauth: None,
            masteruser: None,
            replicaof: None,
            repl_backlog_size: 1024 * 1024,
            repl_backlog_ttl: 3600,
            repl_diskless_sync: true,
            repl_diskless_sync_delay: 5,
            rdb_key_save_delay: 0,
            repl_diskless_sync_max_replicas: 0,
            repl_disable_tcp_nodelay: false,
            repl_ping_replica_period: 10,
            repl_timeout: 60,
            replica_read_only: true,
            replica_serve_stale_data: true,
            replica_announce_ip: None,
            replica_announce_port: 0,
            replica_priority: 100,
            replica_lazy_flush: false,
            replica_ignore_maxmemory: true,
            replica_announced: true,
            replica_ignore_disk_write_errors: false,
            min_replicas_to_write: 0,
            min_replicas_max_lag: 10,
            client_output_buffer_limit: [
                (0, 0, 0),
                (256 << 20, 64 << 20, 60),
                (32 << 20, 8 << 20, 60),
            ],
            protected_mode: true,
            maxclients: 10000,
            client_query_buffer_limit: 1 << 30,
            proto_max_bulk_len: 512 * 1024 * 1024,
            hz: 10,
            sync_protocol: SyncProtocol::Psync2,
            rdbcompression: true,
            save_params: vec![(3600, 1), (300, 100), (60, 10000)],
            #[cfg(not(target_arch = "wasm32"))]
            notify_keyspace_events: 0,
            #[cfg(not(target_arch = "wasm32"))]
            loglevel: 2,
            #[cfg(not(target_arch = "wasm32"))]
            logfile: String::new(),
            #[cfg(not(target_arch = "wasm32"))]
            pidfile: String::new(),
            #[cfg(not(target_arch = "wasm32"))]
            unixsocket: String::new(),
            #[cfg(not(target_arch = "wasm32"))]
            always_show_logo: false,
            #[cfg(not(target_arch = "wasm32"))]
            dbfilename: "dump.rdb".into(),
            // What Debian's redis.conf sets; replscope-server shows its working directory.
            #[cfg(not(target_arch = "wasm32"))]
            dir: "/var/lib/redis".into(),
            #[cfg(not(target_arch = "wasm32"))]
            enable_protected_configs: 0,
            #[cfg(not(target_arch = "wasm32"))]
            enable_debug_command: 0,
            #[cfg(not(target_arch = "wasm32"))]
            enable_module_command: 0,
            #[cfg(not(target_arch = "wasm32"))]
            timeout: 0,
            #[cfg(not(target_arch = "wasm32"))]
            latency_monitor_threshold: 0,
            #[cfg(not(target_arch = "wasm32"))]
            activerehashing: true,
            #[cfg(not(target_arch = "wasm32"))]
            appendfsync: 0,
            #[cfg(not(target_arch = "wasm32"))]
            no_appendfsync_on_rewrite: false,
            #[cfg(not(target_arch = "wasm32"))]
            propagation_error_behavior: 0,
        }
    }
}

/// Smallest backlog Redis allows (CONFIG SET rounds smaller values up to it).
pub const MIN_BACKLOG_SIZE: u64 = 16 * 1024;

/// How an option's value is written and checked (Redis's config types).
#[derive(Debug, Clone, Copy)]
enum Ty {
    /// yes / no.
    Bool,
    /// A plain integer (`string2ll`), inclusive bounds.
    Int {
        min: i64,
        max: i64,
    },
    /// A memory value (`1kb`, `1m`, ...), inclusive bounds.
    Mem {
        min: i64,
        max: i64,
    },
    /// A string; empty means unset.
    Str,
    Enum(&'static [&'static str]),
    /// Its own syntax (multi-word values and their own checks).
    Special,
}

/// One configuration option as `CONFIG GET/SET` and the config file know it.
#[derive(Debug)]
pub struct OptionSpec {
    pub name: &'static str,
    /// The old `slave-*` spelling, if any (a name of its own for CONFIG GET patterns).
    pub alias: Option<&'static str>,
    ty: Ty,
    /// Only settable at start-up: CONFIG SET refuses it.
    pub immutable: bool,
    /// The value is several space-separated words.
    pub multi_arg: bool,
}

const fn opt(name: &'static str, alias: Option<&'static str>, ty: Ty) -> OptionSpec {
    OptionSpec {
        name,
        alias,
        ty,
        immutable: false,
        multi_arg: false,
    }
}

const INT_MAX: i64 = i32::MAX as i64;

/// The options this engine knows, in the order `CONFIG GET` lists them. (Redis lists
/// several matches in the order of a hash table seeded at random on every start, so no
/// order is "the" order; this one is stable.)
pub static OPTIONS: &[OptionSpec] = &[
    #[cfg(not(target_arch = "wasm32"))]
    opt("activerehashing", None, Ty::Bool),
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "always-show-logo",
        alias: None,
        ty: Ty::Bool,
        immutable: true,
        multi_arg: false,
    },
    #[cfg(not(target_arch = "wasm32"))]
    opt("appendfsync", None, Ty::Enum(APPENDFSYNC)),
    OptionSpec {
        name: "appendonly",
        alias: None,
        ty: Ty::Bool,
        immutable: false,
        multi_arg: false,
    },
    OptionSpec {
        name: "bind",
        alias: None,
        ty: Ty::Special,
        immutable: false,
        multi_arg: true,
    },
    OptionSpec {
        name: "client-output-buffer-limit",
        alias: None,
        ty: Ty::Special,
        immutable: false,
        multi_arg: true,
    },
    opt(
        "client-query-buffer-limit",
        None,
        Ty::Mem {
            min: 1024 * 1024,
            max: i64::MAX,
        },
    ),
    OptionSpec {
        name: "daemonize",
        alias: None,
        ty: Ty::Bool,
        immutable: true,
        multi_arg: false,
    },
    OptionSpec {
        name: "databases",
        alias: None,
        ty: Ty::Int {
            min: 1,
            max: INT_MAX,
        },
        immutable: true,
        multi_arg: false,
    },
    #[cfg(not(target_arch = "wasm32"))]
    opt("dbfilename", None, Ty::Str),
    #[cfg(not(target_arch = "wasm32"))]
    opt("dir", None, Ty::Special),
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "enable-debug-command",
        alias: None,
        ty: Ty::Enum(PROTECTED_ACTION),
        immutable: true,
        multi_arg: false,
    },
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "enable-module-command",
        alias: None,
        ty: Ty::Enum(PROTECTED_ACTION),
        immutable: true,
        multi_arg: false,
    },
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "enable-protected-configs",
        alias: None,
        ty: Ty::Enum(PROTECTED_ACTION),
        immutable: true,
        multi_arg: false,
    },
    opt(
        "hz",
        None,
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    #[cfg(not(target_arch = "wasm32"))]
    opt(
        "latency-monitor-threshold",
        None,
        Ty::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "logfile",
        alias: None,
        ty: Ty::Str,
        immutable: true,
        multi_arg: false,
    },
    #[cfg(not(target_arch = "wasm32"))]
    opt("loglevel", None, Ty::Enum(LOGLEVELS)),
    opt("masterauth", None, Ty::Str),
    opt("masteruser", None, Ty::Str),
    opt(
        "maxclients",
        None,
        Ty::Int {
            min: 1,
            max: u32::MAX as i64,
        },
    ),
    opt(
        "min-replicas-max-lag",
        Some("min-slaves-max-lag"),
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    opt(
        "min-replicas-to-write",
        Some("min-slaves-to-write"),
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    #[cfg(not(target_arch = "wasm32"))]
    opt("no-appendfsync-on-rewrite", None, Ty::Bool),
    #[cfg(not(target_arch = "wasm32"))]
    opt("notify-keyspace-events", None, Ty::Special),
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "pidfile",
        alias: None,
        ty: Ty::Str,
        immutable: true,
        multi_arg: false,
    },
    opt("port", None, Ty::Int { min: 0, max: 65535 }),
    #[cfg(not(target_arch = "wasm32"))]
    opt(
        "propagation-error-behavior",
        None,
        Ty::Enum(PROPAGATION_ERROR_BEHAVIOR),
    ),
    opt("protected-mode", None, Ty::Bool),
    opt(
        "proto-max-bulk-len",
        None,
        Ty::Mem {
            min: 1024 * 1024,
            max: i64::MAX,
        },
    ),
    opt(
        "rdb-key-save-delay",
        None,
        Ty::Int {
            min: i32::MIN as i64,
            max: INT_MAX,
        },
    ),
    opt("rdbcompression", None, Ty::Bool),
    opt(
        "repl-backlog-size",
        None,
        Ty::Mem {
            min: 1,
            max: i64::MAX,
        },
    ),
    opt(
        "repl-backlog-ttl",
        None,
        Ty::Int {
            min: 0,
            max: i64::MAX,
        },
    ),
    opt("repl-disable-tcp-nodelay", None, Ty::Bool),
    opt(
        "repl-diskless-load",
        None,
        Ty::Enum(&["disabled", "on-empty-db", "swapdb"]),
    ),
    opt("repl-diskless-sync", None, Ty::Bool),
    opt(
        "repl-diskless-sync-delay",
        None,
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    opt(
        "repl-diskless-sync-max-replicas",
        None,
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    opt(
        "repl-ping-replica-period",
        Some("repl-ping-slave-period"),
        Ty::Int {
            min: 1,
            max: INT_MAX,
        },
    ),
    opt(
        "repl-timeout",
        None,
        Ty::Int {
            min: 1,
            max: INT_MAX,
        },
    ),
    opt("replica-announce-ip", Some("slave-announce-ip"), Ty::Str),
    opt(
        "replica-announce-port",
        Some("slave-announce-port"),
        Ty::Int { min: 0, max: 65535 },
    ),
    opt("replica-announced", None, Ty::Bool),
    opt("replica-ignore-disk-write-errors", None, Ty::Bool),
    opt(
        "replica-ignore-maxmemory",
        Some("slave-ignore-maxmemory"),
        Ty::Bool,
    ),
    opt("replica-lazy-flush", Some("slave-lazy-flush"), Ty::Bool),
    opt(
        "replica-priority",
        Some("slave-priority"),
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    opt("replica-read-only", Some("slave-read-only"), Ty::Bool),
    opt(
        "replica-serve-stale-data",
        Some("slave-serve-stale-data"),
        Ty::Bool,
    ),
    OptionSpec {
        name: "replicaof",
        alias: Some("slaveof"),
        ty: Ty::Special,
        immutable: true,
        multi_arg: true,
    },
    opt(REPLSCOPE_SYNC_PROTOCOL, None, Ty::Enum(SyncProtocol::NAMES)),
    opt("requirepass", None, Ty::Str),
    OptionSpec {
        name: "save",
        alias: None,
        ty: Ty::Special,
        immutable: false,
        multi_arg: true,
    },
    #[cfg(not(target_arch = "wasm32"))]
    opt(
        "timeout",
        None,
        Ty::Int {
            min: 0,
            max: INT_MAX,
        },
    ),
    #[cfg(not(target_arch = "wasm32"))]
    OptionSpec {
        name: "unixsocket",
        alias: None,
        ty: Ty::Str,
        immutable: true,
        multi_arg: false,
    },
];

#[cfg(not(target_arch = "wasm32"))]
/// Whether CONFIG SET needs `enable-protected-configs` to allow the client (Redis's
/// `PROTECTED_CONFIG`: options that name files the server writes).
pub fn is_protected(spec: &OptionSpec) -> bool {
    matches!(spec.name, "dir" | "dbfilename")
}

/// replscope's own option (Redis has none like it): see [`SyncProtocol`].
pub const REPLSCOPE_SYNC_PROTOCOL: &str = "replscope-sync-protocol";

/// Whether glob patterns leave an option out: replscope's own, and those Redis hides
/// (`HIDDEN_CONFIG`, for its tests).
fn is_hidden(spec: &OptionSpec) -> bool {
    spec.name.starts_with("replscope-") || spec.name == "rdb-key-save-delay"
}

/// The option called `name` (its own name or its alias, any case).
pub fn lookup_option(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| {
        o.name.eq_ignore_ascii_case(name) || o.alias.is_some_and(|a| a.eq_ignore_ascii_case(name))
    })
}

/// Every name an option answers to, with its option: the names `CONFIG GET` patterns
/// are matched against (aliases included, as in Redis). replscope's own options are not
/// among them: a pattern answers what Redis 7.0 answers, and they are shown only when
/// asked for by name.
pub fn option_names() -> impl Iterator<Item = (&'static str, &'static OptionSpec)> {
    OPTIONS
        .iter()
        .filter(|o| !is_hidden(o))
        .flat_map(|o| std::iter::once((o.name, o)).chain(o.alias.map(|a| (a, o))))
}

/// Lower-case canonical name of an option, or of an unknown one.
pub fn canonical_name(name: &str) -> String {
    lookup_option(name)
        .map(|o| o.name.to_string())
        .unwrap_or_else(|| name.to_ascii_lowercase())
}

impl Config {
    /// Applies one option given as in redis.conf (`name` and its argument words).
    /// The error text is what redis-server prints for a bad config line.
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let Some(spec) = lookup_option(name) else {
            return Err("Bad directive or wrong number of arguments".into());
        };
        if !spec.multi_arg && args.len() != 1 {
            return Err("wrong number of arguments".into());
        }
        let mut words: Vec<Vec<u8>> = args.iter().map(|a| a.as_bytes().to_vec()).collect();
        // A multi-word option given as one non-empty argument (`--client-output-buffer-limit
        // "normal 64mb 32mb 10"`) is split into its words, as redis-server's config loader
        // does; an empty one stays whole, so `--save ""` still means no snapshots.
        if let ([one], true) = (words.as_slice(), spec.multi_arg) {
            if !one.is_empty() {
                if let Some(split) = super::resp::split_args(one) {
                    words = split;
                }
            }
        }
        self.set_words(spec, &words, true)
    }

    /// `CONFIG SET name value` for one option: a multi-word option's value is split on
    /// single spaces, as Redis does. `Err` is the reason, in Redis's words.
    pub fn set_option(&mut self, spec: &OptionSpec, value: &[u8]) -> Result<(), String> {
        let words: Vec<Vec<u8>> = if spec.multi_arg {
            if value.is_empty() {
                Vec::new()
            } else {
                value.split(|&b| b == b' ').map(|w| w.to_vec()).collect()
            }
        } else {
            vec![value.to_vec()]
        };
        self.set_words(spec, &words, false)
    }

    fn set_words(
        &mut self,
        spec: &OptionSpec,
        words: &[Vec<u8>],
        from_file: bool,
    ) -> Result<(), String> {
        let text = |w: &[u8]| String::from_utf8_lossy(c_str(w)).into_owned();
        let one = words.first().map(|w| w.as_slice()).unwrap_or_default();
        match spec.ty {
            Ty::Bool => {
                let v = parse_bool(&text(one))?;
                self.set_bool(spec.name, v)
            }
            Ty::Int { min, max } => {
                let v = crate::engine::resp::parse_i64(c_str(one))
                    .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?;
                check_bounds(v, min, max)?;
                if spec.name == "port" && !from_file && v != self.port as i64 {
                    // The engine owns no sockets: listening elsewhere is the host's job.
                    return Err("Unable to listen on this port. Check server logs.".into());
                }
                self.set_int(spec.name, v)
            }
            Ty::Mem { min, max } => {
                // Redis parses into an unsigned value and stores it in a signed one: a
                // huge value wraps negative and fails the bounds check.
                let v = memtoull(&text(one))
                    .ok_or_else(|| "argument must be a memory value".to_string())?
                    as i64;
                check_bounds(v, min, max)?;
                self.set_int(spec.name, v)
            }
            Ty::Str => {
                let v = match spec.name {
                    // An SDS option: binary-safe.
                    "requirepass" | "masterauth" => one.to_vec(),
                    _ => c_str(one).to_vec(),
                };
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(field) = self.host_string(spec.name) {
                    if spec.name == "dbfilename" && (v.contains(&b'/') || v.contains(&b'\\')) {
                        return Err("dbfilename can't be a path, just a filename".into());
                    }
                    *field = String::from_utf8_lossy(&v).into_owned();
                    return Ok(());
                }
                let v = (!v.is_empty()).then_some(v);
                match spec.name {
                    "requirepass" => self.requirepass = v,
                    "masterauth" => self.masterauth = v,
                    "masteruser" => self.masteruser = v,
                    "replica-announce-ip" => {
                        self.replica_announce_ip =
                            v.map(|v| String::from_utf8_lossy(&v).into_owned())
                    }
                    _ => {}
                }
                Ok(())
            }
            Ty::Enum(names) => {
                let given = text(one);
                let Some(index) = names.iter().position(|n| n.eq_ignore_ascii_case(&given)) else {
                    return Err(format!(
                        "argument(s) must be one of the following: {}",
                        names.join(", ")
                    ));
                };
                #[cfg(not(target_arch = "wasm32"))]
                if let Some(field) = self.host_enum(spec.name) {
                    *field = index as u8;
                    return Ok(());
                }
                if spec.name == REPLSCOPE_SYNC_PROTOCOL {
                    self.sync_protocol =
                        SyncProtocol::parse(&given).expect("checked against the names");
                    return Ok(());
                }
                // Only a replica that loads the snapshot after receiving it whole (the
                // engine's way) is modelled; the other strategies are refused.
                if spec.name == "repl-diskless-load" && index != 0 {
                    return Err("replscope loads the snapshot only after receiving it: only 'disabled' is supported".into());
                }
                Ok(())
            }
            Ty::Special => self.set_special(spec.name, words, from_file),
        }
    }

    /// The string options of replscope-server's process and disk.
    #[cfg(not(target_arch = "wasm32"))]
    fn host_string(&mut self, name: &str) -> Option<&mut String> {
        Some(match name {
            "dbfilename" => &mut self.dbfilename,
            "logfile" => &mut self.logfile,
            "pidfile" => &mut self.pidfile,
            "unixsocket" => &mut self.unixsocket,
            _ => return None,
        })
    }

    /// The enum options kept as an index into their names (replscope-server only).
    #[cfg(not(target_arch = "wasm32"))]
    fn host_enum(&mut self, name: &str) -> Option<&mut u8> {
        Some(match name {
            "appendfsync" => &mut self.appendfsync,
            "enable-debug-command" => &mut self.enable_debug_command,
            "enable-module-command" => &mut self.enable_module_command,
            "enable-protected-configs" => &mut self.enable_protected_configs,
            "loglevel" => &mut self.loglevel,
            "propagation-error-behavior" => &mut self.propagation_error_behavior,
            _ => return None,
        })
    }

    fn set_bool(&mut self, name: &str, v: bool) -> Result<(), String> {
        match name {
            "appendonly" => {
                if v {
                    return Err("replscope keeps everything in memory and writes no AOF: only 'no' is supported".into());
                }
            }
            "daemonize" => {
                if v {
                    return Err("replscope runs in the foreground: only 'no' is supported".into());
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            "activerehashing" => self.activerehashing = v,
            #[cfg(not(target_arch = "wasm32"))]
            "always-show-logo" => self.always_show_logo = v,
            #[cfg(not(target_arch = "wasm32"))]
            "no-appendfsync-on-rewrite" => self.no_appendfsync_on_rewrite = v,
            "protected-mode" => self.protected_mode = v,
            "rdbcompression" => self.rdbcompression = v,
            "repl-disable-tcp-nodelay" => self.repl_disable_tcp_nodelay = v,
            "repl-diskless-sync" => self.repl_diskless_sync = v,
            "replica-announced" => self.replica_announced = v,
            "replica-ignore-disk-write-errors" => self.replica_ignore_disk_write_errors = v,
            "replica-ignore-maxmemory" => self.replica_ignore_maxmemory = v,
            "replica-lazy-flush" => self.replica_lazy_flush = v,
            "replica-read-only" => self.replica_read_only = v,
            "replica-serve-stale-data" => self.replica_serve_stale_data = v,
            _ => unreachable!("bool option {name} has no field"),
        }
        Ok(())
    }

    fn set_int(&mut self, name: &str, v: i64) -> Result<(), String> {
        // Bounds were checked against the option's range, so these casts are exact.
        let u = v.max(0) as u64;
        match name {
            "databases" => {
                if v != 16 {
                    return Err("replscope servers always have 16 databases".into());
                }
            }
            // Hz is a hint: out-of-range values are accepted and capped (updateHZ).
            "hz" => self.hz = v.clamp(1, 500) as u32,
            "client-query-buffer-limit" => self.client_query_buffer_limit = u,
            #[cfg(not(target_arch = "wasm32"))]
            "latency-monitor-threshold" => self.latency_monitor_threshold = u,
            #[cfg(not(target_arch = "wasm32"))]
            "timeout" => self.timeout = u,
            "maxclients" => self.maxclients = u,
            "min-replicas-max-lag" => self.min_replicas_max_lag = u,
            "min-replicas-to-write" => self.min_replicas_to_write = u,
            "port" => self.port = u as u16,
            "proto-max-bulk-len" => self.proto_max_bulk_len = u,
            // Smaller backlogs are rounded up (resizeReplicationBacklog).
            "repl-backlog-size" => self.repl_backlog_size = u.max(MIN_BACKLOG_SIZE),
            "repl-backlog-ttl" => self.repl_backlog_ttl = u,
            "repl-diskless-sync-delay" => self.repl_diskless_sync_delay = u,
            "rdb-key-save-delay" => self.rdb_key_save_delay = v,
            "repl-diskless-sync-max-replicas" => self.repl_diskless_sync_max_replicas = u,
            "repl-ping-replica-period" => self.repl_ping_replica_period = u,
            "repl-timeout" => self.repl_timeout = u,
            "replica-announce-port" => self.replica_announce_port = u as u16,
            "replica-priority" => self.replica_priority = u,
            _ => unreachable!("integer option {name} has no field"),
        }
        Ok(())
    }

    fn set_special(
        &mut self,
        name: &str,
        words: &[Vec<u8>],
        from_file: bool,
    ) -> Result<(), String> {
        let text: Vec<String> = words
            .iter()
            .map(|w| String::from_utf8_lossy(c_str(w)).into_owned())
            .collect();
        match name {
            "bind" => {
                if text.is_empty() {
                    return Err("wrong number of arguments".into());
                }
                if !from_file && text.join(" ") != self.bind {
                    // The engine owns no sockets: listening elsewhere is the host's job.
                    return Err("Failed to bind to specified addresses.".into());
                }
                self.bind = text[0].clone();
            }
            "replicaof" => {
                if text.len() != 2 {
                    return Err("wrong number of arguments".into());
                }
                if text[0].eq_ignore_ascii_case("no") && text[1].eq_ignore_ascii_case("one") {
                    self.replicaof = None;
                } else {
                    let port = strtol_full(&text[1])
                        .filter(|p| (0..=65535).contains(p))
                        .ok_or("Invalid master port")?;
                    self.replicaof = Some((text[0].clone(), port as u16));
                }
            }
            "client-output-buffer-limit" => {
                if !text.len().is_multiple_of(4) {
                    return Err("Wrong number of arguments in buffer limit configuration.".into());
                }
                let mut limits = self.client_output_buffer_limit;
                for class in text.chunks(4) {
                    let idx = match class[0].to_ascii_lowercase().as_str() {
                        "normal" => 0,
                        "slave" | "replica" => 1,
                        "pubsub" => 2,
                        _ => {
                            return Err(
                                "Invalid client class specified in buffer limit configuration."
                                    .into(),
                            )
                        }
                    };
                    let bad = || {
                        "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                            .to_string()
                    };
                    let hard = memtoull(&class[1]).ok_or_else(bad)?;
                    let soft = memtoull(&class[2]).ok_or_else(bad)?;
                    // strtoll into an int: only the low 32 bits survive.
                    let secs = strtoll_full(&class[3]).ok_or_else(bad)? as i32;
                    if secs < 0 {
                        return Err(bad());
                    }
                    limits[idx] = (hard, soft, secs as u64);
                }
                self.client_output_buffer_limit = limits;
            }
            "save" => {
                let words: &[String] = if text.len() == 1 && text[0].is_empty() {
                    &[]
                } else {
                    &text
                };
                if !words.len().is_multiple_of(2) {
                    return Err("Invalid save parameters".into());
                }
                for (j, w) in words.iter().enumerate() {
                    let min = if j % 2 == 0 { 1 } else { 0 };
                    if strtoll_full(w).is_none_or(|v| v < min) {
                        return Err("Invalid save parameters".into());
                    }
                }
                let points = words.chunks(2).map(|p| {
                    let n = |w: &String| strtoll_full(w).unwrap_or(0) as u64;
                    (n(&p[0]), n(&p[1]))
                });
                // In the config file every `save` line adds points (the first one replaces
                // the defaults, see `Config::apply`); elsewhere a value replaces them all.
                if !from_file || words.is_empty() {
                    self.save_params.clear();
                }
                self.save_params.extend(points);
            }
            #[cfg(not(target_arch = "wasm32"))]
            "notify-keyspace-events" => {
                let [classes] = words else {
                    return Err("wrong number of arguments".into());
                };
                self.notify_keyspace_events = notify_flags(c_str(classes))
                    .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            }
            #[cfg(not(target_arch = "wasm32"))]
            "dir" => {
                let [d] = &text[..] else {
                    return Err("wrong number of arguments".into());
                };
                self.dir = d.clone();
            }
            _ => unreachable!("special option {name}"),
        }
        Ok(())
    }

    /// The value `CONFIG GET` shows for an option.
    pub fn get_option(&self, spec: &OptionSpec) -> Vec<u8> {
        let yn = |b: bool| if b { "yes" } else { "no" }.to_string();
        let s = match spec.name {
            "appendonly" | "daemonize" => "no".to_string(),
            #[cfg(not(target_arch = "wasm32"))]
            "activerehashing" => yn(self.activerehashing),
            #[cfg(not(target_arch = "wasm32"))]
            "always-show-logo" => yn(self.always_show_logo),
            #[cfg(not(target_arch = "wasm32"))]
            "appendfsync" => APPENDFSYNC[self.appendfsync as usize].into(),
            #[cfg(not(target_arch = "wasm32"))]
            "dbfilename" => self.dbfilename.clone(),
            #[cfg(not(target_arch = "wasm32"))]
            "dir" => self.dir.clone(),
            #[cfg(not(target_arch = "wasm32"))]
            "enable-debug-command" => PROTECTED_ACTION[self.enable_debug_command as usize].into(),
            #[cfg(not(target_arch = "wasm32"))]
            "enable-module-command" => PROTECTED_ACTION[self.enable_module_command as usize].into(),
            #[cfg(not(target_arch = "wasm32"))]
            "enable-protected-configs" => {
                PROTECTED_ACTION[self.enable_protected_configs as usize].into()
            }
            #[cfg(not(target_arch = "wasm32"))]
            "latency-monitor-threshold" => self.latency_monitor_threshold.to_string(),
            #[cfg(not(target_arch = "wasm32"))]
            "logfile" => self.logfile.clone(),
            #[cfg(not(target_arch = "wasm32"))]
            "loglevel" => LOGLEVELS[self.loglevel as usize].into(),
            #[cfg(not(target_arch = "wasm32"))]
            "no-appendfsync-on-rewrite" => yn(self.no_appendfsync_on_rewrite),
            #[cfg(not(target_arch = "wasm32"))]
            "notify-keyspace-events" => notify_text(self.notify_keyspace_events),
            #[cfg(not(target_arch = "wasm32"))]
            "pidfile" => self.pidfile.clone(),
            #[cfg(not(target_arch = "wasm32"))]
            "propagation-error-behavior" => {
                PROPAGATION_ERROR_BEHAVIOR[self.propagation_error_behavior as usize].into()
            }
            #[cfg(not(target_arch = "wasm32"))]
            "timeout" => self.timeout.to_string(),
            #[cfg(not(target_arch = "wasm32"))]
            "unixsocket" => self.unixsocket.clone(),
            "bind" => self.bind.clone(),
            "client-output-buffer-limit" => {
                let names = ["normal", "slave", "pubsub"];
                let parts: Vec<String> = self
                    .client_output_buffer_limit
                    .iter()
                    .zip(names)
                    .map(|((h, s, secs), n)| format!("{n} {h} {s} {secs}"))
                    .collect();
                parts.join(" ")
            }
            "client-query-buffer-limit" => self.client_query_buffer_limit.to_string(),
            "databases" => "16".into(),
            "hz" => self.hz.to_string(),
            "maxclients" => self.maxclients.to_string(),
            "protected-mode" => yn(self.protected_mode),
            "masterauth" => return self.masterauth.clone().unwrap_or_default(),
            "masteruser" => return self.masteruser.clone().unwrap_or_default(),
            "requirepass" => return self.requirepass.clone().unwrap_or_default(),
            "min-replicas-max-lag" => self.min_replicas_max_lag.to_string(),
            "min-replicas-to-write" => self.min_replicas_to_write.to_string(),
            "port" => self.port.to_string(),
            "proto-max-bulk-len" => self.proto_max_bulk_len.to_string(),
            "rdbcompression" => yn(self.rdbcompression),
            "repl-backlog-size" => self.repl_backlog_size.to_string(),
            "repl-backlog-ttl" => self.repl_backlog_ttl.to_string(),
            "repl-disable-tcp-nodelay" => yn(self.repl_disable_tcp_nodelay),
            "repl-diskless-load" => "disabled".into(),
            "repl-diskless-sync" => yn(self.repl_diskless_sync),
            "repl-diskless-sync-delay" => self.repl_diskless_sync_delay.to_string(),
            "rdb-key-save-delay" => self.rdb_key_save_delay.to_string(),
            "repl-diskless-sync-max-replicas" => self.repl_diskless_sync_max_replicas.to_string(),
            "repl-ping-replica-period" => self.repl_ping_replica_period.to_string(),
            "repl-timeout" => self.repl_timeout.to_string(),
            "replica-announce-ip" => self.replica_announce_ip.clone().unwrap_or_default(),
            "replica-announce-port" => self.replica_announce_port.to_string(),
            "replica-announced" => yn(self.replica_announced),
            "replica-ignore-disk-write-errors" => yn(self.replica_ignore_disk_write_errors),
            "replica-ignore-maxmemory" => yn(self.replica_ignore_maxmemory),
            "replica-lazy-flush" => yn(self.replica_lazy_flush),
            "replica-priority" => self.replica_priority.to_string(),
            "replica-read-only" => yn(self.replica_read_only),
            "replica-serve-stale-data" => yn(self.replica_serve_stale_data),
            "replicaof" => self
                .replicaof
                .as_ref()
                .map(|(h, p)| format!("{h} {p}"))
                .unwrap_or_default(),
            REPLSCOPE_SYNC_PROTOCOL => self.sync_protocol.name().to_string(),
            "save" => {
                let mut points = String::new();
                for (secs, changes) in &self.save_params {
                    if !points.is_empty() {
                        points.push(' ');
                    }
                    points += &format!("{secs} {changes}");
                }
                points
            }
            other => unreachable!("option {other} has no value"),
        };
        s.into_bytes()
    }
}

fn check_bounds(v: i64, min: i64, max: i64) -> Result<(), String> {
    if v < min || v > max {
        return Err(format!(
            "argument must be between {min} and {max} inclusive"
        ));
    }
    Ok(())
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// C's `strtoll(s, &end, 10)` with `*end == '\0'` required: leading spaces and a sign are
/// allowed, out-of-range values saturate, and an empty string is 0.
fn strtoll_full(s: &str) -> Option<i64> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() {
        // No digits at all: strtoll parses nothing, so the end is the start.
        return s.is_empty().then_some(0);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i128 = 0;
    for b in digits.bytes() {
        v = (v * 10 + (b - b'0') as i128).min(i64::MAX as i128 + 1);
    }
    let v = if neg { -v } else { v };
    Some(v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// `strtol` for a port: the same rules as [`strtoll_full`].
fn strtol_full(s: &str) -> Option<i64> {
    strtoll_full(s)
}

/// Redis's `memtoull`: digits then an optional unit (`b`, `k` = 1000, `kb` = 1024, `m`,
/// `mb`, `g`, `gb`, any case). No sign; an empty number is 0; the product wraps as C's
/// unsigned arithmetic does. `None` for anything else.
pub fn memtoull(s: &str) -> Option<u64> {
    if s.starts_with('-') {
        return None;
    }
    let digits_end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    let (digits, unit) = s.split_at(digits_end);
    let mul: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.len() >= 128 {
        return None;
    }
    // strtoull saturates at u64::MAX on overflow (and Redis does not look at errno).
    let mut v: u64 = 0;
    for b in digits.bytes() {
        v = v
            .checked_mul(10)
            .and_then(|x| x.checked_add((b - b'0') as u64))
            .unwrap_or(u64::MAX);
        if v == u64::MAX {
            break;
        }
    }
    Some(v.wrapping_mul(mul))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        assert_eq!(memtoull("1mb"), Some(1_048_576));
        assert_eq!(memtoull("1m"), Some(1_000_000));
        assert_eq!(memtoull("16kb"), Some(16_384));
        assert_eq!(memtoull("16KB"), Some(16_384));
        assert_eq!(memtoull("100"), Some(100));
        assert_eq!(memtoull(""), Some(0));
        assert_eq!(memtoull("lots"), None);
        assert_eq!(memtoull("-1"), None);
        assert_eq!(memtoull("1 mb"), None);
        // Overflow wraps (and the bounds check then refuses it).
        assert_eq!(memtoull("99999999999999999999"), Some(u64::MAX));
    }

    #[test]
    fn options_and_aliases() {
        let mut c = Config::default();
        c.apply("slaveof", &["127.0.0.1".into(), "6380".into()])
            .unwrap();
        assert_eq!(c.replicaof, Some(("127.0.0.1".into(), 6380)));
        c.apply("repl-backlog-size", &["1kb".into()]).unwrap();
        assert_eq!(c.repl_backlog_size, MIN_BACKLOG_SIZE);
        assert!(c.apply("port", &["70000".into()]).is_err());
        assert!(c.apply("no-such-option", &["1".into()]).is_err());
        c.apply("SLAVE-READ-ONLY", &["NO".into()]).unwrap();
        assert!(!c.replica_read_only);
        assert_eq!(
            c.apply("hz", &["a".into(), "b".into()]),
            Err("wrong number of arguments".into())
        );
        c.apply("hz", &["1000".into()]).unwrap();
        assert_eq!(c.hz, 500);
    }

    #[test]
    fn special_options_check_like_redis() {
        let mut c = Config::default();
        let spec = lookup_option("client-output-buffer-limit").unwrap();
        c.set_option(spec, b"replica 1mb 2kb 3").unwrap();
        assert_eq!(
            c.get_option(spec),
            b"normal 0 0 0 slave 1048576 2048 3 pubsub 33554432 8388608 60"
        );
        assert!(c
            .set_option(spec, b"master 0 0 0")
            .unwrap_err()
            .starts_with("Invalid client class"));
        assert!(c
            .set_option(spec, b"normal 1 2")
            .unwrap_err()
            .starts_with("Wrong number"));
        assert!(c
            .set_option(spec, b"normal 1 2 -1")
            .unwrap_err()
            .starts_with("Error in hard"));
        // One argument holding every word, as redis-server takes it from its command line.
        c.apply(
            "client-output-buffer-limit",
            &["normal 64mb 32mb 10".into()],
        )
        .unwrap();
        assert_eq!(c.client_output_buffer_limit[0], (64 << 20, 32 << 20, 10));
        c.apply(
            "client-output-buffer-limit",
            &["normal".into(), "1mb".into(), "0".into(), "0".into()],
        )
        .unwrap();
        assert_eq!(c.client_output_buffer_limit[0], (1 << 20, 0, 0));
        assert!(c
            .apply("client-output-buffer-limit", &["normal 1mb".into()])
            .unwrap_err()
            .starts_with("Wrong number"));
        let save = lookup_option("save").unwrap();
        c.set_option(save, b"").unwrap();
        assert_eq!(
            c.set_option(save, b"900"),
            Err("Invalid save parameters".into())
        );
        assert_eq!(
            c.set_option(save, b"0 1"),
            Err("Invalid save parameters".into())
        );
        c.set_option(save, b"900 1 300 10").unwrap();
        assert_eq!(c.save_params, vec![(900, 1), (300, 10)]);
        assert_eq!(c.get_option(save), b"900 1 300 10");
        // CONFIG SET replaces every point; an empty value removes them all.
        c.set_option(save, b"60 5").unwrap();
        assert_eq!(c.get_option(save), b"60 5");
        c.set_option(save, b"").unwrap();
        assert_eq!(c.get_option(save), b"");
        assert_eq!(
            Config::default().get_option(save),
            b"3600 1 300 100 60 10000",
            "Redis 7.0's default points"
        );
    }

    #[test]
    fn keyspace_event_classes_as_redis_spells_them() {
        assert_eq!(
            notify_flags(b"KEA").map(notify_text).as_deref(),
            Some("AKE")
        );
        assert_eq!(
            notify_flags(b"Ex$").map(notify_text).as_deref(),
            Some("$xE")
        );
        assert_eq!(
            notify_flags(b"mnd").map(notify_text).as_deref(),
            Some("dnm")
        );
        assert_eq!(notify_flags(b"").map(notify_text).as_deref(), Some(""));
        // Every class of `A` given one by one is `A` again.
        assert_eq!(
            notify_flags(b"g$lshzxetd").map(notify_text).as_deref(),
            Some("A")
        );
        assert_eq!(notify_flags(b"KEq"), None);
        assert_eq!(notify_flags(b"K E"), None);
        let mut c = Config::default();
        let spec = lookup_option("notify-keyspace-events").unwrap();
        assert_eq!(
            c.set_option(spec, b"Z"),
            Err("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
        );
        c.set_option(spec, b"Kx").unwrap();
        assert_eq!(c.get_option(spec), b"xK");
    }

    #[test]
    fn default_conf_directives_have_redis_types() {
        let mut c = Config::default();
        let get = |c: &Config, n: &str| {
            String::from_utf8(c.get_option(lookup_option(n).unwrap())).unwrap()
        };
        assert_eq!(get(&c, "loglevel"), "notice");
        assert_eq!(get(&c, "dbfilename"), "dump.rdb");
        assert_eq!(get(&c, "enable-debug-command"), "no");
        assert_eq!(get(&c, "propagation-error-behavior"), "ignore");
        assert_eq!(get(&c, "appendfsync"), "everysec");
        assert_eq!(get(&c, "activerehashing"), "yes");
        for (name, value) in [
            ("always-show-logo", "yes"),
            ("loglevel", "verbose"),
            ("logfile", ""),
            ("pidfile", "/var/run/redis.pid"),
            ("timeout", "0"),
            ("latency-monitor-threshold", "1"),
            ("dbfilename", "dump.rdb"),
            ("appendfsync", "everysec"),
            ("no-appendfsync-on-rewrite", "no"),
            ("enable-protected-configs", "yes"),
            ("enable-debug-command", "local"),
            ("enable-module-command", "yes"),
            ("propagation-error-behavior", "panic"),
        ] {
            c.apply(name, &[value.into()])
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(get(&c, name), value);
        }
        assert_eq!(c.loglevel, 1);
        assert_eq!(
            c.apply("loglevel", &["loud".into()]),
            Err("argument(s) must be one of the following: debug, verbose, notice, warning".into())
        );
        assert_eq!(
            c.apply("dbfilename", &["a/dump.rdb".into()]),
            Err("dbfilename can't be a path, just a filename".into())
        );
        assert_eq!(
            c.apply("timeout", &["-1".into()]),
            Err("argument must be between 0 and 2147483647 inclusive".into())
        );
        for name in [
            "always-show-logo",
            "logfile",
            "pidfile",
            "enable-debug-command",
        ] {
            assert!(lookup_option(name).unwrap().immutable, "{name}");
        }
        assert!(is_protected(lookup_option("dir").unwrap()));
        assert!(allows_protected(2, "::1") && !allows_protected(2, "10.0.0.1"));
        assert!(allows_protected(1, "10.0.0.1") && !allows_protected(0, "127.0.0.1"));
    }

    #[test]
    fn client_protection_options_have_redis_defaults_and_bounds() {
        let mut c = Config::default();
        let get = |c: &Config, n: &str| {
            String::from_utf8(c.get_option(lookup_option(n).unwrap())).unwrap()
        };
        assert_eq!(get(&c, "protected-mode"), "yes");
        assert_eq!(get(&c, "maxclients"), "10000");
        assert_eq!(get(&c, "client-query-buffer-limit"), "1073741824");
        c.apply("maxclients", &["2".into()]).unwrap();
        assert_eq!(c.maxclients, 2);
        assert_eq!(
            c.apply("maxclients", &["0".into()]),
            Err("argument must be between 1 and 4294967295 inclusive".into())
        );
        c.apply("protected-mode", &["no".into()]).unwrap();
        assert!(!c.protected_mode);
        assert_eq!(
            c.apply("client-query-buffer-limit", &["1kb".into()]),
            Err("argument must be between 1048576 and 9223372036854775807 inclusive".into())
        );
        c.apply("client-query-buffer-limit", &["2mb".into()])
            .unwrap();
        assert_eq!(c.client_query_buffer_limit, 2 << 20);
    }

    #[test]
    fn sync_protocol_option() {
        let mut c = Config::default();
        let spec = lookup_option("REPLSCOPE-SYNC-PROTOCOL").unwrap();
        assert_eq!(c.get_option(spec), b"psync2");
        c.set_option(spec, b"PSYNC1").unwrap();
        assert_eq!(c.sync_protocol, SyncProtocol::Psync1);
        assert_eq!(c.get_option(spec), b"psync1");
        c.apply("replscope-sync-protocol", &["sync".into()])
            .unwrap();
        assert_eq!(c.sync_protocol, SyncProtocol::Sync);
        assert_eq!(
            c.set_option(spec, b"psync3"),
            Err("argument(s) must be one of the following: psync2, psync1, sync".into())
        );
        assert_eq!(
            c.sync_protocol,
            SyncProtocol::Sync,
            "a bad value changes nothing"
        );
        // Patterns answer what Redis answers: the option is not among their names.
        assert!(option_names().all(|(n, _)| !n.starts_with("replscope")));
    }

    #[test]
    fn every_option_has_a_value() {
        let c = Config::default();
        for spec in OPTIONS {
            let _ = c.get_option(spec);
        }
        assert!(OPTIONS.windows(2).all(|w| w[0].name < w[1].name));
    }
}
