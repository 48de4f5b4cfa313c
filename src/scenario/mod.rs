//! Scenarios: a replication run written down as data, so that it can be saved, shared,
//! replayed exactly, generated at random and shrunk.
//!
//! A scenario names its servers (with Redis option overrides), who replicates whom at the
//! start, and a list of timed actions on the virtual clock: a command typed on a server,
//! REPLICAOF, cutting and healing a link, or a load generator writing N commands a second.
//! [`runner::run`] carries it out on the [`Bus`](crate::bus::Bus) while
//! [`checker::Checker`] watches replication's invariants; [`generate`] makes random
//! scenarios from a seed and shrinks failing ones.
//!
//! The format is JSON ([`action_json`]), versioned by [`FORMAT_VERSION`]. Everything that
//! reaches the runner has passed [`Scenario::validate`], which names the first bad field
//! (`servers[2].port: duplicate port 6381`) and bounds every size ([`limits`]), so no input
//! makes a run panic or run away.

mod action_json;
pub mod budget;
pub mod checker;
pub mod generate;
pub mod generator;
pub mod guided;
pub mod player;
pub mod runner;
pub mod schedule;
pub mod session;
pub mod share;
pub mod share_link;

use std::collections::BTreeMap;
use std::fmt;

use litemap::LiteMap;
use serde::{Deserialize, Serialize};

use crate::bus::{Fault, ServerId};
use crate::engine::config::{lookup_option, Config};

/// The scenario format this build reads and writes. A file with a newer version is
/// refused (its actions may mean something this build cannot do); older versions would be
/// upgraded here when there are any.
pub const FORMAT_VERSION: i64 = 1;

/// Bounds on a scenario, so that a typo cannot ask for a run that never ends or fills
/// memory. They are documented in README.md ("replscope-sim").
pub mod limits {
    /// Servers on one bus.
    pub const MAX_SERVERS: usize = 8;
    /// Timed actions in the file.
    pub const MAX_ACTIONS: usize = 10_000;
    /// Commands all actions expand to, load generators included.
    pub const MAX_COMMANDS: u64 = 200_000;
    /// Latest time an action may be at, and longest `end_ms`: one virtual day.
    pub const MAX_TIME_MS: i64 = 86_400_000;
    /// Load generator: writes per second, and how long it may run.
    pub const MAX_RATE: i64 = 10_000;
    pub const MAX_LOAD_DURATION_MS: i64 = 3_600_000;
    /// Load generator: distinct keys, and bytes per value.
    pub const MAX_KEYS: i64 = 1_000_000;
    pub const MAX_VALUE_BYTES: i64 = 65_536;
    /// A command line, a server name, and a config value.
    pub const MAX_LINE_BYTES: usize = 65_536;
    pub const MAX_NAME_BYTES: usize = 64;
    pub const MAX_CONFIG_VALUE_BYTES: usize = 1_024;
    /// A scenario's title, and its narration: steps, and bytes per step's text.
    pub const MAX_TITLE_BYTES: usize = 200;
    pub const MAX_NARRATION_STEPS: usize = 100;
    pub const MAX_NARRATION_BYTES: usize = 4_096;
    /// Link settings and a sever's detection delay, in ms: one virtual minute.
    pub const MAX_LINK_DELAY_MS: i64 = 60_000;
    /// A link's bandwidth, in bytes per millisecond (1 GB/s).
    pub const MAX_BANDWIDTH: i64 = 1_000_000;
    /// Server cron loops the run's own length asks for, summed over its servers (`hz` a
    /// virtual second each): the default `hz 10` on 8 servers for a whole virtual day is
    /// 6,912,000; 8 servers at `hz 500` for a day would be 345,600,000, minutes of work in a
    /// tab for nothing anyone sees.
    pub const MAX_CRON_LOOPS: u64 = 10_000_000;

    /// Budgets on what the actions make the bus carry and keep, from
    /// [`Action::cost`](super::Action::cost) summed over the file (see [`budget`](super::budget)).
    ///
    /// Command text, generated values included. The bus's log keeps every byte it delivers:
    /// a command as typed, as the master receives it, and once more in each replica's
    /// stream, so with 8 servers 16 MiB of commands become some 150 MiB of log, the most a
    /// browser tab (a phone's too) keeps while staying responsive. Replies, handshakes and
    /// snapshots come on top.
    pub const MAX_COMMAND_BYTES: u64 = 16 << 20;
    /// The dataset the actions can build on one server. Each server holds its copy, every
    /// full sync sends and logs it as a snapshot, and time travel's checkpoints clone it.
    pub const MAX_DATASET_BYTES: u64 = 16 << 20;
    /// Keys the actions can create. The invariant checker digests a master's keys each time
    /// its offset moves, so its work grows with keys × commands.
    pub const MAX_DATASET_KEYS: u64 = 100_000;
}

/// A whole scenario. Its JSON form ([`action_json`]) names servers where this addresses them by id.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// [`FORMAT_VERSION`] of the file.
    pub version: i64,
    /// Seeds the bus (replication ids, random picks) and the load generators' keys/values.
    pub seed: u64,
    pub description: Option<String>,
    /// A short name for the run, shown as the page's heading when the link is opened.
    pub title: Option<String>,
    /// What to say while the run plays: each step is shown from its virtual time on.
    pub narration: Vec<NarrationStep>,
    pub servers: Vec<ServerSpec>,
    /// Who replicates whom when the run starts (each is a `REPLICAOF` typed at 0 ms).
    pub topology: Vec<Link>,
    pub actions: Vec<Action>,
    /// Keep running at least until this virtual time (ms from the start), even when every
    /// replica has converged earlier.
    pub end_ms: Option<i64>,
    pub expect: Expectations,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSpec {
    pub name: String,
    pub port: i64,
    /// Redis options by their redis.conf names, values as redis.conf spells them:
    /// `{"repl-backlog-size": "16kb", "repl-diskless-sync-delay": "0"}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub config: BTreeMap<String, String>,
}

/// One step of a guided scenario's narration, shown from virtual time `at` (ms from the
/// start) until the next step's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NarrationStep {
    pub at: i64,
    pub text: String,
}

/// `replica` replicates `master` (by bus id, as actions address servers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub replica: ServerId,
    pub master: ServerId,
}

/// Something that happens at a virtual time (`at`, ms from the start of the run), on
/// servers addressed by their id on the bus: `servers` in order, then those `add_server`
/// brings, in the order they join ([`Scenario::server_index`]). Names are the file's way to
/// address them: [`action_json`] turns them into ids once, as a scenario is read, and back as it is
/// written, so from a click in the page to the bus a server is one id.
///
/// Besides commands, REPLICAOF and load, every fault the bus can inject is an action, as
/// the bus's own [`Fault`]: on a link (`cut`/`heal`, `sever`, silent `partition` both ways
/// or `partition_one_way`, `hold`/`release` one direction, `set_link`) or on a server
/// (`crash`, `restart`, `save`, `pause`, `resume`). Each has its validation in
/// [`Scenario::validate`], its effect in [`schedule`], and — for those that may lose
/// acknowledged writes (a restart without a recent enough save) — an entry in the
/// checker's list of explaining faults. Adding variants keeps version 1 files valid; only a
/// change of meaning bumps [`FORMAT_VERSION`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A command line typed into the server's console, as redis-cli would send it.
    Command {
        at: i64,
        server: ServerId,
        line: String,
    },
    /// `REPLICAOF <master's host and port>`, or `REPLICAOF NO ONE` when `master` is absent.
    Replicaof {
        at: i64,
        server: ServerId,
        master: Option<ServerId>,
    },
    /// A fault injected into the bus as it is, and with `written.both_ways` its mirror
    /// too (the hold back of a `partition`, the way back of a `set_link`). A sever's ends
    /// notice `detect_ms` later; a link's settings left out of a `set_link` take the bus
    /// defaults (latency 1 ms, the rest off).
    Fault {
        at: i64,
        fault: Fault,
        written: Written,
    },
    /// A server joins the run (as the page's "Add server" does): from then on actions may
    /// name it. Its config is as in `servers`.
    AddServer {
        at: i64,
        name: String,
        port: i64,
        config: BTreeMap<String, String>,
    },
    /// The server leaves the run for good (down as in a crash, never restarted).
    Remove { at: i64, server: ServerId },
    /// The page's load generator ([`generator`]): a pipelined batch of `write` commands
    /// every 100 ms from `at` to `stop_at`, `rate` writes a second over `keys` keys.
    Generate {
        at: i64,
        server: ServerId,
        write: generator::GenerateWrite,
        rate: i64,
        keys: i64,
        value_size: i64,
        /// Seconds, for `set_ex` (absent: 10).
        ttl_s: i64,
        stop_at: i64,
    },
    /// A load generator: `rate` writes a second on `server` for `duration_ms`, of one type
    /// (or `mixed`), over `keys` distinct keys, with values of `value_bytes` bytes. Keys and
    /// values are derived from the scenario seed and the action's index.
    Load {
        at: i64,
        server: ServerId,
        rate: i64,
        duration_ms: i64,
        kind: WriteKind,
        keys: i64,
        /// Absent: 8.
        value_bytes: i64,
        /// Give every written key this time to live.
        ttl_ms: Option<i64>,
        /// Wrap each write with a second one in MULTI/EXEC.
        multi: bool,
    },
}

/// How the file writes a fault where the format has more than one way to say it: kept, so
/// that a scenario is written back byte for byte as it was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// The fault's mirror too: a hold both ways is a `partition`; a `set_link` with
    /// `both_ways` sets the way back.
    pub both_ways: bool,
    /// A one-way hold written `partition_one_way` (as the page writes it), not `hold`.
    pub partition: bool,
    /// The `set_link` settings the file gives (bandwidth: when limited); those left out
    /// are the bus defaults.
    pub latency: bool,
    pub extra_delay: bool,
    pub jitter: bool,
}

fn default_value_bytes() -> i64 {
    8
}

fn default_ttl_s() -> i64 {
    10
}

/// What a load generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    String,
    List,
    Hash,
    Set,
    Zset,
    /// Each write picks one of the five.
    Mixed,
}

impl WriteKind {
    pub const ALL: [WriteKind; 6] = [
        WriteKind::String,
        WriteKind::List,
        WriteKind::Hash,
        WriteKind::Set,
        WriteKind::Zset,
        WriteKind::Mixed,
    ];
}

/// `$body` with `$at` bound to the `at` field of whichever action `$action` is: the one
/// place that lists every variant's time, for [`Action::at`] and [`Action::set_at`].
macro_rules! with_at {
    ($action:expr, $at:ident => $body:expr) => {
        match $action {
            Action::Command { $at, .. }
            | Action::Replicaof { $at, .. }
            | Action::Fault { $at, .. }
            | Action::AddServer { $at, .. }
            | Action::Remove { $at, .. }
            | Action::Generate { $at, .. }
            | Action::Load { $at, .. } => $body,
        }
    };
}

impl Action {
    /// `fault` now, written as the page writes it: a one-way hold as `partition_one_way`,
    /// a link's latency and whichever of its other settings are not the default.
    pub fn fault(fault: Fault) -> Action {
        let written = match &fault {
            Fault::Hold { .. } => Written {
                partition: true,
                ..Written::default()
            },
            Fault::SetLink { config, .. } => Written {
                latency: true,
                extra_delay: config.extra_delay_ms > 0,
                jitter: config.jitter_ms > 0,
                ..Written::default()
            },
            _ => Written::default(),
        };
        Action::Fault {
            at: 0,
            fault,
            written,
        }
    }

    pub fn at(&self) -> i64 {
        with_at!(self, at => *at)
    }

    /// Moves the action to virtual time `t` (ms from the start).
    pub fn set_at(&mut self, t: i64) {
        with_at!(self, at => *at = t)
    }

    /// The servers the action acts on, each with the field of the file that names it.
    pub fn servers(&self) -> Vec<(&'static str, ServerId)> {
        let ids = match self {
            Action::Command { server, .. }
            | Action::Load { server, .. }
            | Action::Remove { server, .. }
            | Action::Generate { server, .. } => vec![*server],
            Action::AddServer { .. } => vec![],
            Action::Replicaof { server, master, .. } => {
                std::iter::once(*server).chain(*master).collect()
            }
            Action::Fault { fault, .. } => fault.servers(),
        };
        action_json::server_fields(self)
            .iter()
            .copied()
            .zip(ids)
            .collect()
    }

    /// The servers the action acts on, in the order its fields name them (the one it adds
    /// is none of them), to renumber.
    pub fn servers_mut(&mut self) -> Vec<&mut ServerId> {
        match self {
            Action::Command { server, .. }
            | Action::Load { server, .. }
            | Action::Remove { server, .. }
            | Action::Generate { server, .. } => vec![server],
            Action::AddServer { .. } => vec![],
            Action::Replicaof { server, master, .. } => {
                std::iter::once(server).chain(master.as_mut()).collect()
            }
            Action::Fault { fault, .. } => fault.servers_mut(),
        }
    }

    /// Virtual time the action is over (a load generator's last write, a sever's
    /// detection).
    pub fn end(&self) -> i64 {
        match self {
            Action::Load {
                at, duration_ms, ..
            } => at.saturating_add(*duration_ms),
            Action::Fault {
                at,
                fault: Fault::Sever { detect_ms, .. },
                ..
            } => at.saturating_add(i64::try_from(*detect_ms).unwrap_or(i64::MAX)),
            Action::Generate { stop_at, .. } => *stop_at,
            other => other.at(),
        }
    }

    /// Whether the action is a fault injected into the bus (not a command).
    pub fn is_fault(&self) -> bool {
        matches!(self, Action::Fault { .. } | Action::Remove { .. })
    }

    /// How many commands it types (MULTI/EXEC and TTL commands included).
    pub fn command_count(&self) -> u64 {
        match self {
            Action::Load {
                rate,
                duration_ms,
                ttl_ms,
                multi,
                ..
            } => {
                let writes =
                    ((*rate).max(0) as u64).saturating_mul((*duration_ms).max(0) as u64) / 1000;
                // At most one PEXPIRE per write.
                let ttl = u64::from(ttl_ms.is_some());
                let per = if *multi { 2 + 2 * (1 + ttl) } else { 1 + ttl };
                writes.saturating_mul(per)
            }
            Action::Generate {
                at, rate, stop_at, ..
            } => ((*rate).max(0) as u64).saturating_mul((*stop_at - *at).max(0) as u64) / 1000,
            _ => 1,
        }
    }
}

/// What the run must show, besides the invariants (always checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectations {
    /// After the last action, every replica whose path to a master is whole converges
    /// (same offset, same data) within a bounded virtual time. On by default; turn off for
    /// scenarios that leave replicas unable to sync on purpose (wrong masterauth, ...).
    pub liveness: Option<bool>,
    /// Fields of each server's final `INFO replication`.
    pub info: Vec<InfoExpectation>,
    /// Text that must appear somewhere in the event log.
    pub log_contains: Vec<String>,
}

impl Expectations {
    fn is_default(&self) -> bool {
        *self == Expectations::default()
    }

    pub fn liveness(&self) -> bool {
        self.liveness.unwrap_or(true)
    }
}

/// Server `server` (by bus id) ends the run with `field:equals` in its `INFO replication`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoExpectation {
    pub server: ServerId,
    pub field: String,
    pub equals: String,
}

/// A scenario that cannot be run, with the path of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// `servers[2].port`, `actions[4].at`, or empty for the file as a whole.
    pub path: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ScenarioError {}

fn err(path: impl Into<String>, message: impl Into<String>) -> ScenarioError {
    ScenarioError {
        path: path.into(),
        message: message.into(),
    }
}

/// Why a link's bandwidth (bytes per ms) is refused: it is under 1.
fn too_narrow(bw: i64) -> String {
    format!("{bw} bytes/ms: a link carries at least 1 (leave it out for unlimited)")
}

/// A delay field in ms: at most [`limits::MAX_LINK_DELAY_MS`] (a negative one is refused
/// as the file is read, [`action_json`]).
fn check_delay(path: String, ms: u64) -> Result<(), ScenarioError> {
    if ms > limits::MAX_LINK_DELAY_MS as u64 {
        return Err(err(
            path,
            format!("{ms} is over the limit {}", limits::MAX_LINK_DELAY_MS),
        ));
    }
    Ok(())
}

/// A server's configuration: Redis defaults, its port, then the overrides (`path` names
/// the overrides' field in errors).
pub(crate) fn config_for(
    path: &str,
    port: i64,
    overrides: &BTreeMap<String, String>,
) -> Result<Config, ScenarioError> {
    let mut config = Config {
        port: port as u16,
        ..Config::default()
    };
    for (name, value) in overrides {
        let path = format!("{path}.{name}");
        let Some(option) = lookup_option(name) else {
            return Err(err(path, "not a Redis option this replscope knows"));
        };
        if matches!(option.name, "port" | "bind" | "replicaof") {
            let instead = match option.name {
                "port" => "use the server's \"port\" field",
                "replicaof" => "use \"topology\"",
                _ => "every server binds 127.0.0.1 on the bus",
            };
            return Err(err(path, format!("set by the scenario itself: {instead}")));
        }
        if value.len() > limits::MAX_CONFIG_VALUE_BYTES {
            return Err(err(
                path,
                format!("value longer than {} bytes", limits::MAX_CONFIG_VALUE_BYTES),
            ));
        }
        let words: Vec<String> = if option.multi_arg {
            value.split_whitespace().map(str::to_string).collect()
        } else {
            vec![value.clone()]
        };
        config.apply(name, &words).map_err(|e| err(path, e))?;
    }
    Ok(config)
}

impl Scenario {
    /// Parses and validates a scenario file.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| err("", format!("not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(err(
                "",
                "expected a JSON object with \"version\", \"seed\", \"servers\" and \"actions\"",
            ));
        }
        // The version first: a newer file may not even have the shape this build expects.
        match value.get("version") {
            None => return Err(err("version", "missing (this replscope writes version 1)")),
            Some(v) => match v.as_i64() {
                Some(n) if n > FORMAT_VERSION => {
                    return Err(err(
                        "version",
                        format!("{n} is newer than this replscope understands ({FORMAT_VERSION})"),
                    ))
                }
                Some(n) if n < 1 => {
                    return Err(err(
                        "version",
                        format!("{n} is not a version (they start at 1)"),
                    ))
                }
                Some(_) => {}
                None => return Err(err("version", format!("expected an integer, got {v}"))),
            },
        }
        // Natively the error names the field's path (`actions[3].at: ...`). The page reads
        // the text once more instead, with serde_json's line and column in the message:
        // the path finder costs some 20 KB of the page's download for an error that links
        // made by replscope never have.
        #[cfg(not(target_arch = "wasm32"))]
        let scenario: Scenario = serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            err(path, e.into_inner().to_string())
        })?;
        #[cfg(target_arch = "wasm32")]
        let scenario: Scenario = {
            drop(value);
            serde_json::from_str(text).map_err(|e| err("", e.to_string()))?
        };
        scenario.validate()?;
        Ok(scenario)
    }

    /// The scenario as pretty JSON (what `replscope-sim` writes for a failing seed).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario always serialises")
    }

    /// The servers the run adds with `add_server`, as (action index, name, port, config),
    /// in the order they join: by time, ties in file order.
    pub fn added_servers(&self) -> Vec<(usize, &str, i64, &BTreeMap<String, String>)> {
        let mut added: Vec<_> = self
            .actions
            .iter()
            .enumerate()
            .filter_map(|(i, a)| match a {
                Action::AddServer {
                    name, port, config, ..
                } => Some((i, name.as_str(), *port, config)),
                _ => None,
            })
            .collect();
        crate::engine::sort::sort_by_key(&mut added, |(i, ..)| (self.actions[*i].at(), *i));
        added
    }

    /// Every server of the run, as (name, port, config): `servers`, then those added.
    pub fn all_servers(&self) -> Vec<(&str, i64, &BTreeMap<String, String>)> {
        let listed = self
            .servers
            .iter()
            .map(|s| (s.name.as_str(), s.port, &s.config));
        listed
            .chain(
                self.added_servers()
                    .into_iter()
                    .map(|(_, n, p, c)| (n, p, c)),
            )
            .collect()
    }

    /// The server's id on the bus, by name: `servers` in order, then the added ones in the
    /// order they join.
    pub fn server_index(&self, name: &str) -> Option<usize> {
        // The listed servers first, without collecting the added ones: validation and the
        // schedule look up a name per action, and a walk over every action for each would
        // make 10 000 actions cost 10^8 steps.
        if let Some(i) = self.servers.iter().position(|s| s.name == name) {
            return Some(i);
        }
        self.added_servers()
            .iter()
            .position(|(_, n, ..)| *n == name)
            .map(|i| self.servers.len() + i)
    }

    /// Each server's configuration (by bus id): Redis defaults, its port, then its
    /// overrides.
    pub fn server_config(&self, index: usize) -> Result<Config, ScenarioError> {
        if index < self.servers.len() {
            let spec = &self.servers[index];
            return config_for(&format!("servers[{index}].config"), spec.port, &spec.config);
        }
        let (action, _, port, config) = self.added_servers()[index - self.servers.len()];
        config_for(&format!("actions[{action}].config"), port, config)
    }

    /// The cron work the run's own length asks for ([`limits::MAX_CRON_LOOPS`]): every
    /// server for the whole length (its last action or `end_ms`), at its configured `hz`
    /// or the highest one a `CONFIG SET hz` in the actions asks for. The wait for replicas
    /// to converge after the last action is not known before the run: the bus's step
    /// budget bounds it.
    fn check_cron_loops(&self) -> Result<(), ScenarioError> {
        use limits::MAX_CRON_LOOPS;
        let last = self
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.end().max(0), i))
            .max_by_key(|&(end, i)| (end, std::cmp::Reverse(i)));
        let (span, field) = match (self.end_ms, last) {
            (Some(end), Some((at, _))) if end >= at => (end, "end_ms".to_string()),
            (Some(end), None) => (end, "end_ms".to_string()),
            (_, Some((at, i))) => (at, format!("actions[{i}]")),
            (None, None) => return Ok(()),
        };
        let typed_hz = self.actions.iter().filter_map(|a| match a {
            Action::Command { line, .. } => typed_hz(line),
            _ => None,
        });
        let typed_hz = typed_hz.max().unwrap_or(0);
        let servers = self.servers.len() + self.added_servers().len();
        let mut per_second: u64 = 0;
        for i in 0..servers {
            per_second += u64::from(self.server_config(i)?.hz.max(typed_hz));
        }
        let loops = per_second.saturating_mul(span.max(0) as u64) / 1000;
        if loops > MAX_CRON_LOOPS {
            return Err(err(
                field,
                format!(
                    "{servers} servers running {} cron loops a virtual second (hz) for {} ms come to {} cron loops, over the budget of {} by {} (lower hz, or a shorter run)",
                    budget::grouped(per_second),
                    budget::grouped(span.max(0) as u64),
                    budget::grouped(loops),
                    budget::grouped(MAX_CRON_LOOPS),
                    budget::grouped(loops - MAX_CRON_LOOPS)
                ),
            ));
        }
        Ok(())
    }

    /// [`Scenario::validate`]'s checks up to the first that addresses a server by id: the
    /// version, the number of servers, title and narration, and each server's name, port
    /// and config. Reading a file runs them before a name it cannot resolve is an error,
    /// so that a misspelt server is reported where it is defined.
    pub(crate) fn check_servers(&self) -> Result<(), ScenarioError> {
        use limits::*;
        if self.version > FORMAT_VERSION {
            return Err(err(
                "version",
                format!(
                    "{} is newer than this replscope understands ({FORMAT_VERSION})",
                    self.version
                ),
            ));
        }
        if self.version < 1 {
            return Err(err(
                "version",
                format!("{} is not a version (they start at 1)", self.version),
            ));
        }
        if self.servers.is_empty() {
            return Err(err("servers", "no servers: a scenario needs at least one"));
        }
        let total = self.servers.len() + self.added_servers().len();
        if total > MAX_SERVERS {
            let added = if total > self.servers.len() {
                " with those added by actions"
            } else {
                ""
            };
            return Err(err(
                "servers",
                format!("{total} servers{added}, more than the limit of {MAX_SERVERS}"),
            ));
        }
        if let Some(title) = &self.title {
            if title.len() > MAX_TITLE_BYTES {
                return Err(err("title", format!("longer than {MAX_TITLE_BYTES} bytes")));
            }
        }
        if self.narration.len() > MAX_NARRATION_STEPS {
            return Err(err(
                "narration",
                format!(
                    "{} steps, more than the limit of {MAX_NARRATION_STEPS}",
                    self.narration.len()
                ),
            ));
        }
        for (i, step) in self.narration.iter().enumerate() {
            if !(0..=MAX_TIME_MS).contains(&step.at) {
                return Err(err(
                    format!("narration[{i}].at"),
                    format!("{} ms is outside 0 to {MAX_TIME_MS}", step.at),
                ));
            }
            if step.text.len() > MAX_NARRATION_BYTES {
                return Err(err(
                    format!("narration[{i}].text"),
                    format!("longer than {MAX_NARRATION_BYTES} bytes"),
                ));
            }
            if i > 0 && step.at < self.narration[i - 1].at {
                return Err(err(
                    format!("narration[{i}].at"),
                    "narration steps must be in time order",
                ));
            }
        }
        // Every server, listed or added, with the field that defines it.
        let listed = self
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("servers[{i}]"), s.name.as_str(), s.port));
        let added = self
            .added_servers()
            .into_iter()
            .map(|(i, name, port, _)| (format!("actions[{i}]"), name, port));
        // A handful of servers: sorted-Vec sets (LiteMap, see Cargo.toml) cost the page less
        // code than more B-tree types.
        let mut names: LiteMap<&str, ()> = LiteMap::new();
        let mut ports: LiteMap<i64, ()> = LiteMap::new();
        for (id, (path, name, port)) in listed.chain(added).enumerate() {
            if name.is_empty()
                || name.len() > MAX_NAME_BYTES
                || name.chars().any(|c| c.is_whitespace() || c.is_control())
            {
                return Err(err(
                    format!("{path}.name"),
                    format!("{name:?} is not a name (1 to {MAX_NAME_BYTES} bytes, no spaces)"),
                ));
            }
            if names.insert(name, ()).is_some() {
                return Err(err(
                    format!("{path}.name"),
                    format!("duplicate name {name:?}"),
                ));
            }
            if !(1..=65535).contains(&port) {
                return Err(err(
                    format!("{path}.port"),
                    format!("{port} is not a TCP port (1 to 65535)"),
                ));
            }
            if ports.insert(port, ()).is_some() {
                return Err(err(
                    format!("{path}.port"),
                    format!("duplicate port {port}"),
                ));
            }
            self.server_config(id)?;
        }
        Ok(())
    }

    /// Checks everything serde cannot: names, ports, times, sizes. The first problem
    /// found is the error.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        use limits::*;
        self.check_servers()?;
        // An added server exists from its action on, ordered by (time, file order).
        let mut joins: LiteMap<&str, (i64, usize)> = LiteMap::new();
        for (i, name, ..) in self.added_servers() {
            joins.insert(name, (self.actions[i].at(), i));
        }
        // Names by bus id, for the messages.
        let all: Vec<&str> = self.all_servers().into_iter().map(|(n, ..)| n).collect();
        let known_at =
            |path: String, id: ServerId, when: Option<(i64, usize)>| -> Result<(), ScenarioError> {
                let Some(name) = all.get(id) else {
                    return Err(err(path, format!("unknown server #{id}")));
                };
                match (joins.get(name), when) {
                    (Some(&(join_at, _)), None) => Err(err(
                        path,
                        format!("{name:?} only joins at {join_at} ms (add_server)"),
                    )),
                    (Some(&join), Some(when)) if when <= join => Err(err(
                        path,
                        format!(
                            "{name:?} only joins at {} ms (actions[{}]), after this",
                            join.0, join.1
                        ),
                    )),
                    _ => Ok(()),
                }
            };
        let known = |path: String, id: ServerId| known_at(path, id, None);
        let mut replicas: LiteMap<&str, ()> = LiteMap::new();
        for (i, link) in self.topology.iter().enumerate() {
            known(format!("topology[{i}].replica"), link.replica)?;
            known(format!("topology[{i}].master"), link.master)?;
            let replica = all[link.replica];
            if link.replica == link.master {
                return Err(err(
                    format!("topology[{i}]"),
                    format!("{replica:?} cannot replicate itself"),
                ));
            }
            if replicas.insert(replica, ()).is_some() {
                return Err(err(
                    format!("topology[{i}].replica"),
                    format!("{replica:?} already has a master"),
                ));
            }
        }
        if self.actions.len() > MAX_ACTIONS {
            return Err(err(
                "actions",
                format!(
                    "{} actions, more than the limit of {MAX_ACTIONS}",
                    self.actions.len()
                ),
            ));
        }
        let mut commands: u64 = 0;
        let mut budget = budget::Totals::default();
        for (i, action) in self.actions.iter().enumerate() {
            let path = |field: &str| format!("actions[{i}].{field}");
            let at = action.at();
            if at < 0 {
                return Err(err(path("at"), "negative time"));
            }
            if at > MAX_TIME_MS {
                return Err(err(
                    path("at"),
                    format!(
                        "{at} ms is later than the limit of {MAX_TIME_MS} ms (one virtual day)"
                    ),
                ));
            }
            let servers = action.servers();
            let name = |id: ServerId| all[id];
            for &(field, id) in &servers {
                known_at(path(field), id, Some((at, i)))?;
            }
            match action {
                Action::Command { line, .. } => {
                    if line.len() > MAX_LINE_BYTES {
                        return Err(err(
                            path("line"),
                            format!("longer than {MAX_LINE_BYTES} bytes"),
                        ));
                    }
                    match crate::engine::resp::split_args(line.as_bytes()) {
                        None => {
                            return Err(err(
                                path("line"),
                                "unbalanced quotes (redis-cli would not send it)",
                            ))
                        }
                        Some(args) if args.is_empty() => {
                            return Err(err(path("line"), "empty command"))
                        }
                        Some(_) => {}
                    }
                }
                Action::Replicaof {
                    server,
                    master: Some(master),
                    ..
                } if server == master => {
                    return Err(err(
                        path("master"),
                        format!("{:?} cannot replicate itself", name(*server)),
                    ));
                }
                Action::Replicaof { .. } => {}
                Action::Fault { fault, .. } => {
                    if let [_, (field, b)] = servers[..] {
                        if servers[0].1 == b {
                            return Err(err(
                                path(field),
                                format!("a link joins two servers, not {:?} to itself", name(b)),
                            ));
                        }
                    }
                    match fault {
                        Fault::Sever { detect_ms, .. } => {
                            check_delay(path("detect_ms"), *detect_ms)?
                        }
                        Fault::SetLink { config, .. } => {
                            check_delay(path("latency_ms"), config.latency_ms)?;
                            check_delay(path("extra_delay_ms"), config.extra_delay_ms)?;
                            check_delay(path("jitter_ms"), config.jitter_ms)?;
                            if let Some(bw) = config.bandwidth {
                                if bw < 1 {
                                    return Err(err(path("bandwidth"), too_narrow(bw as i64)));
                                }
                                if bw > MAX_BANDWIDTH as u64 {
                                    return Err(err(
                                        path("bandwidth"),
                                        format!("{bw} is over the limit {MAX_BANDWIDTH} bytes/ms"),
                                    ));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                Action::AddServer { .. } | Action::Remove { .. } => {}
                Action::Generate {
                    write,
                    rate,
                    keys,
                    value_size,
                    ttl_s,
                    stop_at,
                    ..
                } => {
                    let spec = generator::GenerateSpec {
                        write: *write,
                        rate: (*rate).max(0) as u64,
                        keys: (*keys).max(0) as u64,
                        value_size: (*value_size).max(0) as u64,
                        ttl_s: (*ttl_s).max(0) as u64,
                    };
                    spec.check().map_err(|e| err(path("rate"), e))?;
                    if *stop_at <= at || *stop_at > MAX_TIME_MS {
                        return Err(err(path("stop_at"), format!("{stop_at} ms must be after `at` ({at} ms) and at most {MAX_TIME_MS} ms")));
                    }
                }
                Action::Load {
                    rate,
                    duration_ms,
                    keys,
                    value_bytes,
                    ttl_ms,
                    ..
                } => {
                    if !(1..=MAX_RATE).contains(rate) {
                        return Err(err(
                            path("rate"),
                            format!("{rate} writes/s is outside 1 to {MAX_RATE}"),
                        ));
                    }
                    if !(1..=MAX_LOAD_DURATION_MS).contains(duration_ms) {
                        return Err(err(
                            path("duration_ms"),
                            format!("{duration_ms} ms is outside 1 to {MAX_LOAD_DURATION_MS}"),
                        ));
                    }
                    if !(1..=MAX_KEYS).contains(keys) {
                        return Err(err(
                            path("keys"),
                            format!("{keys} keys is outside 1 to {MAX_KEYS}"),
                        ));
                    }
                    if !(1..=MAX_VALUE_BYTES).contains(value_bytes) {
                        return Err(err(
                            path("value_bytes"),
                            format!("{value_bytes} bytes is outside 1 to {MAX_VALUE_BYTES}"),
                        ));
                    }
                    if let Some(ttl) = ttl_ms {
                        if !(1..=MAX_TIME_MS).contains(ttl) {
                            return Err(err(
                                path("ttl_ms"),
                                format!("{ttl} ms is outside 1 to {MAX_TIME_MS}"),
                            ));
                        }
                    }
                    if action.end() > MAX_TIME_MS {
                        return Err(err(
                            path("duration_ms"),
                            format!("the load would run past the limit of {MAX_TIME_MS} ms"),
                        ));
                    }
                }
            }
            commands = commands.saturating_add(action.command_count());
            if commands > MAX_COMMANDS {
                return Err(err(path("at"), format!("the actions so far type more than {MAX_COMMANDS} commands, the limit for one scenario")));
            }
            budget
                .add(action)
                .map_err(|sentence| err(format!("actions[{i}]"), sentence))?;
        }
        if let Some(end) = self.end_ms {
            if !(0..=MAX_TIME_MS).contains(&end) {
                return Err(err(
                    "end_ms",
                    format!("{end} ms is outside 0 to {MAX_TIME_MS}"),
                ));
            }
        }
        self.check_cron_loops()?;
        // A check may read a server added by an action: the run has it by its end.
        for (i, e) in self.expect.info.iter().enumerate() {
            if e.server >= all.len() {
                return Err(err(
                    format!("expect.info[{i}].server"),
                    format!("unknown server #{}", e.server),
                ));
            }
        }
        Ok(())
    }
}

/// The `hz` a `CONFIG SET` line asks for, as the server would take it (1 to 500).
fn typed_hz(line: &str) -> Option<u32> {
    let args = crate::engine::resp::split_args(line.as_bytes())?;
    if args.len() < 4
        || !args[0].eq_ignore_ascii_case(b"config")
        || !args[1].eq_ignore_ascii_case(b"set")
    {
        return None;
    }
    args[2..]
        .chunks(2)
        .filter(|pair| pair.len() == 2 && pair[0].eq_ignore_ascii_case(b"hz"))
        .filter_map(|pair| std::str::from_utf8(&pair[1]).ok()?.parse::<i64>().ok())
        .map(|hz| hz.clamp(1, 500) as u32)
        .max()
}
