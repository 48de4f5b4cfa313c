//! The backlog as a strip of commands (SVG), with the PSYNC window and replica markers.
//!
//! Pointing at a segment, or moving along the strip with the arrow keys once it has focus,
//! shows the command (escaped) and its offsets below the strip. Colour only repeats what
//! the legend, the labels and the details say.

use yew::prelude::*;

use crate::ui::model::backlog::{BacklogView, Marker, STRIP_WIDTH};

#[derive(Properties, PartialEq)]
pub struct BacklogProps {
    pub view: BacklogView,
}

/// Left margin for replicas whose offset fell out of the backlog.
const GUTTER: f64 = 110.0;
const STRIP_Y: f64 = 34.0;
const STRIP_H: f64 = 40.0;
const MARKER_ROW: f64 = 18.0;
/// Segments at least this wide get their name written in them.
const LABEL_MIN_WIDTH: f64 = 60.0;

#[function_component(BacklogPanel)]
pub fn backlog_panel(props: &BacklogProps) -> Html {
    let v = &props.view;
    let focused = use_state(|| None::<usize>);
    let n = v.segments.len();
    // A new backlog may have fewer segments than the one pointed at.
    let current = (*focused).filter(|&i| i < n);

    let on_keydown = {
        let focused = focused.clone();
        Callback::from(move |e: KeyboardEvent| {
            if n == 0 {
                return;
            }
            let i = current.unwrap_or(0);
            let next = match e.key().as_str() {
                "ArrowRight" => (i + 1).min(n - 1),
                "ArrowLeft" => i.saturating_sub(1),
                "Home" => 0,
                "End" => n - 1,
                _ => return,
            };
            e.prevent_default();
            focused.set(Some(next));
        })
    };
    let on_focus = {
        let focused = focused.clone();
        Callback::from(move |_: FocusEvent| {
            if current.is_none() && n > 0 {
                focused.set(Some(n - 1));
            }
        })
    };

    let header = html! {
        <header class="backlog-head">
            <h2>{ format!("Backlog of {} ({})", v.name, v.port) }</h2>
            <p class="backlog-note">{ &v.note }</p>
        </header>
    };
    if !v.active {
        return html! { <div class="backlog" data-active="false">{ header }</div> };
    }

    let marker_rows = v.markers.len().max(1) as f64;
    let height = STRIP_Y + STRIP_H + 10.0 + marker_rows * MARKER_ROW + 6.0;
    let view_box = format!("0 0 {} {height}", GUTTER + STRIP_WIDTH + 10.0);
    let segments = v.segments.iter().enumerate().map(|(i, s)| {
        let onmouseenter = {
            let focused = focused.clone();
            Callback::from(move |_: MouseEvent| focused.set(Some(i)))
        };
        let x = GUTTER + s.x;
        let label = (s.width >= LABEL_MIN_WIDTH).then(|| {
            html! {
                <text class="seg-label" x={format!("{:.1}", x + s.width / 2.0)} y={format!("{:.1}", STRIP_Y + STRIP_H / 2.0 + 5.0)}
                    text-anchor="middle" aria-hidden="true">{ &s.label }</text>
            }
        });
        html! {
            <g class={classes!("seg", format!("cmd-{}", s.class.key()), (current == Some(i)).then_some("focused"))}
                data-label={s.label.clone()} {onmouseenter}>
                <rect x={format!("{x:.2}")} y={STRIP_Y.to_string()} width={format!("{:.2}", s.width.max(0.5))} height={STRIP_H.to_string()}>
                    <title>{ format!("{} · offsets {}–{}", s.label, s.start, s.end) }</title>
                </rect>
                { for label }
            </g>
        }
    });
    let markers = v.markers.iter().enumerate().map(|(row, m)| marker(m, row));
    let window = html! {
        <g class="window">
            <line x1={GUTTER.to_string()} x2={(GUTTER + STRIP_WIDTH).to_string()} y1="22" y2="22" />
            <line x1={GUTTER.to_string()} x2={GUTTER.to_string()} y1="16" y2="28" />
            <line x1={(GUTTER + STRIP_WIDTH).to_string()} x2={(GUTTER + STRIP_WIDTH).to_string()} y1="16" y2="28" />
            <text x={(GUTTER + 4.0).to_string()} y="14">
                { format!("PSYNC window: offsets {}–{} (first byte … master_repl_offset + 1)", v.window.0, v.window.1) }
            </text>
            <rect class="gone" x="0" y={STRIP_Y.to_string()} width={(GUTTER - 8.0).to_string()} height={STRIP_H.to_string()} >
                <title>{ "Offsets before the backlog's first byte: no longer held (replicas there need a full resync)" }</title>
            </rect>
            <text class="gone-label" x={((GUTTER - 8.0) / 2.0).to_string()} y={(STRIP_Y + STRIP_H / 2.0 + 5.0).to_string()}
                text-anchor="middle">{ format!("< {}", v.first_byte_offset) }</text>
        </g>
    };
    let detail = match current.and_then(|i| v.segments.get(i)) {
        Some(s) => html! {
            <p class="seg-detail" aria-live="polite">
                <span class={classes!("swatch", format!("cmd-{}", s.class.key()))} aria-hidden="true"></span>
                <strong>{ &s.label }</strong>{ format!(" · offsets {}–{} ({} bytes) ", s.start, s.end, s.end - s.start + 1) }
                <code>{ &s.detail }</code>
            </p>
        },
        None => html! {
            <p class="seg-detail" aria-live="polite">{ "Point at a segment (or focus the strip and use ← →) to see its command and offsets." }</p>
        },
    };
    let pct = if v.size > 0 {
        v.histlen as f64 * 100.0 / v.size as f64
    } else {
        0.0
    };
    html! {
        <div class="backlog" data-active="true">
            { header }
            <dl class="backlog-numbers">
                <div><dt>{ "repl_backlog_size" }</dt><dd data-field="size">{ v.size }</dd></div>
                <div><dt>{ "repl_backlog_histlen" }</dt><dd data-field="histlen">{ v.histlen }</dd></div>
                <div><dt>{ "repl_backlog_first_byte_offset" }</dt><dd data-field="first">{ v.first_byte_offset }</dd></div>
                <div><dt>{ "master_repl_offset" }</dt><dd data-field="master-offset">{ v.master_repl_offset }</dd></div>
            </dl>
            <p class="gauge">
                <label>
                    { format!("History held: {} of {} bytes ({pct:.1}%) ", v.histlen, v.size) }
                    <meter min="0" max={v.size.max(1).to_string()} value={v.histlen.min(v.size).to_string()}></meter>
                </label>
                if v.histlen > v.size {
                    <span class="over">{ " · above the setting: Redis frees only whole blocks, and never one a replica still needs" }</span>
                }
            </p>
            <div class="strip" tabindex="0" role="group" onkeydown={on_keydown} onfocus={on_focus}
                aria-label={format!("Backlog strip: {} commands in {} segments. Use the left and right arrow keys to read them.", v.commands, n)}>
                <svg viewBox={view_box} preserveAspectRatio="xMinYMin meet" role="img"
                    aria-label={format!("Backlog holds offsets {} to {}", v.first_byte_offset, v.master_repl_offset)}>
                    { window }
                    { for segments }
                    { for markers }
                </svg>
            </div>
            { detail }
            if let Some(m) = &v.merged {
                <p class="merged">{ m }</p>
            }
            <ul class="legend" aria-label="Legend">
                { for v.legend.iter().map(|l| html! {
                    <li data-class={l.class.key()}>
                        <span class={classes!("swatch", format!("cmd-{}", l.class.key()))} aria-hidden="true"></span>
                        { format!("{}: {} {}, {} bytes", l.class.label(), l.commands, if l.commands == 1 { "span" } else { "spans" }, l.bytes) }
                    </li>
                }) }
            </ul>
            <ul class="markers" aria-label="Replicas">
                if v.markers.is_empty() {
                    <li class="empty">{ "No replica follows this server." }</li>
                }
                { for v.markers.iter().map(|m| html! {
                    <li data-replica={m.name.clone()} data-in-window={m.in_window.to_string()}>
                        <span class="mark" aria-hidden="true">{ if m.in_window { "▲" } else { "✖" } }</span>
                        <strong>{ format!("{} ({})", m.name, m.port) }</strong>
                        { if m.connected { " " } else { " (link down) " } }
                        { &m.note }
                    </li>
                }) }
            </ul>
        </div>
    }
}

fn marker(m: &Marker, row: usize) -> Html {
    let x = if m.in_window {
        GUTTER + m.x
    } else {
        (GUTTER - 8.0) / 2.0
    };
    let y = STRIP_Y + STRIP_H + 4.0 + row as f64 * MARKER_ROW;
    let anchor = if !m.in_window {
        "middle"
    } else if m.x > STRIP_WIDTH * 0.7 {
        "end"
    } else {
        "start"
    };
    let text = format!(
        "{} {} {}",
        if m.in_window { "▲" } else { "✖" },
        m.name,
        m.offset
    );
    html! {
        <g class={classes!("marker", (!m.in_window).then_some("out"))}>
            <line x1={format!("{x:.1}")} x2={format!("{x:.1}")} y1={(STRIP_Y - 2.0).to_string()} y2={format!("{:.1}", y + 2.0)} />
            <text x={format!("{x:.1}")} y={format!("{:.1}", y + 13.0)} text-anchor={anchor}>{ text }</text>
            <title>{ &m.note }</title>
        </g>
    }
}
