//! End-to-end: a runbook published on the source is published on the destination, against
//! two `octopus-fake` instances over HTTP. The destination's runbook is read back: it
//! names a snapshot that exists and belongs to it, every reference resolves, and a second
//! plan writes nothing. Under `publish_runbooks = "never"` nothing is published.

mod common;

use common::{client, demo_destination, run_once};
use octopus_client::{OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::apply::ApplyOptions;
use octosync::config::SyncConfig;
use octosync::demo::DEMO_CONFIG;
use octosync::runner::{plan_destination, Mode};
use serde_json::{json, Value};
use sync_core::{LayerName, OpAction};

const RUNBOOK: &str = "Refresh Test Database";

async fn runbook(c: &OctopusHttpClient) -> Value {
    c.list_raw(ResourceKind::Runbook)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d["Name"] == RUNBOOK)
        .unwrap_or_else(|| panic!("no runbook {RUNBOOK:?}"))
}

/// Publishes the source's runbook the way the official .NET client does: a snapshot,
/// then the runbook's `PublishedRunbookSnapshotId`.
async fn publish_on_source(source: &OctopusHttpClient) {
    let mut rb = runbook(source).await;
    let snapshot = source
        .create(
            ResourceKind::RunbookSnapshot,
            json!({"ProjectId": rb["ProjectId"], "RunbookId": rb["Id"], "Name": "Snapshot ABC123"}),
        )
        .await
        .unwrap();
    rb["PublishedRunbookSnapshotId"] = snapshot["Id"].clone();
    let id = rb["Id"].as_str().unwrap().to_owned();
    source.update(ResourceKind::Runbook, &id, rb).await.unwrap();
}

/// The versions a sync is checked at: before and after the 2025 tenant-variable and
/// retention changes, and today's.
const VERSIONS: [&str; 3] = ["2024.2.9000", "2025.2.11370", "2026.1.2000"];

async fn sync(
    policy: &str,
    version: &str,
) -> (
    FakeServer,
    OctopusHttpClient,
    sync_core::Plan,
    sync_core::Plan,
) {
    let version: octopus_model::OctopusVersion = version.parse().unwrap();
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest).with_version(version.clone()))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction).with_version(version))
        .await
        .unwrap();
    let (source, destination) = (client(&src), client(&dst));
    publish_on_source(&source).await;
    let text = DEMO_CONFIG.replace("[policy]\n", &format!("[policy]\n{policy}"));
    let config = SyncConfig::parse(&text, "sync.toml").unwrap();
    let dest = demo_destination(&destination, config.destinations[0].rules.clone());
    let runs = run_once(&source, &dest, &Mode::Apply(ApplyOptions::default())).await;
    let first = runs.plan.as_ref().unwrap().clone();
    let applied = runs.applied.as_ref().unwrap();
    assert!(applied.is_success(), "{applied}");
    let kinds = octosync::load::kinds_to_read(&dest.rules);
    let snapshot = octosync::load::load_snapshot(&source, "dev-test", "Default", &kinds)
        .await
        .unwrap();
    let second = plan_destination(&snapshot, &dest).await.unwrap();
    (dst, destination, first, second)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_source_runbook_is_created_and_published_on_the_destination() {
    for version in VERSIONS {
        published_at(version).await;
    }
}

async fn published_at(version: &str) {
    let (dst, destination, first, second) = sync("", version).await;
    let op = first
        .find(ResourceKind::RunbookSnapshot, RUNBOOK)
        .unwrap_or_else(|| panic!("no publish op in\n{first}"));
    assert_eq!(op.action(), OpAction::Create);
    assert!(first
        .layers
        .iter()
        .any(|l| l.name == LayerName::RunbookPublishing && l.ops.contains(op)));
    assert!(first.to_string().contains("runbook publishing"));

    // Read back: the runbook publishes a snapshot that exists and is its own.
    let rb = runbook(&destination).await;
    let published = rb["PublishedRunbookSnapshotId"]
        .as_str()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| panic!("not published: {rb}"))
        .to_owned();
    let snapshot = destination
        .get_raw(ResourceKind::RunbookSnapshot, &published)
        .await
        .unwrap();
    assert_eq!(snapshot["RunbookId"], rb["Id"]);
    assert_eq!(snapshot["ProjectId"], rb["ProjectId"]);
    assert!(snapshot["FrozenRunbookProcessId"]
        .as_str()
        .unwrap()
        .starts_with(rb["RunbookProcessId"].as_str().unwrap()));
    assert_eq!(dst.integrity(), vec![]);

    // Idempotence: nothing left to publish or write.
    assert!(!second.has_changes(), "{second}");
    assert!(second
        .find(ResourceKind::RunbookSnapshot, RUNBOOK)
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_publish_runbooks_never_the_destination_runbook_stays_unpublished() {
    let (dst, destination, first, second) =
        sync("publish_runbooks = \"never\"\n", VERSIONS[2]).await;
    assert!(first.find(ResourceKind::RunbookSnapshot, RUNBOOK).is_none());
    let rb = runbook(&destination).await;
    assert!(
        rb["PublishedRunbookSnapshotId"]
            .as_str()
            .is_none_or(str::is_empty),
        "{rb}"
    );
    assert_eq!(dst.integrity(), vec![]);
    assert!(!second.has_changes(), "{second}");
}
