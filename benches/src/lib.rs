//! Benchmarks for octosync.
//!
//! - `benches/plan.rs` (criterion) measures `sync_core::plan` on generated spaces of 50,
//!   500 and 2,000 projects beside parsing the same snapshots, so plan time can be read
//!   as a multiple of parse time: `cargo bench -p benches --bench plan`.
//! - `request-economy` syncs a generated "bench-M" space between two in-process
//!   Octopus instances and reports requests by method, wall time under latency and
//!   behaviour under a rate limit: `cargo run -p benches --release --bin request-economy`.
//! - `plan-memory` reports the peak memory of planning 2,000 projects.
//!
//! ```
//! let shape = benches::bench_m::Shape::bench_m(50);
//! // SpaceCloner's modelled cost of a re-run: 46 + P(11 + 3R) + 4L + 3S + T + 2.
//! assert_eq!(benches::spacecloner::resync(&shape), 46 + 50 * 20 + 40 + 15 + 20 + 2);
//! ```

pub mod bench_m;
pub mod economy;
pub mod spacecloner;
