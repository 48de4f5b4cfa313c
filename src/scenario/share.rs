//! Share: the page's run written down as a link that this very build opens, or a sentence
//! saying why it cannot be, with what can be shared instead.
//!
//! A page session can record more than a link may hold: a load generator left running for
//! an hour types more than [`MAX_COMMANDS`](super::limits::MAX_COMMANDS), and time runs on
//! past one virtual day. So [`share`] checks the link as [`share_link::decode`] will, before
//! anyone copies it: the scenario against every limit and budget ([`Scenario::validate`]),
//! the JSON it unpacks to, its length, and that it opens to the same run. When the whole
//! recording is over a limit, it offers the run up to the event shown: what the person did
//! after it left out, load generators stopped there, `end_ms` clamped to its time. That
//! link opens on the same event with the same log up to it.

use super::budget::{grouped, human_bytes};
use super::session::Session;
use super::share_link::{self, SharedRun, MAX_LINK_CHARS, MAX_SCENARIO_JSON_BYTES};
use super::{Action, Scenario};
use crate::bus::Bus;

/// A link this build opens, for the page to show and copy.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLink {
    /// `v1.…`, to put after the page's address and a `#`.
    pub link: String,
    /// What it holds: the scenario, and the step (event-log entries shown) it opens on.
    pub run: SharedRun,
    /// Its length in characters (the page shows it).
    pub chars: usize,
}

/// Why the run as recorded cannot be a link, and what can be.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareRefusal {
    /// One sentence for the person who pressed Share, naming the limit and by how much.
    pub sentence: String,
    /// The run up to the event shown, when that fits; `None` when even that is over a limit
    /// (the current time is past one virtual day, the script alone is too big for a link).
    pub fits: Option<Box<ShareLink>>,
}

impl ShareRefusal {
    /// What the page offers with [`ShareRefusal::fits`], as a button's words.
    pub fn offer(&self) -> Option<String> {
        let fits = self.fits.as_ref()?;
        let step = fits.run.step.unwrap_or(0);
        let at = fits.run.scenario.end_ms.unwrap_or(0);
        Some(format!(
            "Share the run up to event {} (t = {} ms) instead",
            grouped(step),
            grouped(at.max(0) as u64)
        ))
    }
}

/// The page's Share: the run as recorded (the scenario opened, everything done since, the
/// whole recorded timeline), standing on the event shown.
pub fn share(session: &Session, bus: &Bus) -> Result<ShareLink, ShareRefusal> {
    let step = bus.log().len() as u64;
    let why = match checked(session.to_scenario(bus), step) {
        Ok(link) => return Ok(link),
        Err(why) => why,
    };
    let fits = checked(up_to_now(session, bus), step).ok().map(Box::new);
    Err(ShareRefusal {
        sentence: format!("This run cannot be shared as a link: {why}."),
        fits,
    })
}

/// The run up to the event shown, as [`ShareRefusal::fits`] holds it.
pub fn up_to_now(session: &Session, bus: &Bus) -> Scenario {
    let mut scenario = session.to_scenario_up_to_now(bus);
    let now = bus.elapsed_ms() as i64;
    for action in &mut scenario.actions {
        shorten_load(action, now);
    }
    scenario
}

/// A load generator that runs past `now` (ms) keeps its writes up to `now` and drops the
/// rest (its writes are a prefix of the same stream, so those kept are the same writes).
fn shorten_load(action: &mut Action, now: i64) {
    let Action::Load {
        at,
        rate,
        duration_ms,
        ..
    } = action
    else {
        return;
    };
    if *at > now || *at + *duration_ms <= now + 1 || *rate <= 0 {
        return;
    }
    // Write n falls at `at + floor(n × 1000 / rate)`: those at or before `now` are the
    // first ceil(rate × (now - at + 1) / 1000), and a duration d gives floor(rate × d / 1000).
    let rate = *rate as u64;
    let kept = (rate * (now - *at + 1) as u64).div_ceil(1000);
    let d = (kept * 1000).div_ceil(rate).max(1) as i64;
    *duration_ms = d.min(*duration_ms);
}

/// The link of `scenario` standing on `step`, if this build opens it to the same run; else
/// why not (a clause, without the full stop).
fn checked(scenario: Scenario, step: u64) -> Result<ShareLink, String> {
    scenario.validate().map_err(|e| e.to_string())?;
    let run = SharedRun {
        scenario,
        step: Some(step),
    };
    let (text, json) = share_link::encode_measured(&run);
    if json > MAX_SCENARIO_JSON_BYTES {
        let (n, max) = (json as u64, MAX_SCENARIO_JSON_BYTES as u64);
        return Err(format!(
            "it is {} of JSON, over the limit of {} by {}",
            human_bytes(n),
            human_bytes(max),
            human_bytes(n - max)
        ));
    }
    let chars = text.chars().count();
    if chars > MAX_LINK_CHARS {
        return Err(format!(
            "the link would be {} characters long, over the limit of {} by {} (save it as a scenario file instead)",
            grouped(chars as u64),
            grouped(MAX_LINK_CHARS as u64),
            grouped((chars - MAX_LINK_CHARS) as u64)
        ));
    }
    // What a person will paste is what is checked: the decoder of this very build. (That
    // it opens to the same run is the encoder's own test, tests/links.rs; the page does
    // not carry a comparison of whole scenarios for it.)
    match share_link::decode(&text) {
        Ok(_) => Ok(ShareLink {
            link: text,
            run,
            chars,
        }),
        Err(e) => Err(format!(
            "{e} (a bug in replscope: the scenario passed every check)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_cut_at_now_keeps_exactly_the_writes_due_by_then() {
        for (rate, at, now) in [
            (10_000, 0, 0),
            (3, 100, 1_100),
            (7, 0, 999),
            (1_000, 50, 51),
            (333, 10, 2_000),
        ] {
            let mut action = Action::Load {
                at,
                server: 0,
                rate,
                duration_ms: 3_600_000,
                kind: super::super::WriteKind::String,
                keys: 1,
                value_bytes: 8,
                ttl_ms: None,
                multi: false,
            };
            shorten_load(&mut action, now);
            let Action::Load { duration_ms, .. } = action else {
                unreachable!()
            };
            let writes = rate as u64 * duration_ms as u64 / 1000;
            let due = (0..)
                .take_while(|n| at as u64 + n * 1000 / rate as u64 <= now as u64)
                .count() as u64;
            assert_eq!(writes, due, "rate {rate} from {at} cut at {now}");
        }
    }
}
