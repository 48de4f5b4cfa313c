//! What `?embed=1&…` may ask for: the whitelist of options and their ranges.

use std::ops::RangeInclusive;

use crate::ui::model::timeline::{format_speed, SPEEDS};

/// `height=`, in CSS pixels.
pub const HEIGHT_PX: RangeInclusive<u32> = 200..=2000;
/// Query keys the page itself reads: neither embed options nor unknown.
const PAGE_KEYS: [&str; 2] = ["embed", "guide"];
/// Characters of an ignored option's value quoted in the notice.
const QUOTED_CHARS: usize = 40;

/// A part of the page an embed can show (`panels=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Topology,
    Narration,
    Timeline,
    /// The server panel: console, INFO, keys (and config and load unless read-only).
    Console,
    Inspect,
}

impl Panel {
    pub const ALL: [Panel; 5] = [
        Panel::Topology,
        Panel::Narration,
        Panel::Timeline,
        Panel::Console,
        Panel::Inspect,
    ];
    /// Shown when `panels=` is absent or names none of [`Panel::ALL`].
    pub const DEFAULT: [Panel; 3] = [Panel::Topology, Panel::Narration, Panel::Timeline];

    pub fn name(self) -> &'static str {
        match self {
            Panel::Topology => "topology",
            Panel::Narration => "narration",
            Panel::Timeline => "timeline",
            Panel::Console => "console",
            Panel::Inspect => "inspect",
        }
    }
}

/// What `?embed=1&…` asked for. Anything not on the whitelist, or out of its range, is
/// left at its default and listed in [`EmbedOptions::ignored`], which the embed shows.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbedOptions {
    pub panels: Vec<Panel>,
    /// Whether the scenario plays as soon as it is open (guided scenarios open paused at
    /// their first step otherwise; the example is paused at 0).
    pub autoplay: bool,
    /// Hundredths of real time, one of [`SPEEDS`].
    pub speed: Option<u32>,
    /// The embed's own height in CSS pixels (it scrolls inside); `None`: as tall as its panels.
    pub height: Option<u32>,
    /// No console input, no topology menus or dragging, no config or load: the reducer
    /// refuses every change to the run ([`refused_when_read_only`]); time still moves.
    pub read_only: bool,
    /// The host page's origin, as `scheme://host[:port]`; `None`: the embed's own origin.
    pub origin: Option<String>,
    /// `name=value (why)` for every option ignored.
    pub ignored: Vec<String>,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            panels: Panel::DEFAULT.to_vec(),
            autoplay: true,
            speed: None,
            height: None,
            read_only: false,
            origin: None,
            ignored: Vec::new(),
        }
    }
}

impl EmbedOptions {
    /// The options in a query string (`?embed=1&panels=topology,console`); `None` unless
    /// it has `embed=1`. Names and values are percent-decoded; a repeated option counts
    /// as its last value.
    pub fn from_query(query: &str) -> Option<EmbedOptions> {
        let pairs = query_pairs(query);
        if !pairs.iter().any(|(k, v)| k == "embed" && v == "1") {
            return None;
        }
        let mut o = EmbedOptions::default();
        for (key, value) in &pairs {
            let why = match key.as_str() {
                k if PAGE_KEYS.contains(&k) => None,
                "panels" => o.set_panels(value),
                "autoplay" => flag(value).map(|on| o.autoplay = on).err(),
                "readonly" => flag(value).map(|on| o.read_only = on).err(),
                "speed" => match speed_from_text(value) {
                    Some(speed) => {
                        o.speed = Some(speed);
                        None
                    }
                    None => Some(format!("the speeds are {}", speeds_list())),
                },
                "height" => match value.parse().ok().filter(|h| HEIGHT_PX.contains(h)) {
                    Some(h) => {
                        o.height = Some(h);
                        None
                    }
                    None => Some(format!(
                        "a whole number of pixels from {} to {}",
                        HEIGHT_PX.start(),
                        HEIGHT_PX.end()
                    )),
                },
                "origin" => match normalize_origin(value) {
                    Some(origin) => {
                        o.origin = Some(origin);
                        None
                    }
                    None => Some(
                        "an origin as the browser writes it: http(s)://host[:port], no path"
                            .to_string(),
                    ),
                },
                _ => Some("not an embed option".to_string()),
            };
            if let Some(why) = why {
                let shown: String = value.chars().take(QUOTED_CHARS).collect();
                let cut = if shown.len() < value.len() { "…" } else { "" };
                o.ignored.push(format!("{key}={shown}{cut} ({why})"));
            }
        }
        Some(o)
    }

    pub fn shows(&self, panel: Panel) -> bool {
        self.panels.contains(&panel)
    }

    fn set_panels(&mut self, value: &str) -> Option<String> {
        let mut panels = Vec::new();
        let mut unknown = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Panel::ALL.into_iter().find(|p| p.name() == name) {
                Some(p) if !panels.contains(&p) => panels.push(p),
                Some(_) => {}
                None => unknown.push(name),
            }
        }
        let known = Panel::ALL.map(Panel::name).join(", ");
        if panels.is_empty() {
            return Some(format!(
                "no panel this build knows: the panels are {known}; the default ones are shown"
            ));
        }
        self.panels = panels;
        (!unknown.is_empty()).then(|| {
            format!(
                "no panel named {}: the panels are {known}",
                unknown.join(", ")
            )
        })
    }
}

fn flag(value: &str) -> Result<bool, String> {
    match value {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err("0 or 1".to_string()),
    }
}

/// A speed written as a multiplier of real time (`0.5`, `2`) in the hundredths the page
/// counts in, if it is one of the offered [`SPEEDS`].
pub fn speed_from_multiplier(multiplier: f64) -> Option<u32> {
    let hundredths = multiplier * 100.0;
    let whole = hundredths.round();
    // Only exact ones: 0.333 is no speed the page offers, not 0.33.
    let exact = hundredths.is_finite() && (hundredths - whole).abs() < 1e-6;
    exact.then_some(whole as u32).filter(|s| SPEEDS.contains(s))
}

/// A speed written as a decimal multiplier (`0.25`, `2`), read digit by digit: the
/// standard library's float parser would bring its tables into the page for this alone.
fn speed_from_text(text: &str) -> Option<u32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 2
        || whole.len() > 6
    {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let hundredths = match fraction.len() {
        0 => 0,
        1 => fraction.parse::<u32>().ok()? * 10,
        _ => fraction.parse().ok()?,
    };
    Some(whole * 100 + hundredths).filter(|s| SPEEDS.contains(s))
}

pub(crate) fn speeds_list() -> String {
    SPEEDS.map(format_speed).join(", ")
}

/// `scheme://host[:port]` as a browser writes an origin (lowercase, no default port), or
/// `None` for anything else: a path, a trailing slash, another scheme, `null`.
fn normalize_origin(text: &str) -> Option<String> {
    let text = text.to_ascii_lowercase();
    let (scheme, rest) = text.split_once("://")?;
    let default_port = match scheme {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let (host, after) = match rest.strip_prefix('[') {
        // An IPv6 address.
        Some(v6) => {
            let (inner, after) = v6.split_once(']')?;
            let ok = !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
            (ok.then(|| format!("[{inner}]"))?, after)
        }
        None => {
            let end = rest.find(':').unwrap_or(rest.len());
            let host = &rest[..end];
            let ok = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            (ok.then(|| host.to_string())?, &rest[end..])
        }
    };
    let port = match after {
        "" => None,
        _ => {
            let digits = after.strip_prefix(':')?;
            let all_digits = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
            Some(
                digits
                    .parse::<u16>()
                    .ok()
                    .filter(|&p| all_digits && p > 0)?,
            )
        }
    };
    Some(match port {
        Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// The (name, value) pairs of a query string (`?a=1&b=2`), in order, percent-decoded:
/// the page's own options (`guide`) and the embed's read the address the same way.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `%XX` escapes and `+` (a space), as forms and `URLSearchParams` write a query; a `%`
/// not followed by two hex digits stays as it is.
fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| (c as char).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (c, _, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(query: &str) -> EmbedOptions {
        EmbedOptions::from_query(query).unwrap_or_else(|| panic!("{query} is not an embed"))
    }

    #[test]
    fn embed_1_turns_it_on_and_the_defaults_hold() {
        assert_eq!(EmbedOptions::from_query(""), None);
        assert_eq!(EmbedOptions::from_query("?guide=first-sync"), None);
        assert_eq!(EmbedOptions::from_query("?embed=0&panels=console"), None);
        assert_eq!(EmbedOptions::from_query("?embed=yes"), None);
        let o = options("?embed=1&guide=first-sync");
        assert_eq!(o, EmbedOptions::default());
        assert_eq!(
            o.panels,
            [Panel::Topology, Panel::Narration, Panel::Timeline]
        );
        assert!(o.autoplay && !o.read_only && o.ignored.is_empty());
        assert_eq!((o.speed, o.height, o.origin), (None, None, None));
    }

    #[test]
    fn whitelisted_options_are_read() {
        let o = options("embed=1&panels=console,topology,console&autoplay=0&speed=0.25&height=480&readonly=1&origin=https://docs.example.org:8443");
        assert_eq!(o.panels, [Panel::Console, Panel::Topology]);
        assert!(o.shows(Panel::Console) && !o.shows(Panel::Timeline));
        assert!(!o.autoplay && o.read_only);
        assert_eq!(o.speed, Some(25));
        assert_eq!(o.height, Some(480));
        assert_eq!(o.origin.as_deref(), Some("https://docs.example.org:8443"));
        assert!(o.ignored.is_empty(), "{:?}", o.ignored);
        // As URLSearchParams writes them.
        let o = options(
            "embed=1&panels=narration%2Cinspect&origin=http%3A%2F%2Flocalhost%3A3000&speed=10",
        );
        assert_eq!(o.panels, [Panel::Narration, Panel::Inspect]);
        assert_eq!(o.origin.as_deref(), Some("http://localhost:3000"));
        assert_eq!(o.speed, Some(1_000));
        for (text, hundredths) in [
            ("0.1", 10),
            (".5", 50),
            ("0.50", 50),
            ("1", 100),
            ("2.0", 200),
            ("100", 10_000),
        ] {
            assert_eq!(
                options(&format!("embed=1&speed={text}")).speed,
                Some(hundredths),
                "{text}"
            );
        }
        assert_eq!(options("embed=1&height=200").height, Some(200));
        assert_eq!(options("embed=1&height=2000").height, Some(2000));
    }

    #[test]
    fn unknown_and_out_of_range_options_are_ignored_and_listed() {
        let o = options("embed=1&speed=3&height=199&height=abc&autoplay=yes&readonly=true&colour=red&panels=topology,chat");
        assert_eq!(
            (o.speed, o.height, o.autoplay, o.read_only),
            (None, None, true, false)
        );
        assert_eq!(o.panels, [Panel::Topology]);
        let all = o.ignored.join("\n");
        assert_eq!(o.ignored.len(), 7, "{all}");
        assert!(
            all.contains(
                "speed=3 (the speeds are 0.1×, 0.25×, 0.5×, 1×, 2×, 5×, 10×, 25×, 50×, 100×)"
            ),
            "{all}"
        );
        assert!(
            all.contains("height=199 (a whole number of pixels from 200 to 2000)"),
            "{all}"
        );
        assert!(
            all.contains("autoplay=yes (0 or 1)") && all.contains("readonly=true (0 or 1)"),
            "{all}"
        );
        assert!(all.contains("colour=red (not an embed option)"), "{all}");
        assert!(all.contains("panels=topology,chat (no panel named chat: the panels are topology, narration, timeline, console, inspect)"), "{all}");
        let o = options("embed=1&panels=,,chat");
        assert_eq!(o.panels, Panel::DEFAULT);
        assert!(
            o.ignored[0].contains("the default ones are shown"),
            "{:?}",
            o.ignored
        );
        for bad in [
            "0.333",
            "0.125",
            "0",
            "-1",
            "+1",
            "NaN",
            "inf",
            "1e1",
            "2x",
            "",
            ".",
            "1.2.3",
            "99999999999",
        ] {
            assert_eq!(
                options(&format!("embed=1&speed={bad}")).speed,
                None,
                "{bad}"
            );
        }
        // A long value is quoted cut, and percent signs that escape nothing are kept.
        let o = options(&format!("embed=1&x={}", "%zz".repeat(30)));
        assert_eq!(
            o.ignored[0],
            format!("x={}… (not an embed option)", "%zz".repeat(13) + "%")
        );
    }

    #[test]
    fn origins_are_taken_only_in_the_form_browsers_write() {
        let origin = |text: &str| options(&format!("embed=1&origin={text}")).origin;
        assert_eq!(
            origin("https://Docs.Example.org"),
            Some("https://docs.example.org".into())
        );
        assert_eq!(
            origin("https://example.org:443"),
            Some("https://example.org".into())
        );
        assert_eq!(
            origin("http://example.org:80"),
            Some("http://example.org".into())
        );
        assert_eq!(
            origin("http://127.0.0.1:8080"),
            Some("http://127.0.0.1:8080".into())
        );
        assert_eq!(
            origin("http://[::1]:3000"),
            Some("http://[::1]:3000".into())
        );
        for bad in [
            "https://example.org/",
            "https://example.org/docs",
            "example.org",
            "ftp://example.org",
            "null",
            "*",
            "https://",
            "https://exa mple.org",
            "https://example.org:",
            "https://example.org:0",
            "https://example.org:65536",
            "https://example.org:+80",
            "https://user@example.org",
            "http://[::1",
        ] {
            let o = options(&format!("embed=1&origin={bad}"));
            assert_eq!(o.origin, None, "{bad}");
            assert!(
                o.ignored[0].starts_with("origin="),
                "{bad}: {:?}",
                o.ignored
            );
        }
    }
}
