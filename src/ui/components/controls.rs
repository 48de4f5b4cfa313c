use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::ui::components::help::toggled_theme;
use crate::ui::model::timeline::{format_clock, format_ms, format_speed, TimelineView, SPEEDS};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub view: TimelineView,
    pub dispatch: Callback<Action>,
    /// Inside an embed: no label, theme or help buttons (the host page has its own).
    #[prop_or_default]
    pub compact: bool,
}

/// The transport bar: play/pause, step by event or by a second, speed, and a slider over
/// every event of the recorded timeline. The virtual time and the event index are
/// always shown.
#[function_component(Controls)]
pub fn controls(props: &ControlsProps) -> Html {
    let v = &props.view;
    let paused = v.paused;
    let toggle = props
        .dispatch
        .reform(move |_: MouseEvent| Action::SetPaused(!paused));
    let step = props.dispatch.reform(|_: MouseEvent| Action::Step(1_000));
    let back = props.dispatch.reform(|_: MouseEvent| Action::StepBackEvent);
    let forward = props.dispatch.reform(|_: MouseEvent| Action::StepEvent);
    let latest = props.dispatch.reform(|_: MouseEvent| Action::JumpToEnd);
    let help = props
        .dispatch
        .reform(|_: MouseEvent| Action::ShowHelp(true));
    let current_theme = v.theme;
    let theme = props
        .dispatch
        .reform(move |_: MouseEvent| Action::SetTheme(Some(toggled_theme(current_theme))));
    let speed = props.dispatch.reform(|e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        Action::SetSpeed(value.parse().unwrap_or(100))
    });
    // `input` fires while dragging: every position is a jump, so the panels follow.
    let scrub = props.dispatch.reform(|e: InputEvent| {
        let value = e.target_unchecked_into::<HtmlInputElement>().value();
        Action::JumpTo(value.parse().unwrap_or(0))
    });
    let max = v.total.saturating_sub(1);
    let position = v.position();
    html! {
        <section class="controls" id="region-time" aria-labelledby="region-time embed-title" aria-label="Virtual time">
            <p class="clock">
                if !props.compact {
                    <span class="label">{ "virtual time" }</span>
                }
                <span class="clock-value" title={format_ms(v.clock_ms)}>{ format_clock(v.clock_ms) }</span>
                <span class="run-state">{ if paused { "paused" } else { "running" } }</span>
            </p>
            <button type="button" class="pause" onclick={toggle} aria-keyshortcuts="Space"
                aria-label={if paused { "Play" } else { "Pause" }}>
                <span aria-hidden="true">{ if paused { "▶ " } else { "❚❚ " } }</span>
                { if paused { "Play" } else { "Pause" } }
            </button>
            <button type="button" class="step-back" onclick={back} aria-label="One event back"
                aria-keyshortcuts="ArrowLeft" title="One event back (←, pauses)">{ "◀ Event" }</button>
            <button type="button" class="step-event" onclick={forward} aria-label="One event forward"
                aria-keyshortcuts="ArrowRight" title="One event forward (→, pauses)">{ "Event ▶" }</button>
            <button type="button" class="step" onclick={step} aria-keyshortcuts="Shift+ArrowRight"
                title="Advance one second of virtual time (Shift+→)">{ "Step +1 s" }</button>
            <label class="speed" title="Speed (+ / −)">
                { "Speed " }
                <select class="speed-select" onchange={speed}>
                    { for SPEEDS.iter().map(|&s| html! {
                        <option value={s.to_string()} selected={s == v.speed}>{ format_speed(s) }</option>
                    }) }
                </select>
            </label>
            if !props.compact {
                <button type="button" class="theme-toggle" onclick={theme} aria-keyshortcuts="t"
                    title="Light or dark theme (t)">
                    <span aria-hidden="true">{ "◐ " }</span>{ "Theme" }
                </button>
                <button type="button" class="help-open" onclick={help} aria-label="Keyboard shortcuts"
                    aria-keyshortcuts="?" title="Keyboard shortcuts (?)">{ "?" }</button>
            }
            <div class="scrub">
                <span class="scrub-label">
                    { "event " }
                    <span class="event-index">{ if v.visible == 0 { "–".to_string() } else { format!("#{position}") } }</span>
                    { format!(" of {}", v.total) }
                </span>
                <input class="scrub-range" type="range" min="0" max={max.to_string()}
                    value={position.to_string()} oninput={scrub} disabled={v.total == 0}
                    aria-label="Scrub to any event"
                    aria-valuetext={format!("event {position} of {}, {}", v.total, format_ms(v.clock_ms))} />
                if v.in_past() {
                    <span class="past" role="status">
                        <span aria-hidden="true">{ "◀◀ " }</span>
                        { format!("in the past: {} recorded events ahead", v.total - v.visible) }
                    </span>
                    <button type="button" class="latest" onclick={latest}>{ "Latest ▶▶" }</button>
                }
            </div>
        </section>
    }
}
