//! Variable sets: `ScopeValues` on read; on write ids for new variables, the rules the
//! server enforces, optimistic concurrency and the sensitive-value semantics of
//! reference §4 (a kept `Id` with an empty value keeps the secret, a new `Id` wipes it).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::collections::{admit, docs, find, present as present_doc, stamp, Place};
use crate::concurrency::check_version;
use crate::context::Ctx;
use crate::reply::{Answer, ApiError, Reply};
use crate::side_effects::guid;
use crate::spec::spec_of;
use crate::store::{object_mut, text};

fn pair(id: &str, name: &str) -> Value {
    json!({"Id": id, "Name": name})
}

fn named(ctx: &Ctx<'_>, place: &Place, key: &str) -> Vec<Value> {
    docs(ctx, place, key)
        .map(|d| {
            d.items()
                .iter()
                .map(|x| pair(text(x, "Id"), text(x, "Name")))
                .collect()
        })
        .unwrap_or_default()
}

fn actions_of(process: &Value, out: &mut Vec<Value>) {
    for step in process["Steps"].as_array().into_iter().flatten() {
        for action in step["Actions"].as_array().into_iter().flatten() {
            out.push(pair(text(action, "Id"), text(action, "Name")));
        }
    }
}

/// The space-wide parts of `ScopeValues`, computed once per request so that
/// `variables/all` costs one pass over the space rather than one per variable set.
pub(crate) struct ScopeIndex<'c> {
    place: Place,
    environments: Vec<Value>,
    machines: Vec<Value>,
    machine_roles: BTreeSet<String>,
    tenant_tags: Vec<Value>,
    channels: HashMap<String, Vec<Value>>,
    runbooks: HashMap<String, Vec<&'c Value>>,
}

impl<'c> ScopeIndex<'c> {
    /// Indexes the space.
    pub fn new(ctx: &'c Ctx<'_>, space: &str) -> Self {
        let place = Place::Space(space.to_owned());
        let items = |key: &str| {
            docs(ctx, &place, key)
                .map(|d| d.items())
                .unwrap_or_default()
        };
        let machines = items("machines");
        let machine_roles = machines
            .iter()
            .flat_map(|m| m["Roles"].as_array().into_iter().flatten())
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let tenant_tags = items("tagsets")
            .iter()
            .flat_map(|s| s["Tags"].as_array().into_iter().flatten())
            .map(|t| pair(text(t, "CanonicalTagName"), text(t, "CanonicalTagName")))
            .collect();
        let mut channels: HashMap<String, Vec<Value>> = HashMap::new();
        for c in items("channels") {
            channels
                .entry(text(c, "ProjectId").to_lowercase())
                .or_default()
                .push(pair(text(c, "Id"), text(c, "Name")));
        }
        let mut runbooks: HashMap<String, Vec<&'c Value>> = HashMap::new();
        for r in items("runbooks") {
            runbooks
                .entry(text(r, "ProjectId").to_lowercase())
                .or_default()
                .push(r);
        }
        ScopeIndex {
            environments: named(ctx, &place, "environments"),
            machines: machines
                .iter()
                .map(|m| pair(text(m, "Id"), text(m, "Name")))
                .collect(),
            machine_roles,
            tenant_tags,
            channels,
            runbooks,
            place,
        }
    }

    /// The `ScopeValues` lookup table of a variable set: every id its scopes may name.
    fn scope_values(&self, ctx: &Ctx<'_>, set: &Value) -> Value {
        let place = &self.place;
        let owner = text(set, "OwnerId");
        let mut roles = self.machine_roles.clone();
        for var in set["Variables"].as_array().into_iter().flatten() {
            for role in var["Scope"]["Role"].as_array().into_iter().flatten() {
                if let Some(r) = role.as_str() {
                    roles.insert(r.to_owned());
                }
            }
        }
        let mut channels = Vec::new();
        let mut actions = Vec::new();
        let mut processes = Vec::new();
        if let Some(project) = find(ctx, place, "projects", owner) {
            let key = owner.to_lowercase();
            channels = self.channels.get(&key).cloned().unwrap_or_default();
            if let Some(process) = find(
                ctx,
                place,
                "deploymentprocesses",
                text(project, "DeploymentProcessId"),
            ) {
                actions_of(process, &mut actions);
            }
            processes.push(
                json!({"Id": owner, "Name": text(project, "Name"), "ProcessType": "Deployment"}),
            );
            for runbook in self.runbooks.get(&key).into_iter().flatten() {
                processes.push(json!({"Id": text(runbook, "Id"), "Name": text(runbook, "Name"), "ProcessType": "Runbook"}));
                if let Some(process) = find(
                    ctx,
                    place,
                    "runbookprocesses",
                    text(runbook, "RunbookProcessId"),
                ) {
                    actions_of(process, &mut actions);
                }
            }
        }
        json!({
            "Environments": self.environments,
            "Machines": self.machines,
            "Actions": actions,
            "Roles": roles.iter().map(|r| pair(r, r)).collect::<Vec<_>>(),
            "Channels": channels,
            "TenantTags": self.tenant_tags,
            "Processes": processes,
        })
    }

    /// A stored variable set as the API shows it.
    pub fn present(&self, ctx: &Ctx<'_>, stored: &Value) -> Value {
        let mut doc = stored.clone();
        let values = self.scope_values(ctx, stored);
        object_mut(&mut doc).insert("ScopeValues".into(), values);
        doc
    }
}

/// A stored variable set as the API shows it.
pub(crate) fn present(ctx: &Ctx<'_>, space: &str, stored: &Value) -> Value {
    ScopeIndex::new(ctx, space).present(ctx, stored)
}

fn is_sensitive(var: &Map<String, Value>) -> bool {
    var.get("IsSensitive") == Some(&Value::Bool(true))
        || var.get("Type").and_then(Value::as_str) == Some("Sensitive")
}

/// The key a variable's secret is stored under.
pub(crate) fn secret_key(set_id: &str, variable_id: &str) -> (String, String) {
    (
        set_id.to_lowercase(),
        format!("#{}", variable_id.to_lowercase()),
    )
}

/// `PUT` a variable set (by its own id or through its project).
pub(crate) fn put(ctx: &mut Ctx<'_>, space: &str, set_id: &str, body: Option<Value>) -> Answer {
    let place = Place::Space(space.to_owned());
    let spec = spec_of("variables");
    let previous = find(ctx, &place, "variables", set_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(set_id))?;
    let Some(Value::Object(mut map)) = body else {
        return Err(ApiError::no_body());
    };
    map.remove("ScopeValues");
    let mut doc = Value::Object(map);
    admit(ctx, spec, &mut doc)?;
    let version = check_version("variable set", &previous, &doc)?;
    let real_id = text(&previous, "Id").to_owned();
    let old_sensitive: HashSet<String> = previous["Variables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.as_object().is_some_and(is_sensitive))
        .map(|v| text(v, "Id").to_lowercase())
        .collect();

    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    let mut secrets = Vec::new();
    let variables = match doc.get_mut("Variables") {
        Some(Value::Array(vars)) => std::mem::take(vars),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => {
            return Err(ApiError::validation(vec![
                "Variables must be a list.".into()
            ]))
        }
    };
    let mut stored_vars = Vec::with_capacity(variables.len());
    for var in variables {
        let Value::Object(mut v) = var else {
            errors.push("Each variable must be an object.".to_owned());
            continue;
        };
        if v.get("Name")
            .and_then(Value::as_str)
            .is_none_or(|n| n.trim().is_empty())
        {
            errors.push("The Name field is required.".to_owned());
        }
        if v.get("Id")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            v.insert("Id".into(), json!(guid()));
        }
        let id = v.get("Id").and_then(Value::as_str).unwrap_or("").to_owned();
        if !seen.insert(id.to_lowercase()) {
            errors.push("Variable ids must be unique.".to_owned());
        }
        let prompted = v.get("Prompt").is_some_and(|p| !p.is_null());
        let scope_keys: Vec<String> = v
            .get("Scope")
            .and_then(Value::as_object)
            .map(|s| {
                s.iter()
                    .filter(|(_, vals)| vals.as_array().is_some_and(|a| !a.is_empty()))
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        if prompted && scope_keys.iter().any(|k| k != "Environment") {
            errors.push(
                "Prompted variables cannot be scoped to anything except an environment.".to_owned(),
            );
        }
        for (field, value) in [
            ("Scope", json!({})),
            ("IsEditable", json!(true)),
            ("Prompt", Value::Null),
            ("Description", Value::Null),
        ] {
            v.entry(field).or_insert(value);
        }
        let sensitive = is_sensitive(&v);
        if sensitive {
            v.insert("IsSensitive".into(), json!(true));
            v.insert("Type".into(), json!("Sensitive"));
            // A value replaces the secret; an empty or null one keeps it only for a
            // variable that keeps its id, otherwise the secret is gone: the Id alone
            // decides, as measured against a 2026 server (go-octopusdeploy#449, PR#450).
            let secret = match v.get("Value").and_then(Value::as_str) {
                Some(s) if !s.is_empty() => Some(Some(s.to_owned())),
                _ if old_sensitive.contains(&id.to_lowercase()) => None,
                _ => Some(None),
            };
            secrets.push((id.clone(), secret));
            v.insert("Value".into(), Value::Null);
        } else {
            v.insert("IsSensitive".into(), json!(false));
            v.entry("Type").or_insert(json!("String"));
            v.entry("Value").or_insert(Value::Null);
        }
        stored_vars.push(Value::Object(v));
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(ApiError::validation(errors));
    }
    let keep: HashSet<String> = secrets
        .iter()
        .filter(|(_, s)| s.is_none())
        .map(|(id, _)| id.to_lowercase())
        .collect();
    let set_key = real_id.to_lowercase();
    ctx.store
        .secrets
        .retain(|(d, p), _| *d != set_key || !p.starts_with('#') || keep.contains(&p[1..]));
    for (id, secret) in secrets {
        if let Some(Some(value)) = secret {
            ctx.store.secrets.insert(secret_key(&real_id, &id), value);
        }
    }
    let map = object_mut(&mut doc);
    map.insert("Variables".into(), Value::Array(stored_vars));
    map.insert("Id".into(), json!(real_id));
    map.insert("OwnerId".into(), previous["OwnerId"].clone());
    map.insert("Version".into(), json!(version + 1));
    stamp(ctx, &place, spec, &mut doc);
    crate::collections::docs_mut(ctx, &place, spec)?.upsert(&real_id, doc.clone());
    Ok(Reply::ok(present_doc(ctx, &place, spec, &doc)))
}
