//! CONFIG GET and CONFIG SET, as Redis 7.0's `config.c` answers them.
//!
//! GET takes several names or glob patterns and answers one flat name/value array with
//! each option once. SET takes several name/value pairs and applies all or none: the
//! first unknown, immutable or duplicated name refuses the whole command, and a value
//! that does not parse undoes the ones set before it. Then what the changes imply is
//! carried out (a new `repl-backlog-size` resizes the live backlog).

use super::{stringmatch, CommandSpec, ADMIN, STALE};
use crate::engine::c_string::c_str;
#[cfg(not(target_arch = "wasm32"))]
use crate::engine::config::{allows_protected, is_protected};
use crate::engine::config::{lookup_option, option_names, OptionSpec};
use crate::engine::resp::reply;
use crate::engine::{Client, Node};

pub static CONFIG_SUBCOMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "config|get",
        arity: -3,
        flags: ADMIN | STALE,
        handler: config_get,
    },
    CommandSpec {
        name: "config|resetstat",
        arity: 2,
        flags: ADMIN | STALE,
        handler: config_resetstat,
    },
    CommandSpec {
        name: "config|set",
        arity: -4,
        flags: ADMIN | STALE,
        handler: config_set,
    },
];

/// CONFIG GET pattern [pattern ...]. A name without glob characters is looked up as
/// given (and shown as typed); a pattern is matched, without regard to case, against
/// every option name and alias. Each option appears once, under the first name that
/// matched it.
fn config_get(node: &mut Node, _client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    let mut matches: Vec<(Vec<u8>, &'static OptionSpec)> = Vec::new();
    // Redis dedupes by the name shown (not by option): an option and its alias are two
    // entries, and a pattern skips a name already shown.
    let seen = |m: &Vec<(Vec<u8>, &'static OptionSpec)>, name: &[u8]| {
        m.iter().any(|(n, _)| n.as_slice() == name)
    };
    for pattern in &argv[2..] {
        let pattern = c_str(pattern);
        if !pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?')) {
            if seen(&matches, pattern) {
                continue;
            }
            if let Some(spec) = std::str::from_utf8(pattern).ok().and_then(lookup_option) {
                matches.push((pattern.to_vec(), spec));
            }
            continue;
        }
        for (name, spec) in option_names() {
            if !seen(&matches, name.as_bytes()) && stringmatch(pattern, name.as_bytes(), true) {
                matches.push((name.as_bytes().to_vec(), spec));
            }
        }
    }
    let mut out = reply::array_header(matches.len() * 2);
    for (name, spec) in matches {
        out.extend(reply::bulk(&name));
        out.extend(reply::bulk(&node.config.get_option(spec)));
    }
    out
}

/// CONFIG SET name value [name value ...].
// The page has no protected configs to check the client against.
#[cfg_attr(target_arch = "wasm32", allow(unused_variables))]
fn config_set(node: &mut Node, client: &mut Client, argv: &[Vec<u8>]) -> Vec<u8> {
    if !argv.len().is_multiple_of(2) {
        return reply::error("ERR syntax error");
    }
    let shown = |a: &[u8]| String::from_utf8_lossy(c_str(a)).into_owned();
    // First pass: every name must be a settable option, each at most once. The first
    // problem found is the one reported.
    let mut specs: Vec<(&'static OptionSpec, &'static str, &[u8])> = Vec::new();
    for pair in argv[2..].chunks(2) {
        let name = shown(&pair[0]);
        let Some(spec) = lookup_option(&name) else {
            return reply::error(&format!(
                "ERR Unknown option or number of arguments for CONFIG SET - '{name}'"
            ));
        };
        if spec.immutable {
            return failed(&name, "can't set immutable config");
        }
        #[cfg(not(target_arch = "wasm32"))]
        if is_protected(spec)
            && !allows_protected(node.config.enable_protected_configs, &client.peer.ip)
        {
            return failed(&name, "can't set protected config");
        }
        // The name as registered: an alias is its own entry, so `slave-read-only` and
        // `replica-read-only` in one command are not duplicates (the last one wins).
        let registered = if spec.name.eq_ignore_ascii_case(&name) {
            spec.name
        } else {
            spec.alias.unwrap_or(spec.name)
        };
        if specs.iter().any(|(_, r, _)| *r == registered) {
            return failed(&name, "duplicate parameter");
        }
        specs.push((spec, registered, &pair[1]));
    }
    // Second pass: set them in order; the first bad value undoes the whole command.
    let before = node.config.clone();
    for (spec, registered, value) in &specs {
        if let Err(e) = node.config.set_option(spec, value) {
            node.config = before;
            return failed(registered, &e);
        }
    }
    // Then what the new values imply.
    if node.config.repl_backlog_size != before.repl_backlog_size {
        let size = node.config.repl_backlog_size as usize;
        if let Some(backlog) = node.repl.backlog.as_mut() {
            backlog.resize(size);
        }
    }
    if (
        node.config.min_replicas_to_write,
        node.config.min_replicas_max_lag,
    ) != (before.min_replicas_to_write, before.min_replicas_max_lag)
    {
        node.refresh_good_replicas_count(None);
    }
    reply::ok()
}

/// CONFIG RESETSTAT: the INFO counters start again from zero.
fn config_resetstat(node: &mut Node, _client: &mut Client, _argv: &[Vec<u8>]) -> Vec<u8> {
    node.stats = Default::default();
    node.counters = Default::default();
    reply::ok()
}

fn failed(name: &str, why: &str) -> Vec<u8> {
    reply::error(&format!(
        "ERR CONFIG SET failed (possibly related to argument '{name}') - {why}"
    ))
}

#[cfg(test)]
mod tests {
    use super::stringmatch;

    #[test]
    fn globs_match_like_redis() {
        let m = |p: &str, s: &str| stringmatch(p.as_bytes(), s.as_bytes(), true);
        assert!(m("repl*", "repl-timeout"));
        assert!(m("*", "hz"));
        assert!(m("h?", "hz"));
        assert!(!m("h?", "h"));
        assert!(m("REPL-T*", "repl-timeout"));
        assert!(m("[a-h]z", "hz"));
        assert!(!m("[^h]z", "hz"));
        assert!(m("*slave*", "repl-ping-slave-period"));
        assert!(m("h\\z", "hz"));
        assert!(!m("*x", "hz"));
        assert!(m("hz*", "hz"));
        assert!(!m("", "hz"));
    }
}
