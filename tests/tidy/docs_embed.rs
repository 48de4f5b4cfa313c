//! The embedding documentation says what the build does: the example page's demo link
//! opens its scenario file, every embed address in docs.html and docs/embedding.md names a
//! guided scenario that exists, and (with the web feature) asks only for options on the
//! whitelist.
#![cfg(not(target_arch = "wasm32"))]

use replscope::scenario::{guided, share_link as link, Scenario};

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every iframe address's query (`?embed=1&…`, HTML entities decoded) in `text`.
fn embed_queries(text: &str) -> Vec<String> {
    text.split("index.html?")
        .skip(1)
        .map(|rest| {
            let end = rest.find(['"', '#']).unwrap_or(rest.len());
            format!("?{}", rest[..end].replace("&amp;", "&"))
        })
        .filter(|q| q.contains("embed=1"))
        .collect()
}

#[test]
fn the_example_page_loads_the_demo_scenario_file() {
    let page = read("www/docs.html");
    let start = page
        .find("const DEMO_LINK = '")
        .expect("docs.html has DEMO_LINK")
        + "const DEMO_LINK = '".len();
    let text = &page[start..start + page[start..].find('\'').unwrap()];
    let shared = link::decode(text).unwrap_or_else(|e| panic!("DEMO_LINK: {e}"));
    let file = Scenario::from_json(&read("www/docs-demo.json")).unwrap();
    assert_eq!(
        shared.scenario, file,
        "regenerate DEMO_LINK: replscope-sim link www/docs-demo.json"
    );
    assert!(
        file.servers.iter().any(|s| s.name == "master"),
        "the page runs SET k v on \"master\""
    );
}

#[test]
fn every_embed_in_the_docs_opens_a_guided_scenario_that_exists() {
    for path in ["www/docs.html", "docs/embedding.md"] {
        let queries = embed_queries(&read(path));
        assert!(queries.len() >= 3, "{path}: {queries:?}");
        for q in &queries {
            let guide = q.split(['?', '&']).find_map(|p| p.strip_prefix("guide="));
            if let Some(id) = guide {
                assert!(
                    guided::scenario(id).is_some(),
                    "{path}: no guided scenario {id}"
                );
            }
        }
    }
    let page = read("www/docs.html");
    let guides: Vec<_> = embed_queries(&page)
        .iter()
        .filter(|q| q.contains("guide="))
        .cloned()
        .collect();
    assert!(
        guides.len() >= 3,
        "docs.html embeds at least three scenarios: {guides:?}"
    );
}

#[cfg(feature = "web")]
#[test]
fn every_embed_in_the_docs_asks_only_for_whitelisted_options() {
    use replscope::ui::embed::EmbedOptions;
    for path in ["www/docs.html", "docs/embedding.md"] {
        for q in embed_queries(&read(path)) {
            let options =
                EmbedOptions::from_query(&q).unwrap_or_else(|| panic!("{path}: {q} is no embed"));
            assert!(
                options.ignored.is_empty(),
                "{path}: {q}: {:?}",
                options.ignored
            );
        }
    }
}
