//! The one path from instances to plans and applies: load the source once, then load,
//! plan and (optionally) apply each destination concurrently, each with its own rules.
//!
//! An instance is [`Instance::Live`] (a server, through a client) or [`Instance::Dir`]
//! (a snapshot directory written by `octosync export`, planned against but never
//! written). [`run`] starts from a [`SyncConfig`]; [`run_instances`] from clients a
//! program already holds. The command line uses the steps below ([`plan_all`], then
//! [`apply_passes`], which asks through a callback before each follow-up plan; or
//! [`check_planned_against`] and [`apply_exactly`] for a reviewed plan) so it can show
//! each plan and ask before applying it; whoever watches a run (progress bars) listens
//! through [`RunProgress`].

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use futures::future::join_all;
use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_model::{OctopusVersion, ResourceKind};
use sync_core::{Plan, Snapshot, SyncRules};

use crate::apply::{apply_plan_with, ApplyHooks, ApplyOptions, ApplyProgress, ApplyReport, Replan};
use crate::config::{ApplySettings, ConfigError, InstanceConfig, SyncConfig};
use crate::known::Memory;
use crate::load::{kinds_to_read, load_snapshot_with, LoadError, LoadProgress};
use crate::report::FollowUp;
use crate::snapshot_dir::SnapshotDirError;

pub use sync_core::{version_verdict, VersionVerdict};

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
    /// A server was needed (to write to, or to connect to) but the instance is a
    /// snapshot directory.
    #[error("{0} is a snapshot directory, not a server: it can be planned against, not applied to or connected to")]
    Offline(String),
    /// A snapshot could not be loaded from a server.
    #[error(transparent)]
    Load(#[from] Box<LoadError>),
    /// A snapshot directory could not be read.
    #[error(transparent)]
    Dir(#[from] Box<SnapshotDirError>),
    /// A server did not answer what it is.
    #[error("cannot reach {instance}: {source}")]
    Reach {
        /// The instance.
        instance: String,
        /// Why.
        #[source]
        source: Box<octopus_client::Error>,
    },
    /// A saved plan was made against another version of the destination's server than
    /// the one it runs now, which may read the same bodies differently.
    #[error("{destination} runs Octopus {now}; the plan was made against {planned}: plan again")]
    VersionChanged {
        /// The destination.
        destination: String,
        /// The version it runs now.
        now: String,
        /// The version the plan was made against.
        planned: String,
    },
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

/// A snapshot directory standing in for an instance: its path, and the server version
/// to assume when it has no `api.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotDir {
    /// The directory (`DIR`, holding `DIR/<space name>/`).
    pub path: PathBuf,
    /// The version when `DIR/api.json` is missing (`version` in the config).
    pub version: Option<String>,
}

impl SnapshotDir {
    /// Reads one space of the directory.
    pub fn read(&self, space: &str) -> Result<Snapshot, RunError> {
        crate::snapshot_dir::read(&self.path, space, self.version.as_deref())
            .map_err(|e| RunError::Dir(Box::new(e)))
    }
}

/// Where an instance's documents come from. `C` is what the run may do with a server:
/// [`OctopusRead`] for the source (the type system, not a convention, keeps it
/// unwritten), [`OctopusWrite`] for destinations.
pub enum Instance<'a, C: ?Sized> {
    /// A server, through its client.
    Live(&'a C),
    /// A snapshot directory: planned against, never written.
    Dir(SnapshotDir),
}

/// The source of a run.
pub struct Source<'a> {
    /// Its name, for reports and errors.
    pub name: String,
    /// The space, by name or id.
    pub space: String,
    /// A server (read only) or a snapshot directory.
    pub instance: Instance<'a, dyn OctopusRead + 'a>,
    /// What earlier reads of the server found (see [`crate::known`]): with it, a read
    /// re-reads only what the audit log says changed since. `None` reads everything.
    pub memory: Option<&'a Memory>,
}

impl<'a> Source<'a> {
    /// A source read from a server.
    pub fn live(
        name: impl Into<String>,
        space: impl Into<String>,
        client: &'a dyn OctopusRead,
    ) -> Self {
        Source {
            name: name.into(),
            space: space.into(),
            instance: Instance::Live(client),
            memory: None,
        }
    }

    /// Reads remembering what was read in `memory`, and re-reading only what changed
    /// since when it knows the space (see [`crate::known`]).
    pub fn remembering(mut self, memory: &'a Memory) -> Self {
        self.memory = Some(memory);
        self
    }

    fn reading(&self) -> Reading<'_> {
        match &self.instance {
            Instance::Live(client) => Reading::Live(*client, self.memory),
            Instance::Dir(dir) => Reading::Dir(dir),
        }
    }

    /// The server version, and for a server that the space exists (what `octosync
    /// validate` checks before anything is planned).
    pub async fn check(&self) -> Result<OctopusVersion, RunError> {
        self.reading().check(&self.name, &self.space).await
    }
}

/// One destination of a run.
pub struct Destination<'a> {
    /// Its name, for reports and errors.
    pub name: String,
    /// The space, by name or id.
    pub space: String,
    /// A server or a snapshot directory (which can only be planned against).
    pub instance: Instance<'a, dyn OctopusWrite + 'a>,
    /// Its rules.
    pub rules: SyncRules,
    /// What earlier reads of the server found (see [`crate::known`]): with it, a read
    /// (also the plan again after an apply) re-reads only what the audit log says
    /// changed since. `None` reads everything.
    pub memory: Option<&'a Memory>,
}

impl<'a> Destination<'a> {
    /// A destination on a server.
    pub fn live(
        name: impl Into<String>,
        space: impl Into<String>,
        client: &'a dyn OctopusWrite,
        rules: SyncRules,
    ) -> Self {
        Destination {
            name: name.into(),
            space: space.into(),
            instance: Instance::Live(client),
            rules,
            memory: None,
        }
    }

    /// Reads remembering what was read in `memory`, and re-reading only what changed
    /// since when it knows the space (see [`crate::known`]).
    pub fn remembering(mut self, memory: &'a Memory) -> Self {
        self.memory = Some(memory);
        self
    }

    /// The client to write with; a snapshot directory has none.
    pub fn writer(&self) -> Result<&'a dyn OctopusWrite, RunError> {
        match &self.instance {
            Instance::Live(client) => Ok(*client),
            Instance::Dir(_) => Err(RunError::Offline(self.name.clone())),
        }
    }

    fn reading(&self) -> Reading<'_> {
        match &self.instance {
            Instance::Live(client) => Reading::Live(*client, self.memory),
            Instance::Dir(dir) => Reading::Dir(dir),
        }
    }

    /// The server version, and for a server that the space exists.
    pub async fn check(&self) -> Result<OctopusVersion, RunError> {
        self.reading().check(&self.name, &self.space).await
    }
}

/// An instance as far as reading goes, source or destination alike.
enum Reading<'a> {
    Live(&'a dyn OctopusRead, Option<&'a Memory>),
    Dir(&'a SnapshotDir),
}

impl Reading<'_> {
    async fn load(
        &self,
        name: &str,
        space: &str,
        kinds: &BTreeSet<ResourceKind>,
        progress: &dyn RunProgress,
    ) -> Result<Snapshot, RunError> {
        match self {
            Reading::Live(client, memory) => {
                let listener = progress.reading(name);
                let full = || load_snapshot_with(*client, name, space, kinds, listener.as_deref());
                let read = match memory {
                    Some(memory) => {
                        crate::known::load_remembering(*client, name, kinds, memory, full).await
                    }
                    None => full().await,
                };
                Ok(read.map_err(Box::new)?)
            }
            Reading::Dir(dir) => dir.read(space),
        }
    }

    async fn check(&self, name: &str, space: &str) -> Result<OctopusVersion, RunError> {
        match self {
            Reading::Live(client, _) => {
                let version = client.version().await.map_err(|e| RunError::Reach {
                    instance: name.to_owned(),
                    source: Box::new(e),
                })?;
                crate::load::find_space(*client, name, space)
                    .await
                    .map_err(Box::new)?;
                Ok(version)
            }
            Reading::Dir(dir) => Ok(dir.read(space)?.version),
        }
    }
}

/// Told how a run goes; the command line draws progress bars. Both methods default to
/// telling nobody.
pub trait RunProgress: Send + Sync {
    /// Reading a server starts; the listener returned hears of every collection read.
    fn reading(&self, _instance: &str) -> Option<Box<dyn LoadProgress + '_>> {
        None
    }
    /// Applying to a destination starts; the listener returned hears of every layer and
    /// op.
    fn applying(&self, _destination: &str) -> Option<Box<dyn ApplyProgress + '_>> {
        None
    }
}

/// A run nobody watches.
#[derive(Clone, Copy, Debug, Default)]
pub struct Unwatched;

impl RunProgress for Unwatched {}

/// The clients of every instance of a config, connected once: what [`run`] and the
/// command line plan and apply through.
pub struct Connected {
    source: Owned,
    destinations: Vec<(Owned, SyncRules)>,
}

struct Owned {
    name: String,
    space: String,
    side: Side,
}

enum Side {
    Live(OctopusHttpClient),
    Dir(SnapshotDir),
}

impl Owned {
    fn open(
        instance: &InstanceConfig,
        settings: &ApplySettings,
        space_id: Option<&str>,
    ) -> Result<Self, RunError> {
        let side = match &instance.snapshot {
            Some(path) => Side::Dir(SnapshotDir {
                path: path.clone(),
                version: instance.version.clone(),
            }),
            None => Side::Live(match space_id {
                Some(id) => connect_to_space(instance, settings, id)?,
                None => connect(instance, settings)?,
            }),
        };
        Ok(Owned {
            name: instance.display_name(),
            space: instance.space.clone(),
            side,
        })
    }
}

impl Connected {
    /// Builds a client for every server of `config` (API keys from the environment
    /// variables it names; nothing is requested yet). Snapshot directories need none.
    pub fn open(config: &SyncConfig) -> Result<Self, RunError> {
        Self::open_in_spaces(config, None, &[])
    }

    /// [`Connected::open`], naming each server's space by the id an earlier run found
    /// (`source`, then the destinations in order; `None` looks the space up by name),
    /// which saves looking it up before the first request.
    pub fn open_in_spaces(
        config: &SyncConfig,
        source: Option<&str>,
        destinations: &[Option<String>],
    ) -> Result<Self, RunError> {
        Ok(Connected {
            source: Owned::open(&config.source, &config.apply, source)?,
            destinations: config
                .destinations
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let id = destinations.get(i).and_then(|id| id.as_deref());
                    Ok((
                        Owned::open(&d.instance, &config.apply, id)?,
                        d.rules.clone(),
                    ))
                })
                .collect::<Result<_, RunError>>()?,
        })
    }

    /// The source.
    pub fn source(&self) -> Source<'_> {
        let o = &self.source;
        Source {
            name: o.name.clone(),
            space: o.space.clone(),
            instance: match &o.side {
                Side::Live(client) => Instance::Live(client),
                Side::Dir(dir) => Instance::Dir(dir.clone()),
            },
            memory: None,
        }
    }

    /// The destinations, in the config's order.
    pub fn destinations(&self) -> Vec<Destination<'_>> {
        self.destinations
            .iter()
            .map(|(o, rules)| Destination {
                name: o.name.clone(),
                space: o.space.clone(),
                instance: match &o.side {
                    Side::Live(client) => Instance::Live(client),
                    Side::Dir(dir) => Instance::Dir(dir.clone()),
                },
                rules: rules.clone(),
                memory: None,
            })
            .collect()
    }
}

/// Builds the HTTP client for one instance of the config; the API key comes from the
/// environment variable the config names.
pub fn connect(
    instance: &InstanceConfig,
    options: &ApplySettings,
) -> Result<OctopusHttpClient, RunError> {
    if instance.snapshot.is_some() {
        return Err(RunError::Offline(instance.display_name()));
    }
    connect_with_key(
        instance,
        ApiKey::new(instance.api_key().map_err(Box::new)?),
        options,
    )
}

/// [`connect`], naming the space by its id (found by an earlier run), so it is not
/// looked up by name.
pub fn connect_to_space(
    instance: &InstanceConfig,
    options: &ApplySettings,
    space_id: &str,
) -> Result<OctopusHttpClient, RunError> {
    if instance.snapshot.is_some() {
        return Err(RunError::Offline(instance.display_name()));
    }
    let key = ApiKey::new(instance.api_key().map_err(Box::new)?);
    build_client(instance, key, options, Some(space_id))
}

/// Builds the HTTP client for one instance with a key the caller holds.
pub fn connect_with_key(
    instance: &InstanceConfig,
    key: ApiKey,
    options: &ApplySettings,
) -> Result<OctopusHttpClient, RunError> {
    build_client(instance, key, options, None)
}

fn build_client(
    instance: &InstanceConfig,
    key: ApiKey,
    options: &ApplySettings,
    space_id: Option<&str>,
) -> Result<OctopusHttpClient, RunError> {
    let rpm = (options.requests_per_minute > 0).then_some(options.requests_per_minute);
    let Some(url) = &instance.url else {
        return Err(RunError::Offline(instance.display_name()));
    };
    let builder = OctopusHttpClient::builder(url.as_str(), key);
    let builder = match space_id {
        Some(id) => builder.space_id(id.to_owned()),
        None => builder.space_name(instance.space.clone()),
    };
    builder
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
    /// Plan, then apply (see [`apply_converging`]).
    Apply(ApplyOptions),
}

/// Connects to every instance of `config` and plans, and with [`Mode::Apply`] applies,
/// every destination concurrently: the sync as a library call.
///
/// With [`Mode::Apply`], a destination that is a snapshot directory is refused before
/// anything is read.
pub async fn run(config: &SyncConfig, mode: &Mode) -> Result<Vec<DestinationRun>, RunError> {
    let connected = Connected::open(config)?;
    run_instances(&connected.source(), &connected.destinations(), mode).await
}

/// [`run`] with instances the caller holds: loads the source once (everything any
/// destination's rules need), then plans, and with [`Mode::Apply`] applies, every
/// destination concurrently.
pub async fn run_instances(
    source: &Source<'_>,
    destinations: &[Destination<'_>],
    mode: &Mode,
) -> Result<Vec<DestinationRun>, RunError> {
    if matches!(mode, Mode::Apply(_)) {
        for dest in destinations {
            dest.writer()?;
        }
    }
    let source_snapshot = load_source(source, destinations, &Unwatched).await?;
    let runs = destinations.iter().map(|dest| {
        let source_snapshot = &source_snapshot;
        async move {
            let planned = plan_destination(source_snapshot, dest).await;
            let applied = match (&planned, mode) {
                (Ok(plan), Mode::Apply(options)) => {
                    apply_converging(source_snapshot, dest, plan, options)
                        .await
                        .ok()
                }
                _ => None,
            };
            DestinationRun {
                name: dest.name.clone(),
                plan: planned,
                applied,
            }
        }
    });
    Ok(join_all(runs).await)
}

/// Loads the source: every kind any destination's rules read.
pub async fn load_source(
    source: &Source<'_>,
    destinations: &[Destination<'_>],
    progress: &dyn RunProgress,
) -> Result<Snapshot, RunError> {
    let kinds: BTreeSet<ResourceKind> = destinations
        .iter()
        .flat_map(|d| kinds_to_read(&d.rules))
        .collect();
    tracing::info!(source = %source.name, "loading the source");
    source
        .reading()
        .load(&source.name, &source.space, &kinds, progress)
        .await
}

/// Loads one destination and plans it against the source snapshot.
pub async fn plan_destination(source: &Snapshot, dest: &Destination<'_>) -> Result<Plan, RunError> {
    plan_destination_with(source, dest, &Unwatched).await
}

/// [`plan_destination`], telling `progress` how reading the destination goes.
pub async fn plan_destination_with(
    source: &Snapshot,
    dest: &Destination<'_>,
    progress: &dyn RunProgress,
) -> Result<Plan, RunError> {
    let kinds = kinds_to_read(&dest.rules);
    let snapshot = dest
        .reading()
        .load(&dest.name, &dest.space, &kinds, progress)
        .await?;
    let plan =
        sync_core::plan(source, &snapshot, &dest.rules).map_err(|source| RunError::Plan {
            destination: dest.name.clone(),
            source: Box::new(source),
        })?;
    log_decisions(&dest.name, &plan);
    Ok(plan)
}

/// Every decision of a plan, to the log.
fn log_decisions(destination: &str, plan: &Plan) {
    for op in plan.ops() {
        tracing::debug!(
            target: "octosync::decision",
            destination,
            kind = %op.item.kind,
            item = %op.item,
            action = ?op.action(),
            reason = %op.reason,
            "decision"
        );
    }
}

/// The source snapshot and every destination's plan, in the destinations' order.
#[derive(Debug)]
pub struct Planned {
    /// The source as it was read: what the plans were made from, and what documents
    /// changed during an apply are planned again from.
    pub source: Snapshot,
    /// Each destination's plan, or why there is none.
    pub plans: Vec<Result<Plan, RunError>>,
}

impl Planned {
    /// Every plan, or the first destination's error.
    pub fn into_plans(self) -> Result<(Snapshot, Vec<Plan>), RunError> {
        let plans = self.plans.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok((self.source, plans))
    }
}

/// Loads the source once, then loads and plans every destination concurrently.
pub async fn plan_all(
    source: &Source<'_>,
    destinations: &[Destination<'_>],
    progress: &dyn RunProgress,
) -> Result<Planned, RunError> {
    let source_snapshot = load_source(source, destinations, progress).await?;
    let plans = join_all(
        destinations
            .iter()
            .map(|dest| plan_destination_with(&source_snapshot, dest, progress)),
    )
    .await;
    Ok(Planned {
        source: source_snapshot,
        plans,
    })
}

/// The most passes [`apply_converging`] makes.
pub const MAX_APPLY_PASSES: usize = 3;

/// Applies a plan to one destination; a document changed on the destination since it
/// was read is planned again from its current state (see [`crate::apply::ApplyHooks`]).
/// A snapshot-directory destination is refused.
pub async fn apply_guarded(
    source: &Snapshot,
    dest: &Destination<'_>,
    plan: &Plan,
    options: &ApplyOptions,
    progress: Option<&dyn ApplyProgress>,
) -> Result<ApplyReport, RunError> {
    let writer = dest.writer()?;
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
    Ok(apply_plan_with(writer, plan, &options.with_rules(&dest.rules), &hooks).await)
}

/// Checks that a reviewed plan can still be applied to `dest` as it was planned: the
/// destination is a server, its space exists, and it runs the version the plan was made
/// against. `apply --plan FILE` checks every destination before writing to any.
pub async fn check_planned_against(dest: &Destination<'_>, plan: &Plan) -> Result<(), RunError> {
    dest.writer()?;
    let now = dest.check().await?.to_string();
    if now != plan.destination_version {
        return Err(RunError::VersionChanged {
            destination: dest.name.clone(),
            now,
            planned: plan.destination_version.clone(),
        });
    }
    Ok(())
}

/// Applies a reviewed plan exactly (`apply --plan FILE`): nothing is planned again, and
/// an update of a document changed since the plan is refused, not rewritten.
pub async fn apply_exactly(
    dest: &Destination<'_>,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &dyn RunProgress,
) -> Result<ApplyReport, RunError> {
    let writer = dest.writer()?;
    let listener = progress.applying(&dest.name);
    let hooks = ApplyHooks {
        replan: None,
        progress: listener.as_deref(),
    };
    Ok(apply_plan_with(writer, plan, &options.with_rules(&dest.rules), &hooks).await)
}

/// One apply pass over every destination, concurrently: each plan that has changes is
/// applied with [`apply_guarded`]; the others get an empty report. A snapshot-directory
/// destination is refused before anything is written.
pub async fn apply_all(
    source: &Snapshot,
    destinations: &[Destination<'_>],
    plans: &[Plan],
    options: &ApplyOptions,
    progress: &dyn RunProgress,
) -> Result<Vec<ApplyReport>, RunError> {
    for dest in destinations {
        dest.writer()?;
    }
    let reports = join_all(
        destinations
            .iter()
            .zip(plans)
            .map(|(dest, plan)| async move {
                if !plan.has_changes() {
                    return Ok(ApplyReport::default());
                }
                let listener = progress.applying(&dest.name);
                apply_guarded(source, dest, plan, options, listener.as_deref()).await
            }),
    )
    .await;
    reports.into_iter().collect()
}

/// What the passes of an apply did, per destination in the destinations' order.
#[derive(Debug, Default)]
pub struct Applied {
    /// Every op of every pass.
    pub reports: Vec<ApplyReport>,
    /// Whether work is left that the passes did not do.
    pub follow_ups: Vec<FollowUp>,
    /// The last plans, made from the destinations as the passes left them (what the
    /// state records as matching the source); `None` when a pass failed.
    pub latest: Option<Vec<Plan>>,
}

/// Shown each follow-up plan (one per destination, in their order); answers whether to
/// apply it. The command line prints the plans and asks a person; a program that runs
/// unattended answers yes.
pub type ApproveFollowUp<'a> = dyn FnMut(&[Plan]) -> bool + Send + 'a;

/// Applies the first plans, then plans again and, when `approve` agrees, applies what
/// is left, until nothing is (at most [`MAX_APPLY_PASSES`] passes in all).
///
/// Some values can only be planned once what they hang on exists: tenant variables of a
/// project created in the same run are keyed by template ids the server assigns when
/// the project is created. The plan says so in its clean-up log; the follow-up pass is
/// the "re-run" that completes them, so one apply leaves nothing to do. A failed pass
/// stops the passes (the follow-ups are then not checked); a follow-up not approved, or
/// one beyond the last pass, is reported as needed. The source is not read again: a
/// sync never writes to it.
pub async fn apply_passes(
    source: &Snapshot,
    destinations: &[Destination<'_>],
    first: &[Plan],
    options: &ApplyOptions,
    progress: &dyn RunProgress,
    approve: &mut ApproveFollowUp<'_>,
) -> Result<Applied, RunError> {
    let mut reports: Vec<ApplyReport> = destinations
        .iter()
        .map(|_| ApplyReport::default())
        .collect();
    let mut follow_ups = vec![FollowUp::None; destinations.len()];
    if !first.iter().any(Plan::has_changes) {
        return Ok(Applied {
            reports,
            follow_ups,
            latest: Some(first.to_vec()),
        });
    }
    let mut latest = None;
    let pass = apply_all(source, destinations, first, options, progress).await?;
    let mut success = pass.iter().all(ApplyReport::is_success);
    for (all, report) in reports.iter_mut().zip(pass) {
        all.results.extend(report.results);
    }
    let mut passes = 0;
    while success {
        let replanned = join_all(
            destinations
                .iter()
                .map(|dest| plan_destination_with(source, dest, progress)),
        )
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>();
        let next = match replanned {
            Ok(next) => next,
            Err(e) => {
                tracing::warn!(error = %e, "cannot plan again after applying");
                success = false;
                break;
            }
        };
        latest = Some(next.clone());
        if !next.iter().any(Plan::has_changes) {
            break;
        }
        if passes + 1 >= MAX_APPLY_PASSES || !approve(&next) {
            for (follow_up, plan) in follow_ups.iter_mut().zip(&next) {
                if plan.has_changes() {
                    *follow_up = FollowUp::Needed {
                        summary: plan.summary.clone(),
                    };
                }
            }
            break;
        }
        passes += 1;
        tracing::info!(
            pass = passes + 1,
            "applying what the previous pass made possible"
        );
        let pass = apply_all(source, destinations, &next, options, progress).await?;
        success = pass.iter().all(ApplyReport::is_success);
        for ((all, report), (follow_up, plan)) in reports
            .iter_mut()
            .zip(pass)
            .zip(follow_ups.iter_mut().zip(&next))
        {
            all.results.extend(report.results);
            if plan.has_changes() {
                *follow_up = FollowUp::Applied { passes };
            }
        }
    }
    if !success {
        follow_ups = vec![FollowUp::NotChecked; destinations.len()];
        latest = None;
    }
    Ok(Applied {
        reports,
        follow_ups,
        latest,
    })
}

/// [`apply_passes`] for one destination, every follow-up approved: for programs that
/// embed the sync unattended.
pub async fn apply_converging(
    source: &Snapshot,
    dest: &Destination<'_>,
    first: &Plan,
    options: &ApplyOptions,
) -> Result<ApplyReport, RunError> {
    let applied = apply_passes(
        source,
        std::slice::from_ref(dest),
        std::slice::from_ref(first),
        options,
        &Unwatched,
        &mut |_| true,
    )
    .await?;
    Ok(applied.reports.into_iter().next().unwrap_or_default())
}
