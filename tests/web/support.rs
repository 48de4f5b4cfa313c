//! What the browser tests share: a fresh app mounted with the wall-clock interval off, and
//! the page used as a user would (clicks, keys, typing, choosing from a menu, the page's
//! own "Step +1 s" button), each followed by Yew's render so the next look sees its effect.
#![allow(dead_code)] // each test file uses a different part of it

use replscope::ui::{App, AppProps};
use wasm_bindgen::JsCast;
use web_sys::{
    Element, Event, EventInit, HtmlElement, HtmlInputElement, HtmlSelectElement, KeyboardEvent,
    KeyboardEventInit,
};

/// A fresh app in its own `<div>`, with the wall-clock interval off.
pub async fn mount() -> Element {
    mount_with(yew::props!(AppProps { autoplay: false })).await
}

/// [`mount`], opening what an address would ask for (a link, a guided scenario).
pub async fn mount_opening(opening: replscope::ui::page::Opening) -> Element {
    mount_with(yew::props!(AppProps {
        autoplay: false,
        opening
    }))
    .await
}

/// A fresh app in its own `<div>` with these props (an opening, embed options), the guided
/// scenarios' files served to it ([`serve_guides`]).
pub async fn mount_with(props: AppProps) -> Element {
    serve_guides(GUIDE_FILES, 0);
    let root = render(props).await;
    opened(&root).await;
    root
}

/// A fresh app in its own `<div>` with these props, whatever the page's `fetch` answers,
/// as first drawn (a run it opens may still be opening).
pub async fn render(props: AppProps) -> Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), props).render();
    yew::scheduler::flush().await;
    root
}

/// Waits while a run opens in slices (a link, a guided scenario), and while its panels are
/// drawn after it (`aria-busy`): each slice and each panel is a task of its own, so the
/// page draws in between.
pub async fn opened(root: &Element) {
    for _ in 0..2_000 {
        if !exists(root, ".opening") && !exists(root, "main[aria-busy]") {
            return;
        }
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            web_sys::window()
                .unwrap()
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 5)
                .unwrap();
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
        yew::scheduler::flush().await;
    }
    panic!("the run did not open in 10 s");
}

pub fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

pub fn exists(root: &Element, selector: &str) -> bool {
    root.query_selector(selector).unwrap().is_some()
}

pub fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

pub fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().dyn_into().unwrap())
        .collect()
}

pub fn bubbling() -> EventInit {
    let init = EventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init
}

/// Fires a bubbling `event` (`input`, `change`, `mouseenter`…) at `el`.
pub async fn fire(el: &Element, event: &str) {
    el.dispatch_event(&Event::new_with_event_init_dict(event, &bubbling()).unwrap())
        .unwrap();
    yew::scheduler::flush().await;
}

/// A click on an HTML element, or on an SVG one (the topology's servers, the diagram's
/// arrows), which has no `click()`: a bubbling click event is what the page listens for.
pub async fn click_element(el: &Element) {
    match el.dyn_ref::<HtmlElement>() {
        Some(html) => {
            html.click();
            yew::scheduler::flush().await;
        }
        None => fire(el, "click").await,
    }
}

pub async fn click(root: &Element, selector: &str) {
    click_element(&find(root, selector)).await;
}

/// A key pressed with focus on `target`; returns whether the page took it (prevented
/// its default).
pub async fn press(target: &Element, key: &str, shift: bool) -> bool {
    let init = KeyboardEventInit::new();
    init.set_key(key);
    init.set_shift_key(shift);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&event).unwrap();
    yew::scheduler::flush().await;
    event.default_prevented()
}

/// Types `line` into the console and presses Enter.
pub async fn type_line(root: &Element, line: &str) {
    let input: HtmlInputElement = find(root, ".console-input").dyn_into().unwrap();
    input.set_value(line);
    fire(&input, "input").await;
    press(&input, "Enter", false).await;
}

/// Picks the first option of the menu at `selector` whose text starts with `starts_with`.
pub async fn choose(root: &Element, selector: &str, starts_with: &str) {
    let select: HtmlSelectElement = find(root, selector).dyn_into().unwrap();
    let index = (0..select.length())
        .find(|&i| {
            select
                .item(i)
                .unwrap()
                .text_content()
                .unwrap()
                .starts_with(starts_with)
        })
        .unwrap_or_else(|| panic!("no option {starts_with} in {selector}"));
    select.set_selected_index(index as i32);
    fire(&select, "change").await;
    opened(root).await;
}

/// Virtual seconds, one press of the page's "Step +1 s" button each.
pub async fn step(root: &Element, seconds: u32) {
    for _ in 0..seconds {
        click(root, ".step").await;
    }
}

/// The guided scenarios' files, compiled into the tests: the page fetches them
/// (`guided/<id>.json`, copied beside it by trunk), and the test runner's server has none.
pub const GUIDE_FILES: &[(&str, &str)] = &[
    (
        "first-sync",
        include_str!("../../src/scenario/guided/first-sync.json"),
    ),
    (
        "writes-during-full-sync",
        include_str!("../../src/scenario/guided/writes-during-full-sync.json"),
    ),
    (
        "brief-cut-partial-resync",
        include_str!("../../src/scenario/guided/brief-cut-partial-resync.json"),
    ),
    (
        "backlog-too-small",
        include_str!("../../src/scenario/guided/backlog-too-small.json"),
    ),
    (
        "full-sync-loop",
        include_str!("../../src/scenario/guided/full-sync-loop.json"),
    ),
    (
        "failover-psync2",
        include_str!("../../src/scenario/guided/failover-psync2.json"),
    ),
    (
        "failover-psync1",
        include_str!("../../src/scenario/guided/failover-psync1.json"),
    ),
    (
        "chained-replicas",
        include_str!("../../src/scenario/guided/chained-replicas.json"),
    ),
    (
        "min-replicas-to-write",
        include_str!("../../src/scenario/guided/min-replicas-to-write.json"),
    ),
    (
        "read-only-replica",
        include_str!("../../src/scenario/guided/read-only-replica.json"),
    ),
    (
        "restart-without-persistence",
        include_str!("../../src/scenario/guided/restart-without-persistence.json"),
    ),
    (
        "silent-one-way-partition",
        include_str!("../../src/scenario/guided/silent-one-way-partition.json"),
    ),
    (
        "wait-semantics",
        include_str!("../../src/scenario/guided/wait-semantics.json"),
    ),
    (
        "legacy-sync-cost",
        include_str!("../../src/scenario/guided/legacy-sync-cost.json"),
    ),
];

/// The guided scenario `id`, as the page opens it.
pub fn guide(id: &str) -> replscope::scenario::Scenario {
    let (_, json) = GUIDE_FILES
        .iter()
        .find(|(i, _)| *i == id)
        .unwrap_or_else(|| panic!("no guided scenario {id}"));
    replscope::scenario::Scenario::from_json(json).unwrap()
}

/// Makes the page's `fetch` answer `guided/<id>.json` with `files`' text and anything else
/// with a 404, each after `delay_ms`.
pub fn serve_guides(files: &[(&str, &str)], delay_ms: u32) {
    let served = js_sys::Object::new();
    for (id, json) in files {
        let path = replscope::scenario::guided::path(id);
        js_sys::Reflect::set(&served, &path.into(), &(*json).into()).unwrap();
    }
    let fetch = js_sys::Function::new_with_args(
        "files, delay, url",
        "return new Promise(done => setTimeout(() => done(url in files \
            ? new Response(files[url]) : new Response('', {status: 404})), delay))",
    );
    let fetch = fetch.bind2(&wasm_bindgen::JsValue::NULL, &served, &delay_ms.into());
    let window = web_sys::window().unwrap();
    js_sys::Reflect::set(&window, &"fetch".into(), &fetch).unwrap();
}
