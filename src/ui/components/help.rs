use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

use crate::bus::ServerId;
use crate::ui::model::timeline::{next_speed, Theme};
use crate::ui::state::Action;

/// Every shortcut, as the help overlay lists it: `(keys, what it does)`.
pub const SHORTCUTS: [(&str, &str); 14] = [
    ("Space", "Play / pause"),
    ("→", "One event forward (pauses)"),
    ("←", "One event back (pauses)"),
    ("Shift + →", "Advance one second of virtual time"),
    ("+  /  −", "Faster / slower (0.1× to 100×)"),
    ("/", "Focus the console input"),
    ("g", "Go to the selected event (time travel)"),
    ("t", "Light or dark theme"),
    ("1 … 8", "Select server 1 to 8 (its console)"),
    ("]", "Guided scenario: the next step's moment"),
    ("[", "Guided scenario: the previous step's moment"),
    ("s", "Share this run as a link"),
    ("?", "This help"),
    ("Esc", "Close this help"),
];

/// Whether the system asks for dark colours (what the page shows with no override).
pub fn system_prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// The theme a toggle switches to from `current` (`None`: the system's).
pub fn toggled_theme(current: Option<Theme>) -> Theme {
    current
        .unwrap_or(if system_prefers_dark() {
            Theme::Dark
        } else {
            Theme::Light
        })
        .other()
}

#[derive(Properties, PartialEq)]
pub struct ShortcutsProps {
    pub paused: bool,
    pub speed: u32,
    pub selected_event: Option<u64>,
    pub servers: usize,
    pub theme: Option<Theme>,
    pub help_open: bool,
    /// A guided scenario's (current step, steps), if one is open.
    #[prop_or_default]
    pub narration: Option<(Option<usize>, usize)>,
    pub dispatch: Callback<Action>,
}

/// What a key press needs to know, refreshed on every render.
#[derive(Clone)]
struct KeyContext {
    paused: bool,
    speed: u32,
    selected_event: Option<u64>,
    servers: usize,
    theme: Option<Theme>,
    help_open: bool,
    narration: Option<(Option<usize>, usize)>,
    dispatch: Callback<Action>,
}

/// The page's keyboard shortcuts, its theme, and the help overlay that lists them.
#[function_component(Shortcuts)]
pub fn shortcuts(props: &ShortcutsProps) -> Html {
    let host = use_node_ref();
    let ctx = use_mut_ref(|| None::<KeyContext>);
    *ctx.borrow_mut() = Some(KeyContext {
        paused: props.paused,
        speed: props.speed,
        selected_event: props.selected_event,
        servers: props.servers,
        theme: props.theme,
        help_open: props.help_open,
        narration: props.narration,
        dispatch: props.dispatch.clone(),
    });
    let first_ref = use_node_ref();
    let close_ref = use_node_ref();
    {
        let (host, ctx, close_ref) = (host.clone(), ctx.clone(), close_ref.clone());
        use_effect_with((), move |_| {
            let doc = web_sys::window().and_then(|w| w.document());
            let listener = Closure::<dyn Fn(KeyboardEvent)>::new(move |e: KeyboardEvent| {
                // A copy: dispatching may render, and rendering refreshes the context.
                let Some(c) = ctx.borrow().clone() else {
                    return;
                };
                on_key(&c, &host, &close_ref, e);
            });
            if let Some(doc) = &doc {
                let _ = doc
                    .add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(doc) = &doc {
                    let _ = doc.remove_event_listener_with_callback(
                        "keydown",
                        listener.as_ref().unchecked_ref(),
                    );
                }
                drop(listener);
            }
        });
    }
    use_effect_with(props.theme, |theme| {
        let root = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element());
        if let Some(root) = root {
            let _ = match theme {
                Some(t) => root.set_attribute("data-theme", t.as_str()),
                None => root.remove_attribute("data-theme"),
            };
        }
    });
    {
        // Opening moves focus into the dialog; closing gives it back where it was.
        let opener: Rc<RefCell<Option<HtmlElement>>> = use_mut_ref(|| None);
        let close_ref = close_ref.clone();
        use_effect_with(props.help_open, move |&open| {
            let doc = web_sys::window().and_then(|w| w.document());
            if open {
                *opener.borrow_mut() = doc
                    .and_then(|d| d.active_element())
                    .and_then(|e| e.dyn_into().ok());
                if let Some(b) = close_ref.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            } else if let Some(el) = opener.borrow_mut().take() {
                let _ = el.focus();
            }
        });
    }

    let dialog = props.help_open.then(|| {
        let close = props.dispatch.reform(|_: MouseEvent| Action::ShowHelp(false));
        let on_backdrop = {
            let dispatch = props.dispatch.clone();
            Callback::from(move |e: MouseEvent| {
                if e.target() == e.current_target() {
                    dispatch.emit(Action::ShowHelp(false));
                }
            })
        };
        let theme = props.theme;
        let toggle_theme = props.dispatch.reform(move |_: MouseEvent| Action::SetTheme(Some(toggled_theme(theme))));
        let system_theme = props.dispatch.reform(|_: MouseEvent| Action::SetTheme(None));
        let trap = {
            let (first_ref, close_ref) = (first_ref.clone(), close_ref.clone());
            Callback::from(move |e: KeyboardEvent| {
                if e.key() != "Tab" {
                    return;
                }
                let active = web_sys::window().and_then(|w| w.document()).and_then(|d| d.active_element());
                let (first, last) = (first_ref.cast::<HtmlElement>(), close_ref.cast::<HtmlElement>());
                let (Some(first), Some(last)) = (first, last) else { return };
                let at = |el: &HtmlElement| active.as_ref() == Some(el.unchecked_ref::<Element>());
                if e.shift_key() && at(&first) {
                    e.prevent_default();
                    let _ = last.focus();
                } else if !e.shift_key() && at(&last) {
                    e.prevent_default();
                    let _ = first.focus();
                }
            })
        };
        let theme_word = match props.theme {
            Some(t) => format!("{} (chosen)", t.as_str()),
            None => "as the system prefers".to_string(),
        };
        html! {
            <div class="help-backdrop" onclick={on_backdrop}>
                <div class="help-dialog" role="dialog" aria-modal="true" aria-label="Keyboard shortcuts" onkeydown={trap}>
                    <h2>{ "Keyboard shortcuts" }</h2>
                    <table class="shortcut-table">
                        <tbody>
                            { for SHORTCUTS.iter().map(|(keys, what)| html! {
                                <tr><th scope="row"><kbd>{ *keys }</kbd></th><td>{ *what }</td></tr>
                            }) }
                        </tbody>
                    </table>
                    <p class="help-note">
                        { "Shortcuts are off while typing in a field. In the event log and the diagram, ↑/↓ select; Enter in the log goes to the event." }
                    </p>
                    <p class="help-theme">{ format!("Theme: {theme_word}") }</p>
                    <div class="help-buttons">
                        <button type="button" class="help-theme-toggle" ref={first_ref.clone()} onclick={toggle_theme}>{ "Switch theme" }</button>
                        <button type="button" class="help-theme-system" onclick={system_theme}>{ "Follow system" }</button>
                        <button type="button" class="help-close" ref={close_ref.clone()} onclick={close}>{ "Close" }</button>
                    </div>
                </div>
            </div>
        }
    });
    html! {
        <div class="shortcuts-host" ref={host}>
            { for dialog }
        </div>
    }
}

fn on_key(c: &KeyContext, host: &NodeRef, close_ref: &NodeRef, e: KeyboardEvent) {
    if e.default_prevented() || e.ctrl_key() || e.meta_key() || e.alt_key() || e.is_composing() {
        return;
    }
    let key = e.key();
    let target: Option<Element> = e.target().and_then(|t| t.dyn_into().ok());
    let app = host
        .cast::<Element>()
        .and_then(|h| h.closest("main.app").ok().flatten());
    // Another playground on the same page (the browser tests mount several) owns keys
    // pressed inside it.
    if let (Some(t), Some(app)) = (&target, &app) {
        if t.closest("main.app")
            .ok()
            .flatten()
            .is_some_and(|other| &other != app)
        {
            return;
        }
    }
    if c.help_open {
        match key.as_str() {
            "Escape" => {
                e.prevent_default();
                c.dispatch.emit(Action::ShowHelp(false));
            }
            // Focus wandered out of the open dialog (a click on the page): bring it back.
            "Tab"
                if target
                    .as_ref()
                    .is_none_or(|t| t.closest(".help-dialog").ok().flatten().is_none()) =>
            {
                e.prevent_default();
                if let Some(b) = close_ref.cast::<HtmlElement>() {
                    let _ = b.focus();
                }
            }
            _ => {}
        }
        return;
    }
    if let Some(t) = &target {
        let typing = matches!(
            t.tag_name().to_ascii_lowercase().as_str(),
            "input" | "textarea" | "select"
        ) || t
            .closest("[contenteditable]:not([contenteditable=\"false\"])")
            .ok()
            .flatten()
            .is_some();
        if typing {
            return;
        }
    }
    let action = match key.as_str() {
        " " | "Spacebar" => {
            // Space on a button presses the button.
            let activates = target.as_ref().is_some_and(|t| {
                t.closest("button, a[href], summary, [role=\"button\"], [role=\"option\"]")
                    .ok()
                    .flatten()
                    .is_some()
            });
            if activates {
                return;
            }
            Action::SetPaused(!c.paused)
        }
        "ArrowRight" if e.shift_key() => Action::Step(1_000),
        "ArrowRight" => Action::StepEvent,
        "ArrowLeft" if !e.shift_key() => Action::StepBackEvent,
        "+" | "=" => Action::SetSpeed(next_speed(c.speed, true)),
        "-" | "_" => Action::SetSpeed(next_speed(c.speed, false)),
        "/" => {
            let input = app.and_then(|a| a.query_selector(".console-input").ok().flatten());
            if let Some(input) = input.and_then(|i| i.dyn_into::<HtmlElement>().ok()) {
                e.prevent_default();
                let _ = input.focus();
            }
            return;
        }
        "g" => match c.selected_event {
            Some(i) => Action::JumpTo(i as usize),
            None => return,
        },
        "t" => Action::SetTheme(Some(toggled_theme(c.theme))),
        "s" => Action::Share,
        "]" => match c.narration {
            Some((None, total)) if total > 0 => Action::NarrationGo(0),
            Some((Some(i), total)) if i + 1 < total => Action::NarrationGo(i + 1),
            _ => return,
        },
        "[" => match c.narration {
            Some((Some(i), _)) if i > 0 => Action::NarrationGo(i - 1),
            _ => return,
        },
        "?" => Action::ShowHelp(true),
        digit if digit.len() == 1 && ("1"..="8").contains(&digit) => {
            let id: ServerId = digit.parse::<usize>().unwrap_or(1) - 1;
            if id >= c.servers {
                return;
            }
            Action::SelectConsole(id)
        }
        _ => return,
    };
    e.prevent_default();
    c.dispatch.emit(action);
}
