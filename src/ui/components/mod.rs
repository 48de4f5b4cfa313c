//! One component per file. Each renders view models from [`super::state`] and reports
//! what the user did as [`super::state::Action`]s.

pub mod backlog;
pub mod console;
pub mod controls;
pub mod event_log;
pub mod help;
pub mod inspect;
pub mod narration;
pub mod opening;
pub mod reveal;
pub mod server_config;
pub mod server_keys;
pub mod server_panel;
pub mod share;
pub mod spacetime;
pub mod stream;
pub mod sync_path;
pub mod timeline;
pub mod topology;

/// Runs `f` at the start of the next animation frame.
///
/// For the views that follow their newest line (console, event log, diagram, stream):
/// reading `scrollHeight` right after a redraw's DOM writes forces the browser to lay the
/// page out inside the tick, and the frame lays it out again after any later write. In a
/// frame callback the layout it needs is the one that frame does anyway, and the tick's
/// task ends sooner.
pub fn next_frame(f: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let callback = wasm_bindgen::closure::Closure::once_into_js(f);
    let _ = window.request_animation_frame(callback.unchecked_ref());
}
