//! Carries out a host page's requests (see [`crate::ui::embed`]) on the run, through the
//! same actions as the page's own controls.

use yew::Callback;

use super::{Action, Sim};
use crate::scenario::{guided, share_link as link};
use crate::ui::embed::protocol::{Outbound, Request, READ_ONLY};
use crate::ui::model::server_panel::PanelAction;
use crate::ui::opening::Waiting;

/// A host's request on its way through the reducer, and where its reply goes.
pub struct Call {
    pub request: Request,
    /// Whether a scenario opened by the request plays at once (the `autoplay` option).
    pub autoplay: bool,
    pub reply: Callback<Outbound>,
}

/// Carries out a host's request on the run, through the same actions as the page's own
/// controls, and replies how it went: at once, or for a `load` or `guide` whose run opens
/// in slices, when it has opened.
pub fn apply(sim: &mut Sim, call: Call) {
    let Call {
        request,
        autoplay,
        reply,
    } = call;
    let to = request.kind().to_string();
    match carry_out(sim, request, autoplay) {
        Ok(Reply::Now) => reply.emit(Outbound::Reply { to, error: None }),
        Ok(Reply::WhenOpen) => match sim.opening_run() {
            Some(mut run) => run.waiting = Some(Waiting { reply, to }),
            None => reply.emit(Outbound::Reply { to, error: None }),
        },
        Err(why) => reply.emit(Outbound::Reply {
            to,
            error: Some(why),
        }),
    }
}

/// When a request that went through is answered.
enum Reply {
    Now,
    /// When the run it asked for has opened.
    WhenOpen,
}

/// Why requests on the run are refused while another run opens: they would act on the
/// run about to be replaced.
pub const STILL_OPENING: &str = "The run asked for is still opening: send this after its reply.";

fn carry_out(sim: &mut Sim, request: Request, autoplay: bool) -> Result<Reply, String> {
    let opening = sim.opening_run().is_some();
    match request {
        Request::Load(text) => {
            let run = link::decode(&text).map_err(|e| e.to_string())?;
            return open(
                sim,
                Action::Open {
                    scenario: Box::new(run.scenario),
                    step: run.step,
                },
                autoplay,
            );
        }
        Request::Guide(id) => {
            if !guided::exists(&id) {
                let ids = guided::ALL
                    .iter()
                    .map(|g| g.id)
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(format!(
                    "There is no guided scenario {id:?}; the ids are {ids}."
                ));
            }
            return open(sim, Action::OpenGuide(id), autoplay);
        }
        Request::Command { .. } | Request::Step(_) | Request::Jump(_) if opening => {
            return Err(STILL_OPENING.to_string())
        }
        Request::Command { server, line } => {
            if sim.read_only {
                return Err(READ_ONLY.to_string());
            }
            let (found, names) = {
                let bus = sim.bus();
                let shown = crate::ui::model::topology::shown(&bus);
                let found = shown
                    .iter()
                    .copied()
                    .find(|&i| bus.server(i).name == server);
                (
                    found,
                    shown
                        .iter()
                        .map(|&i| bus.server(i).name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            };
            let id = found.ok_or_else(|| {
                format!("There is no server named {server:?}; the servers are {names}.")
            })?;
            sim.act_command(id, &line)?;
        }
        Request::Step(n) => step(sim, n),
        Request::Jump(index) => {
            let total = sim.bus().timeline_len();
            if index >= total {
                return Err(format!(
                    "There is no event #{index}: the timeline has {total} events."
                ));
            }
            sim.apply(Action::JumpTo(index));
        }
        Request::Play => sim.apply(Action::SetPaused(false)),
        Request::Pause => sim.apply(Action::SetPaused(true)),
        Request::Speed(speed) => sim.apply(Action::SetSpeed(speed)),
    }
    Ok(Reply::Now)
}

/// Moves of the simulation one `step` forward past the recorded timeline may make at most:
/// each is a bus event, and many record nothing (a cron tick), so a count of events alone
/// would not bound the work.
pub const MAX_STEP_MOVES: usize = 100_000;

/// `n` events forward or back, paused. Along the recorded timeline it is one jump (one
/// restore of a checkpoint, two when the target falls inside a move that recorded several
/// events), never one per event: back, to the latest point at which at most `n` fewer
/// events are visible; forward, to the end of the move that shows at least `n` more.
/// Past the recorded timeline the simulation steps on live, within [`MAX_STEP_MOVES`].
fn step(sim: &mut Sim, n: i64) {
    sim.apply(Action::SetPaused(true));
    let visible = sim.bus().log().len();
    let count = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
    if n < 0 {
        let target = visible.saturating_sub(count);
        if target == 0 {
            sim.apply(Action::JumpTo(0));
            return;
        }
        sim.apply(Action::JumpTo(target - 1));
        // Entry `target - 1` was recorded by a move that recorded more after it: the latest
        // point with at most `target` events is the end of the move before that one.
        if sim.bus().log().len() > target {
            sim.apply(Action::StepBackEvent);
        }
        return;
    }
    let target = visible.saturating_add(count);
    let total = sim.bus().timeline_len();
    if target <= total {
        if count > 0 {
            sim.apply(Action::JumpTo(target - 1));
        }
        return;
    }
    if visible < total {
        sim.apply(Action::JumpToEnd);
    }
    let mut moves = 0;
    while sim.bus().log().len() < target && moves < MAX_STEP_MOVES {
        let before = sim.bus().position();
        sim.apply(Action::StepEvent);
        if sim.bus().position() == before {
            break;
        }
        moves += 1;
    }
}

/// Opens another run; if it cannot be opened the run stays, and why is the error (not
/// the page's notice: the host asked, the host is told). A run that takes longer than a
/// slice to open is answered once open.
fn open(sim: &mut Sim, action: Action, autoplay: bool) -> Result<Reply, String> {
    let (run, notice) = (sim.run, sim.notice.clone());
    let opening = |sim: &Sim| sim.opening.as_ref().map(std::rc::Rc::as_ptr);
    let before = opening(sim);
    sim.apply(action);
    if sim.run != run {
        sim.paused = !autoplay;
        return Ok(Reply::Now);
    }
    if opening(sim).is_some() && opening(sim) != before {
        if let Some(mut run) = sim.opening_run() {
            run.play = autoplay;
            return Ok(Reply::WhenOpen);
        }
    }
    let why = std::mem::replace(&mut sim.notice, notice);
    Err(why.unwrap_or_else(|| "The scenario could not be opened.".to_string()))
}

/// What a read-only embed refuses: everything that changes what happens in the run, and
/// the console editing and Share that lead there. Watching (time, selection, panels) stays.
/// Every action is named, so a new one has to be decided here.
pub fn refused_when_read_only(action: &Action) -> bool {
    match action {
        Action::SubmitCommand { .. }
        | Action::EditDraft(_)
        | Action::HistoryPrev
        | Action::HistoryNext
        | Action::Topology(_)
        | Action::Share => true,
        Action::Panel(p) => match p {
            PanelAction::Complete { .. }
            | PanelAction::CancelCompletion
            | PanelAction::ConfigEdit { .. }
            | PanelAction::ConfigApply { .. }
            | PanelAction::LoadForm(_)
            | PanelAction::LoadStart
            | PanelAction::LoadStop => true,
            PanelAction::SelectTab(_)
            | PanelAction::KeysDb(_)
            | PanelAction::KeysPattern(_)
            | PanelAction::KeysPage(_)
            | PanelAction::OpenKey(_)
            | PanelAction::ElementsPage(_)
            | PanelAction::ShowAll(_) => false,
        },
        Action::SelectConsole(_)
        | Action::Tick(_)
        | Action::Step(_)
        | Action::StepEvent
        | Action::StepBackEvent
        | Action::SetSpeed(_)
        | Action::SetPaused(_)
        | Action::JumpTo(_)
        | Action::JumpToEnd
        | Action::SelectEvent(_)
        | Action::SetLogFilter(_)
        | Action::ScrollLog(_)
        | Action::ScrollDiagram(_)
        | Action::SetTheme(_)
        | Action::ShowHelp(_)
        | Action::Inspect(_)
        | Action::CloseShare
        // Opening another run replaces it rather than changing it: only the host can (the
        // embed has no picker), and what it opens is read-only too.
        | Action::OpenGuide(_)
        | Action::Open { .. }
        | Action::NarrationGo(_)
        | Action::DismissNotice
        | Action::GuideFetched { .. }
        | Action::OpenSlice
        | Action::CancelOpening
        // Checked request by request (a refused command is answered).
        | Action::Api(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::Fault;
    use crate::ui::embed::options::EmbedOptions;
    use crate::ui::embed::protocol::MAX_STEP_EVENTS;
    use crate::ui::model::topology::TopologyAction;

    fn options(query: &str) -> EmbedOptions {
        EmbedOptions::from_query(query).unwrap()
    }

    /// Runs a request through the reducer as the embed does, returning the reply.
    fn call(sim: &mut Sim, request: Request) -> Outbound {
        let replies = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let reply = {
            let replies = replies.clone();
            Callback::from(move |m| replies.borrow_mut().push(m))
        };
        sim.apply(Action::Api(Box::new(Call {
            request,
            autoplay: false,
            reply,
        })));
        // A run that takes more than a slice to open is answered once open.
        sim.finish_opening();
        let mut replies = replies.take();
        assert_eq!(replies.len(), 1, "{replies:?}");
        replies.pop().unwrap()
    }

    fn error(reply: Outbound) -> Option<String> {
        match reply {
            Outbound::Reply { error, .. } => error,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn requests_drive_the_run_and_refusals_leave_it_as_it_was() {
        let mut sim = Sim::new();
        assert_eq!(
            error(call(&mut sim, Request::Guide("first-sync".into()))),
            None
        );
        assert_eq!(
            sim.session().base().title.as_deref(),
            Some("First sync: a replica attaches")
        );
        assert!(
            sim.paused,
            "autoplay off: the scenario waits at its first step"
        );
        let run = sim.run;

        // `step` counts events of the log, as the slider does, in one jump.
        let visible = |s: &Sim| s.bus().log().len();
        let at = visible(&sim);
        assert_eq!(error(call(&mut sim, Request::Step(5))), None);
        let stepped = visible(&sim);
        assert!(stepped >= at + 5);
        sim.apply(Action::JumpTo(at + 4));
        assert_eq!(
            visible(&sim),
            stepped,
            "forward: to the end of the move that shows event {}",
            at + 4
        );
        assert_eq!(error(call(&mut sim, Request::Step(-2))), None);
        assert!(
            visible(&sim) <= stepped - 2,
            "back: at most two fewer events: {} of {stepped}",
            visible(&sim)
        );
        sim.apply(Action::StepEvent);
        assert!(
            visible(&sim) > stepped - 2,
            "and the latest such point: one press forward passes it"
        );
        assert_eq!(error(call(&mut sim, Request::Step(0))), None);
        assert!(sim.paused);
        // Like the slider: to the end of the move that made event 4.
        assert_eq!(error(call(&mut sim, Request::Jump(4))), None);
        assert!(
            (5..10).contains(&sim.bus().log().len()),
            "{}",
            sim.bus().log().len()
        );
        let total = sim.bus().timeline_len();
        let why = error(call(&mut sim, Request::Jump(total))).unwrap();
        assert_eq!(
            why,
            format!("There is no event #{total}: the timeline has {total} events.")
        );

        assert_eq!(error(call(&mut sim, Request::Play)), None);
        assert!(!sim.paused);
        assert_eq!(error(call(&mut sim, Request::Speed(200))), None);
        assert_eq!(sim.speed_pct, 200);
        assert_eq!(error(call(&mut sim, Request::Pause)), None);
        assert!(sim.paused);

        assert_eq!(
            error(call(
                &mut sim,
                Request::Command {
                    server: "master".into(),
                    line: "SET k v".into()
                }
            )),
            None
        );
        sim.apply(Action::Step(100));
        assert!(sim
            .bus()
            .log()
            .iter()
            .any(|e| e.line().ends_with("console> SET k v")));
        // The console's own refusal, word for word.
        let why = error(call(
            &mut sim,
            Request::Command {
                server: "master".into(),
                line: "SET \"k".into(),
            },
        ));
        assert_eq!(why.as_deref(), Some("Invalid argument(s)"));
        let why = error(call(
            &mut sim,
            Request::Command {
                server: "nobody".into(),
                line: "PING".into(),
            },
        ))
        .unwrap();
        assert_eq!(
            why,
            "There is no server named \"nobody\"; the servers are master, replica."
        );

        let scenario = sim.to_scenario();
        let why = error(call(&mut sim, Request::Load("v1.AAAA".into()))).unwrap();
        assert!(
            why.starts_with("this link is truncated or corrupt"),
            "{why}"
        );
        let why = error(call(&mut sim, Request::Guide("nope".into()))).unwrap();
        assert!(
            why.starts_with("There is no guided scenario \"nope\"; the ids are first-sync, "),
            "{why}"
        );
        assert_eq!(
            (sim.run, sim.to_scenario()),
            (run, scenario),
            "a refused load leaves the run"
        );
        assert_eq!(sim.notice, None, "the host is told, not the reader");

        let shared = link::encode(&link::SharedRun {
            scenario: Sim::example(),
            step: Some(3),
        });
        assert_eq!(
            error(call(
                &mut sim,
                Request::Load(format!("https://example.org/replscope/#{shared}"))
            )),
            None
        );
        assert_eq!(sim.run, run + 1);
        assert!(
            (3..6).contains(&sim.bus().log().len()),
            "opens at its step: {}",
            sim.bus().log().len()
        );
        assert_eq!(sim.speed_pct, 200, "a new run keeps the embed's speed");
    }

    #[test]
    fn a_long_step_is_one_jump_and_a_load_waits_for_its_run() {
        // Two virtual minutes of writes: over ten thousand events, several checkpoints.
        let mut sim = Sim::new();
        sim.apply(Action::Step(8_000));
        for i in 0..3_000 {
            sim.apply(Action::SubmitCommand {
                server: 0,
                line: format!("SET k{i} {}", "v".repeat(200)),
            });
            sim.apply(Action::Step(40));
        }
        let total = sim.bus().timeline_len();
        assert!(
            total > 3 * crate::bus::DEFAULT_CHECKPOINT_EVERY as usize,
            "{total}"
        );
        let started = std::time::Instant::now();
        assert_eq!(
            error(call(&mut sim, Request::Step(-(MAX_STEP_EVENTS as i64)))),
            None
        );
        assert_eq!(
            error(call(&mut sim, Request::Step(MAX_STEP_EVENTS as i64))),
            None
        );
        assert_eq!(
            error(call(&mut sim, Request::Step(-(MAX_STEP_EVENTS as i64)))),
            None
        );
        // One restore each (a checkpoint clone and up to a few thousand moves replayed), where
        // one per event was 10,000 of them.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(sim.bus().log().len() <= total - MAX_STEP_EVENTS as usize);

        // A `load` is answered when its run has opened, and requests on the run wait for it.
        let replies = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let reply = {
            let replies = replies.clone();
            Callback::from(move |m| replies.borrow_mut().push(m))
        };
        let text = link::encode(&link::SharedRun {
            scenario: sim.to_scenario(),
            step: None,
        });
        sim.apply(Action::Api(Box::new(Call {
            request: Request::Load(text),
            autoplay: true,
            reply: reply.clone(),
        })));
        let run = sim.run;
        if sim.opening_view().is_some() {
            assert!(
                replies.borrow().is_empty(),
                "answered before it opened: {:?}",
                replies.borrow()
            );
            sim.apply(Action::Api(Box::new(Call {
                request: Request::Step(-1),
                autoplay: true,
                reply: reply.clone(),
            })));
            assert_eq!(
                replies.borrow_mut().pop(),
                Some(Outbound::Reply {
                    to: "step".into(),
                    error: Some(STILL_OPENING.into())
                })
            );
            while sim.opening_view().is_some() {
                sim.apply(Action::OpenSlice);
            }
            assert_eq!(sim.run, run + 1);
        }
        assert_eq!(
            replies.take(),
            vec![Outbound::Reply {
                to: "load".into(),
                error: None
            }]
        );
        assert!(!sim.paused, "autoplay: it plays once open");
    }

    #[test]
    fn read_only_refuses_every_change_and_keeps_time_moving() {
        let mut sim = Sim::new();
        sim.take_options(&options("embed=1&readonly=1"));
        sim.apply(Action::Step(8_000));
        let (scenario, log) = (sim.to_scenario(), sim.bus().log_hash());
        sim.apply(Action::EditDraft("SET k v".into()));
        sim.apply(Action::SubmitCommand {
            server: 0,
            line: "SET k v".into(),
        });
        sim.apply(Action::Topology(TopologyAction::Fault(Fault::Cut {
            a: 0,
            b: 1,
        })));
        sim.apply(Action::Topology(TopologyAction::AddServer));
        sim.apply(Action::Topology(TopologyAction::Fault(Fault::Crash {
            server: 1,
        })));
        sim.apply(Action::Panel(PanelAction::LoadStart));
        sim.apply(Action::Share);
        let why = error(call(
            &mut sim,
            Request::Command {
                server: "master".into(),
                line: "SET k v".into(),
            },
        ));
        assert_eq!(why.as_deref(), Some(READ_ONLY));
        assert_eq!(sim.console.draft, "");
        assert_eq!(sim.share, None);
        assert_eq!(sim.to_scenario(), scenario);
        assert_eq!(sim.bus().log_hash(), log, "nothing happened in the run");

        // Watching still works, and so does opening another run (which stays read-only).
        sim.apply(Action::StepBackEvent);
        assert!(sim.bus().log().len() < sim.bus().timeline_len());
        assert_eq!(
            error(call(&mut sim, Request::Guide("first-sync".into()))),
            None
        );
        assert!(sim.read_only);
        sim.apply(Action::Topology(TopologyAction::AddServer));
        assert_eq!(sim.bus().servers().len(), 2);
    }
}
