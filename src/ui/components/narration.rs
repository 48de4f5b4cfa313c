use yew::prelude::*;

use crate::ui::model::timeline::format_ms;
use crate::ui::state::{Action, NarrationView};

#[derive(Properties, PartialEq)]
pub struct NarrationProps {
    pub view: NarrationView,
    pub dispatch: Callback<Action>,
}

/// A guided scenario's story beside the animation: the step the playhead is at, the
/// way to the previous and next ones (each a jump in time), and every step listed so
/// the whole story can be read and any moment reached.
#[function_component(Narration)]
pub fn narration(props: &NarrationProps) -> Html {
    let v = &props.view;
    let total = v.steps.len();
    let current = v.current;
    let go = |n: usize| {
        props
            .dispatch
            .reform(move |_: MouseEvent| Action::NarrationGo(n))
    };
    let prev = current.and_then(|c| c.checked_sub(1));
    let next = match current {
        None if total > 0 => Some(0),
        Some(c) if c + 1 < total => Some(c + 1),
        _ => None,
    };
    let position = match current {
        Some(c) => format!("step {} of {total}", c + 1),
        None => format!("{total} steps: press Next to begin"),
    };
    html! {
        <section class="narration" id="region-narration" aria-labelledby="region-narration embed-title" aria-label="Guided scenario">
            if let Some(title) = &v.title {
                <h2 class="narration-title">{ title }</h2>
            }
            if let Some(d) = &v.description {
                <p class="narration-description">{ d }</p>
            }
            if total > 0 {
                <div class="narration-now" aria-live="polite">
                    <p class="narration-position">{ position }</p>
                    if let Some(c) = current {
                        <p class="narration-text">{ &v.steps[c].1 }</p>
                    }
                </div>
                <div class="narration-nav">
                    <button type="button" class="narration-prev" disabled={prev.is_none()}
                        onclick={prev.map(go).unwrap_or_default()} aria-keyshortcuts="["
                        title="The previous step's moment ([)">{ "◀ Previous" }</button>
                    <button type="button" class="narration-next" disabled={next.is_none()}
                        onclick={next.map(go).unwrap_or_default()} aria-keyshortcuts="]"
                        title="The next step's moment (])">{ "Next ▶" }</button>
                </div>
                <details class="narration-all">
                    <summary>{ "All steps" }</summary>
                    <ol>
                        { for v.steps.iter().enumerate().map(|(i, (at, text))| {
                            let here = current == Some(i);
                            html! {
                                <li class={classes!(here.then_some("current"))} aria-current={here.then_some("step")}>
                                    <button type="button" class="narration-step" onclick={go(i)}>
                                        <span class="narration-at">{ format_ms(*at) }</span>
                                        { text }
                                    </button>
                                </li>
                            }
                        }) }
                    </ol>
                </details>
            }
        </section>
    }
}
