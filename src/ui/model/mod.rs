//! View models built from `&Bus` in plain Rust, one file per part of the page, so the
//! native test suite covers them without a browser.

pub mod backlog;
pub mod console;
pub mod inspect;
pub mod server_panel;
pub mod stream;
pub mod sync_path;
pub mod timeline;
pub mod topology;
