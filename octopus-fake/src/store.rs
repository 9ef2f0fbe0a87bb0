//! The in-memory state: spaces, their collections of JSON documents, id counters and
//! the secrets the API never returns.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};

use crate::spec::CollectionSpec;
#[cfg(test)]
use crate::spec::{SPACE_COLLECTIONS, SYSTEM_COLLECTIONS};

/// Orders the first touches of documents across collections, so the events of one
/// request come out in the order its writes happened.
static TOUCH_SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A document as it was before the writes of the current request first touched it.
#[derive(Clone, Debug)]
struct Touched {
    sequence: u64,
    id: String,
    before: Option<Value>,
}

/// The documents of one collection, in insertion order, indexed by lower-case id.
///
/// Every write path (`upsert`, `get_mut`, `remove`) remembers the document as it was
/// before the first write of the current request; [`Store::drain_changes`] turns those
/// into before/after pairs for the audit log.
#[derive(Clone, Debug, Default)]
pub(crate) struct Docs {
    items: Vec<Value>,
    index: HashMap<String, usize>,
    touched: HashMap<String, Touched>,
}

/// One document a request created, changed or deleted.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    /// The order of the first write to this document within the request.
    pub sequence: u64,
    /// The space the document lives in (`None` for instance-wide collections).
    pub space_id: Option<String>,
    /// The document's id.
    pub id: String,
    /// The document before the request (`None` when it was created).
    pub before: Option<Value>,
    /// The document after the request (`None` when it was deleted).
    pub after: Option<Value>,
}

impl Docs {
    /// The documents in order.
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The document with `id`.
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.index
            .get(&id.to_lowercase())
            .and_then(|&i| self.items.get(i))
    }

    /// Remembers the document keyed `id` as it is now, unless this request touched it
    /// already.
    fn touch(&mut self, id: &str) {
        let key = id.to_lowercase();
        if self.touched.contains_key(&key) {
            return;
        }
        let before = self.get(id).cloned();
        let real_id = before
            .as_ref()
            .and_then(|d| d["Id"].as_str())
            .unwrap_or(id)
            .to_owned();
        self.touched.insert(
            key,
            Touched {
                sequence: TOUCH_SEQUENCE.fetch_add(1, Ordering::Relaxed),
                id: real_id,
                before,
            },
        );
    }

    /// The documents touched since the last call, as they were and as they are, leaving
    /// out those that ended as they started.
    fn drain_touched(&mut self, space_id: Option<&str>, out: &mut Vec<Change>) {
        for (key, touched) in std::mem::take(&mut self.touched) {
            let after = self
                .index
                .get(&key)
                .and_then(|&i| self.items.get(i))
                .cloned();
            if after == touched.before {
                continue;
            }
            let id = after
                .as_ref()
                .and_then(|d| d["Id"].as_str())
                .map(str::to_owned)
                .unwrap_or(touched.id);
            out.push(Change {
                sequence: touched.sequence,
                space_id: space_id.map(str::to_owned),
                id,
                before: touched.before,
                after,
            });
        }
    }

    /// The document with `id`, mutably.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.index.get(&id.to_lowercase())?;
        self.touch(id);
        match self.index.get(&id.to_lowercase()) {
            Some(&i) => self.items.get_mut(i),
            None => None,
        }
    }

    /// Inserts or replaces the document keyed `id`.
    pub fn upsert(&mut self, id: &str, doc: Value) {
        self.touch(id);
        let key = id.to_lowercase();
        match self.index.get(&key) {
            Some(&i) => self.items[i] = doc,
            None => {
                self.index.insert(key, self.items.len());
                self.items.push(doc);
            }
        }
    }

    /// Puts the documents in the order of `key` (stable), keeping the index right.
    pub fn sort_by_key<K: Ord>(&mut self, key: impl Fn(&Value) -> K, id_field: &str) {
        self.items.sort_by_key(|d| key(d));
        self.index = self
            .items
            .iter()
            .enumerate()
            .map(|(i, d)| (text(d, id_field).to_lowercase(), i))
            .collect();
    }

    /// Removes the document keyed `id`.
    pub fn remove(&mut self, id: &str) -> Option<Value> {
        self.index.get(&id.to_lowercase())?;
        self.touch(id);
        let i = self.index.remove(&id.to_lowercase())?;
        let doc = self.items.remove(i);
        for slot in self.index.values_mut() {
            if *slot > i {
                *slot -= 1;
            }
        }
        Some(doc)
    }
}

/// The collections of one space.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpaceData {
    collections: HashMap<&'static str, Docs>,
}

impl SpaceData {
    /// The collection `key` (empty when nothing was stored yet).
    pub fn docs(&self, key: &str) -> Option<&Docs> {
        self.collections.get(key)
    }

    /// The collection `key`, created on first use.
    pub fn docs_mut(&mut self, spec: &'static CollectionSpec) -> &mut Docs {
        self.collections.entry(spec.key).or_default()
    }
}

/// A secret's address: the document that holds it and its key inside the document.
pub(crate) type SecretKey = (String, String);

/// Everything the fake holds.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Instance-wide collections (`spaces`, `users`, `userroles`, …).
    pub system: HashMap<&'static str, Docs>,
    /// Space-scoped data by lower-case space id.
    pub spaces: HashMap<String, SpaceData>,
    /// The next number per id prefix; ids are unique across the instance, as on a real
    /// server.
    counters: HashMap<String, u64>,
    /// Secrets by (lower-case document id, key).
    pub secrets: HashMap<SecretKey, String>,
    /// The audit log.
    pub events: crate::events::EventLog,
}

impl Store {
    /// A fresh id `Prefix-N`.
    pub fn next_id(&mut self, prefix: &str) -> String {
        let n = self.counters.entry(prefix.to_lowercase()).or_insert(0);
        *n += 1;
        format!("{prefix}-{n}")
    }

    /// Makes sure later ids do not collide with `id` (used when loading snapshots).
    pub fn observe_id(&mut self, id: &str) {
        if let Some((prefix, n)) = id.rsplit_once('-') {
            if let Ok(n) = n.parse::<u64>() {
                let slot = self.counters.entry(prefix.to_lowercase()).or_insert(0);
                *slot = (*slot).max(n);
            }
        }
    }

    /// The system collection `spec`.
    pub fn system_docs(&self, key: &str) -> Option<&Docs> {
        self.system.get(key)
    }

    /// The system collection `spec`, mutably.
    pub fn system_docs_mut(&mut self, spec: &'static CollectionSpec) -> &mut Docs {
        self.system.entry(spec.key).or_default()
    }

    /// The space with `id`.
    pub fn space(&self, id: &str) -> Option<&SpaceData> {
        self.spaces.get(&id.to_lowercase())
    }

    /// The space with `id`, mutably.
    pub fn space_mut(&mut self, id: &str) -> Option<&mut SpaceData> {
        self.spaces.get_mut(&id.to_lowercase())
    }

    /// The id of the default space, if any.
    pub fn default_space_id(&self) -> Option<String> {
        let spaces = self.system.get("spaces")?;
        spaces
            .items()
            .iter()
            .find(|s| s["IsDefault"] == Value::Bool(true))
            .or_else(|| spaces.items().first())
            .and_then(|s| s["Id"].as_str())
            .map(str::to_owned)
    }

    /// Resolves a space reference (id or slug or name) to its id.
    pub fn resolve_space(&self, reference: &str) -> Option<String> {
        let spaces = self.system.get("spaces")?;
        if let Some(doc) = spaces.get(reference) {
            return doc["Id"].as_str().map(str::to_owned);
        }
        spaces
            .items()
            .iter()
            .find(|s| {
                ["Slug", "Name"].iter().any(|f| {
                    s[*f]
                        .as_str()
                        .is_some_and(|v| v.eq_ignore_ascii_case(reference))
                })
            })
            .and_then(|s| s["Id"].as_str())
            .map(str::to_owned)
    }

    /// Every document created, changed or deleted since the last call, in the order of
    /// the first write to each.
    pub fn drain_changes(&mut self) -> Vec<Change> {
        let mut out = Vec::new();
        for docs in self.system.values_mut() {
            docs.drain_touched(None, &mut out);
        }
        let names: HashMap<String, String> = self
            .system
            .get("spaces")
            .map(|spaces| {
                spaces
                    .items()
                    .iter()
                    .filter_map(|s| s["Id"].as_str())
                    .map(|id| (id.to_lowercase(), id.to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        for (key, data) in &mut self.spaces {
            let space_id = names.get(key).cloned().unwrap_or_else(|| key.clone());
            for docs in data.collections.values_mut() {
                docs.drain_touched(Some(space_id.as_str()), &mut out);
            }
        }
        out.sort_by_key(|c| c.sequence);
        out
    }

    /// Removes every secret stored for document `doc_id`.
    pub fn forget_secrets(&mut self, doc_id: &str) {
        let doc = doc_id.to_lowercase();
        self.secrets.retain(|(d, _), _| *d != doc);
    }
}

/// The text of a string field, or `""`.
pub(crate) fn text<'a>(doc: &'a Value, field: &str) -> &'a str {
    doc.get(field).and_then(Value::as_str).unwrap_or("")
}

/// The object inside a document, created when missing or not an object.
pub(crate) fn object_mut(doc: &mut Value) -> &mut Map<String, Value> {
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    match doc {
        Value::Object(map) => map,
        // Made an object just above.
        _ => unreachable!("value was just made an object"),
    }
}

/// Every collection key, system ones first, for iteration in tests and snapshots.
#[cfg(test)]
pub(crate) fn all_keys() -> impl Iterator<Item = &'static str> {
    SYSTEM_COLLECTIONS
        .iter()
        .chain(SPACE_COLLECTIONS)
        .map(|s| s.key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn docs_keep_order_and_reindex_after_removal() {
        let mut docs = Docs::default();
        for i in 1..=3 {
            docs.upsert(
                &format!("Projects-{i}"),
                json!({"Id": format!("Projects-{i}")}),
            );
        }
        assert!(docs.remove("projects-2").is_some());
        assert_eq!(docs.get("PROJECTS-3").unwrap()["Id"], "Projects-3");
        assert_eq!(docs.len(), 2);
        assert!(all_keys().any(|k| k == "tenantvariables"));
    }

    #[test]
    fn ids_continue_after_observed_ones() {
        let mut store = Store::default();
        store.observe_id("Projects-41");
        assert_eq!(store.next_id("Projects"), "Projects-42");
        assert_eq!(store.next_id("Environments"), "Environments-1");
    }
}
