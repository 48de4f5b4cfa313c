use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::scenario::guided;
use crate::ui::state::{Action, ShareView, SharedLink};

/// The page's own address without its query and fragment: a share link always opens the
/// full playground, even when made inside an embed.
pub fn page_address() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let origin = location.origin().unwrap_or_default();
    // The query is left out: it is what makes a page an embed (`?embed=1`).
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}")
}

#[derive(Properties, PartialEq)]
pub struct ShareProps {
    pub share: Option<ShareView>,
    pub dispatch: Callback<Action>,
}

/// "Share": writes the run down as a link (the scenario, what was done, and the event
/// shown), shows it selected, and copies it.
#[function_component(Share)]
pub fn share(props: &ShareProps) -> Html {
    let open = props.dispatch.reform(|_: MouseEvent| Action::Share);
    let close = props.dispatch.reform(|_: MouseEvent| Action::CloseShare);
    let Some(view) = &props.share else {
        return html! {
            <button type="button" class="share-open" onclick={open} aria-keyshortcuts="s"
                title="Share this run as a link (s)">{ "Share" }</button>
        };
    };
    let close = html! {
        <button type="button" class="share-close" onclick={close} aria-label="Close the share box">{ "✕" }</button>
    };
    match view {
        ShareView::Link(shared) => html! {
            <section class="share" aria-label="Share this run">
                <LinkBox key={shared.link.clone()} shared={shared.clone()} label={format!("Link to this run at event {}", shared.step)}>{ close }</LinkBox>
            </section>
        },
        // Never a link the page would refuse: why not, and what fits instead.
        ShareView::Refused { sentence, fits } => html! {
            <section class="share share-refused" aria-label="Share this run">
                <p class="share-refusal" role="alert">{ sentence }</p>
                if let Some(fits) = fits {
                    <LinkBox key={fits.link.clone()} shared={fits.clone()} label={format!("What fits: this run up to event {}", fits.step)} />
                }
                { close }
            </section>
        },
    }
}

#[derive(Properties, PartialEq)]
struct LinkBoxProps {
    shared: SharedLink,
    /// What the link is, before its length.
    label: String,
    /// Beside the buttons (the box's close button).
    #[prop_or_default]
    children: Html,
}

/// A link shown selected, with Copy and Open.
#[function_component(LinkBox)]
fn link_box(props: &LinkBoxProps) -> Html {
    // A new link is drawn as a new box (keyed by the link), so "Copied" never outlives it.
    let copied = use_state(|| None::<bool>);
    let url = format!("{}#{}", page_address(), props.shared.link);
    let copy = {
        let url = url.clone();
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| {
            // The Clipboard API exists only in secure contexts (https, or 127.0.0.1 and
            // localhost): a page served over plain http elsewhere has none, and says so.
            let navigator = web_sys::window().map(|w| w.navigator());
            let has_clipboard = navigator
                .as_ref()
                .and_then(|n| js_sys::Reflect::get(n, &"clipboard".into()).ok())
                .is_some_and(|c| !c.is_undefined() && !c.is_null());
            let (Some(navigator), true) = (navigator, has_clipboard) else {
                copied.set(Some(false));
                return;
            };
            let promise = navigator.clipboard().write_text(&url);
            let copied = copied.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
                copied.set(Some(ok));
            });
        })
    };
    let select_all = Callback::from(|e: FocusEvent| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            input.select();
        }
    });
    let status = match *copied {
        Some(true) => "Copied to the clipboard.",
        Some(false) => "The browser refused the clipboard: select the link and copy it.",
        None => "",
    };
    html! {
        <>
            <label class="share-label">
                { format!("{} ({} characters)", props.label, url.len()) }
                <input class="share-link" type="text" readonly=true value={url.clone()} onfocus={select_all} />
            </label>
            <button type="button" class="share-copy" onclick={copy}>{ "Copy" }</button>
            <a class="share-visit" href={url}>{ "Open" }</a>
            { props.children.clone() }
            <p class="share-status" role="status">{ status }</p>
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct GuidePickerProps {
    pub dispatch: Callback<Action>,
}

/// The guided scenarios, by title, in teaching order.
#[function_component(GuidePicker)]
pub fn guide_picker(props: &GuidePickerProps) -> Html {
    let pick = props.dispatch.reform(|e: Event| {
        let select = e.target_unchecked_into::<web_sys::HtmlSelectElement>();
        let id = select.value();
        select.set_value("");
        Action::OpenGuide(id)
    });
    html! {
        <label class="guide-picker">
            <span class="visually-hidden">{ "Guided scenarios" }</span>
            <select class="guide-select" onchange={pick}>
                <option value="" selected=true>{ "Guided scenarios…" }</option>
                { for guided::ALL.iter().map(|g| html! { <option value={g.id}>{ g.title }</option> }) }
            </select>
        </label>
    }
}
