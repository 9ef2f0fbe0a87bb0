//! `plan` over generated spaces of 50, 500 and 2,000 projects, beside only deserializing
//! the same snapshots from their JSON, so plan time can be stated as a ratio of parse
//! time. Both are timed without dropping what they return.
//!
//! Run with `cargo bench -p benches --bench plan`.

// criterion_group! and criterion_main! generate undocumented functions.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sync_core::testing::{generate_collections, generate_space, SpaceParams};
use sync_core::{plan, Snapshot, SyncRules};

const SIZES: [usize; 3] = [50, 500, 2_000];

fn rules() -> SyncRules {
    SyncRules::from_toml_str(
        r#"
[select]
projects = "all"
project_groups = "all"
channels = "all"
runbooks = "all"
lifecycles = "all"
feeds = "all"
worker_pools = "all"
accounts = "all"
tenant_tags = "all"
tenants = "all"
library_variable_sets = "all"
teams = "all"
[scoping]
infrastructure_environments = "ignore-mismatch"
[environment_map]
Test = "Staging"
"#,
    )
    .expect("the bench rules are valid")
}

/// The snapshots as JSON text, one string per collection, as a snapshot directory holds
/// them.
fn as_text(collections: Vec<(&'static str, serde_json::Value)>) -> Vec<(&'static str, String)> {
    collections
        .into_iter()
        .map(|(name, value)| (name, value.to_string()))
        .collect()
}

fn parse(text: &[(&'static str, String)]) -> Snapshot {
    let collections = text.iter().map(|(name, json)| {
        (
            *name,
            serde_json::from_str(json).expect("generated JSON parses"),
        )
    });
    Snapshot::from_collections("2024.1.0".parse().expect("valid version"), collections)
        .expect("generated snapshots decode")
}

fn bench(c: &mut Criterion) {
    let rules = rules();
    let mut group = c.benchmark_group("plan");
    group.sample_size(10);
    for size in SIZES {
        let params = SpaceParams {
            seed: 42,
            projects: size,
            synced_percent: 50,
        };
        let (src_json, dst_json) = generate_collections(&params);
        let (src_text, dst_text) = (as_text(src_json), as_text(dst_json));
        let (source, destination) = generate_space(&params);
        group.throughput(Throughput::Elements(size as u64));
        group.bench_with_input(BenchmarkId::new("parse", size), &size, |b, _| {
            // Dropping a snapshot is not parsing it: drops run outside the timing.
            b.iter_with_large_drop(|| (parse(&src_text), parse(&dst_text)))
        });
        group.bench_with_input(BenchmarkId::new("plan", size), &size, |b, _| {
            b.iter_with_large_drop(|| plan(&source, &destination, &rules).expect("plans"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
