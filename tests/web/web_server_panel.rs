//! The server panel in a real browser: its five tabs used as a user would, with virtual
//! time stepped by the page's own "Step +1 s" button so every run is the same.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_server_panel::`
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement};

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

fn input(root: &Element, selector: &str) -> HtmlInputElement {
    find(root, selector).dyn_into().unwrap()
}

/// Replaces an input's text as typing would, firing `input`.
async fn type_into(root: &Element, selector: &str, value: &str) {
    let el = input(root, selector);
    el.set_value(value);
    fire(&el, "input").await;
}

/// Presses a key in an element; returns whether the page took it (prevented default).
async fn press_in(root: &Element, selector: &str, key: &str, shift: bool) -> bool {
    press(&find(root, selector), key, shift).await
}

async fn tab(root: &Element, name: &str) {
    click(root, &format!(".panel-tab[data-tab=\"{name}\"]")).await;
    assert_eq!(
        find(root, ".panel-body")
            .get_attribute("data-tab")
            .as_deref(),
        Some(name)
    );
}

#[wasm_bindgen_test]
async fn tab_completes_commands_in_the_console() {
    let root = mount().await;
    assert_eq!(text(&root, ".prompt"), "127.0.0.1:6380>");
    // Nothing typed: Tab is left to the browser (it moves the focus on).
    assert!(!press_in(&root, ".console-input", "Tab", false).await);

    type_into(&root, ".console-input", "se").await;
    assert!(press_in(&root, ".console-input", "Tab", false).await);
    assert_eq!(input(&root, ".console-input").value(), "select");
    assert!(
        text(&root, ".completions").contains("setnx"),
        "{}",
        text(&root, ".completions")
    );
    assert_eq!(text(&root, ".completions .current"), "▸ select");
    press_in(&root, ".console-input", "Tab", false).await;
    assert_eq!(input(&root, ".console-input").value(), "set");
    press_in(&root, ".console-input", "Tab", true).await;
    assert_eq!(input(&root, ".console-input").value(), "select");
    press_in(&root, ".console-input", "Escape", false).await;
    assert_eq!(input(&root, ".console-input").value(), "se");

    type_into(&root, ".console-input", "SE").await;
    press_in(&root, ".console-input", "Tab", false).await;
    press_in(&root, ".console-input", "Tab", false).await;
    assert_eq!(input(&root, ".console-input").value(), "SET");
    // Go on typing the completed command and send it.
    type_into(&root, ".console-input", "SET greeting \"<b>hi</b>\"").await;
    press_in(&root, ".console-input", "Enter", false).await;
    assert_eq!(text(&root, ".transcript .entry:last-child .out"), "OK");

    // History still walks back.
    press_in(&root, ".console-input", "ArrowUp", false).await;
    assert_eq!(
        input(&root, ".console-input").value(),
        "SET greeting \"<b>hi</b>\""
    );

    // The keys tab shows the value escaped, as text.
    tab(&root, "keys").await;
    let table = find(&root, ".keys.browser");
    assert!(table.text_content().unwrap().contains("\"<b>hi</b>\""));
    assert!(
        table.query_selector("b").unwrap().is_none(),
        "user text is never markup"
    );
    assert_eq!(text(&root, ".keys.browser td.kind"), "string");
}

#[wasm_bindgen_test]
async fn config_change_shows_in_info_and_a_bad_value_shows_redis_error() {
    let root = mount().await;
    step(&root, 8).await;
    tab(&root, "info").await;
    let info = text(&root, ".info-text");
    assert!(
        info.contains("role:master") && info.contains("connected_slaves:2"),
        "{info}"
    );
    assert!(info.contains("repl_backlog_size:1048576"), "{info}");
    assert!(text(&root, ".role-text").starts_with("1) \"master\""));

    tab(&root, "config").await;
    let field = ".config-field[data-option=\"repl-backlog-size\"]";
    assert_eq!(input(&root, "#config-repl-backlog-size").value(), "1048576");
    type_into(&root, "#config-repl-backlog-size", "64 kb").await;
    click(&root, &format!("{field} .config-apply")).await;
    assert_eq!(
        text(&root, &format!("{field} .config-error")),
        "⚠ (error) ERR CONFIG SET failed (possibly related to argument 'repl-backlog-size') - argument must be a memory value"
    );
    assert_eq!(
        input(&root, "#config-repl-backlog-size").value(),
        "64 kb",
        "the typed value stays"
    );

    type_into(&root, "#config-repl-backlog-size", "64kb").await;
    press_in(&root, "#config-repl-backlog-size", "Enter", false).await;
    assert_eq!(
        find(&root, field).get_attribute("data-status").as_deref(),
        Some("applied")
    );
    assert_eq!(input(&root, "#config-repl-backlog-size").value(), "65536");

    tab(&root, "info").await;
    assert!(text(&root, ".info-text").contains("repl_backlog_size:65536"));
    tab(&root, "console").await;
    let transcript = text(&root, ".transcript");
    assert!(
        transcript.contains("127.0.0.1:6380> CONFIG SET repl-backlog-size \"64 kb\""),
        "{transcript}"
    );
    assert!(
        transcript.contains("127.0.0.1:6380> CONFIG SET repl-backlog-size 64kb"),
        "{transcript}"
    );
}

#[wasm_bindgen_test]
async fn load_on_the_master_reaches_a_replica() {
    let root = mount().await;
    step(&root, 8).await;
    tab(&root, "load").await;
    type_into(&root, "#load-rate", "50").await;
    type_into(&root, "#load-keys", "10").await;
    click(&root, ".load-start").await;
    assert!(text(&root, ".load-state").contains("running"));
    step(&root, 2).await;
    assert_eq!(text(&root, ".load-sent"), "100");
    click(&root, ".load-stop").await;
    step(&root, 1).await;
    assert_eq!(text(&root, ".load-sent"), "100", "stopped: no more writes");
    assert_eq!(text(&root, ".load-replies"), "100 (0 errors)");

    choose(&root, ".console-server", "replica-1").await;
    tab(&root, "keys").await;
    assert_eq!(text(&root, ".keys-count"), "10 matching");
    let keys = text(&root, ".keys.browser");
    assert!(
        keys.contains("\"load:str:0\"") && keys.contains("\"load:str:9\""),
        "{keys}"
    );

    // Filter, then open a key.
    type_into(&root, ".keys-pattern", "load:str:[3-4]").await;
    assert_eq!(text(&root, ".keys-count"), "2 matching");
    click(&root, ".key-open").await;
    assert!(
        text(&root, ".key-detail").contains("16 bytes"),
        "{}",
        text(&root, ".key-detail")
    );
}

#[wasm_bindgen_test]
async fn sync_in_the_console_prints_the_replication_stream_until_the_next_command() {
    let root = mount().await;
    step(&root, 8).await;
    type_line(&root, "SET temp 1 PX 2000").await;
    type_line(&root, "SYNC").await;
    step(&root, 11).await;
    let out = text(&root, ".transcript .entry:last-child .out");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0], "Entering replica output mode...  (press Ctrl-C to quit)",
        "{out}"
    );
    assert!(
        lines[1].starts_with("SYNC with master, discarding ")
            && lines[1].ends_with(" bytes of bulk transfer..."),
        "{out}"
    );
    assert_eq!(
        lines[2], "SYNC done. Logging commands from master.",
        "{out}"
    );
    assert!(lines[3..].contains(&"\"DEL\",\"temp\""), "{out}");
    assert!(text(&root, ".replica-output").starts_with("Replica output mode"));

    // The next command leaves the mode and is answered on a new connection.
    type_line(&root, "GET temp").await;
    step(&root, 1).await;
    assert!(!exists(&root, ".replica-output"));
    assert_eq!(text(&root, ".transcript .entry:last-child .out"), "(nil)");
}
