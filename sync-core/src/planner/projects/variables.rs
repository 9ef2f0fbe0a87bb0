//! A project's variables. Separate from the processes because their scopes name the
//! processes' steps and actions, and runbook publishing needs to know whether they are
//! written.

use octopus_model::{Field, ResourceKind, VariableSet};
use serde_json::json;

use crate::children::Children;
use crate::context::Ctx;
use crate::diff::{to_value, update_op};
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, OpAction, Target};
use crate::planner::process::{self, ProcessOwnerIds};
use crate::planner::variables::{self, VariableOwner};

use super::Planned;

fn variable_set_of<'a>(kids: &Children<'a>, owner: &str) -> Option<&'a VariableSet> {
    kids.variable_set(owner)
}

/// Plans the project's variables; whether the plan writes them.
pub(super) fn project_variables(ctx: &mut Ctx<'_>, p: &Planned<'_>, ids: &ProcessOwnerIds) -> bool {
    let item = ItemRef::owned(ResourceKind::VariableSet, p.name(), p.name());
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    let Some(source) = variable_set_of(&ctx.source.children, &source_id) else {
        ctx.warnings.push(format!(
            "the source snapshot has no variable set for project {:?}",
            p.name()
        ));
        return false;
    };
    let (before, target) = match (&p.dest_id, &p.dest) {
        (Some(id), Some(_)) => match variable_set_of(&ctx.dest.children, id) {
            Some(set) => (
                std::borrow::Cow::Borrowed(set),
                Target::Existing {
                    id: set
                        .id
                        .get()
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default(),
                },
            ),
            None => {
                let mut op = Op::skip(
                    item,
                    "the destination snapshot has no variable set for this project",
                );
                op.owner = Some(p.target());
                ctx.push(LayerName::ProjectVariables, op);
                return false;
            }
        },
        _ => {
            let doc = VariableSet {
                owner_id: Field::Value(p.id_text(ctx)),
                ..VariableSet::default()
            };
            (
                std::borrow::Cow::Owned(doc),
                Target::SideEffect {
                    owner: ItemRef::new(ResourceKind::Project, p.name()),
                    field: "VariableSetId".to_owned(),
                },
            )
        }
    };
    if p.cac {
        ctx.clean(CleanupCategory::Skipped, &item, "the project is version controlled: only its sensitive variables are synced; the others live in git");
    }
    let owner = VariableOwner {
        project: Some(p.name()),
        dest_project: p.dest_id.clone(),
        actions: ids.clone(),
        only_sensitive: p.cac,
        force_overwrite: false,
    };
    let merged = variables::merge(ctx, &item, &owner, &source.variables, &before.variables);
    let mut kept = merged.variables;
    let secret_slots =
        process::drop_removed_action_scopes(ctx, &item, &mut kept, merged.secret_slots);
    // The destination's document with the merged values: its own are not copied.
    let desired = VariableSet {
        id: before.id.clone(),
        owner_id: before.owner_id.clone(),
        space_id: before.space_id.clone(),
        version: before.version.clone(),
        variables: kept.into_iter().collect(),
        scope_values: before.scope_values.clone(),
        links: before.links.clone(),
        extra: before.extra.clone(),
    };
    let before_value = if p.dest_id.is_some() {
        to_value(&*before)
    } else {
        json!({})
    };
    let mut op = update_op(
        ctx,
        item,
        target,
        &before_value,
        to_value(&desired),
        "variable values or scopes differ",
        "the variables match",
    );
    if let Some(u) = op.update_mut() {
        u.secret_slots = secret_slots;
        u.variables = merged.review;
        u.removed = merged.removed;
    }
    op.owner = Some(p.target());
    let written = op.action() == OpAction::Update;
    ctx.push(LayerName::ProjectVariables, op);
    written
}
