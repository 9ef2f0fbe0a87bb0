//! Keep Octopus Deploy instances in sync by name.
//!
//! This crate holds the runner (load snapshots, plan, apply, report), the `sync.toml`
//! reader, saved plans (`plan --out`, `apply --plan`), the state directory and `drift`
//! (what others changed on a destination since the last sync), [`watch`] (a sync every
//! interval, unattended), and the `octosync` command line. What a program that embeds
//! the sync needs is at the root: [`run`] a [`SyncConfig`] (each instance a server or a
//! snapshot directory), or [`run_instances`] with clients the program holds;
//! [`apply_plan`] a [`Plan`] made by [`sync_core::plan()`]; read the [`ApplyReport`].
//!
//! ```
//! use octosync::{run, Mode, SyncConfig};
//! # use octopus_fake::{FakeConfig, FakeServer, Seed};
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dev = FakeServer::start(FakeConfig::seeded(Seed::DevTest)).await?;
//! # let prod = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction)).await?;
//! # std::env::set_var("DEV_API_KEY", dev.api_key());
//! # std::env::set_var("PROD_API_KEY", prod.api_key());
//! // Two servers (here in-process test servers); the keys are read from the variables.
//! let config = SyncConfig::parse(
//!     &format!(
//!         r#"
//!         [source]
//!         url = "{dev}"
//!         api_key_env = "DEV_API_KEY"
//!         space = "Default"
//!
//!         [[destinations]]
//!         name = "prod"
//!         url = "{prod}"
//!         api_key_env = "PROD_API_KEY"
//!         space = "Default"
//!
//!         [select]
//!         projects = ["OctoFX"]
//!         project_groups = ["all"]
//!         lifecycles = ["all"]
//!         channels = ["all"]
//!         runbooks = ["all"]
//!
//!         [environment_map]
//!         Test = ["Staging"]
//!         "#,
//!         dev = dev.url(),
//!         prod = prod.url(),
//!     ),
//!     "sync.toml",
//! )?;
//!
//! let runs = run(&config, &Mode::Apply(config.apply.apply_options())).await?;
//! let plan = runs[0].plan.as_ref().map_err(ToString::to_string)?;
//! assert!(plan.summary.create > 0, "OctoFX is missing on prod");
//! let applied = runs[0].applied.as_ref().expect("a run in Apply mode applies");
//! assert!(applied.is_success(), "{applied}");
//!
//! // Planning again finds nothing to do.
//! let again = run(&config, &Mode::Plan).await?;
//! assert!(!again[0].plan.as_ref().map_err(ToString::to_string)?.has_changes());
//! # Ok(())
//! # }
//! ```
//!
//! The `demo` feature (on by default) adds `octosync demo`, which runs two in-process
//! example servers; a program that embeds the sync can turn it off
//! (`default-features = false`) and does without the test server.

pub mod apply;
pub mod audit;
pub mod certificates;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod drift;
pub mod incremental;
pub mod known;
pub mod load;
pub mod report;
pub mod runner;
pub mod saved;
pub mod snapshot_dir;
pub mod state;
pub mod tenant_variables;
pub mod watch;

pub use apply::{apply_plan, ApplyOptions, ApplyReport, Outcome};
pub use config::{ApplySettings, ConfigError, SyncConfig};
pub use runner::{
    run, run_instances, Destination, DestinationRun, Instance, Mode, RunError, SnapshotDir, Source,
};
pub use sync_core::{Plan, SyncRules};
