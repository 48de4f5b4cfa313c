use std::cell::Cell;

use gloo_timers::callback::Interval;
use yew::prelude::*;

use super::components::controls::Controls;
use super::components::help::Shortcuts;
use super::components::inspect::Inspect;
use super::components::narration::Narration;
use super::components::share::{GuidePicker, Share};
use super::components::server_panel::ServerPanel;
use super::components::timeline::Timeline;
use super::components::topology::Topology;
use super::model::inspect::inspect_view;
use super::model::server_panel::panel_view;
use super::page::Opening;
use super::state::Action;

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
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let opening = props.opening.clone();
    let sim = use_reducer(move || opening.into_sim());
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

    // A scenario opened from inside the page gets its link in the address bar, so a reload
    // or a bookmark opens it again (replaceState: no new history entry, no hashchange).
    use_effect_with(sim.opened_link.clone(), |link| {
        if let (Some(link), Some(window)) = (link, web_sys::window()) {
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&format!("#{link}")));
            }
        }
    });

    let inspect = inspect_view(&sim.bus(), sim.console.selected, &sim.inspect);
    let dismiss = dispatch.reform(|_: MouseEvent| Action::DismissNotice);
    html! {
        <main class="app">
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
            if let Some(notice) = &sim.notice {
                <div class="page-notice" role="alert">
                    <p>{ notice }</p>
                    <button type="button" class="page-notice-close" onclick={dismiss}>{ "Dismiss" }</button>
                </div>
            }
            <Controls view={sim.timeline_view()} dispatch={dispatch.clone()} />
            // Wide screens: the cluster and what it holds on the left, the selected server's
            // console beside it, so typing and watching happen without scrolling.
            <div class="workspace">
                <div class="workspace-main">
                    <Topology view={sim.topology_view()} dispatch={dispatch.clone()} />
                    <Inspect tab={sim.inspect.tab} view={inspect} dispatch={dispatch.clone()} />
                </div>
                <div class="workspace-side">
                    if let Some(view) = sim.narration_view() {
                        <Narration view={view} dispatch={dispatch.clone()} />
                    }
                    <ServerPanel view={panel_view(&sim)} targets={sim.console_targets()} dispatch={dispatch.clone()} />
                </div>
            </div>
            <Timeline diagram={sim.diagram_view()} log={sim.event_log_view()} dispatch={dispatch.clone()} />
            <Shortcuts
                paused={sim.paused}
                speed={sim.speed_pct}
                selected_event={sim.timeline.selected}
                servers={sim.bus().servers().len()}
                theme={sim.timeline.theme}
                help_open={sim.timeline.help_open}
                narration={sim.narration_view().map(|n| (n.current, n.steps.len()))}
                dispatch={dispatch}
            />
        </main>
    }
}
