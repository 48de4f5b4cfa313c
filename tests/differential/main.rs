//! replscope beside a real redis-server 7.0: reply and replication-stream bytes, random
//! command sequences, replication proven on four pairs, the backlog, interop both ways,
//! RDB files, the command script, hostile clients of `replscope-server`, and what Redis's
//! own test suite needs to start it (diff_boot). Every test
//! here needs redis-server (they skip loudly without it, and fail when
//! `REPLSCOPE_REQUIRE_REDIS` is set).

#[path = "../common/mod.rs"]
mod common;
#[path = "../script/mod.rs"]
mod script;

mod commands_diff;
mod commands_script;
mod diff_backlog;
mod diff_boot;
mod diff_client_pause;
mod diff_collections;
mod diff_failover;
mod diff_random;
mod diff_replication_cmds;
mod diff_server;
mod diff_strings_keys;
mod full_sync_timeline;
mod hostile_clients;
mod interop;
mod rdb_check;
mod replication_proof;
