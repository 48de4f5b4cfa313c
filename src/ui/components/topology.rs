//! The topology view: servers as boxes (masters with a double outline, replicas rounded),
//! replication links as arrows with their state in words, bytes in flight as dots, and a
//! menu of actions on the selected server and on its link with another.
//!
//! Click or Enter on a box selects that server (its console opens); drag a box onto
//! another to make it replicate from that one.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::bus::{Fault, ServerId};
use crate::engine::Role;
use crate::ui::model::topology::{
    drop_action, EdgeView, MessageView, NodeView, PeerView, ProcessWord, TopologyAction,
    TopologyView, LATENCIES_MS, NODE_H, NODE_W,
};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct TopologyProps {
    pub view: TopologyView,
    pub dispatch: Callback<Action>,
    /// A read-only embed: no add button, no menus, no dragging (selecting still works).
    #[prop_or_default]
    pub read_only: bool,
}

/// A drag in progress: which server, and whether the pointer has moved yet (a press and
/// release without moving is a click).
#[derive(Clone, Copy, PartialEq)]
struct Drag {
    server: ServerId,
    moved: bool,
}

/// The menu's selects. After the user picks an option, an `<option selected>` attribute
/// no longer moves the selection, so each render sets their values to what is true now.
#[derive(Clone, Default)]
struct SelectRefs {
    replicaof: NodeRef,
    peer: NodeRef,
    latency: NodeRef,
}

impl SelectRefs {
    fn show(&self, values: &(String, String, String)) {
        for (node, value) in [
            (&self.replicaof, &values.0),
            (&self.peer, &values.1),
            (&self.latency, &values.2),
        ] {
            if let Some(select) = node.cast::<HtmlSelectElement>() {
                select.set_value(value);
            }
        }
    }
}

/// What the three selects should show: REPLICAOF target, link peer, latency.
fn select_values(v: &TopologyView, peer: Option<ServerId>) -> (String, String, String) {
    let n = v.node(v.selected);
    let replicaof = match n {
        Some(NodeView {
            master: Some(m), ..
        }) => m.to_string(),
        Some(NodeView {
            master_port: Some(_),
            ..
        }) => "elsewhere".to_string(),
        _ => "none".to_string(),
    };
    let p = peer.and_then(|p| v.peers.iter().find(|x| x.id == p));
    let latency = p.map_or(String::new(), |p| {
        p.out_dir.latency_ms.max(p.in_dir.latency_ms).to_string()
    });
    (
        replicaof,
        peer.map_or(String::new(), |p| p.to_string()),
        latency,
    )
}

fn topo(dispatch: &Callback<Action>, action: TopologyAction) {
    dispatch.emit(Action::Topology(action));
}

/// The server id of the node under the pointer, whatever element got the event (a touch
/// keeps sending its events to the element it started on).
fn node_at(x: i32, y: i32) -> Option<ServerId> {
    let doc = web_sys::window()?.document()?;
    let hit = doc.element_from_point(x as f32, y as f32)?;
    hit.closest("[data-topo-id]")
        .ok()??
        .get_attribute("data-topo-id")?
        .parse()
        .ok()
}

#[function_component(Topology)]
pub fn topology(props: &TopologyProps) -> Html {
    let v = &props.view;
    let drag = use_state(|| None::<Drag>);
    let peer_choice = use_state(|| None::<ServerId>);

    let selected = v.node(v.selected).cloned();
    // The peer of the link menu: the one picked, else the selected server's master, else
    // the first server it could link with.
    let peer = (*peer_choice)
        .filter(|p| v.peers.iter().any(|x| x.id == *p))
        .or_else(|| selected.as_ref().and_then(|n| n.master))
        .or_else(|| v.peers.first().map(|p| p.id));

    let refs = use_memo((), |_| SelectRefs::default());
    {
        let refs = refs.clone();
        use_effect_with(select_values(v, peer), move |values| refs.show(values));
    }

    let on_move = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| {
            if let Some(d) = *drag {
                if !d.moved {
                    drag.set(Some(Drag { moved: true, ..d }));
                }
            }
        })
    };
    let on_up = {
        let (drag, dispatch) = (drag.clone(), props.dispatch.clone());
        Callback::from(move |e: PointerEvent| {
            if let Some(d) = *drag {
                if d.moved {
                    if let Some(action) = drop_action(d.server, node_at(e.client_x(), e.client_y()))
                    {
                        topo(&dispatch, action);
                    }
                }
                drag.set(None);
            }
        })
    };
    let on_cancel = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| drag.set(None))
    };
    let on_escape = {
        let drag = drag.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                drag.set(None);
            }
        })
    };

    let dragging = drag.filter(|d| d.moved).map(|d| d.server);
    let add = {
        let dispatch = props.dispatch.clone();
        Callback::from(move |_: MouseEvent| topo(&dispatch, TopologyAction::AddServer))
    };
    // The visible "+ Add server" is its name; the port it will take is its description.
    let add_title = match v.next_port {
        Some(port) => format!("Add a server on port {port}"),
        None => "Add a server (the playground is full)".to_string(),
    };
    let read_only = props.read_only;
    html! {
        <section class="topology" id="region-topology" aria-labelledby="region-topology embed-title" aria-label="Topology">
            <div class="topo-head">
                <h2>{ "Topology" }</h2>
                <span class="topo-count">{ format!("{} of 8 servers", v.nodes.len()) }</span>
                if !read_only {
                    <button type="button" class="topo-add" onclick={add} title={add_title}>
                        { "+ Add server" }
                    </button>
                }
            </div>
            if let Some(notice) = &v.notice {
                <p class="topo-notice" role="alert">{ notice }</p>
            }
            if !read_only {
                <p class="topo-hint" aria-live="polite">
                    { match dragging.and_then(|d| v.node(d)) {
                        Some(n) => format!("Drop {} on the server it should replicate from (Esc cancels).", n.name),
                        None => "Click a server to open its console; drag one onto another to make it its replica.".to_string(),
                    } }
                </p>
            }
            <div class="topo-canvas">
                <svg class={classes!("topo-svg", dragging.is_some().then_some("dragging"))}
                    viewBox={format!("0 0 {} {}", v.width, v.height)}
                    // Never drawn larger than 1:1: three servers do not fill a wide screen.
                    style={format!("max-width: {}px", v.width)}
                    role="group" aria-label={format!("{} servers, {} links, {} chunks in flight", v.nodes.len(), v.edges.len(), v.messages.len() + v.messages_hidden)}
                    onpointermove={on_move} onpointerup={on_up} onpointercancel={on_cancel} onkeydown={on_escape}>
                    <defs>
                        <marker id="topo-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" class="topo-arrowhead" />
                        </marker>
                    </defs>
                    <g class="topo-edges">
                        { for v.edges.iter().map(|e| edge(e, v, &props.dispatch, &peer_choice)) }
                    </g>
                    <g class="topo-messages" aria-hidden="true">
                        { for v.messages.iter().map(message) }
                    </g>
                    <g class="topo-nodes">
                        { for v.nodes.iter().map(|n| node(n, dragging, &props.dispatch, (!read_only).then_some(&drag))) }
                    </g>
                </svg>
            </div>
            if v.messages_hidden > 0 {
                <p class="topo-more">{ format!("… and {} more chunks in flight", v.messages_hidden) }</p>
            }
            if let Some(n) = selected.filter(|_| !read_only) {
                { actions(&n, v, peer, &props.dispatch, &peer_choice, &refs) }
            }
        </section>
    }
}

/// `drag`: `None` when servers cannot be dragged (read-only).
fn node(
    n: &NodeView,
    dragging: Option<ServerId>,
    dispatch: &Callback<Action>,
    drag: Option<&UseStateHandle<Option<Drag>>>,
) -> Html {
    let id = n.id;
    let onclick = dispatch.reform(move |_: MouseEvent| Action::SelectConsole(id));
    let onkeydown = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" || e.key() == " " {
                e.prevent_default();
                dispatch.emit(Action::SelectConsole(id));
            }
        })
    };
    let onpointerdown = drag.cloned().map(|drag| {
        Callback::from(move |e: PointerEvent| {
            if e.button() == 0 {
                drag.set(Some(Drag {
                    server: id,
                    moved: false,
                }));
            }
        })
    });
    let role = n.role_word();
    let master = n.role == Role::Master;
    // The name says what the box shows, in its order (so a voice command that reads the
    // box out matches it), then what the box shows only by shape or position.
    let label = format!(
        "{} :{}, {role}, {}, replid {}, {} {}{}{}",
        n.name,
        n.port,
        n.process.as_str(),
        n.replid,
        n.offset_name,
        n.offset,
        n.master_port
            .map(|p| format!(", replicating from :{p}"))
            .unwrap_or_default(),
        if n.selected { ", selected" } else { "" },
    );
    let role_line = format!(
        "{} {role} · {} {}",
        if master { "■" } else { "●" },
        n.process.symbol(),
        n.process.as_str()
    );
    let x = 10;
    html! {
        <g class={classes!("topo-node", n.selected.then_some("selected"), (dragging == Some(id)).then_some("dragged"))}
            key={id.to_string()}
            data-topo-id={id.to_string()} data-port={n.port.to_string()} data-role={role} data-process={n.process.as_str()}
            transform={format!("translate({} {})", n.x, n.y)}
            tabindex="0" role="button" aria-pressed={n.selected.to_string()} aria-label={label}
            {onclick} {onkeydown} {onpointerdown}>
            <title>{ match drag {
                Some(_) => format!("{} — click to open its console, drag onto another server to replicate from it", n.name),
                None => format!("{} — click to select it", n.name),
            } }</title>
            <rect class="topo-box" width={NODE_W.to_string()} height={NODE_H.to_string()} rx={if master { "2" } else { "16" }} />
            if master {
                // A double outline: the master's shape, not only its colour.
                <rect class="topo-box-inner" x="4" y="4" width={(NODE_W - 8).to_string()} height={(NODE_H - 8).to_string()} rx="1" />
            }
            // The spaces between the lines are not drawn (SVG draws text only inside
            // <text>); they keep the lines apart as words in the box's text content.
            <text class="topo-name" x={x.to_string()} y="22">{ &n.name }</text>{ " " }
            <text class="topo-port" x={(NODE_W - 10).to_string()} y="22" text-anchor="end">{ format!(":{}", n.port) }</text>{ " " }
            <text class="topo-role" x={x.to_string()} y="41">{ role_line }</text>{ " " }
            <text class="topo-replid" x={x.to_string()} y="59">{ format!("replid {}", n.replid) }</text>{ " " }
            <text class="topo-offset-name" x={x.to_string()} y="76">{ n.offset_name }</text>{ " " }
            <text class="topo-offset" x={x.to_string()} y="93">{ &n.offset }</text>
        </g>
    }
}

fn edge(
    e: &EdgeView,
    v: &TopologyView,
    dispatch: &Callback<Action>,
    peer_choice: &UseStateHandle<Option<ServerId>>,
) -> Html {
    let port = |id| v.node(id).map_or(0, |n| n.port);
    let (mp, rp) = (port(e.master), port(e.replica));
    let net = e.network_words(mp, rp);
    let (master, replica) = (e.master, e.replica);
    let select = {
        let (dispatch, peer_choice) = (dispatch.clone(), peer_choice.clone());
        move || {
            peer_choice.set(Some(master));
            dispatch.emit(Action::SelectConsole(replica));
        }
    };
    let onclick = {
        let select = select.clone();
        Callback::from(move |_: MouseEvent| select())
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            select();
        }
    });
    let held = match (e.down_dir.held, e.up_dir.held) {
        (true, true) => "both",
        (true, false) => "to-replica",
        (false, true) => "to-master",
        (false, false) => "none",
    };
    let state_line = format!("{} {}", e.word.symbol(), e.word.as_str());
    let detail = if net.is_empty() {
        e.detail.clone()
    } else {
        format!("{} · {net}", e.detail)
    };
    let width = 8 + 7 * detail.chars().count().max(state_line.chars().count()) as i32;
    html! {
        <g class={classes!("topo-edge", e.selected.then_some("selected"))} key={e.label.clone()}
            data-link={e.label.clone()} data-state={e.word.as_str()} data-cut={e.cut.to_string()} data-held={held}>
            <line class="topo-line" x1={e.x1.to_string()} y1={e.y1.to_string()} x2={e.x2.to_string()} y2={e.y2.to_string()}
                marker-end="url(#topo-arrow)" />
            <g class="topo-edge-label" transform={format!("translate({} {})", e.label_x, e.label_y)}
                tabindex="0" role="button"
                aria-label={format!("link {}: {}, {}{}", e.label, e.word.as_str(), e.detail, if net.is_empty() { String::new() } else { format!(", {net}") })}
                {onclick} {onkeydown}>
                <rect x={(-width / 2).to_string()} y="-15" width={width.to_string()} height="30" rx="4" />
                <text class="topo-edge-state" y="-3" text-anchor="middle">{ state_line }</text>{ " " }
                <text class="topo-edge-detail" y="11" text-anchor="middle">{ detail }</text>
            </g>
        </g>
    }
}

fn message(m: &MessageView) -> Html {
    html! {
        <circle class={classes!("topo-msg", m.held.then_some("held"))} key={m.key.clone()}
            data-from={m.from.to_string()} data-to={m.to.to_string()} data-bytes={m.bytes.to_string()}
            cx="0" cy="0" r={m.r.to_string()}
            style={format!("transform: translate({}px, {}px)", m.x, m.y)}>
            <title>{ &m.title }</title>
        </circle>
    }
}

fn actions(
    n: &NodeView,
    v: &TopologyView,
    peer: Option<ServerId>,
    dispatch: &Callback<Action>,
    peer_choice: &UseStateHandle<Option<ServerId>>,
    refs: &SelectRefs,
) -> Html {
    let id = n.id;
    let act = |label: &str, class: &'static str, enabled: bool, action: TopologyAction| {
        let dispatch = dispatch.clone();
        let onclick = Callback::from(move |_: MouseEvent| topo(&dispatch, action.clone()));
        html! {
            <button type="button" class={class} disabled={!enabled} {onclick}
                aria-label={format!("{label} ({})", n.name)}>{ label.to_string() }</button>
        }
    };
    let up = n.process != ProcessWord::Down;
    let others: Vec<&NodeView> = v.nodes.iter().filter(|o| o.id != id).collect();
    let replicaof_change = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            let master = if value == "none" {
                None
            } else {
                value.parse().ok()
            };
            topo(&dispatch, TopologyAction::ReplicaOf { server: id, master });
        })
    };
    let current = n.master.map_or("none".to_string(), |m| m.to_string());
    let rdb = match n.disk_rdb {
        Some(bytes) => format!("RDB on disk: {bytes} B"),
        None => "no RDB on disk".to_string(),
    };
    html! {
        <div class="topo-actions" aria-label={format!("Actions on {}", n.name)} role="group">
            <h3>{ format!("{} · 127.0.0.1:{} · {}", n.name, n.port, n.role_word()) }</h3>
            <div class="topo-row">
                <label class="topo-replicaof">
                    { "REPLICAOF " }
                    <select ref={refs.replicaof.clone()} class="topo-replicaof-select" aria-label={format!("Replicate {} from", n.name)}
                        onchange={replicaof_change} disabled={!up}>
                        <option value="none" selected={n.master.is_none() && n.master_port.is_none()}>{ "NO ONE (master)" }</option>
                        if n.master.is_none() && n.master_port.is_some() {
                            <option value="elsewhere" selected=true disabled=true>
                                { format!("port {} (not shown)", n.master_port.unwrap_or_default()) }
                            </option>
                        }
                        { for others.iter().map(|o| html! {
                            <option value={o.id.to_string()} selected={current == o.id.to_string()}>
                                { format!("{} ({})", o.name, o.port) }
                            </option>
                        }) }
                    </select>
                </label>
            </div>
            <div class="topo-row" role="group" aria-label="Process">
                <span class="topo-row-label">{ "Process" }</span>
                { act("Crash", "topo-crash", up, TopologyAction::Fault(Fault::Crash { server: id })) }
                { act("Restart with RDB", "topo-restart-rdb", true, TopologyAction::Fault(Fault::Restart { server: id, from_disk: true })) }
                { act("Restart empty", "topo-restart-empty", true, TopologyAction::Fault(Fault::Restart { server: id, from_disk: false })) }
                if n.process == ProcessWord::Paused {
                    { act("Resume", "topo-resume", true, TopologyAction::Fault(Fault::Resume { server: id })) }
                } else {
                    { act("Pause", "topo-pause", up, TopologyAction::Fault(Fault::Pause { server: id })) }
                }
                { act("SAVE", "topo-save", up, TopologyAction::Fault(Fault::Save { server: id })) }
                <span class="topo-rdb">{ rdb }</span>
                { act("Remove", "topo-remove", v.nodes.len() > 1, TopologyAction::RemoveServer(id)) }
            </div>
            { for peer.and_then(|p| v.peers.iter().find(|x| x.id == p)).map(|p| link_menu(n, p, v, dispatch, peer_choice, refs)) }
        </div>
    }
}

fn link_menu(
    n: &NodeView,
    p: &PeerView,
    v: &TopologyView,
    dispatch: &Callback<Action>,
    peer_choice: &UseStateHandle<Option<ServerId>>,
    refs: &SelectRefs,
) -> Html {
    let (a, b) = (n.id, p.id);
    let button = |label: String, class: &'static str, action: TopologyAction| {
        let dispatch = dispatch.clone();
        let onclick = Callback::from(move |_: MouseEvent| topo(&dispatch, action.clone()));
        html! { <button type="button" class={class} aria-label={label.clone()} {onclick}>{ label }</button> }
    };
    let choose = {
        let peer_choice = peer_choice.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<HtmlSelectElement>().value();
            peer_choice.set(value.parse().ok());
        })
    };
    let latency = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: Event| {
            if let Ok(ms) = e
                .target_unchecked_into::<HtmlSelectElement>()
                .value()
                .parse()
            {
                topo(&dispatch, TopologyAction::SetLatency { a, b, ms });
            }
        })
    };
    let (out_word, in_word) = (
        format!("{}→{}", n.port, p.port),
        format!("{}→{}", p.port, n.port),
    );
    let mut state = Vec::new();
    if p.cut {
        state.push("✂ cut both ways".to_string());
    }
    if p.out_dir.held {
        state.push(format!("❚❚ {out_word} held"));
    }
    if p.in_dir.held {
        state.push(format!("❚❚ {in_word} held"));
    }
    if state.is_empty() {
        state.push("✔ network ok".to_string());
    }
    let faulted = p.cut || p.out_dir.held || p.in_dir.held;
    let shown_latency = p.out_dir.latency_ms.max(p.in_dir.latency_ms);
    html! {
        <div class="topo-row topo-link" role="group" aria-label="Network link" data-peer={p.port.to_string()}>
            <label>
                { "Link with " }
                <select ref={refs.peer.clone()} class="topo-peer" aria-label={format!("Link of {} with", n.name)} onchange={choose}>
                    { for v.peers.iter().map(|x| html! {
                        <option value={x.id.to_string()} selected={x.id == p.id}>{ format!("{} ({})", x.name, x.port) }</option>
                    }) }
                </select>
            </label>
            <span class="topo-net" data-faulted={faulted.to_string()}>{ state.join(" · ") }</span>
            if p.cut {
                { button(format!("Heal {}⇄{}", n.port, p.port), "topo-heal", TopologyAction::Fault(Fault::Heal { a, b })) }
            } else {
                { button(format!("Cut {}⇄{}", n.port, p.port), "topo-cut", TopologyAction::Fault(Fault::Cut { a, b })) }
            }
            if p.out_dir.held {
                { button(format!("Release {out_word}"), "topo-release-out", TopologyAction::Fault(Fault::Release { from: a, to: b })) }
            } else {
                { button(format!("Hold {out_word}"), "topo-hold-out", TopologyAction::Fault(Fault::Hold { from: a, to: b })) }
            }
            if p.in_dir.held {
                { button(format!("Release {in_word}"), "topo-release-in", TopologyAction::Fault(Fault::Release { from: b, to: a })) }
            } else {
                { button(format!("Hold {in_word}"), "topo-hold-in", TopologyAction::Fault(Fault::Hold { from: b, to: a })) }
            }
            <label>
                { "Latency " }
                <select ref={refs.latency.clone()} class="topo-latency" aria-label={format!("One-way latency between {} and {}", n.port, p.port)} onchange={latency}>
                    { for LATENCIES_MS.iter().map(|&ms| html! {
                        <option value={ms.to_string()} selected={ms == shown_latency}>{ format!("{ms} ms") }</option>
                    }) }
                    if !LATENCIES_MS.contains(&shown_latency) {
                        <option value={shown_latency.to_string()} selected=true>{ format!("{shown_latency} ms") }</option>
                    }
                </select>
            </label>
        </div>
    }
}
