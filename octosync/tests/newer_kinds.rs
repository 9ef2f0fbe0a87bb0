//! Parent environments and deployment freezes end to end: the demo's Dev/Test source
//! gains a parent environment (with a value of OctoFX scoped to it) and a freeze of
//! OctoFX in Test; octosync syncs the demo's Staging/Production destination through the
//! HTTP API, and the test reads the destination back at the versions that matter.

mod common;

use common::{by_name, client, variable_set_of};
use octopus_client::{OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{OctopusVersion, ResourceKind};
use octosync::apply::ApplyOptions;
use octosync::config::SyncConfig;
use octosync::runner::{run_instances, Destination, DestinationRun, Mode, Source};
use serde_json::{json, Value};
use sync_core::OpAction;

async fn fake(seed: Seed, version: &str) -> FakeServer {
    let version: OctopusVersion = version.parse().expect("a version");
    FakeServer::start(FakeConfig::seeded(seed).with_version(version))
        .await
        .expect("fake starts")
}

/// Adds the parent environment "Pull requests" (2025.4+ sources) with OctoFX's
/// `PreviewUrl` scoped to it, and the freeze "Holidays" of OctoFX in Test (2025.1+).
async fn newer_source(version: &str) -> FakeServer {
    let server = fake(Seed::DevTest, version).await;
    let c = client(&server);
    let v: OctopusVersion = version.parse().unwrap();
    if v.at_least(2025, 4) {
        let parent = c
            .create(
                ResourceKind::ParentEnvironment,
                json!({"Name": "Pull requests", "SpaceId": "Spaces-1", "UseGuidedFailure": false}),
            )
            .await
            .expect("the parent environment is created");
        c.create(
            ResourceKind::Environment,
            json!({"Name": "pr-42", "Type": "Ephemeral", "ParentEnvironmentId": parent["Id"]}),
        )
        .await
        .expect("the ephemeral environment is created");
        let octofx = by_name(&c, ResourceKind::Project, "OctoFX").await;
        let set_id = octofx["VariableSetId"].as_str().unwrap().to_owned();
        let mut set = c.get_raw(ResourceKind::VariableSet, &set_id).await.unwrap();
        set["Variables"].as_array_mut().unwrap().push(json!({
            "Name": "PreviewUrl", "Value": "https://preview.example", "Type": "String",
            "IsSensitive": false, "Scope": {"Environment": [parent["Id"]]}
        }));
        c.update(ResourceKind::VariableSet, &set_id, set)
            .await
            .expect("the variable set is saved");
    }
    if v.at_least(2025, 1) {
        let octofx = by_name(&c, ResourceKind::Project, "OctoFX").await;
        let test = by_name(&c, ResourceKind::Environment, "Test").await;
        let mut scope = serde_json::Map::new();
        scope.insert(
            octofx["Id"].as_str().unwrap().to_owned(),
            json!([test["Id"]]),
        );
        c.create(
            ResourceKind::DeploymentFreeze,
            json!({"Name": "Holidays", "Start": "2026-12-20T00:00:00.000+00:00",
                   "End": "2027-01-04T00:00:00.000+00:00", "ProjectEnvironmentScope": scope}),
        )
        .await
        .expect("the freeze is created");
    }
    server
}

fn rules(source: &FakeServer, destination: &FakeServer) -> sync_core::SyncRules {
    let config = octosync::demo::DEMO_CONFIG
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url())
        .replace(
            "allow_version_mismatch = false",
            "allow_version_mismatch = true",
        )
        .replace("environments = []", "environments = [\"pr-*\"]")
        .replace(
            "[select]\n",
            "[select]\nparent_environments = [\"all\"]\ndeployment_freezes = [\"all\"]\n",
        );
    let config = SyncConfig::parse(&config, "sync.toml").expect("the config parses");
    config.destinations[0].rules.clone()
}

async fn sync(source: &FakeServer, destination: &FakeServer, mode: Mode) -> DestinationRun {
    let (src, dst) = (client(source), client(destination));
    let destinations = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        rules(source, destination),
    )];
    run_instances(
        &Source::live("dev-test", "Default", &src),
        &destinations,
        &mode,
    )
    .await
    .expect("the source loads")
    .pop()
    .expect("one run")
}

/// Applies, checks the destination's references all resolve, and plans again: nothing
/// may be left to do.
async fn apply_and_replan(source: &FakeServer, destination: &FakeServer) -> sync_core::Plan {
    let applied = sync(source, destination, Mode::Apply(ApplyOptions::default())).await;
    let report = applied.applied.as_ref().expect("the run applied");
    assert!(report.is_success(), "{report}");
    assert_eq!(destination.integrity(), Vec::new());
    let again = sync(source, destination, Mode::Plan).await;
    let plan = again.plan.expect("a plan");
    assert!(!plan.has_changes(), "left to do:\n{plan}");
    applied.plan.expect("a plan")
}

async fn freezes(c: &OctopusHttpClient) -> Vec<Value> {
    c.list_raw(ResourceKind::DeploymentFreeze).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_2026_1_the_parent_environment_its_scoped_value_and_the_freeze_follow_by_name() {
    let source = newer_source("2026.1.1000").await;
    let destination = fake(Seed::StagingProduction, "2026.1.1000").await;
    let plan = apply_and_replan(&source, &destination).await;
    let dst = client(&destination);
    // The selected ephemeral environment is reported, not created as a static one.
    let pr = plan
        .find(ResourceKind::Environment, "pr-42")
        .expect("an op for the ephemeral environment");
    assert_eq!(pr.action(), OpAction::Skip);
    assert!(pr.reason.contains("\"Pull requests\""), "{}", pr.reason);
    let environments = dst.list_raw(ResourceKind::Environment).await.unwrap();
    assert!(!environments.iter().any(|e| e["Name"] == "pr-42"));
    let parent = by_name(&dst, ResourceKind::ParentEnvironment, "Pull requests").await;
    let octofx = by_name(&dst, ResourceKind::Project, "OctoFX").await;
    let set = variable_set_of(&dst, &octofx).await;
    let preview = set["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["Name"] == "PreviewUrl")
        .expect("the value scoped to the parent environment is synced");
    assert_eq!(preview["Scope"]["Environment"], json!([parent["Id"]]));
    // Test maps to Staging on this destination ([environment_map] of the demo).
    let staging = by_name(&dst, ResourceKind::Environment, "Staging").await;
    let holidays = freezes(&dst).await;
    assert_eq!(holidays.len(), 1);
    let mut expected = serde_json::Map::new();
    expected.insert(
        octofx["Id"].as_str().unwrap().to_owned(),
        json!([staging["Id"]]),
    );
    assert_eq!(holidays[0]["Name"], "Holidays");
    assert_eq!(
        holidays[0]["ProjectEnvironmentScope"],
        Value::Object(expected)
    );
    assert_eq!(holidays[0]["End"], "2027-01-04T00:00:00.000+00:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2025_2_destination_gets_the_freeze_and_refuses_the_parent_environment_per_item() {
    let source = newer_source("2026.1.1000").await;
    let destination = fake(Seed::StagingProduction, "2025.2.11370").await;
    let plan = apply_and_replan(&source, &destination).await;
    let parent = plan
        .find(ResourceKind::ParentEnvironment, "Pull requests")
        .expect("an op for the parent environment");
    assert_eq!(parent.action(), OpAction::Skip);
    assert!(parent.reason.contains("2025.4"), "{}", parent.reason);
    let dst = client(&destination);
    let octofx = by_name(&dst, ResourceKind::Project, "OctoFX").await;
    let set = variable_set_of(&dst, &octofx).await;
    assert!(
        !set["Variables"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["Name"] == "PreviewUrl"),
        "a value scoped only to a parent environment must not land unscoped"
    );
    assert_eq!(freezes(&dst).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2024_2_destination_has_neither_route_and_the_plan_says_why_per_item() {
    let source = newer_source("2025.2.11370").await;
    let destination = fake(Seed::StagingProduction, "2024.2.9303").await;
    let plan = apply_and_replan(&source, &destination).await;
    let holidays = plan
        .find(ResourceKind::DeploymentFreeze, "Holidays")
        .expect("an op for the freeze");
    assert_eq!(holidays.action(), OpAction::Skip);
    assert!(holidays.reason.contains("2025.1"), "{}", holidays.reason);
    // The route is not there at all on this version: reading it is refused as a route
    // the server does not have, not as an empty list.
    let missing = client(&destination)
        .list_raw(ResourceKind::DeploymentFreeze)
        .await;
    assert!(missing.is_err(), "{missing:?}");
}
