//! Reads of a version-controlled project at a git ref:
//! `/{spaceId}/projects/{id}/{gitRef}/deploymentprocesses`, `…/runbooks`, `…/variables`
//! and `…/deploymentsettings` (go-octopusdeploy `uritemplates/links.go`
//! `GitRunbooksByProject`, `ProjectVariablesByGitRef`; OctopusClients
//! `Repositories/Async/DeploymentProcessRepository.cs` and
//! `DeploymentSettingsRepository.cs`, which follow the project's links with a `gitRef`).
//!
//! This fake keeps one copy of each document, whatever the ref: it answers with the
//! stored process, runbooks and deployment settings, and with the project's variables
//! without the sensitive ones (those stay in the database, at `/projects/{id}/variables`).
//! What a real server answers for a git ref of a project that is not version controlled
//! is not established by the evidence; this fake answers 400 saying so. Writes at a git
//! ref (commits) are not served.

use serde_json::Value;

use crate::collections::{self as coll, Place};
use crate::context::{ApiRequest, Ctx};
use crate::reply::{Answer, ApiError};
use crate::spec::spec_of;
use crate::store::{object_mut, text};

/// Whether a segment after a git ref names a document this fake serves there.
pub(crate) fn is_git_child(child: &str) -> bool {
    [
        "deploymentprocesses",
        "runbooks",
        "variables",
        "deploymentsettings",
    ]
    .iter()
    .any(|c| c.eq_ignore_ascii_case(child))
}

/// Whether a project's process and variables live in git.
pub(crate) fn is_version_controlled(project: &Value) -> bool {
    project["IsVersionControlled"] == Value::Bool(true)
        || project["PersistenceSettings"]["Type"] == "VersionControlled"
}

/// `GET /projects/{id}/{gitRef}/{child}`.
pub(crate) fn get(
    ctx: &Ctx<'_>,
    space: &str,
    project: &Value,
    child: &str,
    req: &ApiRequest,
) -> Answer {
    let project_id = text(project, "Id").to_owned();
    if !is_version_controlled(project) {
        let message = format!("The project '{project_id}' is not version controlled.");
        return Err(ApiError::bad_request(message.clone(), vec![message]));
    }
    let place = Place::Space(space.to_owned());
    match child.to_ascii_lowercase().as_str() {
        "deploymentprocesses" => coll::get(
            ctx,
            &place,
            spec_of("deploymentprocesses"),
            text(project, "DeploymentProcessId"),
        ),
        "runbooks" => {
            let path = format!("{}/projects/{project_id}/runbooks", ctx.link(space));
            let of_project = |d: &Value| text(d, "ProjectId").eq_ignore_ascii_case(&project_id);
            coll::list(
                ctx,
                &place,
                spec_of("runbooks"),
                req,
                &path,
                false,
                Some(&of_project),
            )
        }
        "variables" => {
            let mut answer = coll::get(
                ctx,
                &place,
                spec_of("variables"),
                text(project, "VariableSetId"),
            )?;
            if let Some(Value::Array(vars)) = object_mut(&mut answer.body).get_mut("Variables") {
                vars.retain(|v| v["IsSensitive"] != Value::Bool(true));
            }
            Ok(answer)
        }
        _ => crate::deployment_settings::get(ctx, space, &project_id),
    }
}
