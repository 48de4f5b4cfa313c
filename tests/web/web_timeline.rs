//! The timeline in a real browser: transport bar, slider, the space-time diagram and the
//! event log linked both ways, keyboard shortcuts and the help overlay.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_timeline::`
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn event_index(root: &Element) -> usize {
    text(root, ".event-index")
        .trim_start_matches('#')
        .parse()
        .unwrap()
}

/// Whether the master's Keys tab (left open by `synced_with_a_set`) lists k.
fn master_has_k(root: &Element) -> bool {
    text(root, ".keys-tab").contains("\"k\"")
}

/// Steps virtual time with the page's button until the replicas are up, then SET k v.
async fn synced_with_a_set(root: &Element) {
    for _ in 0..15 {
        let up = all(root, ".topo-edge")
            .iter()
            .all(|l| l.get_attribute("data-state").as_deref() == Some("online"));
        if up {
            break;
        }
        click(root, ".step").await;
    }
    type_line(root, "SET k v").await;
    click(root, ".step").await;
    click(root, ".panel-tab[data-tab=\"keys\"]").await;
    assert!(master_has_k(root));
}

#[wasm_bindgen_test]
async fn diagram_and_log_select_each_other() {
    let root = mount().await;
    synced_with_a_set(&root).await;
    let arrows = all(&root, ".st-svg .arrow");
    assert!(
        !arrows.is_empty() && arrows.len() <= 30,
        "{} arrows",
        arrows.len()
    );
    assert!(
        all(&root, ".st-svg *").len() < 400,
        "the diagram stays a few hundred elements"
    );

    // Click the arrow carrying the SET to a replica: its row in the log lights up.
    let set = arrows
        .iter()
        .find(|a| a.text_content().unwrap_or_default().contains("SET k v"))
        .expect("an arrow labelled SET k v");
    let index = set.get_attribute("data-arrow").unwrap();
    click_element(set).await;
    let row = find(&root, &format!(".event-row[data-event=\"{index}\"]"));
    assert!(row.class_list().contains("selected"));
    assert_eq!(row.get_attribute("aria-selected").as_deref(), Some("true"));
    assert!(
        row.text_content().unwrap().contains("SET k v [offset"),
        "{}",
        row.text_content().unwrap()
    );
    assert!(find(&root, &format!(".arrow[data-arrow=\"{index}\"]"))
        .class_list()
        .contains("selected"));
    assert_eq!(all(&root, ".event-row.selected").len(), 1);

    // Click another message's row in the log: its arrow lights up, the first one not.
    // The message just before it: its row is drawn, and there is a future after it.
    let order: Vec<String> = all(&root, ".st-svg .arrow")
        .iter()
        .map(|a| a.get_attribute("data-arrow").unwrap())
        .collect();
    let at = order.iter().position(|i| *i == index).unwrap();
    assert!(at > 0, "messages before the SET are shown too");
    let other = order[at - 1].clone();
    click_element(&find(&root, &format!(".event-row[data-event=\"{other}\"]"))).await;
    assert!(find(&root, &format!(".arrow[data-arrow=\"{other}\"]"))
        .class_list()
        .contains("selected"));
    assert!(!find(&root, &format!(".arrow[data-arrow=\"{index}\"]"))
        .class_list()
        .contains("selected"));
    assert!(find(&root, &format!(".event-row[data-event=\"{other}\"]"))
        .class_list()
        .contains("selected"));

    // "Go to" travels in time to just after it: the rest is the recorded future.
    click(&root, ".event-row.selected .ev-goto").await;
    assert!(event_index(&root) >= other.parse::<usize>().unwrap());
    assert!(exists(&root, ".past"), "a recorded future is ahead");
    assert_eq!(text(&root, ".run-state"), "paused");
    click(&root, ".latest").await;
    assert!(!exists(&root, ".past"));
}

#[wasm_bindgen_test]
async fn the_slider_scrubs_and_the_keys_step() {
    let root = mount().await;
    synced_with_a_set(&root).await;
    let end = event_index(&root);
    let total: usize = text(&root, ".scrub-label")
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(total, end + 1);

    let slider: HtmlInputElement = find(&root, ".scrub-range").dyn_into().unwrap();
    slider.set_value("40");
    fire(&slider, "input").await;
    let at = event_index(&root);
    assert!((40..end).contains(&at), "scrubbed to #{at}");
    assert!(!master_has_k(&root), "before the SET");
    assert!(text(&root, ".past").contains("recorded events ahead"));
    assert_eq!(text(&root, ".run-state"), "paused");

    // → and ← step one event; Shift+→ a second; all from the keyboard.
    let app = find(&root, "main.app");
    press(&app, "ArrowRight", false).await;
    let forward = event_index(&root);
    assert!(forward > at);
    press(&app, "ArrowLeft", false).await;
    assert_eq!(event_index(&root), at);
    let clock = text(&root, ".clock-value");
    press(&app, "ArrowRight", true).await;
    assert_ne!(
        text(&root, ".clock-value"),
        clock,
        "Shift+→ moves a second on"
    );

    // Space plays: the replay follows the recorded future, the SET included.
    press(&app, " ", false).await;
    assert_eq!(text(&root, ".run-state"), "running");
    press(&app, " ", false).await;
    assert_eq!(text(&root, ".run-state"), "paused");
    for _ in 0..12 {
        click(&root, ".step").await;
    }
    assert!(
        master_has_k(&root),
        "the console line typed in the future was replayed"
    );
    assert!(!exists(&root, ".past"));

    // Keys typed into the console are text, not shortcuts.
    click(&root, ".panel-tab[data-tab=\"console\"]").await;
    let input = find(&root, ".console-input");
    let before = event_index(&root);
    press(&input, "ArrowLeft", false).await;
    press(&input, "?", false).await;
    assert_eq!(event_index(&root), before);
    assert!(!exists(&root, ".help-dialog"));
}

#[wasm_bindgen_test]
async fn help_overlay_speed_and_theme() {
    let root = mount().await;
    let app = find(&root, "main.app");

    press(&app, "?", true).await;
    let dialog = find(&root, ".help-dialog");
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("dialog"));
    assert_eq!(dialog.get_attribute("aria-modal").as_deref(), Some("true"));
    assert!(dialog.text_content().unwrap().contains("Play / pause"));
    let active = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .unwrap();
    assert!(
        active.class_list().contains("help-close"),
        "focus moves into the dialog"
    );
    // Tab from the last button wraps to the first: focus stays in the dialog.
    press(&active, "Tab", false).await;
    let active = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .unwrap();
    assert!(
        active.class_list().contains("help-theme-toggle"),
        "{:?}",
        active.class_name()
    );
    // Shortcuts are off while the help is open.
    press(&app, " ", false).await;
    assert_eq!(text(&root, ".run-state"), "running");
    press(&active, "Escape", false).await;
    assert!(!exists(&root, ".help-dialog"));

    // Speed: the menu and + / −.
    let select: HtmlSelectElement = find(&root, ".speed-select").dyn_into().unwrap();
    assert_eq!(select.value(), "100");
    select.set_value("25");
    fire(&select, "change").await;
    let select: HtmlSelectElement = find(&root, ".speed-select").dyn_into().unwrap();
    assert_eq!(select.value(), "25");
    press(&app, "+", true).await;
    assert_eq!(
        find(&root, ".speed-select")
            .dyn_into::<HtmlSelectElement>()
            .unwrap()
            .value(),
        "50"
    );
    press(&app, "-", false).await;
    press(&app, "-", false).await;
    assert_eq!(
        find(&root, ".speed-select")
            .dyn_into::<HtmlSelectElement>()
            .unwrap()
            .value(),
        "10"
    );
    let options: Vec<String> = all(&root, ".speed-select option")
        .iter()
        .map(|o| o.text_content().unwrap())
        .collect();
    assert_eq!(options.first().map(String::as_str), Some("0.1×"));
    assert_eq!(options.last().map(String::as_str), Some("100×"));

    // t sets a theme on <html>; pressing it again switches back.
    let html = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .document_element()
        .unwrap();
    press(&app, "t", false).await;
    let first = html.get_attribute("data-theme").expect("a theme is set");
    press(&app, "t", false).await;
    let second = html.get_attribute("data-theme").unwrap();
    assert_ne!(first, second);
    assert!(["light", "dark"].contains(&first.as_str()));

    // Number keys pick the console's server; / focuses its input.
    press(&app, "2", false).await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6381>");
    press(&app, "/", false).await;
    let active = web_sys::window()
        .unwrap()
        .document()
        .unwrap()
        .active_element()
        .unwrap();
    assert!(active.class_list().contains("console-input"));
}
