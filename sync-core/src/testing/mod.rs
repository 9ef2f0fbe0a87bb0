//! Test helpers for this crate and the crates built on it (behind the `testing`
//! feature): an in-memory applier that plays a destination server, and a generator of
//! source/destination snapshot pairs for property tests and benchmarks.

mod applier;
mod generate;

pub use applier::{ApplyError, InMemoryApplier};
pub use generate::{generate_collections, generate_space, Collections, SpaceParams};
