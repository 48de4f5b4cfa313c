//! The page fetches a guided scenario's file when one opens (it carries only their ids and
//! titles: see [`crate::scenario::guided`]), and hands it to the run waiting for it.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use crate::scenario::guided;
use crate::ui::state::Action;

/// Fetches the file of `guide`, the guided scenario the run being opened waits for, and
/// dispatches it (or why it could not be fetched) as [`Action::GuideFetched`].
#[hook]
pub fn use_guide_file(guide: Option<&'static str>, dispatch: Callback<Action>) {
    use_effect_with(guide, move |guide| {
        if let Some(id) = *guide {
            wasm_bindgen_futures::spawn_local(async move {
                let file = fetch_text(&guided::path(id)).await;
                dispatch.emit(Action::GuideFetched {
                    id: id.to_string(),
                    file,
                });
            });
        }
    });
}

/// The text at `url`, or why not, as the end of a sentence ("the server answered 404").
async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("the page has no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| "the network failed")?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        return Err(format!("the server answered {}", response.status()));
    }
    let text = response.text().map_err(|_| "its body could not be read")?;
    let text = JsFuture::from(text)
        .await
        .map_err(|_| "its body could not be read")?;
    text.as_string()
        .ok_or_else(|| "its body is not text".to_string())
}
