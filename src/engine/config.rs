//! Server configuration with Redis's option names, defaults and value syntax.
//!
//! The same table serves `replscope-server`'s command line / config file and `CONFIG
//! GET/SET`, so an option means the same thing everywhere.

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
    pub repl_ping_replica_period: u64,
    pub repl_timeout: u64,
    pub replica_read_only: bool,
    pub replica_serve_stale_data: bool,
    pub replica_announce_ip: Option<String>,
    pub replica_announce_port: u16,
    pub proto_max_bulk_len: u64,
    pub hz: u32,
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
            repl_ping_replica_period: 10,
            repl_timeout: 60,
            replica_read_only: true,
            replica_serve_stale_data: true,
            replica_announce_ip: None,
            replica_announce_port: 0,
            proto_max_bulk_len: 512 * 1024 * 1024,
            hz: 10,
        }
    }
}

/// Smallest backlog Redis allows (CONFIG SET rounds smaller values up to it).
pub const MIN_BACKLOG_SIZE: u64 = 16 * 1024;

/// Names every option may be given by (Redis keeps the old `slave-*` spellings as aliases).
const ALIASES: &[(&str, &str)] = &[
    ("slaveof", "replicaof"),
    ("repl-ping-slave-period", "repl-ping-replica-period"),
    ("slave-read-only", "replica-read-only"),
    ("slave-serve-stale-data", "replica-serve-stale-data"),
    ("slave-announce-ip", "replica-announce-ip"),
    ("slave-announce-port", "replica-announce-port"),
];

pub fn canonical_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    ALIASES.iter().find(|(alias, _)| *alias == lower).map(|(_, real)| real.to_string()).unwrap_or(lower)
}

impl Config {
    /// Applies one option given as in redis.conf (`name` and its argument words).
    /// The error text is what redis-server prints for a bad config line.
    pub fn apply(&mut self, name: &str, args: &[String]) -> Result<(), String> {
        let name = canonical_name(name);
        let one = || -> Result<&str, String> {
            if args.len() == 1 {
                Ok(args[0].as_str())
            } else {
                Err("wrong number of arguments".into())
            }
        };
        match name.as_str() {
            "bind" => {
                if args.is_empty() {
                    return Err("wrong number of arguments".into());
                }
                self.bind = args[0].clone();
            }
            "port" => self.port = parse_int(one()?, 0, 65535)? as u16,
            "requirepass" => self.requirepass = non_empty(one()?),
            "masterauth" => self.masterauth = non_empty(one()?),
            "masteruser" => self.masteruser = non_empty(one()?),
            "replicaof" => {
                if args.len() != 2 {
                    return Err("wrong number of arguments".into());
                }
                if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                    self.replicaof = None;
                } else {
                    let port = parse_int(&args[1], 0, 65535).map_err(|_| "Invalid master port".to_string())?;
                    self.replicaof = Some((args[0].clone(), port as u16));
                }
            }
            "repl-backlog-size" => self.repl_backlog_size = parse_memory(one()?)?.max(MIN_BACKLOG_SIZE),
            "repl-backlog-ttl" => self.repl_backlog_ttl = parse_int(one()?, 0, i64::MAX)? as u64,
            "repl-diskless-sync" => self.repl_diskless_sync = parse_bool(one()?)?,
            "repl-diskless-sync-delay" => self.repl_diskless_sync_delay = parse_int(one()?, 0, i32::MAX as i64)? as u64,
            "repl-ping-replica-period" => self.repl_ping_replica_period = parse_int(one()?, 1, i32::MAX as i64)? as u64,
            "repl-timeout" => self.repl_timeout = parse_int(one()?, 1, i32::MAX as i64)? as u64,
            "replica-read-only" => self.replica_read_only = parse_bool(one()?)?,
            "replica-serve-stale-data" => self.replica_serve_stale_data = parse_bool(one()?)?,
            "replica-announce-ip" => self.replica_announce_ip = non_empty(one()?).map(|v| String::from_utf8_lossy(&v).into_owned()),
            "replica-announce-port" => self.replica_announce_port = parse_int(one()?, 0, 65535)? as u16,
            "proto-max-bulk-len" => self.proto_max_bulk_len = parse_memory(one()?)?.max(1024 * 1024),
            "hz" => self.hz = parse_int(one()?, 0, i32::MAX as i64)?.clamp(1, 500) as u32,
            _ => return Err("Bad directive or wrong number of arguments".into()),
        }
        Ok(())
    }
}

fn non_empty(s: &str) -> Option<Vec<u8>> {
    if s.is_empty() {
        None
    } else {
        Some(s.as_bytes().to_vec())
    }
}

fn parse_int(s: &str, min: i64, max: i64) -> Result<i64, String> {
    let v: i64 = s.parse().map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    if v < min || v > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(v)
}

fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" => Ok(true),
        "no" => Ok(false),
        _ => Err("argument must be 'yes' or 'no'".into()),
    }
}

/// Redis memory units: `1k` = 1000, `1kb` = 1024, `1m`, `1mb`, `1g`, `1gb`, plain bytes.
pub fn parse_memory(s: &str) -> Result<u64, String> {
    let lower = s.to_ascii_lowercase();
    let (digits, mul) = [("gb", 1u64 << 30), ("g", 1_000_000_000), ("mb", 1 << 20), ("m", 1_000_000), ("kb", 1 << 10), ("k", 1000), ("b", 1)]
        .iter()
        .find_map(|(suffix, mul)| lower.strip_suffix(suffix).map(|d| (d.to_string(), *mul)))
        .unwrap_or((lower.clone(), 1));
    let n: u64 = digits.parse().map_err(|_| "argument must be a memory value".to_string())?;
    n.checked_mul(mul).ok_or_else(|| "argument must be a memory value".to_string())
}

/// Parses a redis.conf file's text into (name, args) lines, honouring quotes.
pub fn parse_config_text(text: &str) -> Result<Vec<(String, Vec<String>)>, String> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = super::resp::split_args(line.as_bytes())
            .ok_or_else(|| format!("line {}: Unbalanced quotes in configuration line", i + 1))?;
        let mut words = words.into_iter().map(|w| String::from_utf8_lossy(&w).into_owned());
        if let Some(name) = words.next() {
            out.push((name, words.collect()));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units_follow_redis() {
        assert_eq!(parse_memory("1mb").unwrap(), 1_048_576);
        assert_eq!(parse_memory("1m").unwrap(), 1_000_000);
        assert_eq!(parse_memory("16kb").unwrap(), 16_384);
        assert_eq!(parse_memory("100").unwrap(), 100);
        assert!(parse_memory("lots").is_err());
    }

    #[test]
    fn options_and_aliases() {
        let mut c = Config::default();
        c.apply("slaveof", &["127.0.0.1".into(), "6380".into()]).unwrap();
        assert_eq!(c.replicaof, Some(("127.0.0.1".into(), 6380)));
        c.apply("repl-backlog-size", &["1kb".into()]).unwrap();
        assert_eq!(c.repl_backlog_size, MIN_BACKLOG_SIZE);
        assert!(c.apply("port", &["70000".into()]).is_err());
        assert!(c.apply("no-such-option", &["1".into()]).is_err());
    }
}
