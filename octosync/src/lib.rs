//! Keep Octopus Deploy instances in sync by name.
//!
//! This crate holds the runner (load snapshots, plan, apply, report) and the `octosync`
//! command line. Today it holds the `sync.toml` reader.

pub mod apply;
pub mod cli;
pub mod config;
pub mod demo;
pub mod load;
pub mod report;
pub mod runner;
pub mod snapshot_dir;
pub mod tenant_variables;
