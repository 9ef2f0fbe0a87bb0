//! Reading every item of a paged collection: follow `Page.Next` until it is gone, never
//! stop early, never keep an item twice.

use std::collections::HashSet;

use octopus_model::Collection;
use serde_json::Value;

/// Collects the pages of one collection.
#[derive(Debug, Default)]
pub(crate) struct PageCollector {
    items: Vec<Value>,
    seen_ids: HashSet<String>,
    seen_links: HashSet<String>,
    last_total: Option<u64>,
    duplicates: usize,
}

/// Why paging could not finish.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PagingError {
    /// `Page.Next` pointed at a page already read.
    Loop(String),
    /// The server's `TotalResults` promised more items than its pages held.
    Short { expected: u64, read: usize },
}

impl std::fmt::Display for PagingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PagingError::Loop(link) => write!(f, "`Page.Next` returns to `{link}`"),
            PagingError::Short { expected, read } => write!(
                f,
                "the server reported {expected} items but its pages held {read}"
            ),
        }
    }
}

/// The id the server gave an item, case-folded as ids compare case-insensitively.
fn item_id(item: &Value) -> Option<String> {
    item.get("Id")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

impl PageCollector {
    /// Remembers the link of the first page, so a `Page.Next` back to it is a loop.
    pub(crate) fn start(first_link: String) -> Self {
        let mut collector = Self::default();
        collector.seen_links.insert(first_link);
        collector
    }

    /// Adds one page; answers the link of the next page, if there is one to read.
    pub(crate) fn add(&mut self, page: Collection<Value>) -> Result<Option<String>, PagingError> {
        let next = page.next_page().map(str::to_owned);
        if let Some(total) = page.total_results.get() {
            self.last_total = Some(*total);
        }
        let mut added = 0;
        for item in page {
            let new = match item_id(&item) {
                Some(id) => self.seen_ids.insert(id),
                None => true,
            };
            if new {
                self.items.push(item);
                added += 1;
            } else {
                // Seen on an earlier page: the collection shifted under us (a concurrent
                // create); keep the first copy.
                self.duplicates += 1;
            }
        }
        let Some(next) = next else { return Ok(None) };
        if added == 0 && self.items.len() as u64 >= self.last_total.unwrap_or(0) {
            // An empty page that still links on: nothing more to read.
            return Ok(None);
        }
        if !self.seen_links.insert(next.clone()) {
            return Err(PagingError::Loop(next));
        }
        Ok(Some(next))
    }

    /// Every item read, once each; an error if the server promised more.
    pub(crate) fn finish(self) -> Result<Vec<Value>, PagingError> {
        match self.last_total {
            Some(expected) if (self.items.len() as u64) < expected => Err(PagingError::Short {
                expected,
                read: self.items.len(),
            }),
            _ => Ok(self.items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page(ids: &[u32], total: u64, next: Option<&str>) -> Collection<Value> {
        let items: Vec<Value> = ids
            .iter()
            .map(|i| json!({"Id": format!("Projects-{i}"), "Name": format!("P{i}")}))
            .collect();
        let mut doc =
            json!({"ItemType": "Project", "TotalResults": total, "Items": items, "Links": {}});
        if let Some(next) = next {
            doc["Links"]["Page.Next"] = json!(next);
        }
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn follows_next_until_it_is_gone() {
        let mut c = PageCollector::start("p0".into());
        assert_eq!(c.add(page(&[1, 2], 5, Some("p1"))), Ok(Some("p1".into())));
        assert_eq!(c.add(page(&[3, 4], 5, Some("p2"))), Ok(Some("p2".into())));
        assert_eq!(c.add(page(&[5], 5, None)), Ok(None));
        let items = c.finish().unwrap();
        let ids: Vec<_> = items.iter().map(|i| i["Id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                "Projects-1",
                "Projects-2",
                "Projects-3",
                "Projects-4",
                "Projects-5"
            ]
        );
    }

    #[test]
    fn an_item_that_shifts_onto_the_next_page_is_kept_once() {
        let mut c = PageCollector::start("p0".into());
        c.add(page(&[1, 2], 4, Some("p1"))).unwrap();
        // A create before Projects-1 pushed Projects-2 onto the second page.
        c.add(page(&[2, 3], 4, Some("p2"))).unwrap();
        c.add(page(&[4], 4, None)).unwrap();
        assert_eq!(c.finish().unwrap().len(), 4);
    }

    #[test]
    fn ids_compare_case_insensitively() {
        let mut c = PageCollector::start("p0".into());
        let mut doc = serde_json::to_value(page(&[1], 1, None)).unwrap();
        doc["Items"][0]["Id"] = json!("projects-1");
        doc["Items"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Id": "Projects-1"}));
        c.add(serde_json::from_value(doc).unwrap()).unwrap();
        assert_eq!(c.finish().unwrap().len(), 1);
    }

    #[test]
    fn a_server_that_ignores_skip_is_an_error_not_a_short_list() {
        let mut c = PageCollector::start("p0".into());
        c.add(page(&[1, 2], 4, Some("p1"))).unwrap();
        // Same items again, still linking on: nothing new and fewer than promised.
        assert_eq!(
            c.add(page(&[1, 2], 4, Some("p1"))),
            Err(PagingError::Loop("p1".into()))
        );
    }

    #[test]
    fn fewer_items_than_total_results_is_an_error() {
        let mut c = PageCollector::start("p0".into());
        c.add(page(&[1, 2], 3, None)).unwrap();
        assert_eq!(
            c.finish(),
            Err(PagingError::Short {
                expected: 3,
                read: 2
            })
        );
    }

    #[test]
    fn a_link_back_to_the_first_page_is_a_loop() {
        let mut c = PageCollector::start("p0".into());
        assert!(matches!(
            c.add(page(&[1], 9, Some("p0"))),
            Err(PagingError::Loop(_))
        ));
    }

    #[test]
    fn an_empty_trailing_page_ends_the_read() {
        let mut c = PageCollector::start("p0".into());
        c.add(page(&[1], 1, Some("p1"))).unwrap();
        assert_eq!(c.add(page(&[], 1, Some("p2"))), Ok(None));
        assert_eq!(c.finish().unwrap().len(), 1);
    }
}
