//! Guided scenarios, narration and share links in a real browser: the picker opens a
//! narrated run, Next walks its steps, Share writes a link that opens the same run, and a
//! damaged link opens the example with a message.
//!
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test --target wasm32-unknown-unknown --test web web_guided::`
#![cfg(target_arch = "wasm32")]

use replscope::scenario::guided;
use replscope::scenario::share_link as link;
use replscope::ui::page::Opening;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;

use crate::support::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

#[wasm_bindgen_test]
async fn the_picker_opens_a_narrated_run_and_next_walks_it() {
    let root = mount().await;
    assert!(!exists(&root, ".narration"), "the example has no narration");
    let first = guide("brief-cut-partial-resync");
    choose(&root, ".guide-select", first.title.as_deref().unwrap()).await;
    assert_eq!(
        text(&root, ".narration-title"),
        first.title.clone().unwrap()
    );
    assert_eq!(text(&root, ".narration-text"), first.narration[0].text);
    assert_eq!(text(&root, ".run-state"), "paused");
    let steps = first.narration.len();
    for i in 1..steps {
        click(&root, ".narration-next").await;
        assert_eq!(
            text(&root, ".narration-position"),
            format!("step {} of {steps}", i + 1)
        );
        assert_eq!(text(&root, ".narration-text"), first.narration[i].text);
    }
    assert!(find(&root, ".narration-next").has_attribute("disabled"));
    click(&root, ".narration-prev").await;
    assert_eq!(
        text(&root, ".narration-text"),
        first.narration[steps - 2].text
    );
    // The same by keyboard: ] and [.
    assert!(press(&find(&root, ".narration-title"), "]", false).await);
    assert_eq!(
        text(&root, ".narration-text"),
        first.narration[steps - 1].text
    );
    assert!(press(&find(&root, ".narration-title"), "[", false).await);
    assert_eq!(
        text(&root, ".narration-text"),
        first.narration[steps - 2].text
    );
}

#[wasm_bindgen_test]
async fn share_writes_a_link_that_opens_the_same_run() {
    let root = mount().await;
    step(&root, 8).await;
    type_line(&root, "SET shared 1").await;
    step(&root, 1).await;
    let event = text(&root, ".event-index");
    click(&root, ".share-open").await;
    let url = find(&root, ".share-link")
        .unchecked_into::<HtmlInputElement>()
        .value();
    let fragment = &url[url.find('#').expect("a fragment") + 1..];
    assert!(fragment.starts_with("v1."), "{url}");
    let run = link::decode(fragment).unwrap();
    assert!(run.scenario.actions.iter().any(
        |a| matches!(a, replscope::scenario::Action::Command { line, .. } if line == "SET shared 1")
    ));

    // Copy answers either way: copied, or refused with a way out (a headless browser may
    // deny the clipboard); it never stays silent.
    click(&root, ".share-copy").await;
    for _ in 0..50 {
        if !text(&root, ".share-status").is_empty() {
            break;
        }
        sleep_ms(20).await;
        yew::scheduler::flush().await;
    }
    let status = text(&root, ".share-status");
    assert!(
        status == "Copied to the clipboard."
            || status.starts_with("The browser refused the clipboard"),
        "{status:?}"
    );

    let again = mount_opening(Opening::Run(Box::new(run))).await;
    assert_eq!(text(&again, ".event-index"), event);
    choose(&again, ".console-server", "replica-1").await;
    click(&again, ".panel-tab[data-tab=\"keys\"]").await;
    assert!(
        text(&again, ".keys-tab").contains("shared"),
        "{}",
        text(&again, ".keys-tab")
    );
}

/// The page fetches a guided scenario's file when it opens one: meanwhile it shows it
/// opening; a file that does not come leaves the run shown, with a sentence saying why.
#[wasm_bindgen_test]
async fn a_guided_scenario_shows_as_opening_until_its_file_arrives() {
    serve_guides(GUIDE_FILES, 300);
    let root = render(yew::props!(replscope::ui::AppProps {
        autoplay: false,
        opening: Opening::from_address("?guide=full-sync-loop", "")
    }))
    .await;
    assert_eq!(
        text(&root, ".opening-text"),
        "Opening the guided scenario \u{201c}The full-sync loop\u{201d}… 0 % (fetching its file)"
    );
    opened(&root).await;
    assert_eq!(text(&root, ".narration-title"), "The full-sync loop");
    assert!(!exists(&root, ".page-notice"));

    serve_guides(&[], 0);
    choose(&root, ".guide-select", "Writing to a replica").await;
    assert_eq!(
        text(&root, ".page-notice p"),
        "The guided scenario \u{201c}Writing to a replica\u{201d} could not be fetched: the server answered 404."
    );
    assert_eq!(
        text(&root, ".narration-title"),
        "The full-sync loop",
        "the run shown stays"
    );

    let root = render(yew::props!(replscope::ui::AppProps {
        autoplay: false,
        opening: Opening::from_address("?guide=first-sync", "")
    }))
    .await;
    opened(&root).await;
    assert!(
        text(&root, ".page-notice").contains("could not be fetched"),
        "{}",
        text(&root, ".page-notice")
    );
    assert_eq!(all(&root, ".topo-node").len(), 3, "the example runs");
}

#[wasm_bindgen_test]
async fn a_damaged_link_opens_the_example_with_a_message() {
    let root = mount_opening(Opening::from_address("", "#v1.not-a-link%%")).await;
    assert!(
        text(&root, ".page-notice").contains("could not be opened"),
        "{}",
        text(&root, ".page-notice")
    );
    assert_eq!(all(&root, ".topo-node").len(), 3, "the example runs");
    click(&root, ".page-notice-close").await;
    assert!(!exists(&root, ".page-notice"));
}

/// The page opens a guided scenario by playing it through in the browser: the log must be
/// the one recorded natively, byte for byte (tests/scenarios/guided_hashes.txt, written by
/// tests/scenario/guided.rs).
#[wasm_bindgen_test]
fn guided_scenarios_play_in_the_browser_as_natively() {
    const RECORDED: &str = include_str!("../scenarios/guided_hashes.txt");
    let recorded: Vec<(&str, &str)> = RECORDED
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split_once(' ').expect("id hash"))
        .collect();
    assert_eq!(
        recorded.len(),
        guided::ALL.len(),
        "every guided scenario is recorded"
    );
    assert_eq!(
        GUIDE_FILES.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
        guided::ALL.iter().map(|g| g.id).collect::<Vec<_>>(),
        "the tests serve every guided scenario's file"
    );
    for (id, want) in recorded {
        let scenario = guide(id);
        let (_, bus) = replscope::scenario::session::Session::play_through(scenario).unwrap();
        assert_eq!(
            bus.log_hash(),
            want,
            "{id}: the browser's run differs from the native one"
        );
    }
}
