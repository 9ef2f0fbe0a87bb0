//! Kinds of newer servers: parent environments (2025.4+) and deployment freezes (2025.1+,
//! per-project freezes 2025.2+).
//!
//! Both are planned with the rules of every other kind: matched by name, references
//! translated by name, and refused with a reason on a destination whose version does not
//! have them (the `Skip` op, one per item).
//!
//! **Parent environments** are created when missing and otherwise left alone, like
//! environments. Ephemeral environments (`Type` `Ephemeral`, each naming its parent) are
//! not synced: Octopus creates them from releases of a project's ephemeral-environment
//! channel (`POST /api/{spaceId}/projects/{projectId}/environments/ephemeral`, go-octopusdeploy
//! `pkg/environments/v2/route.go`), so the environments planner reports them as skipped.
//!
//! **Deployment freezes** live at the instance level (`/api/deploymentfreezes`), so one
//! freeze may name projects of several spaces. Only the entries of its scope that name
//! projects of the synced space are translated; entries of other spaces are left to
//! those spaces. A freeze blocks exactly the project and environment pairs (and tenant,
//! project and environment triples) its scope names, so an entry that cannot be
//! translated is never dropped: the freeze would freeze less than on the source. Such a
//! freeze is skipped with the entries that failed. A freeze whose scope is empty, or
//! names no project of this space, is skipped too: what an empty scope blocks is not
//! established by the API's documentation, and writing it could freeze a whole
//! destination. A freeze the destination already has takes the source's window and
//! recurrence, and the union of both scopes: a sync never unfreezes what the
//! destination froze.

use std::collections::BTreeMap;

use octopus_model::{DeploymentFreeze, ResourceKind};
use serde_json::{json, Map, Value};

use super::common::{create_when_missing, matches, remove, set, Match};
use crate::context::{Ctx, Resolved};
use crate::diff::{create_op, strip_for_create, to_value, update_op};
use crate::plan::{Change, ItemRef, LayerName, Op, Target};

/// The first version with parent environments.
pub const PARENT_ENVIRONMENTS_SINCE: (u32, u32) = (2025, 4);
/// The first version with deployment freezes.
pub const DEPLOYMENT_FREEZES_SINCE: (u32, u32) = (2025, 1);
/// The first version with per-project freezes (`OwnerId`).
pub const PROJECT_FREEZES_SINCE: (u32, u32) = (2025, 2);

/// Why a destination of this plan cannot hold a kind introduced in `since`, if it
/// cannot.
fn too_old(ctx: &Ctx<'_>, since: (u32, u32), what: &str) -> Option<String> {
    let version = &ctx.dest.snapshot.version;
    (!version.at_least(since.0, since.1)).then(|| {
        format!(
            "the destination runs Octopus {version}, which has no {what} (they arrived in {}.{})",
            since.0, since.1
        )
    })
}

/// Parent environments: created when missing, left alone when they exist; refused, one
/// item at a time, on a destination older than 2025.4.
pub fn parent_environments(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.parent_environments.clone();
    if filter.is_empty() {
        return;
    }
    if !src
        .version
        .at_least(PARENT_ENVIRONMENTS_SINCE.0, PARENT_ENVIRONMENTS_SINCE.1)
    {
        ctx.warnings.push(format!(
            "[select] parent_environments: the source runs Octopus {}, which has no parent environments",
            src.version
        ));
        return;
    }
    if let Some(reason) = too_old(ctx, PARENT_ENVIRONMENTS_SINCE, "parent environments") {
        for source in &src.parent_environments {
            if filter.matches(&source.name) {
                let item = ItemRef::new(ResourceKind::ParentEnvironment, &source.name);
                ctx.push(
                    LayerName::ParentEnvironments,
                    Op::skip(item, reason.clone()),
                );
            }
        }
        return;
    }
    let space = dst.space_id().map(str::to_owned);
    create_when_missing(
        ctx,
        LayerName::ParentEnvironments,
        &filter,
        &src.parent_environments,
        &dst.parent_environments,
        "exists; only the name must match, its details are left alone",
        |ctx, source| {
            let mut body = to_value(source);
            strip_for_create(&mut body, space.as_deref());
            if let Some(space) = &space {
                // go-octopusdeploy's `ParentEnvironment` requires `SpaceId`.
                set(&mut body, "SpaceId", json!(space));
            }
            create_op(
                ctx,
                ItemRef::new(ResourceKind::ParentEnvironment, &source.name),
                body,
                "missing on the destination",
            )
        },
    );
}

/// The skip op for an ephemeral source environment (see the module docs).
pub fn ephemeral_environment(ctx: &Ctx<'_>, source: &octopus_model::Environment) -> Op {
    let parent = source
        .parent_environment_id
        .get()
        .and_then(|id| {
            ctx.source
                .index
                .by_id(ResourceKind::ParentEnvironment, id.as_str())
        })
        .map(|e| format!("parent environment {:?}", e.name))
        .unwrap_or_else(|| "a parent environment".to_owned());
    Op::skip(
        ItemRef::new(ResourceKind::Environment, &source.name),
        format!(
            "ephemeral environment under {parent}: Octopus creates ephemeral environments from releases of a project's ephemeral-environment channel, so octosync does not create them; it syncs their parent with [select] parent_environments"
        ),
    )
}

/// A freeze's scope translated to the destination.
#[derive(Default)]
struct Translated {
    /// Destination project id (or placeholder) -> destination environment ids.
    projects: BTreeMap<String, Vec<String>>,
    /// `(tenant, project, environment)` destination ids (or placeholders).
    tenants: Vec<(String, String, String)>,
    /// The destination owner (per-project freezes).
    owner: Option<String>,
    /// Entries naming projects of other spaces, left out.
    foreign: usize,
}

fn text(r: &Resolved) -> Result<String, String> {
    match r {
        Resolved::Missing(reason) => Err(reason.clone()),
        other => other.text().ok_or_else(|| "not translatable".to_owned()),
    }
}

/// Whether a source project id is one of the synced space's projects.
fn ours(ctx: &Ctx<'_>, project: &str) -> bool {
    ctx.source
        .index
        .by_id(ResourceKind::Project, project)
        .is_some()
}

fn environments(ctx: &mut Ctx<'_>, id: &str, failures: &mut Vec<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (name, r) in ctx.resolve_many(ResourceKind::Environment, id) {
        match text(&r) {
            Ok(t) => out.push(t),
            Err(reason) => failures.push(format!("environment {name:?}: {reason}")),
        }
    }
    out
}

fn translate_scope(ctx: &mut Ctx<'_>, source: &DeploymentFreeze) -> Result<Translated, String> {
    let mut out = Translated::default();
    let mut failures = Vec::new();
    if let Some(owner) = source.owner_id.get() {
        if !ours(ctx, owner.as_str()) {
            return Err(format!(
                "it belongs to project {owner}, which is not in the synced space"
            ));
        }
        let (name, r) = ctx.resolve(ResourceKind::Project, owner.as_str());
        match text(&r) {
            Ok(t) => out.owner = Some(t),
            Err(reason) => failures.push(format!("owning project {name:?}: {reason}")),
        }
    }
    for (project, envs) in source.project_environment_scope.iter() {
        if !ours(ctx, project) {
            out.foreign += 1;
            continue;
        }
        let (name, r) = ctx.resolve(ResourceKind::Project, project);
        let key = match text(&r) {
            Ok(t) => t,
            Err(reason) => {
                failures.push(format!("project {name:?}: {reason}"));
                continue;
            }
        };
        let mut translated = Vec::new();
        for env in envs.iter() {
            for t in environments(ctx, env.as_str(), &mut failures) {
                if !translated.contains(&t) {
                    translated.push(t);
                }
            }
        }
        out.projects.insert(key, translated);
    }
    for entry in source.tenant_project_environment_scope.iter() {
        let project = entry.project_id.get().map(|p| p.as_str()).unwrap_or("");
        if !ours(ctx, project) {
            out.foreign += 1;
            continue;
        }
        let (pname, p) = ctx.resolve(ResourceKind::Project, project);
        let tenant = entry.tenant_id.get().map(|t| t.as_str()).unwrap_or("");
        let (tname, t) = ctx.resolve(ResourceKind::Tenant, tenant);
        let p = text(&p).map_err(|reason| format!("project {pname:?}: {reason}"));
        let t = text(&t).map_err(|reason| format!("tenant {tname:?}: {reason}"));
        let env = entry.environment_id.get().map(|e| e.as_str()).unwrap_or("");
        let envs = environments(ctx, env, &mut failures);
        match (p, t) {
            (Ok(p), Ok(t)) => {
                for e in envs {
                    let triple = (t.clone(), p.clone(), e);
                    if !out.tenants.contains(&triple) {
                        out.tenants.push(triple);
                    }
                }
            }
            (p, t) => failures.extend(p.err().into_iter().chain(t.err())),
        }
    }
    if !failures.is_empty() {
        return Err(format!(
            "its scope names what the destination lacks, and a freeze with fewer entries freezes less than on the source: {}",
            failures.join("; ")
        ));
    }
    if out.projects.is_empty() && out.tenants.is_empty() && out.owner.is_none() {
        return Err(if out.foreign == 0 {
            "its scope is empty; what an empty freeze blocks is not established, so it is not copied".to_owned()
        } else {
            format!(
                "its scope names only projects of other spaces ({} entries); each space's freezes are synced with that space",
                out.foreign
            )
        });
    }
    Ok(out)
}

fn scope_values(t: &Translated) -> (Value, Value) {
    let projects: Map<String, Value> = t
        .projects
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let tenants: Vec<Value> = t
        .tenants
        .iter()
        .map(|(tenant, project, env)| {
            json!({"TenantId": tenant, "ProjectId": project, "EnvironmentId": env})
        })
        .collect();
    (Value::Object(projects), Value::Array(tenants))
}

/// The union of the destination's scope and the translated source scope, destination
/// entries first: a sync adds what the source freezes and never removes an entry.
fn merged_scope(dest: &Value, t: &Translated) -> (Value, Value, usize) {
    let (src_projects, src_tenants) = scope_values(t);
    let mut added = 0;
    let mut projects = dest
        .get("ProjectEnvironmentScope")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Value::Object(src) = src_projects {
        for (project, envs) in src {
            let entry = projects
                .entry(project)
                .or_insert_with(|| Value::Array(Vec::new()));
            if let (Value::Array(have), Value::Array(add)) = (entry, envs) {
                for e in add {
                    if !have.contains(&e) {
                        have.push(e);
                        added += 1;
                    }
                }
            }
        }
    }
    let mut tenants = dest
        .get("TenantProjectEnvironmentScope")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Value::Array(src) = src_tenants {
        for entry in src {
            let same = |d: &Value| {
                ["TenantId", "ProjectId", "EnvironmentId"]
                    .iter()
                    .all(|k| d.get(*k) == entry.get(*k))
            };
            if !tenants.iter().any(same) {
                tenants.push(entry);
                added += 1;
            }
        }
    }
    (Value::Object(projects), Value::Array(tenants), added)
}

/// Deployment freezes (see the module docs).
pub fn deployment_freezes(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.deployment_freezes.clone();
    if filter.is_empty() {
        return;
    }
    if !src
        .version
        .at_least(DEPLOYMENT_FREEZES_SINCE.0, DEPLOYMENT_FREEZES_SINCE.1)
    {
        ctx.warnings.push(format!(
            "[select] deployment_freezes: the source runs Octopus {}, which has no deployment freezes",
            src.version
        ));
        return;
    }
    let layer = LayerName::DeploymentFreezes;
    let gate = too_old(ctx, DEPLOYMENT_FREEZES_SINCE, "deployment freezes");
    let owner_gate = too_old(ctx, PROJECT_FREEZES_SINCE, "per-project deployment freezes");
    for m in matches(
        ctx,
        layer,
        &filter,
        &src.deployment_freezes,
        &dst.deployment_freezes,
    ) {
        let source = match &m {
            Match::Existing { source, .. } | Match::New { source } => *source,
        };
        let item = ItemRef::new(ResourceKind::DeploymentFreeze, &source.name);
        let refused = gate.clone().or_else(|| {
            source
                .owner_id
                .get()
                .and(owner_gate.clone())
                .map(|r| format!("it is a per-project freeze and {r}"))
        });
        if let Some(reason) = refused {
            ctx.push(layer, Op::skip(item, reason));
            continue;
        }
        let translated = match translate_scope(ctx, source) {
            Ok(t) => t,
            Err(reason) => {
                ctx.push(layer, Op::skip(item, reason));
                continue;
            }
        };
        let foreign = if translated.foreign > 0 {
            format!(
                "; {} scope entries naming other spaces are left to those spaces",
                translated.foreign
            )
        } else {
            String::new()
        };
        let op = match m {
            Match::New { source } => {
                let mut body = to_value(source);
                strip_for_create(&mut body, None);
                let (projects, tenants) = scope_values(&translated);
                set(&mut body, "ProjectEnvironmentScope", projects);
                set(&mut body, "TenantProjectEnvironmentScope", tenants);
                match &translated.owner {
                    Some(owner) => set(&mut body, "OwnerId", json!(owner)),
                    None => remove(&mut body, "OwnerId"),
                }
                create_op(
                    ctx,
                    item,
                    body,
                    format!("missing on the destination{foreign}"),
                )
            }
            Match::Existing { source, dest, id } => {
                let dest_owner = dest.owner_id.get().map(|o| o.as_str().to_owned());
                if dest_owner.as_deref().map(str::to_lowercase)
                    != translated.owner.as_deref().map(str::to_lowercase)
                {
                    let reason = format!(
                        "owned by {} on the destination and by {} on the source; a freeze's owner is not moved",
                        dest_owner.as_deref().unwrap_or("the instance"),
                        translated.owner.as_deref().unwrap_or("the instance"),
                    );
                    let mut op = Op::skip(item, reason);
                    op.change = Change::Skip {
                        target: Some(Target::Existing { id }),
                    };
                    ctx.push(layer, op);
                    continue;
                }
                let before = to_value(&dest);
                let mut desired = before.clone();
                for key in ["Start", "End", "RecurringSchedule"] {
                    match to_value(source).get(key) {
                        Some(v) => set(&mut desired, key, v.clone()),
                        None => remove(&mut desired, key),
                    }
                }
                let (projects, tenants, _) = merged_scope(&before, &translated);
                set(&mut desired, "ProjectEnvironmentScope", projects);
                set(&mut desired, "TenantProjectEnvironmentScope", tenants);
                update_op(
                    ctx,
                    item,
                    Target::Existing { id },
                    &before,
                    desired,
                    format!(
                        "its window or scope differs from the source; the destination's own scope entries are kept{foreign}"
                    ),
                    format!("exists with the source's window and scope{foreign}"),
                )
            }
        };
        ctx.push(layer, op);
    }
}
