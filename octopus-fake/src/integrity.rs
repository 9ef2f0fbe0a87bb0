//! Reference integrity, an oracle for tests (`GET /api/fake/integrity`, not Octopus):
//! every reference in a space's documents that names no existing document.
//!
//! A reference is any string, or object key, shaped like an id the server assigns:
//! `Prefix-N` for the prefixes of the collections this fake serves (`Environments-12`,
//! `Feeds-3`, `Projects-1`, …), and the derived ids `deploymentprocess-…`,
//! `variableset-…` and `RunbookProcess-…`. A document's own id, its `Links` and ids of
//! kinds the fake does not hold (releases, snapshots, tasks) are not references here.
//! Slug ids (`feeds-builtin`, `teams-everyone`) and GUIDs (action and template ids) are
//! not checked either.
//!
//! Whether a real server refuses dangling references on write is not established by
//! the evidence at hand (the official clients' models and swagger say nothing about it);
//! this fake refuses them only for the required references its collections declare
//! (a channel's `ProjectId`, a tenant's `ProjectEnvironments`, …) and reports the rest
//! here, so a sync that leaves one behind fails its tests either way.

use octopus_model::owned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec::{CollectionSpec, RUNBOOK_SNAPSHOTS, SPACE_COLLECTIONS, SYSTEM_COLLECTIONS};
use crate::store::{text, Store};

/// One reference to a document that does not exist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DanglingReference {
    /// The space of the document holding the reference.
    pub space: String,
    /// The collection of that document (`variables`, `deploymentprocesses`, …).
    pub kind: String,
    /// Its id.
    pub document: String,
    /// Where in it: a JSON path (`Variables[3].Scope.Environment[0]`).
    pub path: String,
    /// The id that names nothing.
    pub id: String,
}

/// Where an id of this shape would live: a space collection, or a system one.
fn target_of(id: &str) -> Option<(&'static CollectionSpec, bool)> {
    if let Some(derived) = owned::ALL_DERIVED.iter().find(|d| d.matches(id)) {
        let spec = SPACE_COLLECTIONS.iter().find(|s| s.kind == derived.kind)?;
        return Some((spec, true));
    }
    let (prefix, number) = id.rsplit_once('-')?;
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let matches = |s: &&CollectionSpec| s.id_prefix.is_some_and(|p| p == prefix);
    if let Some(spec) = SPACE_COLLECTIONS.iter().find(matches) {
        return Some((spec, true));
    }
    if matches(&&RUNBOOK_SNAPSHOTS) {
        return Some((&RUNBOOK_SNAPSHOTS, true));
    }
    SYSTEM_COLLECTIONS.iter().find(matches).map(|s| (s, false))
}

fn exists(store: &Store, space: &str, spec: &CollectionSpec, in_space: bool, id: &str) -> bool {
    let docs = if in_space {
        store.space(space).and_then(|s| s.docs(spec.key))
    } else {
        store.system_docs(spec.key)
    };
    if docs.is_some_and(|d| d.get(id).is_some()) {
        return true;
    }
    // Teams may be system-wide or of the space; look in both.
    spec.key == "teams"
        && store
            .system_docs("teams")
            .is_some_and(|d| d.get(id).is_some())
}

struct Walk<'a> {
    store: &'a Store,
    space: &'a str,
    kind: &'static str,
    document: String,
    found: Vec<DanglingReference>,
}

impl Walk<'_> {
    fn check(&mut self, path: &str, candidate: &str) {
        let Some((spec, in_space)) = target_of(candidate) else {
            return;
        };
        if !exists(self.store, self.space, spec, in_space, candidate) {
            self.found.push(DanglingReference {
                space: self.space.to_owned(),
                kind: self.kind.to_owned(),
                document: self.document.clone(),
                path: path.to_owned(),
                id: candidate.to_owned(),
            });
        }
    }

    fn walk(&mut self, value: &Value, path: &str) {
        match value {
            Value::String(s) => self.check(path, s),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &format!("{path}[{i}]"));
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    if path.is_empty() && matches!(key.as_str(), "Id" | "Links") {
                        continue;
                    }
                    if key == "Links" {
                        continue;
                    }
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    // Maps keyed by id (a tenant's `ProjectEnvironments`, tenant
                    // variables per project and environment).
                    self.check(&format!("{child} (key)"), key);
                    self.walk(item, &child);
                }
            }
            _ => {}
        }
    }
}

/// Every dangling reference in every space, in a stable order.
pub(crate) fn dangling(store: &Store) -> Vec<DanglingReference> {
    let mut spaces: Vec<&String> = store.spaces.keys().collect();
    spaces.sort();
    let mut found = Vec::new();
    for space_key in spaces {
        let Some(data) = store.space(space_key) else {
            continue;
        };
        // The space's id as the store spells it.
        let space = store
            .system_docs("spaces")
            .and_then(|d| d.get(space_key))
            .map(|s| text(s, "Id").to_owned())
            .unwrap_or_else(|| space_key.clone());
        for spec in SPACE_COLLECTIONS {
            let Some(docs) = data.docs(spec.key) else {
                continue;
            };
            for doc in docs.items() {
                let mut walk = Walk {
                    store,
                    space: &space,
                    kind: spec.key,
                    document: text(doc, spec.id_field).to_owned(),
                    found: Vec::new(),
                };
                walk.walk(doc, "");
                found.append(&mut walk.found);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_recognised_by_shape() {
        assert_eq!(
            target_of("Environments-12").map(|(s, space)| (s.key, space)),
            Some(("environments", true))
        );
        assert_eq!(
            target_of("variableset-Projects-3").map(|(s, _)| s.key),
            Some("variables")
        );
        assert_eq!(
            target_of("Users-1").map(|(s, space)| (s.key, space)),
            Some(("users", false))
        );
        assert!(target_of("feeds-builtin").is_none());
        assert!(target_of("Releases-4").is_none());
        assert_eq!(
            target_of("RunbookSnapshots-2").map(|(s, _)| s.key),
            Some("runbooksnapshots")
        );
        assert!(target_of("Environments-x").is_none());
        assert!(target_of("d3b07384-d9a0-4c9e-8f3b-2f1c0c2b1a2b").is_none());
    }
}
