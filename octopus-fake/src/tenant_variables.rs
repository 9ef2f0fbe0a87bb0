//! Tenant variables: stored as values keyed by project, environment and template;
//! shown in the shape of the emulated version (`/tenants/{id}/variables`, and from
//! 2025.1 `/commonvariables` and `/projectvariables`), composed from the tenant's
//! connected projects and their templates on every read.
//!
//! The routes, with the evidence for each:
//!
//! - `GET /{space}/tenants/{id}/variables`, saved whole with `POST` (OctopusClients
//!   `Repositories/Async/TenantRepository.cs` `ModifyVariables`; go-octopusdeploy
//!   `pkg/tenants/tenant_service.go` `UpdateVariables`) or `PUT` (the TypeScript client
//!   and the 2026 API reference). `GET /{space}/tenantvariables/all{?projectId}` is the
//!   bulk read (go-octopusdeploy `pkg/variables/tenant_variable_service.go`,
//!   `pkg/constants/constants_api_replies.go`; OctopusClients
//!   `Repositories/Async/TenantVariablesRepository.cs`). No client and no swagger has
//!   `/tenantvariables/{id}`, so it answers 404.
//! - `GET`/`PUT`/`POST /{space}/tenants/{id}/commonvariables` and `…/projectvariables`
//!   (`?includeMissingVariables=`), from 2025.1: backend shipped in 2025.1.7559
//!   (OctopusDeploy/Issues#9222), clients added 2025-02 (go-octopusdeploy
//!   `pkg/tenants/tenant_service.go` `tenantCommonVariableTemplate`, PR#301; OctopusClients
//!   `Repositories/Async/TenantVariablesRepository.cs`). The body is the complete set.
//! - Environment-scoped common values from 2025.2 (2025.2.11370, OctopusDeploy/Issues#9414),
//!   behind `CommonVariableScopingFeatureToggle`, which this fake reports on from 2025.2
//!   (and off before). With it on, "the original update endpoint is not accessible"
//!   (OctopusDeploy/cli PR#489), so the legacy `POST`/`PUT …/variables` is refused. Which
//!   status a real server answers there is not established by the evidence; this fake
//!   answers 400 with a message saying to use the newer endpoints.
//! - How the legacy `GET …/variables` shows a common value scoped to environments is not
//!   established either; this fake shows only the unscoped value there.

use serde_json::{json, Map, Value};

use crate::collections::{docs, docs_mut, find, Place};
use crate::context::{ApiRequest, Ctx};
use crate::reply::{Answer, ApiError, Reply};
use crate::secrets;
use crate::spec::spec_of;
use crate::store::{object_mut, text};

/// Whether the emulated version has `/commonvariables` and `/projectvariables` (2025.1+).
pub(crate) fn new_endpoints(ctx: &Ctx<'_>) -> bool {
    ctx.settings.version.at_least(2025, 1)
}

/// Whether `CommonVariableScopingFeatureToggle` is on: environment-scoped common values,
/// and no legacy update (2025.2+).
pub(crate) fn common_scoping(ctx: &Ctx<'_>) -> bool {
    ctx.settings.version.at_least(2025, 2)
}

fn secret_doc(tenant_id: &str) -> String {
    format!("tenantvariables-{tenant_id}")
}

/// The stored values of a tenant, or an empty set.
fn stored(ctx: &Ctx<'_>, place: &Place, tenant_id: &str) -> Value {
    find(ctx, place, "tenantvariables", tenant_id)
        .cloned()
        .unwrap_or_else(
            || json!({"TenantId": tenant_id, "ProjectVariables": {}, "LibraryVariables": {}}),
        )
}

/// The projects a tenant is connected to, with their environments.
fn connections(tenant: &Value) -> Vec<(String, Vec<String>)> {
    tenant["ProjectEnvironments"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(p, envs)| {
                    let envs = envs
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect();
                    (p.clone(), envs)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The library variable sets with templates that a tenant's projects include.
fn library_sets<'c>(ctx: &'c Ctx<'_>, place: &Place, tenant: &Value) -> Vec<&'c Value> {
    let mut ids: Vec<String> = Vec::new();
    for (project_id, _) in connections(tenant) {
        if let Some(project) = find(ctx, place, "projects", &project_id) {
            for lvs in project["IncludedLibraryVariableSetIds"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(id) = lvs.as_str() {
                    if !ids.iter().any(|x| x.eq_ignore_ascii_case(id)) {
                        ids.push(id.to_owned());
                    }
                }
            }
        }
    }
    ids.iter()
        .filter_map(|id| find(ctx, place, "libraryvariablesets", id))
        .filter(|l| l["Templates"].as_array().is_some_and(|t| !t.is_empty()))
        .collect()
}

fn template_ids(owner: &Value) -> Vec<String> {
    owner["Templates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| text(t, "Id").to_owned())
        .collect()
}

fn pick(values: &Value, templates: &[String]) -> Map<String, Value> {
    templates
        .iter()
        .filter_map(|t| values.get(t).map(|v| (t.clone(), v.clone())))
        .collect()
}

/// The old-shape document `GET /tenants/{id}/variables` answers, from stored values.
pub(crate) fn present(ctx: &Ctx<'_>, space: &str, stored_doc: &Value) -> Value {
    let place = Place::Space(space.to_owned());
    let tenant_id = text(stored_doc, "TenantId");
    let Some(tenant) = find(ctx, &place, "tenants", tenant_id) else {
        return stored_doc.clone();
    };
    let mut projects = Map::new();
    for (project_id, envs) in connections(tenant) {
        let Some(project) = find(ctx, &place, "projects", &project_id) else {
            continue;
        };
        let templates = template_ids(project);
        let saved = &stored_doc["ProjectVariables"][text(project, "Id")]["Variables"];
        let variables: Map<String, Value> = envs
            .iter()
            .map(|e| {
                (
                    e.clone(),
                    Value::Object(pick(&saved[e.as_str()], &templates)),
                )
            })
            .collect();
        projects.insert(
            text(project, "Id").to_owned(),
            json!({
                "ProjectId": text(project, "Id"),
                "ProjectName": text(project, "Name"),
                "Templates": project["Templates"].clone(),
                "Variables": variables,
                "Links": {"Project": format!("{}/projects/{}", ctx.link(space), text(project, "Id"))},
            }),
        );
    }
    let mut libraries = Map::new();
    for lvs in library_sets(ctx, &place, tenant) {
        let templates = template_ids(lvs);
        let saved = &stored_doc["LibraryVariables"][text(lvs, "Id")]["Variables"];
        libraries.insert(
            text(lvs, "Id").to_owned(),
            json!({
                "LibraryVariableSetId": text(lvs, "Id"),
                "LibraryVariableSetName": text(lvs, "Name"),
                "Templates": lvs["Templates"].clone(),
                "Variables": pick(saved, &templates),
                "Links": {"LibraryVariableSet": format!("{}/libraryvariablesets/{}", ctx.link(space), text(lvs, "Id"))},
            }),
        );
    }
    let mut doc = json!({
        "TenantId": text(tenant, "Id"),
        "TenantName": text(tenant, "Name"),
        "SpaceId": space,
        "ProjectVariables": projects,
        "LibraryVariables": libraries,
        "Links": {"Self": format!("{}/tenants/{}/variables", ctx.link(space), text(tenant, "Id"))},
    });
    if ctx.settings.version.at_least(2022, 1) {
        object_mut(&mut doc).insert(
            "ConcurrencyToken".into(),
            stored_doc
                .get("ConcurrencyToken")
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    doc
}

/// The values of an old-shape document (as sent or as exported), without the
/// templates and names.
pub(crate) fn values_of(tenant_id: &str, body: &Value) -> Value {
    let mut projects = Map::new();
    for (pid, p) in body["ProjectVariables"].as_object().into_iter().flatten() {
        projects.insert(pid.clone(), json!({"Variables": p["Variables"].clone()}));
    }
    let mut libraries = Map::new();
    for (lid, l) in body["LibraryVariables"].as_object().into_iter().flatten() {
        libraries.insert(lid.clone(), json!({"Variables": l["Variables"].clone()}));
    }
    json!({
        "TenantId": tenant_id,
        "ProjectVariables": projects,
        "LibraryVariables": libraries,
        "ConcurrencyToken": body.get("ConcurrencyToken").cloned().unwrap_or(Value::Null),
    })
}

fn tenant_id_of(ctx: &Ctx<'_>, place: &Place, id: &str) -> Result<String, ApiError> {
    find(ctx, place, "tenants", id)
        .map(|t| text(t, "Id").to_owned())
        .ok_or_else(|| ApiError::not_found(id))
}

/// `GET /tenants/{id}/variables`.
pub(crate) fn get(ctx: &Ctx<'_>, space: &str, id: &str) -> Answer {
    let place = Place::Space(space.to_owned());
    let tenant_id = tenant_id_of(ctx, &place, id)?;
    Ok(Reply::ok(present(
        ctx,
        space,
        &stored(ctx, &place, &tenant_id),
    )))
}

/// Plain strings sent for templates whose control type is `Sensitive` become secrets,
/// as the real server stores them.
fn seal_sensitive(ctx: &Ctx<'_>, place: &Place, values: &mut Value) {
    let sensitive: std::collections::HashSet<String> = ["projects", "libraryvariablesets"]
        .iter()
        .flat_map(|key| docs(ctx, place, key).map(|d| d.items()).unwrap_or_default())
        .flat_map(|owner| owner["Templates"].as_array().into_iter().flatten())
        .filter(|t| t["DisplaySettings"]["Octopus.ControlType"] == "Sensitive")
        .map(|t| text(t, "Id").to_owned())
        .collect();
    if sensitive.is_empty() {
        return;
    }
    let seal = |map: &mut Value| {
        for (template, value) in map.as_object_mut().into_iter().flatten() {
            if let (true, Some(plain)) = (sensitive.contains(template), value.as_str()) {
                *value = json!({"HasValue": true, "NewValue": plain});
            }
        }
    };
    for owner in values["ProjectVariables"]
        .as_object_mut()
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        for per_env in owner["Variables"]
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            seal(per_env);
        }
    }
    for owner in values["LibraryVariables"]
        .as_object_mut()
        .into_iter()
        .flat_map(|m| m.values_mut())
    {
        seal(&mut owner["Variables"]);
        for scoped in owner
            .get_mut("Scoped")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            let sensitive_template = sensitive.contains(text(scoped, "TemplateId"));
            if let (true, Some(plain)) = (sensitive_template, scoped["Value"].as_str()) {
                scoped["Value"] = json!({"HasValue": true, "NewValue": plain});
            }
        }
    }
}

/// Stores new values after the concurrency check; `values` is in stored form.
fn save(
    ctx: &mut Ctx<'_>,
    space: &str,
    tenant_id: &str,
    sent_token: Option<&str>,
    mut values: Value,
) -> Result<(), ApiError> {
    let place = Place::Space(space.to_owned());
    let previous = stored(ctx, &place, tenant_id);
    let current = previous["ConcurrencyToken"].as_str();
    if let (Some(sent), Some(current)) = (sent_token, current) {
        if sent != current {
            let message = "You cannot modify these tenant variables because another user has made changes to them since you loaded them. Please reload them and try again.".to_owned();
            return Err(ApiError::bad_request(message.clone(), vec![message]));
        }
    }
    seal_sensitive(ctx, &place, &mut values);
    secrets::absorb(
        &mut ctx.store.secrets,
        &secret_doc(tenant_id),
        &mut values,
        Some(&previous),
    );
    let map = object_mut(&mut values);
    map.insert("TenantId".into(), json!(tenant_id));
    map.insert("SpaceId".into(), json!(space));
    map.insert(
        "ConcurrencyToken".into(),
        json!(crate::side_effects::guid()),
    );
    docs_mut(ctx, &place, spec_of("tenantvariables"))?.upsert(tenant_id, values);
    Ok(())
}

/// `POST` or `PUT /tenants/{id}/variables`: the whole old-shape document. Refused while
/// common variable scoping is on.
pub(crate) fn put(ctx: &mut Ctx<'_>, space: &str, id: &str, body: Option<Value>) -> Answer {
    let place = Place::Space(space.to_owned());
    let tenant_id = tenant_id_of(ctx, &place, id)?;
    if common_scoping(ctx) {
        let message = "Tenant variables cannot be modified through this endpoint while common variable scoping is enabled. Use /commonvariables and /projectvariables instead.".to_owned();
        return Err(ApiError::bad_request(message.clone(), vec![message]));
    }
    let body = body
        .filter(Value::is_object)
        .ok_or_else(ApiError::no_body)?;
    let values = values_of(&tenant_id, &body);
    save(
        ctx,
        space,
        &tenant_id,
        body["ConcurrencyToken"].as_str(),
        values,
    )?;
    get(ctx, space, &tenant_id)
}

/// `GET /tenantvariables/all[?projectId=]`.
pub(crate) fn all(ctx: &Ctx<'_>, space: &str, req: &ApiRequest) -> Answer {
    let place = Place::Space(space.to_owned());
    let project = req.param("projectId").filter(|p| !p.is_empty());
    let tenants = docs(ctx, &place, "tenants")
        .map(|d| d.items())
        .unwrap_or_default();
    let items: Vec<Value> = tenants
        .iter()
        .filter(|t| {
            project.is_none_or(|p| {
                connections(t)
                    .iter()
                    .any(|(id, _)| id.eq_ignore_ascii_case(p))
            })
        })
        .map(|t| present(ctx, space, &stored(ctx, &place, text(t, "Id"))))
        .collect();
    Ok(Reply::ok(Value::Array(items)))
}

/// Which of the two newer endpoints.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavour {
    /// `/commonvariables`: library variable set templates.
    Common,
    /// `/projectvariables`: project templates per environment.
    Project,
}

fn template_named(owner: &Value, template_id: &str) -> Value {
    owner["Templates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| text(t, "Id") == template_id)
        .cloned()
        .unwrap_or(Value::Null)
}

/// The environment-scoped values of one library variable set's template, as stored:
/// `[{Id, TemplateId, EnvironmentIds, Value}]`.
fn scoped_common<'v>(saved: &'v Value, lid: &str, tid: &str) -> Vec<&'v Value> {
    saved["LibraryVariables"][lid]["Scoped"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| text(s, "TemplateId") == tid)
        .collect()
}

/// The stored id of a scoped common value: derived from what it is for, so a secret
/// kept by a later write is found at the same place.
fn scoped_id(tenant_id: &str, lid: &str, tid: &str, envs: &[String]) -> String {
    format!("TenantVariables-{tenant_id}-{lid}-{tid}-{}", envs.join("-"))
}

/// `GET /tenants/{id}/commonvariables` or `/projectvariables` (2025.1+).
pub(crate) fn get_new(
    ctx: &Ctx<'_>,
    space: &str,
    id: &str,
    flavour: Flavour,
    req: &ApiRequest,
) -> Answer {
    let place = Place::Space(space.to_owned());
    let tenant_id = tenant_id_of(ctx, &place, id)?;
    let tenant = find(ctx, &place, "tenants", &tenant_id)
        .cloned()
        .unwrap_or(Value::Null);
    let saved = stored(ctx, &place, &tenant_id);
    let include_missing = req.param("includeMissingVariables") == Some("true");
    let mut variables = Vec::new();
    let mut missing = Vec::new();
    match flavour {
        Flavour::Common => {
            for lvs in library_sets(ctx, &place, &tenant) {
                let lid = text(lvs, "Id");
                for tid in template_ids(lvs) {
                    let template = template_named(lvs, &tid);
                    let base = json!({
                        "LibraryVariableSetId": lid, "LibraryVariableSetName": text(lvs, "Name"),
                        "TemplateId": tid, "Template": template, "Scope": {"EnvironmentIds": []},
                    });
                    let scoped = scoped_common(&saved, lid, &tid);
                    for s in &scoped {
                        let mut v = base.clone();
                        let m = object_mut(&mut v);
                        m.insert("Id".into(), s["Id"].clone());
                        m.insert("Value".into(), s["Value"].clone());
                        m.insert(
                            "Scope".into(),
                            json!({"EnvironmentIds": s["EnvironmentIds"].clone()}),
                        );
                        variables.push(v);
                    }
                    match saved["LibraryVariables"][lid]["Variables"].get(&tid) {
                        Some(value) => {
                            let mut v = base;
                            let m = object_mut(&mut v);
                            m.insert(
                                "Id".into(),
                                json!(format!("TenantVariables-{tenant_id}-{lid}-{tid}")),
                            );
                            m.insert("Value".into(), value.clone());
                            variables.push(v);
                        }
                        None if scoped.is_empty() => missing.push(base),
                        None => {}
                    }
                }
            }
        }
        Flavour::Project => {
            for (pid, envs) in connections(&tenant) {
                let Some(project) = find(ctx, &place, "projects", &pid) else {
                    continue;
                };
                let pid = text(project, "Id");
                for tid in template_ids(project) {
                    let template = template_named(project, &tid);
                    let mut absent = Vec::new();
                    for env in &envs {
                        match saved["ProjectVariables"][pid]["Variables"][env.as_str()].get(&tid) {
                            Some(value) => variables.push(json!({
                                "Id": format!("TenantVariables-{tenant_id}-{pid}-{env}-{tid}"),
                                "ProjectId": pid, "ProjectName": text(project, "Name"),
                                "TemplateId": tid, "Template": template, "Value": value,
                                "Scope": {"EnvironmentIds": [env]},
                            })),
                            None => absent.push(env.clone()),
                        }
                    }
                    if !absent.is_empty() {
                        missing.push(json!({
                            "ProjectId": pid, "ProjectName": text(project, "Name"), "TemplateId": tid,
                            "Template": template, "Scope": {"EnvironmentIds": absent},
                        }));
                    }
                }
            }
        }
    }
    let mut doc = json!({
        "TenantId": tenant_id, "SpaceId": space,
        "ConcurrencyToken": saved.get("ConcurrencyToken").cloned().unwrap_or(Value::Null),
        "Variables": variables,
    });
    if include_missing {
        object_mut(&mut doc).insert("MissingVariables".into(), Value::Array(missing));
    }
    Ok(Reply::ok(doc))
}

/// `PUT`/`POST /tenants/{id}/commonvariables` or `/projectvariables`: the complete set
/// of that flavour; values left out are deleted.
pub(crate) fn put_new(
    ctx: &mut Ctx<'_>,
    space: &str,
    id: &str,
    flavour: Flavour,
    body: Option<Value>,
    req: &ApiRequest,
) -> Answer {
    let place = Place::Space(space.to_owned());
    let tenant_id = tenant_id_of(ctx, &place, id)?;
    let body = body
        .filter(Value::is_object)
        .ok_or_else(ApiError::no_body)?;
    let mut values = stored(ctx, &place, &tenant_id);
    let mut fresh = Map::new();
    let mut errors = Vec::new();
    let scoping = common_scoping(ctx);
    for var in body["Variables"].as_array().into_iter().flatten() {
        let owner_field = match flavour {
            Flavour::Common => "LibraryVariableSetId",
            Flavour::Project => "ProjectId",
        };
        let owner = var
            .get(owner_field)
            .or_else(|| var.get("OwnerId"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let tid = text(var, "TemplateId");
        if owner.is_empty() || tid.is_empty() {
            errors.push(format!("Each variable needs {owner_field} and TemplateId."));
            continue;
        }
        let value = var.get("Value").cloned().unwrap_or(Value::Null);
        let mut envs: Vec<String> = var["Scope"]["EnvironmentIds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        envs.sort();
        envs.dedup();
        let entry = object_mut(
            fresh
                .entry(owner.to_owned())
                .or_insert_with(|| json!({"Variables": {}})),
        );
        if flavour == Flavour::Common && !envs.is_empty() {
            if !scoping {
                errors.push(
                    "Environment-scoped common variables are not supported by this server.".into(),
                );
                continue;
            }
            let scoped = entry.entry("Scoped").or_insert_with(|| json!([]));
            if let Value::Array(list) = scoped {
                list.push(json!({
                    "Id": scoped_id(&tenant_id, owner, tid, &envs),
                    "TemplateId": tid, "EnvironmentIds": envs, "Value": value,
                }));
            }
            continue;
        }
        let vars = object_mut(entry.entry("Variables").or_insert_with(|| json!({})));
        match flavour {
            Flavour::Common => {
                vars.insert(tid.to_owned(), value);
            }
            Flavour::Project => {
                if envs.is_empty() {
                    errors.push("A project tenant variable needs Scope.EnvironmentIds.".into());
                }
                for env in envs {
                    object_mut(vars.entry(env).or_insert_with(|| json!({})))
                        .insert(tid.to_owned(), value.clone());
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let key = match flavour {
        Flavour::Common => "LibraryVariables",
        Flavour::Project => "ProjectVariables",
    };
    object_mut(&mut values).insert(key.into(), Value::Object(fresh));
    save(
        ctx,
        space,
        &tenant_id,
        body["ConcurrencyToken"].as_str(),
        values,
    )?;
    get_new(ctx, space, &tenant_id, flavour, req)
}
