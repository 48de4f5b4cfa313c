//! One batch of the bus benchmark (benches/bus.rs), for instruction counting under
//! callgrind: `valgrind --tool=callgrind target/release/examples/bus_batch`.
//! REPLSCOPE_BATCHES=N runs N batches on fresh buses (0: only the setup, to subtract).

#[path = "../tests/common/test_bed.rs"]
mod test_bed;

use replscope::bus::Bus;
use test_bed::TestBed;

fn main() {
    let batches: usize = std::env::var("REPLSCOPE_BATCHES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let lines: Vec<String> = (0..10_000)
        .map(|i| format!("SET key:{i} value:{i}"))
        .collect();
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    let mut keep = Vec::new();
    for _ in 0..batches.max(1) {
        let (mut bus, m) = Bus::master_and_synced_replicas(1, 2);
        if batches > 0 {
            bus.submit_pipe(m, &refs).unwrap();
            bus.advance(5);
        }
        keep.push(bus);
    }
    let keys: usize = keep
        .iter()
        .map(|b| {
            b.servers()
                .iter()
                .map(|s| s.node.keyspace().len())
                .sum::<usize>()
        })
        .sum();
    println!("{keys} keys");
    // Leaked on purpose: dropping is not part of the benchmark.
    std::mem::forget(keep);
}
