use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::ui::state::{format_clock, Action, SPEEDS};

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub elapsed_ms: u64,
    pub speed: u32,
    pub paused: bool,
    pub dispatch: Callback<Action>,
}

#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let paused = props.paused;
    let toggle = props.dispatch.reform(move |_: MouseEvent| Action::SetPaused(!paused));
    let step = props.dispatch.reform(|_: MouseEvent| Action::Step(1_000));
    let back = props.dispatch.reform(|_: MouseEvent| Action::StepBackEvent);
    let forward = props.dispatch.reform(|_: MouseEvent| Action::StepEvent);
    let speed = props.dispatch.reform(|e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        Action::SetSpeed(value.parse().unwrap_or(1))
    });
    html! {
        <section class="controls" aria-label="Virtual time">
            <p class="clock">
                <span class="label">{ "virtual time" }</span>
                <span class="clock-value">{ format_clock(props.elapsed_ms) }</span>
                <span class="run-state">{ if paused { "paused" } else { "running" } }</span>
            </p>
            <button type="button" class="pause" onclick={toggle}>
                { if paused { "Resume" } else { "Pause" } }
            </button>
            <label class="speed">
                { "Speed " }
                <select onchange={speed}>
                    { for SPEEDS.iter().map(|&s| html! {
                        <option value={s.to_string()} selected={s == props.speed}>{ format!("{s}×") }</option>
                    }) }
                </select>
            </label>
            <button type="button" class="step-back" onclick={back} aria-label="One event back"
                title="One event back (pauses)">{ "◀ Event" }</button>
            <button type="button" class="step-event" onclick={forward} aria-label="One event forward"
                title="One event forward (pauses)">{ "Event ▶" }</button>
            <button type="button" class="step" onclick={step}>{ "Step +1 s" }</button>
        </section>
    }
}
