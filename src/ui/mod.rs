//! The playground page: a Yew app that draws the bus and drives it (feature `web`).

mod app;
pub mod components;
pub mod embed;
mod guide_file;
pub mod model;
pub mod opening;
pub mod page;
pub mod state;

pub use app::{App, AppProps};

/// Renders the playground into `#replscope`, if the page has one.
///
/// Every wasm binary that links this library runs this at load, the browser test
/// binaries included; their pages have no `#replscope`, so they get no stray app.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("replscope"));
    if let Some(root) = root {
        let location = web_sys::window().map(|w| w.location());
        let query = location
            .as_ref()
            .and_then(|l| l.search().ok())
            .unwrap_or_default();
        let fragment = location
            .as_ref()
            .and_then(|l| l.hash().ok())
            .unwrap_or_default();
        let opening = page::Opening::from_address(&query, &fragment);
        // A link pasted into the address bar of an open playground changes only the
        // fragment, which loads nothing: open it as a fresh page. (The page's own
        // address updates use replaceState, which fires no hashchange.)
        if let Some(window) = web_sys::window() {
            let reload = wasm_bindgen::closure::Closure::<dyn Fn()>::new(|| {
                if let Some(w) = web_sys::window() {
                    let _ = w.location().reload();
                }
            });
            window.set_onhashchange(Some(wasm_bindgen::JsCast::unchecked_ref(reload.as_ref())));
            reload.forget();
        }
        let embed = embed::EmbedOptions::from_query(&query);
        yew::Renderer::<App>::with_root_and_props(
            root,
            AppProps {
                autoplay: true,
                opening,
                embed,
            },
        )
        .render();
    }
}
