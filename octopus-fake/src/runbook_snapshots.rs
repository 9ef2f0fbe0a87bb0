//! Runbook snapshots and publishing (swagger 2020.5: `/{spaceId}/runbookSnapshots`
//! GET/POST, `/runbookSnapshots/{id}` GET/PUT/DELETE, `/projects/{id}/runbookSnapshots`
//! and `/runbooks/{id}/runbookSnapshots` GET; go-octopusdeploy
//! `pkg/constants/constants_api_replies.go` `RunbookSnapshots` link with `?publish`).
//!
//! A snapshot freezes its runbook's process and the project's variables; this fake
//! records the frozen ids without copying the documents. `POST ?publish=true` (the
//! TypeScript client's publish) and a runbook `PUT` with `PublishedRunbookSnapshotId`
//! make it the runbook's published snapshot. Snapshots are run history, not
//! configuration: they are neither exported nor seeded. Whether a real server keeps
//! snapshot names unique per runbook is not established, so names are not checked.

use serde_json::{json, Value};

use crate::clock;
use crate::collections::{self as coll, docs, docs_mut, find, Place};
use crate::context::{ApiRequest, Ctx, Verb};
use crate::reply::{Answer, ApiError, Reply};
use crate::spec::{spec_of, CollectionSpec};
use crate::store::{object_mut, text};

/// The snapshots' store; not one of the collections a space snapshot holds.
static SNAPSHOTS: CollectionSpec = crate::spec::RUNBOOK_SNAPSHOTS;

fn link(ctx: &Ctx<'_>, space: &str, id: &str) -> Value {
    json!({"Self": format!("{}/runbookSnapshots/{id}", ctx.link(space))})
}

/// `POST /runbookSnapshots[?publish=true]`.
fn create(ctx: &mut Ctx<'_>, space: &str, req: &ApiRequest) -> Answer {
    let place = Place::Space(space.to_owned());
    let Some(Value::Object(mut body)) = req.body.clone() else {
        return Err(ApiError::no_body());
    };
    let runbook_ref = body.get("RunbookId").and_then(Value::as_str).unwrap_or("");
    let name = body
        .get("Name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push("The Name field is required.".to_owned());
    }
    let runbook = find(ctx, &place, "runbooks", runbook_ref).cloned();
    if runbook.is_none() {
        errors.push(format!(
            "The RunbookId '{runbook_ref}' does not refer to an existing runbook."
        ));
    }
    let (Some(runbook), true) = (runbook, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let runbook_id = text(&runbook, "Id").to_owned();
    let project_id = text(&runbook, "ProjectId").to_owned();
    let project = find(ctx, &place, "projects", &project_id)
        .cloned()
        .unwrap_or(Value::Null);
    let id = ctx.store.next_id("RunbookSnapshots");
    body.insert("Id".into(), json!(id));
    body.insert("RunbookId".into(), json!(runbook_id));
    body.insert("ProjectId".into(), json!(project_id));
    body.insert("Name".into(), json!(name));
    body.entry("Notes").or_insert(Value::Null);
    body.entry("SelectedPackages").or_insert(json!([]));
    let frozen = format!("{}-s-{}", text(&runbook, "RunbookProcessId"), id);
    body.insert("FrozenRunbookProcessId".into(), json!(frozen));
    body.insert(
        "FrozenProjectVariableSetId".into(),
        json!(format!("{}-s-{}", text(&project, "VariableSetId"), id)),
    );
    body.insert("LibraryVariableSetSnapshotIds".into(), json!([]));
    body.insert("SpaceId".into(), json!(space));
    body.insert("Assembled".into(), json!(clock::now()));
    body.insert("LastModifiedOn".into(), json!(clock::now()));
    body.insert("LastModifiedBy".into(), json!("admin"));
    body.insert("Links".into(), link(ctx, space, &id));
    let doc = Value::Object(body);
    docs_mut(ctx, &place, &SNAPSHOTS)?.upsert(&id, doc.clone());
    if req
        .param("publish")
        .is_some_and(|p| p.eq_ignore_ascii_case("true"))
    {
        publish(ctx, &place, &runbook_id, &id)?;
    }
    Ok(Reply::created(doc))
}

fn publish(
    ctx: &mut Ctx<'_>,
    place: &Place,
    runbook_id: &str,
    snapshot: &str,
) -> Result<(), ApiError> {
    let runbooks = docs_mut(ctx, place, spec_of("runbooks"))?;
    let runbook = runbooks
        .get_mut(runbook_id)
        .ok_or_else(|| ApiError::not_found(runbook_id))?;
    object_mut(runbook).insert("PublishedRunbookSnapshotId".into(), json!(snapshot));
    Ok(())
}

/// `/runbookSnapshots[/{id}]`.
pub(crate) fn routes(ctx: &mut Ctx<'_>, space: &str, rest: &[&str], req: ApiRequest) -> Answer {
    let place = Place::Space(space.to_owned());
    let path = format!("{}/runbookSnapshots", ctx.link(space));
    match (rest, req.verb) {
        ([], Verb::Get) => coll::list(ctx, &place, &SNAPSHOTS, &req, &path, false, None),
        ([], Verb::Post) => create(ctx, space, &req),
        ([id], Verb::Get) => docs(ctx, &place, SNAPSHOTS.key)
            .and_then(|d| d.get(id))
            .cloned()
            .map(Reply::ok)
            .ok_or_else(|| ApiError::not_found(id)),
        ([id], Verb::Put) => {
            let previous = docs(ctx, &place, SNAPSHOTS.key)
                .and_then(|d| d.get(id))
                .cloned()
                .ok_or_else(|| ApiError::not_found(id))?;
            let Some(Value::Object(body)) = req.body else {
                return Err(ApiError::no_body());
            };
            // Only the name and notes of a snapshot change; what it froze does not.
            let mut doc = previous;
            let map = object_mut(&mut doc);
            for field in ["Name", "Notes"] {
                if let Some(v) = body.get(field) {
                    map.insert(field.into(), v.clone());
                }
            }
            map.insert("LastModifiedOn".into(), json!(clock::now()));
            let real = text(&doc, "Id").to_owned();
            docs_mut(ctx, &place, &SNAPSHOTS)?.upsert(&real, doc.clone());
            Ok(Reply::ok(doc))
        }
        ([id], Verb::Delete) => {
            let removed = docs_mut(ctx, &place, &SNAPSHOTS)?
                .remove(id)
                .ok_or_else(|| ApiError::not_found(id))?;
            // A runbook whose published snapshot is gone has none.
            let snapshot = text(&removed, "Id").to_owned();
            let runbook = text(&removed, "RunbookId").to_owned();
            if let Some(r) = docs_mut(ctx, &place, spec_of("runbooks"))?.get_mut(&runbook) {
                if text(r, "PublishedRunbookSnapshotId").eq_ignore_ascii_case(&snapshot) {
                    object_mut(r).insert("PublishedRunbookSnapshotId".into(), Value::Null);
                }
            }
            Ok(Reply::ok(Value::Null))
        }
        ([] | [_], _) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_route(&format!("{path}/{}", rest.join("/")))),
    }
}

/// The snapshots of a project or of a runbook (`…/{id}/runbookSnapshots`).
pub(crate) fn of_owner(
    ctx: &Ctx<'_>,
    space: &str,
    field: &str,
    owner: &str,
    req: &ApiRequest,
) -> Answer {
    let place = Place::Space(space.to_owned());
    let path = format!("{}/runbookSnapshots", ctx.link(space));
    let only = |d: &Value| text(d, field).eq_ignore_ascii_case(owner);
    coll::list(ctx, &place, &SNAPSHOTS, req, &path, false, Some(&only))
}
