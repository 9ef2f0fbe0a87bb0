//! `sync.toml`: which instances to sync and the rules to sync them by.
//!
//! The file names the source and each destination (URL, space, and the environment
//! variable that holds the API key: keys never live in the file) and the rule tables of
//! [`SyncRules`]. Any error names the file, the line and the key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sync_core::rules::{EnvironmentMap, Policy, Scoping, Select};
use sync_core::SyncRules;
use url::Url;

/// One Octopus instance and space: a live server (`url` and `api_key_env`), or a
/// snapshot directory written by `octosync export` (`snapshot`), which can be planned
/// against but not applied to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceConfig {
    /// A short name for reports and logs; defaults to the URL's host.
    #[serde(default)]
    pub name: Option<String>,
    /// The server's URL, with any path prefix (`https://octopus.example/octopus`).
    #[serde(default)]
    pub url: Option<Url>,
    /// The environment variable that holds the API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// A snapshot directory instead of a live server.
    #[serde(default)]
    pub snapshot: Option<PathBuf>,
    /// The server version a snapshot directory was taken from, when it has no `api.json`.
    #[serde(default)]
    pub version: Option<String>,
    /// The space, by name or id.
    pub space: String,
    /// Allow plain `http://` to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

impl InstanceConfig {
    /// The name reports use: `name`, or the URL's host and port.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        if let Some(url) = &self.url {
            return match (url.host_str(), url.port()) {
                (Some(host), Some(port)) => format!("{host}:{port}"),
                (Some(host), None) => host.to_owned(),
                _ => url.to_string(),
            };
        }
        match &self.snapshot {
            Some(dir) => dir.display().to_string(),
            None => "(unnamed instance)".to_owned(),
        }
    }

    /// Reads the API key from the environment variable the config names.
    pub fn api_key(&self) -> Result<String, ConfigError> {
        let Some(variable) = &self.api_key_env else {
            return Err(ConfigError::MissingApiKey {
                instance: self.display_name(),
                variable: "(none)".into(),
                reason: "is not named: set api_key_env",
            });
        };
        match std::env::var(variable) {
            Ok(key) if !key.trim().is_empty() => Ok(key.trim().to_owned()),
            Ok(_) => Err(ConfigError::MissingApiKey {
                instance: self.display_name(),
                variable: variable.clone(),
                reason: "is empty",
            }),
            Err(_) => Err(ConfigError::MissingApiKey {
                instance: self.display_name(),
                variable: variable.clone(),
                reason: "is not set",
            }),
        }
    }
}

/// A destination: an instance and its own rules.
#[derive(Clone, Debug)]
pub struct DestinationConfig {
    /// The instance.
    pub instance: InstanceConfig,
    /// The rules for this destination: the file's rules with its `[destinations.rules]`
    /// laid over them.
    pub rules: SyncRules,
}

/// The `[apply]` table: the config-file form of the applier's options, plus how
/// instances are reached (timeout, request rate). There is one set of apply options,
/// [`crate::apply::ApplyOptions`]; [`ApplySettings::apply_options`] makes it from this
/// table, and the runner adds each destination's certificate settings from its rules
/// ([`crate::apply::ApplyOptions::with_rules`]). Options the file has no key for (the
/// secret placeholder) keep their defaults.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApplySettings {
    /// Go on with later layers after a failed op instead of stopping after its layer.
    pub continue_on_error: bool,
    /// How many requests run at once per instance.
    pub concurrency: usize,
    /// Seconds before a request times out.
    pub timeout_seconds: u64,
    /// Requests per minute at most, per instance (0 = no cap beyond the server's own
    /// rate-limit headers).
    pub requests_per_minute: u32,
}

impl Default for ApplySettings {
    fn default() -> Self {
        Self {
            continue_on_error: false,
            concurrency: 8,
            timeout_seconds: 60,
            requests_per_minute: 0,
        }
    }
}

impl ApplySettings {
    /// The applier's options these settings give (its other options at their defaults).
    pub fn apply_options(&self) -> crate::apply::ApplyOptions {
        crate::apply::ApplyOptions {
            continue_on_error: self.continue_on_error,
            concurrency: self.concurrency,
            ..crate::apply::ApplyOptions::default()
        }
    }
}

/// `[state]`: where octosync keeps what it saw and wrote (see [`crate::state`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StateOptions {
    /// The state directory; relative paths are relative to the config file. Default:
    /// `.octosync` beside the config file.
    pub dir: Option<PathBuf>,
}

/// A parsed `sync.toml`.
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Where it was read from, if from a file.
    pub path: Option<PathBuf>,
    /// The source of truth.
    pub source: InstanceConfig,
    /// The destinations, in file order.
    pub destinations: Vec<DestinationConfig>,
    /// The rules before per-destination overrides.
    pub rules: SyncRules,
    /// `[apply]`.
    pub apply: ApplySettings,
    /// `[state]`.
    pub state: StateOptions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    source: InstanceConfig,
    #[serde(default)]
    destinations: Vec<RawDestination>,
    #[serde(default)]
    select: Select,
    #[serde(default)]
    policy: Policy,
    #[serde(default)]
    scoping: Scoping,
    #[serde(default)]
    environment_map: EnvironmentMap,
    #[serde(default)]
    apply: ApplySettings,
    #[serde(default)]
    state: StateOptions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDestination {
    #[serde(flatten)]
    instance: RawInstance,
    #[serde(default)]
    rules: Option<toml::Spanned<toml::Table>>,
}

// `flatten` and `deny_unknown_fields` do not mix in serde, so the destination's instance
// fields are listed again; unknown keys are still refused by `RawDestination`.
#[derive(Deserialize)]
struct RawInstance {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    url: Option<Url>,
    #[serde(default)]
    api_key_env: Option<String>,
    #[serde(default)]
    snapshot: Option<PathBuf>,
    #[serde(default)]
    version: Option<String>,
    space: String,
    #[serde(default)]
    allow_insecure_http: bool,
}

/// A config that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid, at a place in it.
    #[error("{file}:{line}:{column}: {message}")]
    Invalid {
        /// The file (or `sync.toml` for text without a file).
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The config is well-formed but not usable.
    #[error("{file}: {message}")]
    Unusable {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// An API key variable is not set.
    #[error("no API key for {instance}: environment variable {variable} {reason}")]
    MissingApiKey {
        /// The instance.
        instance: String,
        /// The variable the config names.
        variable: String,
        /// Not set, or empty.
        reason: &'static str,
    },
}

impl SyncConfig {
    /// The state directory: `[state] dir` (relative to the config file), or `.octosync`
    /// beside the config file.
    pub fn state_dir(&self) -> PathBuf {
        let base = self
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        match &self.state.dir {
            Some(dir) if dir.is_absolute() => dir.clone(),
            Some(dir) => base.join(dir),
            None => base.join(".octosync"),
        }
    }

    /// Reads and checks a `sync.toml`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config = Self::parse(&text, &path.display().to_string())?;
        config.path = Some(path.to_owned());
        let base = path.parent().unwrap_or(Path::new("."));
        config
            .list_certificate_files(base)
            .map_err(|e| ConfigError::Unusable {
                file: path.display().to_string(),
                // The message of the error and of each cause: this one is flattened.
                message: std::iter::successors(
                    Some(&e as &(dyn std::error::Error + 'static)),
                    |e| e.source(),
                )
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": "),
            })?;
        config.read_provenance();
        Ok(config)
    }

    /// Gives each destination whose `[policy] prune` is set what earlier applies from
    /// this source recorded there ([`SyncRules::written`], from the state directory).
    /// A state that cannot be read, is empty, or was recorded for another source or
    /// destination gives none: nothing is pruned, and the plan says why.
    /// [`SyncConfig::load`] calls it.
    pub fn read_provenance(&mut self) {
        if self
            .destinations
            .iter()
            .all(|d| d.rules.policy.prune.is_empty())
        {
            return;
        }
        let state = match crate::state::SyncState::read(&self.state_dir()) {
            Ok(Some(state)) => state,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the state: nothing is pruned");
                return;
            }
        };
        let Some(source_url) = &self.source.url else {
            return;
        };
        let same_source = state
            .source
            .as_ref()
            .is_some_and(|s| s.is_for(source_url.as_str(), &self.source.space));
        if !same_source {
            return;
        }
        for dest in &mut self.destinations {
            let Some(url) = &dest.instance.url else {
                continue;
            };
            if dest.rules.policy.prune.is_empty() {
                continue;
            }
            let recorded = state
                .destinations
                .get(&dest.instance.display_name())
                .filter(|d| d.instance.is_for(url.as_str(), &dest.instance.space))
                .filter(|d| !d.provenance.is_empty());
            dest.rules.written = recorded.map(|d| d.provenance.clone());
        }
    }

    /// Resolves each `certificates_from` directory (a relative one against `base`, the
    /// directory of `sync.toml`) and lists its certificate files into the rules'
    /// [`SyncRules::certificate_files`], for the planner. [`SyncConfig::load`] calls it.
    pub fn list_certificate_files(
        &mut self,
        base: &Path,
    ) -> Result<(), crate::certificates::CertificateError> {
        let rules = std::iter::once(&mut self.rules)
            .chain(self.destinations.iter_mut().map(|d| &mut d.rules));
        for rules in rules {
            let Some(dir) = rules.policy.certificates_from.clone() else {
                continue;
            };
            let dir = base.join(dir);
            rules.certificate_files = crate::certificates::list(&dir)?;
            rules.policy.certificates_from = Some(dir.display().to_string());
        }
        Ok(())
    }

    /// Parses the text of a `sync.toml`; `file` names it in errors.
    ///
    /// ```
    /// let config = octosync::config::SyncConfig::parse(r#"
    ///     [source]
    ///     url = "https://dev.octopus.example"
    ///     api_key_env = "DEV_KEY"
    ///     space = "Default"
    ///
    ///     [[destinations]]
    ///     url = "https://prod.octopus.example"
    ///     api_key_env = "PROD_KEY"
    ///     space = "Default"
    ///
    ///     [select]
    ///     projects = ["OctoFX"]
    /// "#, "sync.toml")?;
    /// assert_eq!(config.destinations[0].instance.display_name(), "prod.octopus.example");
    ///
    /// let err = octosync::config::SyncConfig::parse("[source]\nurl = 3\n", "sync.toml").unwrap_err();
    /// assert!(err.to_string().starts_with("sync.toml:2:"), "{err}");
    /// # Ok::<(), octosync::config::ConfigError>(())
    /// ```
    pub fn parse(text: &str, file: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|span| line_column(text, span.start))
                .unwrap_or((1, 1));
            ConfigError::Invalid {
                file: file.to_owned(),
                line,
                column,
                message: e.message().trim().to_owned(),
            }
        })?;
        let rules = SyncRules {
            select: raw.select,
            policy: raw.policy,
            scoping: raw.scoping,
            environment_map: raw.environment_map,
            certificate_files: Default::default(),
            written: None,
        };
        if raw.destinations.is_empty() {
            return Err(ConfigError::Unusable {
                file: file.to_owned(),
                message: "no [[destinations]]: name at least one instance to sync to".into(),
            });
        }
        let mut destinations = Vec::with_capacity(raw.destinations.len());
        for dest in raw.destinations {
            let instance = InstanceConfig {
                name: dest.instance.name,
                url: dest.instance.url,
                api_key_env: dest.instance.api_key_env,
                snapshot: dest.instance.snapshot,
                version: dest.instance.version,
                space: dest.instance.space,
                allow_insecure_http: dest.instance.allow_insecure_http,
            };
            let dest_rules = match &dest.rules {
                None => rules.clone(),
                Some(overrides) => rules.with_overrides(overrides.get_ref()).map_err(|e| {
                    let (line, column) = line_column(text, overrides.span().start);
                    ConfigError::Invalid {
                        file: file.to_owned(),
                        line,
                        column,
                        message: format!(
                            "in the rules of destination {}: {e}",
                            instance.display_name()
                        ),
                    }
                })?,
            };
            destinations.push(DestinationConfig {
                instance,
                rules: dest_rules,
            });
        }
        let config = Self {
            path: None,
            source: raw.source,
            destinations,
            rules,
            apply: raw.apply,
            state: raw.state,
        };
        config.check(file)?;
        Ok(config)
    }

    fn check(&self, file: &str) -> Result<(), ConfigError> {
        let unusable = |message: String| ConfigError::Unusable {
            file: file.to_owned(),
            message,
        };
        let mut names = std::collections::BTreeSet::new();
        for dest in &self.destinations {
            let name = dest.instance.display_name();
            if !names.insert(name.to_lowercase()) {
                return Err(unusable(format!(
                    "two destinations are called {name:?}; give them distinct `name`s"
                )));
            }
            if same_space(&self.source, &dest.instance) {
                return Err(unusable(format!(
                    "destination {name} is the source itself (same URL and space)"
                )));
            }
        }
        for instance in
            std::iter::once(&self.source).chain(self.destinations.iter().map(|d| &d.instance))
        {
            let name = instance.display_name();
            match (&instance.url, &instance.snapshot) {
                (Some(_), Some(_)) => {
                    return Err(unusable(format!(
                        "{name}: give either `url` or `snapshot`, not both"
                    )))
                }
                (None, None) => {
                    return Err(unusable(format!(
                        "{name}: give `url` (a server) or `snapshot` (a directory)"
                    )))
                }
                (Some(url), None) => {
                    let scheme = url.scheme();
                    if scheme != "https" && scheme != "http" {
                        return Err(unusable(format!(
                            "{name}: URL scheme {scheme:?} is not http or https"
                        )));
                    }
                    if instance.api_key_env.is_none() {
                        return Err(unusable(format!(
                            "{name}: `api_key_env` must name the environment variable holding the API key"
                        )));
                    }
                }
                (None, Some(_)) => {}
            }
        }
        if self.apply.concurrency == 0 {
            return Err(unusable("[apply] concurrency must be at least 1".into()));
        }
        Ok(())
    }
}

fn same_space(a: &InstanceConfig, b: &InstanceConfig) -> bool {
    let place = |i: &InstanceConfig| match (&i.url, &i.snapshot) {
        (Some(u), _) => u.as_str().trim_end_matches('/').to_lowercase(),
        (None, Some(dir)) => dir.display().to_string(),
        (None, None) => String::new(),
    };
    place(a) == place(b) && a.space.trim().eq_ignore_ascii_case(b.space.trim())
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl fmt::Display for InstanceConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (space {})", self.display_name(), self.space)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[source]
name = "dev"
url = "https://dev.example"
api_key_env = "DEV_KEY"
space = "Default"

[[destinations]]
name = "prod-eu"
url = "https://eu.example/octopus"
api_key_env = "EU_KEY"
space = "Default"

[destinations.rules.policy]
placeholder_value = "SET ME"

[[destinations]]
name = "prod-us"
url = "https://us.example"
api_key_env = "US_KEY"
space = "Spaces-2"

[select]
projects = ["OctoFX", "!Legacy*"]

[policy]
overwrite_existing_variables = "add-new-with-placeholder"
placeholder_value = "REPLACE ME"

[environment_map]
Test = ["Staging"]
"#;

    #[test]
    fn destinations_get_their_own_rule_overrides() {
        let config = SyncConfig::parse(GOOD, "sync.toml").unwrap();
        assert_eq!(config.destinations.len(), 2);
        assert_eq!(
            config.destinations[0].rules.policy.placeholder_value,
            "SET ME"
        );
        assert_eq!(
            config.destinations[1].rules.policy.placeholder_value,
            "REPLACE ME"
        );
        assert_eq!(config.destinations[1].rules, config.rules);
        assert_eq!(
            config.destinations[0].instance.url.as_ref().unwrap().path(),
            "/octopus"
        );
        assert_eq!(config.rules.environment_map.map("test"), ["Staging"]);
    }

    #[test]
    fn certificate_files_are_listed_per_destination_relative_to_the_config() {
        let dir = tempfile::tempdir().unwrap();
        for (sub, file) in [("certs", "Shop TLS.pfx"), ("eu-certs", "shop tls.pem")] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
            std::fs::write(dir.path().join(sub).join(file), "x").unwrap();
        }
        let text = GOOD
            .replace(
                "placeholder_value = \"SET ME\"",
                "placeholder_value = \"SET ME\"\ncertificates_from = \"eu-certs\"",
            )
            .replace(
                "placeholder_value = \"REPLACE ME\"",
                "placeholder_value = \"REPLACE ME\"\ncertificates_from = \"certs\"",
            );
        let path = dir.path().join("sync.toml");
        std::fs::write(&path, text).unwrap();
        let config = SyncConfig::load(&path).unwrap();
        let key = octopus_model::name_key("Shop TLS");
        assert_eq!(
            config.destinations[0].rules.certificate_files[&key],
            "shop tls.pem"
        );
        assert_eq!(
            config.destinations[1].rules.certificate_files[&key],
            "Shop TLS.pfx"
        );
        assert_eq!(
            config.destinations[0].rules.policy.certificates_from,
            Some(dir.path().join("eu-certs").display().to_string())
        );

        std::fs::remove_dir_all(dir.path().join("eu-certs")).unwrap();
        let err = SyncConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("eu-certs") && err.contains("sync.toml"),
            "{err}"
        );
        // The cause is said once, after what could not be done.
        assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    }

    #[test]
    fn an_unknown_key_names_the_line_and_key() {
        let text = GOOD.replace(
            "overwrite_existing_variables",
            "overwrite_existing_varaibles",
        );
        let err = SyncConfig::parse(&text, "sync.toml")
            .unwrap_err()
            .to_string();
        let line = text
            .lines()
            .position(|l| l.starts_with("overwrite_existing_varaibles"))
            .unwrap()
            + 1;
        assert!(err.starts_with(&format!("sync.toml:{line}:")), "{err}");
        assert!(err.contains("overwrite_existing_varaibles"), "{err}");
    }

    #[test]
    fn a_bad_value_names_the_value() {
        let text = GOOD.replace("\"add-new-with-placeholder\"", "\"sometimes\"");
        let err = SyncConfig::parse(&text, "sync.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sometimes"), "{err}");
    }

    #[test]
    fn a_bad_override_names_the_destination() {
        let text = GOOD.replace("placeholder_value = \"SET ME\"", "no_such_policy = true");
        let err = SyncConfig::parse(&text, "sync.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("prod-eu"), "{err}");
        assert!(err.contains("no_such_policy"), "{err}");
    }

    #[test]
    fn api_keys_are_never_read_from_the_file() {
        let text = GOOD.replace("api_key_env = \"DEV_KEY\"", "api_key = \"API-123\"");
        let err = SyncConfig::parse(&text, "sync.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("api_key"), "{err}");
    }

    #[test]
    fn the_source_cannot_be_a_destination() {
        let text = GOOD
            .replace("https://us.example", "https://dev.example")
            .replace("Spaces-2", "default");
        let err = SyncConfig::parse(&text, "sync.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is the source itself"), "{err}");
    }

    #[test]
    fn a_missing_api_key_variable_is_named() {
        let config = SyncConfig::parse(GOOD, "sync.toml").unwrap();
        let mut source = config.source.clone();
        source.api_key_env = Some("OCTOSYNC_TEST_SURELY_UNSET_VARIABLE".into());
        let err = source.api_key().unwrap_err().to_string();
        assert!(err.contains("OCTOSYNC_TEST_SURELY_UNSET_VARIABLE"), "{err}");
        assert!(err.contains("dev"), "{err}");
    }

    #[test]
    fn an_instance_is_a_server_or_a_snapshot_directory() {
        let text = GOOD.replace(
            "url = \"https://dev.example\"\napi_key_env = \"DEV_KEY\"",
            "snapshot = \"exports/dev\"\nversion = \"2024.1.0\"",
        );
        let config = SyncConfig::parse(&text, "sync.toml").unwrap();
        assert_eq!(
            config.source.snapshot.as_deref(),
            Some(Path::new("exports/dev"))
        );
        let both = GOOD.replace(
            "space = \"Spaces-2\"",
            "space = \"Spaces-2\"\nsnapshot = \"x\"",
        );
        let err = SyncConfig::parse(&both, "sync.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not both"), "{err}");
        let keyless = GOOD.replace("api_key_env = \"US_KEY\"\n", "");
        let err = SyncConfig::parse(&keyless, "sync.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("api_key_env"), "{err}");
    }

    #[test]
    fn the_demo_config_parses() {
        let text = include_str!("../demo/sync.toml");
        let config = SyncConfig::parse(text, "demo/sync.toml").unwrap();
        assert_eq!(config.destinations.len(), 1);
        assert_eq!(config.rules.environment_map.map("Test"), ["Staging"]);
    }
}
