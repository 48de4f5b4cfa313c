//! Scenarios: the file format and its validation, the seed sweep under the invariant
//! checker, share links (golden, pinned and fuzzed), the guided scenarios and the page's
//! session. The hostile links are a crate of their own (`tests/hostile_links.rs`): their
//! allocator counts the whole process's heap, so no other test may run beside them.

#[path = "../recorded/mod.rs"]
mod recorded;

mod guided;
mod links;
mod scenario_model;
mod session;
mod sim;
