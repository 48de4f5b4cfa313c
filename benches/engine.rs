//! Engine benchmarks, no network: how fast one [`Node`] parses and executes requests.
//!
//! Scenarios (SET key:i xxx / GET key:i alternating, keys cycling over 100, 3-byte values):
//! - `pipeline/set_get_D_Cc`: D pipelined commands fed to the node as one read, the
//!   replies drained, with C connected clients (taking turns) — what one
//!   `redis-benchmark -P D -c C` round costs the engine.
//! - `resp/parse_D`: RESP parsing alone of a D-command pipeline.
//!
//! Two ways to run them:
//! - `cargo bench --no-default-features --bench engine` (criterion: wall time, noisy on a
//!   shared 2-core VM);
//! - `scripts/bench-instructions.sh`: every scenario a fixed number of times under
//!   valgrind's callgrind, printing instructions per command — deterministic, so an
//!   optimisation's effect is measurable to the instruction. It sets
//!   `REPLSCOPE_BENCH_FIXED=<scenario>` (and `REPLSCOPE_BENCH_COMMANDS`), which makes this
//!   binary run that scenario once instead of criterion.

#[cfg(target_arch = "wasm32")]
fn main() {}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    if let Ok(name) = std::env::var("REPLSCOPE_BENCH_FIXED") {
        let commands = std::env::var("REPLSCOPE_BENCH_COMMANDS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        let scenario = native::SCENARIOS
            .iter()
            .find(|s| s.name() == name)
            .unwrap_or_else(|| {
                let names: Vec<String> = native::SCENARIOS.iter().map(|s| s.name()).collect();
                panic!("no scenario {name:?}; have {names:?}")
            });
        println!("{}", scenario.run_fixed(commands));
        return;
    }
    native::benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;

    use criterion::{criterion_group, Criterion, Throughput};
    use replscope::engine::resp::{encode_command, ParseLimits, Parsed, RequestParser};
    use replscope::engine::{Config, ConnId, Input, Node, Output, PeerAddr};

    const NOW: u64 = 1_700_000_000_000;

    #[derive(Clone, Copy)]
    pub enum Scenario {
        Node { depth: usize, clients: usize },
        Parse { depth: usize },
    }

    pub const SCENARIOS: &[Scenario] = &[
        Scenario::Node {
            depth: 16,
            clients: 1,
        },
        Scenario::Node {
            depth: 16,
            clients: 50,
        },
        Scenario::Node {
            depth: 1,
            clients: 50,
        },
        Scenario::Node {
            depth: 256,
            clients: 1,
        },
        Scenario::Parse { depth: 16 },
        Scenario::Parse { depth: 1024 },
    ];

    /// `n` commands alternating SET key:i xxx / GET key:i, keys cycling over 100.
    fn pipeline(n: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let key = format!("key:{:012}", (i / 2) % 100);
            if i % 2 == 0 {
                out.extend(encode_command(&[b"SET", key.as_bytes(), b"xxx"]));
            } else {
                out.extend(encode_command(&[b"GET", key.as_bytes()]));
            }
        }
        out
    }

    /// A node with `clients` connections; the benchmark's rounds take turns among them.
    struct Bed {
        node: Node,
        conns: Vec<ConnId>,
        turn: usize,
        input: Vec<u8>,
    }

    impl Bed {
        fn new(depth: usize, clients: usize) -> Bed {
            let mut node = Node::new(Config::default(), NOW, 1);
            let conns = (0..clients)
                .map(|c| {
                    node.accept(
                        NOW,
                        PeerAddr {
                            ip: "127.0.0.1".into(),
                            port: 40000 + c as u16,
                        },
                    )
                })
                .collect();
            while node.poll_output().is_some() {}
            Bed {
                node,
                conns,
                turn: 0,
                input: pipeline(depth),
            }
        }

        /// One read's worth of commands in, every reply out; returns the reply bytes.
        fn round(&mut self) -> usize {
            let conn = self.conns[self.turn];
            self.turn = (self.turn + 1) % self.conns.len();
            self.node.handle(
                NOW,
                Input::Bytes {
                    conn,
                    data: self.input.clone(),
                },
            );
            let mut n = 0;
            while let Some(out) = self.node.poll_output() {
                if let Output::Send { data, .. } = out {
                    n += data.len();
                }
            }
            n
        }
    }

    fn parse_all(p: &mut RequestParser, input: &[u8]) -> usize {
        p.feed(input);
        let mut n = 0;
        while let Some(Parsed::Command { argv, .. }) = p.next(ParseLimits::default()) {
            n += argv.len();
        }
        n
    }

    impl Scenario {
        pub fn name(&self) -> String {
            match self {
                Scenario::Node { depth, clients } => format!("pipeline/set_get_{depth}_{clients}c"),
                Scenario::Parse { depth } => format!("resp/parse_{depth}"),
            }
        }

        fn depth(&self) -> usize {
            match self {
                Scenario::Node { depth, .. } | Scenario::Parse { depth } => *depth,
            }
        }

        /// Runs `commands` commands' worth of rounds (for instruction counting).
        pub fn run_fixed(&self, commands: usize) -> usize {
            let rounds = (commands / self.depth()).max(1);
            let mut total = 0;
            match *self {
                Scenario::Node { depth, clients } => {
                    let mut bed = Bed::new(depth, clients);
                    for _ in 0..rounds {
                        total += bed.round();
                    }
                }
                Scenario::Parse { depth } => {
                    let input = pipeline(depth);
                    let mut p = RequestParser::new();
                    for _ in 0..rounds {
                        total += parse_all(&mut p, &input);
                    }
                }
            }
            total
        }
    }

    fn engine(c: &mut Criterion) {
        for scenario in SCENARIOS {
            let name = scenario.name();
            let (group, id) = name.split_once('/').expect("group/name");
            let mut g = c.benchmark_group(group);
            g.throughput(Throughput::Elements(scenario.depth() as u64));
            match *scenario {
                Scenario::Node { depth, clients } => {
                    let mut bed = Bed::new(depth, clients);
                    g.bench_function(id, |b| b.iter(|| black_box(bed.round())));
                }
                Scenario::Parse { depth } => {
                    let input = pipeline(depth);
                    let mut p = RequestParser::new();
                    g.bench_function(id, |b| {
                        b.iter(|| black_box(parse_all(&mut p, black_box(&input))))
                    });
                }
            }
            g.finish();
        }
    }

    criterion_group!(benches, engine);
}
