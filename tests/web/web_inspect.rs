//! The inspection panels in a real browser: Backlog, Sync path and Stream tabs after real
//! actions (a SET, a cut and heal), with virtual time stepped by the page's own button.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_inspect::`
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement, HtmlSelectElement};

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn all_text(root: &Element, selector: &str) -> Vec<String> {
    let list = root.query_selector_all(selector).unwrap();
    (0..list.length())
        .map(|i| list.item(i).unwrap().text_content().unwrap_or_default())
        .collect()
}

/// Synced replicas and one `SET k v` on the master.
async fn after_set() -> Element {
    let root = mount().await;
    step(&root, 8).await;
    type_line(&root, "SET k v").await;
    step(&root, 1).await;
    root
}

#[wasm_bindgen_test]
async fn the_backlog_tab_shows_the_set_its_offsets_and_the_replicas() {
    let root = after_set().await;
    assert_eq!(
        find(&root, "[data-tab=\"backlog\"]")
            .get_attribute("aria-selected")
            .as_deref(),
        Some("true")
    );
    let master_offset = text(&root, ".topo-node[data-port=\"6380\"] .topo-offset");
    assert_eq!(
        text(&root, ".backlog [data-field=\"master-offset\"]"),
        master_offset,
        "agrees with INFO"
    );
    assert_eq!(text(&root, ".backlog [data-field=\"first\"]"), "1");
    assert_eq!(text(&root, ".backlog [data-field=\"size\"]"), "1048576");
    assert!(text(&root, ".strip").contains("PSYNC window: offsets 1–"));

    // Pointing at the SET segment shows the command, escaped, and its offsets.
    fire(
        &find(&root, ".strip .seg[data-label=\"SET\"]"),
        "mouseenter",
    )
    .await;
    let detail = text(&root, ".seg-detail");
    assert!(
        detail.contains("SET · offsets 24–50 (27 bytes)"),
        "{detail}"
    );
    assert!(
        detail.contains("*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n"),
        "{detail}"
    );
    // And the keyboard reaches every segment.
    press(&find(&root, ".strip"), "Home", false).await;
    assert!(
        text(&root, ".seg-detail").contains("SELECT · offsets 1–23"),
        "{}",
        text(&root, ".seg-detail")
    );

    let markers = all_text(&root, ".markers li");
    assert_eq!(markers.len(), 2, "{markers:?}");
    assert!(
        markers[0].contains("replica-1 (6381)") && markers[1].contains("replica-2 (6382)"),
        "{markers:?}"
    );
    assert!(exists(&root, ".markers li[data-in-window=\"true\"]"));
    assert!(text(&root, ".legend").contains("SET"));

    // A replica's own backlog, said so.
    choose(&root, ".console-server", "replica-1").await;
    assert!(text(&root, ".backlog-head").contains("Backlog of replica-1 (6381)"));
    assert!(text(&root, ".backlog-note").contains("replica"));
}

#[wasm_bindgen_test]
async fn the_sync_path_tab_shows_a_full_sync_then_a_continue_with_its_numbers() {
    let root = after_set().await;
    click(&root, "[data-tab=\"sync-path\"]").await;
    assert_eq!(
        find(&root, ".inspect-panel")
            .get_attribute("data-panel")
            .as_deref(),
        Some("sync-path")
    );
    assert!(
        exists(&root, ".sync-replica"),
        "a master offers a picker of its replicas"
    );
    assert!(text(&root, ".sync-head h2").contains("replica-1 (6381)"));
    assert!(exists(
        &root,
        ".sync-steps li[data-step=\"+FULLRESYNC\"][data-mark=\"done\"]"
    ));
    assert!(exists(
        &root,
        ".sync-steps li[data-step=\"stream\"][data-mark=\"current\"]"
    ));
    assert!(text(&root, ".sync-steps li[data-step=\"AUTH\"]").contains("skipped"));
    assert!(exists(&root, ".why[data-verdict=\"+FULLRESYNC\"]"));

    // The master is selected: its link menu starts on replica-1.
    assert_eq!(
        text(&root, ".topo-link .topo-peer option:checked"),
        "replica-1 (6381)"
    );
    click(&root, ".topo-cut").await;
    type_line(&root, "SET k2 v2").await;
    click(&root, ".topo-heal").await;
    step(&root, 3).await;
    let why = text(&root, ".why");
    assert!(exists(&root, ".why[data-verdict=\"+CONTINUE\"]"), "{why}");
    assert!(why.contains("asked for 51"), "{why}");
    // SET k2 v2 (29 bytes) was missed: the replica, reconnecting at once after losing
    // its master, is back before the master's next PING.
    assert!(why.contains("sent from the backlog29 bytes"), "{why}");
    assert!(exists(
        &root,
        ".sync-steps li[data-step=\"RDB\"][data-mark=\"skipped\"]"
    ));
    let history = all_text(&root, ".sync-history li");
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(
        history[0].contains("partial (+CONTINUE)") && history[1].contains("full (+FULLRESYNC)"),
        "{history:?}"
    );

    choose(&root, ".sync-replica", "replica-2").await;
    assert!(text(&root, ".sync-head h2").contains("replica-2 (6382)"));
    assert_eq!(all_text(&root, ".sync-history li").len(), 1);
}

#[wasm_bindgen_test]
async fn the_stream_tab_shows_escaped_resp_with_offsets_and_hex() {
    let root = after_set().await;
    click(&root, "[data-tab=\"stream\"]").await;
    let link: HtmlSelectElement = find(&root, ".stream-link").dyn_into().unwrap();
    assert!(link
        .selected_options()
        .item(0)
        .unwrap()
        .text_content()
        .unwrap()
        .starts_with("master → replica-1"));
    let lines = all_text(&root, ".stream .line[data-kind=\"command\"]");
    let set = lines
        .iter()
        .find(|l| l.contains("*3\\r\\n$3\\r\\nSET\\r\\n$1\\r\\nk\\r\\n$1\\r\\nv\\r\\n"))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(set.contains("24–50"), "{set}");
    assert!(text(&root, ".stream-chunks").contains("offsets 1–50"));

    // The whole history: the snapshot is summarised, not dumped.
    while exists(&root, ".stream-more") {
        click(&root, ".stream-more").await;
    }
    let rdb = text(&root, ".stream .line[data-kind=\"rdb\"]");
    assert!(
        rdb.contains("RDB payload") && rdb.contains("REDIS0010"),
        "{rdb}"
    );
    assert!(!exists(&root, ".rdb-full"));

    let hex: HtmlInputElement = find(&root, ".stream-hex").dyn_into().unwrap();
    hex.set_checked(true);
    fire(&hex, "change").await;
    assert!(
        text(&root, ".stream .hex").contains("2b 50 4f 4e 47 0d 0a"),
        "+PONG in hex"
    );

    choose(&root, ".stream-link", "replica-1 → master").await;
    assert!(find(&root, ".stream").get_attribute("data-hex").as_deref() == Some("true"));
    hex.set_checked(false);
    let hex: HtmlInputElement = find(&root, ".stream-hex").dyn_into().unwrap();
    hex.set_checked(false);
    fire(&hex, "change").await;
    while exists(&root, ".stream-more") {
        click(&root, ".stream-more").await;
    }
    let lines = all_text(&root, ".stream .line-text");
    assert_eq!(
        lines.first().map(String::as_str),
        Some("*1\\r\\n$4\\r\\nPING\\r\\n"),
        "{lines:?}"
    );
}
