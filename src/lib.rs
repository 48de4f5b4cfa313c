//! replscope: a browser playground for Redis master/replica replication.
//!
//! - [`engine`]: one Redis 7.0 server as a sans-IO, deterministic state machine.
//! - [`bus`]: virtual servers joined by a simulated network on a virtual clock.
//! - [`scenario`]: runs written down as JSON, carried out on the bus under replication's
//!   invariants; random scenarios and shrinking for `replscope-sim`.
//! - `ui` (feature `web`): the Yew playground that draws the bus and drives it.
//!
//! The engine and the bus never depend on browser crates; `cargo test
//! --no-default-features` builds and tests them alone.

// The crate by its own name, so a file shared with the integration tests
// (tests/common/test_bed.rs) reads the same in both.
#[cfg(all(test, feature = "web"))]
extern crate self as replscope;

pub mod bus;
pub mod engine;
pub mod scenario;

#[cfg(feature = "web")]
pub mod ui;
