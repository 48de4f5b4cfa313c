//! The raw bytes of one direction of a link, chunk by chunk, as escaped RESP or hex.

use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::ui::model::inspect::InspectAction;
use crate::ui::model::stream::{ChunkView, StreamLine, StreamView};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct StreamProps {
    pub view: StreamView,
    pub dispatch: Callback<Action>,
}

#[function_component(StreamPanel)]
pub fn stream_panel(props: &StreamProps) -> Html {
    let v = &props.view;
    let chunks_ref = use_node_ref();
    {
        // Follow the newest bytes, like a terminal does.
        let chunks_ref = chunks_ref.clone();
        let newest = v.chunks.last().map(|c| c.index);
        use_effect_with((v.chosen, newest, v.hex), move |_| {
            if let Some(el) = chunks_ref.cast::<web_sys::Element>() {
                super::next_frame(move || el.set_scroll_top(el.scroll_height()));
            }
        });
    }
    let on_link = {
        let links: Vec<(usize, usize)> = v.links.iter().map(|l| (l.from, l.to)).collect();
        props.dispatch.reform(move |e: Event| {
            let i: usize = e
                .target_unchecked_into::<HtmlSelectElement>()
                .value()
                .parse()
                .unwrap_or(0);
            let (from, to) = links.get(i).copied().unwrap_or_default();
            Action::Inspect(InspectAction::PickLink { from, to })
        })
    };
    let on_hex = props.dispatch.reform(|e: Event| {
        Action::Inspect(InspectAction::SetHex(
            e.target_unchecked_into::<HtmlInputElement>().checked(),
        ))
    });
    let on_rdb = props.dispatch.reform(|e: Event| {
        Action::Inspect(InspectAction::ShowRdb(
            e.target_unchecked_into::<HtmlInputElement>().checked(),
        ))
    });
    let on_more = props
        .dispatch
        .reform(|_: MouseEvent| Action::Inspect(InspectAction::ShowMore));
    let shown: usize = v.chunks.iter().map(|c| c.bytes).sum();
    html! {
        <div class="stream" data-hex={v.hex.to_string()}>
            <header class="stream-head">
                <h2>{ "Stream" }</h2>
                if v.links.is_empty() {
                    <p class="empty">{ "No link between servers has carried bytes yet." }</p>
                } else {
                    <label>
                        { "Link: " }
                        <select class="stream-link" aria-label="Link and direction to show" onchange={on_link}>
                            { for v.links.iter().enumerate().map(|(i, l)| html! {
                                <option value={i.to_string()} selected={v.chosen == Some((l.from, l.to))}>{ &l.label }</option>
                            }) }
                        </select>
                    </label>
                    <label class="toggle">
                        <input type="checkbox" class="stream-hex" checked={v.hex} onchange={on_hex} />{ " hex" }
                    </label>
                    <label class="toggle">
                        <input type="checkbox" class="stream-rdb" checked={v.show_rdb} onchange={on_rdb} />{ " show RDB payloads" }
                    </label>
                }
            </header>
            if !v.links.is_empty() {
                <p class="stream-summary">
                    { format!("Showing the newest {shown} of {} bytes ({} of {} chunks).", v.total_bytes, v.chunks.len(), v.total_chunks) }
                    if v.hidden_chunks > 0 {
                        { " " }
                        <button type="button" class="stream-more" onclick={on_more}
                            aria-label={format!("Show more: {} earlier bytes in {} chunks", v.hidden_bytes, v.hidden_chunks)}>
                            { format!("Show more ({} earlier bytes)", v.hidden_bytes) }
                        </button>
                    }
                </p>
                <div class="stream-chunks" ref={chunks_ref} tabindex="0" aria-label="Bytes delivered on this link, oldest first">
                    if v.chunks.is_empty() {
                        <p class="empty">{ "Nothing delivered in this direction yet." }</p>
                    }
                    { for v.chunks.iter().map(|c| chunk(c, v.hex)) }
                </div>
            }
        </div>
    }
}

fn chunk(c: &ChunkView, hex: bool) -> Html {
    let offsets = c
        .offsets
        .map(|(a, b)| format!(" · offsets {a}–{b}"))
        .unwrap_or_default();
    html! {
        <>
            if c.new_conn {
                <p class="conn-sep">{ format!("— connection c{} —", c.conn) }</p>
            }
            <div class="chunk" data-index={c.index.to_string()}>
                <p class="chunk-head">{ format!("#{} · {} · {} B{offsets}", c.index, c.time, c.bytes) }</p>
                if hex {
                    <pre class="hex">{ c.hex.join("\n") }</pre>
                } else {
                    { for c.lines.iter().map(line) }
                }
            </div>
        </>
    }
}

fn line(l: &StreamLine) -> Html {
    let offsets = l.offsets.map(|(a, b)| format!("{a}–{b}"));
    html! {
        <div class="line" data-kind={l.kind.as_str()}>
            <span class="line-label">{ &l.label }</span>
            <span class="line-offsets">{ offsets.unwrap_or_default() }</span>
            <code class="line-text">{ &l.text }</code>
            if let Some(full) = &l.full {
                <pre class="rdb-full">{ full }</pre>
            }
        </div>
    }
}
