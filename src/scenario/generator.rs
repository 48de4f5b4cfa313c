//! The page's load generator as data: `rate` writes a second of one command, sent as a
//! pipelined batch every [`BATCH_MS`] of virtual time between a start and a stop.
//!
//! It lives here, not in the UI, because a shared link must replay it: the page sends
//! the batches live while time runs, [`runner`](super::runner) expands the scenario's
//! `generate` action into the same batches at the same instants, and both take their
//! command lines from [`Generator::command`]. The writes are a function of the spec and
//! the write number alone (no random stream), so a replay sends byte-identical pipes.
//!
//! Unlike the scenario's `load` action (one command per write, at its own millisecond,
//! with keys drawn from the seed), batches are what a person clicking "Start" expects:
//! cheap at 10 000 writes/s, and visible as one arrow per batch in the diagram.

use serde::{Deserialize, Serialize};

/// Batches fall every this many ms after the start.
pub const BATCH_MS: u64 = 100;
pub const MAX_RATE: u64 = 10_000;
pub const MAX_KEYS: u64 = 1_000_000;
pub const MAX_VALUE_BYTES: u64 = 64 * 1024;
pub const MAX_TTL_S: u64 = 1_000_000;

/// Which command the generator repeats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GenerateWrite {
    #[default]
    Set,
    Incr,
    Lpush,
    Hset,
    Zadd,
    /// `SET ... EX ttl`: keys that expire, so the master propagates DELs.
    SetEx,
}

impl GenerateWrite {
    pub const ALL: [GenerateWrite; 6] = [
        GenerateWrite::Set,
        GenerateWrite::Incr,
        GenerateWrite::Lpush,
        GenerateWrite::Hset,
        GenerateWrite::Zadd,
        GenerateWrite::SetEx,
    ];

    pub fn label(self) -> &'static str {
        match self {
            GenerateWrite::Set => "SET",
            GenerateWrite::Incr => "INCR",
            GenerateWrite::Lpush => "LPUSH",
            GenerateWrite::Hset => "HSET",
            GenerateWrite::Zadd => "ZADD",
            GenerateWrite::SetEx => "SET EX (expiring)",
        }
    }

    /// Each kind writes its own keys, so switching kinds never hits a WRONGTYPE.
    fn key_prefix(self) -> &'static str {
        match self {
            GenerateWrite::Set => "load:str:",
            GenerateWrite::Incr => "load:counter:",
            GenerateWrite::Lpush => "load:list:",
            GenerateWrite::Hset => "load:hash:",
            GenerateWrite::Zadd => "load:zset:",
            GenerateWrite::SetEx => "load:ttl:",
        }
    }
}

/// What to write: `rate` writes per second over `keys` keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenerateSpec {
    pub write: GenerateWrite,
    pub rate: u64,
    pub keys: u64,
    pub value_size: u64,
    /// Seconds, for [`GenerateWrite::SetEx`].
    pub ttl_s: u64,
}

impl GenerateSpec {
    /// The first bound the spec breaks, as the page and the scenario validation say it.
    pub fn check(&self) -> Result<(), String> {
        let within = |v: u64, what: &str, min: u64, max: u64| {
            if (min..=max).contains(&v) {
                Ok(())
            } else {
                Err(format!("{what} must be a whole number from {min} to {max}"))
            }
        };
        within(self.rate, "writes/s", 1, MAX_RATE)?;
        within(self.keys, "key space", 1, MAX_KEYS)?;
        within(self.value_size, "value size", 1, MAX_VALUE_BYTES)?;
        within(self.ttl_s, "TTL", 1, MAX_TTL_S)
    }
}

/// One generator run on one server, between two virtual instants (unix ms on the bus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generator {
    pub server: usize,
    pub spec: GenerateSpec,
    pub start: u64,
    /// `None` while it runs.
    pub stop: Option<u64>,
}

impl Generator {
    /// Writes due by virtual time `t`: floor(rate × seconds since start), counted only at
    /// whole batches, so the total is a function of virtual time alone.
    pub fn due(&self, t: u64) -> u64 {
        let end = self.stop.map_or(t, |s| t.min(s));
        let elapsed = end.saturating_sub(self.start) / BATCH_MS * BATCH_MS;
        self.spec.rate * elapsed / 1000
    }

    /// The first batch instant strictly after `t`, or `None` past the stop.
    pub fn next_batch_after(&self, t: u64) -> Option<u64> {
        let k = t.saturating_sub(self.start) / BATCH_MS + 1;
        let at = self.start + k * BATCH_MS;
        self.stop.is_none_or(|s| at <= s).then_some(at)
    }

    /// The lines of the batch sent at batch instant `at` (empty when none fell due).
    pub fn batch(&self, at: u64) -> Vec<String> {
        (self.due(at.saturating_sub(BATCH_MS))..self.due(at))
            .map(|n| self.command(n))
            .collect()
    }

    /// The command line of write number `n` (0-based): keys cycle through the key space,
    /// values are `n` padded to the value size.
    pub fn command(&self, n: u64) -> String {
        let s = &self.spec;
        let key = format!("{}{}", s.write.key_prefix(), n % s.keys);
        let mut value = format!("{n}:");
        value.truncate(s.value_size as usize);
        while (value.len() as u64) < s.value_size {
            value.push('x');
        }
        match s.write {
            GenerateWrite::Set => format!("SET {key} {value}"),
            GenerateWrite::Incr => format!("INCR {key}"),
            GenerateWrite::Lpush => format!("LPUSH {key} {value}"),
            GenerateWrite::Hset => format!("HSET {key} f{n} {value}"),
            GenerateWrite::Zadd => format!("ZADD {key} {n} m{n}"),
            GenerateWrite::SetEx => format!("SET {key} {value} EX {}", s.ttl_s),
        }
    }

    /// Every (instant, lines) batch from the start to the stop (which must be set).
    pub fn batches(&self) -> impl Iterator<Item = (u64, Vec<String>)> + '_ {
        let mut t = self.start;
        std::iter::from_fn(move || {
            let at = self.next_batch_after(t)?;
            t = at;
            Some((at, self.batch(at)))
        })
        .filter(|(_, lines)| !lines.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(rate: u64, stop: Option<u64>) -> Generator {
        Generator {
            server: 0,
            spec: GenerateSpec {
                write: GenerateWrite::Set,
                rate,
                keys: 3,
                value_size: 4,
                ttl_s: 10,
            },
            start: 1_000,
            stop,
        }
    }

    #[test]
    fn batches_carry_rate_times_elapsed_writes() {
        let g = gen(25, Some(2_000));
        let batches: Vec<_> = g.batches().collect();
        let total: usize = batches.iter().map(|(_, l)| l.len()).sum();
        assert_eq!(total, 25, "one second at 25/s");
        assert_eq!(batches.first().unwrap().0, 1_100);
        assert_eq!(batches.last().unwrap().0, 2_000);
        // 2.5 writes per 100 ms: the batches alternate 2 and 3.
        assert!(batches.iter().all(|(_, l)| (2..=3).contains(&l.len())));
    }

    #[test]
    fn commands_cycle_keys_and_pad_values() {
        let g = gen(10, None);
        assert_eq!(g.command(0), "SET load:str:0 0:xx");
        assert_eq!(g.command(4), "SET load:str:1 4:xx");
        assert_eq!(g.command(12345), "SET load:str:0 1234");
        assert_eq!(g.batch(1_100), vec!["SET load:str:0 0:xx".to_string()]);
        assert!(
            g.next_batch_after(1_000_000).is_some(),
            "runs until stopped"
        );
    }

    #[test]
    fn spec_bounds_are_checked() {
        let mut g = gen(10, None);
        assert!(g.spec.check().is_ok());
        g.spec.rate = MAX_RATE + 1;
        assert_eq!(
            g.spec.check().unwrap_err(),
            "writes/s must be a whole number from 1 to 10000"
        );
    }
}
