use std::cell::Cell;

use gloo_timers::callback::{Interval, Timeout};
use yew::prelude::*;

use super::components::controls::Controls;
use super::components::help::Shortcuts;
use super::components::inspect::Inspect;
use super::components::narration::Narration;
use super::components::opening::OpeningProgress;
use super::components::reveal::{Reveal, LATER, PANEL_GAP_MS};
use super::components::server_panel::ServerPanel;
use super::components::share::{page_address, GuidePicker, Share};
use super::components::timeline::Timeline;
use super::components::topology::Topology;
use super::embed::{use_host, EmbedOptions, Panel};
use super::guide_file::use_guide_file;
use super::model::inspect::inspect_view;
use super::page::Opening;
use super::state::{Action, Sim};

/// Wall-clock period of the simulation tick.
const TICK_MS: u32 = 50;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// Run virtual time from a wall-clock interval. Tests turn it off and step time
    /// themselves, so what they see does not depend on how fast the browser is.
    #[prop_or(true)]
    pub autoplay: bool,
    /// What the page's address asked for (tests: the example).
    #[prop_or(Opening::Example)]
    pub opening: Opening,
    /// `?embed=1`: the playground inside another page, with the options it asked for.
    #[prop_or_default]
    pub embed: Option<EmbedOptions>,
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let opening = props.opening.clone();
    let embed = props.embed.clone();
    let sim = use_reducer(move || {
        let mut sim = opening.start();
        if let Some(options) = &embed {
            sim.take_options(options);
        }
        sim
    });
    let dispatch: Callback<Action> = sim.dispatcher().into();
    {
        let dispatch = dispatch.clone();
        use_effect_with(props.autoplay, move |&autoplay| {
            let interval = autoplay.then(|| {
                // Measured, not assumed: browsers stretch intervals under load and in
                // background tabs, and virtual time should still follow the wall clock.
                let last = Cell::new(js_sys::Date::now());
                Interval::new(TICK_MS, move || {
                    let now = js_sys::Date::now();
                    let elapsed = (now - last.replace(now)).max(0.0) as u64;
                    dispatch.emit(Action::Tick(elapsed));
                })
            });
            move || drop(interval)
        });
    }

    // A run being opened plays on a slice at a time, each in its own task, so the page
    // draws and answers between slices; once open, its later panels are drawn one a task.
    let reveal = use_mut_ref(|| Reveal::new(&sim));
    reveal.borrow_mut().update(&sim);
    let redraw = use_force_update();
    {
        let dispatch = dispatch.clone();
        let reveal = reveal.clone();
        let panels = reveal.borrow().panels;
        use_effect_with(
            (sim.opening_slices(), sim.run, panels),
            move |&(slices, run, panels)| {
                let timer = (slices.is_some() || panels < LATER).then(|| {
                    let gap = if slices.is_some() { 0 } else { PANEL_GAP_MS };
                    Timeout::new(gap, move || {
                        if slices.is_some() {
                            dispatch.emit(Action::OpenSlice);
                        } else {
                            reveal.borrow_mut().next(run);
                            redraw.force_update();
                        }
                    })
                });
                move || drop(timer)
            },
        );
    }

    // A scenario opened from inside the page gets its link in the address bar, so a reload
    // or a bookmark opens it again (replaceState: no new history entry, no hashchange).
    use_effect_with(sim.opened_link.clone(), |link| {
        if let (Some(link), Some(window)) = (link, web_sys::window()) {
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&format!("#{link}")),
                );
            }
        }
    });

    use_host(props.embed.clone(), &sim, dispatch.clone());
    use_guide_file(sim.guide_to_fetch(), dispatch.clone());
    // Until its turn, a later panel draws the run shown before.
    let reveal = reveal.borrow();
    let [console_sim, inspect_sim, diagram_sim, log_sim] = reveal.sims(&sim);

    // An embed shows the panels its host asked for; the page shows them all.
    let embed = props.embed.as_ref();
    let shows = |panel| embed.is_none_or(|o| o.shows(panel));
    let story = sim.narration_view();
    let narration_keys = story.as_ref().map(|n| (n.current, n.steps.len()));
    let narration = story.filter(|_| shows(Panel::Narration));
    let main_panels = shows(Panel::Topology) || shows(Panel::Inspect);
    let side_panels = narration.is_some() || shows(Panel::Console);
    let dismiss = dispatch.reform(|_: MouseEvent| Action::DismissNotice);
    html! {
        <main class={classes!("app", embed.map(|_| "embed"))} style={embed.and_then(|o| o.height).map(|h| format!("height: {h}px"))}
            aria-labelledby={embed.map(|_| "embed-title")}
            aria-busy={(reveal.panels < LATER).then_some("true")}>
            if let Some(options) = embed {
                { embed_head(&sim, options) }
            } else {
                <header class="top">
                    <h1>{ "replscope" }<span class="subtitle">{ "Redis 7.0 replication playground" }</span></h1>
                    <p class="hint">
                        { "Type " }<kbd>{ "SET k v" }</kbd>{ " in the master console; watch it reach the replicas. " }
                        <kbd>{ "?" }</kbd>{ " lists the keyboard shortcuts." }
                    </p>
                    <div class="top-actions">
                        <GuidePicker dispatch={dispatch.clone()} />
                        <Share share={sim.share.clone()} dispatch={dispatch.clone()} />
                    </div>
                </header>
            }
            if let Some(notice) = &sim.notice {
                <div class="page-notice" role="alert">
                    <p>{ notice }</p>
                    <button type="button" class="page-notice-close" onclick={dismiss}>{ "Dismiss" }</button>
                </div>
            }
            if let Some(view) = sim.opening_view() {
                <OpeningProgress view={view} dispatch={dispatch.clone()} />
            }
            <Controls view={sim.timeline_view()} dispatch={dispatch.clone()} compact={embed.is_some()} />
            // Wide screens: the cluster and what it holds on the left, the selected server's
            // console beside it, so typing and watching happen without scrolling.
            if main_panels || side_panels {
                <div class={classes!("workspace", (!(main_panels && side_panels)).then_some("single"))}>
                    if main_panels {
                        <div class="workspace-main">
                            if shows(Panel::Topology) {
                                <Topology view={sim.topology_view()} dispatch={dispatch.clone()} read_only={sim.read_only} />
                            }
                            if shows(Panel::Inspect) {
                                <Inspect tab={inspect_sim.inspect.tab} view={inspect_view(&inspect_sim.bus(), inspect_sim.console.selected, &inspect_sim.inspect)} dispatch={dispatch.clone()} />
                            }
                        </div>
                    }
                    if side_panels {
                        <div class="workspace-side">
                            if let Some(view) = narration {
                                <Narration view={view} dispatch={dispatch.clone()} />
                            }
                            if shows(Panel::Console) {
                                <ServerPanel view={console_sim.panel_view()} targets={console_sim.console_targets()} dispatch={dispatch.clone()} read_only={console_sim.read_only} />
                            }
                        </div>
                    }
                </div>
            }
            if shows(Panel::Timeline) {
                <Timeline diagram={diagram_sim.diagram_view()} log={log_sim.event_log_view()} dispatch={dispatch.clone()} />
            }
            <Shortcuts
                paused={sim.paused}
                speed={sim.speed_pct}
                selected_event={sim.timeline.selected}
                servers={sim.bus().servers().len()}
                theme={sim.timeline.theme}
                help_open={sim.timeline.help_open}
                narration={narration_keys}
                dispatch={dispatch}
            />
        </main>
    }
}

/// An embed's title line: the scenario's title, the options it ignored, and the way out
/// to the full playground at the same run.
fn embed_head(sim: &UseReducerHandle<Sim>, options: &EmbedOptions) -> Html {
    let title = sim
        .session()
        .base()
        .title
        .clone()
        .unwrap_or_else(|| "replscope".to_string());
    // The full page at this run as it stands, made when the link is about to be followed
    // (making a share link on every redraw would cost more than the redraw).
    let refresh = {
        let sim = sim.clone();
        Callback::from(move |e: Event| {
            if let Some(a) = e.target_dyn_into::<web_sys::Element>() {
                // A run over what a link holds leads to the full page without one.
                let href = match sim.share_link().link() {
                    Some(shared) => format!("{}#{}", page_address(), shared.link),
                    None => page_address(),
                };
                let _ = a.set_attribute("href", &href);
            }
        })
    };
    html! {
        <>
            <header class="embed-head">
                // Each landmark's name is its own label followed by this title
                // (`aria-labelledby="<its id> embed-title"`): a page with several embeds
                // tells their landmarks apart by scenario. Outside an embed there is no
                // title, and the name is the label alone.
                <span class="embed-title" id="embed-title">{ title }</span>
                <a class="embed-open" href={page_address()} target="_blank" rel="noopener"
                    onclick={refresh.reform(Event::from)} onmouseenter={refresh.reform(Event::from)} onfocus={refresh.reform(Event::from)}
                    title="This run in the full playground, in a new tab">{ "Open in replscope ↗" }</a>
            </header>
            if !options.ignored.is_empty() {
                <p class="embed-notice">{ format!("Options ignored: {}.", options.ignored.join("; ")) }</p>
            }
        </>
    }
}
