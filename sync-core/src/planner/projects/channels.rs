//! A project's channels and, once the process exists, their version rules (which name
//! actions of the process). Separate from the process because channels are planned
//! before it and their rules after it.

use octopus_model::{name_key, same_name, Channel, ResourceKind};
use serde_json::{json, Value};

use crate::context::Ctx;
use crate::diff::{create_op, strip_for_create, to_value, update_op};
use crate::index::Lookup;
use crate::plan::{ItemRef, LayerName, Op, OpAction, Target};
use crate::planner::common::{remove, set, strings, translate_tags};
use crate::rules::ScopeMode;

use super::Planned;

/// Plans the selected channels; returns the channels whose version rules are set once
/// the process exists: each created one (with its create body) and, under
/// `overwrite_existing_channel_rules`, each existing one (with its destination document).
pub(super) fn channels(ctx: &mut Ctx<'_>, p: &Planned<'_>) -> Vec<(ItemRef, Target, Value)> {
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();
    let filter = ctx.rules.select.channels.clone();
    let mut seen = std::collections::BTreeSet::new();
    let mut created = Vec::new();
    for channel in ctx.source.children.channels(&source_id) {
        if !filter.matches(&channel.name) || !seen.insert(name_key(&channel.name)) {
            continue;
        }
        let item = ItemRef::owned(ResourceKind::Channel, &channel.name, p.name());
        let mut op = plan_channel(ctx, p, channel, &item);
        op.owner = Some(p.target());
        match (op.action(), op.body(), op.target()) {
            (OpAction::Create, Some(body), _) => created.push((
                item.clone(),
                Target::Created { item: item.clone() },
                body.clone(),
            )),
            (OpAction::Unchanged, _, Some(Target::Existing { id }))
                if ctx.rules.policy.overwrite_existing_channel_rules =>
            {
                if let Some(dest) = p.dest_id.as_deref().and_then(|project| {
                    ctx.dest
                        .children
                        .channels(project)
                        .into_iter()
                        .find(|c| c.id.get().is_some_and(|i| i.as_str() == id))
                }) {
                    created.push((
                        item.clone(),
                        Target::Existing { id: id.clone() },
                        to_value(dest),
                    ));
                }
            }
            _ => {}
        }
        ctx.push(LayerName::Channels, op);
    }
    created
}

fn plan_channel(ctx: &mut Ctx<'_>, p: &Planned<'_>, channel: &Channel, item: &ItemRef) -> Op {
    if channel.is_default.get_or(false) {
        let found = p
            .dest_id
            .as_deref()
            .and_then(|project| ctx.dest.children.default_channel(project));
        return match found.and_then(|c| c.id.get()) {
            Some(id) => Op::unchanged(
                item.clone(),
                "the default channel matches the destination project's default channel",
                Some(Target::Existing {
                    id: id.as_str().to_owned(),
                }),
            ),
            None if p.dest_id.is_none() => Op::unchanged(
                item.clone(),
                "the server creates the default channel with the project",
                None,
            ),
            None => Op::skip(
                item.clone(),
                "the destination project has no default channel",
            ),
        };
    }
    if let Some(project) = &p.dest_id {
        match ctx
            .dest
            .index
            .lookup_in(ResourceKind::Channel, Some(project), &channel.name)
        {
            Lookup::Found(id) => {
                return Op::unchanged(
                    item.clone(),
                    "exists; its lifecycle and rules are the destination's",
                    Some(Target::Existing { id: id.to_owned() }),
                );
            }
            Lookup::Duplicate(n) => {
                return Op::skip(
                    item.clone(),
                    format!("{n} destination channels of this project have this name"),
                );
            }
            Lookup::Missing => {}
        }
    }
    let mut body = to_value(channel);
    strip_for_create(&mut body, ctx.dest.snapshot.space_id());
    let project = p.id_text(ctx);
    set(&mut body, "ProjectId", Value::String(project));
    set(&mut body, "IsDefault", Value::Bool(false));
    set(&mut body, "Rules", json!([]));
    if let Some(lifecycle) = channel.lifecycle_id.get() {
        let (name, r) = ctx.resolve(ResourceKind::Lifecycle, lifecycle.as_str());
        match r.text() {
            Some(id) => set(&mut body, "LifecycleId", Value::String(id)),
            None => {
                return Op::skip(
                    item.clone(),
                    format!("its lifecycle {name:?} is not on the destination"),
                )
            }
        }
    }
    // An ephemeral-environment channel names its parent environment (2025.4+,
    // go-octopusdeploy `pkg/channels/channel.go`), which must exist on the destination.
    let parent = body.get("ParentEnvironmentId").and_then(Value::as_str);
    if let Some(parent) = parent.filter(|p| !p.is_empty()).map(str::to_owned) {
        let (name, r) = ctx.resolve(ResourceKind::Environment, &parent);
        match r.text() {
            Some(id) => set(&mut body, "ParentEnvironmentId", Value::String(id)),
            None => {
                return Op::skip(
                    item.clone(),
                    format!("its parent environment {name:?} is not on the destination"),
                )
            }
        }
    }
    match translate_tags(
        ctx,
        item,
        ScopeMode::SkipUnlessPartialMatch,
        "tenant tags",
        channel.tenant_tags.iter(),
    ) {
        Ok(tags) => set(&mut body, "TenantTags", strings(&tags)),
        Err(reason) => return Op::skip(item.clone(), reason),
    }
    create_op(ctx, item.clone(), body, "missing on the destination")
}

/// Version rules without their ids (the server assigns them), for comparison and sending.
fn rules_without_ids(rules: Value) -> Value {
    let mut rules = rules;
    if let Value::Array(items) = &mut rules {
        for r in items.iter_mut() {
            remove(r, "Id");
        }
    }
    rules
}

pub(super) fn channel_rules(
    ctx: &mut Ctx<'_>,
    p: &Planned<'_>,
    channels: Vec<(ItemRef, Target, Value)>,
) {
    let source_id = p
        .source
        .id
        .get()
        .map(|i| i.as_str().to_owned())
        .unwrap_or_default();

    for (item, target, before) in channels {
        let Some(channel) = ctx
            .source
            .children
            .channels(&source_id)
            .into_iter()
            .find(|c| same_name(&c.name, &item.name))
        else {
            continue;
        };
        let existing = matches!(target, Target::Existing { .. });
        let rules = rules_without_ids(to_value(&channel.rules));
        let current = rules_without_ids(before.get("Rules").cloned().unwrap_or(json!([])));
        let empty = |v: &Value| v.as_array().is_none_or(Vec::is_empty);
        if (empty(&rules) && empty(&current)) || (existing && rules == current) {
            continue;
        }
        let mut desired = before.clone();
        set(&mut desired, "Rules", rules);
        let (changed, same) = if existing {
            (
                "its version rules differ from the source (overwrite_existing_channel_rules)",
                "its version rules match the source",
            )
        } else {
            (
                "version rules are set once the process exists",
                "no version rules",
            )
        };
        let mut op = update_op(ctx, item.clone(), target, &before, desired, changed, same);
        op.owner = Some(p.target());
        ctx.push(LayerName::ChannelRules, op);
    }
}
