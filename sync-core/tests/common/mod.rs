//! Fixtures shared by the scenario tests: a Dev/Test source instance and a
//! Staging/Production destination instance, built from the JSON the API returns.

#![allow(dead_code)]

use serde_json::{json, Value};
use sync_core::testing::InMemoryApplier;
use sync_core::{plan, Op, OpAction, Plan, ResourceKind, Snapshot, SyncRules};

/// A snapshot from `(collection, array)` pairs at version 2024.1.0.
pub fn snapshot(collections: Vec<(&str, Value)>) -> Snapshot {
    Snapshot::from_collections("2024.1.0".parse().unwrap(), collections).unwrap()
}

/// Rules from TOML.
pub fn rules(text: &str) -> SyncRules {
    SyncRules::from_toml_str(text).unwrap()
}

/// The source's environments: Development, Test, Staging, Production.
pub fn source_environments() -> Value {
    json!([
        {"Id": "Environments-1", "Name": "Development"},
        {"Id": "Environments-2", "Name": "Test"},
        {"Id": "Environments-3", "Name": "Staging"},
        {"Id": "Environments-4", "Name": "Production"}
    ])
}

/// The destination's environments: Staging, Production.
pub fn destination_environments() -> Value {
    json!([
        {"Id": "Environments-71", "Name": "Staging"},
        {"Id": "Environments-72", "Name": "Production"}
    ])
}

/// The built-ins every space has, with the given id base.
pub fn builtins(base: u32) -> Vec<(&'static str, Value)> {
    vec![
        (
            "space",
            json!({"Id": format!("Spaces-{base}"), "Name": "Default"}),
        ),
        (
            "lifecycles",
            json!([{"Id": format!("Lifecycles-{base}"), "Name": "Default Lifecycle", "Phases": []}]),
        ),
        (
            "projectgroups",
            json!([{"Id": format!("ProjectGroups-{base}"), "Name": "Default Project Group"}]),
        ),
        (
            "feeds",
            json!([{"Id": format!("Feeds-{base}"), "Name": "Octopus Server (built-in)", "FeedType": "BuiltIn"}]),
        ),
        (
            "workerpools",
            json!([{"Id": format!("WorkerPools-{base}"), "Name": "Default Worker Pool", "IsDefault": true}]),
        ),
    ]
}

/// A source project "OctoFX" with a process and variables.
pub fn source_project(steps: Value, variables: Value) -> Vec<(&'static str, Value)> {
    vec![
        (
            "projects",
            json!([{
                "Id": "Projects-1", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-1",
                "LifecycleId": "Lifecycles-1", "SpaceId": "Spaces-1",
                "DeploymentProcessId": "deploymentprocess-Projects-1", "VariableSetId": "variableset-Projects-1"
            }]),
        ),
        (
            "channels",
            json!([{"Id": "Channels-1", "Name": "Default", "ProjectId": "Projects-1", "IsDefault": true}]),
        ),
        (
            "deploymentprocesses",
            json!([{"Id": "deploymentprocess-Projects-1", "ProjectId": "Projects-1", "Version": 1, "Steps": steps}]),
        ),
        (
            "variables",
            json!([{"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Version": 1, "Variables": variables}]),
        ),
    ]
}

/// The destination's copy of "OctoFX" with its own ids.
pub fn destination_project(steps: Value, variables: Value) -> Vec<(&'static str, Value)> {
    vec![
        (
            "projects",
            json!([{
                "Id": "Projects-71", "Name": "OctoFX", "ProjectGroupId": "ProjectGroups-71",
                "LifecycleId": "Lifecycles-71", "SpaceId": "Spaces-71",
                "DeploymentProcessId": "deploymentprocess-Projects-71", "VariableSetId": "variableset-Projects-71"
            }]),
        ),
        (
            "channels",
            json!([{"Id": "Channels-71", "Name": "Default", "ProjectId": "Projects-71", "IsDefault": true}]),
        ),
        (
            "deploymentprocesses",
            json!([{"Id": "deploymentprocess-Projects-71", "ProjectId": "Projects-71", "Version": 9, "Steps": steps}]),
        ),
        (
            "variables",
            json!([{"Id": "variableset-Projects-71", "OwnerId": "Projects-71", "Version": 4, "Variables": variables}]),
        ),
    ]
}

/// Joins collection lists.
pub fn join(parts: Vec<Vec<(&'static str, Value)>>) -> Vec<(&'static str, Value)> {
    parts.into_iter().flatten().collect()
}

/// The one op about `kind` named `name`.
pub fn op<'p>(plan: &'p Plan, kind: ResourceKind, name: &str) -> &'p Op {
    plan.find(kind, name)
        .unwrap_or_else(|| panic!("no op for {kind} {name:?} in\n{plan}"))
}

/// The body's `Variables` as (name, value, scope) triples.
pub fn variables(op: &Op) -> Vec<(String, Value, Value)> {
    op.body().unwrap()["Variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["Name"].as_str().unwrap().to_owned(),
                v["Value"].clone(),
                v.get("Scope").cloned().unwrap_or(json!({})),
            )
        })
        .collect()
}

/// The names of the steps in a process body.
pub fn step_names(op: &Op) -> Vec<String> {
    op.body().unwrap()["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap().to_owned())
        .collect()
}

/// Plans, applies in memory, and plans again; returns the first plan after checking the
/// second one has nothing to create or update.
pub fn plan_apply_replan(
    source: &Snapshot,
    destination: &Snapshot,
    rules: &SyncRules,
) -> (Plan, Snapshot) {
    let first = plan(source, destination, rules).unwrap();
    let mut applier = InMemoryApplier::new(destination.clone());
    applier.apply(&first).unwrap();
    let second = plan(source, &applier.snapshot, rules).unwrap();
    let changes: Vec<_> = second
        .ops()
        .filter(|o| matches!(o.action(), OpAction::Create | OpAction::Update))
        .map(|o| format!("{:?} {} {:?}", o.action(), o.item, o.diff()))
        .collect();
    assert!(
        changes.is_empty(),
        "the second plan still changes things: {changes:#?}"
    );
    (first, applier.snapshot)
}
