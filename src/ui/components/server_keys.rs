use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::ui::model::server_panel::{KeyDetail, KeyRow, KeysView, PanelAction};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct KeysTabProps {
    pub view: KeysView,
    pub dispatch: Callback<Action>,
}

/// The keyspace browser: a database, a KEYS-style pattern, a page of keys, and one key
/// opened with its elements.
#[function_component(KeysTab)]
pub fn keys_tab(props: &KeysTabProps) -> Html {
    let v = &props.view;
    let d = &props.dispatch;
    let on_db = d.reform(|e: Event| {
        let db = e
            .target_unchecked_into::<HtmlSelectElement>()
            .value()
            .parse()
            .unwrap_or(0);
        Action::Panel(PanelAction::KeysDb(db))
    });
    let on_pattern = d.reform(|e: InputEvent| {
        Action::Panel(PanelAction::KeysPattern(
            e.target_unchecked_into::<HtmlInputElement>().value(),
        ))
    });
    html! {
        <div class="keys-tab">
            <div class="keys-filter">
                <label for="keys-db">{ "database " }</label>
                <select id="keys-db" class="keys-db" onchange={on_db} disabled={v.dbs.is_empty()}>
                    if v.dbs.is_empty() {
                        <option value="0" selected=true>{ "db0 (empty)" }</option>
                    }
                    { for v.dbs.iter().map(|&(db, n)| html! {
                        <option value={db.to_string()} selected={db == v.db}>{ format!("db{db} ({n})") }</option>
                    }) }
                </select>
                <label for="keys-pattern">{ "pattern " }</label>
                <input id="keys-pattern" class="keys-pattern" type="text" placeholder="*" value={v.pattern.clone()}
                    oninput={on_pattern} autocomplete="off" spellcheck="false" />
                <span class="keys-count">{ format!("{} matching", v.matching) }</span>
            </div>
            if v.rows.is_empty() {
                <p class="empty">{ "(empty)" }</p>
            } else {
                <table class="keys browser">
                    <thead>
                        <tr>
                            <th scope="col">{ "key" }</th>
                            <th scope="col" class="kind">{ "type" }</th>
                            <th scope="col">{ "value" }</th>
                            <th scope="col" class="ttl-col">{ "TTL" }</th>
                        </tr>
                    </thead>
                    <tbody>{ for v.rows.iter().map(|r| row(r, d)) }</tbody>
                </table>
                { pager("keys-pager", "Keys", v.page, v.pages, d, PanelAction::KeysPage) }
            }
            if let Some(open) = &v.open {
                { detail(open, d) }
            }
        </div>
    }
}

fn row(r: &KeyRow, d: &Callback<Action>) -> Html {
    let raw = r.raw.clone();
    let open = r.open;
    let onclick = d.reform(move |_: MouseEvent| {
        Action::Panel(PanelAction::OpenKey((!open).then(|| raw.clone())))
    });
    html! {
        <tr class={classes!(r.open.then_some("open"))}>
            <td class="key">
                <button type="button" class="key-open" {onclick} aria-expanded={r.open.to_string()}
                    aria-label={format!("{} key {}", if r.open { "Close" } else { "Open" }, r.key)}>
                    <code>{ &r.key }</code>
                </button>
            </td>
            <td class="kind">{ r.kind }</td>
            <td class="value"><code>{ &r.summary }</code></td>
            <td class="ttl">{ r.ttl.clone().unwrap_or_else(|| "–".into()) }</td>
        </tr>
    }
}

fn pager(
    class: &'static str,
    what: &'static str,
    page: usize,
    pages: usize,
    d: &Callback<Action>,
    to: fn(usize) -> PanelAction,
) -> Html {
    if pages <= 1 {
        return html! {};
    }
    let prev = d.reform(move |_: MouseEvent| Action::Panel(to(page.saturating_sub(1))));
    let next = d.reform(move |_: MouseEvent| Action::Panel(to(page + 1)));
    html! {
        <nav class={classes!("pager", class)} id={class} aria-labelledby={[class, " embed-title"].concat()} aria-label={format!("{what} pages")}>
            <button type="button" class="prev" onclick={prev} disabled={page == 0}
                aria-label={format!("Previous page of {}", what.to_ascii_lowercase())}>{ "◀" }</button>
            <span class="page">{ format!("page {} of {pages}", page + 1) }</span>
            <button type="button" class="next" onclick={next} disabled={page + 1 >= pages}
                aria-label={format!("Next page of {}", what.to_ascii_lowercase())}>{ "▶" }</button>
        </nav>
    }
}

fn detail(k: &KeyDetail, d: &Callback<Action>) -> Html {
    let close = d.reform(|_: MouseEvent| Action::Panel(PanelAction::OpenKey(None)));
    let all = k.show_all;
    let toggle = d.reform(move |_: MouseEvent| Action::Panel(PanelAction::ShowAll(!all)));
    html! {
        <section class="key-detail" id="region-key" aria-labelledby="region-key embed-title" aria-label={format!("Key {}", k.key)}>
            <header>
                <h3><code>{ &k.key }</code></h3>
                <span class="kind">{ k.kind }</span>
                <span class="size">{ &k.size }</span>
                <span class="ttl">{ k.ttl.as_ref().map_or("no expiry".to_string(), |t| format!("expires in {t}")) }</span>
                <button type="button" class="key-close" onclick={close} aria-label="Close key">{ "✕" }</button>
            </header>
            <ol class="elements">
                { for k.elements.iter().map(|e| html! {
                    <li>
                        if !e.label.is_empty() {
                            <span class="label"><code>{ &e.label }</code></span>
                        }
                        <code class="element">{ &e.value }</code>
                    </li>
                }) }
            </ol>
            if k.cut || k.show_all {
                <button type="button" class="show-all" onclick={toggle} aria-pressed={k.show_all.to_string()}>
                    { if k.show_all { "Show less" } else { "Show all" } }
                </button>
            }
            { pager("elements-pager", "Elements", k.page, k.pages, d, PanelAction::ElementsPage) }
        </section>
    }
}
