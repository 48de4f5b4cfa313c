//! The engine alone: one `Node` driven by bytes and ticks, no bus in between. The RESP,
//! reply and RDB fuzzers, and a hostile master against a replica (whose last test compares
//! with a real redis-server replica).
//!
//! The native tests are grouped by layer into a few crates (`engine`, `bus`, `scenario`,
//! `differential`, `tidy`, and `hostile_links` alone), so a build links a handful of test
//! binaries; each module keeps the file name it had as a crate of its own.
//! `hostile_master`'s counting allocator is this binary's global allocator: it counts per
//! thread, so the other tests here neither see nor disturb its figures.

#[path = "../common/mod.rs"]
mod common;

mod fuzz_resp;
mod hostile_master;
