//! View models of the page's panels, one file per panel.

pub mod timeline;
