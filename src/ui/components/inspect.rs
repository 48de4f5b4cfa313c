//! The inspection panels in tabs: Backlog | Sync path | Stream, all about the selected
//! server. Only the open tab's view model is built (see `model::inspect`).

use yew::prelude::*;

use super::backlog::BacklogPanel;
use super::stream::StreamPanel;
use super::sync_path::SyncPathPanel;
use crate::ui::model::inspect::{InspectAction, InspectTab, InspectView};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct InspectProps {
    pub tab: InspectTab,
    pub view: InspectView,
    pub dispatch: Callback<Action>,
}

#[function_component(Inspect)]
pub fn inspect(props: &InspectProps) -> Html {
    let tab = props.tab;
    // Arrow keys move between the tabs, as the ARIA tabs pattern expects.
    let on_keydown = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            let i = InspectTab::ALL.iter().position(|t| *t == tab).unwrap_or(0);
            let n = InspectTab::ALL.len();
            let next = match e.key().as_str() {
                "ArrowRight" => (i + 1) % n,
                "ArrowLeft" => (i + n - 1) % n,
                "Home" => 0,
                "End" => n - 1,
                _ => return,
            };
            e.prevent_default();
            dispatch.emit(Action::Inspect(InspectAction::Tab(InspectTab::ALL[next])));
            if let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
                d.get_element_by_id(&format!("inspect-tab-{}", InspectTab::ALL[next].key()))
            }) {
                if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                    let _ = el.focus();
                }
            }
        })
    };
    let tabs = InspectTab::ALL.iter().map(|&t| {
        let selected = t == tab;
        let onclick = props.dispatch.reform(move |_: MouseEvent| Action::Inspect(InspectAction::Tab(t)));
        html! {
            <button type="button" role="tab" class="inspect-tab" id={format!("inspect-tab-{}", t.key())}
                data-tab={t.key()} aria-selected={selected.to_string()} aria-controls="inspect-panel"
                tabindex={if selected { "0" } else { "-1" }} {onclick}>
                { t.label() }
            </button>
        }
    });
    let body = match &props.view {
        InspectView::Backlog(v) => html! { <BacklogPanel view={v.clone()} /> },
        InspectView::SyncPath(v) => {
            html! { <SyncPathPanel view={v.clone()} dispatch={props.dispatch.clone()} /> }
        }
        InspectView::Stream(v) => {
            html! { <StreamPanel view={v.clone()} dispatch={props.dispatch.clone()} /> }
        }
    };
    html! {
        <section class="inspect" id="region-inspect" aria-labelledby="region-inspect embed-title" aria-label="Inspect replication">
            <div class="inspect-tabs" role="tablist" aria-label="Inspection panels" onkeydown={on_keydown}>
                { for tabs }
            </div>
            <div class="inspect-panel" id="inspect-panel" role="tabpanel" data-panel={tab.key()}
                aria-labelledby={format!("inspect-tab-{}", tab.key())}>
                { body }
            </div>
        </section>
    }
}
