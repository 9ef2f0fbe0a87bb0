//! Variables: values matched by name and translated scope across multi-valued variables.
//!
//! For each source value, in order:
//!
//! 1. Its scope is translated field by field under the `variable_*` modes; a field that
//!    fails its mode skips the value. Roles are names and need no translation.
//! 2. A typed value (account, certificate, worker pool) is translated under the
//!    single-value modes.
//! 3. It is compared with the destination's values of the same name and sensitivity that
//!    no earlier source value matched:
//!    - same value and same scope: nothing to do;
//!    - sensitive, same scope: the destination's secret is kept untouched (its `Id` is
//!      reused, its value stays `null`, which the API reads as "keep");
//!    - same value (non-sensitive), different scope: the destination's scope becomes the
//!      source's (fields under `ignore-mismatch-on-new-leave-existing-alone` keep the
//!      destination's);
//!    - same scope (fields under `ignore-mismatch-on-new-leave-existing-alone` count as
//!      the same), different value: overwritten only under
//!      `overwrite_existing_variables = "always"`, and never when sensitive;
//!    - no match: appended as a new value, unless the destination already has values of
//!      that name and `add_additional_variable_values_on_existing_variable_sets` is off.
//!      New sensitive values get a dummy secret and a clean-up entry; under
//!      `add-new-with-placeholder` new text values get `placeholder_value`. A new value
//!      identical to one already added (same name, value, type and scope) is collapsed.
//!
//! Destination-only values are never removed.

use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{name_key, Field, Lenient, ResourceKind, ScopeField, Variable};

use super::common::{apply_decision, translate_list, translate_tags};
use super::process::ProcessOwnerIds;
use crate::context::{Ctx, Resolved};
use crate::plan::{CleanupCategory, ItemRef};
use crate::rules::{OverwriteVariables, PlaceholderValues, ScopeMode};

/// What the variables of one set may refer to.
pub struct VariableOwner<'p> {
    /// The project's name, for project variable sets.
    pub project: Option<&'p str>,
    /// The destination project's id, if it exists.
    pub dest_project: Option<String>,
    /// Action ids of the project's processes, on both sides.
    pub actions: ProcessOwnerIds,
    /// Only sensitive values are synced (config-as-code projects keep the rest in git).
    pub only_sensitive: bool,
    /// Values are always overwritten (script module bodies).
    pub force_overwrite: bool,
}

/// The merged variables and where their dummy secrets go.
pub struct MergedVariables {
    /// The variables to save.
    pub variables: Vec<Variable>,
    /// JSON pointers (relative to the variable set) of dummy secrets.
    pub secret_slots: Vec<String>,
}

type ScopeMap = BTreeMap<ScopeField, Vec<String>>;

fn scope_of(v: &Variable) -> ScopeMap {
    v.scope
        .iter()
        .filter(|(_, vals)| !vals.is_empty())
        .map(|(k, vals)| (k.clone(), vals.clone()))
        .collect()
}

fn same_values(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<String> = a.iter().map(|s| s.to_lowercase()).collect();
    let b: BTreeSet<String> = b.iter().map(|s| s.to_lowercase()).collect();
    a == b
}

fn scopes_equal(a: &ScopeMap, b: &ScopeMap, ignored: &BTreeSet<ScopeField>) -> bool {
    let fields: BTreeSet<&ScopeField> = a.keys().chain(b.keys()).collect();
    fields.into_iter().all(|f| {
        ignored.contains(f)
            || same_values(
                a.get(f).map(Vec::as_slice).unwrap_or(&[]),
                b.get(f).map(Vec::as_slice).unwrap_or(&[]),
            )
    })
}

fn values_equal(a: &Variable, b: &Variable) -> bool {
    let (x, y) = (a.value.as_str().trim(), b.value.as_str().trim());
    !x.is_empty() && x.to_lowercase() == y.to_lowercase()
}

fn mode_for(ctx: &Ctx<'_>, field: &ScopeField) -> Option<ScopeMode> {
    let s = &ctx.rules.scoping;
    Some(match field {
        ScopeField::Environment => s.variable_environments,
        ScopeField::Channel => s.variable_channels,
        ScopeField::ProcessOwner => s.variable_process_owners,
        ScopeField::Action => s.variable_actions,
        ScopeField::Machine => s.variable_machines,
        ScopeField::TenantTag => s.variable_tenant_tags,
        _ => return None,
    })
}

/// The fields whose differences count as "the same" on existing values.
fn leave_alone_fields(ctx: &Ctx<'_>) -> BTreeSet<ScopeField> {
    [
        ScopeField::Environment,
        ScopeField::Channel,
        ScopeField::ProcessOwner,
        ScopeField::Action,
        ScopeField::Machine,
        ScopeField::TenantTag,
    ]
    .into_iter()
    .filter(|f| mode_for(ctx, f) == Some(ScopeMode::IgnoreMismatchOnNewLeaveExistingAlone))
    .collect()
}

fn translate_scope(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &VariableOwner<'_>,
    var: &Variable,
) -> Result<ScopeMap, String> {
    let mut out = ScopeMap::new();
    for (field, values) in var.scope.iter() {
        if values.is_empty() {
            continue;
        }
        let what = format!(
            "value of {:?} scoped to {}",
            var.name,
            field.as_str().to_lowercase()
        );
        let mode = mode_for(ctx, field).unwrap_or(ScopeMode::SkipUnlessExactMatch);
        let translated = match field {
            ScopeField::Role => values.clone(),
            ScopeField::Environment => {
                translate_list(ctx, item, ResourceKind::Environment, mode, &what, values)?
            }
            ScopeField::Machine => {
                translate_list(ctx, item, ResourceKind::Machine, mode, &what, values)?
            }
            ScopeField::TenantTag => translate_tags(ctx, item, mode, &what, values)?,
            ScopeField::Channel | ScopeField::ProcessOwner | ScopeField::Action => {
                let Some(project) = owner.project else {
                    return Err(format!(
                        "{what}: only project variables can have this scope"
                    ));
                };
                let mut resolved = Vec::new();
                for v in values {
                    resolved.push(match field {
                        ScopeField::Channel => {
                            ctx.resolve_channel(v, project, owner.dest_project.as_deref())
                        }
                        ScopeField::Action => {
                            ctx.resolve_action(v, &owner.actions.source, &owner.actions.dest)
                        }
                        _ if v.to_ascii_lowercase().starts_with("runbooks-") => {
                            ctx.resolve_runbook(v, project, owner.dest_project.as_deref())
                        }
                        _ => ctx.resolve(ResourceKind::Project, v),
                    });
                }
                apply_decision(ctx, item, mode, &what, resolved)?
            }
            other => {
                ctx.clean(
                    CleanupCategory::Reference,
                    item,
                    format!(
                        "value of {:?}: scope {} is server-internal and was copied as is",
                        var.name,
                        other.as_str()
                    ),
                );
                values.clone()
            }
        };
        if !translated.is_empty() {
            out.insert(field.clone(), translated);
        }
    }
    Ok(out)
}

/// Translates a typed value; `Ok(None)` means "skip the value".
fn translate_value(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    var: &Variable,
) -> Result<Field<String>, String> {
    let Some(kind) = var.r#type.get().and_then(|t| t.referenced_kind()) else {
        return Ok(var.value.clone());
    };
    let Some(value) = var
        .value
        .get()
        .filter(|v| !v.trim().is_empty() && !v.contains("#{"))
    else {
        return Ok(var.value.clone());
    };
    let s = &ctx.rules.scoping;
    let mode = match kind {
        ResourceKind::Account => s.variable_accounts,
        ResourceKind::Certificate => s.variable_certificates,
        _ => s.variable_worker_pools,
    };
    let (name, r) = ctx.resolve(kind, value);
    match r {
        Resolved::Missing(reason) => {
            let reason = format!("value of {:?} names {kind} {name:?}: {reason}", var.name);
            match mode {
                ScopeMode::ErrorUnlessExactMatch => {
                    ctx.fail(item, reason.clone());
                    Err(reason)
                }
                ScopeMode::IgnoreMismatch => {
                    ctx.clean(
                        CleanupCategory::Placeholder,
                        item,
                        format!(
                            "{reason}; added with an empty value, choose one on the destination"
                        ),
                    );
                    Ok(Field::Value(String::new()))
                }
                _ => Err(reason),
            }
        }
        other => Ok(Field::Value(other.text().unwrap_or_default())),
    }
}

/// Merges source variables into the destination's (see the module docs).
pub fn merge(
    ctx: &mut Ctx<'_>,
    item: &ItemRef,
    owner: &VariableOwner<'_>,
    source: &[Variable],
    dest: &[Variable],
) -> MergedVariables {
    let policy = ctx.rules.policy.clone();
    let overwrite =
        owner.force_overwrite || policy.overwrite_existing_variables == OverwriteVariables::Always;
    let leave = leave_alone_fields(ctx);
    let none = BTreeSet::new();
    let mut desired: Vec<Variable> = dest.to_vec();
    let mut matched = vec![false; dest.len()];
    let mut added: Vec<Variable> = Vec::new();
    for src in source {
        let secret = src.is_secret();
        if owner.only_sensitive && !secret {
            continue;
        }
        let widened_before = ctx.widened;
        let scope = match translate_scope(ctx, item, owner, src) {
            Ok(s) => s,
            Err(reason) => {
                ctx.clean(
                    CleanupCategory::Skipped,
                    item,
                    format!("{reason}; the value was not synced"),
                );
                continue;
            }
        };
        let value = match translate_value(ctx, item, src) {
            Ok(v) => v,
            Err(reason) => {
                ctx.clean(
                    CleanupCategory::Skipped,
                    item,
                    format!("{reason}; the value was not synced"),
                );
                continue;
            }
        };
        let was_widened = ctx.widened > widened_before;
        let mut new = src.clone();
        new.id = Field::Missing;
        new.value = value;
        new.scope = Lenient::present(scope.clone());
        let candidates: Vec<usize> = (0..dest.len())
            .filter(|&i| {
                !matched[i]
                    && name_key(&dest[i].name) == name_key(&src.name)
                    && dest[i].is_secret() == secret
            })
            .collect();
        let find =
            |pred: &dyn Fn(&Variable) -> bool| candidates.iter().copied().find(|&i| pred(&dest[i]));
        if let Some(i) = find(&|d| {
            (secret || values_equal(d, &new)) && scopes_equal(&scope_of(d), &scope, &none)
        }) {
            matched[i] = true;
            continue;
        }
        if !secret {
            if let Some(i) = find(&|d| values_equal(d, &new)) {
                matched[i] = true;
                let mut merged_scope = scope.clone();
                let dest_scope = scope_of(&dest[i]);
                for field in &leave {
                    merged_scope.remove(field);
                    if let Some(v) = dest_scope.get(field) {
                        merged_scope.insert(field.clone(), v.clone());
                    }
                }
                desired[i].scope = Lenient::present(merged_scope);
                continue;
            }
        }
        if let Some(i) = find(&|d| scopes_equal(&scope_of(d), &scope, &leave)) {
            matched[i] = true;
            if overwrite && !secret && dest[i].value != new.value {
                desired[i].value = new.value.clone();
            }
            continue;
        }
        let name_exists = dest
            .iter()
            .any(|d| name_key(&d.name) == name_key(&src.name));
        if name_exists && !policy.add_additional_variable_values_on_existing_variable_sets {
            ctx.clean(CleanupCategory::Skipped, item, format!(
                "an additional value of {:?} was not added (add_additional_variable_values_on_existing_variable_sets is off)", src.name));
            continue;
        }
        let notes = ctx.cleanup.len();
        if secret {
            new.value = Field::Null;
            ctx.clean(
                CleanupCategory::DummySecret,
                item,
                format!(
                    "new sensitive variable {:?} set to a dummy value; enter the real one",
                    src.name
                ),
            );
        } else if policy.overwrite_existing_variables == OverwriteVariables::AddNewWithPlaceholder
            && !owner.force_overwrite
            && (policy.placeholder_values == PlaceholderValues::AllNew || was_widened)
        {
            let is_text = matches!(
                new.r#type.get(),
                None | Some(octopus_model::VariableType::String)
            );
            new.value = Field::Value(if is_text {
                policy.placeholder_value.clone()
            } else {
                String::new()
            });
            ctx.clean(
                CleanupCategory::Placeholder,
                item,
                format!(
                    "new variable {:?} added with a placeholder value; set the real one",
                    src.name
                ),
            );
        }
        let same_name_scope = |a: &Variable| {
            name_key(&a.name) == name_key(&new.name) && scopes_equal(&scope_of(a), &scope, &none)
        };
        let identical = desired.iter().chain(added.iter()).any(|a| {
            same_name_scope(a)
                && a.value == new.value
                && a.r#type == new.r#type
                && a.is_secret() == secret
        });
        if identical {
            // Collapsed into the earlier value: its notes stand for both.
            ctx.cleanup.truncate(notes);
            continue;
        }
        added.push(new);
    }
    let mut secret_slots = Vec::new();
    for (k, var) in added.iter().enumerate() {
        if var.is_secret() {
            secret_slots.push(format!("/Variables/{}/Value", dest.len() + k));
        }
    }
    desired.extend(added);
    MergedVariables {
        variables: desired,
        secret_slots,
    }
}
