//! Snapshot directories: the on-disk form of a space (`DIR/<space name>/<collection>.json`,
//! each a JSON array as `GET /api/{spaceId}/<collection>/all` returns it).
//!
//! `octosync export` writes one; a `sync.toml` instance with `snapshot = "DIR"` plans
//! against one, offline (a [`crate::runner::Instance::Dir`]). Beside the spaces, export
//! writes `DIR/api.json`, the root document, so the directory remembers the server
//! version it was taken from. The files and their layout are `octopus_snapshot`'s;
//! this module turns one space of them into a [`Snapshot`] to plan with, and a live
//! space into them.

use std::path::Path;

use futures::future::try_join_all;
use octopus_client::OctopusRead;
use octopus_model::{OctopusVersion, ResourceKind, RootDocument};
use serde_json::Value;
use sync_core::Snapshot;

/// A snapshot directory that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotDirError {
    /// The directory's files could not be read or written, or do not follow the
    /// format (the error names the file).
    #[error(transparent)]
    Files(#[from] octopus_snapshot::SnapshotError),
    /// The space is not in the directory.
    #[error("{dir} has no space {space:?} (it has: {available})")]
    NoSuchSpace {
        /// The directory.
        dir: String,
        /// The space asked for.
        space: String,
        /// The spaces it has.
        available: String,
    },
    /// The server version is not known.
    #[error(
        "{dir}: the server version is unknown: it has no api.json; set `version` in the config"
    )]
    NoVersion {
        /// The directory.
        dir: String,
    },
    /// A version or document does not parse.
    #[error("{dir}: {message}")]
    Invalid {
        /// The directory.
        dir: String,
        /// What is wrong.
        message: String,
    },
    /// Reading from the server failed.
    #[error("cannot export {what}: {source}")]
    Read {
        /// What was being read.
        what: String,
        /// The client's error.
        #[source]
        source: Box<octopus_client::Error>,
    },
}

/// The file holding the root document of the exported server.
pub use octopus_snapshot::ROOT_FILE;

/// Reads one space of a snapshot directory into a [`Snapshot`]. The version comes from
/// `DIR/api.json`, else from `version`.
pub fn read(dir: &Path, space: &str, version: Option<&str>) -> Result<Snapshot, SnapshotDirError> {
    let shown = dir.display().to_string();
    let invalid = |message: String| SnapshotDirError::Invalid {
        dir: shown.clone(),
        message,
    };
    let version: OctopusVersion = match octopus_snapshot::read_root(dir)? {
        Some(root) => {
            let root: RootDocument = octopus_model::decode_value(root)
                .map_err(|e| invalid(format!("{ROOT_FILE}: {e}")))?;
            root.version()
                .map_err(|e| invalid(format!("{ROOT_FILE}: {e}")))?
        }
        None => version
            .ok_or_else(|| SnapshotDirError::NoVersion { dir: shown.clone() })?
            .parse()
            .map_err(|e| invalid(format!("version: {e}")))?,
    };
    let files = octopus_snapshot::Snapshot::read_dir(dir)?;
    let Some(found) = files.space(space) else {
        return Err(SnapshotDirError::NoSuchSpace {
            dir: shown,
            space: space.to_owned(),
            available: files
                .spaces
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let pairs = found
        .collections
        .iter()
        .filter(|(name, _)| sync_core::snapshot::collections().any(|c| c == name.as_str()))
        .map(|(name, docs)| (name.clone(), Value::Array(docs.clone())));
    Snapshot::from_collections(version, pairs).map_err(|e| invalid(e.to_string()))
}

/// What an export wrote.
#[derive(Clone, Debug, Default)]
pub struct ExportSummary {
    /// Documents written per collection.
    pub collections: Vec<(String, usize)>,
}

/// Reads every collection a sync can touch from a live space and writes it under `dir`
/// as `dir/<space name>/<collection>.json`, plus `dir/api.json`.
pub async fn export(
    reader: &dyn OctopusRead,
    space_name: &str,
    dir: &Path,
) -> Result<ExportSummary, SnapshotDirError> {
    let read_error = |what: &str| {
        let what = what.to_owned();
        move |source| SnapshotDirError::Read {
            what,
            source: Box::new(source),
        }
    };
    let root = reader
        .root()
        .await
        .map_err(read_error("the root document"))?;
    let version = root.version().ok();
    let kinds: Vec<ResourceKind> = ResourceKind::ALL
        .iter()
        .copied()
        .filter(|&k| k != ResourceKind::Space && Snapshot::collection_of(k).is_some())
        .filter(|&k| {
            version
                .as_ref()
                .is_none_or(|v| crate::load::served_at(k, v))
        })
        .collect();
    let reads = kinds.iter().map(|&kind| async move {
        reader
            .list_raw(kind)
            .await
            .map(|docs| (kind, docs))
            .map_err(read_error(kind.collection()))
    });
    let collections = try_join_all(reads).await?;
    let mut space = octopus_snapshot::SpaceSnapshot::new(space_name);
    let mut summary = ExportSummary::default();
    for (kind, docs) in collections {
        let Some(name) = Snapshot::collection_of(kind) else {
            continue;
        };
        summary.collections.push((name.to_owned(), docs.len()));
        space.collections.insert(name.to_owned(), docs);
    }
    if root
        .version()
        .is_ok_and(|v| crate::load::has_scoped_common_variables(&v))
    {
        // Common values scoped to environments show only in the newer shape, one read
        // per tenant, as the loader reads them.
        let tenants: Vec<String> = space
            .collections
            .get("tenants")
            .into_iter()
            .flatten()
            .filter_map(|t| t.get("Id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        let reads = tenants.iter().map(|id| async move {
            let doc = reader
                .tenant_common_variables(&octopus_model::TenantId::new(id.clone()))
                .await
                .map_err(read_error("tenant common variables"))?;
            Ok::<Value, SnapshotDirError>(serde_json::to_value(doc).unwrap_or(Value::Null))
        });
        let docs = try_join_all(reads).await?;
        summary
            .collections
            .push(("tenantcommonvariables".to_owned(), docs.len()));
        space
            .collections
            .insert("tenantcommonvariables".to_owned(), docs);
    }
    octopus_snapshot::Snapshot {
        spaces: vec![space],
    }
    .write_dir(dir)?;
    let root = serde_json::to_value(&root).map_err(|e| SnapshotDirError::Invalid {
        dir: dir.display().to_string(),
        message: format!("the root document cannot be encoded: {e}"),
    })?;
    octopus_snapshot::write_root(dir, &root)?;
    Ok(summary)
}
