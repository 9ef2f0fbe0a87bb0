//! Peak memory of planning a generated space: parses the snapshots of `--projects`
//! projects (default 2,000) from JSON, plans, and prints the process's peak resident
//! set (`VmHWM` of /proc/self/status, Linux only) before and after.
//!
//! `cargo run -p benches --release --bin plan-memory -- 2000`

use std::process::ExitCode;
use std::time::Instant;

use sync_core::testing::{generate_collections, SpaceParams};
use sync_core::{plan, Snapshot, SyncRules};

/// The peak resident set so far, in KiB, where the OS reports it.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("unknown".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn main() -> ExitCode {
    let projects: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let rules = match SyncRules::from_toml_str(
        "[select]\nprojects = \"all\"\nproject_groups = \"all\"\nchannels = \"all\"\nrunbooks = \"all\"\n\
         lifecycles = \"all\"\nfeeds = \"all\"\nworker_pools = \"all\"\naccounts = \"all\"\n\
         tenant_tags = \"all\"\ntenants = \"all\"\nlibrary_variable_sets = \"all\"\nteams = \"all\"\n\
         [scoping]\ninfrastructure_environments = \"ignore-mismatch\"\n[environment_map]\nTest = \"Staging\"\n",
    ) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("plan-memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let at_start = peak_kib();
    let params = SpaceParams {
        seed: 42,
        projects,
        synced_percent: 50,
    };
    // As JSON text, as a snapshot directory or an API answer holds it.
    let (src, dst) = generate_collections(&params);
    let text = |c: Vec<(&'static str, serde_json::Value)>| -> Vec<(&'static str, String)> {
        c.into_iter().map(|(k, v)| (k, v.to_string())).collect()
    };
    let (src, dst) = (text(src), text(dst));
    let bytes: usize = src.iter().chain(&dst).map(|(_, t)| t.len()).sum();
    let parse = |t: &[(&'static str, String)]| {
        let pairs = t.iter().map(|(k, json)| {
            (
                *k,
                serde_json::from_str::<serde_json::Value>(json).unwrap_or_default(),
            )
        });
        Snapshot::from_collections(
            "2024.1.0"
                .parse()
                .unwrap_or(octopus_model::OctopusVersion::new(2024, 1, 0)),
            pairs,
        )
    };
    let started = Instant::now();
    let (source, destination) = match (parse(&src), parse(&dst)) {
        (Ok(s), Ok(d)) => (s, d),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("plan-memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let parsed = started.elapsed();
    let after_parse = peak_kib();
    let started = Instant::now();
    let planned = match plan(&source, &destination, &rules) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("plan-memory: {e}");
            return ExitCode::FAILURE;
        }
    };
    let planning = started.elapsed();
    let after_plan = peak_kib();
    println!(
        "| projects | JSON | parse | plan | ops | peak RSS at start | after parse | after plan |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {projects} | {:.1} MiB | {:.0} ms | {:.0} ms | {} | {} | {} | {} |",
        bytes as f64 / (1024.0 * 1024.0),
        parsed.as_secs_f64() * 1000.0,
        planning.as_secs_f64() * 1000.0,
        planned.summary.create + planned.summary.update,
        mib(at_start),
        mib(after_parse),
        mib(after_plan)
    );
    ExitCode::SUCCESS
}
