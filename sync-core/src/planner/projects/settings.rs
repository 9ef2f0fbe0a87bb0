//! The settings of a project: what a new project is created with and which settings of an
//! existing one follow the source (description, included library variable sets,
//! variable templates, deployment settings). Planned first, before anything the project
//! owns, so the parts can name the project.

use octopus_model::{same_name, Project, ResourceKind};
use serde_json::{json, Value};

use crate::context::{Ctx, DEFAULT_CHANNEL};
use crate::diff::{create_op, sensitive_slots, strip_for_create, to_value, update_op};
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, Target};
use crate::planner::common::{remove, set, strings, translate_list, Match};
use crate::rules::ScopeMode;

use super::Planned;

fn translate_library_sets(ctx: &mut Ctx<'_>, item: &ItemRef, source: &Project) -> Vec<String> {
    translate_list(
        ctx,
        item,
        ResourceKind::LibraryVariableSet,
        ScopeMode::IgnoreMismatch,
        "included library variable sets",
        source.included_library_variable_set_ids.iter(),
    )
    .unwrap_or_default()
}

pub(super) fn settings<'s>(ctx: &mut Ctx<'_>, m: Match<'s, Project>) -> Option<Planned<'s>> {
    match m {
        Match::Existing { source, dest, id } => {
            let item = ItemRef::new(ResourceKind::Project, &source.name);
            let mut desired = dest.clone();
            desired.description = source.description.clone();
            deployment_settings(source, &mut desired);
            let mut sets = translate_library_sets(ctx, &item, source);
            for existing in dest.included_library_variable_set_ids.iter() {
                if !sets
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case(existing.as_str()))
                {
                    sets.push(existing.as_str().to_owned());
                }
            }
            desired.included_library_variable_set_ids = sets.into_iter().map(Into::into).collect();
            let mut templates = Vec::new();
            for t in source.templates.iter() {
                let mut t = t.clone();
                let existing = dest.templates.iter().find(|d| same_name(&d.name, &t.name));
                t.id = existing.map(|d| d.id.clone()).unwrap_or_default();
                if let (Some(d), true) = (
                    existing,
                    t.default_value.get().is_some_and(|v| v.is_sensitive()),
                ) {
                    t.default_value = d.default_value.clone();
                }
                templates.push(t);
            }
            for d in dest.templates.iter() {
                if !source.templates.iter().any(|t| same_name(&t.name, &d.name)) {
                    templates.push(d.clone());
                }
            }
            desired.templates = templates.into_iter().collect();
            let settings_body = to_value(&desired);
            let op = update_op(ctx, item, Target::Existing { id: id.clone() }, &to_value(&dest), settings_body.clone(),
                "description, deployment settings, included library variable sets or variable templates differ; the project's group and lifecycle are the destination's",
                "description, deployment settings, included library variable sets and variable templates match");
            ctx.push(LayerName::Projects, op);
            let cac = source.is_config_as_code() || dest.is_config_as_code();
            Some(Planned {
                source,
                dest: Some(dest),
                dest_id: Some(id),
                create_body: None,
                settings_body: Some(settings_body),
                cac,
            })
        }
        Match::New { source } => {
            let item = ItemRef::new(ResourceKind::Project, &source.name);
            let mut required = Vec::new();
            for (kind, id, field) in [
                (
                    ResourceKind::ProjectGroup,
                    source.project_group_id.get().map(|i| i.as_str().to_owned()),
                    "ProjectGroupId",
                ),
                (
                    ResourceKind::Lifecycle,
                    source.lifecycle_id.get().map(|i| i.as_str().to_owned()),
                    "LifecycleId",
                ),
            ] {
                let Some(id) = id else { continue };
                let (name, r) = ctx.resolve(kind, &id);
                match r.text() {
                    Some(text) => required.push((field, text)),
                    None => {
                        ctx.push(
                            LayerName::Projects,
                            Op::skip(
                                item,
                                format!("its {kind} {name:?} is not on the destination"),
                            ),
                        );
                        return None;
                    }
                }
            }
            let mut body = to_value(source);
            strip_for_create(&mut body, ctx.dest.snapshot.space_id());
            for (field, text) in required {
                set(&mut body, field, Value::String(text));
            }
            let sets = translate_library_sets(ctx, &item, source);
            set(&mut body, "IncludedLibraryVariableSetIds", strings(&sets));
            for k in [
                "DeploymentProcessId",
                "VariableSetId",
                "ClonedFromProjectId",
                "IsVersionControlled",
                "ReleaseCreationStrategy",
            ] {
                remove(&mut body, k);
            }
            set(&mut body, "AutoDeployReleaseOverrides", json!([]));
            if source
                .versioning_strategy
                .get()
                .is_some_and(|v| v.donor_package.is_set() || v.donor_package_step_id.is_set())
            {
                set(
                    &mut body,
                    "VersioningStrategy",
                    json!({"Template": "#{Octopus.Version.LastMajor}.#{Octopus.Version.LastMinor}.#{Octopus.Version.NextPatch}"}),
                );
            }
            if source.auto_create_release.get_or(false) {
                set(&mut body, "AutoCreateRelease", Value::Bool(false));
            }
            if let Some(Value::Array(templates)) = body.get_mut("Templates") {
                for t in templates.iter_mut() {
                    remove(t, "Id");
                }
            }
            let slots = sensitive_slots(&body);
            for slot in &slots {
                ctx.clean(
                    CleanupCategory::DummySecret,
                    &item,
                    format!("sensitive template default {slot} set to a dummy value"),
                );
            }
            if source.is_config_as_code() {
                ctx.clean(CleanupCategory::Skipped, &item, "the source project is version controlled; it is created as a database project without its git settings, and its git-backed process, runbooks and variables are not synced");
            }
            let mut op = create_op(ctx, item.clone(), body, "missing on the destination");
            if let Some(c) = op.create_mut() {
                c.secret_slots = slots;
            }
            // Later updates of the new project start from the body as sent (shims applied);
            // a create op always has one.
            let body = op.body().cloned().unwrap_or_default();
            ctx.push(LayerName::Projects, op);
            ctx.record_create(&ItemRef::owned(
                ResourceKind::Channel,
                DEFAULT_CHANNEL,
                &source.name,
            ));
            Some(Planned {
                source,
                dest: None,
                dest_id: None,
                create_body: Some(body),
                settings_body: None,
                cac: source.is_config_as_code(),
            })
        }
    }
}

/// The deployment settings of an existing project follow the source (`/projects/{id}/
/// deploymentsettings` from 2021.1 is a view of these fields of a database project):
/// guided failure, release notes and deployment changes templates, skip-if-installed,
/// package download, connectivity, multi-tenancy and discrete channel releases, and a
/// versioning strategy that is a template. A strategy that takes its version from a
/// package names an action, so it is set once the process exists (see
/// [`versioning`](super::versioning::versioning)).
fn deployment_settings(source: &Project, desired: &mut Project) {
    // A field the source's document does not have (an older server) says nothing: the
    // destination keeps its own.
    macro_rules! follow {
        ($($field:ident),*) => {$(
            if !source.$field.is_missing() {
                desired.$field = source.$field.clone();
            }
        )*};
    }
    follow!(
        default_guided_failure_mode,
        release_notes_template,
        deployment_changes_template,
        default_to_skip_if_already_installed,
        force_package_download,
        tenanted_deployment_mode,
        discrete_channel_release
    );
    // The connectivity policy is laid over the destination's, member by member: a member
    // the source's server does not send keeps the value the destination's server set.
    if let (Some(src), Some(dst)) = (
        source.project_connectivity_policy.get(),
        desired.project_connectivity_policy.get(),
    ) {
        let mut merged = to_value(dst);
        if let (Value::Object(m), Value::Object(from)) = (&mut merged, to_value(src)) {
            m.extend(from);
        }
        if let Ok(policy) = serde_json::from_value(merged) {
            desired.project_connectivity_policy.set(policy);
        }
    } else if source.project_connectivity_policy.is_set() {
        desired.project_connectivity_policy = source.project_connectivity_policy.clone();
    }
    let template_only = source
        .versioning_strategy
        .get()
        .is_some_and(|v| !v.donor_package.is_set() && !v.donor_package_step_id.is_set());
    if template_only {
        desired.versioning_strategy = source.versioning_strategy.clone();
    }
}
