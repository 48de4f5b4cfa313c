//! The shared command script against real redis-server 7.0 (the recorded replies must be
//! what Redis says) and through the engine in the bus, natively (it must say the same).
#![cfg(not(target_arch = "wasm32"))]

use crate::common;
use crate::script;

use common::{redis_installed, ServerProcess};
use replscope::engine::resp::{encode_command, split_args};

#[test]
fn real_redis_gives_the_recorded_replies() {
    if !redis_installed() {
        return;
    }
    let redis = ServerProcess::redis(&[]);
    let mut client = redis.client();
    let mut got = Vec::new();
    for line in script::command_lines() {
        let args = split_args(line.as_bytes()).expect("balanced quotes");
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        client.send(&encode_command(&refs));
        got.push(script::render(&client.read_replies(1)));
    }
    if std::env::var_os("REPLSCOPE_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/script/commands.replies");
        std::fs::write(path, got.join("\n") + "\n").expect("write the recorded replies");
        eprintln!("recorded {} replies from real Redis into {path}", got.len());
        return;
    }
    script::assert_same(&got, "real redis-server");
}

#[test]
fn the_engine_in_the_bus_gives_the_recorded_replies() {
    script::assert_same(
        &script::run_through_bus(),
        "replscope engine on the bus (native)",
    );
}
