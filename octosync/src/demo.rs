//! `octosync demo`: the whole flow on two in-process Octopus instances, with no server
//! to install and no network.
//!
//! A Dev/Test instance (environments Development and Test, project OctoFX with its
//! process, runbook, variables, tenants, …) feeds a Staging/Production instance
//! (environments Staging and Production, its own account and worker pool, no projects
//! yet), under the commented example config `demo/sync.toml`. The demo plans, applies,
//! prints the clean-up log, then plans again to show nothing is left to do.

use std::fmt::Write as _;

use octopus_client::{ApiKey, OctopusHttpClient};
use octopus_fake::{FakeConfig, FakeServer, RequestStats, Seed};
use sync_core::Plan;

use crate::apply::ApplyReport;
use crate::config::SyncConfig;
use crate::report::{self, Format};
use crate::runner::{connect_with_key, run_instances, Destination, Mode, RunError, Source};

/// The example config the demo runs with.
pub const DEMO_CONFIG: &str = include_str!("../demo/sync.toml");

/// What the demo did.
#[derive(Debug)]
pub struct DemoOutcome {
    /// The first plan.
    pub first_plan: Plan,
    /// What applying it did.
    pub applied: ApplyReport,
    /// The plan after applying: it has no creates or updates.
    pub second_plan: Plan,
    /// Requests the source received (all reads).
    pub source_requests: RequestStats,
    /// Requests the destination received.
    pub destination_requests: RequestStats,
    /// References in the destination's documents that name no document after the apply
    /// (the in-process server's integrity check); a correct sync leaves none.
    pub dangling_references: Vec<octopus_fake::DanglingReference>,
    /// Everything the demo prints.
    pub output: String,
}

/// Why the demo failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// An in-process server did not start.
    #[error("cannot start an in-process Octopus: {0}")]
    Fake(#[from] octopus_fake::FakeError),
    /// The shipped config does not parse.
    #[error(transparent)]
    Config(#[from] Box<crate::config::ConfigError>),
    /// The run failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

async fn start(seed: Seed) -> Result<FakeServer, DemoError> {
    Ok(FakeServer::start(FakeConfig::seeded(seed)).await?)
}

fn client(
    config: &crate::config::InstanceConfig,
    server: &FakeServer,
    options: &crate::config::ApplySettings,
) -> Result<OctopusHttpClient, DemoError> {
    let mut instance = config.clone();
    instance.url = Some(server.url().parse().map_err(|e| {
        Box::new(crate::config::ConfigError::Unusable {
            file: "demo".into(),
            message: format!("the in-process server's URL does not parse: {e}"),
        })
    })?);
    Ok(connect_with_key(
        &instance,
        ApiKey::new(server.api_key()),
        options,
    )?)
}

/// Runs the demo and returns what it did and printed.
pub async fn demo() -> Result<DemoOutcome, DemoError> {
    let config = SyncConfig::parse(DEMO_CONFIG, "demo/sync.toml").map_err(Box::new)?;
    let source_server = start(Seed::DevTest).await?;
    let dest_server = start(Seed::StagingProduction).await?;
    let source = client(&config.source, &source_server, &config.apply)?;
    let dest_config = &config.destinations[0];
    let destination = client(&dest_config.instance, &dest_server, &config.apply)?;
    let dest_name = dest_config.instance.display_name();
    let destinations = [Destination::live(
        dest_name.clone(),
        dest_config.instance.space.clone(),
        &destination,
        dest_config.rules.clone(),
    )];
    let source_name = config.source.display_name();
    let source = Source::live(source_name.clone(), config.source.space.clone(), &source);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "octosync demo: {source_name} ({}) -> {dest_name} ({})\n",
        source_server.url(),
        dest_server.url()
    );

    let options = config.apply.apply_options();
    let mut runs = run_instances(&source, &destinations, &Mode::Apply(options)).await?;
    let first = runs.remove(0);
    let first_plan = first.plan?;
    let applied = first.applied.unwrap_or_default();
    out.push_str(&report::render(&first_plan, &dest_name, Format::Text));
    let _ = writeln!(out);
    let _ = writeln!(out, "{applied}");
    out.push_str(&report::cleanup_markdown(&first_plan, &dest_name));

    let writes_after_apply = dest_server.stats();
    let mut again = run_instances(&source, &destinations, &Mode::Plan).await?;
    let second_plan = again.remove(0).plan?;
    let s = &second_plan.summary;
    let _ = writeln!(
        out,
        "\nPlanning again: {} to create, {} to update, {} unchanged, {} skipped: {}",
        s.create,
        s.update,
        s.unchanged,
        s.skip,
        if second_plan.has_changes() {
            "NOT converged"
        } else {
            "nothing left to do"
        }
    );
    let source_requests = source_server.stats();
    let destination_requests = dest_server.stats();
    let _ = writeln!(
        out,
        "Requests: source {} GET, 0 writes ({} POST/PUT/DELETE); destination {} GET, {} POST, {} PUT (apply: {} writes)",
        source_requests.get,
        source_requests.post + source_requests.put + source_requests.delete,
        destination_requests.get,
        destination_requests.post,
        destination_requests.put,
        writes_after_apply.post + writes_after_apply.put + writes_after_apply.delete,
    );
    let dangling_references = dest_server.integrity();
    let _ = writeln!(
        out,
        "Reference integrity on {dest_name}: {}",
        match dangling_references.len() {
            0 => "every reference names an existing document".to_owned(),
            n => format!("{n} references name no document"),
        }
    );
    for d in &dangling_references {
        let _ = writeln!(out, "  {} {} at {}: {}", d.kind, d.document, d.path, d.id);
    }
    source_server.stop().await;
    dest_server.stop().await;
    Ok(DemoOutcome {
        first_plan,
        applied,
        second_plan,
        source_requests,
        destination_requests,
        dangling_references,
        output: out,
    })
}
