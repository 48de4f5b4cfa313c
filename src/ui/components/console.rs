use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::bus::ServerId;
use crate::ui::state::{Action, TranscriptLine};

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    /// `(id, label)` of every server the console can talk to.
    pub targets: Vec<(ServerId, String)>,
    pub selected: ServerId,
    pub prompt: String,
    pub transcript: Vec<TranscriptLine>,
    pub draft: String,
    pub notice: Option<String>,
    pub dispatch: Callback<Action>,
}

/// A redis-cli-like console: pick a server, type a line, Enter sends it.
#[function_component(Console)]
pub fn console(props: &ConsoleProps) -> Html {
    let log_ref = use_node_ref();
    {
        // Follow the newest reply, like a terminal does.
        let log_ref = log_ref.clone();
        use_effect_with((props.selected, props.transcript.len()), move |_| {
            if let Some(el) = log_ref.cast::<web_sys::Element>() {
                el.set_scroll_top(el.scroll_height());
            }
        });
    }

    let selected = props.selected;
    let on_select = props.dispatch.reform(|e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        Action::SelectConsole(value.parse().unwrap_or(0))
    });
    let on_input = props.dispatch.reform(|e: InputEvent| {
        Action::EditDraft(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let on_keydown = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            let action = match e.key().as_str() {
                // Enter while an input method is composing belongs to the IME.
                "Enter" if !e.is_composing() => {
                    let line = e.target_unchecked_into::<HtmlInputElement>().value();
                    Action::SubmitCommand { server: selected, line }
                }
                "ArrowUp" => Action::HistoryPrev,
                "ArrowDown" => Action::HistoryNext,
                _ => return,
            };
            e.prevent_default();
            dispatch.emit(action);
        })
    };
    let on_send = {
        let line = props.draft.clone();
        props.dispatch.reform(move |_: MouseEvent| Action::SubmitCommand { server: selected, line: line.clone() })
    };

    html! {
        <section class="console" aria-label="Console">
            <div class="console-head">
                <h2>{ "Console" }</h2>
                <label class="target">
                    { "Server " }
                    <select class="console-server" onchange={on_select}>
                        { for props.targets.iter().map(|(id, label)| html! {
                            <option value={id.to_string()} selected={*id == selected}>{ label }</option>
                        }) }
                    </select>
                </label>
            </div>
            <div class="transcript" ref={log_ref} role="log" aria-label="Transcript" tabindex="0">
                if props.transcript.is_empty() {
                    <p class="empty">{ "No commands yet." }</p>
                }
                { for props.transcript.iter().map(line) }
            </div>
            <div class="prompt-line">
                <label class="prompt-label">
                    <span class="prompt">{ &props.prompt }</span>
                    <input
                        type="text"
                        class="console-input"
                        value={props.draft.clone()}
                        oninput={on_input}
                        onkeydown={on_keydown}
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        enterkeyhint="send"
                    />
                </label>
                <button type="button" class="send" onclick={on_send}>{ "Send" }</button>
            </div>
            if let Some(notice) = &props.notice {
                <p class="notice" role="alert">{ notice }</p>
            }
            <p class="keys-help">{ "Enter sends · ↑/↓ history" }</p>
        </section>
    }
}

fn line(l: &TranscriptLine) -> Html {
    html! {
        <div class="entry">
            if let Some(input) = &l.input {
                <div class="in">{ input }</div>
            }
            if let Some(out) = &l.output {
                <pre class={classes!("out", l.error.then_some("error"))}>{ out }</pre>
            } else {
                <pre class="out pending">{ "…" }</pre>
            }
        </div>
    }
}
