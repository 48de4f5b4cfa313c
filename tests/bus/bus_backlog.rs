//! The replication buffer on the in-page bus: the bus reports every chunk written as soon
//! as it is on its link, so replicas that keep up hold only the tail block and are never
//! dropped, however tight their output-buffer limit; the backlog trims whole blocks.

use replscope::bus::{Bus, LogKind, ServerId};
use replscope::engine::{Config, Event};

fn config(port: u16) -> Config {
    let mut c = Config {
        port,
        repl_backlog_size: 16 * 1024,
        ..Config::default()
    };
    // Tight, but not below what a replica that keeps up holds: the tail block (20504
    // bytes with its header and list cell) and, while a big write is being fed, the
    // blocks it fills before the replica's next write. A limit under one block would drop
    // even a replica that keeps up, in Redis as here.
    c.client_output_buffer_limit[1] = (64 * 1024, 32 * 1024, 0);
    c
}

fn master_and_replica() -> (Bus, ServerId, ServerId) {
    let mut bus = Bus::new(3);
    let m = bus.add_server("master", config(6380));
    let r = bus.add_server("replica", config(6381));
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(8_000);
    (bus, m, r)
}

#[test]
fn replicas_on_the_bus_keep_up_and_reference_only_the_tail() {
    let (mut bus, m, r) = master_and_replica();
    let value = "x".repeat(30_000);
    for i in 0..50 {
        bus.submit_command(m, &format!("SET k{i} {value}")).unwrap();
        bus.advance(10);
    }
    bus.advance(1_000);
    let dropped = bus.log().iter().any(
        |e| matches!(&e.kind, LogKind::Engine(Event::Log(l)) if l.contains("output buffer limits")),
    );
    assert!(!dropped, "a replica that keeps up is never dropped");
    let node = &bus.server(m).node;
    assert_eq!(node.replicas().count(), 1, "the replica is still attached");
    let repl = node.replication();
    let backlog = repl.backlog.as_ref().expect("a backlog");
    // It has been written everything: it stands at the end of the tail block.
    let refs: Vec<_> = backlog.replica_refs().collect();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0].offset, repl.master_repl_offset + 1);
    let tail = backlog.blocks().last().unwrap();
    assert_eq!(refs[0].block_id, tail.id);
    // Whole blocks trimmed: more than the setting, less than the setting plus a block.
    assert!(backlog.histlen() > 16 * 1024 && backlog.histlen() <= 16 * 1024 + 20_440);
    assert_eq!(
        backlog.first_byte_offset() + backlog.histlen() as u64 - 1,
        repl.master_repl_offset
    );
    assert!(
        backlog.blocks().all(|b| b.size == 20_440),
        "16 KiB blocks, as jemalloc sizes them"
    );
    // The replica's own backlog follows the same stream.
    let replica_repl = bus.server(r).node.replication();
    assert_eq!(replica_repl.master_repl_offset, repl.master_repl_offset);
}

#[test]
fn a_limit_below_one_block_drops_even_a_replica_that_keeps_up() {
    let mut bus = Bus::new(4);
    let mut tight = config(6380);
    tight.client_output_buffer_limit[1] = (1, 0, 0);
    let m = bus.add_server("master", tight);
    let r = bus.add_server("replica", config(6381));
    bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
    bus.advance(8_000);
    // The hard limit is raised to repl-backlog-size (16 KiB), but the first block alone
    // counts 20504 bytes: the write that allocates it drops the replica.
    bus.submit_command(m, "SET k v").unwrap();
    bus.advance(10);
    let line = bus.log().iter().find_map(|e| match &e.kind {
        LogKind::Engine(Event::Log(l))
            if e.server == Some(m) && l.contains("output buffer limits") =>
        {
            Some(l.clone())
        }
        _ => None,
    });
    let line = line.expect("the replica is dropped");
    assert!(line.contains(" oll=1 omem=20504 "), "{line}");
}
