//! The audit log: the events since a checkpoint, and the newest event's `AutoId`.

use serde_json::Value;

use super::OctopusHttpClient;
use crate::error::Result;
use crate::request;

impl OctopusHttpClient {
    /// Every audit-log event of this client's space with an `AutoId` of at least
    /// `from_auto_id`, oldest first, each once (the log is read newest first, page by
    /// page, so an event written while reading may show on two pages).
    pub async fn events_from(&self, from_auto_id: u64) -> Result<Vec<Value>> {
        let space = self.space_id().await?;
        let first = request::events(space.as_ref(), from_auto_id, self.inner.page_size);
        let mut events = self.read_pages(first).await?;
        events.sort_by_key(auto_id);
        events.dedup_by_key(|e| auto_id(e));
        Ok(events)
    }

    /// The `AutoId` of the newest audit-log event of this client's space; `None` when
    /// the log holds none.
    pub async fn latest_event_auto_id(&self) -> Result<Option<u64>> {
        let space = self.space_id().await?;
        let page: Value = self.fetch(&request::events(space.as_ref(), 0, 1)).await?;
        Ok(page["Items"]
            .as_array()
            .and_then(|items| items.first())
            .map(auto_id))
    }
}

/// An event's `AutoId` (0 when it has none).
fn auto_id(event: &Value) -> u64 {
    event["AutoId"].as_u64().unwrap_or(0)
}
