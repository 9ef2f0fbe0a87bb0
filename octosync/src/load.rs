//! Loading a [`Snapshot`] of one space through an [`OctopusRead`].
//!
//! Everything is read space-wide, one collection at a time (`/all` where the server has
//! it, pages otherwise), concurrently: the number of requests grows with the number of
//! pages, never with the number of projects. Only the collections the selection can
//! touch or refer to are read.

use std::collections::BTreeSet;

use futures::future::try_join_all;
use futures::TryFutureExt;
use octopus_client::OctopusRead;
use octopus_model::ResourceKind;
use octopus_model::Space;
use serde_json::Value;
use sync_core::{Snapshot, SyncRules};

/// A snapshot that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// A request failed.
    #[error("cannot read {what} from {instance}: {source}")]
    Read {
        /// The instance.
        instance: String,
        /// What was being read.
        what: String,
        /// The client's error.
        #[source]
        source: Box<octopus_client::Error>,
    },
    /// The space does not exist.
    #[error("{instance} has no space named {space:?} (it has: {available})")]
    NoSuchSpace {
        /// The instance.
        instance: String,
        /// The space asked for.
        space: String,
        /// The spaces it has.
        available: String,
    },
    /// What was read is not a valid snapshot.
    #[error("{instance}: {source}")]
    Snapshot {
        /// The instance.
        instance: String,
        /// Why.
        #[source]
        source: sync_core::SnapshotError,
    },
}

/// The kinds a sync with these rules reads, in a stable order.
///
/// A selected kind brings the kinds it can refer to: a project brings everything its
/// process, variables, channels and runbooks can name; a tenant brings projects,
/// environments and tag sets; a team brings users, roles and what role scopes name.
pub fn kinds_to_read(rules: &SyncRules) -> BTreeSet<ResourceKind> {
    // What each selected kind reads is a column of the kinds table.
    sync_core::kinds::kinds_to_read(&rules.select)
}

/// Whether a server of `version` has a kind's routes at all: parent environments
/// arrived in 2025.4 and deployment freezes in 2025.1; an older server answers 404.
pub fn served_at(kind: ResourceKind, version: &octopus_model::OctopusVersion) -> bool {
    match kind {
        ResourceKind::ParentEnvironment => version.at_least(2025, 4),
        ResourceKind::DeploymentFreeze => version.at_least(2025, 1),
        _ => true,
    }
}

/// Reads one space: its version, the space itself and the collections of `kinds`
/// (usually [`kinds_to_read`]), concurrently.
///
/// `instance` names the instance in errors; `space` is the space's name or id.
pub async fn load_snapshot(
    reader: &dyn OctopusRead,
    instance: &str,
    space: &str,
    kinds: &BTreeSet<ResourceKind>,
) -> Result<Snapshot, LoadError> {
    load_snapshot_with(reader, instance, space, kinds, None).await
}

/// Told how a load goes: how many collections there are to read, and each one read.
pub trait LoadProgress: Send + Sync {
    /// The load reads `total` collections.
    fn started(&self, total: usize);
    /// One more collection was read.
    fn collection_read(&self, kind: ResourceKind);
}

/// [`load_snapshot`], telling `progress` of every collection read.
pub async fn load_snapshot_with(
    reader: &dyn OctopusRead,
    instance: &str,
    space: &str,
    kinds: &BTreeSet<ResourceKind>,
    progress: Option<&dyn LoadProgress>,
) -> Result<Snapshot, LoadError> {
    if let Some(progress) = progress {
        progress.started(kinds.len());
    }
    let read_error = |what: &str| {
        let instance = instance.to_owned();
        let what = what.to_owned();
        move |source| LoadError::Read {
            instance,
            what,
            source: Box::new(source),
        }
    };
    let version = reader.version().await.map_err(read_error("the version"))?;
    let the_space = find_space(reader, instance, space).await?;
    let version_ref = &version;
    let reads = kinds.iter().map(|&kind| async move {
        if !served_at(kind, version_ref) {
            if let Some(progress) = progress {
                progress.collection_read(kind);
            }
            return Ok((kind, Vec::new()));
        }
        let read = reader
            .list_raw(kind)
            .await
            .map(|items| (kind, items))
            .map_err(read_error(kind.collection()));
        if let Some(progress) = progress {
            progress.collection_read(kind);
        }
        read
    });
    let collections = try_join_all(reads).await?;
    let mut pairs: Vec<(String, Value)> = Vec::with_capacity(collections.len() + 1);
    if let Some(space) = the_space {
        let value = serde_json::to_value(space).unwrap_or(Value::Null);
        pairs.push(("space".to_owned(), value));
    }
    for (kind, items) in collections {
        let Some(collection) = Snapshot::collection_of(kind) else {
            continue;
        };
        pairs.push((collection.to_owned(), Value::Array(items)));
    }
    let mut snapshot =
        Snapshot::from_collections(version, pairs).map_err(|source| LoadError::Snapshot {
            instance: instance.to_owned(),
            source,
        })?;
    if kinds.contains(&ResourceKind::Environment)
        && served_at(ResourceKind::ParentEnvironment, &snapshot.version)
    {
        let ephemeral = reader
            .environments_of_type("Ephemeral")
            .await
            .map_err(read_error("ephemeral environments"))?;
        merge_ephemeral(&mut snapshot, ephemeral).map_err(|source| LoadError::Snapshot {
            instance: instance.to_owned(),
            source,
        })?;
    }
    if kinds.contains(&ResourceKind::TenantVariables)
        && has_scoped_common_variables(&snapshot.version)
    {
        // The old shape cannot show a common value scoped to environments, and no bulk
        // read of the newer shape exists: one read per tenant, only where such values
        // can exist.
        let reads = snapshot
            .tenants
            .iter()
            .filter_map(|t| t.id.get())
            .map(|id| {
                reader
                    .tenant_common_variables(id)
                    .map_err(read_error("tenant common variables"))
            });
        snapshot.tenant_common_variables = try_join_all(reads).await?;
    }
    Ok(snapshot)
}

/// Marks the ephemeral environments of a 2025.4+ server in a snapshot, from the
/// `environments/v2?type=Ephemeral` list: whether the older environments list shows them,
/// and with their `Type` and `ParentEnvironmentId`, is not established, while the v2 list
/// carries both (go-octopusdeploy `pkg/environments/v2/environments/environment.go`). An
/// environment the older list lacks is added, so the planner reports it rather than
/// create a static environment of that name.
pub fn merge_ephemeral(
    snapshot: &mut Snapshot,
    ephemeral: Vec<Value>,
) -> Result<(), sync_core::SnapshotError> {
    let decoded = Snapshot::from_collections(
        snapshot.version.clone(),
        [("environments", Value::Array(ephemeral))],
    )?;
    for mut env in decoded.environments {
        if !env.r#type.is_set() {
            // Listed as ephemeral, whatever the document says.
            env.r#type = octopus_model::Field::Value("Ephemeral".to_owned());
        }
        let same = |e: &&mut octopus_model::Environment| match (e.id.get(), env.id.get()) {
            (Some(a), Some(b)) => a.as_str().eq_ignore_ascii_case(b.as_str()),
            _ => false,
        };
        match snapshot.environments.iter_mut().find(same) {
            Some(known) => {
                known.r#type = env.r#type.clone();
                known.parent_environment_id = env.parent_environment_id.clone();
            }
            None => snapshot.environments.push(env),
        }
    }
    Ok(())
}

/// Whether a server of this version can hold common variables scoped to environments
/// (2025.2+, `CommonVariableScopingFeatureToggle`).
pub fn has_scoped_common_variables(version: &octopus_model::OctopusVersion) -> bool {
    version.at_least(2025, 2)
}

/// The space by name or id; `None` on servers without spaces. Errors name the instance
/// and, for a missing space, the spaces it has.
pub async fn find_space(
    reader: &dyn OctopusRead,
    instance: &str,
    space: &str,
) -> Result<Option<Space>, LoadError> {
    let root = reader.root().await.map_err(|source| LoadError::Read {
        instance: instance.to_owned(),
        what: "the root document".into(),
        source: Box::new(source),
    })?;
    if !root.has_spaces() {
        return Ok(None);
    }
    let spaces = reader.spaces().await.map_err(|source| LoadError::Read {
        instance: instance.to_owned(),
        what: "spaces".into(),
        source: Box::new(source),
    })?;
    let key = octopus_model::name_key(space);
    let found = spaces.iter().find(|s| {
        octopus_model::name_key(&s.name) == key
            || s.id
                .get()
                .is_some_and(|id| id.as_str().eq_ignore_ascii_case(space.trim()))
    });
    match found {
        Some(space) => Ok(Some(space.clone())),
        None => Err(LoadError::NoSuchSpace {
            instance: instance.to_owned(),
            space: space.to_owned(),
            available: spaces
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
