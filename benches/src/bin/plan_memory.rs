//! Time and peak memory of planning a generated space: parses the snapshots of
//! `projects` projects (default 2,000) from JSON, plans, and prints the process's peak
//! resident set (`VmHWM` of /proc/self/status, Linux only) before and after.
//!
//! The first parse finds a heap with nothing alive on it (only what the generator freed,
//! merged into a few large blocks); the plan after it finds the snapshots alive and the
//! JSON values they were read from freed among them. The same code runs the same
//! instructions in either state but not in the same time, so the two are also timed
//! over `rounds` more rounds (default 5) of parse then plan, each with the round
//! before's snapshots and plan alive (dropped outside the timing), as the first plan has
//! the first snapshots; the ratio is that of the medians. The minor page faults of each
//! step (from /proc/self/stat, Linux only) are printed below the table.
//!
//! `cargo run -p benches --release --bin plan-memory -- 2000 5` (`0` rounds: one parse and
//! one plan, for counting instructions)

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

/// Minor page faults so far (memory the process touched for the first time, or got
/// back from the OS), where the OS reports them.
fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses: state is the first,
    // minflt the eighth.
    let (_, fields) = stat.rsplit_once(')')?;
    fields.split_whitespace().nth(7)?.parse().ok()
}

/// Minor faults between two readings.
fn faults(before: Option<u64>, after: Option<u64>) -> Option<u64> {
    Some(after?.saturating_sub(before?))
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or("unknown".into(), |k| {
        format!("{:.1} MiB", k as f64 / 1024.0)
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("plan-memory: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One timed step: what it returned, its time in milliseconds and its minor page faults
/// (read outside the timing).
fn timed<T>(step: impl FnOnce() -> T) -> (T, f64, Option<u64>) {
    let before = minor_faults();
    let started = Instant::now();
    let out = step();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    (out, ms, faults(before, minor_faults()))
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let projects: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000);
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let rules = SyncRules::from_toml_str(
        "[select]\nprojects = \"all\"\nproject_groups = \"all\"\nchannels = \"all\"\nrunbooks = \"all\"\n\
         lifecycles = \"all\"\nfeeds = \"all\"\nworker_pools = \"all\"\naccounts = \"all\"\n\
         tenant_tags = \"all\"\ntenants = \"all\"\nlibrary_variable_sets = \"all\"\nteams = \"all\"\n\
         [scoping]\ninfrastructure_environments = \"ignore-mismatch\"\n[environment_map]\nTest = \"Staging\"\n",
    )?;
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
    let parse_both = || Ok::<_, sync_core::SnapshotError>((parse(&src)?, parse(&dst)?));

    let (snapshots, first_parse, first_parse_faults) = timed(parse_both);
    let (source, destination) = snapshots?;
    let after_parse = peak_kib();
    let (planned, first_plan, first_plan_faults) = timed(|| plan(&source, &destination, &rules));
    let planned = planned?;
    let after_plan = peak_kib();
    let ops = planned.summary.create + planned.summary.update;

    // What the round before made stays alive while the next one runs, as the snapshots
    // are while the first plan runs: every timed step finds one round's data on the heap.
    let mut previous = (source, destination, planned);
    let (mut parses, mut plans) = (Vec::new(), Vec::new());
    let (mut parse_faults, mut plan_faults) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (snapshots, ms, faults) = timed(parse_both);
        let (source, destination) = snapshots?;
        parses.push(ms);
        parse_faults.extend(faults);
        let (planned, ms, faults) = timed(|| plan(&source, &destination, &rules));
        plans.push(ms);
        plan_faults.extend(faults);
        previous = (source, destination, planned?);
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
        "| projects | JSON | first parse | first plan | parse, rounds (median) | plan, rounds (median) | plan ÷ parse, rounds | ops | peak RSS at start | after first parse | after first plan |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {projects} | {:.1} MiB | {first_parse:.0} ms | {first_plan:.0} ms | {parse_ms} | {plan_ms} | {ratio} | {ops} | {} | {} | {} |",
        bytes as f64 / (1024.0 * 1024.0),
        mib(at_start),
        mib(after_parse),
        mib(after_plan)
    );
    let count = |n: Option<u64>| n.map_or("unknown".to_owned(), |n| n.to_string());
    let median_count = |mut v: Vec<u64>| {
        v.sort_unstable();
        v.get(v.len() / 2).map_or("–".to_owned(), u64::to_string)
    };
    println!(
        "\nminor page faults: first parse {}, first plan {}; rounds (median): parse {}, plan {}",
        count(first_parse_faults),
        count(first_plan_faults),
        median_count(parse_faults),
        median_count(plan_faults),
    );
    Ok(())
}

/// The middle value (the upper one of an even count), if there is any.
fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}
