use std::cell::Cell;

use gloo_timers::callback::Interval;
use yew::prelude::*;

use super::components::console::Console;
use super::components::controls::Controls;
use super::components::inspect::Inspect;
use super::components::links::Links;
use super::components::server_card::ServerCard;
use super::model::inspect::inspect_view;
use super::state::{Action, Sim};

/// Wall-clock period of the simulation tick.
const TICK_MS: u32 = 50;

#[derive(Properties, PartialEq)]
pub struct AppProps {
    /// Run virtual time from a wall-clock interval. Tests turn it off and step time
    /// themselves, so what they see does not depend on how fast the browser is.
    #[prop_or(true)]
    pub autoplay: bool,
}

#[function_component(App)]
pub fn app(props: &AppProps) -> Html {
    let sim = use_reducer(Sim::new);
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

    let views = sim.server_views();
    let inspect = inspect_view(&sim.bus(), sim.console.selected, &sim.inspect);
    html! {
        <main class="app">
            <header class="top">
                <h1>{ "replscope" }<span class="subtitle">{ "Redis 7.0 replication playground" }</span></h1>
                <p class="hint">
                    { "Type " }<kbd>{ "SET k v" }</kbd>{ " in the master console; watch it reach the replicas." }
                </p>
            </header>
            <Controls elapsed_ms={sim.elapsed_ms()} speed={sim.speed} paused={sim.paused} dispatch={dispatch.clone()} />
            <section class="servers" aria-label="Servers">
                { for views.into_iter().map(|v| {
                    let key = v.id;
                    html! { <ServerCard {key} view={v} /> }
                }) }
            </section>
            <div class="lower">
                <Console
                    targets={sim.console_targets()}
                    selected={sim.console.selected}
                    prompt={sim.prompt()}
                    transcript={sim.transcript()}
                    draft={sim.console.draft.clone()}
                    notice={sim.console.notice.clone()}
                    dispatch={dispatch.clone()}
                />
                <Links rows={sim.link_rows()} dispatch={dispatch.clone()} />
            </div>
            <Inspect tab={sim.inspect.tab} view={inspect} dispatch={dispatch} />
        </main>
    }
}
