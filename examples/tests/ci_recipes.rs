//! The CI recipes of `examples/ci/`: each use case's `sync.toml` parses and plans
//! against fakes of its instances, and every `octosync` command the pipelines run is one
//! the command line accepts.

use octopus_client::{ApiKey, OctopusHttpClient, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::config::SyncConfig;
use octosync::load::{kinds_to_read, load_snapshot};
use octosync::runner::{plan_destination, Destination};
use serde_json::json;
use sync_core::{OpAction, Plan};

const CI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ci");

fn client(server: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(server.url(), ApiKey::new(server.api_key()))
        .space_name("Default")
        .build()
        .unwrap()
}

async fn fake(seed: Seed) -> FakeServer {
    FakeServer::start(FakeConfig::seeded(seed)).await.unwrap()
}

/// A main instance: the Dev/Test example with Staging and Production added.
async fn main_instance() -> FakeServer {
    let server = fake(Seed::DevTest).await;
    let c = client(&server);
    for name in ["Staging", "Production"] {
        c.create(ResourceKind::Environment, json!({"Name": name}))
            .await
            .unwrap();
    }
    server
}

/// Parses `file` of `examples/ci/` and plans each of its destinations from `source`
/// against a fresh Staging/Production fake.
async fn plan_recipe(file: &str, source: &FakeServer) -> Vec<(String, Plan)> {
    let path = std::path::Path::new(CI).join(file);
    let config = SyncConfig::load(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let source_client = client(source);
    let mut plans = Vec::new();
    for dest in &config.destinations {
        let server = fake(Seed::StagingProduction).await;
        let destination = client(&server);
        let source_snapshot = load_snapshot(
            &source_client,
            "source",
            "Default",
            &kinds_to_read(&dest.rules),
        )
        .await
        .unwrap();
        let d = Destination::live(
            dest.instance.display_name(),
            dest.instance.space.clone(),
            &destination,
            dest.rules.clone(),
        );
        let plan = plan_destination(&source_snapshot, &d)
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        plans.push((d.name, plan));
    }
    plans
}

fn creates(plan: &Plan, kind: ResourceKind, name: &str) -> bool {
    plan.find(kind, name)
        .is_some_and(|op| op.action() == OpAction::Create)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dev_test_to_staging_production_plans_the_project_with_test_mapped_to_staging() {
    let source = fake(Seed::DevTest).await;
    let plans = plan_recipe("dev-test-to-staging-production.sync.toml", &source).await;
    assert_eq!(plans.len(), 1);
    let (name, plan) = &plans[0];
    assert_eq!(name, "staging-production");
    assert!(creates(plan, ResourceKind::Project, "OctoFX"), "{plan}");
    assert!(plan.has_changes());
    // No environment is created: each instance keeps its own.
    assert!(plan
        .of_kind(ResourceKind::Environment)
        .all(|op| op.action() != OpAction::Create));
    // Steps that run in Test on the source run in Staging (Environments-1 of the
    // Staging/Production example) and nowhere else.
    let process = plan
        .find(ResourceKind::DeploymentProcess, "OctoFX")
        .and_then(|op| op.body())
        .unwrap();
    let scoped: Vec<&serde_json::Value> = process["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Actions"].as_array().into_iter().flatten())
        .map(|a| &a["Environments"])
        .filter(|e| e.as_array().is_some_and(|e| !e.is_empty()))
        .collect();
    assert!(!scoped.is_empty(), "{plan}");
    assert!(
        scoped.iter().all(|e| **e == json!(["Environments-1"])),
        "{scoped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_to_isolated_production_syncs_only_its_tenants() {
    let source = main_instance().await;
    let plans = plan_recipe("main-to-isolated-production.sync.toml", &source).await;
    assert_eq!(plans.len(), 1);
    let (_, plan) = &plans[0];
    assert!(creates(plan, ResourceKind::Project, "OctoFX"), "{plan}");
    assert!(
        plan.find(ResourceKind::Tenant, "Internal").is_some(),
        "{plan}"
    );
    assert!(
        plan.find(ResourceKind::Tenant, "Development Team A")
            .is_none(),
        "an unselected tenant is in the plan: {plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn main_to_regional_production_plans_every_region_with_its_own_placeholder() {
    let source = main_instance().await;
    let plans = plan_recipe("main-to-regional-production.sync.toml", &source).await;
    let names: Vec<&str> = plans.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["production-eu", "production-us"]);
    for (name, plan) in &plans {
        assert!(
            creates(plan, ResourceKind::Project, "OctoFX"),
            "{name}: {plan}"
        );
        assert!(
            plan.find(ResourceKind::Tenant, "Internal").is_none(),
            "{name}: {plan}"
        );
    }
    let config =
        SyncConfig::load(&std::path::Path::new(CI).join("main-to-regional-production.sync.toml"))
            .unwrap();
    let placeholders: Vec<&str> = config
        .destinations
        .iter()
        .map(|d| d.rules.policy.placeholder_value.as_str())
        .collect();
    assert_eq!(placeholders, ["REPLACE ME (EU)", "REPLACE ME (US)"]);
}

/// Every `octosync …` command line of a pipeline file, up to the shell's `||`.
fn octosync_commands(pipeline: &str) -> Vec<Vec<String>> {
    pipeline
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_start_matches("- ");
            let command = line.strip_prefix("octosync ")?;
            let command = command.split("||").next().unwrap_or(command);
            let mut args = vec!["octosync".to_owned()];
            args.extend(command.split_whitespace().map(str::to_owned));
            Some(args)
        })
        .collect()
}

#[test]
fn every_pipeline_command_is_one_the_command_line_accepts() {
    for file in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(std::path::Path::new(CI).join(file)).unwrap();
        let commands = octosync_commands(&text);
        let subcommands: Vec<&str> = commands.iter().map(|c| c[1].as_str()).collect();
        assert_eq!(subcommands, ["plan", "apply"], "{file}");
        for args in commands {
            assert!(
                octosync::cli::parse(args.clone()).is_ok(),
                "{file}: {args:?} is not accepted"
            );
        }
        assert!(text.contains("--detailed-exitcode"), "{file}");
        assert!(text.contains("--plan plan.json"), "{file}");
    }
}
