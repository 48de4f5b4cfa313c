use yew::prelude::*;

use crate::engine::Role;
use crate::ui::state::{KeyView, ServerView};

#[derive(Properties, PartialEq)]
pub struct ServerCardProps {
    pub view: ServerView,
}

#[function_component(ServerCard)]
pub fn server_card(props: &ServerCardProps) -> Html {
    let v = &props.view;
    let role = match v.role {
        Role::Master => "master",
        Role::Replica => "replica",
    };
    let link = v.link.as_ref().map(|l| {
        html! {
            <>
                <dt>{ format!("link to {}", l.master_port) }</dt>
                <dd class="link" data-link={l.word.as_str()}>
                    <span class="state" data-state={l.word.as_str()}>
                        <span class="symbol" aria-hidden="true">{ l.word.symbol() }</span>
                        { l.word.as_str() }
                    </span>
                    if l.cut {
                        <span class="cut">{ " · network cut" }</span>
                    }
                    <span class="detail">{ &l.detail }</span>
                </dd>
            </>
        }
    });
    let replicas = (v.role == Role::Master).then(|| {
        html! {
            <>
                <dt>{ "replicas" }</dt>
                <dd class="replicas">
                    if v.replicas.is_empty() {
                        { "none" }
                    } else {
                        <ul>{ for v.replicas.iter().map(|r| html! { <li>{ r }</li> }) }</ul>
                    }
                </dd>
            </>
        }
    });
    let hidden = v.key_count - v.keys.len();
    html! {
        <article class="card" data-server={v.name.clone()} data-role={role} aria-label={format!("{} {}:{}", v.name, v.host, v.port)}>
            <header>
                <h2>{ &v.name }</h2>
                <span class="addr">{ format!("{}:{}", v.host, v.port) }</span>
                <span class="role" data-role={role}>{ role }</span>
            </header>
            <dl class="facts">
                <dt>{ "replid" }</dt>
                <dd><code>{ &v.replid }</code></dd>
                <dt>{ v.offset_name }</dt>
                <dd class="offset"><code>{ &v.offset }</code></dd>
                { for link }
                { for replicas }
            </dl>
            <h3>{ format!("db0 · {} {}", v.key_count, if v.key_count == 1 { "key" } else { "keys" }) }</h3>
            if v.keys.is_empty() {
                <p class="empty">{ "(empty)" }</p>
            } else {
                <table class="keys">
                    <thead><tr><th scope="col">{ "key" }</th><th scope="col">{ "value" }</th></tr></thead>
                    <tbody>{ for v.keys.iter().map(key_row) }</tbody>
                </table>
                if hidden > 0 {
                    <p class="more">{ format!("… and {hidden} more") }</p>
                }
            }
        </article>
    }
}

fn key_row(k: &KeyView) -> Html {
    // Text nodes are escaped by Yew; `quote` already made control bytes visible.
    let title = k.full_value.as_ref().map(|full| {
        let shown: String = full.chars().take(2_000).collect();
        format!("{shown} ({} bytes)", k.bytes)
    });
    html! {
        <tr>
            <td class="key"><code>{ &k.key }</code></td>
            <td class="value">
                <code title={title}>{ &k.value }</code>
                if k.full_value.is_some() {
                    <span class="bytes">{ format!(" {} bytes", k.bytes) }</span>
                }
                if let Some(ttl) = &k.ttl {
                    <span class="ttl">{ format!(" expires in {ttl}") }</span>
                }
            </td>
        </tr>
    }
}
