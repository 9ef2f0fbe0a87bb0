//! Benchmarks for octosync. `benches/plan.rs` measures `sync_core::plan` on generated
//! spaces of 50, 500 and 2,000 projects beside parsing the same snapshots, so plan time
//! can be read as a multiple of parse time: `cargo bench -p benches --bench plan`.
