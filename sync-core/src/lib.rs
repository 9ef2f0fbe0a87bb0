//! The pure octosync engine.
//!
//! [`plan()`] takes a [`Snapshot`] of the source, a snapshot of one destination and the
//! [`SyncRules`], and returns a [`Plan`]: what will be created, updated, left alone or
//! skipped on the destination, in dependency order, with the reason for every decision,
//! the body to send, a field-level diff for updates and a clean-up log of everything a
//! person must look at afterwards (dummy secrets, placeholders, dropped or widened
//! scopes, skipped items, version shims).
//!
//! It does no I/O, has no clock and is not async: the same inputs give the same plan,
//! byte for byte.
//!
//! Everything is matched by trimmed, case-insensitive name and every reference is
//! translated source id -> source name -> destination id. Duplicated names are reported,
//! never resolved by picking one; built-ins are matched, never created.
//!
//! # Example
//!
//! The QA manual-intervention step of Octopus's guide, scoped to **Test** on a
//! Dev/Test instance, lands on **Staging** of a Staging/Production instance through the
//! environment map:
//!
//! ```
//! use serde_json::json;
//! use sync_core::{plan, OpAction, ResourceKind, Snapshot, SyncRules};
//!
//! let version = "2024.1.0".parse()?;
//! let source = Snapshot::from_collections(version, [
//!     ("environments", json!([{"Id": "Environments-1", "Name": "Test"}])),
//!     ("lifecycles", json!([{"Id": "Lifecycles-1", "Name": "Default Lifecycle"}])),
//!     ("projectgroups", json!([{"Id": "ProjectGroups-1", "Name": "Default Project Group"}])),
//!     ("projects", json!([{"Id": "Projects-1", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-1",
//!                          "LifecycleId": "Lifecycles-1"}])),
//!     ("deploymentprocesses", json!([{"Id": "deploymentprocess-Projects-1", "ProjectId": "Projects-1",
//!         "Steps": [{"Name": "QA sign-off", "Actions": [{"Name": "QA sign-off",
//!             "ActionType": "Octopus.Manual", "Environments": ["Environments-1"]}]}]}])),
//!     ("variables", json!([{"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Variables": []}])),
//! ])?;
//! let destination = Snapshot::from_collections("2024.1.0".parse()?, [
//!     ("environments", json!([{"Id": "Environments-7", "Name": "Staging"},
//!                             {"Id": "Environments-8", "Name": "Production"}])),
//!     ("lifecycles", json!([{"Id": "Lifecycles-3", "Name": "Default Lifecycle"}])),
//!     ("projectgroups", json!([{"Id": "ProjectGroups-2", "Name": "Default Project Group"}])),
//! ])?;
//! let rules = SyncRules::from_toml_str(r#"
//!     [select]
//!     projects = ["OctoFX"]
//!     [environment_map]
//!     Test = ["Staging"]
//! "#)?;
//!
//! let plan = plan(&source, &destination, &rules)?;
//! assert_eq!(plan.find(ResourceKind::Project, "octofx").unwrap().action(), OpAction::Create);
//! let process = plan.find(ResourceKind::DeploymentProcess, "OctoFX").unwrap();
//! let body = process.body().unwrap();
//! assert_eq!(body["Steps"][0]["Actions"][0]["Environments"], json!(["Environments-7"]));
//! println!("{plan}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod base;
pub(crate) mod children;
pub(crate) mod context;
pub(crate) mod diff;
pub(crate) mod index;
pub mod kinds;
pub mod ledger;
pub mod plan;
pub(crate) mod planner;
pub mod provenance;
pub mod resolve;
pub mod rules;
pub mod snapshot;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub(crate) mod value_ser;

pub use base::{digest_bytes, digest_json, normalized, Base};
pub use kinds::{KindRow, Planner, KINDS, PLANNERS};
pub use ledger::{IdLedger, LedgerError, ProcessKey};
pub use octopus_model::ResourceKind;
pub use plan::{
    fill_secret_slots, resolve_pending, CertificateFile, Change, CleanupCategory, CleanupEntry,
    ContextResolution, Create, FieldChange, ItemRef, Layer, LayerName, Op, OpAction, OpShapeError,
    Pending, PendingRef, Plan, ResolvedValue, Summary, Target, Update, VariableReview,
    DEFAULT_SECRET_PLACEHOLDER,
};
pub use planner::infra::is_pkcs12_file;
pub use planner::tenants::SCOPED_COMMON_VARIABLES;
pub use provenance::{Provenance, PruneKind};
pub use rules::{RulesError, ScopeMode, SyncRules};
pub use snapshot::{Snapshot, SnapshotError};

use context::Ctx;

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Source and destination are more than one minor version apart and
    /// `allow_version_mismatch` is off.
    #[error("source {source_version} and destination {destination_version} are more than one minor version apart; upgrade one or set policy.allow_version_mismatch")]
    VersionMismatch {
        /// The source's version.
        source_version: String,
        /// The destination's version.
        destination_version: String,
    },
    /// A scope or reference failed under an `error-*` mode.
    #[error("{item}: {reason}")]
    ScopeMismatch {
        /// The item.
        item: ItemRef,
        /// Why.
        reason: String,
    },
    /// The rules ask for something the engine does not do.
    #[error("unsupported rule: {0}")]
    Unsupported(String),
}

/// How far apart a source and a destination version are, and what a sync makes of it:
/// the one verdict `plan` and `octosync validate` share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionVerdict {
    /// The same minor version, or a local build on either side (it has no release
    /// number to compare).
    Same,
    /// One minor version apart: the sync goes on with a warning.
    Warn(String),
    /// More than one minor version apart: refused unless `allow_version_mismatch`.
    Refuse(String),
}

/// Compares a source and a destination version (see [`VersionVerdict`]).
pub fn version_verdict(
    source: &octopus_model::OctopusVersion,
    destination: &octopus_model::OctopusVersion,
) -> VersionVerdict {
    if source.is_local_build() || destination.is_local_build() {
        return VersionVerdict::Same;
    }
    match source.minor_distance(destination) {
        0 => VersionVerdict::Same,
        1 => VersionVerdict::Warn(format!(
            "source {source} and destination {destination} are one minor version apart"
        )),
        n => VersionVerdict::Refuse(format!(
            "source {source} and destination {destination} are {n} minor versions apart"
        )),
    }
}

/// Plans the sync of `destination` from `source` under `rules`.
pub fn plan(
    source: &Snapshot,
    destination: &Snapshot,
    rules: &SyncRules,
) -> Result<Plan, PlanError> {
    let mut warnings = Vec::new();
    if !rules.policy.prune.is_empty() && rules.written.is_none() {
        warnings.push(
            "[policy] prune: nothing is pruned on this run: no state records what earlier syncs from this source wrote to this destination (a first run, a deleted state directory, or a state recorded for another source); the apply records it, and later runs prune what the source removes".to_owned(),
        );
    }
    let (sv, dv) = (&source.version, &destination.version);
    match version_verdict(sv, dv) {
        VersionVerdict::Same => {}
        VersionVerdict::Refuse(_) if !rules.policy.allow_version_mismatch => {
            return Err(PlanError::VersionMismatch {
                source_version: sv.to_string(),
                destination_version: dv.to_string(),
            });
        }
        VersionVerdict::Warn(w) | VersionVerdict::Refuse(w) => {
            warnings.push(format!("{w}; bodies are shimmed for the destination"));
        }
    }
    let select = &rules.select;
    if !select.projects.is_empty() {
        for (kind, filter) in [
            ("channels", &select.channels),
            ("runbooks", &select.runbooks),
        ] {
            if filter.is_empty() {
                warnings.push(format!(
                    "[select] {kind} is empty, so no {kind} of the selected projects are synced; steps and values scoped to them are skipped"
                ));
            }
        }
    }
    let mut ctx = Ctx::new(source, destination, rules);
    ctx.warnings.extend(warnings);
    for (side, ix) in [
        ("source", &ctx.source.index),
        ("destination", &ctx.dest.index),
    ] {
        let dups = ix.duplicates();
        for (kind, owner, name, n) in dups {
            let owner = owner.map(|o| format!(" in {o}")).unwrap_or_default();
            ctx.warnings.push(format!(
                "{n} {side} {kind}s{owner} are named {name:?}; they are not synced until renamed"
            ));
        }
    }
    for planner in PLANNERS {
        (planner.plan)(&mut ctx);
    }
    if let Some(err) = ctx.error.take() {
        return Err(PlanError::ScopeMismatch {
            item: err.item,
            reason: err.reason,
        });
    }
    let layers: Vec<Layer> = std::mem::take(&mut ctx.layers)
        .into_iter()
        .filter(|(_, ops)| !ops.is_empty())
        .map(|(name, ops)| Layer { name, ops })
        .collect();
    let mut summary = Summary::default();
    for op in layers.iter().flat_map(|l| l.ops.iter()) {
        match op.action() {
            OpAction::Create => summary.create += 1,
            OpAction::Update => summary.update += 1,
            OpAction::Unchanged => summary.unchanged += 1,
            OpAction::Skip => summary.skip += 1,
            OpAction::Delete => summary.delete += 1,
        }
        summary.delete += op.removed().len();
    }
    summary.cleanup = ctx.cleanup.len();
    Ok(Plan {
        source_version: sv.to_string(),
        destination_version: dv.to_string(),
        layers,
        cleanup: ctx.cleanup,
        warnings: ctx.warnings,
        summary,
        synced: ctx.synced,
    })
}
