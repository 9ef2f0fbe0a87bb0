//! End-to-end: the variable merge's promises through the built `octosync` binary, against
//! two Octopus instances served over HTTP on loopback, reading the destination back and
//! resolving what each of its environments gets.
//!
//! The destination first receives OctoFX from a first sync; then it drifts on purpose
//! (its own per-environment values and secrets) and the source changes, as in the
//! examples of the variable merge's decision table.

mod common;

use common::{client, text};
use std::process::{Command, Output};

use octopus_client::{OctopusHttpClient, OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::{ResourceKind, Variable, VariableSet};
use serde_json::{json, Value};
use sync_core::resolve::{resolve, DeploymentContext, Resolution};

const SOURCE_KEY: &str = "API-SOURCESOURCESOURCESOURCE01";
const DEST_KEY: &str = "API-DESTINATIONDESTINATION0002";
const PROD_SECRET: &str = "prod-smtp-password";

async fn fake(seed: Seed, key: &str) -> FakeServer {
    FakeServer::start(FakeConfig {
        api_key: key.to_owned(),
        ..FakeConfig::seeded(seed)
    })
    .await
    .expect("fake starts")
}

/// The environment ids of an instance by name.
async fn environments(c: &OctopusHttpClient) -> std::collections::BTreeMap<String, String> {
    c.list_environments()
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.name.clone(), e.id.get().unwrap().to_string()))
        .collect()
}

async fn octofx_variables(c: &OctopusHttpClient) -> VariableSet {
    let project = c
        .list_projects()
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "OctoFX")
        .expect("OctoFX");
    c.project_variables(project.id.get().unwrap())
        .await
        .unwrap()
}

async fn replace_variables(c: &OctopusHttpClient, variables: Value) {
    let mut set = octofx_variables(c).await;
    set.variables = serde_json::from_value(variables).unwrap();
    let id = set.id.get().unwrap().to_string();
    c.update(
        ResourceKind::VariableSet,
        &id,
        serde_json::to_value(&set).unwrap(),
    )
    .await
    .unwrap();
}

fn run(config: std::path::PathBuf, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_octosync"));
    for a in args {
        if *a == "CONFIG" {
            cmd.arg(&config);
        } else {
            cmd.arg(a);
        }
    }
    cmd.env_remove("RUST_LOG")
        .env("OCTOSYNC_SOURCE_API_KEY", SOURCE_KEY)
        .env("OCTOSYNC_DESTINATION_API_KEY", DEST_KEY)
        .output()
        .expect("octosync runs")
}

async fn octosync(config: &std::path::Path, args: &'static [&'static str]) -> Output {
    let config = config.to_owned();
    tokio::task::spawn_blocking(move || run(config, args))
        .await
        .unwrap()
}

fn in_env(vars: &[Variable], name: &str, env: &str) -> String {
    let values: Vec<&Variable> = vars.iter().filter(|v| v.name == name).collect();
    match resolve(values, &DeploymentContext::in_environment(env)) {
        Resolution::Unset => "(none)".to_owned(),
        Resolution::Ambiguous(_) => "(ambiguous)".to_owned(),
        Resolution::Value(v) if v.is_secret() => {
            format!("<secret {}>", v.id.get().cloned().unwrap_or_default())
        }
        Resolution::Value(v) => v.value.get().cloned().unwrap_or_default(),
    }
}

fn value(name: &str, text: &str, envs: &[&String]) -> Value {
    json!({"Name": name, "Value": text, "Type": "String", "Scope": if envs.is_empty() { json!({}) } else { json!({"Environment": envs}) }})
}

fn secret(name: &str, text: &str, envs: &[&String]) -> Value {
    json!({"Name": name, "Value": text, "Type": "Sensitive", "IsSensitive": true,
           "Scope": if envs.is_empty() { json!({}) } else { json!({"Environment": envs}) }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drifted_destination_keeps_its_values_environments_and_secrets() {
    let source = fake(Seed::DevTest, SOURCE_KEY).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY).await;
    let (sc, dc) = (client(&source), client(&destination));
    let dir = tempfile::tempdir().unwrap();
    // The demo's config, with Development mapped to Production so both destination
    // environments have a source counterpart.
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url())
        .replace("Development = []", "Development = [\"Production\"]");
    let path = dir.path().join("sync.toml");
    std::fs::write(&path, config).unwrap();

    let first = octosync(&path, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

    let s = environments(&sc).await;
    let d = environments(&dc).await;
    let (dev, test) = (&s["Development"], &s["Test"]);
    let (staging, production) = (&d["Staging"], &d["Production"]);
    replace_variables(
        &sc,
        json!([
            value("Timeout", "30", &[test]),
            value("Timeout", "60", &[dev]),
            value("Banner", "off", &[test]),
            value("Color", "blue", &[]),
            value("Smtp.Password", "dev-pw", &[]),
            secret("Signing.Key", "dev-key", &[test, dev]),
            value("Api.Url", "https://api.example.com", &[])
        ]),
    )
    .await;
    replace_variables(
        &dc,
        json!([
            value("Timeout", "60", &[staging]),
            value("Timeout", "30", &[production]),
            value("Banner", "off", &[production]),
            value("Color", "red", &[]),
            value("Color", "blue", &[staging]),
            secret("Smtp.Password", PROD_SECRET, &[production]),
            secret("Signing.Key", "staging-key", &[staging]),
            secret("Signing.Key", "production-key", &[production]),
            value("Api.Url", "https://Api.Example.com", &[])
        ]),
    )
    .await;
    let before: Vec<Variable> = octofx_variables(&dc).await.variables.into_iter().collect();

    let plan = octosync(&path, &["plan", "-c", "CONFIG"]).await;
    let plan_text = text(&plan.stdout);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    assert!(plan_text.contains("Banner resolves to:"), "{plan_text}");
    assert!(plan_text.contains("Staging: (none) -> off"), "{plan_text}");
    assert!(!plan_text.contains(PROD_SECRET), "{plan_text}");

    let apply = octosync(&path, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(
        apply.status.code(),
        Some(0),
        "{}\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    let after: Vec<Variable> = octofx_variables(&dc).await.variables.into_iter().collect();

    // Under `never`, the destination's values keep their environments.
    assert_eq!(in_env(&after, "Timeout", staging), "60");
    assert_eq!(in_env(&after, "Timeout", production), "30");
    // Production keeps its Banner; Staging gets the source's.
    assert_eq!(in_env(&after, "Banner", production), "off");
    assert_eq!(in_env(&after, "Banner", staging), "off");
    // The Staging-only Color is not widened; the unscoped one stays the destination's.
    assert_eq!(in_env(&after, "Color", staging), "blue");
    assert_eq!(in_env(&after, "Color", production), "red");
    // No plain value beside the secret, no dummy beside the real signing keys.
    for name in ["Smtp.Password", "Signing.Key"] {
        let count = |vs: &[Variable]| vs.iter().filter(|v| v.name == name).count();
        assert_eq!(count(&after), count(&before), "{name}");
        assert!(after
            .iter()
            .filter(|v| v.name == name)
            .all(Variable::is_secret));
    }
    for env in [staging, production] {
        assert_eq!(
            in_env(&after, "Signing.Key", env),
            in_env(&before, "Signing.Key", env),
            "the same secret (by id) resolves in {env}"
        );
    }
    // The case-only change is not synced under `never`.
    assert_eq!(
        in_env(&after, "Api.Url", staging),
        "https://Api.Example.com"
    );

    let again = octosync(&path, &["plan", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    assert_eq!(destination.integrity(), Vec::new(), "no dangling reference");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guides_recurring_sync_from_per_environment_values_leaves_them_alone() {
    let source = fake(Seed::DevTest, SOURCE_KEY).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY).await;
    let (sc, dc) = (client(&source), client(&destination));
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url());
    let path = dir.path().join("sync.toml");
    std::fs::write(&path, config).unwrap();
    let first = octosync(&path, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

    let d = environments(&dc).await;
    let (staging, production) = (&d["Staging"], &d["Production"]);
    replace_variables(
        &sc,
        json!([
            value("Application.Database.Name", "OctoFx-#{Octopus.Environment.Name}", &[]),
            {"Name": "ConnectionString", "Value": "Database=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["SQL-Server"]}},
            {"Name": "ConnectionString", "Value": "Data Source=#{Application.Database.Name}", "Type": "String", "Scope": {"Role": ["Oracle"]}}
        ]),
    )
    .await;
    replace_variables(
        &dc,
        json!([
            value("Application.Database.Name", "OctoFX-Staging", &[staging]),
            value("Application.Database.Name", "OctoFX-Prod", &[production]),
            value(
                "ConnectionString",
                "Database=#{Application.Database.Name}",
                &[]
            )
        ]),
    )
    .await;

    let apply = octosync(&path, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let after: Vec<Variable> = octofx_variables(&dc).await.variables.into_iter().collect();
    assert_eq!(
        after
            .iter()
            .filter(|v| v.name == "Application.Database.Name")
            .count(),
        2,
        "no shadowed unscoped value"
    );
    assert_eq!(
        in_env(&after, "Application.Database.Name", staging),
        "OctoFX-Staging"
    );
    assert_eq!(
        in_env(&after, "Application.Database.Name", production),
        "OctoFX-Prod"
    );
    let sql = DeploymentContext {
        environment: Some(production.clone()),
        machine: Some("Machines-1".into()),
        roles: vec!["SQL-Server".into()],
        ..DeploymentContext::default()
    };
    let oracle = DeploymentContext {
        roles: vec!["Oracle".into()],
        ..sql.clone()
    };
    let cs: Vec<&Variable> = after
        .iter()
        .filter(|v| v.name == "ConnectionString")
        .collect();
    assert_eq!(
        resolve(cs.iter().copied(), &sql).value(),
        Some("Database=#{Application.Database.Name}")
    );
    assert_eq!(
        resolve(cs.iter().copied(), &oracle).value(),
        Some("Data Source=#{Application.Database.Name}")
    );
    let again = octosync(&path, &["plan", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    assert_eq!(destination.integrity(), Vec::new(), "no dangling reference");
}

/// Opted-in details of an existing feed follow the source through the HTTP applier, and
/// the destination's secret stays: read back from the destination.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_feed_takes_the_source_details_and_keeps_its_secret() {
    let source = fake(Seed::DevTest, SOURCE_KEY).await;
    let destination = fake(Seed::StagingProduction, DEST_KEY).await;
    let (sc, dc) = (client(&source), client(&destination));
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../demo/sync.toml")
        .replace("http://127.0.0.1:8065", source.url())
        .replace("http://127.0.0.1:8066", destination.url())
        .replace(
            "[policy]\n",
            "[policy]\noverwrite_existing_details = [\"feeds\"]\n",
        );
    let path = dir.path().join("sync.toml");
    std::fs::write(&path, config).unwrap();
    let first = octosync(&path, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

    let feed = |c: &OctopusHttpClient| {
        let c = c.clone();
        async move {
            c.list_raw(ResourceKind::Feed)
                .await
                .unwrap()
                .into_iter()
                .find(|f| f["Name"] == "Docker Hub")
                .expect("the feed")
        }
    };
    // The destination's own credentials, and a new URL on the source.
    let mut theirs = feed(&dc).await;
    theirs["Username"] = json!("prod-robot");
    theirs["Password"] = json!({"HasValue": true, "NewValue": "prod-secret"});
    let id = theirs["Id"].as_str().unwrap().to_owned();
    dc.update(ResourceKind::Feed, &id, theirs).await.unwrap();
    let mut ours = feed(&sc).await;
    ours["FeedUri"] = json!("https://mirror.example.invalid");
    let sid = ours["Id"].as_str().unwrap().to_owned();
    sc.update(ResourceKind::Feed, &sid, ours).await.unwrap();

    let apply = octosync(&path, &["apply", "-c", "CONFIG", "--yes"]).await;
    assert_eq!(apply.status.code(), Some(0), "{}", text(&apply.stderr));
    let after = feed(&dc).await;
    assert_eq!(after["FeedUri"], "https://mirror.example.invalid");
    assert_eq!(after["Password"]["HasValue"], true, "the secret is kept");
    assert_eq!(after["Username"], "prod-robot", "and the user name with it");
    let again = octosync(&path, &["plan", "-c", "CONFIG", "--detailed-exitcode"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    assert_eq!(destination.integrity(), Vec::new());
}
