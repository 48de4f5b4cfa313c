//! Replication scenarios run on the bus, shared by the native test (`bus_determinism.rs`)
//! and the browser test (`web_determinism.rs`). Each one's whole event log is recorded in
//! `tests/scenarios/<name>.log`; both builds must reproduce it line for line, so the
//! playground in a browser tab does exactly what `cargo test` saw natively.
//!
//! Re-record after an intended behaviour change with
//! `REPLSCOPE_BLESS=1 cargo test --no-default-features --test bus bus_determinism`, and read
//! the diff: it is the change in what users will see.

use replscope::bus::{Bus, ServerId};
use replscope::engine::Config;

pub struct Scenario {
    pub name: &'static str,
    pub run: fn() -> Bus,
    pub recorded: &'static str,
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "full_sync_then_stream",
        run: full_sync_then_stream,
        recorded: include_str!("full_sync_then_stream.log"),
    },
    Scenario {
        name: "cut_heal_partial_resync",
        run: cut_heal_partial_resync,
        recorded: include_str!("cut_heal_partial_resync.log"),
    },
    Scenario {
        name: "failover_keeps_history_as_replid2",
        run: failover_keeps_history_as_replid2,
        recorded: include_str!("failover_keeps_history_as_replid2.log"),
    },
    Scenario {
        name: "backlog_overrun_forces_full_resync",
        run: backlog_overrun_forces_full_resync,
        recorded: include_str!("backlog_overrun_forces_full_resync.log"),
    },
];

/// The whole log as text, one canonical line per entry.
pub fn log_text(bus: &Bus) -> String {
    bus.log().iter().map(|e| e.line() + "\n").collect()
}

fn command(bus: &mut Bus, server: ServerId, line: &str) {
    bus.submit_command(server, line)
        .unwrap_or_else(|e| panic!("console refused {line:?}: {e}"));
}

/// A master on 6380 and replicas on 6381 and 6382, synced. The seed fixes the replids.
fn three_servers(seed: u64) -> (Bus, [ServerId; 3]) {
    let mut bus = Bus::new(seed);
    let m = bus.add_server(
        "master",
        Config {
            port: 6380,
            ..Config::default()
        },
    );
    let a = bus.add_server(
        "replica-a",
        Config {
            port: 6381,
            ..Config::default()
        },
    );
    let b = bus.add_server(
        "replica-b",
        Config {
            port: 6382,
            ..Config::default()
        },
    );
    command(&mut bus, a, "REPLICAOF 127.0.0.1 6380");
    command(&mut bus, b, "REPLICAOF 127.0.0.1 6380");
    bus.advance(8_000);
    (bus, [m, a, b])
}

/// Every type, TTLs and a transaction flow from the master to both replicas.
fn full_sync_then_stream() -> Bus {
    let (mut bus, [m, a, _]) = three_servers(11);
    for line in [
        "SET greeting hello EX 100",
        "RPUSH queue a b c",
        "HSET user:1 name ada lang rust",
        "SADD tags x y 1 2",
        "ZADD board 1 one 2.5 two",
        "INCRBYFLOAT counter 1.5",
        "EXPIRE queue 50",
        "SELECT 3",
        "SET other db",
        "MULTI",
        "INCR n",
        "DEL nothing",
        "EXEC",
    ] {
        command(&mut bus, m, line);
        bus.advance(5);
    }
    bus.advance(3_000);
    command(&mut bus, a, "INFO replication");
    bus
}

/// A cut shorter than the backlog: the replica continues from its offset.
fn cut_heal_partial_resync() -> Bus {
    let (mut bus, [m, a, _]) = three_servers(12);
    bus.cut(m, a);
    for i in 0..20 {
        command(&mut bus, m, &format!("SET key:{i} value:{i}"));
    }
    bus.advance(2_500);
    bus.heal(m, a);
    bus.advance(3_000);
    command(&mut bus, m, "INFO replication");
    bus
}

/// The replica promoted with REPLICAOF NO ONE keeps the old replid as replid2, so its
/// former sibling continues partially from it.
fn failover_keeps_history_as_replid2() -> Bus {
    let (mut bus, [m, a, b]) = three_servers(13);
    command(&mut bus, m, "SET before failover");
    bus.advance(100);
    command(&mut bus, a, "REPLICAOF NO ONE");
    command(&mut bus, b, "REPLICAOF 127.0.0.1 6381");
    bus.advance(3_000);
    command(&mut bus, a, "SET after failover");
    bus.advance(1_000);
    command(&mut bus, a, "INFO replication");
    bus
}

/// More writes during a cut than the (minimum, 16 kB) backlog holds: the heal needs a
/// full resynchronization.
fn backlog_overrun_forces_full_resync() -> Bus {
    let (mut bus, [m, a, _]) = three_servers(14);
    command(&mut bus, m, "CONFIG SET repl-backlog-size 16kb");
    bus.cut(m, a);
    let big = "x".repeat(1000);
    for i in 0..40 {
        command(&mut bus, m, &format!("SET big:{i} {big}"));
    }
    bus.advance(2_500);
    bus.heal(m, a);
    bus.advance(8_000);
    command(&mut bus, m, "INFO replication");
    bus
}

/// The first line where two logs differ, with context, for a readable failure.
pub fn first_difference(got: &str, want: &str) -> Option<String> {
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    for i in 0..g.len().max(w.len()) {
        if g.get(i) != w.get(i) {
            return Some(format!(
                "line {}:\n  got:  {}\n  want: {}",
                i + 1,
                g.get(i).unwrap_or(&"<end of log>"),
                w.get(i).unwrap_or(&"<end of log>")
            ));
        }
    }
    None
}
