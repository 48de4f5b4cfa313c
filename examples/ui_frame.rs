//! Where a page redraw's time goes: the view models the playground builds on every tick,
//! for 8 servers with a write load on the master, timed natively (the same Rust code the
//! page runs). `cargo run --release --example ui_frame`.
use std::time::Instant;

use replscope::ui::model::inspect::{inspect_view, InspectAction, InspectTab};
use replscope::ui::model::server_panel::{panel_view, LoadForm, PanelAction};
use replscope::ui::model::topology::TopologyAction;
use replscope::ui::state::{Action, Sim};

fn main() {
    let rate: u32 = std::env::var("RATE").ok().and_then(|r| r.parse().ok()).unwrap_or(1000);
    let mut sim = Sim::new();
    for _ in 0..5 {
        sim.apply(Action::Topology(TopologyAction::AddServer));
    }
    for id in 3..8 {
        sim.apply(Action::SubmitCommand { server: id, line: "REPLICAOF 127.0.0.1 6380".into() });
    }
    sim.apply(Action::Step(8_000));
    sim.apply(Action::SelectConsole(0));
    sim.apply(Action::Panel(PanelAction::LoadForm(LoadForm { rate: rate.to_string(), ..LoadForm::default() })));
    sim.apply(Action::Panel(PanelAction::LoadStart));
    sim.apply(Action::Step(10_000));
    println!("log entries after 18 s: {}", sim.bus().log().len());
    let time = |name: &str, f: &mut dyn FnMut()| {
        let n = 20;
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        println!("{name:<22} {:>8.3} ms", t.elapsed().as_secs_f64() * 1000.0 / n as f64);
    };
    time("tick 50 ms", &mut || sim.apply(Action::Step(50)));
    time("topology_view", &mut || drop(sim.topology_view()));
    time("panel_view", &mut || drop(panel_view(&sim)));
    time("event_log_view", &mut || drop(sim.event_log_view()));
    time("diagram_view", &mut || drop(sim.diagram_view()));
    time("timeline_view", &mut || drop(sim.timeline_view()));
    for tab in [InspectTab::Backlog, InspectTab::SyncPath, InspectTab::Stream] {
        sim.apply(Action::Inspect(InspectAction::Tab(tab)));
        time(&format!("inspect {}", tab.key()), &mut || drop(inspect_view(&sim.bus(), 0, &sim.inspect)));
    }
}
