//! What the page's address asks it to open: the example, a share link in the fragment
//! (`#v1.…`), or a guided scenario by id (`?guide=first-sync`). An address that cannot be
//! opened still opens the playground (the example), with a message saying why.

use crate::scenario::guided;
use crate::scenario::share_link::{self as link, SharedRun};
use crate::ui::embed::options::query_pairs;
use crate::ui::opening::OpeningRun;
use crate::ui::state::Sim;

#[derive(Clone, Debug, PartialEq)]
pub enum Opening {
    Example,
    Run(Box<SharedRun>),
    Guide(String),
    /// What the address asked for, and why it could not be opened.
    Refused(String),
}

impl Opening {
    /// From the address's query (`?…`, may be empty) and fragment (`#…`, may be empty).
    pub fn from_address(query: &str, fragment: &str) -> Opening {
        let fragment = fragment.trim_start_matches('#').trim();
        if !fragment.is_empty() {
            return match link::decode(fragment) {
                Ok(run) => Opening::Run(Box::new(run)),
                Err(e) => {
                    // The reason is a sentence without its full stop, or a question.
                    let e = e.to_string();
                    let stop = if e.ends_with(['.', '?', '!']) {
                        ""
                    } else {
                        "."
                    };
                    Opening::Refused(format!("The link in this address could not be opened: {e}{stop} The example is shown instead."))
                }
            };
        }
        match query_value(query, "guide") {
            // Only the id is checked here: the scenario is parsed once, when it is opened.
            Some(id) if guided::exists(&id) => Opening::Guide(id),
            Some(id) => Opening::Refused(format!(
                "There is no guided scenario {id:?} (the address asks for it with ?guide=). The example is shown instead."
            )),
            None => Opening::Example,
        }
    }

    /// What the page starts with: the example, or the example while the link or the
    /// guided scenario opens in slices (it takes the example's place once open).
    pub fn start(self) -> Sim {
        let opening = match self {
            Opening::Example => return Sim::new(),
            Opening::Refused(message) => return Sim::refused(message),
            Opening::Run(run) => {
                let SharedRun { scenario, step } = *run;
                OpeningRun::new(scenario, step, "the shared run".to_string())
                    .map_err(|e| format!("The scenario in this link could not be opened: {e}"))
            }
            Opening::Guide(id) => Sim::guide_opening(&id),
        };
        match opening {
            Ok(run) => {
                let mut sim = Sim::new();
                sim.begin_opening(run);
                sim
            }
            Err(message) => Sim::refused(message),
        }
    }

    /// [`Opening::start`], opened in one go.
    pub fn into_sim(self) -> Sim {
        let mut sim = self.start();
        sim.finish_opening();
        sim
    }
}

/// The first value of `name` in a query string.
pub fn query_value(query: &str, name: &str) -> Option<String> {
    query_pairs(query)
        .into_iter()
        .find_map(|(k, v)| (k == name).then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_open_what_they_name_or_say_why_not() {
        assert_eq!(Opening::from_address("", ""), Opening::Example);
        assert_eq!(
            Opening::from_address("?guide=first-sync", ""),
            Opening::Guide("first-sync".into())
        );
        let Opening::Refused(m) = Opening::from_address("?guide=nope", "") else {
            panic!()
        };
        assert!(m.contains("no guided scenario \"nope\""), "{m}");
        let Opening::Refused(m) = Opening::from_address("", "#v1.AAAA") else {
            panic!()
        };
        assert!(
            m.starts_with("The link in this address could not be opened:"),
            "{m}"
        );
        let Opening::Refused(m) = Opening::from_address("", "#v9.AAAA") else {
            panic!()
        };
        assert!(m.contains("newer replscope"), "{m}");
        let scenario = guided::scenario("first-sync").unwrap();
        let text = link::encode(&SharedRun {
            scenario: scenario.clone(),
            step: Some(12),
        });
        let Opening::Run(run) = Opening::from_address("?guide=ignored", &format!("#{text}")) else {
            panic!()
        };
        assert_eq!(run.scenario, scenario);
        let sim = Opening::Run(run).into_sim();
        // A jump lands where a move ends: the first one that shows at least 12 events.
        assert!(
            (12..20).contains(&sim.bus().log().len()),
            "{}",
            sim.bus().log().len()
        );
        assert!(sim.paused && sim.notice.is_none());
    }

    #[test]
    fn a_shared_run_reopens_where_it_was_shared() {
        let mut sim = Sim::new();
        sim.apply(crate::ui::state::Action::Step(7_000));
        sim.apply(crate::ui::state::Action::SubmitCommand {
            server: 0,
            line: "SET shared yes".into(),
        });
        sim.apply(crate::ui::state::Action::Step(500));
        let share = sim.share_link();
        let share = share.link().expect("a link");
        let Opening::Run(run) = Opening::from_address("", &share.link) else {
            panic!("{}", share.link)
        };
        let again = Opening::Run(run).into_sim();
        let lines = |s: &Sim| s.bus().log().iter().map(|e| e.line()).collect::<Vec<_>>();
        assert_eq!(lines(&again), lines(&sim));
        // The step is counted in events, so the clock stands at the last event's time
        // rather than wherever idle time had taken it; what the servers hold is the same.
        let info = |s: &Sim| {
            s.bus()
                .servers()
                .iter()
                .map(|x| x.node.info_replication())
                .collect::<Vec<_>>()
        };
        assert_eq!(info(&again), info(&sim));
        assert_eq!(again.transcript(), sim.transcript());
    }
}
