//! The `octosync` command line: `plan`, `apply`, `drift`, `watch`, `export`, `validate`
//! and `demo`.
//!
//! Exit codes: 0 success; 1 any error, a usage error (a mistyped flag or subcommand)
//! included; 2 only "changes pending" (`plan --detailed-exitcode`, and `apply` when a
//! follow-up plan is needed and was not applied, and `watch --once` when a destination
//! was skipped or needs a follow-up) or "drift found" (`drift --detailed-exitcode`).
//! Reports go to stdout (or `--report FILE`); progress, warnings and errors to stderr.
//! Progress bars show only on a terminal and never with `-q`. `--log-file` adds a JSON-lines log of every request,
//! lookup and decision.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use clap::{Parser, Subcommand};
use futures::future::join_all;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use octopus_client::ApiKey;
use octopus_model::ResourceKind;
use sync_core::{LayerName, Plan};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::apply::{ApplyProgress, ApplyReport, OpResult};
use crate::config::{InstanceConfig, SyncConfig};
use crate::load::LoadProgress;
use crate::report::{self, ApplyRun, DestinationApply, FollowUp, Format};
use crate::runner::{
    apply_exactly, apply_passes, check_planned_against, connect_with_key, plan_all,
    version_verdict, Connected, Instance, RunProgress, VersionVerdict,
};
use crate::saved::{SavedDestination, SavedPlan};

/// Keep Octopus Deploy instances in sync by name.
#[derive(Debug, Parser)]
#[command(name = "octosync", version, about, long_about = None)]
pub struct Cli {
    /// More output on stderr (-v: info, -vv: debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr, and no progress bars.
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
        /// text, json or markdown (markdown fits a pull-request comment).
        #[arg(long, default_value = "text")]
        format: Format,
        /// Save the plan to this file, for `apply --plan FILE` to apply exactly.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Write the report here instead of stdout.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Write each destination's clean-up log as markdown into this directory.
        #[arg(long, value_name = "DIR")]
        cleanup_dir: Option<PathBuf>,
        /// Exit with 2 when any destination has changes pending.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Read everything, even when the audit logs say nothing changed since the last
        /// sync left every destination in sync.
        #[arg(long)]
        full: bool,
    },
    /// Plan, show the plan, ask, then apply it to every destination; or apply a saved
    /// plan exactly (`--plan FILE`).
    Apply {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
        /// Apply this saved plan (`plan --out FILE`) exactly, without planning again and
        /// without asking: it was reviewed. A document changed since is not written.
        #[arg(long, value_name = "FILE")]
        plan: Option<PathBuf>,
        /// Apply without asking.
        #[arg(short, long)]
        yes: bool,
        /// The report: text, json or markdown.
        #[arg(long, default_value = "text")]
        format: Format,
        /// Write the report here instead of stdout.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Write each destination's clean-up log as markdown into this directory.
        #[arg(long, value_name = "DIR")]
        cleanup_dir: Option<PathBuf>,
        /// Read everything, even when the audit logs say nothing changed since the last
        /// sync left every destination in sync.
        #[arg(long)]
        full: bool,
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
    /// List what someone other than octosync changed on each destination since the last
    /// apply, and whether the next apply would overwrite it, keep it or leave it alone.
    Drift {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
        /// text, json or markdown.
        #[arg(long, default_value = "text")]
        format: Format,
        /// Write the report here instead of stdout.
        #[arg(long, value_name = "FILE")]
        report: Option<PathBuf>,
        /// Exit with 2 when any destination drifted (or its audit log no longer reaches
        /// back to the last sync).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Sync every interval, unattended: ask the audit logs what changed, apply it, print
    /// one line per sync. Ctrl-C stops after the sync under way; a second Ctrl-C abandons
    /// it.
    Watch {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
        /// The wait between two syncs: 30s, 5m, 1h. Doubled after each failure, up to
        /// ten minutes.
        #[arg(long, default_value = "5m", value_parser = crate::watch::parse_interval)]
        interval: std::time::Duration,
        /// One sync, then exit (for cron and tests): 0 done, 1 failed, 2 work left.
        #[arg(long)]
        once: bool,
        /// Apply the deletions `[policy] prune` plans; without it a destination whose
        /// plan deletes is skipped, with a line saying so.
        #[arg(long)]
        allow_deletions: bool,
    },
    /// Check the config and connect to every instance: versions, spaces, warnings.
    Validate {
        /// The config file.
        #[arg(short, long, default_value = "sync.toml")]
        config: PathBuf,
    },
    /// Sync two in-process example instances, with no set-up and no network.
    #[cfg(feature = "demo")]
    Demo,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        report::parse_format(s)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Parses the command line; a usage error is printed and answered with exit code 1,
/// like every other error, so that 2 keeps meaning only "changes pending". Help and
/// version requests print and answer 0.
pub fn parse<I, T>(args: I) -> Result<Cli, u8>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args).map_err(|e| {
        let _ = e.print();
        if e.use_stderr() {
            1
        } else {
            0
        }
    })
}

/// Runs a parsed command line; returns the exit code.
pub async fn main(cli: Cli) -> u8 {
    if let Err(e) = init_logging(&cli) {
        eprintln!("error: {e}");
        return 1;
    }
    let bars = Bars::new(cli.quiet);
    let result = match cli.command {
        Command::Plan {
            config,
            format,
            out,
            report,
            cleanup_dir,
            detailed_exitcode,
            full,
        } => plan_command(
            &config,
            format,
            out.as_deref(),
            report.as_deref(),
            cleanup_dir.as_deref(),
            full,
            &bars,
        )
        .await
        .map(|changes| u8::from(detailed_exitcode && changes) * 2),
        Command::Apply {
            config,
            plan,
            yes,
            format,
            report,
            cleanup_dir,
            full,
        } => {
            let args = ApplyArgs {
                config: &config,
                plan: plan.as_deref(),
                yes,
                format,
                report: report.as_deref(),
                cleanup_dir: cleanup_dir.as_deref(),
                full,
            };
            apply_command(&args, &bars).await
        }
        Command::Export {
            url,
            api_key_env,
            space,
            out,
            allow_insecure_http,
        } => export_command(&url, &api_key_env, &space, &out, allow_insecure_http).await,
        Command::Drift {
            config,
            format,
            report,
            detailed_exitcode,
        } => crate::drift::drift_command(&config, format, report.as_deref())
            .await
            .map(|drift| u8::from(detailed_exitcode && drift) * 2),
        Command::Watch {
            config,
            interval,
            once,
            allow_deletions,
        } => {
            let options = crate::watch::WatchOptions {
                interval,
                ticks: once.then_some(1),
                allow_deletions,
            };
            watch_command(&config, &options).await
        }
        Command::Validate { config } => validate_command(&config).await,
        #[cfg(feature = "demo")]
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

/// Whether progress bars are drawn: only for a person watching a terminal.
pub fn progress_wanted(quiet: bool, stderr_is_terminal: bool) -> bool {
    !quiet && stderr_is_terminal
}

/// Progress bars on stderr: one per instance while reading, one per layer and
/// destination while applying. Without a terminal (or with `-q`) there are none, and
/// nothing else takes their place: a pipeline's log keeps only what matters.
struct Bars(Option<MultiProgress>);

impl Bars {
    fn new(quiet: bool) -> Self {
        if !progress_wanted(quiet, std::io::stderr().is_terminal()) {
            return Bars(None);
        }
        Bars(Some(MultiProgress::with_draw_target(
            ProgressDrawTarget::stderr(),
        )))
    }

    fn bar(&self, prefix: String, template: &str) -> Option<ProgressBar> {
        let multi = self.0.as_ref()?;
        let bar = multi.add(ProgressBar::new(0));
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(prefix);
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        Some(bar)
    }

    /// A bar for reading one instance.
    fn reading_bar(&self, instance: &str) -> InstanceBar {
        InstanceBar(self.bar(
            format!("reading {instance}"),
            "{spinner} {prefix:40!} [{bar:30}] {pos}/{len} collections {elapsed}",
        ))
    }

    /// Bars for applying to one destination.
    fn layer_bars<'a>(&'a self, destination: &str) -> LayerBars<'a> {
        LayerBars {
            bars: self,
            destination: destination.to_owned(),
            layers: Mutex::new(BTreeMap::new()),
        }
    }

    /// Prints a line without tearing the bars.
    fn println(&self, to_stdout: bool, text: &str) {
        let print = || {
            if to_stdout {
                println!("{text}");
            } else {
                eprintln!("{text}");
            }
        };
        match &self.0 {
            Some(multi) => multi.suspend(print),
            None => print(),
        }
    }
}

impl RunProgress for Bars {
    fn reading(&self, instance: &str) -> Option<Box<dyn LoadProgress + '_>> {
        self.0.as_ref()?;
        Some(Box::new(self.reading_bar(instance)))
    }

    fn applying(&self, destination: &str) -> Option<Box<dyn ApplyProgress + '_>> {
        self.0.as_ref()?;
        Some(Box::new(self.layer_bars(destination)))
    }
}

struct InstanceBar(Option<ProgressBar>);

impl LoadProgress for InstanceBar {
    fn started(&self, total: usize) {
        if let Some(bar) = &self.0 {
            bar.set_length(total as u64);
        }
    }

    fn collection_read(&self, _kind: ResourceKind) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }
}

impl Drop for InstanceBar {
    fn drop(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

struct LayerBars<'a> {
    bars: &'a Bars,
    destination: String,
    /// Each layer's bar and how many of its ops did not succeed.
    layers: Mutex<BTreeMap<LayerName, (ProgressBar, usize)>>,
}

impl ApplyProgress for LayerBars<'_> {
    fn layer_started(&self, layer: LayerName, total: usize) {
        let Some(bar) = self.bars.bar(
            format!("{}: {}", self.destination, layer.title()),
            "{spinner} {prefix:40!} [{bar:30}] {pos}/{len} ops {msg} {elapsed}",
        ) else {
            return;
        };
        bar.set_length(total as u64);
        if let Ok(mut layers) = self.layers.lock() {
            layers.insert(layer, (bar, 0));
        }
    }

    fn op_finished(&self, layer: LayerName, result: &OpResult) {
        if let Ok(mut layers) = self.layers.lock() {
            if let Some((bar, failures)) = layers.get_mut(&layer) {
                if !result.outcome.is_done() {
                    *failures += 1;
                    bar.set_message(format!("{failures} failed"));
                }
                bar.inc(1);
            }
        }
    }

    fn layer_finished(&self, layer: LayerName) {
        if let Ok(mut layers) = self.layers.lock() {
            if let Some((bar, _)) = layers.remove(&layer) {
                bar.finish_and_clear();
            }
        }
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

fn read_config(path: &Path) -> Result<(SyncConfig, Vec<u8>), BoxError> {
    let config = SyncConfig::load(path)?;
    // The bytes the config was loaded from identify it in a saved plan.
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((config, bytes))
}

fn names_of(config: &SyncConfig) -> Vec<String> {
    config
        .destinations
        .iter()
        .map(|d| d.instance.display_name())
        .collect()
}

fn render_plans(names: &[String], plans: &[Plan], format: Format) -> String {
    match format {
        Format::Json if plans.len() == 1 => report::render(&plans[0], &names[0], format),
        Format::Json => {
            let map: serde_json::Map<String, serde_json::Value> = names
                .iter()
                .zip(plans)
                .map(|(n, p)| (n.clone(), serde_json::to_value(p).unwrap_or_default()))
                .collect();
            serde_json::to_string_pretty(&map).unwrap_or_default() + "\n"
        }
        _ => names
            .iter()
            .zip(plans)
            .map(|(n, p)| report::render(p, n, format))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

async fn plan_command(
    path: &Path,
    format: Format,
    out: Option<&Path>,
    report_file: Option<&Path>,
    cleanup_dir: Option<&Path>,
    full: bool,
    bars: &Bars,
) -> Result<bool, BoxError> {
    let (config, config_bytes) = read_config(path)?;
    let mut memories = crate::incremental::Memories::load(&config, full);
    let connected = memories.connect(&config)?;
    let read = read_and_plan(
        &config,
        &config_bytes,
        full,
        &mut memories,
        &connected,
        bars,
    );
    let (plans, unchanged) = match read.await? {
        Read::Unchanged(plans) => (plans, true),
        Read::Planned { plans, why, .. } => {
            say_how_read(&why, full);
            for line in memories.describe(&config) {
                tracing::info!("{line}");
            }
            (plans, false)
        }
    };
    let names = names_of(&config);
    // With a state, what others changed since the last sync comes first (not in JSON,
    // whose layout is the plan's).
    let drift = match format {
        // Nothing happened on either side since the destinations were last in sync.
        _ if unchanged => None,
        Format::Json => None,
        _ => crate::drift::drift_with_plans(&config, &plans)
            .await
            .unwrap_or_else(|e| {
                eprintln!("warning: cannot tell what changed since the last sync: {e}");
                None
            }),
    };
    let mut report = drift.map(|d| d.render(format) + "\n").unwrap_or_default();
    report.push_str(&render_plans(&names, &plans, format));
    emit(report_file, &report)?;
    if let Some(out) = out {
        let saved = SavedPlan::new(
            &config_bytes,
            config.source.display_name(),
            names
                .iter()
                .zip(&plans)
                .map(|(name, plan)| SavedDestination {
                    name: name.clone(),
                    plan: plan.clone(),
                })
                .collect(),
        );
        saved.write(out)?;
    }
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

/// The plans of every destination when the audit logs say nothing changed since the
/// last sync left each in sync (nothing else is read); otherwise why everything must be
/// read (`--full`, or the first destination that needs it).
pub async fn unchanged_plans(
    config: &SyncConfig,
    config_bytes: &[u8],
    full: bool,
) -> Result<Vec<Plan>, String> {
    if full {
        return Err("--full".to_owned());
    }
    let verdicts = crate::incremental::check(config, config_bytes).await;
    let mut plans = Vec::with_capacity(verdicts.len());
    for (dest, verdict) in config.destinations.iter().zip(verdicts) {
        match verdict {
            crate::incremental::Verdict::Unchanged(since) => {
                plans.push(crate::incremental::unchanged_plan(&since))
            }
            crate::incremental::Verdict::Read(why) => {
                let name = dest.instance.display_name();
                tracing::info!(destination = %name, %why, "reading everything");
                return Err(format!("{why} ({name})"));
            }
        }
    }
    Ok(plans)
}

/// Says on stderr how a run read the instances and why (see [`read_and_plan`]), unless
/// it is the first run (there is no earlier sync to compare with) or `--full` asked to
/// read everything.
fn say_how_read(how: &str, full: bool) {
    let first_run = how.starts_with("read everything: no ");
    if !first_run && !full {
        let mut chars = how.chars();
        let how = match chars.next() {
            Some(c) => c.to_uppercase().chain(chars).collect::<String>(),
            None => String::new(),
        };
        eprintln!("{how}.");
    }
}

/// What `apply` was asked to do.
struct ApplyArgs<'a> {
    config: &'a Path,
    plan: Option<&'a Path>,
    yes: bool,
    format: Format,
    report: Option<&'a Path>,
    cleanup_dir: Option<&'a Path>,
    full: bool,
}

impl ApplyArgs<'_> {
    /// Plans and questions go where the report does not: with a machine-readable report
    /// on stdout, they go to stderr.
    fn say(&self, bars: &Bars, text: &str) {
        let to_stdout = self.format == Format::Text && self.report.is_none();
        bars.println(to_stdout, text);
    }
}

/// Asks a person on the terminal; `yes` answers for them.
fn confirm(bars: &Bars, yes: bool, question: &str) -> Result<bool, BoxError> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err("not asking on a non-interactive terminal: pass --yes to apply".into());
    }
    let mut answer = String::new();
    let mut ask = || -> std::io::Result<()> {
        eprint!("{question} Type 'yes' to go on: ");
        std::io::stderr().flush()?;
        std::io::stdin().read_line(&mut answer).map(|_| ())
    };
    match &bars.0 {
        Some(multi) => multi.suspend(ask)?,
        None => ask()?,
    }
    Ok(answer.trim() == "yes")
}

/// How an apply talks to whoever started it: `octosync apply` shows each plan and asks
/// a person; `octosync watch` shows nothing and decides by rule (see [`crate::watch`]).
pub trait Conversation: Send + Sync {
    /// Who hears of reading and applying (progress bars, or nobody).
    fn progress(&self) -> &dyn RunProgress;
    /// Told the plans and notices a person would read.
    fn say(&self, text: &str);
    /// Told why everything is read (`--full`, or what moved since the last sync).
    /// How the instances were read and why, in a phrase (`read everything: …`, `read
    /// only what changed: …`); `known` when what the state knew was used.
    fn reading_everything(&self, _how: &str, _known: bool) {}
    /// How each instance was read (see [`crate::incremental::Memories::describe`]).
    fn read(&self, _how: &[String]) {}
    /// Shown the first plans (at least one has changes), one per destination in the
    /// config's order: which destinations to apply them to, or `None` to apply nothing.
    fn approve(&self, names: &[String], plans: &[Plan]) -> Result<Option<Vec<bool>>, BoxError>;
    /// Shown each follow-up plan of the destinations being applied to: whether to apply
    /// it.
    fn approve_follow_up(&self, names: &[String], plans: &[Plan]) -> bool;
}

/// What [`apply_config`] did.
#[derive(Debug)]
pub enum SyncOutcome {
    /// The audit logs say nothing changed since the last sync left every destination in
    /// sync: nothing else was read, nothing written. The plans say so.
    Unchanged(Vec<Plan>),
    /// The conversation declined the plans: nothing was written, nothing recorded.
    Declined,
    /// Everything was read, planned and (where approved) applied, and the state records
    /// it.
    Applied(Synced),
}

/// A sync that read everything: what it applied and why it read.
#[derive(Debug)]
pub struct Synced {
    /// How the instances were read and why, in a phrase (`read everything: …`, `read
    /// only what changed: …`).
    pub read_because: String,
    /// What was applied, per destination in the config's order.
    pub run: ApplyRun,
    /// The first plans, by destination.
    pub plans: Vec<(String, Plan)>,
    /// Destinations with changes that the conversation chose not to apply to.
    pub skipped: Vec<String>,
}

/// Plans every destination of `config` and applies what the conversation approves: the
/// body of `octosync apply` (without `--plan`) and of every `octosync watch` tick.
///
/// Unless `full`, the audit logs are asked first whether anything changed since the last
/// sync left every destination in sync ([`crate::incremental::check`]); when nothing did,
/// nothing else is read. Otherwise checkpoints of the logs are taken before anything is
/// read, so the state never claims more than was seen; after the apply
/// [`crate::incremental::settle`] and [`crate::audit::record`] advance the state. A
/// record that cannot be written is a warning: the next run then reads everything.
pub async fn apply_config(
    config: &SyncConfig,
    config_bytes: &[u8],
    full: bool,
    talk: &dyn Conversation,
) -> Result<SyncOutcome, BoxError> {
    let mut memories = crate::incremental::Memories::load(config, full);
    let connected = memories.connect(config)?;
    for dest in connected.destinations() {
        dest.writer()?;
    }
    let (fallback, read) = match read_and_plan(
        config,
        config_bytes,
        full,
        &mut memories,
        &connected,
        talk.progress(),
    )
    .await?
    {
        Read::Unchanged(plans) => return Ok(SyncOutcome::Unchanged(plans)),
        Read::Planned {
            fallback,
            source,
            plans,
            why,
        } => {
            talk.reading_everything(&why, memories.all_known());
            talk.read(&memories.describe(config));
            (fallback, (source, plans, why))
        }
    };
    let (snapshot, plans, read_because) = read;
    let applied = apply_fresh(config, &connected, &memories, talk, *snapshot, plans).await;
    memories.save(config);
    let Some(((run, plans, after), skipped)) = applied? else {
        return Ok(SyncOutcome::Declined);
    };
    let checkpoints = memories.checkpoints(config, fallback);
    settle_and_record(
        config,
        config_bytes,
        &checkpoints,
        &run,
        &plans,
        &after,
        Some(&memories),
    )
    .await;
    Ok(SyncOutcome::Applied(Synced {
        read_because,
        run,
        plans,
        skipped,
    }))
}

/// What [`read_and_plan`] found.
enum Read {
    /// Nothing changed since the last sync left every destination in sync.
    Unchanged(Vec<Plan>),
    /// The source as read and every destination's plan.
    Planned {
        /// The checkpoints taken before reading, for the instances read in full.
        fallback: crate::audit::Checkpoints,
        source: Box<sync_core::Snapshot>,
        plans: Vec<Plan>,
        /// How the instances were read and why, in a phrase.
        why: String,
    },
}

/// Reads the instances of `config` and plans every destination, the cheapest way the
/// state allows:
///
/// - when the state directory knows every server's space, each is read through what it
///   knows (the audit log since, and the documents it names); when no log moved and
///   the last sync left every destination in sync, that is all;
/// - otherwise the logs are asked whether anything changed since the last sync left
///   every destination in sync ([`crate::incremental::check`]), and if so everything is
///   read, after checkpoints of the logs are taken (so the state never claims more
///   than was seen).
///
/// What was read is kept in the state directory for the next run.
async fn read_and_plan(
    config: &SyncConfig,
    config_bytes: &[u8],
    full: bool,
    memories: &mut crate::incremental::Memories,
    connected: &Connected,
    progress: &dyn RunProgress,
) -> Result<Read, BoxError> {
    let known = memories.all_known();
    let mut why = None;
    if !known {
        match unchanged_plans(config, config_bytes, full).await {
            Ok(plans) => return Ok(Read::Unchanged(plans)),
            Err(reason) => why = Some(reason),
        }
    }
    let fallback = if known {
        crate::audit::Checkpoints::default()
    } else {
        crate::audit::take(config).await
    };
    memories.start_unknown_at(&fallback);
    let planned = plan_all(
        &memories.source(connected),
        &memories.destinations(connected),
        progress,
    )
    .await;
    let (source, plans) = match planned.and_then(|p| p.into_plans()) {
        Ok(planned) => planned,
        Err(e) => {
            // What was read is still known.
            memories.save(config);
            return Err(e.into());
        }
    };
    let why = match why {
        Some(why) => format!("read everything: {why}"),
        None => match memories.unchanged_plans(config, config_bytes) {
            // Nothing moved: what is known is as it was, so it is not written again.
            Ok(plans) => return Ok(Read::Unchanged(plans)),
            Err(why) => why,
        },
    };
    memories.save(config);
    Ok(Read::Planned {
        fallback,
        source: Box::new(source),
        plans,
        why,
    })
}

/// Advances the state after an apply: which destinations it left in sync, and what it
/// wrote.
async fn settle_and_record(
    config: &SyncConfig,
    config_bytes: &[u8],
    checkpoints: &crate::audit::Checkpoints,
    run: &ApplyRun,
    plans: &[(String, Plan)],
    after: &[(String, Plan)],
    memories: Option<&crate::incremental::Memories>,
) {
    let in_sync =
        crate::incremental::settle(config, config_bytes, checkpoints, run, after, memories).await;
    if let Err(e) = crate::audit::record(config, checkpoints, run, plans, after, &in_sync) {
        eprintln!("warning: {e}; drift has no baseline for this run");
    }
}

/// `octosync apply`: shows each plan and asks a person (`--yes` answers).
struct AskPerson<'a> {
    args: &'a ApplyArgs<'a>,
    bars: &'a Bars,
}

impl Conversation for AskPerson<'_> {
    fn progress(&self) -> &dyn RunProgress {
        self.bars
    }

    fn say(&self, text: &str) {
        self.args.say(self.bars, text);
    }

    fn reading_everything(&self, why: &str, _known: bool) {
        say_how_read(why, self.args.full);
    }

    fn read(&self, how: &[String]) {
        for line in how {
            tracing::info!("{line}");
        }
    }

    fn approve(&self, names: &[String], plans: &[Plan]) -> Result<Option<Vec<bool>>, BoxError> {
        let yes = confirm(self.bars, self.args.yes, "Apply these changes?")?
            && confirm_deletions(self.args, self.bars, names, plans)?;
        Ok(yes.then(|| vec![true; plans.len()]))
    }

    fn approve_follow_up(&self, names: &[String], next: &[Plan]) -> bool {
        self.say(
            "\nFollow-up plan: work that could only be planned after the writes above \
             (values that hang on ids the server assigned):\n",
        );
        for (name, plan) in names.iter().zip(next) {
            if plan.has_changes() {
                self.say(&report::render(plan, name, Format::Text));
            }
        }
        confirm(self.bars, self.args.yes, "Apply the follow-up plan?")
            .and_then(|yes| Ok(yes && confirm_deletions(self.args, self.bars, names, next)?))
            .unwrap_or_else(|e| {
                eprintln!("warning: {e}; the follow-up plan is not applied");
                false
            })
    }
}

async fn apply_command(args: &ApplyArgs<'_>, bars: &Bars) -> Result<u8, BoxError> {
    let (config, config_bytes) = read_config(args.config)?;
    let (run, plans) = match args.plan {
        Some(file) => {
            let connected = Connected::open(&config)?;
            for dest in connected.destinations() {
                dest.writer()?;
            }
            // Taken before anything is read, so the state never claims more than was seen.
            let checkpoints = crate::audit::take(&config).await;
            let outcome = apply_saved(args, &config, &config_bytes, file, &connected, bars).await?;
            let Some((run, plans, after)) = outcome else {
                args.say(bars, "Nothing applied.");
                return Ok(1);
            };
            settle_and_record(
                &config,
                &config_bytes,
                &checkpoints,
                &run,
                &plans,
                &after,
                None,
            )
            .await;
            (run, plans)
        }
        None => {
            let talk = AskPerson { args, bars };
            match apply_config(&config, &config_bytes, args.full, &talk).await? {
                SyncOutcome::Unchanged(_) => {
                    args.say(
                        bars,
                        "Nothing to do: nothing changed on the source or any destination since the last sync left them in sync (--full reads everything).",
                    );
                    return Ok(0);
                }
                SyncOutcome::Declined => {
                    args.say(bars, "Nothing applied.");
                    return Ok(1);
                }
                SyncOutcome::Applied(synced) => (synced.run, synced.plans),
            }
        }
    };
    emit(args.report, &run.render(args.format))?;
    if let Some(dir) = args.cleanup_dir {
        for (name, plan) in &plans {
            write_cleanup(dir, name, plan)?;
        }
    }
    if !run.is_success() {
        eprintln!("Not everything was applied (see the report); fix the cause, plan again and apply: it picks up where this run stopped.");
        return Ok(1);
    }
    if run.follow_up_needed() {
        eprintln!("A follow-up plan is needed: run plan again, review it and apply it.");
        return Ok(2);
    }
    Ok(0)
}

/// The report of one destination from the ops of every pass.
fn destination_apply(name: &str, results: Vec<OpResult>, follow_up: FollowUp) -> DestinationApply {
    let counts = ApplyReport {
        results: results.clone(),
    }
    .counts();
    DestinationApply {
        name: name.to_owned(),
        counts,
        results,
        follow_up,
    }
}

/// A follow-up is needed for a destination whose plan after the apply still writes.
fn follow_up_of(plan: &Plan) -> FollowUp {
    if plan.has_changes() {
        FollowUp::Needed {
            summary: plan.summary.clone(),
        }
    } else {
        FollowUp::None
    }
}

/// `apply --plan FILE`: exactly the saved ops, each update only over the document it
/// was planned against; then a look at what is left, which is reported, not applied.
async fn apply_saved(
    args: &ApplyArgs<'_>,
    config: &SyncConfig,
    config_bytes: &[u8],
    file: &Path,
    connected: &Connected,
    bars: &Bars,
) -> Result<Option<AppliedPlans>, BoxError> {
    let saved = SavedPlan::read(file)?;
    let names = names_of(config);
    saved.check(args.config, config_bytes, &names)?;
    let destinations = connected.destinations();
    let mut targets = Vec::new();
    for dest in &saved.destinations {
        let target = destinations
            .iter()
            .find(|d| d.name == dest.name)
            .ok_or_else(|| crate::saved::SavedPlanError::UnknownDestination {
                name: dest.name.clone(),
            })?;
        check_planned_against(target, &dest.plan).await?;
        targets.push(target);
    }
    for dest in &saved.destinations {
        args.say(
            bars,
            &format!(
                "Applying the saved plan to {}: {} to create, {} to update",
                dest.name, dest.plan.summary.create, dest.plan.summary.update
            ),
        );
    }
    let saved_names: Vec<String> = saved.destinations.iter().map(|d| d.name.clone()).collect();
    let saved_plans: Vec<Plan> = saved.destinations.iter().map(|d| d.plan.clone()).collect();
    if !confirm_deletions(args, bars, &saved_names, &saved_plans)? {
        return Ok(None);
    }
    // Certificate files are read from the directory the config names now.
    let options = config.apply.apply_options();
    let reports: Vec<ApplyReport> = join_all(
        saved
            .destinations
            .iter()
            .zip(&targets)
            .map(|(dest, target)| apply_exactly(target, &dest.plan, &options, bars)),
    )
    .await
    .into_iter()
    .collect::<Result<_, _>>()?;
    let success = reports.iter().all(ApplyReport::is_success);
    let after = if success {
        let (_, plans) = plan_all(&connected.source(), &destinations, bars)
            .await?
            .into_plans()?;
        names.into_iter().zip(plans).collect::<BTreeMap<_, _>>()
    } else {
        BTreeMap::new()
    };
    let destinations = saved
        .destinations
        .iter()
        .zip(reports)
        .map(|(dest, report)| {
            let follow_up = match after.get(&dest.name) {
                Some(plan) => follow_up_of(plan),
                None => FollowUp::NotChecked,
            };
            destination_apply(&dest.name, report.results, follow_up)
        })
        .collect();
    let plans = saved
        .destinations
        .into_iter()
        .map(|d| (d.name, d.plan))
        .collect();
    Ok(Some((
        ApplyRun {
            tool_version: crate::saved::TOOL_VERSION.to_owned(),
            saved_plan: true,
            destinations,
        },
        plans,
        after.into_iter().collect(),
    )))
}

/// What an apply did: the run, the plans applied first and the plans made from the
/// destinations as the apply left them (empty when it did not finish), by destination.
type AppliedPlans = (ApplyRun, Vec<(String, Plan)>, Vec<(String, Plan)>);

/// Lists every deletion of the plans and asks before any is made (`--yes` answers).
fn confirm_deletions(
    args: &ApplyArgs<'_>,
    bars: &Bars,
    names: &[String],
    plans: &[Plan],
) -> Result<bool, BoxError> {
    let listed: Vec<String> = names
        .iter()
        .zip(plans)
        .flat_map(|(name, plan)| {
            plan.deletions()
                .into_iter()
                .map(move |d| format!("  - {name}: {d}"))
        })
        .collect();
    if listed.is_empty() {
        return Ok(true);
    }
    args.say(
        bars,
        &format!(
            "\nThese {} deletion(s) remove what the source no longer has ([policy] prune):\n{}",
            listed.len(),
            listed.join("\n")
        ),
    );
    confirm(bars, args.yes, "Delete these items?")
}

/// `apply` without a saved plan: plan, show, ask, apply; then show each follow-up plan
/// (work that could only be planned after these writes) and ask again before applying
/// it, so nothing is written that nobody saw. Also answers the destinations with changes
/// that were not applied to.
async fn apply_fresh(
    config: &SyncConfig,
    connected: &Connected,
    memories: &crate::incremental::Memories,
    talk: &dyn Conversation,
    snapshot: sync_core::Snapshot,
    plans: Vec<Plan>,
) -> Result<Option<(AppliedPlans, Vec<String>)>, BoxError> {
    let names = names_of(config);
    let options = config.apply.apply_options();
    talk.say(&render_plans(&names, &plans, Format::Text));
    let mut results = vec![Vec::new(); names.len()];
    let mut follow_ups = vec![FollowUp::None; names.len()];
    let mut skipped = Vec::new();
    let after: Vec<(String, Plan)> = if !plans.iter().any(Plan::has_changes) {
        talk.say("Nothing to do: every destination is in sync.");
        names.iter().cloned().zip(plans.iter().cloned()).collect()
    } else {
        let Some(chosen) = talk.approve(&names, &plans)? else {
            return Ok(None);
        };
        let chosen: Vec<usize> = (0..names.len())
            .filter(|i| chosen.get(*i).copied().unwrap_or(false))
            .collect();
        for (i, (name, plan)) in names.iter().zip(&plans).enumerate() {
            if plan.has_changes() && !chosen.contains(&i) {
                skipped.push(name.clone());
                follow_ups[i] = FollowUp::Needed {
                    summary: plan.summary.clone(),
                };
            }
        }
        let destinations: Vec<_> = memories
            .destinations(connected)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| chosen.contains(i))
            .map(|(_, d)| d)
            .collect();
        let chosen_names: Vec<String> = chosen.iter().map(|&i| names[i].clone()).collect();
        let chosen_plans: Vec<Plan> = chosen.iter().map(|&i| plans[i].clone()).collect();
        // Each follow-up plan is shown and asked about before it is applied.
        let mut approve = |next: &[Plan]| talk.approve_follow_up(&chosen_names, next);
        let applied = apply_passes(
            &snapshot,
            &destinations,
            &chosen_plans,
            &options,
            talk.progress(),
            &mut approve,
        )
        .await?;
        for ((&i, report), follow_up) in chosen.iter().zip(applied.reports).zip(applied.follow_ups)
        {
            results[i] = report.results;
            follow_ups[i] = follow_up;
        }
        applied
            .latest
            .map(|latest| chosen_names.into_iter().zip(latest).collect())
            .unwrap_or_default()
    };
    let destinations = names
        .iter()
        .zip(results)
        .zip(follow_ups)
        .map(|((name, results), follow_up)| destination_apply(name, results, follow_up))
        .collect();
    Ok(Some((
        (
            ApplyRun {
                tool_version: crate::saved::TOOL_VERSION.to_owned(),
                saved_plan: false,
                destinations,
            },
            names.into_iter().zip(plans).collect(),
            after,
        ),
        skipped,
    )))
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
    let client = connect_with_key(&instance, key, &crate::config::ApplySettings::default())?;
    let summary = crate::snapshot_dir::export(&client, space, out).await?;
    let total: usize = summary.collections.iter().map(|(_, n)| n).sum();
    println!(
        "Exported {total} documents in {} collections of space {space:?} to {}",
        summary.collections.len(),
        out.display()
    );
    Ok(0)
}

/// `octosync watch`: the first Ctrl-C stops after the sync under way, the second
/// abandons it (and the state, not advanced, makes the next run read everything).
async fn watch_command(path: &Path, options: &crate::watch::WatchOptions) -> Result<u8, BoxError> {
    let (signals, mut heard) = tokio::sync::watch::channel(0u32);
    let listener = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            signals.send_modify(|n| *n += 1);
        }
    });
    let mut second = heard.clone();
    let stop = async move {
        if heard.wait_for(|n| *n >= 1).await.is_ok() {
            eprintln!("Stopping after the sync under way (Ctrl-C again abandons it).");
        } else {
            std::future::pending::<()>().await;
        }
    };
    let abandon = async move {
        if second.wait_for(|n| *n >= 2).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let mut last = None;
    let mut print = |tick: &crate::watch::Tick| {
        println!("{tick}");
        last = Some(tick.clone());
    };
    let end = crate::watch::watch(path, options, stop, abandon, &mut print).await;
    listener.abort();
    match end? {
        crate::watch::WatchEnd::Abandoned => {
            eprintln!("Abandoned the sync under way: what it wrote stays, nothing was recorded; the next run reads everything.");
            Ok(1)
        }
        crate::watch::WatchEnd::Stopped => Ok(0),
        crate::watch::WatchEnd::Done => Ok(match last {
            Some(tick) if !tick.succeeded() => 1,
            Some(tick) if tick.pending() => 2,
            _ => 0,
        }),
    }
}

async fn validate_command(path: &Path) -> Result<u8, BoxError> {
    let config = SyncConfig::load(path)?;
    println!("{}: config is valid", path.display());
    let connected = Connected::open(&config)?;
    let source = connected.source();
    let source_version = source.check().await?;
    describe(
        &source.name,
        &source.space,
        matches!(source.instance, Instance::Dir(_)),
        &source_version,
    );
    let mut problems = 0;
    for dest in connected.destinations() {
        let version = dest.check().await?;
        describe(
            &dest.name,
            &dest.space,
            matches!(dest.instance, Instance::Dir(_)),
            &version,
        );
        match version_verdict(&source_version, &version) {
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
    Ok(u8::from(problems > 0))
}

/// Prints what an instance is.
fn describe(name: &str, space: &str, dir: bool, version: &octopus_model::OctopusVersion) {
    if dir {
        println!("{name}: snapshot directory, version {version}, space {space:?}");
    } else {
        println!("{name}: Octopus {version}, space {space:?} found");
    }
}

#[cfg(feature = "demo")]
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
