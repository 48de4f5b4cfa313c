//! The playground inside another page's `<iframe>` (`?embed=1`): the panels and settings
//! the host page picks from a whitelist ([`options`]), and a versioned `postMessage` API
//! ([`protocol`]) through which the host loads scenarios, runs commands, moves time and
//! hears the events; [`host`] connects the two pages in the browser, and the page state
//! carries out each request (`crate::ui::state::api`).
//!
//! The whitelist and every limit are constants here; docs/embedding.md is the host page
//! author's manual for both. Options and messages are parsed as plain strings and JSON,
//! so the native tests cover them; only [`host`] touches the browser.

pub mod host;
pub mod options;
pub mod protocol;

pub use host::use_host;
pub use options::{EmbedOptions, Panel};
pub use protocol::{Outbound, Request, READ_ONLY};
