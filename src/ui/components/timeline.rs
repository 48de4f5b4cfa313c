use yew::prelude::*;

use super::event_log::EventLog;
use super::spacetime::SpaceTime;
use crate::ui::model::timeline::{DiagramView, EventLogView};
use crate::ui::state::Action;

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub diagram: DiagramView,
    pub log: EventLogView,
    pub dispatch: Callback<Action>,
}

/// The run, event by event: the space-time diagram of its messages beside the event log,
/// one selection shared by both.
#[function_component(Timeline)]
pub fn timeline(props: &TimelineProps) -> Html {
    html! {
        <section class="timeline" id="region-timeline" aria-labelledby="region-timeline embed-title" aria-label="Timeline">
            <SpaceTime view={props.diagram.clone()} dispatch={props.dispatch.clone()} />
            <EventLog view={props.log.clone()} dispatch={props.dispatch.clone()} />
        </section>
    }
}
