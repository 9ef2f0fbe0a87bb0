//! The rules of a sync: what is selected, the policies, how scope mismatches are handled
//! and how environments map.
//!
//! They are read from the `[select]`, `[policy]`, `[scoping]` and `[environment_map]`
//! tables of `sync.toml`; names and values follow SpaceCloner's parameters in snake_case
//! and kebab-case. Unknown keys and values are errors that name the key and the value.
//!
//! ```
//! use sync_core::rules::{ScopeMode, SyncRules, OverwriteVariables};
//!
//! let rules = SyncRules::from_toml_str(r#"
//!     [select]
//!     environments = ["Staging", "Production"]
//!     projects = ["OctoFX*", "!OctoFX Legacy"]
//!
//!     [policy]
//!     overwrite_existing_variables = "add-new-with-placeholder"
//!
//!     [scoping]
//!     variable_environments = "ignore-mismatch"
//!
//!     [environment_map]
//!     Test = ["Staging"]
//! "#)?;
//! assert!(rules.select.projects.matches("octofx web"));
//! assert!(!rules.select.projects.matches("OctoFX Legacy"));
//! assert!(!rules.select.tenants.matches("Internal")); // a kind left out selects nothing
//! assert_eq!(rules.policy.overwrite_existing_variables, OverwriteVariables::AddNewWithPlaceholder);
//! assert_eq!(rules.scoping.variable_environments, ScopeMode::IgnoreMismatch);
//! assert_eq!(rules.scoping.process_environments, ScopeMode::SkipUnlessPartialMatch);
//!
//! // A destination can override any rule.
//! let overrides: toml::Table = toml::from_str(r#"policy = { overwrite_existing_variables = "always" }"#)?;
//! let prod = rules.with_overrides(&overrides)?;
//! assert_eq!(prod.policy.overwrite_existing_variables, OverwriteVariables::Always);
//! assert!(prod.select.projects.matches("OctoFX Web"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use crate::provenance::Provenance;
pub use crate::provenance::PruneKind;
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A rules table that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    /// The TOML text is not valid TOML.
    #[error("sync rules are not valid TOML: {0}")]
    Toml(String),
    /// A key or value is not one the rules know.
    #[error("sync rules: `{key}`: {message}")]
    Invalid {
        /// The dotted key (`policy.overwrite_existing_variables`).
        key: String,
        /// What is wrong, quoting the value.
        message: String,
    },
}

/// One list of name patterns: `*` and `?` wildcards, `"all"`, and a leading `!` to
/// exclude. Matching is case-insensitive on the trimmed name. An empty list selects
/// nothing; a list of only exclusions selects everything else.
#[derive(Clone, Default)]
pub struct NameFilter {
    patterns: Vec<String>,
    include: Vec<GlobMatcher>,
    exclude: Vec<GlobMatcher>,
    all: bool,
}

impl NameFilter {
    /// A filter from patterns.
    pub fn new<I, S>(patterns: I) -> Result<Self, String>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut filter = NameFilter::default();
        for raw in patterns {
            let raw: String = raw.into();
            let text = raw.trim();
            if text.is_empty() {
                return Err("an empty pattern selects nothing; leave it out".to_owned());
            }
            let (negated, body) = match text.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, text),
            };
            if body.eq_ignore_ascii_case("all") {
                if negated {
                    return Err(format!(
                        "{raw:?}: \"!all\" excludes everything; leave the kind out instead"
                    ));
                }
                filter.all = true;
            } else {
                let glob = GlobBuilder::new(&body.to_lowercase())
                    .case_insensitive(true)
                    .literal_separator(false)
                    .backslash_escape(true)
                    .build()
                    .map_err(|e| format!("{raw:?} is not a valid pattern: {e}"))?
                    .compile_matcher();
                if negated {
                    filter.exclude.push(glob);
                } else {
                    filter.include.push(glob);
                }
            }
            filter.patterns.push(raw);
        }
        Ok(filter)
    }

    /// A filter that selects everything.
    pub fn all() -> Self {
        Self {
            patterns: vec!["all".to_owned()],
            all: true,
            ..Self::default()
        }
    }

    /// Whether `name` is selected.
    pub fn matches(&self, name: &str) -> bool {
        let key = name.trim().to_lowercase();
        let included = self.all
            || self.include.iter().any(|g| g.is_match(&key))
            || (self.include.is_empty() && !self.exclude.is_empty());
        included && !self.exclude.iter().any(|g| g.is_match(&key))
    }

    /// Whether the filter selects nothing at all.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as written.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

impl PartialEq for NameFilter {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl fmt::Debug for NameFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.patterns.fmt(f)
    }
}

impl Serialize for NameFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(s)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

impl<'de> Deserialize<'de> for NameFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let patterns = OneOrMany::deserialize(d)
            .map_err(|_| serde::de::Error::custom("expected a pattern or a list of patterns"))?
            .into_vec();
        NameFilter::new(patterns).map_err(serde::de::Error::custom)
    }
}

/// `[select]`: one name filter per kind. A kind left out selects nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Select {
    /// Environments.
    pub environments: NameFilter,
    /// Project groups.
    pub project_groups: NameFilter,
    /// Projects.
    pub projects: NameFilter,
    /// Channels, inside each selected project.
    pub channels: NameFilter,
    /// Runbooks, inside each selected project.
    pub runbooks: NameFilter,
    /// Lifecycles.
    pub lifecycles: NameFilter,
    /// Library variable sets (content type `Variables`).
    pub library_variable_sets: NameFilter,
    /// Script modules (library variable sets of content type `ScriptModule`).
    pub script_modules: NameFilter,
    /// Step templates.
    pub step_templates: NameFilter,
    /// Tenant tag sets.
    pub tenant_tags: NameFilter,
    /// Tenants (and, with `sync_tenant_variables`, their variables).
    pub tenants: NameFilter,
    /// Feeds.
    pub feeds: NameFilter,
    /// Accounts.
    pub accounts: NameFilter,
    /// Certificates.
    pub certificates: NameFilter,
    /// Worker pools.
    pub worker_pools: NameFilter,
    /// Machine policies.
    pub machine_policies: NameFilter,
    /// Teams (space teams only; system teams are never synced).
    pub teams: NameFilter,
    /// User roles.
    pub user_roles: NameFilter,
    /// Parent environments (2025.4+ on both sides).
    pub parent_environments: NameFilter,
    /// Deployment freezes (2025.1+ on both sides): only the parts of their scope that
    /// name the synced space.
    pub deployment_freezes: NameFilter,
}

/// `overwrite_existing_variables`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverwriteVariables {
    /// Existing values are left alone; new values are added. (Default.)
    #[default]
    Never,
    /// The value of a matched non-sensitive variable is overwritten.
    Always,
    /// Existing values are left alone; new values get `placeholder_value` (text
    /// variables) or an empty value (other non-sensitive types).
    AddNewWithPlaceholder,
}

/// `overwrite_existing_lifecycle_phases`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverwriteLifecyclePhases {
    /// Existing lifecycles are left alone; new ones get their phases. (Default.)
    #[default]
    Never,
    /// Existing lifecycles get the source's phases and retention.
    Always,
    /// Existing lifecycles are left alone; new ones are created without phases.
    NeverClonePhases,
}

/// `process_cloning`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProcessCloning {
    /// Steps and actions only the destination has are kept. (Default.)
    #[default]
    KeepAdditionalDestinationSteps,
    /// Steps and actions only the destination has are removed.
    SourceOnly,
}

/// `placeholder_values`: which new values `add-new-with-placeholder` replaces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlaceholderValues {
    /// Every new non-sensitive value (SpaceCloner's `AddNewWithDefaultValue`).
    AllNew,
    /// Only new values whose scope was widened because the destination lacks what they
    /// were scoped to; others are copied (the "Replace Me" table of the sync guide).
    /// (Default.)
    #[default]
    Widened,
}

/// A kind whose existing items' details may follow the source
/// (`overwrite_existing_details`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DetailKind {
    /// External feeds: URL and options (never their credentials, never their type).
    Feeds,
    /// Worker pools: description and options (never their type or workers).
    WorkerPools,
    /// Machine policies: health check, connectivity, clean-up and update policies.
    MachinePolicies,
}

/// `publish_runbooks`: when a runbook whose process the sync writes is published on the
/// destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PublishRunbooks {
    /// When the source runbook is published and the destination runbook's process
    /// changes in this sync, or the destination runbook has never been published, a
    /// snapshot is created on the destination and published. (Default.)
    #[default]
    WhenSourcePublished,
    /// Runbooks are never published by the sync.
    Never,
}

/// `[policy]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Whether values of existing variables are overwritten. Default `never`.
    pub overwrite_existing_variables: OverwriteVariables,
    /// Whether a source value whose (name, scope) the destination lacks is added to a
    /// variable name the destination already has. Default `true`.
    pub add_additional_variable_values_on_existing_variable_sets: bool,
    /// Whether existing step templates are updated to equal the source. Default `true`
    /// (step templates must be an exact match).
    pub overwrite_existing_step_templates: bool,
    /// What happens to lifecycle phases. Default `never`.
    pub overwrite_existing_lifecycle_phases: OverwriteLifecyclePhases,
    /// Steps only the destination has. Default `keep-additional-destination-steps`.
    pub process_cloning: ProcessCloning,
    /// Whether tenant variable values are synced. Default `false`.
    pub sync_tenant_variables: bool,
    /// Whether team role scoping is synced. Default `false`.
    pub sync_team_role_scoping: bool,
    /// The text of placeholder values. Default `"REPLACE ME"`.
    pub placeholder_value: String,
    /// Whether the settings of existing runbooks (description, environment scope and
    /// environments, multi-tenancy, connectivity, guided failure, retention, package
    /// download) follow the source. Default `false`: an existing runbook keeps the
    /// destination's settings (the guide's "same name, different details").
    pub overwrite_existing_runbook_settings: bool,
    /// Whether the version rules of existing channels follow the source. Default
    /// `false`: an existing channel keeps the destination's rules.
    pub overwrite_existing_channel_rules: bool,
    /// Kinds whose existing items take the source's details. Default empty: an existing
    /// feed, worker pool or machine policy keeps the destination's (the guide's "same
    /// name, different details"). Secrets are never overwritten either way.
    pub overwrite_existing_details: Vec<DetailKind>,
    /// Which new values get the placeholder under `add-new-with-placeholder`. Default
    /// `widened` (the guide's "Replace Me" table); `all-new` is SpaceCloner's behaviour.
    pub placeholder_values: PlaceholderValues,
    /// Whether source and destination may be more than one minor version apart.
    /// Default `false`.
    pub allow_version_mismatch: bool,
    /// What the sync deletes from the destination when the source no longer has it:
    /// `steps`, `variables`, `runbooks`, `channels`. Default empty: nothing is deleted.
    /// Only items [`SyncRules::written`] records as matching the source before, and
    /// unchanged since, are deleted (see [`crate::provenance`]).
    pub prune: Vec<PruneKind>,
    /// Whether runbooks are published on the destination. Default
    /// `when-source-published`.
    pub publish_runbooks: PublishRunbooks,
    /// A directory holding certificate files by certificate name (`<name>.pfx`,
    /// `<name>.p12`, `<name>.pem`, `<name>.crt` or `<name>.cer`), from which missing
    /// certificates are created. Default none: a missing certificate is reported for a
    /// person to upload. The engine never reads it; the runner lists it and tells the
    /// planner which names have a file ([`SyncRules::certificate_files`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates_from: Option<String>,
    /// The name of the environment variable holding the password of the PFX files in
    /// `certificates_from`. Default none: PFX files without a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificates_password_env: Option<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            overwrite_existing_variables: OverwriteVariables::Never,
            add_additional_variable_values_on_existing_variable_sets: true,
            overwrite_existing_step_templates: true,
            overwrite_existing_lifecycle_phases: OverwriteLifecyclePhases::Never,
            process_cloning: ProcessCloning::KeepAdditionalDestinationSteps,
            sync_tenant_variables: false,
            sync_team_role_scoping: false,
            placeholder_value: "REPLACE ME".to_owned(),
            placeholder_values: PlaceholderValues::Widened,
            overwrite_existing_runbook_settings: false,
            overwrite_existing_channel_rules: false,
            overwrite_existing_details: Vec::new(),
            allow_version_mismatch: false,
            prune: Vec::new(),
            publish_runbooks: PublishRunbooks::WhenSourcePublished,
            certificates_from: None,
            certificates_password_env: None,
        }
    }
}

/// What happens when a scope or reference names items the destination lacks
/// (SpaceCloner's `*ScopingMatch` options).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeMode {
    /// Any missing value stops the plan with an error.
    ErrorUnlessExactMatch,
    /// Any missing value skips the item.
    SkipUnlessExactMatch,
    /// If no value matches, the plan stops with an error; otherwise the matched ones are
    /// kept.
    ErrorUnlessPartialMatch,
    /// If no value matches, the item is skipped; otherwise the matched ones are kept.
    SkipUnlessPartialMatch,
    /// Missing values are dropped; if none is left the item becomes unscoped (logged as a
    /// widened scope).
    IgnoreMismatch,
    /// Like `ignore-mismatch` for new items; an existing action or variable keeps the
    /// destination's own scoping.
    IgnoreMismatchOnNewLeaveExistingAlone,
}

impl ScopeMode {
    /// Whether the mode is allowed for a single-value reference (account, certificate
    /// and worker-pool typed variable values).
    pub fn allowed_for_single_value(self) -> bool {
        matches!(
            self,
            ScopeMode::ErrorUnlessExactMatch
                | ScopeMode::SkipUnlessExactMatch
                | ScopeMode::IgnoreMismatch
        )
    }
}

/// `[scoping]`: one mode per scope kind. Defaults follow SpaceCloner:
/// `skip-unless-partial-match` for lists, `skip-unless-exact-match` for typed values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scoping {
    /// Action `Environments` and `ExcludedEnvironments`.
    pub process_environments: ScopeMode,
    /// Action `Channels`.
    pub process_channels: ScopeMode,
    /// Action `TenantTags`.
    pub process_tenant_tags: ScopeMode,
    /// Variable scope `Environment`.
    pub variable_environments: ScopeMode,
    /// Variable scope `Channel`.
    pub variable_channels: ScopeMode,
    /// Variable scope `ProcessOwner`.
    pub variable_process_owners: ScopeMode,
    /// Variable scope `Action`.
    pub variable_actions: ScopeMode,
    /// Variable scope `Machine`.
    pub variable_machines: ScopeMode,
    /// Variable scope `TenantTag`.
    pub variable_tenant_tags: ScopeMode,
    /// Account-typed variable values (single value).
    pub variable_accounts: ScopeMode,
    /// Certificate-typed variable values (single value).
    pub variable_certificates: ScopeMode,
    /// Worker-pool-typed variable values (single value).
    pub variable_worker_pools: ScopeMode,
    /// `EnvironmentIds` of accounts and certificates.
    pub infrastructure_environments: ScopeMode,
    /// `TenantIds` of accounts and certificates.
    pub infrastructure_tenants: ScopeMode,
    /// `TenantTags` of accounts and certificates.
    pub infrastructure_tenant_tags: ScopeMode,
}

impl Default for Scoping {
    fn default() -> Self {
        let partial = ScopeMode::SkipUnlessPartialMatch;
        let exact = ScopeMode::SkipUnlessExactMatch;
        Self {
            process_environments: partial,
            process_channels: partial,
            process_tenant_tags: partial,
            variable_environments: partial,
            variable_channels: partial,
            variable_process_owners: partial,
            variable_actions: partial,
            variable_machines: partial,
            variable_tenant_tags: partial,
            variable_accounts: exact,
            variable_certificates: exact,
            variable_worker_pools: exact,
            infrastructure_environments: partial,
            infrastructure_tenants: partial,
            infrastructure_tenant_tags: partial,
        }
    }
}

/// `[environment_map]`: source environment name -> destination environment names,
/// applied to every environment reference before matching.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct EnvironmentMap(pub BTreeMap<String, Vec<String>>);

impl<'de> Deserialize<'de> for EnvironmentMap {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, OneOrMany>::deserialize(d)?;
        Ok(EnvironmentMap(
            raw.into_iter().map(|(k, v)| (k, v.into_vec())).collect(),
        ))
    }
}

impl EnvironmentMap {
    /// The destination names a source environment name maps to (itself when unmapped).
    pub fn map(&self, source_name: &str) -> Vec<String> {
        self.0
            .iter()
            .find(|(k, _)| octopus_model::same_name(k, source_name))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| vec![source_name.to_owned()])
    }
}

/// All the rules of a sync for one destination.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncRules {
    /// `[select]`.
    pub select: Select,
    /// `[policy]`.
    pub policy: Policy,
    /// `[scoping]`.
    pub scoping: Scoping,
    /// `[environment_map]`.
    pub environment_map: EnvironmentMap,
    /// Certificate files the user supplies (`certificates_from`): the file name of each
    /// certificate that has one, keyed by [`octopus_model::name_key`] of the certificate
    /// name. Not read from `sync.toml`: the runner fills it after listing the directory,
    /// so planning stays free of I/O. A missing certificate with a file is created; the
    /// plan names the file and never holds its data.
    #[serde(skip)]
    pub certificate_files: BTreeMap<String, String>,
    /// What earlier syncs from this source left on this destination matching the
    /// source ([`crate::provenance`]): the only items `prune` may delete. Not read from
    /// `sync.toml`: the runner fills it from its state, so planning stays free of I/O.
    /// `None`: no record, and nothing is pruned (the plan says why).
    #[serde(skip)]
    pub written: Option<Provenance>,
}

/// The tables of `sync.toml` that are rules; other top-level tables (`source`,
/// `destinations`) belong to the runner and are ignored here.
pub const RULE_TABLES: &[&str] = &["select", "policy", "scoping", "environment_map"];

impl SyncRules {
    /// Reads the rule tables from the text of a whole `sync.toml`. Other top-level tables
    /// (`[source]`, `[[destinations]]`) are ignored.
    pub fn from_toml_str(text: &str) -> Result<Self, RulesError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|e| RulesError::Toml(e.to_string()))?;
        Self::from_table(&table)
    }

    /// Reads the rule tables (`select`, `policy`, `scoping`, `environment_map`) of a
    /// parsed `sync.toml`; other keys are ignored.
    pub fn from_table(table: &toml::Table) -> Result<Self, RulesError> {
        let rules: toml::Table = table
            .iter()
            .filter(|(k, _)| RULE_TABLES.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Self::decode(rules)
    }

    /// These rules with a destination's `[destinations.rules]` table laid over them: each
    /// key given replaces the same key here (a `[select]` list replaces the whole list;
    /// `[environment_map]` entries replace entries of the same name).
    pub fn with_overrides(&self, overrides: &toml::Table) -> Result<SyncRules, RulesError> {
        for key in overrides.keys() {
            if !RULE_TABLES.contains(&key.as_str()) {
                return Err(RulesError::Invalid {
                    key: key.clone(),
                    message: format!(
                        "unknown rules table; expected one of {}",
                        RULE_TABLES.join(", ")
                    ),
                });
            }
        }
        let mut base = toml::Table::try_from(self).map_err(|e| RulesError::Invalid {
            key: String::new(),
            message: e.to_string(),
        })?;
        for (section, value) in overrides {
            let toml::Value::Table(over) = value else {
                return Err(RulesError::Invalid {
                    key: section.clone(),
                    message: format!("expected a table, found {value}"),
                });
            };
            let entry = base
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(base_section) = entry {
                for (k, v) in over {
                    base_section.insert(k.clone(), v.clone());
                }
            }
        }
        Self::decode(base)
    }

    fn decode(table: toml::Table) -> Result<Self, RulesError> {
        let rules: SyncRules = serde_path_to_error::deserialize(toml::Value::Table(table))
            .map_err(|e| RulesError::Invalid {
                key: e.path().to_string(),
                message: e.into_inner().message().to_owned(),
            })?;
        rules.validate()?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), RulesError> {
        let single = [
            ("variable_accounts", self.scoping.variable_accounts),
            ("variable_certificates", self.scoping.variable_certificates),
            ("variable_worker_pools", self.scoping.variable_worker_pools),
        ];
        for (key, mode) in single {
            if !mode.allowed_for_single_value() {
                return Err(RulesError::Invalid {
                    key: format!("scoping.{key}"),
                    message: format!(
                        "{:?} is not allowed for a single-value reference; use \
                         error-unless-exact-match, skip-unless-exact-match or ignore-mismatch",
                        kebab(mode)
                    ),
                });
            }
        }
        Ok(())
    }
}

fn kebab(mode: ScopeMode) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_documented_values() {
        let rules = SyncRules::from_toml_str("").unwrap();
        assert_eq!(rules, SyncRules::default());
        assert_eq!(rules.policy.placeholder_value, "REPLACE ME");
        assert!(
            rules
                .policy
                .add_additional_variable_values_on_existing_variable_sets
        );
        assert_eq!(
            rules.scoping.variable_accounts,
            ScopeMode::SkipUnlessExactMatch
        );
        assert_eq!(
            rules.scoping.variable_machines,
            ScopeMode::SkipUnlessPartialMatch
        );
        assert!(!rules.select.environments.matches("Production"));
    }

    #[test]
    fn every_documented_value_parses() {
        let text = r#"
            [source]
            url = "https://ignored.example"
            [select]
            environments = "all"
            projects = ["Octo?X", "!OctoFX Legacy"]
            tenants = ["!Development Team *"]
            [policy]
            overwrite_existing_variables = "always"
            overwrite_existing_lifecycle_phases = "never-clone-phases"
            process_cloning = "source-only"
            sync_tenant_variables = true
            placeholder_value = "Replace Me"
            prune = ["steps", "variables"]
            [scoping]
            process_environments = "ignore-mismatch-on-new-leave-existing-alone"
            process_channels = "error-unless-partial-match"
            variable_actions = "error-unless-exact-match"
            variable_accounts = "ignore-mismatch"
            [environment_map]
            Test = "Staging"
            Development = ["Staging", "Production"]
        "#;
        let rules = SyncRules::from_toml_str(text).unwrap();
        assert!(rules.select.environments.matches("anything"));
        assert!(rules.select.projects.matches(" octofx "));
        assert!(!rules.select.projects.matches("OctoFX Legacy"));
        assert!(rules.select.tenants.matches("Internal"));
        assert!(!rules.select.tenants.matches("development team a"));
        assert_eq!(rules.policy.process_cloning, ProcessCloning::SourceOnly);
        assert_eq!(
            rules.policy.overwrite_existing_lifecycle_phases,
            OverwriteLifecyclePhases::NeverClonePhases
        );
        assert_eq!(
            rules.policy.prune,
            vec![PruneKind::Steps, PruneKind::Variables]
        );
        assert_eq!(
            rules.scoping.process_environments,
            ScopeMode::IgnoreMismatchOnNewLeaveExistingAlone
        );
        assert_eq!(rules.environment_map.map("test"), vec!["Staging"]);
        assert_eq!(rules.environment_map.map("Production"), vec!["Production"]);
        assert_eq!(
            rules.environment_map.map("Development"),
            vec!["Staging", "Production"]
        );
    }

    #[test]
    fn unknown_keys_and_values_name_the_key_and_the_value() {
        let err =
            SyncRules::from_toml_str("[policy]\noverwrite_existing_variables = \"sometimes\"")
                .unwrap_err();
        let RulesError::Invalid { key, message } = &err else {
            panic!("{err}")
        };
        assert_eq!(key, "policy.overwrite_existing_variables");
        assert!(message.contains("sometimes"), "{message}");
        assert!(message.contains("add-new-with-placeholder"), "{message}");

        let err = SyncRules::from_toml_str("[scoping]\nvariable_enviroments = \"ignore-mismatch\"")
            .unwrap_err();
        assert!(err.to_string().contains("variable_enviroments"), "{err}");

        let err = SyncRules::from_toml_str("[select]\nprojects = [\"[\"]").unwrap_err();
        assert!(err.to_string().contains("select.projects"), "{err}");

        let err = SyncRules::from_toml_str(
            "[scoping]\nvariable_certificates = \"skip-unless-partial-match\"",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("scoping.variable_certificates"),
            "{err}"
        );
        assert!(
            err.to_string().contains("skip-unless-partial-match"),
            "{err}"
        );

        assert!(matches!(
            SyncRules::from_toml_str("[policy"),
            Err(RulesError::Toml(_))
        ));
    }

    #[test]
    fn overrides_replace_only_the_keys_they_name() {
        let base = SyncRules::from_toml_str(
            "[select]\nprojects = [\"all\"]\n[environment_map]\nTest = \"Staging\"\nDev = \"Staging\"",
        )
        .unwrap();
        let over: toml::Table = toml::from_str(
            "[scoping]\nvariable_environments = \"ignore-mismatch\"\n[environment_map]\nTest = \"Production\"",
        )
        .unwrap();
        let merged = base.with_overrides(&over).unwrap();
        assert!(merged.select.projects.matches("x"));
        assert_eq!(
            merged.scoping.variable_environments,
            ScopeMode::IgnoreMismatch
        );
        assert_eq!(merged.environment_map.map("Test"), vec!["Production"]);
        assert_eq!(merged.environment_map.map("Dev"), vec!["Staging"]);

        let bad: toml::Table = toml::from_str("[polcy]\nx = 1").unwrap();
        let err = base.with_overrides(&bad).unwrap_err();
        assert!(err.to_string().contains("polcy"), "{err}");
        let bad: toml::Table = toml::from_str("[policy]\nprocess_cloning = \"merge\"").unwrap();
        let err = base.with_overrides(&bad).unwrap_err();
        assert!(err.to_string().contains("policy.process_cloning"), "{err}");
        assert!(err.to_string().contains("merge"), "{err}");
    }
}
