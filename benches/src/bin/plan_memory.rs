//! Time and peak memory of planning a generated space: parses the snapshots of
//! `projects` projects (default 2,000) from JSON, plans, and prints the process's peak
//! resident set (`VmHWM` of /proc/self/status, Linux only) before and after.
//!
//! The first parse runs on a fresh heap, which no later allocation finds again: the
//! allocator hands out untouched memory in order, with no free lists to search. The plan
//! after it, like every parse and plan of a real run (which reads answers and drops
//! them first), runs on a heap with live data and freed memory in it. So the ratio of
//! the two is measured over `rounds` more rounds (default 5) of parse then plan, each
//! with the round before's snapshots and plan alive (dropped outside the timing), as
//! the first plan has the first snapshots; the medians are compared. The first,
//! fresh-heap figures are printed too.
//!
//! `cargo run -p benches --release --bin plan-memory -- 2000 5`

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
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
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
    let ops = planned.summary.create + planned.summary.update;
    // What the round before made stays alive while the next one runs, as the snapshots
    // are while the first plan runs: every timed step finds one round's data on the heap.
    let mut previous = Some((source, destination, planned));
    let mut parses = Vec::with_capacity(rounds);
    let mut plans = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        let (source, destination) = match (parse(&src), parse(&dst)) {
            (Ok(s), Ok(d)) => (s, d),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("plan-memory: {e}");
                return ExitCode::FAILURE;
            }
        };
        parses.push(started.elapsed().as_secs_f64() * 1000.0);
        let started = Instant::now();
        let planned = plan(&source, &destination, &rules);
        plans.push(started.elapsed().as_secs_f64() * 1000.0);
        match planned {
            Ok(planned) => previous = Some((source, destination, planned)),
            Err(e) => {
                eprintln!("plan-memory: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    drop(previous);
    // No rounds (`0`, for counting one plan's instructions): no medians to show.
    let (parse_ms, plan_ms, ratio) = match (median(&mut parses), median(&mut plans)) {
        (Some(a), Some(b)) => (
            format!("{a:.0} ms"),
            format!("{b:.0} ms"),
            format!("{:.2}×", b / a),
        ),
        _ => ("–".into(), "–".into(), "–".into()),
    };
    println!(
        "| projects | JSON | parse, fresh heap | plan after it | parse (median of {rounds}) | plan (median of {rounds}) | plan ÷ parse | ops | peak RSS at start | after parse | after plan |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {projects} | {:.1} MiB | {:.0} ms | {:.0} ms | {parse_ms} | {plan_ms} | {ratio} | {ops} | {} | {} | {} |",
        bytes as f64 / (1024.0 * 1024.0),
        parsed.as_secs_f64() * 1000.0,
        planning.as_secs_f64() * 1000.0,
        mib(at_start),
        mib(after_parse),
        mib(after_plan)
    );
    ExitCode::SUCCESS
}

/// The middle value (the upper one of an even count), if there is any.
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}
