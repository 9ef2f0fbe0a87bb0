//! Hostile input: what an instance (or a proxy in front of it) may answer, and what a
//! space may hold. Each case gives a clear error or a correct result, never a panic.
//!
//! Answers on the wire go through a small proxy in front of an in-process fake that
//! replaces the answer of one collection; odd content goes into the fake's seed.

mod support;

use std::collections::BTreeSet;

use octopus_client::{ApiKey, OctopusHttpClient, RetryPolicy};
use octopus_fake::{FakeConfig, FakeServer, Seed, Snapshot, SpaceSnapshot};
use octopus_model::ResourceKind;
use octosync::apply::ApplyOptions;
use octosync::load::{load_snapshot, LoadError};
use octosync::runner::{run_instances, Destination, Mode, Source};
use serde_json::{json, Value};
use support::Canned;
use sync_core::{OpAction, SyncRules};

fn client(url: &str, fake: &FakeServer) -> OctopusHttpClient {
    OctopusHttpClient::builder(url, ApiKey::new(fake.api_key()))
        .space_name("Default")
        .retry(RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap()
}

fn project_kinds() -> BTreeSet<ResourceKind> {
    BTreeSet::from([ResourceKind::Environment, ResourceKind::Project])
}

/// Loads the dev-test seed through a proxy that answers `canned` for projects.
async fn load_with_projects_answer(canned: Canned) -> Result<sync_core::Snapshot, LoadError> {
    let fake = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let url = support::replace(&fake, "/projects", canned).await;
    let reader = client(&url, &fake);
    let loaded = load_snapshot(&reader, "hostile", "Default", &project_kinds()).await;
    fake.stop().await;
    loaded
}

fn json_answer(body: impl Into<Vec<u8>>) -> Canned {
    Canned {
        status: "200 OK",
        content_type: "application/json",
        body: body.into(),
    }
}

fn expect_read_error(loaded: Result<sync_core::Snapshot, LoadError>, mentions: &[&str]) {
    let err = loaded.expect_err("the hostile answer is an error");
    let chain = error_chain(&err);
    assert!(matches!(err, LoadError::Read { .. }), "{chain}");
    assert!(chain.contains("projects"), "names what was read: {chain}");
    for m in mentions {
        assert!(
            chain.to_lowercase().contains(&m.to_lowercase()),
            "mentions {m:?}: {chain}"
        );
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[tokio::test]
async fn malformed_json_is_a_clear_error() {
    let loaded =
        load_with_projects_answer(json_answer(r#"[{"Id": "Projects-1", "Name": }]"#)).await;
    expect_read_error(loaded, &[]);
}

#[tokio::test]
async fn truncated_json_is_a_clear_error() {
    let full = json!([{"Id": "Projects-1", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1"}]).to_string();
    let loaded = load_with_projects_answer(json_answer(&full.as_bytes()[..full.len() / 2])).await;
    expect_read_error(loaded, &[]);
}

#[tokio::test]
async fn an_html_error_page_is_a_clear_error() {
    let page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>\
                <body><h1>Bad Gateway</h1><p>The proxy could not reach Octopus.</p></body></html>";
    let loaded = load_with_projects_answer(Canned {
        status: "502 Bad Gateway",
        content_type: "text/html",
        body: page.into(),
    })
    .await;
    expect_read_error(loaded, &["502"]);
}

#[tokio::test]
async fn an_html_page_answered_with_200_is_a_clear_error() {
    let page = "<html><body>Please sign in</body></html>";
    let loaded = load_with_projects_answer(Canned {
        status: "200 OK",
        content_type: "text/html",
        body: page.into(),
    })
    .await;
    expect_read_error(loaded, &[]);
}

#[tokio::test]
async fn a_10_mb_collection_loads_in_full() {
    let description = "x".repeat(1_000);
    let items: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"Id": format!("Projects-{}", i + 1), "Name": format!("Big {i}"),
                   "ProjectGroupId": "ProjectGroups-1", "LifecycleId": "Lifecycles-1",
                   "Description": description, "SpaceId": "Spaces-1"})
        })
        .collect();
    let body = serde_json::to_vec(&items).unwrap();
    assert!(body.len() >= 10 * 1024 * 1024 - 1_000_000, "{}", body.len());
    let snapshot = load_with_projects_answer(json_answer(body))
        .await
        .expect("a large answer is read");
    assert_eq!(snapshot.projects.len(), 10_000);
}

#[tokio::test]
async fn null_where_arrays_are_expected_loads_as_empty() {
    let body = json!([{"Id": "Projects-1", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-1",
                       "LifecycleId": "Lifecycles-1", "IncludedLibraryVariableSetIds": null,
                       "Templates": null, "SpaceId": "Spaces-1"}]);
    let snapshot = load_with_projects_answer(json_answer(body.to_string()))
        .await
        .expect("null lists are read as empty");
    let project = snapshot.projects.first().expect("one project");
    assert!(project.included_library_variable_set_ids.is_empty());
    assert!(project.templates.is_empty());
}

// --- Odd content, end to end through two fakes. ---

fn environments(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"Id": format!("Environments-{}", i + 1), "Name": n}))
        .collect()
}

fn project(id: usize, name: &str) -> Value {
    json!({"Id": format!("Projects-{id}"), "Name": name, "Description": "",
           "ProjectGroupId": "ProjectGroups-100", "LifecycleId": "Lifecycles-100",
           "DeploymentProcessId": format!("deploymentprocess-Projects-{id}"),
           "VariableSetId": format!("variableset-Projects-{id}")})
}

fn space(projects: Vec<Value>, extra: &[(&str, Vec<Value>)]) -> Snapshot {
    let mut s = SpaceSnapshot::new("Default");
    *s.collection_mut("environments") = environments(&["Staging", "Production"]);
    *s.collection_mut("projectgroups") =
        vec![json!({"Id": "ProjectGroups-100", "Name": "Services"})];
    *s.collection_mut("lifecycles") =
        vec![json!({"Id": "Lifecycles-100", "Name": "Services Lifecycle", "Phases": []})];
    *s.collection_mut("projects") = projects;
    for (k, v) in extra {
        *s.collection_mut(k) = v.clone();
    }
    Snapshot { spaces: vec![s] }
}

const RULES: &str = r#"
[select]
environments = []
project_groups = ["all"]
lifecycles = ["all"]
projects = ["all"]
channels = ["all"]
runbooks = ["all"]
accounts = ["all"]
"#;

struct Synced {
    plan: Result<sync_core::Plan, octosync::runner::RunError>,
    applied: Option<octosync::apply::ApplyReport>,
    destination: Snapshot,
}

async fn sync(source: Snapshot, destination: Snapshot) -> Synced {
    let src = FakeServer::start(FakeConfig::seeded(Seed::Snapshot(source)))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::Snapshot(destination)))
        .await
        .unwrap();
    let (s, d) = (client(src.url(), &src), client(dst.url(), &dst));
    let dests = [Destination::live(
        "destination",
        "Default",
        &d,
        SyncRules::from_toml_str(RULES).unwrap(),
    )];
    let mut runs = run_instances(
        &Source::live("source", "Default", &s),
        &dests,
        &Mode::Apply(ApplyOptions::default()),
    )
    .await
    .expect("both instances load");
    let one = runs.remove(0);
    // Whatever the input, a sync never leaves a reference to a missing document.
    assert_eq!(dst.integrity(), Vec::new());
    let destination = dst.snapshot();
    src.stop().await;
    dst.stop().await;
    Synced {
        plan: one.plan,
        applied: one.applied,
        destination,
    }
}

fn names(snapshot: &Snapshot, collection: &str) -> Vec<String> {
    let mut names: Vec<String> = snapshot.spaces[0]
        .collection(collection)
        .iter()
        .filter_map(|d| d["Name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn non_ascii_names_sync_unchanged() {
    let wanted = ["Zahlungsdienst Ü", "支付服务", "Café ☕", "Ελληνικά"];
    let projects = wanted
        .iter()
        .enumerate()
        .map(|(i, n)| project(i + 1, n))
        .collect();
    let synced = sync(space(projects, &[]), space(vec![], &[])).await;
    let applied = synced.applied.expect("applied");
    assert!(applied.is_success(), "{applied}");
    let mut expected: Vec<String> = wanted.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(names(&synced.destination, "projects"), expected);
}

#[tokio::test]
async fn duplicate_source_names_are_skipped_and_named_in_the_clean_up_log() {
    let projects = vec![
        project(1, "Payments"),
        project(2, "Payments"),
        project(3, "Billing"),
    ];
    let synced = sync(space(projects, &[]), space(vec![], &[])).await;
    let plan = synced.plan.expect("a duplicate does not stop the plan");
    let op = plan
        .find(ResourceKind::Project, "Payments")
        .expect("the duplicate is in the plan");
    assert_eq!(op.action(), OpAction::Skip, "{plan}");
    assert!(op.reason.contains("2 source projects"), "{}", op.reason);
    assert!(
        plan.cleanup.iter().any(|c| c.item.name == "Payments"),
        "{plan}"
    );
    // Never two projects of one name, nor a guess which one is meant; the rest syncs.
    assert_eq!(names(&synced.destination, "projects"), ["Billing"]);
}

#[tokio::test]
async fn names_differing_by_case_or_trailing_space_match_the_existing_item() {
    let source = space(vec![project(1, "Payments"), project(2, "Billing ")], &[]);
    let destination = space(vec![project(1, "payments"), project(2, "Billing")], &[]);
    let synced = sync(source, destination).await;
    let plan = synced.plan.expect("plans");
    let creates: Vec<String> = plan
        .of_kind(ResourceKind::Project)
        .filter(|op| op.action() == OpAction::Create)
        .map(|op| op.item.name.clone())
        .collect();
    assert!(
        creates.is_empty(),
        "matched by name, not created again: {creates:?}"
    );
    assert_eq!(
        names(&synced.destination, "projects").len(),
        2,
        "no duplicate project"
    );
}

fn step(id: &str, name: &str, body: &str) -> Value {
    json!({"Id": format!("step-{id}"), "Name": name, "Properties": {},
           "Actions": [{"Id": format!("action-{id}"), "Name": name, "ActionType": "Octopus.Script",
                        "Environments": [], "Channels": [], "TenantTags": [], "Packages": [],
                        "Properties": {"Octopus.Action.Script.ScriptBody": body}}]})
}

fn process_and_variables(
    steps: Vec<Value>,
    variables: Vec<Value>,
) -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "deploymentprocesses",
            vec![
                json!({"Id": "deploymentprocess-Projects-1", "ProjectId": "Projects-1", "Steps": steps}),
            ],
        ),
        (
            "variables",
            vec![
                json!({"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Variables": variables}),
            ],
        ),
    ]
}

/// What each of the destination's environments resolves `name` to (names compared as
/// Octopus compares them: case-insensitively, trimmed), read from what it holds.
fn resolved_per_environment(destination: &Snapshot, name: &str) -> Vec<(String, String)> {
    let set = &destination.spaces[0].collection("variables")[0];
    let values: Vec<octopus_model::Variable> =
        serde_json::from_value(set["Variables"].clone()).unwrap();
    let named: Vec<&octopus_model::Variable> = values
        .iter()
        .filter(|v| v.name.trim().eq_ignore_ascii_case(name))
        .collect();
    destination.spaces[0]
        .collection("environments")
        .iter()
        .map(|e| {
            let context = sync_core::resolve::DeploymentContext {
                environment: e["Id"].as_str().map(str::to_owned),
                ..Default::default()
            };
            let resolution = sync_core::resolve::resolve(named.iter().copied(), &context);
            let shown = match (resolution.variable(), resolution.value()) {
                _ if resolution.is_ambiguous() => "(ambiguous)".to_owned(),
                (None, _) => "(unset)".to_owned(),
                (Some(_), Some(text)) => text.to_owned(),
                (Some(_), None) => "(secret)".to_owned(),
            };
            (e["Name"].as_str().unwrap_or_default().to_owned(), shown)
        })
        .collect()
}

#[tokio::test]
async fn steps_actions_and_variables_named_in_another_case_match_the_destinations_own() {
    // The destination holds the source's steps and variables under names that differ
    // only by case, a trailing space or (Greek) final-sigma folding, with ids and values
    // of its own.
    let source_steps = vec![
        step("s1", "Deploy Web", "echo web"),
        step("s2", "Zahlungsdienst Ü", "echo pay"),
        step("s3", "ΣΎΝΟΨΗ ΤΈΛΟΣ", "echo summary"),
    ];
    let destination_steps = vec![
        step("d1", "deploy web ", "echo old web"),
        step("d2", "zahlungsdienst ü", "echo old pay"),
        step("d3", "σύνοψη τέλος", "echo old summary"),
    ];
    let source_variables = vec![
        json!({"Id": "v-s1", "Name": "App.Title", "Value": "from the source", "Type": "String", "Scope": {}}),
        json!({"Id": "v-s2", "Name": "Api.Key", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}),
        json!({"Id": "v-s3", "Name": "Db.Password", "Value": "plain text", "Type": "String", "Scope": {"Environment": ["Environments-1"]}}),
    ];
    let destination_variables = vec![
        json!({"Id": "v-d1", "Name": "app.title ", "Value": "the destination's own", "Type": "String", "Scope": {}}),
        json!({"Id": "v-d2", "Name": "API.KEY", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}),
        json!({"Id": "v-d3", "Name": "db.password ", "Value": null, "Type": "Sensitive", "IsSensitive": true, "Scope": {}}),
    ];
    let source = space(
        vec![project(1, "Payments")],
        &process_and_variables(source_steps, source_variables),
    );
    let destination = space(
        vec![project(1, "payments")],
        &process_and_variables(destination_steps, destination_variables),
    );
    let synced = sync(source, destination).await;
    let applied = synced.applied.expect("applied");
    assert!(applied.is_success(), "{applied}");

    let process = &synced.destination.spaces[0].collection("deploymentprocesses")[0];
    let steps = process["Steps"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = steps
        .iter()
        .map(|s| {
            let a = &s["Actions"][0];
            (
                a["Id"].as_str().unwrap_or_default(),
                a["Name"].as_str().unwrap_or_default(),
                a["Properties"]["Octopus.Action.Script.ScriptBody"]
                    .as_str()
                    .unwrap_or_default(),
            )
        })
        .collect();
    // One step per source step, each the destination's own action (its id kept, so
    // variables scoped to it still apply), with the source's name and script.
    assert_eq!(
        seen,
        [
            ("action-d1", "Deploy Web", "echo web"),
            ("action-d2", "Zahlungsdienst Ü", "echo pay"),
            ("action-d3", "ΣΎΝΟΨΗ ΤΈΛΟΣ", "echo summary"),
        ],
        "{process:#}"
    );

    // Under the default `overwrite_existing_variables = "never"`, every environment
    // still resolves to the destination's own value and secrets: the source's are not
    // added beside them as second values of the same name, and the source's plain
    // `Db.Password` for Staging does not shadow the destination's secret there.
    for (name, expected) in [
        ("App.Title", "the destination's own"),
        ("Api.Key", "(secret)"),
        ("Db.Password", "(secret)"),
    ] {
        let resolved = resolved_per_environment(&synced.destination, name);
        assert_eq!(resolved.len(), 2, "{resolved:?}");
        for (environment, value) in &resolved {
            assert_eq!(value, expected, "{name} in {environment}: {resolved:?}");
        }
    }
}

#[tokio::test]
async fn unknown_enum_values_are_carried_over() {
    let mut p = project(1, "Future");
    p["TenantedDeploymentMode"] = json!("SomeFutureMode");
    let account = json!({"Id": "Accounts-1", "Name": "Future cloud", "AccountType": "FutureCloudAccount",
                         "EnvironmentIds": [], "TenantIds": [], "TenantTags": []});
    let synced = sync(
        space(vec![p], &[("accounts", vec![account])]),
        space(vec![], &[]),
    )
    .await;
    let plan = synced
        .plan
        .expect("an unknown enum value does not stop the plan");
    assert!(
        plan.find(ResourceKind::Project, "Future").is_some(),
        "{plan}"
    );
    let applied = synced.applied.expect("applied");
    assert!(applied.is_success(), "{applied}");
    let project = synced.destination.spaces[0]
        .collection("projects")
        .iter()
        .find(|d| d["Name"] == "Future")
        .cloned()
        .expect("the project was created");
    assert_eq!(project["TenantedDeploymentMode"], "SomeFutureMode");
    let account = synced.destination.spaces[0]
        .collection("accounts")
        .iter()
        .find(|d| d["Name"] == "Future cloud")
        .cloned()
        .expect("the account was created");
    assert_eq!(account["AccountType"], "FutureCloudAccount");
}
