//! The shared command script (`commands.txt`) and the replies real redis-server 7.0
//! gives to it (`commands.replies`, one reply per line, bytes escaped). The native test
//! checks both real Redis and the engine-in-the-bus against the recorded replies; the
//! browser test checks the engine-in-the-bus in WebAssembly against the same file.

use replscope::bus::{Bus, LogKind};
use replscope::engine::Config;

pub const COMMANDS: &str = include_str!("commands.txt");
pub const REPLIES: &str = include_str!("commands.replies");

/// The command lines, without comments and blank lines.
pub fn command_lines() -> Vec<&'static str> {
    COMMANDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

pub fn recorded_replies() -> Vec<&'static str> {
    REPLIES.lines().collect()
}

/// One reply's bytes as one line of `commands.replies`.
pub fn render(reply: &[u8]) -> String {
    reply.escape_ascii().to_string()
}

/// Runs every command line through a server on the bus, the way the playground console
/// does, and returns each reply's raw bytes rendered.
pub fn run_through_bus() -> Vec<String> {
    let mut bus = Bus::new(7);
    let server = bus.add_server(
        "script",
        Config {
            port: 6380,
            ..Config::default()
        },
    );
    let mut out = Vec::new();
    for line in command_lines() {
        let before = bus.log().len();
        bus.submit_command(server, line)
            .unwrap_or_else(|e| panic!("the console refused {line:?}: {e}"));
        let reply: Vec<u8> = bus
            .log()
            .range(before..)
            .iter()
            .filter_map(|e| match &e.kind {
                LogKind::Reply { data } => Some(data.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        out.push(render(&reply));
    }
    out
}

/// Compares replies line by line and names the first command that differs.
pub fn assert_same(got: &[String], what: &str) {
    let want = recorded_replies();
    let lines = command_lines();
    assert_eq!(
        lines.len(),
        want.len(),
        "commands.txt and commands.replies disagree in length: re-record the replies"
    );
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            g,
            w,
            "{what}: reply to `{}` (command {} of commands.txt)",
            lines[i],
            i + 1
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: number of replies");
}
