//! The library: step templates, script modules and library variable sets.
//!
//! Step templates and script modules must be an exact match: they are created, or updated
//! to equal the source (step templates unless `overwrite_existing_step_templates` is off).
//! Library variable sets are created when missing; their variable templates are merged by
//! name and their variables merged like project variables.

use std::collections::BTreeMap;

use octopus_model::{
    same_name, ActionTemplate, Field, LibraryVariableSet, PropertyValue, ResourceKind, VariableSet,
};
use serde_json::{json, Value};

use super::common::{left_alone, matches, remove, Match};
use super::process::ProcessOwnerIds;
use super::references::{self, RefPlace};
use super::variables::{self, VariableOwner};
use crate::context::Ctx;
use crate::diff::{create_op, sensitive_slots, strip_for_create, to_value, update_op};
use crate::plan::{CleanupCategory, ItemRef, LayerName, Op, Target};

/// Translates the references a template holds, with the same tables as actions: its
/// properties, its parameters' default values by control type, and its packages' feeds.
/// `Err` is the reason to skip it: a template is never written with a source id.
fn translate_template(ctx: &mut Ctx<'_>, template: &mut ActionTemplate) -> Result<(), String> {
    let item = ItemRef::new(ResourceKind::ActionTemplate, &template.name);
    let place = RefPlace {
        item: &item,
        what: format!("step template {:?}", template.name),
        project: None,
    };
    references::translate_properties(ctx, &place, &mut template.properties, &BTreeMap::new())?;
    for parameter in template.parameters.iter_mut() {
        let Some(PropertyValue::Text(text)) = parameter.default_value.get().cloned() else {
            continue;
        };
        let control = parameter
            .display_settings
            .get("Octopus.ControlType")
            .cloned()
            .unwrap_or_default();
        match references::control_type_reference(&control) {
            Some((kind, shape)) => {
                let out =
                    references::translate_value(ctx, &place, &parameter.name, kind, shape, &text)
                        .map_err(|r| format!("parameter {:?}: {r}", parameter.name))?;
                parameter.default_value.set(PropertyValue::Text(out));
            }
            None => references::note_id_like_text(ctx, &place, &parameter.name, &text),
        }
    }
    for package in template.packages.iter_mut() {
        let Some(feed) = package.feed_id.get().cloned() else {
            continue;
        };
        if feed.as_str().contains("NonExisting") {
            package.feed_id = Field::Null;
            package.id = Field::Null;
        } else if !feed.as_str().contains("#{") {
            let (name, r) = ctx.resolve(ResourceKind::Feed, feed.as_str());
            match r.text() {
                Some(id) => package.feed_id.set(id.into()),
                None => {
                    return Err(format!(
                        "its package feed {name:?} is not on the destination"
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Step templates.
pub fn step_templates(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    let filter = ctx.rules.select.step_templates.clone();
    let overwrite = ctx.rules.policy.overwrite_existing_step_templates;
    for m in matches(
        ctx,
        LayerName::StepTemplates,
        &filter,
        &src.action_templates,
        &dst.action_templates,
    ) {
        let op = match m {
            Match::Existing { source, dest, id } => {
                let item = ItemRef::new(ResourceKind::ActionTemplate, &source.name);
                if source.community_action_template_id.is_set() {
                    left_alone(
                        ResourceKind::ActionTemplate,
                        &source.name,
                        &id,
                        "community step template; installed from the library, never updated",
                    )
                } else if !overwrite {
                    left_alone(
                        ResourceKind::ActionTemplate,
                        &source.name,
                        &id,
                        "exists; left alone (overwrite_existing_step_templates is off)",
                    )
                } else {
                    let mut t = source.clone();
                    match translate_template(ctx, &mut t) {
                        Err(reason) => Op::skip(item, reason),
                        Ok(()) => {
                            let mut desired = dest.clone();
                            desired.description = t.description.clone();
                            desired.properties = t.properties.clone();
                            for (key, value) in desired.properties.iter_mut() {
                                if value.is_sensitive() {
                                    if let Some(existing) = dest.properties.get(key) {
                                        *value = existing.clone();
                                    }
                                }
                            }
                            let mut params = Vec::new();
                            for p in t.parameters.iter() {
                                let mut p = p.clone();
                                let existing =
                                    dest.parameters.iter().find(|d| same_name(&d.name, &p.name));
                                p.id = existing.map(|d| d.id.clone()).unwrap_or_default();
                                if let (Some(d), true) = (
                                    existing,
                                    p.default_value
                                        .get()
                                        .is_some_and(PropertyValue::is_sensitive),
                                ) {
                                    p.default_value = d.default_value.clone();
                                }
                                params.push(p);
                            }
                            desired.parameters = params.into_iter().collect();
                            let mut packages = Vec::new();
                            for p in t.packages.iter() {
                                let mut p = p.clone();
                                p.id = dest
                                    .packages
                                    .iter()
                                    .find(|d| same_name(d.name.as_str(), p.name.as_str()))
                                    .map(|d| d.id.clone())
                                    .unwrap_or_default();
                                packages.push(p);
                            }
                            desired.packages = packages.into_iter().collect();
                            update_op(
                                ctx,
                                item,
                                Target::Existing { id },
                                &to_value(&dest),
                                to_value(&desired),
                                "step templates must be an exact match",
                                "matches the source",
                            )
                        }
                    }
                }
            }
            Match::New { source } => {
                let item = ItemRef::new(ResourceKind::ActionTemplate, &source.name);
                if source.community_action_template_id.is_set() {
                    Op::skip(item, "community step template: install it from the community library on the destination")
                } else {
                    let mut t = source.clone();
                    match translate_template(ctx, &mut t) {
                        Err(reason) => Op::skip(item, reason),
                        Ok(()) => {
                            let mut body = to_value(&t);
                            strip_for_create(&mut body, ctx.dest.snapshot.space_id());
                            remove(&mut body, "Version");
                            if let Some(Value::Array(params)) = body.get_mut("Parameters") {
                                for p in params.iter_mut() {
                                    remove(p, "Id");
                                }
                            }
                            let slots = sensitive_slots(&body);
                            for slot in &slots {
                                ctx.clean(
                                    CleanupCategory::DummySecret,
                                    &item,
                                    format!("sensitive value {slot} set to a dummy value"),
                                );
                            }
                            let mut op = create_op(ctx, item, body, "missing on the destination");
                            if let Some(c) = op.create_mut() {
                                c.secret_slots = slots;
                            }
                            op
                        }
                    }
                }
            }
        };
        ctx.push(LayerName::StepTemplates, op);
    }
}

fn merge_templates(source: &LibraryVariableSet, dest: &LibraryVariableSet) -> LibraryVariableSet {
    let mut desired = dest.clone();
    desired.description = source.description.clone();
    let mut templates = Vec::new();
    for t in source.templates.iter() {
        let mut t = t.clone();
        let existing = dest.templates.iter().find(|d| same_name(&d.name, &t.name));
        t.id = existing.map(|d| d.id.clone()).unwrap_or_default();
        if let (Some(d), true) = (
            existing,
            t.default_value
                .get()
                .is_some_and(PropertyValue::is_sensitive),
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
    desired
}

fn variable_set<'a>(sets: &'a [VariableSet], lvs: &LibraryVariableSet) -> Option<&'a VariableSet> {
    let owner = lvs.id.get()?.as_str().to_owned();
    sets.iter().find(|s| {
        s.owner_id
            .get()
            .is_some_and(|o| o.eq_ignore_ascii_case(&owner))
            || (lvs.variable_set_id.get().is_some() && s.id.get() == lvs.variable_set_id.get())
    })
}

/// Library variable sets and script modules: the sets first, then their variables.
pub fn library_variable_sets(ctx: &mut Ctx<'_>) {
    let (src, dst) = (ctx.source.snapshot, ctx.dest.snapshot);
    for script in [true, false] {
        let (filter, layer) = if script {
            (
                ctx.rules.select.script_modules.clone(),
                LayerName::ScriptModules,
            )
        } else {
            (
                ctx.rules.select.library_variable_sets.clone(),
                LayerName::LibraryVariableSets,
            )
        };
        let source: Vec<_> = src
            .library_variable_sets
            .iter()
            .filter(|l| l.is_script_module() == script)
            .cloned()
            .collect();
        let dest: Vec<_> = dst
            .library_variable_sets
            .iter()
            .filter(|l| l.is_script_module() == script)
            .cloned()
            .collect();
        for m in matches(ctx, layer, &filter, &source, &dest) {
            let (source, dest_set) = match &m {
                Match::Existing { source, dest, .. } => (*source, Some(dest.clone())),
                Match::New { source } => (*source, None),
            };
            let item = ItemRef::new(ResourceKind::LibraryVariableSet, &source.name);
            let (op, target, before) = match m {
                Match::Existing { dest, id, .. } => {
                    let desired = merge_templates(source, &dest);
                    let op = update_op(
                        ctx,
                        item.clone(),
                        Target::Existing { id: id.clone() },
                        &to_value(&dest),
                        to_value(&desired),
                        "description or variable templates differ",
                        "description and variable templates match",
                    );
                    match variable_set(&dst.variable_sets, &dest) {
                        Some(vs) => {
                            let vid = vs
                                .id
                                .get()
                                .map(|i| i.as_str().to_owned())
                                .unwrap_or_default();
                            (op, Target::Existing { id: vid }, Some(vs.clone()))
                        }
                        None => {
                            ctx.push(layer, op);
                            ctx.warnings.push(format!("the destination snapshot has no variable set for library variable set {:?}", source.name));
                            continue;
                        }
                    }
                }
                Match::New { .. } => {
                    let mut body = to_value(source);
                    strip_for_create(&mut body, ctx.dest.snapshot.space_id());
                    remove(&mut body, "VariableSetId");
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
                    let mut op = create_op(ctx, item.clone(), body, "missing on the destination");
                    if let Some(c) = op.create_mut() {
                        c.secret_slots = slots;
                    }
                    let target = Target::SideEffect {
                        owner: item.clone(),
                        field: "VariableSetId".to_owned(),
                    };
                    (op, target, None)
                }
            };
            ctx.push(layer, op);
            let Some(source_vars) = variable_set(&src.variable_sets, source) else {
                ctx.warnings.push(format!(
                    "the source snapshot has no variable set for library variable set {:?}",
                    source.name
                ));
                continue;
            };
            let vitem = ItemRef::owned(ResourceKind::VariableSet, &source.name, &source.name);
            let owner = VariableOwner {
                project: None,
                dest_project: None,
                actions: ProcessOwnerIds::default(),
                only_sensitive: false,
                force_overwrite: script,
            };
            let before_doc = before.clone().unwrap_or_else(|| {
                let owner_text = ctx
                    .pending(crate::plan::Pending::Created { item: item.clone() })
                    .text()
                    .unwrap_or_default();
                VariableSet {
                    owner_id: Field::Value(owner_text),
                    ..VariableSet::default()
                }
            });
            let merged = variables::merge(
                ctx,
                &vitem,
                &owner,
                &source_vars.variables,
                &before_doc.variables,
            );
            let mut desired = before_doc.clone();
            desired.variables = merged.variables.into_iter().collect();
            let before_value = if before.is_some() {
                to_value(&before_doc)
            } else {
                json!({})
            };
            let changed = if script {
                "the script module body differs"
            } else {
                "variable values or scopes differ"
            };
            let mut op = update_op(
                ctx,
                vitem,
                target,
                &before_value,
                to_value(&desired),
                changed,
                "the variables match",
            );
            if let Some(u) = op.update_mut() {
                u.secret_slots = merged.secret_slots;
                u.variables = merged.review;
                u.removed = merged.removed;
            }
            op.owner = Some(match &dest_set {
                Some(d) => Target::Existing {
                    id: d
                        .id
                        .get()
                        .map(|i| i.as_str().to_owned())
                        .unwrap_or_default(),
                },
                None => Target::Created { item },
            });
            ctx.push(LayerName::LibraryVariables, op);
        }
    }
}
