//! Snapshot directories (DESIGN contract): `DIR/<space name>/<collection>.json`, each a
//! JSON array of resources as `GET /api/{spaceId}/<collection>/all` returns them, plus
//! the per-owner documents (`deploymentprocesses.json`, `runbookprocesses.json`,
//! `variables.json`, `tenantvariables.json`). The fake loads one at start and writes
//! one on request; two realistic ones ship inside the crate.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::FakeError;
use crate::spec::SPACE_COLLECTIONS;

/// One space of a snapshot: its name and its collections by file stem
/// (`environments`, `variables`, …).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpaceSnapshot {
    /// The space's name (the directory name).
    pub name: String,
    /// Each collection's documents, keyed by lower-case collection name.
    pub collections: BTreeMap<String, Vec<Value>>,
}

impl SpaceSnapshot {
    /// An empty space called `name`.
    pub fn new(name: impl Into<String>) -> Self {
        SpaceSnapshot {
            name: name.into(),
            collections: BTreeMap::new(),
        }
    }

    /// The documents of one collection (empty when the snapshot has none).
    pub fn collection(&self, key: &str) -> &[Value] {
        self.collections
            .get(&key.to_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The documents of one collection, mutably (created when missing).
    pub fn collection_mut(&mut self, key: &str) -> &mut Vec<Value> {
        self.collections.entry(key.to_lowercase()).or_default()
    }
}

/// The on-disk form of one or more spaces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// The spaces, in order; the first becomes the default space when loaded.
    pub spaces: Vec<SpaceSnapshot>,
}

/// The shipped seeds, embedded so nothing is needed on disk at run time.
macro_rules! embedded {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../seeds/", $dir, "/Default/", $file, ".json")))),*]
    };
}

const DEV_TEST: &[(&str, &str)] = embedded!("dev-test":
    "environments", "lifecycles", "projectgroups", "tagsets", "feeds", "accounts", "certificates",
    "workerpools", "machinepolicies", "machines", "libraryvariablesets", "actiontemplates",
    "projects", "channels", "deploymentprocesses", "runbooks", "runbookprocesses", "variables",
    "tenants", "tenantvariables", "teams", "scopeduserroles",
);

const STAGING_PRODUCTION: &[(&str, &str)] = embedded!("staging-production":
    "environments", "lifecycles", "projectgroups", "tagsets", "feeds", "accounts", "certificates",
    "workerpools", "machinepolicies", "machines", "libraryvariablesets", "actiontemplates",
    "projects", "channels", "deploymentprocesses", "runbooks", "runbookprocesses", "variables",
    "tenants", "tenantvariables", "teams", "scopeduserroles",
);

fn from_embedded(files: &[(&str, &str)]) -> Result<Snapshot, FakeError> {
    let mut space = SpaceSnapshot::new("Default");
    for (stem, text) in files {
        let docs = parse_array(text, &format!("{stem}.json"))?;
        space.collections.insert((*stem).to_owned(), docs);
    }
    Ok(Snapshot {
        spaces: vec![space],
    })
}

fn parse_array(text: &str, origin: &str) -> Result<Vec<Value>, FakeError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err(FakeError::Snapshot {
            path: PathBuf::from(origin),
            reason: "expected a JSON array".into(),
        }),
        Err(e) => Err(FakeError::Snapshot {
            path: PathBuf::from(origin),
            reason: e.to_string(),
        }),
    }
}

impl Snapshot {
    /// The Dev/Test instance of the running example: environments Development and
    /// Test, project OctoFX with its process, runbook, variables and channels, library
    /// variable set "Global", tenants "Internal" and "Development Team A", and more.
    pub fn dev_test() -> Result<Snapshot, FakeError> {
        from_embedded(DEV_TEST)
    }

    /// The Staging/Production instance of the running example: environments Staging
    /// and Production, its own account and worker pool of the same names as on
    /// Dev/Test, tenant "Internal", no projects yet.
    pub fn staging_production() -> Result<Snapshot, FakeError> {
        from_embedded(STAGING_PRODUCTION)
    }

    /// Reads a snapshot directory: every sub-directory is a space, every `*.json`
    /// file in it a collection.
    pub fn read_dir(dir: impl AsRef<Path>) -> Result<Snapshot, FakeError> {
        let dir = dir.as_ref();
        let io = |path: &Path, e: std::io::Error| FakeError::Io {
            path: path.to_owned(),
            source: e,
        };
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(|e| io(dir, e))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        entries.sort();
        // The space called "Default" comes first, so it stays the default space.
        entries.sort_by_key(|p| p.file_name().is_none_or(|n| n != "Default"));
        let mut spaces = Vec::new();
        for space_dir in entries {
            let name = space_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut space = SpaceSnapshot::new(name);
            let mut files: Vec<PathBuf> = fs::read_dir(&space_dir)
                .map_err(|e| io(&space_dir, e))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for file in files {
                let stem = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                let text = fs::read_to_string(&file).map_err(|e| io(&file, e))?;
                let docs = parse_array(&text, &file.to_string_lossy())?;
                space.collections.insert(stem, docs);
            }
            spaces.push(space);
        }
        if spaces.is_empty() {
            return Err(FakeError::Snapshot {
                path: dir.to_owned(),
                reason: "no space directories found".into(),
            });
        }
        Ok(Snapshot { spaces })
    }

    /// Writes the snapshot under `dir` (created when missing), one directory per space
    /// and one pretty-printed file per collection.
    pub fn write_dir(&self, dir: impl AsRef<Path>) -> Result<(), FakeError> {
        for space in &self.spaces {
            let space_dir = dir.as_ref().join(&space.name);
            fs::create_dir_all(&space_dir).map_err(|e| FakeError::Io {
                path: space_dir.clone(),
                source: e,
            })?;
            for (stem, docs) in &space.collections {
                let path = space_dir.join(format!("{stem}.json"));
                let mut text =
                    serde_json::to_string_pretty(docs).map_err(|e| FakeError::Snapshot {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                text.push('\n');
                fs::write(&path, text).map_err(|e| FakeError::Io { path, source: e })?;
            }
        }
        Ok(())
    }

    /// The collection file stems a snapshot may hold, in load order.
    pub fn collection_names() -> impl Iterator<Item = &'static str> {
        SPACE_COLLECTIONS.iter().map(|s| s.key)
    }
}
