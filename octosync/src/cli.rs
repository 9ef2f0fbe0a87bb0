//! The `octosync` command line: `plan`, `apply`, `export`, `validate` and `demo`.
//!
//! Exit codes: 0 success; 1 error; 2 changes pending (`plan --detailed-exitcode`).
//! Human output goes to stdout (reports) and stderr (progress, warnings, errors);
//! `--log-file` adds a JSON-lines log of every request, lookup and decision.

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, Subcommand};
use futures::future::join_all;
use indicatif::{ProgressBar, ProgressStyle};
use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead};
use octopus_model::ResourceKind;
use sync_core::{OpAction, Plan, Snapshot};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::apply::{ApplyOptions, ApplyReport};
use crate::config::{InstanceConfig, SyncConfig};
use crate::load::{kinds_to_read, load_snapshot};
use crate::report::{self, Format};
use crate::runner::{
    apply_converging, connect, connect_with_key, version_verdict, Destination, VersionVerdict,
};

/// Keep Octopus Deploy instances in sync by name.
#[derive(Debug, Parser)]
#[command(name = "octosync", version, about, long_about = None)]
pub struct Cli {
    /// More output on stderr (-v: info, -vv: debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Write a JSON-lines log of every request, lookup and decision to this file.
    #[arg(long, global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what a sync would do to each destination, without changing anything.
    Plan {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
        /// text, json or markdown.
        #[arg(long, default_value = "text")]
        format: Format,
        /// Write the report here instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write each destination's clean-up log as markdown into this directory.
        #[arg(long, value_name = "DIR")]
        cleanup_dir: Option<PathBuf>,
        /// Exit with 2 when any destination has changes pending.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Plan, show the plan, ask, then apply it to every destination.
    Apply {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
        /// Apply without asking.
        #[arg(short, long)]
        yes: bool,
        /// Write each destination's clean-up log as markdown into this directory.
        #[arg(long, value_name = "DIR")]
        cleanup_dir: Option<PathBuf>,
    },
    /// Write one space of a live instance to a snapshot directory.
    Export {
        /// The server's URL.
        #[arg(long)]
        url: String,
        /// The environment variable that holds the API key.
        #[arg(long, value_name = "VAR")]
        api_key_env: String,
        /// The space, by name or id.
        #[arg(long)]
        space: String,
        /// The directory to write.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Allow plain http to a host that is not loopback.
        #[arg(long)]
        allow_insecure_http: bool,
    },
    /// Check the config and connect to every instance: versions, spaces, warnings.
    Validate {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
    },
    /// Sync two in-process example instances, with no set-up and no network.
    Demo,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        report::parse_format(s)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs a parsed command line; returns the exit code.
pub async fn main(cli: Cli) -> u8 {
    if let Err(e) = init_logging(&cli) {
        eprintln!("error: {e}");
        return 1;
    }
    let result = match cli.command {
        Command::Plan {
            config,
            format,
            out,
            cleanup_dir,
            detailed_exitcode,
        } => plan_command(
            &config,
            format,
            out.as_deref(),
            cleanup_dir.as_deref(),
            cli.quiet,
        )
        .await
        .map(|changes| u8::from(detailed_exitcode && changes) * 2),
        Command::Apply {
            config,
            yes,
            cleanup_dir,
        } => apply_command(&config, yes, cleanup_dir.as_deref(), cli.quiet).await,
        Command::Export {
            url,
            api_key_env,
            space,
            out,
            allow_insecure_http,
        } => export_command(&url, &api_key_env, &space, &out, allow_insecure_http).await,
        Command::Validate { config } => validate_command(&config).await,
        Command::Demo => demo_command().await,
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let mut shown = e.to_string();
            eprintln!("error: {shown}");
            // Most messages already quote their cause; print only what they do not.
            let mut source = e.source();
            while let Some(cause) = source {
                let text = cause.to_string();
                if !shown.contains(&text) {
                    eprintln!("  caused by: {text}");
                    shown.push_str(&text);
                }
                source = cause.source();
            }
            1
        }
    }
}

fn init_logging(cli: &Cli) -> Result<(), BoxError> {
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let human = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(EnvFilter::new(level));
    let file = match &cli.log_file {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| format!("cannot create the log file {}: {e}", path.display()))?;
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_span_list(true)
                    .with_writer(std::sync::Mutex::new(file))
                    .with_filter(EnvFilter::new("debug")),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(human)
        .with(file)
        .try_init()
        .map_err(|e| format!("cannot set up logging: {e}").into())
}

/// A spinner on a terminal; nothing otherwise.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn say(&self, message: impl Into<String>) {
        let message = message.into();
        match &self.0 {
            Some(bar) => bar.set_message(message),
            None => tracing::info!("{message}"),
        }
    }

    fn done(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}

/// One side of a sync: a live server or a snapshot directory.
enum Side {
    Live(OctopusHttpClient),
    Offline,
}

fn side(instance: &InstanceConfig, config: &SyncConfig) -> Result<Side, BoxError> {
    if instance.snapshot.is_some() {
        return Ok(Side::Offline);
    }
    Ok(Side::Live(connect(instance, &config.apply)?))
}

async fn snapshot_of(
    instance: &InstanceConfig,
    side: &Side,
    kinds: &BTreeSet<ResourceKind>,
) -> Result<Snapshot, BoxError> {
    match side {
        Side::Live(client) => {
            Ok(load_snapshot(client, &instance.display_name(), &instance.space, kinds).await?)
        }
        Side::Offline => {
            let dir = instance.snapshot.as_deref().unwrap_or(Path::new("."));
            Ok(crate::snapshot_dir::read(
                dir,
                &instance.space,
                instance.version.as_deref(),
            )?)
        }
    }
}

/// The plans of every destination, planned concurrently from one source snapshot.
async fn plan_all(
    config: &SyncConfig,
    progress: &Progress,
) -> Result<(Snapshot, Vec<Side>, Vec<Plan>), BoxError> {
    let source_side = side(&config.source, config)?;
    let dest_sides = config
        .destinations
        .iter()
        .map(|d| side(&d.instance, config))
        .collect::<Result<Vec<_>, _>>()?;
    let kinds: BTreeSet<ResourceKind> = config
        .destinations
        .iter()
        .flat_map(|d| kinds_to_read(&d.rules))
        .collect();
    progress.say(format!("loading the source {}", config.source));
    let source = snapshot_of(&config.source, &source_side, &kinds).await?;
    progress.say(format!(
        "loading and planning {} destination(s)",
        config.destinations.len()
    ));
    let plans = join_all(
        config
            .destinations
            .iter()
            .zip(&dest_sides)
            .map(|(dest, dest_side)| {
                let source = &source;
                async move {
                    let snapshot =
                        snapshot_of(&dest.instance, dest_side, &kinds_to_read(&dest.rules)).await?;
                    let plan = sync_core::plan(source, &snapshot, &dest.rules).map_err(|e| {
                        format!("cannot plan {}: {e}", dest.instance.display_name())
                    })?;
                    log_decisions(&dest.instance.display_name(), &plan);
                    Ok::<Plan, BoxError>(plan)
                }
            }),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<_>, _>>()?;
    Ok((source, dest_sides, plans))
}

/// Every decision of a plan, to the log.
fn log_decisions(destination: &str, plan: &Plan) {
    for op in plan.ops() {
        tracing::debug!(
            target: "octosync::decision",
            destination,
            kind = %op.item.kind,
            item = %op.item,
            action = ?op.action,
            reason = %op.reason,
            "decision"
        );
    }
}

fn write_cleanup(dir: &Path, name: &str, plan: &Plan) -> Result<(), BoxError> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let path = dir.join(format!("{safe}-cleanup.md"));
    std::fs::write(&path, report::cleanup_markdown(plan, name))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

async fn plan_command(
    path: &Path,
    format: Format,
    out: Option<&Path>,
    cleanup_dir: Option<&Path>,
    quiet: bool,
) -> Result<bool, BoxError> {
    let config = SyncConfig::load(path)?;
    let progress = Progress::new(quiet);
    let (_, _, plans) = plan_all(&config, &progress).await?;
    progress.done();
    let names: Vec<String> = config
        .destinations
        .iter()
        .map(|d| d.instance.display_name())
        .collect();
    let text = match format {
        Format::Json if plans.len() == 1 => report::render(&plans[0], &names[0], format),
        Format::Json => {
            let map: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(&plans)
                .map(|(n, p)| (n.clone(), serde_json::to_value(p).unwrap_or_default()))
                .collect();
            serde_json::to_string_pretty(&map).unwrap_or_default() + "\n"
        }
        _ => names
            .iter()
            .zip(&plans)
            .map(|(n, p)| report::render(p, n, format))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    emit(out, &text)?;
    if let Some(dir) = cleanup_dir {
        for (name, plan) in names.iter().zip(&plans) {
            write_cleanup(dir, name, plan)?;
        }
    }
    Ok(plans.iter().any(Plan::has_changes))
}

fn emit(out: Option<&Path>, text: &str) -> Result<(), BoxError> {
    match out {
        Some(path) => std::fs::write(path, text)
            .map_err(|e| format!("cannot write {}: {e}", path.display()).into()),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            Ok(())
        }
    }
}

async fn apply_command(
    path: &Path,
    yes: bool,
    cleanup_dir: Option<&Path>,
    quiet: bool,
) -> Result<u8, BoxError> {
    let config = SyncConfig::load(path)?;
    for dest in &config.destinations {
        if dest.instance.snapshot.is_some() {
            return Err(format!(
                "destination {} is a snapshot directory: it can be planned against, not applied to",
                dest.instance.display_name()
            )
            .into());
        }
    }
    let progress = Progress::new(quiet);
    let (source, sides, plans) = plan_all(&config, &progress).await?;
    progress.done();
    let names: Vec<String> = config
        .destinations
        .iter()
        .map(|d| d.instance.display_name())
        .collect();
    for (name, plan) in names.iter().zip(&plans) {
        println!("{}", report::render(plan, name, Format::Text));
    }
    if !plans.iter().any(Plan::has_changes) {
        println!("Nothing to do: every destination is in sync.");
        return Ok(0);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err("not asking on a non-interactive terminal: pass --yes to apply".into());
        }
        print!("Apply these changes? Type 'yes' to go on: ");
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            println!("Nothing applied.");
            return Ok(1);
        }
    }
    let options = ApplyOptions {
        continue_on_error: config.apply.continue_on_error,
        concurrency: config.apply.concurrency,
        ..ApplyOptions::default()
    };
    let progress = Progress::new(quiet);
    progress.say("applying");
    let reports: Vec<ApplyReport> = join_all(
        sides
            .iter()
            .zip(&plans)
            .zip(&config.destinations)
            .map(|((side, plan), dest)| {
                let (options, source) = (&options, &source);
                async move {
                    match side {
                        Side::Live(client) => {
                            let destination = Destination {
                                name: dest.instance.display_name(),
                                space: dest.instance.space.clone(),
                                client,
                                rules: dest.rules.clone(),
                            };
                            apply_converging(source, &destination, plan, options).await
                        }
                        Side::Offline => ApplyReport::default(),
                    }
                }
            }),
    )
    .await;
    progress.done();
    let mut failed = false;
    for ((name, plan), report) in names.iter().zip(&plans).zip(&reports) {
        println!("Destination {name}");
        println!("{report}");
        let applied_ops = plan
            .ops()
            .filter(|op| matches!(op.action, OpAction::Create | OpAction::Update))
            .count();
        tracing::info!(destination = %name, ops = applied_ops, success = report.is_success(), "applied");
        failed |= !report.is_success();
        if let Some(dir) = cleanup_dir {
            write_cleanup(dir, name, plan)?;
        }
    }
    if failed {
        eprintln!("Some changes failed; fix the cause and run apply again: it picks up where this run stopped.");
        return Ok(1);
    }
    Ok(0)
}

async fn export_command(
    url: &str,
    api_key_env: &str,
    space: &str,
    out: &Path,
    allow_insecure_http: bool,
) -> Result<u8, BoxError> {
    let instance = InstanceConfig {
        name: None,
        url: Some(url.parse().map_err(|e| format!("--url {url:?}: {e}"))?),
        api_key_env: Some(api_key_env.to_owned()),
        snapshot: None,
        version: None,
        space: space.to_owned(),
        allow_insecure_http,
    };
    let key = ApiKey::new(instance.api_key()?);
    let client = connect_with_key(&instance, key, &crate::config::ApplyOptions::default())?;
    let summary = crate::snapshot_dir::export(&client, space, out).await?;
    let total: usize = summary.collections.iter().map(|(_, n)| n).sum();
    println!(
        "Exported {total} documents in {} collections of space {space:?} to {}",
        summary.collections.len(),
        out.display()
    );
    Ok(0)
}

async fn validate_command(path: &Path) -> Result<u8, BoxError> {
    let config = SyncConfig::load(path)?;
    println!("{}: config is valid", path.display());
    let source_side = side(&config.source, &config)?;
    let source_version = describe(&config.source, &source_side).await?;
    let mut problems = 0;
    for dest in &config.destinations {
        let dest_side = side(&dest.instance, &config)?;
        let version = describe(&dest.instance, &dest_side).await?;
        if let (Some(s), Some(d)) = (&source_version, &version) {
            match version_verdict(s, d) {
                VersionVerdict::Same => {}
                VersionVerdict::Warn(w) => println!("  warning: {w}"),
                VersionVerdict::Refuse(w) if dest.rules.policy.allow_version_mismatch => {
                    println!("  warning: {w} (allowed by allow_version_mismatch)")
                }
                VersionVerdict::Refuse(w) => {
                    println!("  error: {w}; set policy.allow_version_mismatch to sync anyway");
                    problems += 1;
                }
            }
        }
    }
    Ok(u8::from(problems > 0))
}

/// Prints what an instance is and returns its version.
async fn describe(
    instance: &InstanceConfig,
    side: &Side,
) -> Result<Option<octopus_model::OctopusVersion>, BoxError> {
    match side {
        Side::Offline => {
            let dir = instance.snapshot.as_deref().unwrap_or(Path::new("."));
            let snapshot =
                crate::snapshot_dir::read(dir, &instance.space, instance.version.as_deref())?;
            println!(
                "{}: snapshot directory, version {}, space {:?}",
                instance.display_name(),
                snapshot.version,
                instance.space
            );
            Ok(Some(snapshot.version))
        }
        Side::Live(client) => {
            let name = instance.display_name();
            let version = client
                .version()
                .await
                .map_err(|e| format!("cannot reach {name}: {e}"))?;
            crate::load::find_space(client, &name, &instance.space).await?;
            println!(
                "{name}: Octopus {version}, space {:?} found",
                instance.space
            );
            Ok(Some(version))
        }
    }
}

async fn demo_command() -> Result<u8, BoxError> {
    let outcome = crate::demo::demo().await?;
    print!("{}", outcome.output);
    Ok(
        if outcome.second_plan.has_changes() || !outcome.applied.is_success() {
            1
        } else {
            0
        },
    )
}
