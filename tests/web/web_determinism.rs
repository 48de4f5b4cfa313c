//! The bus scenarios compiled to WebAssembly and run in a headless browser must produce
//! exactly the event logs recorded natively (`tests/scenarios/*.log`).
#![cfg(target_arch = "wasm32")]

use crate::scenarios;

use scenarios::{first_difference, log_text, SCENARIOS};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn the_browser_reproduces_every_recorded_log() {
    for s in SCENARIOS {
        let text = log_text(&(s.run)());
        if let Some(diff) = first_difference(&text, s.recorded) {
            panic!(
                "{} in WebAssembly differs from the native log at {diff}",
                s.name
            );
        }
    }
}
