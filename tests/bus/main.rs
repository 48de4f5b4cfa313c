//! The bus: servers on the simulated network, its faults, budgets, time travel and
//! determinism (the recorded scenario logs), the replication buffer, and the teaching
//! modes (checked against a real redis-server too, in `teaching_modes::real`).

#[path = "../common/mod.rs"]
mod common;
#[path = "../scenarios/mod.rs"]
mod scenarios;
#[path = "../common/test_bed.rs"]
mod test_bed;

mod bus_backlog;
mod bus_budget;
mod bus_determinism;
mod bus_faults;
mod bus_random_use;
mod bus_replication;
mod bus_time_travel;
mod teaching_modes;
