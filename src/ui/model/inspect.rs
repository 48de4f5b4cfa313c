//! The inspection panels' own state (which tab, which replica, which link, how much to
//! show) and the one entry point that builds the open tab's view model.
//!
//! Only the open tab is built: the stream inspector decodes a connection's whole byte
//! history and the backlog view parses up to `repl-backlog-size` bytes, so the closed
//! tabs cost nothing on a busy page.

use crate::bus::{Bus, ServerId};

use super::backlog::{backlog_view_cached, BacklogCache, BacklogView};
use super::stream::{stream_view, StreamCache, StreamView, STREAM_SHOWN_BYTES};
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InspectUi {
    pub tab: InspectTab,
    /// The replica the sync path view shows when the selected server is a master.
    pub sync_replica: Option<ServerId>,
    /// The direction `(from, to)` the stream inspector shows.
    pub stream_link: Option<(ServerId, ServerId)>,
    pub stream_hex: bool,
    /// Raw bytes the stream inspector shows, newest first back to this many.
    pub stream_limit: usize,
    /// Dump snapshot payloads instead of summarising them.
    pub stream_show_rdb: bool,
    /// The selected server's backlog as parsed for the last redraw.
    pub backlog_cache: BacklogCache,
    /// The stream inspector's decoders as the last redraw left them.
    pub stream_cache: StreamCache,
    /// Where the log's sync events are, as read by earlier redraws.
    pub sync_cache: SyncEventsCache,
}

impl Default for InspectUi {
    fn default() -> Self {
        InspectUi {
            tab: InspectTab::default(),
            sync_replica: None,
            stream_link: None,
            stream_hex: false,
            stream_limit: STREAM_SHOWN_BYTES,
            stream_show_rdb: false,
            backlog_cache: BacklogCache::default(),
            stream_cache: StreamCache::default(),
            sync_cache: SyncEventsCache::default(),
        }
    }
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
                if self.stream_link != Some((from, to)) {
                    self.stream_link = Some((from, to));
                    self.stream_limit = STREAM_SHOWN_BYTES;
                }
            }
            InspectAction::SetHex(hex) => self.stream_hex = hex,
            // Bounded so a stuck key cannot make one render decode gigabytes.
            InspectAction::ShowMore => self.stream_limit = (self.stream_limit * 2).min(1 << 26),
            InspectAction::ShowRdb(show) => self.stream_show_rdb = show,
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
        InspectTab::Stream => InspectView::Stream(stream_view(bus, selected, ui)),
    }
}
