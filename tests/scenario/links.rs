//! Share links (`src/scenario/link.rs`): frozen golden links keep opening to the same run
//! in every build; the encoder's output is pinned so a change to it is noticed; every way a
//! link can be wrong has its own readable message; and no text, however broken, makes the
//! decoder panic or accept a scenario that does not validate.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use replscope::scenario::generate::random_scenario_with;
use replscope::scenario::share_link::{
    decode, encode, encode_checked, LinkError, SharedRun, MAX_LINK_CHARS, MAX_SCENARIO_JSON_BYTES,
};
use replscope::scenario::{Action, Scenario};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/links/golden");

/// One golden link with the scenario and step it must open to.
struct Golden {
    name: String,
    link: String,
    scenario: Scenario,
    step: Option<u64>,
}

/// Every golden link, or a list of what is wrong with the directory (a file without its
/// partner, an unreadable file).
fn golden() -> Vec<Golden> {
    let mut files: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(GOLDEN).expect("tests/links/golden") {
        let path = entry.unwrap().path();
        let (Some(stem), Some(ext)) = (path.file_stem(), path.extension()) else {
            continue;
        };
        let ext = ext.to_string_lossy().into_owned();
        if ext == "md" {
            continue;
        }
        files
            .entry(stem.to_string_lossy().into_owned())
            .or_default()
            .insert(ext);
    }
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (name, exts) in &files {
        let unknown: Vec<&String> = exts
            .iter()
            .filter(|e| !["link", "json", "step"].contains(&e.as_str()))
            .collect();
        if !unknown.is_empty() {
            problems.push(format!("{name}: unexpected file kinds {unknown:?} (a golden link is NAME.link, NAME.json and maybe NAME.step)"));
        }
        if !exts.contains("link") || !exts.contains("json") {
            problems.push(format!(
                "{name}: has {exts:?}; a golden link needs both NAME.link and NAME.json"
            ));
            continue;
        }
        let read = |ext: &str| {
            std::fs::read_to_string(Path::new(GOLDEN).join(format!("{name}.{ext}"))).unwrap()
        };
        let scenario = match Scenario::from_json(&read("json")) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{name}.json: {e}"));
                continue;
            }
        };
        let step = exts.contains("step").then(|| {
            read("step")
                .trim()
                .parse::<u64>()
                .unwrap_or_else(|e| panic!("{name}.step: {e}"))
        });
        let link = read("link");
        assert_eq!(
            link.trim_end().lines().count(),
            1,
            "{name}.link: one link, on one line"
        );
        out.push(Golden {
            name: name.clone(),
            link: link.trim_end().to_string(),
            scenario,
            step,
        });
    }
    assert!(
        problems.is_empty(),
        "tests/links/golden:\n{}",
        problems.join("\n")
    );
    out
}

/// The golden links that are quick to decode thousands of times over (the big one is
/// sampled instead).
fn small_golden() -> Vec<Golden> {
    golden()
        .into_iter()
        .filter(|g| g.link.len() < 2_000)
        .collect()
}

#[test]
fn golden_links_open_to_their_frozen_scenarios_forever() {
    let all = golden();
    for required in [
        "minimal",
        "every-action",
        "with-step",
        "big-load",
        "unicode-quotes",
    ] {
        assert!(
            all.iter().any(|g| g.name == required),
            "golden link {required} is missing"
        );
    }
    for g in &all {
        let expected = SharedRun {
            scenario: g.scenario.clone(),
            step: g.step,
        };
        // As pasted: bare, as a fragment, inside the page's whole address, with whitespace.
        for text in [
            g.link.clone(),
            format!("#{}", g.link),
            format!("https://example.org/replscope/?theme=dark#{}", g.link),
            format!("  \n{}\t\n", g.link),
        ] {
            let got = decode(&text)
                .unwrap_or_else(|e| panic!("golden link {} no longer opens: {e}", g.name));
            assert!(
                got == expected,
                "golden link {} opens to a different run than {}.json / .step",
                g.name,
                g.name
            );
        }
        // README.md quotes these sizes (`-- --nocapture` prints them).
        let json = serde_json::to_string(&g.scenario).unwrap();
        println!(
            "{}: {} characters for {} bytes of compact scenario JSON",
            g.name,
            g.link.len(),
            json.len()
        );
    }
}

/// Someone adding an action kind adds a golden link that uses it, so its spelling in
/// links is frozen from the start.
#[test]
fn every_action_kind_appears_in_a_golden_link() {
    // serde lists an enum's variants in its "unknown variant" error; the list follows the
    // Action enum without naming each kind here.
    let probe = Scenario::from_json(
        r#"{"version": 1, "seed": 1, "servers": [{"name": "m", "port": 1}], "actions": [{"do": "no such kind"}]}"#,
    )
    .expect_err("not a kind");
    let listed = probe.to_string();
    let kinds: BTreeSet<String> = listed
        .split('`')
        .skip(3)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(
        kinds.len() >= 16 && kinds.contains("command") && kinds.contains("load"),
        "could not read the kinds from {listed:?}"
    );
    let mut used = BTreeSet::new();
    for g in golden() {
        let written = serde_json::to_value(&g.scenario).unwrap();
        for a in written["actions"].as_array().into_iter().flatten() {
            used.insert(a["do"].as_str().unwrap().to_string());
        }
    }
    let missing: Vec<&String> = kinds.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "no golden link uses {missing:?}: add one (tests/links/golden/README.md)"
    );
}

const ENCODER_PIN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/links/encoder/every-action.link"
);

/// The encoder's output for a fixed scenario. Unlike the golden links, this one may be
/// re-recorded (`REPLSCOPE_BLESS=1 cargo test --no-default-features --test scenario links::encoder`)
/// when only the encoder changed (a new compressor version, a field order) and the golden
/// links still open; it is here so that such a change is seen, and so that the links the
/// documentation shows are known to be what this build writes.
#[test]
fn encoder_output_is_pinned() {
    let g = golden()
        .into_iter()
        .find(|g| g.name == "every-action")
        .expect("golden every-action");
    let fresh = encode(&SharedRun {
        scenario: g.scenario,
        step: Some(120),
    });
    println!("{fresh}");
    if std::env::var_os("REPLSCOPE_BLESS").is_some() {
        std::fs::write(ENCODER_PIN, format!("{fresh}\n")).unwrap();
        return;
    }
    let pinned = std::fs::read_to_string(ENCODER_PIN)
        .expect("tests/links/encoder/every-action.link (record it with REPLSCOPE_BLESS=1)");
    assert_eq!(pinned.trim_end(), fresh, "the encoder writes different links now: if that is meant (and the golden links still open), re-record with REPLSCOPE_BLESS=1");
}

// ------------------------------------------------------------------ messages

/// A v1 link around any payload bytes (already compressed, or not).
fn link_of_deflated(deflated: &[u8]) -> String {
    format!("v1.{}", URL_SAFE_NO_PAD.encode(deflated))
}

/// A v1 link around any JSON text: how a hand-made or damaged payload reaches the decoder.
fn link_of_json(json: &str) -> String {
    link_of_deflated(&miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 9))
}

fn message(text: &str) -> String {
    match decode(text) {
        Ok(_) => panic!("{text:?} opened"),
        Err(e) => e.to_string(),
    }
}

const SMALL: &str = r#"{"version": 1, "seed": 3, "servers": [{"name": "m", "port": 6380}, {"name": "r", "port": 6381}],
  "actions": [{"do": "command", "at": 1, "server": "m", "line": "SET a 1"}, {"do": "command", "at": 2, "server": "m", "line": "SET b 2"},
              {"do": "cut", "at": 3, "a": "m", "b": "r"}, {"do": "command", "at": -5, "server": "m", "line": "SET c 3"}]}"#;

#[test]
fn each_kind_of_bad_link_gets_its_own_message() {
    for empty in ["", "   ", "#", "https://example.org/#  "] {
        assert_eq!(decode(empty), Err(LinkError::Empty), "{empty:?}");
    }
    assert_eq!(
        message(" "),
        "the link is empty: paste the whole address, including the part after its '#'"
    );
    assert_eq!(
        message("https://example.org/replscope/"),
        "this address has no \"#v1.…\" part, so it holds no run: was the link cut off before its '#'?"
    );
    assert_eq!(
        message("hello"),
        "this is not a replscope link: its data should start with \"v1.\" (after the '#' of the address), but it starts with \"hello\""
    );
    for garbled in [
        "v.abc",
        "vx.abc",
        "v01.abc",
        "v0.abc",
        "v1abc",
        "V1.abc",
        "v99999999999999999999999.abc",
    ] {
        assert!(
            matches!(decode(garbled), Err(LinkError::NoVersion { .. })),
            "{garbled:?}: {:?}",
            decode(garbled)
        );
    }
    assert_eq!(
        decode("#v7.whatever").unwrap_err(),
        LinkError::Newer { version: 7 }
    );
    assert_eq!(
        message("v7.whatever"),
        "this link was made by a newer replscope (link format v7); this page reads links up to v1"
    );
    // Newer wins over every other complaint: its format may allow what v1 does not.
    assert_eq!(
        decode(&format!("v2.{}", "%".repeat(MAX_LINK_CHARS * 2))).unwrap_err(),
        LinkError::Newer { version: 2 }
    );

    assert_eq!(
        message("v1."),
        "this link is truncated or corrupt: it ends right after \"v1.\", so its data is missing (was it cut off when it was copied?)"
    );
    assert_eq!(
        message("v1.abcd efgh"),
        "this link is truncated or corrupt: it has a space or line break at character 8: join the lines of the link and try again"
    );
    assert_eq!(
        message("v1.ab%cd"),
        "this link is truncated or corrupt: character 6 is '%', which a link never contains (was it mistyped, or was text stuck to its end?)"
    );
    // Counted in characters, not bytes.
    assert!(
        message("v1.éé+").contains("character 4 is 'é'"),
        "{}",
        message("v1.éé+")
    );
    assert!(message("v1.abcd=").contains("character 8 is '='"));
    assert!(
        message("v1.abcde").contains("its data has 5 characters, a length no link has"),
        "{}",
        message("v1.abcde")
    );
    assert!(
        message("v1.AB").contains("its last character, 'B' at character 5, cannot end a link"),
        "{}",
        message("v1.AB")
    );

    let good = encode(&SharedRun {
        scenario: Scenario::from_json(&SMALL.replace("-5", "5")).unwrap(),
        step: None,
    });
    // Cut at a whole number of base64 quads, so that only the compressed data is short.
    let cut = &good[..3 + (good.len() - 3 - 8) / 4 * 4];
    assert_eq!(
        message(cut),
        "this link is truncated or corrupt: the compressed data ends early (was the link cut off when it was copied?)"
    );
    assert!(
        message(&format!("{good}AAAA")).contains("3 bytes follow the end of its compressed data"),
        "{}",
        message(&format!("{good}AAAA"))
    );
    // A damaged block header ("reserved" block type 3) is not an early end.
    assert_eq!(
        message(&link_of_deflated(&[0x07, 0, 0, 0])),
        "this link is truncated or corrupt: its compressed data is damaged (was a character changed?)"
    );

    assert!(
        message(&link_of_deflated(&miniz_oxide::deflate::compress_to_vec(
            &[0xff, 0xfe],
            9
        )))
        .starts_with("this link does not hold a replscope run: its data is not text")
    );
    assert!(message(&link_of_json("hello")).starts_with(
        "this link does not hold a replscope run: its data is not a shared run (expected value"
    ));
    assert!(message(&link_of_json(r#"{"step": 3}"#)).contains("missing field `scenario`"));
    assert!(message(&link_of_json(r#"{"scenario": 5}"#))
        .contains("its \"scenario\" is not a JSON object"));
    let with = |extra: &str| {
        link_of_json(&format!(
            r#"{{"scenario": {}{extra}}}"#,
            SMALL.replace("-5", "5")
        ))
    };
    assert!(
        message(&with(r#", "title": "x""#))
            .contains("unknown field `title`, expected `scenario` or `step`"),
        "{}",
        message(&with(r#", "title": "x""#))
    );
    assert!(message(&with(r#", "step": -1"#)).contains("invalid value: integer `-1`, expected u64"));
    assert!(message(&with(r#", "step": 1, "step": 2"#)).contains("duplicate field `step`"));

    assert_eq!(
        message(&link_of_json(&format!(
            r#"{{"scenario": {SMALL}, "step": 2}}"#
        ))),
        "the scenario in this link is not valid: actions[3].at: negative time"
    );
    let newer = message(&link_of_json(
        r#"{"scenario": {"version": 1, "seed": 0, "servers": [{"name": "m", "port": 1}], "frobnicate": 1}}"#,
    ));
    assert!(newer.starts_with("the scenario in this link is not valid: frobnicate: unknown field `frobnicate`, expected one of `version`"), "{newer}");
    assert!(
        newer.ends_with("(was the link made by a newer replscope?)"),
        "{newer}"
    );
    let kind = message(&link_of_json(
        r#"{"scenario": {"version": 1, "seed": 0, "servers": [{"name": "m", "port": 1}], "actions": [{"do": "frobnicate", "at": 1}]}}"#,
    ));
    assert!(
        kind.starts_with("the scenario in this link is not valid: actions[0]"),
        "{kind}"
    );
    assert!(
        kind.contains("unknown variant `frobnicate`")
            && kind.ends_with("(was the link made by a newer replscope?)"),
        "{kind}"
    );
    assert!(message(&link_of_json(
        r#"{"scenario": {"version": 2, "seed": 0, "servers": []}}"#
    ))
    .contains("version: 2 is newer than this replscope understands (1)"));
}

#[test]
fn an_oversized_link_or_payload_is_refused_without_unpacking_it_all() {
    let long = format!("v1.{}", "A".repeat(MAX_LINK_CHARS));
    assert_eq!(
        message(&long),
        format!("this link is too large: it is longer than {MAX_LINK_CHARS} characters, the most a link may have; share a scenario this big as a JSON file instead")
    );
    // Exactly at the limit, it is judged on its content.
    assert!(matches!(
        decode(&format!("v1.{}", "A".repeat(MAX_LINK_CHARS - 3))),
        Err(LinkError::Corrupt { .. })
    ));
    // A bomb: a few kilobytes that would unpack to more than the limit.
    let bomb = link_of_deflated(&miniz_oxide::deflate::compress_to_vec(
        &vec![b' '; MAX_SCENARIO_JSON_BYTES + 1],
        9,
    ));
    assert!(bomb.len() < 20_000, "{}", bomb.len());
    assert_eq!(
        message(&bomb),
        format!("this link is too large: its scenario unpacks to more than {MAX_SCENARIO_JSON_BYTES} bytes of JSON, the most a link may hold")
    );
    // Right at the limit it unpacks (and is then judged as JSON).
    let at_limit = link_of_deflated(&miniz_oxide::deflate::compress_to_vec(
        &vec![b' '; MAX_SCENARIO_JSON_BYTES],
        9,
    ));
    assert!(
        matches!(decode(&at_limit), Err(LinkError::NotARun { .. })),
        "{:?}",
        decode(&at_limit)
    );
}

#[test]
fn a_scenario_too_big_for_a_link_is_refused_when_encoding() {
    let mut scenario = Scenario::from_json(&SMALL.replace("-5", "5")).unwrap();
    let m = scenario.server_index("m").unwrap();
    // Incompressible command lines: 3 000 of 64 pseudo-random characters.
    let mut x: u64 = 1;
    for i in 0..3_000 {
        let word: String = (0..64)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                char::from(b'a' + (x >> 59) as u8 % 26)
            })
            .collect();
        scenario.actions.push(Action::Command {
            at: 10 + i,
            server: m,
            line: format!("SET k{i} {word}"),
        });
    }
    let run = SharedRun {
        scenario,
        step: None,
    };
    let link = encode(&run);
    assert!(
        link.len() > MAX_LINK_CHARS,
        "{} characters: make the scenario bigger",
        link.len()
    );
    let refused = encode_checked(&run).unwrap_err();
    assert!(matches!(refused, LinkError::TooLarge { .. }));
    assert_eq!(
        decode(&link).unwrap_err(),
        refused,
        "the encoder refuses exactly what the decoder would"
    );
}

// ------------------------------------------------------------------ properties

fn config(cases: u32) -> Config {
    let cases = std::env::var("REPLSCOPE_FUZZ_CASES")
        .ok()
        .map_or(cases, |v| {
            v.parse().expect("REPLSCOPE_FUZZ_CASES is a number")
        });
    Config {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/links.txt",
        ))),
        ..Config::default()
    }
}

/// What any text must come to: an error, or a run whose scenario validates and that
/// encodes to a link opening to the same run again.
fn check_any(text: &str) -> Result<(), TestCaseError> {
    if let Ok(run) = decode(text) {
        prop_assert!(
            run.scenario.validate().is_ok(),
            "{text:?} opened to an invalid scenario"
        );
        let again = decode(&encode(&run));
        prop_assert!(
            again.as_ref() == Ok(&run),
            "{text:?} opened, but its re-encoding did not open the same: {again:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn random_scenarios_round_trip(seed in any::<u64>(), faults in any::<bool>(), step in proptest::option::of(any::<u64>())) {
        let run = SharedRun { scenario: random_scenario_with(seed, faults), step };
        let link = encode_checked(&run).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(link.starts_with("v1.") && link[3..].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        prop_assert_eq!(decode(&link), Ok(run.clone()));
        prop_assert_eq!(decode(&format!("https://example.org/replscope/#{link}")), Ok(run));
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), prefix in prop::sample::select(vec!["", "v1.", "#v1.", "x#v1.", "v2.", "v1"])) {
        check_any(&format!("{prefix}{text}"))?;
    }

    #[test]
    fn arbitrary_base64url_never_panics(text in "[A-Za-z0-9_-]{0,400}") {
        check_any(&format!("v1.{text}"))?;
    }

    /// Any bytes as the compressed data: reaches the inflater.
    #[test]
    fn arbitrary_compressed_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        check_any(&link_of_deflated(&bytes))?;
    }

    /// A real link's JSON with a few bytes changed, compressed properly: reaches the JSON
    /// and scenario layers with nearly valid input.
    #[test]
    fn damaged_json_never_panics(
        seed in any::<u64>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let run = SharedRun { scenario: random_scenario_with(seed, true), step: Some(seed % 1000) };
        let json = miniz_oxide::inflate::decompress_to_vec(&URL_SAFE_NO_PAD.decode(&encode(&run)[3..]).unwrap()).unwrap();
        let mut json = json;
        for (at, byte) in edits {
            let i = at.index(json.len());
            json[i] = byte;
        }
        check_any(&link_of_deflated(&miniz_oxide::deflate::compress_to_vec(&json, 9)))?;
    }

    /// Golden links with characters changed, deleted or inserted anywhere.
    #[test]
    fn mutated_links_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<char>()), 1..5),
    ) {
        let all = small_golden();
        let mut chars: Vec<char> = all[which.index(all.len())].link.chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len());
            match kind {
                0 => chars[i] = c,
                1 => { chars.remove(i); }
                _ => chars.insert(i, c),
            }
            if chars.is_empty() {
                break;
            }
        }
        check_any(&chars.into_iter().collect::<String>())?;
    }
}

/// Every prefix of every golden link (every 41st of the big one): a link cut off anywhere
/// is an error, never a panic and never a different run.
#[test]
fn a_link_cut_at_any_length_is_refused() {
    for g in golden() {
        let stride = if g.link.len() > 5_000 { 41 } else { 1 };
        for len in (0..g.link.len()).step_by(stride) {
            let cut = &g.link[..len];
            let result = decode(cut);
            assert!(
                result.is_err(),
                "{} cut to {len} characters opened: {result:?}",
                g.name
            );
        }
    }
}

/// Each character of the small golden links replaced by a neighbour in the alphabet and by
/// a character no link has: never a panic; what still opens is a valid run.
#[test]
fn a_link_with_any_one_character_changed_never_panics() {
    let (mut refused, mut opened) = (0, 0);
    for g in small_golden() {
        let bytes = g.link.as_bytes();
        for i in 0..bytes.len() {
            for replacement in [neighbour(bytes[i]), b'!'] {
                let mut changed = bytes.to_vec();
                changed[i] = replacement;
                let text = String::from_utf8(changed).unwrap();
                match decode(&text) {
                    Err(_) => refused += 1,
                    Ok(run) => {
                        opened += 1;
                        check_any(&text).unwrap_or_else(|e| panic!("{}: {e}", g.name));
                        // Only the last character's unused bits, or a change inside the
                        // scenario's text, leave a link that opens.
                        assert!(run.scenario.validate().is_ok());
                    }
                }
            }
        }
    }
    assert!(refused > opened, "{refused} refused, {opened} opened");
}

fn neighbour(b: u8) -> u8 {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    match ALPHABET.iter().position(|&a| a == b) {
        Some(i) => ALPHABET[(i + 1) % ALPHABET.len()],
        None => b'A',
    }
}
