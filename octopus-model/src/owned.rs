//! What an Octopus server creates by itself when a document is created: a project comes
//! with its deployment process, its variable set and a "Default" channel, a runbook with
//! its runbook process, a library variable set with its variable set.
//!
//! No audit event records these documents and no request creates them, yet a sync must
//! know their ids (to save the process it plans), a test server must make them, and an
//! in-memory destination must hold them, all exactly as a real server does. This module
//! is that knowledge, once, as JSON.
//!
//! ```
//! use octopus_model::{owned, ResourceKind};
//! use serde_json::json;
//!
//! let mut project = json!({"Id": "Projects-7", "Name": "OctoFX"});
//! owned::assign_ids(ResourceKind::Project, &mut project);
//! assert_eq!(project["DeploymentProcessId"], "deploymentprocess-Projects-7");
//!
//! let made = owned::documents(ResourceKind::Project, &project, || "Channels-3".to_owned());
//! let kinds: Vec<_> = made.iter().map(|(kind, _)| *kind).collect();
//! assert_eq!(
//!     kinds,
//!     [ResourceKind::DeploymentProcess, ResourceKind::VariableSet, ResourceKind::Channel]
//! );
//! assert_eq!(made[2].1["Name"], owned::DEFAULT_CHANNEL);
//! ```

use serde_json::{json, Map, Value};

use crate::ResourceKind;

/// The name of the channel every new project starts with.
pub const DEFAULT_CHANNEL: &str = "Default";

/// A document the server creates with a new one under an id it derives from the new
/// one's, which the new document names in a field of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DerivedId {
    /// The field of the new document that names it (`DeploymentProcessId`).
    pub field: &'static str,
    /// What it is.
    pub kind: ResourceKind,
    /// What precedes the new document's id in its id (`deploymentprocess-`).
    pub prefix: &'static str,
}

impl DerivedId {
    /// The id the server gives it when its owner's id is `owner_id`.
    pub fn derive(&self, owner_id: &str) -> String {
        format!("{}{owner_id}", self.prefix)
    }

    /// Its id: the one `owner` names in [`DerivedId::field`] when it names one (a server
    /// is free to choose), else the derived one for `owner_id`.
    pub fn of(&self, owner: &Value, owner_id: &str) -> String {
        owner
            .get(self.field)
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map_or_else(|| self.derive(owner_id), str::to_owned)
    }

    /// Whether `id` has the shape of such an id (compared case-insensitively, as older
    /// servers lower-case ids).
    pub fn matches(&self, id: &str) -> bool {
        id.get(..self.prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(self.prefix))
    }
}

/// A project's deployment process (`deploymentprocess-Projects-1`).
pub const DEPLOYMENT_PROCESS: DerivedId = DerivedId {
    field: "DeploymentProcessId",
    kind: ResourceKind::DeploymentProcess,
    prefix: "deploymentprocess-",
};

/// A project's or library variable set's variable set (`variableset-Projects-1`).
pub const VARIABLE_SET: DerivedId = DerivedId {
    field: "VariableSetId",
    kind: ResourceKind::VariableSet,
    prefix: "variableset-",
};

/// A runbook's process (`RunbookProcess-Runbooks-1`).
pub const RUNBOOK_PROCESS: DerivedId = DerivedId {
    field: "RunbookProcessId",
    kind: ResourceKind::RunbookProcess,
    prefix: "RunbookProcess-",
};

/// Every derived id, by the kind it names (each prefix once).
pub const ALL_DERIVED: &[DerivedId] = &[DEPLOYMENT_PROCESS, VARIABLE_SET, RUNBOOK_PROCESS];

/// The documents with derived ids a new document of `kind` comes with, in the order the
/// server creates them; empty for kinds that come with none.
pub fn derived_ids(kind: ResourceKind) -> &'static [DerivedId] {
    match kind {
        ResourceKind::Project => &[DEPLOYMENT_PROCESS, VARIABLE_SET],
        ResourceKind::Runbook => &[RUNBOOK_PROCESS],
        ResourceKind::LibraryVariableSet => &[VARIABLE_SET],
        _ => &[],
    }
}

/// Whether a new document of `kind` comes with a [`DEFAULT_CHANNEL`] (whose id is a new
/// channel id, not a derived one).
pub fn has_default_channel(kind: ResourceKind) -> bool {
    kind == ResourceKind::Project
}

/// Sets the fields of `doc`, a new document of `kind` with its `Id`, that name the
/// documents it comes with, as the server does whatever the request said. A document
/// without an `Id` or that is no object is left as it is.
pub fn assign_ids(kind: ResourceKind, doc: &mut Value) {
    let Some(id) = doc.get("Id").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    let Value::Object(map) = doc else {
        return;
    };
    for derived in derived_ids(kind) {
        map.insert(derived.field.to_owned(), json!(derived.derive(&id)));
    }
}

/// The documents the server creates with `owner`, a new document of `kind` as stored
/// (ids assigned), in the order it creates them. `channel_id` is asked for the id of a
/// default channel only when one is made, so a caller numbering ids spends none
/// otherwise. Stamps the server adds to every document (`SpaceId`, `Links`, …) are the
/// caller's.
pub fn documents(
    kind: ResourceKind,
    owner: &Value,
    channel_id: impl FnOnce() -> String,
) -> Vec<(ResourceKind, Value)> {
    let text = |field: &str| owner.get(field).and_then(Value::as_str).unwrap_or("");
    let id = text("Id");
    let mut out: Vec<(ResourceKind, Value)> = derived_ids(kind)
        .iter()
        .map(|derived| {
            let own = derived.of(owner, id);
            let doc = match derived.kind {
                ResourceKind::DeploymentProcess => empty_deployment_process(&own, id),
                ResourceKind::RunbookProcess => empty_runbook_process(&own, text("ProjectId"), id),
                _ => empty_variable_set(&own, id),
            };
            (derived.kind, doc)
        })
        .collect();
    if has_default_channel(kind) {
        out.push((ResourceKind::Channel, default_channel(&channel_id(), id)));
    }
    out
}

fn empty_process(id: &str, project_id: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("Id".to_owned(), json!(id));
    map.insert("ProjectId".to_owned(), json!(project_id));
    map.insert("Version".to_owned(), json!(0));
    map.insert("Steps".to_owned(), json!([]));
    map.insert("LastSnapshotId".to_owned(), Value::Null);
    map
}

/// The deployment process a new project starts with: no steps, never saved.
pub fn empty_deployment_process(id: &str, project_id: &str) -> Value {
    Value::Object(empty_process(id, project_id))
}

/// The process a new runbook starts with: no steps, never saved.
pub fn empty_runbook_process(id: &str, project_id: &str, runbook_id: &str) -> Value {
    let mut map = empty_process(id, project_id);
    map.insert("RunbookId".to_owned(), json!(runbook_id));
    Value::Object(map)
}

/// The variable set a new project or library variable set starts with: no variables,
/// never saved.
pub fn empty_variable_set(id: &str, owner_id: &str) -> Value {
    json!({"Id": id, "OwnerId": owner_id, "Version": 0, "Variables": []})
}

/// The [`DEFAULT_CHANNEL`] every new project starts with: the project's lifecycle, no
/// rules, no tenant tags.
pub fn default_channel(id: &str, project_id: &str) -> Value {
    json!({
        "Id": id, "Name": DEFAULT_CHANNEL, "Description": "", "ProjectId": project_id,
        "LifecycleId": null, "IsDefault": true, "Rules": [], "TenantTags": [], "Slug": "default",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_project_names_its_process_and_variable_set_whatever_was_sent() {
        let mut project = json!({"Id": "Projects-9", "Name": "A",
            "DeploymentProcessId": "deploymentprocess-Projects-1", "Extra": 1});
        assign_ids(ResourceKind::Project, &mut project);
        assert_eq!(
            project,
            json!({"Id": "Projects-9", "Name": "A",
                "DeploymentProcessId": "deploymentprocess-Projects-9", "Extra": 1,
                "VariableSetId": "variableset-Projects-9"})
        );
    }

    #[test]
    fn runbooks_and_library_variable_sets_get_their_one_id() {
        let mut runbook = json!({"Id": "Runbooks-2"});
        assign_ids(ResourceKind::Runbook, &mut runbook);
        assert_eq!(runbook["RunbookProcessId"], "RunbookProcess-Runbooks-2");
        let mut set = json!({"Id": "LibraryVariableSets-3"});
        assign_ids(ResourceKind::LibraryVariableSet, &mut set);
        assert_eq!(set["VariableSetId"], "variableset-LibraryVariableSets-3");
    }

    #[test]
    fn other_kinds_and_documents_without_an_id_are_left_alone() {
        let mut env = json!({"Id": "Environments-1"});
        assign_ids(ResourceKind::Environment, &mut env);
        assert_eq!(env, json!({"Id": "Environments-1"}));
        for mut odd in [json!({"Name": "no id"}), json!([1]), json!({"Id": 5})] {
            let before = odd.clone();
            assign_ids(ResourceKind::Project, &mut odd);
            assert_eq!(odd, before);
        }
        assert!(documents(ResourceKind::Environment, &env, || unreachable!()).is_empty());
        assert!(derived_ids(ResourceKind::Tenant).is_empty());
        assert!(!has_default_channel(ResourceKind::Runbook));
    }

    #[test]
    fn a_project_comes_with_an_empty_process_an_empty_variable_set_and_a_default_channel() {
        let project = json!({"Id": "Projects-4", "DeploymentProcessId": "deploymentprocess-Projects-4",
            "VariableSetId": "variableset-Projects-4"});
        let made = documents(ResourceKind::Project, &project, || "Channels-8".into());
        assert_eq!(
            made,
            vec![
                (
                    ResourceKind::DeploymentProcess,
                    json!({"Id": "deploymentprocess-Projects-4", "ProjectId": "Projects-4",
                        "Version": 0, "Steps": [], "LastSnapshotId": null})
                ),
                (
                    ResourceKind::VariableSet,
                    json!({"Id": "variableset-Projects-4", "OwnerId": "Projects-4",
                        "Version": 0, "Variables": []})
                ),
                (
                    ResourceKind::Channel,
                    json!({"Id": "Channels-8", "Name": "Default", "Description": "",
                        "ProjectId": "Projects-4", "LifecycleId": null, "IsDefault": true,
                        "Rules": [], "TenantTags": [], "Slug": "default"})
                ),
            ]
        );
    }

    #[test]
    fn a_runbook_comes_with_its_process_and_a_library_set_with_its_variables() {
        let runbook = json!({"Id": "Runbooks-5", "ProjectId": "Projects-4",
            "RunbookProcessId": "RunbookProcess-Runbooks-5"});
        let made = documents(ResourceKind::Runbook, &runbook, || unreachable!());
        assert_eq!(
            made,
            vec![(
                ResourceKind::RunbookProcess,
                json!({"Id": "RunbookProcess-Runbooks-5", "ProjectId": "Projects-4",
                    "Version": 0, "Steps": [], "LastSnapshotId": null,
                    "RunbookId": "Runbooks-5"})
            )]
        );
        let set = json!({"Id": "LibraryVariableSets-1", "VariableSetId": "variableset-LibraryVariableSets-1"});
        let made = documents(ResourceKind::LibraryVariableSet, &set, || unreachable!());
        assert_eq!(
            made,
            vec![(
                ResourceKind::VariableSet,
                json!({"Id": "variableset-LibraryVariableSets-1",
                    "OwnerId": "LibraryVariableSets-1", "Version": 0, "Variables": []})
            )]
        );
    }

    #[test]
    fn an_id_the_owner_names_wins_over_the_derived_one() {
        let project = json!({"Id": "Projects-4", "DeploymentProcessId": "deploymentprocess-projects-4",
            "VariableSetId": ""});
        let made = documents(ResourceKind::Project, &project, || "Channels-1".into());
        assert_eq!(made[0].1["Id"], "deploymentprocess-projects-4");
        assert_eq!(made[1].1["Id"], "variableset-Projects-4");
        assert_eq!(
            DEPLOYMENT_PROCESS.of(&json!({"DeploymentProcessId": null}), "Projects-1"),
            "deploymentprocess-Projects-1"
        );
    }

    #[test]
    fn derived_ids_are_told_by_their_prefix_in_any_case() {
        let named = |id: &str| ALL_DERIVED.iter().find(|d| d.matches(id)).map(|d| d.kind);
        assert_eq!(
            named("DeploymentProcess-Projects-1"),
            Some(ResourceKind::DeploymentProcess)
        );
        assert_eq!(
            named("variableset-LibraryVariableSets-2"),
            Some(ResourceKind::VariableSet)
        );
        assert_eq!(
            named("runbookprocess-Runbooks-3"),
            Some(ResourceKind::RunbookProcess)
        );
        assert_eq!(named("Projects-1"), None);
        assert_eq!(named("variable"), None);
        assert_eq!(named("é"), None);
    }
}
