//! Guards the architecture's walls: the engine and the bus are deterministic, sans-IO and
//! free of browser crates, so they build and test natively and replay identically in WASM.
//!
//! The documentation's promises about the code are checked here too (`docs_embed`): what
//! `docs.html` and the embedding manual ask of the page exists. Run with both feature sets.
#![cfg(not(target_arch = "wasm32"))]

#[path = "tidy/docs_embed.rs"]
mod docs_embed;

use std::collections::{BTreeMap, BTreeSet};
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

// ================================================================== layering and circles

/// The layers, lowest first. A file may name its own layer and the ones below it: the UI
/// drives scenarios, a scenario runs on the bus, the bus carries engines. An import that
/// climbs (the engine naming the bus, the bus naming a scenario, ...) would make a lower
/// layer depend on a higher one, so it could no longer be built, tested or replayed alone.
const LAYERS: &[&str] = &["engine", "bus", "scenario", "ui"];

/// Binaries that stand on one layer only: `replscope-server` is the engine on real TCP,
/// with no simulated network, scenario or page in between.
const BINARIES: &[(&str, &str)] = &[("src/bin/replscope-server.rs", "engine")];

/// A Rust source with its comments, strings and character literals blanked to spaces
/// (newlines kept, so positions keep their line numbers): braces and `::` paths in them
/// are not code.
fn code_of(text: &str) -> Vec<char> {
    let s: Vec<char> = text.chars().collect();
    let mut out = s.clone();
    let blank = |out: &mut Vec<char>, from: usize, to: usize| {
        for c in out.iter_mut().take(to.min(s.len())).skip(from) {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        let next = s.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = (i..s.len()).find(|&j| s[j] == '\n').unwrap_or(s.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut j, mut depth) = (i + 2, 1);
            while j < s.len() && depth > 0 {
                if s[j] == '/' && s.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if s[j] == '*' && s.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (c == 'r' || (c == 'b' && next == Some('r'))) && (i == 0 || !ident(s[i - 1])) && {
            let k = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = (k..s.len()).take_while(|&j| s[j] == '#').count();
            s.get(k + hashes) == Some(&'"')
        } {
            let k = if c == 'b' { i + 2 } else { i + 1 };
            let hashes = (k..s.len()).take_while(|&j| s[j] == '#').count();
            let mut j = k + hashes + 1;
            while j < s.len() && !(s[j] == '"' && (1..=hashes).all(|h| s.get(j + h) == Some(&'#')))
            {
                j += 1;
            }
            let end = (j + 1 + hashes).min(s.len());
            blank(&mut out, i, end);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < s.len() && s[j] != '"' {
                j += if s[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{7f}'), or a lifetime ('a), left as it is.
            if next == Some('\\') {
                let end = (i + 2..s.len()).find(|&j| s[j] == '\'').unwrap_or(s.len());
                blank(&mut out, i, end + 1);
                i = end + 1;
            } else if s.get(i + 2) == Some(&'\'') {
                blank(&mut out, i, i + 3);
                i += 3;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    out
}

/// One path as written: its segments (`crate`, `super`, names), where it starts in the
/// file, whether it is a `use` (and under which name it binds), and whether it sits in
/// test-only code.
struct PathRef {
    segments: Vec<String>,
    /// The module the path is written in: the file's, plus inline `mod x { }` blocks.
    scope: Vec<String>,
    line: usize,
    binds: Option<String>,
    in_test: bool,
}

/// Splits a `use` tree (`a::{b, c::{d as e, self}, f::*}`) into whole paths with the
/// name each binds (`None` for a glob).
fn flatten_use(tree: &str, prefix: &[String], out: &mut Vec<(Vec<String>, Option<String>)>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
        let mut full = prefix.to_vec();
        full.extend(head);
        let (mut depth, mut start) = (0, 0);
        let bytes: Vec<char> = inner.chars().collect();
        for (i, &c) in bytes.iter().enumerate() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    flatten_use(&bytes[start..i].iter().collect::<String>(), &full, out);
                    start = i + 1;
                }
                _ => {}
            }
        }
        flatten_use(&bytes[start..].iter().collect::<String>(), &full, out);
        return;
    }
    let (path, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
        None => (tree, None),
    };
    let mut full = prefix.to_vec();
    let segs: Vec<String> = path.split("::").map(|s| s.trim().to_string()).collect();
    let glob = segs.last().is_some_and(|s| s == "*");
    for seg in segs {
        if seg == "self" || seg == "*" {
            continue;
        }
        full.push(seg);
    }
    let binds = if glob {
        None
    } else {
        alias.or_else(|| full.last().cloned())
    };
    out.push((full, binds));
}

/// The module path of a source file under src/: `src/ui/model/mod.rs` is `ui::model`.
fn module_of(rel: &str) -> Vec<String> {
    let trimmed = rel.trim_start_matches("src/").trim_end_matches(".rs");
    let mut parts: Vec<String> = trimmed.split('/').map(String::from).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// Every path a file writes that starts at a module (`crate::`, `super::`, `self::`, a
/// module it declares or imported): `use` trees flattened, and paths in code.
fn paths_in(rel: &str, text: &str) -> Vec<PathRef> {
    let chars = code_of(text);
    let file_module = module_of(rel);
    let mut lines = vec![0; chars.len() + 1];
    for (i, &c) in chars.iter().enumerate() {
        lines[i + 1] = lines[i] + usize::from(c == '\n');
    }
    let line_at = |i: usize| lines[i] + 1;
    let ident = |c: char| c.is_alphanumeric() || c == '_';

    // Inline modules: (brace depth inside them, name, test-only).
    let mut stack: Vec<(usize, String, bool)> = Vec::new();
    let mut depth = 0usize;
    let mut out = Vec::new();
    let mut i = 0;
    let words_before = |i: usize| -> Vec<String> {
        let start = i.saturating_sub(200);
        let before: String = chars[start..i].iter().collect();
        before
            .split_whitespace()
            .rev()
            .take(3)
            .map(String::from)
            .collect()
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '{' {
            depth += 1;
            let w = words_before(i);
            if w.len() >= 2 && w[1] == "mod" {
                let start = i.saturating_sub(300);
                let before: String = chars[start..i].iter().collect();
                let attrs = before.rsplit(';').next().unwrap_or("");
                let attrs = attrs.rsplit('}').next().unwrap_or("");
                let test = attrs.contains("cfg(test)");
                stack.push((depth, w[0].clone(), test));
            }
            i += 1;
            continue;
        }
        if c == '}' {
            if stack.last().is_some_and(|(d, _, _)| *d == depth) {
                stack.pop();
            }
            depth = depth.saturating_sub(1);
            i += 1;
            continue;
        }
        let mut scope = file_module.clone();
        scope.extend(stack.iter().map(|(_, n, _)| n.clone()));
        let in_test = stack.iter().any(|(_, _, t)| *t);
        // `use ...;`
        if chars[i..].starts_with(&['u', 's', 'e', ' ']) && (i == 0 || !ident(chars[i - 1])) {
            let end = (i..chars.len())
                .find(|&j| chars[j] == ';')
                .unwrap_or(chars.len());
            let tree: String = chars[i + 4..end].iter().collect();
            let mut flat = Vec::new();
            flatten_use(
                &tree.split_whitespace().collect::<Vec<_>>().join(" "),
                &[],
                &mut flat,
            );
            for (segments, binds) in flat {
                out.push(PathRef {
                    segments,
                    scope: scope.clone(),
                    line: line_at(i),
                    binds,
                    in_test,
                });
            }
            i = end;
            continue;
        }
        // A path in code: `a::b::c`, starting at a word boundary (not after `::` or `$`).
        if ident(c)
            && (i == 0 || !(ident(chars[i - 1]) || chars[i - 1] == '$' || chars[i - 1] == ':'))
        {
            let mut segments = Vec::new();
            let mut j = i;
            loop {
                let s = j;
                while j < chars.len() && ident(chars[j]) {
                    j += 1;
                }
                segments.push(chars[s..j].iter().collect::<String>());
                let mut k = j;
                while k < chars.len() && chars[k] == ' ' {
                    k += 1;
                }
                if chars.get(k) == Some(&':') && chars.get(k + 1) == Some(&':') {
                    k += 2;
                    while k < chars.len() && chars[k].is_whitespace() {
                        k += 1;
                    }
                    if k < chars.len() && ident(chars[k]) {
                        j = k;
                        continue;
                    }
                    if chars.get(k) == Some(&'{') {
                        // `crate::{a, b}` outside a `use` (a macro's argument): its heads.
                        let close = (k..chars.len())
                            .find(|&m| chars[m] == '}')
                            .unwrap_or(chars.len());
                        let inner: String = chars[k + 1..close].iter().collect();
                        let mut flat = Vec::new();
                        flatten_use(&inner, &segments, &mut flat);
                        for (segments, _) in flat {
                            out.push(PathRef {
                                segments,
                                scope: scope.clone(),
                                line: line_at(i),
                                binds: None,
                                in_test,
                            });
                        }
                    }
                }
                break;
            }
            if segments.len() > 1 {
                out.push(PathRef {
                    segments,
                    scope,
                    line: line_at(i),
                    binds: None,
                    in_test,
                });
            }
            i = j.max(i + 1);
            continue;
        }
        i += 1;
    }
    out
}

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

/// Resolves what a file's paths name to absolute module paths (`crate` left off): the
/// first segment decides where a path starts; names bound by the file's own `use`s and
/// `mod`s are followed, anything else (std, other crates, local items) is not a module
/// path of this crate and is skipped.
fn resolved(rel: &str, text: &str) -> Vec<(Vec<String>, usize, bool)> {
    let refs = paths_in(rel, text);
    let mut local: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let module = module_of(rel);
    let absolute = |r: &PathRef, local: &BTreeMap<String, Vec<String>>| -> Option<Vec<String>> {
        let mut segs = r.segments.iter().peekable();
        let mut at = match segs.peek().map(|s| s.as_str()) {
            Some("crate") => {
                segs.next();
                Vec::new()
            }
            Some("self") => {
                segs.next();
                r.scope.clone()
            }
            Some("super") => {
                let mut at = r.scope.clone();
                while segs.peek().is_some_and(|s| *s == "super") {
                    segs.next();
                    at.pop();
                }
                at
            }
            Some(first) => {
                let target = local.get(first).cloned()?;
                segs.next();
                target
            }
            None => return None,
        };
        at.extend(segs.cloned());
        Some(at)
    };
    // `mod x;` declarations name child modules.
    let code: String = code_of(text).into_iter().collect();
    for w in code.split(';') {
        let words: Vec<&str> = w.split_whitespace().collect();
        if let [.., "mod", name] = words.as_slice() {
            let mut target = module.clone();
            target.push(name.to_string());
            local.insert(name.to_string(), target);
        }
    }
    // Bindings first (a `use` may come after the code that uses its name).
    for r in &refs {
        if let Some(name) = &r.binds {
            if let Some(target) = absolute(r, &local) {
                local.insert(name.clone(), target);
            }
        }
    }
    refs.iter()
        .filter_map(|r| absolute(r, &local).map(|p| (p, r.line, r.in_test)))
        .filter(|(p, _, _)| !p.is_empty())
        .collect()
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

/// The file a module path lives in: the longest prefix that is a file module.
fn file_of(path: &[String], files: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().find_map(|n| {
        let base = format!("src/{}", path[..n].join("/"));
        [format!("{base}.rs"), format!("{base}/mod.rs")]
            .into_iter()
            .find(|f| files.contains(f))
    })
}

/// The imports between files of one layer, outside test-only code. A file naming one of
/// its own parent modules (`super::Thing` from a child) is the module tree's usual shape,
/// not a circle of design, and is left out.
fn import_graph(sources: &[(String, String)]) -> BTreeMap<String, BTreeSet<String>> {
    let files: BTreeSet<String> = sources.iter().map(|(r, _)| r.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in sources {
        let module = module_of(rel);
        if module.first().is_none_or(|m| !LAYERS.contains(&m.as_str())) {
            continue;
        }
        let edges = graph.entry(rel.clone()).or_default();
        for (path, _, in_test) in resolved(rel, text) {
            if in_test || path[0] != module[0] {
                continue;
            }
            let Some(target) = file_of(&path, &files) else {
                continue;
            };
            let target_module = module_of(&target);
            let is_ancestor =
                module.starts_with(&target_module) && target_module.len() < module.len();
            if target != *rel && !is_ancestor {
                edges.insert(target);
            }
        }
    }
    graph
}

/// Each circle in the graph, as a path that returns to where it started.
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components; a component of more than one file holds a
    // circle, and a shortest one through its first file is reported.
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        components: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a str) {
        let n = w.index.len();
        w.index.insert(v, n);
        w.low.insert(v, n);
        w.stack.push(v);
        w.on_stack.insert(v);
        for t in w.graph.get(v).into_iter().flatten() {
            let t = t.as_str();
            if !w.index.contains_key(t) {
                visit(w, t);
                let low = w.low[t].min(w.low[v]);
                w.low.insert(v, low);
            } else if w.on_stack.contains(t) {
                let low = w.index[t].min(w.low[v]);
                w.low.insert(v, low);
            }
        }
        if w.low[v] == w.index[v] {
            let mut component = Vec::new();
            while let Some(t) = w.stack.pop() {
                w.on_stack.remove(t);
                component.push(t);
                if t == v {
                    break;
                }
            }
            w.components.push(component);
        }
    }
    let mut w = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for v in graph.keys() {
        if !w.index.contains_key(v.as_str()) {
            visit(&mut w, v);
        }
    }
    let mut out: Vec<Vec<String>> = Vec::new();
    for component in w.components.iter().filter(|c| c.len() > 1) {
        let members: BTreeSet<&str> = component.iter().copied().collect();
        for &start in &members {
            let mut found = shortest_loop(graph, &members, start);
            // The same loop found from each of its files: written from its first file.
            let first = (0..found.len() - 1).min_by_key(|&k| &found[k]).unwrap();
            found.pop();
            found.rotate_left(first);
            found.push(found[0].clone());
            if !out.contains(&found) {
                out.push(found);
            }
        }
    }
    out.sort();
    out
}

/// A shortest way from `start` back to itself through `members` (breadth-first).
fn shortest_loop(
    graph: &BTreeMap<String, BTreeSet<String>>,
    members: &BTreeSet<&str>,
    start: &str,
) -> Vec<String> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for t in graph.get(v).into_iter().flatten() {
            let t = t.as_str();
            if t == start {
                let mut path = vec![start.to_string()];
                let mut at = v;
                while at != start {
                    path.push(at.to_string());
                    at = came_from[at];
                }
                path.push(start.to_string());
                path.reverse();
                return path;
            }
            if members.contains(t) && !came_from.contains_key(t) {
                came_from.insert(t, v);
                queue.push_back(t);
            }
        }
    }
    unreachable!("every file of a strongly connected component is on a loop")
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
/// read, changed or tested one at a time. Ignored until today's circles are broken. The two
/// the layering issue names: `src/ui/state.rs` with the models in `src/ui/model/` (the
/// models take `&mut Sim` and add `impl Sim` blocks; topology, server_panel, timeline, and
/// inspect through sync_path), and `src/scenario/player.rs` with `src/scenario/runner.rs`.
/// This check finds more, each to be broken or judged before it is enabled:
/// `bus/budget.rs` <-> `bus/world.rs`; `engine/keymap.rs` <-> `engine/keyspace.rs`;
/// `engine/info.rs` -> `replication/mod.rs` -> `replication/output_buffer.rs` -> `info.rs`;
/// `engine/command/mod.rs` -> `replication_cmds.rs` -> `replication/` -> `rdb.rs` ->
/// `command/` (rdb.rs reaches into `command` for cfloat's parsers); `ui/embed.rs` with
/// `ui/opening.rs`, `ui/page.rs` and `ui/state.rs`; `ui/model/inspect.rs` <->
/// `ui/model/stream.rs` (and `backlog.rs` through `stream.rs`).
#[test]
#[ignore = "import circles remain: ui/state.rs <-> ui/model/*, scenario/player.rs <-> scenario/runner.rs, and the others listed above"]
fn no_import_circle_between_files() {
    let found = circles(&import_graph(&sources()));
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
    let found = circles(&import_graph(&sources));
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
