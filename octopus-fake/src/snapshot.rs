//! The seeds the fake starts from. The snapshot-directory format itself (the DESIGN
//! contract) lives in `octopus-snapshot`; the fake loads one at start and writes one on
//! request. Two realistic ones ship inside the crate.

use std::path::Path;

pub use octopus_snapshot::{Snapshot, SpaceSnapshot};

use crate::config::Seed;
use crate::error::FakeError;

/// The shipped seeds, embedded so nothing is needed on disk at run time.
macro_rules! embedded {
    ($dir:literal: $($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../seeds/", $dir, "/Default/", $file, ".json")))),*]
    };
}

const DEV_TEST: &[(&str, &str)] = embedded!("dev-test":
    "environments", "lifecycles", "projectgroups", "tagsets", "feeds", "accounts", "certificates",
    "workerpools", "machinepolicies", "machines", "libraryvariablesets", "actiontemplates",
    "projects", "channels", "deploymentprocesses", "runbooks", "runbookprocesses", "variables",
    "tenants", "tenantvariables", "teams", "scopeduserroles",
);

const STAGING_PRODUCTION: &[(&str, &str)] = embedded!("staging-production":
    "environments", "lifecycles", "projectgroups", "tagsets", "feeds", "accounts", "certificates",
    "workerpools", "machinepolicies", "machines", "libraryvariablesets", "actiontemplates",
    "projects", "channels", "deploymentprocesses", "runbooks", "runbookprocesses", "variables",
    "tenants", "tenantvariables", "teams", "scopeduserroles",
);

fn from_embedded(files: &[(&str, &str)]) -> Result<Snapshot, FakeError> {
    let mut space = SpaceSnapshot::new(octopus_snapshot::DEFAULT_SPACE);
    for (stem, text) in files {
        let docs = octopus_snapshot::parse_collection(text, Path::new(&format!("{stem}.json")))?;
        space.collections.insert((*stem).to_owned(), docs);
    }
    Ok(Snapshot {
        spaces: vec![space],
    })
}

impl Seed {
    /// The snapshot this seed starts a server from (`None` for [`Seed::Empty`]).
    ///
    /// [`Seed::DevTest`] is the Dev/Test instance of the running example: environments
    /// Development and Test, project OctoFX with its process, runbook, variables and
    /// channels, library variable set "Global", tenants "Internal" and "Development
    /// Team A", and more. [`Seed::StagingProduction`] is the Staging/Production
    /// instance: environments Staging and Production, its own account and worker pool
    /// of the same names as on Dev/Test, tenant "Internal", no projects yet.
    pub fn snapshot(&self) -> Result<Option<Snapshot>, FakeError> {
        Ok(match self {
            Seed::Empty => None,
            Seed::DevTest => Some(from_embedded(DEV_TEST)?),
            Seed::StagingProduction => Some(from_embedded(STAGING_PRODUCTION)?),
            Seed::Dir(dir) => Some(Snapshot::read_dir(dir)?),
            Seed::Snapshot(s) => Some(s.clone()),
        })
    }
}
