//! Opening a long run or an over-limit link in a real browser: the page keeps answering
//! while a run opens in slices, shows its progress, opens where the link says, and a link
//! over a limit gets its sentence and the example. The wasm memory stays bounded.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_budgets::`
//! (or `GECKODRIVER=$(command -v geckodriver)` for Firefox).
#![cfg(target_arch = "wasm32")]

use replscope::scenario::share_link::{self as link, SharedRun};
use replscope::scenario::Scenario;
use replscope::ui::opening::wall_ms;
use replscope::ui::page::Opening;
use replscope::ui::{App, AppProps};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The longest the page may go without running a task of ours while a run opens. Slices
/// are 16 ms, but this is a debug build, whose single moves (and drawing) run many times
/// slower than the release page's; tests/e2e/budgets.mjs holds the release page to 100 ms.
const MAX_GAP_MS: f64 = 250.0;
/// The wasm instance's memory after opening these runs.
const MAX_WASM_MEMORY: u32 = 512 * 1024 * 1024;

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

fn wasm_memory() -> u32 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
}

/// The example with a load on its master: `rate` writes/s for `seconds` (not validated:
/// some are over a limit on purpose).
fn loaded(rate: u32, seconds: u32) -> Scenario {
    let json = format!(
        r#"{{"version": 1, "seed": 1,
            "servers": [{{"name": "master", "port": 6380}}, {{"name": "replica-1", "port": 6381}}],
            "topology": [{{"replica": "replica-1", "master": "master"}}],
            "actions": [{{"do": "load", "at": 6000, "server": "master", "rate": {rate}, "duration_ms": {}, "type": "string", "keys": 500, "value_bytes": 32}}]}}"#,
        seconds * 1000
    );
    serde_json::from_str(&json).unwrap()
}

/// Mounts the page opening `opening`, without waiting for it to open.
async fn mount_raw(opening: Opening) -> web_sys::Element {
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<App>::with_root_and_props(
        root.clone(),
        yew::props!(AppProps {
            autoplay: false,
            opening
        }),
    )
    .render();
    root
}

#[wasm_bindgen_test]
async fn a_long_run_opens_in_slices_with_progress_and_the_page_answering() {
    let scenario = loaded(100, 40);
    let shared = link::encode(&SharedRun {
        scenario,
        step: Some(3_000),
    });
    let Opening::Run(run) = Opening::from_address("", &format!("#{shared}")) else {
        panic!("the link opens")
    };
    let started = wall_ms();
    let root = mount_raw(Opening::Run(run)).await;
    let (mut last, mut max_gap, mut texts) = (wall_ms(), 0.0f64, Vec::<String>::new());
    let mut ticks = 0;
    loop {
        // A task of ours between the page's: if a slice blocked, this waits for it.
        sleep_ms(0).await;
        yew::scheduler::flush().await;
        let now = wall_ms();
        max_gap = max_gap.max(now - last);
        last = now;
        ticks += 1;
        if !exists(&root, ".opening") {
            break;
        }
        let t = text(&root, ".opening-text");
        if texts.last() != Some(&t) {
            texts.push(t);
        }
        assert!(
            now - started < 120_000.0,
            "still opening after two minutes: {texts:?}"
        );
    }
    assert!(texts.len() >= 3, "progress shown as it opens: {texts:?}");
    let percents: Vec<u64> = texts
        .iter()
        .map(|t| {
            assert!(
                t.starts_with("Opening the shared run… ") && t.contains(" % (t = "),
                "{t}"
            );
            t["Opening the shared run… ".len()..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    assert!(
        max_gap < MAX_GAP_MS,
        "the page was blocked {max_gap:.0} ms while opening ({ticks} ticks)"
    );
    assert_eq!(
        text(&root, ".event-index"),
        "#2999",
        "opens at the link's step"
    );
    assert_eq!(text(&root, ".run-state"), "paused");
    assert!(!exists(&root, ".page-notice"));
    assert!(wasm_memory() < MAX_WASM_MEMORY, "{} B", wasm_memory());
}

#[wasm_bindgen_test]
async fn a_link_over_a_limit_shows_its_sentence_and_the_example() {
    // 10,000 writes/s for 21 s: 210,000 commands, over the 200,000 a run may send.
    let shared = link::encode(&SharedRun {
        scenario: loaded(10_000, 21),
        step: None,
    });
    let started = wall_ms();
    let root = mount_raw(Opening::from_address("", &format!("#{shared}"))).await;
    yew::scheduler::flush().await;
    assert!(
        wall_ms() - started < 1_000.0,
        "refused before any work: {:.0} ms",
        wall_ms() - started
    );
    let notice = text(&root, ".page-notice");
    assert!(
        notice.contains("could not be opened") && notice.contains("200000"),
        "{notice}"
    );
    assert!(!exists(&root, ".opening"));
    assert_eq!(all(&root, ".topo-node").len(), 3, "the example runs");
    type_line(&root, "SET after 1").await;
    assert!(text(&root, ".transcript").contains("SET after 1"));
    assert!(wasm_memory() < MAX_WASM_MEMORY, "{} B", wasm_memory());
}

#[wasm_bindgen_test]
async fn cancel_keeps_the_run_shown() {
    let shared = link::encode(&SharedRun {
        scenario: loaded(200, 120),
        step: None,
    });
    let Opening::Run(run) = Opening::from_address("", &format!("#{shared}")) else {
        panic!()
    };
    let root = mount_raw(Opening::Run(run)).await;
    yew::scheduler::flush().await;
    assert!(
        exists(&root, ".opening"),
        "two virtual minutes of load take more than a slice"
    );
    click(&root, ".opening-cancel").await;
    assert!(!exists(&root, ".opening"));
    assert_eq!(all(&root, ".topo-node").len(), 3, "the example stays");
}
