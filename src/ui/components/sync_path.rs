//! One replica's handshake and sync as a sequence of steps, the master's "why", and the
//! history of sync attempts.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::ui::model::inspect::InspectAction;
use crate::ui::model::sync_path::{SyncPathView, WhyView};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct SyncPathProps {
    pub view: SyncPathView,
    pub dispatch: Callback<Action>,
}

#[function_component(SyncPathPanel)]
pub fn sync_path_panel(props: &SyncPathProps) -> Html {
    let v = &props.view;
    let picker = (!v.picker.is_empty()).then(|| {
        let on_change = props.dispatch.reform(|e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            Action::Inspect(InspectAction::PickReplica(value.parse().unwrap_or(0)))
        });
        html! {
            <label class="sync-picker">
                { "Replica: " }
                <select class="sync-replica" aria-label="Replica whose sync path to show" onchange={on_change}>
                    { for v.picker.iter().map(|(id, label)| html! {
                        <option value={id.to_string()} selected={v.replica == Some(*id)}>{ label }</option>
                    }) }
                </select>
            </label>
        }
    });
    html! {
        <div class="sync-path">
            <header class="sync-head">
                <h2>{ if v.replica_name.is_empty() { "Sync path".to_string() } else { format!("Sync path of {}", v.replica_name) } }</h2>
                { for picker }
            </header>
            if let Some(m) = &v.message {
                <p class="empty sync-message">{ m }</p>
            }
            if !v.now.is_empty() {
                <p class="sync-now"><span class="label">{ "Now: " }</span>{ &v.now }</p>
            }
            if !v.steps.is_empty() {
                <ol class="sync-steps" aria-label="Handshake and sync steps of the latest attempt">
                    { for v.steps.iter().map(|s| html! {
                        <li data-mark={s.mark.word()} data-step={s.name.clone()}
                            aria-current={(s.mark == crate::ui::model::sync_path::StepMark::Current).then_some("step")}>
                            <span class="step-mark" aria-hidden="true">{ s.mark.symbol() }</span>
                            <span class="step-name">{ &s.name }</span>
                            <span class="step-word">{ format!("({})", s.mark.word()) }</span>
                            if !s.detail.is_empty() {
                                <span class="step-detail">{ &s.detail }</span>
                            }
                        </li>
                    }) }
                </ol>
            }
            if let Some(w) = &v.window {
                <p class="sync-now sync-window" data-state={w.state.unwrap_or("gone")}
                    data-buffered={w.buffered_bytes.to_string()}>
                    <span class="label">{ "BGSAVE window: " }</span>
                    { &w.start }{ " → " }{ w.end.as_deref().unwrap_or("running") }
                    { "; writes kept for the replica: " }{ w.buffered_bytes.to_string() }{ " bytes" }
                    if let Some(s) = w.state {
                        { "; master sees it " }<code>{ s }</code>
                    }
                </p>
            }
            { for v.why.as_ref().map(why) }
            if !v.history.is_empty() {
                <h3>{ "Sync attempts, newest first" }</h3>
                <ol class="sync-history" reversed=true>
                    { for v.history.iter().map(|h| html! {
                        <li data-partial={h.partial.to_string()}>
                            <span class="when">{ &h.time }</span>
                            <span class="kind">{ if h.partial { "↻ " } else { "⇣ " } }{ &h.kind }</span>
                            <span class="from">{ format!(" from {}", h.master) }</span>
                            <code>{ &h.request }</code>
                        </li>
                    }) }
                </ol>
            }
        </div>
    }
}

fn why(w: &WhyView) -> Html {
    html! {
        <section class="why" data-verdict={w.verdict.clone()} id="region-why" aria-labelledby="region-why embed-title" aria-label="Why the master decided so">
            <h3>
                { "Why " }<code class="verdict">{ &w.verdict }</code>
                { format!(" — {} answered at {}", w.master, w.time) }
            </h3>
            <table class="why-numbers">
                <tbody>
                    { for w.rows.iter().map(|r| {
                        let (mark, word) = match r.check {
                            Some(true) => ("✓", "matches"),
                            Some(false) => ("✖", "does not match"),
                            None => ("", ""),
                        };
                        html! {
                            <tr data-check={r.check.map_or("none".to_string(), |c| c.to_string())}>
                                <th scope="row">{ &r.label }</th>
                                <td><code>{ &r.value }</code></td>
                                <td class="check">
                                    <span aria-hidden="true">{ mark }</span>
                                    <span class="check-word">{ word }</span>
                                </td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
            <p class="reason">{ &w.reason }</p>
        </section>
    }
}
