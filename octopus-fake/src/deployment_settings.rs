//! `GET`/`PUT /{spaceId}/projects/{id}/deploymentsettings`: a project's deployment
//! settings as their own document (OctopusClients `Model/DeploymentSettingsResource.cs`
//! and `Repositories/Async/DeploymentSettingsRepository.cs`, which GETs the project's
//! `DeploymentSettings` link and PUTs the document's `Self` link; go-octopusdeploy
//! `pkg/deployments/deployment_settings.go`).
//!
//! The fields live on the project document too, as on servers before the route, so both
//! views stay the same. The route is not in the 2020.5 swagger and the clients do not
//! say when it appeared; this fake serves it from 2021.1, as the project's API notes
//! have it.

use serde_json::{json, Map, Value};

use crate::collections::{docs_mut, find, Place};
use crate::context::Ctx;
use crate::reply::{Answer, ApiError, Reply};
use crate::spec::spec_of;
use crate::store::{object_mut, text};

/// Deployment settings field -> project field.
const FIELDS: &[(&str, &str)] = &[
    ("ConnectivityPolicy", "ProjectConnectivityPolicy"),
    ("DefaultGuidedFailureMode", "DefaultGuidedFailureMode"),
    (
        "DefaultToSkipIfAlreadyInstalled",
        "DefaultToSkipIfAlreadyInstalled",
    ),
    ("DeploymentChangesTemplate", "DeploymentChangesTemplate"),
    ("ReleaseNotesTemplate", "ReleaseNotesTemplate"),
    ("VersioningStrategy", "VersioningStrategy"),
    ("ForcePackageDownload", "ForcePackageDownload"),
    ("FailTargetDiscovery", "FailTargetDiscovery"),
    ("CancelQueuedTasks", "CancelQueuedTasks"),
    ("CancelRunningTasks", "CancelRunningTasks"),
];

/// Whether the emulated version has the route.
pub(crate) fn served(ctx: &Ctx<'_>) -> bool {
    ctx.settings.version.at_least(2021, 1)
}

fn present(ctx: &Ctx<'_>, space: &str, project: &Value) -> Value {
    let id = text(project, "Id");
    let mut doc = Map::new();
    doc.insert("Id".into(), json!(format!("deploymentsettings-{id}")));
    doc.insert("ProjectId".into(), json!(id));
    doc.insert("SpaceId".into(), json!(space));
    for (field, on_project) in FIELDS {
        if let Some(v) = project.get(*on_project) {
            doc.insert((*field).into(), v.clone());
        }
    }
    doc.insert(
        "Links".into(),
        json!({"Self": format!("{}/projects/{id}/deploymentsettings", ctx.link(space))}),
    );
    Value::Object(doc)
}

/// `GET`.
pub(crate) fn get(ctx: &Ctx<'_>, space: &str, project_id: &str) -> Answer {
    let place = Place::Space(space.to_owned());
    let project =
        find(ctx, &place, "projects", project_id).ok_or_else(|| ApiError::not_found(project_id))?;
    Ok(Reply::ok(present(ctx, space, project)))
}

/// `PUT`: the settings the body carries are stored on the project; the answer is the
/// settings as stored.
pub(crate) fn put(ctx: &mut Ctx<'_>, space: &str, project_id: &str, body: Option<Value>) -> Answer {
    let place = Place::Space(space.to_owned());
    let Some(Value::Object(body)) = body else {
        return Err(ApiError::no_body());
    };
    let id = find(ctx, &place, "projects", project_id)
        .map(|p| text(p, "Id").to_owned())
        .ok_or_else(|| ApiError::not_found(project_id))?;
    let projects = docs_mut(ctx, &place, spec_of("projects"))?;
    let project = projects
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found(&id))?;
    let map = object_mut(project);
    for (field, on_project) in FIELDS {
        if let Some(v) = body.get(*field) {
            map.insert((*on_project).into(), v.clone());
        }
    }
    get(ctx, space, &id)
}
