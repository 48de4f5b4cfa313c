//! The browser tests (wasm-bindgen-test, headless Chromium and Firefox): the page mounted
//! and used as a user would, and the engine and scenarios in WebAssembly giving the very
//! results recorded natively. Built for wasm32 only:
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web`
//! (a filter after it picks a module, e.g. `web_guided::`). Two crates stand apart: the
//! embeds (`tests/web_embed.rs`) get a document of their own, since a full page's app
//! listens on the whole document (the `/` shortcut focuses its console) and an embed on a
//! documentation page never shares one with it; the bus benchmarks (`tests/web_bench.rs`)
//! are built in release by `scripts/bench-wasm.sh`.
#![cfg(target_arch = "wasm32")]

#[path = "../scenarios/mod.rs"]
mod scenarios;
#[path = "../script/mod.rs"]
mod script;
mod support;

mod web_budgets;
mod web_commands;
mod web_determinism;
mod web_guided;
mod web_inspect;
mod web_scenarios;
mod web_server_panel;
mod web_timeline;
mod web_topology;
mod web_ui;
