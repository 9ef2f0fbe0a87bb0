//! `octopus-fake`: an in-memory Octopus Deploy server on the command line.
//!
//! Prints `listening on http://127.0.0.1:PORT` as its first line, then serves until
//! interrupted.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::OctopusVersion;

/// The shipped seeds.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum BuiltinSeed {
    /// The Dev/Test instance of the running example.
    DevTest,
    /// The Staging/Production instance of the running example.
    StagingProduction,
}

/// An in-memory Octopus Deploy server that speaks the real REST API.
#[derive(Debug, Parser)]
#[command(name = "octopus-fake")]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The Octopus Server version to emulate.
    #[arg(long, default_value = "2024.2.1234")]
    version: OctopusVersion,
    /// The API key clients must send.
    #[arg(long, env = "OCTOPUS_FAKE_API_KEY", default_value = FakeConfig::DEFAULT_API_KEY)]
    api_key: String,
    /// A snapshot directory to load at start.
    #[arg(long, conflicts_with = "seed_builtin")]
    seed: Option<PathBuf>,
    /// One of the shipped seeds to load at start.
    #[arg(long, value_enum)]
    seed_builtin: Option<BuiltinSeed>,
    /// Refuse fields the emulated version does not know.
    #[arg(long)]
    strict: bool,
    /// Milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of requests (0.0-1.0) answered with a random 500 or 503.
    #[arg(long, default_value_t = 0.0)]
    fail_rate: f64,
    /// Seed of the failure generator, so a run can be repeated.
    #[arg(long, default_value_t = 0)]
    fail_seed: u64,
    /// Requests per minute before 429 Too Many Requests.
    #[arg(long)]
    rate_limit_rpm: Option<u32>,
    /// Serve the API under this path prefix (`/octopus` gives `/octopus/api`).
    #[arg(long, default_value = "")]
    path_prefix: String,
    /// Keep only the newest N audit-log events (`GET /api/events`); all by default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    event_retention: Option<u64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let seed = match (args.seed, args.seed_builtin) {
        (Some(dir), _) => Seed::Dir(dir),
        (None, Some(BuiltinSeed::DevTest)) => Seed::DevTest,
        (None, Some(BuiltinSeed::StagingProduction)) => Seed::StagingProduction,
        (None, None) => Seed::Empty,
    };
    let config = FakeConfig {
        listen: args.listen,
        version: args.version,
        api_key: args.api_key,
        seed,
        strict: args.strict,
        latency: Duration::from_millis(args.latency_ms),
        fail_rate: args.fail_rate,
        fail_seed: args.fail_seed,
        rate_limit_rpm: args.rate_limit_rpm,
        path_prefix: args.path_prefix,
        event_retention: args
            .event_retention
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    let server = match FakeServer::start(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("octopus-fake: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout();
    if writeln!(out, "listening on {}", server.url())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    let _ = tokio::signal::ctrl_c().await;
    server.stop().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent_and_follow_the_contract() {
        Args::command().debug_assert();
        let args = Args::parse_from([
            "octopus-fake",
            "--listen",
            "127.0.0.1:0",
            "--version",
            "2024.2.1234",
            "--api-key",
            "API-KEY",
            "--strict",
            "--latency-ms",
            "5",
            "--fail-rate",
            "0.05",
            "--rate-limit-rpm",
            "600",
            "--event-retention",
            "100",
        ]);
        assert_eq!(args.event_retention, Some(100));
        assert_eq!(args.version, "2024.2.1234".parse().unwrap());
        assert!(args.strict);
        assert_eq!(args.rate_limit_rpm, Some(600));
    }
}
