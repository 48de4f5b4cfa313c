//! The playground as an embed (`?embed=1`) in a real browser: only the panels asked for,
//! a title line leading to the full page, and read-only that takes no typing.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web_embed`
//! (or `GECKODRIVER=$(command -v geckodriver)` for Firefox).
#![cfg(target_arch = "wasm32")]

use replscope::ui::embed::{EmbedOptions, READ_ONLY};
use replscope::ui::page::Opening;
use replscope::ui::AppProps;
use wasm_bindgen_test::*;
use web_sys::Element;

#[path = "web/support.rs"]
mod support;
use support::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The page as `index.html<query>` would open it, with the wall-clock interval off.
async fn embed(query: &str) -> Element {
    let embed = Some(EmbedOptions::from_query(query).expect("an embed query"));
    let opening = Opening::from_address(query, "");
    mount_with(yew::props!(AppProps {
        autoplay: false,
        opening,
        embed
    }))
    .await
}

fn body() -> Element {
    web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .body()
        .unwrap()
        .into()
}

fn focused_class() -> String {
    let doc = web_sys::window().unwrap().document().unwrap();
    doc.active_element()
        .map(|e| e.class_name())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn only_the_chosen_panels_render_under_a_title_line() {
    let root = embed("?embed=1&guide=first-sync").await;
    for shown in [
        ".embed-head",
        ".controls",
        ".topology",
        ".narration",
        ".timeline",
    ] {
        assert!(exists(&root, shown), "{shown} missing");
    }
    // The full page's chrome, and the panels not asked for, are not there.
    for hidden in [
        ".top",
        ".hint",
        ".guide-select",
        ".share-open",
        ".server-panel",
        ".inspect",
        ".theme-toggle",
        ".help-open",
        ".embed-notice",
    ] {
        assert!(!exists(&root, hidden), "{hidden} shown");
    }
    assert_eq!(
        text(&root, ".embed-title"),
        "First sync: a replica attaches"
    );
    assert_eq!(all(&root, ".topo-node").len(), 2);
    // autoplay=1 (the default) plays the scenario from its first step.
    assert_eq!(text(&root, ".run-state"), "running");

    // "Open in replscope" leads to the full page at this run: its link is made as the
    // pointer reaches it, so it is the run as it stands.
    let open = find(&root, ".embed-open");
    assert_eq!(open.get_attribute("target").as_deref(), Some("_blank"));
    fire(&open, "mouseenter").await;
    let href = open.get_attribute("href").unwrap();
    let (page, link) = href.split_once("#v1.").unwrap_or_else(|| panic!("{href}"));
    assert!(!page.contains('?'), "the full page, not the embed: {href}");
    assert!(link.len() > 100, "{href}");

    let root = embed("?embed=1&panels=console,inspect&height=320&autoplay=0&colour=red").await;
    for shown in [".server-panel", ".inspect", ".console-input"] {
        assert!(exists(&root, shown), "{shown} missing");
    }
    for hidden in [".topology", ".narration", ".timeline"] {
        assert!(!exists(&root, hidden), "{hidden} shown");
    }
    assert_eq!(
        find(&root, ".app.embed").get_attribute("style").as_deref(),
        Some("height: 320px")
    );
    assert_eq!(
        text(&root, ".embed-notice"),
        "Options ignored: colour=red (not an embed option)."
    );
    assert_eq!(text(&root, ".embed-title"), "replscope");
    assert_eq!(text(&root, ".run-state"), "paused");
    // Not read-only: the console takes a line, as on the full page.
    type_line(&root, "SET k v").await;
    assert!(
        text(&root, ".transcript").contains("127.0.0.1:6380> SET k v"),
        "{}",
        text(&root, ".transcript")
    );
}

#[wasm_bindgen_test]
async fn read_only_takes_no_typing_and_no_changes_but_time_moves() {
    let root = embed("?embed=1&panels=topology,console&readonly=1&autoplay=0").await;
    let transcript = text(&root, ".transcript");
    assert!(
        !exists(&root, ".console-input") && !exists(&root, ".send"),
        "no line to type into"
    );
    assert_eq!(text(&root, ".console-read-only"), READ_ONLY);
    assert!(
        !exists(&root, ".topo-add")
            && !exists(&root, ".topo-actions")
            && !exists(&root, ".topo-hint")
    );
    let tabs: Vec<String> = all(&root, ".panel-tab")
        .iter()
        .map(|t| t.get_attribute("data-tab").unwrap())
        .collect();
    assert_eq!(tabs, ["console", "info", "keys"], "no Config or Load");

    // "/" focuses the console input on the full page; here there is none to focus, and
    // keys typed on the page change nothing.
    press(&body(), "/", false).await;
    assert!(
        !focused_class().contains("console-input"),
        "{}",
        focused_class()
    );
    for key in ["S", "E", "T", " ", "k", "Enter"] {
        press(&body(), key, false).await;
    }
    // Selecting a server still works (watching), and time still moves.
    click(&root, ".topo-node[data-port=\"6380\"]").await;
    let clock = text(&root, ".clock-value");
    step(&root, 10).await;
    assert_ne!(text(&root, ".clock-value"), clock);
    assert_eq!(text(&root, ".transcript"), transcript, "nothing was sent");
    assert!(!text(&root, ".transcript").contains("SET"));
    let edges = all(&root, ".topo-edge");
    assert_eq!(edges.len(), 2);
    assert!(
        edges
            .iter()
            .all(|e| e.get_attribute("data-state").as_deref() == Some("online")),
        "the replicas synced"
    );
}
