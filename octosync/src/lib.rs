//! Keep Octopus Deploy instances in sync by name.
//!
//! This crate will hold the runner (load snapshots, plan, apply, report) and the
//! `octosync` command line. It is not written yet.
