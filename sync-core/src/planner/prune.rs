//! Runbooks and channels under `[policy] prune`: each destination runbook or channel of
//! a synced project is recorded when the source has one of its name, and deleted when
//! the source has none any more and the record names it unchanged (see
//! [`crate::provenance`]). Steps and variable values are pruned where they are merged
//! ([`super::process`], [`super::variables`]).

use octopus_model::{name_key, ResourceKind, ScopeField};

use serde_json::Value;

use crate::base::Base;
use crate::context::Ctx;
use crate::diff::to_value;
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, Target};
use crate::provenance::{Lookup, Provenance, PruneKind, RecordedItem};

/// A synced project as pruning sees it.
pub struct PrunedProject<'p> {
    /// The project's name.
    pub name: &'p str,
    /// The source project's id.
    pub source_id: &'p str,
    /// The destination project's id.
    pub dest_id: &'p str,
}

/// One destination item of a project (a runbook or a channel).
struct Child<'c> {
    id: &'c str,
    name: &'c str,
    is_default: bool,
    /// The document as read, so the applier deletes only what the plan saw.
    document: Value,
}

/// Records and prunes the runbooks and channels of one project that exists on both
/// sides.
pub fn project_children(ctx: &mut Ctx<'_>, p: &PrunedProject<'_>) {
    if !ctx.records_provenance() {
        return;
    }
    let source_runbooks: Vec<String> = ctx
        .source
        .children
        .runbooks(p.source_id)
        .iter()
        .map(|r| name_key(&r.name))
        .collect();
    let dest_runbooks: Vec<(String, String, Value)> = ctx
        .dest
        .children
        .runbooks(p.dest_id)
        .iter()
        .filter_map(|r| {
            Some((
                r.id.get()?.as_str().to_owned(),
                r.name.clone(),
                to_value(*r),
            ))
        })
        .collect();
    let children: Vec<Child<'_>> = dest_runbooks
        .iter()
        .map(|(id, name, document)| Child {
            id,
            name,
            is_default: false,
            document: document.clone(),
        })
        .collect();
    let filter = ctx.rules.select.runbooks.clone();
    prune_kind(
        ctx,
        p,
        PruneKind::Runbooks,
        &children,
        &source_runbooks,
        &|name| filter.matches(name),
    );

    let source_channels: Vec<String> = ctx
        .source
        .children
        .channels(p.source_id)
        .iter()
        .map(|c| name_key(&c.name))
        .collect();
    let dest_channels: Vec<(String, String, bool, Value)> = ctx
        .dest
        .children
        .channels(p.dest_id)
        .iter()
        .filter_map(|c| {
            Some((
                c.id.get()?.as_str().to_owned(),
                c.name.clone(),
                c.is_default.get_or(false),
                to_value(*c),
            ))
        })
        .collect();
    let children: Vec<Child<'_>> = dest_channels
        .iter()
        .map(|(id, name, is_default, document)| Child {
            id,
            name,
            is_default: *is_default,
            document: document.clone(),
        })
        .collect();
    let filter = ctx.rules.select.channels.clone();
    prune_kind(
        ctx,
        p,
        PruneKind::Channels,
        &children,
        &source_channels,
        &|name| filter.matches(name),
    );
}

fn prune_kind(
    ctx: &mut Ctx<'_>,
    p: &PrunedProject<'_>,
    kind: PruneKind,
    children: &[Child<'_>],
    source_names: &[String],
    selected: &dyn Fn(&str) -> bool,
) {
    let (resource, noun) = match kind {
        PruneKind::Channels => (ResourceKind::Channel, "channel"),
        _ => (ResourceKind::Runbook, "runbook"),
    };
    let record = ctx.prunes(kind).flatten();
    for child in children {
        // Outside the selection, the source's absence says nothing: never touched.
        if !selected(child.name) {
            continue;
        }
        let entry = RecordedItem {
            name: child.name.to_owned(),
            owner: p.name.to_owned(),
        };
        if source_names.contains(&name_key(child.name)) {
            record_of(&mut ctx.synced, kind).insert(child.id.to_lowercase(), entry);
            continue;
        }
        let item = ItemRef::owned(resource, child.name, p.name);
        let lookup = match (record, kind) {
            (Some(r), PruneKind::Channels) => r.channel(child.id, child.name),
            (Some(r), _) => r.runbook(child.id, child.name),
            (None, _) => continue,
        };
        match lookup {
            Lookup::NotRecorded => {}
            Lookup::ChangedSince(r) => ctx.clean(
                CleanupCategory::Skipped,
                &item,
                format!(
                    "not pruned: an earlier sync wrote this {noun} as {:?} and it was renamed on the destination since; delete it by hand if it is no longer needed",
                    r.name
                ),
            ),
            Lookup::Unchanged(_) => {
                if child.is_default {
                    ctx.clean(
                        CleanupCategory::Skipped,
                        &item,
                        "not pruned: it is the project's default channel on the destination",
                    );
                    continue;
                }
                if let Some(user) = still_used(ctx, p, kind, child.id) {
                    ctx.clean(
                        CleanupCategory::Skipped,
                        &item,
                        format!(
                            "not pruned yet: {user} still refers to it; once that is gone (or pruned by this sync), the next sync deletes it"
                        ),
                    );
                    continue;
                }
                let mut op = Op::delete(
                    item,
                    format!(
                        "the source no longer has this {noun}, and an earlier sync from it wrote it unchanged since (prune)"
                    ),
                    Target::Existing {
                        id: child.id.to_owned(),
                    },
                    Some(Base::of(&child.document)),
                );
                op.owner = Some(Target::Existing {
                    id: p.dest_id.to_owned(),
                });
                ctx.push(LayerName::Deletions, op);
            }
        }
    }
}

fn record_of(
    provenance: &mut Provenance,
    kind: PruneKind,
) -> &mut std::collections::BTreeMap<String, RecordedItem> {
    match kind {
        PruneKind::Channels => &mut provenance.channels,
        _ => &mut provenance.runbooks,
    }
}

/// What on the destination still refers to a runbook or channel about to be pruned: a
/// variable value of the project scoped to it, or the project's own settings. Deleting
/// it would leave a dangling reference.
fn still_used(ctx: &Ctx<'_>, p: &PrunedProject<'_>, kind: PruneKind, id: &str) -> Option<String> {
    let field = match kind {
        PruneKind::Channels => ScopeField::Channel,
        _ => ScopeField::ProcessOwner,
    };
    if let Some(set) = ctx.dest.children.variable_set(p.dest_id) {
        if let Some(var) = set.variables.iter().find(|v| {
            v.scope_values(&field)
                .iter()
                .any(|s| s.eq_ignore_ascii_case(id))
        }) {
            return Some(format!("the destination's variable {:?}", var.name));
        }
    }
    let project = ctx.dest.snapshot.projects.iter().find(|pr| {
        pr.id
            .get()
            .is_some_and(|i| i.as_str().eq_ignore_ascii_case(p.dest_id))
    })?;
    let text = serde_json::to_string(project).ok()?;
    text.to_lowercase()
        .contains(&format!("\"{}\"", id.to_lowercase()))
        .then(|| "the destination project's settings".to_owned())
}
