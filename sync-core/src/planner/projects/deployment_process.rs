//! A project's deployment process, and the ids of the steps and actions of every process
//! the project owns (the deployment process and its runbooks' processes), which the
//! processes and the project's variables translate scopes with.

use octopus_model::{DeploymentProcess, Field, Project, ResourceKind};
use serde_json::json;

use crate::context::Ctx;
use crate::diff::{to_value, update_op};
use crate::ledger::ProcessKey;
use crate::plan::{ItemRef, LayerName, Op, Target};
use crate::planner::process::{self, ProcessOwner, ProcessOwnerIds};

use super::runbooks::runbook_process;
use super::{Planned, GIT_BACKED};

fn source_process<'a>(ctx: &Ctx<'a>, project: &Project) -> Option<&'a DeploymentProcess> {
    ctx.source.children.process(project.id.get()?.as_str())
}

fn dest_process<'a>(ctx: &Ctx<'a>, p: &Planned<'_>) -> Option<&'a DeploymentProcess> {
    ctx.dest.children.process(p.dest_id.as_deref()?)
}

pub(super) fn owner_ids(ctx: &Ctx<'_>, p: &Planned<'_>) -> ProcessOwnerIds {
    let mut ids = ProcessOwnerIds::default();
    if let Some(process) = source_process(ctx, p.source) {
        ids.add_source(&ProcessKey::project(p.name()), &process.steps);
    }
    if let Some(process) = dest_process(ctx, p) {
        ids.add_dest(&ProcessKey::project(p.name()), &process.steps);
    }
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    for rb in ctx.source.children.runbooks(&source_id) {
        if let Some(process) = runbook_process(&ctx.source.children, rb) {
            ids.add_source(&ProcessKey::runbook(p.name(), &rb.name), &process.steps);
        }
    }
    if let Some(dest_id) = &p.dest_id {
        for rb in ctx.dest.children.runbooks(dest_id) {
            if let Some(process) = runbook_process(&ctx.dest.children, rb) {
                ids.add_dest(&ProcessKey::runbook(p.name(), &rb.name), &process.steps);
            }
        }
    }
    ids
}

pub(super) fn deployment_process(ctx: &mut Ctx<'_>, p: &Planned<'_>) {
    let item = ItemRef::owned(ResourceKind::DeploymentProcess, p.name(), p.name());
    if p.cac {
        let mut op = Op::skip(item, GIT_BACKED);
        op.owner = Some(p.target());
        ctx.push(LayerName::DeploymentProcesses, op);
        return;
    }
    let Some(source) = source_process(ctx, p.source) else {
        ctx.warnings.push(format!(
            "the source snapshot has no deployment process for project {:?}",
            p.name()
        ));
        return;
    };
    let (before, target) = match (&p.dest_id, dest_process(ctx, p)) {
        (Some(_), Some(d)) => (
            std::borrow::Cow::Borrowed(d),
            Target::Existing {
                id: d
                    .id
                    .get()
                    .map(|i| i.as_str().to_owned())
                    .unwrap_or_default(),
            },
        ),
        (Some(_), None) => {
            let mut op = Op::skip(
                item,
                "the destination snapshot has no deployment process for this project",
            );
            op.owner = Some(p.target());
            ctx.push(LayerName::DeploymentProcesses, op);
            return;
        }
        (None, _) => {
            let doc = DeploymentProcess {
                project_id: Field::Value(p.id_text(ctx).into()),
                ..DeploymentProcess::default()
            };
            (
                std::borrow::Cow::Owned(doc),
                Target::SideEffect {
                    owner: ItemRef::new(ResourceKind::Project, p.name()),
                    field: "DeploymentProcessId".to_owned(),
                },
            )
        }
    };
    let owner = ProcessOwner {
        key: ProcessKey::project(p.name()),
        project: p.name(),
        dest_project: p.dest_id.clone(),
    };
    let merged = process::merge(ctx, &item, &owner, &source.steps, &before.steps);
    // The destination's document with the merged steps: its own steps are not copied.
    let desired = DeploymentProcess {
        id: before.id.clone(),
        project_id: before.project_id.clone(),
        space_id: before.space_id.clone(),
        version: before.version.clone(),
        last_snapshot_id: before.last_snapshot_id.clone(),
        steps: merged.steps.into_iter().collect(),
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
        "the steps differ from the source",
        "the steps match the source",
    );
    if let Some(u) = op.update_mut() {
        u.secret_slots = merged.secret_slots;
        u.removed = merged.removed;
    }
    process::note(&mut op, &merged.notes);
    op.owner = Some(p.target());
    ctx.push(LayerName::DeploymentProcesses, op);
}
