//! End-to-end: `octosync watch` through its library function against two `octopus-fake`
//! instances. A tick with nothing changed reads only the audit logs; an edit on the
//! source is applied by the next tick; a server that answers errors makes the watch
//! wait longer each time; deletions wait for `--allow-deletions`; stopping finishes and
//! records the tick under way, abandoning it records nothing and the next tick picks up.

mod common;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use common::client;
use octopus_client::{OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::watch::{watch, DestinationTick, Tick, WatchEnd, WatchOptions};
use serde_json::{json, Value};

const SOURCE_KEY: &str = "API-SOURCESOURCESOURCESOURCE01";
const DEST_KEY: &str = "API-DESTINATIONDESTINATION0002";

/// The keys the config names, set once before any test reads them.
fn keys() {
    static KEYS: Once = Once::new();
    KEYS.call_once(|| {
        std::env::set_var("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY);
        std::env::set_var("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY);
    });
}

struct Instances {
    source: FakeServer,
    destination: FakeServer,
    dir: tempfile::TempDir,
}

impl Instances {
    async fn start(prune: &str, destination: FakeConfig) -> Self {
        keys();
        let source = FakeServer::start(FakeConfig {
            api_key: SOURCE_KEY.to_owned(),
            ..FakeConfig::seeded(Seed::DevTest)
        })
        .await
        .expect("fake starts");
        let destination = FakeServer::start(destination).await.expect("fake starts");
        let dir = tempfile::tempdir().unwrap();
        let config = include_str!("../demo/sync.toml")
            .replace("http://127.0.0.1:8065", source.url())
            .replace("http://127.0.0.1:8066", destination.url())
            .replace("prune = []", &format!("prune = {prune}"));
        std::fs::write(dir.path().join("sync.toml"), config).unwrap();
        Instances {
            source,
            destination,
            dir,
        }
    }

    async fn healthy(prune: &str) -> Self {
        Self::start(prune, destination_config()).await
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("sync.toml")
    }

    fn state(&self) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(".octosync/state.json")).ok()
    }

    /// `ticks` ticks, nothing stopping them; what each reported.
    async fn ticks(&self, ticks: u64, allow_deletions: bool) -> Vec<Tick> {
        let options = WatchOptions {
            interval: Duration::from_millis(1),
            ticks: Some(ticks),
            allow_deletions,
        };
        let (end, seen) = self
            .watch(&options, std::future::pending(), std::future::pending())
            .await;
        assert_eq!(end, WatchEnd::Done);
        assert_eq!(seen.len() as u64, ticks);
        seen
    }

    async fn watch(
        &self,
        options: &WatchOptions,
        stop: impl Future<Output = ()>,
        abandon: impl Future<Output = ()>,
    ) -> (WatchEnd, Vec<Tick>) {
        let mut seen = Vec::new();
        let mut report = |t: &Tick| seen.push(t.clone());
        let end = watch(&self.config(), options, stop, abandon, &mut report)
            .await
            .expect("the watch starts");
        (end, seen)
    }

    fn counts(&self) -> (u64, u64) {
        (
            self.source.stats().total(),
            self.destination.stats().total(),
        )
    }
}

fn destination_config() -> FakeConfig {
    FakeConfig {
        api_key: DEST_KEY.to_owned(),
        ..FakeConfig::seeded(Seed::StagingProduction)
    }
}

/// The one destination's outcome of a tick.
fn outcome(tick: &Tick) -> &DestinationTick {
    assert_eq!(tick.destinations.len(), 1, "{tick}");
    &tick.destinations[0].1
}

/// Sets OctoFX's description on `server` as a person in the portal would.
async fn edit_octofx(server: &FakeServer, description: &str) {
    let c = client(server);
    let mut project = common::by_name(&c, ResourceKind::Project, "OctoFX").await;
    let id = project["Id"].as_str().unwrap().to_owned();
    project["Description"] = json!(description);
    c.update(ResourceKind::Project, &id, project).await.unwrap();
}

async fn octofx_description(server: &FakeServer) -> Value {
    let c = client(server);
    common::by_name(&c, ResourceKind::Project, "OctoFX").await["Description"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_tick_reads_only_the_logs_and_an_edit_is_applied_on_the_next() {
    let i = Instances::healthy("[]").await;
    let first = i.ticks(1, false).await;
    assert!(
        matches!(outcome(&first[0]), DestinationTick::Applied { writes } if *writes > 0),
        "{}",
        first[0]
    );
    assert!(first[0].succeeded());

    // Nothing changed: one audit-log read per instance, and the line says so.
    let before = i.counts();
    let quiet = i.ticks(2, false).await;
    for tick in &quiet {
        assert_eq!(outcome(tick), &DestinationTick::Unchanged, "{tick}");
        assert!(tick.to_string().contains("in sync, nothing read"), "{tick}");
    }
    let after = i.counts();
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (2, 2),
        "two ticks, one request per instance each"
    );

    // A person edits the source: the next tick says why it read everything and applies.
    edit_octofx(&i.source, "edited while watched").await;
    let next = i.ticks(1, false).await;
    assert!(
        matches!(outcome(&next[0]), DestinationTick::Applied { writes } if *writes > 0),
        "{}",
        next[0]
    );
    let line = next[0].to_string();
    assert!(line.contains("the source's audit log moved"), "{line}");
    assert_eq!(
        octofx_description(&i.destination).await,
        "edited while watched"
    );
    // And the state advanced: the tick after reads only the logs again.
    let settled = i.ticks(1, false).await;
    assert_eq!(outcome(&settled[0]), &DestinationTick::Unchanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_that_answers_errors_makes_each_wait_longer() {
    // Every request to the destination is refused (its key is not the one configured).
    let i = Instances::start(
        "[]",
        FakeConfig {
            api_key: "API-SOMEONEELSESKEYSOMEONEELSE9".to_owned(),
            ..FakeConfig::seeded(Seed::StagingProduction)
        },
    )
    .await;
    let ticks = i.ticks(4, false).await;
    for tick in &ticks {
        assert!(!tick.succeeded(), "{tick}");
        assert!(tick.to_string().contains("failed"), "{tick}");
    }
    let waits: Vec<Option<Duration>> = ticks.iter().map(|t| t.next).collect();
    assert_eq!(
        waits,
        [
            Some(Duration::from_millis(2)),
            Some(Duration::from_millis(4)),
            Some(Duration::from_millis(8)),
            None
        ]
    );
    assert!(ticks[0].to_string().contains("backing off, next try in"));
    assert!(
        i.state().is_none_or(|s| !s.contains("in_sync")),
        "a failed tick claims nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_wait_for_allow_deletions() {
    let i = Instances::healthy(r#"["steps", "variables", "runbooks", "channels"]"#).await;
    i.ticks(1, false).await;
    let c = client(&i.source);
    let project = common::by_name(&c, ResourceKind::Project, "OctoFX").await;
    let project_id = octopus_model::ProjectId::new(project["Id"].as_str().unwrap());
    let runbook = c
        .project_runbooks(&project_id)
        .await
        .unwrap()
        .into_iter()
        .next()
        .expect("OctoFX has a runbook");
    c.delete(
        ResourceKind::Runbook,
        runbook.id.get().map(|i| i.as_str()).unwrap(),
    )
    .await
    .unwrap();
    let on_destination = |name: String| {
        let d = client(&i.destination);
        async move {
            d.list_raw(ResourceKind::Runbook)
                .await
                .unwrap()
                .iter()
                .any(|r| r["Name"] == name.as_str())
        }
    };

    let skipped = i.ticks(1, false).await;
    assert_eq!(
        outcome(&skipped[0]),
        &DestinationTick::SkippedDeletions { deletions: 1 },
        "{}",
        skipped[0]
    );
    assert!(skipped[0].to_string().contains("--allow-deletions"));
    assert!(skipped[0].pending());
    assert!(on_destination(runbook.name.clone()).await, "not deleted");

    let allowed = i.ticks(1, true).await;
    assert!(
        matches!(outcome(&allowed[0]), DestinationTick::Applied { .. }),
        "{}",
        allowed[0]
    );
    assert!(!on_destination(runbook.name.clone()).await, "deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_finishes_and_records_the_tick_under_way() {
    let i = Instances::healthy("[]").await;
    let options = WatchOptions {
        interval: Duration::from_secs(3600),
        ticks: None,
        allow_deletions: false,
    };
    // Stop is asked for before the first tick gets anywhere.
    let (end, seen) = i
        .watch(&options, std::future::ready(()), std::future::pending())
        .await;
    assert_eq!(end, WatchEnd::Stopped);
    assert_eq!(seen.len(), 1);
    assert!(
        matches!(outcome(&seen[0]), DestinationTick::Applied { .. }),
        "{}",
        seen[0]
    );
    assert_eq!(seen[0].next, None, "no tick follows a stop");
    // Recorded: the next tick finds nothing changed.
    let next = i.ticks(1, false).await;
    assert_eq!(outcome(&next[0]), &DestinationTick::Unchanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_tick_records_nothing_and_the_next_one_finishes_the_work() {
    // Every destination request takes a while, so the apply is still under way when the
    // first write is seen.
    let i = Instances::start(
        "[]",
        FakeConfig {
            latency: Duration::from_millis(20),
            ..destination_config()
        },
    )
    .await;
    i.ticks(1, false).await;
    let recorded = i.state().expect("the first tick recorded the state");
    edit_octofx(&i.source, "edited, then abandoned").await;

    let writes = |s: &octopus_fake::RequestStats| s.post + s.put + s.delete;
    let before = writes(&i.destination.stats());
    let destination = &i.destination;
    let first_write = async move {
        while writes(&destination.stats()) == before {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    let options = WatchOptions {
        interval: Duration::from_secs(3600),
        ticks: None,
        allow_deletions: false,
    };
    let (end, seen) = i.watch(&options, std::future::pending(), first_write).await;
    assert_eq!(end, WatchEnd::Abandoned);
    assert!(seen.is_empty(), "an abandoned tick reports nothing");
    assert_eq!(
        i.state().as_deref(),
        Some(recorded.as_str()),
        "the state claims nothing of the abandoned tick"
    );

    // The next tick knows the destination moved, reads everything and finishes.
    let next = i.ticks(1, false).await;
    assert!(next[0].read_because.is_some(), "{}", next[0]);
    assert!(next[0].succeeded(), "{}", next[0]);
    assert_eq!(
        octofx_description(&i.destination).await,
        "edited, then abandoned"
    );
    let settled = i.ticks(1, false).await;
    assert_eq!(outcome(&settled[0]), &DestinationTick::Unchanged);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_once_on_the_command_line_prints_one_line_per_sync() {
    let i = Instances::healthy("[]").await;
    let run = |config: PathBuf| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_octosync"))
                .args(["watch", "--once", "--interval", "30s", "-c"])
                .arg(config)
                .env_remove("RUST_LOG")
                .env("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY)
                .env("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY)
                .output()
                .expect("octosync runs")
        })
    };
    let first = run(i.config()).await.unwrap();
    let out = common::text(&first.stdout);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        common::text(&first.stderr)
    );
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("staging-production: applied"), "{out}");

    let second = run(i.config()).await.unwrap();
    let out = common::text(&second.stdout);
    assert_eq!(second.status.code(), Some(0));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.contains("staging-production: in sync, nothing read"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_directory_destination_is_refused_before_any_tick() {
    let i = Instances::healthy("[]").await;
    let dir = tempfile::tempdir().unwrap();
    i.destination.write_snapshot(dir.path()).unwrap();
    let config = std::fs::read_to_string(i.config()).unwrap().replace(
        &format!("url = \"{}\"", i.destination.url()),
        &format!("snapshot = {:?}", dir.path().display().to_string()),
    );
    assert!(config.contains("snapshot = "), "{config}");
    std::fs::write(i.config(), config).unwrap();
    let options = WatchOptions {
        interval: Duration::from_millis(1),
        ticks: Some(1),
        allow_deletions: false,
    };
    let mut seen = 0;
    let mut report = |_: &Tick| seen += 1;
    let end = watch(
        &i.config(),
        &options,
        std::future::pending(),
        std::future::pending(),
        &mut report,
    )
    .await;
    assert!(
        matches!(&end, Err(octosync::watch::WatchError::Offline(name)) if name == "staging-production"),
        "{end:?}"
    );
    assert_eq!(seen, 0);
}
