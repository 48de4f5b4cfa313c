//! Guards the architecture's walls: the engine and the bus are deterministic, sans-IO and
//! free of browser crates, so they build and test natively and replay identically in WASM.
//!
//! The documentation's promises about the code are checked here too (`docs_embed`): what
//! `docs.html` and the embedding manual ask of the page exists. Run with both feature sets.
#![cfg(not(target_arch = "wasm32"))]

#[path = "tidy/docs_embed.rs"]
mod docs_embed;
#[path = "tidy/imports.rs"]
mod imports;

use std::path::{Path, PathBuf};
use std::process::Command;

use imports::{circles, code_of, import_graph, module_of, resolved};

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
        "src/engine/keymap.rs",        // its definition and tests
        "src/engine/keyspace.rs",      // Keyspace::digest: a sum
        "src/scenario/checker.rs",     // Sample::of: sums of digests
        "src/bus/budget.rs",           // world_bytes: a sum of sizes
        "src/engine/command/debug.rs", // DEBUG DIGEST: an XOR of digests
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

// ================================================================== layering and circles

/// The layers, lowest first. A file may name its own layer and the ones below it: the UI
/// drives scenarios, a scenario runs on the bus, the bus carries engines. An import that
/// climbs (the engine naming the bus, the bus naming a scenario, ...) would make a lower
/// layer depend on a higher one, so it could no longer be built, tested or replayed alone.
const LAYERS: &[&str] = &["engine", "bus", "scenario", "ui"];

/// Binaries that stand on one layer only: `replscope-server` is the engine on real TCP,
/// with no simulated network, scenario or page in between.
const BINARIES: &[(&str, &str)] = &[("src/bin/replscope-server.rs", "engine")];

/// The source files under src/, by path from the crate's root (`src/bus/world.rs`).
fn sources() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut out: Vec<(String, String)> = files
        .into_iter()
        .map(|f| {
            let rel = f
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read_to_string(&f).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Every import in `src/` that climbs a layer, as `file:line: names crate::x`.
fn layering_violations(sources: &[(String, String)]) -> Vec<String> {
    let rank = |layer: &str| LAYERS.iter().position(|l| *l == layer);
    let mut violations = Vec::new();
    for (rel, text) in sources {
        let module = module_of(rel);
        let Some(own) = module.first().and_then(|m| rank(m)) else {
            continue;
        };
        for (path, line, _) in resolved(rel, text) {
            if let Some(target) = rank(&path[0]) {
                if target > own {
                    violations.push(format!(
                        "{rel}:{line}: the {} names crate::{}",
                        LAYERS[own],
                        path.join("::")
                    ));
                }
            }
        }
    }
    violations
}

/// Every import of a binary in `BINARIES` outside the layer it stands on.
fn binary_violations(sources: &[(String, String)]) -> Vec<String> {
    let mut violations = Vec::new();
    for (bin, layer) in BINARIES {
        let Some((_, text)) = sources.iter().find(|(rel, _)| rel == bin) else {
            violations.push(format!("{bin}: not found"));
            continue;
        };
        let code: String = code_of(text).into_iter().collect();
        for (n, line) in code.lines().enumerate() {
            for (at, _) in line.match_indices("replscope::") {
                let rest = &line[at + "replscope::".len()..];
                if !rest.starts_with(layer) {
                    violations.push(format!(
                        "{bin}:{}: stands on the {layer} but names replscope::{}",
                        n + 1,
                        rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                            .next()
                            .unwrap_or("")
                    ));
                }
            }
        }
    }
    violations
}

#[test]
fn no_layer_imports_a_layer_above_it() {
    let sources = sources();
    assert!(sources.len() > 20, "expected the crate's sources");
    let mut violations = layering_violations(&sources);
    violations.extend(binary_violations(&sources));
    assert!(
        violations.is_empty(),
        "an import climbs the layers (ui -> scenario -> bus -> engine):\n{}",
        violations.join("\n")
    );
}

/// The checker itself, on files written here: it must see each way of naming a module
/// that would climb a layer, and leave alone what does not.
#[test]
fn the_layering_check_sees_every_way_up() {
    let climbs = [
        ("src/engine/x.rs", "use crate::bus::Bus;"),
        (
            "src/engine/x.rs",
            "use crate::{keyspace::Value, scenario::Scenario};",
        ),
        (
            "src/engine/replication/x.rs",
            "fn f() { let _ = super::super::super::ui::App; }",
        ),
        ("src/engine/mod.rs", "use super::bus;"),
        (
            "src/bus/x.rs",
            "fn f() -> crate::scenario::Scenario { todo!() }",
        ),
        (
            "src/bus/x.rs",
            "use super::super::{engine, scenario::runner};",
        ),
        (
            "src/scenario/x.rs",
            "use crate as root;\nuse crate::ui as page;\nfn f() { page::App; }",
        ),
        (
            "src/engine/x.rs",
            "mod tests {\n    use crate::bus::Bus;\n}",
        ),
    ];
    for (rel, text) in climbs {
        let found = layering_violations(&[(rel.to_string(), text.to_string())]);
        assert!(
            !found.is_empty() && found.iter().all(|v| v.starts_with(rel)),
            "{rel}: `{text}` climbs a layer, but the check found {found:?}"
        );
    }
    let server = "src/bin/replscope-server.rs".to_string();
    let found = binary_violations(&[(server.clone(), "use replscope::bus::Bus;".to_string())]);
    assert_eq!(found.len(), 1, "replscope-server naming the bus: {found:?}");
    let found = binary_violations(&[(server, "use replscope::engine::{Node, resp};".to_string())]);
    assert!(
        found.is_empty(),
        "replscope-server naming the engine: {found:?}"
    );
    let fine = [
        (
            "src/ui/x.rs",
            "use crate::{engine::Config, bus::Bus, scenario::Scenario};",
        ),
        (
            "src/bus/x.rs",
            "use super::world; use crate::engine::Node; use super::super::engine;",
        ),
        (
            "src/engine/x.rs",
            "// use crate::bus::Bus;\nconst S: &str = \"crate::ui::App\";",
        ),
        (
            "src/engine/x.rs",
            "/* crate::scenario */ fn f() { let c = '{'; } mod ui { }",
        ),
        (
            "src/engine/replication/x.rs",
            "use super::super::resp; fn f() { super::Role; }",
        ),
    ];
    for (rel, text) in fine {
        let found = layering_violations(&[(rel.to_string(), text.to_string())]);
        assert!(
            found.is_empty(),
            "{rel}: `{text}` climbs no layer, yet {found:?}"
        );
    }
}

/// Files of one layer that import each other, directly or round a longer loop, cannot be
/// read, changed or tested one at a time. (A child module naming its parent, and test-only
/// code, do not count.)
#[test]
fn no_import_circle_between_files() {
    let found = circles(&import_graph(&sources(), LAYERS));
    assert!(
        found.is_empty(),
        "files that import each other:\n{}",
        found
            .iter()
            .map(|c| c.join(" -> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The circle check on a graph written here: a loop through three files is found and
/// reported as a path; a child naming its parent module is not a loop.
#[test]
fn the_circle_check_finds_a_loop_and_reports_its_path() {
    let sources = [
        ("src/bus/a.rs", "use super::b::B; pub struct A;"),
        ("src/bus/b.rs", "pub struct B(crate::bus::c::C);"),
        (
            "src/bus/c.rs",
            "pub struct C; fn f() { let _ = super::a::A; }",
        ),
        ("src/bus/d.rs", "use super::Bus; use super::a::A;"),
        (
            "src/bus/mod.rs",
            "mod a; mod b; mod c; mod d; pub struct Bus; use d::D;",
        ),
        (
            "src/bus/e.rs",
            "#[cfg(test)]\nmod tests {\n    use super::super::f::F;\n}",
        ),
        ("src/bus/f.rs", "use super::e::E;"),
    ]
    .map(|(r, t)| (r.to_string(), t.to_string()));
    let found = circles(&import_graph(&sources, LAYERS));
    assert_eq!(
        found,
        vec![vec![
            "src/bus/a.rs".to_string(),
            "src/bus/b.rs".to_string(),
            "src/bus/c.rs".to_string(),
            "src/bus/a.rs".to_string(),
        ]],
        "the loop a -> b -> c -> a, and nothing else"
    );
}
