//! The topology view in a real browser: the drawing says what the cluster does, and the
//! view's own menus cut links, add servers and make them replicas.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_topology::`
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlSelectElement};

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn attr(root: &Element, selector: &str, name: &str) -> String {
    find(root, selector)
        .get_attribute(name)
        .unwrap_or_else(|| panic!("{selector} has no {name}"))
}

fn node(port: u16) -> String {
    format!(".topology .topo-node[data-port=\"{port}\"]")
}

fn edge(label: &str) -> String {
    format!(".topology .topo-edge[data-link=\"{label}\"]")
}

async fn press_enter(root: &Element, selector: &str) {
    press(&find(root, selector), "Enter", false).await;
}

async fn choose_value(root: &Element, selector: &str, value: &str) {
    let select: HtmlSelectElement = find(root, selector).dyn_into().unwrap();
    select.set_value(value);
    assert_eq!(select.value(), value, "{selector} has no option {value}");
    fire(&select, "change").await;
}

/// Steps virtual time with the page's "Step +1 s" button until the edge reads `word`.
async fn until_edge(root: &Element, label: &str, word: &str) -> u32 {
    for seconds in 0..15 {
        if root.query_selector(&edge(label)).unwrap().is_some()
            && attr(root, &edge(label), "data-state") == word
        {
            return seconds;
        }
        click(root, ".step").await;
    }
    panic!("{label} not {word} after 15 s: {}", text(root, ".topology"));
}

#[wasm_bindgen_test]
async fn nodes_and_edges_say_role_replid_offset_and_link_state() {
    let root = mount().await;
    let master = text(&root, &node(6380));
    assert!(
        master.contains("master")
            && master.contains(":6380")
            && master.contains("master_repl_offset"),
        "{master}"
    );
    assert_eq!(attr(&root, &node(6380), "data-role"), "master");
    assert_eq!(attr(&root, &node(6381), "data-role"), "replica");
    assert_eq!(attr(&root, &node(6381), "data-process"), "up");
    assert!(text(&root, &node(6381)).contains("slave_repl_offset"));
    // Before the sync the replicas are on their way, in words.
    let first = attr(&root, &edge("6380 → 6381"), "data-state");
    assert!(
        ["connecting", "handshake"].contains(&first.as_str()),
        "{first}"
    );

    let waited = until_edge(&root, "6380 → 6381", "online").await;
    assert!((5..=8).contains(&waited), "online after {waited} s");
    until_edge(&root, "6380 → 6382", "online").await;
    assert!(text(&root, &edge("6380 → 6381")).contains("✔ online"));
    let replid = |port| text(&root, &format!("{} .topo-replid", node(port)));
    assert_eq!(replid(6381), replid(6380));
    assert_eq!(replid(6380).len(), "replid ".len() + 8);
    let offset = |port| text(&root, &format!("{} .topo-offset", node(port)));
    assert_eq!(offset(6381), offset(6380));

    // Click selects (the console follows), and so does Enter on a focused node.
    click(&root, &node(6381)).await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6381>");
    assert_eq!(attr(&root, &node(6381), "aria-pressed"), "true");
    assert_eq!(attr(&root, &node(6381), "tabindex"), "0");
    press_enter(&root, &node(6382)).await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6382>");
    assert!(text(&root, ".topo-actions h3").starts_with("replica-2"));
}

#[wasm_bindgen_test]
async fn a_link_cut_from_the_view_reads_down_and_heals() {
    let root = mount().await;
    until_edge(&root, "6380 → 6381", "online").await;
    click(&root, &node(6381)).await;
    // The link menu opens on the selected replica's link with its master.
    assert_eq!(attr(&root, ".topo-link", "data-peer"), "6380");
    assert!(text(&root, ".topo-net").contains("network ok"));
    click(&root, ".topo-cut").await;
    assert_eq!(attr(&root, &edge("6380 → 6381"), "data-cut"), "true");
    click(&root, ".step").await;
    // Down, or at a whole second trying again (and failing 2 ms later).
    let word = attr(&root, &edge("6380 → 6381"), "data-state");
    assert!(["down", "connecting"].contains(&word.as_str()), "{word}");
    assert!(text(&root, &edge("6380 → 6381")).contains("✂ cut"));
    assert!(text(&root, ".topo-net").contains("cut both ways"));
    // The other replica is untouched.
    assert_eq!(attr(&root, &edge("6380 → 6382"), "data-state"), "online");

    // One way only: the master's bytes to 6381 held, nobody told.
    click(&root, ".topo-heal").await;
    until_edge(&root, "6380 → 6381", "online").await;
    click(&root, ".topo-hold-in").await;
    assert_eq!(attr(&root, &edge("6380 → 6381"), "data-held"), "to-replica");
    assert!(text(&root, &edge("6380 → 6381")).contains("❚❚ held 6380→6381"));
    click(&root, ".topo-release-in").await;
    assert_eq!(attr(&root, &edge("6380 → 6381"), "data-held"), "none");

    // Latency from the menu shows on the edge.
    choose_value(&root, ".topo-latency", "500").await;
    assert!(text(&root, &edge("6380 → 6381")).contains("500 ms"));
    // Seen from the master, the same link's menu shows the same latency.
    click(&root, &node(6380)).await;
    assert_eq!(attr(&root, ".topo-link", "data-peer"), "6381");
    assert_eq!(
        find(&root, ".topo-latency")
            .dyn_into::<HtmlSelectElement>()
            .unwrap()
            .value(),
        "500"
    );
    assert_eq!(
        find(&root, ".topo-replicaof-select")
            .dyn_into::<HtmlSelectElement>()
            .unwrap()
            .value(),
        "none"
    );
}

#[wasm_bindgen_test]
async fn an_added_server_becomes_a_replica_by_menu_and_the_ninth_is_refused() {
    let root = mount().await;
    click(&root, ".topo-add").await;
    assert_eq!(attr(&root, &node(6383), "data-role"), "master");
    assert!(text(&root, ".topo-count").starts_with("4 of 8"));
    click(&root, &node(6383)).await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6383>");
    choose_value(&root, ".topo-replicaof-select", "0").await;
    // Issued through the console, so the transcript shows it.
    assert!(text(&root, ".transcript").contains("127.0.0.1:6383> REPLICAOF 127.0.0.1 6380"));
    assert_eq!(attr(&root, &node(6383), "data-role"), "replica");
    until_edge(&root, "6380 → 6383", "online").await;

    // Crash it: the node says down, in words.
    click(&root, ".topo-crash").await;
    assert_eq!(attr(&root, &node(6383), "data-process"), "down");
    assert!(text(&root, &node(6383)).contains("✖ down"));

    for _ in 0..4 {
        click(&root, ".topo-add").await;
    }
    assert!(text(&root, ".topo-count").starts_with("8 of 8"));
    assert!(root.query_selector(".topo-notice").unwrap().is_none());
    click(&root, ".topo-add").await;
    assert_eq!(
        text(&root, ".topo-notice"),
        "The playground runs at most 8 servers: remove one first."
    );
    assert!(root.query_selector(&node(6388)).unwrap().is_none());
}
