//! Guards the architecture's walls: the engine and the bus are deterministic, sans-IO and
//! free of browser crates, so they build and test natively and replay identically in WASM.
//!
//! The documentation's promises about the code are checked here too (`docs_embed`): what
//! `docs.html` and the embedding manual ask of the page exists. Run with both feature sets.
#![cfg(not(target_arch = "wasm32"))]

#[path = "tidy/docs_embed.rs"]
mod docs_embed;

use std::path::{Path, PathBuf};
use std::process::Command;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Things that would let wall-clock time, randomness, real I/O or the browser into the
/// deterministic core.
const FORBIDDEN: &[&str] = &[
    "std::time",
    "SystemTime",
    "Instant::",
    "std::net",
    "std::thread",
    "std::fs",
    "std::process",
    "std::env",
    "rand::",
    "getrandom",
    "thread_rng",
    "web_sys",
    "js_sys",
    "wasm_bindgen",
    "yew",
    "gloo",
    "HashMap",
    "HashSet",
];

#[test]
fn engine_and_bus_have_no_clock_randomness_io_or_web_apis() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src/engine", "src/bus"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 5, "expected the engine and bus sources");
    let mut violations = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    violations.push(format!(
                        "{}:{}: `{word}` in `{}`",
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    // HashMap/HashSet iterate in a per-process random order: any walk over one would make
    // runs differ. BTreeMap/BTreeSet keep every iteration deterministic.
    assert!(
        violations.is_empty(),
        "the deterministic core reaches outside its walls:\n{}",
        violations.join("\n")
    );
}

/// The keyspace is a hash index (`src/engine/keymap.rs`) whose walks are sorted; its own
/// order is reachable only through `KeyMap::iter_unordered`, for sums and counts. A new
/// use elsewhere could let that order into a reply, a snapshot or the page: it has to be
/// looked at and added here.
#[test]
fn the_keyspace_index_order_is_walked_only_where_order_cannot_matter() {
    const ALLOWED: &[&str] = &[
        "src/engine/keymap.rs",    // its definition and tests
        "src/engine/keyspace.rs",  // Keyspace::digest: a sum
        "src/scenario/checker.rs", // Sample::of: sums of digests
        "src/bus/budget.rs",       // world_bytes: a sum of sizes
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut uses = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).unwrap();
        if text.contains("iter_unordered(") && !ALLOWED.contains(&rel.as_str()) {
            uses.push(rel);
        }
    }
    assert!(
        uses.is_empty(),
        "the keyspace index's own order is walked in {uses:?}"
    );
}

#[test]
fn without_default_features_no_web_crate_is_built() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--no-default-features",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo tree");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    for krate in [
        "yew ",
        "wasm-bindgen ",
        "web-sys ",
        "js-sys ",
        "gloo",
        "serde-wasm-bindgen ",
    ] {
        assert!(
            !tree.contains(krate),
            "`{krate}` is built without the web feature:\n{tree}"
        );
    }
}
