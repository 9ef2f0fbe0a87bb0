//! The `Links` of each document, as the real server writes them.

use serde_json::{json, Map, Value};

use crate::spec::CollectionSpec;
use crate::store::text;

/// The links of `doc` in `spec`'s collection, under `base` (`/octopus/api/Spaces-1`).
pub(crate) fn links_for(base: &str, spec: &CollectionSpec, doc: &Value) -> Value {
    let id = text(doc, spec.id_field);
    let own = format!("{base}/{}/{id}", spec.kind.collection());
    let mut links = Map::new();
    links.insert("Self".into(), json!(own));
    let mut add = |name: &str, href: String| {
        links.insert(name.into(), json!(href));
    };
    match spec.key {
        "spaces" => {
            add("SpaceHome", format!("{base}/{id}"));
            add("Web", format!("/app#/{id}"));
        }
        "projects" => {
            add(
                "DeploymentProcess",
                format!("{base}/projects/{id}/deploymentprocesses"),
            );
            add("Variables", format!("{base}/projects/{id}/variables"));
            add(
                "Channels",
                format!("{base}/projects/{id}/channels{{/id}}{{?skip,take,partialName}}"),
            );
            add(
                "Runbooks",
                format!("{base}/projects/{id}/runbooks{{/id}}{{?skip,take,partialName}}"),
            );
            add("Web", format!("/app#/projects/{id}"));
        }
        "runbooks" => {
            add(
                "RunbookProcesses",
                format!("{base}/runbookProcesses/{}", text(doc, "RunbookProcessId")),
            );
            add(
                "Project",
                format!("{base}/projects/{}", text(doc, "ProjectId")),
            );
        }
        "channels" => add(
            "Project",
            format!("{base}/projects/{}", text(doc, "ProjectId")),
        ),
        "deploymentprocesses" | "runbookprocesses" => {
            add(
                "Project",
                format!("{base}/projects/{}", text(doc, "ProjectId")),
            );
        }
        "libraryvariablesets" => add(
            "Variables",
            format!("{base}/variables/{}", text(doc, "VariableSetId")),
        ),
        "tenants" => add("Variables", format!("{base}/tenants/{id}/variables")),
        "tenantvariables" => {
            links.insert(
                "Self".into(),
                json!(format!("{base}/tenants/{id}/variables")),
            );
        }
        "actiontemplates" => add("Usage", format!("{base}/actiontemplates/{id}/usage")),
        "communityactiontemplates" => {
            add(
                "Installation",
                format!("{base}/communityactiontemplates/{id}/installation{{/spaceId}}"),
            );
        }
        _ => {}
    }
    Value::Object(links)
}
