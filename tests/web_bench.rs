//! The bus benchmarks in a browser: replicated SETs per second through a master and two
//! replicas, and time-travel jump latency in a 100k-event run, compiled to WebAssembly.
//! Prints numbers and asserts nothing about time. Not part of the test run: use
//! `scripts/bench-wasm.sh` (the native counterpart is `benches/bus.rs`).
#![cfg(target_arch = "wasm32")]

use replscope::bus::{Bus, ServerId};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn synced_bus() -> (Bus, ServerId) {
    Bus::master_and_synced_replicas(1, 2)
}

const BATCH: usize = 10_000;

#[wasm_bindgen_test]
fn bench_replicated_sets_and_jumps() {
    let lines: Vec<String> = (0..BATCH).map(|i| format!("SET key:{i} value:{i}")).collect();
    let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
    // Same workload as the criterion bench: a fresh synced bus per batch, the batch timed.
    let mut best = f64::MAX;
    let mut total_ms = 0.0;
    let rounds = 10;
    for _ in 0..rounds {
        let (mut bus, m) = synced_bus();
        let t = js_sys::Date::now();
        bus.submit_pipe(m, &refs).unwrap();
        bus.advance(5);
        let ms = js_sys::Date::now() - t;
        assert_eq!(bus.server(2).node.keyspace().len(), BATCH);
        best = best.min(ms);
        total_ms += ms;
    }
    let mean = total_ms / rounds as f64;
    console_log!(
        "bench-wasm replicated_sets_master_2_replicas: mean {:.1} ms / {BATCH} SETs = {:.0} SETs/s (best {:.1} ms = {:.0} SETs/s)",
        mean,
        BATCH as f64 / mean * 1000.0,
        best,
        BATCH as f64 / best * 1000.0
    );

    let (mut bus, m) = synced_bus();
    let mut i = 0;
    while bus.log().len() < 100_000 {
        bus.submit_command(m, &format!("SET key:{i} {i}")).unwrap();
        bus.advance(1);
        i += 1;
    }
    let total = bus.log().len();
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let (mut worst, mut sum) = (0.0f64, 0.0);
    let jumps = 100;
    for _ in 0..jumps {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let t = js_sys::Date::now();
        bus.jump_to((x % total as u64) as usize).unwrap();
        let ms = js_sys::Date::now() - t;
        worst = worst.max(ms);
        sum += ms;
    }
    console_log!("bench-wasm time_travel_jump_{total}_events: mean {:.2} ms, worst {:.1} ms over {jumps} random jumps", sum / jumps as f64, worst);
}
