//! A project's runbooks: their settings, their processes and whether a snapshot of each is
//! published. Publishing is decided after the project's variables, which a snapshot
//! freezes too.

use octopus_model::{name_key, Field, ResourceKind, Runbook, RunbookProcess};
use serde_json::{json, Value};

use crate::children::Children;
use crate::context::Ctx;
use crate::diff::{create_op, strip_for_create, to_value, update_op};
use crate::index::Lookup;
use crate::ledger::ProcessKey;
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, OpAction, Target};
use crate::planner::common::{remove, set, strings, translate_list};
use crate::planner::process::{self, ProcessOwner};
use crate::rules::ScopeMode;

use super::{Planned, GIT_BACKED};

pub(super) fn runbook_process<'a>(kids: &Children<'a>, rb: &Runbook) -> Option<&'a RunbookProcess> {
    kids.runbook_process(rb.id.get()?.as_str())
}

/// Plans the selected runbooks and their processes; returns what deciding on their
/// publishing needs, once the project's variables are planned.
pub(super) fn runbooks<'a>(
    ctx: &mut Ctx<'a>,
    p: &Planned<'_>,
) -> Vec<(&'a Runbook, Publishing<'a>)> {
    let mut out = Vec::new();
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    let filter = ctx.rules.select.runbooks.clone();
    let mut seen = std::collections::BTreeSet::new();
    for rb in ctx.source.children.runbooks(&source_id) {
        if !filter.matches(&rb.name) || !seen.insert(name_key(&rb.name)) {
            continue;
        }
        let item = ItemRef::owned(ResourceKind::Runbook, &rb.name, p.name());
        if p.cac {
            let mut op = Op::skip(item, GIT_BACKED);
            op.owner = Some(p.target());
            ctx.push(LayerName::Runbooks, op);
            continue;
        }
        let existing = p.dest_id.as_deref().map(|project| {
            ctx.dest
                .index
                .lookup_in(ResourceKind::Runbook, Some(project), &rb.name)
        });
        let dest_rb = match existing {
            Some(Lookup::Duplicate(n)) => {
                ctx.push(
                    LayerName::Runbooks,
                    Op::skip(
                        item,
                        format!("{n} destination runbooks of this project have this name"),
                    ),
                );
                continue;
            }
            Some(Lookup::Found(id)) => {
                let id = id.to_owned();
                ctx.dest.children.runbook(&id)
            }
            _ => None,
        };
        let (process_target, before) = match dest_rb {
            Some(d) => {
                let mut op = existing_runbook(ctx, rb, d, &item);
                op.owner = Some(p.target());
                ctx.push(LayerName::Runbooks, op);
                match runbook_process(&ctx.dest.children, d) {
                    Some(proc_) => (
                        Target::Existing {
                            id: proc_
                                .id
                                .get()
                                .map(|i| i.as_str().to_owned())
                                .unwrap_or_default(),
                        },
                        Some(proc_),
                    ),
                    None => {
                        ctx.warnings.push(format!(
                            "the destination snapshot has no process for runbook {:?} of {:?}",
                            rb.name,
                            p.name()
                        ));
                        continue;
                    }
                }
            }
            None => {
                let mut body = to_value(rb);
                strip_for_create(&mut body, ctx.dest.snapshot.space_id());
                let project = p.id_text(ctx);
                set(&mut body, "ProjectId", Value::String(project));
                for k in ["RunbookProcessId", "PublishedRunbookSnapshotId"] {
                    remove(&mut body, k);
                }
                let envs = translate_list(
                    ctx,
                    &item,
                    ResourceKind::Environment,
                    ScopeMode::IgnoreMismatch,
                    "runbook environments",
                    rb.environments.iter(),
                )
                .unwrap_or_default();
                if !rb.environments.is_empty() && envs.is_empty() {
                    ctx.push(
                        LayerName::Runbooks,
                        Op::skip(
                            item,
                            "none of the environments it runs in exist on the destination",
                        ),
                    );
                    continue;
                }
                set(&mut body, "Environments", strings(&envs));
                let mut op = create_op(ctx, item.clone(), body, "missing on the destination");
                op.owner = Some(p.target());
                ctx.push(LayerName::Runbooks, op);
                (
                    Target::SideEffect {
                        owner: item.clone(),
                        field: "RunbookProcessId".to_owned(),
                    },
                    None,
                )
            }
        };
        let key = ProcessKey::runbook(p.name(), &rb.name);
        let process_item = ItemRef::owned(ResourceKind::RunbookProcess, &rb.name, p.name());
        let Some(source) = runbook_process(&ctx.source.children, rb) else {
            ctx.warnings.push(format!(
                "the source snapshot has no process for runbook {:?} of {:?}",
                rb.name,
                p.name()
            ));
            continue;
        };
        let owner = ProcessOwner {
            key: key.clone(),
            project: p.name(),
            dest_project: p.dest_id.clone(),
        };
        let before_doc = match before {
            Some(d) => std::borrow::Cow::Borrowed(d),
            None => std::borrow::Cow::Owned(RunbookProcess::default()),
        };
        let merged = process::merge(ctx, &process_item, &owner, &source.steps, &before_doc.steps);
        // The destination's document with the merged steps: its own steps are not copied.
        let mut desired = RunbookProcess {
            id: before_doc.id.clone(),
            runbook_id: before_doc.runbook_id.clone(),
            project_id: before_doc.project_id.clone(),
            space_id: before_doc.space_id.clone(),
            version: before_doc.version.clone(),
            last_snapshot_id: before_doc.last_snapshot_id.clone(),
            steps: merged.steps.into_iter().collect(),
            links: before_doc.links.clone(),
            extra: before_doc.extra.clone(),
        };
        if before.is_none() {
            let rb_ref = ctx
                .pending(crate::plan::Pending::Created { item: item.clone() })
                .text()
                .unwrap_or_default();
            desired.runbook_id = Field::Value(rb_ref.into());
            desired.project_id = Field::Value(p.id_text(ctx).into());
        }
        let before_value = if before.is_some() {
            to_value(&*before_doc)
        } else {
            json!({})
        };
        let desired = to_value(&desired);
        // The digest is of the document before shims, as the snapshot's name records it.
        let frozen = crate::digest_json(&desired);
        let mut op = update_op(
            ctx,
            process_item,
            process_target,
            &before_value,
            desired,
            "the steps differ from the source",
            "the steps match the source",
        );
        if let Some(u) = op.update_mut() {
            u.secret_slots = merged.secret_slots;
            u.removed = merged.removed;
        }
        process::note(&mut op, &merged.notes);
        let runbook_target = match &before {
            Some(_) => Target::Existing {
                id: dest_rb
                    .and_then(|r| r.id.get())
                    .map(|i| i.as_str().to_owned())
                    .unwrap_or_default(),
            },
            None => Target::Created { item: item.clone() },
        };
        op.owner = Some(runbook_target.clone());
        let written = op.action() == OpAction::Update;
        ctx.push(LayerName::RunbookProcesses, op);
        let has_packages = source
            .steps
            .iter()
            .flat_map(|s| s.actions.iter())
            .any(|a| !a.packages.is_empty());
        let publishing = Publishing {
            item,
            runbook: runbook_target,
            dest: dest_rb,
            written,
            frozen,
            has_packages,
        };
        out.push((rb, publishing));
    }
    out
}

/// What the publishing decision of one runbook needs to know.
pub(super) struct Publishing<'a> {
    /// The runbook.
    item: ItemRef,
    /// The destination runbook, existing or created earlier in the plan.
    runbook: Target,
    /// The destination runbook, when it exists.
    dest: Option<&'a Runbook>,
    /// Whether this plan writes the runbook's process.
    written: bool,
    /// A digest of the process as this plan leaves it, for the snapshot's name.
    frozen: String,
    /// Whether the process references packages.
    has_packages: bool,
}

/// Runbook publishing (`publish_runbooks`): when the source runbook is published and the
/// destination runbook's process or the project's variables (a snapshot freezes both)
/// are written by this plan, or the destination runbook has never been published, a snapshot of it is created on the destination and
/// published, in a layer after the processes and project variables it freezes.
///
/// The op's body is what the official clients POST to `/api/{spaceId}/runbookSnapshots`
/// (OctopusClients `Octopus.Client/Repositories/Async/RunbookSnapshotRepository.cs` and
/// `Model/RunbookSnapshotResource.cs`: `ProjectId`, `RunbookId`, `Name`, `Notes`,
/// `SelectedPackages`); publishing sets the runbook's `PublishedRunbookSnapshotId` to
/// the new snapshot, as Octopus's documented script does with `Runbooks.Modify`
/// (OctopusDeploy/docs `docs/shared-content/scripts/publish-runbook-scripts.include.md`;
/// the notes of OctopusDeploy/cli pull request 343 say the same: publishing an existing
/// snapshot is a write of the runbook with `PublishedRunbookSnapshotId` set).
///
/// Package versions: the server does not choose them when none are given; the same
/// script looks up the latest version of every package in its feed and sends it in
/// `SelectedPackages`. A sync cannot see the destination's feeds when it plans, so a
/// runbook whose process references packages is not published: the plan says so and the
/// clean-up log asks a person to publish it. Processes without packages are published
/// with no selected packages, which is all such a snapshot has.
pub(super) fn publish_runbook(
    ctx: &mut Ctx<'_>,
    p: &Planned<'_>,
    rb: &Runbook,
    publishing: Publishing<'_>,
    variables_written: bool,
) {
    use crate::rules::PublishRunbooks;
    let published = |r: &Runbook| {
        r.published_runbook_snapshot_id
            .get()
            .is_some_and(|s| !s.trim().is_empty())
    };
    if ctx.rules.policy.publish_runbooks == PublishRunbooks::Never || !published(rb) {
        return;
    }
    let Publishing {
        item,
        runbook,
        dest,
        written,
        frozen,
        has_packages,
    } = publishing;
    let never_published = !dest.is_some_and(published);
    if !written && !variables_written && !never_published {
        return;
    }
    let snapshot = ItemRef::owned(ResourceKind::RunbookSnapshot, &item.name, p.name());
    let why = if written {
        "the source runbook is published and this sync writes its process"
    } else if variables_written {
        "the source runbook is published and this sync writes the project variables its snapshot freezes"
    } else {
        "the source runbook is published and the destination runbook never was"
    };
    if has_packages {
        let reason = format!(
            "{why}, but its process references packages: a snapshot needs a version of each, and the destination's feeds are not read when planning; publish it by hand on the destination (Runbooks > Publish, choosing the package versions) so that its runs and triggers use the synced process"
        );
        let mut op = Op::skip(snapshot, reason);
        op.owner = Some(runbook);
        ctx.push(LayerName::RunbookPublishing, op);
        return;
    }
    let runbook_id = match &runbook {
        Target::Existing { id } => id.clone(),
        _ => ctx
            .pending(crate::plan::Pending::Created { item: item.clone() })
            .text()
            .unwrap_or_default(),
    };
    let short: String = frozen.chars().take(8).collect();
    let body = json!({
        "ProjectId": p.id_text(ctx),
        "RunbookId": runbook_id,
        "Name": format!("Sync {short}"),
        "Notes": "Published by octosync to follow the source's published runbook.",
        "SelectedPackages": [],
    });
    let reason = format!("{why}: a snapshot is created and published (no packages to select)");
    let mut op = create_op(ctx, snapshot, body, reason);
    op.owner = Some(runbook);
    ctx.push(LayerName::RunbookPublishing, op);
}

/// An existing runbook: its settings are the destination's, or, under
/// `overwrite_existing_runbook_settings`, the source's (environments translated under
/// `[scoping] process_environments`; when they cannot be, the destination's environment
/// scope is kept and the clean-up log says so, so a runbook never runs in more
/// environments than it did).
fn existing_runbook(ctx: &mut Ctx<'_>, rb: &Runbook, dest: &Runbook, item: &ItemRef) -> Op {
    let target = Target::Existing {
        id: dest
            .id
            .get()
            .map(|i| i.as_str().to_owned())
            .unwrap_or_default(),
    };
    if !ctx.rules.policy.overwrite_existing_runbook_settings {
        return Op::unchanged(
            item.clone(),
            "exists; its settings are the destination's",
            Some(target),
        );
    }
    let mut desired = dest.clone();
    desired.description = rb.description.clone();
    desired.multi_tenancy_mode = rb.multi_tenancy_mode.clone();
    desired.connectivity_policy = rb.connectivity_policy.clone();
    desired.default_guided_failure_mode = rb.default_guided_failure_mode.clone();
    desired.run_retention_policy = rb.run_retention_policy.clone();
    desired.force_package_download = rb.force_package_download.clone();
    let mode = ctx.rules.scoping.process_environments;
    let (notes, widened) = (ctx.cleanup.len(), ctx.widened);
    let envs = translate_list(
        ctx,
        item,
        ResourceKind::Environment,
        mode,
        "runbook environments",
        rb.environments.iter(),
    );
    match envs {
        Ok(envs) if rb.environments.is_empty() || !envs.is_empty() => {
            desired.environment_scope = rb.environment_scope.clone();
            desired.environments = envs.into_iter().map(Into::into).collect();
        }
        Ok(_) | Err(_) => {
            // Nothing was widened: the destination's scope stays.
            ctx.cleanup.truncate(notes);
            ctx.widened = widened;
            ctx.clean(
                CleanupCategory::Skipped,
                item,
                "the source's environment scope was not applied: none of its environments are on the destination; the runbook keeps its own",
            );
        }
    }
    update_op(
        ctx,
        item.clone(),
        target,
        &to_value(dest),
        to_value(&desired),
        "its settings differ from the source (overwrite_existing_runbook_settings)",
        "exists; its settings match the source",
    )
}
