use web_sys::{Element, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use crate::ui::model::timeline::{EventClass, EventLogView, EventRow};
use crate::ui::state::Action;

/// Height of one row, in CSS pixels: fixed so the list can stand in for rows it does not
/// draw with two spacers of exactly their height.
pub const ROW_PX: usize = 24;
/// Rows kept between the viewport and either edge of the drawn window before a scroll
/// asks for a new window.
const MARGIN_ROWS: usize = 10;

/// See `follow` in [`event_log`].
#[derive(Clone, Copy, Default)]
struct Follow {
    following: bool,
    scrolled_to: Option<i32>,
}

/// Whether the list shows its last row (to within half a row).
fn at_bottom(el: &Element) -> bool {
    el.scroll_top() + el.client_height() + ROW_PX as i32 / 2 >= el.scroll_height()
}

#[derive(Properties, PartialEq)]
pub struct EventLogProps {
    pub view: EventLogView,
    pub dispatch: Callback<Action>,
}

/// The bus's event log as a windowed list: a few hundred rows drawn around what is
/// scrolled into view, however long the run. Click a row to select it (the diagram
/// highlights the same event); "Go to" travels in time to it.
#[function_component(EventLog)]
pub fn event_log(props: &EventLogProps) -> Html {
    let v = &props.view;
    let list_ref = use_node_ref();
    // Whether the list follows the newest event, as of the latest redraw, and where it
    // last scrolled itself to do so. A scroll event and a scroll queued for the next
    // frame both act later than the redraw that caused them, so both read this instead of
    // what their own redraw knew:
    // - a scroll event reports a position some time after it is made, when a tick may
    //   have added rows below: a position the list chose itself is not the user
    //   scrolling up (read so, it stopped the following within seconds under a load);
    // - a queued scroll to the end is dropped if the following stopped meanwhile, or if
    //   the user scrolled up since the last one (their scroll event, still to come,
    //   stops the following; scrolling now would undo their move).
    let follow = use_mut_ref(Follow::default);
    {
        let mut f = follow.borrow_mut();
        if v.following && !f.following {
            f.scrolled_to = None; // a new following starts wherever the list stands
        }
        f.following = v.following;
    }
    {
        let list_ref = list_ref.clone();
        let follow = follow.clone();
        use_effect_with((v.following, v.total), move |(following, _)| {
            if *following {
                if let Some(el) = list_ref.cast::<Element>() {
                    super::next_frame(move || {
                        let mut f = follow.borrow_mut();
                        // Up from where the list put itself, and not at the end: the user.
                        // (A list that got shorter, by time travel back, was moved up by
                        // the browser, to its end.)
                        let scrolled_up =
                            f.scrolled_to.is_some_and(|at| el.scroll_top() < at) && !at_bottom(&el);
                        if f.following && !scrolled_up {
                            el.set_scroll_top(el.scroll_height());
                            f.scrolled_to = Some(el.scroll_top());
                        }
                    });
                }
            }
        });
    }
    {
        // A selection made elsewhere (the diagram, a key) scrolls its row into view.
        let list_ref = list_ref.clone();
        use_effect_with((v.selected, v.selected_row), move |(_, row)| {
            if let (Some(row), Some(el)) = (row, list_ref.cast::<Element>()) {
                let top = (*row * ROW_PX) as i32;
                let (scroll, height) = (el.scroll_top(), el.client_height());
                if top < scroll || top + ROW_PX as i32 > scroll + height {
                    el.set_scroll_top((top - height / 2).max(0));
                }
            }
        });
    }

    let (first, drawn, total) = (v.first, v.rows.len(), v.total);
    // Scroll events fire often: only those that need another window reach the reducer.
    let on_scroll = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: Event| {
            let el = e.target_unchecked_into::<Element>();
            let f = *follow.borrow();
            if f.following && f.scrolled_to == Some(el.scroll_top()) {
                return; // the list's own move to the end
            }
            let following = f.following;
            let px = |v: i32| v.max(0) as usize;
            let (scroll, height) = (px(el.scroll_top()), px(el.client_height()));
            let at_bottom = at_bottom(&el);
            let top_row = scroll / ROW_PX;
            let bottom_row = (scroll + height).div_ceil(ROW_PX);
            let inside = (first == 0 || top_row >= first + MARGIN_ROWS)
                && (first + drawn >= total || bottom_row + MARGIN_ROWS <= first + drawn);
            let action = if at_bottom {
                (!following).then_some(Action::ScrollLog(None))
            } else if following || !inside {
                Some(Action::ScrollLog(Some(top_row)))
            } else {
                None
            };
            if let Some(action) = action {
                dispatch.emit(action);
            }
        })
    };

    let rows_shown: Vec<u64> = v.rows.iter().map(|r| r.index).collect();
    let selected = v.selected;
    let on_key = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            let pos = selected.and_then(|s| rows_shown.iter().position(|&i| i == s));
            let next = match e.key().as_str() {
                "ArrowDown" => pos.map_or(rows_shown.len().checked_sub(1), |p| {
                    Some((p + 1).min(rows_shown.len() - 1))
                }),
                "ArrowUp" => pos.map_or(rows_shown.len().checked_sub(1), |p| {
                    Some(p.saturating_sub(1))
                }),
                "Enter" => {
                    if let Some(s) = selected {
                        e.prevent_default();
                        dispatch.emit(Action::JumpTo(s as usize));
                    }
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            if let Some(i) = next.and_then(|p| rows_shown.get(p)) {
                dispatch.emit(Action::SelectEvent(Some(*i)));
            }
        })
    };

    let filter = v.filter.clone();
    let on_server = props.dispatch.reform(move |e: Event| {
        let value = e.target_unchecked_into::<HtmlSelectElement>().value();
        let mut f = filter.clone();
        f.server = value.parse().ok();
        Action::SetLogFilter(f)
    });
    let kinds = EventClass::ALL.iter().map(|&class| {
        let filter = v.filter.clone();
        let onchange = props.dispatch.reform(move |e: Event| {
            let shown = e.target_unchecked_into::<HtmlInputElement>().checked();
            Action::SetLogFilter(filter.with_class(class, shown))
        });
        html! {
            <label class="ev-filter-kind" data-kind={class.as_str()}>
                <input type="checkbox" checked={!v.filter.hidden.contains(&class)} {onchange} />
                <span aria-hidden="true">{ class.symbol() }</span>{ class.as_str() }
            </label>
        }
    });

    let top = v.first * ROW_PX;
    let bottom = (v.total - v.first - v.rows.len()) * ROW_PX;
    let active = v
        .selected
        .filter(|s| v.rows.iter().any(|r| r.index == *s))
        .map(|s| format!("ev-{s}"));
    let summary = if v.total == v.unfiltered {
        format!("{} events", v.total)
    } else {
        format!("{} of {} events", v.total, v.unfiltered)
    };
    html! {
        <section class="event-log" id="region-log" aria-labelledby="region-log embed-title" aria-label="Event log">
            <div class="event-log-head">
                <h2>{ "Event log" }<span class="ev-count">{ summary }</span></h2>
                if !v.following {
                    <button type="button" class="ev-follow" onclick={props.dispatch.reform(|_: MouseEvent| Action::ScrollLog(None))}>
                        { "Newest ↓" }
                    </button>
                }
            </div>
            <fieldset class="ev-filters">
                <legend>{ "Show" }</legend>
                <label class="ev-filter-server">
                    { "Server " }
                    <select class="ev-server" onchange={on_server}>
                        <option value="all" selected={v.filter.server.is_none()}>{ "all" }</option>
                        { for v.servers.iter().map(|(id, label)| html! {
                            <option value={id.to_string()} selected={v.filter.server == Some(*id)}>{ label }</option>
                        }) }
                    </select>
                </label>
                { for kinds }
            </fieldset>
            <div class="event-list" ref={list_ref} onscroll={on_scroll} onkeydown={on_key} tabindex="0"
                role="listbox" aria-label="Events (↑/↓ select, Enter goes to)" aria-activedescendant={active}>
                <div class="ev-spacer" style={format!("height:{top}px")} aria-hidden="true"></div>
                // Keyed by event: as the window moves, rows that stay are moved, not
                // rewritten, and a row whose props are equal is not rendered again.
                { for v.rows.iter().map(|r| html! {
                    <EventRowItem key={r.index} row={r.clone()} dispatch={props.dispatch.clone()} />
                }) }
                <div class="ev-spacer" style={format!("height:{bottom}px")} aria-hidden="true"></div>
                if v.rows.is_empty() {
                    <p class="empty">{ if v.unfiltered == 0 { "No events yet." } else { "No events match the filter." } }</p>
                }
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct EventRowProps {
    row: EventRow,
    dispatch: Callback<Action>,
}

/// One row of the list, its own component so an unchanged row costs a comparison.
#[function_component(EventRowItem)]
fn event_row(props: &EventRowProps) -> Html {
    let r = &props.row;
    let index = r.index;
    let select = props
        .dispatch
        .reform(move |_: MouseEvent| Action::SelectEvent(Some(index)));
    let go = props.dispatch.reform(move |e: MouseEvent| {
        e.stop_propagation();
        Action::JumpTo(index as usize)
    });
    html! {
        <div id={format!("ev-{index}")} class={classes!("event-row", r.selected.then_some("selected"))}
            data-event={index.to_string()} data-kind={r.class.as_str()} role="option"
            aria-selected={r.selected.to_string()} onclick={select} style={format!("height:{ROW_PX}px")}>
            <span class="ev-index">{ format!("#{index}") }</span>
            <span class="ev-time">{ r.time.clone() }</span>
            <span class="ev-kind" title={r.class.as_str()}>
                <span aria-hidden="true">{ r.class.symbol() }</span>
                <span class="ev-kind-word">{ r.class.as_str() }</span>
            </span>
            <span class="ev-text" title={r.title.clone()}>{ r.text.clone() }</span>
            if r.selected {
                <button type="button" class="ev-goto" onclick={go} aria-keyshortcuts="g"
                    aria-label={format!("Go to event #{index}")} title="Travel in time to just after this event (g)">
                    { "Go to" }
                </button>
            }
        </div>
    }
}
