//! How a fake server is set up: version, API key, seed and the test levers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use octopus_model::OctopusVersion;

use crate::snapshot::Snapshot;

/// What the server starts with.
#[derive(Clone, Debug, Default)]
pub enum Seed {
    /// One space, "Default", with only its built-ins.
    #[default]
    Empty,
    /// The shipped Dev/Test instance (see [`Seed::snapshot`]).
    DevTest,
    /// The shipped Staging/Production instance (see [`Seed::snapshot`]).
    StagingProduction,
    /// A snapshot directory on disk.
    Dir(PathBuf),
    /// A snapshot in memory.
    Snapshot(Snapshot),
}

/// The settings of a fake server. `FakeConfig::default()` emulates 2024.2.1234 on an
/// ephemeral port of 127.0.0.1 with the API key [`FakeConfig::DEFAULT_API_KEY`].
#[derive(Clone, Debug)]
pub struct FakeConfig {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// The Octopus Server version to emulate (root document, slugs, strict fields,
    /// which endpoints exist).
    pub version: OctopusVersion,
    /// The only API key accepted in `X-Octopus-ApiKey` (or `?apikey=`).
    pub api_key: String,
    /// The initial state.
    pub seed: Seed,
    /// Refuse (400) fields the emulated version does not know.
    pub strict: bool,
    /// Added to every request.
    pub latency: Duration,
    /// The share of requests (0.0–1.0) answered with a random 500 or 503.
    pub fail_rate: f64,
    /// The seed of the failure generator, so a run can be repeated.
    pub fail_seed: u64,
    /// Requests per minute before 429 (token bucket); `None` = unlimited.
    pub rate_limit_rpm: Option<u32>,
    /// A path prefix the API is served under (`/octopus` → `http://host/octopus/api`).
    pub path_prefix: String,
    /// How many audit-log events to keep (the newest); `None` keeps them all. A client
    /// whose checkpoint is older than the oldest kept event can tell it missed some.
    pub event_retention: Option<usize>,
}

impl FakeConfig {
    /// The API key of `FakeConfig::default()`.
    pub const DEFAULT_API_KEY: &'static str = "API-FAKEFAKEFAKEFAKEFAKEFAKEFAKE";

    /// The default settings with a seed.
    pub fn seeded(seed: Seed) -> Self {
        FakeConfig {
            seed,
            ..FakeConfig::default()
        }
    }

    /// These settings emulating `version`.
    pub fn with_version(mut self, version: OctopusVersion) -> Self {
        self.version = version;
        self
    }

    /// These settings served under `prefix` (`/octopus`).
    pub fn with_path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.path_prefix = prefix.into();
        self
    }

    /// The prefix as links use it: `""` or `/segment` without a trailing slash.
    pub(crate) fn normalised_prefix(&self) -> String {
        let trimmed = self.path_prefix.trim().trim_matches('/');
        if trimmed.is_empty() {
            String::new()
        } else {
            format!("/{trimmed}")
        }
    }
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            version: OctopusVersion::new(2024, 2, 1234),
            api_key: Self::DEFAULT_API_KEY.to_owned(),
            seed: Seed::Empty,
            strict: false,
            latency: Duration::ZERO,
            fail_rate: 0.0,
            fail_seed: 0,
            rate_limit_rpm: None,
            path_prefix: String::new(),
            event_retention: None,
        }
    }
}
