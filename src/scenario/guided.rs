//! The guided scenarios: short runs with a title and a narration, each showing one thing
//! Redis replication does (a first sync, a partial resync, a failover under PSYNC2 and
//! under PSYNC1, a full-sync loop, ...) at the moment it happens.
//!
//! Each is an ordinary scenario file in `guided/`, compiled in, so the page can offer them
//! and a share link can name one by its id. Every number or reply a narration step
//! states is also in its checks (`guided/<id>.checks.json`: the `info` and
//! `log_contains` expectations of the run), so `tests/guided.rs`, which runs them all with
//! their checks ([`checked_scenario`]), fails when the engine and the story part ways.
//! The checks are compiled in natively only: the page checks nothing, and they are a sixth
//! of the guides' download.

use super::Scenario;

/// One guided scenario: its id (the file name), its JSON, and natively its checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guided {
    pub id: &'static str,
    pub json: &'static str,
    /// `{"info": [...], "log_contains": [...]}`: merged into the scenario's `expect`.
    #[cfg(not(target_arch = "wasm32"))]
    pub checks: &'static str,
}

macro_rules! guided {
    ($($id:literal),* $(,)?) => {
        &[$(Guided {
            id: $id,
            json: include_str!(concat!("guided/", $id, ".json")),
            #[cfg(not(target_arch = "wasm32"))]
            checks: include_str!(concat!("guided/", $id, ".checks.json")),
        }),*]
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
    ALL.iter()
        .find(|g| g.id == id)
        .and_then(|g| Scenario::from_json(g.json).ok())
}

/// The guided scenario `id` with its checks in its `expect`, as `tests/guided.rs` and
/// `replscope-sim` check it; `None` for an unknown id or a checks file that does not parse.
#[cfg(not(target_arch = "wasm32"))]
pub fn checked_scenario(id: &str) -> Option<Scenario> {
    let g = ALL.iter().find(|g| g.id == id)?;
    let mut scenario = Scenario::from_json(g.json).ok()?;
    let checks: super::Expectations = serde_json::from_str(g.checks).ok()?;
    scenario.expect.info = checks.info;
    scenario.expect.log_contains = checks.log_contains;
    Some(scenario)
}
