//! Tenant variables: which values of the source's tenants the destination's get, in the
//! old shape of the document and as common values scoped to environments. Separate from
//! tenants and their connections because they are planned after the projects' and library
//! variable sets' templates exist.

use octopus_model::{
    name_key, same_name, ActionTemplateParameter, EnvironmentId, ProjectId, PropertyValue,
    ResourceKind, TenantScopedVariables, TenantVariableValue,
};
use serde_json::Value;

use crate::context::{Ctx, Resolved};
use crate::diff::{to_value, update_op};
use crate::index::Lookup;
use crate::plan::{CleanupCategory, ItemRef, LayerName, Target};
use crate::planner::common::{apply_decision, quote_list, set};
use crate::rules::OverwriteVariables;

/// How a tenant variable value should change.
fn merge_value(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    what: &str,
    template: &ActionTemplateParameter,
    source: Option<&PropertyValue>,
    dest: Option<&PropertyValue>,
) -> Result<Option<PropertyValue>, String> {
    let overwrite = ctx.rules.policy.overwrite_existing_variables == OverwriteVariables::Always;
    match (source, dest) {
        (None, None) => Ok(None),
        // The destination's own values are left alone (the variable merge's row 4 and 5:
        // a secret is never overwritten, nor is a plain value turned into a dummy secret).
        (None, Some(d)) => Ok(Some(d.clone())),
        (Some(s), Some(d)) if overwrite && s.is_sensitive() != d.is_sensitive() => {
            let (src, dst) = if s.is_sensitive() {
                ("sensitive", "plain text")
            } else {
                ("plain text", "a secret")
            };
            ctx.clean(
                CleanupCategory::Skipped,
                item,
                format!("{what}: {src} on the source but {dst} on the destination; the destination's value was kept"),
            );
            Ok(Some(d.clone()))
        }
        (Some(_), Some(d)) if d.is_sensitive() || !overwrite => Ok(Some(d.clone())),
        (Some(PropertyValue::Sensitive(s)), None) if !s.has_value => Ok(None),
        (Some(PropertyValue::Sensitive(_)), _) => {
            ctx.clean(
                CleanupCategory::DummySecret,
                item,
                format!("{what}: sensitive value set to a dummy value; enter the real one"),
            );
            Ok(Some(PropertyValue::Sensitive(
                octopus_model::SensitiveValue::keep(),
            )))
        }
        (Some(PropertyValue::Text(text)), _) => {
            let control = template
                .display_settings
                .get("Octopus.ControlType")
                .map(String::as_str)
                .unwrap_or("");
            let kind = match control {
                "Certificate" => Some(ResourceKind::Certificate),
                "WorkerPool" => Some(ResourceKind::WorkerPool),
                c if c.ends_with("Account") => Some(ResourceKind::Account),
                _ => None,
            };
            match kind {
                Some(kind) if !text.trim().is_empty() && !text.contains("#{") => {
                    let (name, r) = ctx.resolve(kind, text);
                    match r.text() {
                        Some(id) => Ok(Some(PropertyValue::Text(id))),
                        None => Err(format!("{what}: {kind} {name:?} is not on the destination")),
                    }
                }
                _ => Ok(Some(PropertyValue::Text(text.clone()))),
            }
        }
        (Some(other), _) => Ok(Some(other.clone())),
    }
}

fn template_id(
    templates: &[ActionTemplateParameter],
    source_templates: &[ActionTemplateParameter],
    source_id: &str,
) -> Option<(ActionTemplateParameter, String)> {
    let source = source_templates.iter().find(|t| {
        t.id.get()
            .is_some_and(|i| i.eq_ignore_ascii_case(source_id))
    })?;
    let dest = templates
        .iter()
        .find(|t| same_name(&t.name, &source.name))?;
    Some((dest.clone(), dest.id.get()?.clone()))
}

fn pointer_key(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Tenant variables (old shape), with `sync_tenant_variables`: values are matched by
/// template name and environment; missing values are added, existing ones overwritten
/// only under `overwrite_existing_variables = "always"` and never when sensitive.
/// Templates of projects or library variable sets created in the same plan have no ids
/// yet, so their values follow on the next run.
pub fn tenant_variables(ctx: &mut Ctx<'_>) {
    if !ctx.rules.policy.sync_tenant_variables {
        return;
    }
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.tenants.clone();
    let mut seen = std::collections::BTreeSet::new();
    for tenant in &src.tenants {
        if !filter.matches(&tenant.name) || !seen.insert(name_key(&tenant.name)) {
            continue;
        }
        let Some(source_vars) = src
            .tenant_variables
            .iter()
            .find(|v| v.tenant_id.get() == tenant.id.get())
        else {
            continue;
        };
        let item = ItemRef::new(ResourceKind::TenantVariables, &tenant.name);
        let tenant_item = ItemRef::new(ResourceKind::Tenant, &tenant.name);
        let (target, before, tenant_text) = match ctx.find_dest(ResourceKind::Tenant, &tenant.name)
        {
            Resolved::Id(id) => {
                let doc = dst
                    .tenant_variables
                    .iter()
                    .find(|v| {
                        v.tenant_id
                            .get()
                            .is_some_and(|t| t.as_str().eq_ignore_ascii_case(&id))
                    })
                    .cloned();
                (Target::Existing { id: id.clone() }, doc, id)
            }
            Resolved::Pending(_, placeholder) => (
                Target::Created {
                    item: tenant_item.clone(),
                },
                None,
                placeholder,
            ),
            Resolved::Missing(_) => continue,
        };
        let mut desired = before.clone().unwrap_or_default();
        desired.tenant_id.set(tenant_text.into());
        let mut slots = Vec::new();
        let mut deferred = Vec::new();
        for (source_project, pv) in source_vars.project_variables.iter() {
            let Some(entry) = ctx
                .source
                .index
                .by_id(ResourceKind::Project, source_project.as_str())
                .cloned()
            else {
                continue;
            };
            let Lookup::Found(dest_project_id) =
                ctx.dest.index.lookup(ResourceKind::Project, &entry.name)
            else {
                if ctx
                    .created(ResourceKind::Project, None, &entry.name)
                    .is_some()
                {
                    deferred.push(entry.name.clone());
                }
                continue;
            };
            let dest_project_id = dest_project_id.to_owned();
            let Some(dest_project) = dst.projects.iter().find(|p| {
                p.id.get()
                    .is_some_and(|i| i.as_str().eq_ignore_ascii_case(&dest_project_id))
            }) else {
                continue;
            };
            let dest_templates: Vec<_> = dest_project.templates.iter().cloned().collect();
            let source_templates: Vec<_> = pv.templates.iter().cloned().collect();
            let key = ProjectId::new(dest_project_id.clone());
            let mut out = desired
                .project_variables
                .get(&key)
                .cloned()
                .unwrap_or_default();
            out.project_id.set(key.clone());
            for (source_env, values) in pv.variables.iter() {
                let mut targets = ctx.resolve_many(ResourceKind::Environment, source_env.as_str());
                if targets.len() > 1 {
                    // A tenant variable value belongs to one environment: a one-to-many
                    // map entry has no single answer, and a first pick would be silent.
                    let name = targets[0].0.clone();
                    let reason = format!(
                        "{:?} values for environment {name:?} not synced: [environment_map] entry {name:?} = {} maps it to {} environments, but a tenant variable value belongs to one",
                        entry.name,
                        crate::planner::common::quote_list(&ctx.rules.environment_map.map(&name)),
                        targets.len()
                    );
                    if matches!(
                        ctx.rules.scoping.variable_environments,
                        crate::rules::ScopeMode::ErrorUnlessExactMatch
                            | crate::rules::ScopeMode::ErrorUnlessPartialMatch
                    ) {
                        ctx.fail(&item, reason.clone());
                    }
                    ctx.clean(CleanupCategory::Skipped, &item, reason);
                    continue;
                }
                let (env_name, env) = targets.pop().unwrap_or_else(|| {
                    (
                        source_env.as_str().to_owned(),
                        crate::context::Resolved::Missing("nothing to translate".to_owned()),
                    )
                });
                let Some(env_id) = env.text() else {
                    ctx.clean(CleanupCategory::Skipped, &item, format!("{:?} values for environment {env_name:?} not synced: not on the destination", entry.name));
                    continue;
                };
                let env_key = EnvironmentId::new(env_id);
                let mut env_values = out.variables.get(&env_key).cloned().unwrap_or_default();
                for (source_template, value) in values {
                    let Some((template, tid)) =
                        template_id(&dest_templates, &source_templates, source_template)
                    else {
                        continue;
                    };
                    let what = format!("{:?} {:?} in {env_name:?}", entry.name, template.name);
                    match merge_value(
                        ctx,
                        &item,
                        &what,
                        &template,
                        Some(value),
                        env_values.get(&tid),
                    ) {
                        Ok(Some(v)) => {
                            if v.is_sensitive() && !env_values.contains_key(&tid) {
                                slots.push(format!(
                                    "/ProjectVariables/{}/Variables/{}/{}",
                                    pointer_key(&dest_project_id),
                                    pointer_key(env_key.as_str()),
                                    pointer_key(&tid)
                                ));
                            }
                            env_values.insert(tid, v);
                        }
                        Ok(None) => {
                            env_values.remove(&tid);
                        }
                        Err(reason) => ctx.clean(CleanupCategory::Skipped, &item, reason),
                    }
                }
                out.variables.insert(env_key, env_values);
            }
            desired.project_variables.insert(key, out);
        }
        for (source_set, lv) in source_vars.library_variables.iter() {
            let Some(entry) = ctx
                .source
                .index
                .by_id(ResourceKind::LibraryVariableSet, source_set.as_str())
                .cloned()
            else {
                continue;
            };
            let Lookup::Found(dest_set_id) = ctx
                .dest
                .index
                .lookup(ResourceKind::LibraryVariableSet, &entry.name)
            else {
                if ctx
                    .created(ResourceKind::LibraryVariableSet, None, &entry.name)
                    .is_some()
                {
                    deferred.push(entry.name.clone());
                }
                continue;
            };
            let dest_set_id = dest_set_id.to_owned();
            let Some(dest_set) = dst.library_variable_sets.iter().find(|l| {
                l.id.get()
                    .is_some_and(|i| i.as_str().eq_ignore_ascii_case(&dest_set_id))
            }) else {
                continue;
            };
            if dest_set.is_script_module() {
                continue;
            }
            let dest_templates: Vec<_> = dest_set.templates.iter().cloned().collect();
            let source_templates: Vec<_> = lv.templates.iter().cloned().collect();
            let key = octopus_model::LibraryVariableSetId::new(dest_set_id.clone());
            let mut out = desired
                .library_variables
                .get(&key)
                .cloned()
                .unwrap_or_default();
            out.library_variable_set_id.set(key.clone());
            for (source_template, value) in lv.variables.iter() {
                let Some((template, tid)) =
                    template_id(&dest_templates, &source_templates, source_template)
                else {
                    continue;
                };
                let what = format!("{:?} {:?}", entry.name, template.name);
                match merge_value(
                    ctx,
                    &item,
                    &what,
                    &template,
                    Some(value),
                    out.variables.get(&tid),
                ) {
                    Ok(Some(v)) => {
                        if v.is_sensitive() && !out.variables.contains_key(&tid) {
                            slots.push(format!(
                                "/LibraryVariables/{}/Variables/{}",
                                pointer_key(&dest_set_id),
                                pointer_key(&tid)
                            ));
                        }
                        out.variables.insert(tid, v);
                    }
                    Ok(None) => {
                        out.variables.remove(&tid);
                    }
                    Err(reason) => ctx.clean(CleanupCategory::Skipped, &item, reason),
                }
            }
            desired.library_variables.insert(key, out);
        }
        let dest_scoped = match &target {
            Target::Existing { id } => scoped_values(&dst.tenant_common_variables, id),
            _ => Vec::new(),
        };
        let source_scoped = tenant
            .id
            .get()
            .map(|id| scoped_values(&src.tenant_common_variables, id.as_str()))
            .unwrap_or_default();
        let (scoped, scoped_slots) =
            plan_scoped_common(ctx, &item, &source_scoped, &dest_scoped, &mut deferred);
        if !deferred.is_empty() {
            ctx.clean(CleanupCategory::Skipped, &item, format!(
                "values for {} follow on the next run: their templates get ids when they are created", quote_list(&deferred)));
        }
        let mut before_value = before
            .as_ref()
            .map(to_value)
            .unwrap_or_else(|| serde_json::json!({}));
        let mut desired_value = to_value(&desired);
        if !scoped.is_empty() || !dest_scoped.is_empty() {
            let field = SCOPED_COMMON_VARIABLES;
            set(&mut before_value, field, scoped_list(&dest_scoped));
            set(&mut desired_value, field, scoped_list(&scoped));
            slots.extend(scoped_slots);
        }
        let mut op = update_op(
            ctx,
            item,
            target,
            &before_value,
            desired_value,
            "tenant variable values to add or change",
            "tenant variable values match",
        );
        if let Some(u) = op.update_mut() {
            u.secret_slots = slots;
        }
        // The guard an applier keeps before writing is the old-shape document, which every
        // version can read back; scoped common values live beside it.
        if let Some(u) = op.update_mut().filter(|u| u.base.is_some()) {
            u.base = before.as_ref().map(|b| crate::base::Base::of(&to_value(b)));
        }
        ctx.push(LayerName::TenantVariables, op);
    }
}

/// The field of a tenant variables op that carries common values scoped to environments,
/// which the old shape of the document cannot hold: a list of
/// `{LibraryVariableSetId, TemplateId, Value, Scope: {EnvironmentIds}}` in the shape of
/// `/tenants/{id}/commonvariables` (2025.2+). The applier writes it through that route.
pub const SCOPED_COMMON_VARIABLES: &str = "ScopedCommonVariables";

/// One environment-scoped common value: set, template, sorted environments, value.
type ScopedValue = (String, String, Vec<String>, PropertyValue);

/// The environment-scoped common values a tenant has in a snapshot, sorted.
fn scoped_values(docs: &[TenantScopedVariables], tenant_id: &str) -> Vec<ScopedValue> {
    let Some(doc) = docs.iter().find(|d| {
        d.tenant_id
            .get()
            .is_some_and(|t| t.as_str().eq_ignore_ascii_case(tenant_id))
    }) else {
        return Vec::new();
    };
    let mut out: Vec<ScopedValue> = doc
        .variables
        .iter()
        .filter_map(|v: &TenantVariableValue| {
            let mut envs: Vec<String> = v
                .scope
                .get()
                .map(|s| {
                    s.environment_ids
                        .iter()
                        .map(|e| e.as_str().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if envs.is_empty() {
                return None;
            }
            envs.sort();
            Some((
                v.library_variable_set_id.get()?.as_str().to_owned(),
                v.template_id.get()?.clone(),
                envs,
                v.value.get()?.clone(),
            ))
        })
        .collect();
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    out
}

fn scoped_list(values: &[ScopedValue]) -> Value {
    Value::Array(
        values
            .iter()
            .map(|(lid, tid, envs, value)| {
                serde_json::json!({
                    "LibraryVariableSetId": lid,
                    "TemplateId": tid,
                    "Value": to_value(value),
                    "Scope": {"EnvironmentIds": envs},
                })
            })
            .collect(),
    )
}

/// The destination's scoped common values with the source's laid over them: sets and
/// templates matched by name, environments translated under
/// `[scoping] variable_environments` (and `[environment_map]`); existing values follow
/// `overwrite_existing_variables` like every tenant value. A value none of whose
/// environments is on the destination is not synced: dropping its scope would make it
/// the tenant's value everywhere, over the unscoped one. Destinations before 2025.2
/// cannot hold scoped common values; those are listed for a person instead. Answers the
/// list and the secret slots of new sensitive values.
fn plan_scoped_common(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    source: &[ScopedValue],
    dest: &[ScopedValue],
    deferred: &mut Vec<String>,
) -> (Vec<ScopedValue>, Vec<String>) {
    let mut out: Vec<ScopedValue> = dest.to_vec();
    let mut new_secrets = Vec::new();
    if source.is_empty() {
        return (out, Vec::new());
    }
    let scoping_on = ctx.dest.snapshot.version.at_least(2025, 2);
    let mode = ctx.rules.scoping.variable_environments;
    for (source_set, source_template, source_envs, value) in source {
        let Some(set_entry) = ctx
            .source
            .index
            .by_id(ResourceKind::LibraryVariableSet, source_set)
            .cloned()
        else {
            continue;
        };
        let source_templates: Vec<ActionTemplateParameter> = ctx
            .source
            .snapshot
            .library_variable_sets
            .iter()
            .find(|l| {
                l.id.get()
                    .is_some_and(|i| i.as_str().eq_ignore_ascii_case(source_set))
            })
            .map(|l| l.templates.iter().cloned().collect())
            .unwrap_or_default();
        let template_name = source_templates
            .iter()
            .find(|t| {
                t.id.get()
                    .is_some_and(|i| i.eq_ignore_ascii_case(source_template))
            })
            .map(|t| t.name.clone())
            .unwrap_or_else(|| source_template.clone());
        let what = format!(
            "{:?} {:?} scoped to {}",
            set_entry.name,
            template_name,
            quote_list(
                &source_envs
                    .iter()
                    .map(|e| ctx
                        .source
                        .index
                        .by_id(ResourceKind::Environment, e)
                        .map(|x| x.name.clone())
                        .unwrap_or_else(|| e.clone()))
                    .collect::<Vec<_>>()
            )
        );
        if !scoping_on {
            ctx.clean(
                CleanupCategory::Skipped,
                item,
                format!("{what}: not synced, the destination's version has no environment-scoped common variables"),
            );
            continue;
        }
        let Lookup::Found(dest_set_id) = ctx
            .dest
            .index
            .lookup(ResourceKind::LibraryVariableSet, &set_entry.name)
        else {
            if ctx
                .created(ResourceKind::LibraryVariableSet, None, &set_entry.name)
                .is_some()
                && !deferred.contains(&set_entry.name)
            {
                deferred.push(set_entry.name.clone());
            }
            continue;
        };
        let dest_set_id = dest_set_id.to_owned();
        let Some(dest_templates) = ctx
            .dest
            .snapshot
            .library_variable_sets
            .iter()
            .find(|l| {
                l.id.get()
                    .is_some_and(|i| i.as_str().eq_ignore_ascii_case(&dest_set_id))
            })
            .map(|l| l.templates.iter().cloned().collect::<Vec<_>>())
        else {
            continue;
        };
        let Some((template, tid)) =
            template_id(&dest_templates, &source_templates, source_template)
        else {
            continue;
        };
        let mut translated = Vec::new();
        for env in source_envs {
            translated.extend(ctx.resolve_many(ResourceKind::Environment, env));
        }
        if translated.iter().all(|(_, r)| r.text().is_none()) {
            ctx.clean(
                CleanupCategory::Skipped,
                item,
                format!("{what}: not synced, none of its environments are on the destination"),
            );
            continue;
        }
        let mut envs = match apply_decision(ctx, item, mode, &what, translated) {
            Ok(envs) if !envs.is_empty() => envs,
            Ok(_) => continue,
            Err(reason) => {
                ctx.clean(CleanupCategory::Skipped, item, reason);
                continue;
            }
        };
        envs.sort();
        envs.dedup();
        let existing = out.iter().position(|(l, t, e, _)| {
            l.eq_ignore_ascii_case(&dest_set_id) && *t == tid && *e == envs
        });
        let current = existing.map(|i| out[i].3.clone());
        match merge_value(ctx, item, &what, &template, Some(value), current.as_ref()) {
            Ok(Some(v)) => {
                let key = (dest_set_id.clone(), tid.clone(), envs.clone());
                if v.is_sensitive() && existing.is_none() {
                    new_secrets.push(key.clone());
                }
                match existing {
                    Some(i) => out[i].3 = v,
                    None => out.push((key.0, key.1, key.2, v)),
                }
            }
            Ok(None) => {
                if let Some(i) = existing {
                    out.remove(i);
                }
            }
            Err(reason) => ctx.clean(CleanupCategory::Skipped, item, reason),
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1, &a.2).cmp(&(&b.0, &b.1, &b.2)));
    let slots = out
        .iter()
        .enumerate()
        .filter(|(_, (l, t, e, _))| {
            new_secrets
                .iter()
                .any(|(nl, nt, ne)| nl == l && nt == t && ne == e)
        })
        .map(|(i, _)| format!("/{SCOPED_COMMON_VARIABLES}/{i}/Value"))
        .collect();
    (out, slots)
}
