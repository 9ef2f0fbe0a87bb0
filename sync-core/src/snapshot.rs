//! A snapshot: everything loaded from one side of a sync, with its version.

use octopus_model::{
    decode_value, Account, ActionTemplate, Certificate, Channel, DeploymentFreeze,
    DeploymentProcess, Environment, Feed, LibraryVariableSet, Lifecycle, Machine, MachinePolicy,
    OctopusVersion, ParentEnvironment, Project, ProjectGroup, ResourceKind, Runbook,
    RunbookProcess, ScopedUserRole, Space, TagSet, Team, Tenant, TenantScopedVariables,
    TenantVariables, User, UserRole, VariableSet, WorkerPool,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A collection that could not be read into a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The collection name is not one a snapshot holds.
    #[error("unknown snapshot collection {0:?}")]
    UnknownCollection(String),
    /// The collection is not a JSON array (or, for `space`, an object).
    #[error("snapshot collection {collection:?} must be a JSON array")]
    NotAnArray {
        /// The collection.
        collection: String,
    },
    /// An item did not decode.
    #[error("snapshot collection {collection:?}, item {index}: {source}")]
    Decode {
        /// The collection.
        collection: String,
        /// The item's index in the array.
        index: usize,
        /// What went wrong, with the JSON path.
        #[source]
        source: octopus_model::DecodeError,
    },
}

/// Everything loaded from one side of a sync: the space's collections and the per-owner
/// documents of its projects, as the API returns them.
///
/// Build one with [`Snapshot::from_collections`] from the arrays of a snapshot directory
/// (`environments.json`, `projects.json`, `deploymentprocesses.json`, `variables.json`,
/// …), or fill the public fields directly.
///
/// ```
/// use serde_json::json;
/// use sync_core::Snapshot;
///
/// let snapshot = Snapshot::from_collections(
///     "2024.1.0".parse()?,
///     [
///         ("environments", json!([{"Id": "Environments-1", "Name": "Staging"}])),
///         ("projects", json!([])),
///     ],
/// )?;
/// assert_eq!(snapshot.environments[0].name, "Staging");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The server's version (`/api` `Version`).
    pub version: OctopusVersion,
    /// The space.
    pub space: Option<Space>,
    /// `environments`.
    pub environments: Vec<Environment>,
    /// `projectgroups`.
    pub project_groups: Vec<ProjectGroup>,
    /// `projects`.
    pub projects: Vec<Project>,
    /// `lifecycles`.
    pub lifecycles: Vec<Lifecycle>,
    /// `channels` (of every project).
    pub channels: Vec<Channel>,
    /// `runbooks` (of every project).
    pub runbooks: Vec<Runbook>,
    /// `deploymentprocesses`.
    pub deployment_processes: Vec<DeploymentProcess>,
    /// `runbookprocesses`.
    pub runbook_processes: Vec<RunbookProcess>,
    /// `variables`: variable sets of projects and library variable sets.
    pub variable_sets: Vec<VariableSet>,
    /// `libraryvariablesets` (library variable sets and script modules).
    pub library_variable_sets: Vec<LibraryVariableSet>,
    /// `tagsets`.
    pub tag_sets: Vec<TagSet>,
    /// `tenants`.
    pub tenants: Vec<Tenant>,
    /// `tenantvariables` (old shape, one per tenant).
    pub tenant_variables: Vec<TenantVariables>,
    /// Tenants' common variables in the 2025 shape (`/tenants/{id}/commonvariables`), read
    /// only from servers where they can be scoped to environments (2025.2+), which the
    /// old shape of `tenant_variables` cannot show.
    #[serde(default)]
    pub tenant_common_variables: Vec<TenantScopedVariables>,
    /// `feeds`.
    pub feeds: Vec<Feed>,
    /// `accounts`.
    pub accounts: Vec<Account>,
    /// `certificates`.
    pub certificates: Vec<Certificate>,
    /// `workerpools`.
    pub worker_pools: Vec<WorkerPool>,
    /// `machinepolicies`.
    pub machine_policies: Vec<MachinePolicy>,
    /// `machines` (read for variable scopes only; never synced).
    pub machines: Vec<Machine>,
    /// `actiontemplates`.
    pub action_templates: Vec<ActionTemplate>,
    /// `teams`.
    pub teams: Vec<Team>,
    /// `scopeduserroles`.
    pub scoped_user_roles: Vec<ScopedUserRole>,
    /// `userroles`.
    pub user_roles: Vec<UserRole>,
    /// `users` (read for team members only; never synced).
    pub users: Vec<User>,
    /// `parentEnvironments` (2025.4+).
    #[serde(default)]
    pub parent_environments: Vec<ParentEnvironment>,
    /// `deploymentfreezes` (2025.1+): instance-wide, so they may name projects,
    /// environments and tenants of other spaces.
    #[serde(default)]
    pub deployment_freezes: Vec<DeploymentFreeze>,
}

impl Default for Snapshot {
    /// An empty snapshot of a local build (`0.0.0`, which counts as the newest version).
    fn default() -> Self {
        Self {
            version: OctopusVersion::new(0, 0, 0),
            space: None,
            environments: Vec::new(),
            project_groups: Vec::new(),
            projects: Vec::new(),
            lifecycles: Vec::new(),
            channels: Vec::new(),
            runbooks: Vec::new(),
            deployment_processes: Vec::new(),
            runbook_processes: Vec::new(),
            variable_sets: Vec::new(),
            library_variable_sets: Vec::new(),
            tag_sets: Vec::new(),
            tenants: Vec::new(),
            tenant_variables: Vec::new(),
            tenant_common_variables: Vec::new(),
            feeds: Vec::new(),
            accounts: Vec::new(),
            certificates: Vec::new(),
            worker_pools: Vec::new(),
            machine_policies: Vec::new(),
            machines: Vec::new(),
            action_templates: Vec::new(),
            teams: Vec::new(),
            scoped_user_roles: Vec::new(),
            user_roles: Vec::new(),
            users: Vec::new(),
            parent_environments: Vec::new(),
            deployment_freezes: Vec::new(),
        }
    }
}

/// The collection names [`Snapshot::from_collections`] accepts, which are the file stems
/// of a snapshot directory: those of the kinds table ([`crate::kinds::KINDS`]) and
/// [`crate::kinds::EXTRA_COLLECTIONS`]. `space` (or `spaces`) holds the space itself.
pub fn collections() -> impl Iterator<Item = &'static str> {
    crate::kinds::KINDS
        .iter()
        .filter_map(|r| r.snapshot)
        .chain(crate::kinds::EXTRA_COLLECTIONS.iter().copied())
}

fn decode_all<T: serde::de::DeserializeOwned>(
    collection: &str,
    value: Value,
) -> Result<Vec<T>, SnapshotError> {
    let Value::Array(items) = value else {
        return Err(SnapshotError::NotAnArray {
            collection: collection.to_owned(),
        });
    };
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            decode_value(item).map_err(|source| SnapshotError::Decode {
                collection: collection.to_owned(),
                index,
                source,
            })
        })
        .collect()
}

impl Snapshot {
    /// Builds a snapshot from `(collection, JSON array)` pairs, as a snapshot directory
    /// holds them. Collection names are those of [`collections`] (case-insensitive); the
    /// `space` entry may be an object or an array of one. A collection given twice is
    /// appended. Does no I/O.
    pub fn from_collections<I, S>(
        version: OctopusVersion,
        collections: I,
    ) -> Result<Self, SnapshotError>
    where
        I: IntoIterator<Item = (S, Value)>,
        S: AsRef<str>,
    {
        let mut snap = Snapshot {
            version,
            ..Snapshot::default()
        };
        for (name, value) in collections {
            let name = name.as_ref().trim().to_ascii_lowercase();
            let c = name.as_str();
            match c {
                "space" | "spaces" => {
                    let value = match value {
                        Value::Array(mut items) if items.len() == 1 => items.remove(0),
                        other => other,
                    };
                    let space: Space =
                        decode_value(value).map_err(|source| SnapshotError::Decode {
                            collection: name.clone(),
                            index: 0,
                            source,
                        })?;
                    snap.space = Some(space);
                }
                "environments" => snap.environments.extend(decode_all(c, value)?),
                "projectgroups" => snap.project_groups.extend(decode_all(c, value)?),
                "projects" => snap.projects.extend(decode_all(c, value)?),
                "lifecycles" => snap.lifecycles.extend(decode_all(c, value)?),
                "channels" => snap.channels.extend(decode_all(c, value)?),
                "runbooks" => snap.runbooks.extend(decode_all(c, value)?),
                "deploymentprocesses" => snap.deployment_processes.extend(decode_all(c, value)?),
                "runbookprocesses" => snap.runbook_processes.extend(decode_all(c, value)?),
                "variables" => snap.variable_sets.extend(decode_all(c, value)?),
                "libraryvariablesets" => snap.library_variable_sets.extend(decode_all(c, value)?),
                "tagsets" => snap.tag_sets.extend(decode_all(c, value)?),
                "tenants" => snap.tenants.extend(decode_all(c, value)?),
                "tenantvariables" => snap.tenant_variables.extend(decode_all(c, value)?),
                "tenantcommonvariables" => {
                    snap.tenant_common_variables.extend(decode_all(c, value)?)
                }
                "feeds" => snap.feeds.extend(decode_all(c, value)?),
                "accounts" => snap.accounts.extend(decode_all(c, value)?),
                "certificates" => snap.certificates.extend(decode_all(c, value)?),
                "workerpools" => snap.worker_pools.extend(decode_all(c, value)?),
                "machinepolicies" => snap.machine_policies.extend(decode_all(c, value)?),
                "machines" => snap.machines.extend(decode_all(c, value)?),
                "actiontemplates" => snap.action_templates.extend(decode_all(c, value)?),
                "teams" => snap.teams.extend(decode_all(c, value)?),
                "scopeduserroles" => snap.scoped_user_roles.extend(decode_all(c, value)?),
                "userroles" => snap.user_roles.extend(decode_all(c, value)?),
                "users" => snap.users.extend(decode_all(c, value)?),
                "parentenvironments" => snap.parent_environments.extend(decode_all(c, value)?),
                "deploymentfreezes" => snap.deployment_freezes.extend(decode_all(c, value)?),
                _ => return Err(SnapshotError::UnknownCollection(name)),
            }
        }
        Ok(snap)
    }

    /// The snapshot as `(collection, JSON array)` pairs, the inverse of
    /// [`Snapshot::from_collections`]. Empty collections are included.
    pub fn to_collections(&self) -> Vec<(&'static str, Value)> {
        fn arr<T: Serialize>(items: &[T]) -> Value {
            Value::Array(
                items
                    .iter()
                    .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
                    .collect(),
            )
        }
        let mut out = Vec::new();
        if let Some(space) = &self.space {
            out.push(("space", serde_json::to_value(space).unwrap_or(Value::Null)));
        }
        out.extend([
            ("environments", arr(&self.environments)),
            ("projectgroups", arr(&self.project_groups)),
            ("projects", arr(&self.projects)),
            ("lifecycles", arr(&self.lifecycles)),
            ("channels", arr(&self.channels)),
            ("runbooks", arr(&self.runbooks)),
            ("deploymentprocesses", arr(&self.deployment_processes)),
            ("runbookprocesses", arr(&self.runbook_processes)),
            ("variables", arr(&self.variable_sets)),
            ("libraryvariablesets", arr(&self.library_variable_sets)),
            ("tagsets", arr(&self.tag_sets)),
            ("tenants", arr(&self.tenants)),
            ("tenantvariables", arr(&self.tenant_variables)),
            ("tenantcommonvariables", arr(&self.tenant_common_variables)),
            ("feeds", arr(&self.feeds)),
            ("accounts", arr(&self.accounts)),
            ("certificates", arr(&self.certificates)),
            ("workerpools", arr(&self.worker_pools)),
            ("machinepolicies", arr(&self.machine_policies)),
            ("machines", arr(&self.machines)),
            ("actiontemplates", arr(&self.action_templates)),
            ("teams", arr(&self.teams)),
            ("scopeduserroles", arr(&self.scoped_user_roles)),
            ("userroles", arr(&self.user_roles)),
            ("users", arr(&self.users)),
            ("parentenvironments", arr(&self.parent_environments)),
            ("deploymentfreezes", arr(&self.deployment_freezes)),
        ]);
        out
    }

    /// The space's id, if known.
    pub fn space_id(&self) -> Option<&str> {
        self.space
            .as_ref()
            .and_then(|s| s.id.get())
            .map(|id| id.as_str())
    }

    /// The collection name a kind is stored under, if a snapshot holds that kind.
    pub fn collection_of(kind: ResourceKind) -> Option<&'static str> {
        crate::kinds::row_of(kind).and_then(|r| r.snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn collections_round_trip() {
        let snap = Snapshot::from_collections(
            "2024.2.1".parse().unwrap(),
            [
                ("space", json!([{"Id": "Spaces-1", "Name": "Default"}])),
                ("Environments", json!([{"Id": "Environments-1", "Name": "Test", "X": 1}])),
                ("variables", json!([{"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Variables": null}])),
            ],
        )
        .unwrap();
        assert_eq!(snap.space_id(), Some("Spaces-1"));
        assert_eq!(snap.variable_sets.len(), 1);
        let again =
            Snapshot::from_collections(snap.version.clone(), snap.to_collections()).unwrap();
        assert_eq!(again, snap);
        assert_eq!(again.environments[0].extra["X"], 1);
    }

    #[test]
    fn errors_name_the_collection_and_item() {
        let err = Snapshot::from_collections(
            OctopusVersion::new(2024, 1, 0),
            [(
                "projects",
                json!([{"Name": "ok"}, {"Name": "bad", "IsDisabled": "maybe"}]),
            )],
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("projects") && text.contains("item 1") && text.contains("IsDisabled"),
            "{text}"
        );
        assert!(matches!(
            Snapshot::from_collections(OctopusVersion::new(2024, 1, 0), [("releases", json!([]))]),
            Err(SnapshotError::UnknownCollection(_))
        ));
        assert!(matches!(
            Snapshot::from_collections(OctopusVersion::new(2024, 1, 0), [("feeds", json!({}))]),
            Err(SnapshotError::NotAnArray { .. })
        ));
        assert_eq!(
            Snapshot::collection_of(ResourceKind::RunbookProcess),
            Some("runbookprocesses")
        );
    }
}
