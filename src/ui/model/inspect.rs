//! The inspection panels' own state (which tab, which replica, which link, how much to
//! show) and the one entry point that builds the open tab's view model.
//!
//! Only the open tab is built: the stream inspector decodes a connection's whole byte
//! history and the backlog view parses up to `repl-backlog-size` bytes, so the closed
//! tabs cost nothing on a busy page.

use crate::bus::{Bus, ServerId};

use super::backlog::{backlog_view_cached, BacklogCache, BacklogView};
use super::stream::{stream_view, StreamUi, StreamView, STREAM_SHOWN_BYTES};
use super::sync_path::{sync_path_view_cached, SyncEventsCache, SyncPathView};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InspectTab {
    #[default]
    Backlog,
    SyncPath,
    Stream,
}

impl InspectTab {
    pub const ALL: [InspectTab; 3] = [
        InspectTab::Backlog,
        InspectTab::SyncPath,
        InspectTab::Stream,
    ];

    pub fn label(self) -> &'static str {
        match self {
            InspectTab::Backlog => "Backlog",
            InspectTab::SyncPath => "Sync path",
            InspectTab::Stream => "Stream",
        }
    }

    /// Stable name for ids and test selectors.
    pub fn key(self) -> &'static str {
        match self {
            InspectTab::Backlog => "backlog",
            InspectTab::SyncPath => "sync-path",
            InspectTab::Stream => "stream",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InspectUi {
    pub tab: InspectTab,
    /// The replica the sync path view shows when the selected server is a master.
    pub sync_replica: Option<ServerId>,
    pub stream: StreamUi,
    /// The selected server's backlog as parsed for the last redraw.
    pub backlog_cache: BacklogCache,
    /// Where the log's sync events are, as read by earlier redraws.
    pub sync_cache: SyncEventsCache,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InspectAction {
    Tab(InspectTab),
    PickReplica(ServerId),
    PickLink {
        from: ServerId,
        to: ServerId,
    },
    SetHex(bool),
    /// Show twice as many bytes of the stream.
    ShowMore,
    ShowRdb(bool),
}

impl InspectUi {
    pub fn apply(&mut self, action: InspectAction) {
        match action {
            InspectAction::Tab(tab) => self.tab = tab,
            InspectAction::PickReplica(id) => self.sync_replica = Some(id),
            InspectAction::PickLink { from, to } => {
                if self.stream.link != Some((from, to)) {
                    self.stream.link = Some((from, to));
                    self.stream.limit = STREAM_SHOWN_BYTES;
                }
            }
            InspectAction::SetHex(hex) => self.stream.hex = hex,
            // Bounded so a stuck key cannot make one render decode gigabytes.
            InspectAction::ShowMore => self.stream.limit = (self.stream.limit * 2).min(1 << 26),
            InspectAction::ShowRdb(show) => self.stream.show_rdb = show,
        }
    }
}

/// The open tab's content.
#[derive(Clone, Debug, PartialEq)]
pub enum InspectView {
    Backlog(BacklogView),
    SyncPath(SyncPathView),
    Stream(StreamView),
}

/// Builds the view model of the open tab for the selected server.
pub fn inspect_view(bus: &Bus, selected: ServerId, ui: &InspectUi) -> InspectView {
    match ui.tab {
        InspectTab::Backlog => {
            InspectView::Backlog(backlog_view_cached(bus, selected, &ui.backlog_cache))
        }
        InspectTab::SyncPath => InspectView::SyncPath(sync_path_view_cached(
            bus,
            selected,
            ui.sync_replica,
            &ui.sync_cache,
        )),
        InspectTab::Stream => InspectView::Stream(stream_view(bus, selected, &ui.stream)),
    }
}
