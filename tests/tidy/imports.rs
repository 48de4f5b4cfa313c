//! The imports of a Rust source tree as tidy reads them, without a compiler: comments and
//! strings blanked, `use` trees flattened, `crate::`, `super::` and `self::` paths and the
//! names a file binds with `use` and `mod` resolved to module paths, then to the files
//! those modules live in; and the circles in the graph of imports between files.

use std::collections::{BTreeMap, BTreeSet};

/// A Rust source with its comments, strings and character literals blanked to spaces
/// (newlines kept, so positions keep their line numbers): braces and `::` paths in them
/// are not code.
pub fn code_of(text: &str) -> Vec<char> {
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
pub fn module_of(rel: &str) -> Vec<String> {
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

/// Resolves what a file's paths name to absolute module paths (`crate` left off): the
/// first segment decides where a path starts; names bound by the file's own `use`s and
/// `mod`s are followed, anything else (std, other crates, local items) is not a module
/// path of this crate and is skipped.
pub fn resolved(rel: &str, text: &str) -> Vec<(Vec<String>, usize, bool)> {
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
    // Bindings first (a `use` may come after the code that uses its name). A test module's
    // `use` binds its names for test code only: `use crate::ui::state::Action` in a test
    // module does not make the file's own `Action` (another `use`) the page's.
    for r in refs.iter().filter(|r| !r.in_test) {
        if let Some(name) = &r.binds {
            if let Some(target) = absolute(r, &local) {
                local.insert(name.clone(), target);
            }
        }
    }
    let mut in_tests = local.clone();
    for r in refs.iter().filter(|r| r.in_test) {
        if let Some(name) = &r.binds {
            if let Some(target) = absolute(r, &in_tests) {
                in_tests.insert(name.clone(), target);
            }
        }
    }
    refs.iter()
        .filter_map(|r| {
            let names = if r.in_test { &in_tests } else { &local };
            absolute(r, names).map(|p| (p, r.line, r.in_test))
        })
        .filter(|(p, _, _)| !p.is_empty())
        .collect()
}

/// The file a module path lives in: the longest prefix that is a file module.
pub fn file_of(path: &[String], files: &BTreeSet<String>) -> Option<String> {
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
pub fn import_graph(
    sources: &[(String, String)],
    layers: &[&str],
) -> BTreeMap<String, BTreeSet<String>> {
    let files: BTreeSet<String> = sources.iter().map(|(r, _)| r.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in sources {
        let module = module_of(rel);
        if module.first().is_none_or(|m| !layers.contains(&m.as_str())) {
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
pub fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
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
