//! `octosync watch`: sync every interval, unattended, for as long as it runs.
//!
//! Each tick is one `octosync apply --yes` ([`crate::cli::apply_config`]): the audit
//! logs are asked first whether anything changed on the source or a destination since
//! the last sync left them in sync (one request per instance); only then is everything
//! read, planned and applied, and the state advances exactly as after `apply`. A tick
//! therefore never does less than a full sync would, and the state directory is the only
//! memory between ticks: a watch that crashed (or was stopped) starts where the state
//! says, and a tick that did not finish records nothing, so the next one reads
//! everything.
//!
//! Two things differ from a person at `apply`:
//! - **Deletions** (`[policy] prune`) are not made unattended unless
//!   [`WatchOptions::allow_deletions`] says so: a destination whose plan deletes anything
//!   is skipped for that tick, with a line saying so, and the other destinations are
//!   applied. A follow-up plan that deletes is not applied either.
//! - **Failures back off**: after a tick that failed (a server that rate-limits past the
//!   client's own `Retry-After` retries, answers errors, or cannot be reached), the wait
//!   doubles, up to [`MAX_BACKOFF`] (or the interval, when that is longer); a tick that
//!   succeeds brings the interval back.
//!
//! Stopping: when `stop` resolves, a tick under way is finished (its apply and its state
//! record included) and the watch ends; while waiting, it ends at once. When `abandon`
//! resolves, the tick under way is dropped where it stands: the writes already made stay,
//! nothing is recorded, and the state still describes the last finished tick; the writes
//! moved the destination's audit log, so the next run reads everything.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sync_core::Plan;

use crate::cli::{apply_config, Conversation, SyncOutcome};
use crate::config::{ConfigError, SyncConfig};
use crate::report::FollowUp;
use crate::runner::{RunProgress, Unwatched};

/// The longest wait after failures, unless the interval itself is longer: a server that
/// is down for an hour is asked every ten minutes, not every few hours.
pub const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// Why a watch cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The config cannot be read or is not valid.
    #[error(transparent)]
    Config(#[from] Box<ConfigError>),
    /// The config file cannot be read as bytes (its digest identifies the config the
    /// state was recorded with).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The interval is zero: a watch would ask the servers without pause.
    #[error("the interval must be longer than zero")]
    ZeroInterval,
    /// A destination is a snapshot directory: every tick would fail the same way.
    #[error("{0} is a snapshot directory, not a server: a watch applies to servers only")]
    Offline(String),
}

/// How a watch runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchOptions {
    /// The wait between two ticks that succeeded.
    pub interval: Duration,
    /// Stop after this many ticks (`--once` is 1); `None` runs until stopped.
    pub ticks: Option<u64>,
    /// Apply the deletions `[policy] prune` plans; without it a destination whose plan
    /// deletes is skipped.
    pub allow_deletions: bool,
}

/// Parses an interval: a whole number followed by `s`, `m` or `h` (`30s`, `5m`, `1h`).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let unit_at = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit: write 30s, 5m or 1h"))?;
    let (number, unit) = text.split_at(unit_at);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a whole number"))?;
    let seconds = match unit {
        "s" => Some(number),
        "m" => number.checked_mul(60),
        "h" => number.checked_mul(3600),
        _ => return Err(format!("{text:?}: the unit is s, m or h")),
    }
    .ok_or_else(|| format!("{text:?} is too long"))?;
    if seconds == 0 {
        return Err("the interval must be longer than zero".to_owned());
    }
    Ok(Duration::from_secs(seconds))
}

/// The wait before the next tick: the interval after a success, doubled after each
/// failure in a row up to [`MAX_BACKOFF`] (or the interval, when that is longer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    interval: Duration,
    failures: u32,
}

impl Backoff {
    /// No failures yet.
    pub fn new(interval: Duration) -> Self {
        Backoff {
            interval,
            failures: 0,
        }
    }

    /// Records how a tick ended; answers the wait before the next.
    pub fn after(&mut self, succeeded: bool) -> Duration {
        if succeeded {
            self.failures = 0;
            return self.interval;
        }
        self.failures = self.failures.saturating_add(1);
        let cap = MAX_BACKOFF.max(self.interval);
        // 2^failures, without overflowing: past 2^20 every interval is over the cap.
        let factor = 1u32 << self.failures.min(20);
        self.interval.saturating_mul(factor).min(cap)
    }
}

/// How one destination came out of a tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DestinationTick {
    /// The audit logs say nothing changed since the last sync left it in sync; nothing
    /// else was read.
    Unchanged,
    /// Everything was read; nothing needed writing.
    InSync,
    /// Writes were made, all of them successfully.
    Applied {
        /// How many.
        writes: usize,
    },
    /// Some ops failed or were refused.
    Failed {
        /// How many ops did not succeed.
        failed: usize,
        /// How many writes succeeded.
        writes: usize,
        /// The first op that failed or was refused, as the apply report shows it.
        first: Option<String>,
    },
    /// The writes were made, but a follow-up plan still has work that was not applied
    /// (more passes than allowed, or it deletes).
    FollowUpNeeded {
        /// How many writes succeeded.
        writes: usize,
    },
    /// Not applied: its plan deletes, and deletions are not allowed unattended.
    SkippedDeletions {
        /// What the plan would delete.
        deletions: usize,
    },
}

impl DestinationTick {
    /// Whether the tick went as it should for this destination (a skip is not a
    /// failure: retrying sooner would not change it).
    pub fn succeeded(&self) -> bool {
        !matches!(self, DestinationTick::Failed { .. })
    }
}

impl fmt::Display for DestinationTick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DestinationTick::Unchanged => f.write_str("in sync, nothing read"),
            DestinationTick::InSync => f.write_str("in sync"),
            DestinationTick::Applied { writes } => write!(f, "applied {writes} writes"),
            DestinationTick::Failed {
                failed,
                writes,
                first,
            } => {
                write!(
                    f,
                    "failed: {failed} ops did not succeed ({writes} writes made)"
                )?;
                match first {
                    Some(first) => write!(f, ", first: {first}"),
                    None => Ok(()),
                }
            }
            DestinationTick::FollowUpNeeded { writes } => write!(
                f,
                "applied {writes} writes, follow-up needed: run plan, review it and apply"
            ),
            DestinationTick::SkippedDeletions { deletions } => write!(
                f,
                "skipped: the plan deletes {deletions} item(s) ([policy] prune); review it with apply, or watch with --allow-deletions"
            ),
        }
    }
}

/// What one tick did: one line of the watch's output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tick {
    /// When the tick started.
    pub at: SystemTime,
    /// Why everything was read, when it was (what moved since the last sync, or that
    /// there is no record of one).
    pub read_because: Option<String>,
    /// Each destination, in the config's order; empty when the tick failed as a whole.
    pub destinations: Vec<(String, DestinationTick)>,
    /// Why the tick failed as a whole (a server that cannot be reached or read).
    pub error: Option<String>,
    /// The wait before the next tick; `None` when the watch ends after this one.
    pub next: Option<Duration>,
}

impl Tick {
    /// Whether nothing failed: the next tick waits the interval, not longer.
    pub fn succeeded(&self) -> bool {
        self.error.is_none() && self.destinations.iter().all(|(_, d)| d.succeeded())
    }

    /// Whether work is left that the tick did not do (a skip or a follow-up).
    pub fn pending(&self) -> bool {
        self.destinations.iter().any(|(_, d)| {
            matches!(
                d,
                DestinationTick::SkippedDeletions { .. } | DestinationTick::FollowUpNeeded { .. }
            )
        })
    }
}

impl fmt::Display for Tick {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&utc(self.at))?;
        if let Some(e) = &self.error {
            write!(f, " failed: {e}")?;
        }
        for (i, (name, tick)) in self.destinations.iter().enumerate() {
            let sep = if i == 0 { " " } else { "; " };
            write!(f, "{sep}{name}: {tick}")?;
        }
        if let Some(why) = &self.read_because {
            write!(f, " ({why})")?;
        }
        if let Some(next) = self.next {
            if !self.succeeded() {
                write!(f, "; backing off, next try in {}", seconds(next))?;
            }
        }
        Ok(())
    }
}

/// A duration as a person reads it: `45s`, `4m`, `2m30s`, `1h`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 60, s % 60) {
        (0, _) if s == 0 => format!("{}ms", d.as_millis()),
        (0, s) => format!("{s}s"),
        (m, 0) if m % 60 == 0 => format!("{}h", m / 60),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// `2026-11-30T04:30:00Z`: a time in UTC, without a date library.
fn utc(at: SystemTime) -> String {
    let secs = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// How a watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchEnd {
    /// It ran the ticks it was asked for.
    Done,
    /// `stop` resolved; no tick was under way, or the one under way finished.
    Stopped,
    /// `abandon` resolved during a tick, which was dropped unfinished and not recorded.
    Abandoned,
}

/// A watch decides by rule what a person at `apply` would be asked.
struct Unattended {
    allow_deletions: bool,
}

impl Conversation for Unattended {
    fn progress(&self) -> &dyn RunProgress {
        &Unwatched
    }

    fn say(&self, text: &str) {
        tracing::debug!(%text, "watch");
    }

    fn approve(
        &self,
        _names: &[String],
        plans: &[Plan],
    ) -> Result<Option<Vec<bool>>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Some(
            plans
                .iter()
                .map(|p| self.allow_deletions || p.deletions().is_empty())
                .collect(),
        ))
    }

    fn approve_follow_up(&self, _names: &[String], plans: &[Plan]) -> bool {
        self.allow_deletions || plans.iter().all(|p| p.deletions().is_empty())
    }
}

/// One tick: [`apply_config`] once, summed up per destination.
async fn tick(path: &Path, options: &WatchOptions) -> Tick {
    let at = SystemTime::now();
    let failed = |error: String| Tick {
        at,
        read_because: None,
        destinations: Vec::new(),
        error: Some(error),
        next: None,
    };
    // Read every tick: an edited sync.toml applies from the next tick on.
    let config = match SyncConfig::load(path) {
        Ok(config) => config,
        Err(e) => return failed(e.to_string()),
    };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => return failed(format!("cannot read {}: {e}", path.display())),
    };
    let talk = Unattended {
        allow_deletions: options.allow_deletions,
    };
    let outcome = match apply_config(&config, &bytes, false, &talk).await {
        Ok(outcome) => outcome,
        Err(e) => return failed(e.to_string()),
    };
    let names = config
        .destinations
        .iter()
        .map(|d| d.instance.display_name());
    match outcome {
        SyncOutcome::Unchanged(_) => Tick {
            at,
            read_because: None,
            destinations: names.map(|n| (n, DestinationTick::Unchanged)).collect(),
            error: None,
            next: None,
        },
        // The watch approves every destination; declining is not an answer it gives.
        SyncOutcome::Declined => failed("nothing was applied".to_owned()),
        SyncOutcome::Applied(synced) => {
            let destinations = synced
                .run
                .destinations
                .iter()
                .zip(&synced.plans)
                .map(|(d, (_, plan))| {
                    let writes = d.counts.done;
                    let not_done = d.results.len() - writes;
                    let state = if synced.skipped.contains(&d.name) {
                        DestinationTick::SkippedDeletions {
                            deletions: plan.deletions().len(),
                        }
                    } else if not_done > 0 {
                        let first = d
                            .results
                            .iter()
                            .find(|r| {
                                !r.outcome.is_done()
                                    && !matches!(r.outcome, crate::apply::Outcome::NotAttempted)
                            })
                            // One line per tick: a cause that spans lines is joined.
                            .map(|r| {
                                r.to_string()
                                    .split_whitespace()
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            });
                        DestinationTick::Failed {
                            failed: not_done,
                            writes,
                            first,
                        }
                    } else if matches!(d.follow_up, FollowUp::Needed { .. }) {
                        DestinationTick::FollowUpNeeded { writes }
                    } else if d.results.is_empty() {
                        DestinationTick::InSync
                    } else {
                        DestinationTick::Applied { writes }
                    };
                    (d.name.clone(), state)
                })
                .collect();
            Tick {
                at,
                read_because: Some(synced.read_because),
                destinations,
                error: None,
                next: None,
            }
        }
    }
}

/// Runs ticks every `options.interval` (longer after failures, see [`Backoff`]) until
/// the ticks asked for are done, `stop` resolves (after the tick under way) or
/// `abandon` resolves (at once). `report` hears of every tick as it ends.
pub async fn watch(
    path: &Path,
    options: &WatchOptions,
    stop: impl Future<Output = ()>,
    abandon: impl Future<Output = ()>,
    report: &mut (dyn FnMut(&Tick) + Send),
) -> Result<WatchEnd, WatchError> {
    if options.interval.is_zero() {
        return Err(WatchError::ZeroInterval);
    }
    // A config that is wrong from the start is an error, not a tick that backs off.
    let config = SyncConfig::load(path).map_err(Box::new)?;
    if let Some(dir) = config
        .destinations
        .iter()
        .find(|d| d.instance.snapshot.is_some())
    {
        return Err(WatchError::Offline(dir.instance.display_name()));
    }
    std::fs::metadata(path).map_err(|source| WatchError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut stop = std::pin::pin!(futures::FutureExt::fuse(stop));
    let mut abandon = std::pin::pin!(futures::FutureExt::fuse(abandon));
    let mut backoff = Backoff::new(options.interval);
    let mut done = 0u64;
    loop {
        let mut stopping = false;
        let mut this = std::pin::pin!(tick(path, options));
        let mut finished = loop {
            tokio::select! {
                t = &mut this => break t,
                () = &mut abandon => return Ok(WatchEnd::Abandoned),
                () = &mut stop, if !stopping => stopping = true,
            }
        };
        done += 1;
        let last = stopping || options.ticks.is_some_and(|n| done >= n);
        let wait = backoff.after(finished.succeeded());
        finished.next = (!last).then_some(wait);
        report(&finished);
        if stopping {
            return Ok(WatchEnd::Stopped);
        }
        if last {
            return Ok(WatchEnd::Done);
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut stop => return Ok(WatchEnd::Stopped),
            () = &mut abandon => return Ok(WatchEnd::Stopped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_seconds_minutes_and_hours() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("1h"), Ok(Duration::from_secs(3600)));
        for wrong in ["30", "m", "5 minutes", "0s", "-5m", "1.5h", ""] {
            assert!(parse_interval(wrong).is_err(), "{wrong:?} was accepted");
        }
    }

    #[test]
    fn failures_double_the_wait_up_to_the_cap_and_a_success_resets_it() {
        let mut b = Backoff::new(Duration::from_secs(30));
        let waits: Vec<u64> = (0..7).map(|_| b.after(false).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 600, 600, 600]);
        assert_eq!(b.after(true), Duration::from_secs(30));
        assert_eq!(b.after(false), Duration::from_secs(60));
        // An interval past the cap is never shortened, nor lengthened.
        let mut slow = Backoff::new(Duration::from_secs(3600));
        assert_eq!(slow.after(false), Duration::from_secs(3600));
        // However many failures, no overflow.
        let mut b = Backoff::new(Duration::from_secs(30));
        for _ in 0..100 {
            assert!(b.after(false) <= MAX_BACKOFF);
        }
    }

    #[test]
    fn a_tick_line_names_the_time_each_destination_and_the_back_off() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_013_000);
        let tick = Tick {
            at,
            read_because: Some(
                "read everything: the source's audit log moved (event 3 then, 5 now)".into(),
            ),
            destinations: vec![
                ("prod".into(), DestinationTick::Applied { writes: 2 }),
                (
                    "dr".into(),
                    DestinationTick::Failed {
                        failed: 1,
                        writes: 0,
                        first: Some("! FAILED project \"OctoFX\": 500".into()),
                    },
                ),
            ],
            error: None,
            next: Some(Duration::from_secs(90)),
        };
        let line = tick.to_string();
        assert!(!line.contains('\n'));
        assert!(line.starts_with("2026-11-30T"), "{line}");
        assert!(
            line.contains("prod: applied 2 writes; dr: failed: 1 ops"),
            "{line}"
        );
        assert!(line.contains("read everything: the source's audit log moved"));
        assert!(line.ends_with("next try in 1m30s"), "{line}");
    }

    #[test]
    fn utc_dates_follow_the_calendar() {
        let day = |d: u64| utc(SystemTime::UNIX_EPOCH + Duration::from_secs(d * 86_400));
        assert_eq!(day(0), "1970-01-01T00:00:00Z");
        // 2000 is a leap year, 2100 is not.
        assert_eq!(day(11_016), "2000-02-29T00:00:00Z");
        assert_eq!(day(47_541), "2100-03-01T00:00:00Z");
    }
}
