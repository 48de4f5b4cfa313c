use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::bus::ServerId;
use crate::ui::model::console::TranscriptLine;
use crate::ui::model::server_panel::{ConsoleView, PanelAction};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct ConsoleProps {
    pub selected: ServerId,
    pub view: ConsoleView,
    pub dispatch: Callback<Action>,
    /// A read-only embed: the transcript only, and a line saying why.
    #[prop_or_default]
    pub read_only: bool,
}

/// A redis-cli-like console for the selected server: Enter sends the line, ↑/↓ walk the
/// history, Tab completes command names (Shift+Tab back, Esc restores the typed line).
#[function_component(Console)]
pub fn console(props: &ConsoleProps) -> Html {
    let v = &props.view;
    let log_ref = use_node_ref();
    {
        // Follow the newest reply, like a terminal does.
        let log_ref = log_ref.clone();
        use_effect_with((props.selected, v.transcript.len()), move |_| {
            if let Some(el) = log_ref.cast::<web_sys::Element>() {
                super::next_frame(move || el.set_scroll_top(el.scroll_height()));
            }
        });
    }

    let selected = props.selected;
    let on_input = props.dispatch.reform(|e: InputEvent| {
        Action::EditDraft(e.target_unchecked_into::<HtmlInputElement>().value())
    });
    let on_keydown = {
        let dispatch = props.dispatch.clone();
        let completable = v.completable;
        let cycling = !v.candidates.is_empty();
        Callback::from(move |e: KeyboardEvent| {
            let action = match e.key().as_str() {
                // Enter while an input method is composing belongs to the IME.
                "Enter" if !e.is_composing() => {
                    let line = e.target_unchecked_into::<HtmlInputElement>().value();
                    Action::SubmitCommand {
                        server: selected,
                        line,
                    }
                }
                "ArrowUp" => Action::HistoryPrev,
                "ArrowDown" => Action::HistoryNext,
                // Only when there is something to complete: otherwise Tab moves the focus
                // on, so the console never traps a keyboard user.
                "Tab" if completable => Action::Panel(PanelAction::Complete {
                    back: e.shift_key(),
                }),
                "Escape" if cycling => Action::Panel(PanelAction::CancelCompletion),
                _ => return,
            };
            e.prevent_default();
            dispatch.emit(action);
        })
    };
    let on_send = {
        let line = v.draft.clone();
        props
            .dispatch
            .reform(move |_: MouseEvent| Action::SubmitCommand {
                server: selected,
                line: line.clone(),
            })
    };

    html! {
        <div class="console">
            <div class="transcript" ref={log_ref} role="log" aria-label="Transcript" tabindex="0">
                if v.transcript.is_empty() {
                    <p class="empty">{ "No commands yet." }</p>
                }
                { for v.transcript.iter().map(line) }
            </div>
            if props.read_only {
                <p class="console-read-only">{ crate::ui::embed::READ_ONLY }</p>
            } else {
                <div class="prompt-line">
                    <label class="prompt-label">
                        <span class="prompt">{ &v.prompt }</span>
                        <input
                            type="text"
                            class="console-input"
                            aria-label="Command"
                            value={v.draft.clone()}
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
            }
            if !v.candidates.is_empty() {
                <p class="completions" aria-live="polite">
                    <span class="sr-only">{ "Completions: " }</span>
                    { for v.candidates.iter().enumerate().map(|(i, c)| {
                        let current = v.candidate == Some(i);
                        html! {
                            <span class={classes!("candidate", current.then_some("current"))}
                                aria-current={current.then_some("true")}>
                                if current { { "▸ " } }
                                { c }
                            </span>
                        }
                    }) }
                </p>
            }
            if let Some(notice) = &v.notice {
                <p class="notice" role="alert">{ notice }</p>
            }
            if v.replica_output {
                <p class="replica-output" role="status">
                    { "Replica output mode: this console is a replica of its server and prints its replication stream. The next command closes this connection and opens a new one (in a terminal, Ctrl-C quits redis-cli)." }
                </p>
            }
            if !props.read_only {
                <p class="keys-help">{ "Enter sends · ↑/↓ history · Tab completes (Shift+Tab back, Esc undo)" }</p>
            }
        </div>
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
