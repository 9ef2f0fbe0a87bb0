//! One source, many destinations: connect, load, plan and (optionally) apply, each
//! destination concurrently with its own rules, report and clean-up log.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::join_all;
use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_model::ResourceKind;
use sync_core::{Plan, Snapshot, SyncRules};

use crate::apply::{apply_plan_with, ApplyHooks, ApplyOptions, ApplyProgress, ApplyReport, Replan};
use crate::config::{ConfigError, InstanceConfig};
use crate::load::{kinds_to_read, load_snapshot, LoadError};

/// What went wrong in a run, for one instance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The config is not usable (a missing API key variable, …).
    #[error(transparent)]
    Config(#[from] Box<ConfigError>),
    /// A client could not be built.
    #[error("cannot connect to {instance}: {source}")]
    Connect {
        /// The instance.
        instance: String,
        /// Why.
        #[source]
        source: Box<octopus_client::Error>,
    },
    /// A live server was needed but the instance is a snapshot directory.
    #[error(
        "{0} is a snapshot directory, not a server: it can be planned against but not connected to"
    )]
    Offline(String),
    /// A snapshot could not be loaded.
    #[error(transparent)]
    Load(#[from] Box<LoadError>),
    /// The engine refused to plan.
    #[error("cannot plan {destination}: {source}")]
    Plan {
        /// The destination.
        destination: String,
        /// Why.
        #[source]
        source: Box<sync_core::PlanError>,
    },
}

/// Builds the HTTP client for one instance of the config; the API key comes from the
/// environment variable the config names.
pub fn connect(
    instance: &InstanceConfig,
    options: &crate::config::ApplySettings,
) -> Result<OctopusHttpClient, RunError> {
    connect_with_key(
        instance,
        ApiKey::new(instance.api_key().map_err(Box::new)?),
        options,
    )
}

/// Builds the HTTP client for one instance with a key the caller holds.
pub fn connect_with_key(
    instance: &InstanceConfig,
    key: ApiKey,
    options: &crate::config::ApplySettings,
) -> Result<OctopusHttpClient, RunError> {
    let rpm = (options.requests_per_minute > 0).then_some(options.requests_per_minute);
    let Some(url) = &instance.url else {
        return Err(RunError::Offline(instance.display_name()));
    };
    OctopusHttpClient::builder(url.as_str(), key)
        .space_name(instance.space.clone())
        .allow_http(instance.allow_insecure_http)
        .timeout(Duration::from_secs(options.timeout_seconds))
        .max_concurrency(options.concurrency)
        .requests_per_minute(rpm)
        .build()
        .map_err(|source| RunError::Connect {
            instance: instance.display_name(),
            source: Box::new(source),
        })
}

/// One destination of a run.
pub struct Destination<'a> {
    /// Its name, for reports.
    pub name: String,
    /// The space, by name or id.
    pub space: String,
    /// The client.
    pub client: &'a dyn OctopusWrite,
    /// Its rules.
    pub rules: SyncRules,
}

/// What a run did for one destination.
#[derive(Debug)]
pub struct DestinationRun {
    /// The destination's name.
    pub name: String,
    /// The plan, or why there is none.
    pub plan: Result<Plan, RunError>,
    /// What apply did, when the run applied.
    pub applied: Option<ApplyReport>,
}

/// Whether a run only plans or also applies.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Plan only.
    Plan,
    /// Plan, then apply.
    Apply(ApplyOptions),
}

/// Loads the source once (everything any destination's rules need) and plans, and with
/// [`Mode::Apply`] applies, every destination concurrently.
///
/// The source is an [`OctopusRead`]: a run cannot write to it.
pub async fn run(
    source: &dyn OctopusRead,
    source_name: &str,
    source_space: &str,
    destinations: &[Destination<'_>],
    mode: &Mode,
) -> Result<Vec<DestinationRun>, RunError> {
    let kinds: BTreeSet<ResourceKind> = destinations
        .iter()
        .flat_map(|d| kinds_to_read(&d.rules))
        .collect();
    let source_snapshot = load_snapshot(source, source_name, source_space, &kinds)
        .await
        .map_err(Box::new)?;
    let runs = destinations.iter().map(|dest| {
        let source_snapshot = &source_snapshot;
        async move { run_one(source_snapshot, dest, mode).await }
    });
    Ok(join_all(runs).await)
}

async fn run_one(source: &Snapshot, dest: &Destination<'_>, mode: &Mode) -> DestinationRun {
    let planned = plan_destination(source, dest).await;
    let applied = match (&planned, mode) {
        (Ok(plan), Mode::Apply(options)) => {
            Some(apply_converging(source, dest, plan, options).await)
        }
        _ => None,
    };
    DestinationRun {
        name: dest.name.clone(),
        plan: planned,
        applied,
    }
}

/// Loads one destination and plans it against the source snapshot.
pub async fn plan_destination(source: &Snapshot, dest: &Destination<'_>) -> Result<Plan, RunError> {
    let kinds = kinds_to_read(&dest.rules);
    let snapshot = load_snapshot(dest.client, &dest.name, &dest.space, &kinds)
        .await
        .map_err(Box::new)?;
    sync_core::plan(source, &snapshot, &dest.rules).map_err(|source| RunError::Plan {
        destination: dest.name.clone(),
        source: Box::new(source),
    })
}

/// The most passes [`apply_converging`] makes.
pub const MAX_APPLY_PASSES: usize = 3;

/// Applies a plan to one destination; a document changed on the destination since it
/// was read is planned again from its current state (see [`crate::apply::ApplyHooks`]).
pub async fn apply_guarded(
    source: &Snapshot,
    dest: &Destination<'_>,
    plan: &Plan,
    options: &ApplyOptions,
    progress: Option<&dyn ApplyProgress>,
) -> ApplyReport {
    let replan = || -> futures::future::BoxFuture<'_, Result<Plan, Box<dyn std::error::Error + Send + Sync>>> {
        Box::pin(async move {
            plan_destination(source, dest)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
        })
    };
    let replan: &Replan<'_> = &replan;
    let hooks = ApplyHooks {
        replan: Some(replan),
        progress,
    };
    apply_plan_with(dest.client, plan, &options.with_rules(&dest.rules), &hooks).await
}

/// Applies a plan, then plans again and applies what is left, until nothing is (at most
/// [`MAX_APPLY_PASSES`] passes).
///
/// Some values can only be planned once what they hang on exists: tenant variables of a
/// project created in the same run are keyed by template ids the server assigns when
/// the project is created. The plan says so in its clean-up log; this second pass is
/// the "re-run" that completes them, so one apply leaves nothing to do. A failed pass
/// stops the loop. This is for programs that embed the sync unattended; the command
/// line shows each follow-up plan and asks before applying it.
pub async fn apply_converging(
    source: &Snapshot,
    dest: &Destination<'_>,
    first: &Plan,
    options: &ApplyOptions,
) -> ApplyReport {
    let mut report = ApplyReport::default();
    if !first.has_changes() {
        return report;
    }
    let mut pass = apply_guarded(source, dest, first, options, None).await;
    for _ in 1..MAX_APPLY_PASSES {
        let ok = pass.is_success();
        report.results.append(&mut pass.results);
        if !ok {
            return report;
        }
        match plan_destination(source, dest).await {
            Ok(next) if next.has_changes() => {
                tracing::info!(destination = %dest.name, "applying what the previous pass made possible");
                pass = apply_guarded(source, dest, &next, options, None).await;
            }
            Ok(_) => return report,
            Err(e) => {
                tracing::warn!(destination = %dest.name, error = %e, "cannot plan again after applying");
                return report;
            }
        }
    }
    report.results.append(&mut pass.results);
    report
}

pub use sync_core::{version_verdict, VersionVerdict};
