//! What a scenario costs before it runs: the bytes of command text it types, the dataset it
//! can build, and the keys it can create, each an upper bound computed from the file alone.
//!
//! Counting actions and commands is not enough: one `load` action of 200 000 writes with
//! 64 KiB values is within every count and asks the bus for 13 GB, which the log keeps once
//! as the master receives it and once more per replica. [`Scenario::validate`] adds the
//! costs up action by action and refuses a file whose total passes a budget in
//! [`limits`](super::limits), naming the action that passed it, the budget, and by how much.
//!
//! The bounds are deliberately pessimistic where being exact would mean running the load
//! generators' random streams: a write is counted at its longest command line, and a write
//! that may add to a collection is counted as keeping its value.

use super::generator::GenerateWrite;
use super::limits::{MAX_COMMAND_BYTES, MAX_DATASET_BYTES, MAX_DATASET_KEYS};
use super::{Action, WriteKind};

/// Bytes of a generated command line besides its value: the command name, the longest key
/// (`hash:<action>:<key number>`, `load:counter:<key number>`), a field, member or score,
/// the separators, and `PX <ms>` / `EX <s>`: at most 42 bytes (`ZADD load:zset:999999 <n> m<n>`).
pub const LINE_OVERHEAD_BYTES: u64 = 48;

/// What a key costs a server beyond its value: the key's name and the keyspace's entry.
pub const KEY_OVERHEAD_BYTES: u64 = 64;

/// What an element of a collection costs beyond its value: a member or field name (`m123`,
/// `f123`, a score) and its place in the collection.
pub const ELEMENT_OVERHEAD_BYTES: u64 = 24;

/// What one action adds to a scenario's costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    /// Command text it types, generated values included.
    pub command_bytes: u64,
    /// Values (and key overheads) it can leave in one server's dataset.
    pub dataset_bytes: u64,
    /// Keys it can create.
    pub keys: u64,
    /// Whether it copies data already in the dataset (`SUNIONSTORE` and kin): such a command
    /// can store again everything written so far.
    pub copies: bool,
}

/// Commands typed in a console that write a result built from other keys, up to the whole
/// dataset, from a short line.
const COPYING_COMMANDS: [&str; 3] = ["sunionstore", "sinterstore", "sdiffstore"];

impl Action {
    /// The action's cost: exact for typed lines, an upper bound for load generators.
    pub fn cost(&self) -> Cost {
        match self {
            Action::Command { line, .. } => {
                let args = crate::engine::resp::split_args(line.as_bytes()).unwrap_or_default();
                let copies = args.first().is_some_and(|c| {
                    COPYING_COMMANDS
                        .iter()
                        .any(|n| c.eq_ignore_ascii_case(n.as_bytes()))
                });
                // MSET and MSETNX create a key per pair; any other command at most one.
                let keys = (args.len().saturating_sub(1) / 2).max(1) as u64;
                Cost {
                    command_bytes: line.len() as u64,
                    dataset_bytes: line.len() as u64 + KEY_OVERHEAD_BYTES * keys,
                    keys,
                    copies,
                }
            }
            Action::Load {
                rate,
                duration_ms,
                kind,
                keys,
                value_bytes,
                ttl_ms,
                multi,
                ..
            } => {
                let writes =
                    ((*rate).max(0) as u64).saturating_mul((*duration_ms).max(0) as u64) / 1000;
                let writes = if *multi {
                    writes.saturating_mul(2)
                } else {
                    writes
                };
                // Sets and sorted sets write members and scores, never the value.
                let value = if matches!(kind, WriteKind::Set | WriteKind::Zset) {
                    0
                } else {
                    (*value_bytes).max(0) as u64
                };
                // A PEXPIRE line after each write, MULTI and EXEC around each pair.
                let per_write = value + LINE_OVERHEAD_BYTES * (1 + u64::from(ttl_ms.is_some()));
                let wrappers = if *multi {
                    (writes / 2).saturating_mul(10)
                } else {
                    0
                };
                // String loads also INCRBY a `<key>:n` counter beside each key.
                let key_kinds = if matches!(kind, WriteKind::String | WriteKind::Mixed) {
                    2
                } else {
                    1
                };
                let keys = writes.min(((*keys).max(0) as u64).saturating_mul(key_kinds));
                Cost {
                    command_bytes: writes.saturating_mul(per_write).saturating_add(wrappers),
                    // Lists, hashes, sets and APPEND keep what each write adds.
                    dataset_bytes: writes
                        .saturating_mul(value + ELEMENT_OVERHEAD_BYTES)
                        .saturating_add(keys * KEY_OVERHEAD_BYTES),
                    keys,
                    copies: false,
                }
            }
            Action::Generate {
                write,
                keys,
                value_size,
                ..
            } => {
                let writes = self.command_count();
                let value = match write {
                    GenerateWrite::Incr | GenerateWrite::Zadd => 0,
                    _ => (*value_size).max(0) as u64,
                };
                let keys = writes.min((*keys).max(0) as u64);
                // SET, SET EX and INCR overwrite one value per key; LPUSH, HSET (a new field
                // per write) and ZADD (a new member per write) keep every write.
                let kept = match write {
                    GenerateWrite::Set | GenerateWrite::SetEx | GenerateWrite::Incr => keys,
                    GenerateWrite::Lpush | GenerateWrite::Hset | GenerateWrite::Zadd => writes,
                };
                Cost {
                    command_bytes: writes.saturating_mul(value + LINE_OVERHEAD_BYTES),
                    dataset_bytes: kept
                        .saturating_mul(value + ELEMENT_OVERHEAD_BYTES)
                        .saturating_add(keys * KEY_OVERHEAD_BYTES),
                    keys,
                    copies: false,
                }
            }
            _ => Cost::default(),
        }
    }
}

/// The costs of the actions so far, in file order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub command_bytes: u64,
    /// Everything the actions write into datasets, copies left out.
    pub written_bytes: u64,
    /// Commands that may copy what was written.
    pub copies: u64,
    pub keys: u64,
}

impl Totals {
    /// The dataset one server can end up with: what was written, and again for each copying
    /// command (a union stores at most every member written).
    pub fn dataset_bytes(&self) -> u64 {
        self.written_bytes
            .saturating_mul(self.copies.saturating_add(1))
    }

    /// Adds `action`'s cost; past a budget, the sentence that says which, and by how much.
    pub fn add(&mut self, action: &Action) -> Result<(), String> {
        let cost = action.cost();
        self.command_bytes = self.command_bytes.saturating_add(cost.command_bytes);
        self.written_bytes = self.written_bytes.saturating_add(cost.dataset_bytes);
        self.copies += u64::from(cost.copies);
        self.keys = self.keys.saturating_add(cost.keys);
        let what = match action {
            Action::Load { .. } | Action::Generate { .. } => "this load generator",
            _ => "this command",
        };
        // Alone over the budget, the action is the problem; otherwise the sum up to it is.
        let who = |own: u64, budget: u64| {
            if own > budget {
                (what, "s")
            } else {
                ("the actions up to here", "")
            }
        };
        if self.command_bytes > MAX_COMMAND_BYTES {
            let (who, s) = who(cost.command_bytes, MAX_COMMAND_BYTES);
            let n = if s.is_empty() {
                self.command_bytes
            } else {
                cost.command_bytes
            };
            return Err(format!(
                "{who} type{s} {} of commands, over the budget of {} for one scenario by {}",
                human_bytes(n),
                human_bytes(MAX_COMMAND_BYTES),
                human_bytes(n - MAX_COMMAND_BYTES)
            ));
        }
        let total = self.dataset_bytes();
        if total > MAX_DATASET_BYTES {
            let (who, _) = who(cost.dataset_bytes, MAX_DATASET_BYTES);
            let n = if cost.dataset_bytes > MAX_DATASET_BYTES {
                cost.dataset_bytes
            } else {
                total
            };
            let copying = if self.copies > 0 {
                " (SUNIONSTORE, SINTERSTORE and SDIFFSTORE can store again what was written)"
            } else {
                ""
            };
            return Err(format!(
                "{who} can build a dataset of {}{copying}, over the budget of {} for one scenario by {}",
                human_bytes(n),
                human_bytes(MAX_DATASET_BYTES),
                human_bytes(n - MAX_DATASET_BYTES)
            ));
        }
        if self.keys > MAX_DATASET_KEYS {
            let (who, _) = who(cost.keys, MAX_DATASET_KEYS);
            let n = if cost.keys > MAX_DATASET_KEYS {
                cost.keys
            } else {
                self.keys
            };
            return Err(format!(
                "{who} can create {} keys, over the budget of {} keys for one scenario by {}",
                grouped(n),
                grouped(MAX_DATASET_KEYS),
                grouped(n - MAX_DATASET_KEYS)
            ));
        }
        Ok(())
    }
}

pub use crate::bus::{grouped, human_bytes};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_as_a_person_would() {
        assert_eq!(human_bytes(812), "812 bytes");
        assert_eq!(human_bytes(64 * 1024), "64 KiB");
        assert_eq!(human_bytes(16 << 20), "16 MiB");
        assert_eq!(human_bytes(13_116_800_000), "12.2 GiB");
        assert_eq!(human_bytes((16 << 20) + 7), "16,777,223 bytes");
        assert_eq!(grouped(200_000), "200,000");
        assert_eq!(grouped(1_000), "1,000");
        assert_eq!(grouped(999), "999");
    }

    #[test]
    fn the_issues_load_costs_what_it_asks() {
        let load = Action::Load {
            at: 0,
            server: 0,
            rate: 10_000,
            duration_ms: 20_000,
            kind: WriteKind::String,
            keys: 1_000_000,
            value_bytes: 65_536,
            ttl_ms: None,
            multi: false,
        };
        let cost = load.cost();
        assert_eq!(cost.command_bytes, 200_000 * (65_536 + LINE_OVERHEAD_BYTES));
        assert_eq!(cost.keys, 200_000);
        let typed = Action::Command {
            at: 0,
            server: 0,
            line: "MSET a 1 b 2 c 3".into(),
        };
        assert_eq!(typed.cost().keys, 3);
        assert!(
            Action::Command {
                at: 0,
                server: 0,
                line: "sunionstore d a b".into()
            }
            .cost()
            .copies
        );
    }
}
