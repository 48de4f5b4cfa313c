use web_sys::Element;
use yew::prelude::*;

use crate::ui::model::timeline::{Arrow, DiagramScroll, DiagramView, Mark};
use crate::ui::state::Action;

/// Horizontal distance between two lifelines.
const LANE_W: f64 = 150.0;
/// Room above the first row (the servers' names stay in a sticky strip above the SVG).
const HEADER: f64 = 8.0;
/// Vertical distance between two rows (two consecutive events or sends).
const ROW_H: f64 = 20.0;
const ARROW_HEAD: f64 = 7.0;
/// Height of the sticky strip of server names above the SVG (`.st-lanes` in the CSS).
const LANES_PX: f64 = 26.0;

fn lane_x(lane: usize) -> f64 {
    LANE_W / 2.0 + lane as f64 * LANE_W
}

fn row_y(row: usize) -> f64 {
    HEADER + ROW_H / 2.0 + row as f64 * ROW_H
}

#[derive(Properties, PartialEq)]
pub struct SpaceTimeProps {
    pub view: DiagramView,
    pub dispatch: Callback<Action>,
}

/// A space-time (Lamport) diagram: one lifeline per server, time flowing down in the
/// log's order, and every message an arrow from where it was sent to where it arrived.
/// Clicking an arrow selects its delivery in the event log, and selecting a row there
/// highlights the arrow here.
#[function_component(SpaceTime)]
pub fn space_time(props: &SpaceTimeProps) -> Html {
    let v = &props.view;
    let scroll_ref = use_node_ref();
    let selected_row = v
        .arrows
        .iter()
        .find(|a| a.selected)
        .map(|a| a.recv_row)
        .or_else(|| v.marks.iter().find(|m| m.selected).map(|m| m.row));
    {
        // Follow the newest message, or bring the selected one into view.
        let scroll_ref = scroll_ref.clone();
        let newest = v.arrows.last().map(|a| a.index);
        use_effect_with(
            (v.following, newest, selected_row),
            move |(following, _, selected)| {
                let Some(el) = scroll_ref.cast::<Element>() else {
                    return;
                };
                match selected {
                    Some(row) => {
                        let y = (LANES_PX + row_y(*row)) as i32;
                        let (top, height) = (el.scroll_top(), el.client_height());
                        if y < top + ROW_H as i32 || y > top + height - ROW_H as i32 {
                            el.set_scroll_top((y - height / 2).max(0));
                        }
                    }
                    None if *following => {
                        super::next_frame(move || el.set_scroll_top(el.scroll_height()))
                    }
                    None => {}
                }
            },
        );
    }

    let order: Vec<u64> = v.arrows.iter().map(|a| a.index).collect();
    let current = v.arrows.iter().position(|a| a.selected);
    let on_key = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            let next = match e.key().as_str() {
                "ArrowDown" => current.map_or(order.len().checked_sub(1), |p| {
                    Some((p + 1).min(order.len() - 1))
                }),
                "ArrowUp" => {
                    current.map_or(order.len().checked_sub(1), |p| Some(p.saturating_sub(1)))
                }
                _ => return,
            };
            e.prevent_default();
            if let Some(i) = next.and_then(|p| order.get(p)) {
                dispatch.emit(Action::SelectEvent(Some(*i)));
            }
        })
    };
    let page = |dir: DiagramScroll| {
        props
            .dispatch
            .reform(move |_: MouseEvent| Action::ScrollDiagram(dir))
    };

    let width = LANE_W * v.lanes.len().max(1) as f64;
    let height = row_y(v.rows) + ROW_H / 2.0;
    html! {
        <section class="spacetime" id="region-diagram" aria-labelledby="region-diagram embed-title" aria-label="Space-time diagram">
            <div class="spacetime-head">
                <h2>{ "Messages" }<span class="st-count">{ format!("{} shown", v.arrows.len()) }</span></h2>
                <div class="st-nav">
                    <button type="button" class="st-older" onclick={page(DiagramScroll::Older)} disabled={!v.older}
                        aria-label="Older messages">{ "▲ Older" }</button>
                    <button type="button" class="st-newer" onclick={page(DiagramScroll::Newer)} disabled={!v.newer}
                        aria-label="Newer messages">{ "Newer ▼" }</button>
                    if !v.following {
                        <button type="button" class="st-newest" onclick={page(DiagramScroll::Newest)}>{ "Newest" }</button>
                    }
                </div>
            </div>
            <p class="st-hint">{ "Time flows down. Each arrow is one chunk of bytes, from its send to its arrival; ↑/↓ select." }</p>
            <div class="st-scroll" ref={scroll_ref} tabindex="0" onkeydown={on_key}
                aria-label="Messages between servers (↑/↓ select)">
                if v.arrows.is_empty() && v.marks.is_empty() {
                    <p class="empty">{ "No messages yet." }</p>
                } else {
                    <div class="st-lanes" style={format!("width:{width}px")} aria-hidden="true">
                        { for v.lanes.iter().enumerate().map(|(i, lane)| html! {
                            <span class="st-lane" style={format!("left:{}px;width:{LANE_W}px", lane_x(i) - LANE_W / 2.0)}>{ &lane.label }</span>
                        }) }
                    </div>
                    <svg class="st-svg" width={width.to_string()} height={height.to_string()}
                        viewBox={format!("0 0 {width} {height}")} role="group" aria-label="Space-time diagram">
                        { for v.lanes.iter().enumerate().map(|(i, lane)| html! {
                            <line class="lifeline" data-lane={lane.label.clone()} x1={lane_x(i).to_string()} y1="0"
                                x2={lane_x(i).to_string()} y2={height.to_string()} />
                        }) }
                        { for v.marks.iter().map(|m| mark(m, &props.dispatch)) }
                        { for v.arrows.iter().map(|a| arrow(a, &props.dispatch)) }
                    </svg>
                }
            </div>
        </section>
    }
}

/// An arrow's or a mark's accessible name: the label drawn beside it (shortened, or a
/// word the title puts in parentheses), then the title that says it in full, so the name
/// holds what is seen.
fn name(label: &str, title: &str) -> String {
    if label.is_empty() {
        title.to_string()
    } else {
        format!("{label}: {title}")
    }
}

fn arrow(a: &Arrow, dispatch: &Callback<Action>) -> Html {
    let (x1, y1, x2, y2) = (
        lane_x(a.from),
        row_y(a.send_row),
        lane_x(a.to),
        row_y(a.recv_row),
    );
    let (dx, dy) = (x2 - x1, y2 - y1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    // An open arrowhead at the arrival, drawn in the same path as the shaft.
    let (bx, by) = (x2 - ux * ARROW_HEAD, y2 - uy * ARROW_HEAD);
    let (px, py) = (-uy * ARROW_HEAD * 0.55, ux * ARROW_HEAD * 0.55);
    let path = format!(
        "M{x1:.1} {y1:.1}L{x2:.1} {y2:.1}M{:.1} {:.1}L{x2:.1} {y2:.1}L{:.1} {:.1}",
        bx + px,
        by + py,
        bx - px,
        by - py
    );
    let index = a.index;
    let onclick = dispatch.reform(move |_: MouseEvent| Action::SelectEvent(Some(index)));
    // The label sits on the shaft's middle, on the side it leans away from.
    let (mx, my) = ((x1 + x2) / 2.0, (y1 + y2) / 2.0);
    let anchor = if dx >= 0.0 { "start" } else { "end" };
    let lx = if dx >= 0.0 { mx + 4.0 } else { mx - 4.0 };
    html! {
        <g class={classes!("arrow", a.selected.then_some("selected"))} data-arrow={index.to_string()}
            role="button" tabindex="-1" aria-pressed={a.selected.to_string()} aria-label={name(&a.label, &a.title)} {onclick}>
            <title>{ &a.title }</title>
            <line class="hit" x1={format!("{x1:.1}")} y1={format!("{y1:.1}")} x2={format!("{x2:.1}")} y2={format!("{y2:.1}")} />
            <path class="shaft" d={path} />
            <text class="arrow-label" x={format!("{lx:.1}")} y={format!("{:.1}", my - 3.0)} text-anchor={anchor}>{ &a.label }</text>
        </g>
    }
}

fn mark(m: &Mark, dispatch: &Callback<Action>) -> Html {
    let (x, y) = (lane_x(m.server), row_y(m.row));
    let index = m.index;
    let onclick = dispatch.reform(move |_: MouseEvent| Action::SelectEvent(Some(index)));
    html! {
        <g class={classes!("mark", m.selected.then_some("selected"))} data-event={index.to_string()}
            role="button" tabindex="-1" aria-pressed={m.selected.to_string()} aria-label={name(&m.label, &m.title)} {onclick}>
            <title>{ &m.title }</title>
            <rect class="mark-dot" x={format!("{:.1}", x - 5.0)} y={format!("{:.1}", y - 5.0)} width="10" height="10" />
            <text class="mark-label" x={format!("{:.1}", x - 9.0)} y={format!("{:.1}", y + 4.0)} text-anchor="end">{ &m.label }</text>
        </g>
    }
}
