//! The guided scenarios: short runs with a title and a narration, each showing one thing
//! Redis replication does (a first sync, a partial resync, a failover under PSYNC2 and
//! under PSYNC1, a full-sync loop, ...) at the moment it happens.
//!
//! Each is an ordinary scenario file in `guided/`. Natively it is compiled in; the page
//! carries only each one's id and title (for its menu and for `?guide=`) and fetches
//! `guided/<id>.json` when one is opened: the files are 29 KB, and most visits open none.
//! Every number or reply a narration step states is also in its checks
//! (`guided/<id>.checks.json`: the `info` and `log_contains` expectations of the run), so
//! `tests/scenario/guided.rs`, which runs them all with their checks
//! ([`checked_scenario`]), fails when the engine and the story part ways; it also checks
//! that each title here is the file's.

#[cfg(not(target_arch = "wasm32"))]
use super::Scenario;

/// One guided scenario: its id (the file name) and title, and natively its JSON and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guided {
    pub id: &'static str,
    /// The file's `title`.
    pub title: &'static str,
    #[cfg(not(target_arch = "wasm32"))]
    pub json: &'static str,
    /// `{"info": [...], "log_contains": [...]}`: merged into the scenario's `expect`.
    #[cfg(not(target_arch = "wasm32"))]
    pub checks: &'static str,
}

macro_rules! guided {
    ($($id:literal: $title:literal),* $(,)?) => {
        &[$(Guided {
            id: $id,
            title: $title,
            #[cfg(not(target_arch = "wasm32"))]
            json: include_str!(concat!("guided/", $id, ".json")),
            #[cfg(not(target_arch = "wasm32"))]
            checks: include_str!(concat!("guided/", $id, ".checks.json")),
        }),*]
    };
}

/// In teaching order: from the first sync to the pitfalls.
pub const ALL: &[Guided] = guided![
    "first-sync": "First sync: a replica attaches",
    "writes-during-full-sync": "Writes during a full sync",
    "brief-cut-partial-resync": "A brief cut, a partial resync",
    "backlog-too-small": "Backlog too small: a cut that ends in a full resync",
    "full-sync-loop": "The full-sync loop",
    "failover-psync2": "Failover under PSYNC2: everyone continues partially",
    "failover-psync1": "Failover under PSYNC1: full syncs for everyone",
    "chained-replicas": "Chained replicas: a replica of a replica",
    "min-replicas-to-write": "min-replicas-to-write: refusing writes nobody will copy",
    "read-only-replica": "Writing to a replica",
    "restart-without-persistence": "A master without persistence restarts empty",
    "silent-one-way-partition": "A silent one-way partition",
    "wait-semantics": "WAIT: counting acknowledgements",
    "legacy-sync-cost": "The cost of SYNC: Redis before 2.8",
];

/// The guided scenario `id`, if there is one.
pub fn get(id: &str) -> Option<&'static Guided> {
    ALL.iter().find(|g| g.id == id)
}

/// Whether `id` names a guided scenario (without parsing it).
pub fn exists(id: &str) -> bool {
    get(id).is_some()
}

/// Where the page fetches the guided scenario `id`'s file, relative to itself (trunk copies
/// `guided/` beside `index.html`).
pub fn path(id: &str) -> String {
    format!("guided/{id}.json")
}

/// The guided scenario `id`, parsed and validated; `None` for an unknown id. (Every file
/// parses: `tests/scenario/guided.rs` checks each with its error message.)
#[cfg(not(target_arch = "wasm32"))]
pub fn scenario(id: &str) -> Option<Scenario> {
    get(id).and_then(|g| Scenario::from_json(g.json).ok())
}

/// The guided scenario `id` with its checks in its `expect`, as `tests/guided.rs` and
/// `replscope-sim` check it; `None` for an unknown id, or checks that do not parse or
/// name a server the scenario does not have.
#[cfg(not(target_arch = "wasm32"))]
pub fn checked_scenario(id: &str) -> Option<Scenario> {
    let g = get(id)?;
    let mut scenario = Scenario::from_json(g.json).ok()?;
    scenario.set_checks(g.checks).ok()?;
    Some(scenario)
}
