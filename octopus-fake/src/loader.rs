//! Moving state between a [`Snapshot`] and the store: loading keeps every id and field,
//! and fills in what a real server would have created (a project's process and
//! variable set and "Default" channel, a runbook's process, and for a hand-made space without feeds the
//! built-ins of a new space); exporting writes what `/all` would answer.

use octopus_model::owned;
use serde_json::{json, Value};

use crate::collections::{docs, present, stamp, Place};
use crate::context::Ctx;
use crate::secrets;
use crate::side_effects::{insert, space_builtins};
use crate::snapshot::{Snapshot, SpaceSnapshot};
use crate::spec::{spec_of, SPACE_COLLECTIONS};
use crate::store::{object_mut, text, SpaceData};
use crate::tenant_variables;

/// The space id a snapshot space had, from its documents.
fn recorded_space_id(space: &SpaceSnapshot) -> Option<String> {
    space
        .collections
        .values()
        .flatten()
        .find_map(|d| d.get("SpaceId").and_then(Value::as_str))
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Loads every space of `snapshot`.
pub(crate) fn load(ctx: &mut Ctx<'_>, snapshot: &Snapshot) {
    // Reserve recorded ids first so fresh ones never collide with a later space.
    for space in &snapshot.spaces {
        for docs in space.collections.values() {
            for doc in docs {
                ctx.store.observe_id(text(doc, "Id"));
            }
        }
        if let Some(id) = recorded_space_id(space) {
            ctx.store.observe_id(&id);
        }
    }
    for space in &snapshot.spaces {
        load_space(ctx, space);
    }
}

fn load_space(ctx: &mut Ctx<'_>, snapshot: &SpaceSnapshot) {
    let space_id = match recorded_space_id(snapshot) {
        Some(id) if ctx.store.space(&id).is_none() => id,
        _ => ctx.store.next_id("Spaces"),
    };
    let is_default = ctx.store.default_space_id().is_none();
    let spaces = spec_of("spaces");
    let mut space_doc = json!({
        "Id": space_id, "Name": snapshot.name, "Slug": octopus_model::shims::slugify(&snapshot.name),
        "Description": "", "IsDefault": is_default, "TaskQueueStopped": false,
        "SpaceManagersTeams": [format!("teams-spacemanagers-{space_id}")], "SpaceManagersTeamMembers": [],
    });
    stamp(ctx, &Place::System, spaces, &mut space_doc);
    ctx.store
        .system_docs_mut(spaces)
        .upsert(&space_id, space_doc);
    ctx.store
        .spaces
        .insert(space_id.to_lowercase(), SpaceData::default());
    let place = Place::Space(space_id.clone());
    if snapshot.collection("feeds").is_empty() {
        // Every real space has its built-in feed, which cannot be deleted: a snapshot
        // without feeds was made by hand, and gets the built-ins of a new space first.
        let _ = space_builtins(ctx, &space_id);
    }
    for spec in SPACE_COLLECTIONS {
        for doc in snapshot.collection(spec.key) {
            let mut doc = doc.clone();
            let id = match spec.key {
                "tenantvariables" => {
                    let tenant = text(&doc, "TenantId").to_owned();
                    let mut values = tenant_variables::values_of(&tenant, &doc);
                    let before = values.clone();
                    secrets::absorb(
                        &mut ctx.store.secrets,
                        &format!("tenantvariables-{tenant}"),
                        &mut values,
                        Some(&before),
                    );
                    object_mut(&mut values).insert("SpaceId".into(), json!(space_id));
                    if let Some(data) = ctx.store.space_mut(&space_id) {
                        data.docs_mut(spec).upsert(&tenant, values);
                    }
                    continue;
                }
                _ => text(&doc, "Id").to_owned(),
            };
            if id.is_empty() {
                continue;
            }
            crate::adapt::to_version(spec, &mut doc, &ctx.settings.version);
            let map = object_mut(&mut doc);
            map.remove("ScopeValues");
            let modified = map.get("LastModifiedOn").cloned();
            let before = doc.clone();
            secrets::absorb(&mut ctx.store.secrets, &id, &mut doc, Some(&before));
            stamp(ctx, &place, spec, &mut doc);
            if let Some(m) = modified {
                object_mut(&mut doc).insert("LastModifiedOn".into(), m);
            }
            if let Some(data) = ctx.store.space_mut(&space_id) {
                data.docs_mut(spec).upsert(&id, doc);
            }
        }
    }
    fill_derived(ctx, &space_id);
}

/// Creates the documents a snapshot left out but a real server always has.
fn fill_derived(ctx: &mut Ctx<'_>, space: &str) {
    let place = Place::Space(space.to_owned());
    let all = |ctx: &Ctx<'_>, key: &str| {
        docs(ctx, &place, key)
            .map(|d| d.items().to_vec())
            .unwrap_or_default()
    };
    let with_channels: std::collections::HashSet<String> = all(ctx, "channels")
        .iter()
        .map(|c| text(c, "ProjectId").to_lowercase())
        .collect();
    for project in all(ctx, "projects") {
        let id = text(&project, "Id");
        if !with_channels.contains(&id.to_lowercase()) {
            let channel = ctx.store.next_id("Channels");
            let _ = insert(ctx, space, "channels", owned::default_channel(&channel, id));
        }
        let process = text(&project, "DeploymentProcessId");
        if !process.is_empty()
            && docs(ctx, &place, "deploymentprocesses")
                .and_then(|d| d.get(process))
                .is_none()
        {
            let _ = insert(
                ctx,
                space,
                "deploymentprocesses",
                owned::empty_deployment_process(process, id),
            );
        }
        let set = text(&project, "VariableSetId");
        if !set.is_empty()
            && docs(ctx, &place, "variables")
                .and_then(|d| d.get(set))
                .is_none()
        {
            let _ = insert(ctx, space, "variables", owned::empty_variable_set(set, id));
        }
    }
    for runbook in all(ctx, "runbooks") {
        let process = text(&runbook, "RunbookProcessId");
        if !process.is_empty()
            && docs(ctx, &place, "runbookprocesses")
                .and_then(|d| d.get(process))
                .is_none()
        {
            let doc = owned::empty_runbook_process(
                process,
                text(&runbook, "ProjectId"),
                text(&runbook, "Id"),
            );
            let _ = insert(ctx, space, "runbookprocesses", doc);
        }
    }
    for lvs in all(ctx, "libraryvariablesets") {
        let set = text(&lvs, "VariableSetId");
        if !set.is_empty()
            && docs(ctx, &place, "variables")
                .and_then(|d| d.get(set))
                .is_none()
        {
            let _ = insert(
                ctx,
                space,
                "variables",
                owned::empty_variable_set(set, text(&lvs, "Id")),
            );
        }
    }
}

/// The state of every space, as a snapshot.
pub(crate) fn export(ctx: &Ctx<'_>) -> Snapshot {
    let mut snapshot = Snapshot::default();
    let spaces: Vec<Value> = ctx
        .store
        .system_docs("spaces")
        .map(|d| d.items().to_vec())
        .unwrap_or_default();
    for space in spaces {
        let id = text(&space, "Id");
        let place = Place::Space(id.to_owned());
        let mut out = SpaceSnapshot::new(text(&space, "Name"));
        for spec in SPACE_COLLECTIONS {
            let items: Vec<Value> = match spec.key {
                "tenantvariables" => docs(ctx, &place, "tenants")
                    .map(|d| d.items())
                    .unwrap_or_default()
                    .iter()
                    .map(|t| {
                        let stored = docs(ctx, &place, spec.key)
                            .and_then(|d| d.get(text(t, "Id")))
                            .cloned()
                            .unwrap_or_else(|| json!({"TenantId": text(t, "Id")}));
                        tenant_variables::present(ctx, id, &stored)
                    })
                    .collect(),
                "variables" => {
                    let index = crate::variables::ScopeIndex::new(ctx, id);
                    docs(ctx, &place, spec.key)
                        .map(|d| {
                            d.items()
                                .iter()
                                .map(|doc| index.present(ctx, doc))
                                .collect()
                        })
                        .unwrap_or_default()
                }
                _ => docs(ctx, &place, spec.key)
                    .map(|d| {
                        d.items()
                            .iter()
                            .map(|doc| present(ctx, &place, spec, doc))
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            out.collections.insert(spec.key.to_owned(), items);
        }
        snapshot.spaces.push(out);
    }
    snapshot
}
