//! One component per file. Each renders view models from [`super::state`] and reports
//! what the user did as [`super::state::Action`]s.

pub mod console;
pub mod controls;
pub mod links;
pub mod server_card;
pub mod backlog;
pub mod inspect;
pub mod stream;
pub mod sync_path;
