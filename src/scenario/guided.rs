//! The guided scenarios: short runs with a title and a narration, each showing one thing
//! Redis replication does (a first sync, a partial resync, a failover under PSYNC2 and
//! under PSYNC1, a full-sync loop, ...) at the moment it happens.
//!
//! Each is an ordinary scenario file in `guided/`, compiled in, so the page can offer them
//! and a share link can name one by its id. Every number or reply a narration step
//! states is also in the file's `expect`, so `tests/guided.rs`, which runs them all,
//! fails when the engine and the story part ways.

use super::Scenario;

/// One guided scenario: its id (the file name) and its JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guided {
    pub id: &'static str,
    pub json: &'static str,
}

macro_rules! guided {
    ($($id:literal),* $(,)?) => {
        &[$(Guided { id: $id, json: include_str!(concat!("guided/", $id, ".json")) }),*]
    };
}

/// In teaching order: from the first sync to the pitfalls.
pub const ALL: &[Guided] = guided![
    "first-sync",
    "brief-cut-partial-resync",
    "backlog-too-small",
    "full-sync-loop",
    "failover-psync2",
    "failover-psync1",
    "chained-replicas",
    "min-replicas-to-write",
    "read-only-replica",
    "restart-without-persistence",
    "silent-one-way-partition",
    "wait-semantics",
    "legacy-sync-cost",
];

/// Whether `id` names a guided scenario (without parsing it).
pub fn exists(id: &str) -> bool {
    ALL.iter().any(|g| g.id == id)
}

/// The guided scenario `id`, parsed and validated; `None` for an unknown id. (Every file
/// parses: `tests/guided.rs` checks each with its error message.)
pub fn scenario(id: &str) -> Option<Scenario> {
    ALL.iter().find(|g| g.id == id).and_then(|g| Scenario::from_json(g.json).ok())
}
