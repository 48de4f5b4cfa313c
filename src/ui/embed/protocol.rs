//! The `postMessage` API (v1): what a host page may ask, and what the embed tells it.

use js_sys::Object;
use serde_json::Value;
use wasm_bindgen::JsValue;

use super::options::{speed_from_multiplier, speeds_list};
use crate::bus::LogView;
use crate::scenario::share_link as link;

/// The `postMessage` API version this build speaks; every message carries it as `replscope`.
pub const API_VERSION: u64 = 1;
/// Events per `events` message. When more became visible since the last redraw (a jump, a
/// fast speed), the newest are sent and the rest counted in `dropped`.
pub const MAX_EVENTS_PER_MESSAGE: usize = 200;
/// Events one `step` message moves at most, either way (each is a move of the simulation).
pub const MAX_STEP_EVENTS: u64 = 10_000;
/// Longest message read, as JSON: a `load` link may have [`link::MAX_LINK_CHARS`], and
/// nothing else needs much.
pub const MAX_MESSAGE_CHARS: usize = link::MAX_LINK_CHARS + 4_096;
/// Why a read-only embed refuses a command: the reply to a host's `command`, and what
/// its console shows where the input line would be.
pub const READ_ONLY: &str = "This embed is read-only: it takes no commands.";
/// The message types a host may send.
pub const REQUEST_TYPES: [&str; 8] = [
    "load", "guide", "command", "step", "jump", "play", "pause", "speed",
];

/// What a host page asks of the embed (API v1).
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// A share link (`v1.…`) or a whole address with one after `#`.
    Load(String),
    /// A guided scenario by id.
    Guide(String),
    /// A line typed into the console of the server with this name.
    Command {
        server: String,
        line: String,
    },
    /// Events forward (positive) or back (negative).
    Step(i64),
    /// Time travel to just after the event with this index.
    Jump(usize),
    Play,
    Pause,
    /// Hundredths of real time, one of [`crate::ui::model::timeline::SPEEDS`].
    Speed(u32),
}

impl Request {
    pub fn kind(&self) -> &'static str {
        match self {
            Request::Load(_) => "load",
            Request::Guide(_) => "guide",
            Request::Command { .. } => "command",
            Request::Step(_) => "step",
            Request::Jump(_) => "jump",
            Request::Play => "play",
            Request::Pause => "pause",
            Request::Speed(_) => "speed",
        }
    }
}

/// One event as the host hears it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    /// Its place in the timeline (what `jump` takes).
    pub index: u64,
    /// Virtual milliseconds since the run started.
    pub time: u64,
    /// The event log's line for it.
    pub line: String,
}

/// What the embed tells the host page (API v1).
#[derive(Clone, Debug, PartialEq)]
pub enum Outbound {
    /// Listening: sent once, when the embed has started.
    Ready { title: Option<String> },
    /// The visible timeline changed: every event from index `from` on is now `lines`
    /// (after `dropped` not sent); `from` below what the host has means time went back or
    /// a new run started.
    Events {
        from: usize,
        lines: Vec<EventLine>,
        dropped: usize,
    },
    /// How a request went: `None` done, `Some(why)` refused.
    Reply { to: String, error: Option<String> },
    /// A message that could not be read as a request.
    Error(String),
}

impl Outbound {
    /// The message as the host receives it: a plain object (built field by field, which
    /// costs the page less than going through JSON).
    pub fn to_js(&self) -> JsValue {
        let message = Object::new();
        set(&message, "replscope", API_VERSION as f64);
        match self {
            Outbound::Ready { title } => {
                set(&message, "type", "ready");
                set(&message, "version", API_VERSION as f64);
                set(
                    &message,
                    "title",
                    title.as_deref().map_or(JsValue::NULL, JsValue::from_str),
                );
            }
            Outbound::Events {
                from,
                lines,
                dropped,
            } => {
                set(&message, "type", "events");
                set(&message, "from", *from as f64);
                set(&message, "dropped", *dropped as f64);
                let list = js_sys::Array::new();
                for l in lines {
                    let line = Object::new();
                    set(&line, "index", l.index as f64);
                    set(&line, "time", l.time as f64);
                    set(&line, "line", l.line.as_str());
                    list.push(&line);
                }
                set(&message, "lines", list);
            }
            Outbound::Reply { to, error } => {
                set(&message, "type", "reply");
                set(&message, "to", to.as_str());
                set(&message, "ok", error.is_none());
                if let Some(error) = error {
                    set(&message, "error", error.as_str());
                }
            }
            Outbound::Error(text) => {
                set(&message, "type", "error");
                set(&message, "message", text.as_str());
            }
        }
        message.into()
    }
}

fn set(object: &Object, field: &str, value: impl Into<JsValue>) {
    let _ = js_sys::Reflect::set(object, &JsValue::from_str(field), &value.into());
}

/// Reads a message from the host page (its data as JSON text). `Ok(None)`: not meant for
/// replscope (not an object with a `replscope` field), to be ignored; `Err`: the answer.
pub fn parse_message(text: &str) -> Result<Option<Request>, Outbound> {
    if text.len() > MAX_MESSAGE_CHARS {
        return Err(Outbound::Error(format!(
            "The message is longer than {MAX_MESSAGE_CHARS} characters as JSON."
        )));
    }
    let Ok(Value::Object(m)) = serde_json::from_str::<Value>(text) else {
        return Ok(None);
    };
    let Some(version) = m.get("replscope") else {
        return Ok(None);
    };
    if version.as_u64() != Some(API_VERSION) {
        // Described rather than printed as JSON: number formatting would cost the page more
        // than this sentence is worth.
        let said = match version {
            Value::Number(n) => n
                .as_u64()
                .map_or("another number".to_string(), |n| n.to_string()),
            Value::String(_) => "a string".to_string(),
            _ => "not a number".to_string(),
        };
        return Err(Outbound::Error(format!(
            "This build speaks replscope API version {API_VERSION} only (\"replscope\": {API_VERSION}); the message's \"replscope\" is {said}."
        )));
    }
    let types = REQUEST_TYPES.join(", ");
    let Some(kind) = m.get("type").and_then(Value::as_str) else {
        return Err(Outbound::Error(format!(
            "A replscope message needs a \"type\", one of {types}."
        )));
    };
    let refuse = |why: String| Outbound::Reply {
        to: kind.to_string(),
        error: Some(why),
    };
    let text = |field: &str| match m.get(field).and_then(Value::as_str) {
        Some(s) => Ok(s.to_string()),
        None => Err(refuse(format!("\"{kind}\" needs \"{field}\", a string."))),
    };
    Ok(Some(match kind {
        "load" => Request::Load(text("link")?),
        "guide" => Request::Guide(text("id")?),
        "command" => Request::Command { server: text("server")?, line: text("line")? },
        "step" => match m.get("events").and_then(Value::as_i64).filter(|n| n.unsigned_abs() <= MAX_STEP_EVENTS) {
            Some(n) => Request::Step(n),
            None => return Err(refuse(format!("\"step\" needs \"events\", a whole number from -{MAX_STEP_EVENTS} to {MAX_STEP_EVENTS}."))),
        },
        "jump" => match m.get("event").and_then(Value::as_u64).and_then(|n| usize::try_from(n).ok()) {
            Some(i) => Request::Jump(i),
            None => return Err(refuse("\"jump\" needs \"event\", an event's index (0 or more).".to_string())),
        },
        "play" => Request::Play,
        "pause" => Request::Pause,
        "speed" => match m.get("value").and_then(Value::as_f64).and_then(speed_from_multiplier) {
            Some(s) => Request::Speed(s),
            None => return Err(refuse(format!("\"speed\" needs \"value\", a number: one of {}.", speeds_list()))),
        },
        other => return Err(refuse(format!("There is no message type {other:?}; version {API_VERSION} has {types}."))),
    }))
}

/// What the host has been told: which run, and how many of its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Told {
    run: u64,
    events: usize,
}

/// The `events` message a redraw owes the host (none if the visible log is what it was
/// told), and what the host has been told once it is sent. `told` is `None` at first.
pub fn events_since(told: Option<Told>, run: u64, log: LogView<'_>) -> (Option<Outbound>, Told) {
    let now = Told {
        run,
        events: log.len(),
    };
    let from = match told {
        Some(t) if t.run == run && t.events == log.len() => return (None, now),
        // The log only grows or is cut at its end while the run is the same, so what the
        // host has below both lengths is still true.
        Some(t) if t.run == run => t.events.min(log.len()),
        _ => 0,
    };
    let first = from.max(log.len().saturating_sub(MAX_EVENTS_PER_MESSAGE));
    let lines = log
        .range(first..)
        .iter()
        .map(|e| EventLine {
            index: e.index,
            time: e.time,
            line: e.line(),
        })
        .collect();
    (
        Some(Outbound::Events {
            from,
            lines,
            dropped: first - from,
        }),
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::state::{Action, Sim};

    #[test]
    fn requests_are_read_and_bad_ones_answered() {
        let ok = |text: &str| {
            parse_message(text)
                .unwrap_or_else(|e| panic!("{text}: {e:?}"))
                .unwrap()
        };
        assert_eq!(
            ok(r#"{"replscope":1,"type":"load","link":"v1.abc"}"#),
            Request::Load("v1.abc".into())
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"guide","id":"first-sync"}"#),
            Request::Guide("first-sync".into())
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"command","server":"master","line":"SET k v"}"#),
            Request::Command {
                server: "master".into(),
                line: "SET k v".into()
            }
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"step","events":-5}"#),
            Request::Step(-5)
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"jump","event":12}"#),
            Request::Jump(12)
        );
        assert_eq!(ok(r#"{"replscope":1,"type":"play"}"#), Request::Play);
        assert_eq!(
            ok(r#"{"replscope":1,"type":"pause","extra":true}"#),
            Request::Pause
        );
        assert_eq!(
            ok(r#"{"replscope":1,"type":"speed","value":0.5}"#),
            Request::Speed(50)
        );

        // Not for us: ignored without a word.
        for text in [
            "\"hello\"",
            "[1]",
            "{}",
            r#"{"type":"load"}"#,
            "not json",
            "null",
        ] {
            assert_eq!(parse_message(text), Ok(None), "{text}");
        }
        let error = |text: &str| match parse_message(text) {
            Err(Outbound::Error(m)) => m,
            other => panic!("{text}: {other:?}"),
        };
        assert!(error(r#"{"replscope":2,"type":"play"}"#).contains("version 1 only"));
        assert!(error(r#"{"replscope":2,"type":"play"}"#)
            .ends_with("the message's \"replscope\" is 2."));
        assert!(error(r#"{"replscope":"1","type":"play"}"#)
            .ends_with("the message's \"replscope\" is a string."));
        assert!(error(r#"{"replscope":1.5,"type":"play"}"#).ends_with("is another number."));
        assert!(
            error(r#"{"replscope":1}"#).contains("needs a \"type\", one of load, guide, command")
        );
        let long = format!(
            r#"{{"replscope":1,"type":"load","link":"{}"}}"#,
            "a".repeat(MAX_MESSAGE_CHARS)
        );
        assert!(error(&long).contains("longer than"));

        let refused = |text: &str| match parse_message(text) {
            Err(Outbound::Reply {
                to,
                error: Some(why),
            }) => format!("{to}: {why}"),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            refused(r#"{"replscope":1,"type":"load"}"#),
            "load: \"load\" needs \"link\", a string."
        );
        assert_eq!(
            refused(r#"{"replscope":1,"type":"command","server":"m","line":7}"#),
            "command: \"command\" needs \"line\", a string."
        );
        assert!(refused(r#"{"replscope":1,"type":"step","events":1.5}"#)
            .contains("a whole number from -10000 to 10000"));
        assert!(refused(r#"{"replscope":1,"type":"step","events":10001}"#).contains("from -10000"));
        assert!(refused(r#"{"replscope":1,"type":"jump","event":-1}"#).contains("an event's index"));
        assert!(refused(r#"{"replscope":1,"type":"speed","value":3}"#).contains("one of 0.1×"));
        assert!(refused(r#"{"replscope":1,"type":"speed","value":"2"}"#).contains("a number"));
        assert!(refused(r#"{"replscope":1,"type":"reset"}"#)
            .starts_with("reset: There is no message type \"reset\""));
    }

    #[test]
    fn the_host_hears_each_event_once_and_when_time_goes_back() {
        let mut sim = Sim::new();
        let lines = |m: &Option<Outbound>| match m {
            Some(Outbound::Events {
                from,
                lines,
                dropped,
            }) => (
                *from,
                lines.iter().map(|l| l.index).collect::<Vec<_>>(),
                *dropped,
            ),
            other => panic!("{other:?}"),
        };
        let (first, told) = events_since(None, sim.run, sim.bus().log());
        let (from, indexes, dropped) = lines(&first);
        assert_eq!((from, dropped), (0, 0));
        assert_eq!(
            indexes,
            (0..sim.bus().log().len() as u64).collect::<Vec<_>>()
        );
        assert_eq!(
            events_since(Some(told), sim.run, sim.bus().log()).0,
            None,
            "nothing new, nothing sent"
        );

        sim.apply(Action::Step(120_000));
        let (batch, told) = events_since(Some(told), sim.run, sim.bus().log());
        let (from, indexes, dropped) = lines(&batch);
        let len = sim.bus().log().len();
        assert!(
            len - from > MAX_EVENTS_PER_MESSAGE,
            "two minutes make more events than one message: {from}..{len}"
        );
        assert_eq!(indexes.len(), MAX_EVENTS_PER_MESSAGE);
        assert_eq!(from + dropped, indexes[0] as usize);
        assert_eq!(*indexes.last().unwrap() as usize, len - 1);
        let Some(Outbound::Events { lines: sent, .. }) = &batch else {
            unreachable!()
        };
        assert_eq!(sent[0].line, sim.bus().log()[indexes[0] as usize].line());

        for _ in 0..3 {
            sim.apply(Action::StepBackEvent);
        }
        let (back, told) = events_since(Some(told), sim.run, sim.bus().log());
        assert_eq!(
            lines(&back),
            (len - 3, vec![], 0),
            "time went back: the host drops what is past `from`"
        );
        sim.apply(Action::StepEvent);
        let (again, told) = events_since(Some(told), sim.run, sim.bus().log());
        assert_eq!(lines(&again), (len - 3, vec![len as u64 - 3], 0));

        sim.apply(Action::OpenGuide("first-sync".into()));
        sim.finish_opening();
        let (fresh, _) = events_since(Some(told), sim.run, sim.bus().log());
        assert_eq!(lines(&fresh).0, 0, "a new run starts the host's list over");
    }
}
