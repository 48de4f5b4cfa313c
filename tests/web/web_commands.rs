//! The shared command script through the engine on the bus, compiled to WebAssembly and
//! run in a headless browser: the replies must be the ones real redis-server 7.0 gave
//! (recorded in tests/script/commands.replies, checked natively by commands_script.rs).
#![cfg(target_arch = "wasm32")]

use crate::script;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn the_engine_in_the_browser_gives_the_recorded_replies() {
    script::assert_same(
        &script::run_through_bus(),
        "replscope engine on the bus (WebAssembly)",
    );
}
