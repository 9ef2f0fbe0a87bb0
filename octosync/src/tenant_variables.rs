//! Writing a tenant's variables through the routes the destination's version has.
//!
//! The plan describes a tenant's values in the old shape (`/tenants/{id}/variables`:
//! per project, environment and template; per library variable set and template),
//! which every version can read. Before 2025.1 that document is read and saved whole
//! (`GET`, then `POST` with the `ConcurrencyToken` just read). From 2025.1 the values
//! are written through `/tenants/{id}/commonvariables` and `/projectvariables`, each the
//! complete set: what the plan manages is laid over what the destination holds, and
//! everything else (values of other projects and sets, and environment-scoped values
//! the plan does not name) is sent back as read, with its `Id`, so nothing is deleted and
//! no secret is wiped. From 2025.2, with `CommonVariableScopingFeatureToggle` on, the
//! legacy update is refused by the server, so these are the only way to write.

use std::collections::{BTreeMap, BTreeSet};

use octopus_client::OctopusWrite;
use octopus_model::{
    EnvironmentId, Lenient, LibraryVariableSetId, OctopusVersion, ProjectId, PropertyValue,
    TenantId, TenantScopedVariables, TenantVariableScope, TenantVariableValue, TenantVariables,
};
use serde_json::Value;

// The plan's field carrying environment-scoped common values, which the old shape
// cannot hold. Planned only for destinations with common variable scoping (2025.2+).
use sync_core::SCOPED_COMMON_VARIABLES as SCOPED_COMMON_FIELD;

/// Why a tenant's variables could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantVariablesError {
    /// A document could not be read from the destination.
    #[error("cannot read the tenant's {what}")]
    Read {
        /// Which document.
        what: &'static str,
        /// Why.
        #[source]
        source: octopus_client::Error,
    },
    /// The destination did not accept a write.
    #[error("cannot save the tenant's {what}")]
    Save {
        /// Which document.
        what: &'static str,
        /// Why.
        #[source]
        source: octopus_client::Error,
    },
    /// The planned or current document does not have the expected shape.
    #[error("cannot build the {what}")]
    Shape {
        /// Which document.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

fn read(what: &'static str) -> impl FnOnce(octopus_client::Error) -> TenantVariablesError {
    move |source| TenantVariablesError::Read { what, source }
}

fn save(what: &'static str) -> impl FnOnce(octopus_client::Error) -> TenantVariablesError {
    move |source| TenantVariablesError::Save { what, source }
}

fn shape(what: &'static str) -> impl FnOnce(serde_json::Error) -> TenantVariablesError {
    move |source| TenantVariablesError::Shape { what, source }
}

/// Whether a destination of this version is written through the 2025.1 endpoints.
pub fn uses_new_endpoints(version: &OctopusVersion) -> bool {
    version.at_least(2025, 1)
}

/// Writes the plan's `desired` old-shape document for `tenant`; `fields` are the
/// top-level fields the plan changes.
pub(crate) async fn write(
    writer: &dyn OctopusWrite,
    version: &OctopusVersion,
    tenant: &str,
    desired: Value,
    fields: &[String],
) -> Result<(), TenantVariablesError> {
    let tenant = TenantId::new(tenant);
    if uses_new_endpoints(version) {
        write_new(writer, &tenant, desired, fields).await
    } else {
        write_old(writer, &tenant, desired, fields).await
    }
}

async fn write_old(
    writer: &dyn OctopusWrite,
    tenant: &TenantId,
    desired: Value,
    fields: &[String],
) -> Result<(), TenantVariablesError> {
    let current = writer
        .tenant_variables(tenant)
        .await
        .map_err(read("variables"))?;
    let mut body = serde_json::to_value(&current).map_err(shape("tenant variables document"))?;
    if let (Value::Object(body_map), Value::Object(desired_map)) = (&mut body, &desired) {
        for field in fields {
            if field == SCOPED_COMMON_FIELD {
                continue;
            }
            match desired_map.get(field) {
                Some(v) => {
                    body_map.insert(field.clone(), v.clone());
                }
                None => {
                    body_map.remove(field);
                }
            }
        }
    }
    // The token just read goes back, so the server checks the write against it.
    let body: TenantVariables =
        serde_json::from_value(body).map_err(shape("tenant variables document"))?;
    writer
        .set_tenant_variables(&body)
        .await
        .map(|_| ())
        .map_err(save("variables"))
}

async fn write_new(
    writer: &dyn OctopusWrite,
    tenant: &TenantId,
    desired: Value,
    fields: &[String],
) -> Result<(), TenantVariablesError> {
    let scoped: Vec<TenantVariableValue> = desired
        .get(SCOPED_COMMON_FIELD)
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(shape("planned scoped common values"))?
        .unwrap_or_default();
    let desired: TenantVariables =
        serde_json::from_value(desired).map_err(shape("planned tenant variables"))?;
    let touches = |f: &str| fields.iter().any(|x| x == f);
    if touches("LibraryVariables") || touches(SCOPED_COMMON_FIELD) {
        let current = writer
            .tenant_common_variables(tenant)
            .await
            .map_err(read("common variables"))?;
        let library: BTreeMap<LibraryVariableSetId, BTreeMap<String, PropertyValue>> = desired
            .library_variables
            .iter()
            .map(|(id, l)| {
                (
                    id.clone(),
                    l.variables
                        .iter()
                        .map(|(t, v)| (t.clone(), v.clone()))
                        .collect(),
                )
            })
            .collect();
        let values = common_payload(&current.variables, &library, &scoped);
        if values != kept(&current.variables) {
            let body = payload(tenant, &current, values);
            writer
                .set_tenant_common_variables(tenant, &body)
                .await
                .map_err(save("common variables"))?;
        }
    }
    if touches("ProjectVariables") {
        let current = writer
            .tenant_project_variables(tenant)
            .await
            .map_err(read("project variables"))?;
        let projects: ProjectValues = desired
            .project_variables
            .iter()
            .map(|(id, p)| {
                let per_env = p
                    .variables
                    .iter()
                    .map(|(env, values)| (env.clone(), values.clone()))
                    .collect();
                (id.clone(), per_env)
            })
            .collect();
        let values = project_payload(&current.variables, &projects);
        if values != kept(&current.variables) {
            let body = payload(tenant, &current, values);
            writer
                .set_tenant_project_variables(tenant, &body)
                .await
                .map_err(save("project variables"))?;
        }
    }
    Ok(())
}

/// Planned project values: project -> environment -> template id -> value.
type ProjectValues = BTreeMap<ProjectId, BTreeMap<EnvironmentId, BTreeMap<String, PropertyValue>>>;

fn payload(
    tenant: &TenantId,
    current: &TenantScopedVariables,
    variables: Vec<TenantVariableValue>,
) -> TenantScopedVariables {
    let mut body = TenantScopedVariables::default();
    body.tenant_id.set(tenant.clone());
    if let Some(space) = current.space_id.get() {
        body.space_id.set(space.clone());
    }
    if let Some(token) = current.concurrency_token.get() {
        body.concurrency_token.set(token.clone());
    }
    body.variables = Lenient::present(variables);
    body
}

/// A value in the form a write sends: the server's names and templates left out.
fn value(
    id: Option<&String>,
    owner: Owner<'_>,
    template: &str,
    v: PropertyValue,
    environments: Vec<EnvironmentId>,
) -> TenantVariableValue {
    let mut out = TenantVariableValue::default();
    if let Some(id) = id {
        out.id.set(id.clone());
    }
    match owner {
        Owner::Library(l) => out.library_variable_set_id.set(l.clone()),
        Owner::Project(p) => out.project_id.set(p.clone()),
    }
    out.template_id.set(template.to_owned());
    out.value.set(v);
    out.scope.set(TenantVariableScope {
        environment_ids: Lenient::present(environments),
        ..Default::default()
    });
    out
}

#[derive(Clone, Copy)]
enum Owner<'a> {
    Library(&'a LibraryVariableSetId),
    Project(&'a ProjectId),
}

fn environments(v: &TenantVariableValue) -> Vec<EnvironmentId> {
    let mut envs: Vec<EnvironmentId> = v
        .scope
        .get()
        .map(|s| s.environment_ids.iter().cloned().collect())
        .unwrap_or_default();
    envs.sort();
    envs
}

/// The server's values as they would be sent back unchanged.
fn kept(current: &[TenantVariableValue]) -> Vec<TenantVariableValue> {
    current.iter().filter_map(resend).collect()
}

fn resend(v: &TenantVariableValue) -> Option<TenantVariableValue> {
    let owner = match (v.library_variable_set_id.get(), v.project_id.get()) {
        (Some(l), _) => Owner::Library(l),
        (None, Some(p)) => Owner::Project(p),
        (None, None) => return None,
    };
    Some(value(
        v.id.get(),
        owner,
        v.template_id.get().map(String::as_str).unwrap_or_default(),
        v.value
            .get()
            .cloned()
            .unwrap_or(PropertyValue::Text(String::new())),
        environments(v),
    ))
}

/// Whether the server's value already is the planned one. A secret cannot be compared:
/// the planner only ever keeps an existing one, so a sensitive value on both sides is
/// the same.
fn same(current: Option<&PropertyValue>, planned: &PropertyValue) -> bool {
    match current {
        Some(c) if c.is_sensitive() && planned.is_sensitive() => true,
        Some(c) => c == planned,
        None => false,
    }
}

/// The complete common set: for the library variable sets the plan names, its unscoped
/// values (and, where it plans any, its scoped ones); everything else as read.
fn common_payload(
    current: &[TenantVariableValue],
    library: &BTreeMap<LibraryVariableSetId, BTreeMap<String, PropertyValue>>,
    scoped: &[TenantVariableValue],
) -> Vec<TenantVariableValue> {
    let scoped_key = |v: &TenantVariableValue| {
        (
            v.library_variable_set_id.get().cloned(),
            v.template_id.get().cloned().unwrap_or_default(),
            environments(v),
        )
    };
    let planned_scoped: BTreeMap<_, &TenantVariableValue> =
        scoped.iter().map(|v| (scoped_key(v), v)).collect();
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for v in current {
        let Some(lid) = v.library_variable_set_id.get() else {
            out.extend(resend(v));
            continue;
        };
        let tid = v.template_id.get().cloned().unwrap_or_default();
        let envs = environments(v);
        if !envs.is_empty() {
            // A scoped value: replaced when the plan has one for the same scope,
            // otherwise kept as it is.
            let key = scoped_key(v);
            match planned_scoped.get(&key) {
                Some(p) => {
                    let planned = p
                        .value
                        .get()
                        .cloned()
                        .unwrap_or(PropertyValue::Text(String::new()));
                    let keep = same(v.value.get(), &planned);
                    let sent = if keep {
                        v.value.get().cloned().unwrap_or(planned)
                    } else {
                        planned
                    };
                    out.push(value(v.id.get(), Owner::Library(lid), &tid, sent, envs));
                    done.insert(key);
                }
                None => out.extend(resend(v)),
            }
            continue;
        }
        let Some(planned) = library.get(lid) else {
            out.extend(resend(v));
            continue;
        };
        // A value the plan no longer has is left out, which deletes it.
        if let Some(p) = planned.get(&tid) {
            let sent = if same(v.value.get(), p) {
                v.value.get().cloned().unwrap_or_else(|| p.clone())
            } else {
                p.clone()
            };
            out.push(value(
                v.id.get(),
                Owner::Library(lid),
                &tid,
                sent,
                Vec::new(),
            ));
            done.insert((Some(lid.clone()), tid, Vec::new()));
        }
    }
    for (lid, values) in library {
        for (tid, v) in values {
            if done.insert((Some(lid.clone()), tid.clone(), Vec::new())) {
                out.push(value(None, Owner::Library(lid), tid, v.clone(), Vec::new()));
            }
        }
    }
    for p in scoped {
        let key = scoped_key(p);
        if let (Some(lid), true) = (p.library_variable_set_id.get(), !done.contains(&key)) {
            done.insert(key.clone());
            out.push(value(
                None,
                Owner::Library(lid),
                &key.1,
                p.value
                    .get()
                    .cloned()
                    .unwrap_or(PropertyValue::Text(String::new())),
                key.2,
            ));
        }
    }
    out
}

/// The complete project set: for the projects the plan names, one value per planned
/// environment and template, keeping a server value (and its id) wherever every
/// environment of its scope has that same value planned; other projects as read.
fn project_payload(
    current: &[TenantVariableValue],
    projects: &ProjectValues,
) -> Vec<TenantVariableValue> {
    let mut out = Vec::new();
    let mut covered: BTreeSet<(ProjectId, String, EnvironmentId)> = BTreeSet::new();
    for v in current {
        let Some(pid) = v.project_id.get() else {
            out.extend(resend(v));
            continue;
        };
        let Some(planned) = projects.get(pid) else {
            out.extend(resend(v));
            continue;
        };
        let tid = v.template_id.get().cloned().unwrap_or_default();
        let envs = environments(v);
        let wanted = |env: &EnvironmentId| planned.get(env).and_then(|values| values.get(&tid));
        let unchanged = !envs.is_empty()
            && envs
                .iter()
                .all(|e| wanted(e).is_some_and(|p| same(v.value.get(), p)));
        if unchanged {
            out.extend(resend(v));
            for e in envs {
                covered.insert((pid.clone(), tid.clone(), e));
            }
            continue;
        }
        // Changed (or removed) in at least one environment: one value per environment
        // from the plan; a value scoped to exactly that environment keeps its id.
        for e in envs.iter() {
            if let Some(p) = wanted(e) {
                let id = (envs.len() == 1).then(|| v.id.get()).flatten();
                out.push(value(
                    id,
                    Owner::Project(pid),
                    &tid,
                    p.clone(),
                    vec![e.clone()],
                ));
                covered.insert((pid.clone(), tid.clone(), e.clone()));
            }
        }
    }
    for (pid, per_env) in projects {
        for (env, values) in per_env {
            for (tid, v) in values {
                if covered.insert((pid.clone(), tid.clone(), env.clone())) {
                    out.push(value(
                        None,
                        Owner::Project(pid),
                        tid,
                        v.clone(),
                        vec![env.clone()],
                    ));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use octopus_model::SensitiveValue;

    fn lib(id: &str) -> LibraryVariableSetId {
        LibraryVariableSetId::new(id)
    }

    fn server_value(
        id: &str,
        owner: Owner<'_>,
        template: &str,
        v: PropertyValue,
        envs: &[&str],
    ) -> TenantVariableValue {
        let mut out = value(
            Some(&id.to_owned()),
            owner,
            template,
            v,
            envs.iter().map(|e| EnvironmentId::new(*e)).collect(),
        );
        out.library_variable_set_name
            .set("Shown by the server".into());
        out
    }

    #[test]
    fn common_values_the_plan_does_not_name_are_sent_back_with_their_ids() {
        let (global, other) = (lib("LibraryVariableSets-1"), lib("LibraryVariableSets-2"));
        let current = vec![
            server_value("a", Owner::Library(&global), "t1", "old".into(), &[]),
            server_value(
                "b",
                Owner::Library(&global),
                "t1",
                "in-prod".into(),
                &["Environments-3"],
            ),
            server_value("c", Owner::Library(&other), "t9", "theirs".into(), &[]),
            server_value(
                "d",
                Owner::Library(&global),
                "secret",
                PropertyValue::Sensitive(SensitiveValue::keep()),
                &[],
            ),
        ];
        let planned = BTreeMap::from([(
            global.clone(),
            BTreeMap::from([
                ("t1".to_owned(), PropertyValue::from("new")),
                ("t2".to_owned(), PropertyValue::from("added")),
                (
                    "secret".to_owned(),
                    PropertyValue::Sensitive(SensitiveValue::keep()),
                ),
            ]),
        )]);
        let sent = common_payload(&current, &planned, &[]);
        let find = |id: &str| {
            sent.iter()
                .find(|v| v.id.get().map(String::as_str) == Some(id))
        };
        assert_eq!(
            find("a").unwrap().value.get(),
            Some(&PropertyValue::from("new"))
        );
        assert_eq!(
            find("b").unwrap().value.get(),
            Some(&PropertyValue::from("in-prod"))
        );
        assert_eq!(
            find("c").unwrap().value.get(),
            Some(&PropertyValue::from("theirs"))
        );
        assert!(find("d").unwrap().value.get().unwrap().is_sensitive());
        let added: Vec<_> = sent.iter().filter(|v| v.id.get().is_none()).collect();
        assert_eq!(added.len(), 1);
        assert_eq!(added[0].template_id.get().map(String::as_str), Some("t2"));
        assert!(sent
            .iter()
            .all(|v| v.library_variable_set_name.get().is_none()));
    }

    #[test]
    fn a_value_the_plan_removes_is_left_out() {
        let global = lib("LibraryVariableSets-1");
        let current = vec![server_value(
            "a",
            Owner::Library(&global),
            "t1",
            "old".into(),
            &[],
        )];
        let planned = BTreeMap::from([(global.clone(), BTreeMap::new())]);
        assert!(common_payload(&current, &planned, &[]).is_empty());
    }

    #[test]
    fn project_values_keep_a_multi_environment_scope_that_still_holds() {
        let p = ProjectId::new("Projects-1");
        let current = vec![
            server_value(
                "x",
                Owner::Project(&p),
                "t",
                "same".into(),
                &["Environments-1", "Environments-2"],
            ),
            server_value(
                "y",
                Owner::Project(&p),
                "u",
                "before".into(),
                &["Environments-1"],
            ),
        ];
        let per_env = |u: &str| {
            BTreeMap::from([
                ("t".to_owned(), PropertyValue::from("same")),
                ("u".to_owned(), PropertyValue::from(u)),
            ])
        };
        let planned = BTreeMap::from([(
            p.clone(),
            BTreeMap::from([
                (EnvironmentId::new("Environments-1"), per_env("after")),
                (EnvironmentId::new("Environments-2"), per_env("new")),
            ]),
        )]);
        let sent = project_payload(&current, &planned);
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert_eq!(sent[0], resend(&current[0]).unwrap());
        assert_eq!(sent[1].id.get().map(String::as_str), Some("y"));
        assert_eq!(sent[1].value.get(), Some(&PropertyValue::from("after")));
        assert!(sent[2].id.get().is_none());
        assert_eq!(
            environments(&sent[2]),
            vec![EnvironmentId::new("Environments-2")]
        );
        assert_eq!(project_payload(&current, &BTreeMap::new()), kept(&current));
    }
}
