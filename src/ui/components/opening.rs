use yew::prelude::*;

use crate::ui::opening::OpeningView;
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct OpeningProps {
    pub view: OpeningView,
    pub dispatch: Callback<Action>,
}

/// The progress of a run being opened, above the run it will replace. The exact line is
/// for the eyes; screen readers hear it in steps of ten percent (a live region updated at
/// every slice would never stop talking).
#[function_component(OpeningProgress)]
pub fn opening_progress(props: &OpeningProps) -> Html {
    let view = &props.view;
    let cancel = props.dispatch.reform(|_: MouseEvent| Action::CancelOpening);
    html! {
        <section class="opening" id="region-opening" aria-labelledby="region-opening embed-title" aria-label="Opening a run">
            <p class="opening-text" aria-hidden="true">{ view.text() }</p>
            <progress class="opening-bar" max="100" value={view.percent.to_string()} aria-label={format!("Opening {}", view.what)}></progress>
            <p class="visually-hidden" role="status" aria-live="polite">{ view.announcement() }</p>
            <button type="button" class="opening-cancel" onclick={cancel} title="Stop opening it; the run shown stays">{ "Cancel" }</button>
        </section>
    }
}
