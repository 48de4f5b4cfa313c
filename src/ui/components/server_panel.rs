use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::bus::ServerId;
use crate::ui::components::console::Console;
use crate::ui::components::server_config::ConfigTab;
use crate::ui::components::server_keys::KeysTab;
use crate::ui::model::server_panel::{
    InfoView, LoadForm, LoadKind, LoadView, PanelAction, PanelView, Tab, TabView,
};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct ServerPanelProps {
    pub view: PanelView,
    /// `(id, label)` of every server the panel can show.
    pub targets: Vec<(ServerId, String)>,
    pub dispatch: Callback<Action>,
    /// A read-only embed: the console without its input, and no Config or Load tab.
    #[prop_or_default]
    pub read_only: bool,
}

/// Everything about the selected server, in tabs: Console | INFO | Keys | Config | Load.
#[function_component(ServerPanel)]
pub fn server_panel(props: &ServerPanelProps) -> Html {
    let v = &props.view;
    let selected = v.server;
    let on_select = props.dispatch.reform(|e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        Action::SelectConsole(value.parse().unwrap_or(0))
    });
    let panel_id = format!("server-panel-{}", v.tab.slug());
    let body = match &v.body {
        TabView::Console(c) => {
            html! { <Console {selected} view={c.clone()} dispatch={props.dispatch.clone()} read_only={props.read_only} /> }
        }
        TabView::Info(i) => info_tab(i),
        TabView::Keys(k) => {
            html! { <KeysTab view={k.clone()} dispatch={props.dispatch.clone()} /> }
        }
        TabView::Config(c) => {
            html! { <ConfigTab view={c.clone()} dispatch={props.dispatch.clone()} /> }
        }
        TabView::Load(l) => load_tab(l, &props.dispatch),
    };
    html! {
        <section class="server-panel" id="region-server" aria-labelledby="region-server embed-title" aria-label="Server panel">
            <div class="panel-head">
                <h2>{ "Server" }</h2>
                <label class="target">
                    <span class="sr-only">{ "Selected server" }</span>
                    <select class="console-server" aria-label="Selected server" onchange={on_select}>
                        { for props.targets.iter().map(|(id, label)| html! {
                            <option value={id.to_string()} selected={*id == selected}>{ label }</option>
                        }) }
                    </select>
                </label>
                <span class="panel-title">{ &v.title }</span>
            </div>
            <div class="panel-tabs" role="tablist" aria-label="Server panel tabs">
                { for Tab::ALL.iter().filter(|&&t| !props.read_only || !matches!(t, Tab::Config | Tab::Load)).map(|&t| {
                    let on = t == v.tab;
                    let onclick = props.dispatch.reform(move |_: MouseEvent| Action::Panel(PanelAction::SelectTab(t)));
                    html! {
                        <button type="button" role="tab" class={classes!("panel-tab", on.then_some("active"))}
                            data-tab={t.slug()} aria-selected={on.to_string()}
                            aria-controls={on.then(|| format!("server-panel-{}", t.slug()))} {onclick}>
                            { t.label() }
                        </button>
                    }
                }) }
            </div>
            <div class="panel-body" role="tabpanel" id={panel_id} data-tab={v.tab.slug()}
                aria-label={v.tab.label()}>
                { body }
            </div>
        </section>
    }
}

fn info_tab(i: &InfoView) -> Html {
    html! {
        <div class="info-tab">
            <h3>{ "INFO replication" }</h3>
            <pre class="info-text" tabindex="0" aria-label="INFO replication">{ &i.info }</pre>
            <h3>{ "ROLE" }</h3>
            <pre class="role-text" tabindex="0" aria-label="ROLE">{ &i.role }</pre>
            <p class="panel-note">{ "Read from the server as time moves; nothing is sent." }</p>
        </div>
    }
}

fn load_tab(l: &LoadView, dispatch: &Callback<Action>) -> Html {
    let edit = |set: fn(&mut LoadForm, String)| {
        let form = l.form.clone();
        dispatch.reform(move |e: InputEvent| {
            let mut form = form.clone();
            set(
                &mut form,
                e.target_unchecked_into::<HtmlInputElement>().value(),
            );
            Action::Panel(PanelAction::LoadForm(form))
        })
    };
    let on_kind = {
        let form = l.form.clone();
        dispatch.reform(move |e: Event| {
            let i: usize = e
                .target_unchecked_into::<HtmlSelectElement>()
                .value()
                .parse()
                .unwrap_or(0);
            let kind = LoadKind::ALL.get(i).copied().unwrap_or_default();
            Action::Panel(PanelAction::LoadForm(LoadForm {
                kind,
                ..form.clone()
            }))
        })
    };
    let number = |id: &'static str,
                  label: &'static str,
                  value: &str,
                  oninput: Callback<InputEvent>| {
        html! {
            <label class="load-field" for={id}>
                <span>{ label }</span>
                <input type="text" inputmode="numeric" {id} class={id} value={value.to_string()} {oninput} />
            </label>
        }
    };
    let start = dispatch.reform(|_: MouseEvent| Action::Panel(PanelAction::LoadStart));
    let stop = dispatch.reform(|_: MouseEvent| Action::Panel(PanelAction::LoadStop));
    html! {
        <div class="load-tab">
            <div class="load-form">
                <label class="load-field" for="load-kind">
                    <span>{ "command" }</span>
                    <select id="load-kind" class="load-kind" onchange={on_kind}>
                        { for LoadKind::ALL.iter().enumerate().map(|(i, k)| html! {
                            <option value={i.to_string()} selected={*k == l.form.kind}>{ k.label() }</option>
                        }) }
                    </select>
                </label>
                { number("load-rate", "writes/s", &l.form.rate, edit(|f, v| f.rate = v)) }
                { number("load-keys", "key space", &l.form.keys, edit(|f, v| f.keys = v)) }
                { number("load-value-size", "value bytes", &l.form.value_size, edit(|f, v| f.value_size = v)) }
                if l.form.kind == LoadKind::SetEx {
                    { number("load-ttl", "TTL s", &l.form.ttl, edit(|f, v| f.ttl = v)) }
                }
            </div>
            <div class="load-actions">
                <button type="button" class="load-start" onclick={start}>
                    { if l.running { "Restart" } else { "Start" } }
                </button>
                <button type="button" class="load-stop" onclick={stop} disabled={!l.running}>{ "Stop" }</button>
                <span class="load-state" data-running={l.running.to_string()}>
                    { if l.running { "▶ running" } else { "■ stopped" } }
                    if let Some(target) = &l.target {
                        { format!(" · on {target}") }
                    }
                </span>
            </div>
            if let Some(error) = &l.error {
                <p class="notice" role="alert">{ error }</p>
            }
            <dl class="load-stats">
                <dt>{ "writes sent" }</dt>
                <dd class="load-sent">{ l.sent }</dd>
                <dt>{ "replies" }</dt>
                <dd class="load-replies">{ format!("{} ({} errors)", l.replies, l.errors) }</dd>
                if let Some(cmd) = &l.command {
                    <dt>{ "next" }</dt>
                    <dd><code class="load-next">{ cmd }</code></dd>
                }
            </dl>
            <p class="panel-note">
                { "Writes are sent in batches every 100 ms of virtual time through the server's console (as redis-cli --pipe), so replay and stepping back reproduce them." }
            </p>
        </div>
    }
}
