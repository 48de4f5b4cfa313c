//! A [`Scenario`]'s JSON form: where the file names servers, the scenario addresses them
//! by bus id. Names become ids once, as the file is read, and ids names again as it is
//! written; a scenario written reads back byte for byte as it was.
//!
//! Reading resolves names only once the whole file is read: the servers may come after the
//! actions, and an added server's id depends on when it joins. Until then each name the
//! file gives (an action's, the topology's, a check's) is numbered in the order it first
//! appears, and those numbers are replaced by the ids they name at the end. A guide's
//! checks file goes through the same resolution (`Scenario::set_checks`).
//!
//! An action is read in one pass and without buffering. Why not
//! `#[derive(Deserialize)]` with `#[serde(tag = "do")]`: for an internally tagged enum
//! serde must first copy the whole object into its generic `Content` tree (the tag may
//! come last), then read the variant out of that copy; for nineteen kinds of action that
//! machinery was about 80 KB of the page's wasm, 18 KB of its gzip download. This reader
//! relies on something the format already guarantees: a field name means the same thing,
//! with the same type, in every action that has it (`at` is always a time, `server`
//! always a name). So each value goes straight into its typed slot as it is read, and
//! which fields the kind allows is checked once the kind is known.
//!
//! The messages are serde's own (`unknown field`, `missing field`, `unknown variant`,
//! `duplicate field`), listing a kind's fields in the order the format gives them, and a
//! bad value names its field (`actions[1].type: unknown variant ...`).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeSeq, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::generator::GenerateWrite;
use super::{
    default_ttl_s, default_value_bytes, Action, Expectations, InfoExpectation, Link, NarrationStep,
    Scenario, ServerSpec, WriteKind, Written,
};
use crate::bus::{Fault, LinkConfig, ServerId, DEFAULT_LATENCY_MS};

/// `Kind::$name` for whichever of the listed `$ty::$name` variants `$value` is; the match
/// arms after `;` take the others.
macro_rules! same_name {
    ($value:expr, $ty:ident: $($name:ident)*; $($others:tt)*) => {
        match $value {
            $($ty::$name { .. } => Kind::$name,)*
            $($others)*
        }
    };
}

/// The `do` of an action. Its derive gives serde's `unknown variant` message listing
/// every kind, in this order, and writes each kind's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The fields an action of this kind may have, in the order the file writes them
    /// (serde's messages list them so): the servers it names come right after `at`.
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

    /// How the file writes `action`: the kind of the same name as its variant (or its
    /// fault's), but for a hold written as a partition.
    fn of(action: &Action) -> Kind {
        same_name! { action, Action: Command Replicaof AddServer Remove Generate Load;
            Action::Fault { fault, written, .. } => match fault {
                Fault::Hold { .. } if written.both_ways => Kind::Partition,
                Fault::Hold { .. } if written.partition => Kind::PartitionOneWay,
                fault => same_name! { fault, Fault:
                    Cut Heal Sever Hold Release SetLink Crash Restart Save Pause Resume; },
            },
        }
    }
}

/// The fields of the file that name `action`'s servers, in [`Action::servers_mut`]'s
/// order (fewer when a `replicaof` has no master).
pub(super) fn server_fields(action: &Action) -> &'static [&'static str] {
    &Kind::of(action).fields()[1..]
}

/// A milliseconds field: a whole number from 0.
struct Ms(u64);

impl<'de> Deserialize<'de> for Ms {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ms, D::Error> {
        let ms = i64::deserialize(deserializer)?;
        u64::try_from(ms)
            .map(Ms)
            .map_err(|_| de::Error::custom(format!("{ms} is under the minimum 0")))
    }
}

/// A link's bandwidth in bytes per ms: at least 1.
struct Bandwidth(u64);

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Bandwidth, D::Error> {
        let bw = i64::deserialize(deserializer)?;
        match u64::try_from(bw) {
            Ok(bw) if bw >= 1 => Ok(Bandwidth(bw)),
            _ => Err(de::Error::custom(super::too_narrow(bw))),
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
    detect_ms: Option<Ms>,
    latency_ms: Option<Option<Ms>>,
    bandwidth: Option<Option<Bandwidth>>,
    extra_delay_ms: Option<Option<Ms>>,
    jitter_ms: Option<Option<Ms>>,
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

/// The number standing for server `name` until names are resolved: its place among the
/// names read so far.
fn number(names: &mut Vec<String>, name: String) -> ServerId {
    match names.iter().position(|n| *n == name) {
        Some(i) => i,
        None => {
            names.push(name);
            names.len() - 1
        }
    }
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

    /// The action of `kind` from the slots, its servers numbered by `names`, naming the
    /// first missing field in the kind's order (struct literals evaluate their fields in
    /// the order written).
    fn into_action<E: de::Error>(self, kind: Kind, names: &mut Vec<String>) -> Result<Action, E> {
        let f = self;
        // A required field: its slot, or serde's `missing field` naming it.
        macro_rules! req {
            ($field:ident) => {
                need(f.$field, stringify!($field))?
            };
        }
        let mut id = |name: String| number(names, name);
        let at = req!(at);
        let fault = |fault: Fault, written: Written| Action::Fault { at, fault, written };
        let plain = Written::default();
        Ok(match kind {
            Kind::Command => Action::Command {
                at,
                server: id(req!(server)),
                line: req!(line),
            },
            Kind::Replicaof => Action::Replicaof {
                at,
                server: id(req!(server)),
                master: f.master.flatten().map(&mut id),
            },
            Kind::Cut | Kind::Heal | Kind::Sever | Kind::Partition => {
                let (a, b) = (id(req!(a)), id(req!(b)));
                match kind {
                    Kind::Cut => fault(Fault::Cut { a, b }, plain),
                    Kind::Heal => fault(Fault::Heal { a, b }, plain),
                    Kind::Sever => fault(
                        Fault::Sever {
                            a,
                            b,
                            detect_ms: f.detect_ms.map_or(0, |ms| ms.0),
                        },
                        plain,
                    ),
                    _ => fault(
                        Fault::Hold { from: a, to: b },
                        Written {
                            both_ways: true,
                            partition: true,
                            ..plain
                        },
                    ),
                }
            }
            Kind::PartitionOneWay | Kind::Hold | Kind::Release | Kind::SetLink => {
                let (from, to) = (id(req!(from)), id(req!(to)));
                match kind {
                    Kind::Release => fault(Fault::Release { from, to }, plain),
                    Kind::SetLink => {
                        let (latency, extra_delay, jitter) = (
                            f.latency_ms.flatten(),
                            f.extra_delay_ms.flatten(),
                            f.jitter_ms.flatten(),
                        );
                        let written = Written {
                            both_ways: f.both_ways.unwrap_or(false),
                            partition: false,
                            latency: latency.is_some(),
                            extra_delay: extra_delay.is_some(),
                            jitter: jitter.is_some(),
                        };
                        let config = LinkConfig {
                            latency_ms: latency.map_or(DEFAULT_LATENCY_MS, |ms| ms.0),
                            bandwidth: f.bandwidth.flatten().map(|bw| bw.0),
                            extra_delay_ms: extra_delay.map_or(0, |ms| ms.0),
                            jitter_ms: jitter.map_or(0, |ms| ms.0),
                        };
                        fault(Fault::SetLink { from, to, config }, written)
                    }
                    _ => fault(
                        Fault::Hold { from, to },
                        Written {
                            partition: kind == Kind::PartitionOneWay,
                            ..plain
                        },
                    ),
                }
            }
            Kind::Crash | Kind::Restart | Kind::Save | Kind::Pause | Kind::Resume => {
                let server = id(req!(server));
                fault(
                    match kind {
                        Kind::Crash => Fault::Crash { server },
                        Kind::Restart => Fault::Restart {
                            server,
                            from_disk: req!(with_rdb),
                        },
                        Kind::Save => Fault::Save { server },
                        Kind::Pause => Fault::Pause { server },
                        _ => Fault::Resume { server },
                    },
                    plain,
                )
            }
            Kind::AddServer => Action::AddServer {
                at,
                name: req!(name),
                port: req!(port),
                config: f.config.unwrap_or_default(),
            },
            Kind::Remove => Action::Remove {
                at,
                server: id(req!(server)),
            },
            Kind::Generate => Action::Generate {
                at,
                server: id(req!(server)),
                write: req!(write),
                rate: req!(rate),
                keys: req!(keys),
                value_size: req!(value_size),
                ttl_s: f.ttl_s.unwrap_or_else(default_ttl_s),
                stop_at: req!(stop_at),
            },
            Kind::Load => Action::Load {
                at,
                server: id(req!(server)),
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

/// Reads one action, numbering the servers it names in `names`.
struct ActionSeed<'a>(&'a mut Vec<String>);

impl<'de> DeserializeSeed<'de> for ActionSeed<'_> {
    type Value = Action;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Action, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ActionSeed<'_> {
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
            // is read.
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
        fields.into_action(kind, self.0)
    }
}

/// Reads the list of actions.
struct ActionsSeed<'a>(&'a mut Vec<String>);

impl<'de> DeserializeSeed<'de> for ActionsSeed<'_> {
    type Value = Vec<Action>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Action>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ActionsSeed<'_> {
    type Value = Vec<Action>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Action>, A::Error> {
        let mut actions = Vec::new();
        while let Some(action) = seq.next_element_seed(ActionSeed(self.0))? {
            actions.push(action);
        }
        Ok(actions)
    }
}

/// A [`Link`] as the file writes it, servers by name.
#[derive(Deserialize)]
#[serde(rename = "Link", deny_unknown_fields)]
struct LinkAs {
    replica: String,
    master: String,
}

/// An [`InfoExpectation`] as the file writes it.
#[derive(Deserialize)]
#[serde(rename = "InfoExpectation", deny_unknown_fields)]
struct InfoAs {
    server: String,
    field: String,
    equals: String,
}

/// [`Expectations`] as the file writes them (a guide's checks file too).
#[derive(Deserialize)]
#[serde(rename = "Expectations", deny_unknown_fields)]
struct ExpectAs {
    #[serde(default)]
    liveness: Option<bool>,
    #[serde(default)]
    info: Vec<InfoAs>,
    #[serde(default)]
    log_contains: Vec<String>,
}

impl ExpectAs {
    /// The expectations, their servers numbered by `names` until names are resolved.
    fn numbered(self, names: &mut Vec<String>) -> Expectations {
        let mut info = Vec::with_capacity(self.info.len());
        for e in self.info {
            info.push(InfoExpectation {
                server: number(names, e.server),
                field: e.field,
                equals: e.equals,
            });
        }
        Expectations {
            liveness: self.liveness,
            info,
            log_contains: self.log_contains,
        }
    }
}

/// The top-level fields of a scenario file, in the order it writes them.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Top {
    Version,
    Seed,
    Description,
    Title,
    Narration,
    Servers,
    Topology,
    Actions,
    EndMs,
    Expect,
}

struct ScenarioVisitor;

impl<'de> Visitor<'de> for ScenarioVisitor {
    type Value = Scenario;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("struct Scenario")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scenario, A::Error> {
        let mut version = None;
        let mut seed = None;
        let mut description: Option<Option<String>> = None;
        let mut title: Option<Option<String>> = None;
        let mut narration: Option<Vec<NarrationStep>> = None;
        let mut servers: Option<Vec<ServerSpec>> = None;
        let mut topology: Option<Vec<LinkAs>> = None;
        let mut actions: Option<Vec<Action>> = None;
        let mut end_ms: Option<Option<i64>> = None;
        let mut expect: Option<ExpectAs> = None;
        let mut names = Vec::new();
        while let Some(key) = map.next_key::<Top>()? {
            match key {
                Top::Version => fill(&mut map, &mut version, "version")?,
                Top::Seed => fill(&mut map, &mut seed, "seed")?,
                Top::Description => fill(&mut map, &mut description, "description")?,
                Top::Title => fill(&mut map, &mut title, "title")?,
                Top::Narration => fill(&mut map, &mut narration, "narration")?,
                Top::Servers => fill(&mut map, &mut servers, "servers")?,
                Top::Topology => fill(&mut map, &mut topology, "topology")?,
                Top::Actions => {
                    if actions.is_some() {
                        return Err(de::Error::duplicate_field("actions"));
                    }
                    actions = Some(map.next_value_seed(ActionsSeed(&mut names))?);
                }
                Top::EndMs => fill(&mut map, &mut end_ms, "end_ms")?,
                Top::Expect => fill(&mut map, &mut expect, "expect")?,
            }
        }
        let mut links = Vec::new();
        for l in topology.unwrap_or_default() {
            let replica = number(&mut names, l.replica);
            let master = number(&mut names, l.master);
            links.push(Link { replica, master });
        }
        let expect = expect.map(|e| e.numbered(&mut names));
        let mut scenario = Scenario {
            version: need(version, "version")?,
            seed: need(seed, "seed")?,
            description: description.flatten(),
            title: title.flatten(),
            narration: narration.unwrap_or_default(),
            servers: need(servers, "servers")?,
            topology: links,
            actions: actions.unwrap_or_default(),
            end_ms: end_ms.flatten(),
            expect: expect.unwrap_or_default(),
        };
        let ids = ids(&scenario, &names);
        let s = &mut scenario;
        let info = &mut s.expect.info;
        if let Err(unknown) = resolve(&ids, &names, &mut s.topology, &mut s.actions, info) {
            scenario.check_servers().map_err(de::Error::custom)?;
            return Err(de::Error::custom(unknown));
        }
        Ok(scenario)
    }
}

/// The id of the server each of `names` names, if there is one.
fn ids(scenario: &Scenario, names: &[String]) -> Vec<Option<ServerId>> {
    names.iter().map(|n| scenario.server_index(n)).collect()
}

/// Replaces the numbers the servers were read as (their names' places in `names`) by the
/// ids the names stand for, in the file's order; or says which field names a server the
/// scenario does not have.
fn resolve(
    ids: &[Option<ServerId>],
    names: &[String],
    topology: &mut [Link],
    actions: &mut [Action],
    info: &mut [InfoExpectation],
) -> Result<(), String> {
    let id = |number: &mut ServerId, list: &str, i: usize, field: &str| {
        *number = ids[*number]
            .ok_or_else(|| format!("{list}[{i}].{field}: unknown server {:?}", names[*number]))?;
        Ok::<(), String>(())
    };
    for (i, link) in topology.iter_mut().enumerate() {
        id(&mut link.replica, "topology", i, "replica")?;
        id(&mut link.master, "topology", i, "master")?;
    }
    for (i, action) in actions.iter_mut().enumerate() {
        let fields = server_fields(action);
        for (field, number) in fields.iter().zip(action.servers_mut()) {
            id(number, "actions", i, field)?;
        }
    }
    for (i, e) in info.iter_mut().enumerate() {
        id(&mut e.server, "expect.info", i, "server")?;
    }
    Ok(())
}

impl Scenario {
    /// Sets the `info` and `log_contains` checks from `checks`, a checks file (an `expect`
    /// object) naming this scenario's servers.
    #[cfg(not(target_arch = "wasm32"))]
    pub(super) fn set_checks(&mut self, checks: &str) -> Result<(), String> {
        let checks: ExpectAs = serde_json::from_str(checks).map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        let mut checks = checks.numbered(&mut names);
        resolve(
            &ids(self, &names),
            &names,
            &mut [],
            &mut [],
            &mut checks.info,
        )?;
        self.expect.info = checks.info;
        self.expect.log_contains = checks.log_contains;
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Scenario {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scenario, D::Error> {
        deserializer.deserialize_map(ScenarioVisitor)
    }
}

impl Serialize for Scenario {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Scenario", 10)?;
        out.serialize_field("version", &self.version)?;
        out.serialize_field("seed", &self.seed)?;
        if let Some(description) = &self.description {
            out.serialize_field("description", description)?;
        }
        if let Some(title) = &self.title {
            out.serialize_field("title", title)?;
        }
        if !self.narration.is_empty() {
            out.serialize_field("narration", &self.narration)?;
        }
        out.serialize_field("servers", &self.servers)?;
        let names: Vec<&str> = self.all_servers().into_iter().map(|(n, ..)| n).collect();
        if !self.topology.is_empty() {
            out.serialize_field("topology", &Named(self.topology.as_slice(), &names))?;
        }
        if !self.actions.is_empty() {
            out.serialize_field("actions", &Named(self.actions.as_slice(), &names))?;
        }
        if let Some(end_ms) = &self.end_ms {
            out.serialize_field("end_ms", end_ms)?;
        }
        if !self.expect.is_default() {
            out.serialize_field("expect", &Named(&self.expect, &names))?;
        }
        out.end()
    }
}

/// The name of server `id`, for the file.
fn named<'a, E: ser::Error>(names: &[&'a str], id: ServerId) -> Result<&'a str, E> {
    names
        .get(id)
        .copied()
        .ok_or_else(|| E::custom(format!("no server #{id}")))
}

/// What the file writes with servers by name: actions, links, checks; the names by id.
struct Named<'a, T: ?Sized>(&'a T, &'a [&'a str]);

impl<T> Serialize for Named<'_, [T]>
where
    for<'a> Named<'a, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&Named(item, self.1))?;
        }
        seq.end()
    }
}

impl Serialize for Named<'_, Link> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Named(link, names) = *self;
        let mut out = serializer.serialize_struct("Link", 2)?;
        for (field, id) in [("replica", link.replica), ("master", link.master)] {
            out.serialize_field(field, named::<S::Error>(names, id)?)?;
        }
        out.end()
    }
}

impl Serialize for Named<'_, Expectations> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Named(expect, names) = *self;
        let mut out = serializer.serialize_struct("Expectations", 3)?;
        if let Some(liveness) = &expect.liveness {
            out.serialize_field("liveness", liveness)?;
        }
        if !expect.info.is_empty() {
            out.serialize_field("info", &Named(expect.info.as_slice(), names))?;
        }
        if !expect.log_contains.is_empty() {
            out.serialize_field("log_contains", &expect.log_contains)?;
        }
        out.end()
    }
}

impl Serialize for Named<'_, InfoExpectation> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Named(e, names) = *self;
        let mut out = serializer.serialize_struct("InfoExpectation", 3)?;
        out.serialize_field("server", named::<S::Error>(names, e.server)?)?;
        out.serialize_field("field", &e.field)?;
        out.serialize_field("equals", &e.equals)?;
        out.end()
    }
}

/// Writes fields of a `$variant` action that are always written, named as they are.
macro_rules! always {
    ($out:ident, $action:ident, $variant:ident: $($field:ident)*) => {
        if let Action::$variant { $($field,)* .. } = $action {
            $($out.serialize_field(stringify!($field), $field)?;)*
        }
    };
}

impl Serialize for Named<'_, Action> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Named(action, names) = *self;
        let kind = Kind::of(action);
        let mut out = serializer.serialize_struct("Action", kind.fields().len() + 1)?;
        out.serialize_field("do", &kind)?;
        out.serialize_field("at", &action.at())?;
        for (field, id) in action.servers() {
            out.serialize_field(field, named::<S::Error>(names, id)?)?;
        }
        match action {
            Action::Command { line, .. } => out.serialize_field("line", line)?,
            Action::Fault { fault, written, .. } => match fault {
                Fault::Sever { detect_ms, .. } => out.serialize_field("detect_ms", detect_ms)?,
                Fault::Restart { from_disk, .. } => out.serialize_field("with_rdb", from_disk)?,
                Fault::SetLink { config, .. } => {
                    if written.latency {
                        out.serialize_field("latency_ms", &config.latency_ms)?;
                    }
                    if let Some(bandwidth) = &config.bandwidth {
                        out.serialize_field("bandwidth", bandwidth)?;
                    }
                    if written.extra_delay {
                        out.serialize_field("extra_delay_ms", &config.extra_delay_ms)?;
                    }
                    if written.jitter {
                        out.serialize_field("jitter_ms", &config.jitter_ms)?;
                    }
                    if written.both_ways {
                        out.serialize_field("both_ways", &true)?;
                    }
                }
                _ => {}
            },
            Action::AddServer {
                name, port, config, ..
            } => {
                out.serialize_field("name", name)?;
                out.serialize_field("port", port)?;
                if !config.is_empty() {
                    out.serialize_field("config", config)?;
                }
            }
            Action::Generate { .. } => {
                always! { out, action, Generate: write rate keys value_size ttl_s stop_at }
            }
            Action::Load {
                kind,
                ttl_ms,
                multi,
                ..
            } => {
                always! { out, action, Load: rate duration_ms }
                out.serialize_field("type", kind)?;
                always! { out, action, Load: keys value_bytes }
                if let Some(ttl_ms) = ttl_ms {
                    out.serialize_field("ttl_ms", ttl_ms)?;
                }
                if *multi {
                    out.serialize_field("multi", &true)?;
                }
            }
            Action::Replicaof { .. } | Action::Remove { .. } => {}
        }
        out.end()
    }
}
