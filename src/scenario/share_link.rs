//! Share links: a scenario and the step the page shows, carried in the page's URL
//! fragment (`https://…/#v1.…`), which browsers never send to a server.
//!
//! Format v1: `v1.` followed by base64url (RFC 4648 §5, no padding) of raw DEFLATE
//! (RFC 1951, no zlib header: the base64 text is what carries the size) of compact JSON
//! `{"scenario": {…}, "step": 12}`, where `scenario` is a [`Scenario`] in its own JSON
//! format and `step` (absent: the end of the run) is how many event-log entries the page
//! shows. The scenario is (de)serialised only through its own serde code, so fields it
//! gains later travel in links with no change here.
//!
//! Links outlive builds: they are pasted into issues, chats and documentation. So every
//! format's decoder stays forever, and once a format is published its decoder is frozen
//! (see [`decode`]); `tests/links/golden/` holds links that every future build must read
//! to the same scenario and step. The decoder takes arbitrary text: a truncated, corrupt,
//! oversized or newer link gets a [`LinkError`] that says what is wrong in words, never a
//! panic, and no input makes it allocate more than [`MAX_SCENARIO_JSON_BYTES`] (plus the
//! link itself). `tests/links.rs` and `fuzz/fuzz_targets/link_decode.rs` fuzz it.

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, Engine};
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use serde::{Deserialize, Serialize};

use super::{Scenario, ScenarioError};

/// The link format [`encode`] writes, and the newest [`decode`] reads.
pub const LINK_FORMAT_VERSION: u64 = 1;

/// Longest link [`decode`] accepts, in characters from the `v` of `v1.` (the rest of a URL
/// does not count). Browsers take URLs of a few megabytes, but chat apps, mail clients and
/// issue trackers cut or refuse long ones well before that; 100 000 characters (75 KB of
/// compressed JSON) hold scenarios of a few thousand actions, and bigger ones are better
/// shared as a scenario file. [`encode`] does not check it: see [`encode_checked`].
pub const MAX_LINK_CHARS: usize = 100_000;

/// Most bytes a link's JSON may inflate to. DEFLATE expands up to about 1 000 times, so a
/// link within [`MAX_LINK_CHARS`] could otherwise claim some 75 MB; honest links of that
/// length inflate to well under 4 MiB (scenario JSON compresses 5 to 30 times).
pub const MAX_SCENARIO_JSON_BYTES: usize = 4 * 1024 * 1024;

/// miniz's best ratio: links are made once, by a click, and read many times.
const COMPRESSION_LEVEL: u8 = 9;

/// A scenario as shared: what to run, and where in its log to look.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedRun {
    pub scenario: Scenario,
    /// How many event-log entries to show (the page moves time so that the log has exactly
    /// this many); `None`: the end of the run.
    pub step: Option<u64>,
}

/// Why text is not a link this build can open. Each message is a sentence for the person
/// who pasted or clicked it (the page shows it as it is; `replscope-sim` prints it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Nothing but whitespace, or an address ending in a bare `#`.
    Empty,
    /// A web address with no fragment at all: cut off before its `#`, or not a share link.
    NoFragment,
    /// No `v<number>.` where the link's data starts, or a garbled one.
    NoVersion { found: String },
    /// From a newer replscope: a format this build has no decoder for.
    Newer { version: u64 },
    /// Over [`MAX_LINK_CHARS`], or its JSON inflates past [`MAX_SCENARIO_JSON_BYTES`].
    TooLarge { detail: String },
    /// Characters or bytes no link of its format contains: cut off, mistyped, damaged.
    Corrupt { detail: String },
    /// It unpacks, but not to a shared run (not JSON, a missing or unknown field).
    NotARun { detail: String },
    /// The shared run's scenario does not validate; the error names the field.
    InvalidScenario(ScenarioError),
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkError::Empty => write!(f, "the link is empty: paste the whole address, including the part after its '#'"),
            LinkError::NoFragment => {
                write!(f, "this address has no \"#v{LINK_FORMAT_VERSION}.…\" part, so it holds no run: was the link cut off before its '#'?")
            }
            LinkError::NoVersion { found } => write!(
                f,
                "this is not a replscope link: its data should start with \"v{LINK_FORMAT_VERSION}.\" (after the '#' of the address), but it starts with {found:?}"
            ),
            LinkError::Newer { version } => write!(
                f,
                "this link was made by a newer replscope (link format v{version}); this page reads links up to v{LINK_FORMAT_VERSION}"
            ),
            LinkError::TooLarge { detail } => write!(f, "this link is too large: {detail}"),
            LinkError::Corrupt { detail } => write!(f, "this link is truncated or corrupt: {detail}"),
            LinkError::NotARun { detail } => write!(f, "this link does not hold a replscope run: {detail}"),
            LinkError::InvalidScenario(e) => write!(f, "the scenario in this link is not valid: {e}"),
        }
    }
}

impl std::error::Error for LinkError {}

/// The link for `run`: `v1.` and the payload, without the `#` (the page puts it after its
/// own address). May be longer than [`MAX_LINK_CHARS`] for a huge scenario, and then no
/// page opens it: offer a link through [`encode_checked`].
pub fn encode(run: &SharedRun) -> String {
    link_of_json(&payload_json(run))
}

/// The compact JSON a v1 link carries for `run`.
fn payload_json(run: &SharedRun) -> Vec<u8> {
    /// Field order is fixed by this struct (not by a map that a feature of serde_json could
    /// make ordered or sorted), so every build writes the same bytes.
    #[derive(Serialize)]
    struct Payload<'a> {
        scenario: &'a Scenario,
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<u64>,
    }
    serde_json::to_vec(&Payload {
        scenario: &run.scenario,
        step: run.step,
    })
    .expect("a scenario always serialises")
}

fn link_of_json(json: &[u8]) -> String {
    let deflated = miniz_oxide::deflate::compress_to_vec(json, COMPRESSION_LEVEL);
    format!("v{LINK_FORMAT_VERSION}.{}", V1_BASE64.encode(deflated))
}

/// [`encode`], and how many bytes of JSON the link unpacks to (what [`decode`] holds to
/// [`MAX_SCENARIO_JSON_BYTES`]).
pub fn encode_measured(run: &SharedRun) -> (String, usize) {
    let json = payload_json(run);
    (link_of_json(&json), json.len())
}

/// [`encode`], refusing a link longer than [`MAX_LINK_CHARS`] with the error [`decode`]
/// would give it.
pub fn encode_checked(run: &SharedRun) -> Result<String, LinkError> {
    let link = encode(run);
    check_length(&link)?;
    Ok(link)
}

/// Reads a link: the bare `v1.…`, `#v1.…`, or a whole address whose fragment is one,
/// with any whitespace around it.
///
/// Compatibility rule: each link format has its own decoder below, picked by the version
/// number. A published format's decoder never changes (not even to accept more), because
/// links made with it are out in the world and must keep opening to the same run; a new
/// format (a different compression, more fields beside the scenario) gets a new version
/// and a new branch, and [`encode`] moves to it. What a decoder hands on to
/// [`Scenario::from_json`] follows the scenario format's own versioning, which only adds.
pub fn decode(text: &str) -> Result<SharedRun, LinkError> {
    let (version, link, payload) = split_version(text)?;
    if version > LINK_FORMAT_VERSION {
        return Err(LinkError::Newer { version });
    }
    check_length(link)?;
    match version {
        1 => decode_v1(payload),
        // split_version refuses 0, and newer versions were answered above.
        _ => Err(LinkError::NoVersion {
            found: preview(link),
        }),
    }
}

fn check_length(link: &str) -> Result<(), LinkError> {
    // In characters, as a person counts them; counting stops just past the limit.
    let chars = link.chars().take(MAX_LINK_CHARS + 1).count();
    if chars > MAX_LINK_CHARS {
        let detail = format!(
            "it is longer than {MAX_LINK_CHARS} characters, the most a link may have; share a scenario this big as a JSON file instead"
        );
        return Err(LinkError::TooLarge { detail });
    }
    Ok(())
}

/// The link's first characters, to quote in an error.
fn preview(text: &str) -> String {
    let head: String = text.chars().take(12).collect();
    if head.len() < text.len() {
        format!("{head}…")
    } else {
        head
    }
}

/// Finds `v<version>.` and splits it off: (version, the link from its `v`, the payload).
fn split_version(text: &str) -> Result<(u64, &str, &str), LinkError> {
    let text = text.trim();
    // A fragment is everything after an address's first '#'; base64url has no '#'.
    let (link, in_address) = match text.split_once('#') {
        Some((_, fragment)) => (fragment.trim(), true),
        None => (text, false),
    };
    if link.is_empty() {
        return Err(LinkError::Empty);
    }
    if !in_address && text.contains("://") {
        return Err(LinkError::NoFragment);
    }
    let garbled = || LinkError::NoVersion {
        found: preview(link),
    };
    let rest = link.strip_prefix('v').ok_or_else(garbled)?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    // One spelling per version ("v1.", not "v01."), so a link has one reading.
    if digits == 0 || rest.as_bytes().get(digits) != Some(&b'.') || rest.starts_with('0') {
        return Err(garbled());
    }
    let version: u64 = rest[..digits].parse().map_err(|_| garbled())?;
    Ok((version, link, &rest[digits + 1..]))
}

/// Base64url as v1 writes it, spelled out rather than taken from the crate's presets so
/// that the v1 decoder cannot change under an upgrade: no padding, and none accepted;
/// the unused low bits of the last character must be zero (one text per payload).
const V1_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// The v1 payload's JSON. Unknown fields are refused: a field this build does not know
/// could change what the link means, and a format that adds one is a new version.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadV1 {
    /// Kept as its text and read by [`Scenario::from_json`], the one reader of scenarios.
    scenario: Box<serde_json::value::RawValue>,
    #[serde(default)]
    step: Option<u64>,
}

/// Format v1's decoder. FROZEN: links in the wild depend on exactly what it accepts.
fn decode_v1(payload: &str) -> Result<SharedRun, LinkError> {
    let corrupt = |detail: String| LinkError::Corrupt { detail };
    if payload.is_empty() {
        return Err(corrupt("it ends right after \"v1.\", so its data is missing (was it cut off when it was copied?)".into()));
    }
    // Checked here, not left to the base64 decoder, to name the character and its place
    // counted in characters (base64 reports a byte offset, and the text may not be ASCII).
    let prefix_chars = "v1.".len();
    if let Some((i, c)) = payload
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        let position = prefix_chars + i + 1;
        let detail = if c.is_whitespace() {
            format!("it has a space or line break at character {position}: join the lines of the link and try again")
        } else {
            format!("character {position} is {c:?}, which a link never contains (was it mistyped, or was text stuck to its end?)")
        };
        return Err(corrupt(detail));
    }
    let deflated = V1_BASE64.decode(payload).map_err(|e| {
        corrupt(match e {
            base64::DecodeError::InvalidLength(_) => {
                format!("its data has {} characters, a length no link has (was it cut off when it was copied?)", payload.len())
            }
            base64::DecodeError::InvalidLastSymbol(i, _) => {
                format!("its last character, {:?} at character {}, cannot end a link (was it cut off or changed?)", payload.as_bytes()[i] as char, prefix_chars + i + 1)
            }
            other => format!("its data is not base64url ({other})"),
        })
    })?;
    let json = inflate_limited(&deflated, MAX_SCENARIO_JSON_BYTES)?;
    let json = std::str::from_utf8(&json).map_err(|e| LinkError::NotARun {
        detail: format!("its data is not text ({e})"),
    })?;
    let parsed: PayloadV1 = serde_json::from_str(json).map_err(|e| LinkError::NotARun {
        detail: format!("its data is not a shared run ({e})"),
    })?;
    if !parsed.scenario.get().starts_with('{') {
        return Err(LinkError::NotARun {
            detail: "its \"scenario\" is not a JSON object".into(),
        });
    }
    let scenario = Scenario::from_json(parsed.scenario.get()).map_err(|mut e| {
        // A field or action kind this build does not know most likely comes from a newer
        // replscope that wrote the same link format with a richer scenario.
        if e.message.starts_with("unknown field") || e.message.starts_with("unknown variant") {
            e.message
                .push_str(" (was the link made by a newer replscope?)");
        }
        LinkError::InvalidScenario(e)
    })?;
    Ok(SharedRun {
        scenario,
        step: parsed.step,
    })
}

/// Inflates raw DEFLATE into at most `limit` bytes, growing the buffer as the output
/// does (a small link never reserves the limit). Unlike
/// `miniz_oxide::inflate::decompress_to_vec_with_limit`, it also refuses bytes after the
/// end of the stream, so text stuck to a link is noticed rather than ignored.
fn inflate_limited(input: &[u8], limit: usize) -> Result<Vec<u8>, LinkError> {
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let mut out = vec![0u8; input.len().saturating_mul(4).max(64).min(limit)];
    let mut state = Box::<DecompressorOxide>::default();
    let (mut rest, mut filled) = (input, 0usize);
    loop {
        let (status, read, written) = decompress(&mut state, rest, &mut out, filled, flags);
        filled += written;
        rest = rest.get(read..).unwrap_or_default();
        match status {
            TINFLStatus::Done if rest.is_empty() => {
                out.truncate(filled);
                return Ok(out);
            }
            TINFLStatus::Done => {
                let detail = format!(
                    "{} bytes follow the end of its compressed data (was text stuck to the link?)",
                    rest.len()
                );
                return Err(LinkError::Corrupt { detail });
            }
            TINFLStatus::HasMoreOutput if out.len() < limit => {
                let grown = out.len().saturating_mul(2).min(limit);
                out.resize(grown, 0);
            }
            TINFLStatus::HasMoreOutput => {
                let detail = format!("its scenario unpacks to more than {limit} bytes of JSON, the most a link may hold");
                return Err(LinkError::TooLarge { detail });
            }
            TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                let detail =
                    "the compressed data ends early (was the link cut off when it was copied?)"
                        .to_string();
                return Err(LinkError::Corrupt { detail });
            }
            _ => {
                let detail =
                    "its compressed data is damaged (was a character changed?)".to_string();
                return Err(LinkError::Corrupt { detail });
            }
        }
    }
}
