//! The in-page bus: replicated SETs per second through a master and two replicas,
//! time-travel jump latency in a 100k-event run, and idle virtual time (8 servers at
//! `hz 500`), with idle crons skipped and carried out one by one.
//!
//! `cargo bench --no-default-features --bench bus`
//!
//! The same workloads in a browser: `scripts/bench-wasm.sh` (tests/web_bench.rs).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

#[cfg(not(target_arch = "wasm32"))]
#[path = "../tests/common/test_bed.rs"]
mod test_bed;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::time::Duration;

    use criterion::{criterion_group, BatchSize, Criterion, Throughput};
    use replscope::bus::{Bus, ServerId};

    use crate::test_bed::TestBed;

    /// Master on 6380, replicas on 6381 and 6382, synced.
    pub fn synced_bus() -> (Bus, ServerId) {
        Bus::master_and_synced_replicas(1, 2)
    }

    pub const BATCH: usize = 10_000;

    /// Pipes `BATCH` SETs into the master and runs until both replicas applied them.
    pub fn replicate_batch(bus: &mut Bus, master: ServerId, lines: &[String]) {
        let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
        bus.submit_pipe(master, &refs).unwrap();
        bus.advance(5);
    }

    fn replicated_sets(c: &mut Criterion) {
        let lines: Vec<String> = (0..BATCH)
            .map(|i| format!("SET key:{i} value:{i}"))
            .collect();
        let mut g = c.benchmark_group("bus");
        g.throughput(Throughput::Elements(BATCH as u64));
        g.sample_size(20).measurement_time(Duration::from_secs(8));
        g.bench_function("replicated_sets_master_2_replicas", |b| {
            // The bus is returned so that dropping it is not measured.
            b.iter_batched(
                synced_bus,
                |(mut bus, m)| {
                    replicate_batch(&mut bus, m, &lines);
                    bus
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }

    /// A run of at least 100k log entries: SETs typed one by one, a millisecond apart.
    pub fn long_run() -> Bus {
        let (mut bus, m) = synced_bus();
        let mut i = 0;
        while bus.log().len() < 100_000 {
            bus.submit_command(m, &format!("SET key:{i} {i}")).unwrap();
            bus.advance(1);
            i += 1;
        }
        bus
    }

    fn jumps(c: &mut Criterion) {
        let mut bus = long_run();
        let total = bus.log().len();
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut g = c.benchmark_group("bus");
        g.sample_size(50);
        g.bench_function("time_travel_jump_100k_events", |b| {
            b.iter(|| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                bus.jump_to((x % total as u64) as usize).unwrap();
            })
        });
        g.finish();
    }

    /// 8 idle servers at `hz 500` for `ms` of virtual time (4,000 cron loops a second).
    fn idle_run(ms: u64, skip: bool) -> Bus {
        use replscope::engine::Config;
        let mut bus = Bus::new(1);
        bus.set_skip_idle_cron(skip);
        for i in 0..8 {
            bus.add_server(
                &format!("s{i}"),
                Config {
                    port: 6380 + i,
                    hz: 500,
                    ..Config::default()
                },
            );
        }
        bus.advance(ms);
        bus
    }

    fn idle(c: &mut Criterion) {
        let mut g = c.benchmark_group("bus");
        g.sample_size(10);
        g.bench_function("idle_minute_8_servers_hz_500_every_loop", |b| {
            b.iter(|| idle_run(60_000, false))
        });
        g.bench_function("idle_minute_8_servers_hz_500_skipped", |b| {
            b.iter(|| idle_run(60_000, true))
        });
        g.bench_function("idle_day_8_servers_hz_500_skipped", |b| {
            b.iter(|| idle_run(86_400_000, true))
        });
        g.finish();
    }

    criterion_group!(benches, replicated_sets, jumps, idle);
}
