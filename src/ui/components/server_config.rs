use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::ui::model::server_panel::{
    ConfigField, ConfigInput, ConfigView, FieldStatus, PanelAction,
};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct ConfigTabProps {
    pub view: ConfigView,
    pub dispatch: Callback<Action>,
}

/// The replication options of the selected server. Apply sends `CONFIG SET` through its
/// console; Redis's error shows next to the field and the typed value stays.
#[function_component(ConfigTab)]
pub fn config_tab(props: &ConfigTabProps) -> Html {
    html! {
        <div class="config-tab">
            <p class="panel-note">{ "Apply sends CONFIG SET through this server's console (it shows in the transcript and the timeline)." }</p>
            <ul class="config-fields">
                { for props.view.fields.iter().map(|f| field(f, &props.dispatch)) }
            </ul>
        </div>
    }
}

fn field(f: &ConfigField, d: &Callback<Action>) -> Html {
    let name = f.name;
    let id = format!("config-{name}");
    let apply = d.reform(move |_: MouseEvent| Action::Panel(PanelAction::ConfigApply { name }));
    let on_change = d.reform(move |e: Event| {
        Action::Panel(PanelAction::ConfigEdit {
            name,
            value: e.target_unchecked_into::<HtmlSelectElement>().value(),
        })
    });
    let choice = |options: &[&str]| {
        html! {
            <select id={id.clone()} class="config-input" onchange={on_change.clone()}>
                { for options.iter().map(|o| html! { <option value={o.to_string()} selected={*o == f.value}>{ *o }</option> }) }
                // A value the choices do not list (never expected) still shows.
                if !options.contains(&f.value.as_str()) {
                    <option value={f.value.clone()} selected=true>{ &f.value }</option>
                }
            </select>
        }
    };
    let input = match f.input {
        ConfigInput::YesNo => choice(&["yes", "no"]),
        ConfigInput::Choice(options) => choice(options),
        ConfigInput::Text => {
            let on_input = d.reform(move |e: InputEvent| {
                Action::Panel(PanelAction::ConfigEdit {
                    name,
                    value: e.target_unchecked_into::<HtmlInputElement>().value(),
                })
            });
            let on_key = {
                let d = d.clone();
                Callback::from(move |e: KeyboardEvent| {
                    if e.key() == "Enter" && !e.is_composing() {
                        e.prevent_default();
                        d.emit(Action::Panel(PanelAction::ConfigApply { name }));
                    }
                })
            };
            html! {
                <input id={id.clone()} class="config-input" type="text" value={f.value.clone()}
                    oninput={on_input} onkeydown={on_key} autocomplete="off" spellcheck="false"
                    aria-invalid={matches!(f.status, FieldStatus::Error(_)).then_some("true")}
                    aria-describedby={format!("{id}-status")} />
            }
        }
    };
    let status = match &f.status {
        FieldStatus::Unchanged => html! {},
        FieldStatus::Edited => {
            html! { <span class="config-status" data-status="edited">{ "✎ not applied" }</span> }
        }
        FieldStatus::Pending => {
            html! { <span class="config-status" data-status="pending">{ "… waiting for the reply" }</span> }
        }
        FieldStatus::Applied => {
            html! { <span class="config-status" data-status="applied">{ "✔ applied" }</span> }
        }
        FieldStatus::Error(e) => {
            html! { <span class="config-error" role="alert">{ "⚠ " }{ e }</span> }
        }
    };
    let changed = f.value != f.current;
    html! {
        <li class="config-field" data-option={name} data-status={status_word(&f.status)}>
            <label for={id.clone()} class="config-name"><code>{ name }</code></label>
            <span class="config-help">{ f.help }</span>
            <span class="config-control">
                { input }
                <button type="button" class="config-apply" onclick={apply} aria-label={format!("Apply {name}")}>{ "Apply" }</button>
            </span>
            <span id={format!("{id}-status")} class="config-state">
                { status }
                if changed {
                    <span class="config-current">{ format!(" (now {})", f.current) }</span>
                }
            </span>
        </li>
    }
}

fn status_word(s: &FieldStatus) -> &'static str {
    match s {
        FieldStatus::Unchanged => "unchanged",
        FieldStatus::Edited => "edited",
        FieldStatus::Pending => "pending",
        FieldStatus::Applied => "applied",
        FieldStatus::Error(_) => "error",
    }
}
