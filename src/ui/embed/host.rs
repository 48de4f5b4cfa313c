//! The embed's side of the API in the browser: the host page's frame, its messages in,
//! and replies and events out.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::MessageEvent;
use yew::prelude::*;

use super::options::EmbedOptions;
use super::protocol::{events_since, parse_message, Outbound, Request, Told};
use crate::ui::state::{api::Call, Action, Sim};

/// The page holding this embed in an iframe: whom messages are taken from and sent to.
#[derive(Clone)]
pub struct Host {
    window: web_sys::Window,
    origin: String,
}

impl Host {
    /// `None` when the page is not in a frame (there is nobody to talk to) or its origin
    /// is opaque (`null`: a file or a sandbox, which any other opaque page shares).
    pub fn find(options: &EmbedOptions) -> Option<Host> {
        let own = web_sys::window()?;
        let parent = own.parent().ok().flatten()?;
        if js_sys::Object::is(&parent, &own) {
            return None;
        }
        let origin = match &options.origin {
            Some(origin) => origin.clone(),
            None => own.location().origin().ok()?,
        };
        (origin != "null").then_some(Host {
            window: parent,
            origin,
        })
    }

    /// Posts to the host's window, for its origin only (never `*`: if another site has
    /// taken the host's place, the browser drops the message).
    pub fn post(&self, message: &Outbound) {
        let _ = self.window.post_message(&message.to_js(), &self.origin);
    }

    /// Whether a `message` event came from the host: its window, at its origin.
    fn sent(&self, e: &MessageEvent) -> bool {
        e.origin() == self.origin
            && e.source()
                .is_some_and(|source| js_sys::Object::is(&source, &self.window))
    }

    /// The request in a message from the host, or the answer to send back; `None` for
    /// anything not meant for replscope.
    fn read(&self, e: &MessageEvent) -> Option<Result<Request, Outbound>> {
        let data = e.data();
        // The host page may carry other frameworks' messages: only objects that name
        // replscope are ours.
        if !data.is_object()
            || !js_sys::Reflect::has(&data, &JsValue::from_str("replscope")).unwrap_or(false)
        {
            return None;
        }
        let Some(text) = js_sys::JSON::stringify(&data)
            .ok()
            .and_then(|s| s.as_string())
        else {
            return Some(Err(Outbound::Error(
                "The message could not be read as JSON.".to_string(),
            )));
        };
        parse_message(&text).transpose()
    }
}

/// The embed's side of the API while it is on the page: `ready`, then each message from the
/// host as an [`Action::Api`] (replied from the reducer), and after each redraw an
/// `events` message for what became visible. Does nothing outside an embed or a frame.
#[hook]
pub fn use_host(options: Option<EmbedOptions>, sim: &Sim, dispatch: Callback<Action>) {
    let host = use_memo((), |_| options.as_ref().and_then(Host::find));
    {
        let host = (*host).clone();
        let autoplay = options.as_ref().is_none_or(|o| o.autoplay);
        let title = sim.title();
        use_effect_with((), move |_| {
            let listener = host.map(|host| {
                host.post(&Outbound::Ready { title });
                let reply = {
                    let host = host.clone();
                    Callback::from(move |m: Outbound| host.post(&m))
                };
                let listener = Closure::<dyn Fn(MessageEvent)>::new(move |e: MessageEvent| {
                    if !host.sent(&e) {
                        return;
                    }
                    match host.read(&e) {
                        Some(Ok(request)) => dispatch.emit(Action::Api(Box::new(Call {
                            request,
                            autoplay,
                            reply: reply.clone(),
                        }))),
                        Some(Err(answer)) => host.post(&answer),
                        None => {}
                    }
                });
                if let Some(w) = web_sys::window() {
                    let _ = w.add_event_listener_with_callback(
                        "message",
                        listener.as_ref().unchecked_ref(),
                    );
                }
                listener
            });
            move || {
                if let (Some(listener), Some(w)) = (listener, web_sys::window()) {
                    let _ = w.remove_event_listener_with_callback(
                        "message",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    let told = use_mut_ref(|| None::<Told>);
    let batch = host.is_some().then(|| {
        let (batch, now) = events_since(*told.borrow(), sim.run, sim.bus().log());
        *told.borrow_mut() = Some(now);
        batch
    });
    use_effect(move || {
        if let (Some(host), Some(Some(batch))) = (&*host, batch) {
            host.post(&batch);
        }
    });
}
