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

/// Set-ups the models' tests share.
#[cfg(test)]
pub(crate) mod test_setup {
    use crate::bus::{Bus, ServerId};

    /// A master of 100 keys whose BGSAVE child takes two seconds (20 ms a key), and a
    /// replica told to follow it: returned once the diskless delay is over and the child
    /// runs, as `(bus, master, replica)`.
    pub(crate) fn master_in_bgsave_with_replica() -> (Bus, ServerId, ServerId) {
        let mut bus = Bus::new(1);
        let m = bus.add_server(
            "master",
            crate::engine::Config {
                port: 6380,
                rdb_key_save_delay: 20_000,
                ..Default::default()
            },
        );
        let r = bus.add_server(
            "replica",
            crate::engine::Config {
                port: 6381,
                ..Default::default()
            },
        );
        let lines: Vec<String> = (0..100).map(|i| format!("SET key:{i} v")).collect();
        bus.submit_pipe(m, &lines.iter().map(String::as_str).collect::<Vec<_>>())
            .unwrap();
        bus.advance(10);
        bus.submit_command(r, "REPLICAOF 127.0.0.1 6380").unwrap();
        // The diskless sync delay (5 s) is over and the child runs.
        bus.advance(5_500);
        (bus, m, r)
    }
}
