//! Keep Octopus Deploy instances in sync by name.
//!
//! This crate holds the runner (load snapshots, plan, apply, report), the `sync.toml`
//! reader, saved plans (`plan --out`, `apply --plan`), the state directory and `drift`
//! (what others changed on a destination since the last sync), and the `octosync`
//! command line.

pub mod apply;
pub mod audit;
pub mod certificates;
pub mod cli;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod drift;
pub mod load;
pub mod report;
pub mod runner;
pub mod saved;
pub mod snapshot_dir;
pub mod state;
pub mod tenant_variables;
