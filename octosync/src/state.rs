//! The state directory: what octosync saw and wrote, so that `drift` can tell a
//! person's edits on a destination from its own.
//!
//! The directory (default `.octosync/` beside `sync.toml`, `[state] dir` in the config)
//! holds one file, `state.json`:
//!
//! - per instance (the source and each destination, by name, with its URL and space),
//!   `last_event`: the `AutoId` of the newest audit-log event **before** the last
//!   `apply` read that instance (`0` when its log was empty; absent when its log could
//!   not be read). Everything after it is news;
//! - per destination, `written`: every document the last applies created or updated,
//!   by id, with its kind, name and a digest of the body octosync sent;
//! - per destination, with `[policy] prune`, `provenance`: the steps, runbooks, channels
//!   and variable values that matched the source after each apply, by id (with a
//!   digest of each variable value). A later plan prunes only what it names, unchanged;
//!   deleting the state means nothing is pruned until an apply records it again.
//!
//! It is small and safe to delete: without it, `drift` says there is no baseline and
//! the next `apply` records a new one. It is written after an apply, to a temporary file
//! in the same directory that is then renamed over the old one, so a crash leaves the
//! old state or the new one, never half of either; and the checkpoint is taken before
//! anything is read, so the state never claims to have seen more than the run did.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use octopus_model::ResourceKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sync_core::Provenance;

/// The name of the state file inside the state directory.
pub const STATE_FILE: &str = "state.json";

/// The version of the state file's layout this build reads and writes.
pub const STATE_FORMAT: u32 = 1;

/// What went wrong reading or writing the state.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The state file exists but cannot be read.
    #[error("cannot read the state file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not a state this build understands.
    #[error("the state file {path} is not valid: {message}; delete it to start afresh")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        message: String,
    },
    /// The state could not be written.
    #[error("cannot write the state to {path}: {source}")]
    Write {
        /// The file or directory.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One instance as the state knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceState {
    /// The instance's URL, so a state recorded for another instance is not used.
    pub url: String,
    /// The space, as the config names it.
    pub space: String,
    /// The newest audit-log event before the last apply read the instance (`0`: the
    /// log was empty); `None` when the log could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event: Option<u64>,
    /// The space's id, so that a later look at the audit log needs no space lookup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_id: Option<String>,
}

impl InstanceState {
    /// Whether this state was recorded for `url` and `space`.
    pub fn is_for(&self, url: &str, space: &str) -> bool {
        self.url == url && self.space.eq_ignore_ascii_case(space)
    }
}

/// A document octosync wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WrittenDocument {
    /// Its kind.
    pub kind: ResourceKind,
    /// Its name (for per-owner documents, the owner's).
    pub name: String,
    /// The owning project, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// A digest of the body sent ([`digest`]); absent when the body is not known (a
    /// follow-up pass).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// One destination as the state knows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DestinationState {
    /// The instance and its checkpoint.
    #[serde(flatten)]
    pub instance: InstanceState,
    /// Every document octosync created or updated there, by id.
    #[serde(default)]
    pub written: BTreeMap<String, WrittenDocument>,
    /// With `[policy] prune`: the steps, runbooks, channels and variable values that
    /// matched the source after each apply ([`sync_core::provenance`]); the only items a
    /// later plan may prune.
    #[serde(default, skip_serializing_if = "Provenance::is_empty")]
    pub provenance: Provenance,
    /// When the last apply left this destination in sync: the audit-log positions of
    /// both sides at that moment ([`crate::incremental`]). While neither log has moved
    /// past them and the config is the same, a plan has nothing to read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_sync: Option<InSync>,
}

/// A destination left in sync with the source, and where both audit logs stood then.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InSync {
    /// The newest source event when the sync ended (`0`: an empty log).
    pub source_event: u64,
    /// The newest destination event when the sync ended; every event after the
    /// checkpoint before the apply and up to this one was octosync's own write.
    pub destination_event: u64,
    /// A digest of the `sync.toml` the sync ran with: other rules may plan otherwise.
    pub config_digest: String,
    /// The octosync that decided it: another version may plan otherwise.
    pub tool_version: String,
    /// The source's Octopus version then.
    pub source_version: String,
    /// The destination's Octopus version then.
    pub destination_version: String,
}

/// The whole state file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// The layout version ([`STATE_FORMAT`]).
    pub format: u32,
    /// The source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<InstanceState>,
    /// The destinations, by name.
    #[serde(default)]
    pub destinations: BTreeMap<String, DestinationState>,
}

impl Default for SyncState {
    /// An empty state of the current layout.
    fn default() -> Self {
        SyncState {
            format: STATE_FORMAT,
            source: None,
            destinations: BTreeMap::new(),
        }
    }
}

impl SyncState {
    /// The path of the state file in `dir`.
    pub fn file(dir: &Path) -> PathBuf {
        dir.join(STATE_FILE)
    }

    /// Reads the state in `dir`; `None` when there is none.
    pub fn read(dir: &Path) -> Result<Option<SyncState>, StateError> {
        let path = Self::file(dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StateError::Read {
                    path: path.display().to_string(),
                    source,
                })
            }
        };
        let state: SyncState = serde_json::from_slice(&bytes).map_err(|e| StateError::Invalid {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        if state.format != STATE_FORMAT {
            return Err(StateError::Invalid {
                path: path.display().to_string(),
                message: format!(
                    "layout {} (this octosync reads layout {STATE_FORMAT})",
                    state.format
                ),
            });
        }
        Ok(Some(state))
    }

    /// Writes the state into `dir` (created if missing) atomically: a temporary file
    /// in `dir`, flushed to disk, then renamed over `state.json`.
    pub fn write(&self, dir: &Path) -> Result<(), StateError> {
        let target = Self::file(dir);
        let text = serde_json::to_string_pretty(self).map_err(|e| StateError::Invalid {
            path: target.display().to_string(),
            message: e.to_string(),
        })?;
        let mut bytes = text.into_bytes();
        bytes.push(b'\n');
        write_atomically(dir, &target, &bytes)
    }
}

/// Writes `bytes` to `target` (a file in `dir`) so that a crash leaves the old file or
/// the new one: a temporary file in `dir`, flushed to disk, renamed over `target`.
pub fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let error = |path: &Path| {
        let path = path.display().to_string();
        move |source| StateError::Write { path, source }
    };
    std::fs::create_dir_all(dir).map_err(error(dir))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(error(&temp)(source));
    }
    if let Err(source) = std::fs::rename(&temp, target) {
        let _ = std::fs::remove_file(&temp);
        return Err(error(target)(source));
    }
    // Make the rename itself durable where the platform allows opening a directory.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A digest of a JSON document, independent of key order: FNV-1a (64 bits) over its
/// canonical form, as 16 hex digits. It tells whether a document is the one written;
/// it is not a cryptographic hash.
pub fn digest(value: &Value) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    canonical(value, &mut feed);
    format!("{hash:016x}")
}

fn canonical(value: &Value, feed: &mut impl FnMut(&[u8])) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            feed(b"{");
            for key in keys {
                feed(Value::String(key.clone()).to_string().as_bytes());
                feed(b":");
                canonical(&map[key], feed);
                feed(b",");
            }
            feed(b"}");
        }
        Value::Array(items) => {
            feed(b"[");
            for item in items {
                canonical(item, feed);
                feed(b",");
            }
            feed(b"]");
        }
        other => feed(other.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_ignore_key_order_and_see_every_value() {
        let a = json!({"Name": "Web", "Tags": ["a", "b"], "X": {"p": 1, "q": null}});
        let b = json!({"X": {"q": null, "p": 1}, "Tags": ["a", "b"], "Name": "Web"});
        assert_eq!(digest(&a), digest(&b));
        assert_ne!(
            digest(&a),
            digest(&json!({"Name": "Web", "Tags": ["b", "a"], "X": {"p": 1, "q": null}}))
        );
        assert_ne!(digest(&json!({"a": "1"})), digest(&json!({"a": 1})));
    }

    #[test]
    fn state_round_trips_and_a_write_replaces_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(SyncState::read(dir.path()).unwrap(), None);
        let mut state = SyncState {
            source: Some(InstanceState {
                url: "http://source/".into(),
                space: "Default".into(),
                last_event: Some(4),
                space_id: None,
            }),
            ..SyncState::default()
        };
        let mut dest = DestinationState::default();
        dest.instance.last_event = Some(0);
        dest.written.insert(
            "Environments-1".into(),
            WrittenDocument {
                kind: ResourceKind::Environment,
                name: "Test".into(),
                owner: None,
                digest: Some(digest(&json!({"Name": "Test"}))),
            },
        );
        state.destinations.insert("Production".into(), dest);
        let nested = dir.path().join(".octosync");
        state.write(&nested).unwrap();
        assert_eq!(SyncState::read(&nested).unwrap(), Some(state.clone()));
        state.destinations.clear();
        state.write(&nested).unwrap();
        assert_eq!(SyncState::read(&nested).unwrap(), Some(state));
        let left: Vec<_> = std::fs::read_dir(&nested)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [STATE_FILE], "no temporary file is left behind");
    }

    #[test]
    fn a_damaged_or_foreign_state_is_an_error_that_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            SyncState::file(dir.path()),
            "{\"format\": 1, \"destinations\": [",
        )
        .unwrap();
        let e = SyncState::read(dir.path()).unwrap_err();
        assert!(e.to_string().contains("delete it"), "{e}");
        std::fs::write(SyncState::file(dir.path()), "{\"format\": 99}").unwrap();
        let e = SyncState::read(dir.path()).unwrap_err();
        assert!(e.to_string().contains("layout 99"), "{e}");
    }
}
