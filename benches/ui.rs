//! One page redraw's view models, natively: 8 servers (a master and 7 replicas) with the
//! Load tab sending 1000 SETs/s to the master, the page's default tabs open. Each sample
//! runs one 50 ms tick (the page's interval), untimed, then times building the view
//! model(s) the page builds for that redraw. The same Rust code runs in the page (about
//! twice as slow in WebAssembly, plus Yew's diffing and the browser's own work:
//! `scripts/bench-page.mjs` measures the frames themselves).
//!
//! `cargo bench --bench ui`

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
mod native {
    use std::time::{Duration, Instant};

    use criterion::{criterion_group, Criterion};
    use replscope::ui::model::backlog::backlog_view;
    use replscope::ui::model::inspect::{inspect_view, InspectAction, InspectTab};
    use replscope::ui::model::server_panel::{LoadForm, PanelAction};
    use replscope::ui::model::topology::TopologyAction;
    use replscope::ui::state::{Action, Sim};

    /// The scene of `scripts/bench-page.mjs`: 8 servers synced, then 10 s of the load.
    fn loaded_sim() -> Sim {
        let mut sim = Sim::new();
        for _ in 0..5 {
            sim.apply(Action::Topology(TopologyAction::AddServer));
        }
        for id in 3..8 {
            sim.apply(Action::SubmitCommand {
                server: id,
                line: "REPLICAOF 127.0.0.1 6380".into(),
            });
        }
        sim.apply(Action::Step(8_000));
        sim.apply(Action::SelectConsole(0));
        sim.apply(Action::Panel(PanelAction::LoadForm(LoadForm {
            rate: "1000".into(),
            ..LoadForm::default()
        })));
        sim.apply(Action::Panel(PanelAction::LoadStart));
        sim.apply(Action::Step(10_000));
        sim
    }

    /// Times `view` right after each 50 ms tick (the tick itself is not timed).
    fn after_ticks(sim: &mut Sim, iters: u64, mut view: impl FnMut(&Sim)) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            sim.apply(Action::Step(50));
            let t = Instant::now();
            view(sim);
            total += t.elapsed();
        }
        total
    }

    fn redraw(c: &mut Criterion) {
        let mut g = c.benchmark_group("ui redraw, 8 servers, 1000 SET/s");
        g.sample_size(30)
            .measurement_time(Duration::from_secs(4))
            .warm_up_time(Duration::from_secs(1));
        let mut sim = loaded_sim();
        g.bench_function("tick 50 ms", |b| {
            b.iter_custom(|iters| {
                let t = Instant::now();
                for _ in 0..iters {
                    sim.apply(Action::Step(50));
                }
                t.elapsed()
            })
        });
        g.bench_function("every view model", |b| {
            b.iter_custom(|iters| {
                after_ticks(&mut sim, iters, |sim| {
                    std::hint::black_box(sim.timeline_view());
                    std::hint::black_box(sim.topology_view());
                    std::hint::black_box(sim.panel_view());
                    std::hint::black_box(sim.console_targets());
                    std::hint::black_box(inspect_view(
                        &sim.bus(),
                        sim.console.selected,
                        &sim.inspect,
                    ));
                    std::hint::black_box(sim.diagram_view());
                    std::hint::black_box(sim.event_log_view());
                })
            })
        });
        g.bench_function("event_log_view", |b| {
            b.iter_custom(|iters| after_ticks(&mut sim, iters, |sim| drop(sim.event_log_view())))
        });
        g.bench_function("diagram_view", |b| {
            b.iter_custom(|iters| after_ticks(&mut sim, iters, |sim| drop(sim.diagram_view())))
        });
        g.bench_function("topology_view", |b| {
            b.iter_custom(|iters| after_ticks(&mut sim, iters, |sim| drop(sim.topology_view())))
        });
        g.bench_function("panel_view", |b| {
            b.iter_custom(|iters| after_ticks(&mut sim, iters, |sim| drop(sim.panel_view())))
        });
        g.bench_function("inspect backlog (kept parse)", |b| {
            b.iter_custom(|iters| {
                after_ticks(&mut sim, iters, |sim| {
                    drop(inspect_view(&sim.bus(), 0, &sim.inspect))
                })
            })
        });
        g.bench_function("inspect backlog (afresh)", |b| {
            b.iter_custom(|iters| {
                after_ticks(&mut sim, iters, |sim| drop(backlog_view(&sim.bus(), 0)))
            })
        });
        for tab in [InspectTab::SyncPath, InspectTab::Stream] {
            sim.apply(Action::Inspect(InspectAction::Tab(tab)));
            g.bench_function(format!("inspect {}", tab.key()), |b| {
                b.iter_custom(|iters| {
                    after_ticks(&mut sim, iters, |sim| {
                        drop(inspect_view(&sim.bus(), 0, &sim.inspect))
                    })
                })
            });
        }
        g.finish();
    }

    criterion_group!(benches, redraw);
}
