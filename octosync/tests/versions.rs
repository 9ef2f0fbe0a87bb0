//! A sync from a newer source to an older destination: the destination keeps only the
//! fields its version knows, as a real server does, and planning again after the apply
//! finds nothing to do (no perpetual diff on fields the destination can never hold).

use octopus_client::{ApiKey, OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{OctopusVersion, ResourceKind};
use octosync::apply::ApplyOptions;
use octosync::config::SyncConfig;
use octosync::runner::{run_instances, Destination, Mode, Source};
use serde_json::json;

async fn fake(seed: Seed, version: &str) -> FakeServer {
    let version: OctopusVersion = version.parse().expect("a version");
    FakeServer::start(FakeConfig::seeded(seed).with_version(version))
        .await
        .expect("fake starts")
}

fn client(server: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
        .space_name("Default")
        .build()
        .expect("a client")
}

async fn newer_to_older(source_version: &str, destination_version: &str) {
    let source = fake(Seed::DevTest, source_version).await;
    let destination = fake(Seed::StagingProduction, destination_version).await;
    sync_and_replan(&source, &destination).await;
}

async fn sync_and_replan(source: &FakeServer, destination: &FakeServer) {
    let (source_version, destination_version) = (source.version(), destination.version());
    let config = octosync::demo::DEMO_CONFIG
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url())
        .replace(
            "allow_version_mismatch = false",
            "allow_version_mismatch = true",
        )
        .replace("Development = []", "Development = [\"Production\"]");
    let config = SyncConfig::parse(&config, "sync.toml").expect("the config parses");
    let (src, dst) = (client(source), client(destination));
    let destinations = [Destination::live(
        "older",
        "Default",
        &dst,
        config.destinations[0].rules.clone(),
    )];
    let runs = run_instances(
        &Source::live("newer", "Default", &src),
        &destinations,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await
    .expect("the source loads");
    let report = runs[0].applied.as_ref().expect("the run applied");
    assert!(report.is_success(), "{report}");
    assert_eq!(destination.integrity(), Vec::new());
    let again = run_instances(
        &Source::live("newer", "Default", &src),
        &destinations,
        &Mode::Plan,
    )
    .await
    .expect("the source loads");
    let plan = again[0].plan.as_ref().expect("a plan");
    assert!(
        !plan.has_changes(),
        "{source_version} -> {destination_version}, left to do:\n{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_4_source_to_a_2024_2_destination_re_plans_to_nothing() {
    newer_to_older("2025.4.3897", "2024.2.9303").await;
}

/// Whether any item of a kind on a server has a field.
async fn any_has(server: &FakeServer, kind: ResourceKind, field: &str) -> bool {
    client(server)
        .list_raw(kind)
        .await
        .unwrap()
        .iter()
        .any(|item| item.get(field).is_some())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_of_a_newer_version_do_not_reach_an_older_destination() {
    let source = fake(Seed::DevTest, "2025.4.3897").await;
    let destination = fake(Seed::StagingProduction, "2024.2.9303").await;
    // Give the newer source's tag sets and tenants fields 2024.2 does not know.
    let src = client(&source);
    for (kind, fields) in [
        (
            ResourceKind::TagSet,
            json!({"Type": "MultiSelect", "Scopes": ["Tenant"]}),
        ),
        (ResourceKind::Tenant, json!({"IsDisabled": false})),
    ] {
        for mut item in src.list_raw(kind).await.unwrap() {
            let id = item["Id"].as_str().unwrap().to_owned();
            for (k, v) in fields.as_object().unwrap() {
                item[k] = v.clone();
            }
            src.update(kind, &id, item).await.unwrap();
        }
    }
    assert!(any_has(&source, ResourceKind::TagSet, "Scopes").await);
    assert!(any_has(&source, ResourceKind::Tenant, "IsDisabled").await);
    sync_and_replan(&source, &destination).await;
    assert!(!any_has(&destination, ResourceKind::TagSet, "Scopes").await);
    assert!(!any_has(&destination, ResourceKind::Tenant, "IsDisabled").await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_2_source_to_a_2022_1_destination_re_plans_to_nothing() {
    newer_to_older("2025.2.11370", "2022.1.2000").await;
}
