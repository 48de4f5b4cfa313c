//! View models of the panels, one file per panel, built from `&Bus` in plain Rust.

pub mod server_panel;
pub mod timeline;
pub mod topology;
