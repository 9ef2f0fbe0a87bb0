//! `PUT /{spaceId}/environments/sortorder` (and `tagsets`, `workerpools`): the body is
//! every id of the collection in the wanted order (swagger 2020.5: "The ID of every
//! environment must be specified"; OctopusClients `EnvironmentRepository.Sort`,
//! `TagSetRepository.Sort`, `WorkerPoolRepository.Sort`). Each document's `SortOrder`
//! becomes its place, and lists follow it.

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::collections::{docs, docs_mut, Place};
use crate::context::Ctx;
use crate::reply::{Answer, ApiError, Reply};
use crate::spec::CollectionSpec;
use crate::store::{object_mut, text};

/// The collections with a sort order route.
pub(crate) fn has_sort_order(key: &str) -> bool {
    matches!(key, "environments" | "tagsets" | "workerpools")
}

/// Applies a new order; answers 200 with no content, as the swagger documents.
pub(crate) fn put(
    ctx: &mut Ctx<'_>,
    place: &Place,
    spec: &'static CollectionSpec,
    body: Option<Value>,
) -> Answer {
    let Some(Value::Array(ids)) = body else {
        return Err(ApiError::bad_request(
            "The body must be the list of every id, in order.",
            vec![],
        ));
    };
    let wanted: Vec<String> = ids
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_lowercase())
        .collect();
    let existing: HashSet<String> = docs(ctx, place, spec.key)
        .map(|d| {
            d.items()
                .iter()
                .map(|doc| text(doc, "Id").to_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let given: HashSet<String> = wanted.iter().cloned().collect();
    if given != existing || given.len() != wanted.len() {
        let message = format!(
            "The ID of every {} must be specified, once each.",
            spec.kind
        );
        return Err(ApiError::bad_request(message.clone(), vec![message]));
    }
    let collection = docs_mut(ctx, place, spec)?;
    for (i, id) in wanted.iter().enumerate() {
        if let Some(doc) = collection.get_mut(id) {
            object_mut(doc).insert("SortOrder".into(), json!(i));
        }
    }
    collection.sort_by_key(|d| d["SortOrder"].as_u64().unwrap_or(u64::MAX), "Id");
    Ok(Reply::ok(Value::Null))
}
