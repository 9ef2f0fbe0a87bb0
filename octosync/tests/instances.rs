//! The runner from a config: an instance is a server or a snapshot directory, and both
//! plan alike; a snapshot directory is never written to.

mod common;

use std::path::Path;

use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::report::FollowUp;
use octosync::runner::{
    apply_passes, check_planned_against, plan_all, plan_destination, Unwatched,
};
use octosync::{run, ApplyOptions, Destination, Mode, RunError, Source, SyncConfig};

const RULES: &str = r#"
[select]
projects = ["OctoFX"]
project_groups = ["all"]
lifecycles = ["all"]
channels = ["all"]
runbooks = ["all"]
library_variable_sets = ["all"]
tenants = ["Internal"]
tenant_tags = ["all"]

[environment_map]
Test = ["Staging"]
"#;

async fn start(seed: Seed) -> FakeServer {
    FakeServer::start(FakeConfig::seeded(seed)).await.unwrap()
}

/// `[section]` lines for one instance: a server whose key is in `key_env`, or a
/// snapshot directory.
fn instance(section: &str, name: &str, server: Result<(&FakeServer, &str), &Path>) -> String {
    match server {
        Ok((server, key_env)) => format!(
            "{section}\nname = \"{name}\"\nurl = \"{}\"\napi_key_env = \"{key_env}\"\nspace = \"Default\"\n",
            server.url()
        ),
        Err(dir) => format!(
            "{section}\nname = \"{name}\"\nsnapshot = {:?}\nspace = \"Default\"\n",
            dir.display().to_string()
        ),
    }
}

fn config(source: String, destination: String) -> SyncConfig {
    SyncConfig::parse(&format!("{source}\n{destination}\n{RULES}"), "sync.toml").unwrap()
}

/// Sets an API key variable of this test binary (each test uses its own names).
fn key(variable: &str, server: &FakeServer) {
    std::env::set_var(variable, server.api_key());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_read_from_its_export_plans_exactly_as_the_server_itself() {
    let dev = start(Seed::DevTest).await;
    let prod = start(Seed::StagingProduction).await;
    key("INSTANCES_SAME_DEV_KEY", &dev);
    key("INSTANCES_SAME_PROD_KEY", &prod);
    let dir = tempfile::tempdir().unwrap();
    octosync::snapshot_dir::export(&common::client(&dev), "Default", dir.path())
        .await
        .unwrap();
    let destination = instance(
        "[[destinations]]",
        "prod",
        Ok((&prod, "INSTANCES_SAME_PROD_KEY")),
    );
    let live = config(
        instance("[source]", "dev", Ok((&dev, "INSTANCES_SAME_DEV_KEY"))),
        destination.clone(),
    );
    let offline = config(instance("[source]", "dev", Err(dir.path())), destination);

    let from_server = run(&live, &Mode::Plan)
        .await
        .unwrap()
        .remove(0)
        .plan
        .unwrap();
    let from_dir = run(&offline, &Mode::Plan)
        .await
        .unwrap()
        .remove(0)
        .plan
        .unwrap();

    assert!(from_server.summary.create > 0, "{from_server}");
    assert_eq!(
        serde_json::to_value(&from_dir).unwrap(),
        serde_json::to_value(&from_server).unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_to_a_snapshot_directory_is_refused_before_anything_is_read() {
    let dev = start(Seed::DevTest).await;
    let prod = start(Seed::StagingProduction).await;
    key("INSTANCES_REFUSED_PROD_KEY", &prod);
    key("INSTANCES_REFUSED_DEV_KEY", &dev);
    let dir = tempfile::tempdir().unwrap();
    octosync::snapshot_dir::export(&common::client(&prod), "Default", dir.path())
        .await
        .unwrap();
    let before = std::fs::read_dir(dir.path().join("Default"))
        .unwrap()
        .count();
    let config = config(
        instance("[source]", "dev", Ok((&dev, "INSTANCES_REFUSED_DEV_KEY"))),
        instance("[[destinations]]", "prod-export", Err(dir.path())),
    );

    // Planning against the directory works...
    let planned = run(&config, &Mode::Plan).await.unwrap().remove(0);
    assert!(planned.plan.unwrap().has_changes());
    let reads = dev.stats().get;

    // ...applying to it is refused, and nothing more is read from the source.
    let err = run(&config, &Mode::Apply(config.apply.apply_options()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RunError::Offline(name) if name == "prod-export"),
        "{err:?}"
    );
    assert!(err.to_string().contains("not applied to"), "{err}");
    assert_eq!(dev.stats().get, reads);
    let after = std::fs::read_dir(dir.path().join("Default"))
        .unwrap()
        .count();
    assert_eq!(after, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_file_in_a_snapshot_directory_is_named_in_the_error() {
    let dev = start(Seed::DevTest).await;
    let prod = start(Seed::StagingProduction).await;
    key("INSTANCES_DAMAGED_PROD_KEY", &prod);
    let dir = tempfile::tempdir().unwrap();
    octosync::snapshot_dir::export(&common::client(&dev), "Default", dir.path())
        .await
        .unwrap();
    let damaged = dir.path().join("Default").join("projects.json");
    std::fs::write(&damaged, "[{\"Name\": \"OctoFX\"").unwrap();
    let config = config(
        instance("[source]", "dev", Err(dir.path())),
        instance(
            "[[destinations]]",
            "prod",
            Ok((&prod, "INSTANCES_DAMAGED_PROD_KEY")),
        ),
    );

    let err = run(&config, &Mode::Plan).await.unwrap_err();
    assert!(matches!(err, RunError::Dir(_)), "{err:?}");
    assert!(
        err.to_string().contains(&damaged.display().to_string()),
        "{err}"
    );
    assert_eq!(
        prod.stats().get,
        0,
        "nothing is read before the source loads"
    );
}

/// The demo's instances under the demo's rules: tenant variables of the project the
/// sync creates can only be planned once the server has assigned its template ids.
async fn demo_pair() -> (FakeServer, FakeServer, sync_core::SyncRules) {
    let config = SyncConfig::parse(include_str!("../demo/sync.toml"), "sync.toml").unwrap();
    let rules = config.destinations[0].rules.clone();
    (
        start(Seed::DevTest).await,
        start(Seed::StagingProduction).await,
        rules,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_follow_up_is_reported_as_needed_and_left_unapplied() {
    let (dev, prod, rules) = demo_pair().await;
    let (src, dst) = (common::client(&dev), common::client(&prod));
    let source = Source::live("dev-test", "Default", &src);
    let dests = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        rules,
    )];
    let (snapshot, plans) = plan_all(&source, &dests, &Unwatched)
        .await
        .unwrap()
        .into_plans()
        .unwrap();

    let mut shown = Vec::new();
    let applied = apply_passes(
        &snapshot,
        &dests,
        &plans,
        &ApplyOptions::default(),
        &Unwatched,
        &mut |next: &[sync_core::Plan]| {
            shown.push(next[0].clone());
            false
        },
    )
    .await
    .unwrap();

    assert!(applied.reports[0].is_success(), "{}", applied.reports[0]);
    assert_eq!(shown.len(), 1, "asked once, then stopped");
    let follow_up = &shown[0];
    assert!(
        follow_up
            .ops()
            .any(|op| op.item.kind == ResourceKind::TenantVariables && op.item.name == "Internal"),
        "{follow_up}"
    );
    assert_eq!(
        applied.follow_ups,
        [FollowUp::Needed {
            summary: follow_up.summary.clone()
        }]
    );
    // Nothing of the follow-up was written: planning again finds the same work.
    let again = plan_destination(&snapshot, &dests[0]).await.unwrap();
    assert_eq!(again.summary, follow_up.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_follow_up_is_applied_and_leaves_nothing_to_do() {
    let (dev, prod, rules) = demo_pair().await;
    let (src, dst) = (common::client(&dev), common::client(&prod));
    let source = Source::live("dev-test", "Default", &src);
    let dests = [Destination::live(
        "staging-production",
        "Default",
        &dst,
        rules,
    )];
    let (snapshot, plans) = plan_all(&source, &dests, &Unwatched)
        .await
        .unwrap()
        .into_plans()
        .unwrap();
    let reads_after_planning = dev.stats().get;

    let applied = apply_passes(
        &snapshot,
        &dests,
        &plans,
        &ApplyOptions::default(),
        &Unwatched,
        &mut |_: &[sync_core::Plan]| true,
    )
    .await
    .unwrap();

    assert!(applied.reports[0].is_success(), "{}", applied.reports[0]);
    assert_eq!(applied.follow_ups, [FollowUp::Applied { passes: 1 }]);
    assert!(!plan_destination(&snapshot, &dests[0])
        .await
        .unwrap()
        .has_changes());
    assert_eq!(
        dev.stats().get,
        reads_after_planning,
        "the passes never read the source again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewed_plan_is_refused_by_a_destination_upgraded_since() {
    let (dev, prod, rules) = demo_pair().await;
    let upgraded = FakeServer::start(FakeConfig {
        version: "2025.1.5000".parse().unwrap(),
        ..FakeConfig::seeded(Seed::StagingProduction)
    })
    .await
    .unwrap();
    let (src, dst, newer) = (
        common::client(&dev),
        common::client(&prod),
        common::client(&upgraded),
    );
    let source = Source::live("dev-test", "Default", &src);
    let dests = [Destination::live("prod", "Default", &dst, rules.clone())];
    let (_, plans) = plan_all(&source, &dests, &Unwatched)
        .await
        .unwrap()
        .into_plans()
        .unwrap();

    check_planned_against(&dests[0], &plans[0]).await.unwrap();
    let after_upgrade = Destination::live("prod", "Default", &newer, rules);
    let err = check_planned_against(&after_upgrade, &plans[0])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, RunError::VersionChanged { now, planned, .. }
            if now == "2025.1.5000" && *planned == plans[0].destination_version),
        "{err:?}"
    );
    assert_eq!(upgraded.stats().post + upgraded.stats().put, 0);
}
