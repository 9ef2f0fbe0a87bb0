//! The snapshot directory: the on-disk form of one or more Octopus spaces, exactly as
//! the REST API returns them, so an export can be reviewed, versioned, planned against
//! offline and served again by a test server.
//!
//! The layout (a contract: tools that never share code read and write it):
//!
//! ```text
//! DIR/api.json                       the root document (`GET /api`), for the version
//! DIR/<space name>/<collection>.json one JSON array per collection
//! ```
//!
//! Each collection file holds the resources as `GET /api/{spaceId}/<collection>/all`
//! returns them (`environments.json`, `projects.json`, `libraryvariablesets.json`, …),
//! and the per-owner documents as arrays: `deploymentprocesses.json`,
//! `runbookprocesses.json`, `variables.json` (variable sets), `tenantvariables.json`.
//! This crate knows the layout, not the resources: documents stay [`serde_json::Value`]s,
//! so fields no tool models survive a round trip. Which collections a sync reads is the
//! reader's list, not this crate's.
//!
//! ```
//! use octopus_snapshot::{Snapshot, SpaceSnapshot};
//! use serde_json::json;
//!
//! let dir = tempfile::tempdir()?;
//! let mut space = SpaceSnapshot::new("Default");
//! space
//!     .collection_mut("environments")
//!     .push(json!({"Id": "Environments-1", "Name": "Test"}));
//! Snapshot { spaces: vec![space] }.write_dir(dir.path())?;
//! octopus_snapshot::write_root(dir.path(), &json!({"Version": "2024.2.1234"}))?;
//!
//! let read = Snapshot::read_dir(dir.path())?;
//! assert_eq!(read.spaces[0].collection("Environments")[0]["Name"], "Test");
//! let root = octopus_snapshot::read_root(dir.path())?.expect("api.json was written");
//! assert_eq!(root["Version"], "2024.2.1234");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The file beside the spaces that holds the root document of the server the snapshot
/// was taken from: without it a reader cannot tell the version the documents follow.
pub const ROOT_FILE: &str = "api.json";

/// The space that comes first when a directory is read, so a server seeded from it
/// keeps it as its default space.
pub const DEFAULT_SPACE: &str = "Default";

/// A snapshot directory that cannot be read or written; every variant names the file
/// or directory, so a person can open it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file or directory could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// A file is not JSON.
    #[error("{} is not valid JSON: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Where and why parsing stopped.
        #[source]
        source: serde_json::Error,
    },
    /// A collection file is JSON but not an array of documents.
    #[error("{} must hold a JSON array of documents, not {found}", path.display())]
    NotAnArray {
        /// The file.
        path: PathBuf,
        /// What it holds instead (`an object`, `a string`, …).
        found: &'static str,
    },
    /// The root document is JSON but not an object.
    #[error("{} must hold the root document (a JSON object), not {found}", path.display())]
    NotAnObject {
        /// The file.
        path: PathBuf,
        /// What it holds instead.
        found: &'static str,
    },
    /// The directory holds no space directory.
    #[error("{} holds no space directory (expected DIR/<space name>/<collection>.json)", path.display())]
    NoSpaces {
        /// The directory.
        path: PathBuf,
    },
    /// Documents could not be encoded as JSON text.
    #[error("cannot encode {}: {source}", path.display())]
    Encode {
        /// The file being written.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// One space of a snapshot: its name and its collections by file stem.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpaceSnapshot {
    /// The space's name (its directory's name).
    pub name: String,
    /// Each collection's documents, keyed by lower-case file stem (`environments`,
    /// `variables`, …), in the order the server listed them.
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

    /// The documents of one collection, whatever the case of `key`; empty when the
    /// snapshot has none (an export leaves out what it did not read).
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

/// The spaces of a snapshot directory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// The spaces: "Default" first, then by name.
    pub spaces: Vec<SpaceSnapshot>,
}

impl Snapshot {
    /// Reads a snapshot directory: every sub-directory is a space, every `*.json` file in
    /// it a collection. Files that are not JSON arrays are refused, naming the file.
    pub fn read_dir(dir: impl AsRef<Path>) -> Result<Snapshot, SnapshotError> {
        let dir = dir.as_ref();
        let mut space_dirs: Vec<PathBuf> =
            entries(dir)?.into_iter().filter(|p| p.is_dir()).collect();
        space_dirs.sort();
        space_dirs.sort_by_key(|p| p.file_name().is_none_or(|n| n != DEFAULT_SPACE));
        let mut spaces = Vec::new();
        for space_dir in space_dirs {
            let name = space_dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut space = SpaceSnapshot::new(name);
            let mut files: Vec<PathBuf> = entries(&space_dir)?
                .into_iter()
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for file in files {
                let stem = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_lowercase())
                    .unwrap_or_default();
                let text = fs::read_to_string(&file).map_err(|source| SnapshotError::Read {
                    path: file.clone(),
                    source,
                })?;
                let docs = parse_collection(&text, &file)?;
                space.collections.insert(stem, docs);
            }
            spaces.push(space);
        }
        if spaces.is_empty() {
            return Err(SnapshotError::NoSpaces {
                path: dir.to_owned(),
            });
        }
        Ok(Snapshot { spaces })
    }

    /// Writes the snapshot under `dir` (created when missing): one directory per space,
    /// one pretty-printed file per collection. Files of collections this snapshot does
    /// not hold are left as they are.
    pub fn write_dir(&self, dir: impl AsRef<Path>) -> Result<(), SnapshotError> {
        for space in &self.spaces {
            let space_dir = dir.as_ref().join(&space.name);
            fs::create_dir_all(&space_dir).map_err(|source| SnapshotError::Write {
                path: space_dir.clone(),
                source,
            })?;
            for (stem, docs) in &space.collections {
                write_json(&space_dir.join(format!("{stem}.json")), docs)?;
            }
        }
        Ok(())
    }

    /// The space called `name`, matched as Octopus matches names: trimmed and
    /// case-insensitive.
    pub fn space(&self, name: &str) -> Option<&SpaceSnapshot> {
        let key = name.trim().to_lowercase();
        self.spaces
            .iter()
            .find(|s| s.name.trim().to_lowercase() == key)
    }
}

/// Parses the text of one collection file; `path` names it in the error.
pub fn parse_collection(text: &str, path: &Path) -> Result<Vec<Value>, SnapshotError> {
    match parse(text, path)? {
        Value::Array(items) => Ok(items),
        other => Err(SnapshotError::NotAnArray {
            path: path.to_owned(),
            found: kind_of(&other),
        }),
    }
}

/// Reads `DIR/api.json`, the root document of the server the snapshot was taken from;
/// `None` when the directory has none (it may come from a tool that does not write it).
pub fn read_root(dir: impl AsRef<Path>) -> Result<Option<Value>, SnapshotError> {
    let path = dir.as_ref().join(ROOT_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(SnapshotError::Read { path, source }),
    };
    match parse(&text, &path)? {
        root @ Value::Object(_) => Ok(Some(root)),
        other => Err(SnapshotError::NotAnObject {
            path,
            found: kind_of(&other),
        }),
    }
}

/// Writes `DIR/api.json` (creating `dir` when missing).
pub fn write_root(dir: impl AsRef<Path>, root: &Value) -> Result<(), SnapshotError> {
    let dir = dir.as_ref();
    fs::create_dir_all(dir).map_err(|source| SnapshotError::Write {
        path: dir.to_owned(),
        source,
    })?;
    write_json(&dir.join(ROOT_FILE), root)
}

fn parse(text: &str, path: &Path) -> Result<Value, SnapshotError> {
    serde_json::from_str(text).map_err(|source| SnapshotError::Json {
        path: path.to_owned(),
        source,
    })
}

fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), SnapshotError> {
    let mut text = serde_json::to_string_pretty(value).map_err(|source| SnapshotError::Encode {
        path: path.to_owned(),
        source,
    })?;
    text.push('\n');
    fs::write(path, text).map_err(|source| SnapshotError::Write {
        path: path.to_owned(),
        source,
    })
}

fn entries(dir: &Path) -> Result<Vec<PathBuf>, SnapshotError> {
    let read = |source| SnapshotError::Read {
        path: dir.to_owned(),
        source,
    };
    fs::read_dir(dir)
        .map_err(read)?
        .map(|entry| entry.map(|e| e.path()).map_err(read))
        .collect()
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
