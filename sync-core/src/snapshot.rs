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

fn to_value<T: Serialize>(item: &T) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

/// The one place a collection's name meets the field that holds it: decoding,
/// encoding and emptying a collection by name, and the order
/// [`Snapshot::to_collections`] lists them in, all come from this list.
macro_rules! named_collections {
    ($($name:literal => $field:ident),* $(,)?) => {
        /// The collections other than `space`, in [`Snapshot::to_collections`] order.
        const NAMED: &[&str] = &[$($name),*];

        impl Snapshot {
            /// Appends the decoded `value` to the collection `name` (lower case);
            /// `false` for a name no snapshot holds.
            fn extend_named(&mut self, name: &str, value: Value) -> Result<bool, SnapshotError> {
                match name {
                    $($name => self.$field.extend(decode_all(name, value)?),)*
                    _ => return Ok(false),
                }
                Ok(true)
            }

            /// The collection `name` (lower case) as a JSON array.
            fn named(&self, name: &str) -> Option<Value> {
                match name {
                    $($name => Some(Value::Array(self.$field.iter().map(to_value).collect())),)*
                    _ => None,
                }
            }

            /// Empties the collection `name` (lower case); `false` for a name no snapshot
            /// holds.
            fn clear_named(&mut self, name: &str) -> bool {
                match name {
                    $($name => self.$field.clear(),)*
                    _ => return false,
                }
                true
            }
        }
    };
}

named_collections! {
    "environments" => environments,
    "projectgroups" => project_groups,
    "projects" => projects,
    "lifecycles" => lifecycles,
    "channels" => channels,
    "runbooks" => runbooks,
    "deploymentprocesses" => deployment_processes,
    "runbookprocesses" => runbook_processes,
    "variables" => variable_sets,
    "libraryvariablesets" => library_variable_sets,
    "tagsets" => tag_sets,
    "tenants" => tenants,
    "tenantvariables" => tenant_variables,
    "tenantcommonvariables" => tenant_common_variables,
    "feeds" => feeds,
    "accounts" => accounts,
    "certificates" => certificates,
    "workerpools" => worker_pools,
    "machinepolicies" => machine_policies,
    "machines" => machines,
    "actiontemplates" => action_templates,
    "teams" => teams,
    "scopeduserroles" => scoped_user_roles,
    "userroles" => user_roles,
    "users" => users,
    "parentenvironments" => parent_environments,
    "deploymentfreezes" => deployment_freezes,
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
            snap.extend_collection(name.as_ref(), value)?;
        }
        Ok(snap)
    }

    /// The snapshot as `(collection, JSON array)` pairs, the inverse of
    /// [`Snapshot::from_collections`]. Empty collections are included.
    pub fn to_collections(&self) -> Vec<(&'static str, Value)> {
        let space = self.space.as_ref().map(|_| "space");
        space
            .into_iter()
            .chain(NAMED.iter().copied())
            .filter_map(|name| Some((name, self.collection(name)?)))
            .collect()
    }

    /// One collection as a JSON array (`space` as the space's object), as
    /// [`Snapshot::to_collections`] gives it; `None` for a name no snapshot holds, or
    /// `space` when the snapshot has none.
    pub fn collection(&self, name: &str) -> Option<Value> {
        match name {
            "space" => self.space.as_ref().map(to_value),
            _ => self.named(name),
        }
    }

    /// Replaces each named collection by the JSON array given for it (`space` by the
    /// object), decoding only those: the other collections are left as they are. A
    /// collection given twice holds both arrays. On an error the snapshot is left with
    /// the collections replaced so far (as [`Snapshot::from_collections`] names the
    /// collection and item).
    pub fn replace_collections<I, S>(&mut self, collections: I) -> Result<(), SnapshotError>
    where
        I: IntoIterator<Item = (S, Value)>,
        S: AsRef<str>,
    {
        let collections: Vec<(S, Value)> = collections.into_iter().collect();
        for (name, _) in &collections {
            self.clear_collection(name.as_ref())?;
        }
        for (name, value) in collections {
            self.extend_collection(name.as_ref(), value)?;
        }
        Ok(())
    }

    /// Decodes `value` into the collection `name` (case-insensitive), after what it
    /// holds; `space` (or `spaces`, an object or an array of one) sets the space.
    fn extend_collection(&mut self, name: &str, value: Value) -> Result<(), SnapshotError> {
        let name = name.trim().to_ascii_lowercase();
        if matches!(name.as_str(), "space" | "spaces") {
            let value = match value {
                Value::Array(mut items) if items.len() == 1 => items.remove(0),
                other => other,
            };
            let space: Space = decode_value(value).map_err(|source| SnapshotError::Decode {
                collection: name.clone(),
                index: 0,
                source,
            })?;
            self.space = Some(space);
            return Ok(());
        }
        if self.extend_named(&name, value)? {
            Ok(())
        } else {
            Err(SnapshotError::UnknownCollection(name))
        }
    }

    /// Empties the collection `name` (case-insensitive; `space` drops the space).
    fn clear_collection(&mut self, name: &str) -> Result<(), SnapshotError> {
        let name = name.trim().to_ascii_lowercase();
        if matches!(name.as_str(), "space" | "spaces") {
            self.space = None;
            Ok(())
        } else if self.clear_named(&name) {
            Ok(())
        } else {
            Err(SnapshotError::UnknownCollection(name))
        }
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
    fn the_named_collections_are_the_kinds_tables() {
        let named: std::collections::BTreeSet<&str> =
            NAMED.iter().copied().chain(["space"]).collect();
        let table: std::collections::BTreeSet<&str> = collections().collect();
        assert_eq!(named, table);
    }

    #[test]
    fn replacing_collections_decodes_only_those_and_leaves_the_rest() {
        let mut snap = Snapshot::from_collections(
            "2024.2.1".parse().unwrap(),
            [
                ("space", json!({"Id": "Spaces-1", "Name": "Default"})),
                (
                    "environments",
                    json!([{"Id": "Environments-1", "Name": "Test"}]),
                ),
                ("feeds", json!([{"Id": "Feeds-1", "Name": "NuGet"}])),
            ],
        )
        .unwrap();
        let feeds = snap.feeds.clone();
        snap.replace_collections([
            (
                "Environments",
                json!([{"Id": "Environments-2", "Name": "Prod"}]),
            ),
            (
                "environments",
                json!([{"Id": "Environments-3", "Name": "Dev"}]),
            ),
        ])
        .unwrap();
        let names: Vec<&str> = snap.environments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Prod", "Dev"]);
        assert_eq!(snap.feeds, feeds);
        assert_eq!(snap.space_id(), Some("Spaces-1"));
        assert_eq!(
            snap.collection("feeds"),
            snap.to_collections()
                .into_iter()
                .find(|(n, _)| *n == "feeds")
                .map(|(_, v)| v)
        );
        assert!(snap.collection("releases").is_none());
        let err = snap
            .replace_collections([("projects", json!([{"Name": "bad", "IsDisabled": "maybe"}]))])
            .unwrap_err();
        assert!(err.to_string().contains("projects"), "{err}");
        assert!(matches!(
            snap.replace_collections([("releases", json!([]))]),
            Err(SnapshotError::UnknownCollection(_))
        ));
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
