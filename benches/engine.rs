//! Engine benchmarks, no network: how fast one [`Node`] parses and executes requests.
//!
//! - `pipeline/set_get_16`: 16 pipelined commands (8 SET + 8 GET over 100 keys, 3-byte
//!   values) fed as one read, replies drained — what one `redis-benchmark -P 16` round
//!   costs the engine.
//! - `pipeline/set_get_1`: one SET per read (no pipelining).
//! - `resp/parse_16`: RESP parsing alone of the same 16-command pipeline.
//!
//! Run: `cargo bench --no-default-features --bench engine` (numbers in BENCHMARKS.md).

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    native::benches();
    criterion::Criterion::default().configure_from_args().final_summary();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;

    use criterion::{criterion_group, Criterion, Throughput};
    use replscope::engine::resp::{encode_command, ParseLimits, Parsed, RequestParser};
    use replscope::engine::{Config, Input, Node, Output, PeerAddr};

    /// `n` commands alternating SET key:i xxx / GET key:i, keys cycling over 100.
    fn pipeline(n: usize, start: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let key = format!("key:{:012}", (start + i / 2) % 100);
            if i % 2 == 0 {
                out.extend(encode_command(&[b"SET", key.as_bytes(), b"xxx"]));
            } else {
                out.extend(encode_command(&[b"GET", key.as_bytes()]));
            }
        }
        out
    }

    fn node_with_client() -> (Node, u64) {
        let mut node = Node::new(Config::default(), 1_700_000_000_000, 1);
        let conn = node.accept(1_700_000_000_000, PeerAddr { ip: "127.0.0.1".into(), port: 50000 });
        while node.poll_output().is_some() {}
        (node, conn)
    }

    /// Feeds `input` and drains the outputs; returns the reply bytes' length.
    fn round(node: &mut Node, conn: u64, input: &[u8]) -> usize {
        node.handle(1_700_000_000_000, Input::Bytes { conn, data: input.to_vec() });
        let mut n = 0;
        while let Some(out) = node.poll_output() {
            if let Output::Send { data, .. } = out {
                n += data.len();
            }
        }
        n
    }

    fn engine(c: &mut Criterion) {
        let mut g = c.benchmark_group("pipeline");
        for &depth in &[16usize, 1] {
            let inputs: Vec<Vec<u8>> = (0..50).map(|i| pipeline(depth.max(2), i * 7)).collect();
            let inputs: Vec<Vec<u8>> = if depth == 1 {
                // One SET per read.
                (0..100).map(|i| encode_command(&[b"SET", format!("key:{:012}", i).as_bytes(), b"xxx"])).collect()
            } else {
                inputs
            };
            g.throughput(Throughput::Elements(depth as u64));
            g.bench_function(format!("set_get_{depth}"), |b| {
                let (mut node, conn) = node_with_client();
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % inputs.len();
                    black_box(round(&mut node, conn, &inputs[i]))
                })
            });
        }
        g.finish();

        let mut g = c.benchmark_group("resp");
        let input = pipeline(16, 0);
        g.throughput(Throughput::Elements(16));
        g.bench_function("parse_16", |b| {
            let mut p = RequestParser::new();
            b.iter(|| {
                p.feed(black_box(&input));
                let mut n = 0;
                while let Some(Parsed::Command { argv, .. }) = p.next(ParseLimits::default()) {
                    n += argv.len();
                }
                black_box(n)
            })
        });
        g.finish();
    }

    criterion_group!(benches, engine);
}
