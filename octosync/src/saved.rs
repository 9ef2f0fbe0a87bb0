//! Saved plans: what `octosync plan --out FILE` writes and `octosync apply --plan FILE`
//! applies, exactly.
//!
//! A saved plan holds, per destination, every op of its [`Plan`], and for every update
//! of an existing document the `Version` or digest it was planned against
//! ([`sync_core::Base`]), so the applier can refuse a document that changed since. It
//! records the digest of the config it was made from and the version of the tool that
//! made it; a plan is only applied with the same config by the same version, because
//! the config decides where each destination is and the tool decides what each op
//! means. Like every plan, it never holds a secret: secret slots are filled by the
//! applier.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sync_core::Plan;

/// The version of the saved-plan layout this build writes and reads.
pub const FORMAT: u32 = 1;

/// The version of this tool, as saved plans record it.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A plan saved for review, to be applied exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// The layout version ([`FORMAT`]).
    pub format: u32,
    /// The tool version that made it ([`TOOL_VERSION`]).
    pub tool_version: String,
    /// The digest of the config file's bytes ([`config_digest`]).
    pub config_digest: String,
    /// The source it was planned from, as the config names it.
    pub source: String,
    /// One plan per destination, in the config's order.
    pub destinations: Vec<SavedDestination>,
}

/// One destination's part of a saved plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedDestination {
    /// The destination's name, as the config names it.
    pub name: String,
    /// Its plan.
    pub plan: Plan,
}

/// Why a saved plan cannot be written, read or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SavedPlanError {
    /// The file could not be read.
    #[error("cannot read the plan file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be written.
    #[error("cannot write the plan file {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a saved plan.
    #[error("{} is not a saved octosync plan", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The file has a layout this build does not read.
    #[error("the plan file has layout {found}; this octosync reads layout {FORMAT}: plan again")]
    Format {
        /// The file's layout.
        found: u32,
    },
    /// Another version of the tool made the plan.
    #[error(
        "the plan was made by octosync {planned} and this is octosync {TOOL_VERSION}: plan again with this version"
    )]
    ToolVersion {
        /// The version that made the plan.
        planned: String,
    },
    /// The plan was made from another config (or the config changed since).
    #[error(
        "the plan was made from another config (or {} changed since): plan again",
        config.display()
    )]
    Config {
        /// The config given now.
        config: PathBuf,
    },
    /// The plan names a destination the config does not have.
    #[error("the plan names destination {name:?}, which the config does not: plan again")]
    UnknownDestination {
        /// The destination.
        name: String,
    },
}

/// The digest of a config file's bytes, as saved plans record it.
pub fn config_digest(config_bytes: &[u8]) -> String {
    sync_core::digest_bytes(config_bytes)
}

impl SavedPlan {
    /// A saved plan of `destinations`, made from the config whose bytes are given.
    pub fn new(config_bytes: &[u8], source: String, destinations: Vec<SavedDestination>) -> Self {
        SavedPlan {
            format: FORMAT,
            tool_version: TOOL_VERSION.to_owned(),
            config_digest: config_digest(config_bytes),
            source,
            destinations,
        }
    }

    /// Writes the plan as JSON.
    pub fn write(&self, path: &Path) -> Result<(), SavedPlanError> {
        // A plan is plain data (strings, numbers, maps): serializing it cannot fail.
        let text = serde_json::to_string_pretty(self).unwrap_or_default() + "\n";
        std::fs::write(path, text).map_err(|source| SavedPlanError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Reads a plan written by [`SavedPlan::write`]. The layout is checked; whether the
    /// plan fits the config and this tool is [`SavedPlan::check`]'s.
    pub fn read(path: &Path) -> Result<Self, SavedPlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| SavedPlanError::Read {
            path: path.to_owned(),
            source,
        })?;
        let format = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("format").and_then(serde_json::Value::as_u64));
        if let Some(found) = format.filter(|f| *f != u64::from(FORMAT)) {
            return Err(SavedPlanError::Format {
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_str(&text).map_err(|source| SavedPlanError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Refuses the plan unless this tool made it from the config whose bytes are given,
    /// and the config names every destination the plan does.
    pub fn check(
        &self,
        config_path: &Path,
        config_bytes: &[u8],
        destinations: &[String],
    ) -> Result<(), SavedPlanError> {
        if self.tool_version != TOOL_VERSION {
            return Err(SavedPlanError::ToolVersion {
                planned: self.tool_version.clone(),
            });
        }
        if self.config_digest != config_digest(config_bytes) {
            return Err(SavedPlanError::Config {
                config: config_path.to_owned(),
            });
        }
        if let Some(unknown) = self
            .destinations
            .iter()
            .find(|d| !destinations.contains(&d.name))
        {
            return Err(SavedPlanError::UnknownDestination {
                name: unknown.name.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(config: &[u8]) -> SavedPlan {
        SavedPlan::new(config, "source".into(), Vec::new())
    }

    #[test]
    fn a_plan_from_another_config_or_version_is_refused() {
        let config = b"[source]\nurl = \"http://a\"\n";
        let names = vec!["prod".to_owned()];
        let plan = saved(config);
        assert!(plan.check(Path::new("sync.toml"), config, &names).is_ok());
        let other = b"[source]\nurl = \"http://b\"\n";
        assert!(matches!(
            plan.check(Path::new("sync.toml"), other, &names),
            Err(SavedPlanError::Config { .. })
        ));
        let mut old = saved(config);
        old.tool_version = "0.0.1-old".into();
        let err = old
            .check(Path::new("sync.toml"), config, &names)
            .unwrap_err();
        assert!(err.to_string().contains("0.0.1-old"), "{err}");
    }

    #[test]
    fn a_file_of_another_layout_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, r#"{"format": 99, "anything": true}"#).unwrap();
        assert!(matches!(
            SavedPlan::read(&path),
            Err(SavedPlanError::Format { found: 99 })
        ));
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(
            SavedPlan::read(&path),
            Err(SavedPlanError::Parse { .. })
        ));
        let plan = saved(b"x");
        plan.write(&path).unwrap();
        assert_eq!(SavedPlan::read(&path).unwrap(), plan);
    }
}
