//! Reading an [`Action`] from a scenario file, in one pass and without buffering.
//!
//! Why not `#[derive(Deserialize)]` with `#[serde(tag = "do")]`: for an internally tagged
//! enum serde must first copy the whole object into its generic `Content` tree (the tag
//! may come last), then read the variant out of that copy. For nineteen kinds of action
//! that machinery was about 80 KB of the page's wasm, 18 KB of its gzip download, for one
//! type. This reader relies on something the format already guarantees: a field name
//! means the same thing, with the same type, in every action that has it (`at` is always
//! a time, `server` always a name). So each value goes straight into its typed slot as it
//! is read, and which fields the kind allows is checked once the kind is known.
//!
//! The file format does not change, and neither do the messages: they are serde's own
//! (`unknown field`, `missing field`, `unknown variant`, `duplicate field`), listing a
//! kind's fields in the order the [`Action`] enum declares them, as the derived code did.
//! One thing reads better than before: a bad value names its field
//! (`actions[1].type: unknown variant ...`), where the buffered reader could only name
//! the action.
//!
//! [`Action`]'s `Serialize` stays derived (writing needs no buffering), so a test reads
//! back what the derive writes for every kind (`tests/scenario_model.rs`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::generator::GenerateWrite;
use super::{default_ttl_s, default_value_bytes, Action, WriteKind};

/// The `do` of an action. Its derive gives serde's `unknown variant` message listing
/// every kind, in the enum's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Command,
    Replicaof,
    Cut,
    Heal,
    Sever,
    Partition,
    PartitionOneWay,
    Hold,
    Release,
    SetLink,
    Crash,
    Restart,
    Save,
    Pause,
    Resume,
    AddServer,
    Remove,
    Generate,
    Load,
}

impl Kind {
    /// The fields an action of this kind may have, in the order [`Action`] declares them
    /// (serde's messages list them so).
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Command => &["at", "server", "line"],
            Kind::Replicaof => &["at", "server", "master"],
            Kind::Cut | Kind::Heal | Kind::Partition => &["at", "a", "b"],
            Kind::Sever => &["at", "a", "b", "detect_ms"],
            Kind::PartitionOneWay | Kind::Hold | Kind::Release => &["at", "from", "to"],
            Kind::SetLink => &[
                "at",
                "from",
                "to",
                "latency_ms",
                "bandwidth",
                "extra_delay_ms",
                "jitter_ms",
                "both_ways",
            ],
            Kind::Crash | Kind::Save | Kind::Pause | Kind::Resume | Kind::Remove => {
                &["at", "server"]
            }
            Kind::Restart => &["at", "server", "with_rdb"],
            Kind::AddServer => &["at", "name", "port", "config"],
            Kind::Generate => &[
                "at",
                "server",
                "write",
                "rate",
                "keys",
                "value_size",
                "ttl_s",
                "stop_at",
            ],
            Kind::Load => &[
                "at",
                "server",
                "rate",
                "duration_ms",
                "type",
                "keys",
                "value_bytes",
                "ttl_ms",
                "multi",
            ],
        }
    }
}

/// Every field any action has, one typed slot each. `Some` once the file gave it; the
/// inner `Option` of an optional field is JSON's `null`.
#[derive(Default)]
struct Fields {
    at: Option<i64>,
    server: Option<String>,
    line: Option<String>,
    master: Option<Option<String>>,
    a: Option<String>,
    b: Option<String>,
    from: Option<String>,
    to: Option<String>,
    detect_ms: Option<i64>,
    latency_ms: Option<Option<i64>>,
    bandwidth: Option<Option<i64>>,
    extra_delay_ms: Option<Option<i64>>,
    jitter_ms: Option<Option<i64>>,
    both_ways: Option<bool>,
    with_rdb: Option<bool>,
    name: Option<String>,
    port: Option<i64>,
    config: Option<BTreeMap<String, String>>,
    write: Option<GenerateWrite>,
    rate: Option<i64>,
    keys: Option<i64>,
    value_size: Option<i64>,
    ttl_s: Option<i64>,
    stop_at: Option<i64>,
    duration_ms: Option<i64>,
    kind: Option<WriteKind>,
    value_bytes: Option<i64>,
    ttl_ms: Option<Option<i64>>,
    multi: Option<bool>,
}

/// Reads the next value into `slot`, refusing a second one for the same field.
fn fill<'de, A: MapAccess<'de>, T: Deserialize<'de>>(
    map: &mut A,
    slot: &mut Option<T>,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

fn need<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

impl Fields {
    /// Reads the value of `key` into its slot. A name no action has is skipped here; the
    /// caller refuses it once the kind is known.
    fn read<'de, A: MapAccess<'de>>(&mut self, map: &mut A, key: &str) -> Result<(), A::Error> {
        macro_rules! slots {
            ($($name:literal => $slot:ident),* $(,)?) => {
                match key {
                    $($name => fill(map, &mut self.$slot, $name),)*
                    _ => map.next_value::<IgnoredAny>().map(|_| ()),
                }
            };
        }
        slots! {
            "at" => at, "server" => server, "line" => line, "master" => master, "a" => a, "b" => b,
            "from" => from, "to" => to, "detect_ms" => detect_ms, "latency_ms" => latency_ms,
            "bandwidth" => bandwidth, "extra_delay_ms" => extra_delay_ms, "jitter_ms" => jitter_ms,
            "both_ways" => both_ways, "with_rdb" => with_rdb, "name" => name, "port" => port,
            "config" => config, "write" => write, "rate" => rate, "keys" => keys,
            "value_size" => value_size, "ttl_s" => ttl_s, "stop_at" => stop_at,
            "duration_ms" => duration_ms, "type" => kind, "value_bytes" => value_bytes,
            "ttl_ms" => ttl_ms, "multi" => multi,
        }
    }

    /// The action of `kind` from the slots, naming the first missing field in declaration
    /// order (struct literals evaluate their fields in the order written).
    fn into_action<E: de::Error>(self, kind: Kind) -> Result<Action, E> {
        let f = self;
        // A required field: its slot, or serde's `missing field` naming it.
        macro_rules! req {
            ($field:ident) => {
                need(f.$field, stringify!($field))?
            };
        }
        Ok(match kind {
            Kind::Command => Action::Command {
                at: req!(at),
                server: req!(server),
                line: req!(line),
            },
            Kind::Replicaof => Action::Replicaof {
                at: req!(at),
                server: req!(server),
                master: f.master.flatten(),
            },
            Kind::Cut => Action::Cut {
                at: req!(at),
                a: req!(a),
                b: req!(b),
            },
            Kind::Heal => Action::Heal {
                at: req!(at),
                a: req!(a),
                b: req!(b),
            },
            Kind::Sever => Action::Sever {
                at: req!(at),
                a: req!(a),
                b: req!(b),
                detect_ms: f.detect_ms.unwrap_or(0),
            },
            Kind::Partition => Action::Partition {
                at: req!(at),
                a: req!(a),
                b: req!(b),
            },
            Kind::PartitionOneWay => Action::PartitionOneWay {
                at: req!(at),
                from: req!(from),
                to: req!(to),
            },
            Kind::Hold => Action::Hold {
                at: req!(at),
                from: req!(from),
                to: req!(to),
            },
            Kind::Release => Action::Release {
                at: req!(at),
                from: req!(from),
                to: req!(to),
            },
            Kind::SetLink => Action::SetLink {
                at: req!(at),
                from: req!(from),
                to: req!(to),
                latency_ms: f.latency_ms.flatten(),
                bandwidth: f.bandwidth.flatten(),
                extra_delay_ms: f.extra_delay_ms.flatten(),
                jitter_ms: f.jitter_ms.flatten(),
                both_ways: f.both_ways.unwrap_or(false),
            },
            Kind::Crash => Action::Crash {
                at: req!(at),
                server: req!(server),
            },
            Kind::Restart => Action::Restart {
                at: req!(at),
                server: req!(server),
                with_rdb: req!(with_rdb),
            },
            Kind::Save => Action::Save {
                at: req!(at),
                server: req!(server),
            },
            Kind::Pause => Action::Pause {
                at: req!(at),
                server: req!(server),
            },
            Kind::Resume => Action::Resume {
                at: req!(at),
                server: req!(server),
            },
            Kind::AddServer => Action::AddServer {
                at: req!(at),
                name: req!(name),
                port: req!(port),
                config: f.config.unwrap_or_default(),
            },
            Kind::Remove => Action::Remove {
                at: req!(at),
                server: req!(server),
            },
            Kind::Generate => Action::Generate {
                at: req!(at),
                server: req!(server),
                write: req!(write),
                rate: req!(rate),
                keys: req!(keys),
                value_size: req!(value_size),
                ttl_s: f.ttl_s.unwrap_or_else(default_ttl_s),
                stop_at: req!(stop_at),
            },
            Kind::Load => Action::Load {
                at: req!(at),
                server: req!(server),
                rate: req!(rate),
                duration_ms: req!(duration_ms),
                kind: need(f.kind, "type")?,
                keys: req!(keys),
                value_bytes: f.value_bytes.unwrap_or_else(default_value_bytes),
                ttl_ms: f.ttl_ms.flatten(),
                multi: f.multi.unwrap_or(false),
            },
        })
    }
}

struct ActionVisitor;

impl<'de> Visitor<'de> for ActionVisitor {
    type Value = Action;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an action: an object with \"do\" and \"at\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Action, A::Error> {
        let mut kind: Option<Kind> = None;
        let mut fields = Fields::default();
        // Fields read before `do` said which are allowed: checked once it has.
        let mut before_kind: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "do" {
                fill(&mut map, &mut kind, "do")?;
                continue;
            }
            // Once the kind is known a field it does not have is refused before its value
            // is read, as the derived reader did.
            match kind {
                Some(kind) if !kind.fields().contains(&key.as_str()) => {
                    return Err(de::Error::unknown_field(&key, kind.fields()))
                }
                Some(_) => fields.read(&mut map, &key)?,
                None => {
                    fields.read(&mut map, &key)?;
                    before_kind.push(key);
                }
            }
        }
        let kind = need(kind, "do")?;
        if let Some(key) = before_kind
            .iter()
            .find(|key| !kind.fields().contains(&key.as_str()))
        {
            return Err(de::Error::unknown_field(key, kind.fields()));
        }
        fields.into_action(kind)
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Action, D::Error> {
        deserializer.deserialize_map(ActionVisitor)
    }
}
