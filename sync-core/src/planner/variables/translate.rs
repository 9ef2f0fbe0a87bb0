//! Translating a source value for the destination: its scope field by field under the
//! `variable_*` modes of `[scoping]`, and a typed value (account, certificate, worker
//! pool) under the single-value modes.

use std::collections::{BTreeMap, BTreeSet};

use octopus_model::{Field, ResourceKind, ScopeField, Variable};

use super::VariableOwner;
use crate::context::{Ctx, Resolved};
use crate::plan::{CleanupCategory, ItemRef};
use crate::planner::common::{apply_decision, translate_list, translate_tags};
use crate::rules::ScopeMode;

pub(super) type ScopeMap = BTreeMap<ScopeField, Vec<String>>;

pub(super) fn scope_of(v: &Variable) -> ScopeMap {
    v.scope
        .iter()
        .filter(|(_, vals)| !vals.is_empty())
        .map(|(k, vals)| (k.clone(), vals.clone()))
        .collect()
}

pub(super) fn same_values(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<String> = a.iter().map(|s| s.to_lowercase()).collect();
    let b: BTreeSet<String> = b.iter().map(|s| s.to_lowercase()).collect();
    a == b
}

pub(super) fn scopes_equal(a: &ScopeMap, b: &ScopeMap, ignored: &BTreeSet<ScopeField>) -> bool {
    let fields: BTreeSet<&ScopeField> = a.keys().chain(b.keys()).collect();
    fields.into_iter().all(|f| {
        ignored.contains(f)
            || same_values(
                a.get(f).map(Vec::as_slice).unwrap_or(&[]),
                b.get(f).map(Vec::as_slice).unwrap_or(&[]),
            )
    })
}

pub(super) fn mode_for(ctx: &Ctx<'_>, field: &ScopeField) -> Option<ScopeMode> {
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
pub(super) fn leave_alone_fields(ctx: &Ctx<'_>) -> BTreeSet<ScopeField> {
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

/// `value of "Name" scoped to environment`: what a message is about, written only when
/// one is made (most scopes translate without one).
struct ScopedValue<'a> {
    name: &'a str,
    field: &'a ScopeField,
}

impl std::fmt::Display for ScopedValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "value of {:?} scoped to {}",
            self.name,
            self.field.as_str().to_lowercase()
        )
    }
}

pub(super) fn translate_scope(
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
        let what = ScopedValue {
            name: &var.name,
            field,
        };
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
pub(super) fn translate_value(
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
