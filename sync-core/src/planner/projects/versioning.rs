//! A project's versioning and automatic release creation, which name actions and
//! channels: set once the process and channels exist, on new and existing projects alike.

use std::borrow::Cow;

use octopus_model::{Field, ResourceKind};
use serde_json::Value;

use crate::context::Ctx;
use crate::diff::{to_value, update_op};
use crate::plan::{CleanupCategory, ItemRef, LayerName, OpAction, Target};
use crate::planner::common::set;

use super::Planned;

/// Versioning from a donor package and automatic release creation name actions and
/// channels: set once the process exists, on new and existing projects alike.
pub(super) fn versioning(ctx: &mut Ctx<'_>, p: &Planned<'_>) {
    let (body, target) = match (&p.create_body, &p.dest, &p.dest_id) {
        (Some(body), _, _) => (
            Cow::Borrowed(body),
            Target::Created {
                item: ItemRef::new(ResourceKind::Project, p.name()),
            },
        ),
        (None, Some(dest), Some(id)) if !p.cac => (
            match &p.settings_body {
                Some(body) => Cow::Borrowed(body),
                None => Cow::Owned(to_value(dest)),
            },
            Target::Existing { id: id.clone() },
        ),
        _ => return,
    };
    let body: &Value = &body;
    let item = ItemRef::new(ResourceKind::Project, p.name());
    // Copied only when a setting is laid over it: most projects have neither.
    let mut desired: Option<Value> = None;
    let donor = p
        .source
        .versioning_strategy
        .get()
        .filter(|v| v.donor_package.is_set());
    // The server fills in the action id of a donor package or release creation package
    // from its name; an existing project keeps the one it has when the package is the
    // same, so the next plan sees no change.
    let dest_versioning = p.dest.as_ref().and_then(|d| d.versioning_strategy.get());
    if let Some(v) = donor {
        let mut v = v.clone();
        v.donor_package_step_id = dest_versioning
            .filter(|d| d.donor_package == v.donor_package)
            .map(|d| d.donor_package_step_id.clone())
            .unwrap_or_default();
        v.template = Field::Null;
        set(
            desired.get_or_insert_with(|| body.clone()),
            "VersioningStrategy",
            to_value(&v),
        );
    }
    if let Some(arc) = p
        .source
        .release_creation_strategy
        .get()
        .filter(|a| a.channel_id.is_set() || a.release_creation_package.is_set())
    {
        let mut arc = arc.clone();
        arc.release_creation_package_step_id = p
            .dest
            .as_ref()
            .and_then(|d| d.release_creation_strategy.get())
            .filter(|d| d.release_creation_package == arc.release_creation_package)
            .map(|d| d.release_creation_package_step_id.clone())
            .unwrap_or_default();
        let channel = arc
            .channel_id
            .get()
            .map(|c| ctx.resolve_channel(c.as_str(), p.name(), p.dest_id.as_deref()));
        match channel.map(|(name, r)| (name, r.text())) {
            Some((name, None)) => {
                ctx.clean(CleanupCategory::Reference, &item, format!("automatic release creation was not set: its channel {name:?} is not on the destination"));
            }
            other => {
                if let Some((_, Some(id))) = other {
                    arc.channel_id.set(id.into());
                }
                let desired = desired.get_or_insert_with(|| body.clone());
                set(desired, "ReleaseCreationStrategy", to_value(&arc));
                set(
                    desired,
                    "AutoCreateRelease",
                    Value::Bool(p.source.auto_create_release.get_or(false)),
                );
            }
        }
    }
    let Some(desired) = desired.filter(|d| d != body) else {
        return;
    };
    let op = update_op(
        ctx,
        item,
        target,
        body,
        desired,
        "versioning and release creation name actions, so they are set once the process exists",
        "versioning and release creation match the source",
    );
    if op.action() == OpAction::Update {
        ctx.push(LayerName::ProjectVersioning, op);
    }
}
