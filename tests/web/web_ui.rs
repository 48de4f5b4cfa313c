//! The playground in a real browser: mounted, clicked and typed into like a user would,
//! with virtual time stepped by the page's own "Step +1 s" button so every run is the same.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_ui::`
//! (or `GECKODRIVER=$(command -v geckodriver)` for Firefox).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn node(port: u16) -> String {
    format!(".topo-node[data-port=\"{port}\"]")
}

/// The state word on the drawn link from the master (6380) to the replica on `port`.
fn link_word(root: &Element, port: u16) -> String {
    find(root, &format!(".topo-edge[data-link=\"6380 → {port}\"]"))
        .get_attribute("data-state")
        .unwrap()
}

/// The keys the Keys tab of the server on `port` lists (selecting that server).
async fn keys_of(root: &Element, port: u16) -> String {
    click(root, &node(port)).await;
    click(root, ".panel-tab[data-tab=\"keys\"]").await;
    let keys = root
        .query_selector(".keys-tab")
        .unwrap()
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    click(root, ".panel-tab[data-tab=\"console\"]").await;
    keys
}

/// Steps virtual time one second at a time until both replicas report their link up.
async fn until_synced(root: &Element) -> u32 {
    for seconds in 0..15 {
        let words = [link_word(root, 6381), link_word(root, 6382)];
        if words.iter().all(|w| w == "online") {
            return seconds;
        }
        // Until then the links say what is happening, never nothing.
        assert!(
            words
                .iter()
                .all(|w| ["connecting", "handshake", "syncing", "down"].contains(&w.as_str())),
            "{words:?}"
        );
        click(root, ".step").await;
    }
    panic!(
        "replicas not up after 15 s: {} / {}",
        text(root, &node(6381)),
        text(root, &node(6382))
    );
}

#[wasm_bindgen_test]
async fn a_set_on_the_master_shows_up_on_both_replicas() {
    let root = mount().await;
    assert!(text(&root, ".hint").contains("SET k v"));
    assert_eq!(text(&root, ".clock-value"), "00:00.0");
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6380>");

    let waited = until_synced(&root).await;
    // repl-diskless-sync-delay is 5 s: a full sync cannot be done much sooner.
    assert!((5..=8).contains(&waited), "synced after {waited} s");
    assert!(!keys_of(&root, 6381).await.contains("\"k\""));
    click(&root, &node(6380)).await;

    type_line(&root, "SET k v").await;
    let transcript = text(&root, ".transcript");
    assert!(
        transcript.contains("127.0.0.1:6380> SET k v"),
        "{transcript}"
    );
    assert_eq!(text(&root, ".transcript .entry:last-child .out"), "OK");
    assert_eq!(
        find(&root, ".console-input")
            .dyn_into::<HtmlInputElement>()
            .unwrap()
            .value(),
        ""
    );

    click(&root, ".step").await;
    for port in [6380, 6381, 6382] {
        let keys = keys_of(&root, port).await;
        assert!(
            keys.contains("\"k\"") && keys.contains("\"v\""),
            "{port}: {keys}"
        );
    }
    let offset = |port| text(&root, &format!("{} .topo-offset", node(port)));
    assert_ne!(offset(6380), "0");
    assert_eq!(offset(6381), offset(6380));
    assert_eq!(offset(6382), offset(6380));
}

#[wasm_bindgen_test]
async fn a_replica_refuses_writes_and_a_bad_line_stays_typed() {
    let root = mount().await;
    until_synced(&root).await;

    choose(&root, ".console-server", "replica-1").await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6381>");
    type_line(&root, "SET x y").await;
    let error = find(&root, ".transcript .entry:last-child .out.error");
    assert_eq!(
        error.text_content().unwrap(),
        "(error) READONLY You can't write against a read only replica."
    );
    assert!(text(&root, ".transcript").contains("127.0.0.1:6381> SET x y"));

    // redis-cli refuses unbalanced quotes; the line must survive for fixing.
    type_line(&root, "SET \"x y").await;
    assert_eq!(text(&root, ".notice"), "Invalid argument(s)");
    assert_eq!(
        find(&root, ".console-input")
            .dyn_into::<HtmlInputElement>()
            .unwrap()
            .value(),
        "SET \"x y"
    );

    // Cutting replica-1 off from the drawing's link menu shows in words, and so does healing.
    let edge = ".topo-edge[data-link=\"6380 → 6381\"]";
    assert_eq!(
        text(&root, ".topo-link .topo-peer option:checked"),
        "master (6380)"
    );
    click(&root, ".topo-cut").await;
    click(&root, ".step").await;
    // Down, or at a whole second trying again (the cron retries then, and fails 2 ms later).
    assert!(["down", "connecting"].contains(&link_word(&root, 6381).as_str()));
    assert_eq!(
        find(&root, edge).get_attribute("data-cut").as_deref(),
        Some("true")
    );
    assert!(text(&root, edge).contains("cut"), "{}", text(&root, edge));
    click(&root, ".topo-heal").await;
    click(&root, ".step").await;
    click(&root, ".step").await;
    assert_eq!(link_word(&root, 6381), "online");
}
