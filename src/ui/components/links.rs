use yew::prelude::*;

use crate::ui::state::{Action, LinkRow};

#[derive(Properties, PartialEq)]
pub struct LinksProps {
    pub rows: Vec<LinkRow>,
    pub dispatch: Callback<Action>,
}

#[function_component(Links)]
pub fn links(props: &LinksProps) -> Html {
    html! {
        <section class="links" aria-label="Network links">
            <h2>{ "Links" }</h2>
            if props.rows.is_empty() {
                <p class="empty">{ "No replication links." }</p>
            } else {
                <table>
                    <thead>
                        <tr>
                            <th scope="col">{ "master → replica" }</th>
                            <th scope="col">{ "state" }</th>
                            <th scope="col">{ "network" }</th>
                        </tr>
                    </thead>
                    <tbody>{ for props.rows.iter().map(|r| row(r, &props.dispatch)) }</tbody>
                </table>
            }
        </section>
    }
}

fn row(r: &LinkRow, dispatch: &Callback<Action>) -> Html {
    let (a, b, cut) = (r.master, r.replica, r.cut);
    let onclick = dispatch.reform(move |_: MouseEvent| if cut { Action::Heal(a, b) } else { Action::Cut(a, b) });
    let verb = if cut { "Heal" } else { "Cut" };
    let state = match r.word {
        Some(w) => html! {
            <span class="state" data-state={w.as_str()}>
                <span class="symbol" aria-hidden="true">{ w.symbol() }</span>{ w.as_str() }
            </span>
        },
        None => html! { <span class="state">{ "not replicating" }</span> },
    };
    html! {
        <tr data-link={r.label.clone()} data-cut={cut.to_string()}>
            <th scope="row">{ &r.label }<span class="names">{ &r.names }</span></th>
            <td>{ state }</td>
            <td>
                <span class="net">{ if cut { "cut" } else { "ok" } }</span>
                <button type="button" class={classes!("net-toggle", cut.then_some("heal"))} onclick={onclick}
                    aria-label={format!("{verb} link {}", r.label)}>{ verb }</button>
            </td>
        </tr>
    }
}
