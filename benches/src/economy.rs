//! One sync of a bench-M pair of in-process fakes, measured: requests by method on each
//! side, wall time and what the plan and apply did.

use std::time::{Duration, Instant};

use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead, OctopusWrite, RetryPolicy};
use octopus_fake::{FakeConfig, FakeServer, RequestStats, Seed, Snapshot};
use octopus_model::ResourceKind;
use octosync::apply::{ApplyOptions, ApplyReport};
use octosync::known::Memory;
use octosync::runner::{run_instances, Destination, Mode, Source};
use serde_json::Value;
use sync_core::{OpAction, Plan, Summary, SyncRules};

use crate::bench_m::{self, Shape};

/// Why a measured run failed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A fake did not start.
    #[error("cannot start a fake: {0}")]
    Fake(#[from] octopus_fake::FakeError),
    /// A client could not be built or a request failed.
    #[error(transparent)]
    Client(#[from] octopus_client::Error),
    /// The run failed.
    #[error(transparent)]
    Run(#[from] octosync::runner::RunError),
    /// The rules do not parse.
    #[error(transparent)]
    Rules(#[from] sync_core::RulesError),
    /// Something the harness expected is not there.
    #[error("{0}")]
    Unexpected(String),
}

/// Two fakes seeded with bench-M.
pub struct Pair {
    /// The source instance.
    pub source: FakeServer,
    /// The destination instance.
    pub destination: FakeServer,
}

/// How the fakes and clients behave.
#[derive(Clone, Debug)]
pub struct Levers {
    /// Latency per request on both fakes.
    pub latency: Duration,
    /// Requests in flight per client (and ops in flight per apply layer).
    pub concurrency: usize,
    /// The fakes' rate limit (429 beyond it), requests per minute.
    pub rate_limit_rpm: Option<u32>,
    /// The clients' own pacing, requests per minute.
    pub client_rpm: Option<u32>,
}

impl Default for Levers {
    fn default() -> Self {
        Levers {
            latency: Duration::ZERO,
            concurrency: 8,
            rate_limit_rpm: None,
            client_rpm: None,
        }
    }
}

impl Pair {
    /// Starts a source and a destination seeded with bench-M of `shape`.
    pub async fn start(shape: &Shape, levers: &Levers) -> Result<Pair, BenchError> {
        let config = |snapshot: Snapshot| FakeConfig {
            seed: Seed::Snapshot(snapshot),
            latency: levers.latency,
            rate_limit_rpm: levers.rate_limit_rpm,
            ..FakeConfig::default()
        };
        let source = FakeServer::start(config(bench_m::source(shape))).await?;
        let destination = FakeServer::start(config(bench_m::destination())).await?;
        Ok(Pair {
            source,
            destination,
        })
    }

    /// Stops both fakes.
    pub async fn stop(self) {
        self.source.stop().await;
        self.destination.stop().await;
    }
}

/// A client of one fake.
pub fn client(server: &FakeServer, levers: &Levers) -> Result<OctopusHttpClient, BenchError> {
    Ok(
        OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
            .space_name("Default")
            .max_concurrency(levers.concurrency)
            .requests_per_minute(levers.client_rpm)
            .retry(RetryPolicy {
                max_retries: 8,
                ..RetryPolicy::default()
            })
            .build()?,
    )
}

/// Requests by method: `after - before`.
pub fn delta(after: RequestStats, before: RequestStats) -> RequestStats {
    RequestStats {
        get: after.get - before.get,
        post: after.post - before.post,
        put: after.put - before.put,
        delete: after.delete - before.delete,
    }
}

/// What one measured sync did.
#[derive(Debug)]
pub struct Measured {
    /// Requests the source received.
    pub source: RequestStats,
    /// Requests the destination received.
    pub destination: RequestStats,
    /// The plan's counts.
    pub summary: Summary,
    /// The plan's layers (each a round of creates/updates that waits for the last).
    pub layers: usize,
    /// The plan.
    pub plan: Plan,
    /// What apply did.
    pub applied: ApplyReport,
    /// Wall time of the whole sync.
    pub wall: Duration,
    /// Requests the clients retried (after 5xx, 429 or a timeout).
    pub retries: u64,
}

impl Measured {
    /// All requests on both sides.
    pub fn total(&self) -> u64 {
        self.source.total() + self.destination.total()
    }

    /// Writes on both sides.
    pub fn writes(&self) -> u64 {
        let w = |s: &RequestStats| s.post + s.put + s.delete;
        w(&self.source) + w(&self.destination)
    }
}

/// Runs one sync (plan, then apply) from the pair's source to its destination.
pub async fn sync(pair: &Pair, levers: &Levers) -> Result<Measured, BenchError> {
    let rules = SyncRules::from_toml_str(bench_m::RULES)?;
    let source = client(&pair.source, levers)?;
    let destination = client(&pair.destination, levers)?;
    measured(
        pair,
        levers,
        Source::live("source", "Default", &source),
        Destination::live("destination", "Default", &destination, rules),
        || source.stats().retries + destination.stats().retries,
    )
    .await
}

/// Runs one sync between `source` and `destination` (plan, then apply) and measures it
/// by the requests the pair's fakes received; `retries` is read once it has run.
async fn measured(
    pair: &Pair,
    levers: &Levers,
    source: Source<'_>,
    destination: Destination<'_>,
    retries: impl FnOnce() -> u64,
) -> Result<Measured, BenchError> {
    let before = (pair.source.stats(), pair.destination.stats());
    let started = Instant::now();
    let options = ApplyOptions {
        concurrency: levers.concurrency,
        ..ApplyOptions::default()
    };
    let mut runs = run_instances(&source, &[destination], &Mode::Apply(options)).await?;
    let wall = started.elapsed();
    let one = runs
        .pop()
        .ok_or_else(|| BenchError::Unexpected("the run returned no destination".into()))?;
    let plan = one.plan?;
    Ok(Measured {
        source: delta(pair.source.stats(), before.0),
        destination: delta(pair.destination.stats(), before.1),
        layers: plan.layers.len(),
        summary: plan.summary.clone(),
        applied: one.applied.unwrap_or_default(),
        wall,
        retries: retries(),
        plan,
    })
}

/// A program that keeps its clients and what it read between syncs (as `octosync
/// watch` and the command line's state directory do): each sync re-reads only what the
/// audit logs say changed since the last one.
pub struct Remembering {
    source: OctopusHttpClient,
    destination: OctopusHttpClient,
    source_memory: Memory,
    destination_memory: Memory,
}

impl Remembering {
    /// Clients of both fakes and memories that know nothing yet.
    pub fn new(pair: &Pair, levers: &Levers) -> Result<Self, BenchError> {
        Ok(Remembering {
            source: client(&pair.source, levers)?,
            destination: client(&pair.destination, levers)?,
            source_memory: Memory::new(),
            destination_memory: Memory::new(),
        })
    }

    /// One sync (plan, then apply), reading through the memories.
    pub async fn sync(&self, pair: &Pair, levers: &Levers) -> Result<Measured, BenchError> {
        let rules = SyncRules::from_toml_str(bench_m::RULES)?;
        measured(
            pair,
            levers,
            Source::live("source", "Default", &self.source).remembering(&self.source_memory),
            Destination::live("destination", "Default", &self.destination, rules)
                .remembering(&self.destination_memory),
            // The clients live across syncs: their retries are not this sync's alone.
            || 0,
        )
        .await
    }
}

/// Changes the value of one variable of project 0 on the source, through its API.
pub async fn change_one_variable(pair: &Pair) -> Result<(), BenchError> {
    let levers = Levers::default();
    let source = client(&pair.source, &levers)?;
    let id = "variableset-Projects-1";
    let mut set: Value = source.get_raw(ResourceKind::VariableSet, id).await?;
    let first = set
        .get_mut("Variables")
        .and_then(|v| v.get_mut(0))
        .ok_or_else(|| BenchError::Unexpected(format!("{id} has no variables")))?;
    first["Value"] = Value::String("changed by the bench".into());
    source.update(ResourceKind::VariableSet, id, set).await?;
    Ok(())
}

/// The updates of a plan, one line each with the first changed paths: what a re-sync
/// with nothing changed should not have.
pub fn explain_updates(plan: &Plan, limit: usize) -> Vec<String> {
    plan.ops()
        .filter(|op| op.action() == OpAction::Update)
        .take(limit)
        .map(|op| {
            let paths: Vec<String> = op
                .diff()
                .iter()
                .take(3)
                .map(|c| format!("{}: {} -> {}", c.path, c.before, c.after))
                .collect();
            format!(
                "{:?} {:?}: {}",
                op.item.kind,
                op.item.name,
                paths.join("; ")
            )
        })
        .collect()
}
