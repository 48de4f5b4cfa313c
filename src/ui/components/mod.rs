//! One component per file. Each renders view models from [`super::state`] and reports
//! what the user did as [`super::state::Action`]s.

pub mod backlog;
pub mod console;
pub mod controls;
pub mod event_log;
pub mod help;
pub mod inspect;
pub mod narration;
pub mod server_config;
pub mod server_keys;
pub mod server_panel;
pub mod share;
pub mod spacetime;
pub mod stream;
pub mod sync_path;
pub mod timeline;
pub mod topology;
