//! The usual test bed of the bus's tests: a master and replicas that have finished their
//! full sync. Not part of the library's API: the library's own tests take it in as
//! `bus::test_bed` (`#[cfg(test)]`), an integration test with
//! `#[path = "common/test_bed.rs"] mod test_bed;`. It names the crate `replscope` in both
//! (the library calls itself so too), so the same file compiles in either.

use replscope::bus::{Bus, ServerId};
use replscope::engine::Config;

/// [`TestBed::master_and_synced_replicas`] on [`Bus`].
pub trait TestBed {
    /// A master on port 6380 ("master") and `replicas` replicas on 6381, 6382, ...
    /// ("replica-0", ...), each sent `REPLICAOF`, then 7 s of virtual time so every one has
    /// finished its full sync (diskless, after the 5 s default delay). Returns the bus and
    /// the master's id.
    fn master_and_synced_replicas(seed: u64, replicas: u16) -> (Bus, ServerId);
}

impl TestBed for Bus {
    fn master_and_synced_replicas(seed: u64, replicas: u16) -> (Bus, ServerId) {
        let mut bus = Bus::new(seed);
        let master = bus.add_server(
            "master",
            Config {
                port: 6380,
                ..Config::default()
            },
        );
        for i in 0..replicas {
            let r = bus.add_server(
                &format!("replica-{i}"),
                Config {
                    port: 6381 + i,
                    ..Config::default()
                },
            );
            bus.submit_command(r, "REPLICAOF 127.0.0.1 6380")
                .expect("a well-formed line");
        }
        bus.advance(7_000);
        (bus, master)
    }
}
