//! Deployment and runbook processes: ids and slugs for new steps, actions and package
//! references, the rules the server enforces, and optimistic concurrency.

use std::collections::HashSet;

use octopus_model::shims::slugify;
use serde_json::{json, Value};

use crate::collections::{admit, docs_mut, find, stamp, Place};
use crate::concurrency::check_version;
use crate::context::Ctx;
use crate::reply::{Answer, ApiError, Reply};
use crate::secrets;
use crate::side_effects::guid;
use crate::spec::spec_of;
use crate::store::{object_mut, text};

fn ensure_id_and_slug(item: &mut serde_json::Map<String, Value>, slugs: bool) {
    if item
        .get("Id")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        item.insert("Id".into(), json!(guid()));
    }
    if slugs
        && item
            .get("Slug")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        let name = item.get("Name").and_then(Value::as_str).unwrap_or("");
        item.insert("Slug".into(), json!(slugify(name)));
    }
}

fn null_properties(props: Option<&Value>, path: &str, errors: &mut Vec<String>) {
    if let Some(Value::Object(p)) = props {
        for (k, v) in p {
            if v.is_null() {
                errors.push(format!("{path}.Properties[\"{k}\"] must not be null."));
            }
        }
    }
}

/// Fills ids and slugs and checks the steps; returns the errors found.
fn prepare_steps(doc: &mut Value, slugs: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let mut step_names = HashSet::new();
    let mut action_names = HashSet::new();
    let Some(Value::Array(steps)) = doc.get_mut("Steps") else {
        object_mut(doc).insert("Steps".into(), json!([]));
        return errors;
    };
    for (i, step) in steps.iter_mut().enumerate() {
        let s = object_mut(step);
        let name = s
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        if name.is_empty() {
            errors.push(format!("Steps[{i}]: the Name field is required."));
        } else if !step_names.insert(name.to_lowercase()) {
            errors.push(format!(
                "Step names must be unique: '{name}' is used more than once."
            ));
        }
        ensure_id_and_slug(s, slugs);
        null_properties(s.get("Properties"), &format!("Steps[{i}]"), &mut errors);
        for (field, value) in [
            ("Properties", json!({})),
            ("Condition", json!("Success")),
            ("StartTrigger", json!("StartAfterPrevious")),
            ("PackageRequirement", json!("LetOctopusDecide")),
        ] {
            s.entry(field).or_insert(value);
        }
        let actions = match s.get_mut("Actions") {
            Some(Value::Array(a)) => a,
            _ => {
                errors.push(format!("Steps[{i}]: a step needs at least one action."));
                continue;
            }
        };
        for (j, action) in actions.iter_mut().enumerate() {
            let a = object_mut(action);
            let path = format!("Steps[{i}].Actions[{j}]");
            let aname = a
                .get("Name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim()
                .to_owned();
            if aname.is_empty() {
                errors.push(format!("{path}: the Name field is required."));
            } else if !action_names.insert(aname.to_lowercase()) {
                errors.push(format!(
                    "Action names must be unique: '{aname}' is used more than once."
                ));
            }
            if a.get("ActionType")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                errors.push(format!("{path}: the ActionType field is required."));
            }
            ensure_id_and_slug(a, slugs);
            null_properties(a.get("Properties"), &path, &mut errors);
            for field in [
                "Environments",
                "ExcludedEnvironments",
                "Channels",
                "TenantTags",
                "Packages",
            ] {
                match a.get(field) {
                    None | Some(Value::Null) => {
                        a.insert(field.into(), json!([]));
                    }
                    _ => {}
                }
            }
            a.entry("Properties").or_insert(json!({}));
            a.entry("IsDisabled").or_insert(json!(false));
            a.entry("IsRequired").or_insert(json!(false));
            if let Some(Value::Array(packages)) = a.get_mut("Packages") {
                for p in packages {
                    let p = object_mut(p);
                    if p.get("Id")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        p.insert("Id".into(), json!(guid()));
                    }
                }
            }
        }
    }
    errors
}

/// `PUT` a deployment process (`key` = `deploymentprocesses`) or runbook process.
pub(crate) fn put(
    ctx: &mut Ctx<'_>,
    space: &str,
    key: &str,
    id: &str,
    body: Option<Value>,
) -> Answer {
    let place = Place::Space(space.to_owned());
    let spec = spec_of(key);
    let previous = find(ctx, &place, key, id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(id))?;
    let Some(mut doc @ Value::Object(_)) = body else {
        return Err(ApiError::no_body());
    };
    admit(ctx, spec, &mut doc)?;
    let version = check_version(spec.kind.label(), &previous, &doc)?;
    let errors = prepare_steps(&mut doc, ctx.settings.version.at_least(2022, 1));
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let real_id = text(&previous, "Id").to_owned();
    let map = object_mut(&mut doc);
    map.insert("Id".into(), json!(real_id));
    for field in ["ProjectId", "RunbookId"] {
        if let Some(v) = previous.get(field) {
            map.insert(field.into(), v.clone());
        }
    }
    map.insert("Version".into(), json!(version + 1));
    secrets::absorb(&mut ctx.store.secrets, &real_id, &mut doc, Some(&previous));
    stamp(ctx, &place, spec, &mut doc);
    docs_mut(ctx, &place, spec)?.upsert(&real_id, doc.clone());
    Ok(Reply::ok(doc))
}
