//! The entity planners, one module per area, run in dependency order by [`crate::plan()`].

pub mod common;
pub mod git;
pub mod infra;
pub mod library;
pub mod newer;
pub mod process;
pub mod projects;
pub mod prune;
pub mod references;
pub mod tenants;
pub mod variable_contexts;
pub mod variables;
