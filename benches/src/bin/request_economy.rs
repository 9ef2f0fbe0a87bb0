//! The request-economy harness: syncs bench-M between two in-process Octopus instances
//! and prints markdown tables of requests by method (beside SpaceCloner's modelled
//! cost), wall time under latency, and a run under a rate limit.
//!
//! `cargo run -p benches --release --bin request-economy` runs the default (a couple of
//! minutes); `--help` lists the flags for larger runs.

use std::process::ExitCode;
use std::time::Duration;

use benches::bench_m::Shape;
use benches::economy::{
    change_one_variable, sync, BenchError, Levers, Measured, Pair, Remembering,
};
use benches::spacecloner;
use clap::Parser;

/// Flags of the harness.
#[derive(Parser, Debug)]
#[command(about = "Request economy, latency and rate-limit runs of octosync on bench-M")]
struct Args {
    /// Project counts of the request-economy runs (0 skips them).
    #[arg(long, value_delimiter = ',', default_value = "50,500")]
    projects: Vec<usize>,
    /// Project count of the latency runs (0 skips them).
    #[arg(long, default_value_t = 50)]
    latency_projects: usize,
    /// Latency per request of the latency runs, in milliseconds.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Client concurrencies of the latency runs.
    #[arg(long, value_delimiter = ',', default_value = "1,4,8,16")]
    concurrency: Vec<usize>,
    /// Project count of the rate-limit run (0 skips it).
    #[arg(long, default_value_t = 10)]
    rate_limit_projects: usize,
    /// The fakes' rate limit of the rate-limit run, requests per minute.
    #[arg(long, default_value_t = 200)]
    rate_limit_rpm: u32,
    /// Let the client send as fast as it likes and rely on 429 + Retry-After, instead
    /// of pacing itself at the limit.
    #[arg(long)]
    unpaced: bool,
    /// Print the updates of the re-sync with nothing changed (there should be none).
    #[arg(long)]
    explain: bool,
    /// Project counts of the runs that read only what changed (0 skips them).
    #[arg(long, value_delimiter = ',', default_value = "50,500")]
    remembering_projects: Vec<usize>,
}

fn methods(m: &Measured) -> String {
    let (s, d) = (&m.source, &m.destination);
    format!(
        "{} | {} | {} | {} | {}",
        s.get, d.get, d.post, d.put, d.delete
    )
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

async fn economy(projects: &[usize], explain: bool) -> Result<(), BenchError> {
    println!("### Requests by method (bench-M, no latency, concurrency 8)\n");
    println!(
        "| projects | run | source GET | destination GET | POST | PUT | DELETE | total | writes | SpaceCloner (model) | ratio | target |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for &p in projects {
        let shape = Shape::bench_m(p);
        let levers = Levers::default();
        let pair = Pair::start(&shape, &levers).await?;
        let first = sync(&pair, &levers).await?;
        let again = sync(&pair, &levers).await?;
        change_one_variable(&pair).await?;
        let changed = sync(&pair, &levers).await?;
        let after_change = sync(&pair, &levers).await?;
        pair.stop().await;
        if explain {
            for line in benches::economy::explain_updates(&again.plan, 40) {
                eprintln!("{line}");
            }
        }
        let sc_first = spacecloner::first_sync(&shape);
        let sc_again = spacecloner::resync(&shape);
        let ratio = |m: &Measured, sc: u64| m.total() as f64 / sc as f64;
        let row = |name: &str, m: &Measured, sc: u64, target: String| {
            println!(
                "| {p} | {name} | {} | {} | {} | {sc} | {:.3}× | {target} |",
                methods(m),
                m.total(),
                m.writes(),
                ratio(m, sc)
            );
        };
        row(
            "(a) first sync",
            &first,
            sc_first,
            converges(&first, &again),
        );
        row(
            "(b) nothing changed",
            &again,
            sc_again,
            format!(
                "0 writes, ≤ 0.10×: {}",
                verdict(again.writes() == 0 && ratio(&again, sc_again) <= 0.10)
            ),
        );
        row(
            "(c) one variable changed",
            &changed,
            sc_again,
            format!(
                "1 write: {}",
                verdict(
                    changed.writes() == 1
                        && changed.summary.update == 1
                        && after_change.writes() == 0
                )
            ),
        );
    }
    println!();
    Ok(())
}

async fn latency(
    projects: usize,
    latency_ms: u64,
    concurrencies: &[usize],
) -> Result<(), BenchError> {
    let latency = Duration::from_millis(latency_ms);
    println!("### First sync of bench-M ({projects} projects) at {latency_ms} ms per request\n");
    println!(
        "Bound = requests × latency ÷ concurrency + dependency depth × latency; the depth is 8 \
         (version, root, spaces and collections, on each side) plus 2 per plan layer \
         (read the current document, then write).\n"
    );
    println!(
        "| concurrency | requests | layers | wall | bound | wall ÷ bound | target (≤ 1.3× at 8) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|");
    for &c in concurrencies {
        let shape = Shape::bench_m(projects);
        let levers = Levers {
            latency,
            concurrency: c,
            ..Levers::default()
        };
        let pair = Pair::start(&shape, &levers).await?;
        let m = sync(&pair, &levers).await?;
        pair.stop().await;
        let depth = 8 + 2 * m.layers as u64;
        let bound = latency.mul_f64(m.total() as f64 / c as f64) + latency * depth as u32;
        let ratio = m.wall.as_secs_f64() / bound.as_secs_f64();
        let target = if c == 8 { verdict(ratio <= 1.3) } else { "—" };
        println!(
            "| {c} | {} | {} | {:.1} s | {:.1} s | {ratio:.2}× | {target} |",
            m.total(),
            m.layers,
            m.wall.as_secs_f64(),
            bound.as_secs_f64()
        );
    }
    println!();
    Ok(())
}

async fn rate_limited(projects: usize, rpm: u32, unpaced: bool) -> Result<(), BenchError> {
    let shape = Shape::bench_m(projects);
    let levers = Levers {
        rate_limit_rpm: Some(rpm),
        client_rpm: (!unpaced).then_some(rpm),
        ..Levers::default()
    };
    let pair = Pair::start(&shape, &levers).await?;
    let m = sync(&pair, &levers).await?;
    pair.stop().await;
    let busiest = m.source.total().max(m.destination.total());
    let bound_min = busiest as f64 / f64::from(rpm);
    println!(
        "### First sync of bench-M ({projects} projects), each instance limited to {rpm} requests/minute ({})\n",
        if unpaced { "client unpaced, relying on 429 and Retry-After" } else { "client paced at the limit" }
    );
    println!("| requests (source / destination) | failed ops | retried requests | wall | busiest instance ÷ {rpm} | no failed request |");
    println!("|---|---:|---:|---:|---:|---|");
    let failed = m
        .applied
        .results
        .iter()
        .filter(|r| {
            !matches!(
                r.outcome,
                octosync::apply::Outcome::Created { .. }
                    | octosync::apply::Outcome::Updated { .. }
                    | octosync::apply::Outcome::FoundExisting { .. }
            )
        })
        .count();
    println!(
        "| {} / {} | {failed} | {} | {:.1} min | {bound_min:.1} min | {} |\n",
        m.source.total(),
        m.destination.total(),
        m.retries,
        m.wall.as_secs_f64() / 60.0,
        verdict(failed == 0 && m.applied.is_success())
    );
    Ok(())
}

/// Syncs that read through what the last sync read: requests by side and method, and
/// whether the reads stay the same whatever the space's size.
async fn remembering(projects: &[usize]) -> Result<(), BenchError> {
    println!("### Reading only what changed (bench-M, memory kept between syncs)\n");
    println!(
        "| projects | run | source GET | destination GET | POST | PUT | DELETE | total | writes | target |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut smallest: Option<(u64, u64)> = None;
    for &p in projects {
        let shape = Shape::bench_m(p);
        let levers = Levers::default();
        let pair = Pair::start(&shape, &levers).await?;
        let program = Remembering::new(&pair, &levers)?;
        let first = program.sync(&pair, &levers).await?;
        let again = program.sync(&pair, &levers).await?;
        change_one_variable(&pair).await?;
        let changed = program.sync(&pair, &levers).await?;
        let after_change = program.sync(&pair, &levers).await?;
        pair.stop().await;
        let reads = (
            again.source.get + again.destination.get,
            changed.source.get + changed.destination.get,
        );
        let same_reads = *smallest.get_or_insert(reads) == reads;
        let row = |name: &str, m: &Measured, target: String| {
            println!(
                "| {p} | {name} | {} | {} | {} | {target} |",
                methods(m),
                m.total(),
                m.writes()
            );
        };
        row("(a) first sync", &first, converges(&first, &again));
        row(
            "(b) nothing changed",
            &again,
            format!(
                "≤ 4 requests, reads as at {}: {}",
                projects[0],
                verdict(again.total() <= 4 && again.writes() == 0 && same_reads)
            ),
        );
        row(
            "(c) one variable changed",
            &changed,
            format!(
                "≤ 8 requests with the write, reads as at {}: {}",
                projects[0],
                verdict(
                    changed.total() <= 8
                        && changed.writes() == 1
                        && after_change.writes() == 0
                        && same_reads
                )
            ),
        );
    }
    println!();
    Ok(())
}

async fn main_async(args: Args) -> Result<(), BenchError> {
    // A size of 0 skips a table.
    let sizes = |v: &[usize]| v.iter().copied().filter(|&p| p > 0).collect::<Vec<_>>();
    let projects = sizes(&args.projects);
    if !projects.is_empty() {
        economy(&projects, args.explain).await?;
    }
    let remembering_projects = sizes(&args.remembering_projects);
    if !remembering_projects.is_empty() {
        remembering(&remembering_projects).await?;
    }
    if args.latency_projects > 0 {
        latency(args.latency_projects, args.latency_ms, &args.concurrency).await?;
    }
    if args.rate_limit_projects > 0 {
        rate_limited(args.rate_limit_projects, args.rate_limit_rpm, args.unpaced).await?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main_async(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("request-economy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The first sync's target: it applied without failure and the sync after it had
/// nothing to create or update.
fn converges(first: &Measured, again: &Measured) -> String {
    format!(
        "converges: {}",
        verdict(first.applied.is_success() && again.summary.create + again.summary.update == 0)
    )
}
