//! The playground in a real browser: mounted, clicked and typed into like a user would,
//! with virtual time stepped by the page's own "Step +1 s" button so every run is the same.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_ui`
//! (or `GECKODRIVER=$(command -v geckodriver)` for Firefox).
#![cfg(target_arch = "wasm32")]

use replscope::ui::{App, AppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, Event, EventInit, HtmlElement, HtmlInputElement, HtmlSelectElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh app in its own `<div>`, with the wall-clock interval off.
async fn mount() -> Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root_and_props(root.clone(), AppProps { autoplay: false }).render();
    yew::scheduler::flush().await;
    root
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector).unwrap().unwrap_or_else(|| panic!("nothing matches {selector}"))
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

fn card(root: &Element, name: &str) -> String {
    text(root, &format!(".card[data-server=\"{name}\"]"))
}

fn link_word(root: &Element, name: &str) -> String {
    find(root, &format!(".card[data-server=\"{name}\"] .link")).get_attribute("data-link").unwrap()
}

async fn click(root: &Element, selector: &str) {
    find(root, selector).dyn_into::<HtmlElement>().unwrap().click();
    yew::scheduler::flush().await;
}

fn bubbling() -> EventInit {
    let init = EventInit::new();
    init.set_bubbles(true);
    init
}

/// Types `line` into the console and presses Enter.
async fn type_line(root: &Element, line: &str) {
    let input: HtmlInputElement = find(root, ".console-input").dyn_into().unwrap();
    input.set_value(line);
    input.dispatch_event(&Event::new_with_event_init_dict("input", &bubbling()).unwrap()).unwrap();
    yew::scheduler::flush().await;
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    init.set_cancelable(true);
    input.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
    yew::scheduler::flush().await;
}

async fn select_console(root: &Element, server: &str) {
    let select: HtmlSelectElement = find(root, ".console-server").dyn_into().unwrap();
    let index = (0..select.length())
        .find(|&i| select.item(i).unwrap().text_content().unwrap().starts_with(server))
        .unwrap_or_else(|| panic!("no console target {server}"));
    select.set_selected_index(index as i32);
    select.dispatch_event(&Event::new_with_event_init_dict("change", &bubbling()).unwrap()).unwrap();
    yew::scheduler::flush().await;
}

/// Steps virtual time one second at a time until both replicas report their link up.
async fn until_synced(root: &Element) -> u32 {
    for seconds in 0..15 {
        let words = [link_word(root, "replica-1"), link_word(root, "replica-2")];
        if words.iter().all(|w| w == "up") {
            return seconds;
        }
        // Until then the cards say what is happening, never nothing.
        assert!(words.iter().all(|w| ["connecting", "handshake", "syncing", "down"].contains(&w.as_str())), "{words:?}");
        click(root, ".step").await;
    }
    panic!("replicas not up after 15 s: {} / {}", card(root, "replica-1"), card(root, "replica-2"));
}

#[wasm_bindgen_test]
async fn a_set_on_the_master_shows_up_on_both_replica_cards() {
    let root = mount().await;
    assert!(text(&root, ".hint").contains("SET k v"));
    assert_eq!(text(&root, ".clock-value"), "00:00.0");
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6380>");

    let waited = until_synced(&root).await;
    // repl-diskless-sync-delay is 5 s: a full sync cannot be done much sooner.
    assert!((5..=8).contains(&waited), "synced after {waited} s");
    assert!(!card(&root, "replica-1").contains("\"k\""));

    type_line(&root, "SET k v").await;
    let transcript = text(&root, ".transcript");
    assert!(transcript.contains("127.0.0.1:6380> SET k v"), "{transcript}");
    assert_eq!(text(&root, ".transcript .entry:last-child .out"), "OK");
    assert_eq!(find(&root, ".console-input").dyn_into::<HtmlInputElement>().unwrap().value(), "");

    click(&root, ".step").await;
    for name in ["master", "replica-1", "replica-2"] {
        let keys = text(&root, &format!(".card[data-server=\"{name}\"] .keys"));
        assert!(keys.contains("\"k\"") && keys.contains("\"v\""), "{name}: {keys}");
    }
    let offset = |name| text(&root, &format!(".card[data-server=\"{name}\"] .offset"));
    assert_eq!(offset("replica-1"), offset("master"));
    assert_eq!(offset("replica-2"), offset("master"));
}

#[wasm_bindgen_test]
async fn a_replica_refuses_writes_and_a_bad_line_stays_typed() {
    let root = mount().await;
    until_synced(&root).await;

    select_console(&root, "replica-1").await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6381>");
    type_line(&root, "SET x y").await;
    let error = find(&root, ".transcript .entry:last-child .out.error");
    assert_eq!(error.text_content().unwrap(), "(error) READONLY You can't write against a read only replica.");
    assert!(text(&root, ".transcript").contains("127.0.0.1:6381> SET x y"));

    // redis-cli refuses unbalanced quotes; the line must survive for fixing.
    type_line(&root, "SET \"x y").await;
    assert_eq!(text(&root, ".notice"), "Invalid argument(s)");
    assert_eq!(find(&root, ".console-input").dyn_into::<HtmlInputElement>().unwrap().value(), "SET \"x y");

    // Cutting replica-1 off shows in words, and so does healing.
    click(&root, "tr[data-link=\"6380 → 6381\"] button").await;
    click(&root, ".step").await;
    // Down, or at a whole second trying again (the cron retries then, and fails 2 ms later).
    assert!(["down", "connecting"].contains(&link_word(&root, "replica-1").as_str()));
    assert!(card(&root, "replica-1").contains("network cut"));
    assert_eq!(text(&root, "tr[data-link=\"6380 → 6381\"] .net"), "cut");
    click(&root, "tr[data-link=\"6380 → 6381\"] button").await;
    click(&root, ".step").await;
    click(&root, ".step").await;
    assert_eq!(link_word(&root, "replica-1"), "up");
}
