//! Tenants: names first, then their project/environment connections once the projects
//! exist, then (with `sync_tenant_variables`) their variable values; and team role
//! scoping (with `sync_team_role_scoping`).
//!
//! Only selected tenants are synced. A connection is kept when its project is on the
//! destination (or created by the plan) and at least one of its environments is; the
//! destination's own connections are kept. A tenant whose every source connection is
//! lost on the destination is not created (like **Development Team A**, tied only to
//! Development and Test).

mod permissions;
mod variables;

use std::collections::{BTreeMap, HashMap};

use octopus_model::{name_key, EnvironmentId, ProjectId, ResourceKind, Tenant};
use serde_json::Value;

use super::common::{
    left_alone, matches, quote_list, remove, set, strings, translate_list, translate_tags, Match,
};
use crate::context::Ctx;
use crate::diff::{create_op, strip_for_create, to_value, update_op};
use crate::index::Lookup;
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, OpAction, Target};
use crate::rules::ScopeMode;

pub use permissions::team_permissions;
pub use variables::{tenant_variables, SCOPED_COMMON_VARIABLES};

/// An id as its type compares it: every character lower-cased.
fn folded(id: &str) -> String {
    id.chars().flat_map(char::to_lowercase).collect()
}

/// Whether a source project will be on the destination after the plan.
fn project_will_exist(ctx: &Ctx<'_>, name: &str) -> bool {
    !matches!(
        ctx.dest.index.lookup(ResourceKind::Project, name),
        Lookup::Missing
    ) || ctx.rules.select.projects.matches(name)
}

/// The source tenant's connections translated: destination project id (or pending) ->
/// environment ids; plus what was dropped, in words.
fn connections(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    tenant: &Tenant,
) -> (BTreeMap<String, Vec<String>>, Vec<String>) {
    let mut out = BTreeMap::new();
    let mut dropped = Vec::new();
    for (project, envs) in tenant.project_environments.iter() {
        let (name, r) = ctx.resolve(ResourceKind::Project, project.as_str());
        let Some(project_id) = r.text() else {
            dropped.push(format!("project {name:?}"));
            continue;
        };
        let ids = translate_list(
            ctx,
            item,
            ResourceKind::Environment,
            ScopeMode::IgnoreMismatch,
            &format_args!("connection to {name:?}"),
            envs.iter(),
        )
        .unwrap_or_default();
        if ids.is_empty() {
            dropped.push(format!(
                "project {name:?} (none of its environments are on the destination)"
            ));
            continue;
        }
        out.insert(project_id, ids);
    }
    (out, dropped)
}

/// Whether any source connection of a tenant survives on the destination.
fn any_connection_survives(ctx: &Ctx<'_>, tenant: &Tenant) -> bool {
    tenant.project_environments.iter().any(|(project, envs)| {
        let Some(entry) = ctx
            .source
            .index
            .by_id(ResourceKind::Project, project.as_str())
        else {
            return false;
        };
        project_will_exist(ctx, &entry.name)
            && envs.iter().any(|e| {
                ctx.source
                    .index
                    .by_id(ResourceKind::Environment, e.as_str())
                    .is_some_and(|env| {
                        ctx.rules.environment_map.map(&env.name).iter().any(|n| {
                            !matches!(
                                ctx.dest.index.lookup(ResourceKind::Environment, n),
                                Lookup::Missing
                            ) || ctx.created(ResourceKind::Environment, None, n).is_some()
                        })
                    })
            })
    })
}

/// Tenants by name (first pass).
pub fn tenant_names(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.tenants.clone();
    for m in matches(ctx, LayerName::Tenants, &filter, &src.tenants, &dst.tenants) {
        let op = match m {
            Match::Existing { dest, id, .. } => {
                left_alone(ResourceKind::Tenant, &dest.name, &id, "exists")
            }
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::Tenant, &source.name);
                if !source.project_environments.is_empty() && !any_connection_survives(ctx, source)
                {
                    Op::skip(item, "none of its project environments are on the destination, so it is not created")
                } else {
                    let mut body = to_value(source);
                    strip_for_create(&mut body, ctx.dest.snapshot.space_id());
                    remove(&mut body, "ClonedFromTenantId");
                    set(
                        &mut body,
                        "ProjectEnvironments",
                        Value::Object(Default::default()),
                    );
                    let tags = translate_tags(
                        ctx,
                        &item,
                        ScopeMode::IgnoreMismatch,
                        "tenant tags",
                        source.tenant_tags.iter(),
                    )
                    .unwrap_or_default();
                    set(&mut body, "TenantTags", strings(&tags));
                    create_op(ctx, item, body, "missing on the destination")
                }
            }
        };
        ctx.push(LayerName::Tenants, op);
    }
}

/// Tenant project/environment connections (second pass, after the projects).
pub fn tenant_connections(ctx: &mut Ctx<'_>) {
    let src = ctx.source.snapshot;
    let filter = ctx.rules.select.tenants.clone();
    let mut seen = std::collections::BTreeSet::new();
    for tenant in &src.tenants {
        if !filter.matches(&tenant.name) || !seen.insert(name_key(&tenant.name)) {
            continue;
        }
        let item = ItemRef::new(ResourceKind::Tenant, &tenant.name);
        let (target, before, create_body) =
            match ctx.dest.index.lookup(ResourceKind::Tenant, &tenant.name) {
                Lookup::Found(id) => {
                    let id = id.to_owned();
                    let Some(dest) = ctx.dest.snapshot.tenants.iter().find(|t| {
                        t.id.get()
                            .is_some_and(|i| i.as_str().eq_ignore_ascii_case(&id))
                    }) else {
                        continue;
                    };
                    (Target::Existing { id }, dest.clone(), None)
                }
                Lookup::Missing => {
                    let created = ctx
                        .layers
                        .get(&LayerName::Tenants)
                        .and_then(|ops| {
                            ops.iter()
                                .find(|op| op.action() == OpAction::Create && op.item == item)
                        })
                        .and_then(|op| op.body().cloned());
                    let Some(body) = created else { continue };
                    let parsed: Tenant = serde_json::from_value(body.clone()).unwrap_or_default();
                    (Target::Created { item: item.clone() }, parsed, Some(body))
                }
                Lookup::Duplicate(_) => continue,
            };
        let (translated, dropped) = connections(ctx, &item, tenant);
        if !dropped.is_empty() {
            ctx.clean(
                CleanupCategory::DroppedScope,
                &item,
                format!("connections not synced: {}", quote_list(&dropped)),
            );
        }
        let mut desired = before.clone();
        // The connections by folded project id (ids compare folded): a tenant connected
        // to a thousand projects would otherwise fold both ids of every comparison of
        // a thousand sorted-map lookups.
        let mut map: Vec<(ProjectId, Vec<EnvironmentId>)> = before
            .project_environments
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut at: HashMap<String, usize> = map
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (folded(k.as_str()), i))
            .collect();
        for (project, envs) in translated {
            let i = *at.entry(folded(&project)).or_insert_with(|| {
                map.push((ProjectId::new(project), Vec::new()));
                map.len() - 1
            });
            let entry = &mut map[i].1;
            for e in envs {
                let e = EnvironmentId::new(e);
                if !entry.contains(&e) {
                    entry.push(e);
                }
            }
        }
        desired.project_environments = map.into_iter().collect::<BTreeMap<_, _>>().into();
        let before_value = create_body.clone().unwrap_or_else(|| to_value(&before));
        let mut desired_value = create_body.unwrap_or_else(|| to_value(&before));
        set(
            &mut desired_value,
            "ProjectEnvironments",
            to_value(&desired.project_environments),
        );
        let op = update_op(
            ctx,
            item,
            target,
            &before_value,
            desired_value,
            "project connections to add",
            "project connections match",
        );
        ctx.push(LayerName::TenantConnections, op);
    }
}
